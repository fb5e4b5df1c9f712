import '@flint/backend-cpu';
import type { Tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { LightningModule } from '../module.js';
import type { Strategy } from '../strategies/strategy.js';
import { regressionLoader } from '../test-support/regression.test-support.js';
import type { BatchSource } from './batches.js';
import { Trainer } from './trainer.js';

/**
 * A two-rank strategy without a second process: the other rank is simulated as having logged
 * each value plus 2, so a reduced mean is the value plus 1 and a reduced max the value plus 2.
 */
class SimulatedTwoRanks implements Strategy {
  readonly name = 'simulated';
  readonly globalRank = 0;
  readonly worldSize = 2;
  readonly isGlobalZero = true;
  readonly calls: string[] = [];
  setup(): void {
    this.calls.push('setup');
  }
  broadcastModule(): void {}
  shardSource(source: BatchSource, kind: 'train' | 'val'): BatchSource {
    this.calls.push(`shard ${kind}`);
    return source;
  }
  syncGradients(): void {}
  reduceValues(values: readonly number[], op: 'mean' | 'sum' | 'max' | 'min'): number[] {
    this.calls.push(`reduce ${op} ${values.length}`);
    return values.map((v) => (op === 'mean' ? v + 1 : op === 'sum' ? 2 * v + 2 : op === 'max' ? v + 2 : v));
  }
  reduceStop(stop: boolean): boolean {
    return stop;
  }
  failed(): void {}
}

class Logging extends LightningModule {
  forward(x: Tensor): Tensor {
    return x;
  }
  override validationStep(): void {
    this.log('synced', 1, { syncDist: true });
    this.log('synced_max', 1, { syncDist: true, reduce: 'max' });
    this.log('local', 1);
  }
  override testStep(): void {
    this.log('test_synced', 3, { syncDist: true });
  }
}

describe('syncDist in standalone validate and test', () => {
  it("reduces values logged with syncDist over the strategy's ranks, and shards the data", async () => {
    const strategy = new SimulatedTwoRanks();
    const trainer = new Trainer({ strategy, logger: false, enableProgressBar: false, enableCheckpointing: false });
    const [validation] = await trainer.validate(new Logging(), regressionLoader({ samples: 16 }));
    expect(validation).toEqual({ synced: 2, synced_max: 3, local: 1 });
    const [test] = await trainer.test(new Logging(), [regressionLoader({ samples: 8 }), regressionLoader({ samples: 8 })]);
    expect(test).toEqual({ 'test_synced/dataloader_idx_0': 4 });
    expect(strategy.calls.slice(0, 3)).toEqual(['setup', 'shard val', 'reduce mean 1']);
    expect(strategy.calls.filter((c) => c === 'shard val')).toHaveLength(3);
  });
});
