import '@flint/backend-cpu';
import { manualSeed, randn, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference } from '../testing.test-support.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** Rows [from, to) of a 2-d or 1-d tensor, as a new tensor. */
function rows(t: Tensor, from: number, to: number): Tensor {
  const width = t.ndim === 2 ? (t.shape[1] as number) : 1;
  const data = Array.from(t.dataSync()).slice(from * width, to * width);
  return tensor(data, { shape: t.ndim === 2 ? [to - from, width] : [to - from], dtype: 'float32' });
}

/**
 * Multi-head attention written out from its pieces, batch first: the packed projection split into
 * q, k, v (linear), heads split, scaled dot-product attention with an additive mask, heads merged,
 * the output projection (linear).
 */
function attentionReference(attention: nn.MultiheadAttention, query: Tensor, keyValue: Tensor, additiveMask: Tensor | null): Tensor {
  const e = attention.embedDim;
  const h = attention.numHeads;
  const w = attention.inProjWeight?.value as Tensor;
  const b = attention.inProjBias?.value as Tensor;
  const q = F.linear(query, rows(w, 0, e), rows(b, 0, e));
  const k = F.linear(keyValue, rows(w, e, 2 * e), rows(b, e, 2 * e));
  const v = F.linear(keyValue, rows(w, 2 * e, 3 * e), rows(b, 2 * e, 3 * e));
  const [n, t] = query.shape as [number, number, number];
  const s = keyValue.shape[1] as number;
  const heads = (x: Tensor, length: number): Tensor => x.reshape([n, length, h, e / h]).permute([0, 2, 1, 3]);
  const scores = heads(q, t)
    .matmul(heads(k, s).swapaxes(-1, -2))
    .div(Math.sqrt(e / h));
  const weights = F.softmax(additiveMask === null ? scores : scores.add(additiveMask), -1);
  const merged = weights.matmul(heads(v, s)).permute([0, 2, 1, 3]).reshape([n, t, e]);
  return F.linear(merged, attention.outProj.weight.value, attention.outProj.bias?.value ?? null);
}

function layerNormReference(norm: nn.LayerNorm, x: Tensor): Tensor {
  return F.layerNorm(x, [x.shape[x.ndim - 1] as number], { weight: norm.weight?.value ?? null, bias: norm.bias?.value ?? null, eps: 1e-5 });
}

/** A boolean [N, S] padding mask as an additive [N, 1, 1, S] one. */
function additivePadding(mask: boolean[][]): Tensor {
  return tensor(
    mask.map((row) => [[row.map((padded) => (padded ? Number.NEGATIVE_INFINITY : 0))]]),
    { dtype: 'float32' },
  );
}

