import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { DTypeError, dot, dotGeneral, einsum, matmul, outer, ShapeError, type Tensor, tensor } from '@flint/api';

// Deterministic pseudo-random data without depending on Flint's own random module.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function randomTensor(shape: number[], seed: number): { t: Tensor; data: Float64Array } {
  const next = lcg(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.round(next() * 20) / 4; // exact in float32
  return { t: tensor(data, { shape, dtype: 'float64' }), data };
}

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i] as number;
  }
  return out;
}

/** Naive einsum over explicit equations: loops over every assignment of every label. */
function naiveEinsum(equation: string, operands: { shape: number[]; data: ArrayLike<number> }[]): { shape: number[]; data: number[] } {
  const [lhs, rhs] = equation.split('->') as [string, string];
  const terms = lhs.split(',');
  const sizes = new Map<string, number>();
  terms.forEach((term, i) => {
    [...term].forEach((l, axis) => {
      sizes.set(l, operands[i]!.shape[axis]!);
    });
  });
  const labels = [...sizes.keys()];
  const outShape = [...rhs].map((l) => sizes.get(l)!);
  const out = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(0);
  const outStrides = strides(outShape);
  const opStrides = operands.map((o) => strides(o.shape));
  const value = new Map<string, number>();
  const loop = (i: number): void => {
    if (i === labels.length) {
      let product = 1;
      terms.forEach((term, k) => {
        let offset = 0;
        [...term].forEach((l, axis) => {
          offset += value.get(l)! * opStrides[k]![axis]!;
        });
        product *= operands[k]!.data[offset]!;
      });
      let o = 0;
      [...rhs].forEach((l, axis) => {
        o += value.get(l)! * outStrides[axis]!;
      });
      out[o]! += product;
      return;
    }
    const l = labels[i]!;
    for (let v = 0; v < sizes.get(l)!; v++) {
      value.set(l, v);
      loop(i + 1);
    }
  };
  loop(0);
  return { shape: outShape, data: out };
}

function expectValues(actual: Tensor, shape: number[], expected: ArrayLike<number>, digits = 9): void {
  expect(actual.shape).toEqual(shape);
  const got = actual.dataSync();
  expect(got.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i] as number, digits);
}

describe('matmul', () => {
  it('multiplies 2-d matrices (hand-computed)', () => {
    const c = matmul(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      tensor([
        [7, 8],
        [9, 10],
        [11, 12],
      ]),
    );
    expect(c.dtype).toBe('int32');
    expect(c.arraySync()).toEqual([
      [58, 64],
      [139, 154],
    ]);
  });

  it('promotes 1-d operands and removes the added dimension', () => {
    const m = tensor([
      [1, 2],
      [3, 4],
    ]);
    const v = tensor([5, 6]);
    expect(matmul(v, v).shape).toEqual([]);
    expect(matmul(v, v).item()).toBe(61);
    expect(matmul(m, v).arraySync()).toEqual([17, 39]);
    expect(matmul(v, m).arraySync()).toEqual([23, 34]);
  });

  it('broadcasts batch dimensions like torch.matmul', () => {
    const cases: [number[], number[]][] = [
      [
        [2, 3, 4],
        [4, 5],
      ],
      [
        [3, 4],
        [2, 4, 5],
      ],
      [
        [2, 1, 3, 4],
        [5, 4, 2],
      ],
      [[4], [2, 4, 3]],
      [[2, 3, 4], [4]],
      [
        [1, 3, 4],
        [2, 4, 2],
      ],
    ];
    cases.forEach(([sa, sb], k) => {
      const a = randomTensor(sa, 10 + k);
      const b = randomTensor(sb, 20 + k);
      const out = matmul(a.t, b.t);
      // Reference: expand 1-d operands, broadcast batch dims, loop.
      const ma = sa.length === 1 ? [1, ...sa] : sa;
      const mb = sb.length === 1 ? [...sb, 1] : sb;
      const n = ma[ma.length - 2]!;
      const kk = ma[ma.length - 1]!;
      const m = mb[mb.length - 1]!;
      const ba = ma.slice(0, -2);
      const bb = mb.slice(0, -2);
      const rank = Math.max(ba.length, bb.length);
      const batch = Array.from({ length: rank }, (_, i) => Math.max(ba[ba.length - rank + i] ?? 1, bb[bb.length - rank + i] ?? 1));
      const batchSize = batch.reduce((x, y) => x * y, 1);
      const expected: number[] = [];
      for (let b0 = 0; b0 < batchSize; b0++) {
        const index = batch.map((_, i) => Math.floor(b0 / strides(batch)[i]!) % batch[i]!);
        const offsetOf = (bs: number[], inner: number) => {
          let o = 0;
          const st = strides(bs);
          bs.forEach((d, i) => {
            o += (d === 1 ? 0 : index[rank - bs.length + i]!) * st[i]!;
          });
          return o * inner;
        };
        const oa = offsetOf(ba, n * kk);
        const ob = offsetOf(bb, kk * m);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < m; j++) {
            let s = 0;
            for (let p = 0; p < kk; p++) s += a.data[oa + i * kk + p]! * b.data[ob + p * m + j]!;
            expected.push(s);
          }
        }
      }
      let shape = [...batch, n, m];
      if (sa.length === 1) shape = shape.filter((_, i) => i !== shape.length - 2);
      if (sb.length === 1) shape = shape.slice(0, -1);
      expectValues(out, shape, expected);
    });
  });

  it('promotes dtypes and keeps integer products integral', () => {
    const out = matmul(tensor([[1, 2]]), tensor([[0.5], [0.25]]));
    expect(out.dtype).toBe('float32');
    expect(out.arraySync()).toEqual([[1]]);
    expect(matmul(tensor([[2]], { dtype: 'int32' }), tensor([[3]], { dtype: 'int32' })).dtype).toBe('int32');
  });

  it('names both shapes and the mismatched dimensions', () => {
    expect(() => matmul(tensor([[1, 2, 3]]), tensor([[1, 2]]))).toThrow(ShapeError);
    expect(() => matmul(tensor([[1, 2, 3]]), tensor([[1, 2]]))).toThrow(
      /\[1, 3\] and \[1, 2\].*dimension 1 of the first \(3\).*dimension 0 of the second \(1\)/,
    );
    const a = randomTensor([2, 3, 4], 1).t;
    const b = randomTensor([3, 4, 5], 2).t;
    expect(() => matmul(a, b)).toThrow(/batch dimensions of shapes \[2, 3, 4\] and \[3, 4, 5\]/);
    expect(() => matmul(tensor(1), tensor([1]))).toThrow(/at least one dimension/);
    expect(() => matmul(tensor([true]), tensor([false]))).toThrow(DTypeError);
  });

  it('is available as a method', () => {
    expect(
      tensor([
        [1, 0],
        [0, 1],
      ])
        .matmul(tensor([[3], [4]]))
        .arraySync(),
    ).toEqual([[3], [4]]);
  });
});

