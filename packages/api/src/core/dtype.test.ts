import { describe, expect, test } from 'vitest';
import { resultDType } from '../ops/convert.js';
import {
  checkDType,
  DTYPES,
  type DType,
  dtypeOfTypedArray,
  fitsDType,
  inferDType,
  inferredKind,
  isFloating,
  isHalf,
  isInteger,
  itemSize,
  outOfRangeError,
  promoteTypes,
  promoteWithScalar,
  resultTypeOf,
  scalarKind,
  toFloating,
} from './dtype.js';
import { DTypeError, ValueError } from './errors.js';

// The promotion table, written out in full so that a change to it is a visible decision
// (docs/dtypes.md explains each row). Rows and columns in the order of DTYPES.
const TABLE: Record<DType, Record<DType, DType>> = {
  float32: {
    float32: 'float32',
    float64: 'float64',
    float16: 'float32',
    bfloat16: 'float32',
    int32: 'float32',
    uint8: 'float32',
    bool: 'float32',
  },
  float64: {
    float32: 'float64',
    float64: 'float64',
    float16: 'float64',
    bfloat16: 'float64',
    int32: 'float64',
    uint8: 'float64',
    bool: 'float64',
  },
  float16: {
    float32: 'float32',
    float64: 'float64',
    float16: 'float16',
    bfloat16: 'float32',
    int32: 'float16',
    uint8: 'float16',
    bool: 'float16',
  },
  bfloat16: {
    float32: 'float32',
    float64: 'float64',
    float16: 'float32',
    bfloat16: 'bfloat16',
    int32: 'bfloat16',
    uint8: 'bfloat16',
    bool: 'bfloat16',
  },
  int32: {
    float32: 'float32',
    float64: 'float64',
    float16: 'float16',
    bfloat16: 'bfloat16',
    int32: 'int32',
    uint8: 'int32',
    bool: 'int32',
  },
  uint8: {
    float32: 'float32',
    float64: 'float64',
    float16: 'float16',
    bfloat16: 'bfloat16',
    int32: 'int32',
    uint8: 'uint8',
    bool: 'uint8',
  },
  bool: { float32: 'float32', float64: 'float64', float16: 'float16', bfloat16: 'bfloat16', int32: 'int32', uint8: 'uint8', bool: 'bool' },
};

describe('promoteTypes', () => {
  for (const a of DTYPES) {
    for (const b of DTYPES) {
      test(`${a} with ${b} gives ${TABLE[a][b]}`, () => {
        expect(promoteTypes(a, b)).toBe(TABLE[a][b]);
      });
    }
  }

  test('is symmetric and idempotent', () => {
    for (const a of DTYPES) {
      expect(promoteTypes(a, a)).toBe(a);
      for (const b of DTYPES) expect(promoteTypes(a, b)).toBe(promoteTypes(b, a));
    }
  });

  test('is associative, so the order of a chain of ops does not change the result dtype', () => {
    for (const a of DTYPES) {
      for (const b of DTYPES) {
        for (const c of DTYPES) expect(promoteTypes(promoteTypes(a, b), c)).toBe(promoteTypes(a, promoteTypes(b, c)));
      }
    }
  });

  test('int32 with float32 is float32, not float64 as in NumPy', () => {
    expect(promoteTypes('int32', 'float32')).toBe('float32');
  });

  test('float16 with bfloat16 is float32, as in PyTorch', () => {
    expect(promoteTypes('float16', 'bfloat16')).toBe('float32');
    expect(promoteTypes('bfloat16', 'float16')).toBe('float32');
  });
});

