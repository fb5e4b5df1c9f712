import '@flint/backend-cpu';
import {
  digamma,
  erfc,
  erfcx,
  grad,
  i0,
  i0e,
  i1,
  i1e,
  jvp,
  lgamma,
  logNdtr,
  mvlgamma,
  ndtr,
  ndtri,
  polygamma,
  special,
  type Tensor,
  tensor,
  vmap,
} from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  describeAgainstTorch,
  expectValuesClose,
  runTorch,
  type Tolerance,
  type TorchCase,
  type TorchResult,
} from '../../../../test/support/torch-oracle.test-support.js';
import { expectHalfDtypesRoundedOnce, expectVmapAndJitLikeEager, f64, INF, NAN, values } from './special.test-support.js';

// The special functions (ops/gamma.ts, ops/error-functions.ts, ops/bessel.ts): values at the
// special points and known constants, dtype rules, derivative identities, float32 against
// float64, and values and gradients against PyTorch over wide ranges (where /usr/bin/python3 has
// torch; skipped, with the reason, where it has not).

/** Both signs of 10^e for e in [from, to] by `step`, then `linear` evenly spaced points in [-r, r]. */
function spread(from: number, to: number, step: number, r: number, linear: number): number[] {
  const xs: number[] = [];
  for (let e = from; e <= to; e += step) xs.push(10 ** e, -(10 ** e));
  for (let i = 0; i <= linear; i++) xs.push(-r + (2 * r * i) / linear);
  return xs;
}

/** The gamma family's points: both signs over 600 decades, dense near 0, 1, 2 and the negative axis. */
const GAMMA_POINTS = [
  ...spread(-300, 305, 7.3, 25, 541),
  ...[1, 2, 1.4616321449683622].flatMap((c) => [1e-12, 1e-8, 1e-4, 0.01].flatMap((d) => [c + d, c - d])),
  -0.5,
  -1.5,
  -2.4570247382208006,
  -2.7475574739142,
  -100.7,
  -1e5 + 0.5,
  0.5,
  1,
  2,
  3,
  10,
];
const NEGATIVE_INTEGERS = [-1, -2, -3, -50];
const isNegativeInteger = (x: number): boolean => x <= 0 && Number.isInteger(x);
/** Points for erfc and the normal distribution: out to their underflow and overflow. */
const ERROR_POINTS = [...spread(-20, 2.5, 0.37, 40, 397), 26, 27.2, -26.5, 1e300, -1e300];
const BESSEL_POINTS = [...spread(-20, 2.85, 0.31, 720, 401), 8 - 1e-9, 8, 8 + 1e-9, -8];
const PROBABILITIES = [
  ...Array.from({ length: 300 }, (_, i) => 10 ** -(i + 1)),
  ...Array.from({ length: 15 }, (_, i) => 1 - 10 ** -(i + 1)),
  ...Array.from({ length: 199 }, (_, i) => (i + 1) / 200),
  0.5 + 1e-12,
  0.5 - 1e-12,
  0.25,
  0.75,
];