describe('TransformerDecoderLayer', () => {
  it('registers PyTorch’s submodules in its order', () => {
    const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 12 });
    expect(Object.keys(layer.stateDict())).toEqual([
      'selfAttn.inProjWeight',
      'selfAttn.inProjBias',
      'selfAttn.outProj.weight',
      'selfAttn.outProj.bias',
      'multiheadAttn.inProjWeight',
      'multiheadAttn.inProjBias',
      'multiheadAttn.outProj.weight',
      'multiheadAttn.outProj.bias',
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
      'norm1.weight',
      'norm1.bias',
      'norm2.weight',
      'norm2.bias',
      'norm3.weight',
      'norm3.bias',
    ]);
    expect(layer.toString().split('\n')[1]).toBe("  activation='relu', normFirst=false");
  });

  it('equals self-attention, attention to the memory and feed-forward written out step by step (post- and pre-norm, masks)', () => {
    manualSeed(21);
    const tgtPadding = [
      [false, false, false, true],
      [false, false, false, false],
    ];
    const memoryPadding = [
      [false, false, true, true, true],
      [false, false, false, false, true],
    ];
    for (const normFirst of [false, true]) {
      for (const activation of ['relu', 'gelu'] as const) {
        const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, normFirst, activation, batchFirst: true }).eval();
        // Non-zero biases everywhere, so that a bias used in the wrong place shows.
        for (const p of layer.parameters()) nn.init.uniform(p, -0.5, 0.5);
        const tgt = randn([2, 4, 8]);
        const memory = randn([2, 5, 8]);
        const causal = nn.Transformer.generateSquareSubsequentMask(4);
        const selfMask = causal.add(additivePadding(tgtPadding));
        const act = activation === 'relu' ? F.relu : (x: Tensor) => F.gelu(x);
        const sa = (x: Tensor): Tensor => attentionReference(layer.selfAttn, x, x, selfMask);
        const mha = (x: Tensor): Tensor => attentionReference(layer.multiheadAttn, x, memory, additivePadding(memoryPadding));
        const ff = (x: Tensor): Tensor =>
          F.linear(
            act(F.linear(x, layer.linear1.weight.value, layer.linear1.bias?.value ?? null)),
            layer.linear2.weight.value,
            layer.linear2.bias?.value ?? null,
          );
        let expected: Tensor;
        if (normFirst) {
          let x = tgt.add(sa(layerNormReference(layer.norm1, tgt)));
          x = x.add(mha(layerNormReference(layer.norm2, x)));
          expected = x.add(ff(layerNormReference(layer.norm3, x)));
        } else {
          let x = layerNormReference(layer.norm1, tgt.add(sa(tgt)));
          x = layerNormReference(layer.norm2, x.add(mha(x)));
          expected = layerNormReference(layer.norm3, x.add(ff(x)));
        }
        const out = layer.forward(tgt, memory, {
          tgtMask: causal,
          tgtKeyPaddingMask: tensor(tgtPadding),
          memoryKeyPaddingMask: tensor(memoryPadding),
        });
        expect(out.shape).toEqual([2, 4, 8]);
        expect(maxDifference(values(out), values(expected))).toBeLessThan(1e-5);
        // tgtIsCausal builds the same mask; a boolean mask (true = not allowed) is the same too.
        const causalBool = tensor([0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => j > i)));
        for (const options of [{ tgtIsCausal: true }, { tgtMask: causalBool }]) {
          const again = layer.forward(tgt, memory, {
            ...options,
            tgtKeyPaddingMask: tensor(tgtPadding),
            memoryKeyPaddingMask: tensor(memoryPadding),
          });
          expect(maxDifference(values(again), values(expected))).toBeLessThan(1e-5);
        }
      }
    }
  });

  it('sequence-first equals batch-first on transposed inputs; memoryMask masks memory positions', () => {
    manualSeed(22);
    const first = new nn.TransformerDecoderLayer(8, 4, { dimFeedforward: 8 }).eval();
    const batchFirst = new nn.TransformerDecoderLayer(8, 4, { dimFeedforward: 8, batchFirst: true }).eval();
    batchFirst.loadStateDict(first.stateDict());
    const tgt = randn([3, 2, 8]);
    const memory = randn([5, 2, 8]);
    const memoryMask = tensor([0, 1, 2].map(() => [false, false, false, true, true]));
    const a = first.forward(tgt, memory, { memoryMask });
    const b = batchFirst.forward(tgt.swapaxes(0, 1), memory.swapaxes(0, 1), { memoryMask });
    expect(maxDifference(values(b.swapaxes(0, 1)), values(a))).toBeLessThan(1e-5);
    // Masking memory positions 3 and 4 is the same as dropping them.
    const truncated = first.forward(tgt, tensor(values(memory).slice(0, 3 * 2 * 8), { shape: [3, 2, 8], dtype: 'float32' }));
    expect(maxDifference(values(a), values(truncated))).toBeLessThan(1e-5);
  });

  it('refuses bad options with the class name', () => {
    expect(() => new nn.TransformerDecoderLayer(8, 3)).toThrow(/divisible by numHeads/);
    expect(() => new nn.TransformerDecoderLayer(8, 2, { activation: 'tanh' as 'relu' })).toThrow(
      /TransformerDecoderLayer: activation must be 'relu', 'gelu' or a function, got "tanh"/,
    );
    expect(() => new nn.TransformerDecoderLayer(8, 2, { dropout: 2 })).toThrow(/TransformerDecoderLayer: dropout must be a probability/);
  });
});

