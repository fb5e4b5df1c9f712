import { checkDType, type DType, type TypedArray } from '../core/dtype.js';
import { ConcretizationError, DTypeError, IndexError, ShapeError, ValueError } from '../core/errors.js';
import { broadcastShapes, contiguousStrides, formatShape, normalizeAxis, shapesEqual, sizeOf } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { NestedArray, Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { broadcastTo, cast } from './broadcast.js';
import { type TensorLike, tensor, toTensor } from './convert.js';
import { add, astype, clamp, equal, less, mul, where } from './elementwise.js';
import { moveaxis, reshape, type SliceBound, slice, transpose, unsqueeze } from './movement.js';

// Gather-based ops: NumPy indexing, take, takeAlongAxis, torch's gather and scatterAdd, oneHot,
// repeatInterleave. The Gather primitive (numpy take along one axis) and its transpose ScatterAdd
// expect indices in range, so every op here wraps negative indices and checks bounds first.

// ---------------------------------------------------------------------------------------------
// Index normalization

/** A tensor's elements, when they can be read without waiting (a concrete tensor on a synchronous backend). */
function readNow(t: Tensor): TypedArray | null {
  const backend = t._backend;
  if (backend === null || backend.readSync === undefined) return null;
  return t.dataSync();
}

interface HostArray {
  readonly shape: number[];
  readonly values: ArrayLike<number>;
  /** Whether the values came from booleans (a mask) rather than numbers. */
  readonly boolean: boolean;
}

/** Flattens a JavaScript index (number, nested arrays, typed array) without making a tensor. */
function hostArray(op: string, value: NestedArray | TypedArray): HostArray {
  if (ArrayBuffer.isView(value)) {
    const typed = value as TypedArray;
    return { shape: [typed.length], values: typed, boolean: false };
  }
  const shape: number[] = [];
  let probe: NestedArray = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0] as NestedArray;
  }
  const values: number[] = [];
  let booleans = 0;
  const visit = (item: NestedArray, depth: number): void => {
    if (depth === shape.length) {
      if (typeof item === 'boolean') {
        booleans++;
        values.push(item ? 1 : 0);
      } else if (typeof item === 'number') values.push(item);
      else throw new IndexError(`${op}: ragged or invalid index array ${JSON.stringify(value)}`);
      return;
    }
    if (!Array.isArray(item) || item.length !== shape[depth]) throw new IndexError(`${op}: ragged index array ${JSON.stringify(value)}`);
    for (const inner of item) visit(inner, depth + 1);
  };
  visit(value, 0);
  if (booleans !== 0 && booleans !== values.length)
    throw new IndexError(`${op}: an index array mixes booleans and numbers: ${JSON.stringify(value)}`);
  return { shape, values, boolean: booleans !== 0 };
}

function outOfBounds(op: string, value: number, n: number, location: string): IndexError {
  return new IndexError(`${op}: index ${value} is out of bounds for ${location} with size ${n}`);
}

/** Checks integer indices against a dimension of size `n` and wraps negative ones; null when none is negative. */
function wrapChecked(op: string, values: ArrayLike<number>, n: number, location: string): Int32Array | null {
  let negative = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v)) throw new IndexError(`${op}: indices must be integers, got ${v}`);
    if (v < -n || v >= n) throw outOfBounds(op, v, n, location);
    if (v < 0) negative = true;
  }
  if (!negative) return null;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    out[i] = v < 0 ? v + n : v;
  }
  return out;
}

/**
 * Turns user indices into an int32 tensor of values in [0, n): negative ones wrap, out-of-range
 * ones raise an IndexError naming the value and `location`. Indices that cannot be read now (traced
 * values, asynchronous backends) are wrapped and clamped into range instead, as JAX does.
 */
