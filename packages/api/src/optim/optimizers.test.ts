import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type DType, memory, optim, Parameter, type Tensor, tensor, tidy } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../test/support/python-torch.test-support.js';

// Differential tests: every optimizer's trajectory against a float64 reference written from
// PyTorch's documented update formulas, and (where /usr/bin/python3 has torch) against PyTorch.

const INIT = [0.5, -1.2, 2.0, 0.3, -0.7, 1.1];
const SHAPE = [2, 3];
const STEPS = 25;

/** A deterministic gradient that depends on the parameter: 2 (p - target) + structured noise. */
function gradient(p: ArrayLike<number>, t: number): Float64Array {
  return Float64Array.from({ length: p.length }, (_, i) => 2 * ((p[i] as number) - (0.1 * i - 0.3)) + 0.05 * (((7 * t + 3 * i) % 11) - 5));
}

type Options = Record<string, number | boolean | number[]>;
type Reference = (p: Float64Array, g: Float64Array, t: number) => void;

const num = (o: Options, k: string, fallback: number) => (o[k] === undefined ? fallback : (o[k] as number));
const flag = (o: Options, k: string) => o[k] === true;
const betasOf = (o: Options): [number, number] => (o.betas === undefined ? [0.9, 0.999] : (o.betas as [number, number]));

