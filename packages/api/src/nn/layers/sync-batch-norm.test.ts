import '@flint/backend-cpu';
import { concat, distributed, narrow, type Tensor, tensor } from '@flint/api';
import { afterEach, describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxRelativeDifference, randomValues, seededRandom } from '../testing.test-support.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const random = seededRandom(21);
const f64 = (shape: number[]): Tensor =>
  tensor(
    randomValues(
      random,
      shape.reduce((a, b) => a * b, 1),
      -2,
      3,
    ),
    { dtype: 'float64', shape },
  );

/**
 * A job of two processes whose other rank holds exactly this rank's batch: every all-reduce
 * doubles the data. So SyncBatchNorm here must equal BatchNorm over the batch concatenated with
 * itself, whose loss is the sum of both ranks' losses.
 */
class MirroredPairTransport implements distributed.Transport {
  readonly name = 'mirrored-pair';
  readonly rank = 0;
  readonly worldSize = 2;
  readonly localRank = 0;
  readonly localWorldSize = 2;
  reductions = 0;
  allReduce(data: Parameters<distributed.Transport['allReduce']>[0]): void {
    this.reductions++;
    for (let i = 0; i < data.length; i++) data[i] = 2 * (data[i] as number);
  }
  broadcast(): void {}
  allGather(data: Parameters<distributed.Transport['allGather']>[0]): ReturnType<distributed.Transport['allGather']> {
    return data;
  }
  reduceScatter(data: Parameters<distributed.Transport['reduceScatter']>[0]): ReturnType<distributed.Transport['reduceScatter']> {
    return data;
  }
  barrier(): void {}
  abort(): never {
    throw new Error('aborted');
  }
  finalize(): void {}
}

afterEach(() => distributed.destroy());

