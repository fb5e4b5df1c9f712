import '@flint/backend-cpu';
import {
  grad,
  manualSeed,
  ones,
  Parameter,
  parseSafetensors,
  randn,
  serializeSafetensors,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from './index.js';
import { maxDifference } from './testing.test-support.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

class TwoLayer extends nn.Module<[Tensor], Tensor> {
  readonly hidden = this.registerModule('hidden', new nn.Linear(3, 4));
  readonly norm = this.registerModule('norm', new nn.BatchNorm1d(4));
  readonly out = this.registerModule('out', new nn.Linear(4, 2));
  readonly scale = this.registerParameter('scale', new Parameter(ones([2])));

  constructor() {
    super();
    this.registerBuffer('steps', zeros([1]), { persistent: false });
  }

  forward(x: Tensor): Tensor {
    return this.out.forward(F.relu(this.norm.forward(this.hidden.forward(x)))).mul(this.scale.value);
  }
}

describe('Module registration and traversal', () => {
  it('lists parameters, buffers and children with dotted names, in registration order', () => {
    const model = new TwoLayer();
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'hidden.weight',
      'hidden.bias',
      'norm.weight',
      'norm.bias',
      'out.weight',
      'out.bias',
    ]);
    expect(model.parameters()).toHaveLength(7);
    expect(model.namedParameters({ recurse: false }).map(([n]) => n)).toEqual(['scale']);
    expect(model.namedBuffers().map(([n]) => n)).toEqual(['steps', 'norm.runningMean', 'norm.runningVar', 'norm.numBatchesTracked']);
    expect(model.namedChildren().map(([n]) => n)).toEqual(['hidden', 'norm', 'out']);
    expect(model.children()[0]).toBe(model.hidden);
    expect(model.namedModules().map(([n]) => n)).toEqual(['', 'hidden', 'norm', 'out']);
    expect(model.getSubmodule('norm')).toBe(model.norm);
    expect(model.getParameter('out.weight')).toBe(model.out.weight);
    expect(model.numParameters()).toBe(2 + 12 + 4 + 4 + 4 + 8 + 2);
  });

  it('counts a shared parameter once', () => {
    const shared = new nn.Linear(2, 2);
    const model = new nn.Sequential(shared, new nn.ReLU(), shared);
    expect(model.parameters()).toHaveLength(2);
    expect(model.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias']);
    expect(model.numParameters()).toBe(6);
  });

  it('rejects bad and duplicate names with the module named', () => {
    const model = new nn.Linear(2, 2);
    expect(() => model.registerParameter('weight', new Parameter(zeros([1])))).toThrow(
      /Linear: cannot register parameter 'weight': the name is already a parameter/,
    );
    expect(() => model.registerModule('a.b', new nn.ReLU())).toThrow(/without '\.'/);
    expect(() => model.registerBuffer('bias', zeros([1]))).toThrow(ValueError);
    expect(() => model.getSubmodule('missing')).toThrow(/no submodule 'missing'/);
  });

  it('train() and eval() set the mode recursively and return the module', () => {
    const model = new TwoLayer();
    expect(model.modules().every((m) => m.training)).toBe(true);
    expect(model.eval()).toBe(model);
    expect(model.modules().every((m) => !m.training)).toBe(true);
    model.train();
    expect(model.norm.training).toBe(true);
  });

  it('apply visits every module, children first', () => {
    const seen: string[] = [];
    new TwoLayer().apply((m) => seen.push(m.constructor.name));
    expect(seen).toEqual(['Linear', 'BatchNorm1d', 'Linear', 'TwoLayer']);
  });
});

describe('toString', () => {
  it('prints the module tree with parameter counts', () => {
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1, { bias: false }));
    expect(model.toString()).toBe(
      [
        'Sequential(  # 48 parameters',
        '  (0): Linear(inFeatures=4, outFeatures=8, bias=true)  # 40 parameters',
        '  (1): ReLU()',
        '  (2): Linear(inFeatures=8, outFeatures=1, bias=false)  # 8 parameters',
        ')',
      ].join('\n'),
    );
    expect(String(new nn.Conv2d(3, 16, 3, { padding: 1 }))).toBe(
      'Conv2d(3, 16, kernelSize=(3, 3), stride=(1, 1), padding=1)  # 448 parameters',
    );
  });

  it('nests and shows extra arguments of modules with children', () => {
    const text = new nn.MultiheadAttention(8, 2).toString();
    expect(text.split('\n')).toEqual([
      'MultiheadAttention(  # 288 parameters',
      '  embedDim=8, numHeads=2, dropout=0, batchFirst=false',
      '  (outProj): Linear(inFeatures=8, outFeatures=8, bias=true)  # 72 parameters',
      ')',
    ]);
  });
});