/** The update formulas of torch.optim, element by element in float64. */
function reference(name: string, o: Options): Reference {
  const n = INIT.length;
  const zeros = () => new Float64Array(n);
  const sign = flag(o, 'maximize') ? -1 : 1;
  switch (name) {
    case 'SGD': {
      const [lr, momentum, dampening, wd, nesterov] = [
        num(o, 'lr', 1e-3),
        num(o, 'momentum', 0),
        num(o, 'dampening', 0),
        num(o, 'weightDecay', 0),
        flag(o, 'nesterov'),
      ];
      let buffer: Float64Array | null = null;
      return (p, g) => {
        const d = Float64Array.from(g, (x, i) => sign * x + wd * (p[i] as number));
        if (momentum !== 0) {
          const b: Float64Array =
            buffer === null ? Float64Array.from(d) : buffer.map((x, i) => momentum * x + (1 - dampening) * (d[i] as number));
          buffer = b;
          for (let i = 0; i < n; i++) d[i] = nesterov ? (d[i] as number) + momentum * (b[i] as number) : (b[i] as number);
        }
        for (let i = 0; i < n; i++) p[i] = (p[i] as number) - lr * (d[i] as number);
      };
    }
    case 'Adam':
    case 'AdamW': {
      const decoupled = name === 'AdamW';
      const [lr, eps, wd, amsgrad] = [
        num(o, 'lr', 1e-3),
        num(o, 'eps', 1e-8),
        num(o, 'weightDecay', decoupled ? 1e-2 : 0),
        flag(o, 'amsgrad'),
      ];
      const [b1, b2] = betasOf(o);
      const [m, v, vmax] = [zeros(), zeros(), zeros()];
      return (p, g, t) => {
        for (let i = 0; i < n; i++) {
          let d = sign * (g[i] as number);
          if (decoupled) p[i] = (p[i] as number) * (1 - lr * wd);
          else d += wd * (p[i] as number);
          m[i] = b1 * (m[i] as number) + (1 - b1) * d;
          v[i] = b2 * (v[i] as number) + (1 - b2) * d * d;
          vmax[i] = Math.max(vmax[i] as number, v[i] as number);
          const second = amsgrad ? (vmax[i] as number) : (v[i] as number);
          const denom = Math.sqrt(second) / Math.sqrt(1 - b2 ** t) + eps;
          p[i] = (p[i] as number) - (lr / (1 - b1 ** t)) * ((m[i] as number) / denom);
        }
      };
    }
    case 'Adamax': {
      const [lr, eps, wd] = [num(o, 'lr', 2e-3), num(o, 'eps', 1e-8), num(o, 'weightDecay', 0)];
      const [b1, b2] = betasOf(o);
      const [m, u] = [zeros(), zeros()];
      return (p, g, t) => {
        for (let i = 0; i < n; i++) {
          const d = sign * (g[i] as number) + wd * (p[i] as number);
          m[i] = b1 * (m[i] as number) + (1 - b1) * d;
          u[i] = Math.max(b2 * (u[i] as number), Math.abs(d) + eps);
          p[i] = (p[i] as number) - (lr / (1 - b1 ** t)) * ((m[i] as number) / (u[i] as number));
        }
      };
    }
    case 'NAdam': {
      const [lr, eps, wd, psi, decoupled] = [
        num(o, 'lr', 2e-3),
        num(o, 'eps', 1e-8),
        num(o, 'weightDecay', 0),
        num(o, 'momentumDecay', 4e-3),
        flag(o, 'decoupledWeightDecay'),
      ];
      const [b1, b2] = betasOf(o);
      const [m, v] = [zeros(), zeros()];
      let muProduct = 1;
      return (p, g, t) => {
        const mu = b1 * (1 - 0.5 * 0.96 ** (t * psi));
        const muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
        muProduct *= mu;
        for (let i = 0; i < n; i++) {
          let d = sign * (g[i] as number);
          if (decoupled) p[i] = (p[i] as number) * (1 - lr * wd);
          else d += wd * (p[i] as number);
          m[i] = b1 * (m[i] as number) + (1 - b1) * d;
          v[i] = b2 * (v[i] as number) + (1 - b2) * d * d;
          const denom = Math.sqrt((v[i] as number) / (1 - b2 ** t)) + eps;
          p[i] =
            (p[i] as number) -
            ((lr * (1 - mu)) / (1 - muProduct)) * (d / denom) -
            ((lr * muNext) / (1 - muProduct * muNext)) * ((m[i] as number) / denom);
        }
      };
    }
    case 'RMSprop': {
      const [lr, alpha, eps, wd, momentum, centered] = [
        num(o, 'lr', 1e-2),
        num(o, 'alpha', 0.99),
        num(o, 'eps', 1e-8),
        num(o, 'weightDecay', 0),
        num(o, 'momentum', 0),
        flag(o, 'centered'),
      ];
      const [s, a, b] = [zeros(), zeros(), zeros()];
      return (p, g) => {
        for (let i = 0; i < n; i++) {
          const d = sign * (g[i] as number) + wd * (p[i] as number);
          s[i] = alpha * (s[i] as number) + (1 - alpha) * d * d;
          let variance = s[i] as number;
          if (centered) {
            a[i] = alpha * (a[i] as number) + (1 - alpha) * d;
            variance -= (a[i] as number) ** 2;
          }
          const avg = Math.sqrt(variance) + eps;
          if (momentum > 0) {
            b[i] = momentum * (b[i] as number) + d / avg;
            p[i] = (p[i] as number) - lr * (b[i] as number);
          } else p[i] = (p[i] as number) - (lr * d) / avg;
        }
      };
    }
    case 'Adagrad': {
      const [lr, lrDecay, wd, initial, eps] = [
        num(o, 'lr', 1e-2),
        num(o, 'lrDecay', 0),
        num(o, 'weightDecay', 0),
        num(o, 'initialAccumulatorValue', 0),
        num(o, 'eps', 1e-10),
      ];
      const sum = new Float64Array(n).fill(initial);
      return (p, g, t) => {
        const clr = lr / (1 + (t - 1) * lrDecay);
        for (let i = 0; i < n; i++) {
          const d = sign * (g[i] as number) + wd * (p[i] as number);
          sum[i] = (sum[i] as number) + d * d;
          p[i] = (p[i] as number) - (clr * d) / (Math.sqrt(sum[i] as number) + eps);
        }
      };
    }
    case 'Adadelta': {
      const [lr, rho, eps, wd] = [num(o, 'lr', 1), num(o, 'rho', 0.9), num(o, 'eps', 1e-6), num(o, 'weightDecay', 0)];
      const [s, u] = [zeros(), zeros()];
      return (p, g) => {
        for (let i = 0; i < n; i++) {
          const d = sign * (g[i] as number) + wd * (p[i] as number);
          s[i] = rho * (s[i] as number) + (1 - rho) * d * d;
          const delta = (Math.sqrt((u[i] as number) + eps) / Math.sqrt((s[i] as number) + eps)) * d;
          u[i] = rho * (u[i] as number) + (1 - rho) * delta * delta;
          p[i] = (p[i] as number) - lr * delta;
        }
      };
    }
    case 'RAdam': {
      const [lr, eps, wd, decoupled] = [num(o, 'lr', 1e-3), num(o, 'eps', 1e-8), num(o, 'weightDecay', 0), flag(o, 'decoupledWeightDecay')];
      const [b1, b2] = betasOf(o);
      const [m, v] = [zeros(), zeros()];
      const rhoInf = 2 / (1 - b2) - 1;
      return (p, g, t) => {
        const rho = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
        const rect = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
        for (let i = 0; i < n; i++) {
          let d = sign * (g[i] as number);
          if (decoupled) p[i] = (p[i] as number) * (1 - lr * wd);
          else d += wd * (p[i] as number);
          m[i] = b1 * (m[i] as number) + (1 - b1) * d;
          v[i] = b2 * (v[i] as number) + (1 - b2) * d * d;
          const corrected = (m[i] as number) / (1 - b1 ** t);
          const adaptive = rho > 5 ? (Math.sqrt(1 - b2 ** t) / (Math.sqrt(v[i] as number) + eps)) * rect : 1;
          p[i] = (p[i] as number) - lr * corrected * adaptive;
        }
      };
    }
    case 'Rprop': {
      const [etaminus, etaplus] = (o.etas as [number, number] | undefined) ?? [0.5, 1.2];
      const [low, high] = (o.stepSizes as [number, number] | undefined) ?? [1e-6, 50];
      const prev = zeros();
      const size = new Float64Array(n).fill(num(o, 'lr', 1e-2));
      return (p, g) => {
        for (let i = 0; i < n; i++) {
          let d = sign * (g[i] as number);
          const agreement = d * (prev[i] as number);
          const factor = agreement > 0 ? etaplus : agreement < 0 ? etaminus : 1;
          size[i] = Math.min(Math.max((size[i] as number) * factor, low), high);
          if (agreement < 0) d = 0;
          p[i] = (p[i] as number) - Math.sign(d) * (size[i] as number);
          prev[i] = d;
        }
      };
    }
    case 'ASGD': {
      const [lr, lambd, alpha, t0, wd] = [
        num(o, 'lr', 1e-2),
        num(o, 'lambd', 1e-4),
        num(o, 'alpha', 0.75),
        num(o, 't0', 1e6),
        num(o, 'weightDecay', 0),
      ];
      let [eta, mu] = [lr, 1];
      const ax = zeros();
      return (p, g, t) => {
        for (let i = 0; i < n; i++) {
          const d = sign * (g[i] as number) + wd * (p[i] as number);
          p[i] = (p[i] as number) * (1 - lambd * eta) - eta * d;
          ax[i] = mu === 1 ? (p[i] as number) : (ax[i] as number) + ((p[i] as number) - (ax[i] as number)) * mu;
        }
        eta = lr / (1 + lambd * lr * t) ** alpha;
        mu = 1 / Math.max(1, t - t0);
      };
    }
    default:
      throw new Error(`no reference for ${name}`);
  }
}

