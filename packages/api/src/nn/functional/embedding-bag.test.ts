import '@flint/backend-cpu';
import { DTypeError, grad, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;
const int32 = { dtype: 'int32' } as const;

describe('embeddingBag', () => {
  const random = seededRandom(71);
  const table = randomValues(random, 6 * 3);
  const weight = tensor(table, { shape: [6, 3], ...f64 });
  const row = (i: number) => table.slice(3 * i, 3 * i + 3);
  const combine = (indices: number[], mode: 'sum' | 'mean' | 'max', scales?: number[]): number[] => {
    if (indices.length === 0) return [0, 0, 0];
    return [0, 1, 2].map((d) => {
      const column = indices.map((i, k) => (row(i)[d] as number) * (scales === undefined ? 1 : (scales[k] as number)));
      if (mode === 'max') return Math.max(...column);
      const total = column.reduce((a, b) => a + b, 0);
      return mode === 'sum' ? total : total / column.length;
    });
  };
  // torch's documented layout: input [1, 2, 4, 5, 4, 3, 2, 0], offsets [0, 4] → bags [1, 2, 4, 5] and [4, 3, 2, 0].
  const input = tensor([1, 2, 4, 5, 4, 3, 2, 0], int32);
  const bags = [
    [1, 2, 4, 5],
    [4, 3, 2, 0],
  ];

  it('sums, averages and takes the maximum of each bag, from offsets or from the rows of a 2-d input', () => {
    for (const mode of ['sum', 'mean', 'max'] as const) {
      const expected = bags.flatMap((b) => combine(b, mode));
      const fromOffsets = F.embeddingBag(input, weight, { offsets: tensor([0, 4], int32), mode });
      expect(fromOffsets.shape).toEqual([2, 3]);
      expect(maxDifference(fromOffsets.dataSync(), expected)).toBeLessThan(1e-12);
      const fromRows = F.embeddingBag(tensor(bags, int32), weight, { mode });
      expect(maxDifference(fromRows.dataSync(), expected)).toBeLessThan(1e-12);
      // Offsets as a plain array, read without a tensor (the form a device backend needs).
      const fromArray = F.embeddingBag(input, weight, { offsets: [0, 4], mode });
      expect(maxDifference(fromArray.dataSync(), expected)).toBeLessThan(1e-12);
    }
  });

  it('handles uneven and empty bags, includeLastOffset, perSampleWeights and paddingIdx', () => {
    const offsets = tensor([0, 1, 1, 5], int32); // bags [1], [], [2, 4, 5, 4], [3, 2, 0]
    const uneven = [[1], [], [2, 4, 5, 4], [3, 2, 0]];
    for (const mode of ['sum', 'mean', 'max'] as const) {
      const out = F.embeddingBag(input, weight, { offsets, mode });
      expect(
        maxDifference(
          out.dataSync(),
          uneven.flatMap((b) => combine(b, mode)),
        ),
      ).toBeLessThan(1e-12);
    }
    const last = F.embeddingBag(input, weight, { offsets: tensor([0, 1, 1, 5, 8], int32), includeLastOffset: true, mode: 'sum' });
    expect(
      maxDifference(
        last.dataSync(),
        uneven.flatMap((b) => combine(b, 'sum')),
      ),
    ).toBeLessThan(1e-12);
    const scales = [0.5, 2, -1, 1, 3, 0.25, 1, 2];
    const weighted = F.embeddingBag(input, weight, { offsets: tensor([0, 4], int32), mode: 'sum', perSampleWeights: tensor(scales, f64) });
    const expected = [...combine(bags[0] as number[], 'sum', scales.slice(0, 4)), ...combine(bags[1] as number[], 'sum', scales.slice(4))];
    expect(maxDifference(weighted.dataSync(), expected)).toBeLessThan(1e-12);
    // paddingIdx 4 is left out of its bags, and 'mean' does not count it.
    const padded = F.embeddingBag(input, weight, { offsets: tensor([0, 4], int32), paddingIdx: 4 });
    expect(maxDifference(padded.dataSync(), [...combine([1, 2, 5], 'mean'), ...combine([3, 2, 0], 'mean')])).toBeLessThan(1e-12);
  });

  it('sends each bag’s gradient to the rows it used', () => {
    const g = grad((w: Tensor) => F.embeddingBag(tensor([[0, 2, 2]], int32), w, { mode: 'mean' }).sum())(weight);
    const expected = new Array(18).fill(0);
    for (const d of [0, 1, 2]) {
      expected[d] = 1 / 3;
      expected[6 + d] = 2 / 3;
    }
    expect(maxDifference(g.dataSync(), expected)).toBeLessThan(1e-12);
  });

  it('the module computes what the function computes, with a zero padding row', () => {
    const bag = new nn.EmbeddingBag(6, 3, { mode: 'max', paddingIdx: 0, dtype: 'float64' });
    expect(Array.from(bag.weight.value.dataSync().slice(0, 3))).toEqual([0, 0, 0]);
    const offsets = tensor([0, 3], int32);
    expect(Array.from(bag.forward(input, offsets).dataSync())).toEqual(
      Array.from(F.embeddingBag(input, bag.weight.value, { offsets, mode: 'max', paddingIdx: 0 }).dataSync()),
    );
    expect(bag.toString()).toMatch(/^EmbeddingBag\(6, 3, mode='max', paddingIdx=0\)/);
  });

  it('checks its arguments, naming the op', () => {
    expect(() => F.embeddingBag(input, weight)).toThrow(/^embeddingBag: offsets are required with a 1-d input/);
    expect(() => F.embeddingBag(tensor(bags, int32), weight, { offsets: tensor([0], int32) })).toThrow(ValueError);
    expect(() => F.embeddingBag(input, weight, { offsets: tensor([1, 4], int32) })).toThrow(/^embeddingBag: offsets must start at 0/);
    expect(() =>
      F.embeddingBag(input, weight, { offsets: tensor([0, 4], int32), mode: 'max', perSampleWeights: tensor(new Array(8).fill(1), f64) }),
    ).toThrow(/perSampleWeights is only supported for mode 'sum'/);
    expect(() => F.embeddingBag(tensor([[0.5]], f64), weight)).toThrow(DTypeError);
    expect(() => F.embeddingBag(tensor([[[0]]], int32), weight)).toThrow(ShapeError);
    expect(() => new nn.EmbeddingBag(3, 2, { mode: 'min' as never })).toThrow(/^EmbeddingBag: mode must be one of/);
  });
});
