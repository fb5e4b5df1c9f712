import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { manualSeed, randn, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from './index.js';
import { maxRelativeDifference, randomValues, seededRandom } from './testing.test-support.js';

// Differential tests against PyTorch: each Flint layer's state dict is loaded into the same torch
// layer (names converted from camelCase to snake_case, `strict=True`, so the names must agree),
// both run in float64 on the same inputs, and outputs, parameter gradients and buffers are
// compared. All cases go to one Python process. Skipped, with the reason in the suite's name, when
// /usr/bin/python3 cannot import torch (CI may lack it; `apt-get install python3-torch` adds it).

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const torchAvailable = probe.status === 0;
const SUITE = torchAvailable ? `against PyTorch ${probe.stdout.trim()}` : `against PyTorch (skipped: ${PYTHON} cannot import torch)`;

interface Encoded {
  shape: number[];
  dtype: string;
  data: (number | string)[];
}

function encode(t: Tensor): Encoded {
  return { shape: [...t.shape], dtype: t.dtype, data: Array.from(t.dataSync(), (v) => (Number.isFinite(v) ? v : String(v))) };
}

function decode(e: Encoded): number[] {
  return e.data.map((v) =>
    typeof v === 'number' ? v : v === 'nan' ? Number.NaN : v === 'inf' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
  );
}

/** runningMean -> running_mean, selfAttn.inProjWeight -> self_attn.in_proj_weight, weightIhL0Reverse -> weight_ih_l0_reverse. */
function snakeCase(name: string): string {
  return name
    .split('.')
    .map((part) => part.replace(/([A-Z])/g, '_$1').toLowerCase())
    .join('.');
}

type Output = Tensor | null | readonly Output[];

function flattenOutputs(out: Output): Tensor[] {
  if (out === null) return [];
  if (Array.isArray(out)) return (out as readonly Output[]).flatMap(flattenOutputs);
  return [out as Tensor];
}

interface ModuleCase {
  readonly name: string;
  /** Python expression building the torch module. */
  readonly torch: string;
  readonly build: () => nn.AnyModule;
  readonly inputs: () => Tensor[];
  /** Python expression of the call, with `m` and `xs` (default `m(*xs)`). */
  readonly torchCall?: string;
  readonly flintCall?: (m: nn.AnyModule, xs: Tensor[]) => Output;
  readonly train?: boolean;
  /** Compare the gradients of sum(output * random) with respect to parameters and the first input. */
  readonly grads?: boolean;
  /** Compare the state dict after the forward pass (running statistics). */
  readonly buffers?: boolean;
}

interface FunctionCase {
  readonly name: string;
  /** Python expression over `xs` and `F`. */
  readonly torch: string;
  readonly flint: (xs: Tensor[]) => Tensor;
  readonly inputs: () => Tensor[];
}

const rng = seededRandom(99);
const f64 = (shape: number[], low = -1, high = 1): Tensor =>
  tensor(
    randomValues(
      rng,
      shape.reduce((a, b) => a * b, 1),
      low,
      high,
    ),
    { shape, dtype: 'float64' },
  );
const ints = (shape: number[], high: number): Tensor =>
  tensor(
    Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(rng() * high)),
    { shape },
  );
const bools = (rows: boolean[][]): Tensor => tensor(rows);
const call = (m: nn.AnyModule, xs: Tensor[]): Output => (m as unknown as { forward(...a: Tensor[]): Output }).forward(...xs);

/**
 * CTC losses through logSoftmax: PyTorch's gradient with respect to its log-probabilities input
 * folds in logSoftmax's (it is exp(logProbs) - gamma, not -gamma), so the two agree on the
 * logits' gradient, which is what training uses.
 */
function ctcCases(): ModuleCase[] {
  const call = (m: nn.AnyModule, xs: Tensor[]): Output =>
    (m as nn.CTCLoss).forward(F.logSoftmax(xs[0] as Tensor, 2), xs[1] as Tensor, xs[2] as Tensor, xs[3] as Tensor);
  const torchCall = 'm(F.log_softmax(xs[0], 2), xs[1], xs[2], xs[3])';
  // Padded targets: a repeated label (2, 2: no skip between them), an empty target, padding values past each length.
  const padded = () =>
    tensor([
      [2, 2, 3, 1],
      [4, 1, -1, -1],
      [0, 0, 0, 0],
    ]);
  return [
    {
      name: 'CTCLoss (padded targets, repeats, an empty target)',
      torch: 'nn.CTCLoss()',
      build: () => new nn.CTCLoss(),
      inputs: () => [f64([12, 3, 5], -2, 2), padded(), tensor([12, 9, 5]), tensor([4, 2, 0])],
      torchCall,
      flintCall: call,
      grads: true,
    },
    {
      name: "CTCLoss (blank last, reduction 'none', concatenated targets)",
      torch: "nn.CTCLoss(blank=4, reduction='none')",
      build: () => new nn.CTCLoss({ blank: 4, reduction: 'none' }),
      inputs: () => [f64([7, 2, 5], -2, 2), tensor([0, 3, 3, 1, 2]), tensor([7, 6]), tensor([3, 2])],
      torchCall,
      flintCall: call,
      grads: true,
    },
    {
      name: "CTCLoss (impossible alignment, zeroInfinity, reduction 'sum')",
      torch: "nn.CTCLoss(reduction='sum', zero_infinity=True)",
      build: () => new nn.CTCLoss({ reduction: 'sum', zeroInfinity: true }),
      inputs: () => [
        f64([6, 2, 4], -2, 2),
        tensor([
          [1, 1, 1, 2],
          [3, 2, 1, 1],
        ]),
        tensor([6, 2]),
        tensor([4, 3]),
      ],
      torchCall,
      flintCall: call,
      grads: true,
    },
  ];
}

