import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { optim, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../../test/support/python-torch.test-support.js';

// Each scheduler's learning rates against the closed forms in PyTorch's documentation (the
// schedulers themselves use PyTorch's recursive updates), and against PyTorch where available.

const BASE = 0.1;
const LAMBDAS: Record<string, optim.LrLambda> = { pow95: (e) => 0.95 ** e, warmup10: (e) => Math.min(1, (e + 1) / 10) };

interface OptimizerSpec {
  readonly name: 'SGD' | 'Adam';
  readonly options: Record<string, unknown>;
}
interface SchedulerSpec {
  readonly name: string;
  readonly options: Record<string, unknown>;
  readonly optimizer?: OptimizerSpec;
}
interface Case {
  readonly spec: SchedulerSpec;
  readonly epochs: number;
  readonly metrics?: readonly number[];
  /** Learning rate at epochs 0 .. epochs, from the documented closed form (none for ReduceLROnPlateau). */
  readonly closedForm?: (epoch: number) => number;
}

const cosine = (eta: number, base: number, t: number, period: number) => eta + ((base - eta) * (1 + Math.cos((Math.PI * t) / period))) / 2;

function warmRestarts(epoch: number, t0: number, tMult: number, eta: number): number {
  let tI = t0;
  let tCur = epoch;
  while (tCur >= tI) {
    tCur -= tI;
    tI *= tMult;
  }
  return cosine(eta, BASE, tCur, tI);
}

function oneCycle(step: number, total: number, maxLr: number, pctStart: number): number {
  const initial = maxLr / 25;
  const min = initial / 1e4;
  const up = pctStart * total - 1;
  const anneal = (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1);
  return step <= up ? anneal(initial, maxLr, step / up) : anneal(maxLr, min, (step - up) / (total - 1 - up));
}

const CASES: readonly Case[] = [
  { spec: { name: 'StepLR', options: { stepSize: 3, gamma: 0.5 } }, epochs: 12, closedForm: (e) => BASE * 0.5 ** Math.floor(e / 3) },
  {
    spec: { name: 'MultiStepLR', options: { milestones: [2, 5, 5, 9], gamma: 0.1 } },
    epochs: 11,
    closedForm: (e) => BASE * 0.1 ** [2, 5, 5, 9].filter((m) => m <= e).length,
  },
  { spec: { name: 'ExponentialLR', options: { gamma: 0.9 } }, epochs: 10, closedForm: (e) => BASE * 0.9 ** e },
  { spec: { name: 'CosineAnnealingLR', options: { tMax: 10, etaMin: 0.001 } }, epochs: 25, closedForm: (e) => cosine(0.001, BASE, e, 10) },
  {
    spec: { name: 'CosineAnnealingWarmRestarts', options: { t0: 4, tMult: 2, etaMin: 0.01 } },
    epochs: 20,
    closedForm: (e) => warmRestarts(e, 4, 2, 0.01),
  },
  { spec: { name: 'CosineAnnealingWarmRestarts', options: { t0: 3 } }, epochs: 10, closedForm: (e) => warmRestarts(e, 3, 1, 0) },
  {
    spec: { name: 'LinearLR', options: { startFactor: 0.25, endFactor: 1, totalIters: 4 } },
    epochs: 8,
    closedForm: (e) => BASE * (0.25 + (0.75 * Math.min(e, 4)) / 4),
  },
  {
    spec: { name: 'LinearLR', options: { startFactor: 1, endFactor: 0.1, totalIters: 5 } },
    epochs: 7,
    closedForm: (e) => BASE * (1 - (0.9 * Math.min(e, 5)) / 5),
  },
  { spec: { name: 'LambdaLR', options: { lrLambda: 'pow95' } }, epochs: 10, closedForm: (e) => BASE * 0.95 ** e },
  {
    spec: { name: 'OneCycleLR', options: { maxLr: 1, totalSteps: 20 }, optimizer: { name: 'SGD', options: { lr: 0.1, momentum: 0.9 } } },
    epochs: 19,
    closedForm: (e) => oneCycle(e, 20, 1, 0.3),
  },
  {
    spec: {
      name: 'OneCycleLR',
      options: { maxLr: 0.5, totalSteps: 30, threePhase: true, annealStrategy: 'linear', pctStart: 0.25 },
      optimizer: { name: 'Adam', options: { lr: 0.1 } },
    },
    epochs: 30,
  },
  {
    spec: {
      name: 'SequentialLR',
      options: {
        schedulers: [
          { name: 'LinearLR', options: { startFactor: 0.1, totalIters: 3 } },
          { name: 'ExponentialLR', options: { gamma: 0.5 } },
        ],
        milestones: [3],
      },
    },
    epochs: 8,
    closedForm: (e) => (e < 3 ? BASE * (0.1 + (0.9 * e) / 3) : BASE * 0.5 ** (e - 3)),
  },
  {
    spec: {
      name: 'SequentialLR',
      options: {
        schedulers: [
          { name: 'LambdaLR', options: { lrLambda: 'warmup10' } },
          { name: 'CosineAnnealingLR', options: { tMax: 6 } },
          { name: 'StepLR', options: { stepSize: 2 } },
        ],
        milestones: [4, 10],
      },
    },
    epochs: 14,
  },
  {
    spec: { name: 'ReduceLROnPlateau', options: { patience: 2, factor: 0.5, cooldown: 1, threshold: 0.1 } },
    epochs: 14,
    metrics: [5, 4, 3.9, 3.8, 3.7, 3.6, 2, 2, 2, 2, 2, 2, 2, 2],
  },
  {
    spec: { name: 'ReduceLROnPlateau', options: { mode: 'max', patience: 1, thresholdMode: 'abs', threshold: 0.5, minLr: 0.02 } },
    epochs: 10,
    metrics: [1, 1.2, 1.4, 2, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6],
  },
];

interface Cell {
  value: ReturnType<typeof tensor>;
  grad: ReturnType<typeof tensor> | null;
}

type Scheduler = { step(metric?: number): void };

function buildScheduler(spec: SchedulerSpec, optimizer: optim.Optimizer<{ lr: number }>): Scheduler {
  const options = { ...spec.options };
  if (spec.name === 'LambdaLR') options.lrLambda = LAMBDAS[options.lrLambda as string];
  if (spec.name === 'SequentialLR') options.schedulers = (options.schedulers as SchedulerSpec[]).map((s) => buildScheduler(s, optimizer));
  const Class = (optim as unknown as Record<string, new (o: unknown, options: unknown) => Scheduler>)[spec.name];
  if (Class === undefined) throw new Error(`no scheduler ${spec.name}`);
  return new Class(optimizer, options);
}

function flintRun(c: Case): { lrs: number[]; momenta: number[] } {
  const cell: Cell = { value: tensor([0.5]), grad: null };
  const optimizerSpec = c.spec.optimizer ?? { name: 'SGD', options: { lr: BASE } };
  const optimizer = new optim[optimizerSpec.name]([cell], optimizerSpec.options) as unknown as optim.Optimizer<{ lr: number }>;
  const scheduler = buildScheduler(c.spec, optimizer);
  const group = optimizer.paramGroups[0] as optim.ParamGroup<{ lr: number }>;
  const lrs = [group.lr];
  const momenta: number[] = [];
  for (let epoch = 0; epoch < c.epochs; epoch++) {
    cell.grad = tensor([0.1]);
    optimizer.step();
    optimizer.zeroGrad();
    scheduler.step(c.metrics?.[epoch]);
    lrs.push(group.lr);
    if (Array.isArray(group.betas)) momenta.push(group.betas[0] as number);
    else if (typeof group.momentum === 'number') momenta.push(group.momentum);
  }
  return { lrs, momenta };
}

function expectAllClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((x, i) => {
    if (Math.abs(x - (expected[i] as number)) > tolerance * Math.max(1, Math.abs(expected[i] as number)))
      expect.fail(`epoch ${i}: ${x} vs ${expected[i]}`);
  });
}

