import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import path from 'node:path';
import type { Addon } from '../native/addon.js';

// Generated kernels (codegen.ts) are compiled by the system's C compiler into shared objects kept
// in a cache folder, keyed by a hash of the source, the compiler, its flags and the CPU, so that a
// kernel compiles once per machine and later runs load it. A training step's kernels run the
// register program of native/fused.cc until their compiled form is ready:
//
// - 'async' (the default): a kernel is compiled in the background after it has run a few times
//   (one-off kernels never pay for the compiler), one compile at a time, and is picked up by a
//   later run once the shared object exists. Nothing waits for the compiler, and a synchronous
//   training loop that never yields to the event loop still picks it up: runs look for the file.
// - 'sync': compiled on first use, waiting for the compiler (tests, or to measure steady speed).
// - 'off': never (FLINT_MKL_CODEGEN=off), as when no C compiler is installed.
//
// FLINT_MKL_CODEGEN chooses the mode, FLINT_CACHE_DIR the folder (default
// $XDG_CACHE_HOME/flint/mkl-kernels or ~/.cache/flint/mkl-kernels), CC the compiler (default cc,
// words split on spaces: "ccache gcc"). A kernel whose compilation failed leaves a `.failed`
// marker and is not compiled again on this machine (delete the folder to retry).

export type CodegenMode = 'async' | 'sync' | 'off';

/** Runs before a kernel's compilation starts in 'async' mode. */
const RUNS_BEFORE_COMPILING = 3;
/** Runs between two looks for the shared object of a compilation in flight. */
const RUNS_BETWEEN_LOOKS = 8;

// -ffp-contract=off keeps a * b + c as two roundings, as the op-by-op kernels compute it;
// -fno-math-errno lets sqrtf vectorize; the shared object is built for the CPU it runs on.
export const COMPILER_FLAGS = ['-O3', '-march=native', '-fno-math-errno', '-ffp-contract=off', '-fPIC', '-shared'];

export function codegenMode(): CodegenMode {
  const chosen = process.env.FLINT_MKL_CODEGEN;
  return chosen === 'sync' || chosen === 'off' ? chosen : 'async';
}

function cacheFolder(): string {
  if (process.env.FLINT_CACHE_DIR) return path.resolve(process.env.FLINT_CACHE_DIR, 'mkl-kernels');
  return path.resolve(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'flint', 'mkl-kernels');
}

/**
 * What a `-march=native` object depends on besides its source: the CPU's model and instruction
 * set extensions (a cache folder may be shared by machines: a network home, a container image).
 */
function machineKey(): string {
  let flags = '';
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '';
  } catch {
    // no /proc (not Linux): the model string alone
  }
  return [process.arch, cpus()[0]?.model ?? '', flags].join('\n');
}

/** One kernel's compiled form: absent until compiled and loaded. */
export interface GeneratedKernel {
  /** The addon's id of the loaded kernel, or null while it is not (yet) available. Counts a run. */
  id(): number | null;
}

type State = 'waiting' | 'queued' | 'compiling' | 'loaded' | 'failed';

class Entry implements GeneratedKernel {
  state: State = 'waiting';
  loadedId: number | null = null;
  runs = 0;
  constructor(
    readonly cache: KernelCache,
    readonly source: string,
    /** The compiler's command words (CC when the kernel was first asked for). */
    readonly compiler: readonly string[],
    readonly files: { source: string; library: string; failed: string },
  ) {}

  id(): number | null {
    if (this.loadedId !== null) return this.loadedId;
    this.runs++;
    this.cache.advance(this);
    return this.loadedId;
  }
}

/** The generated kernels of one backend: compiles, caches on disk and loads them into the addon. */
export class KernelCache {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private inFlight: Entry | null = null;
  private runsSinceLook = 0;
  private disabled: boolean;
  private readonly machine = machineKey();

  constructor(private readonly addon: Addon) {
    this.disabled = codegenMode() === 'off';
  }

