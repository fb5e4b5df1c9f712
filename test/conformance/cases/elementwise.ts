import { type BinaryPrimitive, type DType, Primitive, type UnaryPrimitive } from '@flint/api';
import { isFloatDType } from '../reference/ndarray.js';
import {
  ALL_DTYPES,
  bools,
  defaultValues,
  edgeFloats,
  edgeInts,
  edgeValues,
  FLOATS,
  ints,
  list,
  NUMERIC,
  smallValues,
  uniform,
} from '../values.js';
import type { Accuracy, Case, InputSpec, PrimitiveTable, Tolerance, ValueSource } from './types.js';

type NoParams = Record<string, never>;
const NONE: NoParams = {};

// ---------------------------------------------------------------------------------------------
// Unary primitives: the same set of shapes and layouts for every op, with each op's own domain.

interface UnaryOptions {
  readonly dtypes: readonly DType[];
  readonly accuracy: Accuracy;
  readonly signedZeros: boolean;
  /** Values inside the op's domain for the random cases (default: `defaultValues`). */
  readonly domain?: (dtype: DType) => ValueSource;
  /** Further explicit values, checked in every dtype (halves for rounding, for example). */
  readonly special?: readonly number[];
  readonly tolerance?: Partial<Record<'float32' | 'float64' | 'float16' | 'bfloat16', Tolerance>>;
}

function unaryTable<P extends UnaryPrimitive>(options: UnaryOptions): PrimitiveTable<P> {
  const values = options.domain ?? defaultValues;
  const one =
    (shape: readonly number[], extra: Partial<InputSpec> = {}) =>
    (dtype: DType): InputSpec[] => [{ shape, values: values(dtype), ...extra }];
  const cases: Case<P>[] = [
    { name: 'random [3,4]', inputs: one([3, 4]), params: NONE },
    { name: 'scalar', inputs: one([]), params: NONE },
    { name: 'zero-size [2,0,3]', inputs: one([2, 0, 3]), params: NONE },
    { name: 'long [1003]', inputs: one([1003]), params: NONE },
    { name: 'transposed', inputs: one([5, 4], { layout: { transpose: [1, 0] } }), params: NONE },
    { name: 'sliced with steps', inputs: one([3, 4], { layout: { sliceSteps: [2, 3] } }), params: NONE },
    { name: 'flipped', inputs: one([2, 3, 4], { layout: { flip: [0, 2] } }), params: NONE },
    { name: 'broadcast', inputs: one([4, 5], { layout: { broadcastFrom: [1, 5] } }), params: NONE },
    { name: 'transposed broadcast', inputs: one([5, 4], { layout: [{ broadcastFrom: [4, 1] }, { transpose: [1, 0] }] }), params: NONE },
    {
      name: 'edge values',
      inputs: (dtype) => {
        const edges = edgeValues(dtype);
        return [{ shape: [edges.length], values: list(edges) }];
      },
      params: NONE,
    },
  ];
  if (options.special) {
    const special = options.special;
    cases.push({ name: 'special values', inputs: [{ shape: [special.length], values: list(special) }], params: NONE });
  }
  return {
    dtypes: options.dtypes,
    accuracy: options.accuracy,
    signedZeros: options.signedZeros,
    cases: options.tolerance ? cases.map((c) => ({ ...c, tolerance: options.tolerance })) : cases,
  };
}

const positive = (low: number, high: number) => () => uniform(low, high);
const within = (low: number, high: number) => () => uniform(low, high);
/** Float32 and float64 results that must be accurate relative to themselves, even near zero. */
const RELATIVE_NEAR_ZERO = { float32: { rtol: 1e-5, atol: 2e-38 }, float64: { rtol: 1e-12, atol: 3e-308 } };
/** asin and acos at and just inside and outside the ends of [-1, 1], around 1/2, and near 0. */
const INVERSE_SINE_SPECIAL = [
  1, -1, 0.99999994, -0.99999994, 1.0000001, -1.0000001, 2, -2, 0.5, -0.5, 0.50000006, 0.49999997, 1e-8, -3e-5, 0.999,
];
const HALVES = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.49999997, 0.49999997, 0.50000006, -1.4999999, 4.5, 5.5, -0.1, 0.1];

// ---------------------------------------------------------------------------------------------
// Binary primitives.

interface BinaryOptions {
  readonly dtypes: readonly DType[];
  readonly accuracy: Accuracy;
  readonly signedZeros: boolean;
  readonly left?: (dtype: DType) => ValueSource;
  readonly right?: (dtype: DType) => ValueSource;
  /** Which pairs of edge values are inside the documented contract (default: all). */
  readonly edgePairs?: (a: number, b: number, dtype: DType) => boolean;
}

