import type { Tensor } from '../tensor/tensor.js';

// The flat form of user-defined differentiation rules, as the traces see them: lists of tensors
// in and out. The pytree-level API (customJvp, customVjp, checkpoint) builds these.

/** A function with a user-supplied JVP rule. */
export interface CustomJvpCall {
  readonly name: string;
  /** The function itself. */
  fn(inputs: readonly Tensor[]): Tensor[];
  /** Primal and tangent outputs from primal and tangent inputs (every tangent instantiated). */
  jvp(primals: readonly Tensor[], tangents: readonly Tensor[]): { readonly outputs: Tensor[]; readonly tangents: Tensor[] };
}

/** A function with a user-supplied VJP rule (also how `checkpoint` is expressed). */
export interface CustomVjpCall {
  readonly name: string;
  fn(inputs: readonly Tensor[]): Tensor[];
  /** The outputs and whatever the backward rule needs (a pytree that may hold tensors). */
  fwd(inputs: readonly Tensor[]): { readonly outputs: Tensor[]; readonly residuals: unknown };
  /**
   * One cotangent (or null for zero) per input, from the residuals and the outputs' cotangents:
   * all instantiated, unless `symbolicZeros`.
   */
  bwd(residuals: unknown, cotangents: readonly (Tensor | null)[]): (Tensor | null)[];
  /**
   * `bwd` gets null for an output that received no cotangent instead of a tensor of zeros (JAX's
   * `symbolic_zeros`): a rule whose extra outputs are seldom differentiated (batch norm's
   * statistics) then skips their terms, and a backend kernel that takes only the main output's
   * cotangent still applies.
   */
  readonly symbolicZeros?: boolean;
  /**
   * Under forward mode, run `fn` and differentiate through its ops instead of raising (true for
   * `checkpoint`, whose rule is only a memory trade-off, false for user rules, as in JAX).
   */
  readonly differentiateFnInForwardMode: boolean;
  /**
   * The rule computes exactly the derivative of `fn`, only faster (a composite's analytic VJP):
   * jit stages such a call as `fn`, and transforms of the compiled program may differentiate
   * `fn`'s primitives instead of calling the rule.
   */
  readonly ruleIsDerivative?: boolean;
}
