import type { CompositeKernels } from '../../backend/spi.js';
import type { Aval } from '../../core/aval.js';
import { add, exp, mul, rsqrt, sub } from '../../ops/elementwise.js';
import { mean, sum } from '../../ops/reduce.js';
import { releasing } from '../../tensor/memory.js';
import { Tensor } from '../../tensor/tensor.js';
import { bindCustomVjp, nothingObserves, runsEagerly } from '../../transforms/core.js';
import type { CustomVjpCall } from '../../transforms/custom-call.js';

// Softmax, log-softmax and layer norm through a backend's fused kernels (Backend.composites), in
// eager mode only: when a transform traces an input (grad, jvp, vmap, jit), the op binds its
// composite's primitives as before, so that every transform sees primitives (jit fuses them) and
// no transform meets a custom rule. Eagerly, the fused result is a custom-VJP call at the base
// level: when the imperative tape records an input it records one node whose backward pass is
// the composite's analytic derivative, written in ordinary ops, and `createGraph` records that
// backward pass in turn, so every order of derivative is exact. A backward pass nothing records
// may run the backend's fused backward kernel instead.

/** A composite's fused kernel applied to its inputs' handles: the result's handle, or null (undefined) to decline. */
type RunKernel = (kernels: CompositeKernels<unknown>, handles: readonly unknown[]) => unknown;

/** The VJP from the inputs (their recorded tensors), the output the kernel computed and its cotangent. */
type CompositeVjp = (inputs: readonly Tensor[], output: Tensor, cotangent: Tensor) => (Tensor | null)[];

/**
 * The composite computed by the inputs' backend's fused kernel, or null when it does not apply:
 * an input is traced by a transform (or jit is staging), the inputs live on different backends or
 * were disposed (the composite then raises the error), or the backend lacks the kernel or declines.
 */
function runFused(name: string, inputs: readonly Tensor[], out: Aval, run: RunKernel, vjp: CompositeVjp): Tensor | null {
  const backend = (inputs[0] as Tensor)._backend;
  const kernels = backend?.composites;
  if (backend === null || kernels === undefined || !runsEagerly(inputs)) return null;
  const handles = new Array<unknown>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as Tensor;
    if (input._backend !== backend || input._handle === undefined) return null;
    handles[i] = input._handle;
  }
  const handle = run(kernels, handles);
  if (handle === null || handle === undefined) return null;
  const output = new Tensor(out.shape, out.dtype, backend, handle);
  const call: CustomVjpCall = {
    name,
    // No trace meets this call (see runsEagerly); a forward-mode trace would differentiate `fn`.
    differentiateFnInForwardMode: true,
    fn: () => [output],
    // The residual is the output itself: on the tape it is the very tensor that gets the node's
    // edge, so that a recorded backward pass (createGraph) differentiates through it to the inputs.
    fwd: () => ({ outputs: [output], residuals: [inputs, output] }),
    bwd: (_residuals, cotangents) => vjp(inputs, output, cotangents[0] as Tensor),
  };
  return bindCustomVjp(call, inputs)[0] as Tensor;
}

/**
 * Softmax (or log-softmax, `log`) of `x` along `axis` (already normalized, rank at least 1) by
 * the backend's fused kernel, or null when the caller must run the composite.
 */
export function fusedSoftmax(x: Tensor, axis: number, log: boolean): Tensor | null {
  const out: Aval = { shape: x.shape, dtype: x.dtype };
  return runFused(
    log ? 'logSoftmax' : 'softmax',
    [x],
    out,
    (kernels, [handle]) => kernels.softmax?.(handle, axis, log, out),
    log ? logSoftmaxVjp(axis) : softmaxVjp(axis),
  );
}

/**
 * The backend's fused softmax backward pass, when nothing records this backward pass (a plain
 * `backward()`: its result is never differentiated again) and the backend takes it; else null.
 */
function fusedSoftmaxBackward(y: Tensor, g: Tensor, axis: number, log: boolean): Tensor | null {
  const backend = y._backend;
  const kernel = backend?.composites?.softmaxBackward;
  if (backend === null || kernel === undefined || !nothingObserves()) return null;
  if (g._backend !== backend || g.dtype !== y.dtype || y._handle === undefined || g._handle === undefined) return null;
  const out: Aval = { shape: y.shape, dtype: y.dtype };
  const handle = kernel.call(backend.composites, y._handle, g._handle, axis, log, out);
  return handle === null ? null : new Tensor(out.shape, out.dtype, backend, handle);
}

/** d softmax: `y * (g - sum(g * y))` along the axis. */
function softmaxVjp(axis: number): CompositeVjp {
  return (_inputs, y, g) => {
    const fused = fusedSoftmaxBackward(y, g, axis, false);
    if (fused !== null) return [fused];
    const weighted = mul(g, y);
    const total = sum(weighted, axis, true);
    const centered = sub(g, total);
    return [releasing(mul(y, centered), weighted, total, centered)];
  };
}

