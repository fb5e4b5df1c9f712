import '@flint/backend-cpu';
import {
  copysign,
  deg2rad,
  entr,
  floatPower,
  fmod,
  grad,
  heaviside,
  hypot,
  logaddexp,
  logaddexp2,
  logit,
  mod,
  nanToNum,
  rad2deg,
  remainder,
  sgn,
  signbit,
  sinc,
  type Tensor,
  tensor,
  xlog1py,
  xlogy,
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
import { f64, INF, NAN, values } from './special.test-support.js';

// ops/torch-elementwise.ts: special values as PyTorch gives them, dtypes, the derivatives at the
// points where the composites choose (ties, zeros), and values and gradients against PyTorch on
// grids of operand pairs.

describe('elementwise conveniences: special values', () => {
  it('logaddexp and logaddexp2: no overflow, equal infinities, NaN', () => {
    expectValuesClose(
      'logaddexp',
      values(logaddexp(f64([1000, 0, -1000, 5]), f64([1000, 0, -1000, -INF]))),
      [1000 + Math.LN2, Math.LN2, -1000 + Math.LN2, 5],
      { rtol: 1e-15 },
    );
    expect(values(logaddexp(f64([INF, -INF, INF, NAN]), f64([INF, -INF, -INF, 1])))).toEqual([INF, -INF, INF, NAN]);
    // log1p, not log(1 + ...): the small correction keeps its digits (PyTorch 1.13's CPU kernel
    // gives 2.0611536900435727e-9 and 0 here).
    expectValuesClose('logaddexp', values(logaddexp(f64([0, -50]), f64([-20, 0]))), [2.0611536203143804e-9, 1.9287498479639178e-22], {
      rtol: 5e-16,
    });
    expect(values(logaddexp2(f64([1, 3, INF, -INF]), f64([1, 3, INF, -INF])))).toEqual([2, 4, INF, -INF]);
  });

  it('xlogy and xlog1py: 0 where x == 0 whatever y, NaN where y is NaN', () => {
    expect(values(xlogy(f64([0, 0, 0, 1, 2, 0, -1]), f64([0, NAN, INF, 0, -1, -1, Math.E])))).toEqual([0, NAN, 0, -INF, NAN, 0, -1]);
    expect(values(xlog1py(f64([0, 0, 1, 3]), f64([-1, NAN, -1, 0])))).toEqual([0, NAN, -INF, 0]);
  });

  it('hypot neither overflows nor underflows, and an infinity wins over NaN', () => {
    expectValuesClose(
      'hypot',
      values(hypot(f64([3, 1e300, 3e-300, -5]), f64([4, 1e300, 4e-300, 12]))),
      [5, Math.SQRT2 * 1e300, 5e-300, 13],
      {
        rtol: 2e-16,
      },
    );
    expect(values(hypot(f64([INF, NAN, 0, -INF]), f64([NAN, -INF, 0, 1])))).toEqual([INF, INF, 0, INF]);
    expect(values(hypot(f64([NAN]), f64([1])))).toEqual([NAN]);
  });

  it('copysign and signbit see the sign of zero', () => {
    expect(values(copysign(f64([1, 2, 3, -4, NAN]), f64([-1, 0, -0, INF, -1])))).toEqual([-1, 2, -3, 4, NAN]);
    expect(values(signbit(f64([-1, -0, 0, 2, -INF, NAN])))).toEqual([1, 1, 0, 0, 1, 0]);
    expect(signbit(f64([1])).dtype).toBe('bool');
    expect(values(signbit(tensor([-3, 0, 4], { dtype: 'int32' })))).toEqual([1, 0, 0]);
    expect(values(signbit(tensor([true, false])))).toEqual([0, 0]);
  });

  it('heaviside: 0, values or 1, NaN counting as below, in the promoted dtype', () => {
    expect(values(heaviside(f64([-1, 0, -0, 2, NAN]), 0.5))).toEqual([0, 0.5, 0.5, 1, 0]);
    const ints = heaviside(tensor([-1, 0, 1], { dtype: 'int32' }), tensor([5], { dtype: 'int32' }));
    expect(ints.dtype).toBe('int32');
    expect(values(ints)).toEqual([0, 5, 1]);
  });

  it('sinc is 1 at 0, exactly 0 at the other integers up to rounding, NaN at infinity', () => {
    expect(values(sinc(f64([0, -0, INF, NAN])))).toEqual([1, 1, NAN, NAN]);
    expectValuesClose('sinc', values(sinc(f64([0.5, 1, 1e-20]))), [2 / Math.PI, 0, 1], { rtol: 1e-15, atol: 1e-16 });
    expect(sinc(tensor([1], { dtype: 'int32' })).dtype).toBe('float32');
  });

  it('logit with and without eps', () => {
    expect(values(logit(f64([0, 1, 0.5, -1, 2])))).toEqual([-INF, INF, 0, NAN, NAN]);
    const clamped = Math.log(0.1 / 0.9);
    expectValuesClose('logit eps', values(logit(f64([0, 1, 0.5, -1, 2]), 0.1)), [clamped, -clamped, 0, clamped, -clamped], { rtol: 1e-15 });
    expect(() => logit(f64([0.5]), Number.NaN)).toThrow(/eps/);
  });

  it('deg2rad, rad2deg, sgn', () => {
    expectValuesClose('deg2rad', values(deg2rad(f64([180, -90, 0]))), [Math.PI, -Math.PI / 2, 0], { rtol: 1e-16 });
    expect(deg2rad(tensor([180], { dtype: 'int32' })).dtype).toBe('float32');
    expectValuesClose('rad2deg', values(rad2deg(f64([Math.PI, -1]))), [180, -180 / Math.PI], { rtol: 1e-16 });
    expect(values(sgn(f64([-2, 0, 3])))).toEqual([-1, 0, 1]);
  });

  it('nanToNum: defaults by dtype, given replacements, integers untouched', () => {
    expect(values(nanToNum(f64([NAN, INF, -INF, 1.5])))).toEqual([0, Number.MAX_VALUE, -Number.MAX_VALUE, 1.5]);
    expect(values(nanToNum(tensor([NAN, INF, -INF])))).toEqual([0, 3.4028234663852886e38, -3.4028234663852886e38]);
    expect(values(nanToNum(tensor([NAN, INF, -INF], { dtype: 'float16' })))).toEqual([0, 65504, -65504]);
    expect(values(nanToNum(f64([NAN, INF, -INF]), { nan: 1, posinf: 2, neginf: -3 }))).toEqual([1, 2, -3]);
    const ints = tensor([1, 2], { dtype: 'int32' });
    expect(nanToNum(ints)).toBe(ints);
    // @ts-expect-error: PyTorch's positional form is refused with the fix in the message.
    expect(() => nanToNum(f64([NAN]), 1)).toThrow(/nan/);
  });

  it('fmod takes the sign of the dividend, exactly; remainder is mod', () => {
    expect(values(fmod(f64([-3, 3, -3, 3, 5.5, -0, -1e-20, 1, INF]), f64([2, -2, -2, 2, 0, 1, 1, INF, 1])))).toEqual([
      -1,
      1,
      -1,
      1,
      NAN,
      -0,
      -1e-20,
      1,
      NAN,
    ]);
    expect(Object.is(values(fmod(f64([-0]), f64([1])))[0], -0)).toBe(true);
    const ints = fmod(tensor([-7, 7, -7], { dtype: 'int32' }), tensor([3, -3, 0], { dtype: 'int32' }));
    expect(ints.dtype).toBe('int32');
    expect(values(ints)).toEqual([-1, 1, 0]);
    expect(values(remainder(f64([-3, 3]), 2))).toEqual(values(mod(f64([-3, 3]), 2)));
  });

  it('floatPower computes in float64', () => {
    const y = floatPower(tensor([2, 3], { dtype: 'int32' }), -1);
    expect(y.dtype).toBe('float64');
    expect(values(y)).toEqual([0.5, 1 / 3]);
  });

  it('entr: 0 at 0, -Infinity below, NaN kept', () => {
    expect(values(entr(f64([0, -1, NAN, INF, 1])))).toEqual([0, -INF, NAN, -INF, -0]);
    expectValuesClose('entr', values(entr(f64([0.5]))), [0.5 * Math.LN2], { rtol: 1e-15 });
  });
});

describe('elementwise conveniences: derivatives where the composites choose', () => {
  const gradients = (f: (a: Tensor, b: Tensor) => Tensor, a: number[], b: number[]): [number[], number[]] => {
    const [ga, gb] = grad((x: Tensor, y: Tensor) => f(x, y).sum(), { argnums: [0, 1] })(f64(a), f64(b)) as Tensor[];
    return [values(ga as Tensor), values(gb as Tensor)];
  };

  it('logaddexp splits a tie evenly, and its second derivative there is 1/4', () => {
    expect(gradients(logaddexp, [2], [2])).toEqual([[0.5], [0.5]]);
    const second = grad((x: Tensor) => grad((t: Tensor) => logaddexp(t, 2).sum())(x).sum())(f64([2]));
    expect(values(second)).toEqual([0.25]);
    expect(gradients(logaddexp2, [3], [3])).toEqual([[0.5], [0.5]]);
  });

  it('hypot: x / hypot, and 0 at the origin', () => {
    const [ga, gb] = gradients(hypot, [3, 0], [4, 0]);
    expectValuesClose('hypot gradient', [...ga, ...gb], [0.6, 0, 0.8, 0], { rtol: 2e-16 });
  });

  it('xlogy at x == 0: log(y) where finite, else 0; copysign at a == 0: 0; never NaN', () => {
    expectValuesClose(
      'xlogy gradient',
      gradients(xlogy, [0, 2, 0, 0], [0, Math.E, 2, INF]).flat(),
      [0, 1, Math.LN2, 0, 0, 2 / Math.E, 0, 0],
      {
        rtol: 2e-16,
      },
    );
    expect(Object.is(values(xlogy(f64([0]), f64([0.5])))[0], 0)).toBe(true);
    expectValuesClose('copysign gradient', gradients(copysign, [0, -2], [-1, -1]).flat(), [0, 1, 0, 0], { rtol: 0 });
  });

  it('sinc has derivative 0 at 0 and the right ones nearby and above, entr 0 at 0', () => {
    expect(values(grad((x: Tensor) => sinc(x).sum())(f64([0])))).toEqual([0]);
    expectValuesClose(
      'sinc near 0',
      values(grad((x: Tensor) => sinc(x).sum())(f64([1e-10, 0.02]))),
      [(-(Math.PI ** 2) * 1e-10) / 3, (Math.PI * 0.02 * Math.cos(Math.PI * 0.02) - Math.sin(Math.PI * 0.02)) / (Math.PI * 0.02 * 0.02)],
      { rtol: 1e-12 },
    );
    const second = grad((x: Tensor) => grad((t: Tensor) => sinc(t).sum())(x).sum())(f64([0]));
    expectValuesClose('sinc second derivative at 0', values(second), [-(Math.PI ** 2) / 3], { rtol: 1e-15 });
    expect(values(grad((x: Tensor) => entr(x).sum())(f64([0, 1])))).toEqual([0, -1]);
  });

  it('fmod: 1 for the dividend (at 0 too), -trunc(a / b) for the divisor', () => {
    expect(gradients(fmod, [-7, 7, 0, -0], [2, -2, 3, 3])).toEqual([
      [1, 1, 1, 1],
      [3, 3, -0, 0],
    ]);
  });

  it('logit with eps: 0 outside the bounds, the bounds themselves inside', () => {
    const g = values(grad((x: Tensor) => logit(x, 0.25).sum())(f64([0.1, 0.25, 0.5, 0.9])));
    expectValuesClose('logit eps gradient', g, [0, 1 / (0.25 * 0.75), 4, 0], { rtol: 1e-15 });
  });
});

describe('elementwise conveniences: Tensor methods', () => {
  it('are the functions', () => {
    const x = f64([0.5, -2, 3]);
    const y = f64([2, 0.5, -1]);
    expect(values(x.logaddexp(y))).toEqual(values(logaddexp(x, y)));
    expect(values(x.hypot(y))).toEqual(values(hypot(x, y)));
    expect(values(x.copysign(y))).toEqual(values(copysign(x, y)));
    expect(values(x.fmod(y))).toEqual(values(fmod(x, y)));
    expect(values(x.remainder(y))).toEqual(values(remainder(x, y)));
    expect(values(x.xlogy(y.abs()))).toEqual(values(xlogy(x, y.abs())));
    expect(values(x.sinc())).toEqual(values(sinc(x)));
    expect(values(x.signbit())).toEqual(values(signbit(x)));
    expect(values(x.sigmoid().logit())).toEqual(values(logit(x.sigmoid())));
    expect(values(x.nanToNum())).toEqual(values(x));
  });
});

/** Operand values with the special ones; the pairs come from broadcasting a column against a row. */
const LEFT = [-1e300, -50, -3.5, -1, -0.3, -0, 0, 1e-300, 0.2, 0.5, 1, 2.5, 7, 80, 1e300, -INF, INF, NAN];
const RIGHT = [-1e300, -20, -2, -0.7, -0, 0, 1e-310, 0.4, 1, 3, 30, 1e300, -INF, INF, NAN];

interface BinaryComparison {
  readonly name: string;
  readonly torch: string;
  readonly flint: (a: Tensor, b: Tensor) => Tensor;
  readonly left?: readonly number[];
  readonly right?: readonly number[];
  readonly tolerance: Tolerance;
  /** Compare gradients on finite operands drawn from these (absent: values only). */
  readonly gradientLeft?: readonly number[];
  readonly gradientRight?: readonly number[];
}

const MODERATE_LEFT = [-3.5, -1, -0.3, 0.2, 0.5, 1, 2.5, 7];
const MODERATE_RIGHT = [-2, -0.7, 0.4, 1, 3, 30];

const BINARY: BinaryComparison[] = [
  {
    name: 'logaddexp',
    torch: 'torch.logaddexp(a, b)',
    flint: logaddexp,
    // PyTorch's CPU kernel takes log(1 + exp(-|a - b|)): off by up to an ulp of 1 (see above).
    tolerance: { rtol: 1e-15, atol: 2.3e-16 },
    gradientLeft: MODERATE_LEFT,
    gradientRight: MODERATE_RIGHT,
  },
  {
    name: 'logaddexp2',
    torch: 'torch.logaddexp2(a, b)',
    flint: logaddexp2,
    tolerance: { rtol: 1e-15, atol: 3.3e-16 },
    gradientLeft: MODERATE_LEFT,
    gradientRight: MODERATE_RIGHT,
  },
  {
    name: 'xlogy',
    torch: 'torch.xlogy(a, b)',
    flint: xlogy,
    tolerance: { rtol: 1e-15 },
    // PyTorch's gradient for x at x == 0 is 0, Flint's log(y): MODERATE_LEFT has no 0.
    gradientLeft: MODERATE_LEFT,
    gradientRight: MODERATE_RIGHT.filter((v) => v > 0),
  },
  {
    name: 'xlog1py',
    torch: 'torch.special.xlog1py(a, b)',
    flint: xlog1py,
    tolerance: { rtol: 1e-15 },
    gradientLeft: MODERATE_LEFT,
    gradientRight: MODERATE_RIGHT.filter((v) => v > -1),
  },
  {
    name: 'hypot',
    torch: 'torch.hypot(a, b)',
    flint: hypot,
    tolerance: { rtol: 3e-16 },
    gradientLeft: MODERATE_LEFT,
    gradientRight: MODERATE_RIGHT,
  },
  {
    name: 'copysign',
    torch: 'torch.copysign(a, b)',
    flint: copysign,
    // The sign of a NaN divisor is what PyTorch reads and Flint cannot.
    right: RIGHT.filter((v) => !Number.isNaN(v)),
    tolerance: { rtol: 0 },
    gradientLeft: MODERATE_LEFT,
    gradientRight: MODERATE_RIGHT,
  },
  { name: 'heaviside', torch: 'torch.heaviside(a, b)', flint: heaviside, tolerance: { rtol: 0 } },
  {
    name: 'fmod',
    torch: 'torch.fmod(a, b)',
    flint: fmod,
    // PyTorch's a - b trunc(a / b) gives NaN once a / b overflows (a subnormal b); Flint's is exact.
    right: RIGHT.filter((v) => !(Math.abs(v) > 0 && Math.abs(v) < 1e-300)),
    tolerance: { rtol: 0 },
    gradientLeft: MODERATE_LEFT,
    gradientRight: MODERATE_RIGHT,
  },
  {
    name: 'remainder',
    torch: 'torch.remainder(a, b)',
    flint: remainder,
    left: LEFT.filter(Number.isFinite),
    right: RIGHT.filter((v) => Number.isFinite(v) && v !== 0 && Math.abs(v) > 1e-300),
    tolerance: { rtol: 1e-15 },
  },
  { name: 'floatPower', torch: 'torch.float_power(a, b)', flint: floatPower, tolerance: { rtol: 1e-15 } },
];

interface UnaryComparison {
  readonly name: string;
  readonly torch: string;
  readonly flint: (x: Tensor) => Tensor;
  readonly points: readonly number[];
  readonly tolerance: Tolerance;
  readonly gradientPoints?: readonly number[];
}

const UNARY_POINTS = [...LEFT, ...Array.from({ length: 81 }, (_, i) => -10 + i / 4), 1e-10, -1e-10, 123456.789];
const UNIT_POINTS = [-0.5, -0, 0, 1e-300, 1e-10, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1 - 1e-10, 1, 1.5, NAN, INF, -INF];

const UNARY: UnaryComparison[] = [
  {
    name: 'sinc',
    torch: 'torch.sinc(x)',
    flint: sinc,
    points: UNARY_POINTS,
    tolerance: { rtol: 1e-14, atol: 1e-16 },
    // PyTorch's (pi x cos(pi x) - sin(pi x)) / (pi x²) cancels to 0 near 0 (Flint: -pi² x / 3).
    gradientPoints: UNARY_POINTS.filter((v) => Number.isFinite(v) && Math.abs(v) < 100 && Math.abs(v) > 1e-3),
  },
  {
    name: 'logit',
    torch: 'torch.logit(x)',
    flint: (x) => logit(x),
    points: UNIT_POINTS,
    tolerance: { rtol: 1e-15 },
    gradientPoints: [0.001, 0.1, 0.5, 0.9],
  },
  {
    name: 'logit (eps)',
    torch: 'torch.logit(x, eps=1e-3)',
    flint: (x) => logit(x, 1e-3),
    points: UNIT_POINTS,
    tolerance: { rtol: 1e-15 },
    gradientPoints: [-0.5, 1e-10, 0.1, 0.5, 0.9, 1.5],
  },
  { name: 'deg2rad', torch: 'torch.deg2rad(x)', flint: deg2rad, points: UNARY_POINTS, tolerance: { rtol: 1e-16 } },
  { name: 'rad2deg', torch: 'torch.rad2deg(x)', flint: rad2deg, points: UNARY_POINTS, tolerance: { rtol: 1e-16 } },
  {
    name: 'signbit',
    torch: 'torch.signbit(x)',
    flint: signbit,
    points: UNARY_POINTS.filter((v) => !Number.isNaN(v)),
    tolerance: { rtol: 0 },
  },
  { name: 'nanToNum', torch: 'torch.nan_to_num(x)', flint: (x) => nanToNum(x), points: UNARY_POINTS, tolerance: { rtol: 0 } },
  {
    name: 'entr',
    torch: 'torch.special.entr(x)',
    flint: entr,
    points: UNARY_POINTS,
    tolerance: { rtol: 1e-15 },
    gradientPoints: UNARY_POINTS.filter((v) => Number.isFinite(v) && v > 0),
  },
];

describeAgainstTorch('elementwise conveniences against PyTorch', () => {
  let results: TorchResult[] = [];
  const pairCase = (c: BinaryComparison, left: readonly number[], right: readonly number[], withGradients: boolean): TorchCase => ({
    expression: c.torch,
    inputs: { a: { values: left, shape: [left.length, 1] }, b: { values: right, shape: [1, right.length] } },
    ...(withGradients ? { gradients: ['a', 'b'] } : {}),
  });
  beforeAll(() => {
    const cases: TorchCase[] = [
      ...BINARY.flatMap((c) => [
        pairCase(c, c.left ?? LEFT, c.right ?? RIGHT, false),
        ...(c.gradientLeft === undefined ? [] : [pairCase(c, c.gradientLeft, c.gradientRight ?? [], true)]),
      ]),
      ...UNARY.flatMap((c) => [
        { expression: c.torch, inputs: { x: { values: c.points } } },
        ...(c.gradientPoints === undefined ? [] : [{ expression: c.torch, inputs: { x: { values: c.gradientPoints } }, gradients: ['x'] }]),
      ]),
    ];
    results = runTorch(cases);
  });

  let next = 0;
  const resultIndex = new Map<string, number>();
  for (const c of BINARY) {
    resultIndex.set(c.name, next);
    next += c.gradientLeft === undefined ? 1 : 2;
  }
  for (const c of UNARY) {
    resultIndex.set(c.name, next);
    next += c.gradientPoints === undefined ? 1 : 2;
  }

  for (const c of BINARY) {
    it(`${c.name} agrees${c.gradientLeft === undefined ? '' : ', gradients included'}`, () => {
      const index = resultIndex.get(c.name) as number;
      const left = c.left ?? LEFT;
      const right = c.right ?? RIGHT;
      const a = tensor([...left], { shape: [left.length, 1], dtype: 'float64' });
      const b = tensor([...right], { shape: [1, right.length], dtype: 'float64' });
      const pairs = left.flatMap((x) => right.map((y) => `(${x}, ${y})`));
      expectValuesClose(c.name, values(c.flint(a, b)), (results[index] as TorchResult).outputs[0]?.values ?? [], c.tolerance, pairs);
      if (c.gradientLeft !== undefined) {
        const gl = c.gradientLeft;
        const gr = c.gradientRight ?? [];
        const [ga, gb] = grad((x: Tensor, y: Tensor) => c.flint(x, y).sum(), { argnums: [0, 1] })(
          tensor([...gl], { shape: [gl.length, 1], dtype: 'float64' }),
          tensor([...gr], { shape: [1, gr.length], dtype: 'float64' }),
        ) as Tensor[];
        const expected = (results[index + 1] as TorchResult).gradients;
        expectValuesClose(`${c.name} gradient (first operand)`, values(ga as Tensor), expected.a ?? [], { rtol: 1e-14, atol: 1e-15 }, gl);
        expectValuesClose(`${c.name} gradient (second operand)`, values(gb as Tensor), expected.b ?? [], { rtol: 1e-14, atol: 1e-15 }, gr);
      }
    });
  }

  for (const c of UNARY) {
    it(`${c.name} agrees${c.gradientPoints === undefined ? '' : ', gradients included'}`, () => {
      const index = resultIndex.get(c.name) as number;
      expectValuesClose(
        c.name,
        values(c.flint(f64(c.points))),
        (results[index] as TorchResult).outputs[0]?.values ?? [],
        c.tolerance,
        c.points,
      );
      if (c.gradientPoints !== undefined) {
        const g = values(grad((x: Tensor) => c.flint(x).sum())(f64(c.gradientPoints)));
        expectValuesClose(
          `${c.name} gradient`,
          g,
          (results[index + 1] as TorchResult).gradients.x ?? [],
          { rtol: 1e-14, atol: 1e-15 },
          c.gradientPoints,
        );
      }
    });
  }
});
