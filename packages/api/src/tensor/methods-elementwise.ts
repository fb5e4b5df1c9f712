import type { DType } from '../core/dtype.js';
import type { TensorLike } from '../ops/convert.js';
import * as ops from '../ops/elementwise.js';
import { Tensor } from './tensor.js';

// Tensor methods for the elementwise ops: thin wrappers, so `x.add(y)` is `add(x, y)`.

declare module './tensor.js' {
  interface Tensor {
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
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
    tanh(): Tensor;
    sigmoid(): Tensor;
    erf(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    reciprocal(): Tensor;
    square(): Tensor;
    where(condition: TensorLike, other: TensorLike): Tensor;
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
