import type { Aval } from '../core/aval.js';
import type { Tensor } from '../tensor/tensor.js';

// A jit-compiled function as the traces see it when they meet a call of one: a flat list of
// tensors in and out, traced once for these input avals. Instead of running the function's
// primitives under the enclosing transform, each trace derives a new staged call from it (its
// JVP, its forward/backward split, its batched form) and binds that one level down, so that the
// call stays a compiled call at every level, as JAX's pjit does. jit/staged.ts implements it.

/** A staged (traced, compilable) function of flat tensors. */
export interface StagedCall {
  readonly name: string;
  readonly inputAvals: readonly Aval[];
  readonly outputAvals: readonly Aval[];
  /**
   * Runs the compiled program on concrete tensors (no tracer among them). `consumable[i]` says
   * the caller hands input i over (it is dead after the call): the program frees it after its
   * last use or writes an output into its memory, and the tensor is left without data.
   */
  run(inputs: readonly Tensor[], consumable?: readonly boolean[] | null): Tensor[];
  /** Binds the program's primitives one by one (inside an enclosing jit trace: staged into it). */
  inline(inputs: readonly Tensor[]): Tensor[];
  /**
   * The call computing outputs and tangents. Inputs: the primals, then the tangents of the
   * `varying` inputs; outputs: the outputs, then one tangent per floating-point output.
   */
  jvp(varying: readonly boolean[]): StagedCall;
  /** The forward and backward calls of reverse mode for the `wanted` inputs' cotangents. */
  vjp(wanted: readonly boolean[]): StagedVjp;
  /**
   * The batched call: inputs with their batch on axis 0 where `batched` (others shared), every
   * output batched on axis 0.
   */
  batch(batched: readonly boolean[], axisSize: number): StagedCall;
}

/** Reverse mode of a staged call, as two staged calls (the residuals pass between them). */
export interface StagedVjp {
  /** Inputs: the primals. Outputs: the call's outputs, then the computed residuals. */
  readonly forward: StagedCall;
  readonly outputCount: number;
  /** Primal inputs the backward call reads directly (residuals that need no computing). */
  readonly residualInputs: readonly number[];
  /**
   * Inputs: the primals at `residualInputs`, the computed residuals, then one cotangent per
   * output in `cotangentOutputs`. Outputs: one cotangent per wanted input, in input order.
   */
  readonly backward: StagedCall;
  /** The outputs that take a cotangent (the floating-point ones). */
  readonly cotangentOutputs: readonly number[];
  /**
   * Forward and backward in one call (inputs: the primals, then the cotangents; outputs as
   * `backward`'s), for a backward pass that is itself recorded (`backward({ createGraph })`):
   * the tape runs the forward call unrecorded, so its residuals carry no derivative.
   */
  readonly joint: StagedCall;
  /**
   * `backward` (or, with `joint`, the joint call) specialized to the output cotangents that are
   * symbolic zeros (`zeroCotangents`, one per `cotangentOutputs`): its inputs lack those
   * cotangents, and the input cotangents that come out zero are not computed (`zeroOutputs`,
   * one per wanted input; the call returns the others). Cached per mask.
   */
  specialize(zeroCotangents: readonly boolean[], joint: boolean): SpecializedCall;
}

/** A backward call specialized to symbolic-zero cotangents. */
export interface SpecializedCall {
  readonly call: StagedCall;
  /** Per output of the unspecialized call: zero, so not returned. */
  readonly zeroOutputs: readonly boolean[];
}
