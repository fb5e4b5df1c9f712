import { type GemmPool, gemmPool, MAX_TASKS } from '../../threads/gemm-pool.js';
import { gemmShapes } from '../../wasm/gemm-wasm.js';
import { type SimdProgram, UNROLL } from './elementwise.js';
import { type SimdKernel, singleThreadKernel } from './simd-kernel.js';

// A generated SIMD kernel on every thread of the pool (threads/gemm-pool.ts). The backend's
// arrays are not shared, so the main thread copies the streamed inputs into the pool's shared
// memory, block by block, while the threads already compute the blocks that are in (tasks wait
// for their range); outputs are computed in the shared memory, and the main thread, once no task
// is left to claim, copies each finished task's outputs out while the others still run. Each copy
// runs at memory speed, a small share of a chain worth threading.

/** Estimated single-thread work (elements x instructions per four elements) from which threads pay off. */
const THREADED_MINIMUM_WORK = 2 ** 25;
/**
 * Elements from which a kernel that is mostly memory traffic (under COMPUTE_PER_ARRAY
 * instructions per four elements per array it streams, as Adam's update with its seven arrays)
 * uses threads: below, the copies the calling thread makes cost about what the others save.
 */
const MEMORY_BOUND_MINIMUM = 2 ** 19;
const COMPUTE_PER_ARRAY = 32;
/** Tasks per thread: enough that a thread slowed by other load hands work to the rest. */
const TASKS_PER_THREAD = 16;
/** Smallest task, in elements (a multiple of 16, so tasks start on 64-byte lines). */
const MIN_TASK_ELEMENTS = 4096;
/** Elements copied in before the threads hear of them. */
const COPY_BLOCK = 65536;

let nextKernel = 1;
let threadedMinimumWork = THREADED_MINIMUM_WORK;

/** Sets the work from which fused kernels use threads (Infinity: never; 0: always). For tests and benchmarks. */
export function setThreadedMapMinimum(work: number | undefined): void {
  threadedMinimumWork = work ?? THREADED_MINIMUM_WORK;
}

const align = (bytes: number, to: number): number => Math.ceil(bytes / to) * to;

/**
 * The threaded form of `program`: runs on the pool when `total` elements are worth it and the
 * pool is ready, else returns false and the caller runs on one thread.
 */
export function threadedKernel(program: SimdProgram): { run(...args: Parameters<SimdKernel['run']>): boolean } {
  const kernel = nextKernel++;
  let code: Uint8Array<ArrayBuffer> | null = null;
  let unusable = false;
  const loadCount = program.scalar.length;
  const arrays = program.scalar.filter((scalar) => !scalar).length + program.outputs;
  return {
    run(loads, loadOffsets, outs, outputOffsets, total) {
      if (total * program.cost < threadedMinimumWork) return false;
      if (total < MEMORY_BOUND_MINIMUM && program.cost < COMPUTE_PER_ARRAY * arrays && threadedMinimumWork > 0) return false;
      const pool: GemmPool | null = gemmPool(gemmShapes());
      if (pool === null) return false;
      const threads = pool.readyWorkers + 1;
      const padded = align(total, 4 * UNROLL);
      const taskElements = Math.max(MIN_TASK_ELEMENTS, align(Math.ceil(padded / (threads * TASKS_PER_THREAD)), 16));
      const tasks = Math.ceil(padded / taskElements);
      if (tasks < 2 || tasks > MAX_TASKS) return false;
      if (code === null) {
        // Built here once first: a module the threads could not build would retire the whole pool.
        const bytes = program.bytes('shared');
        try {
          new WebAssembly.Module(bytes);
        } catch {
          unusable = true;
        }
        code = bytes;
      }
      if (unusable) return false;
      // Layout: parameters, constants, code, scalars, then one region per streamed load and output.
      const paramCount = loadCount + program.outputs + 1;
      const paramsAt = 0;
      const constantsAt = align(paramsAt + paramCount * 4, 16);
      const codeAt = align(constantsAt + program.constants.length * 4, 16);
      const scalarsAt = align(codeAt + code.length, 16);
      const flagsAt = align(scalarsAt + loadCount * 4, 16);
      let at = align(flagsAt + tasks * 4, 64);
      const regionBytes = align(padded * 4, 64);
      const bases: number[] = [];
      for (let k = 0; k < loadCount; k++) {
        if (program.scalar[k]) bases.push(scalarsAt + k * 4);
        else {
          bases.push(at);
          at += regionBytes;
        }
      }
      for (let m = 0; m < program.outputs; m++) {
        bases.push(at);
        at += regionBytes;
      }
      const buffer = pool.buffer(at);
      if (buffer === null) return false;
      const words = new Int32Array(buffer);
      const floats = new Float32Array(buffer);
      words[paramsAt / 4] = constantsAt;
      words.set(bases, paramsAt / 4 + 1);
      new Uint32Array(buffer).set(program.constants, constantsAt / 4);
      new Uint8Array(buffer).set(code, codeAt);
      const streamed: number[] = [];
      for (let k = 0; k < loadCount; k++) {
        const data = loads[k] as Float32Array;
        if (program.scalar[k]) floats[(bases[k] as number) / 4] = data[loadOffsets[k] as number] as number;
        else streamed.push(k);
      }
      const job = {
        kernel,
        codeAt,
        codeBytes: code.length,
        paramsAt,
        paramCount,
        taskBytes: taskElements * 4,
        end: padded * 4,
        total: tasks,
        flagsAt,
      };
      const feed = (copied: (bytes: number) => void) => {
        for (let start = 0; start < total; start += COPY_BLOCK) {
          const stop = Math.min(total, start + COPY_BLOCK);
          for (const k of streamed) {
            const from = loadOffsets[k] as number;
            floats.set((loads[k] as Float32Array).subarray(from + start, from + stop), (bases[k] as number) / 4 + start);
          }
          copied(stop === total ? padded * 4 : stop * 4);
        }
      };
      const copyOut = (start: number, stop: number) => {
        for (let m = 0; m < program.outputs; m++) {
          const from = (bases[loadCount + m] as number) / 4;
          (outs[m] as Float32Array).set(floats.subarray(from + start, from + stop), (outputOffsets[m] as number) + start);
        }
      };
      // An output written into an input's buffer is copied out only once the job has succeeded:
      // if it fails, the one-thread rerun must still find the input intact.
      const inPlace = outs.some((o) => loads.some((l) => l.buffer === o.buffer));
      const drain = (finished: (task: number) => boolean) => {
        if (inPlace) return;
        for (let task = 0; task < tasks && finished(task); task++) copyOut(task * taskElements, Math.min(total, (task + 1) * taskElements));
      };
      if (!pool.runMap(job, feed, drain)) return false;
      if (inPlace) copyOut(0, total);
      return true;
    },
  };
}

/**
 * `program` as one kernel: on the pool when `threadedKernel` takes the run, else on this thread;
 * null when there is no program or its one-thread module does not build (no SIMD support).
 */
export function simdKernel(program: SimdProgram | null): SimdKernel | null {
  const single = program === null ? null : singleThreadKernel(program);
  if (program === null || single === null) return null;
  const threaded = threadedKernel(program);
  return {
    run(...args) {
      if (!threaded.run(...args)) single.run(...args);
    },
  };
}
