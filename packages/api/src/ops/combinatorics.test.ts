import '@flint/backend-cpu';
import {
  arange,
  cartesianProd,
  combinations,
  grad,
  moveaxis,
  movedim,
  type Tensor,
  tensor,
  tensorSplit,
  unbind,
  unstack,
  zeros,
} from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeAgainstTorch, runTorch, type TorchResult } from '../../../../test/support/torch-oracle.test-support.js';

// ops/combinatorics.ts and ops/tensor-split.ts: the pieces, orders and shapes as PyTorch gives
// them (hand-checked, and against PyTorch where it is installed), and gradients through them.

const values = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);
const f64 = (xs: readonly number[], shape?: number[]): Tensor => tensor([...xs], { dtype: 'float64', ...(shape ? { shape } : {}) });

describe('tensorSplit, unbind, movedim', () => {
  it('splits into near-equal sections, the larger first', () => {
    expect(tensorSplit(arange(7), 3).map(values)).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(tensorSplit(arange(2), 4).map((t) => t.shape)).toEqual([[1], [1], [0], [0]]);
    expect(tensorSplit(arange(0), 2).map((t) => t.shape)).toEqual([[0], [0]]);
  });

  it('splits before each index, as slices: past the end, backwards and negative', () => {
    expect(tensorSplit(arange(7), [5, 1, 9]).map(values)).toEqual([[0, 1, 2, 3, 4], [], [1, 2, 3, 4, 5, 6], []]);
    expect(tensorSplit(arange(7), [-2]).map(values)).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6],
    ]);
    expect(tensorSplit(arange(7), []).map(values)).toEqual([[0, 1, 2, 3, 4, 5, 6]]);
    const pieces = tensorSplit(zeros([2, 5]), [2], 1);
    expect(pieces.map((t) => t.shape)).toEqual([
      [2, 2],
      [2, 3],
    ]);
    expect(() => tensorSplit(arange(3), 0)).toThrow(/positive integer/);
    expect(() => tensorSplit(arange(3), [1.5])).toThrow(/integers/);
  });

  it('takes the gradient back to each piece', () => {
    const g = grad((x: Tensor) => {
      const [a, b, c] = tensorSplit(x, 3) as [Tensor, Tensor, Tensor];
      return a.sum().add(b.mul(2).sum()).add(c.mul(3).sum());
    })(f64([1, 2, 3, 4, 5, 6, 7]));
    expect(values(g)).toEqual([1, 1, 1, 2, 2, 3, 3]);
  });

  it('unbind is unstack and movedim is moveaxis', () => {
    const x = f64([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(unbind(x, 1).map(values)).toEqual(unstack(x, 1).map(values));
    expect(x.unbind().map(values)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(movedim(zeros([2, 3, 4]), 0, -1).shape).toEqual(moveaxis(zeros([2, 3, 4]), 0, -1).shape);
    expect(x.movedim(0, 1).shape).toEqual([3, 2]);
    expect(x.tensorSplit([1], 1).map((t) => t.shape)).toEqual([
      [2, 1],
      [2, 2],
    ]);
  });
});

describe('cartesianProd and combinations', () => {
  it('cartesianProd: every combination, the last varying fastest', () => {
    expect(values(cartesianProd(f64([1, 2]), f64([3, 4, 5])))).toEqual([1, 3, 1, 4, 1, 5, 2, 3, 2, 4, 2, 5]);
    expect(cartesianProd(f64([1, 2]), f64([3]), f64([4, 5])).shape).toEqual([4, 3]);
    const single = f64([1, 2]);
    expect(cartesianProd(single)).toBe(single);
    expect(cartesianProd(f64([1, 2]), f64([])).shape).toEqual([0, 2]);
    expect(cartesianProd(tensor([1, 2], { dtype: 'int32' }), f64([0.5])).dtype).toBe('float64');
    expect(() => cartesianProd(f64([1, 2], [1, 2]))).toThrow(/1-d/);
  });

  it('combinations in itertools order, with and without replacement', () => {
    expect(values(combinations(f64([1, 2, 3])))).toEqual([1, 2, 1, 3, 2, 3]);
    expect(combinations(f64([1, 2, 3])).shape).toEqual([3, 2]);
    expect(values(combinations(f64([1, 2]), { withReplacement: true }))).toEqual([1, 1, 1, 2, 2, 2]);
    expect(combinations(f64([1, 2, 3]), { r: 3, withReplacement: true }).shape).toEqual([10, 3]);
    expect(combinations(f64([1, 2, 3]), { r: 0 }).shape).toEqual([0]);
    expect(combinations(f64([1, 2, 3]), { r: 4 }).shape).toEqual([0, 4]);
    expect(combinations(f64([]), { r: 2 }).shape).toEqual([0, 2]);
    expect(f64([4, 5, 6]).combinations({ r: 1 }).shape).toEqual([3, 1]);
    // @ts-expect-error: PyTorch's positional r is refused with the fix in the message.
    expect(() => combinations(f64([1, 2]), 2)).toThrow(/r/);
    expect(() => combinations(f64([1, 2]), { r: -1 })).toThrow(/non-negative/);
  });

  it('gradients reach every element taken, as often as it is taken', () => {
    expect(values(grad((x: Tensor) => combinations(x, { r: 2 }).sum())(f64([1, 2, 3, 4])))).toEqual([3, 3, 3, 3]);
    expect(values(grad((x: Tensor) => cartesianProd(x, f64([1, 1, 1])).sum())(f64([1, 2])))).toEqual([3, 3]);
  });
});

describeAgainstTorch('combinatorics and splits against PyTorch', () => {
  const X = [0.5, -1, 2, 7, 3.5];
  const cases = [
    { torch: 'torch.combinations(x, 3)', flint: (x: Tensor) => combinations(x, { r: 3 }) },
    { torch: 'torch.combinations(x, 2, with_replacement=True)', flint: (x: Tensor) => combinations(x, { r: 2, withReplacement: true }) },
    { torch: 'torch.cartesian_prod(x, x[:2], x[1:4])', flint: (x: Tensor) => cartesianProd(x, x.slice([0], [2]), x.slice([1], [4])) },
  ];
  let results: TorchResult[] = [];
  beforeAll(() => {
    results = runTorch(cases.map((c) => ({ expression: c.torch, inputs: { x: { values: X } } })));
  });
  it("combinations and cartesianProd give PyTorch's rows in its order", () => {
    cases.forEach((c, i) => {
      const out = c.flint(f64(X));
      expect(out.shape, c.torch).toEqual(results[i]?.outputs[0]?.shape);
      expect(values(out), c.torch).toEqual(results[i]?.outputs[0]?.values);
    });
  });
});
