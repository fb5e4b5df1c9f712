import { type ParamsOf, Primitive } from '@flint/api';
import { fullReference, iotaReference, randomBitsReference, randomUniformReference } from './creation.js';
import { type BinaryName, binaryReference, castReference, type UnaryName, unaryReference, whereReference } from './elementwise.js';
import { convReference, dotGeneralReference, reduceWindowReference } from './linalg.js';
import {
  broadcastReference,
  concatReference,
  flipReference,
  gatherReference,
  padReference,
  reshapeReference,
  scatterAddReference,
  sliceReference,
  transposeReference,
} from './movement.js';
import type { RefArray, RefResult } from './ndarray.js';
import { argReference, reduceReference } from './reduce.js';
import { argsortReference, cumulativeReference } from './scan.js';

export type Reference<P extends Primitive> = (inputs: readonly RefArray[], params: ParamsOf<P>) => RefResult;

/** One float64 reference per primitive; the mapped type makes a missing one a compile error. */
export type ReferenceTable = { readonly [P in Primitive]: Reference<P> };

const unary = (name: UnaryName) => (inputs: readonly RefArray[]) => unaryReference(name, inputs);
const binary = (name: BinaryName) => (inputs: readonly RefArray[]) => binaryReference(name, inputs);
const first = (inputs: readonly RefArray[]): RefArray => inputs[0] as RefArray;
const second = (inputs: readonly RefArray[]): RefArray => inputs[1] as RefArray;

export const REFERENCE: ReferenceTable = {
  [Primitive.Neg]: unary('neg'),
  [Primitive.Abs]: unary('abs'),
  [Primitive.Sign]: unary('sign'),
  [Primitive.Exp]: unary('exp'),
  [Primitive.Log]: unary('log'),
  [Primitive.Log1p]: unary('log1p'),
  [Primitive.Expm1]: unary('expm1'),
  [Primitive.Sqrt]: unary('sqrt'),
  [Primitive.Rsqrt]: unary('rsqrt'),
  [Primitive.Sin]: unary('sin'),
  [Primitive.Cos]: unary('cos'),
  [Primitive.Tan]: unary('tan'),
  [Primitive.Asin]: unary('asin'),
  [Primitive.Acos]: unary('acos'),
  [Primitive.Atan]: unary('atan'),
  [Primitive.Tanh]: unary('tanh'),
  [Primitive.Logistic]: unary('logistic'),
  [Primitive.Erf]: unary('erf'),
  [Primitive.Floor]: unary('floor'),
  [Primitive.Ceil]: unary('ceil'),
  [Primitive.Round]: unary('round'),
  [Primitive.Reciprocal]: unary('reciprocal'),
  [Primitive.Not]: unary('not'),
  [Primitive.Relu]: unary('relu'),
  [Primitive.Add]: binary('add'),
  [Primitive.Sub]: binary('sub'),
  [Primitive.Mul]: binary('mul'),
  [Primitive.Div]: binary('div'),
  [Primitive.Pow]: binary('pow'),
  [Primitive.Atan2]: binary('atan2'),
  [Primitive.Max]: binary('max'),
  [Primitive.Min]: binary('min'),
  [Primitive.Mod]: binary('mod'),
  [Primitive.FloorDivide]: binary('floorDivide'),
  [Primitive.Equal]: binary('equal'),
  [Primitive.NotEqual]: binary('notEqual'),
  [Primitive.Less]: binary('less'),
  [Primitive.LessEqual]: binary('lessEqual'),
  [Primitive.Greater]: binary('greater'),
  [Primitive.GreaterEqual]: binary('greaterEqual'),
  [Primitive.And]: binary('and'),
  [Primitive.Or]: binary('or'),
  [Primitive.ReluGrad]: binary('reluGrad'),
  [Primitive.Where]: whereReference,
  [Primitive.Cast]: (inputs, params) => castReference(inputs, params.dtype),
  [Primitive.ReduceSum]: (inputs, params) => reduceReference('sum', inputs, params.axes),
  [Primitive.ReduceMax]: (inputs, params) => reduceReference('max', inputs, params.axes),
  [Primitive.ReduceMin]: (inputs, params) => reduceReference('min', inputs, params.axes),
  [Primitive.ReduceProd]: (inputs, params) => reduceReference('prod', inputs, params.axes),
  [Primitive.Argmax]: (inputs, params) => argReference('max', inputs, params.axis),
  [Primitive.Argmin]: (inputs, params) => argReference('min', inputs, params.axis),
  [Primitive.Reshape]: (inputs, params) => reshapeReference(first(inputs), params.shape),
  [Primitive.Transpose]: (inputs, params) => transposeReference(first(inputs), params.perm),
  [Primitive.Broadcast]: (inputs, params) => broadcastReference(first(inputs), params.shape),
  [Primitive.Slice]: (inputs, params) => sliceReference(first(inputs), params.starts, params.stops, params.steps),
  [Primitive.Pad]: (inputs, params) => padReference(first(inputs), params.widths, params.value),
  [Primitive.Concat]: (inputs, params) => concatReference(inputs, params.axis),
  [Primitive.Flip]: (inputs, params) => flipReference(first(inputs), params.axes),
  [Primitive.Gather]: (inputs, params) => gatherReference(first(inputs), second(inputs), params.axis),
  [Primitive.ScatterAdd]: (inputs, params) => scatterAddReference(first(inputs), second(inputs), inputs[2] as RefArray, params.axis),
  [Primitive.DotGeneral]: (inputs, params) => dotGeneralReference(first(inputs), second(inputs), params),
  [Primitive.Conv]: (inputs, params) => convReference(first(inputs), second(inputs), params),
  [Primitive.ReduceWindow]: (inputs, params) => reduceWindowReference(first(inputs), params),
  [Primitive.Cumulative]: (inputs, params) => cumulativeReference(first(inputs), params),
  [Primitive.Argsort]: (inputs, params) => argsortReference(first(inputs), params),
  [Primitive.Iota]: (_inputs, params) => iotaReference(params),
  [Primitive.Full]: (_inputs, params) => fullReference(params),
  [Primitive.RandomBits]: randomBitsReference,
  [Primitive.RandomUniform]: randomUniformReference,
};
