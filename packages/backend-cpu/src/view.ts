import { allocTypedArray, contiguousStrides, type DType, sizeOf, type TypedArray } from '@flint/api';
import { planRows } from './kernels/rows.js';
import { newStorage, type Storage } from './storage.js';

/**
 * The CPU backend's handle: a strided view of a storage. Element `[i0, i1, ...]` lives at
 * `storage.data[offset + i0 * strides[0] + i1 * strides[1] + ...]`; strides may be zero
 * (broadcast) or negative (flip), so movement primitives never copy.
 */
export interface CpuHandle {
  readonly storage: Storage;
  readonly offset: number;
  readonly strides: readonly number[];
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Set by `dispose`, so that releasing one handle twice drops only one reference. */
  released: boolean;
}

/** A handle owning a fresh contiguous storage around `data` (taken, not copied). */
export function wrap(data: TypedArray, shape: readonly number[], dtype: DType): CpuHandle {
  return { storage: newStorage(data), offset: 0, strides: contiguousStrides(shape), shape, dtype, released: false };
}

/** Another view of `source`'s storage; it holds its own reference. */
export function view(source: CpuHandle, shape: readonly number[], strides: readonly number[], offset: number): CpuHandle {
  source.storage.life.refs++;
  return { storage: source.storage, offset, strides, shape, dtype: source.dtype, released: false };
}

/** Whether the view's elements are its storage's elements `offset .. offset + size` in row-major order. */
export function isContiguous(h: CpuHandle): boolean {
  let expected = 1;
  for (let i = h.shape.length - 1; i >= 0; i--) {
    const dim = h.shape[i]!;
    if (dim === 0) return true;
    if (dim !== 1 && h.strides[i] !== expected) return false;
    expected *= dim;
  }
  return true;
}

/**
 * The view's shape and strides with size-1 dims dropped and mergeable neighbours merged, so that
 * strided loops run over as few (and as long) dims as possible. A size-0 view returns `[0]`.
 */
