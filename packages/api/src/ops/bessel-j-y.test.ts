import '@flint/backend-cpu';
import {
  besselJ0,
  besselJ1,
  besselY0,
  besselY1,
  grad,
  i0,
  i1,
  modifiedBesselI0,
  modifiedBesselI1,
  modifiedBesselK0,
  modifiedBesselK1,
  scaledModifiedBesselK0,
  scaledModifiedBesselK1,
  special,
  sphericalBesselJ0,
  type Tensor,
  tensor,
} from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  describeAgainstTorch,
  expectValuesClose,
  runTorch,
  type Tolerance,
  type TorchResult,
} from '../../../../test/support/torch-oracle.test-support.js';
import { expectVmapAndJitLikeEager, f64, INF, mpmath, NAN, values } from './special.test-support.js';

// The Bessel functions of torch.special (ops/bessel-j-y.ts, ops/modified-bessel.ts): the special
// values, the zero gradient PyTorch's "non-differentiable" gives, float32 against float64, and
// values against PyTorch over wide ranges.

/** 10^-20 to 10^3.5, a dense linear grid over [0, 40], the switch points and J's zeros. */
const POSITIVE = [
  ...Array.from({ length: 95 }, (_, i) => 10 ** (-20 + i / 4)),
  ...Array.from({ length: 400 }, (_, i) => 0.1 * (i + 1)),
  2 - 1e-12,
  2,
  2 + 1e-12,
  8 - 1e-12,
  8,
  8 + 1e-12,
  2.404825557695773,
  5.520078110286311,
  3.8317059702075125,
  7.015586669815619,
  1e5 + 0.3,
  1e10,
];
const BOTH_SIGNS = [...POSITIVE, ...POSITIVE.map((x) => -x)];
const EDGES = [0, -0, INF, -INF, NAN];

type Unary = (x: Tensor) => Tensor;
/**
 * PyTorch 1.13's J and Y are off by up to 7.5e-7 (near x = 5, where its Hankel form starts): they
 * are compared to PyTorch that loosely (the special values exactly), and to mpmath (through
 * PyTorch's Python, which has it) to a few ulps of max(1, |value|): beyond 8 the error is
 * absolute, a few ulps of the envelope sqrt(2/(pi x)), as any Hankel form's.
 */
const OSCILLATING: { name: string; torch: string; mpmath: string; flint: Unary; points: readonly number[] }[] = [
  { name: 'besselJ0', torch: 'bessel_j0', mpmath: 'm.besselj(0, x)', flint: besselJ0, points: BOTH_SIGNS },
  { name: 'besselJ1', torch: 'bessel_j1', mpmath: 'm.besselj(1, x)', flint: besselJ1, points: BOTH_SIGNS },
  { name: 'besselY0', torch: 'bessel_y0', mpmath: 'm.bessely(0, x)', flint: besselY0, points: POSITIVE },
  { name: 'besselY1', torch: 'bessel_y1', mpmath: 'm.bessely(1, x)', flint: besselY1, points: POSITIVE },
];
const PYTORCH_J_Y_ERROR = 1e-6;
const FUNCTIONS: { name: string; torch: string; flint: Unary; points: readonly number[]; tolerance: Tolerance }[] = [
  ...OSCILLATING.map((f) => ({ ...f, points: BOTH_SIGNS, tolerance: { rtol: PYTORCH_J_Y_ERROR, atol: PYTORCH_J_Y_ERROR } })),
  { name: 'modifiedBesselK0', torch: 'modified_bessel_k0', flint: modifiedBesselK0, points: BOTH_SIGNS, tolerance: { rtol: 3e-15 } },
  { name: 'modifiedBesselK1', torch: 'modified_bessel_k1', flint: modifiedBesselK1, points: BOTH_SIGNS, tolerance: { rtol: 3e-15 } },
  {
    name: 'scaledModifiedBesselK0',
    torch: 'scaled_modified_bessel_k0',
    flint: scaledModifiedBesselK0,
    points: BOTH_SIGNS,
    tolerance: { rtol: 3e-15 },
  },
  {
    name: 'scaledModifiedBesselK1',
    torch: 'scaled_modified_bessel_k1',
    flint: scaledModifiedBesselK1,
    points: BOTH_SIGNS,
    tolerance: { rtol: 3e-15 },
  },
  // PyTorch's modified_bessel_i0/i1 overflow at 709.8 where i0's stays finite to 713.9.
  {
    name: 'modifiedBesselI0',
    torch: 'modified_bessel_i0',
    flint: modifiedBesselI0,
    points: BOTH_SIGNS.filter((x) => Math.abs(x) < 709),
    tolerance: { rtol: 2e-15 },
  },
  {
    name: 'modifiedBesselI1',
    torch: 'modified_bessel_i1',
    flint: modifiedBesselI1,
    points: BOTH_SIGNS.filter((x) => Math.abs(x) < 709),
    tolerance: { rtol: 2e-15 },
  },
  {
    name: 'sphericalBesselJ0',
    torch: 'spherical_bessel_j0',
    flint: sphericalBesselJ0,
    points: BOTH_SIGNS,
    tolerance: { rtol: 2e-15, atol: 1e-17 },
  },
];

