// The code every thread of the gemm pool runs, the main thread included, kept as JavaScript
// source: workers are started from a string (no separate file for a bundler to lose), and the main
// thread builds the same function with `new Function`, so the task loop exists once.

/** Int32 words of the control block, a SharedArrayBuffer every thread sees. */
export const Word = {
  /** Job number (1 .. 2^20 - 1, cycling); workers sleep on it. -1 tells workers to stop. */
  GEN: 0,
  /** (job number << TASK_BITS) | next unclaimed task; claimed by compare-exchange. */
  NEXT: 1,
  /** Tasks finished in the current job; the main thread sleeps on it. */
  DONE: 2,
  /** Workers that instantiated the kernels, and workers that failed to. */
  READY: 3,
  FAILED: 4,
  /** Set when a task threw (a wasm trap); the main thread then recomputes without threads. */
  ERROR: 5,
  /** Bumped after every kernel call: the main thread's evidence that a slow job still moves. */
  PROGRESS: 6,
  // The job, written by the main thread before it publishes the job number. Offsets in elements.
  ELEMENT: 8,
  A_AT: 9,
  B_AT: 10,
  C_AT: 11,
  PADDED_M: 12,
  PADDED_N: 13,
  K: 14,
  KC: 15,
  HEIGHT: 16,
  WIDTH: 17,
  BLOCK_ROWS: 18,
  TASK_ROWS: 19,
  CHUNK_PANELS: 20,
  N_PANELS: 21,
  COL_TASKS: 22,
  TOTAL: 23,
  /**
   * -1 when A is packed already (at A_AT). Otherwise the index of A's element (0, 0) in a raw
   * copy of A, read with A_ROW_STRIDE and A_COL_STRIDE; each thread then packs the A blocks of
   * its own tasks into its scratch region, A_AT + thread * blockRows * KC.
   */
  A_RAW: 24,
  A_ROW_STRIDE: 25,
  A_COL_STRIDE: 26,
  M: 27,
  /**
   * What the job is: JobKind.GEMM (the words above), JobKind.BATCHED_GEMM (the gemm words, B_ and
   * BATCH_ ones), JobKind.PACK_PATCHES (B_AT and the PATCH_ ones) or JobKind.MAP (the MAP_ ones).
   */
  KIND: 28,
  // A map job: a generated elementwise kernel run(begin, end, ...params) over byte ranges of
  // arrays in the shared memory (see compile/wasm/elementwise.ts). Addresses in bytes.
  /** The kernel's number: threads keep the instances of recent kernels by it. */
  MAP_KERNEL: 29,
  /** The kernel's module bytes, for threads that have not instantiated it yet. */
  MAP_CODE_AT: 30,
  MAP_CODE_BYTES: 31,
  /** The kernel's parameters after begin and end: int32 words. */
  MAP_PARAMS_AT: 32,
  MAP_PARAM_COUNT: 33,
  /** Bytes per task, and the end of the last task. */
  MAP_TASK_BYTES: 34,
  MAP_END: 35,
  /** Bytes of every streamed input the main thread has copied in so far: tasks wait for theirs. */
  MAP_COPIED: 36,
  /** An int32 flag per task, zeroed by the main thread, set to 1 when the task is done. */
  MAP_FLAGS_AT: 37,
  // A batched gemm: TOTAL products of the same [M, K] x [K, N], one per task, each computed whole
  // by the thread that claims it, which packs its own panels from raw copies of A and B (with the
  // words above: ELEMENT, C_AT, PADDED_M, PADDED_N, K, KC, HEIGHT, WIDTH, BLOCK_ROWS, M,
  // A_ROW_STRIDE, A_COL_STRIDE). C is [TOTAL][PADDED_M][PADDED_N] from C_AT.
  B_ROW_STRIDE: 38,
  B_COL_STRIDE: 39,
  N: 40,
  /** Int32 word index of the table: TOTAL offsets of A's element (0, 0), then TOTAL of B's. */
  BATCH_OFFSETS_AT: 41,
  /** Element offset of the threads' scratch: per thread, an A block (BLOCK_ROWS x KC), then a B k-block (KC x PADDED_N). */
  BATCH_SCRATCH_AT: 42,
  // Packing a convolution's patches as a gemm's B (with ELEMENT, B_AT, PADDED_N, K, KC, WIDTH,
  // N and TOTAL): element (p, j) of B is the element at byte address columns[j] + rows[p], two
  // int32 tables in the shared memory. A task packs PATCH_TASK_PANELS panels over every k-block.
  /** Int32 word index of the N columns' byte addresses, then of the K rows' byte offsets. */
  PATCH_COLUMNS_AT: 43,
  PATCH_ROWS_AT: 44,
  PATCH_TASK_PANELS: 45,
  /**
   * 1 when the job packs A^T's columns, A's rows, into A panels (B_AT and PADDED_N then mean A's
   * region and padded rows, WIDTH the tile's height, N its rows): the same gather, by the packer
   * of the tile's height.
   */
  PATCH_INTO_A: 46,
} as const;

