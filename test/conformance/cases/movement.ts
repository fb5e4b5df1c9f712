import { type DType, Primitive } from '@flint/api';
import { ALL_DTYPES, edgeValues, FLOATS, indices, list, NUMERIC, smallValues } from '../values.js';
import type { InputSpec, PrimitiveTable } from './types.js';

/** Special values must move bit for bit (NaN stays NaN, -0 stays -0). */
const edges =
  (shape: readonly number[]) =>
  (dtype: DType): InputSpec[] => [{ shape, values: list(edgeValues(dtype)) }];

/** A fill value each dtype can hold exactly; floats use -Infinity (what max pooling pads with). */
const padValue = (dtype: DType): number => (dtype === 'bool' ? 1 : dtype === 'uint8' ? 200 : dtype === 'int32' ? -7 : -Infinity);

const movement = { dtypes: ALL_DTYPES, accuracy: 'exact', signedZeros: true } as const;

export const movementTables = {
  [Primitive.Reshape]: {
    ...movement,
    cases: [
      { name: '[2,3,4] to [6,4]', inputs: [{ shape: [2, 3, 4] }], params: { shape: [6, 4] } },
      { name: '[2,3,4] to [24]', inputs: [{ shape: [2, 3, 4] }], params: { shape: [24] } },
      { name: '[24] to [2,3,4]', inputs: [{ shape: [24] }], params: { shape: [2, 3, 4] } },
      { name: 'scalar to [1,1]', inputs: [{ shape: [] }], params: { shape: [1, 1] } },
      { name: '[1,1] to scalar', inputs: [{ shape: [1, 1] }], params: { shape: [] } },
      { name: 'zero-size [0,3] to [3,0,2]', inputs: [{ shape: [0, 3] }], params: { shape: [3, 0, 2] } },
      { name: 'transposed input', inputs: [{ shape: [3, 4], layout: { transpose: [1, 0] } }], params: { shape: [12] } },
      { name: 'broadcast input', inputs: [{ shape: [3, 4], layout: { broadcastFrom: [1, 4] } }], params: { shape: [2, 6] } },
      { name: 'flipped input', inputs: [{ shape: [2, 6], layout: { flip: [1] } }], params: { shape: [3, 4] } },
      { name: 'sliced input', inputs: [{ shape: [3, 4], layout: { sliceSteps: [2, 2] } }], params: { shape: [4, 3] } },
      { name: 'edge values', inputs: edges([4, 5]), params: { shape: [20] } },
    ],
  } satisfies PrimitiveTable<Primitive.Reshape>,
  [Primitive.Transpose]: {
    ...movement,
    cases: [
      { name: '[3,4] perm [1,0]', inputs: [{ shape: [3, 4] }], params: { perm: [1, 0] } },
      { name: '[2,3,4] perm [2,0,1]', inputs: [{ shape: [2, 3, 4] }], params: { perm: [2, 0, 1] } },
      { name: 'identity', inputs: [{ shape: [2, 3] }], params: { perm: [0, 1] } },
      { name: 'scalar', inputs: [{ shape: [] }], params: { perm: [] } },
      { name: 'zero-size', inputs: [{ shape: [0, 3, 2] }], params: { perm: [2, 0, 1] } },
      { name: 'of a transposed input', inputs: [{ shape: [3, 4, 2], layout: { transpose: [2, 0, 1] } }], params: { perm: [1, 2, 0] } },
      { name: 'of a broadcast input', inputs: [{ shape: [3, 4], layout: { broadcastFrom: [4] } }], params: { perm: [1, 0] } },
      {
        name: 'of a flipped, sliced input',
        inputs: [{ shape: [3, 5], layout: [{ sliceSteps: [1, 2] }, { flip: [0] }] }],
        params: { perm: [1, 0] },
      },
      { name: 'edge values', inputs: edges([4, 5]), params: { perm: [1, 0] } },
    ],
  } satisfies PrimitiveTable<Primitive.Transpose>,
  [Primitive.Broadcast]: {
    ...movement,
    cases: [
      { name: '[3] to [2,3]', inputs: [{ shape: [3] }], params: { shape: [2, 3] } },
      { name: '[1,3] to [4,2,3]', inputs: [{ shape: [1, 3] }], params: { shape: [4, 2, 3] } },
      { name: 'scalar to [2,2]', inputs: [{ shape: [] }], params: { shape: [2, 2] } },
      { name: '[3,1] to [3,4]', inputs: [{ shape: [3, 1] }], params: { shape: [3, 4] } },
      { name: '[0,1] to [0,5]', inputs: [{ shape: [0, 1] }], params: { shape: [0, 5] } },
      { name: '[1] to [0]', inputs: [{ shape: [1] }], params: { shape: [0] } },
      { name: 'identity', inputs: [{ shape: [2, 3] }], params: { shape: [2, 3] } },
      { name: 'of a transposed input', inputs: [{ shape: [3, 1], layout: { transpose: [1, 0] } }], params: { shape: [2, 3, 4] } },
      { name: 'of a flipped input', inputs: [{ shape: [4], layout: { flip: [0] } }], params: { shape: [3, 4] } },
      { name: 'edge values', inputs: edges([1, 19]), params: { shape: [2, 19] } },
    ],
  } satisfies PrimitiveTable<Primitive.Broadcast>,
  [Primitive.Slice]: {
    ...movement,
    cases: [
      { name: '[10] 2:8:3', inputs: [{ shape: [10] }], params: { starts: [2], stops: [8], steps: [3] } },
      { name: '[5,6] with steps', inputs: [{ shape: [5, 6] }], params: { starts: [1, 0], stops: [4, 6], steps: [2, 3] } },
      { name: 'empty range', inputs: [{ shape: [5, 4] }], params: { starts: [3, 0], stops: [3, 4], steps: [1, 1] } },
      { name: 'step past the end', inputs: [{ shape: [6] }], params: { starts: [1], stops: [3], steps: [5] } },
      { name: 'whole tensor', inputs: [{ shape: [2, 3] }], params: { starts: [0, 0], stops: [2, 3], steps: [1, 1] } },
      { name: 'scalar', inputs: [{ shape: [] }], params: { starts: [], stops: [], steps: [] } },
      { name: 'zero-size input', inputs: [{ shape: [0, 4] }], params: { starts: [0, 1], stops: [0, 4], steps: [1, 2] } },
      {
        name: 'of a transposed input',
        inputs: [{ shape: [6, 5], layout: { transpose: [1, 0] } }],
        params: { starts: [1, 0], stops: [6, 5], steps: [2, 2] },
      },
      {
        name: 'of a flipped input',
        inputs: [{ shape: [7, 3], layout: { flip: [0] } }],
        params: { starts: [0, 1], stops: [7, 3], steps: [3, 1] },
      },
      {
        name: 'of a broadcast input',
        inputs: [{ shape: [4, 5], layout: { broadcastFrom: [5] } }],
        params: { starts: [1, 1], stops: [4, 5], steps: [2, 2] },
      },
      { name: 'edge values', inputs: edges([19]), params: { starts: [1], stops: [19], steps: [2] } },
    ],
  } satisfies PrimitiveTable<Primitive.Slice>,
  [Primitive.Pad]: {
    ...movement,
    cases: [
      {
        name: '[3,4] with a fill value',
        inputs: [{ shape: [3, 4] }],
        params: (dtype: DType) => ({
          widths: [
            [1, 2],
            [0, 3],
          ],
          value: padValue(dtype),
        }),
      },
      {
        name: 'zero fill',
        inputs: [{ shape: [2, 3] }],
        params: {
          widths: [
            [2, 0],
            [1, 1],
          ],
          value: 0,
        },
      },
      {
        name: 'no padding',
        inputs: [{ shape: [2, 3] }],
        params: {
          widths: [
            [0, 0],
            [0, 0],
          ],
          value: 5,
        },
      },
      { name: 'scalar', inputs: [{ shape: [] }], params: { widths: [], value: 1 } },
      {
        name: 'zero-size input becomes all fill',
        inputs: [{ shape: [0, 2] }],
        params: {
          widths: [
            [1, 1],
            [2, 0],
          ],
          value: 3,
        },
      },
      {
        name: 'rank 3',
        inputs: [{ shape: [2, 2, 2] }],
        params: {
          widths: [
            [1, 0],
            [0, 1],
            [1, 1],
          ],
          value: 1,
        },
      },
      {
        name: 'NaN fill',
        dtypes: FLOATS,
        inputs: [{ shape: [2, 2] }],
        params: {
          widths: [
            [1, 1],
            [1, 1],
          ],
          value: Number.NaN,
        },
      },
      { name: 'negative zero fill', dtypes: FLOATS, inputs: [{ shape: [2] }], params: { widths: [[2, 2]], value: -0 } },
      {
        name: 'transposed input',
        inputs: [{ shape: [3, 2], layout: { transpose: [1, 0] } }],
        params: {
          widths: [
            [1, 0],
            [0, 2],
          ],
          value: 0,
        },
      },
      {
        name: 'broadcast input',
        inputs: [{ shape: [3, 2], layout: { broadcastFrom: [2] } }],
        params: {
          widths: [
            [0, 1],
            [1, 0],
          ],
          value: 1,
        },
      },
      { name: 'flipped input', inputs: [{ shape: [4], layout: { flip: [0] } }], params: { widths: [[1, 1]], value: 0 } },
      { name: 'edge values', inputs: edges([19]), params: { widths: [[1, 1]], value: 0 } },
    ],
  } satisfies PrimitiveTable<Primitive.Pad>,
  [Primitive.Concat]: {
    ...movement,
    cases: [
      { name: 'two along axis 0', inputs: [{ shape: [2, 3] }, { shape: [4, 3] }], params: { axis: 0 } },
      { name: 'three along axis 1', inputs: [{ shape: [2, 1] }, { shape: [2, 3] }, { shape: [2, 2] }], params: { axis: 1 } },
      { name: 'one tensor', inputs: [{ shape: [3] }], params: { axis: 0 } },
      { name: 'rank 1', inputs: [{ shape: [3] }, { shape: [5] }], params: { axis: 0 } },
      { name: 'with an empty piece', inputs: [{ shape: [2, 0] }, { shape: [2, 3] }, { shape: [2, 0] }], params: { axis: 1 } },
      { name: 'all empty', inputs: [{ shape: [0, 3] }, { shape: [0, 3] }], params: { axis: 0 } },
      { name: 'middle axis of rank 3', inputs: [{ shape: [2, 1, 2] }, { shape: [2, 2, 2] }], params: { axis: 1 } },
      {
        name: 'transposed, broadcast and flipped pieces',
        inputs: [
          { shape: [3, 2], layout: { transpose: [1, 0] } },
          { shape: [3, 4], layout: { broadcastFrom: [1, 4] } },
          { shape: [3, 1], layout: { flip: [0] } },
        ],
        params: { axis: 1 },
      },
      { name: 'edge values', inputs: (dtype: DType) => [...edges([19])(dtype), ...edges([19])(dtype)], params: { axis: 0 } },
    ],
  } satisfies PrimitiveTable<Primitive.Concat>,
  [Primitive.Flip]: {
    ...movement,
    cases: [
      { name: 'axis 0 of [3,4]', inputs: [{ shape: [3, 4] }], params: { axes: [0] } },
      { name: 'axis 1 of [3,4]', inputs: [{ shape: [3, 4] }], params: { axes: [1] } },
      { name: 'both axes', inputs: [{ shape: [3, 4] }], params: { axes: [0, 1] } },
      { name: 'no axes', inputs: [{ shape: [3, 4] }], params: { axes: [] } },
      { name: 'axes [0,2] of rank 3', inputs: [{ shape: [2, 3, 4] }], params: { axes: [0, 2] } },
      { name: 'scalar', inputs: [{ shape: [] }], params: { axes: [] } },
      { name: 'zero-size', inputs: [{ shape: [0, 3] }], params: { axes: [0, 1] } },
      { name: 'of a transposed input', inputs: [{ shape: [4, 3], layout: { transpose: [1, 0] } }], params: { axes: [1] } },
      { name: 'of a sliced input', inputs: [{ shape: [4, 3], layout: { sliceSteps: [2, 1] } }], params: { axes: [0] } },
      { name: 'of a flipped input', inputs: [{ shape: [5], layout: { flip: [0] } }], params: { axes: [0] } },
      { name: 'of a broadcast input', inputs: [{ shape: [3, 4], layout: { broadcastFrom: [4] } }], params: { axes: [1] } },
      { name: 'edge values', inputs: edges([19]), params: { axes: [0] } },
    ],
  } satisfies PrimitiveTable<Primitive.Flip>,
  [Primitive.Gather]: {
    ...movement,
    cases: [
      {
        name: 'rows with repeats',
        needs: ['int32'],
        inputs: [{ shape: [5, 3] }, { shape: [6], dtype: 'int32', values: indices(5) }],
        params: { axis: 0 },
      },
      {
        name: 'columns',
        needs: ['int32'],
        inputs: [{ shape: [3, 4] }, { shape: [5], dtype: 'int32', values: indices(4) }],
        params: { axis: 1 },
      },
      {
        name: 'scalar index removes the axis',
        needs: ['int32'],
        inputs: [{ shape: [4, 3] }, { shape: [], dtype: 'int32', values: indices(3) }],
        params: { axis: 1 },
      },
      {
        name: '2-d indices',
        needs: ['int32'],
        inputs: [{ shape: [5, 2] }, { shape: [2, 3], dtype: 'int32', values: indices(5) }],
        params: { axis: 0 },
      },
      {
        name: 'middle axis of rank 3',
        needs: ['int32'],
        inputs: [{ shape: [2, 4, 3] }, { shape: [2, 2], dtype: 'int32', values: indices(4) }],
        params: { axis: 1 },
      },
      { name: 'empty indices', needs: ['int32'], inputs: [{ shape: [4, 3] }, { shape: [0], dtype: 'int32' }], params: { axis: 0 } },
      {
        name: 'zero-size other axis',
        needs: ['int32'],
        inputs: [{ shape: [4, 0] }, { shape: [3], dtype: 'int32', values: indices(4) }],
        params: { axis: 0 },
      },
      {
        name: 'rank 1',
        needs: ['int32'],
        inputs: [{ shape: [7] }, { shape: [7], dtype: 'int32', values: list([6, 0, 3, 3, 1, 5, 2]) }],
        params: { axis: 0 },
      },
      {
        name: 'transposed source, flipped indices',
        needs: ['int32'],
        inputs: [
          { shape: [4, 3], layout: { transpose: [1, 0] } },
          { shape: [5], dtype: 'int32', values: indices(4), layout: { flip: [0] } },
        ],
        params: { axis: 0 },
      },
      {
        name: 'broadcast source and indices',
        needs: ['int32'],
        inputs: [
          { shape: [4, 3], layout: { broadcastFrom: [3] } },
          { shape: [2, 3], dtype: 'int32', values: indices(3), layout: { broadcastFrom: [3] } },
        ],
        params: { axis: 1 },
      },
      {
        name: 'edge values',
        needs: ['int32'],
        inputs: (dtype: DType) => [...edges([19])(dtype), { shape: [5], dtype: 'int32', values: list([0, 18, 4, 3, 4]) }],
        params: { axis: 0 },
      },
    ],
  } satisfies PrimitiveTable<Primitive.Gather>,
  [Primitive.ScatterAdd]: {
    dtypes: NUMERIC,
    accuracy: 'accumulated',
    signedZeros: false,
    cases: [
      {
        name: 'rows with repeats',
        needs: ['int32'],
        inputs: [{ shape: [5, 3] }, { shape: [8], dtype: 'int32', values: indices(5) }, { shape: [8, 3] }],
        params: { axis: 0 },
      },
      {
        name: 'columns',
        needs: ['int32'],
        inputs: [{ shape: [3, 4] }, { shape: [6], dtype: 'int32', values: indices(4) }, { shape: [3, 6] }],
        params: { axis: 1 },
      },
      {
        name: 'scalar index',
        needs: ['int32'],
        inputs: [{ shape: [4, 3] }, { shape: [], dtype: 'int32', values: indices(4) }, { shape: [3] }],
        params: { axis: 0 },
      },
      {
        name: '2-d indices',
        needs: ['int32'],
        inputs: [{ shape: [4, 2] }, { shape: [2, 3], dtype: 'int32', values: indices(4) }, { shape: [2, 3, 2] }],
        params: { axis: 0 },
      },
      {
        name: 'all into one slot',
        needs: ['int32'],
        inputs: (dtype: DType) => [
          { shape: [3] },
          { shape: [20], dtype: 'int32', values: list([1]) },
          { shape: [20], values: smallValues(dtype) },
        ],
        params: { axis: 0 },
      },
      {
        name: 'empty indices',
        needs: ['int32'],
        inputs: [{ shape: [3, 2] }, { shape: [0], dtype: 'int32' }, { shape: [0, 2] }],
        params: { axis: 0 },
      },
      {
        name: 'broadcast updates and transposed target',
        needs: ['int32'],
        inputs: [
          { shape: [4, 3], layout: { transpose: [1, 0] } },
          { shape: [5], dtype: 'int32', values: indices(4), layout: { flip: [0] } },
          { shape: [5, 3], layout: { broadcastFrom: [1, 3] } },
        ],
        params: { axis: 0 },
      },
    ],
  } satisfies PrimitiveTable<Primitive.ScatterAdd>,
};
