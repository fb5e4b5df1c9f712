import { runFusedBackward } from '../autograd/fused-backward.js';
import { sizeOf } from '../core/shape.js';
import type { CompositeCall } from '../ir/composite.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { stageComposite } from '../transforms/core.js';
import {
  add,
  argmax,
  broadcast,
  concat,
  conv,
  cumulative,
  dilate,
  div,
  dotGeneral,
  equal,
  flip,
  full,
  gather,
  iota,
  moveAxis,
  mul,
  pad,
  padOrSlice,
  reduceSum,
  reduceWindow,
  reshape,
  scalarLike,
  scale,
  scatterAdd,
  select,
  slice,
  sliceTranspose,
  transpose,
  zerosLike,
} from './lax.js';
import { type PadPair, type ParamsOf, Primitive } from './primitive.js';

// The derivative rules of linear algebra, convolution, windows and scans: each transpose is
// again a primitive (a dotGeneral, a conv, a reduceWindow, a scan) or a short composite of them,
// so gradients of gradients work.

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const ascending = (axes: readonly number[]): number[] => [...axes].sort((a, b) => a - b);

type DotParams = ParamsOf<Primitive.DotGeneral>;

function freeAxes(rank: number, contracting: readonly number[], batch: readonly number[]): number[] {
  return range(rank).filter((a) => !contracting.includes(a) && !batch.includes(a));
}

const isIdentity = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

/**
 * The permutation that takes a cotangent computed as [batch, first, second] to its operand's
 * axis order: the operand's batch axes come first in the product, then `first`, then `second`
 * (the latter two in the order each axis list gives).
 */
function operandOrder(rank: number, batch: readonly number[], first: readonly number[], second: readonly number[]): number[] {
  const perm = new Array<number>(rank);
  batch.forEach((a, i) => {
    perm[a] = i;
  });
  first.forEach((a, i) => {
    perm[a] = batch.length + i;
  });
  second.forEach((a, i) => {
    perm[a] = batch.length + first.length + i;
  });
  return perm;
}

/** One operand of a dotGeneral: its value and the params that concern it. */
interface DotOperand {
  readonly value: Tensor;
  readonly contracting: readonly number[];
  readonly batch: readonly number[];
}

/**
 * The cotangent of `self`, one operand of a dotGeneral whose output cotangent is g ([batch, lhs
 * free, rhs free]; `otherIsLhs` says which side `other` was): g contracted with the other
 * operand over the other's free dims. Either may come first in that product, giving [batch,
 * self free, self contracting] or [batch, self contracting, self free]; the one already in self's
 * axis order needs no transpose, so it comes out contiguous. A weight's gradient is then
 * contiguous for `x.matmul(w)` (w [in, out]) as for `linear` (w [out, in], contracted on its
 * dim 1), and the kernels that read it next (an optimizer's fused update) read it unstrided.
 */
function dotCotangent(g: Tensor, self: DotOperand, other: DotOperand, otherIsLhs: boolean): Tensor {
  const nb = self.batch.length;
  const rank = self.value.shape.length;
  const selfFree = freeAxes(rank, self.contracting, self.batch);
  const otherFree = freeAxes(other.value.shape.length, other.contracting, other.batch);
  const gOtherFree = otherFree.map((_, k) => nb + (otherIsLhs ? 0 : selfFree.length) + k);
  // Self's contracting axes in the order the product keeps their partners: ascending in other.
  const contractingInProduct = ascending(other.contracting).map((a) => self.contracting[other.contracting.indexOf(a)] as number);
  const freeFirst = operandOrder(rank, self.batch, selfFree, contractingInProduct);
  const contractingFirst = operandOrder(rank, self.batch, contractingInProduct, selfFree);
  if (isIdentity(freeFirst) || !isIdentity(contractingFirst)) {
    const y = dotGeneral(g, other.value, {
      lhsContracting: gOtherFree,
      rhsContracting: otherFree,
      lhsBatch: range(nb),
      rhsBatch: [...other.batch],
    });
    return transpose(y, freeFirst);
  }
  const y = dotGeneral(other.value, g, {
    lhsContracting: otherFree,
    rhsContracting: gOtherFree,
    lhsBatch: [...other.batch],
    rhsBatch: range(nb),
  });
  return transpose(y, contractingFirst);
}

