import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { compile, grad, noGrad, optim, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { PYTHON } from '../../../../test/support/python-torch.test-support.js';
import { describeAgainstTorch } from '../../../../test/support/torch-oracle.test-support.js';
import * as nn from './index.js';
import { maxRelativeDifference, randomValues, seededRandom } from './testing.test-support.js';

// Full backward hooks (registerFullBackwardPreHook, registerFullBackwardHook): what they are
// shown, what their replacements do, when they fire; the gradients they see and the parameters'
// gradients they lead to are compared with torch's register_full_backward_hook (torch 1.13 has no
// full backward pre-hook: a hook on the output tensor, which replaces the same gradient, stands in).

const rng = seededRandom(7);
const f64 = (shape: number[], requiresGrad = false): Tensor =>
  tensor(
    randomValues(
      rng,
      shape.reduce((a, b) => a * b, 1),
    ),
    { shape, dtype: 'float64', requiresGrad },
  );
const values = (t: Tensor | null | undefined): number[] => (t ? Array.from(t.dataSync()) : []);
const shapes = (gradients: readonly (Tensor | null)[]): (string | null)[] => gradients.map((g) => (g === null ? null : g.shape.join('x')));

/** Linear(3, 4), ReLU, Linear(4, 2) in float64, the same weights on every call. */
function mlp(): nn.Sequential {
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2)).double();
  const weights = seededRandom(11);
  for (const p of model.parameters()) p.value = tensor(randomValues(weights, p.value.size), { shape: [...p.shape], dtype: 'float64' });
  return model;
}

/** forward(a, scale, b) = a * scale + sin(b): a module with a non-tensor argument. */
class ScaleAndSine extends nn.Module<[Tensor, number, Tensor], Tensor> {
  forward(a: Tensor, scale: number, b: Tensor): Tensor {
    return a.mul(scale).add(b.sin());
  }
}