const MODULE_CASES: ModuleCase[] = [
  { name: 'Linear', torch: 'nn.Linear(5, 3)', build: () => new nn.Linear(5, 3), inputs: () => [f64([4, 5])], grads: true },
  {
    name: 'Bilinear',
    torch: 'nn.Bilinear(3, 4, 2)',
    build: () => new nn.Bilinear(3, 4, 2),
    inputs: () => [f64([5, 3]), f64([5, 4])],
    grads: true,
  },
  {
    name: 'Conv1d (stride, padding, dilation, groups)',
    torch: 'nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2)',
    build: () => new nn.Conv1d(4, 6, 3, { stride: 2, padding: 2, dilation: 2, groups: 2 }),
    inputs: () => [f64([2, 4, 11])],
    grads: true,
  },
  {
    name: "Conv2d (padding 'same', reflect)",
    torch: "nn.Conv2d(3, 4, (3, 2), padding='same', padding_mode='reflect')",
    build: () => new nn.Conv2d(3, 4, [3, 2], { padding: 'same', paddingMode: 'reflect' }),
    inputs: () => [f64([2, 3, 6, 5])],
    grads: true,
  },
  {
    name: 'Conv3d',
    torch: 'nn.Conv3d(2, 3, 2, stride=(1, 2, 1), padding=1, bias=False)',
    build: () => new nn.Conv3d(2, 3, 2, { stride: [1, 2, 1], padding: 1, bias: false }),
    inputs: () => [f64([1, 2, 4, 5, 3])],
  },
  {
    name: 'ConvTranspose1d',
    torch: 'nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)',
    build: () => new nn.ConvTranspose1d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
    inputs: () => [f64([2, 4, 5])],
    grads: true,
  },
  {
    name: 'ConvTranspose2d',
    torch: 'nn.ConvTranspose2d(3, 2, (3, 4), stride=(2, 1), padding=(1, 2), dilation=(1, 2))',
    build: () => new nn.ConvTranspose2d(3, 2, [3, 4], { stride: [2, 1], padding: [1, 2], dilation: [1, 2] }),
    inputs: () => [f64([1, 3, 4, 6])],
    grads: true,
  },
  {
    name: 'MaxPool1d (ceil mode)',
    torch: 'nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)',
    build: () => new nn.MaxPool1d(3, { stride: 2, padding: 1, ceilMode: true }),
    inputs: () => [f64([2, 3, 8])],
  },
  {
    name: 'MaxPool2d (dilation)',
    torch: 'nn.MaxPool2d(2, stride=1, dilation=2)',
    build: () => new nn.MaxPool2d(2, { stride: 1, dilation: 2 }),
    inputs: () => [f64([1, 2, 5, 6])],
  },
  {
    name: 'AvgPool1d',
    torch: 'nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)',
    build: () => new nn.AvgPool1d(3, { stride: 2, padding: 1, countIncludePad: false }),
    inputs: () => [f64([2, 2, 7])],
  },
  {
    name: 'AvgPool2d (ceil mode)',
    torch: 'nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)',
    build: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
    inputs: () => [f64([1, 2, 6, 7])],
  },
  {
    name: 'AdaptiveAvgPool2d (uneven windows)',
    torch: 'nn.AdaptiveAvgPool2d((3, 2))',
    build: () => new nn.AdaptiveAvgPool2d([3, 2]),
    inputs: () => [f64([2, 2, 7, 5])],
  },
  {
    name: 'AdaptiveAvgPool3d (uneven windows)',
    torch: 'nn.AdaptiveAvgPool3d((2, 3, None))',
    build: () => new nn.AdaptiveAvgPool3d([2, 3, null]),
    inputs: () => [f64([1, 2, 5, 4, 3])],
    grads: true,
  },
  {
    name: 'AdaptiveMaxPool2d (uneven windows)',
    torch: 'nn.AdaptiveMaxPool2d((3, 4))',
    build: () => new nn.AdaptiveMaxPool2d([3, 4]),
    inputs: () => [f64([2, 2, 7, 5])],
    grads: true,
  },
  {
    name: 'AdaptiveMaxPool1d (more outputs than inputs)',
    torch: 'nn.AdaptiveMaxPool1d(9)',
    build: () => new nn.AdaptiveMaxPool1d(9),
    inputs: () => [f64([2, 3, 5])],
    grads: true,
  },
  {
    name: 'AdaptiveMaxPool3d (even windows)',
    torch: 'nn.AdaptiveMaxPool3d(2)',
    build: () => new nn.AdaptiveMaxPool3d(2),
    inputs: () => [f64([1, 2, 4, 6, 2])],
    grads: true,
  },
  ...ctcCases(),
  {
    name: 'BatchNorm1d training',
    torch: 'nn.BatchNorm1d(3, momentum=0.2)',
    build: () => new nn.BatchNorm1d(3, { momentum: 0.2 }),
    inputs: () => [f64([6, 3, 4])],
    train: true,
    buffers: true,
    grads: true,
  },
  {
    name: 'BatchNorm2d training, cumulative average',
    torch: 'nn.BatchNorm2d(2, momentum=None)',
    build: () => new nn.BatchNorm2d(2, { momentum: null }),
    inputs: () => [f64([3, 2, 3, 3])],
    train: true,
    buffers: true,
  },
  {
    name: 'BatchNorm1d evaluation',
    torch: 'nn.BatchNorm1d(4)',
    build: () => {
      const bn = new nn.BatchNorm1d(4);
      bn.loadStateDict({ runningMean: f64([4]), runningVar: f64([4], 0.5, 2), weight: f64([4]), bias: f64([4]) }, false);
      return bn;
    },
    inputs: () => [f64([5, 4])],
  },
  {
    name: 'LayerNorm',
    torch: 'nn.LayerNorm((3, 4))',
    build: () => withRandomParameters(new nn.LayerNorm([3, 4])),
    inputs: () => [f64([2, 3, 4])],
    grads: true,
  },
  {
    name: 'GroupNorm',
    torch: 'nn.GroupNorm(2, 4)',
    build: () => withRandomParameters(new nn.GroupNorm(2, 4)),
    inputs: () => [f64([3, 4, 5])],
    grads: true,
  },
  {
    name: 'Embedding (padding index)',
    torch: 'nn.Embedding(6, 3, padding_idx=2)',
    build: () => new nn.Embedding(6, 3, { paddingIdx: 2 }),
    inputs: () => [ints([3, 4], 6)],
    grads: true,
  },
  {
    name: 'MultiheadAttention (masks)',
    torch: 'nn.MultiheadAttention(8, 2)',
    build: () => withRandomParameters(new nn.MultiheadAttention(8, 2)),
    inputs: () => [
      f64([4, 2, 8]),
      f64([5, 2, 8]),
      f64([5, 2, 8]),
      bools([
        [false, false, true, false, false],
        [false, true, false, false, false],
      ]),
      bools([
        [false, true, false, false, false],
        [false, false, false, false, false],
        [true, false, false, false, true],
        [false, false, false, false, false],
      ]),
    ],
    torchCall: 'm(xs[0], xs[1], xs[2], key_padding_mask=xs[3], attn_mask=xs[4])',
    flintCall: (m, xs) =>
      (m as nn.MultiheadAttention).forward(xs[0] as Tensor, xs[1] as Tensor, xs[2] as Tensor, {
        keyPaddingMask: xs[3] as Tensor,
        attnMask: xs[4] as Tensor,
      }),
    grads: true,
  },
  {
    name: 'MultiheadAttention (batchFirst, kdim/vdim, per-head weights)',
    torch: 'nn.MultiheadAttention(6, 3, kdim=4, vdim=5, batch_first=True)',
    build: () => withRandomParameters(new nn.MultiheadAttention(6, 3, { kdim: 4, vdim: 5, batchFirst: true })),
    inputs: () => [f64([2, 3, 6]), f64([2, 4, 4]), f64([2, 4, 5])],
    torchCall: 'm(xs[0], xs[1], xs[2], average_attn_weights=False)',
    flintCall: (m, xs) =>
      (m as nn.MultiheadAttention).forward(xs[0] as Tensor, xs[1] as Tensor, xs[2] as Tensor, { averageAttnWeights: false }),
    grads: true,
  },
  {
    name: 'TransformerEncoderLayer (post-norm, relu, padding mask)',
    torch: 'nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, batch_first=True)',
    build: () => withRandomParameters(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, batchFirst: true })),
    inputs: () => [
      f64([2, 5, 8]),
      bools([
        [false, false, false, true, true],
        [false, false, false, false, false],
      ]),
    ],
    torchCall: 'm(xs[0], src_key_padding_mask=xs[1])',
    flintCall: (m, xs) => (m as nn.TransformerEncoderLayer).forward(xs[0] as Tensor, { srcKeyPaddingMask: xs[1] as Tensor }),
    grads: true,
  },
  {
    name: 'TransformerEncoderLayer (pre-norm, gelu, attention mask)',
    torch: "nn.TransformerEncoderLayer(8, 4, dim_feedforward=10, activation='gelu', norm_first=True)",
    build: () => withRandomParameters(new nn.TransformerEncoderLayer(8, 4, { dimFeedforward: 10, activation: 'gelu', normFirst: true })),
    inputs: () => [
      f64([4, 2, 8]),
      bools([
        [false, true, true, true],
        [false, false, true, true],
        [false, false, false, true],
        [false, false, false, false],
      ]),
    ],
    torchCall: 'm(xs[0], src_mask=xs[1])',
    flintCall: (m, xs) => (m as nn.TransformerEncoderLayer).forward(xs[0] as Tensor, { srcMask: xs[1] as Tensor }),
  },
  {
    name: 'TransformerDecoderLayer (post-norm, relu, causal target, memory padding)',
    torch: 'nn.TransformerDecoderLayer(8, 2, dim_feedforward=12, batch_first=True)',
    build: () => withRandomParameters(new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 12, batchFirst: true })),
    inputs: () => [
      f64([2, 4, 8]),
      f64([2, 5, 8]),
      nn.Transformer.generateSquareSubsequentMask(4, { dtype: 'float64' }),
      bools([
        [false, false, false, true, true],
        [false, false, false, false, false],
      ]),
    ],
    torchCall: 'm(xs[0], xs[1], tgt_mask=xs[2], memory_key_padding_mask=xs[3])',
    flintCall: (m, xs) =>
      (m as nn.TransformerDecoderLayer).forward(xs[0] as Tensor, xs[1] as Tensor, {
        tgtMask: xs[2] as Tensor,
        memoryKeyPaddingMask: xs[3] as Tensor,
      }),
    grads: true,
  },
  {
    name: 'TransformerDecoderLayer (pre-norm, gelu, boolean masks)',
    torch: "nn.TransformerDecoderLayer(8, 4, dim_feedforward=10, activation='gelu', norm_first=True)",
    build: () => withRandomParameters(new nn.TransformerDecoderLayer(8, 4, { dimFeedforward: 10, activation: 'gelu', normFirst: true })),
    inputs: () => [
      f64([3, 2, 8]),
      f64([4, 2, 8]),
      bools([
        [false, true, true],
        [false, false, true],
        [false, false, false],
      ]),
      bools([
        [false, false, true, true],
        [false, true, false, false],
        [false, false, false, false],
      ]),
      bools([
        [false, false, true],
        [false, false, false],
      ]),
    ],
    torchCall: 'm(xs[0], xs[1], tgt_mask=xs[2], memory_mask=xs[3], tgt_key_padding_mask=xs[4])',
    flintCall: (m, xs) =>
      (m as nn.TransformerDecoderLayer).forward(xs[0] as Tensor, xs[1] as Tensor, {
        tgtMask: xs[2] as Tensor,
        memoryMask: xs[3] as Tensor,
        tgtKeyPaddingMask: xs[4] as Tensor,
      }),
    grads: true,
  },
  {
    name: 'TransformerEncoder (2 layers, final norm, padding mask)',
    torch:
      'nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, batch_first=True), 2, norm=nn.LayerNorm(8), enable_nested_tensor=False)',
    build: () =>
      withRandomParameters(
        new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, batchFirst: true }), 2, {
          norm: new nn.LayerNorm(8),
        }),
      ),
    inputs: () => [
      f64([2, 5, 8]),
      bools([
        [false, false, false, true, true],
        [false, false, false, false, false],
      ]),
    ],
    torchCall: 'm(xs[0], src_key_padding_mask=xs[1])',
    flintCall: (m, xs) => (m as nn.TransformerEncoder).forward(xs[0] as Tensor, { srcKeyPaddingMask: xs[1] as Tensor }),
    grads: true,
  },
  {
    name: 'Transformer (2 encoder and 2 decoder layers, batchFirst, masks)',
    torch: 'nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=12, batch_first=True)',
    build: () =>
      withRandomParameters(
        new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 12, batchFirst: true }),
      ),
    inputs: () => [
      f64([2, 5, 8]),
      f64([2, 3, 8]),
      nn.Transformer.generateSquareSubsequentMask(3, { dtype: 'float64' }),
      bools([
        [false, false, false, false, true],
        [false, false, false, false, false],
      ]),
    ],
    torchCall: 'm(xs[0], xs[1], tgt_mask=xs[2], src_key_padding_mask=xs[3], memory_key_padding_mask=xs[3])',
    flintCall: (m, xs) =>
      (m as nn.Transformer).forward(xs[0] as Tensor, xs[1] as Tensor, {
        tgtMask: xs[2] as Tensor,
        srcKeyPaddingMask: xs[3] as Tensor,
        memoryKeyPaddingMask: xs[3] as Tensor,
      }),
    grads: true,
  },
  {
    name: 'LSTM (2 layers, bidirectional, batchFirst)',
    torch: 'nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)',
    build: () => new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true }),
    inputs: () => [f64([2, 5, 3])],
    grads: true,
  },
  {
    name: 'GRU (2 layers, bidirectional)',
    torch: 'nn.GRU(3, 4, num_layers=2, bidirectional=True)',
    build: () => new nn.GRU(3, 4, { numLayers: 2, bidirectional: true }),
    inputs: () => [f64([5, 2, 3])],
    grads: true,
  },
  {
    name: 'GRU with an initial state, no bias',
    torch: 'nn.GRU(3, 2, bias=False)',
    build: () => new nn.GRU(3, 2, { bias: false }),
    inputs: () => [f64([4, 2, 3]), f64([1, 2, 2])],
  },
  {
    name: 'RNN (relu, 2 layers, bidirectional, batchFirst)',
    torch: "nn.RNN(3, 4, num_layers=2, nonlinearity='relu', bidirectional=True, batch_first=True)",
    build: () => new nn.RNN(3, 4, { numLayers: 2, nonlinearity: 'relu', bidirectional: true, batchFirst: true }),
    inputs: () => [f64([2, 5, 3])],
    grads: true,
  },
  {
    name: 'LSTM with projSize and an initial state',
    torch: 'nn.LSTM(3, 5, num_layers=2, proj_size=2)',
    build: () => new nn.LSTM(3, 5, { numLayers: 2, projSize: 2 }),
    inputs: () => [f64([4, 2, 3]), f64([2, 2, 2]), f64([2, 2, 5])],
    torchCall: 'm(xs[0], (xs[1], xs[2]))',
    flintCall: (m, xs) => (m as nn.LSTM).forward(xs[0] as Tensor, [xs[1] as Tensor, xs[2] as Tensor]),
    grads: true,
  },
  {
    name: 'LSTM on an unbatched sequence, bidirectional',
    torch: 'nn.LSTM(3, 4, bidirectional=True)',
    build: () => new nn.LSTM(3, 4, { bidirectional: true }),
    inputs: () => [f64([5, 3])],
    grads: true,
  },
  {
    name: 'RNNCell with a state',
    torch: 'nn.RNNCell(3, 4)',
    build: () => new nn.RNNCell(3, 4),
    inputs: () => [f64([2, 3]), f64([2, 4])],
    grads: true,
  },
  {
    name: 'LSTMCell with a state',
    torch: 'nn.LSTMCell(3, 4)',
    build: () => new nn.LSTMCell(3, 4),
    inputs: () => [f64([2, 3]), f64([2, 4]), f64([2, 4])],
    torchCall: 'm(xs[0], (xs[1], xs[2]))',
    flintCall: (m, xs) => (m as nn.LSTMCell).forward(xs[0] as Tensor, [xs[1] as Tensor, xs[2] as Tensor]),
    grads: true,
  },
  {
    name: 'GRUCell on an unbatched input',
    torch: 'nn.GRUCell(3, 4)',
    build: () => new nn.GRUCell(3, 4),
    inputs: () => [f64([3])],
    grads: true,
  },
  {
    name: 'activations in a Sequential',
    torch:
      "nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 6), nn.LeakyReLU(0.2), nn.GELU(), nn.SiLU(), nn.ELU(0.7), nn.Softplus(2, 3), nn.Mish(), nn.Tanh(), nn.Sigmoid(), nn.GELU('tanh'), nn.Softmax(1), nn.LogSoftmax(1))",
    build: () =>
      new nn.Sequential(
        new nn.Linear(4, 6),
        new nn.ReLU(),
        new nn.Linear(6, 6),
        new nn.LeakyReLU(0.2),
        new nn.GELU(),
        new nn.SiLU(),
        new nn.ELU(0.7),
        new nn.Softplus(2, 3),
        new nn.Mish(),
        new nn.Tanh(),
        new nn.Sigmoid(),
        new nn.GELU('tanh'),
        new nn.Softmax(1),
        new nn.LogSoftmax(1),
      ),
    inputs: () => [f64([5, 4], -3, 3)],
    grads: true,
  },
  {
    name: 'Flatten, Identity, Dropout in evaluation',
    torch: 'nn.Sequential(nn.Flatten(), nn.Identity(), nn.Dropout(0.5), nn.Linear(12, 2))',
    build: () => new nn.Sequential(new nn.Flatten(), new nn.Identity(), new nn.Dropout(0.5), new nn.Linear(12, 2)),
    inputs: () => [f64([2, 3, 4])],
  },
];

