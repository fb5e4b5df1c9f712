import type { DType, PadPair, ParamsOf, Primitive } from '@flint/api';
import { FLOATS, ints, list, NUMERIC } from '../values.js';
import type { Case, InputSpec, PrimitiveTable } from './types.js';

const matmul = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] };

export const dotGeneralTable: PrimitiveTable<Primitive.DotGeneral> = {
  dtypes: NUMERIC,
  accuracy: 'accumulated',
  signedZeros: false,
  cases: [
    { name: 'matmul [3,4]x[4,5]', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], params: matmul },
    { name: 'matmul with a long inner dim [2,300]x[300,3]', inputs: [{ shape: [2, 300] }, { shape: [300, 3] }], params: matmul },
    { name: 'matmul [17,9]x[9,13] (odd tile edges)', inputs: [{ shape: [17, 9] }, { shape: [9, 13] }], params: matmul },
    // Larger products take the backends' blocked and SIMD paths; odd sizes exercise the tile edges.
    { name: 'blocked-size matmul [20,30]x[30,25]', inputs: [{ shape: [20, 30] }, { shape: [30, 25] }], params: matmul },
    { name: 'large matmul [33,70]x[70,45]', inputs: [{ shape: [33, 70] }, { shape: [70, 45] }], params: matmul },
    { name: 'large matmul with a deep inner dim [9,300]x[300,11]', inputs: [{ shape: [9, 300] }, { shape: [300, 11] }], params: matmul },
    { name: 'large matmul with many rows [70,20]x[20,13]', inputs: [{ shape: [70, 20] }, { shape: [20, 13] }], params: matmul },
    {
      name: 'large matmul of transposed and sliced views',
      inputs: [
        { shape: [40, 35], layout: { transpose: [1, 0] } },
        { shape: [35, 30], layout: { sliceSteps: [1, 2] } },
      ],
      params: matmul,
    },
    {
      name: 'large batched matmul with a broadcast operand',
      inputs: [{ shape: [3, 20, 30] }, { shape: [3, 30, 25], layout: { broadcastFrom: [1, 30, 25] } }],
      params: { lhsContracting: [2], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] },
    },
    {
      name: 'batched [2,3,4]x[2,4,5]',
      inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }],
      params: { lhsContracting: [2], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] },
    },
    {
      name: 'vector dot [6]x[6]',
      inputs: [{ shape: [6] }, { shape: [6] }],
      params: { lhsContracting: [0], rhsContracting: [0], lhsBatch: [], rhsBatch: [] },
    },
    {
      name: 'outer product [3]x[4]',
      inputs: [{ shape: [3] }, { shape: [4] }],
      params: { lhsContracting: [], rhsContracting: [], lhsBatch: [], rhsBatch: [] },
    },
    {
      name: 'contracting leading axes [4,3]x[5,4]',
      inputs: [{ shape: [4, 3] }, { shape: [5, 4] }],
      params: { lhsContracting: [0], rhsContracting: [1], lhsBatch: [], rhsBatch: [] },
    },
    {
      name: 'batch axes not leading',
      inputs: [{ shape: [3, 2, 4] }, { shape: [4, 5, 2] }],
      params: { lhsContracting: [2], rhsContracting: [0], lhsBatch: [1], rhsBatch: [2] },
    },
    {
      name: 'two contracting axes',
      inputs: [{ shape: [2, 3, 4] }, { shape: [4, 3, 5] }],
      params: { lhsContracting: [1, 2], rhsContracting: [1, 0], lhsBatch: [], rhsBatch: [] },
    },
    {
      name: 'two batch axes',
      inputs: [{ shape: [2, 3, 2, 4] }, { shape: [2, 3, 4, 2] }],
      params: { lhsContracting: [3], rhsContracting: [2], lhsBatch: [0, 1], rhsBatch: [0, 1] },
    },
    { name: 'empty contraction gives zeros', inputs: [{ shape: [3, 0] }, { shape: [0, 2] }], params: matmul },
    { name: 'empty free dim', inputs: [{ shape: [0, 4] }, { shape: [4, 3] }], params: matmul },
    {
      name: 'transposed operands',
      inputs: [
        { shape: [3, 4], layout: { transpose: [1, 0] } },
        { shape: [4, 5], layout: { transpose: [1, 0] } },
      ],
      params: matmul,
    },
    {
      name: 'broadcast operand',
      inputs: [{ shape: [3, 4], layout: { broadcastFrom: [4] } }, { shape: [4, 2] }],
      params: matmul,
    },
    {
      name: 'flipped and sliced operands',
      inputs: [
        { shape: [3, 4], layout: { flip: [0, 1] } },
        { shape: [4, 5], layout: { sliceSteps: [2, 3] } },
      ],
      params: matmul,
    },
    {
      name: 'special values',
      dtypes: FLOATS,
      inputs: [
        { shape: [3, 2], values: list([Number.NaN, 1, Infinity, 0, 1e30, 1]) },
        { shape: [2, 2], values: list([1, 2, 3, 4]) },
      ],
      params: matmul,
    },
  ],
};

