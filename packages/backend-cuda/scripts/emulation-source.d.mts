// Types of emulation-source.mjs, for the tests that import it.
/** The emulation build's C++ for the CUDA source `source` read from `path`: launches become flint_emu::launch calls. */
export function emulationSource(source: string, path: string): string;