/** Non-trivial weights and biases where PyTorch initializes constants (norm scales, attention biases). */
function withRandomParameters<M extends nn.AnyModule>(module: M): M {
  const state: Record<string, Tensor> = {};
  for (const [name, p] of module.namedParameters())
    state[name] = f64([...p.value.shape], -0.5, 0.5).add(name.endsWith('weight') && p.value.ndim === 1 ? 1 : 0);
  module.loadStateDict(state, false);
  return module;
}

const F = nn.functional;
const target = (): Tensor => tensor([0, 2, 1, -100, 2, 1]);
const FUNCTION_CASES: FunctionCase[] = [
  {
    name: 'mseLoss',
    torch: 'F.mse_loss(xs[0], xs[1])',
    flint: (xs) => F.mseLoss(xs[0] as Tensor, xs[1] as Tensor),
    inputs: () => [f64([3, 4]), f64([3, 4])],
  },
  {
    name: 'l1Loss sum',
    torch: "F.l1_loss(xs[0], xs[1], reduction='sum')",
    flint: (xs) => F.l1Loss(xs[0] as Tensor, xs[1] as Tensor, { reduction: 'sum' }),
    inputs: () => [f64([3, 4]), f64([3, 4])],
  },
  {
    name: 'smoothL1Loss',
    torch: "F.smooth_l1_loss(xs[0], xs[1], beta=0.4, reduction='none')",
    flint: (xs) => F.smoothL1Loss(xs[0] as Tensor, xs[1] as Tensor, { beta: 0.4, reduction: 'none' }),
    inputs: () => [f64([8]), f64([8])],
  },
  {
    name: 'huberLoss',
    torch: 'F.huber_loss(xs[0], xs[1], delta=0.3)',
    flint: (xs) => F.huberLoss(xs[0] as Tensor, xs[1] as Tensor, { delta: 0.3 }),
    inputs: () => [f64([8]), f64([8])],
  },
  {
    name: 'crossEntropy (weights, ignoreIndex, labelSmoothing)',
    torch: 'F.cross_entropy(xs[0], xs[1].long(), weight=xs[2], label_smoothing=0.15)',
    flint: (xs) => F.crossEntropy(xs[0] as Tensor, xs[1] as Tensor, { weight: xs[2] as Tensor, labelSmoothing: 0.15 }),
    inputs: () => [f64([6, 3], -3, 3), target(), f64([3], 0.2, 2)],
  },
  {
    name: 'crossEntropy none, [N, C, d]',
    torch: "F.cross_entropy(xs[0], xs[1].long(), reduction='none')",
    flint: (xs) => F.crossEntropy(xs[0] as Tensor, xs[1] as Tensor, { reduction: 'none' }),
    inputs: () => [f64([2, 4, 3], -2, 2), ints([2, 3], 4)],
  },
  {
    name: 'crossEntropy with probabilities',
    torch: 'F.cross_entropy(xs[0], xs[1], label_smoothing=0.1)',
    flint: (xs) => F.crossEntropy(xs[0] as Tensor, xs[1] as Tensor, { labelSmoothing: 0.1 }),
    inputs: () => [f64([4, 3], -2, 2), F.softmax(f64([4, 3], -2, 2), 1)],
  },
  {
    name: 'nllLoss sum with weights',
    torch: "F.nll_loss(xs[0], xs[1].long(), weight=xs[2], reduction='sum')",
    flint: (xs) => F.nllLoss(xs[0] as Tensor, xs[1] as Tensor, { weight: xs[2] as Tensor, reduction: 'sum' }),
    inputs: () => [F.logSoftmax(f64([6, 3]), 1), target(), f64([3], 0.2, 2)],
  },
  {
    name: 'binaryCrossEntropy',
    torch: 'F.binary_cross_entropy(xs[0], xs[1], weight=xs[2])',
    flint: (xs) => F.binaryCrossEntropy(xs[0] as Tensor, xs[1] as Tensor, { weight: xs[2] as Tensor }),
    inputs: () => [f64([3, 4], 0.01, 0.99), f64([3, 4], 0, 1), f64([4], 0.5, 1.5)],
  },
  {
    name: 'binaryCrossEntropyWithLogits (posWeight)',
    torch: "F.binary_cross_entropy_with_logits(xs[0], xs[1], pos_weight=xs[2], reduction='none')",
    flint: (xs) => F.binaryCrossEntropyWithLogits(xs[0] as Tensor, xs[1] as Tensor, { posWeight: xs[2] as Tensor, reduction: 'none' }),
    inputs: () => [f64([3, 4], -5, 5), f64([3, 4], 0, 1), f64([4], 0.5, 3)],
  },
  {
    name: 'klDiv batchmean',
    torch: "F.kl_div(xs[0], xs[1], reduction='batchmean')",
    flint: (xs) => F.klDiv(xs[0] as Tensor, xs[1] as Tensor, { reduction: 'batchmean' }),
    inputs: () => [F.logSoftmax(f64([3, 5]), 1), F.softmax(f64([3, 5]), 1)],
  },
  {
    name: 'klDiv logTarget',
    torch: "F.kl_div(xs[0], xs[1], reduction='sum', log_target=True)",
    flint: (xs) => F.klDiv(xs[0] as Tensor, xs[1] as Tensor, { reduction: 'sum', logTarget: true }),
    inputs: () => [F.logSoftmax(f64([3, 5]), 1), F.logSoftmax(f64([3, 5]), 1)],
  },
  {
    name: 'cosineEmbeddingLoss',
    torch: 'F.cosine_embedding_loss(xs[0], xs[1], xs[2], margin=0.1)',
    flint: (xs) => F.cosineEmbeddingLoss(xs[0] as Tensor, xs[1] as Tensor, xs[2] as Tensor, { margin: 0.1 }),
    inputs: () => [f64([4, 6]), f64([4, 6]), tensor([1, -1, -1, 1], { dtype: 'float64' })],
  },
  {
    name: 'marginRankingLoss',
    torch: 'F.margin_ranking_loss(xs[0], xs[1], xs[2], margin=0.3)',
    flint: (xs) => F.marginRankingLoss(xs[0] as Tensor, xs[1] as Tensor, xs[2] as Tensor, { margin: 0.3 }),
    inputs: () => [f64([6]), f64([6]), tensor([1, -1, 1, 1, -1, -1], { dtype: 'float64' })],
  },
  {
    name: 'groupNorm functional',
    torch: 'F.group_norm(xs[0], 3, xs[1], xs[2], eps=1e-3)',
    flint: (xs) => F.groupNorm(xs[0] as Tensor, 3, { weight: xs[1] as Tensor, bias: xs[2] as Tensor, eps: 1e-3 }),
    inputs: () => [f64([2, 6, 2, 2]), f64([6]), f64([6])],
  },
];

