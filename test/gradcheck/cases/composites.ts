import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import * as F from '../../../packages/api/src/nn/functional/index.js';
import { backendOf } from '../../../packages/api/src/transforms/core.js';
import {
  axesSubset,
  broadcastPair,
  distinctOperand,
  floatOperand,
  intOperand,
  permutation,
  shapes,
  tripletOperands,
  type ValueOptions,
} from '../generators.js';
import { type CompositeCase, composite } from './composite-case.js';
import { linalgDecompositionCases } from './linalg-decompositions.js';
import { linalgSpectralCases } from './linalg-spectral.js';
import { nnCompletionCases } from './nn-completions.js';
import { nnUtilsCases } from './nn-utils.js';
import { normCases } from './norms.js';
import { poolingCases } from './pooling.js';
import { samplingCases } from './sampling.js';
import { searchingCases } from './searching.js';
import { specialCases } from './special.js';
import { torchFunctionCases } from './torch-functions.js';
import { rampWeightedSums, selfWeightedSums } from './weighted-sums.js';

// Composite ops (written in primitives by the ops layer and nn.functional): their gradients come
// from the primitives' rules; these cases check that the composition is right, through the
// public API with broadcasting, keepdims and the ops' own argument handling.

export type { CompositeCase } from './composite-case.js';

const one = (shape: fc.Arbitrary<number[]>, values: ValueOptions = {}) =>
  shape.chain((s) => floatOperand(s, values)).map((x) => ({ operands: [x] }));
const x0 = (xs: Tensor[]): Tensor => xs[0] as Tensor;
const x1 = (xs: Tensor[]): Tensor => xs[1] as Tensor;

function unaryOp(name: string, fn: (x: Tensor) => Tensor, values: ValueOptions = {}, smooth = true): CompositeCase {
  return composite(name, [name], one(shapes(), values), (xs) => fn(x0(xs)), { smooth });
}

function binaryOp(
  name: string,
  fn: (a: Tensor, b: Tensor) => Tensor,
  a: ValueOptions = {},
  b: ValueOptions = {},
  smooth = true,
): CompositeCase {
  return composite(
    `${name} (broadcasting)`,
    [name],
    broadcastPair().chain(([sa, sb]) => fc.tuple(floatOperand(sa, a), floatOperand(sb, b)).map((operands) => ({ operands }))),
    (xs) => fn(x0(xs), x1(xs)),
    { smooth },
  );
}

/** A shape and a reduction axis spec with keepdims. */
const reduction = (minRank = 0, distinct = false, minDim = 1) =>
  shapes(minRank, 3, minDim).chain((shape) =>
    fc
      .tuple(distinct ? distinctOperand(shape) : floatOperand(shape), axesSubset(shape.length, false), fc.boolean())
      .map(([x, axes, keepdims]) => ({ operands: [x], params: { axes, keepdims } })),
  );

type AxesParams = { axes: number[]; keepdims: boolean };
const axesOf = (p: never): AxesParams => p as unknown as AxesParams;

