import type { ParamsOf, Primitive } from '../../primitives/primitive.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CompositeCall } from '../composite.js';
import type { KernelProgram } from '../kernel.js';

/** What the passes may use besides the program itself. All fields are optional: passes on bare IR (tests) work without them. */
export interface PassContext {
  /**
   * Evaluates one primitive on concrete tensors now (jit passes eager evaluation on the target
   * backend). Without it, constant folding folds only literals.
   */
  readonly evaluate?: <P extends Primitive>(primitive: P, inputs: readonly Tensor[], params: ParamsOf<P>) => Tensor;
  /** The largest number of elements constant folding computes into a tensor constant (default 16384). */
  readonly foldLimit?: number;
  /** Tensors the passes created; whoever owns the compiled program disposes them with it. */
  readonly created?: Tensor[];
  /** Whether the target backend has a fused kernel for a composite (jit: Backend.composites). Without it, no composite forms. */
  readonly composites?: (call: CompositeCall) => boolean;
  /** Whether fused kernels recompute the single-element values they read (BackendCapabilities.recomputeScalars; passes/scalar-sinking.ts). */
  readonly recomputeScalars?: boolean;
  /**
   * Whether the target backend compiles a kernel (its `compile` hook returns one: jit caches what
   * it compiled). Passes that rewrite kernels ask before they make one the backend might decline.
   */
  readonly compiles?: (kernel: KernelProgram) => boolean;
}

export const DEFAULT_FOLD_LIMIT = 16384;
