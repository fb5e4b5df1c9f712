import '@flint/backend-cpu';
import { grad, memory, Parameter, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe('loss modules', () => {
  const random = seededRandom(7);
  const logits = tensor(randomValues(random, 12, -3, 3), { shape: [4, 3], ...f64 });
  const labels = tensor([0, 2, 1, 2], { dtype: 'int32' });
  const prediction = tensor(randomValues(random, 8, -2, 2), { shape: [2, 4], ...f64 });
  const target = tensor(randomValues(random, 8, -2, 2), { shape: [2, 4], ...f64 });
  const probabilities = F.sigmoid(prediction);
  const binaryTarget = tensor([1, 0, 0, 1, 1, 1, 0, 0], { shape: [2, 4], ...f64 });
  const classWeight = tensor([0.5, 2, 1], f64);
  const elementWeight = tensor([1, 2, 3, 4], f64);
  const posWeight = tensor([3, 1, 0.5, 2], f64);
  const signs = tensor([1, -1], f64);

  /** Each module, and the functional call it must equal, over the same options. */
  const pairs: [string, () => Tensor, () => Tensor][] = [
    ['CrossEntropyLoss', () => new nn.CrossEntropyLoss().forward(logits, labels), () => F.crossEntropy(logits, labels)],
    [
      'CrossEntropyLoss with every option',
      () => new nn.CrossEntropyLoss({ weight: classWeight, ignoreIndex: 1, reduction: 'sum', labelSmoothing: 0.2 }).forward(logits, labels),
      () => F.crossEntropy(logits, labels, { weight: classWeight, ignoreIndex: 1, reduction: 'sum', labelSmoothing: 0.2 }),
    ],
    [
      'CrossEntropyLoss on class probabilities',
      () => new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, F.softmax(logits.mul(2), 1)),
      () => F.crossEntropy(logits, F.softmax(logits.mul(2), 1), { labelSmoothing: 0.1 }),
    ],
    [
      'NLLLoss',
      () => new nn.NLLLoss({ weight: classWeight, ignoreIndex: 0, reduction: 'none' }).forward(F.logSoftmax(logits, 1), labels),
      () => F.nllLoss(F.logSoftmax(logits, 1), labels, { weight: classWeight, ignoreIndex: 0, reduction: 'none' }),
    ],
    [
      'MSELoss',
      () => new nn.MSELoss({ reduction: 'sum' }).forward(prediction, target),
      () => F.mseLoss(prediction, target, { reduction: 'sum' }),
    ],
    ['L1Loss', () => new nn.L1Loss().forward(prediction, target), () => F.l1Loss(prediction, target)],
    [
      'SmoothL1Loss',
      () => new nn.SmoothL1Loss({ beta: 0.5, reduction: 'none' }).forward(prediction, target),
      () => F.smoothL1Loss(prediction, target, { beta: 0.5, reduction: 'none' }),
    ],
    [
      'HuberLoss',
      () => new nn.HuberLoss({ delta: 0.7 }).forward(prediction, target),
      () => F.huberLoss(prediction, target, { delta: 0.7 }),
    ],
    [
      'BCELoss',
      () => new nn.BCELoss({ weight: elementWeight }).forward(probabilities, binaryTarget),
      () => F.binaryCrossEntropy(probabilities, binaryTarget, { weight: elementWeight }),
    ],
    [
      'BCEWithLogitsLoss',
      () => new nn.BCEWithLogitsLoss({ weight: elementWeight, posWeight, reduction: 'none' }).forward(prediction, binaryTarget),
      () => F.binaryCrossEntropyWithLogits(prediction, binaryTarget, { weight: elementWeight, posWeight, reduction: 'none' }),
    ],
    [
      'KLDivLoss',
      () => new nn.KLDivLoss({ reduction: 'batchmean' }).forward(F.logSoftmax(logits, 1), F.softmax(logits.mul(-1), 1)),
      () => F.klDiv(F.logSoftmax(logits, 1), F.softmax(logits.mul(-1), 1), { reduction: 'batchmean' }),
    ],
    [
      'KLDivLoss with log targets',
      () => new nn.KLDivLoss({ logTarget: true, reduction: 'sum' }).forward(F.logSoftmax(logits, 1), F.logSoftmax(logits.mul(-1), 1)),
      () => F.klDiv(F.logSoftmax(logits, 1), F.logSoftmax(logits.mul(-1), 1), { logTarget: true, reduction: 'sum' }),
    ],
    [
      'MarginRankingLoss',
      () => new nn.MarginRankingLoss({ margin: 0.3 }).forward(prediction, target, binaryTarget.mul(2).sub(1)),
      () => F.marginRankingLoss(prediction, target, binaryTarget.mul(2).sub(1), { margin: 0.3 }),
    ],
    [
      'CosineEmbeddingLoss',
      () => new nn.CosineEmbeddingLoss({ margin: -0.5, reduction: 'none' }).forward(prediction, target, signs),
      () => F.cosineEmbeddingLoss(prediction, target, signs, { margin: -0.5, reduction: 'none' }),
    ],
  ];

  it.each(pairs)('%s computes what its functional form computes', (_, module, functional) => {
    const a = module();
    const b = functional();
    expect(a.shape).toEqual(b.shape);
    expect(a.dtype).toBe('float64');
    expect(values(a)).toEqual(values(b));
  });

  it('give the values of PyTorch’s formulas', () => {
    // Cross-entropy with label smoothing s over C = 2 classes: (1 - s) (-log p_y) + s/C Σ_c (-log p_c).
    const logp0 = -Math.log1p(Math.exp(-1));
    const logp1 = -1 + logp0;
    const smoothed = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(tensor([[1, 0]], f64), tensor([0], { dtype: 'int32' }));
    expect(smoothed.item()).toBeCloseTo(0.9 * -logp0 + 0.05 * -(logp0 + logp1), 14);
    // Class weights under 'mean' divide by the summed weights of the targets: (2 · ln 3 + 1 · ln 3) / 3.
    const weighted = new nn.CrossEntropyLoss({ weight: tensor([1, 2, 1], f64) }).forward(
      tensor([
        [0, 0, 0],
        [0, 0, 0],
      ]).astype('float64'),
      tensor([1, 2], { dtype: 'int32' }),
    );
    expect(weighted.item()).toBeCloseTo(Math.log(3), 14);
    expect(new nn.MSELoss().forward(tensor([1, 2], f64), tensor([1, 4], f64)).item()).toBe(2);
    expect(new nn.L1Loss({ reduction: 'sum' }).forward(tensor([1, 2], f64), tensor([0, 4], f64)).item()).toBe(3);
    expect(values(new nn.SmoothL1Loss({ beta: 0.5, reduction: 'none' }).forward(tensor([0, 3], f64), tensor([0.25, 0], f64)))).toEqual([
      0.0625, 2.75,
    ]);
    expect(values(new nn.HuberLoss({ delta: 2, reduction: 'none' }).forward(tensor([0, 3], f64), tensor([0.5, 0], f64)))).toEqual([
      0.125, 4,
    ]);
    expect(new nn.MarginRankingLoss({ margin: 0.5 }).forward(tensor([1, 2], f64), tensor([2, 0], f64), tensor([1, 1], f64)).item()).toBe(
      0.75,
    );
    const cosine = new nn.CosineEmbeddingLoss({ margin: 0.2, reduction: 'none' }).forward(
      tensor([
        [1, 0],
        [1, 0],
      ]).astype('float64'),
      tensor([
        [0, 1],
        [1, 1],
      ]).astype('float64'),
      tensor([1, -1], f64),
    );
    expect(maxDifference(values(cosine), [1, Math.SQRT1_2 - 0.2])).toBeLessThan(1e-12);
    // BCE with posWeight p: -(p y log σ(x) + (1 - y) log(1 - σ(x))); at x = 0 both logs are -ln 2.
    const bce = new nn.BCEWithLogitsLoss({ posWeight: tensor([3], f64), reduction: 'none' }).forward(
      tensor([0, 0], f64),
      tensor([1, 0], f64),
    );
    expect(maxDifference(values(bce), [3 * Math.LN2, Math.LN2])).toBeLessThan(1e-15);
    // KL(batchmean) of [0.5, 0.5] from log [0.25, 0.75], one sample: Σ p (log p - q).
    const kl = new nn.KLDivLoss({ reduction: 'batchmean' }).forward(
      tensor([[Math.log(0.25), Math.log(0.75)]], f64),
      tensor([[0.5, 0.5]], f64),
    );
    expect(kl.item()).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 14);
  });

  it('hold weight and posWeight as buffers: in the state dict, moved by to(), replaced by loadStateDict', () => {
    const criterion = new nn.CrossEntropyLoss({ weight: tensor([1, 2, 3]).astype('float32') });
    expect(criterion.namedBuffers().map(([name]) => name)).toEqual(['weight']);
    expect(criterion.parameters()).toEqual([]);
    const state = criterion.stateDict();
    expect(Object.keys(state)).toEqual(['weight']);
    expect(values(state.weight as Tensor)).toEqual([1, 2, 3]);

    const caller = tensor([3, 1], { dtype: 'float32' });
    const bce = new nn.BCEWithLogitsLoss({ weight: tensor([1, 1], { dtype: 'float32' }), posWeight: caller });
    expect(Object.keys(bce.stateDict())).toEqual(['weight', 'posWeight']);
    bce.to('float64');
    expect(bce.posWeight?.dtype).toBe('float64');
    expect(bce.weight?.dtype).toBe('float64');
    // The module converted its own handle; the caller's tensor is untouched and alive.
    expect(caller.dtype).toBe('float32');
    expect(values(caller)).toEqual([3, 1]);

    bce.loadStateDict({ weight: tensor([2, 2], f64), posWeight: tensor([1, 1], f64) });
    const x = tensor([0.5, -1], f64);
    const y = tensor([1, 0], f64);
    expect(bce.forward(x, y).item()).toBe(F.binaryCrossEntropyWithLogits(x, y, { weight: tensor([2, 2], f64) }).item());

    // Without weights, the buffers are registered empty (as PyTorch's None) and not in the state dict.
    expect(Object.keys(new nn.CrossEntropyLoss().stateDict())).toEqual([]);
    expect(new nn.BCEWithLogitsLoss().posWeight).toBeNull();
    expect(new nn.NLLLoss().weight).toBeNull();
    expect(Object.keys(new nn.MSELoss().stateDict())).toEqual([]);
  });

  it('take a replaced weight through functionalCall', () => {
    const criterion = new nn.CrossEntropyLoss({ weight: tensor([1, 1, 1], f64) });
    const other = tensor([0.5, 2, 1], f64);
    const replaced = nn.functionalCall(criterion, { weight: other }, logits, labels);
    expect(replaced.item()).toBe(F.crossEntropy(logits, labels, { weight: other }).item());
    expect(values(criterion.weight as Tensor)).toEqual([1, 1, 1]);
  });

  it('pass gradients to the input', () => {
    const w = new Parameter(tensor([0.5, -1, 2], f64));
    const criterion = new nn.MSELoss({ reduction: 'sum' });
    criterion.forward(w.value, tensor([0, 0, 0], f64)).backward();
    expect(values(w.grad as Tensor)).toEqual([1, -2, 4]);
    const g = grad((x: Tensor) => new nn.CrossEntropyLoss({ reduction: 'sum' }).forward(x, labels))(logits);
    expect(values(g)).toEqual(values(grad((x: Tensor) => F.crossEntropy(x, labels, { reduction: 'sum' }))(logits)));
  });

  it('print as PyTorch does, with the options that differ from the defaults', () => {
    expect(new nn.CrossEntropyLoss().toString()).toBe('CrossEntropyLoss()');
    expect(new nn.MSELoss().toString()).toBe('MSELoss()');
    expect(new nn.CrossEntropyLoss({ labelSmoothing: 0.1, weight: classWeight }).toString()).toBe('CrossEntropyLoss(labelSmoothing=0.1)');
    expect(new nn.NLLLoss({ ignoreIndex: 0, reduction: 'sum' }).toString()).toBe("NLLLoss(ignoreIndex=0, reduction='sum')");
    expect(new nn.KLDivLoss({ reduction: 'batchmean', logTarget: true }).toString()).toBe(
      "KLDivLoss(reduction='batchmean', logTarget=true)",
    );
    expect(new nn.SmoothL1Loss({ beta: 0.5 }).toString()).toBe('SmoothL1Loss(beta=0.5)');
    expect(new nn.HuberLoss({ delta: 2 }).toString()).toBe('HuberLoss(delta=2)');
    expect(new nn.MarginRankingLoss({ margin: 1 }).toString()).toBe('MarginRankingLoss(margin=1)');
    expect(new nn.CosineEmbeddingLoss({ reduction: 'none' }).toString()).toBe("CosineEmbeddingLoss(reduction='none')");
    expect(new nn.BCEWithLogitsLoss({ posWeight }).toString()).toBe('BCEWithLogitsLoss()');
    expect(new nn.ModuleList([new nn.Linear(2, 2), new nn.L1Loss()]).toString()).toContain('(1): L1Loss()');
  });

  it('check their options when built, naming the class', () => {
    expect(() => new nn.CrossEntropyLoss({ reduction: 'avg' as 'mean' })).toThrow(
      "CrossEntropyLoss: reduction must be one of 'mean', 'sum', 'none', got \"avg\"",
    );
    expect(() => new nn.MSELoss({ reduction: 'batchmean' as 'mean' })).toThrow(/^MSELoss: reduction must be one of/);
    expect(new nn.KLDivLoss({ reduction: 'batchmean' }).reduction).toBe('batchmean');
    expect(() => new nn.CrossEntropyLoss({ labelSmoothing: 1.5 })).toThrow(/CrossEntropyLoss: labelSmoothing must be >= 0 and <= 1/);
    expect(() => new nn.HuberLoss({ delta: 0 })).toThrow(/HuberLoss: delta must be > 0/);
    expect(() => new nn.SmoothL1Loss({ beta: -1 })).toThrow(/SmoothL1Loss: beta must be >= 0/);
    expect(() => new nn.KLDivLoss({ logTarget: 1 as unknown as boolean })).toThrow(/KLDivLoss: logTarget must be a boolean/);
    expect(() => new nn.BCELoss({ weight: [1, 2] as unknown as Tensor })).toThrow(/BCELoss: weight must be a Tensor/);
  });

  it('refuse PyTorch’s positional constructor arguments', () => {
    const Untyped = nn.CrossEntropyLoss as unknown as new (...args: unknown[]) => nn.CrossEntropyLoss;
    expect(() => new Untyped(classWeight)).toThrow(
      new ValueError('CrossEntropyLoss: the constructor takes an options object; got a Tensor — pass the weight as { weight }'),
    );
    const Huber = nn.HuberLoss as unknown as new (...args: unknown[]) => nn.HuberLoss;
    expect(() => new Huber('sum')).toThrow('pass the reduction as { reduction }');
    const Mse = nn.MSELoss as unknown as new (...args: unknown[]) => nn.MSELoss;
    expect(() => new Mse(true)).toThrow(
      'MSELoss: the constructor takes an options object; got boolean true — name each option in the object',
    );
  });

  it('keep nothing beyond their buffers', () => {
    const before = memory().buffers;
    const criterion = new nn.CrossEntropyLoss({ weight: classWeight, labelSmoothing: 0.1 });
    const loss = criterion.forward(logits, labels);
    loss.dispose();
    // The weight buffer is a handle on the caller's data, not a copy.
    expect(memory().buffers).toBe(before);
  });
});

