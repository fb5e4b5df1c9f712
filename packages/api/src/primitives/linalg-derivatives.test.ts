import '@flint/backend-cpu';
import { grad, jvp, nn, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { CPU_OPS } from '../../../../test/support/cpu-ops.test-support.js';
import { bind } from '../tensor/dispatch.js';
import { windowMaxJvp, windowMaxJvpGeneral, windowMaxVjp, windowMaxVjpGeneral } from './linalg-derivatives.js';
import { type PadPair, type ParamsOf, Primitive } from './primitive.js';

type WindowParams = ParamsOf<Primitive.ReduceWindow>;

const values = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);

/** Deterministic values from {0, 1, 2}: windows full of ties. */
function tiedValues(n: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: n }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.floor(state / 65536) % 3;
  });
}

function maxPool(window: number[], padding: PadPair[]): WindowParams {
  return { op: 'max', window, strides: [...window], padding, dilation: window.map(() => 1) };
}

// Non-overlapping windows (stride == window) take the reshape fast path; the general path
// (per-offset strided views) must pick the same element of every window.
const cases: { name: string; shape: number[]; params: WindowParams }[] = [
  {
    name: '2x2 pooling',
    shape: [2, 3, 4, 4],
    params: maxPool(
      [1, 1, 2, 2],
      [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    ),
  },
  {
    name: 'a remainder past the last window',
    shape: [2, 2, 5, 7],
    params: maxPool(
      [1, 1, 2, 3],
      [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    ),
  },
  {
    name: 'padding on both sides',
    shape: [1, 2, 5, 5],
    params: maxPool(
      [1, 1, 3, 2],
      [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 0],
      ],
    ),
  },
  { name: 'one axis', shape: [9], params: maxPool([3], [[0, 1]]) },
  {
    name: 'three window axes',
    shape: [4, 4, 6],
    params: maxPool(
      [2, 2, 3],
      [
        [0, 0],
        [1, 1],
        [0, 0],
      ],
    ),
  },
  {
    name: 'windows of one element',
    shape: [3, 4],
    params: maxPool(
      [1, 1],
      [
        [1, 0],
        [0, 1],
      ],
    ),
  },
];

describe('window max derivatives on non-overlapping windows', () => {
  // On 'cpu' the VJP runs the backend's fused kernel; on 'cpu-ops' (no composite kernels) the
  // ops of the reshape fast path.
  for (const [{ name, shape, params }, backend] of cases.flatMap((c) => [[c, 'cpu'] as const, [c, CPU_OPS] as const])) {
    it(`agree with the general path on ties (${backend}): ${name}`, () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = tensor(tiedValues(size, shape.length + size), { dtype: 'float64', backend }).reshape(shape);
      const out = bind(Primitive.ReduceWindow, [x], params);
      const g = tensor(
        Array.from({ length: out.size }, (_, i) => i + 1),
        { dtype: 'float64', backend },
      ).reshape([...out.shape]);
      const fast = windowMaxVjp(g, x, out, params);
      const general = windowMaxVjpGeneral(g, x, out, params);
      expect(fast.shape).toEqual(shape);
      expect(values(fast)).toEqual(values(general));
      // Every output's cotangent lands on exactly one element (windows of padding alone drop theirs).
      const dropped = values(out).reduce((sum, v, i) => (v === Number.NEGATIVE_INFINITY ? sum + i + 1 : sum), 0);
      expect(values(fast).reduce((a, b) => a + b, 0)).toBe((out.size * (out.size + 1)) / 2 - dropped);

      const t = tensor(
        Array.from({ length: size }, (_, i) => i + 1),
        { dtype: 'float64', backend },
      ).reshape(shape);
      const fastTangent = windowMaxJvp(t, x, out, params);
      expect(fastTangent.shape).toEqual(out.shape);
      expect(values(fastTangent)).toEqual(values(windowMaxJvpGeneral(t, x, out, params)));
    });
  }

  it('gives a tied window gradient to its first maximum in row-major order', () => {
    const x = tensor(
      [
        [1, 3, 0, 0],
        [3, 2, 0, 0],
      ],
      { dtype: 'float32' },
    );
    const pool = (v: Tensor) =>
      bind(
        Primitive.ReduceWindow,
        [v],
        maxPool(
          [2, 2],
          [
            [0, 0],
            [0, 0],
          ],
        ),
      ).sum();
    expect(values(grad(pool)(x))).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
    const [, tangent] = jvp(
      (v: Tensor) =>
        bind(
          Primitive.ReduceWindow,
          [v],
          maxPool(
            [2, 2],
            [
              [0, 0],
              [0, 0],
            ],
          ),
        ),
      [x],
      [
        tensor(
          [
            [10, 20, 30, 40],
            [50, 60, 70, 80],
          ],
          { dtype: 'float32' },
        ),
      ],
    );
    expect(values(tangent as Tensor)).toEqual([20, 30]);
  });
});

describe('dotGeneral cotangents', () => {
  /** The strides of a tensor's view on the cpu backend (its handle's layout). */
  const strides = (t: Tensor): readonly number[] => (t._handle as { strides: readonly number[] }).strides;
  const x = tensor(
    Array.from({ length: 6 * 4 }, (_, i) => Math.sin(i)),
    { shape: [6, 4] },
  );

  it("come out contiguous in the weight's own layout, for x @ w (w [in, out]) and for linear (w [out, in])", () => {
    const w = tensor(
      Array.from({ length: 4 * 3 }, (_, i) => Math.cos(i)),
      { shape: [4, 3] },
    );
    const wt = tensor(w.transpose().dataSync() as Float32Array, { shape: [3, 4] });
    const plain = grad((w: Tensor) => x.matmul(w).square().sum())(w);
    const linear = grad((wt: Tensor) => nn.functional.linear(x, wt).square().sum())(wt);
    expect(strides(plain)).toEqual([3, 1]);
    expect(strides(linear)).toEqual([4, 1]);
    // The same gradient either way, laid out as each weight is.
    const a = plain.dataSync();
    const b = linear.transpose().dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i] as number, 5);
    const dx = grad((x: Tensor) => x.matmul(w).square().sum())(x);
    expect(strides(dx)).toEqual([4, 1]);
  });
});
