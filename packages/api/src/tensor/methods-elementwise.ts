import type { DType } from '../core/dtype.js';
import { clone } from '../ops/clone.js';
import type { TensorLike } from '../ops/convert.js';
import * as ops from '../ops/elementwise.js';
import { maskedFill } from '../ops/masked-fill.js';
import { allclose, type IsCloseOptions, isclose, isfinite, isinf, isnan } from '../ops/predicates.js';
import { acosh, asinh, atanh, cosh, exp2, log2, log10, sinh } from '../ops/transcendental.js';
import { Tensor } from './tensor.js';

// Tensor methods for the elementwise ops: thin wrappers, so `x.add(y)` is `add(x, y)`.

declare module './tensor.js' {
  interface Tensor {
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    /** `atan2(this, other)`: the angle of the point (other, this), as `torch.Tensor.atan2`. */
    atan2(other: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    mod(other: TensorLike): Tensor;
    floorDivide(other: TensorLike): Tensor;
    equal(other: TensorLike): Tensor;
    notEqual(other: TensorLike): Tensor;
    less(other: TensorLike): Tensor;
    lessEqual(other: TensorLike): Tensor;
    greater(other: TensorLike): Tensor;
    greaterEqual(other: TensorLike): Tensor;
    logicalAnd(other: TensorLike): Tensor;
    logicalOr(other: TensorLike): Tensor;
    logicalXor(other: TensorLike): Tensor;
    logicalNot(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    expm1(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tan(): Tensor;
    asin(): Tensor;
    acos(): Tensor;
    atan(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    erf(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    reciprocal(): Tensor;
    square(): Tensor;
    /** See `log2`. */
    log2(): Tensor;
    /** See `log10`. */
    log10(): Tensor;
    /** See `exp2`. */
    exp2(): Tensor;
    /** See `sinh`. */
    sinh(): Tensor;
    /** See `cosh`. */
    cosh(): Tensor;
    /** See `asinh`. */
    asinh(): Tensor;
    /** See `acosh`. */
    acosh(): Tensor;
    /** See `atanh`. */
    atanh(): Tensor;
    /** See `isnan`. */
    isnan(): Tensor;
    /** See `isinf`. */
    isinf(): Tensor;
    /** See `isfinite`. */
    isfinite(): Tensor;
    /** See `isclose`. */
    isclose(other: TensorLike, options?: IsCloseOptions): Tensor;
    /** See `allclose`: a JavaScript boolean, on backends with synchronous reads. */
    allclose(other: TensorLike, options?: IsCloseOptions): boolean;
    where(condition: TensorLike, other: TensorLike): Tensor;
    /** See `maskedFill` (torch's `masked_fill`). */
    maskedFill(mask: TensorLike, value: TensorLike): Tensor;
    /** See `clone`: a copy in memory of its own. */
    clone(): Tensor;
    clamp(min?: TensorLike, max?: TensorLike): Tensor;
    cast(dtype: DType): Tensor;
    astype(dtype: DType): Tensor;
    /**
     * `astype('float16')`, as `torch.Tensor.half()`: rounds to nearest even.
     *
     * @example
     * tensor([0.1]).half().item(); // 0.0999755859375
     */
    half(): Tensor;
    /** `astype('bfloat16')`, as `torch.Tensor.bfloat16()`. */
    bfloat16(): Tensor;
    /** `astype('float32')`, as `torch.Tensor.float()`. */
    float(): Tensor;
  }
}

const binary = [
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'atan2',
  'maximum',
  'minimum',
  'mod',
  'floorDivide',
  'equal',
  'notEqual',
  'less',
  'lessEqual',
  'greater',
  'greaterEqual',
  'logicalAnd',
  'logicalOr',
  'logicalXor',
] as const;
const unary = [
  'logicalNot',
  'neg',
  'abs',
  'sign',
  'exp',
  'log',
  'log1p',
  'expm1',
  'sqrt',
  'rsqrt',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'tanh',
  'sigmoid',
  'erf',
  'floor',
  'ceil',
  'round',
  'reciprocal',
  'square',
] as const;

const proto = Tensor.prototype as unknown as Record<string, unknown>;
for (const name of binary) {
  // biome-ignore lint/performance/noDynamicNamespaceImportAccess: installs each listed op once, at load time.
  const fn = ops[name];
  proto[name] = function (this: Tensor, other: TensorLike) {
    return fn(this, other);
  };
}
for (const name of unary) {
  // biome-ignore lint/performance/noDynamicNamespaceImportAccess: installs each listed op once, at load time.
  const fn = ops[name];
  proto[name] = function (this: Tensor) {
    return fn(this);
  };
}
const composites = { log2, log10, exp2, sinh, cosh, asinh, acosh, atanh, isnan, isinf, isfinite } as const;
for (const [name, fn] of Object.entries(composites)) {
  proto[name] = function (this: Tensor) {
    return fn(this);
  };
}
Tensor.prototype.isclose = function (other, options) {
  return isclose(this, other, options);
};
Tensor.prototype.allclose = function (other, options) {
  return allclose(this, other, options);
};
Tensor.prototype.maskedFill = function (mask, value) {
  return maskedFill(this, mask, value);
};
Tensor.prototype.clone = function () {
  return clone(this);
};
Tensor.prototype.where = function (condition, other) {
  return ops.where(condition, this, other);
};
Tensor.prototype.clamp = function (min, max) {
  return ops.clamp(this, min, max);
};
Tensor.prototype.cast = function (dtype) {
  return ops.astype(this, dtype);
};
Tensor.prototype.astype = Tensor.prototype.cast;
Tensor.prototype.half = function () {
  return ops.astype(this, 'float16');
};
Tensor.prototype.bfloat16 = function () {
  return ops.astype(this, 'bfloat16');
};
Tensor.prototype.float = function () {
  return ops.astype(this, 'float32');
};