describe('full backward hooks', () => {
  it('see the gradients with respect to the positional arguments and the outputs, null for a non-tensor argument', () => {
    const module = new ScaleAndSine();
    const seen: (string | null)[][] = [];
    module.registerFullBackwardHook((m, gradInput, gradOutput) => {
      expect(m).toBe(module);
      seen.push(shapes(gradInput), shapes(gradOutput));
      expect(values(gradInput[0])).toEqual([3, 3]);
    });
    const a = f64([2], true);
    const b = f64([2], true);
    module.forward(a, 3, b).sum().backward();
    expect(seen).toEqual([['2', null, '2'], ['2']]);
    // An argument that does not require grad has no gradient either.
    seen.length = 0;
    module
      .forward(a, 3, f64([2]))
      .sum()
      .backward();
    expect(seen).toEqual([['2', null, null], ['2']]);
  });

  it('replacements change the gradients that flow on; prepend puts a hook first; handles remove hooks', () => {
    const model = mlp();
    const x = f64([5, 3], true);
    model.forward(x).sum().backward();
    const plain = [values(x.grad), ...model.parameters().map((p) => values(p.grad))];
    model.zeroGrad();
    x.grad = null;
    const order: string[] = [];
    const last = model.at(2);
    const a = last.registerFullBackwardPreHook((_m, [g]) => {
      order.push('pre a');
      return [g ? g.mul(3) : null];
    });
    const b = last.registerFullBackwardPreHook(
      (_m, gradOutput) => {
        order.push('pre b (prepended)');
        expect(gradOutput.length).toBe(1);
      },
      { prepend: true },
    );
    const c = last.registerFullBackwardHook((_m, [gradInput], [gradOutput]) => {
      order.push('full c');
      // The full hook sees the gradient with respect to the output as the pre-hooks left it.
      expect(values(gradOutput)).toEqual(new Array<number>(10).fill(3));
      return [gradInput ? gradInput.mul(-1) : null];
    });
    model.forward(x).sum().backward();
    expect(order).toEqual(['pre b (prepended)', 'pre a', 'full c']);
    const [lastWeight, lastBias] = [model.parameters()[2] as nn.Parameter, model.parameters()[3] as nn.Parameter];
    // The last layer's own parameters see 3x (pre-hook), everything before it -3x (the full hook's sign).
    expect(
      maxRelativeDifference(
        values(lastWeight.grad),
        (plain[3] as number[]).map((v) => 3 * v),
      ),
    ).toBeLessThan(1e-12);
    expect(
      maxRelativeDifference(
        values(lastBias.grad),
        (plain[4] as number[]).map((v) => 3 * v),
      ),
    ).toBeLessThan(1e-12);
    expect(
      maxRelativeDifference(
        values(x.grad),
        (plain[0] as number[]).map((v) => -3 * v),
      ),
    ).toBeLessThan(1e-12);
    for (const handle of [a, b, c]) handle.remove();
    model.zeroGrad();
    x.grad = null;
    order.length = 0;
    model.forward(x).sum().backward();
    expect(order).toEqual([]);
    expect(values(x.grad)).toEqual(plain[0]);
  });

  it('fire once per call of forward, for the hooks registered when forward ran', () => {
    const layer = new nn.Linear(2, 2).double();
    const calls: number[][] = [];
    const handle = layer.registerFullBackwardHook((_m, [gradInput]) => {
      calls.push(values(gradInput));
    });
    const x = f64([1, 2], true);
    const twice = layer.forward(layer.forward(x));
    handle.remove(); // as in torch, a call already made keeps the hooks it was made with
    twice.sum().backward();
    expect(calls.length).toBe(2);
    // The outer call fires first; its gradient with respect to its input is the inner call's output's.
    const w = values(layer.weight.value);
    expect(calls[0]).toEqual([(w[0] as number) + (w[2] as number), (w[1] as number) + (w[3] as number)]);
    // retainGraph: every backward pass through the call fires the hooks again.
    const counted: number[] = [];
    layer.registerFullBackwardPreHook(() => {
      counted.push(1);
    });
    const y = layer.forward(x).sum();
    y.backward({ retainGraph: true });
    y.backward();
    expect(counted.length).toBe(2);
  });

  it('fire in a recorded backward pass (createGraph), and not again in a second pass through it', () => {
    class Cube extends nn.Module<[Tensor], Tensor> {
      forward(x: Tensor): Tensor {
        return x.pow(3);
      }
    }
    const cube = new Cube();
    let fired = 0;
    cube.registerFullBackwardHook(() => {
      fired++;
    });
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    cube.forward(x).sum().backward({ createGraph: true });
    const first = x.grad as Tensor;
    expect(values(first)).toEqual([3, 12]);
    expect(first.requiresGrad).toBe(true);
    x.grad = null;
    first.sum().backward();
    expect(values(x.grad)).toEqual([6, 12]);
    expect(fired).toBe(1);
  });

  it('a call whose inputs do not require grad runs its full hooks from the outputs, with nulls, and they may not return gradients', () => {
    const model = mlp();
    const order: string[] = [];
    for (const [name, module] of model.namedModules()) {
      module.registerFullBackwardHook((_m, gradInput) => {
        order.push(`${name || 'root'} ${shapes(gradInput).join(',')}`);
      });
    }
    model
      .forward(f64([5, 3]))
      .sum()
      .backward();
    // torch's order: the root and the first layer fire as soon as their outputs' gradients are known.
    expect(order).toEqual(['root ', '2 5x4', '1 5x4', '0 ']);
    const layer = new nn.Linear(3, 1).double();
    layer.registerFullBackwardHook(function giveInputGradient(_m, [g]) {
      return [g ?? tensor([[1, 1, 1]], { dtype: 'float64' })];
    });
    expect(() =>
      layer
        .forward(f64([1, 3]))
        .sum()
        .backward(),
    ).toThrow(/Linear: the full backward hook 'giveInputGradient' returned gradients, but no input of this call requires grad/);
  });

  it('refuse replacements of the wrong number or shape, naming the module and the hook', () => {
    const x = f64([4, 3], true);
    const count = new nn.Linear(3, 2).double();
    count.registerFullBackwardHook((_m, [g]) => [g ?? null, g ?? null]);
    expect(() => count.forward(x).sum().backward()).toThrow(ValueError);
    expect(() => count.forward(x).sum().backward()).toThrow(
      /^Linear: the full backward hook #\d+ returned 2 gradient\(s\), but expected 1: grad_input \(one per positional argument\)$/,
    );
    const shape = new nn.Linear(3, 2).double();
    shape.registerFullBackwardPreHook(function halve(_m, gradOutput) {
      return [(gradOutput[0] as Tensor).sum(0)];
    });
    expect(() => shape.forward(x).sum().backward()).toThrow(ShapeError);
    expect(() => shape.forward(x).sum().backward()).toThrow(
      "Linear: the full backward pre-hook 'halve' returned a gradient of shape [2] at position 0, but the tensor there has shape [4, 2]",
    );
    const notArray = new nn.Linear(3, 2).double();
    notArray.registerFullBackwardHook(() => tensor([1.5]) as never);
    expect(() => notArray.forward(x).sum().backward()).toThrow(/must return an array of gradients or undefined, got a Tensor/);
    expect(() => notArray.registerFullBackwardHook(3 as never)).toThrow(/registerFullBackwardHook: hook must be a function, got number/);
  });

  it('do not fire for calls under noGrad, nor under the functional transforms; the values are unchanged', () => {
    const model = mlp();
    let fired = 0;
    for (const module of model.modules()) {
      module.registerFullBackwardPreHook(() => {
        fired++;
      });
      module.registerFullBackwardHook(() => {
        fired++;
      });
    }
    const x = f64([5, 3], true);
    const out = noGrad(() => model.forward(x));
    expect(out.requiresGrad).toBe(false);
    // grad of functionalCall: the transform differentiates the call, the tape does not record it.
    const loss = (p: Record<string, Tensor>) => nn.functionalCall(model, p, x).sum();
    const g = grad(loss)(model.parameterValues());
    expect(fired).toBe(0);
    model.forward(x).sum().backward();
    expect(fired).toBe(8);
    for (const [name, p] of model.namedParameters()) expect(values(g[name])).toEqual(values(p.grad));
    expect(values(out)).toEqual(values(model.forward(x)));
  });

  it('under compile(), fire while a training step is traced, and their replacements are part of the program', () => {
    const eagerModel = mlp();
    const compiledModel = mlp();
    let fired = 0;
    for (const model of [eagerModel, compiledModel]) {
      model.at(2).registerFullBackwardHook((_m, [g]) => {
        fired++;
        return [g ? g.mul(0.5) : null];
      });
    }
    const stepOf = (model: nn.Sequential, optimizer: optim.SGD) => (x: Tensor) => {
      optimizer.zeroGrad();
      const loss = model.forward(x).square().mean();
      loss.backward();
      optimizer.step();
      return loss;
    };
    const eagerOptimizer = new optim.SGD(eagerModel.parameters(), { lr: 0.1 });
    const compiledOptimizer = new optim.SGD(compiledModel.parameters(), { lr: 0.1 });
    const eagerStep = stepOf(eagerModel, eagerOptimizer);
    const compiledStep = compile(stepOf(compiledModel, compiledOptimizer), { modules: [compiledModel], optimizers: [compiledOptimizer] });
    const unhooked = mlp();
    const unhookedStep = stepOf(unhooked, new optim.SGD(unhooked.parameters(), { lr: 0.1 }));
    const x = f64([5, 3]);
    for (let i = 0; i < 3; i++) {
      eagerStep(x);
      compiledStep(x);
      unhookedStep(x);
    }
    const first = (model: nn.Sequential) => values((model.at(0) as nn.Linear).weight.value);
    expect(maxRelativeDifference(first(compiledModel), first(eagerModel))).toBeLessThan(1e-9);
    expect(maxRelativeDifference(first(unhooked), first(eagerModel))).toBeGreaterThan(1e-3);
    expect(fired).toBeLessThan(6); // three eager steps, and the compiled step's traces only
  });

  it('need forward to return a Tensor or an array of Tensors (null for the other elements)', () => {
    class Pair extends nn.Module<[Tensor], [Tensor, number, Tensor]> {
      forward(x: Tensor): [Tensor, number, Tensor] {
        return [x.mul(2), 7, x.square()];
      }
    }
    const pair = new Pair();
    const seen: (string | null)[] = [];
    pair.registerFullBackwardPreHook((_m, gradOutput) => {
      seen.push(...shapes(gradOutput));
    });
    const x = f64([3], true);
    const [doubled, seven, squared] = pair.forward(x);
    expect(seven).toBe(7);
    doubled.add(squared).sum().backward();
    expect(seen).toEqual(['3', null, '3']);
    // An output used by nothing shows null.
    seen.length = 0;
    pair.forward(x)[0].sum().backward();
    expect(seen).toEqual(['3', null, null]);
    class Named extends nn.Module<[Tensor], { y: Tensor }> {
      forward(x: Tensor): { y: Tensor } {
        return { y: x };
      }
    }
    const named = new Named();
    named.registerFullBackwardHook(() => undefined);
    expect(() => named.forward(x)).toThrow(/Named: backward hooks need forward to return a Tensor or an array of Tensors, got a Object/);
    expect(noGrad(() => named.forward(x)).y).toBe(x);
  });
});

