import '@flint/backend-cpu';
import { grad, jvp, NotImplementedError, special, type Tensor, tensor, zeta } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeAgainstTorch, expectValuesClose, runTorch, type TorchResult } from '../../../../test/support/torch-oracle.test-support.js';
import { expectVmapAndJitLikeEager, f64, grid, INF, NAN, pairLabels, values } from './special.test-support.js';

// ops/zeta.ts: known values, PyTorch's domain and where Flint gives the limit instead of NaN,
// negative q, the derivative with respect to q (and the error with respect to x), float32
// against float64, and values and gradients against PyTorch on a grid of (x, q).

const XS = [1.0000001, 1.001, 1.1, 1.5, 2, 2.5, 3, 4.2, 7, 10, 20, 35, 60, 100, 300];
const QS = [1e-10, 1e-3, 0.1, 0.5, 0.9, 1, 1.5, 2, 3.3, 8.9, 9, 20, 100, 1e3, 1e6];
const [GRID_X, GRID_Q] = grid(XS, QS);

describe('zeta', () => {
  it('known values: Riemann zeta, ζ(2, 1/2) = pi²/2, far out in x and q (mpmath at 200 digits)', () => {
    const pi2 = Math.PI ** 2;
    expectValuesClose(
      'zeta',
      values(zeta(f64([2, 4, 2, 3, 35, 20, 1.0000001]), f64([1, 1, 0.5, 1, 1000, 1e12, 1]))),
      [pi2 / 6, pi2 ** 2 / 90, pi2 / 2, 1.2020569031595942, 2.9914681307801304e-104, 5.2631578947868425e-230, 10000000.571377],
      { rtol: 4e-16 },
    );
  });

  it('the domain: PyTorch’s poles and NaNs; the limits where PyTorch gives NaN', () => {
    expect(values(zeta(f64([1, 2, 2, 2, 0.5, -2, NAN, 2, 2]), f64([1, 0, -0, -3, 1, 1, 1, NAN, -INF])))).toEqual([
      INF,
      INF,
      INF,
      INF,
      NAN,
      NAN,
      NAN,
      NAN,
      INF,
    ]);
    // A negative q needs an integer x (its terms' powers are real).
    expect(values(zeta(f64([2.5]), f64([-2.5])))).toEqual([NAN]);
    // q = Infinity gives 0 and x = Infinity the limit of its smallest term (PyTorch: NaN, NaN).
    expect(values(zeta(f64([2, INF, INF, INF]), f64([INF, 2, 1, 0.5])))).toEqual([0, 0, 1, INF]);
    // ζ(1.5, 1e300) ~ 2 / sqrt(q) (PyTorch: 0).
    expectValuesClose('zeta far out', values(zeta(f64([1.5]), f64([1e300]))), [2e-150], { rtol: 1e-15 });
  });

  it('negative q: the sum from q, accurate where the terms cancel (odd x)', () => {
    // ζ(x, q) = sum of (q + k)^-x; ζ(3, -99999.5) = ζ(3, 100000.5) exactly (PyTorch: off by 2e-5).
    const direct = (x: number, q: number): number => {
      let s = 0;
      for (let k = 0; q + k < 0; k++) s += (q + k) ** -x;
      return s;
    };
    expectValuesClose(
      'negative q',
      values(zeta(f64([2, 5, 4, 3]), f64([-2.5, -2.5, -10.25, -99999.5]))),
      [
        direct(2, -2.5) + 4.934802200544679,
        0.0028331666461138068,
        direct(4, -10.25) + values(zeta(f64([4]), f64([-10.25 + 11])))[0]!,
        4.999999999875e-11,
      ],
      { rtol: 1e-14 },
    );
  });

  it('differentiates in q (-x ζ(x + 1, q), every order, forward mode), raises for x as PyTorch', () => {
    const x = f64([2, 3.5, 1.5]);
    const q = f64([0.5, 2, 10]);
    const dq = values(grad((t: Tensor) => zeta(x, t).sum())(q));
    const expected = values(zeta(f64([3, 4.5, 2.5]), q)).map((v, i) => -[2, 3.5, 1.5][i]! * v);
    expectValuesClose('dζ/dq', dq, expected, { rtol: 1e-15 });
    const second = values(grad((u: Tensor) => grad((t: Tensor) => zeta(x, t).sum())(u).sum())(q));
    const expectedSecond = values(zeta(f64([4, 5.5, 3.5]), q)).map((v, i) => [6, 15.75, 3.75][i]! * v);
    expectValuesClose('d²ζ/dq²', second, expectedSecond, { rtol: 1e-14 });
    const [, tangent] = jvp((t: Tensor) => zeta(x, t), [q], [f64([1, 1, 1])]);
    expectValuesClose('jvp', values(tangent), expected, { rtol: 1e-15 });
    expect(() => grad((t: Tensor) => zeta(t, q).sum())(x)).toThrow(NotImplementedError);
    expect(() => grad((t: Tensor) => zeta(t, q).sum())(x)).toThrow(/derivative with respect to x is not implemented/);
    expect(() => jvp((t: Tensor) => zeta(t, q), [x], [f64([1, 1, 1])])).toThrow(NotImplementedError);
    const leaf = x.detach().requiresGrad_();
    expect(() => zeta(leaf, q).sum().backward()).toThrow(NotImplementedError);
    // q on the tape, x constant: fine.
    const qLeaf = q.detach().requiresGrad_();
    zeta(x, qLeaf).sum().backward();
    expectValuesClose('backward()', values(qLeaf.grad as Tensor), expected, { rtol: 1e-15 });
  });

  it('dtypes and broadcasting: numbers, integers in float32, half dtypes in float32', () => {
    expect(zeta(2, tensor([1, 2], { dtype: 'int32' })).dtype).toBe('float32');
    expect(zeta(tensor([2], { dtype: 'float32' }), f64([1])).dtype).toBe('float64');
    const half = zeta(tensor([2, 3], { dtype: 'float16' }), 1);
    expect(half.dtype).toBe('float16');
    expectValuesClose('float16', values(half), [1.6449, 1.2021], { rtol: 1e-3 });
    expect(zeta(tensor([[2], [3]], { dtype: 'float64' }), f64([1, 2, 3])).shape).toEqual([2, 3]);
    expect(special.zeta).toBe(zeta);
  });

  it('float32 agrees with float64 to its precision', () => {
    const x32 = tensor(GRID_X, { dtype: 'float32' });
    const q32 = tensor(GRID_Q, { dtype: 'float32' });
    const exact = values(zeta(x32.astype('float64'), q32.astype('float64')));
    const representable = exact.map((v) => (Math.abs(v) > 3.4e38 ? INF : Math.abs(v) < 1.2e-38 ? 0 : v));
    expectValuesClose('float32 zeta', values(zeta(x32, q32)), representable, { rtol: 3e-7, atol: 1e-37 });
  });

  it('vmap and jit give the eager values', () => {
    const x = tensor(
      [
        [2, 3],
        [4.5, 1.5],
      ],
      { dtype: 'float64' },
    );
    const q = f64([0.5, 7]);
    expectVmapAndJitLikeEager('zeta', (a) => zeta(a, q), x);
  });
});

