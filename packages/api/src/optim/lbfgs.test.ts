import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { concat, memory, narrow, optim, Parameter, reshape, type Tensor, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../test/support/python-torch.test-support.js';

// LBFGS on the Rosenbrock function, held as two parameters ([split] and [n - split, 1]) so that
// the flattening is exercised, against torch.optim.LBFGS.

const INIT = [-1.5, 2, -0.5, 1.2];

interface Case {
  readonly options: optim.LBFGSOptions;
  readonly split: number;
  readonly steps: number;
}

const CASES: readonly Case[] = [
  { options: { lineSearchFn: 'strong_wolfe' }, split: 2, steps: 4 },
  { options: { lr: 0.1, historySize: 3, maxIter: 10 }, split: 2, steps: 3 },
  { options: { lineSearchFn: 'strong_wolfe', historySize: 2, maxIter: 7, maxEval: 9 }, split: 1, steps: 4 },
];

function rosenbrock(x: Tensor): Tensor {
  const n = x.shape[0] as number;
  const head = narrow(x, 0, 0, n - 1);
  const tail = narrow(x, 0, 1, n - 1);
  return tail.sub(head.square()).square().mul(100).add(head.neg().add(1).square()).sum();
}

function problem(split: number) {
  const first = new Parameter(tensor(INIT.slice(0, split), { dtype: 'float64' }));
  const second = new Parameter(tensor(INIT.slice(split), { dtype: 'float64', shape: [INIT.length - split, 1] }));
  const point = () => concat([first.value, reshape(second.value, [-1])]);
  return { params: [first, second], point };
}

function closureFor(optimizer: optim.LBFGS, point: () => Tensor) {
  return () => {
    optimizer.zeroGrad();
    const loss = rosenbrock(point());
    loss.backward();
    return loss;
  };
}

function flintRun(c: Case): { params: number[][]; losses: number[]; funcEvals: number; nIter: number } {
  const { params, point } = problem(c.split);
  const optimizer = new optim.LBFGS(params, c.options);
  const closure = closureFor(optimizer, point);
  const out = { params: [] as number[][], losses: [] as number[], funcEvals: 0, nIter: 0 };
  for (let s = 0; s < c.steps; s++) {
    const loss = optimizer.step(closure);
    out.losses.push(loss.item() as number);
    loss.dispose();
    out.params.push([...point().dataSync()]);
  }
  const entry = optimizer.stateDict().state['0'];
  out.funcEvals = entry?.funcEvals ?? 0;
  out.nIter = entry?.nIter ?? 0;
  optimizer.dispose();
  return out;
}

function expectClose(actual: readonly number[], expected: readonly number[], rtol: number, atol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((x, i) => {
    const y = expected[i] as number;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) expect.fail(`${what}, element ${i}: ${x} vs ${y}`);
  });
}

