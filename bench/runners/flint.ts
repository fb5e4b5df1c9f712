/**
 * Flint's runner. It is written against the API a PyTorch or JAX user expects (`matmul`,
 * `conv2d`, `valueAndGrad`, `jit`, ...) and looks every function up at run time, so that a figure
 * whose capability Flint lacks is reported "absent: Flint has no X yet" and starts being measured,
 * with no harness change, the day X lands.
 *
 * FLINT_BENCH_INJECT_FAULT=<suite or primitive> wraps the backend's kernel for that primitive so
 * that it returns a slightly wrong result: the check must then report the figure WRONG (see
 * harness/fault-injection.test.ts).
 */
import { repeatedCase, trainingCheck } from '../common/cases.js';
import { Absent, concatValues, readJob, reportInfo } from '../common/child.js';
import { type PreparedCase, runCases } from '../common/driver.js';
import { linalgInput, linalgRightHandSide } from '../common/linalg-inputs.js';
import { cnnModel, conv2dInputs, type Initial, materialize, mlpModel, transformerModel } from '../common/models.js';
import { symmetricArray } from '../common/prng.js';
import { INFO_MARKER } from '../common/protocol.js';
import { type CaseSpec, type LinalgKind, param } from '../common/suites.js';

/** An opaque Flint tensor: the runner only passes tensors back to Flint's functions. */
interface FlintTensor {
  readonly shape: readonly number[];
  dataSync(): ArrayLike<number>;
  dispose(): void;
}

type T = FlintTensor;
type Params = Record<string, T>;
type Fn = (...args: never[]) => unknown;

/** The part of Flint's API the suites use; optional members are the capabilities probed at run time. */
interface FlintApi {
  tensor(data: Float32Array | Float64Array, options: { shape: readonly number[]; backend?: string; dtype?: string }): T;
  add(a: T, b: T | number): T;
  sub(a: T, b: T | number): T;
  mul(a: T, b: T | number): T;
  div(a: T, b: T | number): T;
  maximum(a: T, b: T | number): T;
  neg(x: T): T;
  tanh(x: T): T;
  exp(x: T): T;
  log(x: T): T;
  abs(x: T): T;
  sqrt(x: T): T;
  sum(x: T, axis?: number | readonly number[], keepdims?: boolean): T;
  mean(x: T, axis?: number | readonly number[], keepdims?: boolean): T;
  max(x: T, axis?: number | readonly number[], keepdims?: boolean): T;
  reshape(x: T, shape: readonly number[]): T;
  transpose(x: T, perm: readonly number[]): T;
  tidy<R>(fn: () => R): R;
  keep?<K extends T>(t: K): K;
  dispose(value: unknown): void;
  setBackend(name: string): unknown;
  initBackend?(name: string): Promise<unknown>;
  getBackend(name?: string): FlintBackend;
  backendStatus(): { name: string; available: boolean; reason?: string }[];
  Primitive: Record<string, number | string>;
  matmul?(a: T, b: T): T;
  conv2d?(x: T, w: T, options: { padding?: number; stride?: number; bias?: T | null }): T;
  maxPool2d?(x: T, kernel: number, options?: { stride?: number }): T;
  rsqrt?(x: T): T;
  relu?(x: T): T;
  logSoftmax?(x: T, axis?: number): T;
  softmax?(x: T, axis?: number): T;
  /** The library's functional layers, as PyTorch's runner calls torch.nn.functional. */
  nn?: {
    functional?: {
      logSoftmax?(x: T, axis?: number): T;
      softmax?(x: T, axis?: number): T;
      layerNorm?(x: T, normalizedShape: readonly number[], options: { weight?: T; bias?: T; eps?: number }): T;
    };
  };
  logSumExp?(x: T, axis?: number | readonly number[], keepdims?: boolean): T;
  zeros?(shape: readonly number[], options?: { backend?: string }): T;
  ones?(shape: readonly number[], options?: { backend?: string }): T;
  /** The decompositions and the solve the `linalg` suite measures (torch.linalg's names). */
  linalg?: {
    eigh?(a: T): { eigenvalues: T; eigenvectors: T };
    svd?(a: T, options?: { fullMatrices?: boolean }): { U: T; S: T; Vh: T };
    qr?(a: T): { Q: T; R: T };
    cholesky?(a: T): T;
    solve?(a: T, b: T): T;
  };
  valueAndGrad?: Fn;
  grad?: Fn;
  jit?: Fn;
  blockUntilReady?: (value: unknown) => unknown;
  Parameter?: new (value: T, options?: { name?: string }) => FlintParameter;
  optim?: {
    Adam?: new (
      params: readonly FlintParameter[],
      options: { lr: number; betas?: readonly [number, number]; eps?: number },
    ) => FlintOptimizer;
  };
}

