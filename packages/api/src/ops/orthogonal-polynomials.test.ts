import '@flint/backend-cpu';
import {
  ConcretizationError,
  chebyshevPolynomialT,
  chebyshevPolynomialU,
  chebyshevPolynomialV,
  chebyshevPolynomialW,
  grad,
  hermitePolynomialH,
  hermitePolynomialHe,
  jit,
  laguerrePolynomialL,
  legendrePolynomialP,
  type PolynomialDegree,
  special,
  type Tensor,
  type TensorLike,
  tensor,
  ValueError,
  vmap,
} from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeAgainstTorch, expectValuesClose, runTorch, type TorchResult } from '../../../../test/support/torch-oracle.test-support.js';
import { f64, grid, INF, NAN, pairLabels, values } from './special.test-support.js';

// ops/orthogonal-polynomials.ts: values on a grid of (x, n) against PyTorch, n as a number and
// as a tensor, the limits at ±Infinity, dtypes, the zero gradient, and the degree read from a
// tensor n (and the errors where it cannot be read).

type Polynomial = (x: TensorLike, n: PolynomialDegree) => Tensor;
const POLYNOMIALS: [string, Polynomial][] = [
  ['chebyshev_polynomial_t', chebyshevPolynomialT],
  ['chebyshev_polynomial_u', chebyshevPolynomialU],
  ['chebyshev_polynomial_v', chebyshevPolynomialV],
  ['chebyshev_polynomial_w', chebyshevPolynomialW],
  ['hermite_polynomial_h', hermitePolynomialH],
  ['hermite_polynomial_he', hermitePolynomialHe],
  ['laguerre_polynomial_l', laguerrePolynomialL],
  ['legendre_polynomial_p', legendrePolynomialP],
];

const XS = [-12, -3, -1.5, -1, -0.999, -0.7, -0.3, 0, 0.2, 0.5, 0.9, 0.99999, 1, 1.0001, 1.3, 2, 5, 11, NAN];
const NS = [-2, -1, -0.5, 0, 1, 2, 2.7, 3, 4, 5, 7, 8, 9, 10, 13, 20, 33];
const [GRID_X, GRID_N] = grid(XS, NS);