/** Values of Word.KIND. */
export const JobKind = { GEMM: 0, MAP: 1, BATCHED_GEMM: 2, PACK_PATCHES: 3 } as const;

export const CONTROL_WORDS = 48;
/** Tasks per job stay below 2^TASK_BITS; the NEXT word's upper bits carry the job number. */
export const TASK_BITS = 12;
export const GEN_LIMIT = 2 ** (32 - TASK_BITS);
/** Map kernels each thread keeps instantiated. */
const MAP_KERNELS_KEPT = 64;

/** A gemm kernel export: see wasm/gemm-module.ts. */
export type GemmKernel = (aPtr: number, bPtr: number, cPtr: number, mPanels: number, nPanels: number, kc: number, ldcBytes: number) => void;

/** A patch packer export: see wasm/patch-packing.ts. */
export type PatchPacker = (bPtr: number, columnsPtr: number, rowsPtr: number, panels: number, kc: number) => void;
/** The gemm module's two gathers: into B panels (`patches`, a tile wide) and A panels (`patchRows`, a tile tall). */
export interface PatchPackers {
  readonly b: PatchPacker;
  readonly a: PatchPacker;
}

/** Runs the tasks of job `gen` this thread can still claim, then returns. */
export type Work = (gen: number) => void;

/**
 * `participant(control, memory, kernels, packers, thread)` returns the thread's `work(gen)` (`kernels`
 * and `packers`: the gemm module's `gemm` export and its two gathers, per element type). In a gemm job a
 * task is a block of C (task rows x chunk columns); the thread zeroes it in the shared memory and
 * accumulates A x B into it over the k-blocks, from B's panels packed before the job and A's
 * (packed before it too, or with A_RAW by the thread itself from the raw copy). In a batched
 * gemm job a task is one product of the batch, packed by the thread itself; in a patch job, a run
 * of B's panels gathered from a convolution's input (or, with PATCH_INTO_A, of A's from its copy); in a map job, a byte range of an
 * elementwise kernel.
 *
 * Why a stale worker (one still waking for an older job) cannot take a task of a newer job: the
 * main thread stores NEXT with the new job number before it writes the job's words, every access
 * is atomic (sequentially consistent), and a claim only succeeds while NEXT carries the job
 * number the thread read its words for. So a thread that read any word of a newer job sees the
 * newer NEXT and claims nothing, and the main thread starts a job only after every task of the
 * previous one is done.
 */
