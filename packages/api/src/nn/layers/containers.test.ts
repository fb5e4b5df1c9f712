import '@flint/backend-cpu';
import { grad, IndexError, ones, Parameter, randn, type Tensor, tensor, ValueError, zeros } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe('ParameterList', () => {
  it('registers its parameters as 0, 1, ... in parameters(), stateDict() and to()', () => {
    const kept = new Parameter(ones([2]));
    const list = new nn.ParameterList([kept, zeros([3])]);
    expect(list.length).toBe(2);
    expect(list.at(0)).toBe(kept);
    expect(list.at(-1).value.shape).toEqual([3]);
    expect(list.at(1)).toBeInstanceOf(Parameter); // a Tensor is wrapped
    list.append(ones([1])).extend([zeros([4])]);
    expect(Object.keys(list.stateDict())).toEqual(['0', '1', '2', '3']);
    expect([...list].map((p) => p.value.shape[0])).toEqual([2, 3, 1, 4]);
    const replacement = new Parameter(tensor([7, 8], { dtype: 'float32' }));
    list.set(0, replacement);
    expect(list.parameters()[0]).toBe(replacement);
    expect(values(list.stateDict()['0'] as Tensor)).toEqual([7, 8]);
    list.double();
    expect(list.at(2).value.dtype).toBe('float64');
    expect(list.toString()).toBe(
      'ParameterList((0): Parameter [2] float64, (1): Parameter [3] float64, (2): Parameter [1] float64, (3): Parameter [4] float64)  # 10 parameters',
    );
  });

  it("is a field of a model: its parameters are the model's, under 'scales.0', and get gradients", () => {
    class Scaled extends nn.Module<[Tensor], Tensor> {
      readonly scales = new nn.ParameterList([tensor([2], { dtype: 'float32' }), tensor([3], { dtype: 'float32' })]);
      forward(x: Tensor): Tensor {
        let out = x;
        for (const scale of this.scales) out = out.mul(scale.value);
        return out;
      }
    }
    const model = new Scaled();
    expect(model.namedParameters().map(([name]) => name)).toEqual(['scales.0', 'scales.1']);
    const g = grad((p: Record<string, Tensor>) => nn.functionalCall(model, p, tensor([1], { dtype: 'float32' })).sum())(
      model.parameterValues(),
    );
    expect(values(g['scales.0'] as Tensor)).toEqual([3]);
    const other = new Scaled();
    other.loadStateDict(model.stateDict());
    expect(() => other.loadStateDict({ 'scales.0': tensor([1], { dtype: 'float32' }) })).toThrow(/scales\.1/);
  });

  it('refuses values that are not parameters or tensors and indices out of range', () => {
    expect(() => new nn.ParameterList([3 as never])).toThrow(/ParameterList.append: the value must be a Parameter or a Tensor, got number/);
    const list = new nn.ParameterList([ones([1])]);
    expect(() => list.at(1)).toThrow(IndexError);
    expect(() => list.set(-2, ones([1]))).toThrow(/index -2 is out of range for 1 parameters/);
    expect(() => list.forward()).toThrow(/has no forward/);
  });
});

describe('ParameterDict', () => {
  it('registers its parameters under their keys, in insertion order; set replaces, delete removes', () => {
    const dict = new nn.ParameterDict({ left: zeros([2]), right: new Parameter(ones([3])) });
    expect(dict.size).toBe(2);
    expect(Object.keys(dict.stateDict())).toEqual(['left', 'right']);
    expect([...dict]).toEqual(['left', 'right']);
    const replacement = new Parameter(tensor([5, 6], { dtype: 'float32' }));
    dict.set('left', replacement).set('extra', ones([1]));
    expect(dict.get('left')).toBe(replacement);
    expect(dict.parameters()).toEqual([replacement, dict.get('right'), dict.get('extra')]);
    expect(dict.pop('right').value.shape).toEqual([3]);
    expect(dict.has('right')).toBe(false);
    expect(dict.delete('nothing')).toBe(false);
    expect(Object.keys(dict.stateDict())).toEqual(['left', 'extra']);
    dict.update([['more', zeros([1])]]);
    expect(dict.keys()).toEqual(['left', 'extra', 'more']);
    dict.clear();
    expect(dict.parameters()).toEqual([]);
  });

  it('is in a model as a submodule; errors name the key', () => {
    class Model extends nn.Module<[Tensor], Tensor> {
      readonly biases = new nn.ParameterDict({ a: zeros([2]) });
      forward(x: Tensor): Tensor {
        return x.add(this.biases.get('a').value);
      }
    }
    expect(Object.keys(new Model().stateDict())).toEqual(['biases.a']);
    const dict = new nn.ParameterDict();
    expect(() => dict.get('x')).toThrow(/no parameter named 'x' \(have none\)/);
    expect(() => dict.set('a.b', ones([1]))).toThrow(/without '\.'/);
    expect(() => dict.set('k', 'text' as never)).toThrow(/ParameterDict.set: 'k' must be a Parameter or a Tensor, got string/);
  });
});