function indexTensor(op: string, indices: TensorLike, n: number, location: string, like: Tensor): Tensor {
  const backend = backendOf(like)?.name;
  if (!isTensor(indices)) {
    if (typeof indices === 'boolean') throw new IndexError(`${op}: a boolean is not an index; use integers`);
    const host = typeof indices === 'number' ? { shape: [], values: [indices], boolean: false } : hostArray(op, indices);
    if (host.boolean) throw new IndexError(`${op}: indices must be integers, got booleans`);
    const wrapped = wrapChecked(op, host.values, n, location) ?? Int32Array.from(host.values);
    return tensor(wrapped, { shape: host.shape, dtype: 'int32', ...(backend === undefined ? {} : { backend }) });
  }
  if (indices.dtype !== 'int32' && indices.dtype !== 'uint8') {
    throw new DTypeError(`${op}: indices must be an integer tensor (int32 or uint8), got ${indices.dtype}`);
  }
  const data = readNow(indices);
  if (data !== null) {
    const wrapped = wrapChecked(op, data, n, location);
    if (wrapped === null) return cast(indices, 'int32');
    return tensor(wrapped, { shape: indices.shape, dtype: 'int32', ...(backend === undefined ? {} : { backend }) });
  }
  if (n === 0 && indices.size > 0) throw new IndexError(`${op}: cannot index ${location}, which has size 0`);
  const asInt = cast(indices, 'int32');
  return clamp(where(less(asInt, 0), add(asInt, n), asInt), 0, n - 1);
}

/** int32 tensor of `shape` counting along `axis`, on `like`'s backend. */
function iota(shape: readonly number[], axis: number, like: Tensor): Tensor {
  return bind(Primitive.Iota, [], { shape: [...shape], dtype: 'int32', axis }, backendOf(like));
}

// ---------------------------------------------------------------------------------------------
// take, takeAlongAxis, gather, scatterAdd

function takeAlongAxisChecked(op: string, t: Tensor, idx: Tensor, axis: number): Tensor {
  if (idx.ndim !== t.ndim) {
    throw new ShapeError(
      `${op}: indices must have the same rank as x (${t.ndim}), got indices of shape ${formatShape(idx.shape)} for x of shape ${formatShape(t.shape)}`,
    );
  }
  const n = t.shape[axis] as number;
  const m = idx.shape[axis] as number;
  if (t.ndim === 1) return bind(Primitive.Gather, [t, idx], { axis: 0 });
  const without = (shape: readonly number[]): number[] => shape.filter((_, i) => i !== axis);
  const batch = broadcastShapes(op, without(t.shape), without(idx.shape));
  const withAxis = (size: number): number[] => [...batch.slice(0, axis), size, ...batch.slice(axis)];
  // Gather picks whole slices; to pick one element per batch position, flatten the batch into the
  // gathered axis and offset each row's indices by its start.
  const rows = sizeOf(batch);
  const flatX = reshape(moveaxis(broadcastTo(t, withAxis(n)), axis, -1), [rows * n]);
  const local = reshape(moveaxis(broadcastTo(idx, withAxis(m)), axis, -1), [rows, m]);
  const linear = add(local, mul(iota([rows, m], 0, t), n));
  const out = bind(Primitive.Gather, [flatX, linear], { axis: 0 });
  return moveaxis(reshape(out, [...batch, m]), -1, axis);
}

/**
 * numpy.take_along_axis: picks `x[..., indices[..., j, ...], ...]` along `axis`, one element per
 * index. `indices` has the rank of `x`; the other axes broadcast against each other. Negative
 * indices count from the end; out-of-range ones raise an IndexError.
 *
 * @example
 * const x = tensor([[10, 30, 20], [60, 40, 50]]);
 * takeAlongAxis(x, tensor([[1], [0]]), 1); // [[30], [60]]
 */
export function takeAlongAxis(x: TensorLike, indices: TensorLike, axis: number): Tensor {
  const op = 'takeAlongAxis';
  const t = toTensor(op, x);
  if (t.ndim === 0) throw new ShapeError(`${op}: x must have at least one axis, got a scalar`);
  const a = normalizeAxis(op, axis, t.ndim);
  const idx = indexTensor(op, indices, t.shape[a] as number, `axis ${a}`, t);
  return takeAlongAxisChecked(op, t, idx, a);
}

/**
 * numpy.take: the slices of `x` at `indices` along `axis`; the result's shape is
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Without `axis`, `x` is flattened first.
 * Negative indices count from the end; out-of-range ones raise an IndexError naming the index.
 *
 * @example
 * take(tensor([[1, 2], [3, 4]]), [1, -1]);       // [2, 4]   (flattened)
 * take(tensor([[1, 2], [3, 4]]), [1, 0], 0);     // [[3, 4], [1, 2]]
 */
