import { runCompositeKernel } from '../backend/composite-kernels.js';
import type { Aval } from '../core/aval.js';
import { type DecompositionCall, decompositionOutputs } from '../ir/composite.js';
import { Tensor } from '../tensor/tensor.js';

// The matrix decompositions (eigh, svd, qr, cholesky, luFactor) as calls that every level can
// take whole: eager dispatch runs the backend's kernel (LAPACK's on mkl), jit stages one equation
// that runs it, vmap joins its batch to the stack's. Each call has a composite in primitives
// (ops/linalg/), registered here, for the backends without the kernel, the inputs a kernel
// declines, and the transforms that differentiate (whose analytic rules sit above these calls).

/** The composite computing `call` on a [B, m, n] stack: one tensor per output (decompositionOutputs). */
export type DecompositionComposite = (call: DecompositionCall, a: Tensor) => Tensor[];

const composites = new Map<DecompositionCall['name'], DecompositionComposite>();

/** Registers the composite of the calls named `name` (by the module that defines it). */
export function registerDecompositionComposite(name: DecompositionCall['name'], composite: DecompositionComposite): void {
  composites.set(name, composite);
}

/** `call` on `a` by its composite. */
export function decompositionComposite(call: DecompositionCall, a: Tensor): Tensor[] {
  const composite = composites.get(call.name);
  if (composite === undefined) throw new Error(`flint internal error: no composite is registered for the decomposition ${call.name}`);
  return composite(call, a);
}

/**
 * Whether a kernel may take a stack of `a`'s aval: float32 or float64, nothing empty (the
 * composites give the trivial results of empty stacks without a kernel call).
 */
export function kernelTakes(a: Aval): boolean {
  return (a.dtype === 'float32' || a.dtype === 'float64') && a.shape.length === 3 && a.shape.every((d) => d > 0);
}

/** `call` on the concrete stack `a`: by its backend's kernel where it has one that takes `a`, else by the composite. */
export function decomposeConcrete(call: DecompositionCall, a: Tensor): Tensor[] {
  const backend = a._backend;
  if (backend !== null && a._handle !== undefined && kernelTakes(a)) {
    const avals = decompositionOutputs(call, a);
    const handles = runCompositeKernel(backend, call, [a._handle], avals);
    if (handles !== null) return handles.map((h, i) => new Tensor((avals[i] as Aval).shape, (avals[i] as Aval).dtype, backend, h));
  }
  return decompositionComposite(call, a);
}
