/**
 * The systems a run can measure: every Flint backend that initializes, the JavaScript peers
 * (dev dependencies of bench/), PyTorch and NumPy through the system Python, and the native
 * BLAS/oneDNN programs. Each is probed; one that cannot run is kept in the list as absent, with
 * the reason, so that the report says why it is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { INFO_MARKER, type Job } from '../common/protocol.js';
import type { CaseKind, SuiteName } from '../common/suites.js';
import { buildNative, NATIVE_PROGRAMS } from './native.js';
import type { ChildCommand } from './spawn.js';

export type SystemKind = 'flint' | 'peer' | 'native' | 'reference';

export interface SystemPlan {
  readonly name: string;
  readonly kind: SystemKind;
  readonly description: string;
  readonly available: boolean;
  readonly reason?: string;
  readonly version?: string;
  /** Suites the system takes part in; undefined means all. */
  readonly suites?: readonly SuiteName[];
  /** The child that runs a job (TypeScript and Python runners take the whole job). */
  readonly command?: (job: Job) => ChildCommand;
  /** Native programs run one case per process. */
  readonly nativeBinary?: string;
}

export interface Paths {
  readonly benchDir: string;
  readonly buildDir: string;
}

/** Flint backend packages the harness knows how to import; an uninstalled one is skipped. */
export const FLINT_BACKEND_PACKAGES = ['@flint/backend-cpu', '@flint/backend-mkl', '@flint/backend-cuda', '@flint/backend-webgpu'];

export function pythonExecutable(): string {
  return process.env.FLINT_BENCH_PYTHON ?? '/usr/bin/python3';
}

function typescriptRunner(paths: Paths, runner: string): (job: Job) => ChildCommand {
  return (job) => ({
    command: process.execPath,
    args: ['--expose-gc', '--import', 'tsx', path.join(paths.benchDir, 'runners', runner), JSON.stringify(job)],
    cwd: paths.benchDir,
  });
}

/**
 * libgomp's workers spin while they wait by default, for milliseconds. On a small virtual machine
 * (2 vCPUs sharing a host) a spinning worker that gets descheduled stalls every parallel region:
 * PyTorch's MLP training step measured 142 ms instead of 7 ms. The OpenMP peers (PyTorch, the
 * oneDNN C program) run with a spin of 3,000, PyTorch's best measured setting (its eager MLP
 * step: 4.1 ms, against 7.9 ms at the 30,000 Flint's mkl backend sets for itself in
 * src/native/load.ts), unless the user chose a policy or a spin count.
 */
export const OPENMP_ENVIRONMENT: Readonly<Record<string, string>> =
  process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined ? { GOMP_SPINCOUNT: '3000' } : {};

function pythonRunner(paths: Paths): (job: Job) => ChildCommand {
  return (job) => ({
    command: pythonExecutable(),
    args: [path.join(paths.benchDir, 'peers', 'torch_bench.py'), JSON.stringify(job)],
    cwd: paths.benchDir,
    env: OPENMP_ENVIRONMENT,
  });
}