export function take(x: TensorLike, indices: TensorLike, axis?: number): Tensor {
  const op = 'take';
  let t = toTensor(op, x);
  let a = 0;
  if (axis === undefined || axis === null) t = reshape(t, [-1]);
  else a = normalizeAxis(op, axis, t.ndim);
  const idx = indexTensor(op, indices, t.shape[a] as number, `axis ${a}`, t);
  return bind(Primitive.Gather, [t, idx], { axis: a });
}

/**
 * torch.gather: `out[i][j][k] = x[i][index[i][j][k]][k]` for `axis = 1`. `index` has the rank of
 * `x`, and on the other axes it may be smaller than `x` (but not larger); the result has the
 * shape of `index`. Negative indices count from the end (PyTorch rejects them).
 *
 * @example
 * gather(tensor([[1, 2], [3, 4]]), 1, tensor([[0, 0], [1, 0]])); // [[1, 1], [4, 3]]
 */
export function gather(x: TensorLike, axis: number, index: TensorLike): Tensor {
  const op = 'gather';
  const t = toTensor(op, x);
  if (t.ndim === 0) throw new ShapeError(`${op}: x must have at least one axis, got a scalar`);
  const a = normalizeAxis(op, axis, t.ndim);
  const idx = indexTensor(op, index, t.shape[a] as number, `axis ${a}`, t);
  if (idx.ndim !== t.ndim) {
    throw new ShapeError(`${op}: index must have the same rank as x (${t.ndim}), got index of shape ${formatShape(idx.shape)}`);
  }
  const stops: SliceBound[] = idx.shape.map((d, i) => {
    if (i !== a && d > (t.shape[i] as number)) {
      throw new ShapeError(
        `${op}: index has size ${d} on axis ${i}, more than x's ${t.shape[i]} (index ${formatShape(idx.shape)}, x ${formatShape(t.shape)})`,
      );
    }
    return i === a ? null : d;
  });
  const trimmed = slice(
    t,
    stops.map(() => 0),
    stops,
  );
  return takeAlongAxisChecked(op, trimmed, idx, a);
}

/**
 * torch.scatter_add: a copy of `x` with each `src[i][j][k]` added at `[i][index[i][j][k]][k]`
 * (for `axis = 1`); repeated indices add up. `index` and `src` have the rank of `x`; `index` may
 * be smaller than `src` on every axis and than `x` off `axis`; the part of `src` that `index`
 * covers is used. `src` is cast to x's dtype; a number is broadcast. Negative indices wrap.
 *
 * @example
 * scatterAdd(zeros([3]), 0, tensor([0, 2, 0]), tensor([1, 2, 3])); // [4, 0, 2]
 */
export function scatterAdd(x: TensorLike, axis: number, index: TensorLike, src: TensorLike): Tensor {
  const op = 'scatterAdd';
  const t = toTensor(op, x);
  if (t.ndim === 0) throw new ShapeError(`${op}: x must have at least one axis, got a scalar`);
  const a = normalizeAxis(op, axis, t.ndim);
  const idx = indexTensor(op, index, t.shape[a] as number, `axis ${a}`, t);
  if (idx.ndim !== t.ndim) {
    throw new ShapeError(`${op}: index must have the same rank as x (${t.ndim}), got index of shape ${formatShape(idx.shape)}`);
  }
  let s = cast(toTensor(op, src, t.dtype, t), t.dtype);
  if (s.ndim === 0) s = broadcastTo(s, idx.shape);
  if (s.ndim !== t.ndim)
    throw new ShapeError(`${op}: src must have the same rank as x (${t.ndim}), got src of shape ${formatShape(s.shape)}`);
  idx.shape.forEach((d, i) => {
    if (d > (s.shape[i] as number)) throw new ShapeError(`${op}: index has size ${d} on axis ${i}, more than src's ${s.shape[i]}`);
    if (i !== a && d > (t.shape[i] as number)) throw new ShapeError(`${op}: index has size ${d} on axis ${i}, more than x's ${t.shape[i]}`);
  });
  if (idx.size === 0) return t;
  if (!shapesEqual(s.shape, idx.shape)) {
    s = slice(
      s,
      idx.shape.map(() => 0),
      idx.shape,
    );
  }
  // Scatter into the flattened x: each index becomes the flat offset of the element it names.
  const strides = contiguousStrides(t.shape);
  let linear = (strides[a] as number) === 1 ? idx : mul(idx, strides[a] as number);
  idx.shape.forEach((d, i) => {
    if (i === a || d === 1) return;
    const position = iota(idx.shape, i, t);
    linear = add(linear, (strides[i] as number) === 1 ? position : mul(position, strides[i] as number));
  });
  const out = bind(Primitive.ScatterAdd, [reshape(t, [t.size]), linear, s], { axis: 0 });
  return reshape(out, t.shape);
}

