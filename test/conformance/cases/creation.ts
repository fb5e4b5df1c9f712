import type { DType, Primitive } from '@flint/api';
import { ALL_DTYPES, FLOATS, list } from '../values.js';
import type { PrimitiveTable } from './types.js';

// Creation primitives take no inputs (or only a key): the case's dtype is the output dtype.

export const iotaTable: PrimitiveTable<Primitive.Iota> = {
  dtypes: ['int32', 'float32', 'float64', 'float16', 'bfloat16', 'uint8'],
  accuracy: 'exact',
  signedZeros: false,
  cases: [
    { name: '[5] along 0', inputs: [], params: (dtype: DType) => ({ shape: [5], dtype, axis: 0 }) },
    { name: '[3,4] along 1', inputs: [], params: (dtype: DType) => ({ shape: [3, 4], dtype, axis: 1 }) },
    { name: '[3,4] along 0', inputs: [], params: (dtype: DType) => ({ shape: [3, 4], dtype, axis: 0 }) },
    { name: '[2,3,4] along the middle', inputs: [], params: (dtype: DType) => ({ shape: [2, 3, 4], dtype, axis: 1 }) },
    { name: 'zero-size [2,0,3]', inputs: [], params: (dtype: DType) => ({ shape: [2, 0, 3], dtype, axis: 2 }) },
    { name: 'long [250]', inputs: [], params: (dtype: DType) => ({ shape: [250], dtype, axis: 0 }) },
  ],
};

/** Fill values and how each dtype stores them (Cast's semantics: floats truncate into integers). */
const FILLS: readonly { readonly name: string; readonly value: number; readonly dtypes: readonly DType[] }[] = [
  { name: '3.5', value: 3.5, dtypes: ALL_DTYPES },
  { name: '-2.9 truncates toward zero', value: -2.9, dtypes: ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'bool'] },
  { name: '0', value: 0, dtypes: ALL_DTYPES },
  { name: '200', value: 200, dtypes: ALL_DTYPES },
  { name: '-0 keeps its sign', value: -0, dtypes: ALL_DTYPES },
  { name: 'NaN', value: Number.NaN, dtypes: ALL_DTYPES },
  { name: '-Infinity', value: -Infinity, dtypes: ['float32', 'float64', 'float16', 'bfloat16', 'bool'] },
  { name: '1e-40 (subnormal in float32)', value: 1e-40, dtypes: ['float32', 'float64', 'bfloat16', 'bool'] },
  { name: '70000 overflows float16', value: 70000, dtypes: ['float16', 'bfloat16'] },
  { name: '3e-7 (subnormal in float16)', value: 3e-7, dtypes: ['float16'] },
  { name: '0.1 rounds to the dtype', value: 0.1, dtypes: FLOATS },
];

export const fullTable: PrimitiveTable<Primitive.Full> = {
  dtypes: ALL_DTYPES,
  accuracy: 'exact',
  signedZeros: true,
  cases: [
    ...FILLS.map((fill) => ({
      name: `[2,3] filled with ${fill.name}`,
      dtypes: fill.dtypes,
      inputs: [],
      params: (dtype: DType) => ({ shape: [2, 3], dtype, value: fill.value }),
    })),
    { name: 'scalar', inputs: [], params: (dtype: DType) => ({ shape: [], dtype, value: 1 }) },
    { name: 'zero-size [0,4]', inputs: [], params: (dtype: DType) => ({ shape: [0, 4], dtype, value: 1 }) },
    { name: 'long [1001]', inputs: [], params: (dtype: DType) => ({ shape: [1001], dtype, value: 7 }) },
  ],
};

const KEYS: readonly (readonly [number, number])[] = [
  [0, 0],
  [42, 7],
  [-1, 2 ** 31 - 1],
  [0x13198a2e, 0x03707344],
];

export const randomBitsTable: PrimitiveTable<Primitive.RandomBits> = {
  dtypes: ['int32'],
  accuracy: 'exact',
  signedZeros: false,
  cases: [
    ...KEYS.map((key) => ({
      name: `key [${key.join(',')}], shape [2,3]`,
      inputs: [{ shape: [2], values: list(key) }],
      params: { shape: [2, 3] },
    })),
    { name: 'odd count [7]', inputs: [{ shape: [2], values: list([5, 9]) }], params: { shape: [7] } },
    { name: 'scalar', inputs: [{ shape: [2], values: list([5, 9]) }], params: { shape: [] } },
    { name: 'zero-size', inputs: [{ shape: [2], values: list([5, 9]) }], params: { shape: [3, 0] } },
    { name: 'long [3,1001]', inputs: [{ shape: [2], values: list([123, 456]) }], params: { shape: [3, 1001] } },
    { name: 'flipped key view', inputs: [{ shape: [2], values: list([9, 5]), layout: { flip: [0] } }], params: { shape: [4] } },
  ],
};

export const randomUniformTable: PrimitiveTable<Primitive.RandomUniform> = {
  dtypes: FLOATS,
  accuracy: 'exact',
  signedZeros: false,
  cases: [
    ...KEYS.map((key) => ({
      name: `key [${key.join(',')}], shape [2,3]`,
      inputs: [{ shape: [2], dtype: 'int32' as const, values: list(key) }],
      params: (dtype: DType) => ({ shape: [2, 3], dtype }),
    })),
    {
      name: 'odd count [7]',
      inputs: [{ shape: [2], dtype: 'int32', values: list([5, 9]) }],
      params: (dtype: DType) => ({ shape: [7], dtype }),
    },
    { name: 'scalar', inputs: [{ shape: [2], dtype: 'int32', values: list([5, 9]) }], params: (dtype: DType) => ({ shape: [], dtype }) },
    {
      name: 'zero-size',
      inputs: [{ shape: [2], dtype: 'int32', values: list([5, 9]) }],
      params: (dtype: DType) => ({ shape: [0], dtype }),
    },
    {
      name: 'long [2000]',
      inputs: [{ shape: [2], dtype: 'int32', values: list([77, 1]) }],
      params: (dtype: DType) => ({ shape: [2000], dtype }),
    },
  ],
};
