import type { DType, ParamsOf, Primitive } from '@flint/api';
import { ALL_DTYPES, bools, defaultValues, FLOATS, ints, list, NUMERIC } from '../values.js';
import type { Case, InputSpec, PrimitiveTable, ValueSource } from './types.js';

type ScanOp = ParamsOf<Primitive.Cumulative>['op'];

/** Products of 5 to 200 terms stay in range when the terms are near 1 (integers wrap, by contract). */
const scanValues =
  (op: ScanOp) =>
  (dtype: DType): ValueSource => {
    if (op !== 'prod') return defaultValues(dtype);
    if (dtype === 'uint8') return ints(0, 4);
    if (dtype === 'int32') return ints(-3, 3);
    return (rng) => (rng.next() < 0.3 ? -1 : 1) * rng.uniform(0.8, 1.25);
  };

function scanCases(op: ScanOp): Case<Primitive.Cumulative>[] {
  const values = scanValues(op);
  const input =
    (shape: readonly number[], extra: Partial<InputSpec> = {}) =>
    (dtype: DType): InputSpec[] => [{ shape, values: values(dtype), ...extra }];
  const cases: Case<Primitive.Cumulative>[] = [];
  for (const reverse of [false, true]) {
    const suffix = reverse ? ', reversed' : '';
    cases.push(
      { name: `${op} along axis 1 of [3,5]${suffix}`, inputs: input([3, 5]), params: { op, axis: 1, reverse } },
      { name: `${op} along axis 0 of [4,3]${suffix}`, inputs: input([4, 3]), params: { op, axis: 0, reverse } },
      { name: `${op} along the middle axis of [2,4,3]${suffix}`, inputs: input([2, 4, 3]), params: { op, axis: 1, reverse } },
      {
        name: `${op} of a transposed input${suffix}`,
        inputs: input([5, 3], { layout: { transpose: [1, 0] } }),
        params: { op, axis: 0, reverse },
      },
      {
        name: `${op} of a flipped, sliced input${suffix}`,
        inputs: input([3, 4], { layout: [{ sliceSteps: [1, 2] }, { flip: [1] }] }),
        params: { op, axis: 1, reverse },
      },
      {
        name: `${op} of a broadcast input${suffix}`,
        inputs: input([4, 3], { layout: { broadcastFrom: [3] } }),
        params: { op, axis: 0, reverse },
      },
    );
  }
  cases.push(
    { name: `${op} of a long row [200]`, inputs: input([200]), params: { op, axis: 0, reverse: false } },
    { name: `${op} of a scalar-like [1]`, inputs: input([1]), params: { op, axis: 0, reverse: false } },
    { name: `${op} of an empty axis`, inputs: input([2, 0]), params: { op, axis: 1, reverse: false } },
    { name: `${op} along a non-empty axis of an empty tensor`, inputs: input([0, 3]), params: { op, axis: 1, reverse: true } },
    {
      name: `${op} of special values`,
      dtypes: FLOATS,
      inputs: [{ shape: [10], values: list([1, -0.5, 3, 1e-30, Infinity, -2.5, -Infinity, 0, Number.NaN, 1.5]) }],
      params: { op, axis: 0, reverse: false },
    },
    {
      name: `${op} of special values, reversed`,
      dtypes: FLOATS,
      inputs: [{ shape: [6], values: list([1, 2, Infinity, -Infinity, 3, Number.NaN]) }],
      params: { op, axis: 0, reverse: true },
    },
  );
  return cases;
}

export const cumulativeTable: PrimitiveTable<Primitive.Cumulative> = {
  dtypes: NUMERIC,
  accuracy: 'accumulated',
  signedZeros: false,
  cases: (['sum', 'prod', 'max', 'min'] as const).flatMap(scanCases),
};

const NAN = Number.NaN;
/** Ties, infinities, NaN and both zeros: stability and NaN placement are part of the contract. */
const SORT_SPECIALS = [3, NAN, -0, 1, Infinity, 0, -Infinity, 1, NAN, -0, 3, -1e30, 0, 1e-30];

function argsortCases(descending: boolean): Case<Primitive.Argsort>[] {
  const suffix = descending ? ', descending' : '';
  return [
    { name: `rows of [4,7]${suffix}`, inputs: [{ shape: [4, 7] }], params: { axis: 1, descending } },
    { name: `columns of [6,3]${suffix}`, inputs: [{ shape: [6, 3] }], params: { axis: 0, descending } },
    {
      name: `many ties keep their order${suffix}`,
      inputs: (dtype: DType) => [{ shape: [3, 20], values: dtype === 'bool' ? bools() : ints(0, 3) }],
      params: { axis: 1, descending },
    },
    { name: `long row [300]${suffix}`, inputs: [{ shape: [300] }], params: { axis: 0, descending } },
    {
      name: `NaN, infinities and signed zeros${suffix}`,
      dtypes: FLOATS,
      inputs: [{ shape: [SORT_SPECIALS.length], values: list(SORT_SPECIALS) }],
      params: { axis: 0, descending },
    },
    { name: `length-1 axis${suffix}`, inputs: [{ shape: [3, 1] }], params: { axis: 1, descending } },
    { name: `empty axis${suffix}`, inputs: [{ shape: [2, 0] }], params: { axis: 1, descending } },
    { name: `empty other axis${suffix}`, inputs: [{ shape: [0, 4] }], params: { axis: 1, descending } },
    { name: `transposed input${suffix}`, inputs: [{ shape: [5, 4], layout: { transpose: [1, 0] } }], params: { axis: 1, descending } },
    { name: `flipped input${suffix}`, inputs: [{ shape: [9], layout: { flip: [0] } }], params: { axis: 0, descending } },
    {
      name: `broadcast input (all ties)${suffix}`,
      inputs: [{ shape: [5, 3], layout: { broadcastFrom: [1, 3] } }],
      params: { axis: 0, descending },
    },
  ];
}

export const argsortTable: PrimitiveTable<Primitive.Argsort> = {
  dtypes: ALL_DTYPES,
  accuracy: 'exact',
  signedZeros: false,
  cases: [...argsortCases(false), ...argsortCases(true)],
};
