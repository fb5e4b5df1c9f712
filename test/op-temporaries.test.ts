import '@flint/backend-cpu';
import * as api from '@flint/api';
import { describe, expect, it } from 'vitest';

// An op called outside any `tidy` scope leaves behind only what it returns: the intermediates
// of a composite (a softmax's maxima and sums, a loss's per-element terms, casts and broadcast
// views of its operands) are freed when it returns. Left to the finalizer, they would hold their
// memory until the garbage collector runs finalizers, which a synchronous training loop on a
// GPU backend never lets it do.

const F = api.nn.functional;
api.setBackend('cpu');
const values = (n: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1) * scale);
const x = api.tensor(values(24), { shape: [4, 6] });
const probabilities = api.sigmoid(x);
const logProbabilities = F.logSoftmax(x, 1);
const distribution = F.softmax(x, 1);
const ints = api.tensor(
  Int32Array.from({ length: 24 }, (_, i) => i - 12),
  { shape: [4, 6] },
);
const labels = api.tensor(Int32Array.from([0, 5, 2, 3]), { shape: [4] });
const images = api.tensor(values(2 * 3 * 8 * 8), { shape: [2, 3, 8, 8] });
const kernels = api.tensor(values(4 * 3 * 3 * 3, 0.3), { shape: [4, 3, 3, 3] });
const bias4 = api.tensor(values(4, 0.1), { shape: [4] });
const weight6 = api.tensor(values(6 * 6, 0.2), { shape: [6, 6] });
const bias6 = api.tensor(values(6, 0.1), { shape: [6] });
const tokens = api.tensor(values(2 * 5 * 6), { shape: [2, 5, 6] });
const ctcTargets = api.tensor(Int32Array.from([1, 2, 3, 4, 5]), { shape: [5, 1] });
const signs = api.tensor(Float32Array.from([1, -1, 1, -1]), { shape: [4] });
const sequences = api.tensor(values(2 * 3 * 8), { shape: [2, 3, 8] });
const projections = { inProjWeight: api.tensor(values(18 * 6, 0.2), { shape: [18, 6] }), outProjWeight: weight6 };
const bilinearWeight = api.tensor(values(2 * 6 * 6, 0.2), { shape: [2, 6, 6] });
const positive = api.greater(x, 0);
const bias3 = api.tensor(values(3, 0.1), { shape: [3] });
const samplingGrid = api.tensor(values(2 * 4 * 6 * 2, 0.9), { shape: [2, 4, 6, 2] });
const affineMaps = api.tensor(values(2 * 2 * 3, 0.5), { shape: [2, 2, 3] });
const bagOffsets = api.tensor(Int32Array.from([0, 1, 1]), { shape: [3] });
const labelLists = api.tensor(Int32Array.from([0, 5, -1, 2, 0, 0, 3, -1, 1, 1, 1, 1, 4, 4, 4, 4, 4, -1, -1, 0, 0, 0, 0, 0]), {
  shape: [4, 6],
});
const bagRows = api.abs(labelLists);
const foldColumns = api.tensor(values(2 * 27 * 16), { shape: [2, 27, 16] });
const gumbelKey = api.random.key(1);
const columnSigns = api.reshape(signs, [4, 1]);
const variance4 = api.abs(signs);
const variance3 = api.tensor(Float32Array.from([0.5, 1, 2]), { shape: [3] });
const aboveOne = api.add(api.abs(x), 1.6);
const sortedRows = api.sort(x, 1);
const sorter6 = api.argsort(bias6);
const boundaries6 = api.sort(bias6);
const poissonRates = api.mul(api.abs(x), 6);
const normalDistribution = new api.distributions.Normal(x, 2);
const categoricalDistribution = new api.distributions.Categorical({ logits: x });

