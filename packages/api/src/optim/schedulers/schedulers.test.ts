import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { optim, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../../test/support/python-torch.test-support.js';

// Each scheduler's learning rates against the closed forms in PyTorch's documentation (the
// schedulers themselves use PyTorch's recursive updates), and against PyTorch where available.

const BASE = 0.1;
const LAMBDAS: Record<string, optim.LrLambda> = {
  pow95: (e) => 0.95 ** e,
  warmup10: (e) => Math.min(1, (e + 1) / 10),
  alternate: (e) => (e % 2 === 1 ? 0.9 : 1.05),
};

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
  /** Momentum (or beta1) at epochs 1 .. epochs, from the closed form. */
  readonly momentumForm?: (epoch: number) => number;
  /** Options that torch 1.13 (Debian's python3-torch) does not know. */
  readonly newerThanTorch113?: boolean;
}

/** CyclicLR's position in [0, 1] along the cycle's rise and fall at `epoch`, and the cycle number. */
function cyclic(epoch: number, up: number, down: number): { height: number; cycle: number } {
  const total = up + down;
  const cycle = Math.floor(1 + epoch / total);
  const x = 1 + epoch / total - cycle;
  return { height: x <= up / total ? x / (up / total) : (x - 1) / (up / total - 1), cycle };
}