/** Every pair of the dtype's edge values the op accepts, as two aligned lists. */
function edgePairs(dtype: DType, keep: (a: number, b: number, dtype: DType) => boolean): { left: number[]; right: number[] } {
  const edges = edgeValues(dtype);
  const left: number[] = [];
  const right: number[] = [];
  for (const a of edges) {
    for (const b of edges) {
      if (keep(a, b, dtype)) {
        left.push(a);
        right.push(b);
      }
    }
  }
  return { left, right };
}

function binaryTable<P extends BinaryPrimitive>(options: BinaryOptions): PrimitiveTable<P> {
  const left = options.left ?? defaultValues;
  const right = options.right ?? defaultValues;
  const two =
    (shape: readonly number[], a: Partial<InputSpec> = {}, b: Partial<InputSpec> = {}) =>
    (dtype: DType): InputSpec[] => [
      { shape, values: left(dtype), ...a },
      { shape, values: right(dtype), ...b },
    ];
  const keep = options.edgePairs ?? (() => true);
  const cases: Case<P>[] = [
    { name: 'random [3,4]', inputs: two([3, 4]), params: NONE },
    { name: 'scalar', inputs: two([]), params: NONE },
    { name: 'zero-size [0,4]', inputs: two([0, 4]), params: NONE },
    { name: 'long [1003]', inputs: two([1003]), params: NONE },
    {
      name: 'broadcast row and column',
      inputs: two([4, 5], { layout: { broadcastFrom: [1, 5] } }, { layout: { broadcastFrom: [4, 1] } }),
      params: NONE,
    },
    { name: 'broadcast scalar', inputs: two([3, 4], {}, { layout: { broadcastFrom: [] } }), params: NONE },
    {
      name: 'transposed and sliced',
      inputs: two([3, 4], { layout: { transpose: [1, 0] } }, { layout: { sliceSteps: [2, 2] } }),
      params: NONE,
    },
    { name: 'flipped', inputs: two([2, 3, 4], { layout: { flip: [1] } }, { layout: { flip: [0, 2] } }), params: NONE },
    {
      name: 'every pair of edge values',
      inputs: (dtype) => {
        const pairs = edgePairs(dtype, keep);
        return [
          { shape: [pairs.left.length], values: list(pairs.left) },
          { shape: [pairs.right.length], values: list(pairs.right) },
        ];
      },
      params: NONE,
    },
  ];
  return { dtypes: options.dtypes, accuracy: options.accuracy, signedZeros: options.signedZeros, cases };
}

const INT32_MIN = -(2 ** 31);
const notOverflowingDivision = (a: number, b: number, dtype: DType) => !(dtype === 'int32' && a === INT32_MIN && b === -1);
/** Floor division and remainder by an infinity are left out: NumPy, PyTorch and C disagree there. */
const isInfinite = (v: number) => v === Infinity || v === -Infinity;
const finiteRemainder = (a: number, b: number, dtype: DType) => notOverflowingDivision(a, b, dtype) && !isInfinite(a) && !isInfinite(b);

/** Nonzero divisors away from zero (zero divisors are in the edge pairs). */
const divisor = (dtype: DType): ValueSource => {
  if (dtype === 'uint8') return ints(1, 40);
  if (dtype === 'int32') return (rng) => (rng.next() < 0.5 ? -1 : 1) * rng.int(1, 12);
  return (rng) => (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.5, 3);
};
const dividend = (dtype: DType): ValueSource => (dtype === 'uint8' ? ints(0, 255) : dtype === 'int32' ? ints(-200, 200) : uniform(-20, 20));

const arithmetic = { dtypes: NUMERIC, accuracy: 'rounded', signedZeros: true } as const;
const comparison = { dtypes: ALL_DTYPES, accuracy: 'exact', signedZeros: false } as const;
/** Comparisons see many equal pairs when values come from a small set. */
const fewValues = (dtype: DType): ValueSource => (dtype === 'bool' ? bools() : dtype === 'uint8' ? ints(0, 3) : ints(-2, 2));

