import type { Aval } from '../../core/aval.js';
import { type BinaryPrimitive, type ParamsOf, Primitive, type ReducePrimitive, type UnaryPrimitive } from '../../primitives/primitive.js';
import type { KernelTable } from '../spi.js';
import type { SharedStorage, StridedHandle } from './handle.js';
import { broadcastKernel, flipKernel, reshapeKernel, sliceKernel, transposeKernel } from './views.js';

/** A kernel without params that reads the backend's context. */
export type ContextKernel<C, H> = (context: C, inputs: readonly H[], out: Aval) => H;

/** A kernel with primitive `P`'s params that reads the backend's context. */
export type ContextParamsKernel<C, H, P extends Primitive> = (context: C, inputs: readonly H[], params: ParamsOf<P>, out: Aval) => H;

/** A kernel that creates its output from params alone (Iota, Full). */
export type CreationKernel<C, H, P extends Primitive> = (context: C, params: ParamsOf<P>, out: Aval) => H;

/**
 * The kernels an asynchronous strided backend writes itself; the movement views (Transpose,
 * Broadcast, Slice, Flip, Reshape when the strides allow) come from the shared module.
 */
export interface StridedKernels<C, S extends SharedStorage> {
  readonly unary: (op: UnaryPrimitive) => ContextKernel<C, StridedHandle<S>>;
  readonly binary: (op: BinaryPrimitive) => ContextKernel<C, StridedHandle<S>>;
  readonly where: ContextKernel<C, StridedHandle<S>>;
  readonly cast: ContextParamsKernel<C, StridedHandle<S>, Primitive.Cast>;
  readonly reduce: (op: ReducePrimitive) => ContextParamsKernel<C, StridedHandle<S>, ReducePrimitive>;
  readonly argReduce: (op: Primitive.Argmax | Primitive.Argmin) => ContextParamsKernel<C, StridedHandle<S>, Primitive.Argmax>;
  /** A fresh storage (one reference) of the view's elements in row-major order, for Reshape. */
  readonly packContiguous: (context: C, x: StridedHandle<S>) => S;
  readonly pad: ContextParamsKernel<C, StridedHandle<S>, Primitive.Pad>;
  readonly concat: ContextParamsKernel<C, StridedHandle<S>, Primitive.Concat>;
  readonly gather: ContextParamsKernel<C, StridedHandle<S>, Primitive.Gather>;
  readonly scatterAdd: ContextParamsKernel<C, StridedHandle<S>, Primitive.ScatterAdd>;
  readonly dotGeneral: ContextParamsKernel<C, StridedHandle<S>, Primitive.DotGeneral>;
  readonly conv: ContextParamsKernel<C, StridedHandle<S>, Primitive.Conv>;
  readonly reduceWindow: ContextParamsKernel<C, StridedHandle<S>, Primitive.ReduceWindow>;
  readonly cumulative: ContextParamsKernel<C, StridedHandle<S>, Primitive.Cumulative>;
  readonly argsort: ContextParamsKernel<C, StridedHandle<S>, Primitive.Argsort>;
  readonly iota: CreationKernel<C, StridedHandle<S>, Primitive.Iota>;
  readonly full: CreationKernel<C, StridedHandle<S>, Primitive.Full>;
  readonly randomBits: ContextParamsKernel<C, StridedHandle<S>, Primitive.RandomBits>;
  readonly randomUniform: ContextParamsKernel<C, StridedHandle<S>, Primitive.RandomUniform>;
}

/**
 * A strided backend's kernel for every primitive, bound to one context. The mapped KernelTable
 * type, filled here once, makes a primitive without a kernel a compile error for every backend.
 *
 * @example
 * ```ts
 * const kernels = stridedKernelTable(context, { unary: unaryKernel, binary: binaryKernel, ... });
 * ```
 */
