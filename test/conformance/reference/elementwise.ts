import type { DType } from '@flint/api';
import { erf } from './erf.js';
import { isFloatDType, type RefArray, type RefResult, toDType, wrapInt32 } from './ndarray.js';

// Elementwise references, written from the semantics documented on each primitive. Float results
// are computed in float64 and then rounded to the output dtype; integer ones wrap.

export type UnaryName =
  | 'neg'
  | 'abs'
  | 'sign'
  | 'exp'
  | 'log'
  | 'log1p'
  | 'expm1'
  | 'sqrt'
  | 'rsqrt'
  | 'sin'
  | 'cos'
  | 'tan'
  | 'asin'
  | 'acos'
  | 'atan'
  | 'tanh'
  | 'logistic'
  | 'erf'
  | 'floor'
  | 'ceil'
  | 'round'
  | 'reciprocal'
  | 'not'
  | 'relu';

export type BinaryName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'atan2'
  | 'max'
  | 'min'
  | 'mod'
  | 'floorDivide'
  | 'equal'
  | 'notEqual'
  | 'less'
  | 'lessEqual'
  | 'greater'
  | 'greaterEqual'
  | 'and'
  | 'or'
  | 'reluGrad';

/** Round half to even, written out: JavaScript's Math.round rounds half up. */
function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const lower = Math.floor(x);
  const fraction = x - lower;
  let r: number;
  if (fraction < 0.5) r = lower;
  else if (fraction > 0.5) r = lower + 1;
  else r = lower % 2 === 0 ? lower : lower + 1;
  // Rounding a negative number up to zero gives -0, as in C's nearbyint.
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

