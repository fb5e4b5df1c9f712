import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { dispose, getBackend, grad, jit, manualSeed, noGrad, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { PYTHON } from '../../../../../test/support/python-torch.test-support.js';
import { describeAgainstTorch } from '../../../../../test/support/torch-oracle.test-support.js';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

// nn.utils.rnn: padding, packing and unpacking, and the recurrent layers on packed batches
// (unsorted lengths, both directions, two layers, given initial states), against PyTorch in
// float64: values, final states, and gradients with respect to every weight, the padded input and
// the initial states.

const { rnn } = nn.utils;
const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
/** float64 tensors of the given shapes, uniform in [-1, 1) from a generator seeded with `seed`. */
const randomTensors = (seed: number): ((shape: number[]) => Tensor) => {
  const random = seededRandom(seed);
  return (shape) =>
    tensor(
      randomValues(
        random,
        shape.reduce((a, b) => a * b, 1),
      ),
      { dtype: 'float64' },
    ).reshape(shape);
};
const f64 = randomTensors(17);

describe('padSequence and unpadSequence', () => {
  it('pad to the longest on the right or the left, time- or batch-first, and cut back', () => {
    const a = tensor([[1], [2], [3]]);
    const b = tensor([[4]]);
    const c = tensor([[5], [6]]);
    expect(rnn.padSequence([a, b, c]).arraySync()).toEqual([
      [[1], [4], [5]],
      [[2], [0], [6]],
      [[3], [0], [0]],
    ]);
    expect(rnn.padSequence([a, b, c], { batchFirst: true, paddingValue: -1, paddingSide: 'left' }).arraySync()).toEqual([
      [[1], [2], [3]],
      [[-1], [-1], [4]],
      [[-1], [5], [6]],
    ]);
    const padded = rnn.padSequence([a, b, c], { batchFirst: true });
    expect(rnn.unpadSequence(padded, [3, 1, 2], { batchFirst: true }).map((t) => t.arraySync())).toEqual(
      [a, b, c].map((t) => t.arraySync()),
    );
    expect(rnn.unpadSequence(rnn.padSequence([a, b, c]), tensor([3, 1, 2])).map((t) => t.shape)).toEqual([
      [3, 1],
      [1, 1],
      [2, 1],
    ]);
  });

  it('refuse empty lists, mismatched trailing shapes, lengths that do not fit, and positional options', () => {
    expect(() => rnn.padSequence([])).toThrow(/padSequence: received an empty list of sequences/);
    expect(() => rnn.padSequence([tensor([[1, 2]]), tensor([[1]])])).toThrow(
      /trailing shape of the first, \[2\]; sequences\[1\] has shape \[1, 1\]/,
    );
    expect(() => rnn.padSequence([tensor([1])], true as never)).toThrow(/pass the batchFirst as \{ batchFirst: true \}/);
    expect(() => rnn.unpadSequence(tensor([[1, 2]]), [1, 1, 1])).toThrow(/got 3 lengths for a batch of 2/);
    expect(() => rnn.unpadSequence(tensor([[1, 2]]), [1, 2])).toThrow(/lengths must lie in \[0, 1\], got 2/);
  });
});

describe('packing', () => {
  it('packs a padded batch step by step, longest first, and unpacks it into the original order', () => {
    // Sequences of lengths 2, 3, 1 in a [T=3, B=3] batch: x[t][b] = 10 b + t.
    const padded = tensor([
      [0, 10, 20],
      [1, 11, 99],
      [99, 12, 99],
    ]);
    const packed = rnn.packPaddedSequence(padded, [2, 3, 1], { enforceSorted: false });
    expect(values(packed.data)).toEqual([10, 0, 20, 11, 1, 12]);
    expect(packed.batchSizes).toEqual([3, 2, 1]);
    expect(values(packed.sortedIndices as Tensor)).toEqual([1, 0, 2]);
    expect(values(packed.unsortedIndices as Tensor)).toEqual([1, 0, 2]);
    const [back, lengths] = rnn.padPackedSequence(packed, { paddingValue: -1, totalLength: 4 });
    expect(back.arraySync()).toEqual([
      [0, 10, 20],
      [1, 11, -1],
      [-1, 12, -1],
      [-1, -1, -1],
    ]);
    expect([lengths.dtype, values(lengths)]).toEqual(['int32', [2, 3, 1]]);
    expect(rnn.unpackSequence(packed).map(values)).toEqual([[0, 1], [10, 11, 12], [20]]);
    const sorted = rnn.packSequence([tensor([10, 11, 12]), tensor([0, 1]), tensor([20])]);
    expect([values(sorted.data), sorted.batchSizes, sorted.sortedIndices]).toEqual([[10, 0, 20, 11, 1, 12], [3, 2, 1], null]);
  });

  it('passes gradients back to the padded batch (none to the padding) and traces under jit', () => {
    const x = f64([3, 2, 2]);
    const f = (input: Tensor): Tensor => {
      const packed = rnn.packPaddedSequence(input, [1, 3], { enforceSorted: false });
      return rnn.padPackedSequence(packed, { batchFirst: true, paddingValue: 5 })[0].square().sum();
    };
    const g = grad(f)(x);
    // Sequence 0 (length 1) keeps only step 0; sequence 1 (length 3) every step.
    const expected = values(x).map((v, i) => {
      const [t, b] = [Math.floor(i / 4), Math.floor(i / 2) % 2];
      return b === 1 || t === 0 ? 2 * v : 0;
    });
    expect(maxDifference(values(g), expected)).toBeLessThan(1e-12);
    expect(Math.abs((jit(f)(x).item() as number) - (f(x).item() as number))).toBeLessThan(1e-12);
  });

  it('refuses unsorted lengths when sorting is enforced, lengths out of range, and a short totalLength', () => {
    const padded = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(() => rnn.packPaddedSequence(padded, [1, 2])).toThrow(
      /lengths must be sorted in decreasing order when enforceSorted is true, got \[1, 2\]; pass enforceSorted: false/,
    );
    expect(() => rnn.packPaddedSequence(padded, [2, 0])).toThrow(/every sequence must have a length greater than 0/);
    expect(() => rnn.packPaddedSequence(padded, [3, 1])).toThrow(/a length \(3\) exceeds the input's 2 time steps/);
    expect(() => rnn.packPaddedSequence(padded, [2])).toThrow(/got 1 lengths for a batch of 2/);
    expect(() => rnn.packPaddedSequence(padded, [2.5, 1])).toThrow(/lengths must hold integers, got 2.5/);
    const packed = rnn.packPaddedSequence(padded, tensor([2, 1]));
    expect(() => rnn.padPackedSequence(packed, { totalLength: 1 })).toThrow(
      /totalLength must be an integer at least the longest length \(2\), got 1/,
    );
    expect(() => rnn.padPackedSequence(padded as never)).toThrow(ValueError);
    expect(() => rnn.packedSequence(tensor([1, 2, 3]), [1, 2])).toThrow(/batchSizes must be positive and non-increasing, got \[1, 2\]/);
    expect(() => rnn.packedSequence(tensor([1, 2, 3]), [2, 2])).toThrow(/sum \(4\) rows on its first axis, got shape \[3\]/);
    expect(values(rnn.packedSequence(tensor([1, 2, 3]), [2, 1], tensor([1, 0])).unsortedIndices as Tensor)).toEqual([1, 0]);
  });
});

describe('recurrent layers on packed batches', () => {
  it('refuse packed data of the wrong width and states of the wrong batch', () => {
    const gru = new nn.GRU(3, 4);
    const packed = rnn.packSequence([tensor([[1, 2]]), tensor([[3, 4]])]);
    expect(() => gru.forward(packed)).toThrow(/GRU: a PackedSequence's data must be \[sum of lengths, 3\], got \[2, 2\]/);
    const ok = rnn.packSequence([
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      tensor([[7, 8, 9]]),
    ]);
    expect(() => gru.forward(ok, tensor(new Array(12).fill(0)).reshape([1, 3, 4]))).toThrow(
      /GRU: h0 must have shape \[1, 2, 4\] for a packed batch of 2, got \[1, 3, 4\]/,
    );
  });

  it('free their intermediate tensors', () => {
    const lstm = new nn.LSTM(2, 3, { bidirectional: true, numLayers: 2 });
    const packed = rnn.packPaddedSequence(f64([4, 3, 2]), [2, 4, 1], { enforceSorted: false });
    // Under noGrad (inference): with a tape, the backward pass keeps what its rules saved.
    dispose(noGrad(() => lstm.forward(packed)));
    // Counted on the backend the tensors live on: memory() also sums the backends other test files
    // made, and a stand-in that wraps 'cpu' counts its buffers again.
    const before = getBackend().memory().buffers;
    const result = noGrad(() => lstm.forward(packed));
    // The output's data, index tensors (its own copies) and the two states.
    expect(getBackend().memory().buffers).toBe(before + 5);
    dispose(result);
    expect(getBackend().memory().buffers).toBe(before);
    expect(values(packed.sortedIndices as Tensor)).toEqual([1, 0, 2]);
  });
});

/** weightIhL0Reverse -> weight_ih_l0_reverse. */
const snakeCase = (name: string): string => name.replace(/([A-Z])/g, '_$1').toLowerCase();

const KINDS = ['RNN', 'LSTM', 'GRU'] as const;
type Kind = (typeof KINDS)[number];
const [T, B, I, H] = [5, 4, 3, 4];
const LENGTHS = [3, 5, 1, 4];

/** A two-layer bidirectional module of `kind` in float64, its inputs and the loss's weights: the same on every call. */
const setupOf = memoize((kind: Kind) => {
  manualSeed(11);
  const options = { numLayers: 2, bidirectional: true, dtype: 'float64' as const };
  const layer = kind === 'LSTM' ? new nn.LSTM(I, H, options) : kind === 'GRU' ? new nn.GRU(I, H, options) : new nn.RNN(I, H, options);
  const f = randomTensors(31);
  return {
    layer,
    x: f([T, B, I]),
    h0: f([4, B, H]),
    c0: f([4, B, H]),
    outWeights: f([LENGTHS.reduce((a, b) => a + b, 0), 2 * H]),
    hWeights: f([4, B, H]),
    cWeights: f([4, B, H]),
  };
});

function memoize<K, V>(compute: (key: K) => V): (key: K) => V {
  const cache = new Map<K, V>();
  return (key) => {
    if (!cache.has(key)) cache.set(key, compute(key));
    return cache.get(key) as V;
  };
}

function once<V>(compute: () => V): () => V {
  const cached = memoize(compute);
  return () => cached(undefined);
}

/** Four sequences of lengths 2, 4, 1, 3 with 3 features. */
const packingSequences = once((): Tensor[] => {
  const f = randomTensors(5);
  return [2, 4, 1, 3].map((length) => f([length, 3]));
});

/** torch's packing of packingSequences(), and its packed forward and backward for every kind, in one Python process. */
const torchResults = once((): { packing: Record<string, number[]>; runs: TorchRun[] } => {
  const script = `
import json, sys, torch
from torch.nn.utils import rnn
torch.set_default_dtype(torch.float64)
given = json.load(sys.stdin)
seqs = [torch.tensor(s).reshape(-1, 3) for s in given['sequences']]
padded = rnn.pad_sequence(seqs, batch_first=True, padding_value=-2.0)
packed = rnn.pack_padded_sequence(padded, torch.tensor([2, 4, 1, 3]), batch_first=True, enforce_sorted=False)
back, lengths = rnn.pad_packed_sequence(packed, padding_value=7.0, total_length=5)
packing = {'padded': padded.reshape(-1).tolist(), 'data': packed.data.reshape(-1).tolist(),
  'batch': packed.batch_sizes.tolist(), 'sorted': packed.sorted_indices.tolist(), 'unsorted': packed.unsorted_indices.tolist(),
  'back': back.reshape(-1).tolist(), 'lengths': lengths.tolist(),
  'seq': rnn.pack_sequence(seqs, enforce_sorted=False).data.reshape(-1).tolist()}
results = []
for d in given['runs']:
    kind = d['kind']
    T = lambda k, shape: torch.tensor(d[k], dtype=torch.float64).reshape(shape)
    m = getattr(torch.nn, kind)(${I}, ${H}, num_layers=2, bidirectional=True)
    m.load_state_dict({k: T(k, v.shape) for k, v in m.state_dict().items()}, strict=True)
    x = T('x', (${T}, ${B}, ${I})).requires_grad_()
    h0 = T('h0', (4, ${B}, ${H})).requires_grad_()
    c0 = T('c0', (4, ${B}, ${H})).requires_grad_()
    packed = rnn.pack_padded_sequence(x, torch.tensor(${JSON.stringify(LENGTHS)}), enforce_sorted=False)
    out, state = m(packed, (h0, c0) if kind == 'LSTM' else h0)
    h, c = state if kind == 'LSTM' else (state, None)
    loss = (out.data * T('outWeights', out.data.shape)).sum() + (h * T('hWeights', h.shape)).sum()
    if c is not None: loss = loss + (c * T('cWeights', c.shape)).sum()
    loss.backward()
    padded, _ = rnn.pad_packed_sequence(out)
    grads = {n: p.grad.reshape(-1).tolist() for n, p in m.named_parameters()}
    grads['x'] = x.grad.reshape(-1).tolist(); grads['h0'] = h0.grad.reshape(-1).tolist()
    if c is not None: grads['c0'] = c0.grad.reshape(-1).tolist()
    results.append({'out': out.data.reshape(-1).tolist(), 'batchSizes': out.batch_sizes.tolist(), 'padded': padded.reshape(-1).tolist(),
      'h': h.reshape(-1).tolist(), 'c': None if c is None else c.reshape(-1).tolist(), 'grads': grads})
print(json.dumps({'packing': packing, 'runs': results}))
`;
  const payloads = KINDS.map((kind) => {
    const { layer, ...inputs } = setupOf(kind);
    const payload: Record<string, number[] | string> = { kind };
    for (const [name, t] of Object.entries(inputs)) payload[name] = values(t);
    for (const [name, p] of layer.namedParameters()) payload[snakeCase(name)] = values(p.value);
    return payload;
  });
  const run = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify({ sequences: packingSequences().map(values), runs: payloads }),
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (run.status !== 0) throw new Error(`PyTorch failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { packing: Record<string, number[]>; runs: TorchRun[] };
});

interface TorchRun {
  out: number[];
  batchSizes: number[];
  padded: number[];
  h: number[];
  c: number[] | null;
  grads: Record<string, number[]>;
}

describeAgainstTorch('nn.utils.rnn against PyTorch', () => {
  it('packs, pads and unpacks as torch does', () => {
    const sequences = packingSequences();
    const expected = torchResults().packing;
    const padded = rnn.padSequence(sequences, { batchFirst: true, paddingValue: -2 });
    const packed = rnn.packPaddedSequence(padded, [2, 4, 1, 3], { batchFirst: true, enforceSorted: false });
    const [back, lengths] = rnn.padPackedSequence(packed, { paddingValue: 7, totalLength: 5 });
    expect({
      padded: values(padded),
      data: values(packed.data),
      batch: packed.batchSizes,
      sorted: values(packed.sortedIndices as Tensor),
      unsorted: values(packed.unsortedIndices as Tensor),
      back: values(back),
      lengths: values(lengths),
      seq: values(rnn.packSequence(sequences, { enforceSorted: false }).data),
    }).toEqual(expected);
  });

  for (const kind of KINDS) {
    it(`${kind}: outputs, each sequence's final state and every gradient match torch's on an unsorted packed batch`, () => {
      const { layer, x, h0, c0, outWeights, hWeights, cWeights } = setupOf(kind);
      const loss = (params: Record<string, Tensor>, input: Tensor, h: Tensor, c: Tensor): Tensor => {
        const packed = rnn.packPaddedSequence(input, LENGTHS, { enforceSorted: false });
        if (layer instanceof nn.LSTM) {
          const [out, [hn, cn]] = nn.functionalCall(layer, params, packed as never, [h, c]) as unknown as [
            nn.utils.rnn.PackedSequence,
            [Tensor, Tensor],
          ];
          return out.data.mul(outWeights).sum().add(hn.mul(hWeights).sum()).add(cn.mul(cWeights).sum());
        }
        const [out, hn] = nn.functionalCall(layer as nn.GRU, params, packed as never, h) as unknown as [
          nn.utils.rnn.PackedSequence,
          Tensor,
        ];
        return out.data.mul(outWeights).sum().add(hn.mul(hWeights).sum());
      };
      const packed = rnn.packPaddedSequence(x, LENGTHS, { enforceSorted: false });
      let out: nn.utils.rnn.PackedSequence;
      let h: Tensor;
      let c: Tensor | null = null;
      if (layer instanceof nn.LSTM) [out, [h, c]] = layer.forward(packed, [h0, c0]);
      else [out, h] = (layer as nn.GRU).forward(packed, h0);
      const [parameterGrads, gx, gh, gc] = grad(loss, { argnums: [0, 1, 2, 3] })(layer.parameterValues(), x, h0, c0) as [
        Record<string, Tensor>,
        Tensor,
        Tensor,
        Tensor,
      ];
      const expected = torchResults().runs[KINDS.indexOf(kind)] as TorchRun;

      expect(out.batchSizes).toEqual(expected.batchSizes);
      expect(maxDifference(values(out.data), expected.out)).toBeLessThan(1e-12);
      expect(maxDifference(values(rnn.padPackedSequence(out)[0]), expected.padded)).toBeLessThan(1e-12);
      expect(maxDifference(values(h), expected.h)).toBeLessThan(1e-12);
      if (c !== null) expect(maxDifference(values(c), expected.c as number[])).toBeLessThan(1e-12);
      for (const [name] of layer.namedParameters()) {
        const expectedGrad = expected.grads[snakeCase(name)] as number[];
        expect(maxDifference(values(parameterGrads[name] as Tensor), expectedGrad), name).toBeLessThan(1e-10);
      }
      expect(maxDifference(values(gx), expected.grads.x as number[])).toBeLessThan(1e-10);
      expect(maxDifference(values(gh), expected.grads.h0 as number[])).toBeLessThan(1e-10);
      if (kind === 'LSTM') expect(maxDifference(values(gc), expected.grads.c0 as number[])).toBeLessThan(1e-10);
    });
  }
});
