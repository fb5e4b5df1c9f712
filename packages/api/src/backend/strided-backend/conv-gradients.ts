import type { Aval } from '../../core/aval.js';
import { contiguousStrides } from '../../core/shape.js';
import type { ParamsOf, Primitive } from '../../primitives/primitive.js';
import { isContiguous } from './handle.js';

// Autodiff writes a convolution's gradients as convolutions too (the api's convTransposeLhs and
// convTransposeRhs in primitives/linalg-derivatives.ts), over views of the forward's operands:
// the filter gradient convolves x and dy with their batch and channel dims swapped, the input
// gradient convolves dy with the filter flipped and its channel dims swapped. Here those
// convolutions are recognised by their operands' layouts, as XLA's GPU backend rewrites its
// gradient convolutions into cuDNN calls, so that a backend can hand them to its vendor library's
// backward passes (cuDNN's, oneDNN's), which are made for them: the filter gradient as a forward
// convolution has a filter as large as the image and a tiny output, and the input gradient of a
// strided convolution needs input dilation, which forward passes do not take. The rewrite is
// exact for any convolution of that shape, whatever produced it: each pattern below is the
// forward convolution's backward pass by algebra.

/** A strided view: the backends' handles are, and the layouts these functions return. */
export interface ViewLayout {
  readonly offset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/**
 * A backward pass: its first operand (x for the filter pass, w for the data pass) and dy, as
 * views of the convolution's operands' storages (the first contiguous), and the forward
 * convolution's geometry [groups, ...strides, ...pads (symmetric), ...dilations, ...sizes],
 * `sizes` being the filter's spatial dims (filter pass) or the input's (data pass).
 */
export interface BackwardConvolution {
  readonly first: ViewLayout;
  readonly dy: ViewLayout;
  readonly geometry: readonly number[];
}

const swapped = <T>(values: readonly T[]): T[] => [values[1] as T, values[0] as T, ...values.slice(2)];

/** The tensor a view with dims 0 and 1 swapped shows, when that tensor is contiguous. */
function unswapped(h: ViewLayout): ViewLayout | null {
  const shape = swapped(h.shape);
  const strides = swapped(h.strides);
  return isContiguous(shape, strides) ? { offset: h.offset, shape, strides } : null;
}

/** The view a view shows flipped in every spatial dim (each of more than one element has a negative stride), or null. */
function unflipped(h: ViewLayout): ViewLayout | null {
  const strides = [...h.strides];
  let offset = h.offset;
  for (let d = 2; d < h.shape.length; d++) {
    const size = h.shape[d] as number;
    if (size === 1) continue;
    const stride = strides[d] as number;
    if (stride >= 0) return null;
    offset += (size - 1) * stride;
    strides[d] = -stride;
  }
  return { offset, shape: h.shape, strides };
}

/** The filter a view shows flipped in its spatial dims and with dims 0 and 1 swapped, when that filter is contiguous. */
function unflippedUnswapped(h: ViewLayout): ViewLayout | null {
  const filter = unflipped(h);
  return filter === null ? null : unswapped(filter);
}

/** The forward output size of one spatial dim, or -1 when the filter does not fit. */
function forwardSize(input: number, filter: number, pad: number, stride: number, dilation: number): number {
  const span = input + 2 * pad - ((filter - 1) * dilation + 1);
  return span < 0 ? -1 : Math.floor(span / stride) + 1;
}

const spatialVolume = (shape: readonly number[]): number => shape.slice(2).reduce((a, b) => a * b, 1);

/** Whether the libraries' backward passes could take the convolution at all: 2 or 3 spatial dims, nothing empty. */
function candidate(x: ViewLayout, w: ViewLayout, out: Aval): boolean {
  const spatial = x.shape.length - 2;
  const nonEmpty = (shape: readonly number[]) => shape.every((d) => d > 0);
  return (spatial === 2 || spatial === 3) && nonEmpty(x.shape) && nonEmpty(w.shape) && nonEmpty(out.shape);
}

/**
 * The filter w [K, C / groups, ...] of a grouped forward whose flipped, channel-swapped filter
 * (autodiff's [C, K / groups, ...]) a view shows, when that view is w's memory itself: the
 * reshapes autodiff makes stay views only with one channel per group on one side (depthwise
 * convolutions, and their channel multipliers), and then w is that memory unflipped, contiguous.
 */
function groupedFilter(h: ViewLayout, groups: number): ViewLayout | null {
  const [inChannels, outPerGroup] = h.shape as [number, number];
  const inPerGroup = inChannels / groups;
  if (outPerGroup !== 1 && inPerGroup !== 1) return null;
  const filter = unflipped(h);
  if (filter === null || !isContiguous(filter.shape, filter.strides)) return null;
  const shape = [groups * outPerGroup, inPerGroup, ...h.shape.slice(2)];
  return { offset: filter.offset, shape, strides: contiguousStrides(shape) };
}

/**
 * conv(lhs, rhs) as a filter gradient: lhs is x [N, C, ...] seen as [C, N, ...], rhs is dy
 * [N, K, ...] seen as [K, N, ...], and the output [C, K, ...filter] is dw [K, C, ...filter] seen
 * with dims 0 and 1 swapped. The forward's stride is this convolution's kernel dilation and its
 * dilation this one's stride; its padding is this one's low padding (cuDNN's is symmetric: the
 * high side only decides which dy positions exist, and dy's size is checked against it).
 */
export function asFilterGradient(
  lhs: ViewLayout,
  rhs: ViewLayout,
  params: ParamsOf<Primitive.Conv>,
  out: Aval,
): BackwardConvolution | null {
  if (params.groups !== 1 || !candidate(lhs, rhs, out) || params.lhsDilation.some((d) => d !== 1)) return null;
  // A filter gradient's "filter" is dy, at least as large as its output (the filter): a forward
  // convolution with one input channel (whose x is contiguous with N and C swapped) is the
  // opposite, and stays on the forward pass, made for it.
  if (spatialVolume(out.shape) > spatialVolume(rhs.shape)) return null;
  const x = unswapped(lhs);
  const dy = unswapped(rhs);
  if (x === null || dy === null) return null;
  const spatial = lhs.shape.length - 2;
  const geometry: number[][] = [[], [], [], []];
  for (let d = 0; d < spatial; d++) {
    const [stride, dilation, pad, filter] = [
      params.rhsDilation[d],
      params.strides[d],
      params.padding[d]?.[0],
      out.shape[2 + d],
    ] as number[];
    if ((pad as number) < 0) return null;
    if (forwardSize(x.shape[2 + d] as number, filter as number, pad as number, stride as number, dilation as number) !== dy.shape[2 + d])
      return null;
    geometry[0]?.push(stride as number);
    geometry[1]?.push(pad as number);
    geometry[2]?.push(dilation as number);
    geometry[3]?.push(filter as number);
  }
  return { first: x, dy, geometry: [1, ...geometry.flat()] };
}

/**
 * conv(lhs, rhs) as an input gradient: lhs is dy [N, K, ...] (any view: the backend packs it
 * if its library needs it dense; a loss's broadcast cotangent often is not) dilated by the
 * forward's stride, rhs is the filter w [K, C, ...] flipped and seen as [C, K, ...] (grouped:
 * [C, K / groups, ...], see groupedFilter), and the output is dx [N, C, ...]. The forward's padding is the dilated filter's extent less one less
 * this convolution's low padding; its dilation is this one's kernel dilation.
 */
export function asDataGradient(lhs: ViewLayout, rhs: ViewLayout, params: ParamsOf<Primitive.Conv>, out: Aval): BackwardConvolution | null {
  if (!candidate(lhs, rhs, out) || params.strides.some((s) => s !== 1)) return null;
  // A contiguous filter is a forward convolution's own (a 1x1 one with one channel in or out
  // also reads as flipped and swapped): it stays on the forward pass.
  if (isContiguous(rhs.shape, rhs.strides)) return null;
  const w = params.groups === 1 ? unflippedUnswapped(rhs) : groupedFilter(rhs, params.groups);
  if (w === null) return null;
  const spatial = lhs.shape.length - 2;
  const geometry: number[][] = [[], [], [], []];
  for (let d = 0; d < spatial; d++) {
    const [stride, dilation, low, input, filter] = [
      params.lhsDilation[d],
      params.rhsDilation[d],
      params.padding[d]?.[0],
      out.shape[2 + d],
      w.shape[2 + d],
    ] as number[];
    const pad = ((filter as number) - 1) * (dilation as number) - (low as number);
    if (pad < 0) return null;
    if (forwardSize(input as number, filter as number, pad, stride as number, dilation as number) !== lhs.shape[2 + d]) return null;
    geometry[0]?.push(stride as number);
    geometry[1]?.push(pad);
    geometry[2]?.push(dilation as number);
    geometry[3]?.push(input as number);
  }
  return { first: w, dy: { offset: lhs.offset, shape: lhs.shape, strides: lhs.strides }, geometry: [params.groups, ...geometry.flat()] };
}
