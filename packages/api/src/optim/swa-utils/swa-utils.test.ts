import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { add, div, memory, mul, nn, optim, sub, type Tensor, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../../test/support/python-torch.test-support.js';

// AveragedModel and updateBn on Linear(3, 4), BatchNorm1d(4), Linear(4, 2) in float64, against
// torch.optim.swa_utils (the same model in torch_reference.py's swa_model).

type FlatState = Record<string, number[]>;

const makeModel = () =>
  new nn.Sequential(
    new nn.Linear(3, 4, { dtype: 'float64' }),
    new nn.BatchNorm1d(4, { dtype: 'float64' }),
    new nn.Linear(4, 2, { dtype: 'float64' }),
  );
type Model = ReturnType<typeof makeModel>;

const SHAPES: Record<string, number[]> = {
  '0.weight': [4, 3],
  '0.bias': [4],
  '1.weight': [4],
  '1.bias': [4],
  '1.runningMean': [4],
  '1.runningVar': [4],
  '1.numBatchesTracked': [],
  '2.weight': [2, 4],
  '2.bias': [2],
};

/** A deterministic state of the model, different for every k. */
function snapshot(k: number): FlatState {
  const out: FlatState = {};
  Object.entries(SHAPES).forEach(([name, shape], j) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('numBatchesTracked')) out[name] = [3 * k + 1];
    else if (name.endsWith('runningVar')) out[name] = Array.from({ length: size }, (_, i) => 1 + 0.5 * Math.cos(k + i + j));
    else out[name] = Array.from({ length: size }, (_, i) => Math.sin(1.3 * k + 0.7 * i + j) * (1 + 0.1 * k));
  });
  return out;
}

function load(model: Model, state: FlatState): void {
  const tensors = new Map<string, Tensor>();
  for (const [name, values] of Object.entries(state)) {
    const dtype = name.endsWith('numBatchesTracked') ? 'int32' : 'float64';
    tensors.set(name, tensor(values, { dtype, shape: SHAPES[name] as number[] }));
  }
  model.loadStateDict(tensors);
}

function flat(module: nn.Module<never[], unknown>): FlatState {
  const out: FlatState = {};
  for (const [name, t] of Object.entries(module.stateDict())) out[name] = [...(t as Tensor).dataSync()].map(Number);
  return out;
}

const AVERAGES: Record<string, Pick<optim.swaUtils.AveragedModelOptions<Model>, 'avgFn' | 'decay'>> = {
  mean: {},
  'ema0.9': { decay: 0.9 },
  weighted: { avgFn: (averaged, current, n) => add(averaged, div(mul(sub(current, averaged), 2), add(n, 2))) },
};

interface Case {
  readonly avg: keyof typeof AVERAGES;
  readonly useBuffers: boolean;
}
const CASES: readonly Case[] = [
  { avg: 'mean', useBuffers: false },
  { avg: 'mean', useBuffers: true },
  { avg: 'ema0.9', useBuffers: true },
  { avg: 'weighted', useBuffers: false },
];
const SNAPSHOTS = [0, 1, 2, 3].map(snapshot);

function averagedState(c: Case): FlatState {
  const model = makeModel();
  load(model, SNAPSHOTS[0] as FlatState);
  const averaged = new optim.swaUtils.AveragedModel(model, { copy: makeModel, useBuffers: c.useBuffers, ...AVERAGES[c.avg] });
  for (const s of SNAPSHOTS) {
    load(model, s);
    averaged.updateParameters(model);
  }
  return flat(averaged as unknown as nn.Module<never[], unknown>);
}

function expectStatesClose(actual: FlatState, expected: FlatState, what: string): void {
  expect(Object.keys(actual).sort(), what).toEqual(Object.keys(expected).sort());
  for (const [name, values] of Object.entries(expected)) {
    (actual[name] as number[]).forEach((x, i) => {
      const y = values[i] as number;
      if (!(Math.abs(x - y) <= 1e-12 + 1e-12 * Math.abs(y))) expect.fail(`${what} ${name}[${i}]: ${x} vs ${y}`);
    });
  }
}

/** The equally weighted mean of the snapshots, element by element. */
function meanOf(name: string): number[] {
  return ((SNAPSHOTS[0] as Record<string, number[]>)[name] as number[]).map(
    (_, i) => SNAPSHOTS.reduce((sum, s) => sum + (s[name]?.[i] as number), 0) / SNAPSHOTS.length,
  );
}

const BATCHES = [0, 1, 2].map((b) => Array.from({ length: 15 }, (_, i) => Math.cos(0.9 * i + 2.1 * b) * (1 + b)));

