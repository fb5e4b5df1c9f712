// The jit hook on a WebGPU adapter (SwiftShader in CI): fused WGSL kernels must compute what the
// op-by-op kernels compute, in one dispatch per fused kernel. Without an adapter every test here
// is skipped with the reason.
import {
  abs,
  add,
  conv2d,
  DTypeError,
  equal,
  exp,
  greater,
  initBackend,
  jit,
  log,
  logSumExp,
  matmul,
  max,
  maximum,
  mean,
  mul,
  optim,
  Primitive,
  setBackend,
  sigmoid,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  valueAndGrad,
  where,
} from '@flint/api';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../backend.js';
import type { WebGpuHandle } from '../handle.js';
import '../index.js';

const started = await initBackend('webgpu').then(
  (backend) => ({ backend: backend as unknown as WebGpuBackend, reason: '' }),
  (error: Error) => ({ backend: null, reason: error.message }),
);
if (started.backend === null) console.log(`webgpu jit tests skipped: ${started.reason}`);
else setBackend('webgpu');
const suite = started.backend === null ? describe.skip : describe;
const gpu = (): WebGpuBackend => started.backend as WebGpuBackend;

/** Deterministic values in [-scale, scale). */
const values = (size: number, seed: number, scale = 2): Float32Array =>
  Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale);
const on = (data: Float32Array | number[], shape: number[]): Tensor => tensor(data, { shape, backend: 'webgpu' });

async function expectClose(actual: Tensor, expected: Tensor, tolerance = 1e-5): Promise<void> {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  const a = await actual.data();
  const b = await expected.data();
  for (let i = 0; i < b.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(y)) expect(x).toBeNaN();
    else expect(Math.abs(x - y)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(y)));
  }
}

