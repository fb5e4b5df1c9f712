/** What native/addon.cc exports (every call is checked there too). */
export interface MpiAddon {
  init(): { rank: number; worldSize: number; localRank: number; localWorldSize: number; version: string };
  allReduce(data: ArrayBufferView, op: string, timeoutMs: number): void;
  broadcast(data: ArrayBufferView, root: number, timeoutMs: number): void;
  allGather(data: ArrayBufferView, out: ArrayBufferView, timeoutMs: number): void;
  reduceScatter(data: ArrayBufferView, out: ArrayBufferView, op: string, timeoutMs: number): void;
  barrier(timeoutMs: number): void;
  abort(code: number): void;
  finalize(): void;
}
