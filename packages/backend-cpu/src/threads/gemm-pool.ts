import type { GemmShape } from '../wasm/gemm-module.js';
import { gemmModuleBytes } from '../wasm/gemm-module.js';
import { coreCount, findSpawn, type PoolWorker, type Spawn, threadsVariable, type WorkerData } from './environment.js';
import {
  CONTROL_WORDS,
  GEN_LIMIT,
  type GemmKernel,
  JobKind,
  mainParticipant,
  type PatchPacker,
  TASK_BITS,
  Word,
  type Work,
  workerSource,
} from './participant.js';

/** One threaded gemm: panels already packed in the pool's memory; offsets in elements. */
export interface GemmJob {
  readonly element: 'f32' | 'f64';
  readonly aAt: number;
  readonly bAt: number;
  readonly cAt: number;
  readonly paddedM: number;
  readonly paddedN: number;
  readonly k: number;
  readonly kc: number;
  /** The kernel's tile: rows of an A panel, columns of a B panel. */
  readonly height: number;
  readonly width: number;
  readonly blockRows: number;
  readonly taskRows: number;
  readonly chunkPanels: number;
  readonly colTasks: number;
  readonly total: number;
  /** See Word.A_RAW: -1 (A packed at aAt), or where a raw copy of A has its element (0, 0). */
  readonly aRaw: number;
  readonly aRowStride: number;
  readonly aColStride: number;
  readonly m: number;
}

/**
 * A batch of gemms of one shape, a task each (see Word.B_ROW_STRIDE and below): raw copies of the
 * operands in the pool's memory, read through the offset table. Offsets in elements, but
 * `offsetsAt`, an int32 word index.
 */
export interface BatchedGemmJob {
  readonly element: 'f32' | 'f64';
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly kc: number;
  readonly paddedM: number;
  readonly paddedN: number;
  readonly height: number;
  readonly width: number;
  readonly blockRows: number;
  readonly aRowStride: number;
  readonly aColStride: number;
  readonly bRowStride: number;
  readonly bColStride: number;
  readonly offsetsAt: number;
  readonly scratchAt: number;
  readonly cAt: number;
}

/**
 * Packing a convolution's patches as B for a later GemmJob (see Word.PATCH_COLUMNS_AT), or with
 * `intoA` a strided A as A panels (`bAt`, `paddedN`, `n` and `width` are then A's region, padded
 * rows, rows and the tile's height): the source and the two int32 tables of byte addresses are in
 * the pool's memory already. Offsets in elements, but `columnsAt` and `rowsAt`, int32 word indices.
 */
export interface PatchJob {
  readonly element: 'f32' | 'f64';
  readonly intoA: boolean;
  readonly bAt: number;
  readonly paddedN: number;
  readonly n: number;
  readonly k: number;
  readonly kc: number;
  readonly width: number;
  readonly columnsAt: number;
  readonly rowsAt: number;
  readonly taskPanels: number;
  readonly total: number;
}

/**
 * One threaded run of a generated elementwise kernel (compile/wasm/elementwise.ts) over arrays
 * in the pool's memory. Addresses and sizes in bytes.
 */
export interface MapJob {
  /** Identifies the kernel: threads keep instances of recent kernels by it. */
  readonly kernel: number;
  readonly codeAt: number;
  readonly codeBytes: number;
  readonly paramsAt: number;
  readonly paramCount: number;
  readonly taskBytes: number;
  readonly end: number;
  readonly total: number;
  /** Where the int32 done flag of each task is (zeroed here before the job starts). */
  readonly flagsAt: number;
}

/** Tasks of one job stay below this (they are numbered in the NEXT word's low bits). */
export const MAX_TASKS = 2 ** TASK_BITS - 1;

/** Seconds without any kernel call finishing, while tasks are still out, before a job is abandoned. */
const STALL_SECONDS = 10;

/**
 * Worker threads computing gemm tasks over one shared WebAssembly memory. The main thread packs
 * the operands into that memory, publishes a job, works on its tasks too, and waits (Atomics.wait)
 * until every task is done. Any failure (a worker that dies or stalls, a task that traps) retires
 * the pool for good: `run` returns false and the caller computes on one thread.
 */
