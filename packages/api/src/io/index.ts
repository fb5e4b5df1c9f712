// Reading and writing tensors in the safetensors format, in memory (browser-safe). File-system
// `save` and `load` live in `@flint/api/node`. See docs/optim-data-io.md.

export type { SafetensorsDType } from './dtypes.js';
export { SafetensorsError, type SafetensorsProblem } from './errors.js';
export type { SafetensorsEntry, SafetensorsHeader } from './header.js';
export { type ParseSafetensorsOptions, parseSafetensors, parseSafetensorsHeader } from './read.js';
export { serializeSafetensors, serializeSafetensorsAsync, type TensorRecord } from './write.js';