describe('special function values', () => {
  it('lgamma: poles and infinities are +Infinity, and the known values', () => {
    expect(values(lgamma(f64([0, -0, -1, -2, -1e20, INF, -INF, NAN])))).toEqual([INF, INF, INF, INF, INF, INF, INF, NAN]);
    // Exactly 0 at 1 and 2, where the series keeps full relative precision nearby.
    expect(values(lgamma(f64([1, 2])))).toEqual([0, 0]);
    expectValuesClose(
      'lgamma',
      values(lgamma(f64([0.5, -0.5, 1 + 1e-10, 100]))),
      [0.5723649429247001, 1.2655121234846454, -5.772157125783244e-11, 359.1342053695754],
      { rtol: 1e-15 },
    );
  });

  it('digamma: the poles as PyTorch, and the known values', () => {
    expect(values(digamma(f64([0, -0, -1, -7, INF, -INF, NAN])))).toEqual([-INF, INF, NAN, NAN, INF, NAN, NAN]);
    const eulerGamma = 0.5772156649015329;
    expectValuesClose(
      'digamma',
      values(digamma(f64([1, 0.5, 1.4616321449683622, -0.5]))),
      [
        -eulerGamma,
        -eulerGamma - 2 * Math.LN2,
        // Near its zero digamma keeps relative precision: (x - x0) times the slope 0.9673.
        -9.241265521729427e-17,
        0.03648997397857652,
      ],
      { rtol: 1e-13, atol: 1e-30 },
    );
    expectValuesClose('digamma', values(digamma(f64([1, 0.5, -0.5]))), [-eulerGamma, -eulerGamma - 2 * Math.LN2, 0.03648997397857652], {
      rtol: 2e-16,
    });
  });

  it('polygamma: zeta values, the poles by parity as PyTorch, 0 at +Infinity', () => {
    const pi2 = Math.PI ** 2;
    expectValuesClose('trigamma', values(polygamma(1, f64([1, 0.5, 1e20]))), [pi2 / 6, pi2 / 2, 1e-20], { rtol: 4e-16 });
    expectValuesClose('polygamma(2)', values(polygamma(2, f64([1]))), [-2.4041138063191885], { rtol: 4e-16 });
    expectValuesClose('polygamma(3)', values(polygamma(3, f64([1, -0.5]))), [Math.PI ** 4 / 15, 193.40909103400244], {
      rtol: 1e-14,
    });
    expect(values(polygamma(1, f64([0, -3, INF, -INF, NAN])))).toEqual([INF, INF, 0, NAN, NAN]);
    expect(values(polygamma(2, f64([0, -3, INF])))).toEqual([-INF, -INF, 0]);
    expectValuesClose('polygamma(2) far out', values(polygamma(2, f64([1e150]))), [-1e-300], { rtol: 1e-15 });
    expect(values(polygamma(0, f64([1, 0.5])))).toEqual(values(digamma(f64([1, 0.5]))));
    expect(() => polygamma(-1, f64([1]))).toThrow(/non-negative integer/);
    expect(() => polygamma(1.5, f64([1]))).toThrow(/non-negative integer/);
  });

  it('erfc and erfcx keep their relative precision where 1 - erf(x) cancels', () => {
    expect(values(erfc(f64([0, INF, -INF, NAN, 30])))).toEqual([1, 0, 2, NAN, 0]);
    expectValuesClose(
      'erfc',
      values(erfc(f64([1, 5, 10, 26, -1]))),
      [0.15729920705028513, 1.537459794428035e-12, 2.088487583762545e-45, 5.663192408856143e-296, 1.8427007929497148],
      { rtol: 2e-15 },
    );
    expect(values(erfcx(f64([0, INF, -INF, NAN, -30])))).toEqual([1, 0, INF, NAN, INF]);
    // exp(x²) without rounding x² first (PyTorch: off by 1.3e-14 and 3e-14 here).
    expectValuesClose(
      'erfcx below 0',
      values(erfcx(f64([-12.302687708123667, -26.49874055415617]))),
      [1.0818319850959405e66, 1.800284618618438e305],
      { rtol: 2e-15 },
    );
    expectValuesClose(
      'erfcx',
      values(erfcx(f64([1, 10, 1e300, -1]))),
      [0.427583576155807, 0.05614099274382259, 5.641895835477562e-301, 5.008980080762283],
      { rtol: 2e-15 },
    );
  });

  it('ndtr, ndtri and logNdtr: tails, bounds and their inverse relation', () => {
    expect(values(ndtr(f64([-INF, INF, NAN, 0])))).toEqual([0, 1, NAN, 0.5]);
    // PyTorch 1.13: 7.684853053913088e-8 and 0.
    expectValuesClose('ndtr', values(ndtr(f64([-5.248074602497663, -12.302687708123667]))), [7.684853054622527e-8, 4.380480162434742e-35], {
      rtol: 2e-15,
    });
    expect(values(ndtri(f64([0, 1, 0.5, -0.1, 1.1, NAN])))).toEqual([-INF, INF, 0, NAN, NAN, NAN]);
    expectValuesClose(
      'ndtri',
      values(ndtri(f64([0.975, 1e-300, 0.5 + 1e-12]))),
      [1.9599639845400538, -37.0470962993612, 2.5065728237018603e-12],
      {
        rtol: 2e-15,
      },
    );
    // The lower tail and the centre: above, 1 - ndtr(x) keeps too few digits to invert.
    const x = f64([-30, -5, -1, 0, 0.7]);
    expectValuesClose('ndtri(ndtr(x))', values(ndtri(ndtr(x))), values(x), { rtol: 1e-14, atol: 1e-15 });
    expectValuesClose(
      'logNdtr',
      values(logNdtr(f64([-1e10, -40, 0, 10, INF]))),
      [-5e19, -804.6084420137538, -Math.LN2, -7.619853024160525e-24, 0],
      {
        rtol: 2e-15,
      },
    );
  });

  it('the Bessel functions: values, symmetry, and Infinity where they overflow', () => {
    expectValuesClose(
      'i0',
      values(i0(f64([0, 1, -1, 10, 700]))),
      [1, 1.2660658777520084, 1.2660658777520084, 2815.7166284662544, 1.5295933476718737e302],
      {
        rtol: 2e-15,
      },
    );
    expectValuesClose('i1', values(i1(f64([0, 1, -1, 10]))), [0, 0.565159103992485, -0.565159103992485, 2670.9883037012546], {
      rtol: 2e-15,
    });
    expect(values(i0(f64([INF, -INF, 720, NAN])))).toEqual([INF, INF, INF, NAN]);
    expect(values(i1(f64([INF, -INF, NAN])))).toEqual([INF, -INF, NAN]);
    expect(values(i0e(f64([INF, -INF])))).toEqual([0, 0]);
    expectValuesClose('i0e, i1e', [...values(i0e(f64([100]))), ...values(i1e(f64([-100])))], [0.03994437929909668, -0.03974415302513025], {
      rtol: 2e-15,
    });
    // float32 stays finite as far as the result does: exp(|x|) alone overflows from 88.7.
    expectValuesClose('float32 i0', values(i0(tensor([90]))), [5.139238345508664e37], { rtol: 2e-6 });
  });

  it('mvlgamma sums lgamma over half-integer shifts', () => {
    const x = f64([2.5, 3, 10]);
    const expected = values(lgamma(x)).map((v, i) => {
      const xi = [2.5, 3, 10][i] as number;
      return (
        v + (values(lgamma(f64([xi - 0.5])))[0] as number) + (values(lgamma(f64([xi - 1])))[0] as number) + (3 * Math.log(Math.PI)) / 2
      );
    });
    expectValuesClose('mvlgamma', values(mvlgamma(x, 3)), expected, { rtol: 1e-15 });
    expect(values(mvlgamma(x, 1))).toEqual(values(lgamma(x)));
    expect(() => mvlgamma(x, 0)).toThrow(/positive integer/);
  });
});

