import { type KernelTable, Primitive } from '@flint/api';
import type { MklHandle } from '../handle.js';
import type { KernelContext } from './context.js';
import { convKernel } from './conv.js';
import { dotGeneralKernel } from './dot.js';
import { binaryKernel, unaryKernel } from './elementwise.js';
import { argReduceKernel, castKernel, fullKernel, gatherKernel, reshapeKernel, scatterAddKernel, whereKernel } from './indexing.js';
import { reduceKernel } from './reduce.js';
import { reduceWindowKernel } from './window.js';

/**
 * The mkl backend's kernels: native ones where the addon has them, and the portable kernels (on
 * the same handles) for the rest: movement (views), indexing, scans, sorting, creation, random
 * bits, casts, integer and bool arithmetic, and configurations the native kernels decline.
 */
export function mklKernels(context: KernelContext): KernelTable<MklHandle> {
  return {
    ...context.fallback,
    [Primitive.Neg]: unaryKernel(Primitive.Neg, context),
    [Primitive.Abs]: unaryKernel(Primitive.Abs, context),
    [Primitive.Sign]: unaryKernel(Primitive.Sign, context),
    [Primitive.Exp]: unaryKernel(Primitive.Exp, context),
    [Primitive.Log]: unaryKernel(Primitive.Log, context),
    [Primitive.Log1p]: unaryKernel(Primitive.Log1p, context),
    [Primitive.Expm1]: unaryKernel(Primitive.Expm1, context),
    [Primitive.Sqrt]: unaryKernel(Primitive.Sqrt, context),
    [Primitive.Rsqrt]: unaryKernel(Primitive.Rsqrt, context),
    [Primitive.Sin]: unaryKernel(Primitive.Sin, context),
    [Primitive.Cos]: unaryKernel(Primitive.Cos, context),
    [Primitive.Tan]: unaryKernel(Primitive.Tan, context),
    [Primitive.Asin]: unaryKernel(Primitive.Asin, context),
    [Primitive.Acos]: unaryKernel(Primitive.Acos, context),
    [Primitive.Atan]: unaryKernel(Primitive.Atan, context),
    [Primitive.Tanh]: unaryKernel(Primitive.Tanh, context),
    [Primitive.Logistic]: unaryKernel(Primitive.Logistic, context),
    [Primitive.Erf]: unaryKernel(Primitive.Erf, context),
    [Primitive.Floor]: unaryKernel(Primitive.Floor, context),
    [Primitive.Ceil]: unaryKernel(Primitive.Ceil, context),
    [Primitive.Round]: unaryKernel(Primitive.Round, context),
    [Primitive.Reciprocal]: unaryKernel(Primitive.Reciprocal, context),
    [Primitive.Relu]: unaryKernel(Primitive.Relu, context),
    [Primitive.Add]: binaryKernel(Primitive.Add, context),
    [Primitive.Sub]: binaryKernel(Primitive.Sub, context),
    [Primitive.Mul]: binaryKernel(Primitive.Mul, context),
    [Primitive.Div]: binaryKernel(Primitive.Div, context),
    [Primitive.Pow]: binaryKernel(Primitive.Pow, context),
    [Primitive.Atan2]: binaryKernel(Primitive.Atan2, context),
    [Primitive.Max]: binaryKernel(Primitive.Max, context),
    [Primitive.Min]: binaryKernel(Primitive.Min, context),
    [Primitive.Mod]: binaryKernel(Primitive.Mod, context),
    [Primitive.FloorDivide]: binaryKernel(Primitive.FloorDivide, context),
    [Primitive.Equal]: binaryKernel(Primitive.Equal, context),
    [Primitive.NotEqual]: binaryKernel(Primitive.NotEqual, context),
    [Primitive.Less]: binaryKernel(Primitive.Less, context),
    [Primitive.LessEqual]: binaryKernel(Primitive.LessEqual, context),
    [Primitive.Greater]: binaryKernel(Primitive.Greater, context),
    [Primitive.GreaterEqual]: binaryKernel(Primitive.GreaterEqual, context),
    [Primitive.And]: binaryKernel(Primitive.And, context),
    [Primitive.Or]: binaryKernel(Primitive.Or, context),
    [Primitive.ReluGrad]: binaryKernel(Primitive.ReluGrad, context),
    [Primitive.Where]: whereKernel(context),
    [Primitive.Cast]: castKernel(context),
    [Primitive.Argmax]: argReduceKernel(Primitive.Argmax, context),
    [Primitive.Argmin]: argReduceKernel(Primitive.Argmin, context),
    [Primitive.Reshape]: reshapeKernel(context),
    [Primitive.Gather]: gatherKernel(context),
    [Primitive.ScatterAdd]: scatterAddKernel(context),
    [Primitive.Full]: fullKernel(context),
    [Primitive.ReduceSum]: reduceKernel(Primitive.ReduceSum, context),
    [Primitive.ReduceMax]: reduceKernel(Primitive.ReduceMax, context),
    [Primitive.ReduceMin]: reduceKernel(Primitive.ReduceMin, context),
    [Primitive.ReduceProd]: reduceKernel(Primitive.ReduceProd, context),
    [Primitive.DotGeneral]: dotGeneralKernel(context),
    [Primitive.Conv]: convKernel(context),
    [Primitive.ReduceWindow]: reduceWindowKernel(context),
  };
}
