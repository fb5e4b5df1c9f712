import '@flint/backend-cpu';
import { ones, Parameter, type Tensor, ValueError, zeros } from '@flint/api';
import { describe, expect, it, vi } from 'vitest';
import * as nn from './index.js';

// Where a field and the module's registries could disagree, the module refuses or follows the
// field instead of keeping a stale entry; cycles and accessors are never walked into.

const names = (entries: [string, unknown][]): string[] => entries.map(([n]) => n);

describe('Module fields against explicit registrations', () => {
  it('refuses to register a name whose field holds a different object', () => {
    class Clash extends nn.Module<[Tensor], Tensor> {
      fc = new nn.Linear(2, 2);
      constructor() {
        super();
        this.registerModule('fc', new nn.Linear(3, 3));
      }
      forward(x: Tensor): Tensor {
        return this.fc.forward(x);
      }
    }
    expect(() => new Clash()).toThrow(ValueError);
    expect(() => new Clash()).toThrow(/^Clash\.registerModule: cannot register submodule 'fc': the field 'fc' already holds a Linear/);

    class ParameterClash extends nn.Module<[Tensor], Tensor> {
      scale = new Parameter(ones([2]));
      constructor() {
        super();
        this.registerParameter('scale', new Parameter(zeros([2])));
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => new ParameterClash()).toThrow(
      /^ParameterClash\.registerParameter: cannot register parameter 'scale': the field 'scale' already holds a Parameter/,
    );

    const linear = new nn.Linear(2, 2);
    (linear as unknown as { gain: unknown }).gain = ones([1]);
    expect(() => linear.registerParameter('gain', new Parameter(ones([1])))).toThrow(/the field 'gain' already holds a Tensor/);
    expect(() => linear.registerBuffer('gain', zeros([1]))).toThrow(/^Linear\.registerBuffer: cannot register buffer 'gain'/);
    // Nothing was registered by the refused calls.
    expect(names(linear.namedParameters())).toEqual(['weight', 'bias']);
  });

  it('registers the object the field already holds, and a name whose field is null', () => {
    class Same extends nn.Module<[Tensor], Tensor> {
      fc = new nn.Linear(2, 2);
      spare: nn.Linear | null = null;
      constructor() {
        super();
        this.registerModule('fc', this.fc);
        this.registerModule('spare', new nn.Linear(1, 1));
      }
      forward(x: Tensor): Tensor {
        return this.fc.forward(x);
      }
    }
    const model = new Same();
    expect(model.getSubmodule('fc')).toBe(model.fc);
    expect(names(model.namedChildren())).toEqual(['fc', 'spare']);
    // The field of 'spare' held null at registration: it is followed once assigned something else.
    const next = new nn.Linear(1, 4);
    model.spare = next;
    expect(model.getSubmodule('spare')).toBe(next);
  });

  it('follows a reassigned field of an explicitly registered parameter as it follows an adopted one', () => {
    const linear = new nn.Linear(2, 2);
    (linear as unknown as { weight: unknown }).weight = ones([2, 2]);
    expect(() => linear.namedParameters()).toThrow(ValueError);
    expect(() => linear.namedParameters()).toThrow(/^Linear: field 'weight' holds a Tensor, but 'weight' is a registered parameter/);

    const moved = new nn.Linear(2, 2);
    const relu = new nn.ReLU();
    (moved as unknown as { weight: unknown }).weight = relu;
    expect(names(moved.namedParameters())).toEqual(['bias']);
    expect(moved.namedChildren()).toEqual([['weight', relu]]);

    const replaced = new nn.Linear(2, 2);
    const weight = new Parameter(zeros([2, 2]));
    // Linear's weight field is readonly to its users; the test reassigns it as a subclass or a careless caller could.
    (replaced as { weight: Parameter }).weight = weight;
    expect(replaced.getParameter('weight')).toBe(weight);
    (replaced as unknown as { bias: unknown }).bias = null;
    expect(names(replaced.namedParameters())).toEqual(['weight']);
  });

  it('sees registrations, replacements and field changes made after an enumeration', () => {
    class Growing extends nn.Module<[Tensor], Tensor> {
      a: unknown = new nn.Linear(1, 1);
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const model = new Growing();
    expect(names(model.namedChildren())).toEqual(['a']);
    model.registerModule('b', new nn.Tanh());
    expect(names(model.namedChildren())).toEqual(['a', 'b']);
    (model as unknown as { c: unknown }).c = new nn.ReLU();
    expect(names(model.namedChildren())).toEqual(['a', 'b', 'c']);
    model.a = new Parameter(ones([1]));
    expect(names(model.namedChildren())).toEqual(['b', 'c']);
    expect(names(model.namedParameters())).toEqual(['a']);

    const dict = new nn.ModuleDict({ x: new nn.Linear(1, 1) });
    expect(dict.numParameters()).toBe(2);
    dict.set('x', new nn.Linear(1, 3));
    expect(dict.numParameters()).toBe(6);
    dict.delete('x');
    expect(dict.parameters()).toEqual([]);
  });
});

describe('Module cycles', () => {
  class Child extends nn.Module<[Tensor], Tensor> {
    owner?: nn.Module<[Tensor], Tensor>;
    readonly lin = new nn.Linear(1, 1);
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  class Parent extends nn.Module<[Tensor], Tensor> {
    readonly child = new Child();
    forward(x: Tensor): Tensor {
      return x;
    }
  }

  it('refuses a back-reference field in every recursive traversal, naming it, instead of recursing forever', () => {
    const parent = new Parent();
    parent.child.owner = parent;
    const message =
      /^Parent: the module tree has a cycle: submodule 'child\.owner' is the Parent at the root, which encloses it\..*#private field/;
    expect(() => parent.apply(() => {})).toThrow(message);
    expect(() => parent.toString()).toThrow(message);
    expect(() => parent.parameters()).toThrow(message);
    expect(() => parent.train()).toThrow(message);
    expect(() => parent.stateDict()).toThrow(ValueError);
    expect(() => parent.child.numParameters()).toThrow(
      /^Child: the module tree has a cycle: submodule 'owner\.child' is the Child at the root/,
    );
  });

  it('accepts a back-reference in a #private field, and shared modules that form no cycle', () => {
    class QuietChild extends nn.Module<[Tensor], Tensor> {
      #owner: nn.Module<[Tensor], Tensor> | undefined;
      readonly lin = new nn.Linear(1, 1);
      adopt(owner: nn.Module<[Tensor], Tensor>): void {
        this.#owner = owner;
      }
      forward(x: Tensor): Tensor {
        return this.#owner === undefined ? x : x;
      }
    }
    class QuietParent extends nn.Module<[Tensor], Tensor> {
      readonly child = new QuietChild();
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const parent = new QuietParent();
    parent.child.adopt(parent);
    expect(names(parent.namedParameters())).toEqual(['child.lin.weight', 'child.lin.bias']);
    expect(parent.toString()).toContain('(child): QuietChild(');

    const shared = new nn.Linear(1, 1);
    const model = new nn.Sequential(new nn.Sequential(shared), shared);
    const visited: string[] = [];
    model.apply((m) => visited.push(m.constructor.name));
    // As torch's apply: a module reached twice is visited twice.
    expect(visited).toEqual(['Linear', 'Sequential', 'Linear', 'Sequential']);
    expect(model.toString().split('\n')).toHaveLength(6);
  });
});

describe('Module accessors', () => {
  it('never invokes own or inherited accessors while discovering fields', () => {
    let calls = 0;
    class Lazy extends nn.Module<[Tensor], Tensor> {
      readonly lin = new nn.Linear(1, 1);
      constructor() {
        super();
        Object.defineProperty(this, 'expensive', {
          enumerable: true,
          get: () => {
            calls++;
            return new nn.Linear(1, 1);
          },
        });
      }
      get derived(): nn.Linear {
        calls += 100;
        return new nn.Linear(1, 1);
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const model = new Lazy();
    model.parameters();
    model.stateDict();
    model.registerBuffer('steps', zeros([1]));
    expect(names(model.namedChildren())).toEqual(['lin']);
    expect(calls).toBe(0);
  });
});

describe('Module discovery cache', () => {
  it('reads no property descriptors while a module tree is unchanged, and rediscovers after a change', () => {
    const model = new nn.Sequential(...Array.from({ length: 20 }, () => new nn.Linear(2, 2)));
    model.parameters();
    const spy = vi.spyOn(Object, 'getOwnPropertyDescriptor');
    try {
      for (let i = 0; i < 3; i++) expect(model.parameters()).toHaveLength(40);
      model.stateDict();
      expect(spy).not.toHaveBeenCalled();
      const first = model.at(0) as nn.Linear;
      (first as { weight: Parameter }).weight = new Parameter(zeros([2, 2]));
      expect(model.getParameter('0.weight')).toBe(first.weight);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