describe('special function dtypes', () => {
  it('integers compute in float32, half dtypes in float32 rounded once', () => {
    expect(lgamma(tensor([1, 2, 3], { dtype: 'int32' })).dtype).toBe('float32');
    expect(values(lgamma(tensor([1, 2, 3], { dtype: 'int32' })))).toEqual([0, 0, Math.fround(Math.LN2)]);
    expectHalfDtypesRoundedOnce('lgamma', lgamma, [0.5, 3, 7.25]);
    expectHalfDtypesRoundedOnce('digamma', digamma, [0.5, 3, 7.25]);
    expectHalfDtypesRoundedOnce('erfc', erfc, [-2, 0.5, 1.5]);
    expectHalfDtypesRoundedOnce('i0', i0, [0.5, 3, 7.25]);
  });

  it('float32 agrees with float64 to its precision over wide ranges', () => {
    const check = (name: string, f: (x: Tensor) => Tensor, xs: number[], tolerance: Tolerance): void => {
      const x32 = tensor(xs, { dtype: 'float32' });
      const y32 = f(x32);
      expect(y32.dtype).toBe('float32');
      const y64 = values(f(x32.astype('float64'))).map((v) => (Math.abs(v) > 3.4028234663852886e38 ? Math.sign(v) * INF : v));
      // Results beneath float32's normal range keep fewer digits.
      const kept = y64.map((v, i) => (Math.abs(v) < 1e-37 && v !== 0 ? (values(y32)[i] as number) : v));
      expectValuesClose(`float32 ${name}`, values(y32), kept, tolerance, values(x32));
    };
    const moderate = spread(-30, 1.5, 0.19, 30, 601);
    check('lgamma', lgamma, moderate, { rtol: 1e-6, atol: 2e-6 });
    check('digamma', digamma, moderate, { rtol: 1e-6, atol: 2e-6 });
    check('polygamma(1)', (x) => polygamma(1, x), moderate, { rtol: 2e-6, atol: 1e-6 });
    check(
      'polygamma(2)',
      (x) => polygamma(2, x),
      moderate.filter((x) => Math.abs(x) > 1e-12),
      { rtol: 2e-6, atol: 1e-6 },
    );
    check('erfc', erfc, moderate, { rtol: 1e-6 });
    check(
      'erfcx',
      erfcx,
      moderate.filter((x) => x > -9),
      { rtol: 1e-6 },
    );
    check('ndtr', ndtr, moderate, { rtol: 1e-6 });
    check('logNdtr', logNdtr, moderate, { rtol: 1e-6 });
    check(
      'ndtri',
      ndtri,
      PROBABILITIES.filter((p) => p > 1e-37),
      { rtol: 1e-6, atol: 1e-7 },
    );
    check('i0', i0, moderate, { rtol: 1e-6 });
    check('i0e', i0e, moderate, { rtol: 1e-6 });
    check('i1', i1, moderate, { rtol: 2e-6 });
    check('i1e', i1e, moderate, { rtol: 2e-6 });
  });
});

