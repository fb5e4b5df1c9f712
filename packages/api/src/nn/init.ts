import { checkDType, type DType, isFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { checkShape, formatShape, type Shape, sizeOf } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { full } from '../ops/creation.js';
import { add, clamp, greater, log, mul, rsqrt, sqrt, sub, where } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { concat, narrow, reshape, transpose } from '../ops/movement.js';
import { sum } from '../ops/reduce.js';
import { normal as normalWithKey, uniform as uniformWithKey } from '../random/distributions.js';
import { rand, randn } from '../random/generator.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

// Initializers with PyTorch's formulas (torch.nn.init). Tensors are immutable, so instead of
// filling a tensor in place each initializer makes a new one, shaped by its target:
//   - a Parameter (any `{ value: Tensor }` cell): its value is replaced, PyTorch's in-place style;
//   - a Tensor: a new tensor of its shape, dtype and backend is returned;
//   - a shape: a new tensor of that shape (float32 on the default backend unless options say).
// Randomness comes from `options.key` when given, else from the global generator (`manualSeed`).

/** A cell holding a tensor, such as a Parameter. */
export interface TensorCell {
  value: Tensor;
}

/** What an initializer fills: a Parameter (replaced in place), a Tensor (template) or a shape. */
export type InitTarget = TensorCell | Tensor | Shape;

/** Where a shape-form initializer puts its result, and what randomness it uses. */
export interface InitOptions {
  /** A random key (random.key / random.split); else the global generator. */
  readonly key?: Tensor;
  /** For a shape target: the dtype (default float32). */
  readonly dtype?: DType;
  /** For a shape target: the backend (default the default backend). */
  readonly backend?: string;
}

interface Template {
  readonly shape: number[];
  readonly dtype: DType;
  readonly backend: string | undefined;
}

function isCell(target: unknown): target is TensorCell {
  return (
    typeof target === 'object' &&
    target !== null &&
    !isTensor(target) &&
    !Array.isArray(target) &&
    'value' in target &&
    isTensor((target as TensorCell).value)
  );
}

function templateOf(op: string, target: InitTarget, options: InitOptions): Template {
  if (isCell(target)) return templateOf(op, target.value, options);
  if (isTensor(target)) {
    if (!isFloating(target.dtype)) throw new DTypeError(`${op}: only floating tensors can be initialized, got ${target.dtype}`);
    return { shape: [...target.shape], dtype: target.dtype, backend: target._backend?.name };
  }
  if (!Array.isArray(target)) {
    throw new ValueError(`${op}: target must be a Parameter, a Tensor or a shape, got ${target === null ? 'null' : typeof target}`);
  }
  const dtype = options.dtype === undefined ? 'float32' : checkDType(op, options.dtype);
  if (!isFloating(dtype)) throw new DTypeError(`${op}: dtype must be floating, got ${dtype}`);
  return { shape: checkShape(op, [...target]), dtype, backend: options.backend };
}

/** Replaces a cell's value (disposing the old one, which the cell owned) or returns the new tensor. */
function deliver<T extends InitTarget>(target: T, value: Tensor): T extends TensorCell ? T : Tensor {
  if (isCell(target)) {
    const old = target.value;
    target.value = value;
    if (old !== value) old.dispose();
    return target as T extends TensorCell ? T : Tensor;
  }
  return value as T extends TensorCell ? T : Tensor;
}

type Result<T> = T extends TensorCell ? T : Tensor;

function where0(template: Template): { dtype: DType; backend?: string } {
  return template.backend === undefined ? { dtype: template.dtype } : { dtype: template.dtype, backend: template.backend };
}

function sampleUniform(template: Template, low: number, high: number, key: Tensor | undefined): Tensor {
  return tidy(() => {
    const unit =
      key === undefined ? rand(template.shape, where0(template)) : uniformWithKey(key, template.shape, { dtype: template.dtype });
    return low === 0 && high === 1 ? unit : add(mul(unit, high - low), low);
  });
}

function sampleNormal(template: Template, mean: number, std: number, key: Tensor | undefined): Tensor {
  return tidy(() => {
    const standard =
      key === undefined ? randn(template.shape, where0(template)) : normalWithKey(key, template.shape, { dtype: template.dtype });
    return mean === 0 && std === 1 ? standard : add(mul(standard, std), mean);
  });
}

function finite(op: string, what: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ValueError(`${op}: ${what} must be a finite number, got ${String(value)}`);
  return value;
}

/**
 * Values uniform in [a, b) (torch.nn.init.uniform_).
 *
 * @example
 * nn.init.uniform(layer.weight, -0.1, 0.1);
 * const w = nn.init.uniform([3, 4], 0, 1, { key: random.key(0) });
 */
export function uniform<T extends InitTarget>(target: T, a = 0, b = 1, options: InitOptions = {}): Result<T> {
  const op = 'init.uniform';
  finite(op, 'a', a);
  finite(op, 'b', b);
  if (a > b) throw new ValueError(`${op}: need a <= b, got a = ${a} and b = ${b}`);
  return deliver(target, sampleUniform(templateOf(op, target, options), a, b, options.key));
}

/**
 * Values from N(mean, std²) (torch.nn.init.normal_).
 *
 * @example
 * nn.init.normal(embedding.weight, 0, 0.02);
 */
export function normal<T extends InitTarget>(target: T, mean = 0, std = 1, options: InitOptions = {}): Result<T> {
  const op = 'init.normal';
  finite(op, 'mean', mean);
  if (finite(op, 'std', std) < 0) throw new ValueError(`${op}: std must be non-negative, got ${std}`);
  return deliver(target, sampleNormal(templateOf(op, target, options), mean, std, options.key));
}

/**
 * Every value equal to `value` (torch.nn.init.constant_).
 *
 * @example
 * nn.init.constant(layer.bias, 0.1);
 */
export function constant<T extends InitTarget>(target: T, value: number, options: InitOptions = {}): Result<T> {
  const op = 'init.constant';
  if (typeof value !== 'number' || Number.isNaN(value)) throw new ValueError(`${op}: value must be a number, got ${String(value)}`);
  const template = templateOf(op, target, options);
  return deliver(target, full(template.shape, value, where0(template)));
}

/**
 * Every value 0 (torch.nn.init.zeros_).
 *
 * @example
 * nn.init.zeros(layer.bias);
 */
export function zeros<T extends InitTarget>(target: T, options: InitOptions = {}): Result<T> {
  return constant(target, 0, options);
}

/**
 * Every value 1 (torch.nn.init.ones_).
 *
 * @example
 * nn.init.ones(norm.weight);
 */
export function ones<T extends InitTarget>(target: T, options: InitOptions = {}): Result<T> {
  return constant(target, 1, options);
}

/** Nonlinearities `calculateGain` knows, in camelCase or PyTorch's snake_case. */
export type Nonlinearity =
  | 'linear'
  | 'identity'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'convTranspose1d'
  | 'convTranspose2d'
  | 'convTranspose3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leakyRelu'
  | 'leaky_relu'
  | 'selu';

const UNIT_GAIN = new Set([
  'linear',
  'identity',
  'conv1d',
  'conv2d',
  'conv3d',
  'convTranspose1d',
  'convTranspose2d',
  'convTranspose3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
  'sigmoid',
]);

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear layers,
 * convolutions and sigmoid, 5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for leaky relu
 * (`param` is the slope, default 0.01), 3/4 for selu.
 *
 * @example
 * nn.init.calculateGain('leakyRelu', 0.2); // 1.3868
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (UNIT_GAIN.has(nonlinearity)) return 1;
  if (nonlinearity === 'tanh') return 5 / 3;
  if (nonlinearity === 'relu') return Math.SQRT2;
  if (nonlinearity === 'selu') return 3 / 4;
  if (nonlinearity === 'leakyRelu' || nonlinearity === 'leaky_relu') {
    const slope = param ?? 0.01;
    if (typeof slope !== 'number' || !Number.isFinite(slope))
      throw new ValueError(`init.calculateGain: negative slope ${String(param)} is not a valid number`);
    return Math.sqrt(2 / (1 + slope * slope));
  }
  throw new ValueError(
    `init.calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}; use one of linear, conv1d..3d, convTranspose1d..3d, sigmoid, tanh, relu, leakyRelu, selu`,
  );
}