/** The installed version of a package as bench/ resolves it, or undefined when it is not installed. */
export function installedVersion(benchDir: string, specifier: string): string | undefined {
  // Not require.resolve: packages whose `exports` hide package.json (jax-js) would look missing.
  for (let dir = benchDir; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'node_modules', specifier, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown';
      } catch {
        return 'unknown';
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

interface FlintProbe {
  readonly version?: string;
  readonly backends: readonly {
    readonly name: string;
    readonly available: boolean;
    readonly reason?: string;
    /** The device a GPU backend runs on, and whether it is a software emulation. */
    readonly adapter?: string;
    readonly software?: boolean;
  }[];
  readonly error?: string;
}

/** Asks a Flint runner child which backends initialize (the api must be importable and built). */
function probeFlint(paths: Paths): FlintProbe {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(paths.benchDir, 'runners', 'flint.ts'), '--probe'], {
    cwd: paths.benchDir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = (result.stdout ?? '').split('\n').find((l) => l.startsWith(INFO_MARKER));
  if (!line) {
    const detail = `${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim().split('\n').slice(-3).join(' | ');
    return { backends: [], error: `the Flint runner did not start (${detail.slice(0, 300) || `exit ${result.status}`})` };
  }
  return JSON.parse(line.slice(INFO_MARKER.length)) as FlintProbe;
}

function probePython(module: string): { version?: string; reason?: string } {
  const python = pythonExecutable();
  const result = spawnSync(python, ['-c', `import ${module}; print(${module}.__version__)`], { encoding: 'utf8', timeout: 60_000 });
  if (result.error) return { reason: `${python} not found` };
  if (result.status !== 0) {
    const last = (result.stderr ?? '').trim().split('\n').at(-1) ?? '';
    return { reason: `\`${python} -c 'import ${module}'\` fails (${last.slice(0, 120)}); on Debian: apt-get install python3-${module}` };
  }
  return { version: result.stdout.trim() };
}

export function discoverSystems(paths: Paths, flintBackends: readonly string[] | undefined): SystemPlan[] {
  const systems: SystemPlan[] = [];

  const probe = probeFlint(paths);
  if (probe.error !== undefined || probe.backends.length === 0) {
    systems.push({
      name: 'flint',
      kind: 'flint',
      description: 'Flint',
      available: false,
      reason: probe.error ?? 'no Flint backend is installed',
    });
  }
  for (const backend of probe.backends) {
    if (flintBackends && !flintBackends.includes(backend.name)) continue;
    // A GPU backend on a software adapter is skipped unless named with --backend (see README).
    const skipped = backend.available && backend.software === true && !flintBackends?.includes(backend.name);
    const reason = skipped
      ? `skipped: runs on a software adapter (${backend.adapter}), a GPU emulated on the CPU; \`--backend ${backend.name}\` measures it`
      : backend.reason;
    systems.push({
      name: `flint-${backend.name}`,
      kind: 'flint',
      description: `Flint, backend '${backend.name}'${backend.adapter ? ` on ${backend.adapter}` : ''}`,
      available: backend.available && !skipped,
      ...(reason === undefined ? {} : { reason }),
      ...(probe.version === undefined ? {} : { version: probe.version }),
      command: typescriptRunner(paths, 'flint.ts'),
    });
  }
  if (flintBackends) {
    for (const wanted of flintBackends) {
      if (!probe.backends.some((b) => b.name === wanted)) {
        systems.push({
          name: `flint-${wanted}`,
          kind: 'flint',
          description: `Flint, backend '${wanted}'`,
          available: false,
          reason: `no Flint backend named '${wanted}' is installed`,
        });
      }
    }
  }

  const tfjs = installedVersion(paths.benchDir, '@tensorflow/tfjs-core');
  const tfjsWasm = installedVersion(paths.benchDir, '@tensorflow/tfjs-backend-wasm');
  const tfjsCpu = installedVersion(paths.benchDir, '@tensorflow/tfjs-backend-cpu');
  const missingTfjs = 'TensorFlow.js is not installed (run pnpm install in the repository)';
  systems.push({
    name: 'tfjs-wasm',
    kind: 'peer',
    description: 'TensorFlow.js, wasm backend (XNNPACK)',
    available: tfjs !== undefined && tfjsWasm !== undefined,
    ...(tfjs && tfjsWasm ? { version: tfjs } : { reason: missingTfjs }),
    command: typescriptRunner(paths, 'tfjs.ts'),
  });
  systems.push({
    name: 'tfjs-cpu',
    kind: 'peer',
    description: 'TensorFlow.js, cpu backend (plain JavaScript)',
    available: tfjs !== undefined && tfjsCpu !== undefined,
    ...(tfjs && tfjsCpu ? { version: tfjs } : { reason: missingTfjs }),
    command: typescriptRunner(paths, 'tfjs.ts'),
  });
  const jax = installedVersion(paths.benchDir, '@jax-js/jax');
  systems.push({
    name: 'jax-js',
    kind: 'peer',
    description: "jax-js, init('wasm')",
    available: jax !== undefined,
    ...(jax ? { version: jax } : { reason: 'jax-js is not installed (run pnpm install in the repository)' }),
    command: typescriptRunner(paths, 'jaxjs.ts'),
  });

  const torch = probePython('torch');
  const numpy = probePython('numpy');
  systems.push({
    name: 'torch',
    kind: 'peer',
    description: 'PyTorch (CPU), all cores',
    available: torch.version !== undefined && numpy.version !== undefined,
    ...(torch.version ? { version: torch.version } : { reason: torch.reason ?? '' }),
    ...(torch.version && !numpy.version ? { reason: numpy.reason ?? '' } : {}),
    command: pythonRunner(paths),
  });
  systems.push({
    name: 'numpy',
    kind: 'peer',
    description: 'NumPy (its BLAS for matmul)',
    available: numpy.version !== undefined,
    ...(numpy.version ? { version: numpy.version } : { reason: numpy.reason ?? '' }),
    suites: ['matmul', 'elementwise', 'dispatch', 'linalg'],
    command: pythonRunner(paths),
  });

  const peersDir = path.join(paths.benchDir, 'peers');
  for (const [name, program, description] of [
    ['openblas', NATIVE_PROGRAMS.openblas, 'OpenBLAS cblas_sgemm (C)'],
    ['onednn', NATIVE_PROGRAMS.onednn, 'oneDNN matmul primitive (C)'],
  ] as const) {
    const build = buildNative(program, peersDir, paths.buildDir);
    systems.push({
      name,
      kind: 'native',
      description,
      available: build.ok,
      ...(build.ok ? { nativeBinary: build.binary } : { reason: build.reason }),
      suites: ['matmul'],
    });
  }
  return systems;
}

/** float64 references, in order of preference; the first that produces a case's output is used. */
export function referenceSystems(paths: Paths, torchAvailable: boolean): SystemPlan[] {
  const references: SystemPlan[] = [];
  if (torchAvailable) {
    references.push({
      name: 'torch-f64',
      kind: 'reference',
      description: 'PyTorch in float64',
      available: true,
      command: pythonRunner(paths),
    });
  }
  references.push({
    name: 'js-f64',
    kind: 'reference',
    description: 'plain JavaScript loops in float64',
    available: true,
    command: typescriptRunner(paths, 'reference.ts'),
  });
  return references;
}

/** Kinds the plain-JavaScript float64 reference computes (training steps need an autodiff system). */
export const JS_REFERENCE_KINDS: readonly CaseKind[] = [
  'matmul',
  'elementwise-eager',
  'elementwise-jit',
  'dispatch-add',
  'conv2d-forward',
  'conv2d-backward',
];
