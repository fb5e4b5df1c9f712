// Node-only helpers (file system, native paths) live behind `@flint/api/node` so that the main
// entry bundles for browsers without Node built-ins.
export {};
