// Reading and writing tensors in the safetensors format, in memory (browser-safe). File-system
// `save` and `load` live in `@flint/api/node`. See docs/optim-data-io.md.
export { SafetensorsError, type SafetensorsProblem } from './errors.js';
export type { SafetensorsDType } from './dtypes.js';
export type { SafetensorsEntry, SafetensorsHeader } from './header.js';
export { parseSafetensors, parseSafetensorsHeader, type ParseSafetensorsOptions } from './read.js';
export { serializeSafetensors, serializeSafetensorsAsync, type TensorRecord } from './write.js';
