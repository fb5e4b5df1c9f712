import type { Aval } from '../core/aval.js';
import { BackendError } from '../core/errors.js';
import type { CompositeCall } from '../ir/composite.js';
import type { Backend, CompositeKernels, NormalizationCotangents } from './spi.js';

// One way to call a backend's fused composite kernels (Backend.composites) from a CompositeCall:
// eager dispatch (nn/functional/fused-composite.ts) and jit's composite equations share it.

/** Whether `kernels` has a kernel for `call` (it may still decline particular inputs). */
export function hasCompositeKernel(kernels: CompositeKernels<unknown> | undefined, call: CompositeCall): boolean {
  return kernels !== undefined && kernels[call.name] !== undefined;
}

/**
 * Runs `call`'s kernel on `handles` (the call's arguments, see CompositeCall) on `backend`.
 * `outputs` are the results' avals, in order. Returns the results' handles, one per output, or
 * null when the backend has no such kernel or declines (see owedCotangents for the backward
 * normalizations).
 */
export function runCompositeKernel<H>(
  backend: Backend<H>,
  call: CompositeCall,
  handles: readonly H[],
  outputs: readonly Aval[],
): H[] | null {
  const kernels = backend.composites;
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
      return owedCotangents(backend, 'layerNormBackward', call, result);
    }
    case 'batchNorm': {
      const weight = call.hasWeight ? (handles[1] as H) : null;
      const bias = call.hasBias ? (handles[call.hasWeight ? 2 : 1] as H) : null;
      const result = kernels.batchNorm?.(handles[0] as H, weight, bias, call.eps, out);
      return result === null || result === undefined ? null : [result.output, result.mean, result.variance];
    }
    case 'batchNormInference': {
      const [x, mean, variance] = handles as [H, H, H];
      const weight = call.hasWeight ? (handles[3] as H) : null;
      const bias = call.hasBias ? (handles[call.hasWeight ? 4 : 3] as H) : null;
      return single(kernels.batchNormInference?.(x, mean, variance, weight, bias, call.eps, out));
    }
    case 'batchNormBackward': {
      const [x, mean, variance] = handles as [H, H, H];
      const weight = call.hasWeight ? (handles[3] as H) : null;
      const g = handles[call.hasWeight ? 4 : 3] as H;
      const result = kernels.batchNormBackward?.(x, mean, variance, weight, g, call.eps, call.hasBias, out);
      return owedCotangents(backend, 'batchNormBackward', call, result);
    }
    case 'windowMaxBackward':
      return single(kernels.windowMaxBackward?.(handles[0] as H, handles[1] as H, call, out));
    case 'eigh': {
      const result = kernels.eigh?.(handles[0] as H);
      return result === null || result === undefined ? null : [result.values, result.vectors];
    }
    case 'svd': {
      const result = kernels.svd?.(handles[0] as H, call.vectors, call.complete);
      if (result === null || result === undefined) return null;
      if (!call.vectors) {
        for (const h of [result.u, result.v]) if (h !== null) backend.dispose(h);
        return [result.s];
      }
      if (result.u === null || result.v === null) {
        // Values without the vectors asked for: a decline, as the api treats it.
        for (const h of [result.u, result.s, result.v]) if (h !== null) backend.dispose(h);
        return null;
      }
      return [result.u, result.s, result.v];
    }
    case 'qr': {
      const result = kernels.qr?.(handles[0] as H, call.complete);
      return result === null || result === undefined ? null : [result.q, result.r];
    }
    case 'cholesky':
      return single(kernels.cholesky?.(handles[0] as H));
    case 'luFactor': {
      const result = kernels.luFactor?.(handles[0] as H);
      return result === null || result === undefined ? null : [result.lu, result.perm, result.pivots];
    }
    case 'triangularSolve':
      return single(kernels.triangularSolve?.(handles[0] as H, handles[1] as H, call.upper, call.unit, out));
  }
}

/**
 * The cotangents a normalization's backward kernel owes `call` (the input's, then the weight's
 * and the bias's where the call has them), or null when it declined. Cotangents it computed
 * unasked are released; one it leaves out breaks the SPI's contract: what it returned is released
 * and a BackendError says so.
 */
function owedCotangents<H>(
  backend: Backend<H>,
  kernel: string,
  call: { readonly hasWeight: boolean; readonly hasBias: boolean },
  result: NormalizationCotangents<H> | null | undefined,
): H[] | null {
  if (result === null || result === undefined) return null;
  const owed = [result.input, call.hasWeight ? result.weight : undefined, call.hasBias ? result.bias : undefined];
  const extra = [call.hasWeight ? null : result.weight, call.hasBias ? null : result.bias];
  for (const h of extra) if (h !== null) backend.dispose(h);
  if (owed.some((h) => h === null)) {
    for (const h of owed) if (h !== null && h !== undefined) backend.dispose(h);
    throw new BackendError(
      `${backend.name}: composites.${kernel} returned no cotangent for the ${call.hasWeight && result.weight === null ? 'weight' : 'bias'} although one was asked for`,
    );
  }
  return owed.filter((h): h is H => h !== undefined);
}