interface Case {
  readonly name: 'SGD' | 'Adam' | 'AdamW' | 'Adamax' | 'NAdam' | 'RMSprop' | 'Adagrad' | 'Adadelta' | 'RAdam' | 'Rprop' | 'ASGD';
  readonly options: Options;
  /** Options that torch 1.13 (Debian's python3-torch) does not know. */
  readonly newerThanTorch113?: boolean;
}

const CASES: readonly Case[] = [
  { name: 'SGD', options: { lr: 0.1 } },
  { name: 'SGD', options: { lr: 0.05, momentum: 0.9 } },
  { name: 'SGD', options: { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 } },
  { name: 'SGD', options: { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.02 } },
  { name: 'SGD', options: { lr: 0.05, maximize: true } },
  { name: 'Adam', options: { lr: 0.05 } },
  { name: 'Adam', options: { lr: 0.05, betas: [0.8, 0.99], weightDecay: 0.1, amsgrad: true } },
  { name: 'AdamW', options: { lr: 0.05 } },
  { name: 'AdamW', options: { lr: 0.05, weightDecay: 0.1, amsgrad: true, eps: 1e-6 } },
  { name: 'Adamax', options: { lr: 0.05, weightDecay: 0.01 } },
  { name: 'NAdam', options: { lr: 0.05 } },
  { name: 'NAdam', options: { lr: 0.05, weightDecay: 0.1, momentumDecay: 0.01 } },
  { name: 'NAdam', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true }, newerThanTorch113: true },
  { name: 'RMSprop', options: { lr: 0.01 } },
  { name: 'RMSprop', options: { lr: 0.01, alpha: 0.9, centered: true, momentum: 0.5, weightDecay: 0.01 } },
  { name: 'Adagrad', options: { lr: 0.1, lrDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1 } },
  { name: 'Adadelta', options: {} },
  { name: 'Adadelta', options: { lr: 0.5, rho: 0.8, eps: 1e-4, weightDecay: 0.05, maximize: true } },
  { name: 'RAdam', options: { lr: 0.05 } },
  { name: 'RAdam', options: { lr: 0.05, betas: [0.8, 0.99], weightDecay: 0.1, eps: 1e-6 } },
  { name: 'RAdam', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true }, newerThanTorch113: true },
  { name: 'Rprop', options: {} },
  { name: 'Rprop', options: { lr: 0.05, etas: [0.3, 1.5], stepSizes: [0.01, 0.2], maximize: true } },
  { name: 'ASGD', options: { lr: 0.05 } },
  { name: 'ASGD', options: { lr: 0.05, lambd: 0.01, alpha: 0.5, t0: 4, weightDecay: 0.02, maximize: true } },
];