describe('Bessel functions of torch.special', () => {
  it('the special values: PyTorch where it gives a limit, the limit 0 at ±Infinity where it gives NaN', () => {
    expect(values(besselJ0(f64(EDGES)))).toEqual([1, 1, 0, 0, NAN]);
    expect(values(besselJ1(f64(EDGES)))).toEqual([0, -0, 0, -0, NAN]);
    expect(values(besselY0(f64([...EDGES, -1])))).toEqual([-INF, -INF, 0, NAN, NAN, NAN]);
    expect(values(besselY1(f64([...EDGES, -1])))).toEqual([-INF, -INF, 0, NAN, NAN, NAN]);
    for (const k of [modifiedBesselK0, modifiedBesselK1])
      expect(values(k(f64([...EDGES, -1, 800])))).toEqual([INF, INF, 0, NAN, NAN, NAN, 0]);
    for (const k of [scaledModifiedBesselK0, scaledModifiedBesselK1])
      expect(values(k(f64([...EDGES, -1])))).toEqual([INF, INF, 0, NAN, NAN, NAN]);
    expect(values(sphericalBesselJ0(f64(EDGES)))).toEqual([1, 1, 0, 0, NAN]);
    expect(values(modifiedBesselI0(f64(EDGES)))).toEqual(values(i0(f64(EDGES))));
    expect(values(modifiedBesselI1(f64(EDGES)))).toEqual(values(i1(f64(EDGES))));
    expectValuesClose(
      'known values',
      [
        ...values(besselJ0(f64([1]))),
        ...values(besselY1(f64([1]))),
        ...values(modifiedBesselK0(f64([1]))),
        ...values(scaledModifiedBesselK1(f64([800]))),
      ],
      [0.7651976865579666, -0.7812128213002887, 0.42102443824070834, 0.04433210911141211],
      { rtol: 2e-16 },
    );
  });

  it('J0 and J1 keep relative precision at their zeros below 8', () => {
    // Within 1e-13 of the zeros (mpmath's values at these float64 points).
    expectValuesClose(
      'J0 at its zeros',
      values(besselJ0(f64([2.4048255576957, 5.5200781102863]))),
      [3.7748751853577565e-14, -3.654112947455588e-15],
      {
        rtol: 1e-14,
      },
    );
    expectValuesClose(
      'J1 at its zeros',
      values(besselJ1(f64([3.8317059702075, 7.0155866698156]))),
      [4.946612776752651e-15, -5.569429636826478e-15],
      {
        rtol: 1e-14,
      },
    );
  });

  it('PyTorch defines no derivatives: gradients through them are zero, on the tape too', () => {
    const x = f64([0.5, 3, 9.5]);
    for (const f of [
      besselJ0,
      besselJ1,
      besselY0,
      besselY1,
      modifiedBesselI0,
      modifiedBesselI1,
      modifiedBesselK0,
      scaledModifiedBesselK1,
      sphericalBesselJ0,
    ]) {
      expect(values(grad((t: Tensor) => f(t).add(t).sum())(x))).toEqual([1, 1, 1]);
    }
    const leaf = x.detach().requiresGrad_();
    besselJ0(leaf).mul(leaf).sum().backward();
    expect(values(leaf.grad as Tensor)).toEqual(values(besselJ0(x)));
  });

  it('float32 agrees with float64 to its precision (absolute for J and Y, relative for K and j0)', () => {
    const xs = POSITIVE.filter((x) => x < 80 && x > 1e-30);
    const x32 = tensor(xs, { dtype: 'float32' });
    const x64 = x32.astype('float64');
    for (const f of [besselJ0, besselJ1, besselY0, besselY1]) {
      const exact = values(f(x64));
      const atol = exact.map((v) => 2e-6 * Math.max(Math.abs(v), 1));
      const y = values(f(x32));
      expect(y.every((v, i) => Math.abs(v - (exact[i] as number)) <= (atol[i] as number))).toBe(true);
    }
    for (const f of [modifiedBesselK0, modifiedBesselK1, scaledModifiedBesselK0, scaledModifiedBesselK1, sphericalBesselJ0]) {
      const kept = xs.filter((x) => x < 60);
      const t = tensor(kept, { dtype: 'float32' });
      expectValuesClose('float32', values(f(t)), values(f(t.astype('float64'))), { rtol: 2e-6, atol: 1e-7 }, kept);
    }
  });

  it('integers compute in float32, half dtypes in float32; the namespace, vmap and jit', () => {
    expect(besselJ0(tensor([1, 2], { dtype: 'int32' })).dtype).toBe('float32');
    expect(besselY0(tensor([1, 2], { dtype: 'float16' })).dtype).toBe('float16');
    expect(special.besselJ0).toBe(besselJ0);
    expect(special.scaledModifiedBesselK1).toBe(scaledModifiedBesselK1);
    const batch = tensor(
      [
        [0.5, 12],
        [3, 1.5],
      ],
      { dtype: 'float64' },
    );
    for (const f of [besselJ1, besselY0, modifiedBesselK1]) expectVmapAndJitLikeEager(f.name, f, batch);
  });
});