interface ConvSpec {
  readonly name: string;
  readonly lhs: readonly number[];
  readonly rhs: readonly number[];
  readonly strides?: readonly number[];
  readonly padding?: readonly PadPair[];
  readonly lhsDilation?: readonly number[];
  readonly rhsDilation?: readonly number[];
  readonly groups?: number;
  readonly lhsLayout?: InputSpec['layout'];
  readonly rhsLayout?: InputSpec['layout'];
}

function convCase(spec: ConvSpec): Case<Primitive.Conv> {
  const spatial = spec.lhs.length - 2;
  const ones = new Array<number>(spatial).fill(1);
  const params: ParamsOf<Primitive.Conv> = {
    strides: spec.strides ?? ones,
    padding: spec.padding ?? ones.map(() => [0, 0] as const),
    lhsDilation: spec.lhsDilation ?? ones,
    rhsDilation: spec.rhsDilation ?? ones,
    groups: spec.groups ?? 1,
  };
  return {
    name: spec.name,
    inputs: [
      { shape: spec.lhs, ...(spec.lhsLayout ? { layout: spec.lhsLayout } : {}) },
      { shape: spec.rhs, ...(spec.rhsLayout ? { layout: spec.rhsLayout } : {}) },
    ],
    params,
  };
}

export const convTable: PrimitiveTable<Primitive.Conv> = {
  dtypes: FLOATS,
  accuracy: 'accumulated',
  signedZeros: false,
  cases: [
    convCase({ name: '1-d', lhs: [2, 3, 9], rhs: [4, 3, 3] }),
    convCase({ name: '2-d', lhs: [2, 3, 6, 5], rhs: [4, 3, 3, 2] }),
    convCase({
      name: '2-d, stride 2, padding 1',
      lhs: [1, 2, 7, 7],
      rhs: [3, 2, 3, 3],
      strides: [2, 2],
      padding: [
        [1, 1],
        [1, 1],
      ],
    }),
    convCase({
      name: 'asymmetric padding and strides',
      lhs: [1, 2, 6, 5],
      rhs: [2, 2, 2, 3],
      strides: [1, 2],
      padding: [
        [0, 2],
        [1, 0],
      ],
    }),
    convCase({ name: 'negative padding crops', lhs: [1, 1, 8], rhs: [2, 1, 2], padding: [[-2, -1]] }),
    convCase({ name: 'kernel dilation', lhs: [1, 2, 9, 8], rhs: [2, 2, 3, 2], rhsDilation: [2, 3] }),
    convCase({
      name: 'input dilation (transposed convolution)',
      lhs: [1, 2, 4, 3],
      rhs: [3, 2, 3, 3],
      lhsDilation: [2, 2],
      padding: [
        [2, 2],
        [2, 2],
      ],
    }),
    convCase({ name: 'groups of 2', lhs: [2, 4, 5, 5], rhs: [6, 2, 3, 3], groups: 2 }),
    convCase({
      name: 'depthwise',
      lhs: [1, 3, 6, 6],
      rhs: [3, 1, 3, 3],
      groups: 3,
      padding: [
        [1, 1],
        [1, 1],
      ],
    }),
    convCase({ name: '3-d', lhs: [1, 2, 4, 5, 3], rhs: [2, 2, 2, 3, 2], strides: [1, 2, 1] }),
    convCase({ name: '1x1 kernel', lhs: [2, 5, 3, 3], rhs: [4, 5, 1, 1] }),
    convCase({
      name: 'larger 2-d, padding 1',
      lhs: [2, 8, 12, 12],
      rhs: [16, 8, 3, 3],
      padding: [
        [1, 1],
        [1, 1],
      ],
    }),
    convCase({ name: 'larger grouped, strided', lhs: [1, 6, 15, 13], rhs: [9, 2, 3, 3], groups: 3, strides: [2, 2] }),
    convCase({ name: 'empty batch', lhs: [0, 2, 5, 5], rhs: [3, 2, 3, 3] }),
    convCase({ name: 'kernel larger than the input', lhs: [1, 1, 2, 2], rhs: [1, 1, 3, 3] }),
    convCase({ name: 'stride larger than the kernel', lhs: [1, 1, 10], rhs: [1, 1, 2], strides: [4] }),
    convCase({
      name: 'transposed input, flipped kernel',
      lhs: [1, 2, 5, 4],
      rhs: [3, 2, 2, 2],
      lhsLayout: { transpose: [0, 1, 3, 2] },
      rhsLayout: { flip: [2, 3] },
    }),
    convCase({ name: 'broadcast input', lhs: [2, 2, 4, 4], rhs: [1, 2, 3, 3], lhsLayout: { broadcastFrom: [1, 2, 4, 4] } }),
  ],
};

