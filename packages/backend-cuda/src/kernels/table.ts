import { type Aval, type KernelTable, Primitive } from '@flint/api';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';
import type { Engine } from '../native/codes.js';
import { convKernel } from './conv.js';
import { fullKernel, iotaKernel } from './creation.js';
import { dotGeneralKernel } from './dot.js';
import { binaryKernel, castKernel, unaryKernel, whereKernel } from './elementwise.js';
import { gatherKernel, scatterAddKernel } from './gather.js';
import { broadcastKernel, concatKernel, flipKernel, padKernel, reshapeKernel, sliceKernel, transposeKernel } from './movement.js';
import { randomBitsKernel, randomUniformKernel } from './random.js';
import { argReduceKernel, argsortKernel, cumulativeKernel, reduceKernel } from './reduce.js';
import { reduceWindowKernel } from './window.js';

/** Choices the kernels read at each call (set through the backend). */
export interface KernelOptions {
  readonly matmulEngine: () => Engine;
  readonly convEngine: () => Engine;
  readonly cudnnPresent: () => boolean;
}

type Simple = (context: CudaContext, inputs: readonly CudaHandle[], out: Aval) => CudaHandle;

/**
 * The CUDA backend's kernel for every primitive, bound to one context. The mapped KernelTable
 * type makes a primitive without a kernel a compile error.
 */
export function cudaKernels(context: CudaContext, options: KernelOptions): KernelTable<CudaHandle> {
  const simple =
    (kernel: Simple) =>
    (inputs: readonly CudaHandle[], _params: unknown, out: Aval): CudaHandle =>
      kernel(context, inputs, out);
  const withParams =
    <Params>(kernel: (context: CudaContext, inputs: readonly CudaHandle[], params: Params, out: Aval) => CudaHandle) =>
    (inputs: readonly CudaHandle[], params: Params, out: Aval): CudaHandle =>
      kernel(context, inputs, params, out);
  return {
    [Primitive.Neg]: simple(unaryKernel(Primitive.Neg)),
    [Primitive.Abs]: simple(unaryKernel(Primitive.Abs)),
    [Primitive.Sign]: simple(unaryKernel(Primitive.Sign)),
    [Primitive.Exp]: simple(unaryKernel(Primitive.Exp)),
    [Primitive.Log]: simple(unaryKernel(Primitive.Log)),
    [Primitive.Log1p]: simple(unaryKernel(Primitive.Log1p)),
    [Primitive.Expm1]: simple(unaryKernel(Primitive.Expm1)),
    [Primitive.Sqrt]: simple(unaryKernel(Primitive.Sqrt)),
    [Primitive.Rsqrt]: simple(unaryKernel(Primitive.Rsqrt)),
    [Primitive.Sin]: simple(unaryKernel(Primitive.Sin)),
    [Primitive.Cos]: simple(unaryKernel(Primitive.Cos)),
    [Primitive.Tan]: simple(unaryKernel(Primitive.Tan)),
    [Primitive.Tanh]: simple(unaryKernel(Primitive.Tanh)),
    [Primitive.Logistic]: simple(unaryKernel(Primitive.Logistic)),
    [Primitive.Erf]: simple(unaryKernel(Primitive.Erf)),
    [Primitive.Floor]: simple(unaryKernel(Primitive.Floor)),
    [Primitive.Ceil]: simple(unaryKernel(Primitive.Ceil)),
    [Primitive.Round]: simple(unaryKernel(Primitive.Round)),
    [Primitive.Reciprocal]: simple(unaryKernel(Primitive.Reciprocal)),
    [Primitive.Not]: simple(unaryKernel(Primitive.Not)),
    [Primitive.Add]: simple(binaryKernel(Primitive.Add)),
    [Primitive.Sub]: simple(binaryKernel(Primitive.Sub)),
    [Primitive.Mul]: simple(binaryKernel(Primitive.Mul)),
    [Primitive.Div]: simple(binaryKernel(Primitive.Div)),
    [Primitive.Pow]: simple(binaryKernel(Primitive.Pow)),
    [Primitive.Max]: simple(binaryKernel(Primitive.Max)),
    [Primitive.Min]: simple(binaryKernel(Primitive.Min)),
    [Primitive.Mod]: simple(binaryKernel(Primitive.Mod)),
    [Primitive.FloorDivide]: simple(binaryKernel(Primitive.FloorDivide)),
    [Primitive.Equal]: simple(binaryKernel(Primitive.Equal)),
    [Primitive.NotEqual]: simple(binaryKernel(Primitive.NotEqual)),
    [Primitive.Less]: simple(binaryKernel(Primitive.Less)),
    [Primitive.LessEqual]: simple(binaryKernel(Primitive.LessEqual)),
    [Primitive.Greater]: simple(binaryKernel(Primitive.Greater)),
    [Primitive.GreaterEqual]: simple(binaryKernel(Primitive.GreaterEqual)),
    [Primitive.And]: simple(binaryKernel(Primitive.And)),
    [Primitive.Or]: simple(binaryKernel(Primitive.Or)),
    [Primitive.Where]: simple(whereKernel),
    [Primitive.Cast]: withParams(castKernel),
    [Primitive.ReduceSum]: withParams(reduceKernel(Primitive.ReduceSum)),
    [Primitive.ReduceMax]: withParams(reduceKernel(Primitive.ReduceMax)),
    [Primitive.ReduceMin]: withParams(reduceKernel(Primitive.ReduceMin)),
    [Primitive.ReduceProd]: withParams(reduceKernel(Primitive.ReduceProd)),
    [Primitive.Argmax]: withParams(argReduceKernel(Primitive.Argmax)),
    [Primitive.Argmin]: withParams(argReduceKernel(Primitive.Argmin)),
    [Primitive.Reshape]: simple(reshapeKernel),
    [Primitive.Transpose]: (inputs, params) => transposeKernel(inputs, params),
    [Primitive.Broadcast]: (inputs, params) => broadcastKernel(inputs, params),
    [Primitive.Slice]: (inputs, params, out) => sliceKernel(inputs, params, out),
    [Primitive.Pad]: withParams(padKernel),
    [Primitive.Concat]: withParams(concatKernel),
    [Primitive.Flip]: (inputs, params) => flipKernel(inputs, params),
    [Primitive.Gather]: withParams(gatherKernel),
    [Primitive.ScatterAdd]: withParams(scatterAddKernel),
    [Primitive.DotGeneral]: withParams(dotGeneralKernel(options.matmulEngine)),
    [Primitive.Conv]: withParams(convKernel(options.convEngine, options.cudnnPresent)),
    [Primitive.ReduceWindow]: withParams(reduceWindowKernel),
    [Primitive.Cumulative]: withParams(cumulativeKernel),
    [Primitive.Argsort]: withParams(argsortKernel),
    [Primitive.Iota]: (_inputs, params, out) => iotaKernel(context, params, out),
    [Primitive.Full]: (_inputs, params, out) => fullKernel(context, params, out),
    [Primitive.RandomBits]: withParams(randomBitsKernel),
    [Primitive.RandomUniform]: withParams(randomUniformKernel),
  };
}