describe('LBFGS', () => {
  test('strong Wolfe LBFGS minimizes the Rosenbrock function', () => {
    const run = flintRun(CASES[0] as Case);
    expect(run.losses[0]).toBe(2131);
    expectClose(run.params[run.params.length - 1] as number[], [1, 1, 1, 1], 0, 1e-5, 'the minimizer');
  });

  test('a restored LBFGS continues the same trajectory', () => {
    const c = CASES[2] as Case;
    const expected = flintRun(c);
    const { params, point } = problem(c.split);
    const optimizer = new optim.LBFGS(params, c.options);
    optimizer.step(closureFor(optimizer, point)).dispose();
    const saved = optimizer.stateDict();
    expect(Object.keys(saved.state['0'] ?? {}).sort()).toEqual(
      ['d', 'funcEvals', 'hDiag', 'nIter', 'oldDirs', 'oldStps', 'prevFlatGrad', 'prevLoss', 'ro', 't'].sort(),
    );
    expect(saved.paramGroups).toEqual([
      {
        lr: 1,
        maxIter: 7,
        maxEval: 9,
        toleranceGrad: 1e-7,
        toleranceChange: 1e-9,
        historySize: 2,
        lineSearchFn: 'strong_wolfe',
        params: [0, 1],
      },
    ]);
    optimizer.dispose();
    const resumed = new optim.LBFGS(params, { lr: 0.5 });
    resumed.loadStateDict(saved);
    expect(resumed.paramGroups[0].historySize).toBe(2);
    const closure = closureFor(resumed, point);
    for (let s = 1; s < c.steps; s++) resumed.step(closure).dispose();
    expectClose([...point().dataSync()], expected.params[c.steps - 1] as number[], 1e-12, 1e-14, 'after resuming');
    expect(resumed.stateDict().state['0']?.funcEvals).toBe(expected.funcEvals);
    resumed.dispose();
  });

  test('memory stays flat across steps', () => {
    const { params, point } = problem(2);
    const optimizer = new optim.LBFGS(params, {
      lineSearchFn: 'strong_wolfe',
      historySize: 3,
      maxIter: 4,
      toleranceGrad: 0,
      toleranceChange: 0,
    });
    const closure = closureFor(optimizer, point);
    let settled = 0;
    for (let s = 0; s < 12; s++) {
      optimizer.step(closure).dispose();
      if (s === 3) settled = memory().buffers;
    }
    expect(memory().buffers).toBe(settled);
    optimizer.dispose();
  });

  test('a scheduler drives its learning rate', () => {
    const { params } = problem(2);
    const optimizer = new optim.LBFGS(params, { lr: 0.5 });
    const scheduler = new optim.StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
    scheduler.step();
    expect(optimizer.paramGroups[0].lr).toBe(0.25);
  });

  test('errors name the problem', () => {
    const { params } = problem(2);
    expect(() => new optim.LBFGS(params, { lineSearchFn: 'armijo' as never })).toThrow(/lineSearchFn must be 'strong_wolfe' or null/);
    expect(() => new optim.LBFGS([{ params: [params[0] as Parameter] }, { params: [params[1] as Parameter] }] as never)).toThrow(
      /doesn't support per-parameter options/,
    );
    expect(() => new optim.LBFGS([params[0] as Parameter, new Parameter(tensor([1], { dtype: 'float32' }))])).toThrow(
      /same dtype and backend/,
    );
    const optimizer = new optim.LBFGS(params);
    expect(() => optimizer.step(undefined as never)).toThrow(/needs a closure/);
    expect(() => optimizer.step(() => 'loss')).toThrow(/must return the loss/);
    expect(() => optimizer.loadStateDict({ state: { '0': { funcEvals: -1, nIter: 0, d: tensor([1]) } }, paramGroups: [] })).toThrow(
      /LBFGS.loadStateDict: \d+ problems/,
    );
  });
});

const SCRIPT = fileURLToPath(new URL('./torch_reference.py', import.meta.url));
const torchReason = torchUnavailable();

describe.skipIf(torchReason !== '')(`LBFGS matches PyTorch${torchReason === '' ? '' : ` (skipped: ${torchReason})`}`, () => {
  test('Rosenbrock trajectories, losses and evaluation counts follow torch.optim.LBFGS', () => {
    const request = { lbfgs: CASES.map((c) => ({ options: c.options, init: INIT, split: c.split, steps: c.steps })) };
    const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      lbfgs: { params: number[][]; losses: number[]; funcEvals: number; nIter: number }[];
    };
    CASES.forEach((c, k) => {
      const expected = result.lbfgs[k] as (typeof result.lbfgs)[number];
      const actual = flintRun(c);
      const what = JSON.stringify(c.options);
      expect([actual.funcEvals, actual.nIter], what).toEqual([expected.funcEvals, expected.nIter]);
      expectClose(actual.losses, expected.losses, 1e-9, 1e-12, `${what} losses`);
      actual.params.forEach((row, s) => {
        expectClose(row, expected.params[s] as number[], 1e-9, 1e-12, `${what} step ${s + 1}`);
      });
    });
  });
});