describeAgainstTorch('Bessel functions against PyTorch', () => {
  let results: TorchResult[] = [];
  let exact: TorchResult[] = [];
  beforeAll(() => {
    results = runTorch(
      FUNCTIONS.map((f) => ({ expression: `torch.special.${f.torch}(x)`, inputs: { x: { values: [...f.points, 0, NAN] } } })),
    );
    exact = runTorch(OSCILLATING.map((f) => ({ expression: mpmath(f.mpmath, 30), inputs: { x: { values: f.points } } })));
  });
  OSCILLATING.forEach((f, k) => {
    it(`${f.name} is within a few ulps of max(1, |value|) of mpmath`, () => {
      const y = values(f.flint(f64(f.points)));
      const expected = exact[k]?.outputs[0]?.values ?? [];
      // |error| <= 1e-14 max(1, |value|): atol 1e-14 covers |value| < 1, rtol 1e-14 the rest (Y near 0).
      expectValuesClose(f.name, y, expected, { rtol: 1e-14, atol: 1e-14 }, f.points);
      // Beyond 8: a few ulps of the envelope sqrt(2/(pi x)).
      const envelopeError = Math.max(
        ...y.flatMap((v, i) => {
          const x = Math.abs(f.points[i] as number);
          return x > 8 ? [Math.abs(v - (expected[i] as number)) / Math.sqrt(2 / (Math.PI * x))] : [];
        }),
      );
      expect(envelopeError).toBeLessThan(8e-15);
    });
  });
  FUNCTIONS.forEach((f, k) => {
    it(`${f.name} agrees with torch.special.${f.torch}`, () => {
      const points = [...f.points, 0, NAN];
      expectValuesClose(f.name, values(f.flint(f64(points))), results[k]?.outputs[0]?.values ?? [], f.tolerance, points);
    });
  });
});