suite('jit on webgpu: fused WGSL kernels', () => {
  it('fuses an elementwise chain of sigmoid, tanh, exp, log, where and comparisons', async () => {
    const f = (x: Tensor, y: Tensor): Tensor => {
      const s = add(sigmoid(mul(x, 2)), tanh(y));
      const e = mul(exp(mul(x, -0.5)), log(add(abs(y), 1)));
      return where(greater(x, y), s, sub(e, equal(x, y).astype('float32')));
    };
    const x = on(values(300, 1), [20, 15]);
    const y = on(values(300, 2), [20, 15]);
    const compiled = jit(f);
    const lowered = compiled.lower(x, y);
    expect(lowered.compiledKernels).toBe(1);
    expect(lowered.fallbackKernels).toBe(0);
    await expectClose(compiled(x, y), f(x, y));
  });

  it('reads broadcast, transposed and sliced inputs in place and returns several outputs', async () => {
    const f = (a: Tensor, b: Tensor, c: Tensor): Tensor[] => {
      const t = add(mul(a.transpose(), b), c);
      return [tanh(t), mul(t, t)];
    };
    const a = on(values(6 * 4, 3), [6, 4]); // read transposed as [4, 6]
    const b = on(values(6, 4), [6]); // broadcast along rows
    const c = on(values(4, 5), [4, 1]); // broadcast along columns
    const compiled = jit(f);
    const lowered = compiled.lower(a, b, c);
    expect(lowered.compiledKernels).toBe(1);
    const [t1, t2] = compiled(a, b, c) as [Tensor, Tensor];
    const [e1, e2] = f(a, b, c) as [Tensor, Tensor];
    await expectClose(t1, e1);
    await expectClose(t2, e2);
  });

  it('folds elementwise producers into reductions (short rows, long rows, and a full reduction in two passes)', async () => {
    const rows = (x: Tensor, y: Tensor): Tensor => sum(mul(sub(x, y), sub(x, y)), 1);
    const columns = (x: Tensor, y: Tensor): Tensor => max(exp(mul(x, y)), 0);
    const x = on(values(8 * 300, 6), [8, 300]);
    const y = on(values(8 * 300, 7), [8, 300]);
    for (const f of [rows, columns]) {
      const compiled = jit(f);
      expect(compiled.lower(x, y).fallbackKernels).toBe(0);
      await expectClose(compiled(x, y), f(x, y), 1e-4);
    }
    const short = on(values(5 * 7, 8), [5, 7]);
    const meanOfSquares = (v: Tensor): Tensor => mean(mul(v, v), 1);
    await expectClose(jit(meanOfSquares)(short), meanOfSquares(short));
    const long = on(values(20000, 9), [20000]);
    const total = (v: Tensor): Tensor => sum(tanh(v));
    await expectClose(jit(total)(long), total(long), 1e-4);
  });

  it('runs column reductions (a bias gradient) as the prologue shader and the column reduction', async () => {
    // [2000, 64] over its rows (four spans), [40, 3, 48] over two: prologue, column pass, the spans' fold.
    const x = on(values(2000 * 64, 17), [2000, 64]);
    const y = on(values(2000 * 64, 18), [2000, 64]);
    const cube = on(values(40 * 3 * 48, 19), [40, 3, 48]);
    const bias = jit((x: Tensor, y: Tensor) => sum(mul(x, y), 0));
    bias(x, y).dispose();
    const before = gpu().dispatches;
    const got = bias(x, y);
    expect(gpu().dispatches - before).toBe(3);
    await expectClose(got, sum(mul(x, y), 0), 1e-4);
    await expectClose(jit((c: Tensor) => max(tanh(c), [0, 1]))(cube), max(tanh(cube), [0, 1]));
    // The prologue's value is an output too, beside its column sums.
    const both = jit((t: Tensor) => {
      const e = exp(t);
      return [e, sum(e, 0)];
    })(x) as Tensor[];
    await expectClose(both[0] as Tensor, exp(x));
    await expectClose(both[1] as Tensor, sum(exp(x), 0), 1e-4);
  });

  it('fuses bias, activation and residual into the tiled matmul', async () => {
    const f = (x: Tensor, w: Tensor, b: Tensor, r: Tensor): Tensor => add(maximum(add(matmul(x, w), b), 0), r);
    const x = on(values(37 * 40, 10), [37, 40]);
    const w = on(values(40 * 33, 11), [40, 33]);
    const b = on(values(33, 12), [33]);
    const r = on(values(37 * 33, 13), [37, 33]);
    const compiled = jit(f);
    const lowered = compiled.lower(x, w, b, r);
    expect(lowered.compiledKernels).toBe(1);
    expect(lowered.fallbackKernels).toBe(0);
    await expectClose(compiled(x, w, b, r), f(x, w, b, r), 1e-4);
  });

  it('fuses bias and activation into a grouped, strided conv', async () => {
    const f = (x: Tensor, w: Tensor, b: Tensor): Tensor => tanh(conv2d(x, w, { bias: b, stride: 2, padding: 1, groups: 2 }));
    const x = on(values(2 * 4 * 9 * 9, 30), [2, 4, 9, 9]);
    const w = on(values(6 * 2 * 3 * 3, 31, 0.5), [6, 2, 3, 3]);
    const b = on(values(6, 32), [6]);
    const compiled = jit(f);
    const lowered = compiled.lower(x, w, b);
    expect(lowered.compiledKernels).toBeGreaterThanOrEqual(1);
    expect(lowered.fallbackKernels).toBe(0);
    const before = gpu().dispatches;
    const y = compiled(x, w, b);
    expect(gpu().dispatches - before).toBe(lowered.compiledKernels);
    await expectClose(y, f(x, w, b), 1e-4);
  });

  it('splits a group that needs more buffers than a shader binds into a few kernels', async () => {
    // Eight inputs and eight outputs of one shape: 16 buffers, over SwiftShader's 11.
    const f = (...xs: Tensor[]): Tensor[] => {
      const total = xs.reduce((a, b) => add(a, b));
      return xs.map((x) => tanh(mul(x, total)));
    };
    const xs = Array.from({ length: 8 }, (_, i) => on(values(12, 50 + i), [3, 4]));
    const jitted = jit(f);
    const lowered = jitted.lower(...xs);
    expect(lowered.fallbackKernels).toBe(0);
    const limit = gpu().device.limits.maxStorageBuffersPerShaderStage - 1;
    jitted(...xs).forEach((t) => {
      t.dispose();
    });
    const before = gpu().dispatches;
    const results = jitted(...xs);
    const dispatches = gpu().dispatches - before;
    expect(lowered.compiledKernels).toBe(1);
    expect(dispatches).toBeGreaterThanOrEqual(2);
    expect(dispatches).toBeLessThanOrEqual(Math.ceil(8 / (limit - 8)));
    const expected = f(...xs);
    for (let k = 0; k < 8; k++) await expectClose(results[k] as Tensor, expected[k] as Tensor);
  });

  it('runs one dispatch per fused kernel', async () => {
    const chain = jit((x: Tensor) => add(sigmoid(mul(x, 3)), tanh(x)));
    const dense = jit((x: Tensor, w: Tensor, b: Tensor) => maximum(add(matmul(x, w), b), 0));
    const x = on(values(64, 14), [8, 8]);
    const w = on(values(64, 15), [8, 8]);
    const b = on(values(8, 16), [8]);
    // The first calls compile (and may upload constants); the second ones only run.
    chain(x).dispose();
    dense(x, w, b).dispose();
    let before = gpu().dispatches;
    const y = chain(x);
    expect(gpu().dispatches - before).toBe(1);
    before = gpu().dispatches;
    const z = dense(x, w, b);
    expect(gpu().dispatches - before).toBe(1);
    await expectClose(y, add(sigmoid(mul(x, 3)), tanh(x)));
    await expectClose(z, maximum(add(matmul(x, w), b), 0), 1e-5);
  });

  it('matches eager exactly on int32, uint8 and bool chains, non-finite literals and empty or scalar shapes', async () => {
    const ints = tensor(Int32Array.from([2147483647, -5, 7, 0, -2147483648, 9]), { shape: [2, 3], dtype: 'int32', backend: 'webgpu' });
    const bytes = tensor(Uint8Array.from([250, 3, 128, 0, 255, 17]), { shape: [2, 3], dtype: 'uint8', backend: 'webgpu' });
    const floats = on([1, Number.NaN, -0, 3, Number.POSITIVE_INFINITY, -2], [2, 3]);
    const f = (i: Tensor, u: Tensor, x: Tensor): Tensor[] => {
      const wrapped = add(mul(i, 3), 7); // int32 wrap-around
      const byteSum = add(mul(u, u), 9); // uint8 wrap-around
      const flags = greater(x, 0).logicalAnd(equal(i, -5).logicalNot());
      return [wrapped, byteSum, where(flags, maximum(x, Number.NEGATIVE_INFINITY), mul(x, Number.NaN)), sum(wrapped, 1), sum(byteSum, 0)];
    };
    const jitted = jit(f);
    expect(jitted.lower(ints, bytes, floats).fallbackKernels).toBe(0);
    const actual = jitted(ints, bytes, floats);
    const expected = f(ints, bytes, floats);
    for (let k = 0; k < expected.length; k++) {
      expect((actual[k] as Tensor).dtype).toBe((expected[k] as Tensor).dtype);
      expect(Array.from(await (actual[k] as Tensor).data())).toEqual(Array.from(await (expected[k] as Tensor).data()));
    }
    const empty = on([], [0, 3]);
    const scalar = on([2.5], []);
    const g = (e: Tensor, s: Tensor): Tensor[] => [tanh(mul(e, 2)), sum(exp(e), 0), mul(sigmoid(s), s)];
    const [e1, e2, e3] = jit(g)(empty, scalar) as [Tensor, Tensor, Tensor];
    expect(e1.shape).toEqual([0, 3]);
    expect(Array.from(await e2.data())).toEqual([0, 0, 0]);
    await expectClose(e3, mul(sigmoid(scalar), scalar));
  });

  it('writes outputs into donated inputs in place', async () => {
    // p is read first, so the memory plan offers its buffer to the output (it offers one input per
    // output, before knowing which are donated).
    const update = (p: Tensor, g: Tensor): Tensor => sub(mul(p, 0.99), mul(g, 0.1));
    const step = jit(update, { donateArgnums: [0] });
    const g = on(values(40, 40), [40]);
    const start = values(40, 41);
    let p = step(on(start, [40]), g); // compiles
    const buffer = (p._handle as WebGpuHandle).storage.buffer;
    const buffersBefore = gpu().memory().buffers;
    p = step(p, g);
    expect((p._handle as WebGpuHandle).storage.buffer).toBe(buffer);
    expect(gpu().memory().buffers).toBe(buffersBefore);
    await expectClose(p, update(update(on(start, [40]), g), g));
  });

  it('reuses a compiled kernel met again (same IR signature)', async () => {
    const f = (x: Tensor): Tensor => mul(tanh(x), 0.25);
    const x = on(values(16, 17), [16]);
    const first = jit(f);
    await first(x).data();
    const { hits, compiled } = gpu().fusedKernels;
    const second = jit(f); // a new jit cache: the program compiles again, the kernel comes from the backend's cache
    await expectClose(second(x), f(x));
    expect(gpu().fusedKernels.hits).toBe(hits + 1);
    expect(gpu().fusedKernels.compiled).toBe(compiled);
  });

  it('trains a small MLP with a jitted step that matches eager', async () => {
    type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
    const initial = (): Params => ({
      w1: on(values(6 * 10, 20, 0.4), [6, 10]),
      b1: on(values(10, 21, 0.1), [10]),
      w2: on(values(10 * 4, 22, 0.4), [10, 4]),
      b2: on(values(4, 23, 0.1), [4]),
    });
    const loss = (p: Params, x: Tensor, oneHot: Tensor): Tensor => {
      const h = maximum(add(matmul(x, p.w1), p.b1), 0);
      const logits = add(matmul(h, p.w2), p.b2);
      return mean(sub(logSumExp(logits, 1), sum(mul(logits, oneHot), 1)));
    };
    const sgd = optim.sgd({ lr: 0.1, momentum: 0.9 });
    const step = (p: Params, state: optim.OptimizerState, x: Tensor, oneHot: Tensor): [Tensor, Params, optim.OptimizerState] => {
      const [value, grads] = valueAndGrad(loss)(p, x, oneHot);
      const [updates, next] = sgd.update(grads, state, p);
      return [value, optim.applyUpdates(p, updates), next];
    };
    const x = on(values(8 * 6, 24), [8, 6]);
    const hot = new Float32Array(8 * 4);
    for (let i = 0; i < 8; i++) hot[i * 4 + (i % 4)] = 1;
    const oneHot = on(hot, [8, 4]);
    let eagerParams = initial();
    let eagerState = sgd.init(eagerParams);
    let jitParams = initial();
    let jitState = sgd.init(jitParams);
    const jitted = jit(step);
    const lowered = jitted.lower(jitParams, jitState, x, oneHot);
    expect(lowered.compiledKernels).toBeGreaterThan(3);
    expect(lowered.fallbackKernels).toBe(0);
    const losses: number[][] = [];
    for (let i = 0; i < 4; i++) {
      const [eagerLoss, p1, s1] = step(eagerParams, eagerState, x, oneHot);
      const [jitLoss, p2, s2] = jitted(jitParams, jitState, x, oneHot);
      losses.push([(await eagerLoss.data())[0] as number, (await jitLoss.data())[0] as number]);
      [eagerParams, eagerState, jitParams, jitState] = [p1, s1, p2, s2];
    }
    for (const [eagerLoss, jitLoss] of losses) expect(Math.abs((eagerLoss as number) - (jitLoss as number))).toBeLessThan(1e-4);
    expect((losses[3] as number[])[0]).toBeLessThan((losses[0] as number[])[0] as number);
    for (const key of ['w1', 'b1', 'w2', 'b2'] as const) await expectClose(jitParams[key], eagerParams[key], 1e-4);
  });
});