export const elementwiseTables = {
  [Primitive.Neg]: unaryTable<Primitive.Neg>({ dtypes: NUMERIC, accuracy: 'exact', signedZeros: true }),
  [Primitive.Abs]: unaryTable<Primitive.Abs>({ dtypes: NUMERIC, accuracy: 'exact', signedZeros: true }),
  // The sign of sign(-0) and sign(NaN) are left open by the documentation (NumPy and PyTorch differ).
  [Primitive.Sign]: unaryTable<Primitive.Sign>({
    dtypes: NUMERIC,
    accuracy: 'exact',
    signedZeros: false,
    domain: (dtype) => (dtype === 'int32' ? ints(-3, 3) : dtype === 'uint8' ? ints(0, 2) : defaultValues(dtype)),
  }),
  [Primitive.Exp]: unaryTable<Primitive.Exp>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-10, 10),
    tolerance: RELATIVE_NEAR_ZERO,
  }),
  [Primitive.Log]: unaryTable<Primitive.Log>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: positive(0.001, 100),
  }),
  [Primitive.Log1p]: unaryTable<Primitive.Log1p>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-0.99, 10),
    special: [1e-10, -1e-10, 1e-20, 3e-8, -0.999],
    tolerance: RELATIVE_NEAR_ZERO,
  }),
  [Primitive.Expm1]: unaryTable<Primitive.Expm1>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-5, 5),
    special: [1e-10, -1e-10, 1e-20, 3e-8, -40, 80],
    tolerance: RELATIVE_NEAR_ZERO,
  }),
  [Primitive.Sqrt]: unaryTable<Primitive.Sqrt>({ dtypes: FLOATS, accuracy: 'rounded', signedZeros: true, domain: positive(0, 100) }),
  [Primitive.Rsqrt]: unaryTable<Primitive.Rsqrt>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: positive(0.001, 100),
    tolerance: RELATIVE_NEAR_ZERO,
  }),
  [Primitive.Sin]: unaryTable<Primitive.Sin>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-10, 10),
    special: [Math.PI, -Math.PI / 2, 100, 1000.5],
  }),
  [Primitive.Cos]: unaryTable<Primitive.Cos>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-10, 10),
    special: [Math.PI, Math.PI / 2, 100, 1000.5],
  }),
  [Primitive.Tan]: unaryTable<Primitive.Tan>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-1.4, 1.4),
    special: [Math.PI, 1e-8, -1.5],
  }),
  // Inside [-1, 1] for the random cases; the special and edge values step outside it (NaN).
  [Primitive.Asin]: unaryTable<Primitive.Asin>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: true,
    domain: within(-1, 1),
    special: INVERSE_SINE_SPECIAL,
    tolerance: RELATIVE_NEAR_ZERO,
  }),
  [Primitive.Acos]: unaryTable<Primitive.Acos>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-1, 1),
    special: INVERSE_SINE_SPECIAL,
  }),
  [Primitive.Atan]: unaryTable<Primitive.Atan>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: true,
    domain: within(-10, 10),
    // Around the reduction points tan(pi/8) and tan(3pi/8), and far out.
    special: [1e-8, -1e-8, 1e-4, 0.41421356, 0.41421357, -2.4142135, 2.4142137, 1e10, -1e20, 3e-3],
    tolerance: RELATIVE_NEAR_ZERO,
  }),
  [Primitive.Tanh]: unaryTable<Primitive.Tanh>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-5, 5),
    special: [20, -20, 1e-8],
  }),
  [Primitive.Logistic]: unaryTable<Primitive.Logistic>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-10, 10),
    special: [30, -30, 100, -100, 700, -700],
  }),
  [Primitive.Erf]: unaryTable<Primitive.Erf>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: false,
    domain: within(-4, 4),
    special: [0.01, -0.2, 2.5, -3.7, 5.9, 6.5, 1e-8],
  }),
  [Primitive.Floor]: unaryTable<Primitive.Floor>({ dtypes: NUMERIC, accuracy: 'exact', signedZeros: true, special: HALVES }),
  [Primitive.Ceil]: unaryTable<Primitive.Ceil>({ dtypes: NUMERIC, accuracy: 'exact', signedZeros: true, special: HALVES }),
  [Primitive.Round]: unaryTable<Primitive.Round>({ dtypes: NUMERIC, accuracy: 'exact', signedZeros: true, special: HALVES }),
  [Primitive.Reciprocal]: unaryTable<Primitive.Reciprocal>({ dtypes: FLOATS, accuracy: 'rounded', signedZeros: true }),
  [Primitive.Not]: unaryTable<Primitive.Not>({ dtypes: ['bool'], accuracy: 'exact', signedZeros: false, domain: bools }),
  // -0 stays -0 and negatives become +0, as torch.relu: the zeros' signs are checked.
  [Primitive.Relu]: unaryTable<Primitive.Relu>({ dtypes: NUMERIC, accuracy: 'exact', signedZeros: true }),

  [Primitive.Add]: binaryTable<Primitive.Add>(arithmetic),
  [Primitive.Sub]: binaryTable<Primitive.Sub>(arithmetic),
  [Primitive.Mul]: binaryTable<Primitive.Mul>(arithmetic),
  // Integer x / 0 is 0 (documented); INT32_MIN / -1 overflows in C and is left out.
  [Primitive.Div]: binaryTable<Primitive.Div>({ ...arithmetic, left: dividend, right: divisor, edgePairs: notOverflowingDivision }),
  [Primitive.Pow]: binaryTable<Primitive.Pow>({
    dtypes: NUMERIC,
    accuracy: 'transcendental',
    signedZeros: false,
    left: (dtype) => (dtype === 'int32' ? ints(-5, 5) : dtype === 'uint8' ? ints(0, 7) : uniform(0.1, 4)),
    right: (dtype) => (dtype === 'int32' || dtype === 'uint8' ? ints(0, 6) : uniform(-3, 3)),
    // Negative integer exponents are not defined for integer tensors (PyTorch raises).
    edgePairs: (_a, b, dtype) => dtype !== 'int32' || b >= 0,
  }),
  // C's atan2 on every pair of edge values: signed zeros and infinities pick the quadrant.
  [Primitive.Atan2]: binaryTable<Primitive.Atan2>({
    dtypes: FLOATS,
    accuracy: 'transcendental',
    signedZeros: true,
    left: () => uniform(-5, 5),
    right: () => uniform(-5, 5),
  }),
  [Primitive.Max]: binaryTable<Primitive.Max>({ dtypes: ALL_DTYPES, accuracy: 'exact', signedZeros: false }),
  [Primitive.Min]: binaryTable<Primitive.Min>({ dtypes: ALL_DTYPES, accuracy: 'exact', signedZeros: false }),
  // The sign of a zero remainder differs between C's fmod and Python's %; only values are checked.
  [Primitive.Mod]: binaryTable<Primitive.Mod>({
    dtypes: NUMERIC,
    accuracy: 'rounded',
    signedZeros: false,
    left: dividend,
    right: divisor,
    edgePairs: finiteRemainder,
  }),
  [Primitive.FloorDivide]: binaryTable<Primitive.FloorDivide>({
    dtypes: NUMERIC,
    accuracy: 'exact',
    signedZeros: false,
    left: dividend,
    right: divisor,
    edgePairs: finiteRemainder,
  }),
  [Primitive.Equal]: binaryTable<Primitive.Equal>({ ...comparison, left: fewValues, right: fewValues }),
  [Primitive.NotEqual]: binaryTable<Primitive.NotEqual>({ ...comparison, left: fewValues, right: fewValues }),
  [Primitive.Less]: binaryTable<Primitive.Less>({ ...comparison, left: fewValues, right: fewValues }),
  [Primitive.LessEqual]: binaryTable<Primitive.LessEqual>({ ...comparison, left: fewValues, right: fewValues }),
  [Primitive.Greater]: binaryTable<Primitive.Greater>({ ...comparison, left: fewValues, right: fewValues }),
  [Primitive.GreaterEqual]: binaryTable<Primitive.GreaterEqual>({ ...comparison, left: fewValues, right: fewValues }),
  [Primitive.And]: binaryTable<Primitive.And>({ dtypes: ['bool'], accuracy: 'exact', signedZeros: false, left: bools, right: bools }),
  [Primitive.Or]: binaryTable<Primitive.Or>({ dtypes: ['bool'], accuracy: 'exact', signedZeros: false, left: bools, right: bools }),
  // The gate sees many zeros, negative zeros and NaNs among few values (the edge values add them).
  [Primitive.ReluGrad]: binaryTable<Primitive.ReluGrad>({ dtypes: NUMERIC, accuracy: 'exact', signedZeros: true, left: fewValues }),
};