export const PARTICIPANT_SOURCE = `function participant(control, memory, kernels, packers, thread) {
  const W = ${JSON.stringify(Word)};
  const ctrl = new Int32Array(control);
  const TASK_MASK = ${2 ** TASK_BITS - 1};
  // The next unclaimed task of the job tagged tag, claimed by compare-exchange, or -1 when none is
  // left or a newer job has started (see above why a stale thread then claims nothing).
  function claim(tag, total) {
    for (;;) {
      const v = Atomics.load(ctrl, W.NEXT);
      if ((v & ~TASK_MASK) !== tag) return -1;
      const task = v & TASK_MASK;
      if (task >= total) return -1;
      if (Atomics.compareExchange(ctrl, W.NEXT, v, v + 1) === v) return task;
    }
  }
  // Map kernels by number, oldest first; a few dozen are kept.
  const mapKernels = new Map();
  function mapKernel(word) {
    const id = word(W.MAP_KERNEL);
    let run = mapKernels.get(id);
    if (run === undefined) {
      // slice(): a module compiles from an unshared copy of its bytes.
      const bytes = new Uint8Array(memory.buffer, word(W.MAP_CODE_AT), word(W.MAP_CODE_BYTES)).slice();
      run = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.run;
      mapKernels.set(id, run);
      if (mapKernels.size > ${MAP_KERNELS_KEPT}) mapKernels.delete(mapKernels.keys().next().value);
    }
    return run;
  }
  function mapWork(tag, word) {
    const taskBytes = word(W.MAP_TASK_BYTES), end = word(W.MAP_END), total = word(W.TOTAL);
    const paramsAt = word(W.MAP_PARAMS_AT), count = word(W.MAP_PARAM_COUNT), flags = word(W.MAP_FLAGS_AT) >> 2;
    let run = null;
    let args = null;
    let words = null;
    for (let task = claim(tag, total); task >= 0; task = claim(tag, total)) {
      try {
        if (run === null) {
          run = mapKernel(word);
          words = new Int32Array(memory.buffer);
          args = [0, 0, ...words.subarray(paramsAt >> 2, (paramsAt >> 2) + count)];
        }
        const begin = task * taskBytes;
        const stop = Math.min(end, begin + taskBytes);
        for (let copied = Atomics.load(ctrl, W.MAP_COPIED); copied < stop; copied = Atomics.load(ctrl, W.MAP_COPIED)) {
          Atomics.wait(ctrl, W.MAP_COPIED, copied, 1);
        }
        args[0] = begin;
        args[1] = stop;
        run(...args);
        Atomics.store(words, flags + task, 1);
        Atomics.add(ctrl, W.PROGRESS, 1);
      } catch (error) {
        Atomics.store(ctrl, W.ERROR, 1);
      }
      // Every task is announced: the main thread copies finished outputs out while others run.
      Atomics.add(ctrl, W.DONE, 1);
      Atomics.notify(ctrl, W.DONE);
    }
  }
  // As packA in kernels/gemm.ts: rows [i0, i0 + rows) x cols [p0, p0 + kc) of the A at from
  // as [panel][kc][height] at to, rows past m zero.
  function packA(view, from, rowStride, colStride, m, height, i0, rows, p0, kc, to) {
    for (let panel = 0; panel < rows; panel += height) {
      for (let r = 0; r < height; r++) {
        const i = i0 + panel + r;
        let o = to + panel * kc + r;
        if (i >= m) {
          for (let p = 0; p < kc; p++, o += height) view[o] = 0;
          continue;
        }
        for (let p = 0, at = from + i * rowStride + p0 * colStride; p < kc; p++, at += colStride, o += height) view[o] = view[at];
      }
    }
  }
  function batchedWork(tag, word) {
    const element = word(W.ELEMENT), cAt = word(W.C_AT), paddedM = word(W.PADDED_M), paddedN = word(W.PADDED_N);
    const k = word(W.K), KC = word(W.KC), height = word(W.HEIGHT), width = word(W.WIDTH), blockRows = word(W.BLOCK_ROWS);
    const total = word(W.TOTAL), m = word(W.M), n = word(W.N);
    const aRowStride = word(W.A_ROW_STRIDE), aColStride = word(W.A_COL_STRIDE);
    const bRowStride = word(W.B_ROW_STRIDE), bColStride = word(W.B_COL_STRIDE);
    const offsetsAt = word(W.BATCH_OFFSETS_AT);
    const aScratch = word(W.BATCH_SCRATCH_AT) + thread * (blockRows * KC + KC * paddedN);
    const bScratch = aScratch + blockRows * KC;
    let view = null;
    let offsets = null;
    for (let task = claim(tag, total); task >= 0; task = claim(tag, total)) {
      try {
        if (view === null) {
          view = element === 0 ? new Float32Array(memory.buffer) : new Float64Array(memory.buffer);
          offsets = new Int32Array(memory.buffer);
        }
        const gemm = kernels[element];
        const size = element === 0 ? 4 : 8;
        const aFrom = offsets[offsetsAt + task], bFrom = offsets[offsetsAt + total + task];
        const c0 = cAt + task * paddedM * paddedN;
        view.fill(0, c0, c0 + paddedM * paddedN);
        for (let p0 = 0; p0 < k; p0 += KC) {
          const kc = Math.min(KC, k - p0);
          // B's k-block as [panel][kc][width], columns past n zero.
          for (let j0 = 0; j0 < paddedN; j0 += width) {
            for (let p = 0; p < kc; p++) {
              let o = bScratch + j0 * kc + p * width;
              let q = 0;
              for (let at = bFrom + (p0 + p) * bRowStride + j0 * bColStride; q < width && j0 + q < n; q++, at += bColStride) view[o++] = view[at];
              for (; q < width; q++) view[o++] = 0;
            }
          }
          for (let i0 = 0; i0 < paddedM; i0 += blockRows) {
            const rows = Math.min(blockRows, paddedM - i0);
            packA(view, aFrom, aRowStride, aColStride, m, height, i0, rows, p0, kc, aScratch);
            gemm(aScratch * size, bScratch * size, (c0 + i0 * paddedN) * size, rows / height, paddedN / width, kc, paddedN * size);
            Atomics.add(ctrl, W.PROGRESS, 1);
          }
        }
      } catch (error) {
        Atomics.store(ctrl, W.ERROR, 1);
      }
      if (Atomics.add(ctrl, W.DONE, 1) + 1 === total) Atomics.notify(ctrl, W.DONE);
    }
  }
  // A convolution's patches as B (see Word.PATCH_COLUMNS_AT): full panels by the wasm packer, a
  // last partial one here, columns past n zero.
  function patchWork(tag, word) {
    const element = word(W.ELEMENT), bAt = word(W.B_AT), paddedN = word(W.PADDED_N), k = word(W.K), KC = word(W.KC);
    const width = word(W.WIDTH), n = word(W.N), total = word(W.TOTAL);
    const columnsAt = word(W.PATCH_COLUMNS_AT), rowsAt = word(W.PATCH_ROWS_AT), taskPanels = word(W.PATCH_TASK_PANELS);
    const pack = word(W.PATCH_INTO_A) === 1 ? packers[element].a : packers[element].b;
    const nPanels = paddedN / width, fullPanels = Math.floor(n / width);
    const size = element === 0 ? 4 : 8, shift = element === 0 ? 2 : 3;
    let view = null;
    let words = null;
    for (let task = claim(tag, total); task >= 0; task = claim(tag, total)) {
      try {
        if (view === null) {
          view = element === 0 ? new Float32Array(memory.buffer) : new Float64Array(memory.buffer);
          words = new Int32Array(memory.buffer);
        }
        const first = task * taskPanels, last = Math.min(nPanels, first + taskPanels), full = Math.min(last, fullPanels);
        for (let p0 = 0; p0 < k; p0 += KC) {
          const kc = Math.min(KC, k - p0);
          const block = bAt + p0 * paddedN;
          if (full > first) pack((block + first * width * kc) * size, (columnsAt + first * width) * 4, (rowsAt + p0) * 4, full - first, kc);
          for (let panel = Math.max(first, full); panel < last; panel++) {
            const j0 = panel * width;
            for (let p = 0, o = block + j0 * kc; p < kc; p++, o += width) {
              const d = words[rowsAt + p0 + p];
              for (let q = 0; q < width; q++) view[o + q] = j0 + q < n ? view[(words[columnsAt + j0 + q] + d) >> shift] : 0;
            }
          }
          Atomics.add(ctrl, W.PROGRESS, 1);
        }
      } catch (error) {
        Atomics.store(ctrl, W.ERROR, 1);
      }
      if (Atomics.add(ctrl, W.DONE, 1) + 1 === total) Atomics.notify(ctrl, W.DONE);
    }
  }
  return function work(gen) {
    const tag = gen << ${TASK_BITS};
    const word = (i) => Atomics.load(ctrl, i);
    if (word(W.KIND) === ${JobKind.MAP}) return mapWork(tag, word);
    if (word(W.KIND) === ${JobKind.BATCHED_GEMM}) return batchedWork(tag, word);
    if (word(W.KIND) === ${JobKind.PACK_PATCHES}) return patchWork(tag, word);
    const element = word(W.ELEMENT);
    const aAt = word(W.A_AT), bAt = word(W.B_AT), cAt = word(W.C_AT);
    const paddedM = word(W.PADDED_M), paddedN = word(W.PADDED_N), k = word(W.K), KC = word(W.KC);
    const height = word(W.HEIGHT), width = word(W.WIDTH), blockRows = word(W.BLOCK_ROWS);
    const taskRows = word(W.TASK_ROWS), chunkPanels = word(W.CHUNK_PANELS), nPanels = word(W.N_PANELS);
    const colTasks = word(W.COL_TASKS), total = word(W.TOTAL);
    const aRaw = word(W.A_RAW), aRowStride = word(W.A_ROW_STRIDE), aColStride = word(W.A_COL_STRIDE), m = word(W.M);
    const scratch = aAt + thread * blockRows * KC;
    let view = null;
    for (let task = claim(tag, total); task >= 0; task = claim(tag, total)) {
      try {
        // The memory may have grown since this thread last looked: take a fresh view per job.
        if (view === null) view = element === 0 ? new Float32Array(memory.buffer) : new Float64Array(memory.buffer);
        const gemm = kernels[element];
        const size = element === 0 ? 4 : 8;
        const rowTask = (task / colTasks) | 0;
        const j0 = (task - rowTask * colTasks) * chunkPanels;
        const panels = Math.min(chunkPanels, nPanels - j0);
        const taskEnd = Math.min(paddedM, (rowTask + 1) * taskRows);
        for (let i0 = rowTask * taskRows; i0 < taskEnd; i0 += blockRows) {
          const rows = Math.min(blockRows, taskEnd - i0);
          const c0 = cAt + i0 * paddedN + j0 * width;
          for (let r = 0; r < rows; r++) view.fill(0, c0 + r * paddedN, c0 + r * paddedN + panels * width);
          for (let p0 = 0; p0 < k; p0 += KC) {
            const kc = Math.min(KC, k - p0);
            let a = aAt + p0 * paddedM + i0 * kc;
            if (aRaw >= 0) {
              a = scratch;
              packA(view, aRaw, aRowStride, aColStride, m, height, i0, rows, p0, kc, scratch);
            }
            gemm(a * size, (bAt + p0 * paddedN + j0 * width * kc) * size, c0 * size, rows / height, panels, kc, paddedN * size);
            Atomics.add(ctrl, W.PROGRESS, 1);
          }
        }
      } catch (error) {
        Atomics.store(ctrl, W.ERROR, 1);
      }
      if (Atomics.add(ctrl, W.DONE, 1) + 1 === total) Atomics.notify(ctrl, W.DONE);
    }
  };
}`;

