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
 * A backward pass: its first operand and dy, as views of the convolution's operands' storages,
 * and the forward convolution's geometry [groups, ...strides, ...pads (symmetric),
 * ...dilations, ...sizes], `sizes` being the filter's spatial dims (filter pass) or the input's
 * (data pass). dy is x [N, K, ...] contiguous for the filter pass, any view for the data pass.
 * The first operand is x (filter pass) seen as [N, groups, C / groups, ...], or the filter w
 * (data pass) seen as [groups, K / groups, C / groups, ...]: the backend packs it when it is not
 * contiguous (autodiff's reshapes copied a grouped operand with its channels regrouped), and
 * hands its library operandOf(pass, packed), the two group dims merged.
 */
export interface BackwardConvolution {
  readonly pass: 'filter' | 'data';
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

/**
 * The forward filter w [K, C / groups, ...] that an input gradient's filter operand rhs
 * [C, K / groups, ...] shows flipped in its spatial dims and with its channels swapped within
 * each group, as the view [groups, K / groups, C / groups, ...] of rhs's memory that reads it
 * (splitting rhs's dim 0 into groups is always a view). Where autodiff's operand is a view of w
 * (a plain or depthwise filter) this view is w itself, contiguous; where autodiff's reshape had to
 * copy (more than one channel per group on both sides), or the operand was never flipped, it is
 * not, and the backend packs it: a copy of the filter, which is small.
 */
function forwardFilter(rhs: ViewLayout, groups: number): ViewLayout {
  const [inChannels, outPerGroup, ...kernel] = rhs.shape as [number, number, ...number[]];
  const [inStride, outStride, ...kernelStrides] = rhs.strides as [number, number, ...number[]];
  const inPerGroup = inChannels / groups;
  let offset = rhs.offset;
  kernel.forEach((size, d) => {
    offset += (size - 1) * (kernelStrides[d] as number);
  });
  return {
    offset,
    shape: [groups, outPerGroup, inPerGroup, ...kernel],
    strides: [inPerGroup * inStride, outStride, inStride, ...kernelStrides.map((stride) => -stride)],
  };
}

/**
 * A backward pass's first operand as its library reads it, [N, C, ...] (filter pass) or
 * [K, C / groups, ...] (data pass): `first` once it is contiguous (as found, or packed by the
 * backend), its two group dims merged.
 */
export function operandOf(pass: BackwardConvolution, first: ViewLayout = pass.first): ViewLayout {
  const at = pass.pass === 'filter' ? 1 : 0;
  const shape = [...first.shape.slice(0, at), (first.shape[at] as number) * (first.shape[at + 1] as number), ...first.shape.slice(at + 2)];
  return { offset: first.offset, shape, strides: contiguousStrides(shape) };
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
 * The input x [N, C, ...] that a filter gradient's lhs [C / groups, groups * N, ...] shows (x's
 * batch and channel dims swapped, and for a grouped convolution each group's images after the
 * previous group's), as the view [N, groups, C / groups, ...] of lhs's memory that reads it. One
 * group: x itself when autodiff's operand is a view of it (contiguous). Grouped: autodiff's
 * reshape copied x, and this view of the copy is not contiguous: the backend packs it, a copy
 * of x (cheaper than the forward convolution with a filter as large as the image that the
 * convolution is otherwise).
 */
function forwardInput(lhs: ViewLayout, groups: number): ViewLayout {
  const [inPerGroup, columns, ...spatial] = lhs.shape as [number, number, ...number[]];
  const [channelStride, batchStride, ...spatialStrides] = lhs.strides as [number, number, ...number[]];
  const batch = columns / groups;
  return {
    offset: lhs.offset,
    shape: [batch, groups, inPerGroup, ...spatial],
    strides: [batchStride, batch * batchStride, channelStride, ...spatialStrides],
  };
}

/**
 * conv(lhs, rhs) as a filter gradient: lhs is x [N, C, ...] seen as [C, N, ...] (grouped:
 * [C / groups, groups * N, ...], see forwardInput), rhs is dy [N, K, ...] seen as [K, N, ...],
 * and the output [C / groups, K, ...filter] is dw [K, C / groups, ...filter] seen with dims 0 and
 * 1 swapped. The forward's stride is this convolution's kernel dilation and its dilation this
 * one's stride; its padding is this one's low padding (cuDNN's is symmetric: the high side only
 * decides which dy positions exist, and dy's size is checked against it).
 */
export function asFilterGradient(
  lhs: ViewLayout,
  rhs: ViewLayout,
  params: ParamsOf<Primitive.Conv>,
  out: Aval,
): BackwardConvolution | null {
  if (!candidate(lhs, rhs, out) || params.lhsDilation.some((d) => d !== 1)) return null;
  // A filter gradient's "filter" is dy, at least as large as its output (the filter): a forward
  // convolution with one input channel (whose x is contiguous with N and C swapped) is the
  // opposite, and stays on the forward pass, made for it.
  if (spatialVolume(out.shape) > spatialVolume(rhs.shape)) return null;
  const x = forwardInput(lhs, params.groups);
  const dy = unswapped(rhs);
  // One group: x must be autodiff's view (a forward convolution's operands seldom read so, but
  // where they do, packing x would cost more than the forward pass saves).
  if (dy === null || (params.groups === 1 && !isContiguous(x.shape, x.strides))) return null;
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
    if (forwardSize(x.shape[3 + d] as number, filter as number, pad as number, stride as number, dilation as number) !== dy.shape[2 + d])
      return null;
    geometry[0]?.push(stride as number);
    geometry[1]?.push(pad as number);
    geometry[2]?.push(dilation as number);
    geometry[3]?.push(filter as number);
  }
  return { pass: 'filter', first: x, dy, geometry: [params.groups, ...geometry.flat()] };
}

/**
 * A filter pass's result as the convolution's output: the library writes dw
 * [K, C / groups, ...filter] (its shape here, `filterPassShape`), the convolution returns its
 * view [C / groups, K, ...filter], dims 0 and 1 swapped.
 */
export function filterPassShape(out: Aval): number[] {
  return swapped(out.shape);
}

/** dw (of `filterPassShape`) viewed as the convolution's output. */
export function filterPassOutput<H extends ViewLayout>(dw: H): H {
  return { ...dw, shape: swapped(dw.shape), strides: swapped(dw.strides) };
}

/**
 * conv(lhs, rhs) as an input gradient: lhs is dy [N, K, ...] (any view: the backend packs it
 * if its library needs it dense; a loss's broadcast cotangent often is not) dilated by the
 * forward's stride, rhs is the filter w [K, C / groups, ...] flipped and seen as
 * [C, K / groups, ...] (see forwardFilter), and the output is dx [N, C, ...]. The forward's
 * padding is the dilated filter's extent less one less this convolution's low padding; its
 * dilation is this one's kernel dilation.
 */
export function asDataGradient(lhs: ViewLayout, rhs: ViewLayout, params: ParamsOf<Primitive.Conv>, out: Aval): BackwardConvolution | null {
  if (!candidate(lhs, rhs, out) || params.strides.some((s) => s !== 1)) return null;
  // A data pass's filter is smaller than its output, the image: a convolution whose "filter" is
  // larger (a transposed convolution's filter gradient, whose rhs is dy and which has input
  // dilation too) would read as a data pass with a filter as large as the image, which oneDNN
  // ran 20 to 180 times slower than the portable kernel (review).
  if (spatialVolume(rhs.shape) > spatialVolume(out.shape)) return null;
  const w = forwardFilter(rhs, params.groups);
  // Without input dilation (a stride-1 forward) the forward pass does the same work: a filter
  // that would have to be packed stays there, and so does a contiguous operand, a forward
  // convolution's own filter (a 1x1 one with one channel in or out also reads as flipped and
  // swapped). With input dilation, which forward passes do not take, the data pass is the fast
  // way whatever the filter costs to pack (a strided grouped convolution's input gradient, a
  // grouped transposed convolution).
  const inMemory = isContiguous(w.shape, w.strides);
  if (params.lhsDilation.every((d) => d === 1) && (!inMemory || isContiguous(rhs.shape, rhs.strides))) return null;
  const spatial = lhs.shape.length - 2;
  const geometry: number[][] = [[], [], [], []];
  for (let d = 0; d < spatial; d++) {
    const [stride, dilation, low, input, filter] = [
      params.lhsDilation[d],
      params.rhsDilation[d],
      params.padding[d]?.[0],
      out.shape[2 + d],
      rhs.shape[2 + d],
    ] as number[];
    const pad = ((filter as number) - 1) * (dilation as number) - (low as number);
    if (pad < 0) return null;
    if (forwardSize(input as number, filter as number, pad, stride as number, dilation as number) !== lhs.shape[2 + d]) return null;
    geometry[0]?.push(stride as number);
    geometry[1]?.push(pad);
    geometry[2]?.push(dilation as number);
    geometry[3]?.push(input as number);
  }
  return {
    pass: 'data',
    first: w,
    dy: { offset: lhs.offset, shape: lhs.shape, strides: lhs.strides },
    geometry: [params.groups, ...geometry.flat()],
  };
}