suite('webgpu dtypes', () => {
  it('refuses bfloat16 and float64 with a DTypeError that names the dtype', () => {
    expect(() => tensor([1, 2], { dtype: 'bfloat16', backend: 'webgpu' })).toThrow(DTypeError);
    expect(() => tensor([1, 2], { dtype: 'bfloat16', backend: 'webgpu' })).toThrow(/bfloat16.*webgpu|webgpu.*bfloat16/);
    expect(() => tensor([1, 2], { dtype: 'float64', backend: 'webgpu' })).toThrow(/float64.*webgpu|webgpu.*float64/);
    const x = on([1, 2], [2]);
    expect(() => x.astype('bfloat16')).toThrow(DTypeError);
    expect(() => x.astype('bfloat16')).toThrow(/bfloat16/);
    // The backend's own check, behind the api's: it names the primitive and the reason.
    const full = () => gpu().kernels[Primitive.Full]([], { shape: [2], dtype: 'bfloat16', value: 1 }, { shape: [2], dtype: 'bfloat16' });
    expect(full).toThrow(DTypeError);
    expect(full).toThrow(/full: bfloat16 is not offered by the 'webgpu' backend \(WGSL has no bfloat16 type/);
    expect(() => gpu().fromTypedArray(new Uint16Array(2), [2], 'bfloat16')).toThrow(/tensor: bfloat16/);
  });

  it('offers float16 exactly when the adapter has shader-f16', () => {
    const hasF16 = gpu().adapter.features.has('shader-f16');
    expect(gpu().capabilities.dtypes.includes('float16')).toBe(hasF16);
    if (!hasF16) {
      expect(() => tensor([1, 2], { dtype: 'float16', backend: 'webgpu' })).toThrow(DTypeError);
      expect(() => on([1, 2], [2]).astype('float16')).toThrow(/float16/);
    }
  });
});
