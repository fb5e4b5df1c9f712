import { runCompositeKernel } from '../backend/composite-kernels.js';
import type { Aval } from '../core/aval.js';
import { type LinalgCall, linalgOutputs } from '../ir/composite.js';
import { Tensor } from '../tensor/tensor.js';

// The linear-algebra calls (eigh, svd, qr, cholesky, luFactor, triangularSolve) as calls that
// every level can take whole: eager dispatch runs the backend's kernel (LAPACK's on mkl), jit
// stages one equation that runs it, vmap joins its batch to the stacks'. Each call has a
// composite in primitives (ops/linalg/), registered here, for the backends without the kernel,
// the inputs a kernel declines, and the transforms that differentiate (whose analytic rules sit
// above these calls).

/** The composite computing `call` on its stacks: one tensor per output (linalgOutputs). */
export type LinalgComposite = (call: LinalgCall, inputs: readonly Tensor[]) => Tensor[];

const composites = new Map<LinalgCall['name'], LinalgComposite>();

/** Registers the composite of the calls named `name` (by the module that defines it). */
export function registerLinalgComposite(name: LinalgCall['name'], composite: LinalgComposite): void {
  composites.set(name, composite);
}

/** `call` on `inputs` by its composite. */
export function linalgComposite(call: LinalgCall, inputs: readonly Tensor[]): Tensor[] {
  const composite = composites.get(call.name);
  if (composite === undefined) throw new Error(`flint internal error: no composite is registered for linalg's ${call.name}`);
  return composite(call, inputs);
}

/**
 * Whether a kernel may take stacks of these avals: float32 or float64 alike, nothing empty (the
 * composites give the trivial results of empty stacks without a kernel call).
 */
export function kernelTakes(inputs: readonly Aval[]): boolean {
  const dtype = inputs[0]?.dtype;
  return (
    (dtype === 'float32' || dtype === 'float64') &&
    inputs.every((a) => a.dtype === dtype && a.shape.length === 3 && a.shape.every((d) => d > 0))
  );
}

/** `call` on concrete stacks: by their backend's kernel where it has one that takes them, else by the composite. */
export function linalgConcrete(call: LinalgCall, inputs: readonly Tensor[]): Tensor[] {
  const backend = inputs[0]?._backend ?? null;
  const onOneBackend = backend !== null && inputs.every((x) => x._backend === backend && x._handle !== undefined);
  if (onOneBackend && kernelTakes(inputs)) {
    const avals = linalgOutputs(call, inputs);
    const handles = runCompositeKernel(
      backend,
      call,
      inputs.map((x) => x._handle),
      avals,
    );
    if (handles !== null) return handles.map((h, i) => new Tensor((avals[i] as Aval).shape, (avals[i] as Aval).dtype, backend, h));
  }
  return linalgComposite(call, inputs);
}