describe('TransformerEncoder and TransformerDecoder', () => {
  it('hold deep copies with independent parameters, PyTorch’s state-dict keys, and run the layers in order', () => {
    manualSeed(23);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
    const encoder = new nn.TransformerEncoder(layer, 3, { norm: new nn.LayerNorm(8) }).eval();
    expect(encoder.layers.length).toBe(3);
    const keys = Object.keys(encoder.stateDict());
    expect(keys).toContain('layers.0.selfAttn.inProjWeight');
    expect(keys).toContain('layers.2.linear2.bias');
    expect(keys.slice(-2)).toEqual(['norm.weight', 'norm.bias']);
    expect(keys.length).toBe(3 * Object.keys(layer.stateDict()).length + 2);
    // Copies start equal to the given layer, which is not registered, and are independent.
    const [first, second] = [encoder.layers.at(0), encoder.layers.at(1)];
    expect(first).not.toBe(layer);
    expect(first.selfAttn.inProjWeight).not.toBe(second.selfAttn.inProjWeight);
    expect(values(first.linear1.weight.value)).toEqual(values(layer.linear1.weight.value));
    expect(encoder.parameters().length).toBe(3 * layer.parameters().length + 2);
    nn.init.zeros(first.linear1.weight);
    expect(values(second.linear1.weight.value).some((v) => v !== 0)).toBe(true);
    expect(values(layer.linear1.weight.value).some((v) => v !== 0)).toBe(true);
    // The copies are on the layer's current dtype and in its mode.
    const double = new nn.TransformerEncoderLayer(4, 1, { dimFeedforward: 4 }).double().eval();
    const copies = new nn.TransformerEncoder(double, 2);
    expect(copies.layers.at(1).norm2.weight?.value.dtype).toBe('float64');
    expect(copies.layers.at(1).dropout.training).toBe(false);
    expect(copies.norm).toBeNull();

    const x = randn([2, 5, 8]);
    const padding = tensor([
      [false, false, false, true, true],
      [false, false, false, false, false],
    ]);
    let expected = x;
    for (const l of encoder.layers) expected = l.forward(expected, { srcKeyPaddingMask: padding, isCausal: true });
    expected = (encoder.norm as nn.LayerNorm).forward(expected);
    const out = encoder.forward(x, { srcKeyPaddingMask: padding, isCausal: true });
    expect(maxDifference(values(out), values(expected))).toBeLessThan(1e-6);
    const mask = nn.Transformer.generateSquareSubsequentMask(5);
    expect(maxDifference(values(encoder.forward(x, { mask, srcKeyPaddingMask: padding })), values(expected))).toBeLessThan(1e-6);
  });

  it('TransformerDecoder feeds every layer the same memory and the masks', () => {
    manualSeed(24);
    const decoder = new nn.TransformerDecoder(new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 8 }), 2, {
      norm: new nn.LayerNorm(8),
    }).eval();
    expect(Object.keys(decoder.stateDict())).toContain('layers.1.multiheadAttn.inProjWeight');
    const tgt = randn([4, 2, 8]);
    const memory = randn([3, 2, 8]);
    const options = {
      tgtMask: nn.Transformer.generateSquareSubsequentMask(4),
      memoryKeyPaddingMask: tensor([
        [false, false, true],
        [false, false, false],
      ]),
    };
    let expected = tgt;
    for (const l of decoder.layers) expected = l.forward(expected, memory, options);
    expected = (decoder.norm as nn.LayerNorm).forward(expected);
    expect(maxDifference(values(decoder.forward(tgt, memory, options)), values(expected))).toBeLessThan(1e-6);
  });

  it('refuses a layer that is not one, a bad count or a bad norm', () => {
    expect(() => new nn.TransformerEncoder(new nn.Linear(2, 2) as never, 2)).toThrow(
      /TransformerEncoder: the layer must be a TransformerEncoderLayer \(or a Module with a clone\(\) method\), got a Linear/,
    );
    const layer = new nn.TransformerDecoderLayer(4, 1, { dimFeedforward: 4 });
    expect(() => new nn.TransformerDecoder(layer, 0)).toThrow(/TransformerDecoder: numLayers must be a positive integer, got 0/);
    expect(() => new nn.TransformerDecoder(layer, 1, { norm: 'layer' as never })).toThrow(/norm must be a Module/);
  });
});

