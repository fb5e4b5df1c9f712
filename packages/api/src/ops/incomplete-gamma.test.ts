import '@flint/backend-cpu';
import { gammainc, gammaincc, grad, jit, jvp, NotImplementedError, special, type Tensor, tensor, vmap } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeAgainstTorch, expectValuesClose, runTorch, type TorchResult } from '../../../../test/support/torch-oracle.test-support.js';
import { f64, INF, mpmath, NAN, pairLabels, values } from './special.test-support.js';

// ops/incomplete-gamma.ts: PyTorch's boundary values, known values, the derivative in x (and the
// error in a), float32 against float64, and values against mpmath (through PyTorch's Python) and
// PyTorch over a grid that crosses every region (series, upper series, continued fraction,
// Temme's expansion).

/** a from 1e-3 to 1e4 (and the switch points), x from a/1000 to 100a and around 0.5, 2 and a. */
const AS = [...Array.from({ length: 31 }, (_, i) => 10 ** (-3 + i / 4.3)), 9.99, 10.01, 0.5, 1, 2, 3];
const FACTORS = [1e-3, 0.01, 0.1, 0.3, 0.49, 0.51, 0.8, 0.99, 1, 1.01, 1.1, 1.3, 1.49, 1.51, 2, 3, 10, 100];
const FIXED_X = [1e-3, 0.1, 0.49, 0.51, 1, 1.99, 2, 2.01, 2.4, 5, 30];
const GRID_A = AS.flatMap((a) => [...FACTORS, ...FIXED_X].map(() => a));
const GRID_X = AS.flatMap((a) => [...FACTORS.map((f) => a * f), ...FIXED_X]);

/** PyTorch's boundary: (a, x) and P there. */
const BOUNDARY: [number, number, number][] = [
  [0, 0, NAN],
  [0, 1, 1],
  [0, INF, 1],
  [1, 0, 0],
  [1, -0, 0],
  [1, INF, 1],
  [1, -1, NAN],
  [-1, 1, NAN],
  [INF, 1, 0],
  [INF, 0, 0],
  [INF, INF, NAN],
  [NAN, 1, NAN],
  [1, NAN, NAN],
];

describe('gammainc and gammaincc', () => {
  it('take PyTorch’s values on the boundary', () => {
    const a = f64(BOUNDARY.map(([v]) => v));
    const x = f64(BOUNDARY.map(([, v]) => v));
    expect(values(gammainc(a, x))).toEqual(BOUNDARY.map(([, , p]) => p));
    expect(values(gammaincc(a, x))).toEqual(BOUNDARY.map(([, , p]) => (Number.isNaN(p) ? NAN : 1 - p)));
  });

  it('known values: the exponential distribution, erf, and a far tail', () => {
    const x = [0.3, 1, 7];
    expectValuesClose(
      'P(1, x)',
      values(gammainc(1, f64(x))),
      x.map((v) => -Math.expm1(-v)),
      { rtol: 4e-16 },
    );
    // P(1/2, x) = erf(sqrt(x)); Q(1, 700) = e^-700.
    expectValuesClose('P(1/2, 1/2)', values(gammainc(0.5, f64([0.5]))), [0.6826894921370859], { rtol: 2e-16 });
    expectValuesClose('Q(1, 700)', values(gammaincc(1, f64([700]))), [Math.exp(-700)], { rtol: 1e-15 });
  });

  it('differentiate in x (x^(a-1) e^-x / Γ(a), every order, forward mode), raise in a as PyTorch', () => {
    const a = f64([0.5, 3, 40]);
    const x = f64([0.7, 2, 35]);
    const density = [0.5, 3, 40].map((ai, i) => {
      const xi = [0.7, 2, 35][i] as number;
      return Math.exp((ai - 1) * Math.log(xi) - xi - [0.5723649429247001, Math.LN2, 106.63176026064346][i]!);
    });
    expectValuesClose('dP/dx', values(grad((t: Tensor) => gammainc(a, t).sum())(x)), density, { rtol: 5e-14 });
    expectValuesClose(
      'dQ/dx',
      values(grad((t: Tensor) => gammaincc(a, t).sum())(x)),
      density.map((d) => -d),
      { rtol: 1e-14 },
    );
    // d²P/dx² = density ((a - 1)/x - 1).
    const second = values(grad((u: Tensor) => grad((t: Tensor) => gammainc(a, t).sum())(u).sum())(x));
    expectValuesClose(
      'd²P/dx²',
      second,
      density.map((d, i) => d * (([0.5, 3, 40][i]! - 1) / [0.7, 2, 35][i]! - 1)),
      { rtol: 1e-13, atol: 1e-16 },
    );
    const [, tangent] = jvp((t: Tensor) => gammainc(a, t), [x], [f64([1, 1, 1])]);
    expectValuesClose('jvp', values(tangent), density, { rtol: 1e-14 });
    expect(values(grad((t: Tensor) => gammainc(f64([0.5, 1, 2]), t).sum())(f64([0, 0, 0])))).toEqual([INF, 1, 0]);
    for (const f of [gammainc, gammaincc]) {
      expect(() => grad((t: Tensor) => f(t, x).sum())(a)).toThrow(NotImplementedError);
      expect(() => jvp((t: Tensor) => f(t, x), [a], [f64([1, 1, 1])])).toThrow(/derivative with respect to a/);
      const leaf = a.detach().requiresGrad_();
      expect(() => f(leaf, x).sum().backward()).toThrow(NotImplementedError);
    }
  });

  it('float32 agrees with float64 within 2e-6 (1 + |log value|) relative (the rounding of the exponent, a log x - x - log Γ(a + 1)), down to 1e-30', () => {
    const keep = GRID_A.map((a, i) => (a <= 1000 ? i : -1)).filter((i) => i >= 0);
    const a32 = tensor(
      keep.map((i) => GRID_A[i] as number),
      { dtype: 'float32' },
    );
    const x32 = tensor(
      keep.map((i) => GRID_X[i] as number),
      { dtype: 'float32' },
    );
    for (const f of [gammainc, gammaincc]) {
      const exact = values(f(a32.astype('float64'), x32.astype('float64')));
      const y = values(f(a32, x32));
      const failures = exact.flatMap((v, i) => {
        const allowed = 2e-6 * (1 + Math.abs(Math.log(v)));
        return v > 1e-30 && !(Math.abs((y[i] as number) - v) <= allowed * v) ? [`${v} vs ${y[i]}`] : [];
      });
      expect(failures).toEqual([]);
    }
  });

  it('dtypes, broadcasting, the namespace and methods, vmap and jit', () => {
    expect(gammainc(tensor([1, 2], { dtype: 'int32' }), 1).dtype).toBe('float32');
    const half = gammaincc(tensor([1, 2], { dtype: 'bfloat16' }), 1);
    expect(half.dtype).toBe('bfloat16');
    expect(gammainc(tensor([[1], [2]], { dtype: 'float64' }), f64([0.5, 1, 4])).shape).toEqual([2, 3]);
    expect(special.gammainc).toBe(gammainc);
    expect(special.gammaincc).toBe(gammaincc);
    const a = f64([0.5, 12]);
    const x = f64([1.5, 11]);
    expect(values(a.igamma(x))).toEqual(values(gammainc(a, x)));
    expect(values(a.igammac(x))).toEqual(values(gammaincc(a, x)));
    const batch = tensor(
      [
        [0.5, 12],
        [3, 40],
      ],
      { dtype: 'float64' },
    );
    expect(values(vmap((t: Tensor) => gammainc(t, x))(batch))).toEqual(values(gammainc(batch, x)));
    expectValuesClose('jit', values(jit((t: Tensor) => gammaincc(t, x))(batch)), values(gammaincc(batch, x)), { rtol: 1e-15 });
  });
});