export class GemmPool {
  private readonly control: Int32Array;
  private readonly work: Work;
  private readonly workers: PoolWorker[] = [];
  private gen = 0;
  private retired = false;

  private constructor(
    readonly memory: WebAssembly.Memory,
    private readonly maximumBytes: number,
    readonly shapes: Readonly<Record<'f32' | 'f64', GemmShape>>,
    control: SharedArrayBuffer,
    modules: readonly WebAssembly.Module[],
    spawn: Spawn,
    helpers: number,
  ) {
    this.control = new Int32Array(control);
    const instances = modules.map((module) => new WebAssembly.Instance(module, { env: { memory } }).exports);
    this.work = mainParticipant(
      control,
      memory,
      instances.map((exports) => exports.gemm as GemmKernel),
      instances.map((exports) => ({ b: exports.patches as PatchPacker, a: exports.patchRows as PatchPacker })),
    );
    for (let i = 0; i < helpers; i++) {
      const data: WorkerData = { memory, modules, control, thread: i + 1 };
      try {
        this.workers.push(spawn(workerSource, data, () => this.retire()));
      } catch {
        break;
      }
    }
    if (this.workers.length === 0) this.retired = true;
  }

  /** A pool of `helpers` workers, or null where shared wasm memory or the kernels are unavailable. */
  static create(spawn: Spawn, helpers: number, shapes: Readonly<Record<'f32' | 'f64', GemmShape>>): GemmPool | null {
    try {
      // Shared memories must declare a maximum, which is reserved up front; 32-bit hosts may
      // refuse 2 GiB of address space, so try smaller ones.
      for (const pages of [32767, 16384, 4096]) {
        let memory: WebAssembly.Memory;
        try {
          memory = new WebAssembly.Memory({ initial: 1, maximum: pages, shared: true });
        } catch {
          continue;
        }
        const spec = { kind: 'shared', pages: 1, maximum: pages } as const;
        const modules = [
          new WebAssembly.Module(gemmModuleBytes(shapes.f32, spec)),
          new WebAssembly.Module(gemmModuleBytes(shapes.f64, spec)),
        ];
        const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
        const pool = new GemmPool(memory, pages * 65536, shapes, control, modules, spawn, helpers);
        return pool.retired ? null : pool;
      }
      return null;
    } catch {
      return null;
    }
  }

  /** Threads that may run a job's tasks, the main thread included (each needs its own scratch). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Workers ready to take tasks (0 until they have started, and once the pool is retired). */
  get readyWorkers(): number {
    return this.retired ? 0 : Atomics.load(this.control, Word.READY);
  }

  /** Whether every worker has either started or failed to. */
  get settled(): boolean {
    return this.retired || Atomics.load(this.control, Word.READY) + Atomics.load(this.control, Word.FAILED) >= this.workers.length;
  }

  get usable(): boolean {
    return this.readyWorkers > 0;
  }

