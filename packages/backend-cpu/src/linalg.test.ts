import { bind, type DType, Primitive, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { disableWasmGemm } from './wasm/gemm-wasm.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const range = (shape: number[], dtype: DType = 'float64', start = 0) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Array.from({ length: n }, (_, i) => i + start),
    { dtype, shape },
  );
};
const noDims = { lhsContracting: [] as number[], rhsContracting: [] as number[], lhsBatch: [] as number[], rhsBatch: [] as number[] };

/** Reference DotGeneral for a [b, m, k] x [b, k, n] product on plain arrays. */
function referenceMatmul(a: number[], b: number[], batch: number, m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let z = 0; z < batch; z++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[z * m * k + i * k + p]! * b[z * k * n + p * n + j]!;
        out.push(s);
      }
  return out;
}

describe('dotGeneral', () => {
  it('multiplies matrices', () => {
    const a = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    const b = tensor(
      [
        [5, 6],
        [7, 8],
      ],
      { dtype: 'float32' },
    );
    const out = bind(Primitive.DotGeneral, [a, b], { ...noDims, lhsContracting: [1], rhsContracting: [0] });
    expect(values(out)).toEqual([19, 22, 43, 50]);
  });

  it('contracts transposed, batched and multi-axis operands', () => {
    // lhs [k=3, b=2, m=2], rhs [n=2, b=2, k=3]: out [b, m, n].
    const lhs = range([3, 2, 2]);
    const rhs = range([2, 2, 3], 'float64', 1);
    const out = bind(Primitive.DotGeneral, [lhs, rhs], { lhsContracting: [0], rhsContracting: [2], lhsBatch: [1], rhsBatch: [1] });
    expect(out.shape).toEqual([2, 2, 2]);
    const l = values(lhs);
    const r = values(rhs);
    const expected: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let m = 0; m < 2; m++)
        for (let n = 0; n < 2; n++) {
          let s = 0;
          for (let k = 0; k < 3; k++) s += l[k * 4 + b * 2 + m]! * r[n * 6 + b * 3 + k]!;
          expected.push(s);
        }
    expect(values(out)).toEqual(expected);
    // Two contracting axes and an outer product (no contracting axes).
    const x = range([2, 3]);
    const both = bind(Primitive.DotGeneral, [x, x], { ...noDims, lhsContracting: [0, 1], rhsContracting: [0, 1] });
    expect(values(both)).toEqual([55]);
    const outer = bind(Primitive.DotGeneral, [range([2]), range([3])], noDims);
    expect(values(outer)).toEqual([0, 0, 0, 0, 1, 2]);
  });

  it('handles empty contracting and free dims', () => {
    const a = tensor(new Float32Array(0), { shape: [2, 0] });
    const b = tensor(new Float32Array(0), { shape: [0, 3] });
    expect(values(bind(Primitive.DotGeneral, [a, b], { ...noDims, lhsContracting: [1], rhsContracting: [0] }))).toEqual([0, 0, 0, 0, 0, 0]);
    const c = tensor(new Float32Array(0), { shape: [0, 4] });
    expect(
      bind(Primitive.DotGeneral, [c, range([4, 2], 'float32')], { ...noDims, lhsContracting: [1], rhsContracting: [0] }).shape,
    ).toEqual([0, 2]);
  });

  it('wraps int32 products and keeps uint8 modulo 256', () => {
    const a = tensor([[65536, 3]], { dtype: 'int32' });
    const b = tensor([[65536], [2]], { dtype: 'int32' });
    expect(values(bind(Primitive.DotGeneral, [a, b], { ...noDims, lhsContracting: [1], rhsContracting: [0] }))).toEqual([6]);
    const u = tensor([[16, 1]], { dtype: 'uint8' });
    const v = tensor([[17], [3]], { dtype: 'uint8' });
    expect(values(bind(Primitive.DotGeneral, [u, v], { ...noDims, lhsContracting: [1], rhsContracting: [0] }))).toEqual([19]);
  });

  it('matches a reference on sizes that exercise every block edge', () => {
    for (const [batch, m, k, n] of [
      [1, 1, 1, 1],
      [2, 5, 7, 3],
      [1, 33, 300, 19],
      [3, 17, 9, 70],
      [1, 70, 260, 9],
      [1, 1, 5000, 7],
      [1, 300, 60, 1],
      [2, 5, 700, 13],
    ] as const) {
      for (const dtype of ['float32', 'float64'] as const) {
        const a = Array.from({ length: batch * m * k }, (_, i) => ((i * 7) % 13) - 6);
        const b = Array.from({ length: batch * k * n }, (_, i) => ((i * 5) % 11) - 5);
        const lhs = tensor(a, { dtype, shape: [batch, m, k] });
        const rhs = tensor(b, { dtype, shape: [batch, k, n] });
        const out = bind(Primitive.DotGeneral, [lhs, rhs], { lhsContracting: [2], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] });
        expect(values(out)).toEqual(referenceMatmul(a, b, batch, m, k, n));
        // The same product from a transposed rhs view.
        const rhsT = bind(Primitive.Transpose, [tensor(b, { dtype, shape: [batch, k, n] })], { perm: [0, 2, 1] });
        const out2 = bind(Primitive.DotGeneral, [lhs, rhsT], { lhsContracting: [2], rhsContracting: [2], lhsBatch: [0], rhsBatch: [0] });
        expect(values(out2)).toEqual(referenceMatmul(a, b, batch, m, k, n));
      }
    }
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`gives the same ${dtype} products from the JavaScript kernel as from the WebAssembly one`, () => {
      const [m, k, n] = [37, 290, 21];
      const a = Array.from({ length: m * k }, (_, i) => ((i * 7) % 13) - 6);
      const b = Array.from({ length: k * n }, (_, i) => ((i * 5) % 11) - 5);
      const product = () => {
        // lhs is a transposed view contracted on its first axis: packing walks it column-major.
        const lhs = bind(Primitive.Transpose, [tensor(a, { dtype, shape: [m, k] })], { perm: [1, 0] });
        const rhs = tensor(b, { dtype, shape: [k, n] });
        return values(bind(Primitive.DotGeneral, [lhs, rhs], { ...noDims, lhsContracting: [0], rhsContracting: [0] }));
      };
      const expected = referenceMatmul(a, b, 1, m, k, n);
      disableWasmGemm(true);
      try {
        expect(product()).toEqual(expected);
      } finally {
        disableWasmGemm(false);
      }
      expect(product()).toEqual(expected);
    });
  }

  it('broadcasts an operand along the batch without copying it', () => {
    const lhs = bind(Primitive.Broadcast, [range([2, 3], 'float32')], { shape: [4, 2, 3] });
    const rhs = range([4, 3, 2], 'float32');
    const out = bind(Primitive.DotGeneral, [lhs, rhs], { lhsContracting: [2], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] });
    const r = values(rhs);
    const expected: number[] = [];
    for (let z = 0; z < 4; z++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          let s = 0;
          for (let p = 0; p < 3; p++) s += (i * 3 + p) * r[z * 6 + p * 2 + j]!;
          expected.push(s);
        }
    expect(values(out)).toEqual(expected);
  });
});