/** Cotangent of dotGeneral's lhs (see dotCotangent). */
export function dotTransposeLhs(g: Tensor, lhs: Tensor, rhs: Tensor, params: DotParams): Tensor {
  return dotCotangent(
    g,
    { value: lhs, contracting: params.lhsContracting, batch: params.lhsBatch },
    { value: rhs, contracting: params.rhsContracting, batch: params.rhsBatch },
    false,
  );
}

/** Cotangent of dotGeneral's rhs (see dotCotangent). */
export function dotTransposeRhs(g: Tensor, lhs: Tensor, rhs: Tensor, params: DotParams): Tensor {
  return dotCotangent(
    g,
    { value: rhs, contracting: params.rhsContracting, batch: params.rhsBatch },
    { value: lhs, contracting: params.lhsContracting, batch: params.lhsBatch },
    true,
  );
}

type ConvParams = ParamsOf<Primitive.Conv>;

const dilatedSize = (size: number, dilation: number): number => (size === 0 ? 0 : (size - 1) * dilation + 1);

/**
 * Cotangent of conv's input: a conv of g (dilated by the strides) with the spatially flipped
 * kernel, its in/out channels swapped within each group, strided by the input dilation.
 */
export function convTransposeLhs(g: Tensor, x: Tensor, w: Tensor, params: ConvParams): Tensor {
  const { strides, padding, lhsDilation, rhsDilation, groups } = params;
  const spatial = x.shape.length - 2;
  const [outChannels, inPerGroup, ...kernel] = w.shape as [number, number, ...number[]];
  const spatialAxes = range(spatial).map((i) => i + 2);
  const grouped = reshape(flip(w, spatialAxes), [groups, outChannels / groups, inPerGroup, ...kernel]);
  const swapped = transpose(grouped, [0, 2, 1, ...range(spatial).map((i) => i + 3)]);
  const kernelT = reshape(swapped, [groups * inPerGroup, outChannels / groups, ...kernel]);
  const widths: PadPair[] = range(spatial).map((i) => {
    const inDilated = dilatedSize(x.shape[i + 2] as number, lhsDilation[i] as number);
    const kernelDilated = dilatedSize(kernel[i] as number, rhsDilation[i] as number);
    const outDilated = dilatedSize(g.shape[i + 2] as number, strides[i] as number);
    const before = kernelDilated - (padding[i] as PadPair)[0] - 1;
    return [before, inDilated + kernelDilated - 1 - outDilated - before];
  });
  return conv(g, kernelT, { strides: [...lhsDilation], padding: widths, lhsDilation: [...strides], rhsDilation: [...rhsDilation], groups });
}

/**
 * Cotangent of conv's kernel: a conv whose "batch" is the input channels within a group and whose
 * "kernel" is g (dilated by the strides), the groups kept apart by a grouped conv.
 */
export function convTransposeRhs(g: Tensor, x: Tensor, w: Tensor, params: ConvParams): Tensor {
  const { strides, padding, lhsDilation, rhsDilation, groups } = params;
  const spatial = x.shape.length - 2;
  const [n, channels, ...inSpatial] = x.shape as [number, number, ...number[]];
  const inPerGroup = channels / groups;
  const spatialAxes = range(spatial).map((i) => i + 3);
  const lhs = reshape(transpose(reshape(x, [n, groups, inPerGroup, ...inSpatial]), [2, 1, 0, ...spatialAxes]), [
    inPerGroup,
    groups * n,
    ...inSpatial,
  ]);
  const kernel = transpose(g, [1, 0, ...range(spatial).map((i) => i + 2)]);
  const widths: PadPair[] = range(spatial).map((i) => {
    const inDilated = dilatedSize(inSpatial[i] as number, lhsDilation[i] as number);
    const kernelDilated = dilatedSize(w.shape[i + 2] as number, rhsDilation[i] as number);
    const outDilated = dilatedSize(g.shape[i + 2] as number, strides[i] as number);
    const lo = (padding[i] as PadPair)[0];
    return [lo, outDilated - inDilated + kernelDilated - lo - 1];
  });
  const y = conv(lhs, kernel, {
    strides: [...rhsDilation],
    padding: widths,
    lhsDilation: [...lhsDilation],
    rhsDilation: [...strides],
    groups,
  });
  return transpose(y, [1, 0, ...range(spatial).map((i) => i + 2)]);
}