  /** The memory's buffer grown to at least `bytes`, or null when it cannot grow that far. */
  buffer(bytes: number): SharedArrayBuffer | null {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      if (bytes > this.maximumBytes) return null;
      try {
        this.memory.grow(Math.ceil((bytes - have) / 65536));
      } catch {
        return null;
      }
    }
    return this.memory.buffer as unknown as SharedArrayBuffer;
  }

  /** Runs `job` on all threads; false (the pool then retired) when it could not complete. */
  run(job: GemmJob): boolean {
    return this.runJob(job.total, [
      [Word.KIND, JobKind.GEMM],
      [Word.ELEMENT, job.element === 'f32' ? 0 : 1],
      [Word.A_AT, job.aAt],
      [Word.B_AT, job.bAt],
      [Word.C_AT, job.cAt],
      [Word.PADDED_M, job.paddedM],
      [Word.PADDED_N, job.paddedN],
      [Word.K, job.k],
      [Word.KC, job.kc],
      [Word.HEIGHT, job.height],
      [Word.WIDTH, job.width],
      [Word.BLOCK_ROWS, job.blockRows],
      [Word.TASK_ROWS, job.taskRows],
      [Word.CHUNK_PANELS, job.chunkPanels],
      [Word.N_PANELS, job.paddedN / job.width],
      [Word.COL_TASKS, job.colTasks],
      [Word.A_RAW, job.aRaw],
      [Word.A_ROW_STRIDE, job.aRowStride],
      [Word.A_COL_STRIDE, job.aColStride],
      [Word.M, job.m],
    ]);
  }

  /** Runs a batched gemm on all threads; false (the pool then retired) when it could not complete. */
  runBatched(job: BatchedGemmJob): boolean {
    return this.runJob(job.batch, [
      [Word.KIND, JobKind.BATCHED_GEMM],
      [Word.ELEMENT, job.element === 'f32' ? 0 : 1],
      [Word.C_AT, job.cAt],
      [Word.PADDED_M, job.paddedM],
      [Word.PADDED_N, job.paddedN],
      [Word.K, job.k],
      [Word.KC, job.kc],
      [Word.HEIGHT, job.height],
      [Word.WIDTH, job.width],
      [Word.BLOCK_ROWS, job.blockRows],
      [Word.M, job.m],
      [Word.N, job.n],
      [Word.A_ROW_STRIDE, job.aRowStride],
      [Word.A_COL_STRIDE, job.aColStride],
      [Word.B_ROW_STRIDE, job.bRowStride],
      [Word.B_COL_STRIDE, job.bColStride],
      [Word.BATCH_OFFSETS_AT, job.offsetsAt],
      [Word.BATCH_SCRATCH_AT, job.scratchAt],
    ]);
  }

  /** Packs a convolution's patches as B, or an A as A panels, on all threads; false (the pool then retired) when it could not complete. */
  runPatches(job: PatchJob): boolean {
    const done = this.runJob(job.total, [
      [Word.KIND, JobKind.PACK_PATCHES],
      [Word.ELEMENT, job.element === 'f32' ? 0 : 1],
      [Word.B_AT, job.bAt],
      [Word.PADDED_N, job.paddedN],
      [Word.N, job.n],
      [Word.K, job.k],
      [Word.KC, job.kc],
      [Word.WIDTH, job.width],
      [Word.PATCH_COLUMNS_AT, job.columnsAt],
      [Word.PATCH_ROWS_AT, job.rowsAt],
      [Word.PATCH_TASK_PANELS, job.taskPanels],
      [Word.PATCH_INTO_A, job.intoA ? 1 : 0],
    ]);
    if (done && job.intoA) aGatherJobsCompleted++;
    else if (done) patchJobsCompleted++;
    return done;
  }

  /** Writes a job's words (TOTAL from `total`), runs it on all threads and counts it; false when it could not complete. */
  private runJob(total: number, words: readonly (readonly [word: number, value: number])[]): boolean {
    if (this.retired || total < 1 || total > MAX_TASKS) return false;
    this.nextGeneration();
    for (const [word, value] of words) Atomics.store(this.control, word, value);
    Atomics.store(this.control, Word.TOTAL, total);
    if (!this.publishAndWork(total, null)) return false;
    jobsCompleted++;
    return true;
  }

  /**
   * Runs a map job on all threads. `feed` runs on this thread once the job is published: it
   * copies the inputs in, calling `copied(bytes)` as each prefix of every input is in place (the
   * tasks wait for their range). False (the pool then retired) when the job could not complete.
   */
  runMap(job: MapJob, feed: (copied: (bytes: number) => void) => void, drain: (finished: (task: number) => boolean) => void): boolean {
    if (this.retired || job.total < 1 || job.total > MAX_TASKS) return false;
    const control = this.control;
    this.nextGeneration();
    Atomics.store(control, Word.KIND, JobKind.MAP);
    Atomics.store(control, Word.MAP_KERNEL, job.kernel);
    Atomics.store(control, Word.MAP_CODE_AT, job.codeAt);
    Atomics.store(control, Word.MAP_CODE_BYTES, job.codeBytes);
    Atomics.store(control, Word.MAP_PARAMS_AT, job.paramsAt);
    Atomics.store(control, Word.MAP_PARAM_COUNT, job.paramCount);
    Atomics.store(control, Word.MAP_TASK_BYTES, job.taskBytes);
    Atomics.store(control, Word.MAP_END, job.end);
    Atomics.store(control, Word.MAP_COPIED, 0);
    Atomics.store(control, Word.MAP_FLAGS_AT, job.flagsAt);
    Atomics.store(control, Word.TOTAL, job.total);
    const flags = new Int32Array(this.memory.buffer, job.flagsAt, job.total);
    flags.fill(0);
    const copied = (bytes: number) => {
      Atomics.store(control, Word.MAP_COPIED, bytes);
      Atomics.notify(control, Word.MAP_COPIED);
    };
    // Once this thread finds no task left to claim, it copies finished outputs out, in order.
    // A task that failed sets no flag but ERROR, which ends the wait (the job is then discarded).
    const finished = (task: number): boolean => {
      const done = () => Atomics.load(flags, task) === 1;
      return done() || (this.awaitProgress(() => done() || Atomics.load(control, Word.ERROR) !== 0) && done());
    };
    if (
      !this.publishAndWork(
        job.total,
        () => feed(copied),
        () => drain(finished),
      )
    )
      return false;
    mapJobsCompleted++;
    return true;
  }

  /** Starts a job: a new job number in NEXT first (see the proof in participant.ts), progress reset. */
  private nextGeneration(): void {
    const control = this.control;
    this.gen = (this.gen + 1) % GEN_LIMIT || 1;
    Atomics.store(control, Word.NEXT, this.gen << TASK_BITS);
    Atomics.store(control, Word.DONE, 0);
    Atomics.store(control, Word.ERROR, 0);
  }

  /** Wakes the workers for the job whose words are written, works on it too, and waits for it. */
  private publishAndWork(total: number, before: (() => void) | null, after: (() => void) | null = null): boolean {
    const control = this.control;
    Atomics.store(control, Word.GEN, this.gen);
    Atomics.notify(control, Word.GEN);
    let fed = true;
    if (before !== null) {
      try {
        before();
      } catch {
        fed = false;
        // Tasks waiting for input that never comes: let them through; the job is discarded.
        Atomics.store(control, Word.MAP_COPIED, 0x7fffffff);
        Atomics.notify(control, Word.MAP_COPIED);
      }
    }
    this.work(this.gen);
    if (after !== null && fed && Atomics.load(control, Word.ERROR) === 0) after();
    if (!this.awaitDone(total) || Atomics.load(control, Word.ERROR) !== 0 || !fed) {
      this.retire();
      return false;
    }
    return true;
  }

  private awaitDone(total: number): boolean {
    return this.awaitProgress(() => Atomics.load(this.control, Word.DONE) >= total);
  }

  /** Sleeps on DONE until `ready()`; false when the pool retired or the job stalled meanwhile. */
  private awaitProgress(ready: () => boolean): boolean {
    const control = this.control;
    let progress = Atomics.load(control, Word.PROGRESS);
    let stalled = 0;
    for (;;) {
      const done = Atomics.load(control, Word.DONE);
      if (ready()) return true;
      if (this.retired) return false;
      if (Atomics.wait(control, Word.DONE, done, 1000) !== 'timed-out') continue;
      const now = Atomics.load(control, Word.PROGRESS);
      if (now !== progress) {
        progress = now;
        stalled = 0;
      } else if (++stalled >= STALL_SECONDS) {
        return false;
      }
    }
  }

  /** Stops the workers; the pool is never used again. */
  retire(): void {
    if (this.retired && this.workers.length === 0) return;
    this.retired = true;
    Atomics.store(this.control, Word.GEN, -1);
    Atomics.notify(this.control, Word.GEN);
    for (const worker of this.workers.splice(0)) worker.terminate();
  }
}