/** Direct N-d convolution for checking, on row-major arrays. */
function referenceConv(
  x: number[],
  xShape: number[],
  w: number[],
  wShape: number[],
  params: { strides: number[]; padding: [number, number][]; lhsDilation: number[]; rhsDilation: number[]; groups: number },
): { shape: number[]; data: number[] } {
  const [n, c] = xShape as [number, number];
  const [o, cg] = wShape as [number, number];
  const spatial = xShape.length - 2;
  const inSizes = xShape.slice(2);
  const kSizes = wShape.slice(2);
  const outSizes = inSizes.map((s, d) => {
    const dilated = s === 0 ? 0 : (s - 1) * params.lhsDilation[d]! + 1;
    const padded = dilated + params.padding[d]![0] + params.padding[d]![1];
    const window = (kSizes[d]! - 1) * params.rhsDilation[d]! + 1;
    return padded < window ? 0 : Math.floor((padded - window) / params.strides[d]!) + 1;
  });
  const og = o / params.groups;
  const data: number[] = [];
  const outPositions = outSizes.reduce((a, b) => a * b, 1);
  const kPositions = kSizes.reduce((a, b) => a * b, 1);
  const unflat = (i: number, sizes: number[]) => {
    const idx = new Array<number>(sizes.length);
    for (let d = sizes.length - 1; d >= 0; d--) {
      idx[d] = i % sizes[d]!;
      i = Math.floor(i / sizes[d]!);
    }
    return idx;
  };
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let op = 0; op < outPositions; op++) {
        const oIdx = unflat(op, outSizes);
        const g = Math.floor(oc / og);
        let s = 0;
        for (let ic = 0; ic < cg; ic++)
          for (let kp = 0; kp < kPositions; kp++) {
            const kIdx = unflat(kp, kSizes);
            let offset = 0;
            let inside = true;
            for (let d = 0; d < spatial; d++) {
              const p = oIdx[d]! * params.strides[d]! + kIdx[d]! * params.rhsDilation[d]! - params.padding[d]![0];
              if (p < 0 || p % params.lhsDilation[d]! !== 0 || p / params.lhsDilation[d]! >= inSizes[d]!) inside = false;
              offset = offset * inSizes[d]! + p / params.lhsDilation[d]!;
            }
            if (!inside) continue;
            const xi = (b * c + g * cg + ic) * inSizes.reduce((a2, b2) => a2 * b2, 1) + offset;
            s += x[xi]! * w[(oc * cg + ic) * kPositions + kp]!;
          }
        data.push(s);
      }
  return { shape: [n, o, ...outSizes], data };
}

