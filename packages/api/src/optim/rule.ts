import type { Tensor } from '../tensor/tensor.js';
import type { Scalar } from './scalar.js';

/** The per-parameter buffers of an optimizer (moments, momentum), by name. */
export type Buffers = Readonly<Record<string, Tensor>>;

/** The scalar state an optimizer carries besides its step count (NAdam's momentum product). */
export type Scalars = Readonly<Record<string, Scalar>>;

/** What one update of one parameter sees. */
export interface RuleInput<H> {
  readonly param: Tensor;
  readonly grad: Tensor;
  readonly buffers: Buffers;
  /** Scalar state, already advanced to this step by `advanceScalars`. */
  readonly scalars: Scalars;
  /**
   * Scalar state as the previous step left it: ASGD updates with the eta and mu its previous
   * step computed, as PyTorch does, and stores the next ones.
   */
  readonly previousScalars: Scalars;
  /** This step's number, counting from 1. */
  readonly step: Scalar;
  readonly lr: Scalar;
  readonly hyper: H;
}

export interface RuleOutput {
  /** What to add to the parameter. */
  readonly update: Tensor;
  readonly buffers: Buffers;
}

/**
 * One optimizer's mathematics, written once and shared by the imperative class (whose `step()`
 * adds the update to each Parameter) and the functional form (which returns the updates). `H` is
 * the optimizer's hyperparameters as plain numbers.
 */
export interface UpdateRule<H> {
  /** The optimizer's name, for error messages ('Adam'). */
  readonly name: string;
  /** Checks hyperparameters, throwing a ValueError that names the optimizer and the option. */
  validate(hyper: H): void;
  /** The names of the buffers `initBuffers` makes for these hyperparameters. */
  bufferNames(hyper: H): readonly string[];
  /** The buffers of a parameter that has not been updated yet. */
  initBuffers(param: Tensor, hyper: H): Buffers;
  /** Initial scalar state, as numbers. */
  initScalars(hyper: H): Readonly<Record<string, number>>;
  /** The scalar state after one more step (`step` counts from 1), taken with learning rate `lr`. */
  advanceScalars(scalars: Scalars, step: Scalar, hyper: H, lr: Scalar): Scalars;
  apply(input: RuleInput<H>): RuleOutput;
}