const label = (c: Case) => `${c.spec.name} ${JSON.stringify(c.spec.options)}`;

describe('schedulers follow the documented closed forms', () => {
  for (const c of CASES.filter((x) => x.closedForm !== undefined)) {
    test(label(c), () => {
      const closedForm = c.closedForm as (e: number) => number;
      expectAllClose(
        flintRun(c).lrs,
        Array.from({ length: c.epochs + 1 }, (_, e) => closedForm(e)),
      );
    });
  }

  test('ReduceLROnPlateau halves after `patience` bad epochs, then cools down', () => {
    // Better means below 90% of the best. Epoch 2 (4 < 4.5) is; 3.9, 3.8, 3.7 are not, so the
    // third bad epoch (5) halves; cooldown absorbs epoch 6; 2 at epoch 7 is better; epochs 8-10
    // are bad and epoch 10 halves; cooldown absorbs 11; 12-14 are bad and epoch 14 halves.
    const { lrs } = flintRun(CASES[13] as Case);
    expect(lrs).toEqual([0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.0125]);
  });

  test('OneCycleLR moves momentum against the learning rate', () => {
    const { lrs, momenta } = flintRun(CASES[9] as Case);
    expect(lrs[0]).toBeCloseTo(1 / 25, 12);
    const peak = lrs.indexOf(Math.max(...lrs));
    expect(peak).toBe(5);
    expect(momenta[peak - 1]).toBeCloseTo(0.85, 12);
    expect(momenta[momenta.length - 1]).toBeCloseTo(0.95, 12);
  });

  test('schedulers on one optimizer chain: their factors multiply', () => {
    const cell: Cell = { value: tensor([0.5]), grad: null };
    const sgd = new optim.SGD([cell], { lr: BASE });
    const exponential = new optim.ExponentialLR(sgd, { gamma: 0.9 });
    const step = new optim.StepLR(sgd, { stepSize: 3, gamma: 0.5 });
    const lrs = [sgd.paramGroups[0]?.lr as number];
    for (let e = 1; e <= 9; e++) {
      exponential.step();
      step.step();
      lrs.push(sgd.paramGroups[0]?.lr as number);
    }
    expectAllClose(
      lrs,
      Array.from({ length: 10 }, (_, e) => BASE * 0.9 ** e * 0.5 ** Math.floor(e / 3)),
    );
    expect(step.getLastLr()).toEqual([lrs[9]]);
  });

  test('CosineAnnealingWarmRestarts takes fractional epochs', () => {
    const cell: Cell = { value: tensor([0.5]), grad: null };
    const sgd = new optim.SGD([cell], { lr: BASE });
    const scheduler = new optim.CosineAnnealingWarmRestarts(sgd, { t0: 2, tMult: 2 });
    for (const epoch of [0.5, 1.5, 2.5, 5.75, 6.25]) {
      scheduler.step(epoch);
      const expected = epoch < 2 ? cosine(0, BASE, epoch, 2) : epoch < 6 ? cosine(0, BASE, epoch - 2, 4) : cosine(0, BASE, epoch - 6, 8);
      expect(sgd.paramGroups[0]?.lr).toBeCloseTo(expected, 12);
      expect(scheduler.lastEpoch).toBe(Math.floor(epoch));
    }
  });

  test('a scheduler resumes from its state dict', () => {
    const make = () => {
      const sgd = new optim.SGD([{ value: tensor([0.5]), grad: null }], { lr: BASE });
      return { sgd, scheduler: new optim.CosineAnnealingLR(sgd, { tMax: 10 }) };
    };
    const first = make();
    for (let e = 0; e < 4; e++) first.scheduler.step();
    const second = make();
    second.scheduler.loadStateDict(first.scheduler.stateDict());
    second.sgd.loadStateDict(first.sgd.stateDict());
    first.scheduler.step();
    second.scheduler.step();
    expect(second.sgd.paramGroups[0]?.lr).toBe(first.sgd.paramGroups[0]?.lr);
    expect(second.scheduler.lastEpoch).toBe(5);
  });

  test('loadStateDict refuses a Promise (a forgotten await) instead of loading nothing', () => {
    const sgd = new optim.SGD([{ value: tensor([0.5]), grad: null }], { lr: BASE });
    const pending = Promise.resolve({}) as never;
    expect(() => new optim.CosineAnnealingLR(sgd, { tMax: 10 }).loadStateDict(pending)).toThrow(
      /CosineAnnealingLR\.loadStateDict: got a Promise/,
    );
    expect(() => new optim.ReduceLROnPlateau(sgd).loadStateDict(pending)).toThrow(/ReduceLROnPlateau\.loadStateDict: got a Promise/);
  });

  test('bad options name the scheduler and the option', () => {
    const sgd = new optim.SGD([{ value: tensor([0.5]), grad: null }], { lr: BASE });
    expect(() => new optim.StepLR(sgd, { stepSize: 0 })).toThrow(/StepLR: stepSize must be a positive integer, got 0/);
    expect(() => new optim.OneCycleLR(sgd, { maxLr: 1 })).toThrow(/OneCycleLR: give totalSteps/);
    expect(() => new optim.LambdaLR(sgd, { lrLambda: [(e) => e, (e) => e] })).toThrow(/a list of 1 functions/);
    expect(() => new optim.ReduceLROnPlateau(sgd, { factor: 1 })).toThrow(/factor must be < 1/);
    expect(() => new optim.SequentialLR(sgd, { schedulers: [new optim.StepLR(sgd, { stepSize: 2 })], milestones: [3] })).toThrow(
      /expected 0 milestones/,
    );
    const finished = new optim.OneCycleLR(sgd, { maxLr: 1, totalSteps: 2 });
    finished.step();
    finished.step();
    expect(() => finished.step()).toThrow(/stepped 3 times, more than totalSteps \(2\)/);
  });
});

const SCRIPT = fileURLToPath(new URL('../torch_reference.py', import.meta.url));
const torchReason = torchUnavailable();

describe.skipIf(torchReason !== '')(`schedulers match PyTorch${torchReason === '' ? '' : ` (skipped: ${torchReason})`}`, () => {
  test('every case follows torch.optim.lr_scheduler', () => {
    const request = {
      schedulers: CASES.map((c) => ({ spec: c.spec, epochs: c.epochs, ...(c.metrics === undefined ? {} : { metrics: c.metrics }) })),
    };
    const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      torch: string;
      schedulers: ({ lrs: number[]; momenta: number[] } | { unsupported: string })[];
    };
    CASES.forEach((c, k) => {
      const expected = result.schedulers[k];
      if (expected === undefined || !('lrs' in expected)) throw new Error(`${label(c)}: torch did not run it: ${JSON.stringify(expected)}`);
      const actual = flintRun(c);
      try {
        expectAllClose(actual.lrs, expected.lrs);
        expectAllClose(actual.momenta, expected.momenta);
      } catch (error) {
        throw new Error(`${label(c)} (torch ${result.torch}): ${(error as Error).message}`);
      }
    });
  });
});
