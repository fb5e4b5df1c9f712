import type { DType, ParamsOf, Primitive } from '@flint/api';
import type { Rng } from '../prng.js';

/** Produces element `index` of an input (before it is stored in its dtype). */
export type ValueSource = (rng: Rng, index: number) => number;

/**
 * How an input reaches the primitive. The harness builds a contiguous source tensor and then
 * applies these movement primitives in order, so the primitive sees a view: broadcast (zero
 * strides), transposed, sliced with steps, or flipped (negative strides).
 */
export type Layout =
  | { readonly broadcastFrom: readonly number[] }
  | { readonly transpose: readonly number[] }
  | { readonly sliceSteps: readonly number[] }
  | { readonly flip: readonly number[] };

export interface InputSpec {
  /** The shape the primitive sees. */
  readonly shape: readonly number[];
  /** Defaults to the case's dtype. */
  readonly dtype?: DType;
  /** Values of the contiguous source (cycled through `index`); defaults to random values for the dtype. */
  readonly values?: ValueSource;
  readonly layout?: Layout | readonly Layout[];
}

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/** A value or a function of the dtype the case runs in. */
export type PerDType<T> = T | ((dtype: DType) => T);

export interface CaseFor<Params> {
  readonly name: string;
  /** Dtypes to run the case in; defaults to the table's. The backend's claimed dtypes filter them. */
  readonly dtypes?: readonly DType[];
  readonly inputs: PerDType<readonly InputSpec[]>;
  readonly params: PerDType<Params>;
  /** Other dtypes the case needs the backend to claim (a cast's target, for example). */
  readonly needs?: PerDType<readonly DType[]>;
  /** Overrides the table's signed-zero check. */
  readonly signedZeros?: boolean;
  readonly tolerance?: Partial<Record<'float32' | 'float64' | 'float16' | 'bfloat16', Tolerance>>;
}

/**
 * How closely float results must match the float64 reference (rounded to the output dtype):
 *  - exact: bit for bit (movement, comparisons, integer-valued results);
 *  - rounded: IEEE operations that are correctly rounded (add, mul, div, sqrt...);
 *  - transcendental: library functions (exp, sin, erf...), with absolute slack near zero;
 *  - accumulated: sums of many terms, measured against the sum of their absolute values.
 */
export type Accuracy = 'exact' | 'rounded' | 'transcendental' | 'accumulated';

/** One primitive's declarative table of conformance cases. */
export interface TableFor<Params> {
  /** Dtypes the primitive accepts for its main input; the abstract evaluation rejects the others. */
  readonly dtypes: readonly DType[];
  readonly accuracy: Accuracy;
  /** Whether the sign of a zero result is part of the semantics (IEEE arithmetic, movement). */
  readonly signedZeros: boolean;
  readonly cases: readonly CaseFor<Params>[];
}

// Aliases (not interfaces) keep the check structural: primitives with the same params (Argmax and
// Argmin, the four reductions) can share one list of cases.
export type Case<P extends Primitive> = CaseFor<ParamsOf<P>>;
export type PrimitiveTable<P extends Primitive> = TableFor<ParamsOf<P>>;

/** The suite's whole table: the mapped type makes a primitive without cases a compile error. */
export type CaseTables = { readonly [P in Primitive]: PrimitiveTable<P> };