const label = (c: Case) => `${c.name} ${JSON.stringify(c.options)}`;

function referenceTrajectory(c: Case): number[][] {
  const update = reference(c.name, c.options);
  const p = Float64Array.from(INIT);
  const out: number[][] = [];
  for (let t = 1; t <= STEPS; t++) {
    update(p, gradient(p, t), t);
    out.push([...p]);
  }
  return out;
}

interface Cell {
  value: Tensor;
  grad: Tensor | null;
}

function makeOptimizer(c: Case, params: Cell[]): optim.Optimizer<{ lr: number }> {
  const Class = optim[c.name] as unknown as new (p: Cell[], o: Options) => optim.Optimizer<{ lr: number }>;
  return new Class(params, c.options);
}

/** The trajectory; `inspect` sees the optimizer after the last step. */
function flintTrajectory(c: Case, dtype: DType, inspect?: (optimizer: optim.Optimizer<{ lr: number }>) => void): number[][] {
  const cell: Cell = { value: tensor(INIT, { dtype, shape: SHAPE }), grad: null };
  const optimizer = makeOptimizer(c, [cell]);
  const out: number[][] = [];
  for (let t = 1; t <= STEPS; t++) {
    cell.grad = tensor(gradient(cell.value.dataSync(), t), { dtype, shape: SHAPE });
    optimizer.step();
    optimizer.zeroGrad();
    out.push([...cell.value.dataSync()]);
  }
  inspect?.(optimizer);
  optimizer.dispose();
  cell.value.dispose();
  return out;
}

const FUNCTIONAL: Record<Case['name'], (o: Options) => optim.GradientTransformation> = {
  SGD: (o) => optim.sgd(o),
  Adam: (o) => optim.adam(o as optim.AdamOptions),
  AdamW: (o) => optim.adamw(o as optim.AdamOptions),
  Adamax: (o) => optim.adamax(o as optim.AdamaxOptions),
  NAdam: (o) => optim.nadam(o as optim.NAdamOptions),
  RMSprop: (o) => optim.rmsprop(o),
  Adagrad: (o) => optim.adagrad(o),
  Adadelta: (o) => optim.adadelta(o),
  RAdam: (o) => optim.radam(o as optim.RAdamOptions),
  Rprop: (o) => optim.rprop(o as optim.RpropOptions),
  ASGD: (o) => optim.asgd(o),
};

/** The same optimizer in functional form, over a pytree that holds the parameter twice. */
function functionalTrajectory(c: Case, dtype: DType): number[][] {
  const opt = FUNCTIONAL[c.name](c.options);
  let params: { a: Tensor; nested: Tensor[] } = {
    a: tensor(INIT, { dtype, shape: SHAPE }),
    nested: [tensor(INIT, { dtype, shape: SHAPE })],
  };
  let state = opt.init(params);
  const out: number[][] = [];
  for (let t = 1; t <= STEPS; t++) {
    const grads = {
      a: tensor(gradient(params.a.dataSync(), t), { shape: SHAPE, dtype }),
      nested: [tensor(gradient((params.nested[0] as Tensor).dataSync(), t), { shape: SHAPE, dtype })],
    };
    const [updates, next] = opt.update(grads, state, params);
    const nextParams = optim.applyUpdates(params, updates);
    for (const tree of [grads, updates, params, state]) disposeTree(tree);
    params = nextParams;
    state = next;
    expect(params.a.dtype).toBe(dtype);
    const a = [...params.a.dataSync()];
    expect([...(params.nested[0] as Tensor).dataSync()]).toEqual(a);
    out.push(a);
  }
  disposeTree(params);
  disposeTree(state);
  return out;
}

