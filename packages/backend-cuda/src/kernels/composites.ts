import {
  type Aval,
  type BatchNormResults,
  type CompositeKernels,
  type DType,
  type NormalizationCotangents,
  packWindowGeometry,
  type WindowGeometry,
} from '@flint/api';
import { int32ArgumentOf } from '@flint/api/strided-backend';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf } from '../handle.js';
import { DTYPE_CODES, type Engine } from '../native/codes.js';

/**
 * The composite ops' kernels (api's Backend.composites) on the GPU: softmax and log-softmax, layer
 * norm and batch norm with their backward passes, and max pooling's backward pass, each one or
 * two launches of the addon's kernels (native/normalization.cu) instead of a dozen primitives.
 * Float32 and float64 only: every other dtype is declined and the api runs the composite (the
 * api already runs softmax and the normalizations of half inputs in float32). Views the kernels
 * cannot read in place are packed first. Batch norm goes through cuDNN as `normEngine` says
 * (the addon falls back to its kernels where cuDNN is missing or declines, unless it is required).
 */
export function cudaComposites(context: CudaContext, normEngine: () => Engine): CompositeKernels<CudaHandle> {
  const { addon } = context;
  const takes = (dtype: DType) => dtype === 'float32' || dtype === 'float64';
  const allTaken = (...handles: (CudaHandle | null)[]) => handles.every((h) => h === null || takes(h.dtype));

  /** Runs `body` on contiguous versions of `handles` (null stays null), releasing the packed copies after. */
  function withPacked<R>(handles: readonly (CudaHandle | null)[], body: (packed: (CudaHandle | null)[]) => R): R {
    const temporaries: CudaHandle[] = [];
    const packed = handles.map((h) => {
      if (h === null) return null;
      const p = context.packed(h);
      if (p.temporary) temporaries.push(p.handle);
      return p.handle;
    });
    try {
      return body(packed);
    } finally {
      for (const t of temporaries) context.release(t.storage);
    }
  }
  /** A handle as the addon takes it: its buffer and layout. */
  const operand = (h: CudaHandle): readonly [number, Int32Array] => [h.storage.id, layoutOf(h)];
  /** An optional weight or bias as the addon takes it: its buffer and layout, or both null. */
  const optional = (h: CudaHandle | null | undefined): readonly [number | null, Int32Array | null] =>
    h == null ? [null, null] : operand(h);
  const code = (h: CudaHandle) => DTYPE_CODES[h.dtype];
  const adoptOrNull = (handle: number | null, shape: readonly number[], dtype: DType) =>
    handle === null ? null : context.adopt(handle, shape, dtype);

  return {
    softmax(x, axis, log, out) {
      if (!takes(x.dtype) || x.shape.length === 0) return null;
      return withPacked([x], ([p]) => {
        const px = p as CudaHandle;
        return context.adopt(addon.softmax(code(px), ...operand(px), axis, log), out.shape, out.dtype);
      });
    },
    softmaxBackward(y, g, axis, log, out) {
      if (!allTaken(y, g) || y.shape.length === 0) return null;
      return withPacked([y, g], ([py, pg]) => {
        const [a, b] = [py as CudaHandle, pg as CudaHandle];
        return context.adopt(addon.softmaxBackward(code(a), ...operand(a), ...operand(b), axis, log), out.shape, out.dtype);
      });
    },
    layerNorm(x, weight, bias, normalizedDims, eps, out) {
      if (!allTaken(x, weight, bias)) return null;
      return withPacked([x, weight, bias], ([px, pw, pb]) => {
        const a = px as CudaHandle;
        const result = addon.layerNorm(code(a), ...operand(a), ...optional(pw), ...optional(pb), normalizedDims, eps);
        return context.adopt(result, out.shape, out.dtype);
      });
    },
    layerNormBackward(x, weight, g, normalizedDims, eps, withBias, out): NormalizationCotangents<CudaHandle> | null {
      if (!allTaken(x, weight, g)) return null;
      const paramShape = x.shape.slice(x.shape.length - normalizedDims);
      return withPacked([x, weight, g], ([px, pw, pg]) => {
        const [a, gg] = [px as CudaHandle, pg as CudaHandle];
        const [dx, dw, db] = addon.layerNormBackward(
          code(a),
          ...operand(a),
          ...optional(pw),
          ...operand(gg),
          normalizedDims,
          eps,
          withBias,
        );
        return {
          input: context.adopt(dx, out.shape, out.dtype),
          weight: adoptOrNull(dw, paramShape, x.dtype),
          bias: adoptOrNull(db, paramShape, x.dtype),
        };
      });
    },
    batchNorm(x, weight, bias, eps, out): BatchNormResults<CudaHandle> | null {
      if (!allTaken(x, weight, bias)) return null;
      const channels = [x.shape[1] as number];
      return withPacked([x, weight, bias], ([px, pw, pb]) => {
        const a = px as CudaHandle;
        const [output, mean, variance] = addon.batchNorm(code(a), ...operand(a), ...optional(pw), ...optional(pb), eps, normEngine());
        return {
          output: context.adopt(output, out.shape, out.dtype),
          mean: context.adopt(mean, channels, x.dtype),
          variance: context.adopt(variance, channels, x.dtype),
        };
      });
    },
    batchNormInference(x, mean, variance, weight, bias, eps, out) {
      if (!allTaken(x, mean, variance, weight, bias)) return null;
      return withPacked([x, mean, variance, weight, bias], ([px, pm, pv, pw, pb]) => {
        const [a, m, v] = [px as CudaHandle, pm as CudaHandle, pv as CudaHandle];
        const result = addon.batchNormInference(
          code(a),
          ...operand(a),
          ...operand(m),
          ...operand(v),
          ...optional(pw),
          ...optional(pb),
          eps,
          normEngine(),
        );
        return context.adopt(result, out.shape, out.dtype);
      });
    },
    batchNormBackward(x, mean, variance, weight, g, eps, withBias, out): NormalizationCotangents<CudaHandle> | null {
      if (!allTaken(x, mean, variance, weight, g)) return null;
      const channels = [x.shape[1] as number];
      return withPacked([x, mean, variance, weight, g], ([px, pm, pv, pw, pg]) => {
        const [a, m, v, gg] = [px as CudaHandle, pm as CudaHandle, pv as CudaHandle, pg as CudaHandle];
        const [dx, dw, db] = addon.batchNormBackward(
          code(a),
          ...operand(a),
          ...operand(m),
          ...operand(v),
          ...optional(pw),
          ...operand(gg),
          eps,
          withBias,
          normEngine(),
        );
        return {
          input: context.adopt(dx, out.shape, out.dtype),
          weight: adoptOrNull(dw, channels, x.dtype),
          bias: adoptOrNull(db, channels, x.dtype),
        };
      });
    },
    windowMaxBackward(x, g, geometry: WindowGeometry, out: Aval) {
      if (!allTaken(x, g)) return null;
      const params = int32ArgumentOf(packWindowGeometry(geometry));
      // x is read in place through its strides; the cotangent must be contiguous.
      return withPacked([g], ([pg]) => {
        const gg = pg as CudaHandle;
        return context.adopt(addon.windowMaxBackward(code(x), ...operand(x), ...operand(gg), params), out.shape, out.dtype);
      });
    },
  };
}