describe('margin and likelihood loss modules', () => {
  const random = seededRandom(8);
  const scores = tensor(randomValues(random, 12, -2, 2), { shape: [3, 4], ...f64 });
  const other = tensor(randomValues(random, 12, -2, 2), { shape: [3, 4], ...f64 });
  const third = tensor(randomValues(random, 12, -2, 2), { shape: [3, 4], ...f64 });
  const labels = tensor([3, 0, 1], { dtype: 'int32' });
  const signs = tensor([1, -1, 1, -1], f64);
  const multiLabels = tensor([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0], { shape: [3, 4], ...f64 });
  const weight = tensor([0.5, 1, 2, 1.5], f64);
  const variance = tensor([0.5, 1, 2], f64);

  const pairs: [string, () => Tensor, () => Tensor][] = [
    [
      'HingeEmbeddingLoss',
      () => new nn.HingeEmbeddingLoss({ margin: 0.5, reduction: 'none' }).forward(scores, signs),
      () => F.hingeEmbeddingLoss(scores, signs, { margin: 0.5, reduction: 'none' }),
    ],
    ['SoftMarginLoss', () => new nn.SoftMarginLoss().forward(scores, signs), () => F.softMarginLoss(scores, signs)],
    [
      'TripletMarginLoss',
      () => new nn.TripletMarginLoss({ margin: 2, p: 1, swap: true, reduction: 'sum' }).forward(scores, other, third),
      () => F.tripletMarginLoss(scores, other, third, { margin: 2, p: 1, swap: true, reduction: 'sum' }),
    ],
    [
      'MultiMarginLoss',
      () => new nn.MultiMarginLoss({ p: 2, margin: 0.5, weight, reduction: 'none' }).forward(scores, labels),
      () => F.multiMarginLoss(scores, labels, { p: 2, margin: 0.5, weight, reduction: 'none' }),
    ],
    [
      'MultiLabelSoftMarginLoss',
      () => new nn.MultiLabelSoftMarginLoss({ weight }).forward(scores, multiLabels),
      () => F.multiLabelSoftMarginLoss(scores, multiLabels, { weight }),
    ],
    [
      'PoissonNLLLoss',
      () => new nn.PoissonNLLLoss({ full: true, reduction: 'sum' }).forward(scores, multiLabels.mul(3)),
      () => F.poissonNllLoss(scores, multiLabels.mul(3), { full: true, reduction: 'sum' }),
    ],
    [
      'GaussianNLLLoss',
      () => new nn.GaussianNLLLoss({ full: true, eps: 0.1 }).forward(scores, other, variance),
      () => F.gaussianNllLoss(scores, other, variance, { full: true, eps: 0.1 }),
    ],
  ];

  it.each(pairs)('%s computes what its functional form computes', (_, module, functional) => {
    const a = module();
    const b = functional();
    expect(a.shape).toEqual(b.shape);
    expect(a.dtype).toBe('float64');
    expect(values(a)).toEqual(values(b));
  });

  it('hold the class weight as a buffer and print the options that differ from the defaults', () => {
    const criterion = new nn.MultiMarginLoss({ weight });
    expect(Object.keys(criterion.stateDict())).toEqual(['weight']);
    expect(values(criterion.weight as Tensor)).toEqual([0.5, 1, 2, 1.5]);
    expect(new nn.MultiLabelSoftMarginLoss().weight).toBeNull();
    expect(new nn.TripletMarginLoss({ margin: 0.5, swap: true }).toString()).toBe('TripletMarginLoss(margin=0.5, swap=true)');
    expect(new nn.MultiMarginLoss({ p: 2 }).toString()).toBe('MultiMarginLoss(p=2)');
    expect(new nn.PoissonNLLLoss({ logInput: false }).toString()).toBe('PoissonNLLLoss(logInput=false)');
    expect(new nn.GaussianNLLLoss().toString()).toBe('GaussianNLLLoss()');
    expect(new nn.HingeEmbeddingLoss({ reduction: 'sum' }).toString()).toBe("HingeEmbeddingLoss(reduction='sum')");
  });

  it('check their options when built, naming the class', () => {
    expect(() => new nn.MultiMarginLoss({ p: 3 as never })).toThrow(/^MultiMarginLoss: p must be 1 or 2, got 3/);
    expect(() => new nn.TripletMarginLoss({ p: -1 })).toThrow(/^TripletMarginLoss: p must be > 0/);
    expect(() => new nn.TripletMarginLoss({ swap: 'yes' as never })).toThrow(/^TripletMarginLoss: swap must be a boolean/);
    expect(() => new nn.PoissonNLLLoss({ full: 1 as never })).toThrow(/^PoissonNLLLoss: full must be a boolean/);
    expect(() => new nn.GaussianNLLLoss({ eps: -1 })).toThrow(/^GaussianNLLLoss: eps must be >= 0/);
    expect(() => new nn.SoftMarginLoss({ reduction: 'avg' as never })).toThrow(/^SoftMarginLoss: reduction must be one of/);
    const Untyped = nn.MultiMarginLoss as unknown as new (...args: unknown[]) => nn.MultiMarginLoss;
    expect(() => new Untyped(2)).toThrow('MultiMarginLoss: the constructor takes an options object; got number 2 — pass the p as { p }');
  });
});