type WindowParams = ParamsOf<Primitive.ReduceWindow>;

/** Transpose of a window sum: a window sum over g dilated by the strides and re-padded. */
export function windowSumTranspose(g: Tensor, x: Tensor, params: WindowParams): Tensor {
  if (sizeOf(g.shape) === 0) return zerosLike(x);
  const { window, strides, padding, dilation } = params;
  const dilated = dilate(g, strides);
  const widths: PadPair[] = x.shape.map((size, i) => {
    const windowDilated = dilatedSize(window[i] as number, dilation[i] as number);
    const before = windowDilated - 1 - (padding[i] as PadPair)[0];
    return [before, size + windowDilated - 1 - (dilated.shape[i] as number) - before];
  });
  return reduceWindow(padOrSlice(dilated, widths), {
    op: 'sum',
    window: [...window],
    strides: window.map(() => 1),
    padding: window.map(() => [0, 0] as const),
    dilation: [...dilation],
  });
}

/** Every offset inside a window, as multi-indices. */
function windowOffsets(window: readonly number[]): number[][] {
  let offsets: number[][] = [[]];
  for (const w of window) offsets = offsets.flatMap((o) => range(w).map((i) => [...o, i]));
  return offsets;
}

interface WindowPatchSpec {
  readonly starts: number[];
  readonly stops: number[];
}

function patchSpecs(params: WindowParams, out: readonly number[]): WindowPatchSpec[] {
  return windowOffsets(params.window).map((offset) => {
    const starts = offset.map((o, i) => o * (params.dilation[i] as number));
    const stops = starts.map((s, i) => ((out[i] as number) === 0 ? s : s + ((out[i] as number) - 1) * (params.strides[i] as number) + 1));
    return { starts, stops };
  });
}

/** [K, ...out]: the K = prod(window) strided views of the padded input, one per window offset. */
function stackPatches(padded: Tensor, params: WindowParams, out: readonly number[]): Tensor {
  const patches = patchSpecs(params, out).map(({ starts, stops }) => reshape(slice(padded, starts, stops, params.strides), [1, ...out]));
  return concat(patches, 0);
}

/**
 * A bool mask [K, ...out] of the first maximum within each window (the position max pooling
 * picks). The derivatives select through it rather than multiply by it: an infinite or NaN
 * cotangent must leave the other positions 0, not 0 * Infinity.
 */
function windowArgmaxMask(x: Tensor, out: Tensor, params: WindowParams): Tensor {
  const chosen = reshape(windowArgmaxOffset(x, out.shape, params), [1, ...out.shape]);
  const k = sizeOf(params.window);
  const positions = iota([k, ...out.shape], 'int32', 0, x);
  return equal(broadcast(chosen, [k, ...out.shape]), positions);
}

/** Whether the windows tile the padded input without overlap or gaps between them (stride == window, dilation 1). */
function windowsTile(params: WindowParams): boolean {
  return params.window.every((w, i) => params.strides[i] === w && params.dilation[i] === 1);
}

/**
 * [K, ...out]: the windows of a tiling geometry (see windowsTile) stacked by one transposing copy
 * of the covered input, the window axes first in row-major order.
 */
