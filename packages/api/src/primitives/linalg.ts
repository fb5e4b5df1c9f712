import { checkDType, isFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { checkShape, formatShape } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { frontBatch, onlyToFront, unreachableBatch } from './batching.js';
import { arity, aval, checkAxis, checkLength, input, positiveInts, requireNumeric } from './checks.js';
import { addMaybe, conv, dotGeneral, reduceWindow } from './lax.js';
import { convBatch, dotGeneralBatch } from './linalg-batching.js';
import {
  batchRandom,
  convTransposeLhs,
  convTransposeRhs,
  dotTransposeLhs,
  dotTransposeRhs,
  scanJvp,
  scanVjp,
  windowMaxJvp,
  windowMaxVjp,
  windowSumTranspose,
} from './linalg-derivatives.js';
import { Primitive } from './primitive.js';
import { type PrimitiveRule, READS_INPUTS } from './rule.js';

function distinctAxes(op: string, what: string, axes: readonly number[], rank: number): void {
  for (const a of axes) checkAxis(op, a, rank);
  if (new Set(axes).size !== axes.length) throw new ValueError(`${op}: ${what} ${JSON.stringify(axes)} repeat an axis`);
}

export const dotGeneralRule: PrimitiveRule<Primitive.DotGeneral> = {
  name: 'dotGeneral',
  abstractEval(inputs, params) {
    arity('dotGeneral', inputs, 2);
    const lhs = input(inputs, 0);
    const rhs = input(inputs, 1);
    if (lhs.dtype !== rhs.dtype) throw new DTypeError(`dotGeneral: inputs must share a dtype, got ${lhs.dtype} and ${rhs.dtype}`);
    requireNumeric('dotGeneral', lhs);
    const { lhsContracting, rhsContracting, lhsBatch, rhsBatch } = params;
    checkLength('dotGeneral', 'rhsContracting', rhsContracting, lhsContracting.length);
    checkLength('dotGeneral', 'rhsBatch', rhsBatch, lhsBatch.length);
    distinctAxes('dotGeneral', 'lhs axes', [...lhsContracting, ...lhsBatch], lhs.shape.length);
    distinctAxes('dotGeneral', 'rhs axes', [...rhsContracting, ...rhsBatch], rhs.shape.length);
    const mismatch = (l: readonly number[], r: readonly number[]) => l.some((a, i) => lhs.shape[a] !== rhs.shape[r[i] as number]);
    if (mismatch(lhsContracting, rhsContracting) || mismatch(lhsBatch, rhsBatch)) {
      throw new ShapeError(
        `dotGeneral: shapes ${formatShape(lhs.shape)} and ${formatShape(rhs.shape)} disagree on contracting axes ${JSON.stringify(lhsContracting)}/${JSON.stringify(rhsContracting)} or batch axes ${JSON.stringify(lhsBatch)}/${JSON.stringify(rhsBatch)}`,
      );
    }
    const free = (shape: readonly number[], used: readonly number[]) => shape.filter((_, i) => !used.includes(i));
    const shape = [
      ...lhsBatch.map((a) => lhs.shape[a] as number),
      ...free(lhs.shape, [...lhsContracting, ...lhsBatch]),
      ...free(rhs.shape, [...rhsContracting, ...rhsBatch]),
    ];
    return aval(checkShape('dotGeneral', shape, 'result shape'), lhs.dtype);
  },
  // Bilinear: the tangent is the sum of one term per varying input.
  jvp: ([tl, tr], [lhs, rhs], _out, params) =>
    addMaybe(tl ? dotGeneral(tl, rhs as Tensor, params) : null, tr ? dotGeneral(lhs as Tensor, tr, params) : null),
  vjp: (g, [lhs, rhs], _out, params, wants) => [
    wants[0] ? dotTransposeLhs(g, lhs as Tensor, rhs as Tensor, params) : null,
    wants[1] ? dotTransposeRhs(g, lhs as Tensor, rhs as Tensor, params) : null,
  ],
  vjpReads: READS_INPUTS,
  batch: dotGeneralBatch,
};

/** Output size of one dimension of a strided, padded, dilated window. */
export function windowOutputSize(
  size: number,
  window: number,
  stride: number,
  padLo: number,
  padHi: number,
  dilation = 1,
  inputDilation = 1,
): number {
  const dilatedInput = size === 0 ? 0 : (size - 1) * inputDilation + 1;
  const padded = dilatedInput + padLo + padHi;
  const dilatedWindow = (window - 1) * dilation + 1;
  return padded < dilatedWindow ? 0 : Math.floor((padded - dilatedWindow) / stride) + 1;
}

export const convRule: PrimitiveRule<Primitive.Conv> = {
  name: 'conv',
  abstractEval(inputs, params) {
    arity('conv', inputs, 2);
    const lhs = input(inputs, 0);
    const rhs = input(inputs, 1);
    if (lhs.dtype !== rhs.dtype) throw new DTypeError(`conv: input and weight must share a dtype, got ${lhs.dtype} and ${rhs.dtype}`);
    if (!isFloating(lhs.dtype)) throw new DTypeError(`conv: expected floating-point tensors, got ${lhs.dtype}`);
    const rank = lhs.shape.length;
    const spatial = rank - 2;
    if (spatial < 1 || rhs.shape.length !== rank) {
      throw new ShapeError(
        `conv: input ${formatShape(lhs.shape)} must be [N, C, ...spatial] and weight ${formatShape(rhs.shape)} [O, C/groups, ...kernel] of the same rank`,
      );
    }
    const { strides, padding, lhsDilation, rhsDilation, groups } = params;
    for (const [what, list] of [
      ['strides', strides],
      ['padding', padding],
      ['lhsDilation', lhsDilation],
      ['rhsDilation', rhsDilation],
    ] as const) {
      checkLength('conv', what, list, spatial);
    }
    positiveInts('conv', 'strides', strides);
    positiveInts('conv', 'lhsDilation', lhsDilation);
    positiveInts('conv', 'rhsDilation', rhsDilation);
    positiveInts('conv', 'groups', [groups]);
    const [n, c] = lhs.shape as [number, number];
    const [o, cPerGroup] = rhs.shape as [number, number];
    if (c % groups !== 0 || o % groups !== 0 || cPerGroup * groups !== c) {
      throw new ShapeError(
        `conv: input channels ${c} and output channels ${o} must both divide into ${groups} groups, with weight ${formatShape(rhs.shape)} holding C/groups = ${c / groups} input channels`,
      );
    }
    const out = [n, o];
    for (let i = 0; i < spatial; i++) {
      const [lo, hi] = padding[i] as readonly [number, number];
      const size = windowOutputSize(
        lhs.shape[i + 2] as number,
        rhs.shape[i + 2] as number,
        strides[i] as number,
        lo,
        hi,
        rhsDilation[i],
        lhsDilation[i],
      );
      out.push(size);
    }
    return aval(checkShape('conv', out, 'result shape'), lhs.dtype);
  },
  jvp: ([tx, tw], [x, w], _out, params) => addMaybe(tx ? conv(tx, w as Tensor, params) : null, tw ? conv(x as Tensor, tw, params) : null),
  vjp: (g, [x, w], _out, params, wants) => [
    wants[0] ? convTransposeLhs(g, x as Tensor, w as Tensor, params) : null,
    wants[1] ? convTransposeRhs(g, x as Tensor, w as Tensor, params) : null,
  ],
  vjpReads: READS_INPUTS,
  batch: convBatch,
};

export const reduceWindowRule: PrimitiveRule<Primitive.ReduceWindow> = {
  name: 'reduceWindow',
  abstractEval(inputs, params) {
    arity('reduceWindow', inputs, 1);
    const x = input(inputs, 0);
    requireNumeric('reduceWindow', x);
    const rank = x.shape.length;
    const { window, strides, padding, dilation, op } = params;
    if (op !== 'sum' && op !== 'max') throw new ValueError(`reduceWindow: op must be 'sum' or 'max', got ${String(op)}`);
    checkLength('reduceWindow', 'window', window, rank);
    checkLength('reduceWindow', 'strides', strides, rank);
    checkLength('reduceWindow', 'padding', padding, rank);
    checkLength('reduceWindow', 'dilation', dilation, rank);
    positiveInts('reduceWindow', 'window', window);
    positiveInts('reduceWindow', 'strides', strides);
    positiveInts('reduceWindow', 'dilation', dilation);
    const shape = x.shape.map((d, i) => {
      const [lo, hi] = padding[i] as readonly [number, number];
      if (lo < 0 || hi < 0) throw new ValueError(`reduceWindow: padding must be non-negative, got ${JSON.stringify(padding)}`);
      return windowOutputSize(d, window[i] as number, strides[i] as number, lo, hi, dilation[i]);
    });
    return aval(shape, x.dtype);
  },
  jvp: ([t], [x], out, params) => {
    if (!t) return null;
    return params.op === 'sum' ? reduceWindow(t, params) : windowMaxJvp(t, x as Tensor, out, params);
  },
  vjp: (g, [x], out, params) => [
    params.op === 'sum' ? windowSumTranspose(g, x as Tensor, params) : windowMaxVjp(g, x as Tensor, out, params),
  ],
  batch: frontBatch(Primitive.ReduceWindow, (params) => ({
    op: params.op,
    window: [1, ...params.window],
    strides: [1, ...params.strides],
    padding: [[0, 0], ...params.padding],
    dilation: [1, ...params.dilation],
  })),
};

export const cumulativeRule: PrimitiveRule<Primitive.Cumulative> = {
  name: 'cumulative',
  abstractEval(inputs, params) {
    arity('cumulative', inputs, 1);
    const x = input(inputs, 0);
    requireNumeric(`cum${params.op}`, x);
    checkAxis(`cum${params.op}`, params.axis, x.shape.length);
    return x;
  },
  jvp: ([t], [x], out, params) => (t ? scanJvp(t, x as Tensor, out, params) : null),
  vjp: (g, [x], out, params) => [scanVjp(g, x as Tensor, out, params)],
  batch: frontBatch(Primitive.Cumulative, (params) => ({ ...params, axis: params.axis + 1 })),
};

export const argsortRule: PrimitiveRule<Primitive.Argsort> = {
  name: 'argsort',
  abstractEval(inputs, params) {
    arity('argsort', inputs, 1);
    const x = input(inputs, 0);
    checkAxis('argsort', params.axis, x.shape.length);
    return aval(x.shape, 'int32');
  },
  jvp: null,
  vjp: null,
  batch: frontBatch(Primitive.Argsort, (params) => ({ ...params, axis: params.axis + 1 })),
};

export const iotaRule: PrimitiveRule<Primitive.Iota> = {
  name: 'iota',
  abstractEval(inputs, params) {
    arity('iota', inputs, 0);
    const shape = checkShape('iota', params.shape);
    checkAxis('iota', params.axis, shape.length);
    const dtype = checkDType('iota', params.dtype);
    if (dtype === 'bool') throw new DTypeError('iota: dtype must be numeric, got bool');
    return aval(shape, dtype);
  },
  jvp: null,
  vjp: null,
  batch: unreachableBatch('iota'),
};

export const fullRule: PrimitiveRule<Primitive.Full> = {
  name: 'full',
  abstractEval(inputs, params) {
    arity('full', inputs, 0);
    if (typeof params.value !== 'number') throw new ValueError(`full: fill value must be a number, got ${typeof params.value}`);
    return aval(checkShape('full', params.shape), checkDType('full', params.dtype));
  },
  jvp: null,
  vjp: null,
  batch: unreachableBatch('full'),
};

export const randomBitsRule: PrimitiveRule<Primitive.RandomBits> = {
  name: 'randomBits',
  abstractEval(inputs, params) {
    arity('randomBits', inputs, 1);
    checkKey('randomBits', input(inputs, 0));
    return aval(checkShape('randomBits', params.shape), 'int32');
  },
  jvp: null,
  vjp: null,
  batch: (values, dims, params, axisSize) => [batchRandom(Primitive.RandomBits, onlyToFront(values, dims, axisSize), params), 0],
};

export const randomUniformRule: PrimitiveRule<Primitive.RandomUniform> = {
  name: 'randomUniform',
  abstractEval(inputs, params) {
    arity('randomUniform', inputs, 1);
    checkKey('randomUniform', input(inputs, 0));
    const dtype = checkDType('randomUniform', params.dtype);
    if (!isFloating(dtype)) throw new DTypeError(`randomUniform: dtype must be floating, got ${dtype}`);
    return aval(checkShape('randomUniform', params.shape), dtype);
  },
  jvp: null,
  vjp: null,
  batch: (values, dims, params, axisSize) => [batchRandom(Primitive.RandomUniform, onlyToFront(values, dims, axisSize), params), 0],
};

function checkKey(op: string, key: { shape: readonly number[]; dtype: string }): void {
  if (key.dtype !== 'int32' || key.shape.length !== 1 || key.shape[0] !== 2) {
    throw new ValueError(
      `${op}: a random key is an int32 tensor of shape [2] (from random.key), got ${key.dtype} ${formatShape(key.shape)}`,
    );
  }
}
