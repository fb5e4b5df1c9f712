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
import './tensor/methods-torch-functions.js';
import './tensor/methods-special.js';
import './tensor/methods-searching.js';
import './tensor/format.js';

brandTensorClass(Tensor.prototype);

export * as amp from './amp/index.js';
export * from './backend/registry.js';
export * from './backend/spi.js';
export type { Aval } from './core/aval.js';
export * from './core/dtype.js';
export * from './core/errors.js';
export * from './core/half.js';
export * from './core/shape.js';
export * from './core/strided-layout.js';
export * from './core/type-info.js';
export * from './data/index.js';
export * as distributions from './distributions/index.js';
export * from './io/index.js';
export * from './ops/adaptive-pool.js';
export * from './ops/bessel.js';
export * from './ops/bessel-j-y.js';
export { broadcastTo, cast } from './ops/broadcast.js';
export * from './ops/clone.js';
export * from './ops/combinatorics.js';
export * from './ops/conv.js';
export { type CreationOptions, scalar, type TensorLike, tensor, toTensor } from './ops/convert.js';
export { type BincountOptions, bincount, bincountAsync, countNonzero, type HistcOptions, histc } from './ops/counting.js';
export * from './ops/creation.js';
export * from './ops/elementwise.js';
export * from './ops/erfinv.js';
export * from './ops/error-functions.js';
export * from './ops/gamma.js';
export * from './ops/incomplete-gamma.js';
export * from './ops/indexing.js';
export * from './ops/linalg.js';
export {
  type CholeskyExResult,
  type CholeskyOptions,
  cholesky,
  type LuFactorResult,
  type LuResult,
  type QrMode,
  type QrOptions,
  type QrResult,
} from './ops/linalg-decompositions.js';
export { matrixExp } from './ops/linalg-matrix-exp.js';
export { linalg } from './ops/linalg-namespace.js';
export {
  type MatrixNormOptions,
  type MatrixOrder,
  type NormOptions,
  norm,
  type VectorNormOptions,
  type VectorOrder,
} from './ops/linalg-norms.js';
export { blockDiag, cross, diagEmbed, kron, tensordot, type VectorAxisOptions } from './ops/linalg-products.js';
export {
  det,
  inverse,
  type LuSolveOptions,
  logdet,
  matrixPower,
  type SlogdetResult,
  type SolveOptions,
  type SolveTriangularOptions,
  slogdet,
} from './ops/linalg-solvers.js';
export type {
  CondOrder,
  EighOptions,
  EighResult,
  LstsqOptions,
  LstsqResult,
  MatrixRankOptions,
  PinvOptions,
  SvdOptions,
  SvdResult,
  Tolerance,
} from './ops/linalg-spectral.js';
export * from './ops/masked-fill.js';
export * from './ops/max-unpool.js';
export * from './ops/meshgrid.js';
export * from './ops/modified-bessel.js';
export * from './ops/movement.js';
export * from './ops/nan-reductions.js';
export {
  argwhere,
  argwhereAsync,
  maskedSelect,
  maskedSelectAsync,
  type NonzeroOptions,
  nonzero,
  nonzeroAsync,
} from './ops/nonzero.js';
export * from './ops/order-statistics.js';
export * from './ops/orthogonal-polynomials.js';
export * from './ops/predicates.js';
export * from './ops/reduce.js';
export * from './ops/scans.js';
export * from './ops/searching.js';
export * from './ops/sort.js';
export { special } from './ops/special.js';
export * from './ops/statistics.js';
export * from './ops/tensor-split.js';
export * from './ops/torch-elementwise.js';
export * from './ops/torch-functions.js';
export * from './ops/transcendental.js';
export * from './ops/triangular.js';
export * from './ops/unique.js';
export * from './ops/zeta.js';
export * as optim from './optim/index.js';
export type {
  BinaryPrimitive,
  PadPair,
  ParamsOf,
  PrimitiveParams,
  ReducePrimitive,
  UnaryPrimitive,
  WindowGeometry,
} from './primitives/primitive.js';
export { PRIMITIVE_COUNT, Primitive, packWindowGeometry, primitiveName } from './primitives/primitive.js';
export type { PrimitiveRule, RuleTable } from './primitives/rule.js';
export { RULES } from './primitives/rules.js';
export * as random from './random/index.js';
export {
  bernoulli,
  type MultinomialOptions,
  multinomial,
  poisson,
  randintLike,
  randLike,
  randnLike,
} from './random/torch-sampling.js';
export { bind, evalPrimitive } from './tensor/dispatch.js';
export * from './tensor/format.js';
export type { BackendMemory, DebugOptions } from './tensor/memory.js';
export { dispose, forEachTensor, isTensor, keep, keepOwned, liveTensors, memory, setDebug, tidy } from './tensor/memory.js';
export { type NestedArray, Tensor } from './tensor/tensor.js';

import './autograd/methods.js';

export * from './autograd/index.js';
export { type PyTree, type TreeDef, treeDefsEqual, treeFlatten, treeLeaves, treeMap, treeUnflatten } from './core/pytree.js';
export * as distributed from './distributed/index.js';
export type {
  CompiledKernel,
  KernelKind,
  KernelOp,
  KernelProgram,
  KernelRef,
  SplitColumnReduction,
  SplitContraction,
} from './ir/kernel.js';
export { columnReductionKernel, splitColumnReduction, splitContraction } from './ir/kernel.js';
export { printProgram } from './ir/print.js';
export type { Constant, Equation, FusionEquation, FusionKind, MemoryPlan, PrimitiveEquation, Program, Var } from './ir/program.js';
export { type CompilableModule, type CompiledModule, type CompileOptions, compile } from './jit/compile.js';
export { type JitOptions, type JittedFunction, jit, type Lowered } from './jit/jit.js';
// torch.relu: also at the top level, as the activation most models call between layers.
export { relu } from './nn/functional/activations.js';
export * as nn from './nn/index.js';
export * from './transforms/index.js';
