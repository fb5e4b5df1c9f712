import '@flint/backend-cpu';
import { ones, tensor, conv2d as topLevelConv2d, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

// PyTorch-style positional arguments where Flint takes an options object used to be silently
// ignored by plain-JavaScript and `any`-typed callers; every function with a trailing options
// object now refuses them (ops/options-argument.ts).

// Called as untyped JavaScript would call them.
const F: Record<string, (...args: unknown[]) => unknown> = nn.functional as never;
const x = ones([1, 1, 3, 3]);

/** Each guarded function, its arguments before the options object, PyTorch's first positional parameter there, and one of its options. */
const GUARDED: readonly [name: string, leading: readonly unknown[], firstTorchPositional: string | null, option: string][] = [
  ['conv1d', [x, x], 'bias', 'dilation'],
  ['conv2d', [x, x], 'bias', 'groups'],
  ['conv3d', [x, x], 'bias', 'stride'],
  ['convTranspose1d', [x, x], 'bias', 'outputPadding'],
  ['convTranspose2d', [x, x], 'bias', 'outputPadding'],
  ['convTranspose3d', [x, x], 'bias', 'outputPadding'],
  ['maxPool1d', [x, 2], 'stride', 'ceilMode'],
  ['maxPool2d', [x, 2], 'stride', 'ceilMode'],
  ['maxPool3d', [x, 2], 'stride', 'ceilMode'],
  ['avgPool1d', [x, 2], 'stride', 'countIncludePad'],
  ['avgPool2d', [x, 2], 'stride', 'countIncludePad'],
  ['avgPool3d', [x, 2], 'stride', 'countIncludePad'],
  ['maxUnpool1d', [x, x, 2], 'stride', 'outputSize'],
  ['maxUnpool2d', [x, x, 2], 'stride', 'padding'],
  ['maxUnpool3d', [x, x, 2], 'stride', 'outputSize'],
  ['lpPool1d', [x, 2, 2], 'stride', 'ceilMode'],
  ['lpPool2d', [x, 2, 2], 'stride', 'ceilMode'],
  ['lpPool3d', [x, 2, 2], 'stride', 'ceilMode'],
  ['fractionalMaxPool2d', [x, 2], 'outputSize', 'outputRatio'],
  ['fractionalMaxPool3d', [x, 2], 'outputSize', 'randomSamples'],
  ['dropout', [x, 0.5], 'training', 'training'],
  ['batchNorm', [x, null, null], 'weight', 'training'],
  ['batchNormTraining', [x], null, 'eps'],
  ['layerNorm', [x, [3]], 'weight', 'eps'],
  ['groupNorm', [x, 1], 'weight', 'weight'],
  ['rmsNorm', [x, [3]], 'weight', 'eps'],
  ['normalize', [x], 'p', 'axis'],
  ['embedding', [x, x], 'paddingIdx', 'paddingIdx'],
  ['mseLoss', [x, x], null, 'reduction'],
  ['l1Loss', [x, x], null, 'reduction'],
  ['smoothL1Loss', [x, x], null, 'beta'],
  ['huberLoss', [x, x], 'reduction', 'delta'],
  ['crossEntropy', [x, x], 'weight', 'labelSmoothing'],
  ['nllLoss', [x, x], 'weight', 'ignoreIndex'],
  ['binaryCrossEntropy', [x, x], 'weight', 'reduction'],
  ['binaryCrossEntropyWithLogits', [x, x], 'weight', 'posWeight'],
  ['klDiv', [x, x], null, 'logTarget'],
  ['cosineEmbeddingLoss', [x, x, x], 'margin', 'margin'],
  ['marginRankingLoss', [x, x, x], 'margin', 'margin'],
  ['hingeEmbeddingLoss', [x, x], 'margin', 'margin'],
  ['softMarginLoss', [x, x], null, 'reduction'],
  ['tripletMarginLoss', [x, x, x], 'margin', 'swap'],
  ['pairwiseDistance', [x, x], 'p', 'keepdims'],
  ['cosineSimilarity', [x, x], 'axis', 'eps'],
  ['multiMarginLoss', [x, x], 'p', 'margin'],
  ['multiLabelSoftMarginLoss', [x, x], 'weight', 'weight'],
  ['multiLabelMarginLoss', [x, x], null, 'reduction'],
  ['poissonNllLoss', [x, x], 'logInput', 'logInput'],
  ['gaussianNllLoss', [x, x, x], 'full', 'full'],
  ['ctcLoss', [x, x, x, x], 'blank', 'zeroInfinity'],
  ['gumbelSoftmax', [x], 'tau', 'hard'],
  ['unfold', [x, 2], 'dilation', 'padding'],
  ['localResponseNorm', [x, 2], 'alpha', 'beta'],
  ['embeddingBag', [x, x], 'offsets', 'mode'],
  ['fold', [ones([1, 4, 4]), 3, 2], 'dilation', 'stride'],
  ['scaledDotProductAttention', [x, x, x], 'attnMask', 'isCausal'],
  ['multiHeadAttention', [x, x, x, {}], null, 'keyPaddingMask'],
  ['pad', [x, [1, 1]], 'mode', 'mode'],
  ['interpolate', [x], 'size', 'scaleFactor'],
  ['gridSample', [x, ones([1, 2, 2, 2])], 'mode', 'paddingMode'],
  ['affineGrid', [ones([1, 2, 3]), [1, 1, 2, 2]], 'alignCorners', 'alignCorners'],
  ['dropout1d', [x, 0.5], 'training', 'training'],
  ['dropout2d', [x, 0.5], 'training', 'key'],
  ['dropout3d', [x, 0.5], 'training', 'training'],
  ['alphaDropout', [x, 0.5], 'training', 'training'],
  ['instanceNorm', [x], 'runningMean', 'useInputStats'],
  ['featureAlphaDropout', [x, 0.5], 'training', 'training'],
  ['rrelu', [x, 0.1, 0.3], 'training', 'key'],
  ['tripletMarginWithDistanceLoss', [x, x, x], null, 'distanceFunction'],
];

/** nn.functional's other exports, and why they need no guard. */
const UNGUARDED: Readonly<Record<string, string>> = {
  // activations.ts (another engineer's): their trailing parameters are PyTorch's positional ones.
  elu: 'activation',
  gelu: 'activation',
  hardtanh: 'activation',
  leakyRelu: 'activation',
  logSigmoid: 'activation',
  logSoftmax: 'activation',
  mish: 'activation',
  relu: 'activation',
  relu6: 'activation',
  sigmoid: 'activation',
  silu: 'activation',
  softmax: 'activation',
  softplus: 'activation',
  tanh: 'activation',
  selu: 'activation',
  celu: 'activation',
  glu: 'activation',
  hardswish: 'activation',
  hardsigmoid: 'activation',
  softsign: 'activation',
  threshold: 'activation',
  prelu: 'activation (the weight is positional, as in PyTorch)',
  softmin: 'activation',
  hardshrink: 'activation',
  softshrink: 'activation',
  tanhshrink: 'activation',
  // The bias is positional, as in PyTorch.
  linear: 'positional bias',
  bilinear: 'positional bias',
  // No options object: the output size is PyTorch's only argument.
  adaptiveAvgPool1d: 'no options',
  adaptiveAvgPool2d: 'no options',
  adaptiveAvgPool3d: 'no options',
  adaptiveMaxPool1d: 'no options',
  adaptiveMaxPool2d: 'no options',
  adaptiveMaxPool3d: 'no options',
  oneHot: 'numClasses is positional, as in PyTorch',
  pixelShuffle: "no options: the factor is PyTorch's only argument",
  pixelUnshuffle: "no options: the factor is PyTorch's only argument",
  channelShuffle: "no options: the groups are PyTorch's only argument",
  pdist: "no options: p is PyTorch's only argument",
};

const nameOf = (op: string): string => (op === 'pad' ? 'nn.functional.pad' : op);

describe('options objects given PyTorch-style positional arguments', () => {
  it('every nn.functional export is either guarded or listed as needing no guard', () => {
    const listed = [...GUARDED.map(([name]) => name), ...Object.keys(UNGUARDED)].sort();
    const exported = Object.keys(nn.functional)
      .filter((name) => typeof F[name] === 'function')
      .sort();
    expect(exported).toEqual(listed);
  });

  it.each(GUARDED)('%s refuses a Tensor, number, boolean, array or string where its options object belongs', (name, leading, first) => {
    const fn = F[name] as (...args: unknown[]) => unknown;
    const position = leading.length + 1;
    for (const bad of [tensor([1]), 2, false, [1, 1], 'sum', null]) {
      const run = () => fn(...leading, bad);
      expect(run).toThrow(ValueError);
      expect(run).toThrow(new RegExp(`^${nameOf(name).replace('.', '\\.')}: argument ${position} is the options object \\{ `));
      if (first !== null && bad !== null) expect(run).toThrow(new RegExp(`pass the ${first} as \\{ ${first}`));
    }
  });

  it.each(GUARDED)('%s refuses arguments after its options object', (name, leading) => {
    const fn = F[name] as (...args: unknown[]) => unknown;
    const position = leading.length + 1;
    const message = new RegExp(
      `takes at most ${position} arguments, the last the options object .*; got ${position + 1} \\(argument ${position + 1} is a number \\(1\\)\\)`,
    );
    expect(() => fn(...leading, {}, 1)).toThrow(message);
    expect(() => fn(...leading, undefined, { eps: 1 })).toThrow(`pass the options as argument ${position}`);
  });

  it.each(GUARDED)('%s refuses its options spelled the PyTorch way (snake_case, other casing)', (name, leading, _, option) => {
    const fn = F[name] as (...args: unknown[]) => unknown;
    const snake = option.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const misspelled = snake === option ? option.toUpperCase() : snake;
    expect(() => fn(...leading, { [misspelled]: 1 })).toThrow(
      new RegExp(
        `^${nameOf(name).replace('.', '\\.')}: option '${misspelled}' in argument ${leading.length + 1} is spelled '${option}' here`,
      ),
    );
  });

  it('names the fix for the calls PyTorch users write', () => {
    const w = ones([1, 1, 3, 3]);
    const b = tensor([100], { dtype: 'float32' });
    expect(() => F.conv2d?.(x, w, b)).toThrow(
      'conv2d: argument 3 is the options object { bias, stride, padding, dilation, groups }; got a Tensor — pass the bias as { bias }',
    );
    expect(() => F.maxPool2d?.(x, 2, 1)).toThrow(
      'maxPool2d: argument 3 is the options object { stride, padding, dilation, ceilMode, returnIndices }; got a number (1) — pass the stride as { stride: 1 }',
    );
    expect(() => F.dropout?.(x, 0.5, false)).toThrow(
      'dropout: argument 3 is the options object { training, key }; got a boolean (false) — pass the training as { training: false }',
    );
    expect(() => F.avgPool2d?.(x, 2, 1, 0, false, false)).toThrow(
      'got a number (1), a number (0), a boolean (false) and a boolean (false) — pass the stride, padding, ceilMode and countIncludePad as { stride: 1, padding: 0, ceilMode: false, countIncludePad: false }',
    );
    expect(() => F.crossEntropy?.(x, x, null, null, -1)).toThrow('pass the ignoreIndex as { ignoreIndex: -1 }');
    expect(() => F.mseLoss?.(x, x, true)).toThrow("got a boolean (true) — PyTorch's positional sizeAverage has no counterpart here");
    expect(() => F.dropout?.(x, 0.5, true, true)).toThrow(
      "pass the training as { training: true }; PyTorch's positional inplace has no counterpart here",
    );
    expect(() => F.conv2d?.(x, w, null)).toThrow('got null — omit it or pass an object');
    expect(() => F.maxPool2d?.(x, 2, { ceil_mode: true })).toThrow(
      "maxPool2d: option 'ceil_mode' in argument 3 is spelled 'ceilMode' here; the options object takes { stride, padding, dilation, ceilMode, returnIndices }",
    );
    expect(() => F.normalize?.(x, { dim: 1 })).toThrow("normalize: option 'dim' in argument 2 is spelled 'axis' here");
    // The functions are the top-level ops too.
    expect(() => (topLevelConv2d as (...args: unknown[]) => unknown)(x, w, undefined, { stride: 2 })).toThrow(
      'conv2d: takes at most 3 arguments, the last the options object { bias, stride, padding, dilation, groups }; got 4 (argument 4 is an object) — pass the options as argument 3',
    );
  });

  it('still accepts what it accepted: options objects, undefined options, trailing undefined arguments', () => {
    const w = ones([1, 1, 3, 3]);
    const b = tensor([100], { dtype: 'float32' });
    expect(nn.functional.conv2d(x, w, { bias: b }).arraySync()).toEqual([[[[109]]]]);
    // Keys that are no option's spelling pass, so one configuration object can serve several calls.
    expect(F.conv2d?.(x, w, { bias: b, name: 'layer 1', kernelSize: 3 })).toBeDefined();
    expect(nn.functional.conv2d(x, w).arraySync()).toEqual([[[[9]]]]);
    expect(F.conv2d?.(x, w, undefined, undefined)).toBeDefined();
    expect(nn.functional.maxPool2d(x, 2, { stride: 1 }).shape).toEqual([1, 1, 2, 2]);
    expect(nn.functional.dropout(x, 0.5, { training: false }).arraySync()).toEqual(x.arraySync());
    expect(nn.functional.batchNorm(ones([2, 1, 3]), null, null, { training: true, eps: 1e-5 }).shape).toEqual([2, 1, 3]);
    expect(nn.functional.linear(ones([1, 1]), ones([1, 1]), tensor([10], { dtype: 'float32' })).arraySync()).toEqual([[11]]);
    expect(() => F.linear?.(ones([1, 1]), ones([1, 1]), { bias: ones([1]) })).toThrow(
      'linear: bias must be a Tensor or null, got an object',
    );
  });
});