function disposeTree(tree: unknown): void {
  if (tree !== null && typeof tree === 'object') {
    if ('dispose' in tree && typeof (tree as Tensor).dispose === 'function' && 'shape' in tree) (tree as Tensor).dispose();
    else for (const value of Object.values(tree)) disposeTree(value);
  }
}

function expectClose(actual: number[][], expected: number[][], rtol: number, atol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((row, t) => {
    row.forEach((x, i) => {
      const y = (expected[t] as number[])[i] as number;
      const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
      if (excess > worst) worst = excess;
      if (excess > 0) expect.fail(`step ${t + 1}, element ${i}: ${x} vs ${y}`);
    });
  });
  expect(worst).toBe(0);
}

describe('optimizers match the float64 reference of PyTorch formulas', () => {
  for (const c of CASES) {
    test(`${label(c)} imperative, float64`, () => {
      expectClose(flintTrajectory(c, 'float64'), referenceTrajectory(c), 1e-10, 1e-12);
    });
  }
  for (const c of CASES.filter((_, i) => i % 3 === 0)) {
    test(`${label(c)} imperative, float32 keeps the dtype and follows the reference`, () => {
      const trajectory = flintTrajectory(c, 'float32');
      expectClose(trajectory, referenceTrajectory(c), 2e-4, 2e-5);
    });
  }
  for (const c of CASES.filter((x) => x.name !== 'SGD')) {
    test(`${label(c)} functional, float32: the traced bias corrections keep their precision`, () => {
      expectClose(functionalTrajectory(c, 'float32'), referenceTrajectory(c), 2e-4, 2e-5);
    });
  }
  test('functional Adam in float32 keeps the bias correction precise in early steps', () => {
    const c = CASES[5] as Case;
    expectClose(functionalTrajectory(c, 'float32').slice(0, 3), referenceTrajectory(c).slice(0, 3), 1e-6, 1e-7);
  });
  for (const c of CASES) {
    test(`${label(c)} functional over a pytree`, () => {
      expectClose(functionalTrajectory(c, 'float64'), referenceTrajectory(c), 1e-10, 1e-12);
    });
  }
});

// Cross-check with PyTorch itself where Debian's python3-torch is installed.
const SCRIPT = fileURLToPath(new URL('./torch_reference.py', import.meta.url));
const torchReason = torchUnavailable();

describe.skipIf(torchReason !== '')(`optimizers match PyTorch${torchReason === '' ? '' : ` (skipped: ${torchReason})`}`, () => {
  test('every case follows torch.optim to float64 precision', () => {
    const cases = CASES.filter((c) => !c.newerThanTorch113);
    const request = { optimizers: cases.map((c) => ({ name: c.name, options: c.options, init: INIT, steps: STEPS })) };
    const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      torch: string;
      optimizers: (number[][] | { unsupported: string })[];
      states: (Record<string, number | number[]> | null)[];
    };
    cases.forEach((c, k) => {
      const expected = result.optimizers[k];
      if (expected === undefined || !Array.isArray(expected))
        throw new Error(`${label(c)}: torch did not run it: ${JSON.stringify(expected)}`);
      try {
        // PyTorch keeps NAdam's momentum product and ASGD's eta and mu in float32 tensors.
        const float32Scalars = c.name === 'NAdam' || c.name === 'ASGD';
        const [rtol, atol] = float32Scalars ? [1e-6, 1e-8] : [1e-9, 1e-12];
        let state: Record<string, unknown> = {};
        expectClose(
          flintTrajectory(c, 'float64', (o) => {
            state = o.stateDict().state['0'] ?? {};
          }),
          expected,
          rtol,
          atol,
        );
        // Every entry of PyTorch's state is in the state dict under its camelCased name, equal.
        for (const [name, value] of Object.entries(result.states[k] ?? {})) {
          const ours = state[name];
          if (ours === undefined) expect.fail(`the state has no '${name}' (it has ${Object.keys(state).join(', ')})`);
          const flat = typeof ours === 'number' ? [ours] : [...(ours as Tensor).dataSync()];
          expectClose([flat], [typeof value === 'number' ? [value] : value], rtol, atol);
        }
      } catch (error) {
        throw new Error(`${label(c)} (torch ${result.torch}): ${(error as Error).message}`);
      }
    });
  });
});