describeAgainstTorch('zeta against PyTorch', () => {
  const [negativeX, negativeQ] = grid([2, 4, 6, 2, 4], [-0.5, -2.5, -3.7, -10.25, -100.3, -7]);
  let results: TorchResult[] = [];
  beforeAll(() => {
    results = runTorch([
      { expression: 'torch.special.zeta(x, q)', inputs: { x: { values: GRID_X }, q: { values: GRID_Q } } },
      { expression: 'torch.special.zeta(x, q)', inputs: { x: { values: GRID_X }, q: { values: GRID_Q } }, gradients: ['q'] },
      { expression: 'torch.special.zeta(x, q)', inputs: { x: { values: negativeX }, q: { values: negativeQ } } },
    ]);
  });

  it('values over x in (1, 300], q in [1e-10, 1e6] agree to 1e-14', () => {
    const inputs = pairLabels(GRID_X, GRID_Q, 'q');
    expectValuesClose('zeta', values(zeta(f64(GRID_X), f64(GRID_Q))), results[0]?.outputs[0]?.values ?? [], { rtol: 1e-14 }, inputs);
  });

  it('gradients with respect to q agree to 1e-14', () => {
    const flint = values(grad((q: Tensor) => zeta(f64(GRID_X), q).sum())(f64(GRID_Q)));
    expectValuesClose('dζ/dq', flint, results[1]?.gradients.q ?? [], { rtol: 1e-14 });
  });

  it('negative q with even x (no cancellation in PyTorch’s sum) agrees to 1e-14', () => {
    const inputs = pairLabels(negativeX, negativeQ, 'q');
    expectValuesClose('zeta', values(zeta(f64(negativeX), f64(negativeQ))), results[2]?.outputs[0]?.values ?? [], { rtol: 1e-14 }, inputs);
  });
});
