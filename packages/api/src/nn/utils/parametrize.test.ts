import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { compile, grad, linalg, optim, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { PYTHON } from '../../../../../test/support/python-torch.test-support.js';
import { describeAgainstTorch } from '../../../../../test/support/torch-oracle.test-support.js';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

// nn.utils.parametrize and nn.utils.parametrizations: the module's tensor recomputed from its
// originals on every read, what parameters(), stateDict(), functionalCall, optimizers and compile()
// see, removal, caching, the checks; weight norm and spectral norm against torch (state-dict keys,
// values, gradients, and the power iteration's vectors over training-mode steps).

const { parametrize, parametrizations } = nn.utils;
const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
const rng = seededRandom(23);
const f64 = (shape: number[]): Tensor =>
  tensor(
    randomValues(
      rng,
      shape.reduce((a, b) => a * b, 1),
    ),
    { dtype: 'float64' },
  ).reshape(shape);

/** X ↦ X + Xᵀ restricted to the upper triangle: a symmetric matrix; rightInverse keeps the upper triangle. */
class Symmetric extends nn.Module<[Tensor], Tensor> {
  calls = 0;
  forward(x: Tensor): Tensor {
    this.calls++;
    return x.triu().add(x.triu(1).transpose());
  }
  rightInverse(w: Tensor): Tensor {
    return w.triu();
  }
}

/** Doubles the tensor; has no rightInverse. */
class Double extends nn.Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return x.mul(2);
  }
}

