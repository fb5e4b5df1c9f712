import { type DType, Primitive } from '@flint/api';
import { isFloatDType } from '../reference/ndarray.js';
import { ALL_DTYPES, bools, defaultValues, edgeInts, FLOATS, ints, list, NUMERIC } from '../values.js';
import type { Case, InputSpec, PrimitiveTable, ValueSource } from './types.js';

const NAN = Number.NaN;
const INF = Infinity;

/** Rows of special values, reduced along axis 1 (NaN and infinities propagate as IEEE says). */
const FLOAT_ROWS = [
  [1, 2, NAN, 4],
  [INF, 1, 2, 3],
  [INF, -INF, 1, 2],
  [-INF, -1, -2, -3],
  [NAN, NAN, 1, 2],
  [1e30, 1e-30, -1e30, 5],
  [-0, -0, -0, -0],
  [0.5, -0.25, 0.125, 8],
];

function edgeRows(dtype: DType): { shape: number[]; values: ValueSource } {
  if (isFloatDType(dtype)) return { shape: [FLOAT_ROWS.length, 4], values: list(FLOAT_ROWS.flat()) };
  if (dtype === 'bool') return { shape: [4, 2], values: list([0, 0, 0, 1, 1, 0, 1, 1]) };
  const edges = edgeInts(dtype);
  return { shape: [edges.length, 2], values: list(edges.flatMap((v, i) => [v, edges[(i + 3) % edges.length] as number])) };
}

// The four reductions share one params type ({ axes }), so one table shape serves them all.
type ReduceTable = PrimitiveTable<Primitive.ReduceSum>;

function reduceTable(dtypes: readonly DType[], values: (dtype: DType) => ValueSource): ReduceTable {
  const input =
    (shape: readonly number[], extra: Partial<InputSpec> = {}) =>
    (dtype: DType): InputSpec[] => [{ shape, values: values(dtype), ...extra }];
  const cases: Case<Primitive.ReduceSum>[] = [
    { name: 'all axes of [3,4,5]', inputs: input([3, 4, 5]), params: { axes: [0, 1, 2] } },
    { name: 'axis 1 of [3,4,5]', inputs: input([3, 4, 5]), params: { axes: [1] } },
    { name: 'axes [0,2] of [3,4,5]', inputs: input([3, 4, 5]), params: { axes: [0, 2] } },
    { name: 'no axes (identity)', inputs: input([3, 4]), params: { axes: [] } },
    { name: 'scalar', inputs: input([]), params: { axes: [] } },
    { name: 'empty reduced axis gives the identity', inputs: input([0, 3]), params: { axes: [0] } },
    { name: 'every axis of an empty tensor', inputs: input([2, 0]), params: { axes: [0, 1] } },
    { name: 'empty kept axis', inputs: input([0, 3]), params: { axes: [1] } },
    { name: 'long rows [2,1000]', inputs: input([2, 1000]), params: { axes: [1] } },
    // Columns (neighbouring outputs side by side in memory, their elements apart: a bias's
    // gradient): the cuda backend reads them a row of outputs at a time, in spans folded after.
    { name: 'columns [40,70]', inputs: input([40, 70]), params: { axes: [0] } },
    { name: 'no columns [40,0]', inputs: input([40, 0]), params: { axes: [0] } },
    { name: 'long columns [1500,40]', inputs: input([1500, 40]), params: { axes: [0] } },
    { name: 'columns over two axes [600,3,40]', inputs: input([600, 3, 40]), params: { axes: [0, 1] } },
    {
      name: 'long columns with NaN [1500,40]',
      inputs: (dtype) => {
        const base = values(dtype);
        const nan = isFloatDType(dtype);
        return [{ shape: [1500, 40], values: (rng, i) => (nan && i % 977 === 5 ? Number.NaN : base(rng, i)) }];
      },
      params: { axes: [0] },
    },
    { name: 'transposed input', inputs: input([4, 6], { layout: { transpose: [1, 0] } }), params: { axes: [1] } },
    { name: 'broadcast input', inputs: input([5, 4], { layout: { broadcastFrom: [1, 4] } }), params: { axes: [0] } },
    { name: 'flipped and sliced input', inputs: input([3, 4], { layout: [{ sliceSteps: [2, 1] }, { flip: [1] }] }), params: { axes: [1] } },
    {
      name: 'edge values along rows',
      inputs: (dtype) => {
        const rows = edgeRows(dtype);
        return [{ shape: rows.shape, values: rows.values }];
      },
      params: { axes: [1] },
    },
  ];
  return { dtypes, accuracy: 'accumulated', signedZeros: false, cases };
}

