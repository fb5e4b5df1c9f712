/**
 * @flint/api: tensors, primitives, transforms and the backend SPI. Hardware lives in backend
 * packages; import one (`import '@flint/backend-cpu'`) to compute.
 */
import { brandTensorClass } from './tensor/memory.js';
import { Tensor } from './tensor/tensor.js';
import './tensor/methods-elementwise.js';
import './tensor/methods-math.js';
import './tensor/methods-movement.js';
import './tensor/methods-linalg.js';
import './tensor/format.js';

brandTensorClass(Tensor.prototype);

export * from './core/errors.js';
export * from './core/dtype.js';
export * from './core/shape.js';
export type { Aval } from './core/aval.js';
export * from './backend/spi.js';
export * from './backend/registry.js';
export { Primitive, PRIMITIVE_COUNT, primitiveName } from './primitives/primitive.js';
export type { PrimitiveParams, ParamsOf, PadPair, UnaryPrimitive, BinaryPrimitive, ReducePrimitive } from './primitives/primitive.js';
export { RULES } from './primitives/rules.js';
export type { PrimitiveRule, RuleTable } from './primitives/rule.js';
export { Tensor, type NestedArray } from './tensor/tensor.js';
export { bind, evalPrimitive } from './tensor/dispatch.js';
export { tidy, keep, dispose, memory, setDebug, liveTensors, isTensor, forEachTensor } from './tensor/memory.js';
export type { DebugOptions, BackendMemory } from './tensor/memory.js';
export { tensor, scalar, toTensor, type TensorLike, type CreationOptions } from './ops/convert.js';
export { broadcastTo, cast } from './ops/broadcast.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/sort.js';
export * from './ops/movement.js';
export * from './ops/indexing.js';
export * from './ops/linalg.js';
export * from './ops/conv.js';
export * from './ops/creation.js';
export * as random from './random/index.js';
export * from './tensor/format.js';
export * as optim from './optim/index.js';
export * from './data/index.js';
export * from './io/index.js';
import './autograd/methods.js';
export * from './transforms/index.js';
export * from './autograd/index.js';
export { treeFlatten, treeUnflatten, treeMap, treeLeaves, treeDefsEqual, type PyTree, type TreeDef } from './core/pytree.js';
export { jit, type JitOptions, type JittedFunction, type Lowered } from './jit/jit.js';
export { compile, type CompilableModule, type CompiledModule, type CompileOptions } from './jit/compile.js';
export { printProgram } from './ir/print.js';
export type { Program, Equation, PrimitiveEquation, FusionEquation, FusionKind, Constant, MemoryPlan, Var } from './ir/program.js';
export type { KernelProgram, KernelOp, KernelRef, CompiledKernel } from './ir/kernel.js';
export * as nn from './nn/index.js';
export * as distributed from './distributed/index.js';