/**
 * A worker's whole program: instantiate the kernels over the shared memory, report ready, then
 * sleep on GEN and work each new job. In Node the data comes as workerData; in a browser as the
 * first message.
 */
export function workerSource(platform: 'node' | 'browser'): string {
  // The module name is built at run time: a literal require of a Node built-in in this string
  // would read, to tools that scan bundles, like a static import.
  const entry =
    platform === 'node'
      ? `const threadsModule = 'worker' + '_threads'; start(require(threadsModule).workerData);`
      : `self.onmessage = (event) => { self.onmessage = null; start(event.data); };`;
  return `'use strict';
const participant = ${PARTICIPANT_SOURCE};
function start(data) {
  const ctrl = new Int32Array(data.control);
  let work;
  try {
    const modules = data.modules.map((module) => new WebAssembly.Instance(module, { env: { memory: data.memory } }).exports);
    work = participant(data.control, data.memory, modules.map((m) => m.gemm), modules.map((m) => ({ b: m.patches, a: m.patchRows })), data.thread);
  } catch (error) {
    Atomics.add(ctrl, ${Word.FAILED}, 1);
    Atomics.notify(ctrl, ${Word.READY});
    return;
  }
  Atomics.add(ctrl, ${Word.READY}, 1);
  Atomics.notify(ctrl, ${Word.READY});
  let seen = 0;
  for (;;) {
    const gen = Atomics.load(ctrl, ${Word.GEN});
    if (gen < 0) return;
    if (gen !== seen) {
      seen = gen;
      work(gen);
      continue;
    }
    Atomics.wait(ctrl, ${Word.GEN}, seen);
  }
}
${entry}
`;
}

/** The main thread's `work`, built from the same source. */
export function mainParticipant(
  control: SharedArrayBuffer,
  memory: WebAssembly.Memory,
  kernels: readonly GemmKernel[],
  packers: readonly PatchPackers[],
): Work {
  const factory = new Function(`return ${PARTICIPANT_SOURCE};`)() as (
    control: SharedArrayBuffer,
    memory: WebAssembly.Memory,
    kernels: readonly GemmKernel[],
    packers: readonly PatchPackers[],
    thread: number,
  ) => Work;
  return factory(control, memory, kernels, packers, 0);
}
