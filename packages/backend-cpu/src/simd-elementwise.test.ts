import { bind, Primitive, slice, type Tensor, tensor, transpose } from '@flint/api';
import { afterAll, describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { setThreadedMapMinimum } from './compile/wasm/threaded-kernel.js';
import { gemmThreadsStarted, setGemmThreading } from './kernels/gemm.js';
import { simdElementwiseOps } from './kernels/simd-elementwise.js';
import { threadedMapJobs } from './threads/gemm-pool.js';

// Large float32 eager ops run as WebAssembly SIMD kernels (kernels/simd-elementwise.ts). Checked
// here against double-precision Math rounded to float32, on arrays that hold every special value
// (NaN, infinities, signed zeros, subnormals, overflow and underflow edges): the IEEE ops exactly,
// the polynomial ones (exp, log, tanh, logistic) within 3 float32 ulps. Operands the kernels cannot
// stream (strided views, broadcasts along one axis) must still give the same values through the
// JavaScript loops.

const unary = (p: Primitive, x: Tensor): Tensor => bind(p as Primitive.Neg, [x], {});
const binary = (p: Primitive, a: Tensor, b: Tensor): Tensor => bind(p as Primitive.Add, [a, b], {});

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  3,
  88.7,
  88.8,
  -87,
  -103.9,
  -110,
  1e-40,
  -1e-40,
  1e-45,
  1.1754942e-38,
  3e38,
  -3e38,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  0.99999994,
  1.0000001,
];

/** `size` floats: the special values, then a spread of magnitudes. */
function data(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const j = (i + seed) % (size + SPECIAL.length);
    out[i] = j < SPECIAL.length ? (SPECIAL[j] as number) : Math.sin(i * 12.9898 + seed) * 2 ** ((i % 13) - 4);
  }
  return out;
}

const EXACT_UNARY: [Primitive, (x: number) => number][] = [
  [Primitive.Neg, (x) => -x],
  [Primitive.Abs, Math.abs],
  [Primitive.Sqrt, Math.sqrt],
  [Primitive.Reciprocal, (x) => 1 / x],
  [Primitive.Floor, Math.floor],
  [Primitive.Ceil, Math.ceil],
  [Primitive.Round, (x) => (x - Math.floor(x) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x))],
  // biome-ignore lint/complexity/useMathMinMax: Math.max(-0, 0) is +0, and relu keeps -0
  [Primitive.Relu, (x) => (x < 0 ? 0 : x)],
  [Primitive.Sign, Math.sign],
];
const POLYNOMIAL_UNARY: [Primitive, (x: number) => number][] = [
  [Primitive.Exp, Math.exp],
  [Primitive.Log, Math.log],
  [Primitive.Tanh, Math.tanh],
  [Primitive.Logistic, (x) => 1 / (1 + Math.exp(-x))],
  // 1 / sqrt(x) in float32 rounds twice; double precision rounds once.
  [Primitive.Rsqrt, (x) => 1 / Math.sqrt(x)],
];
const EXACT_BINARY: [Primitive, (a: number, b: number) => number][] = [
  [Primitive.Add, (a, b) => a + b],
  [Primitive.Sub, (a, b) => a - b],
  [Primitive.Mul, (a, b) => a * b],
  [Primitive.Div, (a, b) => a / b],
  [Primitive.Max, Math.max],
  [Primitive.Min, Math.min],
  [Primitive.ReluGrad, (y, g) => (y <= 0 ? 0 : g)],
];

/** Float32 ulps between `got` and the double `want` (0 for matching NaNs, infinities and zeros). */
function ulps(got: number, want: number): number {
  const rounded = Math.fround(want);
  if (Number.isNaN(rounded)) return Number.isNaN(got) ? 0 : Number.POSITIVE_INFINITY;
  if (!Number.isFinite(rounded) || rounded === 0) return Object.is(got, rounded) ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(got - want) / 2 ** (Math.floor(Math.log2(Math.max(Math.abs(rounded), 2 ** -126))) - 23);
}

/** Every element of `got` is `want(i)` rounded to got's dtype, bit for bit. */
function expectExact(got: Tensor, want: (i: number) => number, label: string): void {
  const values = got.dataSync();
  const round = got.dtype === 'float32' ? Math.fround : (v: number) => v;
  for (let i = 0; i < values.length; i++) {
    const w = round(want(i));
    if (!Object.is(values[i], w)) expect(values[i], `${label} at ${i}`).toBe(w);
  }
}

afterAll(() => {
  setThreadedMapMinimum(undefined);
  setGemmThreading(undefined);
});