describe('registerParametrization', () => {
  it('recomputes the tensor from the original on every read; parameters and state follow torch', () => {
    const layer = new nn.Linear(3, 3, { dtype: 'float64' });
    const held = layer.weight;
    const before = values(layer.weight.value);
    parametrize.registerParametrization(layer, 'weight', new Symmetric());
    expect(parametrize.isParametrized(layer)).toBe(true);
    expect(parametrize.isParametrized(layer, 'weight')).toBe(true);
    expect(parametrize.isParametrized(layer, 'bias')).toBe(false);
    expect(layer.weight).toBe(held);
    expect(layer.namedParameters().map(([n]) => n)).toEqual(['bias', 'parametrizations.weight.original']);
    expect(Object.keys(layer.stateDict())).toEqual(['bias', 'parametrizations.weight.original']);
    const original = layer.getParameter('parametrizations.weight.original');
    // The original is rightInverse(weight): the upper triangle.
    expect(values(original.value)).toEqual(before.map((v, i) => (i % 3 >= Math.floor(i / 3) ? v : 0)));
    const w = layer.weight.value.arraySync() as number[][];
    expect(w[1]?.[0]).toBe(w[0]?.[1]);
    original.value = tensor(
      [
        [1, 2, 3],
        [0, 4, 5],
        [0, 0, 6],
      ],
      { dtype: 'float64' },
    );
    expect(layer.weight.value.arraySync()).toEqual([
      [1, 2, 3],
      [2, 4, 5],
      [3, 5, 6],
    ]);
    expect([layer.weight.shape, layer.weight.dtype]).toEqual([[3, 3], 'float64']);
    // Assigning the tensor runs the rightInverse into the original.
    layer.weight.value = tensor(
      [
        [7, 8, 9],
        [8, 1, 2],
        [9, 2, 3],
      ],
      { dtype: 'float64' },
    );
    expect(original.value.arraySync()).toEqual([
      [7, 8, 9],
      [0, 1, 2],
      [0, 0, 3],
    ]);
    expect(layer.toString()).toContain('(parametrizations): ModuleDict(');
  });

  it('trains the original through backward and an optimizer, functionalCall, grad and compile()', () => {
    const layer = parametrize.registerParametrization(new nn.Linear(3, 3, { dtype: 'float64' }), 'weight', new Symmetric());
    const x = f64([4, 3]);
    const loss = (m: nn.Linear): Tensor => m.forward(x).square().sum();
    loss(layer).backward();
    const original = layer.getParameter('parametrizations.weight.original');
    const g = values(original.grad as Tensor);
    const key = 'parametrizations.weight.original';
    const viaGrad = grad((p: Record<string, Tensor>) => nn.functionalCall(layer, p, x).square().sum())(layer.parameterValues());
    expect(maxDifference(values(viaGrad[key] as Tensor), g)).toBeLessThan(1e-12);
    // The lower triangle of the original does not reach the weight.
    expect([g[3], g[6], g[7]]).toEqual([0, 0, 0]);

    const eager = parametrize.registerParametrization(new nn.Linear(3, 3, { dtype: 'float64' }), 'weight', new Symmetric());
    eager.loadStateDict(layer.stateDict());
    // lr exact in float32: compiled optimizers hold hyperparameters as float32 scalars.
    const optimizer = new optim.SGD(eager.parameters(), { lr: 0.125 });
    const compiledModel = parametrize.registerParametrization(new nn.Linear(3, 3, { dtype: 'float64' }), 'weight', new Symmetric());
    compiledModel.loadStateDict(layer.stateDict());
    const compiledOptimizer = new optim.SGD(compiledModel.parameters(), { lr: 0.125 });
    const step = compile(
      (input: Tensor) => {
        compiledOptimizer.zeroGrad();
        const l = compiledModel.forward(input).square().sum();
        l.backward();
        compiledOptimizer.step();
        return l;
      },
      { modules: [compiledModel], optimizers: [compiledOptimizer] },
    );
    for (let i = 0; i < 2; i++) {
      optimizer.zeroGrad();
      loss(eager).backward();
      optimizer.step();
      step(x);
    }
    expect(maxDifference(values(compiledModel.weight.value), values(eager.weight.value))).toBeLessThan(1e-12);
    const w = eager.weight.value.arraySync() as number[][];
    expect(w[2]?.[0]).toBeCloseTo(w[0]?.[2] as number, 14);
  });

  it('parametrizes the weights a recurrent layer holds privately (the layer reads the same Parameter)', () => {
    const gru = new nn.GRU(2, 3, { dtype: 'float64' });
    const x = f64([4, 1, 2]);
    const [before] = gru.forward(x);
    parametrize.registerParametrization(gru, 'weightHhL0', new Double());
    const [after] = gru.forward(x);
    const reference = new nn.GRU(2, 3, { dtype: 'float64' });
    const state = gru.stateDict();
    reference.loadStateDict({ ...state, weightHhL0: (state['parametrizations.weightHhL0.original'] as Tensor).mul(2) }, false);
    expect(maxDifference(values(after), values(reference.forward(x)[0]))).toBeLessThan(1e-14);
    expect(maxDifference(values(after), values(before))).toBeGreaterThan(1e-6);
  });

  it('appends to a parametrized tensor, caches inside cached(), and removes as torch does', () => {
    const layer = new nn.Linear(3, 3, { dtype: 'float64' });
    const held = layer.weight;
    const symmetric = new Symmetric();
    parametrize.registerParametrization(layer, 'weight', symmetric);
    parametrize.registerParametrization(layer, 'weight', new Double());
    const list = layer.getSubmodule('parametrizations.weight') as nn.utils.parametrize.ParametrizationList;
    expect(list.parametrizations.length).toBe(2);
    const doubled = values(layer.weight.value);
    symmetric.calls = 0;
    parametrize.cached(() => {
      layer.weight.value;
      layer.forward(f64([1, 3]));
    });
    expect(symmetric.calls).toBe(1);
    // Double has no rightInverse: the tensor cannot be assigned.
    expect(() => {
      layer.weight.value = tensor(
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        { dtype: 'float64' },
      );
    }).toThrow(/the parametrization Double has no rightInverse, so the tensor cannot be assigned/);

    parametrize.removeParametrizations(layer, 'weight');
    expect(layer.weight).toBe(held);
    expect(values(layer.weight.value)).toEqual(doubled);
    expect(Object.keys(layer.stateDict())).toEqual(['bias', 'weight']);
    expect(parametrize.isParametrized(layer)).toBe(false);
    expect(layer.namedChildren()).toEqual([]);

    parametrize.registerParametrization(layer, 'weight', new Double());
    parametrize.removeParametrizations(layer, 'weight', { leaveParametrized: false });
    // The original (the doubled weight), not the parametrized value (doubled again).
    expect(values(layer.weight.value)).toEqual(doubled);
    expect(() => parametrize.removeParametrizations(layer, 'weight')).toThrow(
      "removeParametrizations: Linear has no parametrization on 'weight'",
    );
  });

  it('checks what torch checks, naming the problem', () => {
    class Flatten extends nn.Module<[Tensor], Tensor> {
      forward(x: Tensor): Tensor {
        return x.reshape([-1]);
      }
    }
    const layer = new nn.Linear(2, 2);
    expect(() => parametrize.registerParametrization(layer, 'weight', new Flatten())).toThrow(
      'registerParametrization: the parametrization changes the shape from [2, 2] to [4]; pass { unsafe: true } to allow it',
    );
    expect(Object.keys(layer.stateDict())).toEqual(['weight', 'bias']);
    parametrize.registerParametrization(layer, 'weight', new Flatten(), { unsafe: true });
    expect(layer.weight.shape).toEqual([4]);
    expect(() => parametrize.registerParametrization(layer, 'nothing', new Double())).toThrow(
      "registerParametrization: Linear has no parameter or parametrized tensor named 'nothing'",
    );
    expect(() => parametrize.registerParametrization(layer, 'bias', ((x: Tensor) => x) as never)).toThrow(
      /the parametrization must be an nn.Module with a forward, got function/,
    );
    const norm = new nn.BatchNorm1d(2);
    expect(() => parametrize.registerParametrization(norm, 'runningMean', new Double())).toThrow(
      "registerParametrization: 'runningMean' is a buffer of BatchNorm1d; only parameters can be parametrized here",
    );
    const weightNormed = parametrizations.weightNorm(new nn.Linear(2, 2));
    expect(() => parametrize.removeParametrizations(weightNormed, 'weight', { leaveParametrized: false })).toThrow(
      "removeParametrizations: cannot leave 'weight' unparametrized (leaveParametrized: false): it is parametrized by 2 tensors",
    );
    expect(() => parametrizations.spectralNorm(new nn.Linear(2, 2), { nPowerIterations: 0 })).toThrow(
      'spectralNorm: nPowerIterations must be a positive integer, got 0',
    );
    expect(() => parametrizations.weightNorm(new nn.Linear(2, 2), { dim: 1 } as never)).toThrow(
      /option 'dim' in argument 2 is spelled 'axis'/,
    );
  });

  it('orthogonal: starts as the weight orthogonalized, stays orthogonal, and takes an assigned orthogonal matrix', () => {
    const layer = new nn.Linear(3, 3, { dtype: 'float64' });
    const { Q, R } = linalg.qr(layer.weight.value);
    const expected = Q.mul(R.diagonal(0, -2, -1).sign().unsqueeze(-2));
    parametrizations.orthogonal(layer, { orthogonalMap: 'cayley' });
    expect(maxDifference(values(layer.weight.value), values(expected))).toBeLessThan(1e-12);
    const gram = (w: Tensor): number[] => values(w.matmul(w.transpose()));
    const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    layer.getParameter('parametrizations.weight.original').value = f64([3, 3]);
    expect(maxDifference(gram(layer.weight.value), identity)).toBeLessThan(1e-12);
    const permutation = tensor(
      [
        [0, 1, 0],
        [0, 0, 1],
        [1, 0, 0],
      ],
      { dtype: 'float64' },
    );
    layer.weight.value = permutation;
    expect(maxDifference(values(layer.weight.value), values(permutation))).toBeLessThan(1e-12);
    expect(() => parametrizations.orthogonal(new nn.Linear(2, 2), { orthogonalMap: 'qr' as never })).toThrow(
      "orthogonal: orthogonalMap must be 'matrix_exp', 'cayley' or 'householder', got \"qr\"",
    );
    expect(() => parametrizations.orthogonal(new nn.PReLU(3))).toThrow(
      'orthogonal: expected a matrix or a batch of matrices, got shape [3]',
    );
  });

  it('threads the power iteration through functionalCallWithBuffers, and functionalCall leaves the vectors alone', () => {
    const layer = parametrizations.spectralNorm(new nn.Linear(3, 2, { dtype: 'float64' }));
    const x = f64([2, 3]);
    const norm = layer.getSubmodule('parametrizations.weight.0') as nn.AnyModule;
    const vectors = (): number[] => ['_u', '_v'].flatMap((k) => values(norm.getBuffer(k)));
    // Vectors far from converged, so that one power-iteration step moves them.
    norm.setBuffer('_u', tensor([1, 0], { dtype: 'float64' }));
    norm.setBuffer('_v', tensor([0.6, 0.8, 0], { dtype: 'float64' }));
    const before = vectors();
    const lossOf = (p: Record<string, Tensor>) => nn.functionalCall(layer, p, x).sum();
    grad(lossOf)(layer.parameterValues());
    expect(vectors()).toEqual(before);
    const [, updated] = nn.functionalCallWithBuffers(layer, layer.parameterValues(), x);
    expect(Object.keys(updated)).toEqual(['parametrizations.weight.0._u', 'parametrizations.weight.0._v']);
    expect(vectors()).toEqual(before);
    layer.forward(x);
    expect(
      maxDifference(vectors(), [
        ...values(updated['parametrizations.weight.0._u'] as Tensor),
        ...values(updated['parametrizations.weight.0._v'] as Tensor),
      ]),
    ).toBe(0);
    expect(maxDifference(vectors(), before)).toBeGreaterThan(0);
  });
});