// ---------------------------------------------------------------------------------------------
// Where and Cast.

export const whereTable: PrimitiveTable<Primitive.Where> = {
  dtypes: ALL_DTYPES,
  accuracy: 'exact',
  signedZeros: true,
  cases: [
    { name: 'random [3,4]', inputs: [{ shape: [3, 4], dtype: 'bool' }, { shape: [3, 4] }, { shape: [3, 4] }], params: NONE },
    { name: 'scalar', inputs: [{ shape: [], dtype: 'bool' }, { shape: [] }, { shape: [] }], params: NONE },
    { name: 'zero-size', inputs: [{ shape: [0, 3], dtype: 'bool' }, { shape: [0, 3] }, { shape: [0, 3] }], params: NONE },
    {
      name: 'broadcast condition and operands',
      inputs: [
        { shape: [4, 5], dtype: 'bool', layout: { broadcastFrom: [1, 5] } },
        { shape: [4, 5], layout: { broadcastFrom: [4, 1] } },
        { shape: [4, 5], layout: { broadcastFrom: [] } },
      ],
      params: NONE,
    },
    {
      name: 'transposed, sliced and flipped',
      inputs: [
        { shape: [3, 4], dtype: 'bool', layout: { transpose: [1, 0] } },
        { shape: [3, 4], layout: { sliceSteps: [2, 3] } },
        { shape: [3, 4], layout: { flip: [0, 1] } },
      ],
      params: NONE,
    },
    {
      name: 'edge values pass through unchanged',
      inputs: (dtype) => {
        const edges = edgeValues(dtype);
        return [
          { shape: [edges.length], dtype: 'bool', values: list([1, 0, 1]) },
          { shape: [edges.length], values: list(edges) },
          { shape: [edges.length], values: list([...edges].reverse()) },
        ];
      },
      params: NONE,
    },
  ],
};