describe('stateDict and loadStateDict', () => {
  it('round-trips every parameter and persistent buffer', () => {
    manualSeed(1);
    const a = new TwoLayer();
    a.forward(randn([5, 3])); // moves the running statistics
    const state = a.stateDict();
    expect(Object.keys(state)).toEqual([
      'scale',
      'hidden.weight',
      'hidden.bias',
      'norm.weight',
      'norm.bias',
      'norm.runningMean',
      'norm.runningVar',
      'norm.numBatchesTracked',
      'out.weight',
      'out.bias',
    ]);
    const b = new TwoLayer();
    expect(values(b.hidden.weight.value)).not.toEqual(values(a.hidden.weight.value));
    expect(b.loadStateDict(state)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [name, t] of Object.entries(a.stateDict())) expect(values(b.stateDict()[name] as Tensor)).toEqual(values(t));
    expect(b.norm.numBatchesTracked.item()).toBe(1);
    const x = randn([4, 3]);
    expect(values(b.eval().forward(x))).toEqual(values(a.eval().forward(x)));
  });

  it('returns handles that survive the module replacing its tensors', () => {
    const layer = new nn.Linear(2, 2);
    const state = layer.stateDict();
    const before = values(state.weight as Tensor);
    layer.loadStateDict({ weight: zeros([2, 2]), bias: zeros([2]) });
    expect(values(layer.weight.value)).toEqual([0, 0, 0, 0]);
    expect(values(state.weight as Tensor)).toEqual(before);
  });

  it('casts to the parameter dtype and reports every problem at once when strict', () => {
    const layer = new nn.Linear(2, 3);
    layer.loadStateDict({
      weight: tensor(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        { dtype: 'float64' },
      ),
      bias: tensor([1, 2, 3]),
    });
    expect(layer.weight.value.dtype).toBe('float32');
    expect(values(layer.bias?.value as Tensor)).toEqual([1, 2, 3]);
    let message = '';
    try {
      layer.loadStateDict({ weight: zeros([2, 2]), extra: zeros([1]) });
    } catch (error) {
      expect(error).toBeInstanceOf(ValueError);
      message = (error as Error).message;
    }
    expect(message).toContain("size mismatch for 'weight': the checkpoint has shape [2, 2], the module [3, 2]");
    expect(message).toContain("missing key(s): 'bias'");
    expect(message).toContain("unexpected key(s): 'extra'");
    expect(values(layer.bias?.value as Tensor)).toEqual([1, 2, 3]);
  });

  it('non-strict loading skips missing and unexpected keys', () => {
    const layer = new nn.Linear(2, 1);
    const result = layer.loadStateDict(
      new Map([
        ['bias', tensor([7])],
        ['other', zeros([1])],
      ]),
      false,
    );
    expect(result).toEqual({ missingKeys: ['weight'], unexpectedKeys: ['other'] });
    expect(values(layer.bias?.value as Tensor)).toEqual([7]);
    expect(() => layer.loadStateDict({ bias: zeros([3]) }, false)).toThrow(/size mismatch for 'bias'/);
  });

  it('excludes non-persistent buffers', () => {
    expect(Object.keys(new TwoLayer().stateDict())).not.toContain('steps');
  });

  it('refuses a Promise (a forgotten await on load) with a ValueError that says so', () => {
    const layer = new nn.Linear(2, 1);
    const pending = Promise.resolve(layer.stateDict());
    expect(() => layer.loadStateDict(pending as never)).toThrow(ValueError);
    expect(() => layer.loadStateDict(pending as never)).toThrow(/Linear\.loadStateDict: got a Promise, not a state dict; await it first/);
    expect(() => nn.functionalCall(layer, pending as never, ones([1, 2]))).toThrow(/functionalCall: got a Promise/);
  });
});