describe('conv', () => {
  it('computes a 1-d cross-correlation', () => {
    const x = tensor([[[1, 2, 3, 4]]], { dtype: 'float32' });
    const w = tensor([[[1, 0, -1]]], { dtype: 'float32' });
    const out = bind(Primitive.Conv, [x, w], { strides: [1], padding: [[0, 0]], lhsDilation: [1], rhsDilation: [1], groups: 1 });
    expect(out.shape).toEqual([1, 1, 2]);
    expect(values(out)).toEqual([-2, -2]);
  });

  const cases: { xShape: number[]; wShape: number[]; params: Parameters<typeof referenceConv>[4] }[] = [
    { xShape: [2, 3, 7], wShape: [4, 3, 3], params: { strides: [2], padding: [[1, 2]], lhsDilation: [1], rhsDilation: [2], groups: 1 } },
    {
      xShape: [1, 4, 5, 6],
      wShape: [6, 2, 3, 2],
      params: {
        strides: [1, 2],
        padding: [
          [1, 1],
          [0, 1],
        ],
        lhsDilation: [1, 1],
        rhsDilation: [1, 1],
        groups: 2,
      },
    },
    {
      xShape: [1, 2, 4, 4],
      wShape: [3, 2, 3, 3],
      params: {
        strides: [1, 1],
        padding: [
          [2, 2],
          [1, 1],
        ],
        lhsDilation: [2, 2],
        rhsDilation: [1, 1],
        groups: 1,
      },
    },
    {
      xShape: [1, 1, 6, 6],
      wShape: [1, 1, 2, 2],
      params: {
        strides: [1, 1],
        padding: [
          [-1, -1],
          [-2, 0],
        ],
        lhsDilation: [1, 1],
        rhsDilation: [1, 1],
        groups: 1,
      },
    },
    {
      xShape: [2, 2, 3, 4, 3],
      wShape: [2, 1, 2, 2, 2],
      params: {
        strides: [1, 2, 1],
        padding: [
          [0, 1],
          [1, 0],
          [1, 1],
        ],
        lhsDilation: [1, 1, 2],
        rhsDilation: [2, 1, 1],
        groups: 2,
      },
    },
    { xShape: [1, 3, 2], wShape: [3, 1, 5], params: { strides: [1], padding: [[0, 0]], lhsDilation: [1], rhsDilation: [1], groups: 3 } },
    {
      xShape: [3, 4, 3, 5],
      wShape: [6, 2, 1, 1],
      params: {
        strides: [1, 1],
        padding: [
          [0, 0],
          [0, 0],
        ],
        lhsDilation: [1, 1],
        rhsDilation: [1, 1],
        groups: 2,
      },
    },
    {
      xShape: [2, 3, 4, 5],
      wShape: [2, 3, 1, 1],
      params: {
        strides: [2, 1],
        padding: [
          [0, 0],
          [1, 0],
        ],
        lhsDilation: [1, 1],
        rhsDilation: [1, 1],
        groups: 1,
      },
    },
  ];
  for (const { xShape, wShape, params } of cases) {
    it(`matches a direct convolution: x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(params)}`, () => {
      const xs = Array.from({ length: xShape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 3) % 7) - 3);
      const ws = Array.from({ length: wShape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 5) % 9) - 4);
      const expected = referenceConv(xs, xShape, ws, wShape, params);
      const out = bind(
        Primitive.Conv,
        [tensor(xs, { dtype: 'float64', shape: xShape }), tensor(ws, { dtype: 'float64', shape: wShape })],
        params,
      );
      expect(out.shape).toEqual(expected.shape);
      expect(values(out)).toEqual(expected.data);
    });
  }

  it('reads a non-contiguous input', () => {
    const x = bind(Primitive.Transpose, [range([1, 5, 1], 'float32')], { perm: [0, 2, 1] });
    const w = bind(Primitive.Flip, [tensor([[[1, 2]]], { dtype: 'float32' })], { axes: [2] });
    const out = bind(Primitive.Conv, [x, w], { strides: [1], padding: [[0, 0]], lhsDilation: [1], rhsDilation: [1], groups: 1 });
    expect(values(out)).toEqual([1, 4, 7, 10]);
  });
});