function stackTiles(padded: Tensor, window: readonly number[], out: readonly number[]): Tensor {
  const covered = out.map((o, i) => o * (window[i] as number));
  // The covered input as [..., out_i, window_i, ...], window_i only where it exceeds 1.
  const split: number[] = [];
  const outAxes: number[] = [];
  const windowAxes: number[] = [];
  out.forEach((o, i) => {
    outAxes.push(split.length);
    split.push(o);
    if ((window[i] as number) > 1) {
      windowAxes.push(split.length);
      split.push(window[i] as number);
    }
  });
  const tiles = reshape(
    slice(
      padded,
      covered.map(() => 0),
      covered,
    ),
    split,
  );
  return reshape(transpose(tiles, [...windowAxes, ...outAxes]), [sizeOf(window), ...out]);
}

/**
 * int32 [...out]: each window's first maximum as its row-major offset within the window (argmax's
 * choice: NaN counts as the maximum, and ties go to the first), the padding read as `padValue`
 * (-Infinity for floats; integer inputs need their dtype's lowest value). Windows that tile the
 * input are stacked by one transposing copy, others by one strided view per window offset.
 */
export function windowArgmaxOffset(x: Tensor, out: readonly number[], params: WindowParams, padValue = -Infinity): Tensor {
  if (sizeOf(out) === 0) return full(out, 'int32', 0, x);
  const padded = pad(x, params.padding, padValue);
  const stacked = windowsTile(params) ? stackTiles(padded, params.window, out) : stackPatches(padded, params, out);
  return argmax(stacked, 0);
}

/**
 * The flat index in the padded input of each window's first maximum (int32 of the output's
 * shape) when windows tile the padded input without overlap (stride == window, dilation 1: the
 * usual max pooling); null for any other window. Every element then belongs to at most one
 * window, so the derivatives need no per-offset slices: the windows are stacked by one
 * transposing copy for one argmax, and a gather (JVP) or a scatter-add (VJP) follows the indices.
 */
function tiledArgmax(x: Tensor, out: Tensor, params: WindowParams): Tensor | null {
  const { window, padding } = params;
  if (sizeOf(out.shape) === 0 || !windowsTile(params)) return null;
  const padded = x.shape.map((d, i) => d + (padding[i] as PadPair)[0] + (padding[i] as PadPair)[1]);
  const flatStrides = padded.map((_, i) => sizeOf(padded.slice(i + 1)));
  const starts = windowStarts(
    x,
    out.shape,
    window.map((w, i) => w * (flatStrides[i] as number)),
  );
  const size = sizeOf(window);
  if (size === 1) return starts;
  // The first maximum in row-major window order, as the general path's argmax picks it.
  const chosen = windowArgmaxOffset(x, out.shape, params);
  // Each window's first element, plus the flat offset of the chosen position within a window.
  const windowShape = window.filter((w) => w > 1);
  let offsets = full(windowShape, 'int32', 0, x);
  for (let i = 0, axis = 0; i < window.length; i++) {
    if (window[i] === 1) continue;
    offsets = add(offsets, scale(iota(windowShape, 'int32', axis++, x), flatStrides[i] as number));
  }
  return add(starts, gather(reshape(offsets, [size]), chosen, 0));
}

/**
 * sum_i index_i * steps[i] over the grid `shape` (int32), built up one axis at a time with
 * broadcasts: no intermediate is larger than the result (an iota over the whole input would be).
 */
function windowStarts(like: Tensor, shape: readonly number[], steps: readonly number[]): Tensor {
  let total: Tensor | null = null;
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i] as number;
    const term = scale(iota([n], 'int32', 0, like), steps[i] as number);
    if (total === null) {
      total = term;
      continue;
    }
    const before = total.shape;
    const grid = [...before, n];
    total = add(broadcast(reshape(total, [...before, 1]), grid), broadcast(reshape(term, [...before.map(() => 1), n]), grid));
  }
  return total ?? full([], 'int32', 0, like);
}