describe('tied parameters in the state dict (as PyTorch)', () => {
  class Tied extends nn.Module<[Tensor], Tensor> {
    emb = new nn.Embedding(5, 3);
    head = new nn.Linear(3, 5, { bias: false });
    constructor() {
      super();
      // Linear's weight is readonly in its type; tying replaces it, as `head.weight = emb.weight` in PyTorch.
      Object.assign(this.head, { weight: this.emb.weight });
    }
    forward(ids: Tensor): Tensor {
      return this.head.forward(this.emb.forward(ids));
    }
  }
  const filled = (value: number): Tensor => ones([5, 3]).mul(value);

  it('stateDict lists the shared parameter under every name; parameters() lists it once', () => {
    const model = new Tied();
    const state = model.stateDict();
    expect(Object.keys(state)).toEqual(['emb.weight', 'head.weight']);
    expect(values(state['head.weight'] as Tensor)).toEqual(values(model.emb.weight.value));
    expect(model.namedParameters().map(([n]) => n)).toEqual(['emb.weight']);
    expect(model.parameters()).toHaveLength(1);
  });

  it('lists a shared submodule under each of its paths', () => {
    const shared = new nn.Linear(2, 2);
    const model = new nn.Sequential(shared, new nn.ReLU(), shared);
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    model.loadStateDict({ '0.weight': zeros([2, 2]), '0.bias': zeros([2]), '2.weight': ones([2, 2]), '2.bias': ones([2]) });
    expect(values(shared.bias?.value as Tensor)).toEqual([1, 1]);
    expect(model.loadStateDict({ '0.weight': zeros([2, 2]), '0.bias': zeros([2]) }, false).missingKeys).toEqual(['2.weight', '2.bias']);
  });

  it('loads a state dict with every tied name strictly, the last name winning, the parameter still shared', () => {
    const model = new Tied();
    expect(model.loadStateDict({ 'emb.weight': filled(1), 'head.weight': filled(2) })).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(model.head.weight).toBe(model.emb.weight);
    expect(values(model.emb.weight.value)).toEqual(Array(15).fill(2));
    // Its own state dict round-trips.
    const other = new Tied();
    other.loadStateDict(model.stateDict());
    expect(values(other.head.weight.value)).toEqual(Array(15).fill(2));
  });

  it('treats a state dict with one tied name as PyTorch does: a missing key when strict', () => {
    const model = new Tied();
    expect(() => model.loadStateDict({ 'emb.weight': filled(3) })).toThrow(/missing key\(s\): 'head\.weight'/);
    expect(model.loadStateDict({ 'emb.weight': filled(3) }, false)).toEqual({ missingKeys: ['head.weight'], unexpectedKeys: [] });
    expect(values(model.head.weight.value)).toEqual(Array(15).fill(3));
  });

  it('saves to safetensors as one copy per name, which loads back strictly', () => {
    const model = new Tied();
    model.loadStateDict({ 'emb.weight': filled(4), 'head.weight': filled(4) });
    const loaded = parseSafetensors(serializeSafetensors(model.stateDict()));
    expect(Object.keys(loaded).sort()).toEqual(['emb.weight', 'head.weight']);
    expect(values(loaded['head.weight'] as Tensor)).toEqual(Array(15).fill(4));
    const restored = new Tied();
    restored.loadStateDict(loaded);
    expect(restored.head.weight).toBe(restored.emb.weight);
    expect(values(restored.emb.weight.value)).toEqual(Array(15).fill(4));
  });
});