/** Source values whose conversion to `to` is defined (no float to integer overflow). */
function castValues(from: DType, to: DType): number[] {
  if (from === 'bool') return [0, 1, 1, 0];
  if (from === 'uint8') return [0, 1, 2, 100, 127, 128, 200, 255];
  if (from === 'int32') return [...edgeInts('int32'), 16777217, 255, 256, 300, -300, 123456789];
  if (isFloatDType(to) || to === 'bool') return [...edgeFloats(from), 0.1, 16777217, -123.456];
  const inRange = [Number.NaN, 0, -0, 0.5, -0.5, 0.999, 1.7, 2.5, 100.9, 127.5, 200.3, 255.9, 1e-30, 1e-40];
  if (to === 'uint8') return inRange;
  const negative = [-0.999, -1.7, -100.9, -255.9];
  // float16 tops out at 65504, and bfloat16 rounds 2^31 - 128 up to 2^31, outside int32.
  if (from === 'float16') return [...inRange, ...negative, 1000.5, -30000, 65504];
  if (from === 'bfloat16') return [...inRange, ...negative, 123456.7, -2147483.9, 1e9, -1e9, -2147483648];
  return [...inRange, ...negative, 123456.7, -2147483.9, 1e9, -1e9, 2147483520, -2147483648];
}

function castCase(to: DType): Case<Primitive.Cast> {
  return {
    name: `to ${to}`,
    dtypes: ALL_DTYPES,
    needs: [to],
    inputs: (from) => {
      const values = castValues(from, to);
      return [{ shape: [values.length], values: list(values) }];
    },
    params: { dtype: to },
  };
}

function castRandomCase(to: DType): Case<Primitive.Cast> {
  return {
    name: `random transposed to ${to}`,
    dtypes: ALL_DTYPES,
    needs: [to],
    inputs: (from) => [
      {
        shape: [4, 3],
        values: to === 'uint8' && isFloatDType(from) ? uniform(0, 255) : defaultValues(from),
        layout: { transpose: [1, 0] },
      },
    ],
    params: { dtype: to },
  };
}

export const castTable: PrimitiveTable<Primitive.Cast> = {
  dtypes: ALL_DTYPES,
  accuracy: 'exact',
  signedZeros: true,
  cases: [
    ...ALL_DTYPES.map(castCase),
    ...ALL_DTYPES.map(castRandomCase),
    { name: 'scalar to float32', dtypes: ALL_DTYPES, needs: ['float32'], inputs: [{ shape: [] }], params: { dtype: 'float32' } },
    { name: 'zero-size to int32', dtypes: ALL_DTYPES, needs: ['int32'], inputs: [{ shape: [0, 2] }], params: { dtype: 'int32' } },
    {
      name: 'broadcast to float64',
      dtypes: ALL_DTYPES,
      needs: ['float64'],
      inputs: (dtype) => [{ shape: [3, 4], values: smallValues(dtype), layout: { broadcastFrom: [4] } }],
      params: { dtype: 'float64' },
    },
    {
      name: 'integers round-trip exactly through float32 up to 2^24',
      dtypes: ['int32'],
      needs: ['float32'],
      inputs: [{ shape: [6], values: list([16777216, -16777216, 16777215, 3, 0, -1]) }],
      params: { dtype: 'float32' },
    },
    {
      name: 'int32 to uint8 wraps modulo 256',
      dtypes: ['int32'],
      needs: ['uint8'],
      inputs: [{ shape: [6], values: list([-1, 256, 511, -256, 1000, -129]) }],
      params: { dtype: 'uint8' },
    },
  ],
};