// ---------------------------------------------------------------------------------------------
// oneHot, repeatInterleave

export interface OneHotOptions {
  /** The result's dtype (default float32; PyTorch returns int64, which Flint does not have). */
  readonly dtype?: DType;
}

/**
 * One-hot encoding: the result has a new last axis of length `numClasses` that is 1 at each
 * index and 0 elsewhere. Float32 by default (torch.nn.functional.one_hot returns int64), ready
 * for losses. Without `numClasses` it is the largest index plus one (read from the data).
 *
 * @example
 * oneHot(tensor([0, 2]), 3); // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(indices: TensorLike, numClasses?: number, options: OneHotOptions = {}): Tensor {
  return tidy(() => {
    const op = 'oneHot';
    const t = toTensor(op, indices);
    if (t.dtype !== 'int32' && t.dtype !== 'uint8')
      throw new DTypeError(`${op}: indices must be integers (int32 or uint8), got ${t.dtype}`);
    const dtype = checkDType(op, options.dtype ?? 'float32');
    const data = readNow(t);
    let classes = numClasses;
    if (classes === undefined) {
      if (data === null)
        throw new ConcretizationError(`${op}: numClasses is needed when the indices cannot be read (traced or on an asynchronous backend)`);
      classes = data.length === 0 ? 0 : Math.max(...Array.from(data)) + 1;
    }
    if (!Number.isInteger(classes) || classes < 0)
      throw new ValueError(`${op}: numClasses must be a non-negative integer, got ${numClasses}`);
    if (data !== null) {
      for (const v of data)
        if (v < 0 || v >= classes) throw new IndexError(`${op}: class index ${v} is out of range for ${classes} classes`);
    }
    return astype(equal(unsqueeze(t, -1), iota([classes], 0, t)), dtype);
  });
}

/**
 * Repeats each element, as torch.repeat_interleave (numpy.repeat): `repeats` is one count for
 * every element or one count per element along `axis`. Without `axis`, `x` is flattened first.
 *
 * @example
 * repeatInterleave(tensor([1, 2]), 2);               // [1, 1, 2, 2]
 * repeatInterleave(tensor([[1, 2], [3, 4]]), [1, 2], 0); // [[1, 2], [3, 4], [3, 4]]
 */
export function repeatInterleave(x: TensorLike, repeats: number | readonly number[] | Tensor, axis?: number): Tensor {
  const op = 'repeatInterleave';
  let t = toTensor(op, x);
  let a = 0;
  if (axis === undefined || axis === null) t = reshape(t, [-1]);
  else a = normalizeAxis(op, axis, t.ndim);
  const n = t.shape[a] as number;
  let counts: ArrayLike<number>;
  if (typeof repeats === 'number') counts = [repeats];
  else if (isTensor(repeats)) {
    if (repeats.dtype !== 'int32' && repeats.dtype !== 'uint8')
      throw new DTypeError(`${op}: repeats must be an integer tensor, got ${repeats.dtype}`);
    if (repeats.ndim > 1) throw new ShapeError(`${op}: repeats must be a number or a 1-D list, got shape ${formatShape(repeats.shape)}`);
    const data = readNow(repeats);
    if (data === null)
      throw new ConcretizationError(
        `${op}: the result's shape depends on repeats, which cannot be read here (traced or on an asynchronous backend)`,
      );
    counts = data;
  } else counts = repeats;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (!Number.isInteger(c) || c < 0)
      throw new ValueError(`${op}: repeats must be non-negative integers, got ${JSON.stringify(Array.from(counts))}`);
  }
  if (counts.length === 1) {
    const r = counts[0] as number;
    if (r === 1) return t;
    const inner = [...t.shape.slice(0, a + 1), 1, ...t.shape.slice(a + 1)];
    const expanded = [...t.shape.slice(0, a + 1), r, ...t.shape.slice(a + 1)];
    return reshape(
      broadcastTo(reshape(t, inner), expanded),
      t.shape.map((d, i) => (i === a ? d * r : d)),
    );
  }
  if (counts.length !== n) throw new ValueError(`${op}: ${counts.length} repeat counts given for axis ${a} of size ${n}`);
  let total = 0;
  for (let i = 0; i < n; i++) total += counts[i] as number;
  const positions = new Int32Array(total);
  let k = 0;
  for (let i = 0; i < n; i++) for (let c = 0; c < (counts[i] as number); c++) positions[k++] = i;
  const backend = backendOf(t)?.name;
  const idx = tensor(positions, { dtype: 'int32', ...(backend === undefined ? {} : { backend }) });
  return bind(Primitive.Gather, [t, idx], { axis: a });
}