// ---------------------------------------------------------------------------------------------
// Against PyTorch: the same scenarios in one Python process.

interface Encoded {
  readonly shape: number[];
  readonly data: number[];
}
const encode = (t: Tensor): Encoded => ({ shape: [...t.shape], data: values(t) });
type HookRecord = [string, (Encoded | null)[], (Encoded | null)[]];
interface TorchResult {
  readonly records: HookRecord[];
  readonly grads: Record<string, Encoded | null>;
}

const PYTHON_SCRIPT = `
import json, sys, torch, torch.nn as nn
torch.set_default_dtype(torch.float64)
payload = json.load(sys.stdin)
def dec(e, rg=False):
    return torch.tensor(e['data']).reshape(e['shape']).requires_grad_(rg)
def enc(t):
    return None if t is None else {'shape': list(t.shape), 'data': t.detach().flatten().tolist()}
def mlp():
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    m.load_state_dict({k: dec(v) for k, v in payload['weights'].items()})
    return m
class ScaleAndSine(nn.Module):
    def forward(self, a, scale, b):
        return a * scale + b.sin()
def recorder(records, name):
    def hook(m, gi, go):
        records.append([name, [enc(g) for g in gi], [enc(g) for g in go]])
    return hook
out = []
for case in payload['cases']:
    records = []
    grads = {}
    kind = case['kind']
    if kind in ('observe', 'observe-plain-input'):
        m = mlp()
        for name, mod in m.named_modules():
            mod.register_full_backward_hook(recorder(records, name or 'root'))
        x = dec(payload['x'], kind == 'observe')
        (m(x) * dec(payload['r'])).sum().backward()
    elif kind == 'replace':
        m = mlp()
        m[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
        m[0].register_full_backward_hook(lambda mod, gi, go: (-gi[0],))
        # torch 1.13 has no full backward pre-hook: a hook on the output tensor replaces the same gradient.
        def triple_output_gradient(mod, i, o):
            o.register_hook(lambda g: g * 3)
        m[2].register_forward_hook(triple_output_gradient)
        x = dec(payload['x'], True)
        (m(x) * dec(payload['r'])).sum().backward()
    elif kind == 'non-tensor-argument':
        mod = ScaleAndSine()
        mod.register_full_backward_hook(recorder(records, 'root'))
        a = dec(payload['a'], True); b = dec(payload['b'], True)
        (mod(a, 2.5, b) * dec(payload['c'])).sum().backward()
        grads = {'a': enc(a.grad), 'b': enc(b.grad)}
    elif kind == 'twice':
        m = mlp()
        inner = m[0]
        square = nn.Linear(3, 3)
        square.load_state_dict({'weight': dec(payload['square']['weight']), 'bias': dec(payload['square']['bias'])})
        square.register_full_backward_hook(recorder(records, 'square'))
        x = dec(payload['x'], True)
        (m(square(square(x))) * dec(payload['r'])).sum().backward()
    if kind != 'non-tensor-argument':
        grads = {name: enc(p.grad) for name, p in m.named_parameters()}
        grads['x'] = enc(x.grad)
    out.append({'records': records, 'grads': grads})
print(json.dumps(out))
`;