describe('orthogonal polynomials', () => {
  it('known values, n truncated toward zero and 0 for a negative n', () => {
    expect(values(chebyshevPolynomialT(f64([0.5, 2, -2]), 3))).toEqual([-1, 26, -26]);
    expect(values(chebyshevPolynomialU(f64([0.5, 2, 1, -1]), 3))).toEqual([-1, 56, 4, -4]);
    expect(values(hermitePolynomialH(f64([1, 2]), 3))).toEqual([-4, 40]);
    expect(values(hermitePolynomialHe(f64([1, 2]), 3.9))).toEqual([-2, 2]);
    expect(values(laguerrePolynomialL(f64([0, 1]), 2))).toEqual([1, -0.5]);
    expect(values(legendrePolynomialP(f64([0.5, -1]), 2))).toEqual([-0.125, 1]);
    for (const [, f] of POLYNOMIALS) {
      expect(values(f(f64([0.3, NAN]), -1))).toEqual([0, 0]);
      expect(values(f(f64([0.3, NAN]), 0))).toEqual([1, 1]);
    }
  });

  it('±Infinity gives the leading term’s infinity (PyTorch’s recurrence: Infinity - Infinity = NaN)', () => {
    expect(values(chebyshevPolynomialT(f64([INF, -INF]), 3))).toEqual([INF, -INF]);
    expect(values(chebyshevPolynomialT(f64([INF, -INF]), 12))).toEqual([INF, INF]);
    expect(values(laguerrePolynomialL(f64([INF, -INF]), 3))).toEqual([-INF, INF]);
    expect(values(hermitePolynomialH(f64([INF, -INF]), tensor([0, 5], { dtype: 'float64' })))).toEqual([1, -INF]);
  });

  it('a number n and a tensor n agree; the closed forms past degree 8 continue the recurrence', () => {
    for (const [name, f] of POLYNOMIALS) {
      const byTensor = values(f(f64(GRID_X), f64(GRID_N)));
      const byNumber = NS.flatMap((n) => values(f(f64(XS), n)));
      const reordered = NS.flatMap((_, j) => XS.map((_, i) => byTensor[i * NS.length + j] as number));
      expectValuesClose(`${name}: number n`, byNumber, reordered, { rtol: 0 });
    }
    // T_9 by the closed form against T_9 = 2x T_8 - T_7 by the recurrence.
    const x = f64([-0.95, 0.3, 1.2, -4]);
    const recurrence = values(chebyshevPolynomialT(x, 8).mul(x).mul(2).sub(chebyshevPolynomialT(x, 7)));
    expectValuesClose('T_9', values(chebyshevPolynomialT(x, 9)), recurrence, { rtol: 1e-14, atol: 1e-15 });
  });

  it('dtypes: x and n promote, lifted to float; half dtypes compute in float32', () => {
    expect(legendrePolynomialP(tensor([0.5], { dtype: 'float32' }), tensor([2], { dtype: 'int32' })).dtype).toBe('float32');
    expect(legendrePolynomialP(tensor([0.5], { dtype: 'float32' }), tensor([2], { dtype: 'float64' })).dtype).toBe('float64');
    expect(hermitePolynomialH(tensor([1, 2], { dtype: 'int32' }), 2).dtype).toBe('float32');
    const half = chebyshevPolynomialT(tensor([0.5, 0.25], { dtype: 'float16' }), 2);
    expect(half.dtype).toBe('float16');
    expect(values(half)).toEqual([-0.5, -0.875]);
    expect(() => legendrePolynomialP(f64([0.5]), Number.NaN)).toThrow(ValueError);
  });

  it('PyTorch defines no derivatives: the gradients are zero', () => {
    for (const [, f] of POLYNOMIALS) expect(values(grad((t: Tensor) => f(t, 3).add(t).sum())(f64([0.2, 1.5])))).toEqual([1, 1]);
  });

  it('a tensor n is read for its degree: vmap reads the batch, jit and too long a recurrence are errors', () => {
    const x = tensor(
      [
        [0.5, 2],
        [-1, 0.3],
      ],
      { dtype: 'float64' },
    );
    const n = tensor([[2], [4]], { dtype: 'float64' });
    expect(values(vmap((a: Tensor, b: Tensor) => legendrePolynomialP(a, b))(x, n))).toEqual(values(legendrePolynomialP(x, n)));
    expect(values(jit((a: Tensor) => hermitePolynomialHe(a, 3))(x))).toEqual(values(hermitePolynomialHe(x, 3)));
    expect(() => jit((a: Tensor, b: Tensor) => hermitePolynomialHe(a, b))(x, n)).toThrow(ConcretizationError);
    // The Chebyshev polynomials never read n.
    expect(values(jit((a: Tensor, b: Tensor) => chebyshevPolynomialU(a, b))(x, n))).toEqual(values(chebyshevPolynomialU(x, n)));
    expect(() => hermitePolynomialH(x, f64([20000]))).toThrow(/past 10000/);
    expect(special.legendrePolynomialP).toBe(legendrePolynomialP);
  });

  it('float32 agrees with float64', () => {
    for (const [name, f] of POLYNOMIALS) {
      const x = tensor(
        XS.filter((v) => Math.abs(v) < 3),
        { dtype: 'float32' },
      );
      for (const n of [3, 9, 15]) {
        const exact = values(f(x.astype('float64'), n));
        const scale = Math.max(...exact.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)), 1);
        expectValuesClose(`float32 ${name}(x, ${n})`, values(f(x, n)), exact, { rtol: 2e-6, atol: 1e-6 * scale });
      }
    }
  });
});

describeAgainstTorch('orthogonal polynomials against PyTorch', () => {
  let results: TorchResult[] = [];
  beforeAll(() => {
    results = runTorch(
      POLYNOMIALS.map(([name]) => ({
        expression: `torch.special.${name}(x, n)`,
        inputs: { x: { values: GRID_X }, n: { values: GRID_N } },
      })),
    );
  });
  POLYNOMIALS.forEach(([name, f], k) => {
    it(`${name} agrees to 2e-14 of max(1, |value|)`, () => {
      const expected = results[k]?.outputs[0]?.values ?? [];
      const inputs = pairLabels(GRID_X, GRID_N, 'n');
      expectValuesClose(name, values(f(f64(GRID_X), f64(GRID_N))), expected, { rtol: 2e-14, atol: 2e-14 }, inputs);
    });
  });
});