// ---------------------------------------------------------------------------------------------
// NumPy indexing

/** A slice object: `{ start: 1, stop: -1, step: 2 }` is NumPy's `1:-1:2`; missing fields take the edge. */
export interface SliceSpec {
  readonly start?: number | null;
  readonly stop?: number | null;
  readonly step?: number | null;
}

/** Inserts a new axis of size 1 when used in `index` (NumPy's `np.newaxis`, which is also `null`). */
export const newAxis = null;

/**
 * One entry of `index(x, ...specs)`:
 * - an integer (negative counts from the end): picks one element and removes the axis;
 * - a slice string in NumPy syntax, `':'`, `'1:5'`, `'::2'`, `'::-1'`, `'-3:'`, or a SliceSpec object;
 * - `'...'`: as many whole axes as needed to index every axis;
 * - `null` (or `newAxis`): inserts an axis of size 1;
 * - an integer array or integer tensor: picks those positions along the axis (advanced indexing);
 * - a boolean array or bool tensor: a mask over as many axes as it has, keeping the true positions.
 */
export type IndexSpec = number | string | null | SliceSpec | Tensor | NestedArray[] | TypedArray;

type Item =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'slice'; readonly start: SliceBound; readonly stop: SliceBound; readonly step: SliceBound }
  | { readonly kind: 'newAxis' }
  | { readonly kind: 'ellipsis' }
  | { readonly kind: 'array'; readonly value: TensorLike }
  | { readonly kind: 'mask'; readonly shape: readonly number[]; readonly values: ArrayLike<number> };

const FULL: Item = { kind: 'slice', start: null, stop: null, step: null };
const SLICE_PATTERN = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?$/;

function parseSliceString(op: string, text: string): Item {
  if (text.trim() === '...') return { kind: 'ellipsis' };
  const match = SLICE_PATTERN.exec(text);
  if (match === null) {
    const hint = /^\s*-?\d+\s*$/.test(text)
      ? '; pass integer indices as numbers'
      : text.includes(',')
        ? '; pass one spec per argument'
        : '';
    throw new IndexError(`${op}: ${JSON.stringify(text)} is not a slice ('start:stop:step') or '...'${hint}`);
  }
  const bound = (s: string | undefined): number | null => (s === undefined ? null : Number(s));
  return { kind: 'slice', start: bound(match[1]), stop: bound(match[2]), step: bound(match[3]) };
}

function parseSpec(op: string, spec: IndexSpec): Item {
  if (spec === null) return { kind: 'newAxis' };
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec)) throw new IndexError(`${op}: ${spec} is not an integer index`);
    return { kind: 'int', value: spec };
  }
  if (typeof spec === 'string') return parseSliceString(op, spec);
  if (isTensor(spec)) {
    if (spec.dtype === 'bool') {
      const data = readNow(spec);
      if (data === null)
        throw new ConcretizationError(
          `${op}: a boolean mask's result shape depends on its values, which cannot be read here (traced or on an asynchronous backend); use where() instead`,
        );
      return { kind: 'mask', shape: spec.shape, values: data };
    }
    if (spec.dtype !== 'int32' && spec.dtype !== 'uint8')
      throw new IndexError(`${op}: index tensors must be int32, uint8 or bool, got ${spec.dtype}`);
    return { kind: 'array', value: spec };
  }
  if (Array.isArray(spec) || ArrayBuffer.isView(spec)) {
    const host = hostArray(op, spec as NestedArray[] | TypedArray);
    if (host.boolean) return { kind: 'mask', shape: host.shape, values: host.values };
    return { kind: 'array', value: spec as NestedArray[] | TypedArray };
  }
  if (typeof spec === 'object') {
    const { start, stop, step } = spec as SliceSpec;
    return { kind: 'slice', start, stop, step };
  }
  throw new IndexError(
    `${op}: unsupported index ${String(spec)} (${typeof spec}); expected an integer, a slice string, null, '...', an array or a tensor`,
  );
}