/** Tangent of a window max: each output takes the tangent at its window's maximum. */
export function windowMaxJvp(t: Tensor, x: Tensor, out: Tensor, params: WindowParams): Tensor {
  const flat = tiledArgmax(x, out, params);
  if (flat === null) return windowMaxJvpGeneral(t, x, out, params);
  const padded = pad(t, params.padding, 0);
  return gather(reshape(padded, [sizeOf(padded.shape)]), flat, 0);
}

/**
 * Cotangent of a window max: each output's cotangent goes to its window's maximum. A backward
 * composite (CompositeCall 'windowMaxBackward'): the backend's kernel computes it in a backward
 * pass nothing records, and jit hands the region to it; elsewhere the ops below.
 */
export function windowMaxVjp(g: Tensor, x: Tensor, out: Tensor, params: WindowParams): Tensor {
  const { window, strides, padding, dilation } = params;
  const call: CompositeCall = { name: 'windowMaxBackward', window, strides, padding, dilation };
  const fused = runFusedBackward(call, [x, g], [x]);
  if (fused !== null) return fused[0] as Tensor;
  return stageComposite(call, [x, g], () => [windowMaxVjpOps(g, x, out, params)])[0] as Tensor;
}

/** windowMaxVjp in ops: by the windows' flat argmax where windows tile the input, else per window offset. */
function windowMaxVjpOps(g: Tensor, x: Tensor, out: Tensor, params: WindowParams): Tensor {
  const flat = tiledArgmax(x, out, params);
  if (flat === null) return windowMaxVjpGeneral(g, x, out, params);
  const padded = x.shape.map((d, i) => d + (params.padding[i] as PadPair)[0] + (params.padding[i] as PadPair)[1]);
  // A broadcast zero, not a filled array: backends read it as a view, so none writes and reads
  // back a zero array the size of the input first.
  const zeros = broadcast(full([1], g.dtype, 0, g), [sizeOf(padded)]);
  const scattered = reshape(scatterAdd(zeros, flat, g, 0), padded);
  return slice(
    scattered,
    params.padding.map(([lo]) => lo),
    x.shape.map((d, i) => d + (params.padding[i] as PadPair)[0]),
  );
}

/** @internal The JVP by per-offset strided views, for any window (overlapping, dilated). */
export function windowMaxJvpGeneral(t: Tensor, x: Tensor, out: Tensor, params: WindowParams): Tensor {
  const mask = windowArgmaxMask(x, out, params);
  const patches = stackPatches(pad(t, params.padding, 0), params, out.shape);
  return reduceSum(select(mask, patches, scalarLike(patches, 0)), [0]);
}

/** @internal The VJP by per-offset strided views and their transposes, for any window. */
export function windowMaxVjpGeneral(g: Tensor, x: Tensor, out: Tensor, params: WindowParams): Tensor {
  if (sizeOf(g.shape) === 0) return zerosLike(x);
  const mask = windowArgmaxMask(x, out, params);
  const spread = broadcast(reshape(g, [1, ...g.shape]), mask.shape);
  const routed = select(mask, spread, scalarLike(spread, 0));
  const paddedShape = x.shape.map((d, i) => d + (params.padding[i] as PadPair)[0] + (params.padding[i] as PadPair)[1]);
  let total: Tensor | null = null;
  patchSpecs(params, out.shape).forEach(({ starts }, index) => {
    const piece = reshape(slice(routed, [index, ...g.shape.map(() => 0)], [index + 1, ...g.shape]), g.shape);
    const placed = sliceTranspose(piece, paddedShape, starts, params.strides);
    total = total === null ? placed : add(total, placed);
  });
  const summed = total ?? full(paddedShape, g.dtype, 0, g);
  return slice(
    summed,
    params.padding.map(([lo]) => lo),
    x.shape.map((d, i) => d + (params.padding[i] as PadPair)[0]),
  );
}

type ScanParams = ParamsOf<Primitive.Cumulative>;

/**
 * For a running max/min, the index along the axis of the element each output copies: the last
 * (first, for reverse scans) position up to it whose value equals its own running extremum.
 */
