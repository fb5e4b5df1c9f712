import type { Aval } from '../core/aval.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamsOf, Primitive } from './primitive.js';

/**
 * Forward-mode rule: the output tangent from the input tangents (null is a symbolic zero: that
 * input does not vary), the primal inputs and the primal output already computed. Returns null
 * when the output tangent is zero. Written in ordinary ops, so outer transforms trace it.
 */
export type JvpRule<P extends Primitive> = (
  tangents: readonly (Tensor | null)[],
  primals: readonly Tensor[],
  out: Tensor,
  params: ParamsOf<P>,
) => Tensor | null;

/**
 * Reverse-mode rule: the cotangent of each input from the output's cotangent, the primal inputs
 * and the primal output. `wants[i]` is false where input i needs no cotangent (a constant or a
 * non-float input); the rule may return null there (and must return null for non-float inputs).
 * Written in ordinary differentiable ops, so that gradients of gradients work.
 */
export type VjpRule<P extends Primitive> = (
  cotangent: Tensor,
  primals: readonly Tensor[],
  out: Tensor,
  params: ParamsOf<P>,
  wants: readonly boolean[],
) => readonly (Tensor | null)[];

/**
 * Batching rule for vmap: `values[i]` carries the batch along axis `dims[i]` (null: input i is not
 * batched; at least one is). Returns the batched output and the axis its batch is on.
 */
export type BatchRule<P extends Primitive> = (
  values: readonly Tensor[],
  dims: readonly (number | null)[],
  params: ParamsOf<P>,
  axisSize: number,
) => readonly [Tensor, number | null];

/**
 * Everything Flint knows about one primitive, declared in one place: abstract evaluation (used
 * by eager dispatch and jit), and the JVP, VJP and batching rules (used by the transforms and the
 * imperative tape). `jvp` and `vjp` are null exactly when the primitive is declared
 * non-differentiable: its derivative is zero almost everywhere (sign, floor, comparisons) or its
 * output is integer or bool (argmax, argsort, iota); differentiating through it gives zeros.
 */
export interface PrimitiveRule<P extends Primitive> {
  /** User-facing name used in error messages and printed IR. */
  readonly name: string;
  /**
   * Output shape and dtype from the inputs' shapes and dtypes. All validation of a primitive's
   * inputs and params happens here, before any kernel runs; errors name the primitive.
   */
  abstractEval(inputs: readonly Aval[], params: ParamsOf<P>): Aval;
  readonly jvp: JvpRule<P> | null;
  readonly vjp: VjpRule<P> | null;
  /**
   * The values the VJP rule reads beyond their shapes and dtypes; absent: every input and the
   * output. A recorded node retains only these, so that a value nothing else needs is freed when
   * its tensor is disposed (a composite's intermediate, such as a product before its bias add),
   * as PyTorch saves only what a backward function uses.
   */
  readonly vjpReads?: VjpReads;
  readonly batch: BatchRule<P>;
}

/** Which of a primitive's values its VJP rule reads: input positions, and whether the output. */
export interface VjpReads {
  readonly inputs: readonly number[];
  readonly output: boolean;
}

/** A VJP rule that reads only shapes and dtypes (sums, differences, reshapes, broadcasts). */
export const READS_NOTHING: VjpReads = { inputs: [], output: false };

/** A VJP rule that reads both inputs of a binary primitive but not its output (products). */
export const READS_INPUTS: VjpReads = { inputs: [0, 1], output: false };

export type RuleTable = { readonly [P in Primitive]: PrimitiveRule<P> };