describe('Transformer', () => {
  it('is an encoder and a decoder with final norms; its forward is theirs; parameters re-initialized Xavier', () => {
    manualSeed(25);
    const model = new nn.Transformer({
      dModel: 8,
      nhead: 2,
      numEncoderLayers: 2,
      numDecoderLayers: 1,
      dimFeedforward: 16,
      batchFirst: true,
    }).eval();
    const keys = Object.keys(model.stateDict());
    expect(keys).toContain('encoder.layers.1.selfAttn.inProjWeight');
    expect(keys).toContain('encoder.norm.weight');
    expect(keys).toContain('decoder.layers.0.multiheadAttn.outProj.weight');
    expect(keys).toContain('decoder.norm.bias');
    expect(keys.some((k) => k.startsWith('decoder.layers.1'))).toBe(false);
    // Xavier uniform on linear1 [16, 8]: bound √(6 / 24) = 0.5, reached nearly.
    const w = values((model.encoder as nn.TransformerEncoder).layers.at(0).linear1.weight.value);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.5);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.4);

    const src = randn([2, 5, 8]);
    const tgt = randn([2, 3, 8]);
    const tgtMask = nn.Transformer.generateSquareSubsequentMask(3);
    const srcKeyPaddingMask = tensor([
      [false, false, false, false, true],
      [false, false, false, false, false],
    ]);
    const memory = model.encoder.forward(src, { srcKeyPaddingMask });
    const expected = model.decoder.forward(tgt, memory, { tgtMask, memoryKeyPaddingMask: srcKeyPaddingMask });
    const out = model.forward(src, tgt, { tgtMask, srcKeyPaddingMask, memoryKeyPaddingMask: srcKeyPaddingMask });
    expect(out.shape).toEqual([2, 3, 8]);
    expect(maxDifference(values(out), values(expected))).toBeLessThan(1e-6);
  });

  it('generateSquareSubsequentMask is -Infinity above the diagonal, 0 elsewhere', () => {
    const mask = nn.Transformer.generateSquareSubsequentMask(3);
    expect(mask.dtype).toBe('float32');
    expect(values(mask)).toEqual([0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
    expect(nn.Transformer.generateSquareSubsequentMask(2, { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => nn.Transformer.generateSquareSubsequentMask(0)).toThrow(ValueError);
  });

  it('checks batch and feature sizes with clear messages', () => {
    const model = new nn.Transformer({ dModel: 4, nhead: 1, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 4 });
    expect(() => model.forward(randn([5, 2, 4]), randn([3, 3, 4]))).toThrow(/batch size of src and tgt must be equal \(axis 1\)/);
    expect(() => model.forward(randn([5, 2, 4]), randn([3, 2, 6]))).toThrow(/feature size of src and tgt must be dModel \(4\)/);
    expect(() => model.forward(randn([5, 4]), randn([3, 2, 4]))).toThrow(ShapeError);
    expect(model.forward(randn([5, 4]), randn([3, 4])).shape).toEqual([3, 4]);
  });
});
