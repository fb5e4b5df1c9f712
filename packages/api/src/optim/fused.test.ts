import '@flint/backend-cpu';
import { memory, optim, Parameter, type Tensor, tensor, tidy } from '@flint/api';
import { describe, expect, test, vi } from 'vitest';
import { adamRule } from './adam.js';

// The fused step (one compiled update per parameter) against the op-by-op step it replaces.

interface Cell {
  value: Tensor;
  grad: Tensor | null;
}

interface Stepper {
  step(): unknown;
  zeroGrad(): void;
  dispose(): void;
  readonly fusedUpdateCount: number;
}

type Make = (cells: Cell[], fused: boolean) => Stepper;

const CASES: readonly { name: string; make: Make }[] = [
  { name: 'SGD nesterov', make: (c, fused) => new optim.SGD(c, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, fused }) },
  { name: 'SGD dampening', make: (c, fused) => new optim.SGD(c, { lr: 0.05, momentum: 0.8, dampening: 0.3, maximize: true, fused }) },
  { name: 'Adam', make: (c, fused) => new optim.Adam(c, { lr: 0.01, weightDecay: 0.1, fused }) },
  { name: 'AdamW amsgrad', make: (c, fused) => new optim.AdamW(c, { lr: 0.01, amsgrad: true, fused }) },
  { name: 'RMSprop', make: (c, fused) => new optim.RMSprop(c, { lr: 0.01, momentum: 0.5, centered: true, fused }) },
  { name: 'Adagrad', make: (c, fused) => new optim.Adagrad(c, { lr: 0.05, lrDecay: 0.01, fused }) },
  { name: 'Adamax', make: (c, fused) => new optim.Adamax(c, { lr: 0.01, fused }) },
  { name: 'NAdam', make: (c, fused) => new optim.NAdam(c, { lr: 0.01, fused }) },
  { name: 'Adadelta', make: (c, fused) => new optim.Adadelta(c, { weightDecay: 0.01, fused }) },
  { name: 'RAdam', make: (c, fused) => new optim.RAdam(c, { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true, fused }) },
  { name: 'Rprop', make: (c, fused) => new optim.Rprop(c, { lr: 0.01, fused }) },
  { name: 'ASGD', make: (c, fused) => new optim.ASGD(c, { lr: 0.01, t0: 5, lambd: 0.01, fused }) },
];

const cellsOf = (): Cell[] => [
  {
    value: tensor(
      Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)),
      { shape: [4, 3] },
    ),
    grad: null,
  },
  { value: tensor(Float32Array.from({ length: 3 }, (_, i) => 0.2 * i - 0.3)), grad: null },
];

function run(make: Make, fused: boolean, steps: number): { values: number[][]; count: number } {
  const cells = cellsOf();
  const optimizer = make(cells, fused);
  for (let t = 0; t < steps; t++) {
    for (const cell of cells) {
      const p = cell.value.dataSync() as Float32Array;
      cell.grad = tensor(
        Float32Array.from(p, (x, i) => 2 * x + 0.1 * (((5 * t + 3 * i) % 7) - 3)),
        { shape: cell.value.shape },
      );
    }
    optimizer.step();
    optimizer.zeroGrad();
  }
  const count = optimizer.fusedUpdateCount;
  const values = cells.map((c) => Array.from(c.value.dataSync() as Float32Array));
  optimizer.dispose();
  for (const c of cells) c.value.dispose();
  return { values, count };
}

describe('fused optimizer steps', () => {
  for (const c of CASES) {
    test(`${c.name}: the fused step follows the op-by-op step`, () => {
      const fused = run(c.make, true, 15);
      const eager = run(c.make, false, 15);
      expect(fused.count).toBe(30);
      expect(eager.count).toBe(0);
      for (const [i, row] of fused.values.entries()) {
        for (const [j, x] of row.entries()) {
          const y = (eager.values[i] as number[])[j] as number;
          expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(y));
        }
      }
    });
  }

  test('a changing learning rate reuses the compiled update; memory stays flat with Parameters', () => {
    const weight = new Parameter(tensor(new Float32Array(32).fill(0.5), { shape: [8, 4] }));
    const adam = new optim.Adam([weight], { lr: 1e-2 });
    let settled = 0;
    for (let step = 0; step < 300; step++) {
      (adam.paramGroups[0] as { lr: number }).lr = 1e-2 / (1 + step);
      tidy(() => weight.value.square().sum().backward());
      adam.step();
      adam.zeroGrad();
      if (step === 5) settled = memory().buffers;
    }
    expect(memory().buffers).toBe(settled);
    expect(adam.fusedUpdateCount).toBe(300);
    expect(weight.value.requiresGrad).toBe(true);
    expect((weight.value.dataSync() as Float32Array)[0]).toBeLessThan(0.5);
    adam.dispose();
  });

  test('a hyperparameter moved every step stops fusing instead of recompiling every step', () => {
    const trajectory = (fused: boolean): { values: number[]; count: number } => {
      const cells = cellsOf();
      const sgd = new optim.SGD(cells, { lr: 0.01, momentum: 0.5, fused });
      for (let step = 0; step < 20; step++) {
        (sgd.paramGroups[0] as { momentum: number }).momentum = 0.5 + 0.01 * step;
        for (const cell of cells) cell.grad = tensor(new Float32Array(cell.value.size).fill(0.1), { shape: cell.value.shape });
        sgd.step();
        sgd.zeroGrad();
      }
      const result = { values: Array.from((cells[0] as Cell).value.dataSync() as Float32Array), count: sgd.fusedUpdateCount };
      sgd.dispose();
      return result;
    };
    const fused = trajectory(true);
    const eager = trajectory(false);
    // Eight settings ran fused (two parameters each); the rest ran op by op.
    expect(fused.count).toBe(16);
    for (const [i, x] of fused.values.entries()) expect(Math.abs(x - (eager.values[i] as number))).toBeLessThan(1e-6);
  });

  test('a new optimizer of the same rule reuses the compiled updates (as every Trainer.fit makes one)', () => {
    const traced = vi.spyOn(adamRule, 'apply');
    try {
      const first = run((c, fused) => new optim.Adam(c, { lr: 0.01, fused }), true, 3);
      const tracesOfFirst = traced.mock.calls.length;
      const second = run((c, fused) => new optim.Adam(c, { lr: 0.02, fused }), true, 3);
      expect(first.count).toBe(6);
      expect(second.count).toBe(6);
      // lr is an input, not a setting: the second optimizer traced nothing.
      expect(traced.mock.calls.length).toBe(tracesOfFirst);
      run((c, fused) => new optim.Adam(c, { lr: 0.01, betas: [0.8, 0.99], fused }), true, 1);
      expect(traced.mock.calls.length).toBeGreaterThan(tracesOfFirst);
    } finally {
      traced.mockRestore();
    }
  });

  test('rejects a fused option that is not a boolean', () => {
    const cell: Cell = { value: tensor([1.5]), grad: null };
    expect(() => new optim.Adam([cell], { fused: 1 as unknown as boolean })).toThrow(/Adam: option fused must be a boolean, got 1/);
  });
});