/** d logSoftmax: `g - exp(y) * sum(g)` along the axis. */
function logSoftmaxVjp(axis: number): CompositeVjp {
  return (_inputs, y, g) => {
    const fused = fusedSoftmaxBackward(y, g, axis, true);
    if (fused !== null) return [fused];
    const probabilities = exp(y);
    const total = sum(g, axis, true);
    const scaled = mul(probabilities, total);
    return [releasing(sub(g, scaled), probabilities, total, scaled)];
  };
}

/**
 * Layer normalization of `x` over its last `normalizedDims` dims by the backend's fused kernel,
 * or null when the caller must run the composite. `weight` and `bias` (null when absent) are
 * already checked to have those dims' shape; they must also have `x`'s dtype.
 */
export function fusedLayerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, normalizedDims: number, eps: number): Tensor | null {
  if ((weight !== null && weight.dtype !== x.dtype) || (bias !== null && bias.dtype !== x.dtype)) return null;
  const out: Aval = { shape: x.shape, dtype: x.dtype };
  const inputs = [x];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  return runFused(
    'layerNorm',
    inputs,
    out,
    (kernels, handles) =>
      kernels.layerNorm?.(
        handles[0],
        weight === null ? null : handles[1],
        bias === null ? null : handles[weight === null ? 1 : 2],
        normalizedDims,
        eps,
        out,
      ),
    layerNormVjp(weight !== null, bias !== null, normalizedDims, eps),
  );
}

/** The backend's fused layer norm backward pass, when nothing records this backward pass and the backend takes it; else null. */
function fusedLayerNormBackward(
  x: Tensor,
  weight: Tensor | null,
  g: Tensor,
  normalizedDims: number,
  eps: number,
  withBias: boolean,
): (Tensor | null)[] | null {
  const backend = x._backend;
  const kernels = backend?.composites;
  if (backend === null || kernels?.layerNormBackward === undefined || !nothingObserves()) return null;
  for (const t of weight === null ? [x, g] : [x, g, weight]) {
    if (t._backend !== backend || t.dtype !== x.dtype || t._handle === undefined) return null;
  }
  const out: Aval = { shape: x.shape, dtype: x.dtype };
  const result = kernels.layerNormBackward(x._handle, weight?._handle ?? null, g._handle, normalizedDims, eps, withBias, out);
  if (result === null) return null;
  const vectorShape = x.shape.slice(x.ndim - normalizedDims);
  const vector = (handle: unknown) => new Tensor(vectorShape, x.dtype, backend, handle);
  const cotangents: (Tensor | null)[] = [new Tensor(out.shape, out.dtype, backend, result.input)];
  if (weight !== null) cotangents.push(result.weight === null ? null : vector(result.weight));
  if (withBias) cotangents.push(result.bias === null ? null : vector(result.bias));
  return cotangents;
}

/**
 * d layerNorm. The statistics are recomputed from the recorded input (the kernel keeps none), so
 * that a recorded backward pass differentiates them too: with `xhat = (x - mean) * r`,
 * `r = 1 / sqrt(variance + eps)` and `h = g * weight`, the input's cotangent is
 * `r * (h - mean(h) - xhat * mean(h * xhat))` over the normalized dims; the weight's is
 * `sum(g * xhat)` and the bias's `sum(g)` over the leading dims.
 */
function layerNormVjp(hasWeight: boolean, hasBias: boolean, normalizedDims: number, eps: number): CompositeVjp {
  return (inputs, _y, g) => {
    const x = inputs[0] as Tensor;
    const weight = hasWeight ? (inputs[1] as Tensor) : null;
    const fused = fusedLayerNormBackward(x, weight, g, normalizedDims, eps, hasBias);
    if (fused !== null) return fused;
    const axes = Array.from({ length: normalizedDims }, (_, i) => x.ndim - normalizedDims + i);
    const leading = Array.from({ length: x.ndim - normalizedDims }, (_, i) => i);
    const average = mean(x, axes, true);
    const centered = sub(x, average);
    const squares = mul(centered, centered);
    const variance = mean(squares, axes, true);
    const shifted = add(variance, eps);
    const r = rsqrt(shifted);
    const normalized = mul(centered, r);
    const h = weight === null ? g : mul(g, weight);
    const hMean = mean(h, axes, true);
    const hNormalized = mul(h, normalized);
    const projection = mean(hNormalized, axes, true);
    const along = mul(normalized, projection);
    const difference = sub(h, hMean);
    const corrected = sub(difference, along);
    const gx = mul(corrected, r);
    const cotangents: (Tensor | null)[] = [gx];
    const temporaries = [average, centered, squares, variance, shifted, r, hMean, hNormalized, projection, along, difference, corrected];
    if (h !== g) temporaries.push(h);
    if (hasWeight) {
      const product = mul(g, normalized);
      cotangents.push(leading.length === 0 ? product : sum(product, leading));
      if (leading.length !== 0) temporaries.push(product);
    }
    if (hasBias) cotangents.push(leading.length === 0 ? g : sum(g, leading));
    return releasing(cotangents, ...temporaries, normalized);
  };
}
