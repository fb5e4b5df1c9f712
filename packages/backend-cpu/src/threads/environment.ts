// What the host offers for threads, found without any static import of a Node built-in, so the
// browser bundle stays free of them: Node's modules come through process.getBuiltinModule (sync,
// Node >= 20.16) or a dynamic import of a computed specifier (older Node), browsers' through
// globals.

/** The data every worker receives. */
export interface WorkerData {
  readonly memory: WebAssembly.Memory;
  readonly modules: readonly WebAssembly.Module[];
  readonly control: SharedArrayBuffer;
  /** The worker's number, 1 .. workers (the main thread is 0): picks its scratch region. */
  readonly thread: number;
}

/** A started worker, reduced to what the pool needs. */
export interface PoolWorker {
  terminate(): void;
}

/** Starts one worker running `source` with `data`; `onError` hears of a worker that died. */
export type Spawn = (source: (platform: 'node' | 'browser') => string, data: WorkerData, onError: () => void) => PoolWorker;

interface NodeWorker {
  on(event: 'error', listener: (error: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

interface NodeWorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: WorkerData; name?: string; execArgv?: string[] }) => NodeWorker;
}

interface NodeOs {
  availableParallelism?: () => number;
  cpus(): readonly unknown[];
}

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const process = (globalThis as { process?: NodeProcess }).process;
  return process?.versions?.node === undefined ? undefined : process;
}

/** An environment variable, where the host has an environment (Node; undefined in browsers). */
export function environmentVariable(name: string): string | undefined {
  return nodeProcess()?.env?.[name];
}

/** The FLINT_CPU_THREADS environment variable, where the host has one. */
export function threadsVariable(): string | undefined {
  return environmentVariable('FLINT_CPU_THREADS');
}

/** Logical cores the host reports (1 when it reports none). */
export function coreCount(): number {
  const process = nodeProcess();
  const os = process?.getBuiltinModule?.('node:os') as NodeOs | undefined;
  if (os !== undefined) return os.availableParallelism?.() ?? os.cpus().length;
  const navigatorLike = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return navigatorLike?.hardwareConcurrency ?? 1;
}

/**
 * Whether this thread may block in Atomics.wait: true in Node and in workers, false on a
 * browser's main thread, where it throws (that thread never waits, so it stays single-threaded).
 */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

function nodeSpawn(threads: NodeWorkerThreads): Spawn {
  return (source, data, onError) => {
    // execArgv: [] keeps the parent's loaders (tsx, a test runner's) out of a worker that runs
    // plain JavaScript and would only start slower, or fail, with them.
    const worker = new threads.Worker(source('node'), { eval: true, workerData: data, name: 'flint-gemm', execArgv: [] });
    worker.on('error', onError);
    // Idle workers must not keep a finished program alive.
    worker.unref();
    return {
      terminate: () => {
        void worker.terminate();
      },
    };
  };
}

function browserSpawn(): Spawn | null {
  const scope = globalThis as { crossOriginIsolated?: boolean };
  if (typeof Worker !== 'function' || typeof Blob !== 'function' || typeof URL === 'undefined' || typeof URL.createObjectURL !== 'function')
    return null;
  // SharedArrayBuffer can be posted only to a cross-origin-isolated context.
  if (scope.crossOriginIsolated !== true) return null;
  return (source, data, onError) => {
    const url = URL.createObjectURL(new Blob([source('browser')], { type: 'text/javascript' }));
    const worker = new Worker(url, { name: 'flint-gemm' });
    URL.revokeObjectURL(url);
    worker.onerror = onError;
    worker.postMessage(data);
    return { terminate: () => worker.terminate() };
  };
}

/**
 * How to start workers here: a Spawn now, a promise of one (older Node, whose module loads
 * asynchronously), or null where threads cannot work (no SharedArrayBuffer, no cross-origin
 * isolation, a thread that may not block).
 */
export function findSpawn(): Spawn | Promise<Spawn | null> | null {
  try {
    if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object' || !canBlock()) return null;
    const process = nodeProcess();
    if (process === undefined) return browserSpawn();
    const threads = process.getBuiltinModule?.('node:worker_threads') as NodeWorkerThreads | undefined;
    if (threads !== undefined) return nodeSpawn(threads);
    const specifier = ['node', 'worker_threads'].join(':');
    return (import(/* @vite-ignore */ specifier) as Promise<NodeWorkerThreads>).then(nodeSpawn, () => null);
  } catch {
    return null;
  }
}