describe('reduceWindow', () => {
  it('max-pools and sum-pools in 2-d with strides and padding', () => {
    const x = range([1, 1, 4, 4], 'float32');
    const params = {
      window: [1, 1, 2, 2],
      strides: [1, 1, 2, 2],
      padding: [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ] as [number, number][],
      dilation: [1, 1, 1, 1],
    };
    expect(values(bind(Primitive.ReduceWindow, [x], { ...params, op: 'max' }))).toEqual([5, 7, 13, 15]);
    expect(values(bind(Primitive.ReduceWindow, [x], { ...params, op: 'sum' }))).toEqual([10, 18, 42, 50]);
    const padded = {
      window: [1, 1, 3, 3],
      strides: [1, 1, 1, 1],
      padding: [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 1],
      ] as [number, number][],
      dilation: [1, 1, 1, 1],
    };
    const maxOut = bind(Primitive.ReduceWindow, [bind(Primitive.Neg, [x], {})], { ...padded, op: 'max' });
    expect(maxOut.shape).toEqual([1, 1, 4, 4]);
    expect(values(maxOut)).toEqual([-0, -0, -1, -2, -0, -0, -1, -2, -4, -4, -5, -6, -8, -8, -9, -10]);
  });

  it('dilates windows in 1-d and works on int32', () => {
    const x = range([7], 'int32');
    const out = bind(Primitive.ReduceWindow, [x], { op: 'sum', window: [3], strides: [2], padding: [[1, 0]], dilation: [2] });
    // Windows at padded positions 0,2,4 / 2,4,6 / 4,6,8 of [pad, 0..6].
    expect(values(out)).toEqual([0 + 1 + 3, 1 + 3 + 5]);
    expect(out.dtype).toBe('int32');
  });

  it('propagates NaN in max and handles empty outputs and 3-d windows', () => {
    const x = tensor([1, NaN, 3, 4], { dtype: 'float32' });
    expect(values(bind(Primitive.ReduceWindow, [x], { op: 'max', window: [2], strides: [2], padding: [[0, 0]], dilation: [1] }))).toEqual([
      NaN,
      4,
    ]);
    const small = range([2], 'float32');
    expect(bind(Primitive.ReduceWindow, [small], { op: 'max', window: [3], strides: [1], padding: [[0, 0]], dilation: [1] }).shape).toEqual(
      [0],
    );
    const cube = range([2, 2, 2], 'float64');
    expect(
      values(
        bind(Primitive.ReduceWindow, [cube], {
          op: 'sum',
          window: [2, 2, 2],
          strides: [1, 1, 1],
          padding: [
            [0, 0],
            [0, 0],
            [0, 0],
          ],
          dilation: [1, 1, 1],
        }),
      ),
    ).toEqual([28]);
  });
});