describe('swaUtils', () => {
  test('AveragedModel keeps the running mean of the parameters; buffers stay as copied', () => {
    const state = averagedState({ avg: 'mean', useBuffers: false });
    expect(state.nAveraged).toEqual([4]);
    for (const name of ['0.weight', '1.bias', '2.bias']) {
      (state[`module.${name}`] as number[]).forEach((x, i) => {
        expect(x).toBeCloseTo(meanOf(name)[i] as number, 12);
      });
    }
    expect(state['module.1.runningMean']).toEqual(SNAPSHOTS[0]?.['1.runningMean']);
  });

  test('AveragedModel forwards to its copy, which is independent of the model', () => {
    const model = makeModel();
    const averaged = new optim.swaUtils.AveragedModel(model, { copy: makeModel });
    model.eval();
    averaged.eval();
    const x = tensor([[0.1, -0.2, 0.3]], { dtype: 'float64' });
    expect([...averaged.forward(x).dataSync()]).toEqual([...model.forward(x).dataSync()]);
    expect(averaged.module).not.toBe(model);
    expect(averaged.module.parameters()[0]).not.toBe(model.parameters()[0]);
  });

  test('updateParameters keeps memory flat', () => {
    const model = makeModel();
    const averaged = new optim.swaUtils.AveragedModel(model, { copy: makeModel, useBuffers: true, decay: 0.99 });
    let settled = 0;
    for (let k = 0; k < 30; k++) {
      averaged.updateParameters(model);
      if (k === 2) settled = memory().buffers;
    }
    expect(memory().buffers).toBe(settled);
  });

  test('updateBn restores the mode and the momentum', () => {
    const model = makeModel();
    model.eval();
    const loader = BATCHES.map((b) => [tensor(b, { dtype: 'float64', shape: [5, 3] }), 0]);
    optim.swaUtils.updateBn(loader, model);
    expect(model.training).toBe(false);
    expect((model.getSubmodule('1') as unknown as nn.BatchNorm1d).momentum).toBe(0.1);
    expect([...(model.getSubmodule('1') as unknown as nn.BatchNorm1d).numBatchesTracked.dataSync()]).toEqual([3]);
  });

  test('errors name the problem', () => {
    const model = makeModel();
    expect(() => new optim.swaUtils.AveragedModel(model)).toThrow(/cannot copy a Sequential \(JavaScript has no deepcopy\); pass copy/);
    expect(() => new optim.swaUtils.AveragedModel(model, { copy: makeModel, decay: 0.9, avgFn: (a) => a })).toThrow(
      /avgFn or decay, not both/,
    );
    const other = new nn.Sequential(new nn.Linear(3, 4, { dtype: 'float64' }));
    const averaged = new optim.swaUtils.AveragedModel(model, { copy: makeModel });
    expect(() => averaged.updateParameters(other as never)).toThrow(/the model has 2 parameters, the average 6/);
    expect(() => optim.swaUtils.updateBn([[3]], model)).toThrow(
      /each batch must be a tensor or a list whose first element is the input tensor/,
    );
  });
});

const SCRIPT = fileURLToPath(new URL('../torch_reference.py', import.meta.url));
const torchReason = torchUnavailable();

describe.skipIf(torchReason !== '')(`swaUtils matches PyTorch${torchReason === '' ? '' : ` (skipped: ${torchReason})`}`, () => {
  test('AveragedModel (mean, EMA, custom avgFn; with and without buffers) and updateBn follow torch.optim.swa_utils', () => {
    const bnState = snapshot(5);
    const request = {
      averaged: CASES.map((c) => ({ snapshots: SNAPSHOTS, avg: c.avg, useBuffers: c.useBuffers })),
      updateBn: [{ state: bnState, batches: BATCHES, batchShape: [5, 3] }],
    };
    const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { averaged: FlatState[]; updateBn: { state: FlatState; training: boolean }[] };
    CASES.forEach((c, k) => {
      expectStatesClose(averagedState(c), result.averaged[k] as FlatState, JSON.stringify(c));
    });
    const model = makeModel();
    load(model, bnState);
    model.eval();
    optim.swaUtils.updateBn(
      BATCHES.map((b) => [tensor(b, { dtype: 'float64', shape: [5, 3] }), 0]),
      model,
    );
    expectStatesClose(flat(model as unknown as nn.Module<never[], unknown>), result.updateBn[0]?.state as FlatState, 'updateBn');
    expect(model.training).toBe(result.updateBn[0]?.training);
  });
});