describe('scalars are weak', () => {
  test('scalarKind classifies JavaScript values', () => {
    expect(scalarKind(true)).toBe('bool');
    expect(scalarKind(false)).toBe('bool');
    expect(scalarKind(3)).toBe('int');
    expect(scalarKind(-0)).toBe('int');
    expect(scalarKind(2 ** 40)).toBe('int');
    expect(scalarKind(0.5)).toBe('float');
    expect(scalarKind(Number.NaN)).toBe('float');
    expect(scalarKind(Number.POSITIVE_INFINITY)).toBe('float');
    expect(scalarKind(Number.NEGATIVE_INFINITY)).toBe('float');
  });

  test('creation infers int only for integers that int32 holds (inferredKind)', () => {
    expect(inferredKind(true)).toBe('bool');
    expect(inferredKind(3)).toBe('int');
    expect(inferredKind(-0)).toBe('int');
    expect(inferredKind(2147483647)).toBe('int');
    expect(inferredKind(-2147483648)).toBe('int');
    expect(inferredKind(2 ** 31)).toBe('float');
    expect(inferredKind(-(2 ** 31) - 1)).toBe('float');
    expect(inferredKind(1e40)).toBe('float');
    expect(inferredKind(0.5)).toBe('float');
    expect(inferredKind(Number.NaN)).toBe('float');
    expect(inferredKind(Number.POSITIVE_INFINITY)).toBe('float');
  });

  test('fitsDType: integer dtypes hold their range (after truncation); others hold every number', () => {
    expect(fitsDType('int32', 2147483647)).toBe(true);
    expect(fitsDType('int32', 2147483647.9)).toBe(true);
    expect(fitsDType('int32', 2147483648)).toBe(false);
    expect(fitsDType('int32', -2147483648.5)).toBe(true);
    expect(fitsDType('int32', -2147483649)).toBe(false);
    expect(fitsDType('uint8', -0.5)).toBe(true);
    expect(fitsDType('uint8', -1)).toBe(false);
    expect(fitsDType('uint8', 255.5)).toBe(true);
    expect(fitsDType('uint8', 256)).toBe(false);
    for (const dtype of ['int32', 'uint8'] as const) {
      for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(fitsDType(dtype, v)).toBe(false);
    }
    for (const dtype of ['float32', 'float64', 'float16', 'bfloat16', 'bool'] as const) expect(fitsDType(dtype, 1e300)).toBe(true);
  });

  test('outOfRangeError names the op, the value and the range', () => {
    const error = outOfRangeError('add', 'the scalar 300', 'uint8', ', the dtype this op computes in', 'cast first');
    expect(error).toBeInstanceOf(ValueError);
    expect(error.message).toBe(
      'add: the scalar 300 does not fit in uint8 (integers from 0 to 255), the dtype this op computes in; cast first',
    );
  });

  const WEAK: Record<DType, Record<'bool' | 'int' | 'float', DType>> = {
    float32: { bool: 'float32', int: 'float32', float: 'float32' },
    float64: { bool: 'float64', int: 'float64', float: 'float64' },
    float16: { bool: 'float16', int: 'float16', float: 'float16' },
    bfloat16: { bool: 'bfloat16', int: 'bfloat16', float: 'bfloat16' },
    int32: { bool: 'int32', int: 'int32', float: 'float32' },
    uint8: { bool: 'uint8', int: 'uint8', float: 'float32' },
    bool: { bool: 'bool', int: 'int32', float: 'float32' },
  };
  for (const dtype of DTYPES) {
    for (const kind of ['bool', 'int', 'float'] as const) {
      test(`a ${dtype} tensor with a JavaScript ${kind} gives ${WEAK[dtype][kind]}`, () => {
        expect(promoteWithScalar(dtype, kind)).toBe(WEAK[dtype][kind]);
      });
    }
  }

  test('a scalar never widens a tensor within its category (float32 stays float32)', () => {
    expect(promoteWithScalar('float32', 'float')).toBe('float32');
    expect(promoteWithScalar('uint8', 'int')).toBe('uint8');
  });
});

// A dimensioned tensor (row) with a 0-dim tensor (column), by PyTorch's result_type rules
// (torch is not importable here, so the table is written from its documented rules: the 0-dim
// operand counts only when its category is higher, and then with its own dtype). Cells that differ
// from the two-tensor table are where the 0-dim operand acts as a scalar.
const ZERO_DIM: Record<DType, Record<DType, DType>> = {
  float32: {
    float32: 'float32',
    float64: 'float32',
    float16: 'float32',
    bfloat16: 'float32',
    int32: 'float32',
    uint8: 'float32',
    bool: 'float32',
  },
  float64: {
    float32: 'float64',
    float64: 'float64',
    float16: 'float64',
    bfloat16: 'float64',
    int32: 'float64',
    uint8: 'float64',
    bool: 'float64',
  },
  float16: {
    float32: 'float16',
    float64: 'float16',
    float16: 'float16',
    bfloat16: 'float16',
    int32: 'float16',
    uint8: 'float16',
    bool: 'float16',
  },
  bfloat16: {
    float32: 'bfloat16',
    float64: 'bfloat16',
    float16: 'bfloat16',
    bfloat16: 'bfloat16',
    int32: 'bfloat16',
    uint8: 'bfloat16',
    bool: 'bfloat16',
  },
  int32: {
    float32: 'float32',
    float64: 'float64',
    float16: 'float16',
    bfloat16: 'bfloat16',
    int32: 'int32',
    uint8: 'int32',
    bool: 'int32',
  },
  uint8: {
    float32: 'float32',
    float64: 'float64',
    float16: 'float16',
    bfloat16: 'bfloat16',
    int32: 'uint8',
    uint8: 'uint8',
    bool: 'uint8',
  },
  bool: { float32: 'float32', float64: 'float64', float16: 'float16', bfloat16: 'bfloat16', int32: 'int32', uint8: 'uint8', bool: 'bool' },
};