describe('Sequential, ModuleList and ModuleDict', () => {
  it('Sequential.slice shares the modules and keeps their names, as seq[1:3]; at takes negative indices', () => {
    const model = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 4), new nn.Tanh());
    const middle = model.slice(1, 3);
    expect(middle.length).toBe(2);
    expect(middle.at(0)).toBe(model.at(1));
    expect(middle.at(-1)).toBe(model.at(2));
    expect(Object.keys(middle.stateDict())).toEqual(['2.weight', '2.bias']);
    expect(middle.parameters()[0]).toBe((model.at(2) as nn.Linear).weight);
    const x = randn([5, 2]);
    const head = model.slice(0, -1);
    expect(head.length).toBe(3);
    expect(values(model.slice(-1).forward(head.forward(x)))).toEqual(values(model.forward(x)));
    expect(model.slice().length).toBe(4);
    // Appending to a slice that kept names takes the next free one.
    middle.append(new nn.Identity());
    expect(middle.namedChildren().map(([name]) => name)).toEqual(['1', '2', '3']);
    expect(() => model.slice(0.5)).toThrow(/start must be an integer/);
    expect(() => model.at(4)).toThrow(IndexError);
  });

  it('Sequential.extend and insert renumber; insert refuses named modules', () => {
    const a = new nn.ReLU();
    const b = new nn.Tanh();
    const c = new nn.Identity();
    const seq = new nn.Sequential(a).extend([b]);
    seq.insert(1, c);
    expect([...seq]).toEqual([a, c, b]);
    expect(seq.namedChildren().map(([name]) => name)).toEqual(['0', '1', '2']);
    seq.insert(-3, new nn.Sigmoid());
    expect(seq.at(0)).toBeInstanceOf(nn.Sigmoid);
    expect(() => seq.insert(9, a)).toThrow(IndexError);
    const named = new nn.Sequential({ encoder: new nn.Linear(2, 2) });
    expect(() => named.insert(0, a)).toThrow(/named 'encoder', not by position/);
  });

  it('ModuleList has append, extend, insert, pop, slice, length and iteration; ModuleDict has pop, update, clear', () => {
    const [a, b, c] = [new nn.ReLU(), new nn.Tanh(), new nn.Identity()];
    const list = new nn.ModuleList<nn.TensorModule>([a]).extend([b]);
    list.insert(0, c);
    expect([...list]).toEqual([c, a, b]);
    expect(list.length).toBe(3);
    expect(list.pop(0)).toBe(c);
    expect(list.namedChildren().map(([name, m]) => [name, m])).toEqual([
      ['0', a],
      ['1', b],
    ]);
    const tail = list.slice(1);
    expect([...tail]).toEqual([b]);
    expect(list.pop()).toBe(b);
    expect(list.length).toBe(1);
    const dict = new nn.ModuleDict({ x: a });
    dict.update({ y: b });
    expect([...dict]).toEqual(['x', 'y']);
    expect(dict.pop('x')).toBe(a);
    expect(() => dict.pop('x')).toThrow(ValueError);
    dict.clear();
    expect(dict.size).toBe(0);
    expect(dict.children()).toEqual([]);
  });
});