export function stridedKernelTable<C, S extends SharedStorage>(context: C, kernels: StridedKernels<C, S>): KernelTable<StridedHandle<S>> {
  type H = StridedHandle<S>;
  const simple =
    (kernel: ContextKernel<C, H>) =>
    (inputs: readonly H[], _params: unknown, out: Aval): H =>
      kernel(context, inputs, out);
  const withParams =
    <Params>(kernel: (context: C, inputs: readonly H[], params: Params, out: Aval) => H) =>
    (inputs: readonly H[], params: Params, out: Aval): H =>
      kernel(context, inputs, params, out);
  const { unary, binary, reduce, argReduce } = kernels;
  return {
    [Primitive.Neg]: simple(unary(Primitive.Neg)),
    [Primitive.Abs]: simple(unary(Primitive.Abs)),
    [Primitive.Sign]: simple(unary(Primitive.Sign)),
    [Primitive.Exp]: simple(unary(Primitive.Exp)),
    [Primitive.Log]: simple(unary(Primitive.Log)),
    [Primitive.Log1p]: simple(unary(Primitive.Log1p)),
    [Primitive.Expm1]: simple(unary(Primitive.Expm1)),
    [Primitive.Sqrt]: simple(unary(Primitive.Sqrt)),
    [Primitive.Rsqrt]: simple(unary(Primitive.Rsqrt)),
    [Primitive.Sin]: simple(unary(Primitive.Sin)),
    [Primitive.Cos]: simple(unary(Primitive.Cos)),
    [Primitive.Tan]: simple(unary(Primitive.Tan)),
    [Primitive.Asin]: simple(unary(Primitive.Asin)),
    [Primitive.Acos]: simple(unary(Primitive.Acos)),
    [Primitive.Atan]: simple(unary(Primitive.Atan)),
    [Primitive.Tanh]: simple(unary(Primitive.Tanh)),
    [Primitive.Logistic]: simple(unary(Primitive.Logistic)),
    [Primitive.Erf]: simple(unary(Primitive.Erf)),
    [Primitive.Floor]: simple(unary(Primitive.Floor)),
    [Primitive.Ceil]: simple(unary(Primitive.Ceil)),
    [Primitive.Round]: simple(unary(Primitive.Round)),
    [Primitive.Reciprocal]: simple(unary(Primitive.Reciprocal)),
    [Primitive.Not]: simple(unary(Primitive.Not)),
    [Primitive.Relu]: simple(unary(Primitive.Relu)),
    [Primitive.Add]: simple(binary(Primitive.Add)),
    [Primitive.Sub]: simple(binary(Primitive.Sub)),
    [Primitive.Mul]: simple(binary(Primitive.Mul)),
    [Primitive.Div]: simple(binary(Primitive.Div)),
    [Primitive.Pow]: simple(binary(Primitive.Pow)),
    [Primitive.Atan2]: simple(binary(Primitive.Atan2)),
    [Primitive.Max]: simple(binary(Primitive.Max)),
    [Primitive.Min]: simple(binary(Primitive.Min)),
    [Primitive.Mod]: simple(binary(Primitive.Mod)),
    [Primitive.FloorDivide]: simple(binary(Primitive.FloorDivide)),
    [Primitive.Equal]: simple(binary(Primitive.Equal)),
    [Primitive.NotEqual]: simple(binary(Primitive.NotEqual)),
    [Primitive.Less]: simple(binary(Primitive.Less)),
    [Primitive.LessEqual]: simple(binary(Primitive.LessEqual)),
    [Primitive.Greater]: simple(binary(Primitive.Greater)),
    [Primitive.GreaterEqual]: simple(binary(Primitive.GreaterEqual)),
    [Primitive.And]: simple(binary(Primitive.And)),
    [Primitive.Or]: simple(binary(Primitive.Or)),
    [Primitive.ReluGrad]: simple(binary(Primitive.ReluGrad)),
    [Primitive.Where]: simple(kernels.where),
    [Primitive.Cast]: withParams(kernels.cast),
    [Primitive.ReduceSum]: withParams(reduce(Primitive.ReduceSum)),
    [Primitive.ReduceMax]: withParams(reduce(Primitive.ReduceMax)),
    [Primitive.ReduceMin]: withParams(reduce(Primitive.ReduceMin)),
    [Primitive.ReduceProd]: withParams(reduce(Primitive.ReduceProd)),
    [Primitive.Argmax]: withParams(argReduce(Primitive.Argmax)),
    [Primitive.Argmin]: withParams(argReduce(Primitive.Argmin)),
    [Primitive.Reshape]: simple(reshapeKernel(kernels.packContiguous)),
    [Primitive.Transpose]: (inputs, params) => transposeKernel(inputs, params),
    [Primitive.Broadcast]: (inputs, params) => broadcastKernel(inputs, params),
    [Primitive.Slice]: (inputs, params, out) => sliceKernel(inputs, params, out),
    [Primitive.Pad]: withParams(kernels.pad),
    [Primitive.Concat]: withParams(kernels.concat),
    [Primitive.Flip]: (inputs, params) => flipKernel(inputs, params),
    [Primitive.Gather]: withParams(kernels.gather),
    [Primitive.ScatterAdd]: withParams(kernels.scatterAdd),
    [Primitive.DotGeneral]: withParams(kernels.dotGeneral),
    [Primitive.Conv]: withParams(kernels.conv),
    [Primitive.ReduceWindow]: withParams(kernels.reduceWindow),
    [Primitive.Cumulative]: withParams(kernels.cumulative),
    [Primitive.Argsort]: withParams(kernels.argsort),
    [Primitive.Iota]: (_inputs, params, out) => kernels.iota(context, params, out),
    [Primitive.Full]: (_inputs, params, out) => kernels.full(context, params, out),
    [Primitive.RandomBits]: withParams(kernels.randomBits),
    [Primitive.RandomUniform]: withParams(kernels.randomUniform),
  };
}