function floatUnary(name: UnaryName, x: number): number {
  switch (name) {
    case 'neg':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'sign':
      return Number.isNaN(x) ? Number.NaN : x > 0 ? 1 : x < 0 ? -1 : x;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'log1p':
      return Math.log1p(x);
    case 'expm1':
      return Math.expm1(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'rsqrt':
      return 1 / Math.sqrt(x);
    case 'sin':
      return Math.sin(x);
    case 'cos':
      return Math.cos(x);
    case 'tan':
      return Math.tan(x);
    case 'asin':
      return Math.asin(x);
    case 'acos':
      return Math.acos(x);
    case 'atan':
      return Math.atan(x);
    case 'tanh':
      return Math.tanh(x);
    case 'logistic':
      // Written so that neither branch overflows: e^-|x| is at most 1.
      if (Number.isNaN(x)) return x;
      return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    case 'erf':
      return erf(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round':
      return roundHalfEven(x);
    case 'reciprocal':
      return 1 / x;
    case 'not':
      return x === 0 ? 1 : 0;
    case 'relu':
      // torch.relu: negatives become +0; NaN and -0 pass through (Math.max(-0, 0) is +0).
      // biome-ignore lint/complexity/useMathMinMax: see above
      return x < 0 ? 0 : x;
  }
}

function integerUnary(name: UnaryName, x: number): number {
  switch (name) {
    case 'neg':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'sign':
      return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 'floor':
    case 'ceil':
    case 'round':
      return x; // identity on integers (documented)
    case 'not':
      return x === 0 ? 1 : 0;
    case 'relu':
      return Math.max(x, 0);
    default:
      throw new Error(`reference: ${name} is float-only`);
  }
}

export function unaryReference(name: UnaryName, inputs: readonly RefArray[]): RefResult {
  const x = inputs[0] as RefArray;
  const f = isFloatDType(x.dtype) ? floatUnary : integerUnary;
  return { out: { shape: x.shape, dtype: x.dtype, data: x.data.map((v) => toDType(f(name, v), x.dtype)) } };
}

/** C99 pow (what NumPy and PyTorch compute), which differs from Math.pow for base +/-1. */
function cPow(a: number, b: number): number {
  if (a === 1) return 1;
  if (b === 0) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return a ** b;
}

/** Integer a**b for b >= 0 by repeated squaring, wrapping modulo 2^32 at every step. */
function intPow(a: number, b: number): number {
  let result = 1;
  let base = a;
  let e = b;
  while (e > 0) {
    if (e % 2 === 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
    e = Math.floor(e / 2);
  }
  return result;
}

/** Python's remainder: the sign of the divisor. */
function pythonMod(a: number, b: number): number {
  const r = a % b; // fmod: exact in float64
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

function floatBinary(name: BinaryName, a: number, b: number): number {
  switch (name) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'pow':
      return cPow(a, b);
    case 'atan2':
      // ECMAScript specifies Math.atan2's signed zeros and infinities as C99 does.
      return Math.atan2(a, b);
    case 'max':
      return Math.max(a, b); // propagates NaN, as the contract asks
    case 'min':
      return Math.min(a, b);
    case 'mod':
      return pythonMod(a, b);
    case 'floorDivide':
      return Math.floor(a / b);
    case 'reluGrad':
      // torch's threshold_backward at 0: b where a > 0 or a is NaN.
      return a <= 0 ? 0 : b;
    default:
      return compare(name, a, b);
  }
}

function compare(name: BinaryName, a: number, b: number): number {
  switch (name) {
    case 'equal':
      return a === b ? 1 : 0;
    case 'notEqual':
      return a !== b ? 1 : 0;
    case 'less':
      return a < b ? 1 : 0;
    case 'lessEqual':
      return a <= b ? 1 : 0;
    case 'greater':
      return a > b ? 1 : 0;
    case 'greaterEqual':
      return a >= b ? 1 : 0;
    case 'and':
      return a !== 0 && b !== 0 ? 1 : 0;
    case 'or':
      return a !== 0 || b !== 0 ? 1 : 0;
    default:
      throw new Error(`reference: ${name} is not a comparison`);
  }
}

function integerBinary(name: BinaryName, a: number, b: number, dtype: DType): number {
  switch (name) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return dtype === 'int32' ? Math.imul(a, b) : (a * b) % 256;
    case 'div':
      return b === 0 ? 0 : Math.trunc(a / b);
    case 'pow':
      if (b < 0) throw new Error('reference: negative integer powers are not part of the contract');
      return dtype === 'int32' ? intPow(a, b) : intPow(a, b) & 255;
    case 'max':
      return Math.max(a, b);
    case 'min':
      return Math.min(a, b);
    case 'mod':
      return b === 0 ? 0 : pythonMod(a, b);
    case 'floorDivide': {
      if (b === 0) return 0;
      const q = Math.trunc(a / b);
      return q * b !== a && a < 0 !== b < 0 ? q - 1 : q;
    }
    case 'reluGrad':
      return a <= 0 ? 0 : b;
    default:
      return compare(name, a, b);
  }
}

const BOOL_OUTPUT: ReadonlySet<BinaryName> = new Set(['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual', 'and', 'or']);

export function binaryReference(name: BinaryName, inputs: readonly RefArray[]): RefResult {
  const a = inputs[0] as RefArray;
  const b = inputs[1] as RefArray;
  const outDType: DType = BOOL_OUTPUT.has(name) ? 'bool' : a.dtype;
  const float = isFloatDType(a.dtype);
  const data = a.data.map((x, i) => {
    const y = b.data[i] as number;
    const v = float ? floatBinary(name, x, y) : integerBinary(name, x, y, a.dtype);
    return toDType(v, outDType);
  });
  return { out: { shape: a.shape, dtype: outDType, data } };
}

export function whereReference(inputs: readonly RefArray[]): RefResult {
  const [condition, x, y] = inputs as [RefArray, RefArray, RefArray];
  return { out: { shape: x.shape, dtype: x.dtype, data: condition.data.map((c, i) => (c !== 0 ? x.data[i] : y.data[i]) as number) } };
}

/** Float to integer truncates toward zero, NaN to integer is 0, to bool is `!= 0`. */
export function castValue(v: number, from: DType, to: DType): number {
  if (to === 'bool') return v !== 0 ? 1 : 0;
  if ((to === 'int32' || to === 'uint8') && isFloatDType(from)) {
    if (Number.isNaN(v)) return 0;
    return to === 'int32' ? wrapInt32(Math.trunc(v)) : wrapInt32(Math.trunc(v)) & 255;
  }
  return toDType(v, to);
}

export function castReference(inputs: readonly RefArray[], to: DType): RefResult {
  const x = inputs[0] as RefArray;
  return { out: { shape: x.shape, dtype: to, data: x.data.map((v) => castValue(v, x.dtype, to)) } };
}