/**
 * `[fanIn, fanOut]` of a weight shape (torch.nn.init._calculate_fan_in_and_fan_out): for
 * [out, in, ...kernel], `fanIn = in * prod(kernel)` and `fanOut = out * prod(kernel)`.
 *
 * @example
 * nn.init.calculateFanInAndFanOut([64, 3, 3, 3]); // [27, 576]
 */
export function calculateFanInAndFanOut(shape: Shape): [number, number] {
  if (shape.length < 2) {
    throw new ShapeError(
      `init: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape ${formatShape(shape)})`,
    );
  }
  const receptive = sizeOf(shape.slice(2));
  return [(shape[1] as number) * receptive, (shape[0] as number) * receptive];
}

/**
 * Xavier/Glorot uniform: U(-a, a) with `a = gain * sqrt(6 / (fanIn + fanOut))`.
 *
 * @example
 * nn.init.xavierUniform(layer.weight);
 */
export function xavierUniform<T extends InitTarget>(target: T, gain = 1, options: InitOptions = {}): Result<T> {
  const op = 'init.xavierUniform';
  const template = templateOf(op, target, options);
  const [fanIn, fanOut] = calculateFanInAndFanOut(template.shape);
  const bound = finite(op, 'gain', gain) * Math.sqrt(6 / (fanIn + fanOut));
  return deliver(target, sampleUniform(template, -bound, bound, options.key));
}

