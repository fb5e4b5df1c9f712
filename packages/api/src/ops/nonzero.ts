import { DTypeError, ValueError } from '../core/errors.js';
import { broadcastShapes, contiguousStrides } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { truePositions } from './binary-search.js';
import { broadcastTo } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { type DataDependentOp, type Prepared, runDataDependent, runDataDependentAsync } from './data-dependent.js';
import { floorDivide, mod, notEqual } from './elementwise.js';
import { narrow, reshape, stack } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { cumsum } from './reduce.js';

// torch.nonzero, argwhere and masked_select (torch.where(condition) is nonzero(condition, { asTuple: true })): the size of the result is the
// number of true (nonzero) elements, the one integer read (ops/data-dependent.ts). The positions
// themselves are found on the device: the k-th true element is where the running count of the
// mask first reaches k + 1, a binary search per position (ops/binary-search.ts). maskedSelect is
// then a gather at those positions, so its gradient (a scatter-add of the cotangent back into the
// selected places) comes from Gather's rules.

export interface NonzeroOptions {
  /** Return one int32 vector of positions per axis (for indexing) instead of one [count, ndim] matrix. Default false. */
  readonly asTuple?: boolean;
}

const NONZERO = optionsSignature<NonzeroOptions>(2, { asTuple: true });

/** The running count of a flat mask, and how many are true (null when the mask is empty). */
interface Counted {
  readonly counts: Tensor | null;
}

/** The first step shared by every op here: the running count of `mask` (flattened), and its last entry to read. */
function countTrue(mask: Tensor): Prepared<Counted> {
  if (mask.size === 0) return { sizes: null, state: { counts: null } };
  const counts = cumsum(reshape(mask, [mask.size]), 0);
  return { sizes: narrow(counts, 0, mask.size - 1, 1), state: { counts } };
}

/** The flat positions of the `count` true elements. */
function positionsOf(counted: Counted, sizes: readonly number[], like: Tensor): Tensor {
  const count = sizes[0] ?? 0;
  if (counted.counts === null || count === 0) return bind(Primitive.Full, [], { shape: [0], dtype: 'int32', value: 0 }, backendOf(like));
  return truePositions(counted.counts, count);
}

function nonzeroMask(op: string, x: TensorLike): Tensor {
  const t = toTensor(op, x);
  return t.dtype === 'bool' ? t : notEqual(t, 0);
}

/** Flat positions in `shape` as one int32 vector of coordinates per axis (a 0-d shape counts as [1]). */
function coordinates(positions: Tensor, shape: readonly number[]): Tensor[] {
  if (shape.length <= 1) return [positions];
  const strides = contiguousStrides(shape);
  return shape.map((dim, axis) => {
    const stride = strides[axis] as number;
    const quotient = stride === 1 ? positions : floorDivide(positions, stride);
    return axis === 0 ? quotient : mod(quotient, dim);
  });
}

function checkAsTuple(op: string, options: NonzeroOptions): boolean {
  const { asTuple } = options;
  if (asTuple === undefined) return false;
  if (typeof asTuple !== 'boolean') throw new ValueError(`${op}: asTuple must be a boolean, got ${JSON.stringify(asTuple)}`);
  return asTuple;
}

function nonzeroOp(
  op: string,
  asyncOp: string,
  x: TensorLike,
  asTuple: boolean,
): DataDependentOp<Counted & { mask: Tensor }, Tensor | Tensor[]> {
  return {
    op,
    asyncOp,
    alternative: 'use a mask with where(mask, x, other), which keeps the shape',
    prepare: () => {
      const mask = nonzeroMask(op, x);
      const { sizes, state } = countTrue(mask);
      return { sizes, state: { ...state, mask } };
    },
    finish: (sizes, state) => {
      const { mask } = state;
      const positions = positionsOf(state, sizes, mask);
      if (asTuple) return coordinates(positions, mask.shape);
      // A 0-d tensor has no axis to give a coordinate for: [count, 0], as PyTorch.
      if (mask.ndim === 0)
        return bind(Primitive.Full, [], { shape: [positions.shape[0] as number, 0], dtype: 'int32', value: 0 }, backendOf(mask));
      return stack(coordinates(positions, mask.shape), 1);
    },
  };
}

const checkedNonzero = withCheckedOptions('nonzero', NONZERO, (x: TensorLike, options: NonzeroOptions = {}): Tensor | Tensor[] =>
  runDataDependent(nonzeroOp('nonzero', 'nonzeroAsync', x, checkAsTuple('nonzero', options))),
);

const checkedNonzeroAsync = withCheckedOptions(
  'nonzeroAsync',
  NONZERO,
  (x: TensorLike, options: NonzeroOptions = {}): Promise<Tensor | Tensor[]> =>
    runDataDependentAsync(nonzeroOp('nonzeroAsync', 'nonzeroAsync', x, checkAsTuple('nonzeroAsync', options))),
);