describe('special function derivatives', () => {
  const x = f64([0.3, 1, 2.5, 7, -0.7, -3.2]);

  it('lgamma, digamma and polygamma differentiate to the next function, to every order', () => {
    expect(values(grad((t: Tensor) => lgamma(t).sum())(x))).toEqual(values(digamma(x)));
    expect(values(grad((t: Tensor) => digamma(t).sum())(x))).toEqual(values(polygamma(1, x)));
    expect(values(grad((t: Tensor) => polygamma(2, t).sum())(x))).toEqual(values(polygamma(3, x)));
    expect(values(grad((u: Tensor) => grad((t: Tensor) => lgamma(t).sum())(u).sum())(x))).toEqual(values(polygamma(1, x)));
    const [, tangent] = jvp((t: Tensor) => lgamma(t), [x], [f64([1, 1, 1, 1, 1, 1])]);
    expect(values(tangent)).toEqual(values(digamma(x)));
    const [, second] = jvp(
      grad((t: Tensor) => lgamma(t).sum()),
      [x],
      [f64([1, 1, 1, 1, 1, 1])],
    );
    expect(values(second)).toEqual(values(polygamma(1, x)));
  });

  it('the tape gives the same gradients, and i0 differentiates to i1', () => {
    const leaf = x.detach().requiresGrad_();
    lgamma(leaf).add(i0(leaf)).sum().backward();
    expectValuesClose('backward()', values(leaf.grad as Tensor), values(digamma(x).add(i1(x))), { rtol: 1e-15 });
    expect(values(grad((t: Tensor) => i0(t).sum())(x))).toEqual(values(i1(x)));
    // i1 and i1e at 0: the limit 1/2.
    expect(values(grad((t: Tensor) => i1(t).sum())(f64([0])))).toEqual([0.5]);
    expect(values(grad((t: Tensor) => i1e(t).sum())(f64([0])))).toEqual([0.5]);
  });

  it('erfc, ndtr and ndtri have the analytic derivatives, finite far into the tails', () => {
    const points = f64([-30, -3, 0, 2, 25]);
    const gaussian = values(points).map((v) => (2 / Math.sqrt(Math.PI)) * Math.exp(-v * v));
    expectValuesClose(
      'erfc',
      values(grad((t: Tensor) => erfc(t).sum())(points)),
      gaussian.map((g) => -g),
      { rtol: 1e-14 },
    );
    const slope = values(grad((t: Tensor) => logNdtr(t).sum())(f64([-1e5, -40, 0])));
    expectValuesClose("logNdtr'", slope, [100000.00001, 40.02496884720726, 0.7978845608028654], { rtol: 1e-13 });
    const p = f64([1e-200, 0.3, 0.9]);
    const dx = values(grad((t: Tensor) => ndtri(t).sum())(p));
    const xs = values(ndtri(p));
    expectValuesClose(
      "ndtri'",
      dx,
      xs.map((v) => Math.sqrt(2 * Math.PI) * Math.exp((v * v) / 2)),
      { rtol: 1e-13 },
    );
  });

  it('vmap and jit give the values of the eager calls', () => {
    const batch = tensor(
      [
        [0.3, 2.5],
        [-0.7, 9],
      ],
      { dtype: 'float64' },
    );
    for (const f of [lgamma, digamma, erfc, ndtri, i1e]) expectVmapAndJitLikeEager(f.name, f, f === ndtri ? batch.abs().div(10) : batch);
    expect(values(vmap(grad((t: Tensor) => lgamma(t).sum()))(batch))).toEqual(values(digamma(batch)));
  });

  it('the special namespace holds them under torch.special names', () => {
    expect(special.gammaln).toBe(lgamma);
    expect(special.psi).toBe(digamma);
    expect(special.multigammaln).toBe(mvlgamma);
    expect(special.ndtri).toBe(ndtri);
    expect(values(special.expit(f64([0])))).toEqual([0.5]);
  });
});

