import '@flint/backend-cpu';
import {
  BatchSampler,
  ConcatDataset,
  DataLoader,
  Dataset,
  defaultCollate,
  dispose,
  manualSeed,
  memory,
  RandomSampler,
  rand,
  randomSplit,
  SeededRandom,
  SequentialSampler,
  Subset,
  SubsetRandomSampler,
  type Tensor,
  TensorDataset,
  tensor,
} from '@flint/api';
import { describe, expect, test } from 'vitest';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const values = (t: unknown) => [...(t as Tensor).dataSync()];

/** x[i] = [i, 10 i], y[i] = i % 3. */
function numbered(n: number): TensorDataset<[Tensor, Tensor]> {
  return new TensorDataset(
    tensor(
      range(n).flatMap((i) => [i, 10 * i]),
      { shape: [n, 2], dtype: 'float32' },
    ),
    tensor(
      range(n).map((i) => i % 3),
      { dtype: 'int32' },
    ),
  );
}

describe('datasets', () => {
  test('TensorDataset returns rows and gathers batches', () => {
    const data = numbered(5);
    expect(data.length).toBe(5);
    const [x, y] = data.get(3);
    expect(x.shape).toEqual([2]);
    expect(values(x)).toEqual([3, 30]);
    expect(values(y)).toEqual([0]);
    expect(y.shape).toEqual([]);
    expect(values(data.get(-1)[0])).toEqual([4, 40]);
    const [bx, by] = data.getBatch([4, 0, 4]);
    expect(bx.shape).toEqual([3, 2]);
    expect(values(bx)).toEqual([4, 40, 0, 0, 4, 40]);
    expect(values(by)).toEqual([1, 0, 1]);
    expect(() => data.get(5)).toThrow(/TensorDataset.get: index 5 is out of range for a dataset of 5 samples/);
    expect(() => new TensorDataset(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/share their first dimension/);
  });

  test('Subset and ConcatDataset index into their datasets', () => {
    const a = numbered(4);
    const b = numbered(3);
    const subset = new Subset(a, [3, 1]);
    expect(subset.length).toBe(2);
    expect(values((subset.get(0) as Tensor[])[0])).toEqual([3, 30]);
    const both = new ConcatDataset([a, b]);
    expect(both.length).toBe(7);
    expect(both.cumulativeSizes).toEqual([4, 7]);
    expect(values((both.get(4) as Tensor[])[0])).toEqual([0, 0]);
    expect(values((both.get(3) as Tensor[])[0])).toEqual([3, 30]);
    expect(values((both.get(-1) as Tensor[])[0])).toEqual([2, 20]);
    expect(() => both.get(7)).toThrow(/out of range/);
  });

  test('randomSplit partitions the indices, by counts or fractions, reproducibly', () => {
    const data = numbered(10);
    const [train, test] = randomSplit(data, [7, 3], 123);
    expect([train?.length, test?.length]).toEqual([7, 3]);
    const all = [...(train as Subset<unknown>).indices, ...(test as Subset<unknown>).indices].sort((x, y) => x - y);
    expect(all).toEqual(range(10));
    const again = randomSplit(data, [7, 3], 123);
    expect(again[0]?.indices).toEqual(train?.indices);
    expect(randomSplit(data, [7, 3], 124)[0]?.indices).not.toEqual(train?.indices);
    // Fractions: floor(10 * 0.33) = 3 each, the remainder goes to the first subsets one at a time.
    expect(randomSplit(data, [0.33, 0.33, 0.34], 0).map((s) => s.length)).toEqual([4, 3, 3]);
    expect(() => randomSplit(data, [5, 4], 0)).toThrow(/lengths sum to 9, but the dataset has 10 samples/);
  });
});

describe('random sources and samplers', () => {
  test('SeededRandom replays its sequence from a seed or a saved state', () => {
    const a = new SeededRandom(42);
    const first = range(5).map(() => a.nextUint32());
    expect(
      range(5)
        .map(() => new SeededRandom(42))
        .map((g) => g.nextUint32()),
    ).toEqual(range(5).map(() => first[0]));
    const b = new SeededRandom(42);
    expect(range(5).map(() => b.nextUint32())).toEqual(first);
    const state = b.getState();
    const next = b.nextUint32();
    b.setState(state);
    expect(b.nextUint32()).toBe(next);
    expect(new SeededRandom(43).nextUint32()).not.toBe(first[0]);
    expect(first.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)).toBe(true);
  });

  test('RandomSampler draws a fresh permutation every epoch, replayable from its seed', () => {
    const sampler = new RandomSampler(20, { generator: 7 });
    const epoch1 = [...sampler];
    const epoch2 = [...sampler];
    expect([...epoch1].sort((x, y) => x - y)).toEqual(range(20));
    expect([...epoch2].sort((x, y) => x - y)).toEqual(range(20));
    expect(epoch2).not.toEqual(epoch1);
    const replay = new RandomSampler(20, { generator: 7 });
    expect([...replay]).toEqual(epoch1);
    expect([...replay]).toEqual(epoch2);
  });

  test('RandomSampler with replacement draws every index about equally often', () => {
    const counts = new Array<number>(10).fill(0);
    for (const i of new RandomSampler(10, { replacement: true, numSamples: 20_000, generator: 1 })) counts[i] = (counts[i] as number) + 1;
    expect(counts.every((c) => c > 1800 && c < 2200)).toBe(true);
  });

  test('BatchSampler groups indices and drops the last partial batch on request', () => {
    expect([...new BatchSampler(new SequentialSampler(7), 3, false)]).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(new BatchSampler(new SequentialSampler(7), 3, false).length).toBe(3);
    expect([...new BatchSampler(new SequentialSampler(7), 3, true)]).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(new BatchSampler(new SequentialSampler(7), 3, true).length).toBe(2);
  });
});