describe('0-dim tensors promote like scalars next to dimensioned ones', () => {
  const dim = (dtype: DType) => ({ dtype, rank: 1 });
  const zero = (dtype: DType) => ({ dtype, rank: 0 });
  for (const a of DTYPES) {
    for (const b of DTYPES) {
      test(`${a}[n] with ${b}[] gives ${ZERO_DIM[a][b]}`, () => {
        expect(resultTypeOf([dim(a), zero(b)])).toBe(ZERO_DIM[a][b]);
        expect(resultTypeOf([zero(b), dim(a)])).toBe(ZERO_DIM[a][b]);
      });
    }
  }

  test('operands of one priority promote as tensors: two 0-dim or two dimensioned tensors use the full table', () => {
    for (const a of DTYPES) {
      for (const b of DTYPES) {
        expect(resultTypeOf([zero(a), zero(b)])).toBe(TABLE[a][b]);
        expect(resultTypeOf([dim(a), { dtype: b, rank: 3 }])).toBe(TABLE[a][b]);
      }
    }
  });

  test('a 0-dim tensor with a JavaScript scalar promotes as a tensor with a scalar', () => {
    for (const dtype of DTYPES) {
      for (const kind of ['bool', 'int', 'float'] as const) {
        expect(resultTypeOf([zero(dtype), { scalar: kind }])).toBe(promoteWithScalar(dtype, kind));
      }
    }
  });

  test('several 0-dim operands of the higher category decide together; scalars come last', () => {
    expect(resultTypeOf([dim('int32'), zero('float16'), zero('float64')])).toBe('float64');
    expect(resultTypeOf([dim('int32'), zero('float16'), zero('bfloat16')])).toBe('float32');
    expect(resultTypeOf([dim('bool'), zero('uint8'), { scalar: 'float' }])).toBe('float32');
    expect(resultTypeOf([dim('uint8'), zero('int32'), { scalar: 'float' }])).toBe('float32');
    expect(resultTypeOf([dim('float16'), zero('float64'), { scalar: 'float' }])).toBe('float16');
    expect(resultTypeOf([zero('int32'), { scalar: 'float' }, { scalar: 'int' }])).toBe('float32');
    expect(() => resultTypeOf([])).toThrow(DTypeError);
  });
});

describe('resultDType of JavaScript operands (no backend needed)', () => {
  test('two scalars promote as their inferred dtypes', () => {
    expect(resultDType(1, 2)).toBe('int32');
    expect(resultDType(1, 2.5)).toBe('float32');
    expect(resultDType(true, false)).toBe('bool');
    expect(resultDType(true, 3)).toBe('int32');
    // A whole number int32 cannot hold infers float32, so two scalars do not overflow int32.
    expect(resultDType(1, 2 ** 40)).toBe('float32');
    expect(resultDType(2 ** 31, true)).toBe('float32');
  });

  test('nested arrays infer as tensor() does: whole numbers past int32 are float32', () => {
    expect(resultDType([1, 5e9], 1)).toBe('float32');
    expect(resultDType([1, 2], 2 ** 31)).toBe('int32'); // a weak scalar: add() refuses it, see elementwise.test.ts
  });

  test('nested arrays and typed arrays are strong: they promote like tensors', () => {
    expect(resultDType([1, 2], [0.5])).toBe('float32');
    expect(resultDType(new Float64Array(2), 1)).toBe('float64');
    expect(resultDType(new Uint8Array(2), new Int32Array(2))).toBe('int32');
    expect(resultDType([true], [false])).toBe('bool');
  });
});

describe('dtype helpers', () => {
  test('inferDType: JavaScript values default to float32, int32 and bool', () => {
    expect(inferDType('float')).toBe('float32');
    expect(inferDType('int')).toBe('int32');
    expect(inferDType('bool')).toBe('bool');
  });

  test('toFloating keeps floats and lifts everything else to float32', () => {
    expect(toFloating('float64')).toBe('float64');
    expect(toFloating('float32')).toBe('float32');
    expect(toFloating('int32')).toBe('float32');
    expect(toFloating('uint8')).toBe('float32');
    expect(toFloating('bool')).toBe('float32');
  });

  test('categories and sizes', () => {
    expect(DTYPES.filter(isFloating)).toEqual(['float32', 'float64', 'float16', 'bfloat16']);
    expect(DTYPES.filter(isHalf)).toEqual(['float16', 'bfloat16']);
    expect(DTYPES.filter(isInteger)).toEqual(['int32', 'uint8']);
    expect(DTYPES.map(itemSize)).toEqual([4, 8, 2, 2, 4, 1, 1]);
    expect(toFloating('float16')).toBe('float16');
    expect(toFloating('bfloat16')).toBe('bfloat16');
  });

  test('dtypeOfTypedArray reads a Uint8Array as uint8, not bool', () => {
    expect(dtypeOfTypedArray(new Float32Array(1))).toBe('float32');
    expect(dtypeOfTypedArray(new Float64Array(1))).toBe('float64');
    expect(dtypeOfTypedArray(new Int32Array(1))).toBe('int32');
    expect(dtypeOfTypedArray(new Uint8Array(1))).toBe('uint8');
    expect(() => dtypeOfTypedArray(new Uint16Array(1))).toThrow(/Uint16Array holds float16 or bfloat16 bit patterns/);
  });

  test('checkDType names the op and lists the valid dtypes', () => {
    expect(checkDType('zeros', 'int32')).toBe('int32');
    expect(() => checkDType('zeros', 'int64')).toThrow(DTypeError);
    expect(() => checkDType('zeros', 'int64')).toThrow(
      /zeros: unknown dtype "int64"; expected one of float32, float64, float16, bfloat16, int32, uint8, bool/,
    );
  });
});