describe('eager float32 ops as SIMD kernels', () => {
  const size = 5003;
  const xs = data(size, 0);
  const x = tensor(xs);

  it('compute the IEEE ops exactly, signed zeros and NaN included', () => {
    const before = simdElementwiseOps();
    for (const [p, f] of EXACT_UNARY) expectExact(unary(p, x), (i) => f(xs[i] as number), Primitive[p]);
    expect(simdElementwiseOps() - before).toBe(EXACT_UNARY.length);
  });

  it('compute exp, log, tanh, logistic and rsqrt within 3 float32 ulps', () => {
    const before = simdElementwiseOps();
    for (const [p, f] of POLYNOMIAL_UNARY) {
      const got = unary(p, x).dataSync();
      let worst = 0;
      for (let i = 0; i < size; i++) worst = Math.max(worst, ulps(got[i] as number, f(xs[i] as number)));
      expect(worst, Primitive[p]).toBeLessThanOrEqual(3);
    }
    expect(simdElementwiseOps() - before).toBe(POLYNOMIAL_UNARY.length);
  });

  it('compute binary ops over two arrays, an array and a scalar, and views at an offset', () => {
    const ys = data(size + 7, 11);
    const y = tensor(ys);
    const shifted = slice(y, [7], [size + 7]);
    const scalar = tensor(new Float32Array([-0.75]));
    const before = simdElementwiseOps();
    for (const [p, f] of EXACT_BINARY) {
      const name = Primitive[p];
      expectExact(binary(p, x, shifted), (i) => f(xs[i] as number, ys[i + 7] as number), `${name}(x, y[7:])`);
      expectExact(binary(p, x, scalar.broadcastTo([size])), (i) => f(xs[i] as number, -0.75), `${name}(x, scalar)`);
      expectExact(binary(p, scalar.broadcastTo([size]), x), (i) => f(-0.75, xs[i] as number), `${name}(scalar, x)`);
    }
    expect(simdElementwiseOps() - before).toBe(3 * EXACT_BINARY.length);
  });

  it('leave transposed and partly broadcast operands to the JavaScript loops, with the same values', () => {
    const rows = 61;
    const cols = 83;
    const m = tensor(data(rows * cols, 3)).reshape([rows, cols]);
    const mt = transpose(m);
    const row = tensor(data(rows, 5)).reshape([rows, 1]);
    const mValues = m.dataSync();
    const rowValues = row.dataSync();
    const before = simdElementwiseOps();
    expectExact(unary(Primitive.Exp, mt), (i) => Math.exp(mValues[(i % rows) * cols + Math.floor(i / rows)] as number), 'exp(m.T)');
    expectExact(
      binary(Primitive.Mul, m, row.broadcastTo([rows, cols])),
      (i) => (mValues[i] as number) * (rowValues[Math.floor(i / cols)] as number),
      'm * row',
    );
    expect(simdElementwiseOps() - before).toBe(0);
  });

  it('leave float64, int32 and small tensors to the JavaScript loops', () => {
    const before = simdElementwiseOps();
    expectExact(unary(Primitive.Exp, x.astype('float64')), (i) => Math.exp(xs[i] as number), 'exp(float64)');
    const ints = tensor(
      Int32Array.from({ length: size }, (_, i) => i - 2000),
      { dtype: 'int32' },
    );
    expectExact(binary(Primitive.Add, ints, ints), (i) => 2 * (i - 2000), 'int32 add');
    const small = tensor(xs.slice(0, 255));
    expectExact(unary(Primitive.Tanh, small), (i) => Math.tanh(xs[i] as number), 'tanh of 255');
    expect(simdElementwiseOps() - before).toBe(0);
  });

  it('split large ops over the thread pool with the same values as one thread', async () => {
    setGemmThreading(3);
    if ((await gemmThreadsStarted()) === 0) {
      console.warn('skipped: no worker threads here (SharedArrayBuffer or worker_threads missing)');
      return;
    }
    const large = 300_001;
    const ls = data(large, 7);
    const l = tensor(ls);
    setThreadedMapMinimum(Number.POSITIVE_INFINITY);
    const jobsBefore = threadedMapJobs();
    const single = [unary(Primitive.Tanh, l).dataSync(), binary(Primitive.Div, l, l).dataSync()];
    expect(threadedMapJobs()).toBe(jobsBefore);
    setThreadedMapMinimum(0);
    const threaded = [unary(Primitive.Tanh, l).dataSync(), binary(Primitive.Div, l, l).dataSync()];
    expect(threadedMapJobs() - jobsBefore).toBe(2);
    expect(Array.from(threaded[0] as Float32Array)).toEqual(Array.from(single[0] as Float32Array));
    expect(Array.from(threaded[1] as Float32Array)).toEqual(Array.from(single[1] as Float32Array));
    expectExact(binary(Primitive.Div, l, l), (i) => (ls[i] as number) / (ls[i] as number), 'x / x');
  });
});