describe('defaultCollate', () => {
  test('stacks tensors, batches numbers, keeps strings, recurses into tuples and objects', () => {
    const batch = defaultCollate([
      { image: tensor([1, 2]), label: 3, name: 'a', pair: [tensor(1.5), true] },
      { image: tensor([3, 4]), label: 4, name: 'b', pair: [tensor(2.5), false] },
    ]);
    expect(batch.image.shape).toEqual([2, 2]);
    expect(values(batch.image)).toEqual([1, 2, 3, 4]);
    expect(batch.label.dtype).toBe('int32');
    expect(values(batch.label)).toEqual([3, 4]);
    expect(batch.name).toEqual(['a', 'b']);
    expect(values(batch.pair[0])).toEqual([1.5, 2.5]);
    expect(batch.pair[1]?.dtype).toBe('bool');
  });

  test('samples that differ are an error naming where', () => {
    expect(() =>
      defaultCollate([
        [tensor([1, 2]), 1],
        [tensor([1, 2, 3]), 1],
      ]),
    ).toThrow(/samples\[0\] differ: sample 0 has a tensor of shape \[2\] \(int32\), sample 1 has a tensor of shape \[3\]/);
    expect(() => defaultCollate([{ a: 1 }, { b: 1 }])).toThrow(/keys a/);
    expect(() => defaultCollate([null])).toThrow(/cannot collate the samples: null/);
  });
});

/** A dataset whose samples arrive asynchronously, recording when each is requested. */
class SlowDataset extends Dataset<[Tensor, number]> {
  readonly length = 6;
  readonly log: string[] = [];