/** The integer arrays (one per axis) of the positions where a mask is true, in row-major order. */
function maskToArrays(mask: Extract<Item, { kind: 'mask' }>): Item[] {
  const strides = contiguousStrides(mask.shape);
  const positions: number[] = [];
  for (let i = 0; i < mask.values.length; i++) if ((mask.values[i] as number) !== 0) positions.push(i);
  return mask.shape.map((dim, axis) => {
    const coords = new Int32Array(positions.length);
    const stride = strides[axis] as number;
    positions.forEach((p, k) => {
      coords[k] = Math.floor(p / stride) % dim;
    });
    return { kind: 'array', value: coords };
  });
}

/** Replaces '...' (or the end) with whole-axis slices and masks with integer arrays. */
function expandItems(op: string, items: readonly Item[], shape: readonly number[]): Item[] {
  let consumed = 0;
  let ellipses = 0;
  for (const item of items) {
    if (item.kind === 'ellipsis') ellipses++;
    else if (item.kind === 'mask') consumed += item.shape.length;
    else if (item.kind !== 'newAxis') consumed++;
  }
  if (ellipses > 1) throw new IndexError(`${op}: an index can have only one ellipsis ('...')`);
  if (consumed > shape.length) {
    throw new IndexError(
      `${op}: too many indices for a tensor of rank ${shape.length} (shape ${formatShape(shape)}): ${consumed} axes indexed`,
    );
  }
  const fill = new Array<Item>(shape.length - consumed).fill(FULL);
  const withAll = ellipses === 1 ? items.flatMap((item) => (item.kind === 'ellipsis' ? fill : [item])) : [...items, ...fill];
  const out: Item[] = [];
  let axis = 0;
  for (const item of withAll) {
    if (item.kind === 'mask') {
      if (item.shape.length === 0) throw new IndexError(`${op}: a scalar boolean is not supported as an index`);
      const covered = shape.slice(axis, axis + item.shape.length);
      if (!shapesEqual(covered, item.shape)) {
        throw new IndexError(
          `${op}: boolean mask of shape ${formatShape(item.shape)} does not match the indexed axes ${axis}..${axis + item.shape.length - 1} of shape ${formatShape(covered)}`,
        );
      }
      out.push(...maskToArrays(item));
      axis += item.shape.length;
    } else {
      out.push(item);
      if (item.kind !== 'newAxis') axis++;
    }
  }
  return out;
}

/**
 * NumPy indexing, `x[...specs]` (see IndexSpec). Integers and slices give basic indexing; integer
 * and boolean arrays give advanced indexing with NumPy's rules: the index arrays broadcast
 * together, and their dimensions replace the indexed axes in place when the arrays are adjacent,
 * or come first when they are separated by a slice or `null`. A boolean mask's result size
 * depends on its values, so it is read at once (eager mode only).
 *
 * @example
 * const x = arange(24).reshape(2, 3, 4);
 * index(x, 1, ':', '::-1');        // x[1, :, ::-1], shape [3, 4]
 * index(x, '...', null, 0);        // x[..., None, 0], shape [2, 3, 1]
 * index(x, [0, 1], ':', [1, 2]);   // shape [2, 3]: pairs (0, 1) and (1, 2)
 * index(x, x.greater(20));         // the elements above 20, shape [3]
 */