/** PyTorch-style parameter: a mutable cell with the gradient `backward()` accumulates. */
interface FlintParameter {
  readonly value: T;
  readonly grad: T | null;
  zeroGrad(): void;
  dispose(): void;
}

interface FlintOptimizer {
  zeroGrad(): void;
  step(): void;
  /** PyTorch's closure form: runs `closure` (which recomputes the loss and calls backward) and returns its result. */
  step<L>(closure: () => L): L;
}

/** The part of @flint/lightning the Trainer case uses. */
interface LightningApi {
  LightningModule: abstract new () => {
    registerParameter(name: string, parameter: FlintParameter): FlintParameter;
    parameters(): FlintParameter[];
  };
  Trainer: new (options: Record<string, unknown>) => { fit(module: unknown, data: unknown): Promise<void> };
}

interface FlintBackend {
  readonly name: string;
  readonly capabilities: { readonly syncRead: boolean };
  readonly kernels: unknown;
  fromTypedArray(data: Float32Array, shape: readonly number[], dtype: string): unknown;
  readSync?(handle: unknown): ArrayLike<number>;
  dispose(handle: unknown): void;
}

/**
 * Flint's backend packages: those bench/ depends on, and every `packages/backend-*` of the
 * workspace, so that a backend added to the repository is measured without editing this file.
 */
async function backendEntryPoints(): Promise<{ name: string; specifier: string }[]> {
  const { readdirSync, readFileSync, existsSync } = await import('node:fs');
  const { pathToFileURL, fileURLToPath } = await import('node:url');
  const path = await import('node:path');
  const entries = new Map<string, string>();
  for (const name of ['@flint/backend-cpu', '@flint/backend-mkl', '@flint/backend-cuda', '@flint/backend-webgpu']) entries.set(name, name);
  const packagesDir = fileURLToPath(new URL('../../packages/', import.meta.url));
  if (existsSync(packagesDir)) {
    for (const dir of readdirSync(packagesDir)) {
      const manifestPath = path.join(packagesDir, dir, 'package.json');
      if (!dir.startsWith('backend-') || !existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string; main?: string };
      if (manifest.name && manifest.main) entries.set(manifest.name, pathToFileURL(path.join(packagesDir, dir, manifest.main)).href);
    }
  }
  return [...entries].map(([name, specifier]) => ({ name, specifier }));
}

/** Backend packages that exist but failed to load, with the reason. */
const importFailures: { name: string; reason: string }[] = [];

async function loadFlint(): Promise<{ api: FlintApi; version: string | undefined }> {
  const module = (await import('@flint/api')) as unknown as FlintApi;
  for (const { name, specifier } of await backendEntryPoints()) {
    try {
      await import(specifier);
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      // A package that is not installed or not built is simply not measured; any other failure is reported.
      if (!/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(`${(error as { code?: string }).code ?? ''} ${message}`)) {
        importFailures.push({ name, reason: `importing ${name} failed: ${message.split('\n')[0]}` });
      }
    }
  }
  let version: string | undefined;
  try {
    const { readFileSync } = await import('node:fs');
    const manifest = new URL('../node_modules/@flint/api/package.json', import.meta.url);
    version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
  } catch {
    version = undefined;
  }
  return { api: module, version };
}

/**
 * What a GPU backend runs on, where it says (WebGPU's `describe()` and adapter info). A software
 * adapter (Dawn's SwiftShader on a machine without a GPU) is flagged: the harness skips it unless
 * asked, because it emulates a GPU on the CPU at a hundredth of the CPU backends' speed.
 */
async function describeAdapter(flint: FlintApi, name: string): Promise<{ adapter?: string; software?: boolean }> {
  try {
    const instance = (flint.initBackend ? await flint.initBackend(name) : flint.getBackend(name)) as unknown as {
      describe?(): string;
      adapter?: { info?: { isFallbackAdapter?: boolean } };
    };
    const adapter = instance.describe?.();
    if (adapter === undefined) return {};
    const software = instance.adapter?.info?.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software/i.test(adapter);
    return { adapter, software };
  } catch {
    return {};
  }
}