  /** The compiled form of `source` (one object per distinct source). */
  kernel(source: string): GeneratedKernel | null {
    if (this.disabled) return null;
    const existing = this.entries.get(source);
    if (existing) return existing;
    const compiler = (process.env.CC ?? 'cc').trim().split(/\s+/);
    const key = createHash('sha256')
      .update([source, ...compiler, ...COMPILER_FLAGS, this.machine].join('\n'))
      .digest('hex')
      .slice(0, 32);
    const base = path.join(cacheFolder(), `k${key}`);
    // The source file is per process: two processes may compile the same kernel at once.
    const entry = new Entry(this, source, compiler, {
      source: `${base}.${process.pid}.c`,
      library: `${base}.so`,
      failed: `${base}.failed`,
    });
    this.entries.set(source, entry);
    return entry;
  }

  /** Moves `entry` along: loads it when its library exists, starts or checks compilations. */
  advance(entry: Entry): void {
    if (entry.state === 'waiting') this.consider(entry);
    if (this.inFlight !== null && ++this.runsSinceLook >= RUNS_BETWEEN_LOOKS) {
      this.runsSinceLook = 0;
      this.look(this.inFlight);
    }
    if (this.inFlight === null) this.startNext();
  }

  /** A kernel that has not been compiled in this process: loaded from the cache, compiled, or queued. */
  private consider(entry: Entry): void {
    if (existsSync(entry.files.library)) {
      this.load(entry);
      return;
    }
    if (existsSync(entry.files.failed)) {
      entry.state = 'failed';
      return;
    }
    const mode = codegenMode();
    if (mode === 'sync') this.compileNow(entry);
    else if (mode === 'async' && entry.runs >= RUNS_BEFORE_COMPILING) {
      entry.state = 'queued';
      this.queue.push(entry);
    }
  }

  private startNext(): void {
    const next = this.queue.shift();
    if (next === undefined) return;
    if (!this.writeSource(next)) return;
    // The shell renames the finished library into place (atomically, so a run never loads half a
    // file), or leaves a marker when the compiler fails: runs look for either file.
    const script =
      '"$@" -o "$FLINT_TMP" "$FLINT_SRC" -lm 2>/dev/null && mv -f -- "$FLINT_TMP" "$FLINT_OUT" || touch -- "$FLINT_FAILED"; rm -f -- "$FLINT_SRC"';
    try {
      const child = spawn('/bin/sh', ['-c', script, 'flint-cc', ...next.compiler, ...COMPILER_FLAGS], {
        stdio: 'ignore',
        env: {
          ...process.env,
          FLINT_SRC: next.files.source,
          FLINT_TMP: `${next.files.library}.${process.pid}.tmp`,
          FLINT_OUT: next.files.library,
          FLINT_FAILED: next.files.failed,
        },
      });
      child.on('error', () => {
        next.state = 'failed';
      });
      child.unref();
      next.state = 'compiling';
      this.inFlight = next;
    } catch {
      next.state = 'failed';
    }
  }

  private look(entry: Entry): void {
    if (existsSync(entry.files.library)) this.load(entry);
    else if (existsSync(entry.files.failed)) entry.state = 'failed';
    if (entry.state !== 'compiling') this.inFlight = null;
  }

  private compileNow(entry: Entry): void {
    if (!this.writeSource(entry)) return;
    const temporary = `${entry.files.library}.${process.pid}.tmp`;
    const [command = 'cc', ...prefix] = entry.compiler;
    try {
      execFileSync(command, [...prefix, ...COMPILER_FLAGS, '-o', temporary, entry.files.source, '-lm'], { stdio: 'ignore' });
      renameSync(temporary, entry.files.library);
      this.load(entry);
    } catch {
      entry.state = 'failed';
      try {
        writeFileSync(entry.files.failed, '');
      } catch {
        // the marker only saves a later process the attempt
      }
    } finally {
      rmSync(entry.files.source, { force: true });
    }
  }

  private writeSource(entry: Entry): boolean {
    try {
      mkdirSync(path.dirname(entry.files.source), { recursive: true });
      writeFileSync(entry.files.source, entry.source);
      return true;
    } catch {
      // A folder that cannot be written leaves every kernel to the register program.
      this.disabled = true;
      entry.state = 'failed';
      return false;
    }
  }

  private load(entry: Entry): void {
    try {
      entry.loadedId = this.addon.loadKernel(entry.files.library);
      entry.state = 'loaded';
    } catch {
      // A damaged or foreign file: removed, so that a later process compiles the kernel again.
      entry.state = 'failed';
      rmSync(entry.files.library, { force: true });
    }
  }
}