export function index(x: TensorLike, ...specs: IndexSpec[]): Tensor {
  const op = 'index';
  const t = toTensor(op, x);
  const items = expandItems(
    op,
    specs.map((s) => parseSpec(op, s)),
    t.shape,
  );
  const advanced = items.some((item) => item.kind === 'array');
  const starts: SliceBound[] = [];
  const stops: SliceBound[] = [];
  const steps: SliceBound[] = [];
  const arrays: { readonly axis: number; readonly position: number; readonly value: TensorLike }[] = [];
  let axis = 0;
  items.forEach((item, position) => {
    if (item.kind === 'newAxis' || item.kind === 'ellipsis' || item.kind === 'mask') return;
    const n = t.shape[axis] as number;
    if (item.kind === 'slice') {
      starts.push(item.start);
      stops.push(item.stop);
      steps.push(item.step);
    } else if (item.kind === 'int' && !advanced) {
      if (item.value < -n || item.value >= n) throw outOfBounds(op, item.value, n, `axis ${axis}`);
      const i = item.value < 0 ? item.value + n : item.value;
      starts.push(i);
      stops.push(i + 1);
      steps.push(1);
    } else {
      // With advanced indices present, integers count as 0-d index arrays (NumPy's rule).
      arrays.push({ axis, position, value: item.kind === 'int' ? item.value : item.value });
      starts.push(null);
      stops.push(null);
      steps.push(null);
    }
    axis++;
  });
  const sliced = slice(t, starts, stops, steps);

  if (!advanced) {
    const shape: number[] = [];
    let a = 0;
    for (const item of items) {
      if (item.kind === 'newAxis') shape.push(1);
      else if (item.kind === 'slice') shape.push(sliced.shape[a++] as number);
      else a++;
    }
    return reshape(sliced, shape);
  }

  const indexTensors = arrays.map(({ axis: a, value }) => indexTensor(op, value, t.shape[a] as number, `axis ${a}`, t));
  const broadcast = broadcastShapes(op, ...indexTensors.map((i) => i.shape));
  const adjacent = arrays.every((entry, k) => k === 0 || entry.position === (arrays[k - 1] as { position: number }).position + 1);
  const advancedAxes = new Set(arrays.map((entry) => entry.axis));
  const keptAxes = sliced.shape.map((_, i) => i).filter((i) => !advancedAxes.has(i));

  let gathered: Tensor;
  if (indexTensors.length === 1) {
    // One index array: Gather along its axis already puts its dimensions in place.
    gathered = bind(Primitive.Gather, [sliced, indexTensors[0] as Tensor], { axis: (arrays[0] as { axis: number }).axis });
  } else {
    // Several: move the indexed axes to the front, merge them into one, and gather at the flat
    // offsets the index arrays name together.
    const advancedSizes = arrays.map((entry) => sliced.shape[entry.axis] as number);
    const merged = reshape(transpose(sliced, [...arrays.map((entry) => entry.axis), ...keptAxes]), [
      sizeOf(advancedSizes),
      ...keptAxes.map((i) => sliced.shape[i] as number),
    ]);
    const strides = contiguousStrides(advancedSizes);
    let linear: Tensor | null = null;
    for (let k = 0; k < indexTensors.length; k++) {
      const idx = indexTensors[k] as Tensor;
      const term = (strides[k] as number) === 1 ? idx : mul(idx, strides[k] as number);
      linear = linear === null ? term : add(linear, term);
    }
    gathered = bind(Primitive.Gather, [merged, broadcastTo(linear as Tensor, broadcast)], { axis: 0 });
    if (adjacent) {
      const before = keptAxes.filter((i) => i < (arrays[0] as { axis: number }).axis).length;
      const b = broadcast.length;
      const perm = [
        ...Array.from({ length: before }, (_, i) => b + i),
        ...Array.from({ length: b }, (_, i) => i),
        ...Array.from({ length: keptAxes.length - before }, (_, i) => b + before + i),
      ];
      gathered = transpose(gathered, perm);
    }
  }

  // The gathered dims are in result order; only the new axes (size 1) remain to be inserted.
  const shape: number[] = adjacent ? [] : [...broadcast];
  let kept = 0;
  let placed = !adjacent;
  for (const item of items) {
    if (item.kind === 'newAxis') shape.push(1);
    else if (item.kind === 'slice') shape.push(sliced.shape[keptAxes[kept++] as number] as number);
    else if (!placed) {
      shape.push(...broadcast);
      placed = true;
    }
  }
  return reshape(gathered, shape);
}
