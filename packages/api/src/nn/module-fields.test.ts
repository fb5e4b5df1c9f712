import '@flint/backend-cpu';
import { grad, ones, Parameter, randn, type Tensor, tensor, tidy, ValueError, zeros } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { SGD } from '../optim/index.js';
import * as nn from './index.js';

// Fields holding a Module or Parameter register themselves under the field's name (PyTorch's
// __setattr__), discovered lazily when the module is enumerated.

const names = (entries: [string, unknown][]): string[] => entries.map(([n]) => n);

class FieldModel extends nn.Module<[Tensor], Tensor> {
  readonly hidden = new nn.Linear(3, 4);
  readonly activation = new nn.ReLU();
  readonly out = new nn.Linear(4, 2);
  readonly scale = new Parameter(ones([2]));

  forward(x: Tensor): Tensor {
    return this.out.forward(this.activation.forward(this.hidden.forward(x))).mul(this.scale.value);
  }
}

describe('Module field discovery', () => {
  it('registers Module and Parameter fields under their names, in declaration order', () => {
    const model = new FieldModel();
    expect(names(model.namedChildren())).toEqual(['hidden', 'activation', 'out']);
    expect(names(model.namedParameters())).toEqual(['scale', 'hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']);
    expect(Object.keys(model.stateDict())).toEqual(['scale', 'hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']);
    expect(model.getSubmodule('out')).toBe(model.out);
    expect(model.getParameter('scale')).toBe(model.scale);
    expect(model.getParameter('hidden.bias')).toBe(model.hidden.bias);
    expect(model.numParameters()).toBe(16 + 10 + 2);
    expect(model.toString().split('\n')[1]).toBe('  (hidden): Linear(inFeatures=3, outFeatures=4, bias=true)  # 16 parameters');
  });

  it('does not register a layer twice: explicit registrations with a field of the same name stay as they are', () => {
    const linear = new nn.Linear(2, 3);
    expect(names(linear.namedParameters())).toEqual(['weight', 'bias']);
    const attention = new nn.MultiheadAttention(4, 2);
    expect(Object.keys(attention.stateDict())).toEqual(['inProjWeight', 'inProjBias', 'outProj.weight', 'outProj.bias']);
    const noBias = new nn.Linear(2, 3, { bias: false });
    expect(names(noBias.namedParameters())).toEqual(['weight']);
  });

  it('orders fields and explicit registrations by assignment, as PyTorch does', () => {
    class Mixed extends nn.Module<[Tensor], Tensor> {
      readonly a = new nn.Linear(1, 1);
      readonly b = this.registerModule('b', new nn.Linear(1, 1));
      readonly c = new nn.Linear(1, 1);
      readonly w = new Parameter(zeros([1]));
      constructor() {
        super();
        this.registerModule('d', new nn.Linear(1, 1));
        this.registerParameter('v', new Parameter(zeros([1])));
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const model = new Mixed();
    expect(names(model.namedChildren())).toEqual(['a', 'b', 'c', 'd']);
    expect(names(model.namedParameters({ recurse: false }))).toEqual(['w', 'v']);
    // The order is the same however often (and in whichever order) the module is enumerated.
    expect(Object.keys(new Mixed().stateDict())).toEqual(Object.keys(model.stateDict()));
    expect(Object.keys(model.stateDict()).slice(0, 4)).toEqual(['w', 'v', 'a.weight', 'a.bias']);
  });

  it('lets an explicit registration under another name win over the field holding the same object', () => {
    class Renamed extends nn.Module<[Tensor], Tensor> {
      readonly encoder = this.registerModule('enc', new nn.Linear(2, 2));
      readonly gain = this.registerParameter('g', new Parameter(ones([1])));
      forward(x: Tensor): Tensor {
        return this.encoder.forward(x);
      }
    }
    const model = new Renamed();
    expect(names(model.namedChildren())).toEqual(['enc']);
    expect(names(model.namedParameters())).toEqual(['g', 'enc.weight', 'enc.bias']);
  });

  it('registers a module held by two fields under both names and counts its parameters once (tied weights)', () => {
    class Tied extends nn.Module<[Tensor], Tensor> {
      readonly encode = new nn.Linear(3, 3);
      readonly decode = this.encode;
      forward(x: Tensor): Tensor {
        return this.decode.forward(this.encode.forward(x));
      }
    }
    const model = new Tied();
    expect(names(model.namedChildren())).toEqual(['encode', 'decode']);
    expect(model.children()[1]).toBe(model.encode);
    expect(names(model.namedModules())).toEqual(['', 'encode']);
    expect(model.parameters()).toHaveLength(2);
    expect(model.numParameters()).toBe(12);
  });

  it('follows reassigned fields: a new module replaces the child, null removes it, a non-module is refused', () => {
    class Swappable extends nn.Module<[Tensor], Tensor> {
      head: nn.Linear | null = new nn.Linear(3, 2);
      extra: unknown = null;
      forward(x: Tensor): Tensor {
        return this.head === null ? x : this.head.forward(x);
      }
    }
    const model = new Swappable();
    expect(names(model.namedParameters())).toEqual(['head.weight', 'head.bias']);
    const replacement = new nn.Linear(3, 5);
    model.head = replacement;
    expect(model.getSubmodule('head')).toBe(replacement);
    expect(model.stateDict()['head.weight']?.shape).toEqual([5, 3]);
    model.head = null;
    expect(model.namedChildren()).toEqual([]);
    expect(model.parameters()).toEqual([]);
    expect(() => model.getSubmodule('head')).toThrow(ValueError);
    // A field that held null from the start is an ordinary attribute until it gets a module.
    model.extra = new nn.Tanh();
    expect(names(model.namedChildren())).toEqual(['extra']);
    model.extra = 3;
    expect(() => model.namedChildren()).toThrow(/Swappable: field 'extra' holds number, but 'extra' is a registered submodule/);
  });

  it('moves an entry when its field changes kind, and forgets it when the field is deleted', () => {
    class Loose extends nn.Module<[Tensor], Tensor> {
      slot: unknown = new nn.Linear(1, 1);
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const model = new Loose();
    expect(names(model.namedParameters())).toEqual(['slot.weight', 'slot.bias']);
    const p = new Parameter(zeros([2]));
    model.slot = p;
    expect(model.namedChildren()).toEqual([]);
    expect(model.namedParameters()).toEqual([['slot', p]]);
    delete (model as { slot?: unknown }).slot;
    expect(model.parameters()).toEqual([]);
  });

  it('follows a reassigned field that was registered explicitly under its own name', () => {
    class Explicit extends nn.Module<[Tensor], Tensor> {
      fc: nn.Linear = this.registerModule('fc', new nn.Linear(2, 2));
      forward(x: Tensor): Tensor {
        return this.fc.forward(x);
      }
    }
    const model = new Explicit();
    const next = new nn.Linear(2, 7);
    model.fc = next;
    expect(model.getSubmodule('fc')).toBe(next);
    expect(model.stateDict()['fc.bias']?.shape).toEqual([7]);
  });

  it('gives a later explicit registration of an adopted name precedence, enumerated before or not', () => {
    const make = (enumerateFirst: boolean): nn.Module<[Tensor], Tensor> => {
      class Late extends nn.Module<[Tensor], Tensor> {
        readonly fc = new nn.Linear(2, 2);
        forward(x: Tensor): Tensor {
          return x;
        }
      }
      const model = new Late();
      if (enumerateFirst) model.namedChildren();
      model.registerModule('fc2', model.fc);
      return model;
    };
    expect(names(make(true).namedChildren())).toEqual(['fc2']);
    expect(names(make(false).namedChildren())).toEqual(['fc2']);
  });

  it('does not see #private fields or arrays of modules (register them, or use ModuleList)', () => {
    class Hidden extends nn.Module<[Tensor], Tensor> {
      readonly #secret = new nn.Linear(2, 2);
      readonly layers = [new nn.Linear(2, 2), new nn.Linear(2, 2)];
      readonly blocks = new nn.ModuleList([new nn.Linear(2, 2)]);
      forward(x: Tensor): Tensor {
        return this.#secret.forward(x);
      }
    }
    const model = new Hidden();
    expect(names(model.namedParameters())).toEqual(['blocks.0.weight', 'blocks.0.bias']);
  });

  it('trains, saves, loads, casts and switches mode through fields', () => {
    const model = new FieldModel();
    const x = randn([5, 3]);
    const before = Array.from(model.out.weight.value.dataSync());
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    model.forward(x).square().sum().backward();
    optimizer.step();
    expect(Array.from(model.out.weight.value.dataSync())).not.toEqual(before);

    const copy = new FieldModel();
    copy.loadStateDict(model.stateDict());
    expect(Array.from(copy.forward(x).dataSync())).toEqual(Array.from(model.forward(x).dataSync()));

    model.eval();
    expect(model.hidden.training).toBe(false);
    const visited: string[] = [];
    model.apply((m) => visited.push(m.constructor.name));
    expect(visited).toEqual(['Linear', 'ReLU', 'Linear', 'FieldModel']);
    model.to('float64');
    expect(model.scale.dtype).toBe('float64');
    expect(model.hidden.weight.dtype).toBe('float64');
  });

  it('keeps the weights of a model built inside tidy', () => {
    const model = tidy(() => new FieldModel());
    expect(model.scale.value.isDisposed).toBe(false);
    expect(Array.from(model.scale.value.dataSync())).toEqual([1, 1]);
    expect(model.forward(ones([1, 3])).shape).toEqual([1, 2]);
  });

  it('differentiates a field-based model through functionalCall', () => {
    const model = new FieldModel();
    const x = tensor([[1, 2, 3]]);
    const grads = grad((p: Record<string, Tensor>) => nn.functionalCall(model, p, x).sum())(model.parameterValues());
    expect(Object.keys(grads)).toEqual(['scale', 'hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']);
    expect(grads.scale?.shape).toEqual([2]);
  });
});