function scanSourceIndex(x: Tensor, out: Tensor, { axis, reverse }: ScanParams): Tensor {
  const n = x.shape[axis] as number;
  const positions = iota(x.shape, 'int32', axis, x);
  const attains = equal(x, out);
  const sentinel = scalarLike(positions, reverse ? n : -1);
  const candidates = select(attains, positions, sentinel);
  const source = cumulative(candidates, { op: reverse ? 'min' : 'max', axis, reverse });
  // NaN never equals itself; such positions keep their own index.
  return select(equal(source, sentinel), positions, source);
}

/** take_along_axis as a flat gather: row offsets plus the per-element index. */
function flatAlongAxis(shape: readonly number[], index: Tensor, axis: number): { flat: Tensor; size: number } {
  const n = shape[axis] as number;
  const size = sizeOf(shape);
  const moved = moveAxis(index, axis, shape.length - 1);
  const rows = size / n;
  const rowIndex = iota([rows, n], 'int32', 0, index);
  const rowOffsets = mul(rowIndex, scalarLike(rowIndex, n));
  return { flat: reshape(add(reshape(moved, [rows, n]), rowOffsets), [size]), size };
}

function takeAlongAxis(t: Tensor, index: Tensor, axis: number): Tensor {
  if (sizeOf(t.shape) === 0) return t;
  const { flat, size } = flatAlongAxis(t.shape, index, axis);
  const moved = moveAxis(t, axis, t.shape.length - 1);
  const picked = gather(reshape(moved, [size]), flat, 0);
  return moveAxis(reshape(picked, moved.shape), t.shape.length - 1, axis);
}

function takeAlongAxisTranspose(g: Tensor, index: Tensor, axis: number): Tensor {
  if (sizeOf(g.shape) === 0) return g;
  const { flat, size } = flatAlongAxis(g.shape, index, axis);
  const moved = moveAxis(g, axis, g.shape.length - 1);
  const scattered = scatterAdd(full([size], g.dtype, 0, g), flat, reshape(moved, [size]), 0);
  return moveAxis(reshape(scattered, moved.shape), g.shape.length - 1, axis);
}

export function scanJvp(t: Tensor, x: Tensor, out: Tensor, params: ScanParams): Tensor {
  switch (params.op) {
    case 'sum':
      return cumulative(t, params);
    case 'prod':
      // d(prod_{j<=i} x_j) = out_i * sum_{j<=i} t_j / x_j (inputs away from zero; see docs/autodiff.md).
      return mul(out, cumulative(div(t, x), { ...params, op: 'sum' }));
    default:
      return takeAlongAxis(t, scanSourceIndex(x, out, params), params.axis);
  }
}

export function scanVjp(g: Tensor, x: Tensor, out: Tensor, params: ScanParams): Tensor {
  const transposed: ScanParams = { op: 'sum', axis: params.axis, reverse: !params.reverse };
  switch (params.op) {
    case 'sum':
      return cumulative(g, transposed);
    case 'prod':
      return div(cumulative(mul(g, out), transposed), x);
    default:
      return takeAlongAxisTranspose(g, scanSourceIndex(x, out, params), params.axis);
  }
}

/** Random primitives with a batch of keys: one draw per key, stacked (counter-based, so exact). */
export function batchRandom<P extends Primitive.RandomBits | Primitive.RandomUniform>(
  primitive: P,
  keys: Tensor,
  params: ParamsOf<P>,
): Tensor {
  const count = keys.shape[0] as number;
  const draws = range(count).map((b) => {
    const key = reshape(slice(keys, [b, 0], [b + 1, 2]), [2]);
    const drawn = bind(primitive, [key], params);
    return reshape(drawn, [1, ...drawn.shape]);
  });
  if (draws.length === 0) {
    const dtype = primitive === Primitive.RandomBits ? 'int32' : (params as ParamsOf<Primitive.RandomUniform>).dtype;
    return full([0, ...params.shape], dtype, 0, keys);
  }
  return concat(draws, 0);
}