describe('to, zeroGrad, requiresGrad_', () => {
  it('to(dtype) casts floating parameters and buffers, not integer ones', () => {
    const model = new TwoLayer().to('float64');
    expect(model.parameters().every((p) => p.value.dtype === 'float64')).toBe(true);
    expect(model.norm.runningMean.dtype).toBe('float64');
    expect(model.norm.numBatchesTracked.dtype).toBe('int32');
    expect(model.forward(randn([3, 3], { dtype: 'float64' })).dtype).toBe('float64');
    expect(() => model.to('int32')).toThrow(/only floating dtypes/);
    expect(model.to('cpu')).toBe(model);
  });

  it('zeroGrad clears gradients left by backward', () => {
    const model = new nn.Linear(3, 1);
    model
      .forward(randn([4, 3]))
      .sum()
      .backward();
    expect(model.weight.grad?.shape).toEqual([1, 3]);
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('requiresGrad_(false) freezes parameters', () => {
    const model = new nn.Linear(3, 1).requiresGrad_(false);
    expect(model.parameters().every((p) => !p.requiresGrad)).toBe(true);
  });
});

describe('functionalCall', () => {
  it('runs the module with replaced parameters and leaves it unchanged', () => {
    const layer = new nn.Linear(2, 1);
    const original = values(layer.weight.value);
    const out = nn.functionalCall(layer, { weight: tensor([[1, 2]]), bias: tensor([0.5]) }, tensor([[3, 4]]));
    expect(values(out)).toEqual([11.5]);
    expect(values(layer.weight.value)).toEqual(original);
    expect(() => nn.functionalCall(layer, { weights: tensor([[1, 2]]) }, tensor([[3, 4]]))).toThrow(
      /Linear has no parameter or buffer named 'weights'/,
    );
  });

  it('lets grad differentiate a model with respect to its parameter pytree', () => {
    manualSeed(2);
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    const x = randn([5, 3]);
    const y = tensor([0, 1, 1, 0, 1]);
    const lossOf = (params: Record<string, Tensor>): Tensor => F.crossEntropy(nn.functionalCall(model, params, x), y);
    const params = model.parameterValues();
    const gradients = grad(lossOf)(params);
    expect(Object.keys(gradients).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
    // The same gradients as the imperative tape.
    F.crossEntropy(model.forward(x), y).backward();
    for (const [name, p] of model.namedParameters()) {
      expect(maxDifference(values(gradients[name] as Tensor), values(p.grad as Tensor))).toBeLessThan(1e-5);
    }
  });

  it('discards buffer updates (BatchNorm) made during the call, even under grad', () => {
    const bn = new nn.BatchNorm1d(2);
    const x = tensor([
      [1, 2],
      [3, 5],
      [0, 1],
    ]);
    const before = values(bn.runningMean);
    const g = grad((p: Record<string, Tensor>) => nn.functionalCall(bn, p, x).square().sum())(bn.parameterValues());
    expect(g.weight?.shape).toEqual([2]);
    expect(values(bn.runningMean)).toEqual(before);
    expect(bn.numBatchesTracked.item()).toBe(0);
    bn.forward(x);
    expect(bn.numBatchesTracked.item()).toBe(1);
  });

  it('accepts buffers by name', () => {
    const bn = new nn.BatchNorm1d(2).eval();
    const out = nn.functionalCall(bn, { runningMean: tensor([1, 1]), runningVar: tensor([4, 4]) }, tensor([[3, 5]]));
    expect(maxDifference(values(out), [2 / Math.sqrt(4 + 1e-5), 4 / Math.sqrt(4 + 1e-5)])).toBeLessThan(1e-6);
    expect(values(bn.runningMean)).toEqual([0, 0]);
  });
});

describe('containers', () => {
  it('Sequential chains, indexes, appends and takes named modules', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU());
    seq.append(new nn.Linear(3, 1));
    expect(seq.length).toBe(3);
    expect(seq.at(-1)).toBeInstanceOf(nn.Linear);
    expect(seq.forward(randn([4, 2])).shape).toEqual([4, 1]);
    const named = new nn.Sequential({ encoder: new nn.Linear(2, 2), activation: new nn.Tanh() });
    expect(named.namedChildren().map(([n]) => n)).toEqual(['encoder', 'activation']);
    expect(() => seq.at(5)).toThrow(/out of range/);
  });

  it('ModuleList registers its modules and supports insert', () => {
    const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
    const extra = new nn.Linear(2, 2);
    list.insert(1, extra);
    expect(list.length).toBe(3);
    expect(list.at(1)).toBe(extra);
    expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias']);
    expect([...list]).toHaveLength(3);
    expect(() => list.forward()).toThrow(/has no forward/);
  });

  it('ModuleDict registers modules by name', () => {
    const dict = new nn.ModuleDict({ a: new nn.Linear(2, 1) });
    dict.set('b', new nn.Linear(2, 3));
    expect(dict.keys()).toEqual(['a', 'b']);
    expect(dict.get('b').outFeatures).toBe(3);
    dict.set('a', new nn.Linear(2, 5));
    expect((dict.get('a') as nn.Linear).outFeatures).toBe(5);
    expect(dict.namedParameters().map(([n]) => n)).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.bias']);
    expect(dict.delete('a')).toBe(true);
    expect(() => dict.get('a')).toThrow(/no module named 'a'/);
  });
});
