import type { Tensor } from '@flint/api';
import type fc from 'fast-check';
import type { Operand } from '../generators.js';
import type { OpCase } from '../harness.js';

// The shape every composite-op gradient case takes (composites.ts and the per-family case files).

export interface CompositeCase extends OpCase<never> {
  /** The public op names this case checks (read by the coverage test). */
  readonly ops: readonly string[];
}

/** What a case may set besides its sample and function (defaults: 6 runs, not smooth). */
export type CompositeOptions = Partial<Pick<OpCase<never>, 'smooth' | 'tolerance' | 'step' | 'differentiable' | 'numRuns' | 'readsValues'>>;

/**
 * A case of the composite ops `ops`: samples of operands (and parameters, `fallback` where a
 * sample has none) and the function of them whose derivatives are checked.
 */
export function composite<P = never>(
  name: string,
  ops: readonly string[],
  sample: fc.Arbitrary<{ operands: Operand[]; params?: unknown }>,
  apply: (inputs: Tensor[], params: P) => Tensor,
  options: CompositeOptions & { readonly fallback?: unknown } = {},
): CompositeCase {
  const { fallback, ...rest } = options;
  return {
    name,
    ops,
    covers: [],
    sample: sample.map((s) => ({ operands: s.operands, params: (s.params ?? fallback ?? null) as never })),
    apply: apply as (inputs: Tensor[], params: never) => Tensor,
    numRuns: 6,
    ...rest,
  };
}

/** A case whose function has second derivatives (`smooth`) unless `smooth` is false. */
export const smoothCase = <P = never>(
  name: string,
  ops: readonly string[],
  sample: fc.Arbitrary<{ operands: Operand[]; params?: unknown }>,
  apply: (inputs: Tensor[], params: P) => Tensor,
  smooth = true,
): CompositeCase => composite(name, ops, sample, apply, { smooth });
