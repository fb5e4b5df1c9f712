import { FIXED_PARAMS, type SimdProgram, UNROLL } from './elementwise.js';

// A generated SIMD kernel on one thread. The data stays in the backend's typed arrays; the kernel
// streams it through its own small memory in chunks that stay in cache (copy a chunk of each
// input in, run, copy the outputs' chunk out), so the copies hit cache and main memory is read and
// written once, as by a single fused loop.

/**
 * Elements per chunk (a multiple of 4 x UNROLL): operands of 16 KiB stay in L1/L2, and each call
 * (with its two copies per operand) is long enough that its fixed cost is a few percent.
 */
const CHUNK = 4096;

/** Runs a kernel over `total` elements: loads (at their offsets) in, outputs (at theirs) out. */
export interface SimdKernel {
  run(
    loads: readonly Float32Array[],
    loadOffsets: readonly number[],
    outputs: readonly Float32Array[],
    outputOffsets: readonly number[],
    total: number,
  ): void;
}

type Run = (...args: number[]) => void;

/** The one-thread form of `program`, or null where the module does not build (no SIMD support). */
export function singleThreadKernel(program: SimdProgram): SimdKernel | null {
  const loadCount = program.scalar.length;
  // Memory: the constants, one float per scalar load, then a CHUNK-float region per streamed
  // load and per output.
  const constantsAt = 0;
  const scalarAt = (k: number): number => program.constants.length * 4 + k * 4;
  const regionStart = Math.ceil(scalarAt(loadCount) / 64) * 64;
  let slots = 0;
  const bases: number[] = [];
  for (let k = 0; k < loadCount; k++) bases.push(program.scalar[k] ? scalarAt(k) : regionStart + slots++ * CHUNK * 4);
  for (let m = 0; m < program.outputs; m++) bases.push(regionStart + slots++ * CHUNK * 4);
  const pages = Math.ceil((regionStart + slots * CHUNK * 4) / 65536);
  let run: Run;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages });
    const module = new WebAssembly.Module(program.bytes('private'));
    run = new WebAssembly.Instance(module, { env: { memory } }).exports.run as Run;
  } catch {
    return null;
  }
  new Uint32Array(memory.buffer).set(program.constants, constantsAt / 4);
  const heap = new Float32Array(memory.buffer);
  const streamed: [number, number][] = [];
  const scalars: [number, number][] = [];
  for (let k = 0; k < loadCount; k++) (program.scalar[k] ? scalars : streamed).push([k, (bases[k] as number) / 4]);
  const outputStarts = bases.slice(loadCount).map((b) => b / 4);
  const args = new Array<number>(FIXED_PARAMS + bases.length).fill(0);
  args[2] = constantsAt;
  bases.forEach((b, i) => {
    args[FIXED_PARAMS + i] = b;
  });
  return {
    run(loads, loadOffsets, outs, outputOffsets, total) {
      for (const [k, at] of scalars) heap[at] = (loads[k] as Float32Array)[loadOffsets[k] as number] as number;
      for (let start = 0; start < total; start += CHUNK) {
        const length = Math.min(CHUNK, total - start);
        for (const [k, at] of streamed) {
          const from = (loadOffsets[k] as number) + start;
          heap.set((loads[k] as Float32Array).subarray(from, from + length), at);
        }
        // The range rounds up to whole iterations; the lanes past `length` are never copied out.
        args[1] = Math.ceil(length / (4 * UNROLL)) * 16 * UNROLL;
        run(...args);
        for (let m = 0; m < outputStarts.length; m++) {
          const at = outputStarts[m] as number;
          (outs[m] as Float32Array).set(heap.subarray(at, at + length), (outputOffsets[m] as number) + start);
        }
      }
    },
  };
}
