import type { Aval } from '../core/aval.js';
import type { ParamsOf, Primitive } from './primitive.js';

/**
 * Everything Flint knows about one primitive, declared in one place. The foundation declares the
 * abstract evaluation; the autodiff issue adds `jvp`, `transpose` and `batch` to the same
 * declarations, and jit uses `abstractEval` to trace.
 */
export interface PrimitiveRule<P extends Primitive> {
  /** User-facing name used in error messages and printed IR. */
  readonly name: string;
  /**
   * Output shape and dtype from the inputs' shapes and dtypes. All validation of a primitive's
   * inputs and params happens here, before any kernel runs; errors name the primitive.
   */
  abstractEval(inputs: readonly Aval[], params: ParamsOf<P>): Aval;
}

export type RuleTable = { readonly [P in Primitive]: PrimitiveRule<P> };
