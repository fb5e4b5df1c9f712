/**
 * The shapes and initial values of the convolution and training suites, shared by the TypeScript
 * runners so that every system starts from the same inputs and parameters (bench/README.md, "What
 * each suite measures"). Each runner turns these into its own tensors; the key order of `params`
 * is the canonical order of the gradients in the check.
 */
import { initScale, labels, oneHot, symmetricArray } from './prng.js';
import { type CaseSpec, param } from './suites.js';

/** A tensor's initial value: hashed data, or a constant fill (biases 0, layer-norm gains 1). */
export type Initial = { readonly shape: number[]; readonly data: Float32Array } | { readonly shape: number[]; readonly fill: 0 | 1 };

/** A parameter whose value comes from the input hash (weights, kernels). */
export type HashedInitial = Extract<Initial, { data: Float32Array }>;

const hashed = (seed: number, shape: number[], fanIn: number): HashedInitial => ({
  shape,
  data: symmetricArray(
    seed,
    shape.reduce((a, b) => a * b, 1),
    initScale(fanIn),
  ),
});
const filled = (shape: number[], fill: 0 | 1): Initial => ({ shape, fill });

/** Maps each initial value to a runner's tensor, keeping the keys (and their order). */
export function materialize<P extends Record<string, Initial>, R>(params: P, make: (initial: Initial) => R): { [K in keyof P]: R } {
  return Object.fromEntries(Object.entries(params).map(([name, initial]) => [name, make(initial)])) as { [K in keyof P]: R };
}

/**
 * conv2d suite: x[n,c,s,s] (NCHW), w[o,c,3,3] (OIHW), padding 1, `stride` (param, default 1) and,
 * for the backward cases only (hence a function), the cotangent r[n,o,so,so] of the output, whose
 * side is so = floor((s + 2 - 3) / stride) + 1.
 */
export function conv2dInputs(spec: CaseSpec) {
  const seed = spec.params.seed ?? 0;
  const n = param(spec, 'batch');
  const c = param(spec, 'inChannels');
  const o = param(spec, 'outChannels');
  const s = param(spec, 'size');
  const stride = spec.params.stride ?? 1;
  const so = Math.floor((s + 2 - 3) / stride) + 1;
  return {
    n,
    c,
    o,
    s,
    stride,
    so,
    x: symmetricArray(seed + 1, n * c * s * s),
    w: symmetricArray(seed + 2, o * c * 9, initScale(c * 9)),
    cotangent: () => symmetricArray(seed + 3, n * o * so * so),
  };
}

/** Inputs `x` and one-hot targets `y` of a classifier batch. */
function classifierData(seed: number, batch: number, inputShape: number[], classes: number) {
  return {
    x: { shape: [batch, ...inputShape], data: symmetricArray(seed + 1, batch * inputShape.reduce((a, b) => a * b, 1)) },
    y: { shape: [batch, classes], data: oneHot(labels(seed + 2, batch, classes), classes) },
  };
}

/** 784-512-512-10 MLP (full-run shapes): also the Trainer suite's model. */
export function mlpModel(spec: CaseSpec) {
  const seed = spec.params.seed ?? 0;
  const batch = param(spec, 'batch');
  const inputs = param(spec, 'inputs');
  const hidden = param(spec, 'hidden');
  const classes = param(spec, 'classes');
  return {
    batch,
    ...classifierData(seed, batch, [inputs], classes),
    params: {
      w1: hashed(seed + 11, [inputs, hidden], inputs),
      b1: filled([hidden], 0),
      w2: hashed(seed + 12, [hidden, hidden], hidden),
      b2: filled([hidden], 0),
      w3: hashed(seed + 13, [hidden, classes], hidden),
      b3: filled([classes], 0),
    },
  };
}

/** LeNet-style CNN, NCHW inputs and OIHW kernels; `flat` rows of w3 follow NCHW flattening. */
export function cnnModel(spec: CaseSpec) {
  const seed = spec.params.seed ?? 0;
  const batch = param(spec, 'batch');
  const image = param(spec, 'image');
  const c1 = param(spec, 'channels1');
  const c2 = param(spec, 'channels2');
  const hidden = param(spec, 'hidden');
  const classes = param(spec, 'classes');
  const flat = c2 * (image / 4) * (image / 4);
  return {
    batch,
    image,
    c1,
    c2,
    hidden,
    flat,
    ...classifierData(seed, batch, [1, image, image], classes),
    params: {
      k1: hashed(seed + 11, [c1, 1, 3, 3], 9),
      kb1: filled([c1], 0),
      k2: hashed(seed + 12, [c2, c1, 3, 3], c1 * 9),
      kb2: filled([c2], 0),
      w3: hashed(seed + 13, [flat, hidden], flat),
      b3: filled([hidden], 0),
      w4: hashed(seed + 14, [hidden, classes], hidden),
      b4: filled([classes], 0),
    },
  };
}

/** One pre-LN encoder layer on `rows` = batch x tokens rows of width d, against a random target. */
export function transformerModel(spec: CaseSpec) {
  const seed = spec.params.seed ?? 0;
  const batch = param(spec, 'batch');
  const tokens = param(spec, 'tokens');
  const d = param(spec, 'model');
  const heads = param(spec, 'heads');
  const ffn = param(spec, 'ffn');
  const rows = batch * tokens;
  return {
    batch,
    tokens,
    d,
    heads,
    dh: d / heads,
    rows,
    x: { shape: [rows, d], data: symmetricArray(seed + 1, rows * d) },
    target: { shape: [rows, d], data: symmetricArray(seed + 2, rows * d) },
    params: {
      wq: hashed(seed + 11, [d, d], d),
      wk: hashed(seed + 12, [d, d], d),
      wv: hashed(seed + 13, [d, d], d),
      wo: hashed(seed + 14, [d, d], d),
      w1: hashed(seed + 15, [d, ffn], d),
      w2: hashed(seed + 16, [ffn, d], ffn),
      bq: filled([d], 0),
      bk: filled([d], 0),
      bv: filled([d], 0),
      bo: filled([d], 0),
      b1: filled([ffn], 0),
      b2: filled([d], 0),
      g1: filled([d], 1),
      n1: filled([d], 0),
      g2: filled([d], 1),
      n2: filled([d], 0),
    },
  };
}
