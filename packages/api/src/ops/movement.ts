import { type DType, promoteTypes } from '../core/dtype.js';
import { AxisError, IndexError, ShapeError, ValueError } from '../core/errors.js';
import { broadcastShapes, checkPermutation, formatShape, normalizeAxes, normalizeAxis, shapesEqual, sizeOf } from '../core/shape.js';
import { type PadPair, Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo, cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';

// Movement ops: reshapes, axis permutations, broadcasting, slicing, joining, splitting, padding,
// flipping, rolling and tiling. Every one is a composite of the movement primitives, so it has a
// gradient, a batching rule and a jit lowering without code of its own. Gather-based ops
// (indexing, take, repeatInterleave with counts) live in indexing.ts.

function checkInteger(op: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ValueError(`${op}: ${what} must be an integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `dims` given either as varargs or as one array (`x.permute(1, 0)` and `x.permute([1, 0])`). */
function spreadDims(op: string, dims: readonly (number | readonly number[])[]): number[] {
  if (dims.length === 1 && Array.isArray(dims[0])) return [...(dims[0] as readonly number[])];
  for (const d of dims) {
    if (typeof d !== 'number')
      throw new ValueError(`${op}: pass the sizes either as separate numbers or as one array, got ${JSON.stringify(dims)}`);
  }
  return dims as number[];
}

// ---------------------------------------------------------------------------------------------
// Reshaping

/**
 * Returns `x` with a new shape holding the same elements in row-major order. One entry may be -1:
 * it is inferred from the others.
 *
 * @example
 * reshape(arange(6), [2, -1]); // shape [2, 3]
 */
export function reshape(x: TensorLike, shape: readonly number[]): Tensor {
  const op = 'reshape';
  const t = toTensor(op, x);
  if (!Array.isArray(shape)) throw new ShapeError(`${op}: shape must be an array of integers, got ${String(shape)}`);
  const size = t.size;
  let inferred = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < -1) {
      throw new ShapeError(`${op}: shape entries must be non-negative integers or one -1, got ${JSON.stringify(shape)}`);
    }
    if (d === -1) {
      if (inferred !== -1) throw new ShapeError(`${op}: only one dimension can be -1, got ${JSON.stringify(shape)}`);
      inferred = i;
    } else known *= d;
  }
  const target: number[] = [...shape];
  if (inferred !== -1) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(
        `${op}: cannot reshape ${formatShape(t.shape)} (${size} elements) into ${formatShape(shape)}: the -1 dimension cannot be inferred`,
      );
    }
    target[inferred] = size / known;
  } else if (known !== size) {
    throw new ShapeError(`${op}: cannot reshape ${formatShape(t.shape)} (${size} elements) into ${formatShape(shape)} (${known} elements)`);
  }
  if (shapesEqual(target, t.shape)) return t;
  return bind(Primitive.Reshape, [t], { shape: target });
}

/**
 * Merges axes `startDim..endDim` (inclusive, negative counts from the end) into one, as
 * torch.flatten. A scalar becomes a one-element vector.
 *
 * @example
 * flatten(zeros([2, 3, 4]), 1); // shape [2, 12]
 */
export function flatten(x: TensorLike, startDim = 0, endDim = -1): Tensor {
  const op = 'flatten';
  const t = toTensor(op, x);
  if (t.ndim === 0) {
    normalizeAxis(op, startDim, 1);
    normalizeAxis(op, endDim, 1);
    return reshape(t, [1]);
  }
  const start = normalizeAxis(op, startDim, t.ndim);
  const end = normalizeAxis(op, endDim, t.ndim);
  if (start > end) throw new AxisError(`${op}: startDim ${startDim} comes after endDim ${endDim} for a tensor of rank ${t.ndim}`);
  const merged = sizeOf(t.shape.slice(start, end + 1));
  return reshape(t, [...t.shape.slice(0, start), merged, ...t.shape.slice(end + 1)]);
}

/**
 * Splits axis `axis` into `sizes` (one entry may be -1), the inverse of `flatten` (torch.unflatten).
 *
 * @example
 * unflatten(zeros([2, 12]), 1, [3, -1]); // shape [2, 3, 4]
 */
export function unflatten(x: TensorLike, axis: number, sizes: readonly number[]): Tensor {
  const op = 'unflatten';
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis, t.ndim);
  const dim = t.shape[a] as number;
  if (!Array.isArray(sizes) || sizes.some((d) => !Number.isInteger(d) || d < -1) || sizes.filter((d) => d === -1).length > 1) {
    throw new ShapeError(`${op}: sizes must be non-negative integers with at most one -1, got ${JSON.stringify(sizes)}`);
  }
  // A -1 is resolved against the size of the split axis alone, not the whole tensor.
  const minusOne = sizes.indexOf(-1);
  const known = sizes.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const inner = [...sizes];
  if (minusOne !== -1) {
    if (known === 0 || dim % known !== 0)
      throw new ShapeError(`${op}: cannot split axis ${axis} of size ${dim} into ${formatShape(sizes)}`);
    inner[minusOne] = dim / known;
  } else if (known !== dim) {
    throw new ShapeError(`${op}: cannot split axis ${axis} of size ${dim} into ${formatShape(sizes)} (${known} elements)`);
  }
  return reshape(t, [...t.shape.slice(0, a), ...inner, ...t.shape.slice(a + 1)]);
}

/**
 * Removes size-1 axes: all of them when `axis` is omitted, else the ones named. Naming an axis
 * whose size is not 1 is a ShapeError (NumPy's rule; PyTorch silently keeps such an axis).
 *
 * @example
 * squeeze(zeros([1, 3, 1])).shape;     // [3]
 * squeeze(zeros([1, 3, 1]), -1).shape; // [1, 3]
 */
export function squeeze(x: TensorLike, axis?: number | readonly number[]): Tensor {
  const op = 'squeeze';
  const t = toTensor(op, x);
  const axes = axis === undefined ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes(op, axis, t.ndim);
  for (const a of axes) {
    if (t.shape[a] !== 1) {
      throw new ShapeError(
        `${op}: cannot remove axis ${a} of size ${t.shape[a]} from shape ${formatShape(t.shape)}; only size-1 axes can be squeezed`,
      );
    }
  }
  const drop = new Set(axes);
  return reshape(
    t,
    t.shape.filter((_, i) => !drop.has(i)),
  );
}

/**
 * Inserts size-1 axes at the given positions of the result (negative counts from the end of the
 * result), as torch.unsqueeze and numpy.expand_dims.
 *
 * @example
 * unsqueeze(zeros([3]), 0).shape;       // [1, 3]
 * unsqueeze(zeros([3]), -1).shape;      // [3, 1]
 * unsqueeze(zeros([3]), [0, 2]).shape;  // [1, 3, 1]
 */
export function unsqueeze(x: TensorLike, axis: number | readonly number[]): Tensor {
  const op = 'unsqueeze';
  const t = toTensor(op, x);
  const count = typeof axis === 'number' ? 1 : axis.length;
  const rank = t.ndim + count;
  const axes = new Set(normalizeAxes(op, axis, rank));
  const shape: number[] = [];
  let source = 0;
  for (let i = 0; i < rank; i++) shape.push(axes.has(i) ? 1 : (t.shape[source++] as number));
  return reshape(t, shape);
}

// ---------------------------------------------------------------------------------------------
// Permuting axes

function permuteChecked(t: Tensor, perm: readonly number[]): Tensor {
  if (perm.every((p, i) => p === i)) return t;
  return bind(Primitive.Transpose, [t], { perm: [...perm] });
}

/**
 * Permutes axes. Three forms, none ambiguous:
 * - `transpose(x)` reverses all axes (NumPy's `x.T`);
 * - `transpose(x, perm)` with an array is NumPy's transpose: result axis i is input axis perm[i];
 * - `transpose(x, a, b)` with two numbers swaps axes a and b, as torch.transpose (= `swapaxes`).
 *
 * @example
 * transpose(zeros([2, 3, 4])).shape;            // [4, 3, 2]
 * transpose(zeros([2, 3, 4]), [1, 0, 2]).shape; // [3, 2, 4]
 * transpose(zeros([2, 3, 4]), 0, 2).shape;      // [4, 3, 2]
 */
export function transpose(x: TensorLike, perm?: readonly number[]): Tensor;
export function transpose(x: TensorLike, axis0: number, axis1: number): Tensor;
export function transpose(x: TensorLike, permOrAxis?: readonly number[] | number, axis1?: number): Tensor {
  const op = 'transpose';
  const t = toTensor(op, x);
  if (typeof permOrAxis === 'number') {
    if (typeof axis1 !== 'number') {
      throw new ValueError(`${op}: got the single axis ${permOrAxis}; pass a permutation array, or two axes to swap (transpose(x, 0, 1))`);
    }
    return swapaxes(t, permOrAxis, axis1);
  }
  if (axis1 !== undefined) throw new ValueError(`${op}: pass either a permutation array or two axes to swap, not both`);
  if (permOrAxis === undefined || permOrAxis === null) {
    return permuteChecked(
      t,
      t.shape.map((_, i) => t.ndim - 1 - i),
    );
  }
  if (!Array.isArray(permOrAxis)) throw new ValueError(`${op}: perm must be an array of axes, got ${String(permOrAxis)}`);
  return permuteChecked(t, checkPermutation(op, permOrAxis, t.ndim));
}

/**
 * Reorders axes as torch.permute: result axis i is input axis dims[i]. Accepts the dims as
 * separate numbers or as one array.
 *
 * @example
 * permute(zeros([2, 3, 4]), 2, 0, 1).shape; // [4, 2, 3]
 */
export function permute(x: TensorLike, ...dims: number[] | [readonly number[]]): Tensor {
  const op = 'permute';
  const t = toTensor(op, x);
  return permuteChecked(t, checkPermutation(op, spreadDims(op, dims), t.ndim));
}

/**
 * Swaps two axes (numpy.swapaxes, torch.transpose(x, a, b)).
 *
 * @example
 * swapaxes(zeros([2, 3, 4]), 0, -1).shape; // [4, 3, 2]
 */
export function swapaxes(x: TensorLike, axis0: number, axis1: number): Tensor {
  const op = 'swapaxes';
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis0, t.ndim);
  const b = normalizeAxis(op, axis1, t.ndim);
  const perm = t.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permuteChecked(t, perm);
}

/**
 * Moves axes to new positions, keeping the others in order (numpy.moveaxis, torch.movedim).
 *
 * @example
 * moveaxis(zeros([2, 3, 4]), 0, -1).shape; // [3, 4, 2]
 */
export function moveaxis(x: TensorLike, source: number | readonly number[], destination: number | readonly number[]): Tensor {
  const op = 'moveaxis';
  const t = toTensor(op, x);
  const sources = (typeof source === 'number' ? [source] : [...source]).map((a) => normalizeAxis(op, a, t.ndim));
  const destinations = (typeof destination === 'number' ? [destination] : [...destination]).map((a) => normalizeAxis(op, a, t.ndim));
  if (sources.length !== destinations.length) {
    throw new ValueError(`${op}: source ${JSON.stringify(source)} and destination ${JSON.stringify(destination)} must name as many axes`);
  }
  if (new Set(sources).size !== sources.length) throw new AxisError(`${op}: repeated axis in source ${JSON.stringify(source)}`);
  if (new Set(destinations).size !== destinations.length)
    throw new AxisError(`${op}: repeated axis in destination ${JSON.stringify(destination)}`);
  const moved = new Set(sources);
  const rest = t.shape.map((_, i) => i).filter((i) => !moved.has(i));
  const perm = new Array<number>(t.ndim).fill(-1);
  sources.forEach((s, k) => {
    perm[destinations[k] as number] = s;
  });
  let next = 0;
  for (let i = 0; i < perm.length; i++) if (perm[i] === -1) perm[i] = rest[next++] as number;
  return permuteChecked(t, perm);
}

// ---------------------------------------------------------------------------------------------
// Broadcasting

/**
 * Broadcasts `x` to a larger shape as torch.expand: `sizes` may add leading axes, and -1 keeps
 * an existing axis's size. Only size-1 axes can grow. The result is a view where the backend can.
 *
 * @example
 * expand(zeros([3, 1]), -1, 4).shape;   // [3, 4]
 * expand(zeros([3, 1]), [2, 3, 4]).shape; // [2, 3, 4]
 */
export function expand(x: TensorLike, ...sizes: number[] | [readonly number[]]): Tensor {
  const op = 'expand';
  const t = toTensor(op, x);
  const wanted = spreadDims(op, sizes);
  if (wanted.length < t.ndim) {
    throw new ShapeError(
      `${op}: the ${wanted.length} sizes ${formatShape(wanted)} must be at least the rank ${t.ndim} of shape ${formatShape(t.shape)}`,
    );
  }
  const offset = wanted.length - t.ndim;
  const shape = wanted.map((d, i) => {
    checkInteger(op, 'sizes', d);
    if (i < offset) {
      if (d < 0) throw new ShapeError(`${op}: -1 is not allowed for the new leading axis ${i} in ${formatShape(wanted)}`);
      return d;
    }
    const current = t.shape[i - offset] as number;
    if (d === -1) return current;
    if (d < 0 || (current !== 1 && current !== d)) {
      throw new ShapeError(
        `${op}: cannot expand ${formatShape(t.shape)} to ${formatShape(wanted)}: axis ${i - offset} has size ${current} (only size-1 axes can grow)`,
      );
    }
    return d;
  });
  return broadcastTo(t, shape);
}

/**
 * Broadcasts tensors against each other (numpy.broadcast_arrays, torch.broadcast_tensors).
 *
 * @example
 * const [a, b] = broadcastArrays(zeros([3, 1]), zeros([4])); // both [3, 4]
 */
export function broadcastArrays(...tensors: TensorLike[]): Tensor[] {
  const op = 'broadcastArrays';
  const like = tensors.find(isTensor);
  const ts = tensors.map((v) => toTensor(op, v, undefined, like));
  if (ts.length === 0) return [];
  const shape = broadcastShapes(op, ...ts.map((t) => t.shape));
  return ts.map((t) => broadcastTo(t, shape));
}

// ---------------------------------------------------------------------------------------------
// Slicing

/** A start and stop as Python's slice takes them: null or undefined means "from the edge". */
export type SliceBound = number | null | undefined;

/** The elements a Python slice selects on an axis of size `n`: the first index, the step, the count. */
export interface ResolvedSlice {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/**
 * Resolves `start:stop:step` against an axis of size `n` with Python's rules: negative bounds
 * count from the end, out-of-range bounds clamp, a negative step walks backwards.
 *
 * @example
 * resolveSlice(5, null, null, -1); // { start: 4, step: -1, count: 5 }
 */
export function resolveSlice(n: number, start: SliceBound, stop: SliceBound, step: SliceBound = 1, op = 'slice'): ResolvedSlice {
  const s = step ?? 1;
  if (!Number.isInteger(s) || s === 0) throw new ValueError(`${op}: slice step must be a non-zero integer, got ${step}`);
  for (const bound of [start, stop]) {
    if (bound !== null && bound !== undefined && !Number.isInteger(bound)) {
      throw new IndexError(`${op}: slice bounds must be integers, got ${start}:${stop}:${step}`);
    }
  }
  if (s > 0) {
    let lo = start ?? 0;
    let hi = stop ?? n;
    if (lo < 0) lo += n;
    if (hi < 0) hi += n;
    lo = Math.min(Math.max(lo, 0), n);
    hi = Math.min(Math.max(hi, 0), n);
    return { start: lo, step: s, count: Math.max(0, Math.ceil((hi - lo) / s)) };
  }
  const clamp = (v: number): number => Math.min(Math.max(v, -1), n - 1);
  const first = start === null || start === undefined ? n - 1 : clamp(start < 0 ? start + n : start);
  const last = stop === null || stop === undefined ? -1 : clamp(stop < 0 ? stop + n : stop);
  return { start: first, step: s, count: Math.max(0, Math.ceil((first - last) / -s)) };
}

/** Applies resolved slices (one per axis, any step sign) with the Slice and Flip primitives. */
function applySlices(t: Tensor, slices: readonly ResolvedSlice[]): Tensor {
  const starts: number[] = [];
  const stops: number[] = [];
  const steps: number[] = [];
  const flipAxes: number[] = [];
  let identity = true;
  slices.forEach(({ start, step, count }, axis) => {
    const n = t.shape[axis] as number;
    if (count === 0) {
      starts.push(0);
      stops.push(0);
      steps.push(1);
      identity = identity && n === 0;
      return;
    }
    // A backward slice takes the same elements as a forward one from its last element, flipped.
    const forwardStep = count === 1 ? 1 : Math.abs(step);
    const lowest = step > 0 || count === 1 ? start : start + (count - 1) * step;
    if (step < 0 && count > 1) flipAxes.push(axis);
    starts.push(lowest);
    stops.push(lowest + (count - 1) * forwardStep + 1);
    steps.push(forwardStep);
    if (lowest !== 0 || count !== n || forwardStep !== 1) identity = false;
  });
  let out = identity ? t : bind(Primitive.Slice, [t], { starts, stops, steps });
  if (flipAxes.length > 0) out = bind(Primitive.Flip, [out], { axes: flipAxes });
  return out;
}

/**
 * Python-style slicing of the leading axes: axis i keeps `starts[i]:stops[i]:steps[i]`. Bounds
 * may be negative (from the end), null (the edge) or out of range (clamped); steps may be
 * negative. Axes past the given lists are kept whole. For mixed indexing see `index`.
 *
 * @example
 * slice(x, [1], [null], [2]);        // x[1::2]
 * slice(x, [null, -1], [null, null], [1, -1]); // x[:, -1::-1]
 */
export function slice(x: TensorLike, starts: readonly SliceBound[], stops: readonly SliceBound[], steps?: readonly SliceBound[]): Tensor {
  const op = 'slice';
  const t = toTensor(op, x);
  const count = Math.max(starts.length, stops.length, steps?.length ?? 0);
  if (count > t.ndim)
    throw new IndexError(`${op}: ${count} axes sliced, but the tensor has rank ${t.ndim} (shape ${formatShape(t.shape)})`);
  if (starts.length !== stops.length || (steps !== undefined && steps.length !== starts.length)) {
    throw new ValueError(
      `${op}: starts, stops and steps must have equal lengths, got ${starts.length}, ${stops.length} and ${steps?.length ?? starts.length}`,
    );
  }
  const resolved = t.shape.map((n, i) =>
    i < count ? resolveSlice(n, starts[i], stops[i], steps?.[i] ?? 1, op) : { start: 0, step: 1, count: n },
  );
  return applySlices(t, resolved);
}

/**
 * `length` elements of axis `axis` from `start` (negative counts from the end), as torch.narrow.
 *
 * @example
 * narrow(arange(10), 0, 2, 3); // [2, 3, 4]
 */
export function narrow(x: TensorLike, axis: number, start: number, length: number): Tensor {
  const op = 'narrow';
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis, t.ndim);
  const n = t.shape[a] as number;
  checkInteger(op, 'start', start);
  checkInteger(op, 'length', length);
  const first = start < 0 ? start + n : start;
  if (first < 0 || first > n) throw new IndexError(`${op}: start ${start} is out of range for axis ${axis} of size ${n}`);
  if (length < 0 || first + length > n) {
    throw new IndexError(`${op}: start ${start} with length ${length} exceeds axis ${axis} of size ${n}`);
  }
  return sliceAxis(t, a, first, first + length);
}

/** Elements `start..stop` of one (normalized) axis, both in range. */
function sliceAxis(t: Tensor, axis: number, start: number, stop: number): Tensor {
  return applySlices(
    t,
    t.shape.map((n, i) => (i === axis ? { start, step: 1, count: stop - start } : { start: 0, step: 1, count: n })),
  );
}

// ---------------------------------------------------------------------------------------------
// Joining and splitting

function promotedAll(op: string, values: readonly TensorLike[]): Tensor[] {
  if (!Array.isArray(values)) throw new ValueError(`${op}: expected an array of tensors, got ${typeof values}`);
  if (values.length === 0) throw new ValueError(`${op}: expected at least one tensor`);
  const like = values.find(isTensor);
  const ts = values.map((v) => toTensor(op, v, undefined, like));
  let dtype: DType = (ts[0] as Tensor).dtype;
  for (const t of ts) dtype = promoteTypes(dtype, t.dtype);
  return ts.map((t) => cast(t, dtype));
}

/**
 * Joins tensors along an existing axis (torch.cat, numpy.concatenate). Dtypes are promoted as in
 * arithmetic; shapes must agree on every other axis.
 *
 * @example
 * concat([zeros([2, 3]), ones([1, 3])]).shape;      // [3, 3]
 * concat([zeros([2, 3]), ones([2, 1])], 1).shape;   // [2, 4]
 */
export function concat(tensors: readonly TensorLike[], axis = 0): Tensor {
  const op = 'concat';
  const ts = promotedAll(op, tensors);
  const first = ts[0] as Tensor;
  if (first.ndim === 0) throw new ShapeError(`${op}: cannot concatenate scalars (rank 0); use stack`);
  const a = normalizeAxis(op, axis, first.ndim);
  for (const t of ts) {
    const compatible = t.ndim === first.ndim && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!compatible) {
      throw new ShapeError(`${op}: shapes ${ts.map((u) => formatShape(u.shape)).join(', ')} must agree on every axis except ${a}`);
    }
  }
  if (ts.length === 1) return first;
  return bind(Primitive.Concat, ts, { axis: a });
}

/**
 * Joins equally-shaped tensors along a new axis (torch.stack, numpy.stack).
 *
 * @example
 * stack([zeros([3]), ones([3])]).shape;    // [2, 3]
 * stack([zeros([3]), ones([3])], 1).shape; // [3, 2]
 */
export function stack(tensors: readonly TensorLike[], axis = 0): Tensor {
  const op = 'stack';
  const ts = promotedAll(op, tensors);
  const first = ts[0] as Tensor;
  for (const t of ts) {
    if (!shapesEqual(t.shape, first.shape)) {
      throw new ShapeError(`${op}: all tensors must have the same shape, got ${ts.map((u) => formatShape(u.shape)).join(', ')}`);
    }
  }
  const a = normalizeAxis(op, axis, first.ndim + 1);
  const expanded = ts.map((t) => unsqueeze(t, a));
  if (expanded.length === 1) return expanded[0] as Tensor;
  return bind(Primitive.Concat, expanded, { axis: a });
}

/**
 * Splits `x` along `axis` as torch.split: a number is the size of each piece (the last may be
 * smaller), an array lists the sizes of the pieces, which must add up to the axis's size.
 * (numpy.split differs: there a number is the count of pieces; see `chunk`.)
 *
 * @example
 * split(arange(5), 2);          // [0, 1], [2, 3], [4]
 * split(arange(5), [1, 4]);     // [0], [1, 2, 3, 4]
 */
export function split(x: TensorLike, sizeOrSections: number | readonly number[], axis = 0): Tensor[] {
  const op = 'split';
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis, t.ndim);
  const n = t.shape[a] as number;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections < 0 || (sizeOrSections === 0 && n > 0)) {
      throw new ValueError(`${op}: the piece size must be a positive integer, got ${sizeOrSections}`);
    }
    sizes = [];
    if (n === 0) sizes.push(0);
    for (let start = 0; start < n; start += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - start));
  } else {
    sizes = [...sizeOrSections];
    for (const s of sizes)
      if (!Number.isInteger(s) || s < 0)
        throw new ValueError(`${op}: sizes must be non-negative integers, got ${JSON.stringify(sizeOrSections)}`);
    const total = sizes.reduce((p, s) => p + s, 0);
    if (total !== n)
      throw new ValueError(`${op}: sizes ${JSON.stringify(sizeOrSections)} add up to ${total}, but axis ${axis} has size ${n}`);
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const size of sizes) {
    out.push(sizes.length === 1 ? t : sliceAxis(t, a, start, start + size));
    start += size;
  }
  return out;
}

/**
 * Splits `x` into `chunks` pieces of size ceil(n / chunks) along `axis`, as torch.chunk: the last
 * piece may be smaller, and fewer pieces come back when n is not large enough for all of them.
 *
 * @example
 * chunk(arange(5), 3); // [0, 1], [2, 3], [4]
 * chunk(arange(6), 4); // [0, 1], [2, 3], [4, 5]  (only 3 pieces)
 */
export function chunk(x: TensorLike, chunks: number, axis = 0): Tensor[] {
  const op = 'chunk';
  const t = toTensor(op, x);
  if (!Number.isInteger(chunks) || chunks < 1) throw new ValueError(`${op}: chunks must be a positive integer, got ${chunks}`);
  const a = normalizeAxis(op, axis, t.ndim);
  const n = t.shape[a] as number;
  if (n === 0) return split(t, new Array<number>(chunks).fill(0), a);
  return split(t, Math.ceil(n / chunks), a);
}

/**
 * Splits `x` into its slices along `axis`, removing that axis (torch.unbind).
 *
 * @example
 * const [row0, row1] = unstack(tensor([[1, 2], [3, 4]])); // [1, 2] and [3, 4]
 */
export function unstack(x: TensorLike, axis = 0): Tensor[] {
  const op = 'unstack';
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis, t.ndim);
  const n = t.shape[a] as number;
  const shape = t.shape.filter((_, i) => i !== a);
  const out: Tensor[] = [];
  for (let i = 0; i < n; i++) out.push(reshape(sliceAxis(t, a, i, i + 1), shape));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Padding

/** How `pad` fills the new border. */
export type PadMode = 'constant' | 'reflect' | 'edge';

export interface PadOptions {
  /** 'constant' (default) fills with `value`; 'reflect' mirrors without repeating the edge; 'edge' repeats the edge. */
  readonly mode?: PadMode;
  /** The fill value of 'constant' mode (default 0). */
  readonly value?: number | boolean;
}

/**
 * Padding widths as numpy.pad takes them: one number for every side of every axis, one
 * `[before, after]` pair for every axis, or one pair per axis.
 */
export type PadWidths = number | PadPair | readonly PadPair[];

function resolveWidths(op: string, widths: PadWidths, rank: number): PadPair[] {
  let pairs: PadPair[];
  if (typeof widths === 'number') pairs = new Array<PadPair>(rank).fill([widths, widths]);
  else if (Array.isArray(widths) && widths.length === 2 && typeof widths[0] === 'number' && typeof widths[1] === 'number') {
    pairs = new Array<PadPair>(rank).fill([widths[0], widths[1]]);
  } else if (Array.isArray(widths)) {
    pairs = (widths as readonly PadPair[]).map((p) => {
      if (!Array.isArray(p) || p.length !== 2)
        throw new ValueError(`${op}: widths must be a number, a [before, after] pair or one pair per axis, got ${JSON.stringify(widths)}`);
      return p;
    });
    if (pairs.length !== rank) {
      throw new ValueError(`${op}: ${pairs.length} [before, after] pairs given for a tensor of rank ${rank}`);
    }
  } else {
    throw new ValueError(`${op}: widths must be a number, a [before, after] pair or one pair per axis, got ${JSON.stringify(widths)}`);
  }
  for (const [lo, hi] of pairs) {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < 0) {
      throw new ValueError(`${op}: widths must be non-negative integers, got ${JSON.stringify(widths)}`);
    }
  }
  return pairs;
}

/**
 * Pads every axis by `[before, after]` elements, as numpy.pad. Modes: 'constant' fills with
 * `value` (default 0); 'reflect' mirrors the tensor without repeating the edge element (widths
 * at most size - 1, as torch's 'reflect'); 'edge' repeats the edge element (torch's 'replicate').
 *
 * @example
 * pad(tensor([1, 2, 3]), 2);                                // [0, 0, 1, 2, 3, 0, 0]
 * pad(tensor([1, 2, 3]), [[2, 1]], { mode: 'reflect' });    // [3, 2, 1, 2, 3, 2]
 * pad(tensor([1, 2, 3]), [1, 2], { mode: 'edge' });         // [1, 1, 2, 3, 3, 3]
 */
export function pad(x: TensorLike, widths: PadWidths, options: PadOptions = {}): Tensor {
  const op = 'pad';
  const t = toTensor(op, x);
  const pairs = resolveWidths(op, widths, t.ndim);
  const mode = options.mode ?? 'constant';
  if (mode === 'constant') {
    const value = options.value ?? 0;
    if (typeof value !== 'number' && typeof value !== 'boolean')
      throw new ValueError(`${op}: value must be a number or boolean, got ${typeof value}`);
    if (pairs.every(([lo, hi]) => lo === 0 && hi === 0)) return t;
    return bind(Primitive.Pad, [t], { widths: pairs, value: Number(value) });
  }
  if (options.value !== undefined) throw new ValueError(`${op}: value only applies to mode 'constant', got mode '${mode}'`);
  if (mode !== 'reflect' && mode !== 'edge')
    throw new ValueError(`${op}: unknown mode ${JSON.stringify(mode)}; expected 'constant', 'reflect' or 'edge'`);
  // Axis by axis, each on the already padded result, so corners come out as numpy's do.
  let out = t;
  pairs.forEach(([lo, hi], axis) => {
    if (lo === 0 && hi === 0) return;
    const n = out.shape[axis] as number;
    if (mode === 'reflect' && (lo > n - 1 || hi > n - 1)) {
      throw new ValueError(`${op}: reflect padding of [${lo}, ${hi}] needs axis ${axis} to have size above each width, it has size ${n}`);
    }
    if (mode === 'edge' && n === 0) throw new ValueError(`${op}: edge padding of the empty axis ${axis} has no edge to repeat`);
    const pieces: Tensor[] = [];
    if (lo > 0) pieces.push(mode === 'reflect' ? flip(sliceAxis(out, axis, 1, lo + 1), axis) : repeatEdge(out, axis, 0, lo));
    pieces.push(out);
    if (hi > 0) pieces.push(mode === 'reflect' ? flip(sliceAxis(out, axis, n - 1 - hi, n - 1), axis) : repeatEdge(out, axis, n - 1, hi));
    out = bind(Primitive.Concat, pieces, { axis });
  });
  return out;
}

function repeatEdge(t: Tensor, axis: number, at: number, times: number): Tensor {
  const edge = sliceAxis(t, axis, at, at + 1);
  return broadcastTo(
    edge,
    t.shape.map((d, i) => (i === axis ? times : d)),
  );
}

// ---------------------------------------------------------------------------------------------
// Flipping, rolling, tiling

/**
 * Reverses the order of elements along `axes` (all axes when omitted), as numpy.flip/torch.flip.
 *
 * @example
 * flip(tensor([[1, 2], [3, 4]]), 1); // [[2, 1], [4, 3]]
 */
export function flip(x: TensorLike, axes?: number | readonly number[]): Tensor {
  const op = 'flip';
  const t = toTensor(op, x);
  const list = normalizeAxes(op, axes, t.ndim).filter((a) => (t.shape[a] as number) > 1);
  if (list.length === 0) return t;
  return bind(Primitive.Flip, [t], { axes: list });
}

/**
 * Shifts elements along `axes` cyclically, as torch.roll: elements pushed past the end come back
 * at the start. Without `axes` the flattened tensor is rolled and the shape restored.
 *
 * @example
 * roll(tensor([1, 2, 3, 4]), 1);                  // [4, 1, 2, 3]
 * roll(tensor([[1, 2], [3, 4]]), [1, -1], [0, 1]); // [[4, 3], [2, 1]]
 */
export function roll(x: TensorLike, shifts: number | readonly number[], axes?: number | readonly number[]): Tensor {
  const op = 'roll';
  const t = toTensor(op, x);
  const shiftList = typeof shifts === 'number' ? [shifts] : [...shifts];
  for (const s of shiftList) checkInteger(op, 'shifts', s);
  if (axes === undefined || axes === null) {
    if (shiftList.length !== 1) throw new ValueError(`${op}: without axes, shifts must be one number, got ${JSON.stringify(shifts)}`);
    return reshape(roll(reshape(t, [-1]), shiftList, 0), t.shape);
  }
  const axisList = (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normalizeAxis(op, a, t.ndim));
  if (axisList.length !== shiftList.length) {
    throw new ValueError(`${op}: shifts ${JSON.stringify(shifts)} and axes ${JSON.stringify(axes)} must have equal lengths`);
  }
  let out = t;
  axisList.forEach((axis, k) => {
    const n = out.shape[axis] as number;
    if (n === 0) return;
    const s = (((shiftList[k] as number) % n) + n) % n;
    if (s === 0) return;
    out = bind(Primitive.Concat, [sliceAxis(out, axis, n - s, n), sliceAxis(out, axis, 0, n - s)], { axis });
  });
  return out;
}

function checkReps(op: string, reps: readonly number[]): void {
  for (const r of reps) {
    if (!Number.isInteger(r) || r < 0)
      throw new ValueError(`${op}: repetitions must be non-negative integers, got ${JSON.stringify(reps)}`);
  }
}

/** Tiles with reps.length >= rank (leading reps add new axes). */
function tileChecked(t: Tensor, reps: readonly number[]): Tensor {
  const rank = reps.length;
  const shape = [...new Array<number>(rank - t.ndim).fill(1), ...t.shape];
  if (reps.every((r) => r === 1)) return reshape(t, shape);
  // Each axis d becomes (rep, d) with the repetition outermost, so whole blocks repeat.
  const interleaved = shape.flatMap((d) => [1, d]);
  const expanded = shape.flatMap((d, i) => [reps[i] as number, d]);
  return reshape(
    broadcastTo(reshape(t, interleaved), expanded),
    shape.map((d, i) => d * (reps[i] as number)),
  );
}

/**
 * Repeats the whole tensor `reps[i]` times along axis i, as numpy.tile. Fewer reps than axes
 * repeat the trailing axes; more reps add leading axes.
 *
 * @example
 * tile(tensor([1, 2]), 2);         // [1, 2, 1, 2]
 * tile(tensor([1, 2]), [2, 1]);    // [[1, 2], [1, 2]]
 */
export function tile(x: TensorLike, reps: number | readonly number[]): Tensor {
  const op = 'tile';
  const t = toTensor(op, x);
  const list = typeof reps === 'number' ? [reps] : [...reps];
  checkReps(op, list);
  const full = [...new Array<number>(Math.max(0, t.ndim - list.length)).fill(1), ...list];
  return tileChecked(t, full);
}

/**
 * torch.Tensor.repeat: repeats the whole tensor `sizes[i]` times along axis i; `sizes` must have
 * at least as many entries as `x` has axes (extra ones add leading axes). This is numpy's `tile`;
 * for numpy's `repeat` (repeating each element) use `repeatInterleave`.
 *
 * @example
 * repeat(tensor([1, 2]), 2);       // [1, 2, 1, 2]
 * repeat(tensor([1, 2]), 2, 2);    // [[1, 2, 1, 2], [1, 2, 1, 2]]
 */
export function repeat(x: TensorLike, ...sizes: number[] | [readonly number[]]): Tensor {
  const op = 'repeat';
  const t = toTensor(op, x);
  const list = spreadDims(op, sizes);
  if (list.length < t.ndim) {
    throw new ValueError(`${op}: ${list.length} repetition counts given for a tensor of rank ${t.ndim}; give at least one per axis`);
  }
  checkReps(op, list);
  return tileChecked(t, list);
}