/**
 * The positions of the nonzero (true) elements of `x` (torch.nonzero), in row-major order: an
 * int32 matrix [count, ndim] of coordinates, or with `asTuple` one int32 vector per axis (what
 * NumPy's `nonzero` returns, ready for `index`). NaN is nonzero. The count fixes the result's
 * shape, so it is read from the device: this form needs a backend with synchronous reads (use
 * `nonzeroAsync` on webgpu or cuda) and a concrete x; under jit or vmap it is a
 * ConcretizationError (use a mask with `where`, which keeps the shape). Only the count is read;
 * the positions are found on the device.
 *
 * @example
 * nonzero(tensor([[1, 0], [0, 2]]));                   // [[0, 0], [1, 1]]
 * nonzero(tensor([[1, 0], [0, 2]]), { asTuple: true }); // [[0, 1], [0, 1]]
 */
export function nonzero(x: TensorLike, options?: { readonly asTuple?: false }): Tensor;
export function nonzero(x: TensorLike, options: { readonly asTuple: true }): Tensor[];
export function nonzero(x: TensorLike, options?: NonzeroOptions): Tensor | Tensor[];
export function nonzero(x: TensorLike, options?: NonzeroOptions): Tensor | Tensor[] {
  return checkedNonzero(x, options);
}

/**
 * `nonzero`, waiting for the read of the count: works on every backend.
 *
 * @example
 * const positions = await nonzeroAsync(x.greater(0));
 */
export function nonzeroAsync(x: TensorLike, options?: { readonly asTuple?: false }): Promise<Tensor>;
export function nonzeroAsync(x: TensorLike, options: { readonly asTuple: true }): Promise<Tensor[]>;
export function nonzeroAsync(x: TensorLike, options?: NonzeroOptions): Promise<Tensor | Tensor[]>;
export function nonzeroAsync(x: TensorLike, options?: NonzeroOptions): Promise<Tensor | Tensor[]> {
  return checkedNonzeroAsync(x, options);
}

/**
 * The coordinates of the nonzero elements as an int32 matrix [count, ndim] (torch.argwhere,
 * numpy.argwhere): `nonzero(x)`.
 *
 * @example
 * argwhere(tensor([0, 3, 0, 5])); // [[1], [3]]
 */
export function argwhere(x: TensorLike): Tensor {
  return runDataDependent(nonzeroOp('argwhere', 'argwhereAsync', x, false)) as Tensor;
}

/**
 * `argwhere`, waiting for the read of the count: works on every backend.
 *
 * @example
 * const positions = await argwhereAsync(x);
 */
export async function argwhereAsync(x: TensorLike): Promise<Tensor> {
  return (await runDataDependentAsync(nonzeroOp('argwhereAsync', 'argwhereAsync', x, false))) as Tensor;
}

interface Selected extends Counted {
  readonly values: Tensor;
}

function maskedSelectOp(op: string, asyncOp: string, x: TensorLike, mask: TensorLike): DataDependentOp<Selected, Tensor> {
  return {
    op,
    asyncOp,
    alternative: 'use where(mask, x, 0), which keeps the shape, or sum(where(mask, x, 0)) for a total',
    prepare: () => {
      const t = toTensor(op, x);
      const m = toTensor(op, mask, undefined, t);
      if (m.dtype !== 'bool') throw new DTypeError(`${op}: mask must be bool, got ${m.dtype} (compare it, e.g. mask.notEqual(0))`);
      const shape = broadcastShapes(op, t.shape, m.shape);
      const size = shape.reduce((a, b) => a * b, 1);
      const { sizes, state } = countTrue(broadcastTo(m, shape));
      return { sizes, state: { ...state, values: reshape(broadcastTo(t, shape), [size]) } };
    },
    finish: (sizes, state) => bind(Primitive.Gather, [state.values, positionsOf(state, sizes, state.values)], { axis: 0 }),
  };
}

/**
 * The elements of `x` where `mask` is true, as a vector in row-major order (torch.masked_select,
 * `x[mask]`); `x` and `mask` broadcast together. Differentiable with respect to x: the gradient
 * is the cotangent scattered back to the selected places, zero elsewhere. The number of selected
 * elements fixes the result's shape, so it is read from the device: this form needs a backend
 * with synchronous reads (use `maskedSelectAsync` on webgpu or cuda) and a concrete mask; under
 * jit or vmap it is a ConcretizationError (use `where(mask, x, 0)`, which keeps the shape).
 *
 * @example
 * maskedSelect(tensor([[1, 2], [3, 4]]), tensor([[true, false], [false, true]])); // [1, 4]
 */
export function maskedSelect(x: TensorLike, mask: TensorLike): Tensor {
  return runDataDependent(maskedSelectOp('maskedSelect', 'maskedSelectAsync', x, mask));
}

/**
 * `maskedSelect`, waiting for the read of the count: works on every backend.
 *
 * @example
 * const positives = await maskedSelectAsync(x, x.greater(0));
 */
export function maskedSelectAsync(x: TensorLike, mask: TensorLike): Promise<Tensor> {
  return runDataDependentAsync(maskedSelectOp('maskedSelectAsync', 'maskedSelectAsync', x, mask));
}