const PYTHON_SCRIPT = `
import json, math, sys
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)
DTYPES = {'float64': torch.float64, 'float32': torch.float32, 'int32': torch.long, 'bool': torch.bool}

def dec(e):
    data = [float(v) for v in e['data']]
    return torch.tensor(data, dtype=DTYPES[e['dtype']]).reshape(e['shape'])

def enc(t):
    flat = t.detach().to(torch.float64).flatten().tolist()
    return {'shape': list(t.shape), 'dtype': 'float64', 'data': [v if math.isfinite(v) else str(v) for v in flat]}

def leaves(out):
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in leaves(item)]
    return [out]

results = []
for case in json.load(sys.stdin):
    try:
        xs = [dec(x) for x in case['inputs']]
        if case['type'] == 'function':
            results.append({'outputs': [enc(eval(case['torch']))]})
            continue
        torch.manual_seed(0)
        m = eval(case['torch']).double()
        m.load_state_dict({k: dec(v) for k, v in case['state'].items()}, strict=True)
        m.train(case['train'])
        if case['grads'] and xs[0].is_floating_point():
            xs[0].requires_grad_(True)
        outs = leaves(eval(case.get('call') or 'm(*xs)'))
        result = {'outputs': [enc(o) for o in outs]}
        if case['grads']:
            loss = sum((o * dec(c)).sum() for o, c in zip(outs, case['cotangents']))
            loss.backward()
            result['grads'] = {k: enc(p.grad) for k, p in m.named_parameters() if p.grad is not None}
            if xs[0].grad is not None:
                result['inputGrad'] = enc(xs[0].grad)
        if case['buffers']:
            result['state'] = {k: enc(v) for k, v in m.state_dict().items()}
        results.append(result)
    except Exception as error:
        results.append({'error': repr(error)})
print(json.dumps(results))
`;