// Symmetric positive-definite matrices (and an LU) for the decompositions.
const spd = api.add(api.matmul(weight6, api.transpose(weight6)), api.mul(api.eye(6), 6));
const mvn = new api.distributions.MultivariateNormal(bias6, { covarianceMatrix: spd });
const m40 = api.tensor(values(1600, 0.2), { shape: [40, 40] });
const spd40 = api.add(api.matmul(m40, api.transpose(m40)), api.eye(40));
const m40x30 = api.slice(spd40, [0, 0], [40, 30]);
const zero6 = api.sub(spd, spd);
const negativeSpd = api.neg(spd);
const vectors3 = api.tensor(values(12), { shape: [4, 3] });
const otherVectors3 = api.tensor(values(12, 0.5), { shape: [4, 3] });
const xT = api.transpose(x);
const intSpd = api.tensor(Int32Array.from([4, 2, 2, 5]), { shape: [2, 2] });
const spdLu = api.linalg.luFactor(spd);
/** Runs `fn`, which must throw, and returns nothing: an op that raises must not leave its intermediates behind either. */
function raised(fn: () => unknown): null {
  expect(fn).toThrow(api.LinAlgError);
  return null;
}

const ops: Record<string, () => unknown> = {
  mean: () => api.mean(x),
  'mean of int32': () => api.mean(ints, 1),
  variance: () => api.variance(x, 1),
  std: () => api.std(x),
  logSumExp: () => api.logSumExp(x, -1),
  clamp: () => api.clamp(x, -0.5, 0.5),
  'clamp of int32 by floats': () => api.clamp(ints, -1.5, 2.5),
  'matmul of int32 and float32': () => api.matmul(ints, api.transpose(x)),
  softmax: () => F.softmax(x, -1),
  logSoftmax: () => F.logSoftmax(x, -1),
  gelu: () => F.gelu(x),
  'gelu (tanh)': () => F.gelu(x, 'tanh'),
  silu: () => F.silu(x),
  elu: () => F.elu(x),
  softplus: () => F.softplus(x),
  mish: () => F.mish(x),
  leakyRelu: () => F.leakyRelu(x),
  logSigmoid: () => F.logSigmoid(x),
  hardtanh: () => F.hardtanh(x),
  selu: () => F.selu(x),
  celu: () => F.celu(x, 0.5),
  glu: () => F.glu(x),
  hardswish: () => F.hardswish(x),
  hardsigmoid: () => F.hardsigmoid(x),
  softsign: () => F.softsign(x),
  threshold: () => F.threshold(x, 0.1, -1),
  prelu: () => F.prelu(x, bias6),
  softmin: () => F.softmin(x, 1),
  mseLoss: () => F.mseLoss(x, probabilities),
  l1Loss: () => F.l1Loss(x, probabilities),
  smoothL1Loss: () => F.smoothL1Loss(x, probabilities),
  huberLoss: () => F.huberLoss(x, probabilities),
  crossEntropy: () => F.crossEntropy(x, labels),
  'crossEntropy with label smoothing': () => F.crossEntropy(x, labels, { labelSmoothing: 0.1 }),
  nllLoss: () => F.nllLoss(logProbabilities, labels),
  binaryCrossEntropy: () => F.binaryCrossEntropy(probabilities, probabilities),
  binaryCrossEntropyWithLogits: () => F.binaryCrossEntropyWithLogits(x, probabilities),
  klDiv: () => F.klDiv(logProbabilities, distribution),
  linear: () => F.linear(x, weight6, bias6),
  layerNorm: () => F.layerNorm(x, [6]),
  rmsNorm: () => F.rmsNorm(x, [6]),
  groupNorm: () => F.groupNorm(images, 3),
  'batchNorm (training)': () => F.batchNorm(images, null, null, { training: true }),
  normalize: () => F.normalize(x),
  'conv2d with bias': () => F.conv2d(images, kernels, { padding: 1, bias: bias4 }),
  maxPool2d: () => F.maxPool2d(images, 2),
  avgPool2d: () => F.avgPool2d(images, 2),
  multiHeadAttention: () => F.multiHeadAttention(tokens, tokens, tokens, { numHeads: 2, ...projections }),
  cosineEmbeddingLoss: () => F.cosineEmbeddingLoss(x, probabilities, signs),
  marginRankingLoss: () => F.marginRankingLoss(signs, signs, signs),
  hingeEmbeddingLoss: () => F.hingeEmbeddingLoss(x, columnSigns),
  softMarginLoss: () => F.softMarginLoss(x, columnSigns),
  tripletMarginLoss: () => F.tripletMarginLoss(x, probabilities, distribution, { swap: true }),
  pairwiseDistance: () => F.pairwiseDistance(x, probabilities, { p: 3 }),
  cosineSimilarity: () => F.cosineSimilarity(x, probabilities, { axis: -1 }),
  'tripletMarginLoss (p 3)': () => F.tripletMarginLoss(x, probabilities, distribution, { p: 3 }),
  multiMarginLoss: () => F.multiMarginLoss(x, labels, { p: 2, weight: bias6 }),
  multiLabelMarginLoss: () => F.multiLabelMarginLoss(x, labelLists),
  multiLabelSoftMarginLoss: () => F.multiLabelSoftMarginLoss(x, probabilities, { weight: bias6 }),
  poissonNllLoss: () => F.poissonNllLoss(x, probabilities, { full: true }),
  'poissonNllLoss (rates)': () => F.poissonNllLoss(probabilities, distribution, { logInput: false }),
  embeddingBag: () => F.embeddingBag(labels, weight6, { offsets: bagOffsets, mode: 'max' }),
  'embeddingBag (2-d, weighted sum)': () => F.embeddingBag(bagRows, weight6, { mode: 'sum', perSampleWeights: x }),
  localResponseNorm: () => F.localResponseNorm(images, 3, { k: 2 }),
  unfold: () => F.unfold(images, 3, { padding: 1, stride: 2 }),
  fold: () => F.fold(foldColumns, [8, 8], 3, { padding: 1, stride: 2 }),
  gumbelSoftmax: () => F.gumbelSoftmax(x),
  'gumbelSoftmax (hard, keyed)': () => F.gumbelSoftmax(x, { hard: true, axis: 0, key: gumbelKey }),
  gaussianNllLoss: () => F.gaussianNllLoss(x, probabilities, variance4, { full: true }),
  'dropout (training)': () => F.dropout(x, 0.5, { training: true }),
  bilinear: () => F.bilinear(x, probabilities, bilinearWeight),
  avgPool1d: () => F.avgPool1d(sequences, 2),
  adaptiveAvgPool2d: () => F.adaptiveAvgPool2d(images, 2),
  'adaptiveMaxPool2d (uneven)': () => F.adaptiveMaxPool2d(images, 3),
  ctcLoss: () => F.ctcLoss(tokens, ctcTargets, [2, 2, 2, 2, 1], [1, 1, 1, 1, 1]),
  oneHot: () => F.oneHot(labels, 6),
  sort: () => api.sort(x, 1),
  topk: () => api.topk(x, 2, 1),
  scaledDotProductAttention: () => F.scaledDotProductAttention(tokens, tokens, tokens, { isCausal: true }),
  isinf: () => api.isinf(x),
  isfinite: () => api.isfinite(x),
  isclose: () => api.isclose(x, probabilities),
  allclose: () => api.allclose(x, probabilities),
  log2: () => api.log2(x),
  'log10 of int32': () => api.log10(ints),
  exp2: () => api.exp2(ints),
  sinh: () => api.sinh(x),
  cosh: () => api.cosh(x),
  asinh: () => api.asinh(x),
  acosh: () => api.acosh(variance3),
  atanh: () => api.atanh(x),
  clone: () => api.clone(x),
  maskedFill: () => api.maskedFill(x, positive, -1),
  tril: () => api.tril(x, 1),
  triu: () => api.triu(images, -1),
  diagonal: () => api.diagonal(images, 1, -1, -2),
  'diag of a vector': () => api.diag(bias6, -2),
  'diag of a matrix': () => api.diag(x, 1),
  trace: () => api.trace(x),
  meshgrid: () => api.meshgrid([bias4, bias6], { indexing: 'xy' }),
  nansum: () => api.nansum(x, 1),
  nanmean: () => api.nanmean(ints),
  'linalg.vectorNorm': () => api.linalg.vectorNorm(x, { axis: 1 }),
  'linalg.vectorNorm (p 3 of int32)': () => api.linalg.vectorNorm(ints, { ord: 3 }),
  'linalg.vectorNorm (Infinity)': () => api.linalg.vectorNorm(x, { ord: Number.POSITIVE_INFINITY }),
  'linalg.matrixNorm (1)': () => api.linalg.matrixNorm(images, { ord: 1 }),
  'linalg.norm': () => api.linalg.norm(x, { ord: Number.NEGATIVE_INFINITY }),
  'linalg.cholesky': () => api.linalg.cholesky(spd, { upper: true }),
  'linalg.choleskyEx (not positive-definite)': () => api.linalg.choleskyEx(weight6),
  'cholesky (blocked, n = 40)': () => api.cholesky(spd40),
  'linalg.solveTriangular': () => api.linalg.solveTriangular(spd, x, { upper: true, left: false }),
  'linalg.luFactor (blocked, 40 x 30)': () => api.linalg.luFactor(m40x30),
  'linalg.lu': () => api.linalg.lu(x),
  'linalg.luSolve': () => api.linalg.luSolve(spdLu.LU, spdLu.pivots, x, { left: false, adjoint: true }),
  'linalg.solve': () => api.linalg.solve(spd, bias6),
  'linalg.solve (singular, raising)': () => raised(() => api.linalg.solve(zero6, bias6)),
  'linalg.cholesky (raising)': () => raised(() => api.linalg.cholesky(negativeSpd)),
  'linalg.inv of int32': () => api.linalg.inv(intSpd),
  det: () => api.det(bilinearWeight),
  'linalg.slogdet': () => api.linalg.slogdet(spd),
  logdet: () => api.logdet(spd),
  'linalg.matrixPower (-3)': () => api.linalg.matrixPower(spd, -3),
  'linalg.qr': () => api.linalg.qr(x),
  'linalg.qr (complete, blocked)': () => api.linalg.qr(spd40, { mode: 'complete' }),
  'linalg.qr (r)': () => api.linalg.qr(xT, { mode: 'r' }),
  cross: () => api.cross(vectors3, otherVectors3),
  'linalg.vecdot': () => api.linalg.vecdot(x, bias6),
  'linalg.multiDot': () => api.linalg.multiDot([bias4, x, weight6, bias6]),
  kron: () => api.kron(x, signs),
  tensordot: () => api.tensordot(tokens, weight6, [[2], [0]]),
  blockDiag: () => api.blockDiag(x, bias4, ints),
  diagEmbed: () => api.diagEmbed(x, -1, 0, 2),
  norm: () => api.norm(x, 0.5, [0, 1], true),
  lerp: () => api.lerp(x, probabilities, distribution),
  'lerp of int32': () => api.lerp(ints, x, 0.5),
  trunc: () => api.trunc(x),
  frac: () => api.frac(x),
  rot90: () => api.rot90(x, 1),
  'rot90 (k 3)': () => api.rot90(images, 3, [1, 3]),
  diff: () => api.diff(x, { n: 2, prepend: probabilities }),
  'diff of bool': () => api.diff(positive, { axis: 0 }),
  cummax: () => api.cummax(x, 1),
  'cummin of int32': () => api.cummin(ints, 0),
  logcumsumexp: () => api.logcumsumexp(x, 1),
  'logcumsumexp of int32': () => api.logcumsumexp(ints, 0),
  kthvalue: () => api.kthvalue(x, 2, 1),
  median: () => api.median(x, 1),
  'median of everything': () => api.median(x),
  quantile: () => api.quantile(x, [0.25, 0.5], { axis: 0, interpolation: 'midpoint' }),
  'quantile of int32': () => api.quantile(ints, 0.3),
  indexSelect: () => api.indexSelect(x, 1, [0, 5]),
  scatter: () => api.scatter(x, 1, [[0], [5], [5], [2]], 7),
  'scatter of int32': () => api.scatter(ints, 0, [[1, 1, 1, 1, 1, 1]], ints),
  cdist: () => api.cdist(x, weight6),
  'cdist (p 1, batched)': () => api.cdist(tokens, x, { p: 1 }),
  'interpolate (bilinear)': () => F.interpolate(images, { scaleFactor: 1.5, mode: 'bilinear' }),
  'interpolate (nearest)': () => F.interpolate(images, { size: [5, 11] }),
  'interpolate (bicubic)': () => F.interpolate(images, { size: [5, 11], mode: 'bicubic' }),
  'interpolate (area)': () => F.interpolate(images, { scaleFactor: 0.5, mode: 'area' }),
  'interpolate (antialiased bilinear)': () => F.interpolate(images, { size: [3, 5], mode: 'bilinear', antialias: true }),
  'gridSample (bilinear, reflection)': () => F.gridSample(images, samplingGrid, { paddingMode: 'reflection' }),
  'gridSample (bicubic)': () => F.gridSample(images, samplingGrid, { mode: 'bicubic' }),
  'gridSample (nearest, 5-d)': () =>
    F.gridSample(api.reshape(images, [2, 3, 2, 4, 8]), api.reshape(samplingGrid, [2, 2, 2, 4, 3]), { mode: 'nearest' }),
  affineGrid: () => F.affineGrid(affineMaps, [2, 3, 4, 5]),
  pixelShuffle: () => F.pixelShuffle(api.reshape(images, [2, 12, 4, 4]), 2),
  channelShuffle: () => F.channelShuffle(images, 3),
  hardshrink: () => F.hardshrink(x),
  softshrink: () => F.softshrink(x),
  tanhshrink: () => F.tanhshrink(x),
  'rrelu (training, keyed)': () => F.rrelu(x, 0.1, 0.3, { training: true, key: gumbelKey }),
  featureAlphaDropout: () => F.featureAlphaDropout(images, 0.3, { training: true, key: gumbelKey }),
  pdist: () => F.pdist(x),
  tripletMarginWithDistanceLoss: () => F.tripletMarginWithDistanceLoss(x, probabilities, distribution, { swap: true }),
  'random.gamma': () => api.random.gamma(gumbelKey, 2.5, [8]),
  'random.poisson': () => api.random.poisson(gumbelKey, poissonRates, [4, 6]),
  'random.categorical': () => api.random.categorical(gumbelKey, x),
  'random.truncatedNormal': () => api.random.truncatedNormal(gumbelKey, -1, 2, [8]),
  multinomial: () => api.multinomial(distribution, 2),
  'distributions.Normal logProb': () => normalDistribution.logProb(probabilities),
  'distributions.Categorical logProb': () => categoricalDistribution.logProb(labels),
  'distributions.Categorical entropy': () => categoricalDistribution.entropy(),
  'distributions.klDivergence (MultivariateNormal)': () => api.distributions.klDivergence(mvn, mvn),
  pixelUnshuffle: () => F.pixelUnshuffle(images, 2),
  'dropout2d (training)': () => F.dropout2d(images, 0.5),
  'dropout1d (training, unbatched)': () => F.dropout1d(x, 0.5),
  'alphaDropout (training)': () => F.alphaDropout(x, 0.5, { training: true }),
  instanceNorm: () => F.instanceNorm(images, { weight: variance3, bias: bias3 }),
  'instanceNorm (given statistics)': () => F.instanceNorm(images, { runningMean: bias3, runningVar: variance3, useInputStats: false }),
  searchsorted: () => api.searchsorted(sortedRows, x, { right: true }),
  'searchsorted (one row, sorter)': () => api.searchsorted(bias6, x, { sorter: sorter6 }),
  bucketize: () => api.bucketize(x, boundaries6),
  countNonzero: () => api.countNonzero(ints, 1),
  histc: () => api.histc(x, { bins: 5 }),
  'histc (range)': () => api.histc(x, { bins: 4, min: -0.5, max: 0.5 }),
  bincount: () => api.bincount(labels, { weights: signs }),
  'bincount (length)': () => api.bincount(labels, { length: 4 }),
  nonzero: () => api.nonzero(positive),
  'nonzero (asTuple)': () => api.nonzero(ints, { asTuple: true }),
  argwhere: () => api.argwhere(ints),
  maskedSelect: () => api.maskedSelect(x, positive),
  unique: () => api.unique(ints, { returnInverse: true, returnCounts: true }),
  'unique (axis)': () => api.unique(labelLists, { axis: 0, returnCounts: true }),
  uniqueConsecutive: () => api.uniqueConsecutive(labelLists, { axis: 1, returnInverse: true }),
  lgamma: () => api.lgamma(x),
  'digamma of int32': () => api.digamma(ints),
  'polygamma (3)': () => api.polygamma(3, x),
  mvlgamma: () => api.mvlgamma(aboveOne, 3),
  erfc: () => api.erfc(x),
  erfcx: () => api.erfcx(x),
  ndtr: () => api.ndtr(x),
  ndtri: () => api.ndtri(probabilities),
  logNdtr: () => api.logNdtr(x),
  i0: () => api.i0(x),
  i0e: () => api.i0e(x),
  'i1 of int32': () => api.i1(ints),
  i1e: () => api.i1e(x),
  erfinv: () => api.erfinv(probabilities),
  zeta: () => api.zeta(aboveOne, probabilities),
  'zeta (negative q)': () => api.zeta(3, x),
  gammainc: () => api.gammainc(aboveOne, probabilities),
  'gammaincc of int32': () => api.gammaincc(aboveOne, ints),
  besselJ0: () => api.besselJ0(x),
  'besselJ1 of int32': () => api.besselJ1(ints),
  besselY0: () => api.besselY0(aboveOne),
  besselY1: () => api.besselY1(aboveOne),
  modifiedBesselI0: () => api.modifiedBesselI0(x),
  modifiedBesselI1: () => api.modifiedBesselI1(x),
  modifiedBesselK0: () => api.modifiedBesselK0(aboveOne),
  modifiedBesselK1: () => api.modifiedBesselK1(aboveOne),
  scaledModifiedBesselK0: () => api.scaledModifiedBesselK0(aboveOne),
  scaledModifiedBesselK1: () => api.scaledModifiedBesselK1(aboveOne),
  sphericalBesselJ0: () => api.sphericalBesselJ0(x),
  'chebyshevPolynomialT (tensor n)': () => api.chebyshevPolynomialT(x, ints),
  'chebyshevPolynomialU (12)': () => api.chebyshevPolynomialU(x, 12),
  chebyshevPolynomialV: () => api.chebyshevPolynomialV(x, 3),
  chebyshevPolynomialW: () => api.chebyshevPolynomialW(x, 3),
  'hermitePolynomialH (tensor n)': () => api.hermitePolynomialH(x, labels.reshape([4, 1])),
  hermitePolynomialHe: () => api.hermitePolynomialHe(x, 4),
  laguerrePolynomialL: () => api.laguerrePolynomialL(x, 4),
  legendrePolynomialP: () => api.legendrePolynomialP(x, 4),
  logaddexp: () => api.logaddexp(x, probabilities),
  logaddexp2: () => api.logaddexp2(x, 1),
  xlogy: () => api.xlogy(x, probabilities),
  xlog1py: () => api.xlog1py(x, probabilities),
  hypot: () => api.hypot(x, columnSigns),
  copysign: () => api.copysign(x, columnSigns),
  heaviside: () => api.heaviside(x, 0.5),
  sinc: () => api.sinc(x),
  logit: () => api.logit(probabilities, 1e-6),
  'deg2rad of int32': () => api.deg2rad(ints),
  signbit: () => api.signbit(x),
  nanToNum: () => api.nanToNum(x),
  fmod: () => api.fmod(x, 0.7),
  'fmod of int32': () => api.fmod(ints, 5),
  floatPower: () => api.floatPower(x, 2),
  entr: () => api.entr(probabilities),
  varMean: () => api.varMean(x, 1),
  'stdMean of int32': () => api.stdMean(ints),
  aminmax: () => api.aminmax(x, { axis: 0 }),
  cov: () => api.cov(x, { aweights: bias6 }),
  corrcoef: () => api.corrcoef(x),
  trapezoid: () => api.trapezoid(x, { x: bias6 }),
  cumulativeTrapezoid: () => api.cumulativeTrapezoid(ints, { dx: 0.5 }),
  tensorSplit: () => api.tensorSplit(x, 3, 1),
  cartesianProd: () => api.cartesianProd(bias4, bias6),
  combinations: () => api.combinations(bias6, { r: 3 }),
};

describe('ops outside a tidy scope leave only their results', () => {
  for (const [name, run] of Object.entries(ops)) {
    it(name, () => {
      const before = api.memory();
      api.dispose(run());
      const after = api.memory();
      expect({ buffers: after.buffers, bytes: after.bytes }, `${name} left intermediates behind`).toEqual({
        buffers: before.buffers,
        bytes: before.bytes,
      });
    });
  }
});