/** The pool's state: not asked for yet, starting (older Node), unavailable, or started. */
type PoolState = { kind: 'idle' } | { kind: 'starting'; ready: Promise<void> } | { kind: 'none' } | { kind: 'pool'; pool: GemmPool };

let state: PoolState = { kind: 'idle' };
/** Jobs completed on threads since the process started, patch packing included (tests check the threaded path ran). */
let jobsCompleted = 0;

export function threadedJobs(): number {
  return jobsCompleted;
}
/** Of those, the jobs that packed a convolution's patches, and those that packed an A (PatchJob.intoA). */
let patchJobsCompleted = 0;
let aGatherJobsCompleted = 0;

export function threadedPatchJobs(): number {
  return patchJobsCompleted;
}

export function threadedAGatherJobs(): number {
  return aGatherJobsCompleted;
}

/** Bytes of the current pool's shared memory, which grows to its largest job and is kept (0: no pool). */
export function gemmPoolBytes(): number {
  return state.kind === 'pool' ? state.pool.memory.buffer.byteLength : 0;
}
/** Map jobs completed on threads since the process started. */
let mapJobsCompleted = 0;

export function threadedMapJobs(): number {
  return mapJobsCompleted;
}
let requestedThreads: number | undefined;

/**
 * Threads to compute with, the main thread included: FLINT_CPU_THREADS when it is a positive
 * integer (1 turns threading off), else the host's logical cores, at most 16.
 */