export function coalesce(shape: readonly number[], strides: readonly number[]): { shape: number[]; strides: number[] } {
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const dim = shape[i]!;
    if (dim === 0) return { shape: [0], strides: [0] };
    if (dim === 1) continue;
    const stride = strides[i]!;
    const last = outShape.length - 1;
    if (last >= 0 && outStrides[last] === stride * dim) {
      outShape[last] = outShape[last]! * dim;
      outStrides[last] = stride;
    } else {
      outShape.push(dim);
      outStrides.push(stride);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Copies the strided elements of `src` (from `srcOffset`, walking `shape`/`strides`) into `dst`
 * from `dstOffset`, in row-major order. The innermost dim is a plain loop; outer dims use a counter.
 */
export function copyStrided(
  src: TypedArray,
  srcOffset: number,
  shape: readonly number[],
  strides: readonly number[],
  dst: TypedArray,
  dstOffset: number,
): void {
  const c = coalesce(shape, strides);
  const rank = c.shape.length;
  if (rank === 0) {
    dst[dstOffset] = src[srcOffset]!;
    return;
  }
  const inner = c.shape[rank - 1]!;
  const innerStride = c.strides[rank - 1]!;
  if (inner === 0) return;
  if (rank === 1) {
    if (innerStride === 1 && src.constructor === dst.constructor) {
      dst.set(src.subarray(srcOffset, srcOffset + inner) as never, dstOffset);
      return;
    }
    for (let i = 0, s = srcOffset; i < inner; i++, s += innerStride) dst[dstOffset + i] = src[s]!;
    return;
  }
  const outer = sizeOf(c.shape) / inner;
  const counter = new Array<number>(rank - 1).fill(0);
  let base = srcOffset;
  let d = dstOffset;
  for (let o = 0; o < outer; o++) {
    if (innerStride === 1) for (let i = 0; i < inner; i++) dst[d++] = src[base + i]!;
    else for (let i = 0, s = base; i < inner; i++, s += innerStride) dst[d++] = src[s]!;
    for (let axis = rank - 2; axis >= 0; axis--) {
      base += c.strides[axis]!;
      if (++counter[axis]! < c.shape[axis]!) break;
      base -= c.strides[axis]! * c.shape[axis]!;
      counter[axis] = 0;
    }
  }
}

/**
 * The view's elements in row-major order. Contiguous views return a subarray of the storage
 * itself, so callers must treat the result as read-only.
 */
export function contiguousData(h: CpuHandle): TypedArray {
  const size = sizeOf(h.shape);
  if (isContiguous(h)) return h.storage.data.subarray(h.offset, h.offset + size);
  const out = allocTypedArray(h.dtype, size);
  copyStrided(h.storage.data, h.offset, h.shape, h.strides, out, 0);
  return out;
}

/** A fresh row-major copy of the view's elements. */
export function copyData(h: CpuHandle): TypedArray {
  const size = sizeOf(h.shape);
  if (isContiguous(h)) return h.storage.data.slice(h.offset, h.offset + size);
  const out = allocTypedArray(h.dtype, size);
  copyStrided(h.storage.data, h.offset, h.shape, h.strides, out, 0);
  return out;
}

/**
 * A view of `h` with its axes permuted (output axis i is input axis perm[i]) that holds no
 * reference: for reading inside a kernel only, never returned.
 */
export function permutedView(h: CpuHandle, perm: readonly number[]): CpuHandle {
  return {
    storage: h.storage,
    offset: h.offset,
    shape: perm.map((p) => h.shape[p]!),
    strides: perm.map((p) => h.strides[p]!),
    dtype: h.dtype,
    released: false,
  };
}

/**
 * Copies `shape` elements between two strided layouts (either may be non-contiguous). Dims are
 * coalesced jointly first, so that a copy with size-1 or mergeable dims (pad's interleaving,
 * concat's blocks) runs long rows rather than a counter step per element.
 */
export function copyBetween(
  src: TypedArray,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const plan = planRows(shape, [srcStrides, dstStrides]);
  if (plan.rows === 0) return;
  const inner = plan.inner;
  const [si, di] = plan.innerStrides as [number, number];
  const rank = plan.outerShape.length;
  const [outerSrc, outerDst] = plan.outerStrides as [readonly number[], readonly number[]];
  const whole = si === 1 && di === 1 && inner >= 32 && src.constructor === dst.constructor;
  const counter = new Array<number>(rank).fill(0);
  let s = srcOffset;
  let d = dstOffset;
  for (let r = 0; r < plan.rows; r++) {
    if (whole) dst.set(src.subarray(s, s + inner) as never, d);
    else if (si === 1 && di === 1) for (let i = 0; i < inner; i++) dst[d + i] = src[s + i]!;
    else for (let i = 0, sp = s, dp = d; i < inner; i++, sp += si, dp += di) dst[dp] = src[sp]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      s += outerSrc[axis]!;
      d += outerDst[axis]!;
      if (++counter[axis]! < plan.outerShape[axis]!) break;
      s -= outerSrc[axis]! * plan.outerShape[axis]!;
      d -= outerDst[axis]! * plan.outerShape[axis]!;
      counter[axis] = 0;
    }
  }
}

/**
 * A handle of `shape` over `data`, which holds the elements row-major in the permuted order
 * (axis perm[i] of `shape` is the data's i-th dim). Lets a kernel compute along a moved axis and
 * return its result without transposing it back.
 */
export function wrapPermuted(data: TypedArray, shape: readonly number[], perm: readonly number[], dtype: DType): CpuHandle {
  const permutedStrides = contiguousStrides(perm.map((p) => shape[p]!));
  const strides = new Array<number>(shape.length);
  for (let i = 0; i < perm.length; i++) strides[perm[i]!] = permutedStrides[i]!;
  return { storage: newStorage(data), offset: 0, strides, shape, dtype, released: false };
}

/** The axes in order with `axis` moved last. */
export function axisLast(rank: number, axis: number): number[] {
  const perm: number[] = [];
  for (let i = 0; i < rank; i++) if (i !== axis) perm.push(i);
  perm.push(axis);
  return perm;
}
