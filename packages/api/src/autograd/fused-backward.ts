import { runCompositeKernel } from '../backend/composite-kernels.js';
import type { Backend } from '../backend/spi.js';
import type { Aval } from '../core/aval.js';
import type { CompositeCall } from '../ir/composite.js';
import { Tensor } from '../tensor/tensor.js';
import { runsEagerly } from '../transforms/core.js';
import { anyRecorded } from './grad-mode.js';

// Backward composites (softmax's, the normalizations', max pooling's) computed by a backend's
// fused kernel (Backend.composites) in a backward pass nothing differentiates again; elsewhere
// their rules stage the ops as a composite region (stageComposite), which jit hands to the kernel.

/**
 * A backward composite's cotangents by the backend's fused kernel, when nothing can differentiate
 * them (no transform traces an input, jit is not staging, and the tape records none of them: a
 * plain `backward()`, or the sweep of a functional `grad` at top level, whose result is never
 * differentiated again) and the backend takes it; else null.
 */
export function runFusedBackward(call: CompositeCall, inputs: readonly Tensor[], outputs: readonly Aval[]): Tensor[] | null {
  if (!runsEagerly(inputs) || anyRecorded(inputs)) return null;
  const operands = kernelOperands(inputs, true);
  if (operands === null) return null;
  const { backend, handles } = operands;
  const dtype = (inputs[0] as Tensor).dtype;
  const results = runCompositeKernel(backend, call, handles, outputs);
  return results === null ? null : results.map((h, i) => new Tensor((outputs[i] as Aval).shape, dtype, backend, h));
}

/**
 * The first input's backend, when it has composite kernels, and every input's handle, when all
 * live on it (and, with `sameDType`, share the first one's dtype); else null.
 */
export function kernelOperands(inputs: readonly Tensor[], sameDType: boolean): { backend: Backend; handles: unknown[] } | null {
  const first = inputs[0] as Tensor;
  const backend = first._backend;
  if (backend === null || backend.composites === undefined) return null;
  const handles = new Array<unknown>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as Tensor;
    if (input._backend !== backend || input._handle === undefined || (sameDType && input.dtype !== first.dtype)) return null;
    handles[i] = input._handle;
  }
  return { backend, handles };
}