/** Values whose products of up to 60 terms stay far from overflow and underflow. */
const productValues = (dtype: DType): ValueSource => {
  if (dtype === 'uint8') return ints(0, 5);
  if (dtype === 'int32') return ints(-3, 3);
  return (rng) => (rng.next() < 0.3 ? -1 : 1) * rng.uniform(0.6, 1.5);
};

// Argmax and Argmin share one params type ({ axis }).
const ARG_CASES: Case<Primitive.Argmax>[] = [
  { name: 'axis 0 of [4,5]', inputs: [{ shape: [4, 5] }], params: { axis: 0 } },
  { name: 'axis 1 of [4,5]', inputs: [{ shape: [4, 5] }], params: { axis: 1 } },
  { name: 'rank 1', inputs: [{ shape: [17] }], params: { axis: 0 } },
  { name: 'axis 1 of [2,3,4]', inputs: [{ shape: [2, 3, 4] }], params: { axis: 1 } },
  {
    name: 'ties pick the first',
    inputs: (dtype) => [{ shape: [6, 5], values: dtype === 'bool' ? bools() : ints(0, 2) }],
    params: { axis: 1 },
  },
  { name: 'length-1 axis', inputs: [{ shape: [3, 1] }], params: { axis: 1 } },
  { name: 'empty kept axis', inputs: [{ shape: [0, 3] }], params: { axis: 1 } },
  { name: 'transposed input', inputs: [{ shape: [5, 4], layout: { transpose: [1, 0] } }], params: { axis: 1 } },
  { name: 'broadcast along the axis (all equal)', inputs: [{ shape: [4, 3], layout: { broadcastFrom: [1, 3] } }], params: { axis: 0 } },
  { name: 'flipped input', inputs: [{ shape: [3, 6], layout: { flip: [1] } }], params: { axis: 1 } },
  {
    name: 'NaN counts as the extreme',
    dtypes: FLOATS,
    inputs: [{ shape: [FLOAT_ROWS.length, 4], values: list(FLOAT_ROWS.flat()) }],
    params: { axis: 1 },
  },
  {
    name: 'integer extremes',
    dtypes: ['int32', 'uint8'],
    inputs: (dtype) => {
      const edges = edgeInts(dtype);
      return [{ shape: [edges.length], values: list(edges) }];
    },
    params: { axis: 0 },
  },
];

export const reduceTables = {
  [Primitive.ReduceSum]: reduceTable(NUMERIC, defaultValues),
  [Primitive.ReduceProd]: reduceTable(NUMERIC, productValues),
  [Primitive.ReduceMax]: reduceTable(ALL_DTYPES, defaultValues),
  [Primitive.ReduceMin]: reduceTable(ALL_DTYPES, defaultValues),
  [Primitive.Argmax]: {
    dtypes: ALL_DTYPES,
    accuracy: 'exact',
    signedZeros: false,
    cases: ARG_CASES,
  } satisfies PrimitiveTable<Primitive.Argmax>,
  [Primitive.Argmin]: {
    dtypes: ALL_DTYPES,
    accuracy: 'exact',
    signedZeros: false,
    cases: ARG_CASES,
  } satisfies PrimitiveTable<Primitive.Argmin>,
};