interface Comparison {
  readonly name: string;
  readonly torch: string;
  readonly flint: (x: Tensor) => Tensor;
  readonly points: readonly number[];
  readonly values: Tolerance;
  /** Compare the gradient too, at these points (default: the finite points). */
  readonly gradient?: Tolerance;
  readonly gradientPoints?: readonly number[];
}

const finite = (xs: readonly number[]): number[] => xs.filter((v) => Number.isFinite(v));
const awayFromPoles = (xs: readonly number[]): number[] => finite(xs).filter((v) => !isNegativeInteger(v) && Math.abs(v) > 1e-250);
const SPECIAL_VALUES = [0, -0, INF, -INF, NAN];

const COMPARISONS: Comparison[] = [
  {
    name: 'lgamma',
    torch: 'torch.lgamma(x)',
    flint: lgamma,
    points: [...GAMMA_POINTS, ...NEGATIVE_INTEGERS, ...SPECIAL_VALUES],
    values: { rtol: 1e-13, atol: 1e-14 },
    gradient: { rtol: 1e-12, atol: 1e-12 },
    gradientPoints: awayFromPoles(GAMMA_POINTS).filter((x) => x > -1e4),
  },
  {
    name: 'digamma',
    torch: 'torch.digamma(x)',
    flint: digamma,
    points: [...GAMMA_POINTS, ...NEGATIVE_INTEGERS, ...SPECIAL_VALUES],
    values: { rtol: 1e-12, atol: 1e-13 },
    // PyTorch's trigamma is good to about 5e-10.
    gradient: { rtol: 2e-9, atol: 1e-12 },
    gradientPoints: awayFromPoles(GAMMA_POINTS).filter((x) => x > -1e4),
  },
  {
    name: 'polygamma(1)',
    torch: 'torch.polygamma(1, x)',
    flint: (x) => polygamma(1, x),
    // PyTorch's trigamma takes sin(pi x) of the unreduced x: off by |x| ulps, and a large finite
    // number at negative integers (Flint: the pole's Infinity).
    points: [...GAMMA_POINTS.filter((x) => x > -1e4 && !isNegativeInteger(x)), 0, INF, -INF, NAN],
    values: { rtol: 2e-9 },
    gradient: { rtol: 1e-12 },
    gradientPoints: awayFromPoles(GAMMA_POINTS).filter((x) => x > -1e4 && Math.abs(x) > 1e-60 && x < 1e100),
  },
  {
    name: 'polygamma(2)',
    torch: 'torch.polygamma(2, x)',
    flint: (x) => polygamma(2, x),
    // PyTorch gives NaN at +Infinity, ±Infinity at -Infinity, and 0 once x^-3 underflows (Flint
    // takes x^-2 / 2 first); its Hurwitz zeta sums one term per unit from a negative x up to 9,
    // so large negative x would never return.
    points: [...GAMMA_POINTS.filter((x) => Math.abs(x) > 1e-100 && x > -1e4 && x < 1e100), ...NEGATIVE_INTEGERS, 0, NAN],
    values: { rtol: 1e-12, atol: 1e-300 },
  },
  {
    name: 'polygamma(4)',
    torch: 'torch.polygamma(4, x)',
    flint: (x) => polygamma(4, x),
    points: GAMMA_POINTS.filter((x) => Math.abs(x) > 1e-60 && x < 1e60 && x > -1e4),
    values: { rtol: 1e-12, atol: 1e-300 },
  },
  {
    name: 'erfc',
    torch: 'torch.special.erfc(x)',
    flint: erfc,
    points: [...ERROR_POINTS, ...SPECIAL_VALUES],
    values: { rtol: 1e-14, atol: 1e-320 },
    gradient: { rtol: 1e-13, atol: 1e-320 },
  },
  {
    name: 'erfcx',
    torch: 'torch.special.erfcx(x)',
    flint: erfcx,
    points: [...ERROR_POINTS.filter((x) => x >= -5), ...SPECIAL_VALUES],
    values: { rtol: 1e-14 },
    gradient: { rtol: 1e-12, atol: 1e-15 },
    gradientPoints: finite(ERROR_POINTS).filter((x) => x >= -5 && x < 1e8),
  },
  {
    name: 'erfcx (below -5)',
    torch: 'torch.special.erfcx(x)',
    flint: erfcx,
    // PyTorch rounds x² before exp(x²): off by up to x² ulps (8e-14 at -26.5). The values
    // section above checks Flint's against exact ones there.
    points: ERROR_POINTS.filter((x) => x < -5),
    values: { rtol: 1.5e-13 },
  },
  {
    name: 'ndtr',
    // PyTorch 1.13's ndtr is off by 1e-10 at x = -5 and underflows from -12; its erfc of the
    // scaled argument is off only by rounding x/√2 (2 (x/√2)² ulps).
    torch: '0.5 * torch.special.erfc(-x / math.sqrt(2))',
    flint: ndtr,
    points: [...ERROR_POINTS.filter((x) => Math.abs(x) < 38), ...SPECIAL_VALUES],
    values: { rtol: 2e-13 },
    gradient: { rtol: 2e-13, atol: 1e-320 },
  },
  {
    name: 'logNdtr',
    torch: 'torch.special.log_ndtr(x)',
    flint: logNdtr,
    points: [...ERROR_POINTS, ...SPECIAL_VALUES],
    // PyTorch's log1p(-erfc(x/√2)/2) above 0 rounds x/√2 first (x² ulps: 1e-13 at x = 29).
    values: { rtol: 2e-13, atol: 1e-300 },
    // PyTorch's backward exp(-(log Φ + x²/2)) loses digits as x goes down the tail.
    gradient: { rtol: 1e-9, atol: 1e-300 },
    gradientPoints: finite(ERROR_POINTS).filter((x) => Math.abs(x) < 20),
  },
  {
    name: 'ndtri',
    torch: 'torch.special.ndtri(x)',
    flint: ndtri,
    points: [...PROBABILITIES, 0, 1, -0.5, 1.5, NAN],
    values: { rtol: 1e-14, atol: 1e-15 },
    // sqrt(2 pi) exp(x²/2): PyTorch rounds x² (x²/2 ulps, 4e-14 at p = 1e-170).
    gradient: { rtol: 1e-12 },
    gradientPoints: PROBABILITIES,
  },
  {
    name: 'i0',
    torch: 'torch.special.i0(x)',
    flint: i0,
    // PyTorch gives NaN at ±Infinity, and Infinity from 709.8 where Flint's is finite to 713.9.
    points: [...BESSEL_POINTS.filter((x) => Math.abs(x) < 709), 0, -0, NAN],
    values: { rtol: 1e-14 },
    gradient: { rtol: 1e-14 },
  },
  {
    name: 'i0e',
    torch: 'torch.special.i0e(x)',
    flint: i0e,
    points: [...BESSEL_POINTS, ...SPECIAL_VALUES],
    values: { rtol: 1e-14 },
    gradient: { rtol: 1e-13, atol: 1e-16 },
  },
  {
    name: 'i1',
    torch: 'torch.special.i1(x)',
    flint: i1,
    points: [...BESSEL_POINTS.filter((x) => Math.abs(x) < 709), 0, -0, NAN],
    values: { rtol: 1e-14 },
    gradient: { rtol: 1e-13 },
  },
  {
    name: 'i1e',
    torch: 'torch.special.i1e(x)',
    flint: i1e,
    points: [...BESSEL_POINTS, ...SPECIAL_VALUES],
    values: { rtol: 1e-14 },
    gradient: { rtol: 1e-13, atol: 1e-16 },
  },
  {
    name: 'mvlgamma (p = 3)',
    torch: 'torch.mvlgamma(x, 3)',
    flint: (x) => mvlgamma(x, 3),
    points: finite(GAMMA_POINTS).filter((x) => x > 1.01),
    values: { rtol: 1e-13 },
    gradient: { rtol: 1e-12 },
  },
];