if (process.argv[2] === '--probe') {
  try {
    const { api, version } = await loadFlint();
    const backends: { name: string; available: boolean; reason?: string; adapter?: string; software?: boolean }[] = [];
    for (const status of api.backendStatus()) {
      let available = status.available;
      let reason = status.reason;
      if (!available && api.initBackend) {
        try {
          await api.initBackend(status.name);
          available = true;
          reason = undefined;
        } catch (error) {
          reason = (error as Error).message;
        }
      }
      backends.push({
        name: status.name,
        available,
        ...(reason === undefined ? {} : { reason }),
        ...(available ? await describeAdapter(api, status.name) : {}),
      });
    }
    for (const failure of importFailures) {
      if (!backends.some((b) => `@flint/backend-${b.name}` === failure.name))
        backends.push({ name: failure.name.replace('@flint/backend-', ''), available: false, reason: failure.reason });
    }
    process.stdout.write(`${INFO_MARKER}${JSON.stringify({ version, backends })}\n`);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    const hint = /Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(message) ? ' (build it first: npm run build)' : '';
    process.stdout.write(
      `${INFO_MARKER}${JSON.stringify({ backends: [], error: `cannot load @flint/api${hint}: ${message.split('\n')[0]}` })}\n`,
    );
  }
  process.exit(0);
}

const job = readJob();
const { api, version } = await loadFlint();
const backendName = job.backend ?? 'cpu';
if (api.initBackend) await api.initBackend(backendName);
api.setBackend(backendName);
const backend = api.getBackend(backendName);

const notes: string[] = [`backend ${backendName}`];
const fault = process.env.FLINT_BENCH_INJECT_FAULT;
if (fault) notes.push(`FAULT INJECTED into ${fault} (FLINT_BENCH_INJECT_FAULT)`);
reportInfo({ system: job.system, ...(version ? { version } : {}), notes });

/** Primitives whose kernel a fault for each suite corrupts. */
const FAULT_TARGETS: Record<string, string> = {
  matmul: 'DotGeneral',
  elementwise: 'Tanh',
  dispatch: 'Add',
  conv2d: 'Conv',
  mlp: 'DotGeneral',
  cnn: 'Conv',
  transformer: 'DotGeneral',
  trainer: 'DotGeneral',
};

/**
 * Replaces a kernel with one that adds 1e-3 x the largest magnitude to the last element of its
 * output: a bug a fast-but-wrong kernel could have (a missed tail), too small to see by eye.
 */
function injectFault(target: string): void {
  const primitiveName = FAULT_TARGETS[target] ?? target;
  const index = api.Primitive[primitiveName];
  if (typeof index !== 'number') throw new Error(`FLINT_BENCH_INJECT_FAULT: no suite or primitive named '${target}'`);
  const kernels = backend.kernels as ((inputs: unknown, params: unknown, out: { shape: readonly number[]; dtype: string }) => unknown)[];
  const original = kernels[index];
  if (!original || !backend.readSync)
    throw new Error(`FLINT_BENCH_INJECT_FAULT: backend '${backendName}' has no kernel ${primitiveName} to corrupt`);
  const readSync = backend.readSync.bind(backend);
  kernels[index] = (inputs, params, out) => {
    const handle = original(inputs, params, out);
    if (out.dtype !== 'float32') return handle;
    const data = Float32Array.from(readSync(handle));
    let scale = 0;
    for (const v of data) scale = Math.max(scale, Math.abs(v));
    data[data.length - 1] = (data[data.length - 1] as number) + 1e-3 * (scale || 1);
    backend.dispose(handle);
    return backend.fromTypedArray(data, out.shape, 'float32');
  };
}

if (fault) injectFault(fault);

const syncNote = api.blockUntilReady ? 'blockUntilReady' : backend.capabilities.syncRead ? 'synchronous kernels' : 'read of the result';

/** Waits until `value`'s tensors are computed (the cheapest way the backend offers). */
async function settle(value: T): Promise<void> {
  if (api.blockUntilReady) await api.blockUntilReady(value);
  else if (!backend.capabilities.syncRead) await (value as unknown as { data(): Promise<unknown> }).data();
}

function need<K extends keyof FlintApi>(name: K, what?: string): NonNullable<FlintApi[K]> {
  const f = api[name];
  if (typeof f !== 'function') throw new Absent(`Flint has no ${what ?? String(name)} yet`);
  return f as NonNullable<FlintApi[K]>;
}