describe('SyncBatchNorm', () => {
  it('is BatchNorm in one process: outputs, running statistics and gradients', () => {
    for (const initialized of [false, true]) {
      if (initialized) distributed.init();
      const x = f64([4, 3, 2, 2]);
      const r = f64([4, 3, 2, 2]);
      const sync = new nn.SyncBatchNorm(3, { dtype: 'float64', momentum: 0.3 });
      const plain = new nn.BatchNorm2d(3, { dtype: 'float64', momentum: 0.3 });
      const grads = (module: nn.Module<[Tensor], Tensor>): number[][] => {
        const input = tensor(values(x), { dtype: 'float64', shape: x.shape, requiresGrad: true });
        module.forward(input).mul(r).sum().backward();
        return [values(input.grad as Tensor), ...module.parameters().map((p) => values(p.grad as Tensor))];
      };
      expect(grads(sync)).toEqual(grads(plain));
      expect(values(sync.runningMean)).toEqual(values(plain.runningMean));
      expect(values(sync.runningVar)).toEqual(values(plain.runningVar));
      sync.eval();
      plain.eval();
      expect(values(sync.forward(x))).toEqual(values(plain.forward(x)));
      distributed.destroy();
    }
  });

  it('with a group, normalizes over every process’s batch and reduces the gradient sums in backward', () => {
    const group = new MirroredPairTransport();
    const x = f64([3, 2, 5]);
    const r = f64([3, 2, 5]);
    const sync = new nn.SyncBatchNorm(2, { dtype: 'float64', processGroup: group });
    const whole = new nn.BatchNorm1d(2, { dtype: 'float64' });
    for (const module of [sync, whole]) {
      (module.weight as nn.Parameter).value = tensor([1.5, -0.5], { dtype: 'float64' });
      (module.bias as nn.Parameter).value = tensor([0.25, 2], { dtype: 'float64' });
    }
    const input = tensor(values(x), { dtype: 'float64', shape: x.shape, requiresGrad: true });
    const output = sync.forward(input);
    const forwardReductions = group.reductions;
    output.mul(r).sum().backward();
    // Two reductions forward (sums and count, then squared deviations), and their two in backward.
    expect([forwardReductions, group.reductions]).toEqual([2, 4]);

    const both = tensor(values(concat([x, x])), { dtype: 'float64', shape: [6, 2, 5], requiresGrad: true });
    const wholeOutput = whole.forward(both);
    wholeOutput
      .mul(concat([r, r]))
      .sum()
      .backward();
    const firstHalf = (t: Tensor): number[] => values(narrow(t, 0, 0, 3));
    expect(maxRelativeDifference(values(output), firstHalf(wholeOutput))).toBeLessThan(1e-14);
    expect(maxRelativeDifference(values(input.grad as Tensor), firstHalf(both.grad as Tensor))).toBeLessThan(1e-13);
    // The affine parameters' gradients stay each process's own (DDP averages them).
    for (const name of ['weight', 'bias'] as const) {
      const own = values(sync[name]?.grad as Tensor).map((g) => 2 * g);
      expect(maxRelativeDifference(own, values(whole[name]?.grad as Tensor)), name).toBeLessThan(1e-13);
    }
    // The running variance is unbiased over the 30 values per channel of both processes.
    expect(maxRelativeDifference(values(sync.runningMean), values(whole.runningMean))).toBeLessThan(1e-14);
    expect(maxRelativeDifference(values(sync.runningVar), values(whole.runningVar))).toBeLessThan(1e-14);
    // Evaluation mode uses the running statistics, without collectives.
    sync.eval();
    whole.eval();
    sync.forward(x);
    expect(group.reductions).toBe(4);
    expect(values(sync.forward(x))).toEqual(values(narrow(whole.forward(concat([x, x])), 0, 0, 3)));
  });

  it('convertSyncBatchnorm replaces every BatchNorm*d, keeping the parameter cells, the buffers and the mode', () => {
    class Block extends nn.Module<[Tensor], Tensor> {
      norm = new nn.BatchNorm2d(2, { dtype: 'float64' });
      forward(x: Tensor): Tensor {
        return this.norm.forward(x);
      }
    }
    const listed = new nn.BatchNorm2d(2, { dtype: 'float64', affine: false });
    const keyed = new nn.BatchNorm2d(2, { dtype: 'float64', momentum: null });
    const model = new nn.Sequential({
      block: new Block(),
      relu: new nn.ReLU(),
      list: new nn.ModuleList([listed]) as never,
      dict: new nn.ModuleDict({ keyed }) as never,
    });
    const x = f64([2, 2, 3, 3]);
    (model.at(0) as Block).forward(x);
    model.eval();
    const before = (model.at(0) as Block).norm;
    const parameters = model.parameters();
    const state = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, values(t)]));
    const converted = nn.SyncBatchNorm.convertSyncBatchnorm(model);
    expect(converted).toBe(model);
    const norms = model.modules().filter((m) => m instanceof nn.SyncBatchNorm);
    expect(norms).toHaveLength(3);
    expect(model.modules().some((m) => m instanceof nn.BatchNorm2d)).toBe(false);
    expect((model.at(0) as Block).norm).toBeInstanceOf(nn.SyncBatchNorm);
    expect(model.parameters()).toEqual(parameters);
    expect(model.parameters()[0]).toBe(before.weight);
    expect(Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, values(t)]))).toEqual(state);
    expect(norms.every((m) => !m.training)).toBe(true);
    const dictNorm = (model.at(3) as unknown as nn.ModuleDict).get('keyed') as unknown as nn.SyncBatchNorm;
    expect(dictNorm.momentum).toBeNull();
    expect(values((model.at(0) as Block).forward(x))).toEqual(values(before.forward(x)));
    // A BatchNorm at the root becomes a new module.
    const root = new nn.BatchNorm1d(4);
    expect(nn.SyncBatchNorm.convertSyncBatchnorm(root)).toBeInstanceOf(nn.SyncBatchNorm);
  });

  it('checks its input as BatchNorm does', () => {
    const layer = new nn.SyncBatchNorm(3, { processGroup: new MirroredPairTransport() });
    expect(() => layer.forward(tensor([1, 2, 3]))).toThrow(/SyncBatchNorm: expected a 2-d or 3-d .* input, got \[3\]/);
    expect(() => layer.forward(f64([2, 4]))).toThrow(/expected 3 channels on axis 1/);
  });
});
