import { kernelOperands, runFusedBackward } from '../../autograd/fused-backward.js';
import { runCompositeKernel } from '../../backend/composite-kernels.js';
import type { Aval } from '../../core/aval.js';
import type { CompositeCall } from '../../ir/composite.js';
import { registerCompositeBinder } from '../../jit/composite-binders.js';
import { add, exp, mul, rsqrt, sub } from '../../ops/elementwise.js';
import { mean, sum } from '../../ops/reduce.js';
import { releasing } from '../../tensor/memory.js';
import { Tensor } from '../../tensor/tensor.js';
import { bindCustomVjp, runsEagerly, stageComposite } from '../../transforms/core.js';
import type { CustomVjpCall } from '../../transforms/custom-call.js';

// Softmax, log-softmax and layer norm as composites with an analytic VJP (PyTorch's
// softmax_backward_data, native_layer_norm_backward), computed by a backend's fused kernels
// (Backend.composites) where it has them:
//  - Eagerly, the fused forward kernel computes the op, recorded as one custom-VJP node at the
//    base level. The backward pass is the analytic VJP in ordinary ops, and `createGraph` records
//    it in turn, so every order of derivative is exact. A backward pass nothing records may run
//    the backend's fused backward kernel instead.
//  - Otherwise (a transform traces an input, or the backend lacks or declines the kernel), the op
//    is a custom-VJP call whose rule is that analytic VJP and whose function is the primitives:
//    forward mode and vmap see through it, reverse mode (the tape included) saves only the output
//    (and the inputs for layer norm). jit stages the primitives marked as a composite
//    region (stageComposite), backward passes included, so that a compiled program runs the
//    backend's fused kernel where nothing else reads the composite's intermediate values.

/**
 * The VJP from what the composite saved of its forward pass (Composite.saves) and the outputs'
 * cotangents (null for an output that received none, where the composite takes symbolic zeros;
 * else all instantiated): one cotangent (or null) per input.
 */
type CompositeVjp = (saved: readonly Tensor[], cotangents: readonly (Tensor | null)[]) => (Tensor | null)[];

/** A forward composite: which one, and how it is computed and differentiated in ordinary ops. */
export interface Composite {
  readonly call: CompositeCall;
  /** The outputs' shapes and dtypes. */
  readonly outputs: (inputs: readonly Tensor[]) => Aval[];
  /** The composite's primitives on its inputs. */
  readonly decompose: (inputs: readonly Tensor[]) => Tensor[];
  /**
   * What the VJP reads, so that only that is kept until the backward pass. A saved output must
   * be the output tensor itself: on the tape it is the very tensor that gets the node's edge, so
   * that a recorded backward pass (createGraph) differentiates through it to the inputs.
   */
  readonly saves: (inputs: readonly Tensor[], outputs: readonly Tensor[]) => Tensor[];
  readonly vjp: CompositeVjp;
  /** The VJP takes null for outputs without a cotangent (see CustomVjpCall.symbolicZeros). */
  readonly symbolicZeros?: boolean;
}

/** The composite of `inputs`, computed as the module comment says. */
export function composite(op: Composite, inputs: readonly Tensor[]): Tensor[] {
  const outputs = op.outputs(inputs);
  const fused = runFused(op, inputs, outputs);
  if (fused !== null) return fused;
  // On data the kernel has just declined these inputs (or the backend has none): do not ask it again.
  const declined = runsEagerly(inputs);
  const call: CustomVjpCall = {
    name: op.call.name,
    differentiateFnInForwardMode: true,
    ruleIsDerivative: true,
    symbolicZeros: op.symbolicZeros,
    fn: (xs) => stageComposite(op.call, xs, () => op.decompose(xs)),
    // One level down the inputs may be concrete: the fused kernel then computes the output.
    fwd: (xs) => {
      const results = declined ? op.decompose(xs) : composite(op, xs);
      return { outputs: results, residuals: op.saves(xs, results) };
    },
    bwd: (residuals, cotangents) => op.vjp(residuals as Tensor[], cotangents),
  };
  return bindCustomVjp(call, inputs);
}

/**
 * The composite computed by the inputs' backend's fused kernel, or null when it does not apply:
 * an input is traced by a transform (or jit is staging), the inputs live on different backends or
 * were disposed (the composite then raises the error), or the backend lacks the kernel or declines.
 */
