import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { tensor } from '../ops/convert.js';
import type { Tensor } from '../tensor/tensor.js';
import { Dataset } from './dataset.js';
import { DataLoader } from './loader.js';

// An async `get` that makes its tensor before its first await, as a dataset that reads a label
// file lazily would: the tensor must survive until the batch is collated.
class EagerAsyncDataset extends Dataset<[Tensor, Tensor]> {
  get length(): number {
    return 6;
  }
  async get(index: number): Promise<[Tensor, Tensor]> {
    const features = tensor([index, index * 2], { dtype: 'float32' });
    await new Promise((resolve) => setTimeout(resolve, 1));
    return [features, tensor(index, { dtype: 'int32' })];
  }
}

describe('DataLoader with an asynchronous dataset', () => {
  it('keeps tensors that get() created before its first await', async () => {
    const batches: number[][] = [];
    for await (const [features, labels] of new DataLoader(new EagerAsyncDataset(), { batchSize: 3 })) {
      batches.push([...(features.dataSync() as Float32Array)]);
      expect([...(labels.dataSync() as Int32Array)].length).toBe(3);
      features.dispose();
      labels.dispose();
    }
    expect(batches).toEqual([
      [0, 0, 1, 2, 2, 4],
      [3, 6, 4, 8, 5, 10],
    ]);
  });
});