describeAgainstTorch('special functions against PyTorch', () => {
  let results: TorchResult[] = [];
  beforeAll(() => {
    const cases: TorchCase[] = COMPARISONS.flatMap((c) => [
      { expression: c.torch, inputs: { x: { values: c.points } } },
      ...(c.gradient === undefined
        ? []
        : [{ expression: c.torch, inputs: { x: { values: c.gradientPoints ?? finite(c.points) } }, gradients: ['x'] }]),
    ]);
    results = runTorch(cases);
  });

  COMPARISONS.forEach((c, k) => {
    it(`${c.name}: values${c.gradient === undefined ? '' : ' and gradients'} agree`, () => {
      const index = COMPARISONS.slice(0, k).reduce((n, p) => n + (p.gradient === undefined ? 1 : 2), 0);
      const expected = results[index] as TorchResult;
      expectValuesClose(c.name, values(c.flint(f64(c.points))), expected.outputs[0]?.values ?? [], c.values, c.points);
      if (c.gradient !== undefined) {
        const points = c.gradientPoints ?? finite(c.points);
        const torchGradient = (results[index + 1] as TorchResult).gradients.x ?? [];
        const flintGradient = values(grad((t: Tensor) => c.flint(t).sum())(f64(points)));
        expectValuesClose(`${c.name} gradient`, flintGradient, torchGradient, c.gradient, points);
      }
    });
  });
});