function runFused(op: Composite, inputs: readonly Tensor[], outputs: readonly Aval[]): Tensor[] | null {
  if (!runsEagerly(inputs)) return null;
  const operands = kernelOperands(inputs, false);
  if (operands === null) return null;
  const { backend, handles } = operands;
  const results = runCompositeKernel(backend, op.call, handles, outputs);
  if (results === null) return null;
  const tensors = results.map((h, i) => new Tensor((outputs[i] as Aval).shape, (outputs[i] as Aval).dtype, backend, h));
  const call: CustomVjpCall = {
    name: op.call.name,
    // No trace meets this call (see runsEagerly); a forward-mode trace would differentiate `fn`.
    differentiateFnInForwardMode: true,
    symbolicZeros: op.symbolicZeros,
    fn: () => tensors,
    fwd: () => ({ outputs: tensors, residuals: op.saves(inputs, tensors) }),
    bwd: (residuals, cotangents) => op.vjp(residuals as Tensor[], cotangents),
  };
  return bindCustomVjp(call, inputs);
}

/**
 * Softmax (or log-softmax, `log`) of `x` along `axis` (already normalized, rank at least 1);
 * `decompose` computes it in primitives.
 */
export function compositeSoftmax(x: Tensor, axis: number, log: boolean, decompose: (x: Tensor) => Tensor): Tensor {
  return composite(
    softmaxComposite(axis, log, ([t]) => [decompose(t as Tensor)]),
    [x],
  )[0] as Tensor;
}

function softmaxComposite(axis: number, log: boolean, decompose: (inputs: readonly Tensor[]) => Tensor[]): Composite {
  return {
    call: { name: 'softmax', axis, log },
    outputs: sameAsFirstInput,
    decompose,
    saves: (_, [y]) => [y as Tensor],
    vjp: log ? logSoftmaxVjp(axis) : softmaxVjp(axis),
  };
}

registerCompositeBinder('softmax', (call, inputs, body) => composite(softmaxComposite(call.axis, call.log, body), inputs));

/** One output with the first input's shape and dtype. */
const sameAsFirstInput = (inputs: readonly Tensor[]): Aval[] => [
  { shape: (inputs[0] as Tensor).shape, dtype: (inputs[0] as Tensor).dtype },
];

/**
 * The softmax backward pass from the output `y` and its cotangent `g`: the fused kernel when it
 * applies, else `ops` marked as the composite (jit hands it to the kernel).
 */
function softmaxBackward(y: Tensor, g: Tensor, axis: number, log: boolean, ops: () => Tensor): Tensor {
  const call: CompositeCall = { name: 'softmaxBackward', axis, log };
  const fused = runFusedBackward(call, [y, g], [y]);
  if (fused !== null) return fused[0] as Tensor;
  return stageComposite(call, [y, g], () => [ops()])[0] as Tensor;
}

/** d softmax: `y * (g - sum(g * y))` along the axis. */
function softmaxVjp(axis: number): CompositeVjp {
  return ([output], [cotangent]) => {
    const y = output as Tensor;
    const g = cotangent as Tensor;
    return [
      softmaxBackward(y, g, axis, false, () => {
        const weighted = mul(g, y);
        const total = sum(weighted, axis, true);
        const centered = sub(g, total);
        return releasing(mul(y, centered), weighted, total, centered);
      }),
    ];
  };
}

/** d logSoftmax: `g - exp(y) * sum(g)` along the axis. */
function logSoftmaxVjp(axis: number): CompositeVjp {
  return ([output], [cotangent]) => {
    const y = output as Tensor;
    const g = cotangent as Tensor;
    return [
      softmaxBackward(y, g, axis, true, () => {
        const probabilities = exp(y);
        const total = sum(g, axis, true);
        const scaled = mul(probabilities, total);
        return releasing(sub(g, scaled), probabilities, total, scaled);
      }),
    ];
  };
}

/**
 * Layer normalization of `x` over its last `normalizedDims` dims; `decompose` computes it in
 * primitives. `weight` and `bias` (null when absent) are already checked to have those dims' shape.
 */
export function compositeLayerNorm(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  normalizedDims: number,
  eps: number,
  decompose: (x: Tensor, weight: Tensor | null, bias: Tensor | null) => Tensor,
): Tensor {
  // The kernels take one dtype; mixed dtypes promote in the primitives.
  if ((weight !== null && weight.dtype !== x.dtype) || (bias !== null && bias.dtype !== x.dtype)) return decompose(x, weight, bias);
  const hasWeight = weight !== null;
  const hasBias = bias !== null;
  const inputs = [x];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  const call: LayerNormCall = { name: 'layerNorm', normalizedDims, eps, hasWeight, hasBias };
  const op = layerNormComposite(call, (xs) => [
    decompose(xs[0] as Tensor, hasWeight ? (xs[1] as Tensor) : null, hasBias ? (xs[hasWeight ? 2 : 1] as Tensor) : null),
  ]);
  return composite(op, inputs)[0] as Tensor;
}