export function gemmThreadCount(): number {
  if (requestedThreads !== undefined) return requestedThreads;
  const variable = threadsVariable();
  if (variable !== undefined && /^\s*\d+\s*$/.test(variable)) return Math.max(1, Math.min(64, Number(variable)));
  return Math.max(1, Math.min(16, coreCount()));
}

function start(shapes: Readonly<Record<'f32' | 'f64', GemmShape>>): void {
  const helpers = gemmThreadCount() - 1;
  const spawn = helpers > 0 ? findSpawn() : null;
  const settle = (found: Spawn | null) => {
    const pool = found === null ? null : GemmPool.create(found, helpers, shapes);
    state = pool === null ? { kind: 'none' } : { kind: 'pool', pool };
  };
  if (spawn instanceof Promise) {
    const ready = spawn.then((found) => {
      if (state.kind === 'starting' && state.ready === ready) settle(found);
    });
    state = { kind: 'starting', ready };
  } else {
    settle(spawn);
  }
}

/**
 * The pool when its workers are ready to help, else null. The first call starts it (workers
 * boot in the background, in about the time of one large matmul), so the products before it is
 * ready run on one thread: kernels are synchronous and never wait for it.
 */
export function gemmPool(shapes: Readonly<Record<'f32' | 'f64', GemmShape>>): GemmPool | null {
  if (state.kind === 'idle') start(shapes);
  return state.kind === 'pool' && state.pool.usable ? state.pool : null;
}

/**
 * Starts the pool if needed and resolves, once every worker has started or failed, with the
 * number of worker threads ready (0 where threads are unavailable). For tests and benchmarks
 * that want threads from the first product.
 */
export async function gemmThreadsReady(shapes: Readonly<Record<'f32' | 'f64', GemmShape>>): Promise<number> {
  gemmPool(shapes);
  if (state.kind === 'starting') await state.ready;
  const current = state;
  if (current.kind !== 'pool') return 0;
  while (!current.pool.settled) await new Promise((resolve) => setTimeout(resolve, 5));
  return current.pool.readyWorkers;
}

/**
 * Retires the current pool, unless it was asked for with the same `threads`; the next large
 * product starts one with `threads` threads (the main thread included; undefined:
 * FLINT_CPU_THREADS or the core count). For tests and benchmarks.
 */
export function setGemmThreads(threads: number | undefined): void {
  if (threads === requestedThreads && state.kind !== 'none') return;
  if (state.kind === 'pool') state.pool.retire();
  state = { kind: 'idle' };
  requestedThreads = threads;
}
