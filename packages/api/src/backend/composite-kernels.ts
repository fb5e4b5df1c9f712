import type { Aval } from '../core/aval.js';
import type { CompositeCall } from '../ir/composite.js';
import type { CompositeKernels } from './spi.js';

// One way to call a backend's fused composite kernels (Backend.composites) from a CompositeCall:
// eager dispatch (nn/functional/fused-composite.ts) and jit's composite equations share it.

/** Whether `kernels` has a kernel for `call` (it may still decline particular inputs). */
export function hasCompositeKernel(kernels: CompositeKernels<unknown> | undefined, call: CompositeCall): boolean {
  return kernels !== undefined && kernels[call.name] !== undefined;
}

/**
 * Runs `call`'s kernel on `handles` (the call's arguments, see CompositeCall). `outputs` are the
 * results' avals, in order. Returns the results' handles, or null when the backend has no such
 * kernel or declines.
 */
export function runCompositeKernel<H>(
  kernels: CompositeKernels<H> | undefined,
  call: CompositeCall,
  handles: readonly H[],
  outputs: readonly Aval[],
): H[] | null {
  if (kernels === undefined) return null;
  const out = outputs[0] as Aval;
  const single = (h: H | null | undefined): H[] | null => (h === null || h === undefined ? null : [h]);
  switch (call.name) {
    case 'softmax':
      return single(kernels.softmax?.(handles[0] as H, call.axis, call.log, out));
    case 'softmaxBackward':
      return single(kernels.softmaxBackward?.(handles[0] as H, handles[1] as H, call.axis, call.log, out));
    case 'layerNorm': {
      const weight = call.hasWeight ? (handles[1] as H) : null;
      const bias = call.hasBias ? (handles[call.hasWeight ? 2 : 1] as H) : null;
      return single(kernels.layerNorm?.(handles[0] as H, weight, bias, call.normalizedDims, call.eps, out));
    }
    case 'layerNormBackward': {
      const weight = call.hasWeight ? (handles[1] as H) : null;
      const g = handles[call.hasWeight ? 2 : 1] as H;
      const result = kernels.layerNormBackward?.(handles[0] as H, weight, g, call.normalizedDims, call.eps, call.hasBias, out);
      if (result === null || result === undefined) return null;
      const cotangents: H[] = [result.input];
      if (call.hasWeight && result.weight !== null) cotangents.push(result.weight);
      if (call.hasBias && result.bias !== null) cotangents.push(result.bias);
      return cotangents;
    }
  }
}
