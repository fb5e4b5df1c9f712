import '@flint/backend-cpu';
import {
  blockDiag,
  cross,
  DTypeError,
  diagEmbed,
  eye,
  kron,
  linalg,
  matmul,
  randn,
  ShapeError,
  type Tensor,
  tensor,
  tensordot,
  ValueError,
  zeros,
} from '@flint/api';
import { describe, expect, test } from 'vitest';

// Products beyond matmul, checked against hand-computed values and the definitions they share with
// other ops (multiDot as chained matmuls, tensordot as an einsum-like contraction).

const values = (x: Tensor) => Array.from(x.dataSync(), Number);

describe('cross', () => {
  test('hand values, broadcasting, the axis', () => {
    expect(values(linalg.cross(tensor([1, 0, 0]), tensor([0, 1, 0])))).toEqual([0, 0, 1]);
    expect(values(linalg.cross(tensor([1, 2, 3]), tensor([4, 5, 6])))).toEqual([-3, 6, -3]);
    const batch = linalg.cross(
      tensor([
        [1, 0, 0],
        [0, 1, 0],
      ]),
      tensor([0, 0, 1]),
    );
    expect(batch.shape).toEqual([2, 3]);
    expect(values(batch)).toEqual([0, -1, 0, 1, 0, 0]);
    const columns = linalg.cross(tensor([[1], [2], [3]]), tensor([[4], [5], [6]]), { axis: 0 });
    expect(values(columns)).toEqual([-3, 6, -3]);
    // torch.cross without an axis takes the first axis of size 3.
    expect(values(cross(tensor([[1], [2], [3]]), tensor([[4], [5], [6]])))).toEqual([-3, 6, -3]);
  });

  test('errors', () => {
    expect(() => linalg.cross(tensor([1, 2]), tensor([3, 4]))).toThrow(/3 elements along axis 0/);
    expect(() => cross(zeros([2, 2]), zeros([2, 2]))).toThrow(/no axis of size 3/);
    expect(() => linalg.cross(tensor([true, false, true]), tensor([true, true, true]))).toThrow(DTypeError);
  });
});

describe('vecdot and multiDot', () => {
  test('vecdot', () => {
    expect(
      values(
        linalg.vecdot(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          tensor([1, 1]),
        ),
      ),
    ).toEqual([3, 7]);
    expect(
      values(
        linalg.vecdot(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          tensor([[1], [2]]),
          { axis: 0 },
        ),
      ),
    ).toEqual([7, 10]);
    expect(() => linalg.vecdot(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(ShapeError);
  });

  test('multiDot equals the chained matmul, with vector ends', () => {
    const a = randn([4, 10], { dtype: 'float64' });
    const b = randn([10, 2], { dtype: 'float64' });
    const c = randn([2, 7], { dtype: 'float64' });
    const product = linalg.multiDot([a, b, c]);
    const chained = matmul(matmul(a, b), c);
    values(product).forEach((v, i) => {
      expect(v).toBeCloseTo(values(chained)[i] as number, 10);
    });
    const v = randn([4], { dtype: 'float64' });
    const w = randn([7], { dtype: 'float64' });
    const scalar = linalg.multiDot([v, a, b, c, w]);
    expect(scalar.shape).toEqual([]);
    expect(scalar.item()).toBeCloseTo(matmul(matmul(v, chained), w).item() as number, 10);
    expect(linalg.multiDot([v, a]).shape).toEqual([10]);
  });

  test('multiDot errors', () => {
    expect(() => linalg.multiDot([zeros([2, 2])])).toThrow(ValueError);
    expect(() => linalg.multiDot([zeros([2, 3]), zeros([2, 3])])).toThrow(
      /tensors 0 and 1 cannot be multiplied: shapes \[2, 3\] and \[2, 3\]/,
    );
    expect(() => linalg.multiDot([zeros([2, 3]), zeros([3]), zeros([1, 2])])).toThrow(/tensor 1 must be 2-d/);
  });
});

describe('kron, tensordot, blockDiag, diagEmbed', () => {
  test('kron', () => {
    const k = kron(
      tensor([
        [1, 2],
        [3, 4],
      ]),
      eye(2),
    );
    expect(values(k)).toEqual([1, 0, 2, 0, 0, 1, 0, 2, 3, 0, 4, 0, 0, 3, 0, 4]);
    expect(values(kron(tensor([1, 2]), tensor([1, 10, 100])))).toEqual([1, 10, 100, 2, 20, 200]);
    expect(kron(zeros([2, 3]), zeros([4])).shape).toEqual([2, 12]);
  });

  test('tensordot', () => {
    const a = tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = tensor([
      [5, 6],
      [7, 8],
    ]);
    expect(values(tensordot(a, b, 1))).toEqual(values(matmul(a, b)));
    expect(values(tensordot(a, b))).toEqual([1 * 5 + 2 * 6 + 3 * 7 + 4 * 8]);
    expect(values(tensordot(a, b, [[0], [0]]))).toEqual(values(matmul(a.transpose(), b)));
    expect(tensordot(zeros([3, 4, 5]), zeros([4, 5, 6])).shape).toEqual([3, 6]);
    expect(tensordot(zeros([3, 4]), zeros([5]), 0).shape).toEqual([3, 4, 5]);
    expect(() => tensordot(zeros([3, 4]), zeros([5, 4]), 1)).toThrow(/axis 1 of \[3, 4\] \(size 4\) does not match axis 0 of \[5, 4\]/);
  });

  test('blockDiag', () => {
    const m = blockDiag(tensor([[1, 2]]), tensor(3), tensor([4, 5]));
    expect(m.shape).toEqual([3, 5]);
    expect(values(m)).toEqual([1, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 4, 5]);
    expect(blockDiag(tensor([[1]], { dtype: 'int32' }), tensor([[0.5]])).dtype).toBe('float32');
    expect(blockDiag().shape).toEqual([1, 0]);
    expect(() => blockDiag(zeros([1, 1, 1]))).toThrow(/at most 2 dimensions/);
  });

  test('diagEmbed', () => {
    expect(values(diagEmbed(tensor([1, 2])))).toEqual([1, 0, 0, 2]);
    expect(values(diagEmbed(tensor([1, 2]), 1))).toEqual([0, 1, 0, 0, 0, 2, 0, 0, 0]);
    expect(values(diagEmbed(tensor([1, 2]), -1))).toEqual([0, 0, 0, 1, 0, 0, 0, 2, 0]);
    const batch = diagEmbed(
      tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(batch.shape).toEqual([2, 2, 2]);
    expect(values(batch)).toEqual([1, 0, 0, 2, 3, 0, 0, 4]);
    // The matrices on axes 0 and 2: out[i, b, j] = x[b, i] when i == j.
    const moved = diagEmbed(
      tensor([
        [1, 2],
        [3, 4],
      ]),
      0,
      0,
      2,
    );
    expect(values(moved)).toEqual([1, 0, 3, 0, 0, 2, 0, 4]);
    expect(() => diagEmbed(tensor(1))).toThrow(ShapeError);
    expect(() => diagEmbed(tensor([1]), 0, 1, 1)).toThrow(/different axes/);
  });
});