const pick = <T>(xs: readonly T[], keep: readonly boolean[]): T[] => xs.filter((_, i) => keep[i]);

describeAgainstTorch('gammainc and gammaincc against mpmath and PyTorch', () => {
  let results: TorchResult[] = [];
  const regularized = (upper: boolean): string => mpmath(`m.gammainc(a, ${upper ? 'x, m.inf' : '0, x'}, regularized=True)`, 50, ['a', 'x']);
  // mpmath gives up on Q(9478, 18957) (below 1e-300): its grid stops at a = 5000.
  const MP = GRID_A.map((a) => a <= 5000);
  beforeAll(() => {
    const inputs = { a: { values: GRID_A }, x: { values: GRID_X } };
    const mpInputs = { a: { values: pick(GRID_A, MP) }, x: { values: pick(GRID_X, MP) } };
    results = runTorch([
      { expression: regularized(false), inputs: mpInputs },
      { expression: regularized(true), inputs: mpInputs },
      { expression: 'torch.special.gammainc(a, x)', inputs },
      { expression: 'torch.special.gammaincc(a, x)', inputs },
      { expression: 'torch.special.gammainc(a, x)', inputs, gradients: ['x'] },
    ]);
  });
  const labels = pairLabels(GRID_A, GRID_X, 'x');
  const small = GRID_A.map((a) => a <= 100);

  it('are within 5e-15 (1 + |log value|) relative of mpmath, down to 1e-300 (the rounding of the exponent a log x - x - log Γ(a + 1))', () => {
    const a = pick(GRID_A, MP);
    const x = pick(GRID_X, MP);
    const names = pick(labels, MP);
    for (const [k, f] of [gammainc, gammaincc].entries()) {
      const y = values(f(f64(a), f64(x)));
      const exact = results[k]?.outputs[0]?.values ?? [];
      const failures = exact.flatMap((v, i) =>
        v > 1e-300 && !(Math.abs((y[i] as number) - v) <= 5e-15 * (1 + Math.abs(Math.log(v))) * v) ? [`${names[i]}: ${y[i]} vs ${v}`] : [],
      );
      expect(failures, f.name).toEqual([]);
    }
  });

  it('agree with PyTorch to its accuracy (it is off by up to 1.5e-9 near its Temme region, Flint by 5e-14)', () => {
    for (const [k, f] of [gammainc, gammaincc].entries()) {
      expectValuesClose(
        f.name,
        values(f(f64(GRID_A), f64(GRID_X))),
        results[k + 2]?.outputs[0]?.values ?? [],
        { rtol: 3e-9, atol: 1e-300 },
        labels,
      );
    }
  });

  it('gradients in x agree with PyTorch’s exp((a - 1) log x - x - lgamma(a)) for a <= 100', () => {
    const flint = values(grad((t: Tensor) => gammainc(f64(GRID_A), t).sum())(f64(GRID_X)));
    const torch = results[4]?.gradients.x ?? [];
    expectValuesClose('dP/dx', pick(flint, small), pick(torch, small), { rtol: 1e-12, atol: 1e-300 }, pick(labels, small));
  });
});