  async get(i: number): Promise<[Tensor, number]> {
    this.log.push(`get ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return [tensor([i, -i], { dtype: 'float32' }), i];
  }
}

describe('DataLoader', () => {
  test('sync iteration: batches in order, the last one smaller, dropLast drops it', () => {
    const data = numbered(10);
    const loader = new DataLoader(data, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader];
    expect(batches.map(([x]) => x.shape)).toEqual([
      [4, 2],
      [4, 2],
      [2, 2],
    ]);
    expect(values(batches[2]?.[1])).toEqual([8 % 3, 9 % 3]);
    expect([...new DataLoader(data, { batchSize: 4, dropLast: true })]).toHaveLength(2);
    dispose(batches);
  });

  test('shuffle with a seeded generator: every sample once per epoch, epochs differ, runs replay', () => {
    const data = numbered(12);
    const order = (loader: DataLoader<[Tensor, Tensor]>) =>
      [...loader].flatMap(([x, y]) => {
        const first = values(x).filter((_, k) => k % 2 === 0);
        dispose([x, y]);
        return first;
      });
    const loader = new DataLoader(data, { batchSize: 5, shuffle: true, generator: 3 });
    const epoch1 = order(loader);
    const epoch2 = order(loader);
    expect([...epoch1].sort((a, b) => a - b)).toEqual(range(12));
    expect(epoch2).not.toEqual(epoch1);
    const replay = new DataLoader(data, { batchSize: 5, shuffle: true, generator: 3 });
    expect(order(replay)).toEqual(epoch1);
    expect(order(replay)).toEqual(epoch2);
  });

  test('shuffle without a generator follows the global generator: manualSeed replays it, epochs differ, each advances it', async () => {
    const data = numbered(16);
    const order = (loader: DataLoader<[Tensor, Tensor]>) =>
      [...loader].flatMap(([x, y]) => {
        const first = values(x).filter((_, k) => k % 2 === 0);
        dispose([x, y]);
        return first;
      });
    const run = () => {
      const loader = new DataLoader(data, { batchSize: 5, shuffle: true });
      const epochs = [order(loader), order(loader)];
      // One draw per epoch: the global generator has moved on, by the same amount in every run.
      return { epochs, after: values(rand([4])) };
    };
    manualSeed(123);
    const first = run();
    manualSeed(123);
    const second = run();
    expect(second).toEqual(first);
    expect([...(first.epochs[0] as number[])].sort((a, b) => a - b)).toEqual(range(16));
    expect(first.epochs[1]).not.toEqual(first.epochs[0]);
    manualSeed(123);
    expect(values(rand([4]))).not.toEqual(first.after);
    manualSeed(124);
    expect(run().epochs).not.toEqual(first.epochs);
    // Asynchronous iteration draws the same order.
    manualSeed(123);
    const loader = new DataLoader(data, { batchSize: 5, shuffle: true });
    const asyncOrder: number[] = [];
    for await (const [x, y] of loader) {
      asyncOrder.push(...values(x).filter((_, k) => k % 2 === 0));
      dispose([x, y]);
    }
    expect(asyncOrder).toEqual(first.epochs[0]);
  });

  test('samplers and randomSplit without a generator repeat after the same manualSeed', () => {
    const draw = () => ({
      random: [...new RandomSampler(10)],
      replacement: [...new RandomSampler(10, { replacement: true, numSamples: 6 })],
      subset: [...new SubsetRandomSampler([3, 5, 7, 9])],
      split: randomSplit(numbered(10), [6, 4]).map((s) => [...s.indices]),
    });
    manualSeed(7);
    const first = draw();
    manualSeed(7);
    expect(draw()).toEqual(first);
    expect(draw()).not.toEqual(first);
  });

  test("without a generator, a saved sampler state replays that epoch's order without drawing again (checkpoint resume)", () => {
    type Stateful = { getState(): number[]; setState(state: readonly number[]): void };
    const stateOf = (sampler: RandomSampler) => sampler.generator as unknown as Stateful;
    manualSeed(3);
    const sampler = new RandomSampler(12);
    // As the Trainer at an epoch's start: reading the state draws the epoch's seed.
    const saved = stateOf(sampler).getState();
    const epoch = [...sampler];
    const next = [...sampler];
    // A resumed run: the global generator restored to where the checkpoint saw it (after that draw).
    manualSeed(3);
    stateOf(new RandomSampler(12)).getState();
    const resumed = new RandomSampler(12);
    stateOf(resumed).setState(saved);
    expect([...resumed]).toEqual(epoch);
    // The restored epoch drew nothing, so the next one draws the seed the original's next epoch drew.
    expect([...resumed]).toEqual(next);
  });

  test('custom collate, sampler and batchSampler', () => {
    const data = numbered(6);
    const sums = new DataLoader(data, { batchSize: 2, collate: (samples) => samples.map(([x]) => values(x)[0] as number) });
    expect([...sums]).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    const reversed = {
      length: 6,
      *[Symbol.iterator]() {
        for (let i = 5; i >= 0; i--) yield i;
      },
    };
    const byReverse = new DataLoader(data, { batchSize: 4, sampler: reversed, collate: (s) => s.map(([, y]) => values(y)[0]) });
    expect([...byReverse]).toEqual([
      [2, 1, 0, 2],
      [1, 0],
    ]);
    const custom = new DataLoader(data, {
      batchSampler: {
        length: 2,
        *[Symbol.iterator]() {
          yield [0, 5];
          yield [2];
        },
      },
    });
    expect([...custom].map(([x]) => values(x))).toEqual([
      [0, 0, 5, 50],
      [2, 20],
    ]);
    expect(() => new DataLoader(data, { batchSampler: custom.batchSampler, batchSize: 2 })).toThrow(/batchSampler is exclusive/);
    expect(() => new DataLoader(data, { sampler: reversed, shuffle: true })).toThrow(/sampler is exclusive with shuffle/);
  });

  test('async iteration awaits asynchronous samples and prefetches the next batch', async () => {
    const data = new SlowDataset();
    const loader = new DataLoader(data, { batchSize: 2, prefetch: 1 });
    const seen: number[][] = [];
    for await (const [x, y] of loader) {
      data.log.push('consume');
      seen.push(values(y));
      expect(x.shape).toEqual([2, 2]);
      dispose([x, y]);
    }
    expect(seen).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    // Batch 2 (samples 2, 3) was requested before batch 1 was consumed.
    expect(data.log.indexOf('get 2')).toBeLessThan(data.log.indexOf('consume'));
    expect(data.log.indexOf('get 4')).toBeLessThan(data.log.indexOf('consume', data.log.indexOf('consume') + 1));
  });

  test('sync iteration over an asynchronous dataset says to use for await', () => {
    expect(() => [...new DataLoader(new SlowDataset(), { batchSize: 2 })]).toThrow(/returned a Promise; iterate asynchronously/);
  });

  test('async iteration over a synchronous dataset gives the same batches', async () => {
    const data = numbered(5);
    const batches: number[][][] = [];
    for await (const batch of new DataLoader(data, {
      batchSize: 2,
      collate: (s) => s.map(([x, y]) => [values(x)[0] as number, values(y)[0] as number]),
    })) {
      batches.push(batch);
    }
    expect(batches).toEqual([
      [
        [0, 0],
        [1, 1],
      ],
      [
        [2, 2],
        [3, 0],
      ],
      [[4, 1]],
    ]);
  });

  test("memory stays flat: temporaries of get and collate are released, batches are the consumer's", async () => {
    const data = numbered(50);
    const slow = new SlowDataset();
    const before = memory().buffers;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const batch of new DataLoader(data, { batchSize: 8, shuffle: true, generator: epoch, collate: defaultCollate })) dispose(batch);
      for await (const batch of new DataLoader(data, { batchSize: 8 })) dispose(batch);
      for await (const batch of new DataLoader(slow, { batchSize: 4 })) dispose(batch);
    }
    // At most as many as before: the finalizer may meanwhile reclaim tensors earlier tests dropped.
    expect(memory().buffers).toBeLessThanOrEqual(before);
  });

  test('leaving an async loop early releases the batches fetched ahead', async () => {
    const data = new SlowDataset();
    const before = memory().buffers;
    for await (const batch of new DataLoader(data, { batchSize: 2, prefetch: 2 })) {
      dispose(batch);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(memory().buffers).toBeLessThanOrEqual(before);
  });
});