function windowCase(
  name: string,
  shape: readonly number[],
  op: 'sum' | 'max',
  window: readonly number[],
  options: {
    strides?: readonly number[];
    padding?: readonly PadPair[];
    dilation?: readonly number[];
    layout?: InputSpec['layout'];
    values?: InputSpec['values'];
    dtypes?: readonly DType[];
  } = {},
): Case<Primitive.ReduceWindow> {
  return {
    name,
    ...(options.dtypes ? { dtypes: options.dtypes } : {}),
    inputs: [{ shape, ...(options.layout ? { layout: options.layout } : {}), ...(options.values ? { values: options.values } : {}) }],
    params: {
      op,
      window,
      strides: options.strides ?? window.map(() => 1),
      padding: options.padding ?? window.map(() => [0, 0] as const),
      dilation: options.dilation ?? window.map(() => 1),
    },
  };
}

export const reduceWindowTable: PrimitiveTable<Primitive.ReduceWindow> = {
  dtypes: NUMERIC,
  accuracy: 'accumulated',
  signedZeros: false,
  cases: [
    windowCase('2x2 max pool, stride 2', [1, 2, 4, 6], 'max', [1, 1, 2, 2], { strides: [1, 1, 2, 2] }),
    windowCase('3x3 sum, stride 1, padding 1', [1, 1, 5, 5], 'sum', [1, 1, 3, 3], {
      padding: [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 1],
      ],
    }),
    windowCase('max with padding', [2, 5], 'max', [1, 3], {
      strides: [1, 2],
      padding: [
        [0, 0],
        [1, 1],
      ],
    }),
    windowCase('windows entirely in padding give the identity', [1, 3], 'max', [1, 2], {
      padding: [
        [0, 0],
        [3, 3],
      ],
    }),
    windowCase('sum windows entirely in padding', [1, 3], 'sum', [1, 2], {
      padding: [
        [0, 0],
        [3, 3],
      ],
    }),
    windowCase('dilated windows', [1, 9], 'sum', [1, 3], { dilation: [1, 3] }),
    windowCase('dilated max', [2, 8], 'max', [1, 2], { dilation: [1, 4], strides: [1, 2] }),
    windowCase('1-d', [10], 'sum', [4], { strides: [3] }),
    windowCase('window over every dim', [3, 4], 'max', [2, 2]),
    windowCase('window 1 is the identity', [3, 4], 'sum', [1, 1]),
    windowCase('window larger than the input', [2, 2], 'max', [3, 1]),
    windowCase('zero-size input', [0, 4], 'sum', [1, 2]),
    windowCase('transposed input', [4, 5], 'max', [2, 2], { layout: { transpose: [1, 0] } }),
    windowCase('broadcast input', [4, 5], 'sum', [2, 3], { layout: { broadcastFrom: [5] } }),
    windowCase('flipped input', [6], 'max', [2], { layout: { flip: [0] }, strides: [2] }),
    windowCase('large sums', [1, 300], 'sum', [1, 100], {
      strides: [1, 50],
      values: ints(-1000, 1000),
      dtypes: ['int32', 'float32', 'float64'],
    }),
  ],
};