const tensor = (data: Float32Array, shape: readonly number[]) => api.tensor(data, { shape, backend: backendName });
const zeros = (shape: readonly number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
const ones = (shape: readonly number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
const relu = (x: T) => (api.relu ? api.relu(x) : api.maximum(x, 0));
const rsqrt = (x: T) => (api.rsqrt ? api.rsqrt(x) : api.div(ones([1]), api.sqrt(x)));

// The library's own softmax, log-softmax and layer norm where it has them (the torch peer calls
// torch.nn.functional's), else the same math written in primitives.
function logSoftmax(x: T): T {
  const library = api.nn?.functional?.logSoftmax ?? api.logSoftmax;
  if (library) return library(x, -1);
  const shifted = api.sub(x, api.max(x, -1, true));
  return api.sub(shifted, api.log(api.sum(api.exp(shifted), -1, true)));
}

function softmax(x: T): T {
  const library = api.nn?.functional?.softmax ?? api.softmax;
  if (library) return library(x, -1);
  const e = api.exp(api.sub(x, api.max(x, -1, true)));
  return api.div(e, api.sum(e, -1, true));
}

function chain(x: T): T {
  let y = api.mul(x, 0.5);
  y = api.add(y, 0.25);
  y = api.tanh(y);
  y = api.mul(y, x);
  y = api.exp(y);
  y = api.sub(y, 0.25);
  y = api.abs(y);
  y = api.sqrt(y);
  y = api.add(y, x);
  return api.maximum(y, 0);
}

/** The values of `t`: synchronously where the backend can, else through `data()` (WebGPU). */
async function read(t: T): Promise<Float32Array> {
  if (backend.capabilities.syncRead) return Float32Array.from(t.dataSync());
  return Float32Array.from(await (t as unknown as { data(): Promise<ArrayLike<number>> }).data());
}

async function readAndDispose(t: T): Promise<Float32Array> {
  const out = await read(t);
  t.dispose();
  return out;
}

/** A case whose iteration returns one tensor: read for the check, settled after the last timed iteration. */
function tensorCase(run: () => T, dispose: () => void, note = syncNote): PreparedCase {
  return repeatedCase({ note, run, output: readAndDispose, release: (t) => t.dispose(), settle, dispose });
}

const fromInitial = (initial: Initial): T =>
  'data' in initial ? tensor(initial.data, initial.shape) : initial.fill === 1 ? ones(initial.shape) : zeros(initial.shape);

/** `valueAndGrad(f)(params)` as Flint returns it: [value, grads] (JAX) or { value, grad(s) }. */
function valueAndGradOf(loss: (p: Params) => T): (p: Params) => { value: T; grads: Params } {
  const make = need('valueAndGrad', 'valueAndGrad (autodiff)') as unknown as (f: (p: Params) => T) => (p: Params) => unknown;
  const transformed = make(loss);
  return (p) => {
    const out = transformed(p);
    if (Array.isArray(out)) return { value: out[0] as T, grads: out[1] as Params };
    const o = out as { value: T; grad?: Params; grads?: Params };
    return { value: o.value, grads: (o.grads ?? o.grad) as Params };
  };
}

interface TrainState {
  params: Params;
  m: Params;
  v: Params;
  step: number;
}

/** One Adam step (PyTorch's formula, bias-corrected), written in Flint's ops. */
function adam(state: TrainState, grads: Params, learningRate: number): TrainState {
  const t = state.step + 1;
  const c1 = 1 - 0.9 ** t;
  const c2 = 1 - 0.999 ** t;
  const params: Params = {};
  const m: Params = {};
  const v: Params = {};
  for (const [name, p] of Object.entries(state.params)) {
    const g = grads[name] as T;
    const mNew = api.add(api.mul(state.m[name] as T, 0.9), api.mul(g, 0.1));
    const vNew = api.add(api.mul(state.v[name] as T, 0.999), api.mul(api.mul(g, g), 0.001));
    const denominator = api.add(api.sqrt(api.div(vNew, c2)), 1e-8);
    params[name] = api.sub(p, api.div(api.mul(mNew, learningRate / c1), denominator));
    m[name] = mNew;
    v[name] = vNew;
  }
  return { params, m, v, step: t };
}

/**
 * An eager training step as a PyTorch user writes it, and as the torch peer runs it: Parameters,
 * `loss.backward()` and the library's `optim.Adam` (whose step each backend may fuse), in
 * `optimizer.step(closure)` form. Flint runs the closure as a `tidy` scope, releasing the forward
 * pass's activations when it returns, as PyTorch's reference counting does; a loop written
 * without a closure leaves them to the garbage collector (docs/backend-mkl.md, "Speed").
 */
function imperativeTrainingCase(spec: CaseSpec, initial: Params, loss: (p: Params) => T, inputs: T[]): PreparedCase | null {
  const Parameter = api.Parameter;
  const Adam = api.optim?.Adam;
  if (!Parameter || !Adam) return null;
  const params = Object.fromEntries(Object.entries(initial).map(([name, w]) => [name, new Parameter(w)]));
  const optimizer = new Adam(Object.values(params), { lr: param(spec, 'learningRate'), betas: [0.9, 0.999] as const, eps: 1e-8 });
  const values = (): Params => Object.fromEntries(Object.entries(params).map(([name, p]) => [name, p.value]));
  const backward = (t: T) => (t as unknown as { backward(): void }).backward();
  const step = (): T =>
    optimizer.step(() => {
      optimizer.zeroGrad();
      const value = loss(values());
      backward(value);
      return value;
    });
  const timed = tensorCase(
    step,
    () => {
      for (const p of Object.values(params)) p.dispose();
      api.dispose(inputs);
    },
    `${syncNote}; Parameters, backward(), optim.Adam, step(closure)`,
  );
  return {
    ...timed,
    async check() {
      const gradients: ArrayLike<number>[] = [];
      // In a scope, as the timed step runs its closure: the peak memory figure covers this first
      // pass, whose activations would otherwise wait for the garbage collector.
      api.tidy(() => backward(loss(values())));
      for (const p of Object.values(params)) {
        gradients.push(await read(p.grad as T));
        p.zeroGrad();
      }
      return trainingCheck(spec, gradients, timed.check);
    },
  };
}

function trainingCase(spec: CaseSpec, params: Params, loss: (p: Params) => T, inputs: T[], compile: boolean): PreparedCase {
  if (!compile) {
    const imperative = imperativeTrainingCase(spec, params, loss, inputs);
    if (imperative) return imperative;
  }
  const valueAndGrad = valueAndGradOf(loss);
  const learningRate = param(spec, 'learningRate');
  let update = (state: TrainState): { state: TrainState; loss: T } => {
    const { value, grads } = valueAndGrad(state.params);
    return { state: adam(state, grads, learningRate), loss: value };
  };
  if (compile) {
    const jit = need('jit', 'jit') as unknown as (
      f: (p: Params, m: Params, v: Params, c: T) => unknown,
      options: { readonly donateArgnums: readonly number[] },
    ) => (p: Params, m: Params, v: Params, c: T) => unknown;
    // The step count enters as a tensor so that one compiled step serves every iteration.
    const compiled = jit(
      (p, m, v, count) => {
        const { value, grads } = valueAndGrad(p);
        const t = count;
        const c1 = api.sub(ones([1]), api.exp(api.mul(t, Math.log(0.9))));
        const c2 = api.sub(ones([1]), api.exp(api.mul(t, Math.log(0.999))));
        const out: { p: Params; m: Params; v: Params; loss: T } = { p: {}, m: {}, v: {}, loss: value };
        for (const [name, w] of Object.entries(p)) {
          const g = grads[name] as T;
          const mNew = api.add(api.mul(m[name] as T, 0.9), api.mul(g, 0.1));
          const vNew = api.add(api.mul(v[name] as T, 0.999), api.mul(api.mul(g, g), 0.001));
          const step = api.div(api.mul(api.div(mNew, c1), learningRate), api.add(api.sqrt(api.div(vNew, c2)), 1e-8));
          out.p[name] = api.sub(w, step);
          out.m[name] = mNew;
          out.v[name] = vNew;
        }
        return out;
        // The old parameters and moments are dropped after each step: donated, the step updates them in place.
      },
      { donateArgnums: [0, 1, 2] },
    );
    update = (state) => {
      const count = tensor(new Float32Array([state.step + 1]), [1]);
      const out = compiled(state.params, state.m, state.v, count) as { p: Params; m: Params; v: Params; loss: T };
      count.dispose();
      return { state: { params: out.p, m: out.m, v: out.v, step: state.step + 1 }, loss: out.loss };
    };
  }
  const zerosLike = (p: Params) => Object.fromEntries(Object.entries(p).map(([k, w]) => [k, zeros(w.shape)]));
  let state: TrainState = { params, m: zerosLike(params), v: zerosLike(params), step: 0 };
  const step = (): T => {
    const previous = state;
    const next = api.tidy(() => update(previous));
    api.dispose([previous.params, previous.m, previous.v]);
    state = next.state;
    return next.loss;
  };
  const timed = tensorCase(step, () => api.dispose([state.params, state.m, state.v, inputs]));
  return {
    ...timed,
    async check() {
      const gradients: ArrayLike<number>[] = [];
      const initial = api.tidy(() => valueAndGrad(state.params));
      for (const name of Object.keys(state.params)) gradients.push(await read(initial.grads[name] as T));
      api.dispose([initial.value, initial.grads]);
      return trainingCheck(spec, gradients, timed.check);
    },
  };
}

function crossEntropy(logits: T, targets: T, batch: number): T {
  return api.div(api.neg(api.sum(api.mul(targets, logSoftmax(logits)))), batch);
}

function layerNorm(x: T, gain: T, bias: T): T {
  const library = api.nn?.functional?.layerNorm;
  if (library) return library(x, [x.shape[x.shape.length - 1] as number], { weight: gain, bias, eps: 1e-5 });
  const centered = api.sub(x, api.mean(x, -1, true));
  const variance = api.mean(api.mul(centered, centered), -1, true);
  return api.add(api.mul(api.mul(centered, rsqrt(api.add(variance, 1e-5))), gain), bias);
}

/** A float64 decomposition (the `linalg` suite): the output compared is the part fixed by convention (see suites.ts). */
function linalgCase(spec: CaseSpec, kind: LinalgKind): PreparedCase {
  const linalg = api.linalg;
  const batch = param(spec, 'batch');
  const n = param(spec, 'n');
  const shape = batch === 1 ? [n, n] : [batch, n, n];
  const a = api.tensor(linalgInput(kind, param(spec, 'seed'), batch, n), { shape, backend: backendName, dtype: 'float64' });
  const missing = (name: string): never => {
    throw new Absent(`Flint has no linalg.${name} yet`);
  };
  const compared = (): (() => T) => {
    switch (kind) {
      case 'linalg-eigh': {
        const eigh = linalg?.eigh ?? missing('eigh');
        return () => {
          const { eigenvalues, eigenvectors } = eigh(a);
          eigenvectors.dispose();
          return eigenvalues;
        };
      }
      case 'linalg-svd': {
        const svd = linalg?.svd ?? missing('svd');
        return () => {
          const { U, S, Vh } = svd(a, { fullMatrices: false });
          api.dispose([U, Vh]);
          return S;
        };
      }
      case 'linalg-qr': {
        const qr = linalg?.qr ?? missing('qr');
        return () => {
          const { Q, R } = qr(a);
          Q.dispose();
          return R;
        };
      }
      case 'linalg-cholesky': {
        const cholesky = linalg?.cholesky ?? missing('cholesky');
        return () => cholesky(a);
      }
      case 'linalg-solve': {
        const solve = linalg?.solve ?? missing('solve');
        const b = api.tensor(linalgRightHandSide(param(spec, 'seed'), batch, n), { shape, backend: backendName, dtype: 'float64' });
        rightHandSide = b;
        return () => solve(a, b);
      }
    }
  };
  let rightHandSide: T | null = null;
  const run = compared();
  return tensorCase(run, () => api.dispose([a, rightHandSide]));
}

async function implement(spec: CaseSpec): Promise<PreparedCase> {
  const seed = spec.params.seed ?? 0;
  switch (spec.kind) {
    case 'matmul': {
      const matmul = need('matmul');
      const n = param(spec, 'n');
      const a = tensor(symmetricArray(seed + 1, n * n), [n, n]);
      const b = tensor(symmetricArray(seed + 2, n * n), [n, n]);
      return tensorCase(
        () => matmul(a, b),
        () => api.dispose([a, b]),
      );
    }
    case 'elementwise-eager':
    case 'elementwise-jit': {
      const size = param(spec, 'size');
      const x = tensor(symmetricArray(seed + 1, size), [size]);
      const run =
        spec.kind === 'elementwise-jit'
          ? (need('jit') as unknown as (f: (x: T) => T) => (x: T) => T)(chain)
          : (input: T) => api.tidy(() => chain(input));
      return tensorCase(
        () => run(x),
        () => x.dispose(),
      );
    }
    case 'dispatch-add': {
      const a = tensor(symmetricArray(seed + 1, 1), [1]);
      const b = tensor(symmetricArray(seed + 2, 1), [1]);
      return {
        note: syncNote,
        async check() {
          const c = api.add(a, b);
          const out = await read(c);
          c.dispose();
          return out;
        },
        async batch(count) {
          let c = a;
          for (let i = 0; i < count; i++) {
            const next = api.add(c, b);
            if (c !== a) c.dispose();
            c = next;
          }
          await settle(c);
          if (c !== a) c.dispose();
        },
        dispose: () => api.dispose([a, b]),
      };
    }
    case 'conv2d-forward':
    case 'conv2d-backward': {
      const conv2d = need('conv2d');
      const { n, c, o, s, stride, so, ...inputs } = conv2dInputs(spec);
      const x = tensor(inputs.x, [n, c, s, s]);
      const w = tensor(inputs.w, [o, c, 3, 3]);
      if (spec.kind === 'conv2d-forward') {
        return tensorCase(
          () => conv2d(x, w, { padding: 1, stride }),
          () => api.dispose([x, w]),
        );
      }
      const r = tensor(inputs.cotangent(), [n, o, so, so]);
      const valueAndGrad = valueAndGradOf((p) => api.sum(api.mul(conv2d(p.x as T, p.w as T, { padding: 1, stride }), r)));
      return repeatedCase({
        note: syncNote,
        run: () => api.tidy(() => valueAndGrad({ x, w }).grads),
        async output(g) {
          const dx = await read(g.x as T);
          const dw = await read(g.w as T);
          api.dispose(g);
          return concatValues([dx, dw]);
        },
        settle: (g) => settle(g.w as T),
        release: (g) => api.dispose(g),
        dispose: () => api.dispose([x, w, r]),
      });
    }
    case 'mlp-step':
    case 'mlp-step-jit': {
      const matmul = need('matmul');
      const model = mlpModel(spec);
      const batch = model.batch;
      const x = tensor(model.x.data, model.x.shape);
      const y = tensor(model.y.data, model.y.shape);
      const params: Params = materialize(model.params, fromInitial);
      const loss = (p: Params) => {
        const h1 = relu(api.add(matmul(x, p.w1 as T), p.b1 as T));
        const h2 = relu(api.add(matmul(h1, p.w2 as T), p.b2 as T));
        return crossEntropy(api.add(matmul(h2, p.w3 as T), p.b3 as T), y, batch);
      };
      return trainingCase(spec, params, loss, [x, y], spec.kind === 'mlp-step-jit');
    }
    case 'cnn-step': {
      const matmul = need('matmul');
      const conv2d = need('conv2d');
      const maxPool2d = need('maxPool2d');
      const { batch, flat, ...model } = cnnModel(spec);
      const x = tensor(model.x.data, model.x.shape);
      const y = tensor(model.y.data, model.y.shape);
      const params: Params = materialize(model.params, fromInitial);
      const loss = (p: Params) => {
        const a1 = maxPool2d(relu(conv2d(x, p.k1 as T, { padding: 1, bias: p.kb1 as T })), 2);
        const a2 = maxPool2d(relu(conv2d(a1, p.k2 as T, { padding: 1, bias: p.kb2 as T })), 2);
        const h = relu(api.add(matmul(api.reshape(a2, [batch, flat]), p.w3 as T), p.b3 as T));
        return crossEntropy(api.add(matmul(h, p.w4 as T), p.b4 as T), y, batch);
      };
      return trainingCase(spec, params, loss, [x, y], false);
    }
    case 'transformer-step': {
      const matmul = need('matmul');
      const { batch, tokens, d, heads, dh, rows, ...model } = transformerModel(spec);
      const x = tensor(model.x.data, model.x.shape);
      const target = tensor(model.target.data, model.target.shape);
      const params: Params = materialize(model.params, fromInitial);
      const splitHeads = (t: T) => api.transpose(api.reshape(t, [batch, tokens, heads, dh]), [0, 2, 1, 3]);
      const loss = (p: Params) => {
        const h = layerNorm(x, p.g1 as T, p.n1 as T);
        const q = splitHeads(api.add(matmul(h, p.wq as T), p.bq as T));
        const k = splitHeads(api.add(matmul(h, p.wk as T), p.bk as T));
        const v = splitHeads(api.add(matmul(h, p.wv as T), p.bv as T));
        const scores = api.mul(matmul(q, api.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(dh));
        const context = api.reshape(api.transpose(matmul(softmax(scores), v), [0, 2, 1, 3]), [rows, d]);
        const x1 = api.add(x, api.add(matmul(context, p.wo as T), p.bo as T));
        const f = api.add(matmul(relu(api.add(matmul(layerNorm(x1, p.g2 as T, p.n2 as T), p.w1 as T), p.b1 as T)), p.w2 as T), p.b2 as T);
        const diff = api.sub(api.add(x1, f), target);
        return api.mean(api.mul(diff, diff));
      };
      return trainingCase(spec, params, loss, [x, target], false);
    }
    case 'trainer-hand-loop':
    case 'trainer-fit':
      return trainerCase(spec);
    case 'linalg-eigh':
    case 'linalg-svd':
    case 'linalg-qr':
    case 'linalg-cholesky':
    case 'linalg-solve':
      return linalgCase(spec, spec.kind);
  }
}

/**
 * The Trainer's overhead: one epoch of `batches` MLP steps, written as a PyTorch user writes the
 * loop (Parameters, loss.backward(), optim.Adam) and through `Trainer.fit` with the same module,
 * loss and optimizer, logging, checkpoints and progress bar off. An iteration is one epoch.
 */
async function trainerCase(spec: CaseSpec): Promise<PreparedCase> {
  const Parameter = api.Parameter;
  const maybeAdam = api.optim?.Adam;
  if (!Parameter || !maybeAdam) throw new Absent('Flint has no Parameter / optim.Adam yet');
  const Adam = maybeAdam;
  const matmul = need('matmul');
  let lightning: LightningApi | undefined;
  if (spec.kind === 'trainer-fit') {
    try {
      lightning = (await import('@flint/lightning')) as unknown as LightningApi;
    } catch (error) {
      throw new Absent(`Flint has no Trainer (@flint/lightning) yet: ${(error as Error).message.split('\n')[0]}`);
    }
    if (typeof lightning.Trainer !== 'function' || typeof lightning.LightningModule !== 'function')
      throw new Absent('Flint has no Trainer yet');
  }
  const model = mlpModel(spec);
  const batch = model.batch;
  const batches = param(spec, 'batches');
  const learningRate = param(spec, 'learningRate');
  const x = tensor(model.x.data, model.x.shape);
  const y = tensor(model.y.data, model.y.shape);
  const params: Record<string, FlintParameter> = materialize(model.params, (initial) => new Parameter(fromInitial(initial)));
  const value = (name: string) => (params[name] as FlintParameter).value;
  const loss = (xb: T, yb: T) => {
    const h1 = relu(api.add(matmul(xb, value('w1')), value('b1')));
    const h2 = relu(api.add(matmul(h1, value('w2')), value('b2')));
    return crossEntropy(api.add(matmul(h2, value('w3')), value('b3')), yb, batch);
  };
  const data = Array.from({ length: batches }, () => [x, y] as [T, T]);
  const adamOptions = { lr: learningRate, betas: [0.9, 0.999] as const, eps: 1e-8 };
  const backward = (t: T) => (t as unknown as { backward(): void }).backward();

  /** Gradients at the initial parameters, in the canonical order, then the parameters' gradients cleared. */
  const initialGradients = async (): Promise<ArrayLike<number>[]> => {
    const out: ArrayLike<number>[] = [];
    const l = loss(x, y);
    backward(l);
    l.dispose();
    for (const p of Object.values(params)) {
      out.push(await read(p.grad as T));
      p.zeroGrad();
    }
    return out;
  };

  if (spec.kind === 'trainer-hand-loop') {
    const optimizer = new Adam(Object.values(params), adamOptions);
    // In step(closure) form, as the eager training cases: its tidy scope matches the Trainer's per-step scope.
    const step = (xb: T, yb: T): T =>
      optimizer.step(() => {
        optimizer.zeroGrad();
        const l = loss(xb, yb);
        backward(l);
        return l;
      });
    return {
      note: syncNote,
      check: async () => trainingCheck(spec, await initialGradients(), () => readAndDispose(step(x, y))),
      async batch(count) {
        for (let epoch = 0; epoch < count; epoch++) {
          for (const [xb, yb] of data) {
            const l = step(xb, yb);
            if (epoch === count - 1) await settle(l);
            l.dispose();
          }
        }
      },
      dispose: () => api.dispose([x, y, Object.values(params).map((p) => p.value)]),
    };
  }

  const { LightningModule, Trainer } = lightning as LightningApi;
  // Losses of the check steps, kept past the Trainer's step scope and read after the fit.
  const recorded: T[] = [];
  let recording = false;
  class MlpModule extends LightningModule {
    constructor() {
      super();
      for (const [name, p] of Object.entries(params)) this.registerParameter(name, p);
    }
    forward(xb: T): T {
      return xb;
    }
    trainingStep([xb, yb]: [T, T]): T {
      const l = loss(xb, yb);
      if (recording) recorded.push(api.keep ? api.keep(api.add(l, 0)) : api.add(l, 0));
      return l;
    }
    /**
     * One Adam for every fit, as the hand-written loop keeps one across its samples: a sample is
     * one short fit, and a fresh optimizer per fit would add Adam's state set-up (5 MB of
     * zeros, page faults included) to each epoch, a cost of starting fit, not of the Trainer's loop.
     */
    private optimizer: FlintOptimizer | undefined;
    configureOptimizers(): FlintOptimizer {
      this.optimizer ??= new Adam(this.parameters(), adamOptions);
      return this.optimizer;
    }
  }
  const module = new MlpModule();
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const rootDir = mkdtempSync(`${tmpdir()}/flint-bench-trainer-`);
  const quietOptions = {
    enableProgressBar: false,
    enableCheckpointing: false,
    logger: false,
    numSanityValSteps: 0,
    defaultRootDir: rootDir,
  };
  return {
    note: `${syncNote}; Trainer with logger, checkpoints and progress bar off`,
    async check() {
      const parts = await initialGradients();
      recording = true;
      await new Trainer({ ...quietOptions, maxSteps: spec.checkSteps ?? 1 }).fit(module, data);
      recording = false;
      for (const l of recorded.splice(0)) {
        parts.push(await read(l));
        l.dispose();
      }
      return concatValues(parts);
    },
    async batch(count) {
      await new Trainer({ ...quietOptions, maxEpochs: count }).fit(module, data);
    },
    dispose: () => {
      api.dispose([x, y, Object.values(params).map((p) => p.value)]);
      // The Trainer's root folder (empty: logging and checkpoints are off).
      rmSync(rootDir, { recursive: true, force: true });
    },
  };
}

await runCases(job, implement);