type LayerNormCall = Extract<CompositeCall, { name: 'layerNorm' }>;

function layerNormComposite(call: LayerNormCall, decompose: (inputs: readonly Tensor[]) => Tensor[]): Composite {
  return {
    call,
    outputs: sameAsFirstInput,
    decompose,
    saves: (xs) => [...xs],
    vjp: layerNormVjp(call.hasWeight, call.hasBias, call.normalizedDims, call.eps),
  };
}

registerCompositeBinder('layerNorm', (call, inputs, body) => composite(layerNormComposite(call, body), inputs));

/**
 * d layerNorm. The statistics are recomputed from the recorded input (the kernel keeps none), so
 * that a recorded backward pass differentiates them too: with `xhat = (x - mean) * r`,
 * `r = 1 / sqrt(variance + eps)` and `h = g * weight`, the input's cotangent is
 * `r * (h - mean(h) - xhat * mean(h * xhat))` over the normalized dims; the weight's is
 * `sum(g * xhat)` and the bias's `sum(g)` over the leading dims.
 */
function layerNormVjp(hasWeight: boolean, hasBias: boolean, normalizedDims: number, eps: number): CompositeVjp {
  return (inputs, [cotangent]) => {
    const g = cotangent as Tensor;
    const x = inputs[0] as Tensor;
    const weight = hasWeight ? (inputs[1] as Tensor) : null;
    // Normalized over all of its dims, the bias's cotangent is `g` itself: the composite leaves it
    // out, since a region cannot return its own input.
    const biasIsG = hasBias && x.ndim === normalizedDims;
    const withBias = hasBias && !biasIsG;
    const call: CompositeCall = { name: 'layerNormBackward', normalizedDims, eps, hasWeight, hasBias: withBias };
    const arguments_ = weight === null ? [x, g] : [x, weight, g];
    const vector: Aval = { shape: x.shape.slice(x.ndim - normalizedDims), dtype: x.dtype };
    const cotangents =
      runFusedBackward(call, arguments_, cotangentAvals(x, vector, hasWeight, withBias)) ??
      stageComposite(call, arguments_, () => layerNormCotangents(x, weight, g, withBias, normalizedDims, eps));
    const result: (Tensor | null)[] = [cotangents[0] as Tensor];
    if (hasWeight) result.push(cotangents[1] as Tensor);
    if (hasBias) result.push(biasIsG ? g : (cotangents[hasWeight ? 2 : 1] as Tensor));
    return result;
  };
}

/** The shapes of a normalization's cotangents: the input's, then the weight's and the bias's (`vector`) where asked for. */
export function cotangentAvals(x: Aval, vector: Aval, withWeight: boolean, withBias: boolean): Aval[] {
  return [x, ...(withWeight ? [vector] : []), ...(withBias ? [vector] : [])];
}

/**
 * A normalization's input cotangent `r * (h - mean(h) - xhat * mean(h * xhat))`, means over
 * `axes` (what the statistics reduce), from `h` (the output's cotangent times the weight), the
 * normalized input `xhat` and `r = 1 / sqrt(variance + eps)` (broadcastable): layer norm's and
 * batch norm's backward passes in ordinary ops.
 */
export function normalizedInputCotangent(h: Tensor, normalized: Tensor, r: Tensor, axes: readonly number[]): Tensor {
  const hMean = mean(h, [...axes], true);
  const hNormalized = mul(h, normalized);
  const projection = mean(hNormalized, [...axes], true);
  const along = mul(normalized, projection);
  const difference = sub(h, hMean);
  const corrected = sub(difference, along);
  return releasing(mul(corrected, r), hMean, hNormalized, projection, along, difference, corrected);
}

/** The cotangents of layer norm's input, and of its weight and bias where present, in ordinary ops (see layerNormVjp). */
function layerNormCotangents(x: Tensor, weight: Tensor | null, g: Tensor, hasBias: boolean, normalizedDims: number, eps: number): Tensor[] {
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
  const cotangents: Tensor[] = [normalizedInputCotangent(h, normalized, r, axes)];
  const temporaries = [average, centered, squares, variance, shifted, r];
  if (h !== g) temporaries.push(h);
  if (weight !== null) {
    const product = mul(g, normalized);
    cotangents.push(leading.length === 0 ? product : sum(product, leading));
    if (leading.length !== 0) temporaries.push(product);
  }
  if (hasBias) cotangents.push(sum(g, leading)); // leading dims exist: see layerNormVjp
  return releasing(cotangents, ...temporaries, normalized);
}
