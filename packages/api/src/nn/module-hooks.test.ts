import '@flint/backend-cpu';
import { grad, jit, manualSeed, randn, type Tensor, tensor, ValueError, zeros } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from './index.js';
import { maxDifference } from './testing.test-support.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe('forward hooks', () => {
  it('pre-hooks and hooks run in order around forward, and may replace arguments and output', () => {
    manualSeed(1);
    const layer = new nn.Linear(3, 2);
    const x = randn([4, 3]);
    const plain = layer.forward(x);
    const log: string[] = [];
    const a = layer.registerForwardPreHook(() => {
      log.push('pre a');
    });
    const b = layer.registerForwardPreHook((_module, [input]) => {
      log.push('pre b');
      return [input.mul(2)];
    });
    const c = layer.registerForwardHook((module, [input], output) => {
      log.push('post c');
      expect(module).toBe(layer);
      // The arguments the hook sees are those forward received (after the pre-hooks).
      expect(maxDifference(values(input), values(x.mul(2)))).toBe(0);
      return output.add(1);
    });
    const d = layer.registerForwardHook((_module, _args, output) => {
      log.push('post d');
      expect(output.shape).toEqual([4, 2]);
    });
    const first = layer.registerForwardPreHook(
      () => {
        log.push('pre first');
      },
      { prepend: true },
    );
    const hooked = layer.forward(x);
    expect(log).toEqual(['pre first', 'pre a', 'pre b', 'post c', 'post d']);
    const expected = layer.weight.value
      .matmul(x.mul(2).transpose())
      .transpose()
      .add(layer.bias?.value as Tensor)
      .add(1);
    expect(maxDifference(values(hooked), values(expected))).toBeLessThan(1e-6);
    expect(a.id).not.toBe(b.id);
    for (const handle of [a, b, c, d, first]) handle.remove();
    b.remove(); // a second remove does nothing
    log.length = 0;
    expect(values(layer.forward(x))).toEqual(values(plain));
    expect(log).toEqual([]);
  });

  it('a pre-hook returning a single value replaces the one argument, as PyTorch wraps a non-tuple', () => {
    const identity = new nn.Identity();
    identity.registerForwardPreHook(() => tensor([5]));
    expect(values(identity.forward(tensor([1])))).toEqual([5]);
  });

  it("hooks on children fire inside a parent's forward, each once per call, in execution order", () => {
    const model = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1));
    const order: string[] = [];
    for (const [name, module] of model.namedModules()) {
      module.registerForwardPreHook(() => {
        order.push(`enter ${name || 'root'}`);
      });
      module.registerForwardHook(() => {
        order.push(`exit ${name || 'root'}`);
      });
    }
    model.forward(randn([5, 2]));
    expect(order).toEqual(['enter root', 'enter 0', 'exit 0', 'enter 1', 'exit 1', 'enter 2', 'exit 2', 'exit root']);
  });

  it('a user-defined module calling its children is hooked; features can be captured; `using` removes a hook', () => {
    class Net extends nn.Module<[Tensor], Tensor> {
      readonly encoder = new nn.Linear(4, 3);
      readonly head = new nn.Linear(3, 1);
      forward(x: Tensor): Tensor {
        return this.head.forward(nn.functional.relu(this.encoder.forward(x)));
      }
    }
    const net = new Net();
    const features: Tensor[] = [];
    {
      using _handle = net.encoder.registerForwardHook((_m, _args, output) => {
        features.push(output);
      });
      net.forward(randn([2, 4]));
    }
    net.forward(randn([2, 4]));
    expect(features.length).toBe(1);
    expect(features[0]?.shape).toEqual([2, 3]);
    // Hooks do not make the wrapper a field: discovery and the state dict are unchanged.
    expect(Object.keys(net.stateDict())).toEqual(['encoder.weight', 'encoder.bias', 'head.weight', 'head.bias']);
  });

  it('hooks run under functionalCall and grad, and a hook output change is differentiated', () => {
    const layer = new nn.Linear(2, 1, { bias: false });
    layer.registerForwardHook((_m, _args, output) => output.mul(3));
    const x = tensor([[1, 2]]);
    const g = grad((p: Record<string, Tensor>) => nn.functionalCall(layer, p, x).sum())(layer.parameterValues());
    expect(values(g.weight as Tensor)).toEqual([3, 6]);
  });

  it('hooks run while jit traces: the compiled program includes what they compute, their side effects happen per trace', () => {
    const layer = new nn.Linear(2, 1, { bias: false });
    let calls = 0;
    layer.registerForwardHook((_m, _args, output) => {
      calls++;
      return output.mul(3);
    });
    const run = jit((p: Record<string, Tensor>, x: Tensor) => nn.functionalCall(layer, p, x));
    const x = tensor([[1, 2]], { dtype: 'float32' });
    const eager = values(nn.functionalCall(layer, layer.parameterValues(), x));
    expect(values(run(layer.parameterValues(), x))).toEqual(eager);
    expect(values(run(layer.parameterValues(), x))).toEqual(eager);
    expect(calls).toBe(2); // once eagerly, once while tracing; the second compiled call reuses the trace
  });

  it('refuses a hook that is not a function', () => {
    const layer = new nn.Linear(2, 1);
    expect(() => layer.registerForwardHook(42 as never)).toThrow(/registerForwardHook: hook must be a function, got number/);
    expect(() => layer.registerForwardPreHook(null as never)).toThrow(ValueError);
  });
});

describe('half, bfloat16, float, double', () => {
  it('cast floating parameters and buffers, leave integer buffers alone, and return the module', () => {
    const model = new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2));
    const bn = model.at(1) as nn.BatchNorm1d;
    const weight = model.at(0) as nn.Linear;
    expect(model.double()).toBe(model);
    expect(weight.weight.value.dtype).toBe('float64');
    expect(bn.runningMean.dtype).toBe('float64');
    expect(bn.getBuffer('numBatchesTracked').dtype).toBe('int32');
    model.half();
    expect(model.parameters().every((p) => p.value.dtype === 'float16')).toBe(true);
    expect(bn.runningVar.dtype).toBe('float16');
    expect(bn.getBuffer('numBatchesTracked').dtype).toBe('int32');
    model.bfloat16();
    expect(weight.bias?.value.dtype).toBe('bfloat16');
    model.float();
    expect(model.parameters().every((p) => p.value.dtype === 'float32')).toBe(true);
    expect(bn.getBuffer('numBatchesTracked').dtype).toBe('int32');
    const buffered = new (class extends nn.Module<[Tensor], Tensor> {
      constructor() {
        super();
        this.registerBuffer('mask', zeros([2], { dtype: 'bool' }));
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    })();
    buffered.double();
    expect(buffered.getBuffer('mask').dtype).toBe('bool');
  });
});