const swaLr = (e: number, epochs: number, swa: number, anneal: (t: number) => number) => {
  const alpha = anneal(Math.min(1, e / epochs));
  return swa * alpha + BASE * (1 - alpha);
};

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
    spec: { name: 'ConstantLR', options: { factor: 0.5, totalIters: 4 } },
    epochs: 7,
    closedForm: (e) => (e < 4 ? BASE * 0.5 : BASE),
  },
  {
    spec: { name: 'MultiplicativeLR', options: { lrLambda: 'alternate' } },
    epochs: 8,
    closedForm: (e) => BASE * Array.from({ length: e }, (_, k) => (k % 2 === 0 ? 0.9 : 1.05)).reduce((a, b) => a * b, 1),
  },
  {
    spec: { name: 'PolynomialLR', options: { totalIters: 6, power: 2 } },
    epochs: 9,
    closedForm: (e) => BASE * (1 - Math.min(6, e) / 6) ** 2,
  },
  {
    spec: {
      name: 'CyclicLR',
      options: { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, stepSizeDown: 2 },
      optimizer: { name: 'SGD', options: { lr: 0.1, momentum: 0.9 } },
    },
    epochs: 14,
    closedForm: (e) => 0.01 + 0.09 * cyclic(e, 4, 2).height,
    momentumForm: (e) => 0.9 - 0.1 * cyclic(e, 4, 2).height,
  },
  {
    spec: {
      name: 'CyclicLR',
      options: { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, mode: 'triangular2', baseMomentum: 0.5, maxMomentum: 0.7 },
      optimizer: { name: 'SGD', options: { lr: 0.1, momentum: 0.9 } },
    },
    epochs: 14,
    closedForm: (e) => {
      const { height, cycle } = cyclic(e, 3, 3);
      return 0.01 + (0.09 * height) / 2 ** (cycle - 1);
    },
  },
  {
    spec: { name: 'CyclicLR', options: { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2, mode: 'exp_range', gamma: 0.9, cycleMomentum: false } },
    epochs: 10,
    closedForm: (e) => 0.01 + 0.09 * cyclic(e, 2, 2).height * 0.9 ** e,
  },
  {
    spec: {
      name: 'CyclicLR',
      options: { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, baseMomentum: 0.85, maxMomentum: 0.95 },
      optimizer: { name: 'Adam', options: { lr: 0.1 } },
    },
    epochs: 8,
    closedForm: (e) => 0.001 + 0.009 * cyclic(e, 2, 2).height,
    momentumForm: (e) => 0.95 - 0.1 * cyclic(e, 2, 2).height,
    newerThanTorch113: true,
  },
  {
    spec: {
      name: 'ChainedScheduler',
      options: {
        schedulers: [
          { name: 'ConstantLR', options: { factor: 0.1, totalIters: 2 } },
          { name: 'ExponentialLR', options: { gamma: 0.9 } },
        ],
      },
    },
    epochs: 6,
    closedForm: (e) => BASE * 0.9 ** e * (e < 2 ? 0.1 : 1),
  },
  {
    spec: { name: 'SWALR', options: { swaLr: 0.01, annealEpochs: 3, annealStrategy: 'linear' } },
    epochs: 6,
    closedForm: (e) => swaLr(e, 3, 0.01, (t) => t),
  },
  {
    spec: { name: 'SWALR', options: { swaLr: 0.02, annealEpochs: 4 } },
    epochs: 6,
    closedForm: (e) => swaLr(e, 4, 0.02, (t) => (1 - Math.cos(Math.PI * t)) / 2),
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
  if (spec.name === 'LambdaLR' || spec.name === 'MultiplicativeLR') options.lrLambda = LAMBDAS[options.lrLambda as string];
  if (spec.name === 'SequentialLR' || spec.name === 'ChainedScheduler')
    options.schedulers = (options.schedulers as SchedulerSpec[]).map((s) => buildScheduler(s, optimizer));
  if (spec.name === 'ChainedScheduler') return new optim.ChainedScheduler(options.schedulers as optim.LRScheduler[]);
  if (spec.name === 'SWALR') return new optim.swaUtils.SWALR(optimizer, options as unknown as optim.swaUtils.SWALROptions);
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
      const run = flintRun(c);
      expectAllClose(
        run.lrs,
        Array.from({ length: c.epochs + 1 }, (_, e) => closedForm(e)),
      );
      const momentumForm = c.momentumForm;
      if (momentumForm !== undefined)
        expectAllClose(
          run.momenta,
          Array.from({ length: c.epochs }, (_, e) => momentumForm(e + 1)),
        );
    });
  }

  test('ReduceLROnPlateau halves after `patience` bad epochs, then cools down', () => {
    // Better means below 90% of the best. Epoch 2 (4 < 4.5) is; 3.9, 3.8, 3.7 are not, so the
    // third bad epoch (5) halves; cooldown absorbs epoch 6; 2 at epoch 7 is better; epochs 8-10
    // are bad and epoch 10 halves; cooldown absorbs 11; 12-14 are bad and epoch 14 halves.
    const { lrs } = flintRun(CASES.find((c) => c.spec.name === 'ReduceLROnPlateau') as Case);
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

  test('CyclicLR takes a custom scale function of the cycle or of the iteration', () => {
    const run = (scaleMode: 'cycle' | 'iterations') => {
      const sgd = new optim.SGD([{ value: tensor([0.5]), grad: null }], { lr: BASE });
      const scheduler = new optim.CyclicLR(sgd, {
        baseLr: 0,
        maxLr: 1,
        stepSizeUp: 1,
        scaleFn: (x) => 1 / (x + 1),
        scaleMode,
        cycleMomentum: false,
      });
      const lrs: number[] = [];
      for (let e = 0; e < 4; e++) {
        scheduler.step();
        lrs.push(sgd.paramGroups[0]?.lr as number);
      }
      return lrs;
    };
    // Epochs 1..4 sit at the peak, the trough, the peak, the trough; cycles 1, 2, 2, 3.
    expectAllClose(run('cycle'), [1 / 2, 0, 1 / 3, 0]);
    expectAllClose(run('iterations'), [1 / 2, 0, 1 / 4, 0]);
  });

  test('ChainedScheduler resumes every scheduler from its state dict', () => {
    const make = () => {
      const sgd = new optim.SGD([{ value: tensor([0.5]), grad: null }], { lr: BASE });
      const chained = new optim.ChainedScheduler([
        new optim.ConstantLR(sgd, { factor: 0.5, totalIters: 3 }),
        new optim.ExponentialLR(sgd, { gamma: 0.9 }),
      ]);
      return { sgd, chained };
    };
    const first = make();
    for (let e = 0; e < 2; e++) first.chained.step();
    const second = make();
    second.chained.loadStateDict(first.chained.stateDict());
    second.sgd.loadStateDict(first.sgd.stateDict());
    first.chained.step();
    second.chained.step();
    expect(second.sgd.paramGroups[0]?.lr).toBe(first.sgd.paramGroups[0]?.lr);
    expectAllClose(second.chained.getLastLr(), [BASE * 0.9 ** 3]);
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
    expect(() => new optim.ConstantLR(sgd, { factor: 2 })).toThrow(/ConstantLR: factor must be in \[0, 1\], got 2/);
    expect(() => new optim.PolynomialLR(sgd, { totalIters: 0 })).toThrow(/PolynomialLR: totalIters must be a positive integer/);
    expect(() => new optim.CyclicLR(sgd, { baseLr: 0.1, maxLr: 1, mode: 'square' as never })).toThrow(/CyclicLR: mode must be one of/);
    expect(() => new optim.CyclicLR(sgd, { baseLr: [0.1, 0.2], maxLr: 1 })).toThrow(/baseLr must be a number or a list of 1 numbers/);
    const adagrad = new optim.Adagrad([{ value: tensor([0.5]), grad: null }]);
    expect(() => new optim.CyclicLR(adagrad, { baseLr: 0.1, maxLr: 1 })).toThrow(/neither momentum nor betas; pass cycleMomentum: false/);
    const other = new optim.SGD([{ value: tensor([0.5]), grad: null }], { lr: BASE });
    expect(() => new optim.ChainedScheduler([new optim.StepLR(sgd, { stepSize: 2 }), new optim.StepLR(other, { stepSize: 2 })])).toThrow(
      /same optimizer/,
    );
    expect(() => new optim.ChainedScheduler([new optim.ReduceLROnPlateau(sgd) as never])).toThrow(/not an epoch scheduler/);
    expect(() => new optim.swaUtils.SWALR(sgd, { swaLr: 0.1, annealEpochs: -1 })).toThrow(/SWALR: annealEpochs must be an integer >= 0/);
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
    const cases = CASES.filter((c) => !c.newerThanTorch113);
    const request = {
      schedulers: cases.map((c) => ({ spec: c.spec, epochs: c.epochs, ...(c.metrics === undefined ? {} : { metrics: c.metrics }) })),
    };
    const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      torch: string;
      schedulers: ({ lrs: number[]; momenta: number[] } | { unsupported: string })[];
    };
    cases.forEach((c, k) => {
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