describe('imperative optimizer behavior', () => {
  test('parameter groups take their own options and fall back to the defaults', () => {
    const a: Cell = { value: tensor([1, 2], { dtype: 'float64' }), grad: tensor([1, 1], { dtype: 'float64' }) };
    const b: Cell = { value: tensor([1, 2], { dtype: 'float64' }), grad: tensor([1, 1], { dtype: 'float64' }) };
    const sgd = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    sgd.step();
    expect([...a.value.dataSync()]).toEqual([0.9, 1.9]);
    expect([...b.value.dataSync()]).toEqual([0.5, 1.5]);
    expect(sgd.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
  });

  test('parameters without a gradient are left alone and get no state', () => {
    const a: Cell = { value: tensor([1.5, 2.5]), grad: null };
    const adam = new optim.Adam([a]);
    const before = a.value;
    adam.step();
    expect(a.value).toBe(before);
    expect(adam.state.size).toBe(0);
  });

  test('zeroGrad clears and releases the gradients', () => {
    const grad = tensor([1, 1]);
    const a: Cell = { value: tensor([1.5, 2.5]), grad };
    new optim.SGD([a], { lr: 0.1 }).zeroGrad();
    expect(a.grad).toBeNull();
    expect(grad.isDisposed).toBe(true);
  });

  test('step() with a closure returns its loss', () => {
    const a: Cell = { value: tensor([1.5]), grad: null };
    const sgd = new optim.SGD([a], { lr: 0.1 });
    const loss = sgd.step(() => {
      a.grad = tensor([2]);
      return 7;
    });
    expect(loss).toBe(7);
    expect(a.value.dataSync()[0]).toBeCloseTo(1.3, 6);
  });

  test("step(closure) frees the closure's temporaries, keeping its result and the parameters' values and gradients", () => {
    const w = new Parameter(tensor([1.5, -2]));
    const adam = new optim.Adam([w], { lr: 0.1 });
    let activation: Tensor | null = null;
    let manualGrad: Tensor | null = null;
    const cell: Cell = { value: tensor([3], { dtype: 'float32' }), grad: null };
    const sgd = new optim.SGD([cell], { lr: 0.5 });
    const loss = adam.step(() => {
      adam.zeroGrad();
      activation = w.value.mul(w.value);
      const l = activation.sum();
      l.backward();
      return l;
    });
    expect(activation!.isDisposed).toBe(true);
    expect(loss!.isDisposed).toBe(false);
    expect(loss!.item()).toBeCloseTo(6.25, 6);
    expect(w.grad!.isDisposed).toBe(false);
    expect(Array.from(w.grad!.dataSync())).toEqual([3, -4]);
    expect(w.value.isDisposed).toBe(false);
    // A gradient assigned by hand inside the closure survives it, and the step uses it.
    sgd.step(() => {
      manualGrad = tensor([2], { dtype: 'float32' });
      cell.grad = manualGrad;
    });
    expect(manualGrad!.isDisposed).toBe(false);
    expect(cell.value.dataSync()[0]).toBeCloseTo(2, 6);
    // A closure that throws after assigning a gradient leaves it alive too.
    let thrownGrad: Tensor | null = null;
    expect(() =>
      sgd.step(() => {
        thrownGrad = tensor([1], { dtype: 'float32' });
        cell.grad = thrownGrad;
        throw new Error('loss diverged');
      }),
    ).toThrow('loss diverged');
    expect(thrownGrad!.isDisposed).toBe(false);
  });

  test('memory stays flat over thousands of steps', () => {
    const cells: Cell[] = [
      { value: tensor(new Float32Array(64).fill(1), { shape: [8, 8] }), grad: null },
      { value: tensor(new Float32Array(8)), grad: null },
    ];
    const adam = new optim.Adam(cells, { lr: 1e-3, amsgrad: true, weightDecay: 0.01 });
    const sgd = new optim.SGD(cells, { lr: 1e-3, momentum: 0.9, nesterov: true });
    let settled = 0;
    for (let step = 0; step < 2000; step++) {
      for (const optimizer of [adam, sgd]) {
        for (const cell of cells) cell.grad = tensor(new Float32Array(cell.value.size).fill(0.5), { shape: cell.value.shape });
        optimizer.step();
        optimizer.zeroGrad();
      }
      if (step === 10) settled = memory().buffers;
    }
    expect(memory().buffers).toBe(settled);
    adam.dispose();
    sgd.dispose();
  });

  test('rejects bad options, naming the optimizer and the option', () => {
    const cell: Cell = { value: tensor([1.5]), grad: null };
    expect(() => new optim.Adam([cell], { betas: [0.9, 1.5] })).toThrow(/Adam: betas\[1\] must be in \[0, 1\), got 1.5/);
    expect(() => new optim.SGD([cell], { lr: -1 })).toThrow(/SGD: lr must be >= 0/);
    expect(() => new optim.SGD([cell], { nesterov: true })).toThrow(/nesterov momentum requires momentum > 0/);
    expect(() => new optim.SGD([], {})).toThrow(/empty list of parameters/);
    expect(() => new optim.SGD([{ params: [cell] }, { params: [cell] }])).toThrow(/more than one parameter group/);
    expect(() => new optim.SGD([{ value: tensor([1, 2]), grad: null }])).toThrow(/int32; only floating-point parameters/);
  });

  test('a gradient of the wrong shape is a ShapeError', () => {
    const cell: Cell = { value: tensor([1.5, 2.5]), grad: tensor([1.5, 2.5, 3.5]) };
    expect(() => new optim.SGD([cell]).step()).toThrow(/SGD.step: a parameter of shape \[2\] has a gradient of shape \[3\]/);
  });
});

/**
 * Runs `c` for 10 steps, saves its state dict, and loads it into the optimizer `resume` makes
 * over a copy of the parameter; returns the saved dict, the new optimizer and the rest of the run.
 */
function saveAndResume(
  c: Case,
  resume: (cell: Cell) => optim.Optimizer<{ lr: number }>,
): { saved: optim.OptimizerStateDict; resumed: optim.Optimizer<{ lr: number }>; rest: number[][] } {
  const first: Cell = { value: tensor(INIT, { dtype: 'float64', shape: SHAPE }), grad: null };
  const optimizer = makeOptimizer(c, [first]);
  for (let t = 1; t <= 10; t++) {
    first.grad = tensor(gradient(first.value.dataSync(), t), { dtype: 'float64', shape: SHAPE });
    optimizer.step();
    optimizer.zeroGrad();
  }
  const saved = optimizer.stateDict();
  optimizer.dispose();
  const second: Cell = { value: tensor([...first.value.dataSync()], { dtype: 'float64', shape: SHAPE }), grad: null };
  const resumed = resume(second);
  resumed.loadStateDict(saved);
  const rest: number[][] = [];
  for (let t = 11; t <= STEPS; t++) {
    second.grad = tensor(gradient(second.value.dataSync(), t), { dtype: 'float64', shape: SHAPE });
    resumed.step();
    resumed.zeroGrad();
    rest.push([...second.value.dataSync()]);
  }
  return { saved, resumed, rest };
}

describe('stateDict / loadStateDict', () => {
  test('a restored optimizer continues the same trajectory', () => {
    const c = CASES[6] as Case; // Adam with amsgrad and weight decay
    const { saved, resumed, rest } = saveAndResume(c, (cell) => new optim.Adam([cell], { lr: 1 }));
    expect(saved.paramGroups).toEqual([{ ...c.options, lr: 0.05, eps: 1e-8, maximize: false, params: [0] }]);
    expect(Object.keys(saved.state['0'] ?? {}).sort()).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq', 'step']);
    expect(resumed.paramGroups[0]?.lr).toBe(0.05);
    expectClose(rest, referenceTrajectory(c).slice(10), 1e-10, 1e-12);
  });

  const STATE_NAMES: Record<string, string[]> = {
    Adadelta: ['accDelta', 'squareAvg', 'step'],
    RAdam: ['expAvg', 'expAvgSq', 'step'],
    Rprop: ['prev', 'step', 'stepSize'],
    ASGD: ['ax', 'eta', 'mu', 'step'],
  };
  for (const c of CASES.filter((x) => x.name in STATE_NAMES && Object.keys(x.options).length > 1)) {
    test(`${label(c)}: a fresh optimizer loading the state dict continues the trajectory`, () => {
      const { saved, rest } = saveAndResume(c, (cell) => makeOptimizer({ name: c.name, options: {} }, [cell]));
      expect(Object.keys(saved.state['0'] ?? {}).sort()).toEqual(STATE_NAMES[c.name]);
      expectClose(rest, referenceTrajectory(c).slice(10), 1e-10, 1e-12);
    });
  }

  test('every problem of a bad state dict is reported at once', () => {
    const cell: Cell = { value: tensor([1.5, 2.5]), grad: tensor([1.5, 2.5]) };
    const adam = new optim.Adam([cell]);
    adam.step();
    const saved = adam.stateDict();
    const entry = saved.state['0'] as Record<string, unknown>;
    const broken = {
      paramGroups: saved.paramGroups,
      state: { '0': { ...entry, step: -1, expAvg: tensor([1, 2, 3]), extra: 1 }, '5': entry },
    };
    let message = '';
    try {
      adam.loadStateDict(broken);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/Adam.loadStateDict: 4 problems/);
    expect(message).toMatch(/state\[0\].step is -1/);
    expect(message).toMatch(/state\[0\].expAvg has shape \[3\], the parameter has \[2\]/);
    expect(message).toMatch(/state\[0\].extra is not part of this optimizer's state/);
    expect(message).toMatch(/state\[5\] names no parameter/);
    expect(() => adam.loadStateDict({ state: {}, paramGroups: [] })).toThrow(
      /1 parameter groups?, the optimizer has 1|has 0 parameter groups, the optimizer has 1/,
    );
  });

  test('a Promise (a forgotten await on load) is refused with the fix', () => {
    const adam = new optim.Adam([{ value: tensor([1, 2], { dtype: 'float32' }), grad: null }]);
    expect(() => adam.loadStateDict(Promise.resolve(adam.stateDict()))).toThrow(
      /Adam\.loadStateDict: got a Promise, not an optimizer state dict; await it first/,
    );
  });
});

describe('with autograd Parameters', () => {
  test('Adam trains a linear fit through backward(), replacing values and keeping memory flat', () => {
    const w = new Parameter(tensor([[0.5], [-0.3]]));
    const b = new Parameter(tensor([0.1]));
    const x = tensor([
      [1, 2],
      [3, 4],
      [-1, 0.5],
      [2, -1],
    ]);
    const y = tensor([[5], [11], [0], [0]]); // y = x [1, 2]^T + 0
    const optimizer = new optim.Adam([w, b], { lr: 0.05 });
    const lossAt = () =>
      tidy(() => {
        const loss = x.matmul(w.value).add(b.value).sub(y).square().mean();
        loss.backward();
        return loss.item() as number;
      });
    const first = lossAt();
    optimizer.step();
    optimizer.zeroGrad();
    let settled = 0;
    let last = first;
    for (let step = 1; step < 1500; step++) {
      last = lossAt();
      optimizer.step();
      optimizer.zeroGrad();
      if (step === 20) settled = memory().buffers;
    }
    expect(memory().buffers).toBe(settled);
    expect(last).toBeLessThan(first * 1e-3);
    expect(w.grad).toBeNull();
    const fitted = [...w.value.dataSync()];
    expect(fitted[0]).toBeCloseTo(1, 1);
    expect(fitted[1]).toBeCloseTo(2, 1);
  });

  test('step() inside tidy keeps the new parameters and state, which the next step reads', () => {
    const w = new Parameter(tensor([[0.5], [-0.3]]));
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    const optimizer = new optim.Adam([w], { lr: 0.05 });
    const eager = new Parameter(tensor([[0.5], [-0.3]]));
    const reference = new optim.Adam([eager], { lr: 0.05 });
    for (let i = 0; i < 3; i++) {
      tidy(() => {
        optimizer.zeroGrad();
        x.matmul(w.value).square().mean().backward();
        optimizer.step();
      });
      reference.zeroGrad();
      x.matmul(eager.value).square().mean().backward();
      reference.step();
    }
    expect(w.value.isDisposed).toBe(false);
    for (const t of Object.values(optimizer.state.get(w)?.buffers ?? {})) expect(t.isDisposed).toBe(false);
    expect([...w.value.dataSync()]).toEqual([...eager.value.dataSync()]);
  });
});