interface TorchResult {
  error?: string;
  outputs: Encoded[];
  grads?: Record<string, Encoded>;
  inputGrad?: Encoded;
  state?: Record<string, Encoded>;
}

interface Prepared {
  readonly expectations: ((result: TorchResult) => void)[];
  readonly payload: unknown[];
}

const TOLERANCE = 1e-9;

function prepare(): Prepared {
  manualSeed(123);
  const payload: unknown[] = [];
  const expectations: ((result: TorchResult) => void)[] = [];
  for (const c of MODULE_CASES) {
    const module = c.build().to('float64');
    if (c.train === true) module.train();
    else module.eval();
    const state = module.stateDict();
    const inputs = c.inputs();
    const xs = c.grads === true && inputs[0]?.dtype === 'float64' ? [(inputs[0] as Tensor).requiresGrad_(), ...inputs.slice(1)] : inputs;
    const outputs = flattenOutputs((c.flintCall ?? call)(module, xs));
    const cotangents = outputs.map((o) => randn([...o.shape], { dtype: 'float64' }));
    let grads: Record<string, Tensor> = {};
    let inputGrad: Tensor | null = null;
    if (c.grads === true) {
      outputs
        .map((o, i) => o.mul(cotangents[i] as Tensor).sum())
        .reduce((a, b) => a.add(b))
        .backward();
      grads = Object.fromEntries(
        module
          .namedParameters()
          .filter(([, p]) => p.grad !== null)
          .map(([n, p]) => [snakeCase(n), p.grad as Tensor]),
      );
      inputGrad = xs[0]?.grad ?? null;
    }
    const after = c.buffers === true ? module.stateDict() : {};
    payload.push({
      type: 'module',
      torch: c.torch,
      call: c.torchCall ?? null,
      train: c.train === true,
      grads: c.grads === true,
      buffers: c.buffers === true,
      state: Object.fromEntries(Object.entries(state).map(([n, t]) => [snakeCase(n), encode(t)])),
      inputs: inputs.map(encode),
      cotangents: cotangents.map(encode),
    });
    expectations.push((result) => {
      expect(result.error, c.name).toBeUndefined();
      expect(result.outputs.length, `${c.name}: number of outputs`).toBe(outputs.length);
      outputs.forEach((o, i) => {
        const reference = result.outputs[i] as Encoded;
        expect([...o.shape], `${c.name}: output ${i} shape`).toEqual(reference.shape);
        expect(maxRelativeDifference(o.dataSync(), decode(reference)), `${c.name}: output ${i}`).toBeLessThan(TOLERANCE);
      });
      if (c.grads === true) {
        expect(Object.keys(grads).sort(), `${c.name}: parameters with gradients`).toEqual(Object.keys(result.grads ?? {}).sort());
        for (const [name, g] of Object.entries(grads)) {
          expect(
            maxRelativeDifference(g.dataSync(), decode(result.grads?.[name] as Encoded)),
            `${c.name}: gradient of ${name}`,
          ).toBeLessThan(TOLERANCE);
        }
        if (inputGrad !== null)
          expect(
            maxRelativeDifference(inputGrad.dataSync(), decode(result.inputGrad as Encoded)),
            `${c.name}: input gradient`,
          ).toBeLessThan(TOLERANCE);
      }
      if (c.buffers === true) {
        for (const [name, t] of Object.entries(after)) {
          expect(
            maxRelativeDifference(t.dataSync(), decode(result.state?.[snakeCase(name)] as Encoded)),
            `${c.name}: ${name} after the step`,
          ).toBeLessThan(TOLERANCE);
        }
      }
    });
  }
  for (const c of FUNCTION_CASES) {
    const inputs = c.inputs();
    const out = c.flint(inputs);
    payload.push({ type: 'function', torch: c.torch, inputs: inputs.map(encode) });
    expectations.push((result) => {
      expect(result.error, c.name).toBeUndefined();
      const reference = result.outputs[0] as Encoded;
      expect([...out.shape], `${c.name}: shape`).toEqual(reference.shape);
      expect(maxRelativeDifference(out.dataSync(), decode(reference)), c.name).toBeLessThan(TOLERANCE);
    });
  }
  return { payload, expectations };
}

describe.skipIf(!torchAvailable)(`nn layers and losses ${SUITE}`, () => {
  let results: TorchResult[] = [];
  let prepared: Prepared | null = null;

  it('runs every case through PyTorch', () => {
    prepared = prepare();
    const run = spawnSync(PYTHON, ['-c', PYTHON_SCRIPT], {
      input: JSON.stringify(prepared.payload),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(run.stderr.includes('Traceback') ? run.stderr : '').toBe('');
    expect(run.status).toBe(0);
    results = JSON.parse(run.stdout) as TorchResult[];
    expect(results).toHaveLength(MODULE_CASES.length + FUNCTION_CASES.length);
  });

  [...MODULE_CASES, ...FUNCTION_CASES].forEach((c, i) => {
    it(`${c.name} agrees with PyTorch`, () => {
      expect(prepared, 'the PyTorch run failed').not.toBeNull();
      (prepared as Prepared).expectations[i]?.(results[i] as TorchResult);
    });
  });
});

describe.skipIf(torchAvailable)('nn against PyTorch', () => {
  it(`is skipped: ${PYTHON} cannot import torch`, () => {
    expect(torchAvailable).toBe(false);
  });
});