export const compositeCases: CompositeCase[] = [
  ...normCases,
  ...linalgDecompositionCases,
  ...linalgSpectralCases,
  ...torchFunctionCases,
  ...specialCases,
  ...searchingCases,
  ...samplingCases,
  ...poolingCases,
  ...nnUtilsCases,
  ...nnCompletionCases,
  // Elementwise, through promotion and broadcasting.
  binaryOp('add', flint.add),
  binaryOp('sub', flint.sub),
  binaryOp('mul', flint.mul),
  binaryOp('div', flint.div, {}, { avoid: [0], gap: 0.4 }),
  binaryOp('pow', flint.pow, { min: 0.3, max: 2 }, {}),
  // Off the origin and off the cut along the negative x axis.
  binaryOp('atan2', flint.atan2, { avoid: [0], gap: 0.4 }, { avoid: [0], gap: 0.4 }),
  // Values on two interleaved grids never tie, whatever the broadcasting pairs up.
  binaryOp('maximum', flint.maximum, { grid: 0 }, { grid: 0.25 }, false),
  binaryOp('minimum', flint.minimum, { grid: 0 }, { grid: 0.25 }, false),
  unaryOp('neg', flint.neg),
  unaryOp('abs', flint.abs, { avoid: [0] }, false),
  unaryOp('exp', flint.exp),
  unaryOp('log', flint.log, { min: 0.3, max: 3 }),
  unaryOp('log1p', flint.log1p, { min: -0.5, max: 2 }),
  unaryOp('expm1', flint.expm1),
  unaryOp('sqrt', flint.sqrt, { min: 0.3, max: 3 }),
  unaryOp('rsqrt', flint.rsqrt, { min: 0.3, max: 3 }),
  unaryOp('sin', flint.sin),
  unaryOp('cos', flint.cos),
  unaryOp('tan', flint.tan, { min: -1.1, max: 1.1 }),
  unaryOp('asin', flint.asin, { min: -0.7, max: 0.7 }),
  unaryOp('acos', flint.acos, { min: -0.7, max: 0.7 }),
  unaryOp('atan', flint.atan, { min: -3, max: 3 }),
  unaryOp('tanh', flint.tanh),
  unaryOp('sigmoid', flint.sigmoid),
  unaryOp('erf', flint.erf),
  unaryOp('reciprocal', flint.reciprocal, { avoid: [0], gap: 0.4 }),
  unaryOp('square', flint.square),
  // Composites of exp, expm1, log and pow (ops/transcendental.ts).
  unaryOp('log2', flint.log2, { min: 0.3, max: 3 }),
  unaryOp('log10', flint.log10, { min: 0.3, max: 3 }),
  unaryOp('exp2', flint.exp2),
  unaryOp('sinh', flint.sinh),
  unaryOp('cosh', flint.cosh),
  // Composites of log1p, sqrt and log (ops/transcendental.ts); atanh and acosh off their poles.
  unaryOp('asinh', flint.asinh, { min: -4, max: 4 }),
  unaryOp('acosh', flint.acosh, { min: 1.3, max: 5 }),
  unaryOp('atanh', flint.atanh, { min: -0.7, max: 0.7 }),
  unaryOp('clone', flint.clone),
  composite(
    'maskedFill (tensor value)',
    ['maskedFill'],
    shapes().chain((shape) => fc.tuple(floatOperand(shape, { avoid: [0] }), floatOperand([])).map((operands) => ({ operands }))),
    (xs) => flint.maskedFill(x0(xs), flint.greater(x0(xs), 0), x1(xs)).mul(2),
    { smooth: false },
  ),
  composite('nansum', ['nansum'], reduction(), (xs, p) => flint.nansum(x0(xs), axesOf(p).axes, axesOf(p).keepdims)),
  composite('nanmean', ['nanmean'], reduction(), (xs, p) => flint.nanmean(x0(xs), axesOf(p).axes, axesOf(p).keepdims)),
  composite('clamp', ['clamp'], one(shapes(), { avoid: [-0.5, 0.7], gap: 0.1 }), (xs) => flint.clamp(x0(xs), -0.5, 0.7), { smooth: false }),
  // Tensor bounds take gradients too (PyTorch's clamp_backward_min_max), min > max included;
  // three interleaved grids never tie.
  composite(
    'clamp (tensor bounds, broadcasting)',
    ['clamp'],
    broadcastPair().chain(([sa, sb]) =>
      fc
        .tuple(floatOperand(sa, { grid: 0 }), floatOperand(sb, { grid: 1 / 6 }), floatOperand(sb, { grid: 1 / 3 }))
        .map((operands) => ({ operands })),
    ),
    (xs) => flint.clamp(x0(xs), x1(xs), xs[2] as Tensor),
    { smooth: false },
  ),
  composite(
    'where (broadcast condition)',
    ['where'],
    broadcastPair().chain(([sa, sb]) => fc.tuple(floatOperand(sa, { avoid: [0] }), floatOperand(sb)).map((operands) => ({ operands }))),
    (xs) => flint.where(flint.greater(x0(xs), 0), x0(xs).mul(2), x1(xs)),
    { smooth: false },
  ),
  composite('astype and cast', ['astype', 'cast'], one(shapes()), (xs) =>
    flint.astype(x0(xs), 'float64').mul(flint.cast(x0(xs), 'float64')),
  ),
  composite(
    'mod (broadcasting)',
    ['mod'],
    broadcastPair().chain(([sa, sb]) =>
      fc.tuple(floatOperand(sa, { grid: 0.1 }), floatOperand(sb, { min: 0.6, max: 2, grid: 0.35 })).map((operands) => ({ operands })),
    ),
    (xs) => flint.mod(x0(xs), x1(xs)),
    { smooth: false },
  ),
  composite(
    'broadcastTo and broadcastArrays',
    ['broadcastTo', 'broadcastArrays'],
    broadcastPair().chain(([sa, sb]) => fc.tuple(floatOperand(sa), floatOperand(sb)).map((operands) => ({ operands }))),
    (xs) => {
      const [a, b] = flint.broadcastArrays(x0(xs), x1(xs)) as Tensor[];
      return flint
        .broadcastTo(x0(xs), (a as Tensor).shape)
        .mul(a as Tensor)
        .add(b as Tensor);
    },
  ),

  // Reductions.
  composite('sum', ['sum'], reduction(), (xs, p) => flint.sum(x0(xs), axesOf(p).axes, axesOf(p).keepdims)),
  composite('mean', ['mean'], reduction(), (xs, p) => flint.mean(x0(xs), axesOf(p).axes, axesOf(p).keepdims)),
  composite('prod', ['prod'], reduction(), (xs, p) => flint.prod(x0(xs), axesOf(p).axes, axesOf(p).keepdims), { smooth: false }),
  composite('max', ['max'], reduction(0, true), (xs, p) => flint.max(x0(xs), axesOf(p).axes, axesOf(p).keepdims), { smooth: false }),
  composite('min', ['min'], reduction(0, true), (xs, p) => flint.min(x0(xs), axesOf(p).axes, axesOf(p).keepdims), { smooth: false }),
  composite('logSumExp', ['logSumExp'], reduction(), (xs, p) => flint.logSumExp(x0(xs), axesOf(p).axes, axesOf(p).keepdims), {
    smooth: true,
  }),
  composite(
    'variance and std',
    ['variance', 'var', 'std'],
    // std has no derivative at zero spread: every reduced group holds 2+ distinct values.
    reduction(1, true, 2),
    (xs, p) => {
      const { axes, keepdims } = axesOf(p);
      const x = x0(xs).mul(1);
      return flint
        .variance(x, axes, { keepdims, correction: 0 })
        .add(flint.std(x, axes, { keepdims, correction: 1 }).mul(2))
        .add(flint.var(x, axes, keepdims));
    },
    { smooth: true },
  ),
  composite(
    'cumsum and cumprod',
    ['cumsum', 'cumprod'],
    shapes(1, 3).chain((shape) =>
      fc
        .tuple(
          floatOperand(shape, { min: -1.5, max: 1.5, avoid: [0], gap: 0.3 }),
          fc.integer({ min: -shape.length, max: shape.length - 1 }),
        )
        .map(([x, axis]) => ({ operands: [x], params: { axis } })),
    ),
    (xs, p) =>
      flint.cumsum(x0(xs), (p as unknown as { axis: number }).axis).add(flint.cumprod(x0(xs), (p as unknown as { axis: number }).axis)),
    { smooth: true },
  ),
  composite(
    'sort and topk (values)',
    ['sort', 'topk'],
    shapes(1, 3).chain((shape) =>
      distinctOperand(shape).map((x) => ({ operands: [x], params: { k: Math.max(1, (shape[shape.length - 1] as number) - 1) } })),
    ),
    (xs, p) => {
      const x = x0(xs);
      const sorted = flint.sort(x, -1, true) as unknown;
      const values = Array.isArray(sorted) ? (sorted[0] as Tensor) : ((sorted as { values: Tensor }).values ?? (sorted as Tensor));
      const top = flint.topk(x, (p as unknown as { k: number }).k, -1) as unknown;
      const topValues = Array.isArray(top) ? (top[0] as Tensor) : ((top as { values: Tensor }).values ?? (top as Tensor));
      return flint.concat([values, topValues], -1);
    },
    { smooth: false },
  ),

  // Movement.
  composite('reshape and flatten', ['reshape', 'flatten', 'unflatten'], one(shapes(1, 3)), (xs) => {
    const x = x0(xs);
    const flat = flint.flatten(x);
    return flint.unflatten(flint.reshape(flat, [1, -1]), 1, [x.size]).mul(2);
  }),
  composite('squeeze and unsqueeze', ['squeeze', 'unsqueeze', 'expand'], one(shapes(0, 3)), (xs) => {
    const u = flint.unsqueeze(x0(xs), 0);
    return flint.squeeze(flint.expand(u, [2, ...x0(xs).shape]).mul(u), undefined);
  }),
  composite(
    'transpose, permute, swapaxes, moveaxis',
    ['transpose', 'permute', 'swapaxes', 'moveaxis'],
    shapes(2, 4).chain((shape) =>
      fc.tuple(floatOperand(shape), permutation(shape.length)).map(([x, perm]) => ({ operands: [x], params: { perm } })),
    ),
    (xs, p) => {
      const { perm } = p as unknown as { perm: number[] };
      const x = x0(xs);
      const a = flint.permute(flint.transpose(x, perm), perm);
      return flint.moveaxis(flint.swapaxes(a, 0, -1), 0, -1).mul(x.sum());
    },
  ),
  composite(
    'slice, narrow, index',
    ['slice', 'narrow', 'index'],
    shapes(2, 3, 2, 5).chain((shape) => floatOperand(shape).map((x) => ({ operands: [x] }))),
    (xs) => {
      const x = x0(xs);
      const a = flint.slice(x, [0, 1], [null as never, null as never], [2, 1]);
      const b = flint.narrow(x, 1, 0, 1);
      const c = flint.index(x, '::-1', -1);
      return flint.concat(
        [flint.sum(a), flint.sum(b).mul(2), flint.sum(c).mul(3)].map((t) => flint.reshape(t, [1])),
        0,
      );
    },
  ),
  composite(
    'concat, stack, split, chunk, unstack',
    ['concat', 'stack', 'split', 'chunk', 'unstack'],
    shapes(1, 3, 2, 4).chain((shape) => fc.tuple(floatOperand(shape), floatOperand(shape)).map((operands) => ({ operands }))),
    (xs) => {
      const [a, b] = [x0(xs), x1(xs)];
      const stacked = flint.stack([a, b], 0);
      const parts = flint.split(flint.concat([a, b], 0), 2, 0) as Tensor[];
      const chunks = flint.chunk(stacked, 2, 0) as Tensor[];
      const rows = flint.unstack(stacked, 0) as Tensor[];
      return flint.concat(
        [...parts, ...chunks.map((c) => flint.squeeze(c, 0)), ...rows].map((t) => flint.sum(t).reshape([1])),
        0,
      );
    },
  ),
  composite(
    'pad (constant, reflect, edge)',
    ['pad'],
    shapes(1, 3, 2, 4).chain((shape) => floatOperand(shape).map((x) => ({ operands: [x] }))),
    (xs) => {
      const x = x0(xs);
      const c = flint.pad(x, 1, { value: 0.5 });
      const r = flint.pad(x, 1, { mode: 'reflect' });
      const e = flint.pad(x, [0, 2], { mode: 'edge' });
      return flint.concat(
        [c.sum(), r.mul(r).sum(), e.mul(2).sum()].map((t) => t.reshape([1])),
        0,
      );
    },
  ),
  composite('flip and roll', ['flip', 'roll'], one(shapes(1, 3)), (xs) =>
    flint.roll(flint.flip(x0(xs), 0), 1, 0).mul(flint.flip(x0(xs), -1)),
  ),
  composite('tile and repeat', ['tile', 'repeat'], one(shapes(1, 2)), (xs) => {
    const x = x0(xs);
    const reps = x.shape.map((_, i) => (i === 0 ? 2 : 1));
    return flint.tile(x, reps).mul(flint.repeat(x, ...reps));
  }),

  // Indexing.
  composite(
    'take and takeAlongAxis',
    ['take', 'takeAlongAxis'],
    shapes(1, 3).chain((shape) =>
      fc.tuple(floatOperand(shape), intOperand(shape, 0, (shape[shape.length - 1] as number) - 1)).map((operands) => ({ operands })),
    ),
    (xs) => {
      const x = x0(xs);
      return flint.takeAlongAxis(x, x1(xs), -1).add(flint.take(x, [0], -1));
    },
  ),
  composite(
    'gather and scatterAdd (torch style)',
    ['gather', 'scatterAdd'],
    shapes(1, 3).chain((shape) =>
      fc.tuple(floatOperand(shape), intOperand(shape, 0, (shape[0] as number) - 1), floatOperand(shape)).map((operands) => ({ operands })),
    ),
    (xs) => flint.gather(x0(xs), 0, x1(xs)).add(flint.scatterAdd(x0(xs), 0, x1(xs), xs[2] as Tensor)),
  ),
  composite('repeatInterleave', ['repeatInterleave'], one(shapes(1, 2)), (xs) => flint.repeatInterleave(x0(xs), 2, 0).mul(3)),
  // Triangles and diagonals (ops/triangular.ts), batched over leading axes.
  composite('tril and triu', ['tril', 'triu'], one(shapes(2, 3)), (xs) =>
    flint
      .tril(x0(xs), -1)
      .add(flint.triu(x0(xs), 1).mul(2))
      .add(flint.tril(x0(xs))),
  ),
  composite('diagonal', ['diagonal'], one(shapes(2, 3)), (xs) => flint.diagonal(x0(xs), 1, -1, 0).mul(flint.diagonal(x0(xs)).sum())),
  composite('trace', ['trace'], one(shapes(2, 3)), (xs) => flint.trace(x0(xs), -1, 0, -1).add(flint.trace(x0(xs), 0, 1, 0).sum())),
  composite('diag (vector to matrix and back)', ['diag'], one(shapes(1, 1)), (xs) =>
    flint.diag(x0(xs), 1).add(flint.diag(flint.outer(x0(xs), x0(xs)), 0).sum()),
  ),
  composite(
    'meshgrid',
    ['meshgrid'],
    fc.tuple(shapes(1, 1), shapes(1, 1)).chain(([a, b]) => fc.tuple(floatOperand(a), floatOperand(b)).map((operands) => ({ operands }))),
    (xs) => {
      const [u, v] = flint.meshgrid([x0(xs), x1(xs)]) as [Tensor, Tensor];
      const [p, q] = flint.meshgrid([x0(xs), x1(xs)], { indexing: 'xy' }) as [Tensor, Tensor];
      return u.mul(v).add(p.transpose().mul(2)).add(q.transpose().mul(u));
    },
  ),

  // Linear algebra.
  composite(
    'matmul (batched, broadcasting)',
    ['matmul'],
    fc
      .tuple(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom([], [2], [1]),
        fc.constantFrom([], [2]),
      )
      .chain(([m, k, n, ba, bb]) => fc.tuple(floatOperand([...ba, m, k]), floatOperand([...bb, k, n])).map((operands) => ({ operands }))),
    (xs) => flint.matmul(x0(xs), x1(xs)),
  ),
  composite(
    'dot and outer',
    ['dot', 'outer'],
    fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(floatOperand([n]), floatOperand([n])).map((operands) => ({ operands }))),
    (xs) => flint.outer(x0(xs), x1(xs)).mul(flint.dot(x0(xs), x1(xs))),
  ),
  composite(
    'einsum',
    ['einsum', 'dotGeneral'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([b, i, j]) => fc.tuple(floatOperand([b, i, j]), floatOperand([b, j])).map((operands) => ({ operands }))),
    (xs) =>
      flint
        .einsum('bij,bj->bi', x0(xs), x1(xs))
        .add(flint.dotGeneral(x0(xs), x1(xs), { lhsContracting: [2], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] })),
  ),

  // Convolution and pooling.
  composite(
    'conv1d, conv2d (stride, padding, dilation, groups, bias)',
    ['conv1d', 'conv2d'],
    fc
      .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 3, max: 5 }))
      .chain(([g, size]) =>
        fc
          .tuple(
            floatOperand([1, 2 * g, size, size]),
            floatOperand([2 * g, 2, 2, 2]),
            floatOperand([2 * g]),
            floatOperand([1, 2, size]),
            floatOperand([3, 2, 2]),
          )
          .map((operands) => ({ operands, params: { g } })),
      ),
    (xs, p) => {
      const { g } = p as unknown as { g: number };
      const y2 = flint.conv2d(x0(xs), x1(xs), { bias: xs[2] as Tensor, stride: 2, padding: 1, groups: g });
      const y1 = flint.conv1d(xs[3] as Tensor, xs[4] as Tensor, { dilation: 2, padding: 1 });
      return flint.concat([y2.sum().reshape([1]), y1.mul(y1).sum().reshape([1])], 0);
    },
    { numRuns: 4 },
  ),
  composite(
    '3-d conv and pooling',
    ['conv3d', 'convTranspose3d', 'maxPool3d', 'avgPool3d'],
    fc
      .integer({ min: 2, max: 3 })
      .chain((size) =>
        fc.tuple(distinctOperand([1, 1, size, size, size], 0.05), floatOperand([2, 1, 2, 1, 2])).map((operands) => ({ operands })),
      ),
    (xs) => {
      const x = x0(xs);
      const parts = [
        flint.conv3d(x, x1(xs), { padding: 1 }),
        flint.convTranspose3d(x, flint.transpose(x1(xs), [1, 0, 2, 3, 4]), { stride: 2 }),
        flint.maxPool3d(x, 2, { stride: 1 }),
        flint.avgPool3d(x, 2, { stride: 1 }),
      ];
      return selfWeightedSums(parts, 0);
    },
    { numRuns: 3 },
  ),
  composite(
    'convTranspose1d, convTranspose2d',
    ['convTranspose1d', 'convTranspose2d'],
    fc
      .integer({ min: 2, max: 4 })
      .chain((size) =>
        fc
          .tuple(floatOperand([1, 2, size, size]), floatOperand([2, 3, 2, 2]), floatOperand([1, 2, size]), floatOperand([2, 1, 3]))
          .map((operands) => ({ operands })),
      ),
    (xs) => {
      const y2 = flint.convTranspose2d(x0(xs), x1(xs), { stride: 2, padding: 1, outputPadding: 1 });
      const y1 = flint.convTranspose1d(xs[2] as Tensor, xs[3] as Tensor, { stride: 1 });
      return flint.concat([y2.mul(y2).sum().reshape([1]), y1.sum().reshape([1])], 0);
    },
    { numRuns: 4 },
  ),
  composite(
    'maxPool, avgPool, adaptive pools',
    [
      'maxPool1d',
      'maxPool2d',
      'avgPool1d',
      'avgPool2d',
      'adaptiveAvgPool1d',
      'adaptiveAvgPool2d',
      'adaptiveAvgPool3d',
      'adaptiveMaxPool1d',
      'adaptiveMaxPool2d',
      'adaptiveMaxPool3d',
    ],
    fc.integer({ min: 4, max: 6 }).chain((size) => distinctOperand([1, 2, size, size]).map((x) => ({ operands: [x] }))),
    (xs) => {
      const x = x0(xs);
      const flat = flint.reshape(x, [1, 2, -1]);
      const parts = [
        flint.maxPool2d(x, 2, { stride: 2 }),
        flint.maxPool1d(flat, 3, { stride: 2, padding: 1 }),
        flint.avgPool2d(x, 2, { padding: 1, countIncludePad: false }),
        flint.avgPool1d(flat, 2),
        flint.adaptiveAvgPool2d(x, [2, 3]),
        flint.adaptiveAvgPool1d(flat, 3),
        flint.adaptiveAvgPool3d(x, [1, 3, 2]),
        flint.adaptiveMaxPool2d(x, [3, 2]),
        flint.adaptiveMaxPool1d(flat, 5),
        flint.adaptiveMaxPool3d(x, [2, 3, 1]),
      ];
      return flint.concat(
        parts.map((t, i) =>
          t
            .mul(i + 1)
            .sum()
            .reshape([1]),
        ),
        0,
      );
    },
    { numRuns: 4 },
  ),

  // nn.functional.
  unaryOp('relu', F.relu, { avoid: [0] }, false),
  unaryOp('relu6', F.relu6, { min: -2, max: 8, avoid: [0, 6] }, false),
  unaryOp('hardtanh', (x) => F.hardtanh(x), { avoid: [-1, 1] }, false),
  unaryOp('leakyRelu', (x) => F.leakyRelu(x, 0.1), { avoid: [0] }, false),
  unaryOp('gelu', (x) => F.gelu(x).add(F.gelu(x, 'tanh'))),
  unaryOp('silu', F.silu),
  unaryOp('elu', F.elu, { avoid: [0] }, false),
  unaryOp('softplus', (x) => F.softplus(x, 2)),
  // Its pieces meet at 0 as selects on one condition, exact there to every order.
  unaryOp('logSigmoid', F.logSigmoid),
  unaryOp('mish', F.mish),
  // Their switch points (0, ±3, the threshold) are tested with exact derivatives in
  // nn/functional/activations.test.ts; here the samples stay away from them.
  unaryOp('selu', F.selu, { avoid: [0] }, false),
  unaryOp('celu', (x) => F.celu(x, 0.7), { avoid: [0] }),
  unaryOp('hardswish', F.hardswish, { min: -4, max: 4, avoid: [-3, 3] }, false),
  unaryOp('hardsigmoid', F.hardsigmoid, { min: -4, max: 4, avoid: [-3, 3] }, false),
  unaryOp('softsign', F.softsign, { avoid: [0] }),
  unaryOp('threshold', (x) => F.threshold(x, 0.5, -2), { avoid: [0.5] }, false),
  composite(
    'glu',
    ['glu'],
    fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })).chain(([n, k]) => one(fc.constant([n, 2 * k]))),
    (xs) =>
      F.glu(x0(xs))
        .sum(0)
        .add(F.glu(x0(xs).transpose(), 0).sum(1)),
  ),
  composite(
    'prelu (a slope per channel, and one for all)',
    ['prelu'],
    fc
      .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }))
      .chain(([n, c]) =>
        fc.tuple(floatOperand([n, c, 2], { avoid: [0] }), floatOperand([c]), floatOperand([1])).map((operands) => ({ operands })),
      ),
    (xs) => F.prelu(x0(xs), x1(xs)).add(F.prelu(x0(xs), xs[2] as Tensor)),
    { smooth: false },
  ),
  composite('softmin', ['softmin'], one(shapes(1, 3)), (xs) => F.softmin(x0(xs), 0)),
  composite('softmax and logSoftmax', ['softmax', 'logSoftmax'], one(shapes(1, 3)), (xs) =>
    F.softmax(x0(xs), -1).add(F.logSoftmax(x0(xs), 0)),
  ),
  composite(
    'crossEntropy and nllLoss',
    ['crossEntropy', 'nllLoss'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 4 }))
      .chain(([n, c]) => fc.tuple(floatOperand([n, c]), intOperand([n], 0, c - 1)).map((operands) => ({ operands }))),
    (xs) => F.crossEntropy(x0(xs), x1(xs)).add(F.nllLoss(F.logSoftmax(x0(xs), -1), x1(xs), { reduction: 'sum' })),
  ),
  composite(
    'regression losses',
    ['mseLoss', 'l1Loss', 'smoothL1Loss', 'huberLoss'],
    shapes(0, 2).chain((shape) => fc.tuple(floatOperand(shape), floatOperand(shape)).map((operands) => ({ operands }))),
    (xs) => {
      // Kinks at |a - b| in {0, 1}: shift b so the differences stay away from them.
      const b = x1(xs).mul(0.01).add(x0(xs)).add(0.5);
      return F.mseLoss(x0(xs), b)
        .add(F.l1Loss(x0(xs), b))
        .add(F.smoothL1Loss(x0(xs), b))
        .add(F.huberLoss(x0(xs), b));
    },
    { smooth: false },
  ),
  composite(
    'binary losses',
    ['binaryCrossEntropy', 'binaryCrossEntropyWithLogits'],
    shapes(0, 2).chain((shape) =>
      fc.tuple(floatOperand(shape, { min: -2, max: 2 }), floatOperand(shape, { min: 0.1, max: 0.9 })).map((operands) => ({ operands })),
    ),
    (xs) => F.binaryCrossEntropyWithLogits(x0(xs), x1(xs)).add(F.binaryCrossEntropy(flint.sigmoid(x0(xs)), x1(xs))),
  ),
  composite(
    'comparison losses',
    ['klDiv', 'cosineEmbeddingLoss', 'marginRankingLoss'],
    fc
      .integer({ min: 1, max: 3 })
      .chain((n) =>
        fc.tuple(floatOperand([n, 3], { min: 0.3, max: 2 }), floatOperand([n, 3], { min: 0.2, max: 1 })).map((operands) => ({ operands })),
      ),
    (xs) => {
      const [a, b] = [x0(xs), x1(xs)];
      const _n = a.shape[0] as number;
      const kl = F.klDiv(F.logSoftmax(a, -1), b.div(b.sum(-1, true)));
      const ones = flint.onesLike(a.sum(-1));
      const cosine = F.cosineEmbeddingLoss(a, b, ones);
      return kl.add(cosine).add(F.marginRankingLoss(a.sum(-1), b.sum(-1).add(10), ones));
    },
    { smooth: false },
  ),
  composite(
    'margin losses',
    ['hingeEmbeddingLoss', 'softMarginLoss', 'multiMarginLoss', 'multiLabelSoftMarginLoss', 'multiLabelMarginLoss'],
    fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 4 })).chain(([n, c]) =>
      fc
        // On a grid of halves plus 0.1: margin - x (margin 1) and margin - x[y] + x[i] (margin 0.25)
        // stay at least 0.1 from their hinges, on both sides; scaled by 1.3, multiLabelMarginLoss's
        // 1 - x[y] + x[i] is 1 - 0.65 m for an integer m, at least 0.3 from its hinge.
        .tuple(
          floatOperand([n, c], { grid: 0.1 }),
          intOperand([n], 0, c - 1),
          floatOperand([n, c], { min: 0, max: 1 }),
          floatOperand([c], { min: 0.5, max: 2 }),
        )
        .map((operands) => ({ operands })),
    ),
    (xs) => {
      const [x, labels, probabilities, weight] = [x0(xs), x1(xs), xs[2] as Tensor, xs[3] as Tensor];
      const signs = probabilities.greater(0.5).astype('float64').mul(2).sub(1);
      return F.hingeEmbeddingLoss(x, signs)
        .add(F.softMarginLoss(x, signs, { reduction: 'sum' }))
        .add(F.multiMarginLoss(x, labels, { margin: 0.25 }))
        .add(F.multiMarginLoss(x, labels, { p: 2, margin: 0.25, weight, reduction: 'sum' }))
        .add(F.multiLabelSoftMarginLoss(x, probabilities, { weight }))
        .add(F.multiLabelMarginLoss(x.mul(1.3), labels.reshape([-1, 1]).add(flint.zerosLike(x).astype('int32'))));
    },
    { smooth: false },
  ),
  composite(
    'tripletMarginLoss',
    ['tripletMarginLoss'],
    tripletOperands,
    (xs) => {
      // Differences at least 0.3 from 0 in every coordinate (the norms stay smooth), margin 10
      // keeps every hinge open; swap's minimum almost never ties.
      const anchor = x0(xs);
      const positive = anchor.add(x1(xs));
      const negative = anchor.sub(xs[2] as Tensor).sub(0.5);
      return F.tripletMarginLoss(anchor, positive, negative, { margin: 10 })
        .add(F.tripletMarginLoss(anchor, positive, negative, { margin: 10, p: 1, swap: true }))
        .add(F.tripletMarginLoss(anchor, positive, negative, { margin: 10, p: 3, reduction: 'sum' }));
    },
    { smooth: false },
  ),
  composite(
    'distances',
    ['pairwiseDistance', 'cosineSimilarity'],
    fc
      .integer({ min: 1, max: 3 })
      .chain((n) =>
        fc.tuple(floatOperand([n, 3], { min: 0.3, max: 1 }), floatOperand([n, 3], { min: 0.3, max: 1 })).map((operands) => ({ operands })),
      ),
    (xs) => {
      // Rows at least 0.3 apart in every coordinate (the p-norms stay smooth), every norm at least
      // 0.5: far from cosineSimilarity's eps clamp, where the quotient is ill-conditioned.
      const a = x0(xs);
      const b = a.add(x1(xs));
      return F.pairwiseDistance(a, b)
        .sum()
        .add(F.pairwiseDistance(a, b, { p: 1 }).sum())
        .add(F.pairwiseDistance(a, b, { p: 3, keepdims: true }).sum())
        .add(F.cosineSimilarity(a, b.add(2)).sum());
    },
  ),
  composite(
    'ctcLoss',
    ['ctcLoss'],
    fc
      .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 4, max: 6 }))
      .chain(([n, frames]) => fc.tuple(floatOperand([frames, n, 4]), intOperand([n, 2], 1, 3)).map((operands) => ({ operands }))),
    (xs) => {
      const [frames, n] = x0(xs).shape as [number, number];
      // The second sequence is one frame shorter and has one label: the length masks take part.
      const inputLengths = [frames, frames - 1].slice(0, n);
      const targetLengths = [2, 1].slice(0, n);
      return F.ctcLoss(F.logSoftmax(x0(xs), 2), x1(xs), inputLengths, targetLengths, { reduction: 'sum' });
    },
    { numRuns: 3 },
  ),
  composite(
    'likelihood losses',
    ['poissonNllLoss', 'gaussianNllLoss'],
    shapes(1, 2).chain((shape) =>
      fc
        .tuple(floatOperand(shape), floatOperand(shape, { min: 0.3, max: 2 }), floatOperand(shape.slice(0, -1), { min: 0.3, max: 2 }))
        .map((operands) => ({ operands })),
    ),
    (xs) => {
      const [x, positive, variance] = [x0(xs), x1(xs), xs[2] as Tensor];
      return F.poissonNllLoss(x, positive.mul(3), { full: true })
        .add(F.poissonNllLoss(positive, positive.mul(2), { logInput: false, reduction: 'sum' }))
        .add(F.gaussianNllLoss(x, positive, positive, { full: true }))
        .add(F.gaussianNllLoss(x, positive, variance, { reduction: 'sum' }));
    },
  ),
  composite(
    'embeddingBag',
    ['embeddingBag'],
    fc.tuple(distinctOperand([5, 2]), floatOperand([6])).map((operands) => ({ operands })),
    (xs) => {
      // Distinct indices within each bag and distinct table values: no ties for 'max'.
      const backend = backendOf(x0(xs))?.name;
      const on = backend === undefined ? {} : { backend };
      const rows = flint.tensor(Int32Array.from([0, 1, 2, 3, 1, 0]), { shape: [2, 3], ...on });
      const flat = flint.tensor(Int32Array.from([4, 0, 2, 1, 3, 0]), on);
      // Offsets shape the bags and are read on the host: an array, as a device backend needs.
      const offsets = [0, 3];
      return F.embeddingBag(rows, x0(xs), { mode: 'max' })
        .add(F.embeddingBag(flat, x0(xs), { offsets, mode: 'mean' }))
        .add(F.embeddingBag(flat, x0(xs), { offsets, mode: 'sum', perSampleWeights: x1(xs) }));
    },
    { smooth: false },
  ),
  composite(
    'localResponseNorm',
    ['localResponseNorm'],
    fc.integer({ min: 1, max: 2 }).chain((n) => floatOperand([n, 4, 3]).map((x) => ({ operands: [x] }))),
    (xs) => F.localResponseNorm(x0(xs), 3, { alpha: 0.5 }).add(F.localResponseNorm(x0(xs), 2, { alpha: 2, beta: 0.5, k: 0.5 })),
  ),
  composite(
    'unfold and fold',
    ['unfold', 'fold'],
    fc.integer({ min: 1, max: 2 }).chain((n) => floatOperand([n, 2, 4, 5]).map((x) => ({ operands: [x] }))),
    (xs) => {
      const options = { padding: [1, 0], stride: [2, 1], dilation: [1, 2] } as const;
      const columns = F.unfold(x0(xs), [2, 2], options);
      return F.fold(columns.mul(columns), [4, 5], [2, 2], options);
    },
  ),
  composite('gumbelSoftmax', ['gumbelSoftmax'], one(shapes(1, 3)), (xs) => {
    // A fixed key makes the noise a constant; the hard sample's straight-through gradient is
    // checked against the soft one in the unit tests (its value is piecewise constant).
    const backend = backendOf(x0(xs))?.name;
    const key = flint.random.key(5, backend === undefined ? {} : { backend });
    return F.gumbelSoftmax(x0(xs), { tau: 0.7, key }).add(F.gumbelSoftmax(x0(xs), { axis: 0, key }));
  }),
  composite(
    'linear and bilinear',
    ['linear', 'bilinear'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([n, k]) =>
        fc.tuple(floatOperand([n, k]), floatOperand([2, k]), floatOperand([2]), floatOperand([2, k, k])).map((operands) => ({ operands })),
      ),
    (xs) => F.linear(x0(xs), x1(xs), xs[2] as Tensor).add(F.bilinear(x0(xs), x0(xs), xs[3] as Tensor)),
  ),
  composite(
    'normalizations',
    ['layerNorm', 'groupNorm', 'rmsNorm', 'normalize', 'batchNorm'],
    fc.integer({ min: 2, max: 3 }).chain((n) => distinctOperand([n, 4, 3], 0.1).map((x) => ({ operands: [x] }))),
    (xs) => {
      const x = x0(xs);
      const parts = [
        F.layerNorm(x, [3]),
        F.groupNorm(x, 2),
        F.rmsNorm(x, 3),
        F.normalize(x),
        F.batchNorm(x, null, null, { training: true }),
      ];
      return rampWeightedSums(parts);
    },
    { numRuns: 4, tolerance: 1e-5 },
  ),
  composite(
    'batchNorm with weight and bias, through its output and its batch statistics',
    ['batchNormTraining'],
    fc
      .tuple(fc.integer({ min: 2, max: 3 }), fc.integer({ min: 1, max: 2 }))
      .chain(([n, spatial]) =>
        fc
          .tuple(distinctOperand([n, 3, ...new Array<number>(spatial).fill(2)], 0.1), floatOperand([3]), floatOperand([3]))
          .map((operands) => ({ operands })),
      ),
    (xs) => {
      const [x, weight, bias] = xs as [Tensor, Tensor, Tensor];
      const { output, mean, unbiasedVariance } = F.batchNormTraining(x, { weight, bias, eps: 0.01 });
      const ramp = (t: Tensor) =>
        t
          .mul(flint.cumsum(flint.onesLike(t), -1))
          .sum()
          .reshape([1]);
      return flint.concat([ramp(output), ramp(mean), ramp(unbiasedVariance)], 0);
    },
    { numRuns: 4, tolerance: 1e-5 },
  ),
  composite(
    'embedding',
    ['embedding'],
    fc
      .integer({ min: 2, max: 5 })
      .chain((v) => fc.tuple(floatOperand([v, 3]), intOperand([4], 0, v - 1)).map((operands) => ({ operands }))),
    (xs) => F.embedding(x1(xs), x0(xs)),
  ),
  composite(
    'interpolate (nearest, nearest-exact, linear, bilinear, trilinear; alignCorners both ways)',
    ['interpolate'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.boolean())
      .chain(([size, out, alignCorners]) =>
        fc
          .tuple(floatOperand([1, 2, size]), floatOperand([1, 1, size, 2]), floatOperand([1, 1, 2, size, 1]))
          .map((operands) => ({ operands, params: { out, alignCorners } })),
      ),
    (xs, p) => {
      const { out, alignCorners } = p as unknown as { out: number; alignCorners: boolean };
      const [a, b, c] = xs as [Tensor, Tensor, Tensor];
      const parts = [
        F.interpolate(a, { size: out }),
        F.interpolate(a, { size: out, mode: 'nearest-exact' }),
        F.interpolate(a, { size: out, mode: 'linear', alignCorners }),
        F.interpolate(b, { size: [out, 3], mode: 'bilinear', alignCorners }),
        F.interpolate(b, { scaleFactor: 1.5, mode: 'bilinear' }),
        F.interpolate(c, { size: [2, out, 2], mode: 'trilinear', alignCorners }),
      ];
      return rampWeightedSums(parts);
    },
    { numRuns: 4 },
  ),
  composite(
    'pixelShuffle and pixelUnshuffle',
    ['pixelShuffle', 'pixelUnshuffle'],
    fc
      .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }))
      .chain(([r, size]) => floatOperand([1, 2 * r * r, size, size + 1]).map((x) => ({ operands: [x], params: { r } }))),
    (xs, p) => {
      const { r } = p as unknown as { r: number };
      const y = F.pixelShuffle(x0(xs), r);
      const ramp = flint.cumsum(flint.onesLike(y), -1);
      return flint.concat(
        [y.mul(ramp).sum().reshape([1]), F.pixelUnshuffle(y.mul(y), r).mul(F.pixelUnshuffle(ramp, r)).sum().reshape([1])],
        0,
      );
    },
    { numRuns: 4 },
  ),
  composite(
    'channel dropout and alpha dropout with a fixed key (affine in the input)',
    ['dropout1d', 'dropout2d', 'dropout3d', 'alphaDropout'],
    fc.integer({ min: 1, max: 3 }).chain((n) => floatOperand([n, 4, 2, 1, 2]).map((x) => ({ operands: [x] }))),
    (xs) => {
      const x = x0(xs);
      // The key lives where the data does (random.key otherwise takes the default backend).
      const backend = backendOf(x)?.name;
      const key = flint.random.key(3, backend === undefined ? {} : { backend });
      const parts = [
        F.dropout1d(x.reshape([-1, 4, 4]), 0.5, { key }),
        F.dropout2d(x.reshape([-1, 4, 2, 2]), 0.3, { key }),
        F.dropout3d(x, 0.6, { key }),
        F.alphaDropout(x, 0.4, { key, training: true }),
      ];
      return selfWeightedSums(parts, 0);
    },
    { numRuns: 4 },
  ),
  composite(
    'instanceNorm (instance statistics, with and without affine; given statistics)',
    ['instanceNorm'],
    fc
      .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }))
      .chain(([n, spatial]) =>
        fc
          .tuple(
            distinctOperand([n, 3, 3, ...new Array<number>(spatial - 1).fill(2)], 0.1),
            floatOperand([3]),
            floatOperand([3]),
            floatOperand([3], { min: 0.5, max: 2 }),
          )
          .map((operands) => ({ operands })),
      ),
    (xs) => {
      const [x, weight, bias, variance] = xs as [Tensor, Tensor, Tensor, Tensor];
      const parts = [
        F.instanceNorm(x),
        F.instanceNorm(x, { weight, bias, eps: 0.01 }),
        F.instanceNorm(x, { runningMean: bias, runningVar: variance, weight, useInputStats: false }),
      ];
      return rampWeightedSums(parts);
    },
    { numRuns: 4, tolerance: 1e-5 },
  ),
  composite(
    'scaledDotProductAttention',
    ['scaledDotProductAttention'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([l, d]) =>
        fc.tuple(floatOperand([1, l, d]), floatOperand([1, l, d]), floatOperand([1, l, d])).map((operands) => ({ operands })),
      ),
    (xs) => F.scaledDotProductAttention(x0(xs), x1(xs), xs[2] as Tensor, { isCausal: true }),
  ),
  composite(
    'multiHeadAttention',
    ['multiHeadAttention'],
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }))
      .chain(([l, n]) =>
        fc
          .tuple(floatOperand([l, n, 4]), floatOperand([12, 4]), floatOperand([12]), floatOperand([4, 4]), floatOperand([4]))
          .map((operands) => ({ operands })),
      ),
    (xs) => {
      const q = x0(xs);
      const out = F.multiHeadAttention(
        q,
        q,
        q,
        { numHeads: 2, inProjWeight: x1(xs), inProjBias: xs[2] as Tensor, outProjWeight: xs[3] as Tensor, outProjBias: xs[4] as Tensor },
        { needWeights: false },
      ) as unknown;
      return Array.isArray(out) ? (out[0] as Tensor) : (out as Tensor);
    },
    { numRuns: 4 },
  ),
];