interface TorchCase {
  kind: 'weight' | 'spectral' | 'orthogonal';
  map?: string;
  module: string;
  axis?: number | null;
  iterations?: number;
  x: number[];
  xShape: number[];
}

interface TorchResult {
  keys: string[];
  state: Record<string, number[]>;
  outputs: number[][];
  grads: Record<string, number[]>[];
  vectors: number[][];
  weight: number[];
  evalOutput: number[];
}

describeAgainstTorch('parametrizations against PyTorch', () => {
  it('weightNorm, spectralNorm and orthogonal: keys, values, gradients and power-iteration vectors over SGD steps', () => {
    const builds: [TorchCase, () => nn.AnyModule][] = [
      [
        { kind: 'weight', module: 'Linear(3, 4)', axis: 0, x: [], xShape: [2, 3] },
        () => parametrizations.weightNorm(new nn.Linear(3, 4, { dtype: 'float64' })),
      ],
      [
        { kind: 'weight', module: 'Conv1d(2, 3, 3)', axis: 1, x: [], xShape: [2, 2, 5] },
        () => parametrizations.weightNorm(new nn.Conv1d(2, 3, 3, { dtype: 'float64' }), { axis: 1 }),
      ],
      [
        { kind: 'weight', module: 'Linear(3, 4)', axis: null, x: [], xShape: [2, 3] },
        () => parametrizations.weightNorm(new nn.Linear(3, 4, { dtype: 'float64' }), { axis: null }),
      ],
      [
        { kind: 'spectral', module: 'Linear(5, 4)', iterations: 1, x: [], xShape: [3, 5] },
        () => parametrizations.spectralNorm(new nn.Linear(5, 4, { dtype: 'float64' })),
      ],
      [
        { kind: 'spectral', module: 'Conv2d(2, 3, 2)', iterations: 2, x: [], xShape: [1, 2, 3, 3] },
        () => parametrizations.spectralNorm(new nn.Conv2d(2, 3, 2, { dtype: 'float64' }), { nPowerIterations: 2 }),
      ],
      [
        { kind: 'spectral', module: 'ConvTranspose1d(3, 2, 2)', iterations: 1, x: [], xShape: [2, 3, 4] },
        () => parametrizations.spectralNorm(new nn.ConvTranspose1d(3, 2, 2, { dtype: 'float64' })),
      ],
      [
        { kind: 'orthogonal', module: 'Linear(4, 4)', map: 'matrix_exp', x: [], xShape: [2, 4] },
        () => parametrizations.orthogonal(new nn.Linear(4, 4, { dtype: 'float64' })),
      ],
      [
        { kind: 'orthogonal', module: 'Linear(4, 4)', map: 'householder', x: [], xShape: [2, 4] },
        () => parametrizations.orthogonal(new nn.Linear(4, 4, { dtype: 'float64' }), { orthogonalMap: 'householder' }),
      ],
      [
        { kind: 'orthogonal', module: 'Linear(3, 5)', map: 'cayley', x: [], xShape: [2, 3] },
        () => parametrizations.orthogonal(new nn.Linear(3, 5, { dtype: 'float64' }), { orthogonalMap: 'cayley' }),
      ],
      [
        { kind: 'orthogonal', module: 'Conv1d(2, 3, 4)', map: 'householder', x: [], xShape: [1, 2, 6] },
        () => parametrizations.orthogonal(new nn.Conv1d(2, 3, 4, { dtype: 'float64' })),
      ],
    ];
    const cases = builds.map(([c]) => ({ ...c, x: values(f64(c.xShape)) }));
    const script = `
import json, sys, torch
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import orthogonal, spectral_norm
torch.set_default_dtype(torch.float64)
class WeightNorm(torch.nn.Module):
    # torch 2.1's parametrizations._WeightNorm (this torch may predate it)
    def __init__(self, dim):
        super().__init__(); self.dim = -1 if dim is None else dim
    def forward(self, weight_g, weight_v): return torch._weight_norm(weight_v, weight_g, self.dim)
    def right_inverse(self, weight): return torch.norm_except_dim(weight, 2, self.dim), weight
flat = lambda t: t.detach().reshape(-1).tolist()
results = []
for i, case in enumerate(json.load(sys.stdin)):
    torch.manual_seed(i)
    m = eval('torch.nn.' + case['module'])
    if case['kind'] == 'weight': parametrize.register_parametrization(m, 'weight', WeightNorm(case['axis']), unsafe=True)
    elif case['kind'] == 'orthogonal': orthogonal(m, orthogonal_map=case['map'])
    else: spectral_norm(m, n_power_iterations=case['iterations'])
    state = {k: flat(v) for k, v in m.state_dict().items()}
    x = torch.tensor(case['x']).reshape(case['xShape'])
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    outputs, grads, vectors = [], [], []
    for step in range(3):
        opt.zero_grad()
        out = m(x)
        (out * out + out).sum().backward()
        outputs.append(flat(out))
        grads.append({n: flat(p.grad) for n, p in m.named_parameters()})
        vectors.append([v for k, t in m.state_dict().items() if k.endswith('_u') or k.endswith('_v') for v in flat(t)])
        opt.step()
    m.eval()
    results.append({'keys': list(m.state_dict().keys()), 'state': state, 'outputs': outputs, 'grads': grads, 'vectors': vectors,
                    'weight': flat(m.weight), 'evalOutput': flat(m(x))})
print(json.dumps(results))
`;
    const run = spawnSync(PYTHON, ['-c', script], {
      input: JSON.stringify(cases),
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(run.stderr).toBe('');
    const expected = JSON.parse(run.stdout) as TorchResult[];
    for (const [i, [c, build]] of builds.entries()) {
      const what = `${c.kind} norm of ${c.module}`;
      const torchCase = expected[i] as TorchResult;
      const module = build();
      expect(Object.keys(module.stateDict()), what).toEqual(torchCase.keys);
      const shapes = module.stateDict();
      module.loadStateDict(
        Object.fromEntries(
          Object.entries(torchCase.state).map(([k, v]) => [k, tensor(v, { dtype: 'float64' }).reshape([...(shapes[k] as Tensor).shape])]),
        ),
      );
      const x = tensor(cases[i]?.x as number[], { dtype: 'float64' }).reshape(c.xShape);
      const optimizer = new optim.SGD(module.parameters(), { lr: 0.1 });
      const forward = module.forward as (input: Tensor) => Tensor;
      for (let step = 0; step < 3; step++) {
        optimizer.zeroGrad();
        const out = forward.call(module, x);
        out.mul(out).add(out).sum().backward();
        expect(maxDifference(values(out), torchCase.outputs[step] as number[]), `${what}: output ${step}`).toBeLessThan(1e-12);
        for (const [name, p] of module.namedParameters()) {
          expect(
            maxDifference(values(p.grad as Tensor), torchCase.grads[step]?.[name] as number[]),
            `${what}: grad of ${name}`,
          ).toBeLessThan(1e-10);
        }
        const state = module.stateDict();
        const vectors = Object.keys(state)
          .filter((k) => k.endsWith('_u') || k.endsWith('_v'))
          .flatMap((k) => values(state[k] as Tensor));
        expect(maxDifference(vectors, torchCase.vectors[step] as number[]), `${what}: u and v ${step}`).toBeLessThan(1e-12);
        optimizer.step();
      }
      module.eval();
      const weight = (module as unknown as { weight: nn.Parameter }).weight;
      expect(maxDifference(values(weight.value), torchCase.weight), `${what}: weight`).toBeLessThan(1e-12);
      expect(maxDifference(values(forward.call(module, x)), torchCase.evalOutput), `${what}: eval output`).toBeLessThan(1e-12);
    }
  });
});