describeAgainstTorch('full backward hooks against PyTorch', () => {
  const x = f64([5, 3]);
  const r = f64([5, 2]);
  const square = { weight: f64([3, 3]), bias: f64([3]) };
  const a = f64([4]);
  const b = f64([4]);
  const c = f64([4]);
  const weights = Object.fromEntries(Object.entries(mlp().stateDict()).map(([k, t]) => [k, encode(t)]));
  const cases = ['observe', 'observe-plain-input', 'replace', 'non-tensor-argument', 'twice'] as const;
  let reference: TorchResult[] = [];

  const leafOf = (t: Tensor, requiresGrad: boolean): Tensor => {
    const copy = t.mul(1);
    if (requiresGrad) copy.requiresGrad = true;
    return copy;
  };
  const encodeAll = (gradients: readonly (Tensor | null)[]) => gradients.map((g) => (g === null ? null : encode(g)));
  const recorder =
    (records: HookRecord[], name: string) =>
    (_m: unknown, gradInput: readonly (Tensor | null)[], gradOutput: readonly (Tensor | null)[]): void => {
      records.push([name, encodeAll(gradInput), encodeAll(gradOutput)]);
    };

  /** The Flint side of each case: what the hooks recorded and the gradients. */
  function run(kind: (typeof cases)[number]): TorchResult {
    const records: HookRecord[] = [];
    const model = mlp();
    const input = leafOf(x, kind !== 'observe-plain-input');
    const weighted = (out: Tensor) => out.mul(r).sum();
    if (kind === 'observe' || kind === 'observe-plain-input') {
      for (const [name, module] of model.namedModules()) module.registerFullBackwardHook(recorder(records, name || 'root'));
      weighted(model.forward(input)).backward();
    } else if (kind === 'replace') {
      model.at(1).registerFullBackwardHook((_m, [g]) => [g ? g.mul(2) : null]);
      model.at(0).registerFullBackwardHook((_m, [g]) => [g ? g.neg() : null]);
      model.at(2).registerFullBackwardPreHook((_m, [g]) => [g ? g.mul(3) : null]);
      weighted(model.forward(input)).backward();
    } else if (kind === 'non-tensor-argument') {
      const module = new ScaleAndSine();
      module.registerFullBackwardHook(recorder(records, 'root'));
      const [la, lb] = [leafOf(a, true), leafOf(b, true)];
      module.forward(la, 2.5, lb).mul(c).sum().backward();
      return { records, grads: { a: encode(la.grad as Tensor), b: encode(lb.grad as Tensor) } };
    } else {
      const layer = new nn.Linear(3, 3).double();
      layer.weight.value = square.weight;
      (layer.bias as nn.Parameter).value = square.bias;
      layer.registerFullBackwardHook(recorder(records, 'square'));
      weighted(model.forward(layer.forward(layer.forward(input)))).backward();
    }
    const grads: Record<string, Encoded | null> = {};
    for (const [name, p] of model.namedParameters()) grads[name] = p.grad === null ? null : encode(p.grad);
    grads.x = input.grad === null ? null : encode(input.grad);
    return { records, grads };
  }

  it('runs the cases through PyTorch', () => {
    const payload = {
      weights,
      x: encode(x),
      r: encode(r),
      a: encode(a),
      b: encode(b),
      c: encode(c),
      square: { weight: encode(square.weight), bias: encode(square.bias) },
      cases: cases.map((kind) => ({ kind })),
    };
    const result = spawnSync(PYTHON, ['-c', PYTHON_SCRIPT], {
      input: JSON.stringify(payload),
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(result.stderr.includes('Traceback') ? result.stderr : '').toBe('');
    reference = JSON.parse(result.stdout) as TorchResult[];
    expect(reference).toHaveLength(cases.length);
  });

  const close = (actual: Encoded | null | undefined, expected: Encoded | null | undefined, what: string): void => {
    if (expected === null || expected === undefined) {
      expect(actual ?? null, what).toBeNull();
      return;
    }
    expect(actual?.shape, `${what}: shape`).toEqual(expected.shape);
    expect(maxRelativeDifference(actual?.data ?? [], expected.data), what).toBeLessThan(1e-12);
  };

  cases.forEach((kind, i) => {
    it(`${kind}: the hooks see what torch's see, in its order, and the gradients agree`, () => {
      const expected = reference[i] as TorchResult;
      expect(expected, 'the PyTorch run failed').toBeDefined();
      const actual = run(kind);
      expect(actual.records.map(([name]) => name)).toEqual(expected.records.map(([name]) => name));
      expected.records.forEach(([name, gradInput, gradOutput], k) => {
        const [, ownInput, ownOutput] = actual.records[k] as HookRecord;
        expect(ownInput.length, `${name}: gradInput length`).toBe(gradInput.length);
        gradInput.forEach((g, j) => {
          close(ownInput[j], g, `call ${k} (${name}): gradInput[${j}]`);
        });
        expect(ownOutput.length, `${name}: gradOutput length`).toBe(gradOutput.length);
        gradOutput.forEach((g, j) => {
          close(ownOutput[j], g, `call ${k} (${name}): gradOutput[${j}]`);
        });
      });
      expect(Object.keys(actual.grads).sort()).toEqual(Object.keys(expected.grads).sort());
      for (const [name, g] of Object.entries(expected.grads)) close(actual.grads[name], g, `gradient of ${name}`);
    });
  });
});
