import { type KernelTable, Primitive } from '@flint/api';
import type { CpuHandle } from '../view.js';
import { convKernel } from './conv.js';
import { fullKernel, iotaKernel } from './creation.js';
import { dotGeneralKernel } from './dot.js';
import { binaryKernel, castKernel, unaryKernel, whereKernel } from './elementwise.js';
import { gatherKernel, scatterAddKernel } from './gather.js';
import { broadcastKernel, concatKernel, flipKernel, padKernel, reshapeKernel, sliceKernel, transposeKernel } from './movement.js';
import { randomBitsKernel, randomUniformKernel } from './random.js';
import { argReduceKernel, reduceKernel } from './reduce.js';
import { cumulativeKernel } from './scan.js';
import { argsortKernel } from './sort.js';
import { reduceWindowKernel } from './window.js';

/** The CPU backend's kernel for every primitive (a missing one fails to compile). */
export const CPU_KERNELS: KernelTable<CpuHandle> = {
  [Primitive.Neg]: unaryKernel(Primitive.Neg),
  [Primitive.Abs]: unaryKernel(Primitive.Abs),
  [Primitive.Sign]: unaryKernel(Primitive.Sign),
  [Primitive.Exp]: unaryKernel(Primitive.Exp),
  [Primitive.Log]: unaryKernel(Primitive.Log),
  [Primitive.Log1p]: unaryKernel(Primitive.Log1p),
  [Primitive.Expm1]: unaryKernel(Primitive.Expm1),
  [Primitive.Sqrt]: unaryKernel(Primitive.Sqrt),
  [Primitive.Rsqrt]: unaryKernel(Primitive.Rsqrt),
  [Primitive.Sin]: unaryKernel(Primitive.Sin),
  [Primitive.Cos]: unaryKernel(Primitive.Cos),
  [Primitive.Tan]: unaryKernel(Primitive.Tan),
  [Primitive.Asin]: unaryKernel(Primitive.Asin),
  [Primitive.Acos]: unaryKernel(Primitive.Acos),
  [Primitive.Atan]: unaryKernel(Primitive.Atan),
  [Primitive.Tanh]: unaryKernel(Primitive.Tanh),
  [Primitive.Logistic]: unaryKernel(Primitive.Logistic),
  [Primitive.Erf]: unaryKernel(Primitive.Erf),
  [Primitive.Floor]: unaryKernel(Primitive.Floor),
  [Primitive.Ceil]: unaryKernel(Primitive.Ceil),
  [Primitive.Round]: unaryKernel(Primitive.Round),
  [Primitive.Reciprocal]: unaryKernel(Primitive.Reciprocal),
  [Primitive.Not]: unaryKernel(Primitive.Not),
  [Primitive.Relu]: unaryKernel(Primitive.Relu),
  [Primitive.Add]: binaryKernel(Primitive.Add),
  [Primitive.Sub]: binaryKernel(Primitive.Sub),
  [Primitive.Mul]: binaryKernel(Primitive.Mul),
  [Primitive.Div]: binaryKernel(Primitive.Div),
  [Primitive.Pow]: binaryKernel(Primitive.Pow),
  [Primitive.Atan2]: binaryKernel(Primitive.Atan2),
  [Primitive.Max]: binaryKernel(Primitive.Max),
  [Primitive.Min]: binaryKernel(Primitive.Min),
  [Primitive.Mod]: binaryKernel(Primitive.Mod),
  [Primitive.FloorDivide]: binaryKernel(Primitive.FloorDivide),
  [Primitive.Equal]: binaryKernel(Primitive.Equal),
  [Primitive.NotEqual]: binaryKernel(Primitive.NotEqual),
  [Primitive.Less]: binaryKernel(Primitive.Less),
  [Primitive.LessEqual]: binaryKernel(Primitive.LessEqual),
  [Primitive.Greater]: binaryKernel(Primitive.Greater),
  [Primitive.GreaterEqual]: binaryKernel(Primitive.GreaterEqual),
  [Primitive.And]: binaryKernel(Primitive.And),
  [Primitive.Or]: binaryKernel(Primitive.Or),
  [Primitive.ReluGrad]: binaryKernel(Primitive.ReluGrad),
  [Primitive.Where]: whereKernel,
  [Primitive.Cast]: castKernel,
  [Primitive.ReduceSum]: reduceKernel(Primitive.ReduceSum),
  [Primitive.ReduceMax]: reduceKernel(Primitive.ReduceMax),
  [Primitive.ReduceMin]: reduceKernel(Primitive.ReduceMin),
  [Primitive.ReduceProd]: reduceKernel(Primitive.ReduceProd),
  [Primitive.Argmax]: argReduceKernel(Primitive.Argmax),
  [Primitive.Argmin]: argReduceKernel(Primitive.Argmin),
  [Primitive.Reshape]: reshapeKernel,
  [Primitive.Transpose]: transposeKernel,
  [Primitive.Broadcast]: broadcastKernel,
  [Primitive.Slice]: sliceKernel,
  [Primitive.Pad]: padKernel,
  [Primitive.Concat]: concatKernel,
  [Primitive.Flip]: flipKernel,
  [Primitive.Gather]: gatherKernel,
  [Primitive.ScatterAdd]: scatterAddKernel,
  [Primitive.DotGeneral]: dotGeneralKernel,
  [Primitive.Conv]: convKernel,
  [Primitive.ReduceWindow]: reduceWindowKernel,
  [Primitive.Cumulative]: cumulativeKernel,
  [Primitive.Argsort]: argsortKernel,
  [Primitive.Iota]: iotaKernel,
  [Primitive.Full]: fullKernel,
  [Primitive.RandomBits]: randomBitsKernel,
  [Primitive.RandomUniform]: randomUniformKernel,
};