/**
 * Xavier/Glorot normal: N(0, std²) with `std = gain * sqrt(2 / (fanIn + fanOut))`.
 *
 * @example
 * nn.init.xavierNormal(layer.weight, nn.init.calculateGain('tanh'));
 */
export function xavierNormal<T extends InitTarget>(target: T, gain = 1, options: InitOptions = {}): Result<T> {
  const op = 'init.xavierNormal';
  const template = templateOf(op, target, options);
  const [fanIn, fanOut] = calculateFanInAndFanOut(template.shape);
  const std = finite(op, 'gain', gain) * Math.sqrt(2 / (fanIn + fanOut));
  return deliver(target, sampleNormal(template, 0, std, options.key));
}

/** Options of the Kaiming (He) initializers. */
export interface KaimingOptions extends InitOptions {
  /** The negative slope of the leaky relu that follows (default 0). */
  readonly a?: number;
  /** Preserve the variance of the forward pass ('fanIn', default) or of the backward pass ('fanOut'). */
  readonly mode?: 'fanIn' | 'fanOut';
  /** Default 'leakyRelu' (with slope `a`), as PyTorch. */
  readonly nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, shape: readonly number[], options: KaimingOptions): number {
  const mode = options.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new ValueError(`${op}: mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(shape);
  const fan = mode === 'fanIn' ? fanIn : fanOut;
  const gain = calculateGain(options.nonlinearity ?? 'leakyRelu', options.a ?? 0);
  return gain / Math.sqrt(fan);
}

/**
 * Kaiming/He uniform: U(-b, b) with `b = gain * sqrt(3 / fan)`. PyTorch's Linear and Conv layers
 * use it with `a = sqrt(5)`, which gives `b = 1 / sqrt(fanIn)`.
 *
 * @example
 * nn.init.kaimingUniform(conv.weight, { nonlinearity: 'relu' });
 */
export function kaimingUniform<T extends InitTarget>(target: T, options: KaimingOptions = {}): Result<T> {
  const op = 'init.kaimingUniform';
  const template = templateOf(op, target, options);
  const bound = Math.sqrt(3) * kaimingStd(op, template.shape, options);
  return deliver(target, sampleUniform(template, -bound, bound, options.key));
}

/**
 * Kaiming/He normal: N(0, std²) with `std = gain / sqrt(fan)`.
 *
 * @example
 * nn.init.kaimingNormal(conv.weight, { mode: 'fanOut', nonlinearity: 'relu' });
 */
export function kaimingNormal<T extends InitTarget>(target: T, options: KaimingOptions = {}): Result<T> {
  const op = 'init.kaimingNormal';
  const template = templateOf(op, target, options);
  return deliver(target, sampleNormal(template, 0, kaimingStd(op, template.shape, options), options.key));
}

/**
 * A (semi-)orthogonal matrix times `gain` (torch.nn.init.orthogonal_): the weight flattened to
 * [rows, rest] has orthonormal rows or columns, whichever are fewer. It is the Q of the QR
 * decomposition (with R's diagonal positive) of a Gaussian matrix, so uniformly distributed
 * (Haar), as in PyTorch; computed by Gram-Schmidt with re-orthogonalization, in tensor ops.
 *
 * @example
 * nn.init.orthogonal(rnn.weightHhL0);
 */
export function orthogonal<T extends InitTarget>(target: T, gain = 1, options: InitOptions = {}): Result<T> {
  const op = 'init.orthogonal';
  const template = templateOf(op, target, options);
  if (template.shape.length < 2)
    throw new ShapeError(`${op}: only tensors with 2 or more dimensions are supported, got shape ${formatShape(template.shape)}`);
  finite(op, 'gain', gain);
  const rows = template.shape[0] as number;
  const cols = sizeOf(template.shape) / Math.max(rows, 1);
  const value = tidy(() => {
    const gaussian = sampleNormal({ ...template, shape: [rows, cols] }, 0, 1, options.key);
    if (rows === 0 || cols === 0) return reshape(gaussian, template.shape);
    const tall = rows < cols ? transpose(gaussian) : gaussian;
    const q = orthonormalColumns(tall);
    const oriented = rows < cols ? transpose(q) : q;
    return reshape(gain === 1 ? oriented : mul(oriented, gain), template.shape);
  });
  return deliver(target, value);
}

/** Gram-Schmidt (two passes per column, "twice is enough") on the columns of a tall matrix [m, n]. */
function orthonormalColumns(a: Tensor): Tensor {
  const [m, n] = a.shape as [number, number];
  let q: Tensor | null = null;
  for (let j = 0; j < n; j++) {
    let v = narrow(a, 1, j, 1);
    if (q !== null) {
      for (let pass = 0; pass < 2; pass++) v = sub(v, matmul(q, matmul(transpose(q), v)));
    }
    const unit = mul(v, reciprocalNorm(v));
    q = q === null ? unit : concat([q, unit], 1);
  }
  return q ?? reshape(a, [m, 0]);
}

function reciprocalNorm(v: Tensor): Tensor {
  const squared = sum(mul(v, v));
  // A column that vanished (probability zero for Gaussian data) stays zero instead of NaN.
  const positive = greater(squared, 0);
  return where(positive, rsqrt(where(positive, squared, 1)), 0);
}

/** The standard normal cumulative distribution function, for scalar bounds. */
function normalCdf(x: number): number {
  return 0.5 * (1 + erfScalar(x / Math.SQRT2));
}

/** erf of a JavaScript number by Abramowitz and Stegun 7.1.26: an absolute error below 1.5e-7 is ample for truncation bounds. */
function erfScalar(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const z = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-z * z));
}

/**
 * The inverse error function, as a composite of elementwise ops (M. Giles, "Approximating the
 * erfinv function", 2010: two polynomial branches in w = -log(1 - x²)); accurate to single
 * precision on (-1, 1).
 */
export function erfinv(x: Tensor): Tensor {
  const w = mul(log(mul(sub(1, x), add(1, x))), -1);
  const central = sub(w, 2.5);
  const centralCoefficients = [
    2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 2.1858087e-4, -1.25372503e-3, -4.17768164e-3, 2.46640727e-1, 1.50140941,
  ];
  const tail = sub(sqrt(where(greater(w, 0), w, 0)), 3);
  const tailCoefficients = [
    -2.00214257e-4, 1.00950558e-4, 1.34934322e-3, -3.67342844e-3, 5.73950773e-3, -7.6224613e-3, 9.43887047e-3, 1.00167406, 2.83297682,
  ];
  const horner = (t: Tensor, coefficients: readonly number[]): Tensor => {
    let p: Tensor | null = null;
    for (const c of coefficients) p = p === null ? add(mul(t, 0), c) : add(mul(p, t), c);
    return p as Tensor;
  };
  const p = where(greater(w, 5), horner(tail, tailCoefficients), horner(central, centralCoefficients));
  return mul(p, x);
}

/**
 * Values from N(mean, std²) truncated to [a, b] (torch.nn.init.trunc_normal_, default a = -2 and
 * b = 2 in absolute units, as PyTorch), by the inverse CDF of a uniform sample.
 *
 * @example
 * nn.init.truncNormal(vit.posEmbed, 0, 0.02);
 */
export function truncNormal<T extends InitTarget>(target: T, mean = 0, std = 1, a = -2, b = 2, options: InitOptions = {}): Result<T> {
  const op = 'init.truncNormal';
  for (const [what, v] of [
    ['mean', mean],
    ['std', std],
    ['a', a],
    ['b', b],
  ] as const)
    finite(op, what, v);
  if (std <= 0) throw new ValueError(`${op}: std must be positive, got ${std}`);
  if (!(a < b)) throw new ValueError(`${op}: need a < b, got a = ${a} and b = ${b}`);
  const template = templateOf(op, target, options);
  const low = normalCdf((a - mean) / std);
  const high = normalCdf((b - mean) / std);
  const value = tidy(() => {
    const u = sampleUniform(template, 2 * low - 1, 2 * high - 1, options.key);
    // Keep away from ±1, where erfinv is infinite.
    const limit = { float64: 1 - 1e-15, float16: 1 - 2 ** -11, bfloat16: 1 - 2 ** -8 }[template.dtype as string] ?? 1 - 1e-7;
    const standard = erfinv(clamp(u, -limit, limit));
    return clamp(add(mul(standard, std * Math.SQRT2), mean), a, b);
  });
  return deliver(target, cast(value, template.dtype));
}
