/** Live buffers and their bytes, for `Backend.memory()` (views are not counted). */
export class MemoryLedger {
  buffers = 0;
  bytes = 0;
}