describe('dot and outer', () => {
  it('dot is the inner product of 1-d tensors', () => {
    expect(dot(tensor([1, 2, 3]), tensor([4, 5, 6])).item()).toBe(32);
    expect(
      tensor([1.5, 2])
        .dot(tensor([2, 2]))
        .item(),
    ).toBe(7);
    expect(() => dot(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/different lengths 2 and 3/);
    expect(() => dot(tensor([[1]]), tensor([1]))).toThrow(/two 1-d tensors/);
  });

  it('outer multiplies every pair', () => {
    expect(outer(tensor([1, 2]), tensor([3, 4, 5])).arraySync()).toEqual([
      [3, 4, 5],
      [6, 8, 10],
    ]);
    expect(
      tensor([1, -1])
        .outer(tensor([2]))
        .arraySync(),
    ).toEqual([[2], [-2]]);
    expect(() => outer(tensor([[1]]), tensor([1]))).toThrow(ShapeError);
  });
});

describe('dotGeneral', () => {
  it('contracts and batches the given axes, accepting negative axes', () => {
    const x = randomTensor([2, 3, 4], 3);
    const y = randomTensor([2, 4, 5], 4);
    const out = dotGeneral(x.t, y.t, { lhsContracting: [-1], rhsContracting: [1], lhsBatch: [0], rhsBatch: [-3] });
    const ref = naiveEinsum('bij,bjk->bik', [
      { shape: [2, 3, 4], data: x.data },
      { shape: [2, 4, 5], data: y.data },
    ]);
    expectValues(out, ref.shape, ref.data);
  });

  it('orders output dims as batch, lhs free, rhs free', () => {
    const x = randomTensor([4, 3], 5);
    const y = randomTensor([5, 4], 6);
    const out = dotGeneral(x.t, y.t, { lhsContracting: [0], rhsContracting: [1] });
    const ref = naiveEinsum('ki,jk->ij', [
      { shape: [4, 3], data: x.data },
      { shape: [5, 4], data: y.data },
    ]);
    expectValues(out, ref.shape, ref.data);
  });

  it('rejects out-of-range axes and mismatched sizes', () => {
    const x = randomTensor([2, 3], 7).t;
    expect(() => dotGeneral(x, x, { lhsContracting: [2], rhsContracting: [0] })).toThrow(/axis 2 is out of range/);
    expect(() => dotGeneral(x, x, { lhsContracting: [1], rhsContracting: [0] })).toThrow(ShapeError);
  });
});

describe('einsum', () => {
  const cases: [string, number[][]][] = [
    [
      'ij,jk->ik',
      [
        [2, 3],
        [3, 4],
      ],
    ],
    [
      'bij,bjk->bik',
      [
        [2, 2, 3],
        [2, 3, 2],
      ],
    ],
    ['ij->ji', [[2, 3]]],
    ['ij->', [[2, 3]]],
    ['ij->j', [[2, 3]]],
    ['i,i->', [[4], [4]]],
    ['i,j->ij', [[3], [2]]],
    ['ii->i', [[3, 3]]],
    ['ii->', [[3, 3]]],
    ['iji->j', [[2, 3, 2]]],
    [
      'ij,jk,kl->il',
      [
        [2, 3],
        [3, 2],
        [2, 4],
      ],
    ],
    [
      'abc,cd,bd->ad',
      [
        [2, 3, 2],
        [2, 3],
        [3, 3],
      ],
    ],
    [
      'ij,ij->ij',
      [
        [2, 3],
        [2, 3],
      ],
    ],
    [
      'bhqd,bhkd->bhqk',
      [
        [1, 2, 3, 2],
        [1, 2, 2, 2],
      ],
    ],
    [
      'ijk,ikj->i',
      [
        [2, 3, 2],
        [2, 2, 3],
      ],
    ],
  ];
  for (const [equation, shapes] of cases) {
    it(`matches a naive reference for '${equation}'`, () => {
      const operands = shapes.map((s, i) => randomTensor(s, 100 + i * 7 + equation.length));
      const out = einsum(equation, ...operands.map((o) => o.t));
      const ref = naiveEinsum(
        equation,
        operands.map((o, i) => ({ shape: shapes[i]!, data: o.data })),
      );
      expectValues(out, ref.shape, ref.data);
    });
  }

  it('computes a trace and a diagonal (hand-computed)', () => {
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(einsum('ii', m).item()).toBe(15);
    expect(einsum('ii->i', m).arraySync()).toEqual([1, 5, 9]);
  });

  it('infers the implicit output: labels seen once, in alphabetical order', () => {
    const a = randomTensor([2, 3], 1);
    const b = randomTensor([3, 4], 2);
    const implicit = einsum('ij,jk', a.t, b.t);
    expect(implicit.arraySync()).toEqual(einsum('ij,jk->ik', a.t, b.t).arraySync());
    // 'ba' implicitly outputs 'ab': a transpose.
    expect(einsum('ba', a.t).arraySync()).toEqual(einsum('ba->ab', a.t).arraySync());
    expect(einsum('ij->ji', a.t).shape).toEqual([3, 2]);
  });

  it('handles ellipsis with broadcasting', () => {
    const x = randomTensor([2, 3, 4], 8);
    const y = randomTensor([4, 5], 9);
    const out = einsum('...ij,jk->...ik', x.t, y.t);
    const ref = naiveEinsum('bij,jk->bik', [
      { shape: [2, 3, 4], data: x.data },
      { shape: [4, 5], data: y.data },
    ]);
    expectValues(out, ref.shape, ref.data);
    expect(einsum('...ij->...ji', x.t).shape).toEqual([2, 4, 3]);
    // Implicit output puts the ellipsis dims first.
    expect(einsum('i...->...i', randomTensor([3, 2, 5], 10).t).shape).toEqual([2, 5, 3]);
    // Ellipsis dims of size 1 broadcast against larger ones.
    const p = randomTensor([1, 3, 2], 11);
    const q = randomTensor([4, 2, 3], 12);
    const bmm = einsum('...ij,...jk->...ik', p.t, q.t);
    expect(bmm.shape).toEqual([4, 3, 3]);
    const ref2 = naiveEinsum('ij,bjk->bik', [
      { shape: [3, 2], data: p.data },
      { shape: [4, 2, 3], data: q.data },
    ]);
    expectValues(bmm, ref2.shape, ref2.data);
    // An output without '...' sums the ellipsis dims, as PyTorch does.
    const summed = einsum('...ij->ij', x.t);
    const ref3 = naiveEinsum('bij->ij', [{ shape: [2, 3, 4], data: x.data }]);
    expectValues(summed, ref3.shape, ref3.data);
  });

  it('promotes operand dtypes', () => {
    const out = einsum('i,i->', tensor([1, 2]), tensor([0.5, 0.5]));
    expect(out.dtype).toBe('float32');
    expect(out.item()).toBe(1.5);
    expect(einsum('i,i->', tensor([1, 2]), tensor([3, 4])).dtype).toBe('int32');
  });

  it('explains bad equations', () => {
    const m = randomTensor([2, 3], 1).t;
    expect(() => einsum('ij,jk->ik', m)).toThrow(/2 input term\(s\) but 1 operand/);
    expect(() => einsum('ijk->i', m)).toThrow(/labels 3 dimension\(s\) but operand 0 has shape \[2, 3\]/);
    expect(() => einsum('ij->iz', m)).toThrow(/output label 'z' does not appear/);
    expect(() => einsum('ij->ii', m)).toThrow(/output label 'i' appears more than once/);
    expect(() => einsum('i1->i', m)).toThrow(/contains '1'/);
    expect(() => einsum('i..j->ij', m)).toThrow(/misplaced '\.'/);
    expect(() => einsum('ij->i->j', m)).toThrow(/more than one '->'/);
    expect(() => einsum('ii->i', m)).toThrow(/repeated in operand 0 with sizes 2 and 3/);
    expect(() => einsum('ij,jk->ik', m, randomTensor([4, 2], 2).t)).toThrow(/label 'j' has size 3 in operand 0 but 4 in operand 1/);
    expect(() => einsum('ij,jk->ik', m, randomTensor([4, 2], 2).t)).toThrow(ShapeError);
  });
});
