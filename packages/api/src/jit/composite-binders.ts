import type { CompositeCall } from '../ir/composite.js';
import type { Tensor } from '../tensor/tensor.js';
import { stageComposite } from '../transforms/core.js';

// How a composite region is bound again when a traced program is evaluated anew: the programs
// jit derives for grad(jit(f)), for backward() through a jitted call, and a jitted function
// inlined into another are traced by evaluating the program's equations under the transforms.
// Evaluated equation by equation, a softmax would be differentiated through its primitives and
// lose its region; bound as the op it was (its analytic VJP included), the derived programs get
// their regions back, and jit hands them to the backend's kernels as it does for jit(grad(f)).

/**
 * Binds `call` on `inputs` as the op it was traced from; `body` evaluates the region's own
 * primitives on any inputs (the op's decomposition).
 */
export type CompositeBinder = (call: CompositeCall, inputs: readonly Tensor[], body: (inputs: readonly Tensor[]) => Tensor[]) => Tensor[];

const binders = new Map<CompositeCall['name'], CompositeBinder>();

/** Registers how the composites named `name` are bound again (by the module that stages them). */
export function registerCompositeBinder<N extends CompositeCall['name']>(
  name: N,
  binder: (call: Extract<CompositeCall, { name: N }>, inputs: readonly Tensor[], body: (inputs: readonly Tensor[]) => Tensor[]) => Tensor[],
): void {
  binders.set(name, binder as CompositeBinder);
}

/**
 * Binds a region of a program being evaluated again: as its op where one is registered, else as
 * its primitives marked as the region again (a backward composite, whose derivative is its
 * primitives').
 */
export function bindCompositeRegion(
  call: CompositeCall,
  inputs: readonly Tensor[],
  body: (inputs: readonly Tensor[]) => Tensor[],
): Tensor[] {
  const binder = binders.get(call.name);
  return binder === undefined ? stageComposite(call, inputs, () => body(inputs)) : binder(call, inputs, body);
}
