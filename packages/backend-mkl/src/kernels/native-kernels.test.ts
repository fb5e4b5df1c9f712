import '@flint/backend-cpu';
import {
  bind,
  conv2d,
  conv3d,
  convTranspose2d,
  initBackend,
  matmul,
  Primitive,
  sizeOf,
  type Tensor,
  type TypedArray,
  tensor,
  vjp,
} from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type MklBackend } from '../index.js';
import { randomValues } from '../values.test-support.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: native kernel tests skipped, the addon is unavailable: ${missing}`);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** `values` repeated `times` times: past every size below which an op takes the portable kernel (NATIVE_MIN in context.ts). */
const tile = (values: readonly number[], times: number) => range(values.length * times).map((i) => values[i % values.length]!);
const TIMES = 512;

/** The same tensor (values, shape, dtype) on mkl and on cpu. */
function pair(values: ArrayLike<number>, shape: number[], dtype: 'float32' | 'int32' | 'uint8' | 'bool' = 'float32'): [Tensor, Tensor] {
  const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
  return [tensor(data, { shape, dtype, backend: 'mkl' }), tensor(data, { shape, dtype, backend: 'cpu' })];
}

describe.skipIf(missing !== undefined)('mkl native kernels beyond float arithmetic', () => {
  let mkl: MklBackend;
  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
  });

  /** Runs `primitive` on both backends; checks the native path ran and the results agree exactly. */
  function same(primitive: Primitive, inputs: [Tensor, Tensor][], params: object): TypedArray {
    const before = mkl.nativeRuns(primitive);
    const fast = bind(primitive, inputs.map(([m]) => m) as never, params as never);
    const reference = bind(primitive, inputs.map(([, c]) => c) as never, params as never);
    expect(mkl.nativeRuns(primitive)).toBe(before + 1);
    expect(fast.dtype).toBe(reference.dtype);
    // The first differing element (Object.is: -0 and NaN count), not a diff of arrays of a
    // million elements, which would take minutes to print.
    const got = fast.dataSync();
    const want = reference.dataSync();
    expect(got.length).toBe(want.length);
    let first = -1;
    for (let i = 0; i < got.length && first < 0; i++) if (!Object.is(got[i], want[i])) first = i;
    expect(first < 0 ? 'equal' : `element ${first}: ${got[first]} instead of ${want[first]}`).toBe('equal');
    return got;
  }

  it('adds, multiplies and compares int32 with wrap-around, on transposed views', () => {
    const a = pair(tile([2147483647, -5, 7, 0, 3, -2147483648], TIMES), [2 * TIMES, 3], 'int32');
    const b = pair(tile([1, 6, -7, 9, 3, -1], TIMES), [3, 2 * TIMES], 'int32');
    const bt: [Tensor, Tensor] = [b[0].transpose(), b[1].transpose()];
    expect(same(Primitive.Add, [a, bt], {})[0]).toBe(-2147483648);
    same(Primitive.Mul, [a, bt], {});
    same(Primitive.Sub, [a, bt], {});
    same(Primitive.Max, [a, bt], {});
    same(Primitive.Less, [a, bt], {});
    const u = pair(tile([250, 3, 9, 1], TIMES), [4 * TIMES], 'uint8');
    const v = pair(tile([10, 3, 200, 0], TIMES), [4 * TIMES], 'uint8');
    expect([...same(Primitive.Add, [u, v], {})].slice(0, 4)).toEqual([4, 6, 209, 1]);
    const p = pair(tile([1, 0, 1, 0], TIMES), [4 * TIMES], 'bool');
    const q = pair(tile([1, 1, 0, 0], TIMES), [4 * TIMES], 'bool');
    expect([...same(Primitive.And, [p, q], {})].slice(0, 4)).toEqual([1, 0, 0, 0]);
    expect([...same(Primitive.Or, [p, q], {})].slice(0, 4)).toEqual([1, 1, 1, 0]);
  });

  it('casts between every dtype as typed-array stores do (truncation, wrap-around, NaN to 0, NaN is true)', () => {
    const x = pair(tile([1.7, -1.7, Number.NaN, 3e9, -0, 255.5, 256, Number.POSITIVE_INFINITY], TIMES), [8 * TIMES]);
    expect([...same(Primitive.Cast, [x], { dtype: 'int32' })].slice(0, 8)).toEqual([1, -1, 0, -1294967296, 0, 255, 256, 0]);
    expect([...same(Primitive.Cast, [x], { dtype: 'uint8' })].slice(0, 8)).toEqual([1, 255, 0, 0, 0, 255, 0, 0]);
    expect([...same(Primitive.Cast, [x], { dtype: 'bool' })].slice(0, 8)).toEqual([1, 1, 1, 1, 0, 1, 1, 1]);
    same(Primitive.Cast, [pair(tile([5, -3, 0], 2 * TIMES), [6 * TIMES], 'int32')], { dtype: 'float32' });
    same(Primitive.Cast, [pair(tile([1, 0, 1], 2 * TIMES), [6 * TIMES], 'bool')], { dtype: 'float32' });
  });

  it('selects with where on broadcast operands', () => {
    const c = pair(tile([1, 0, 1, 0, 0, 1], TIMES), [2 * TIMES, 3], 'bool');
    const a = pair(randomValues(6 * TIMES, 1), [2 * TIMES, 3]);
    const s = pair([7], [1, 1]);
    const sb: [Tensor, Tensor] = [s[0].broadcastTo([2 * TIMES, 3]), s[1].broadcastTo([2 * TIMES, 3])];
    same(Primitive.Where, [c, a, sb], {});
    // The scalar on either side (ReLU's backward pass: a gradient or a broadcast zero), in each width.
    same(Primitive.Where, [c, sb, a], {});
    const ints = pair(tile([3, -4, 5], 2 * TIMES), [2 * TIMES, 3], 'int32');
    const zero = pair([0], [1, 1], 'int32');
    const zb: [Tensor, Tensor] = [zero[0].broadcastTo([2 * TIMES, 3]), zero[1].broadcastTo([2 * TIMES, 3])];
    expect([...same(Primitive.Where, [c, ints, zb], {})].slice(0, 6)).toEqual([3, 0, 5, 0, 0, 5]);
    expect([...same(Primitive.Where, [c, zb, ints], {})].slice(0, 6)).toEqual([0, -4, 0, 3, -4, 0]);
    const bytes = pair(tile([1, 0, 1], 2 * TIMES), [2 * TIMES, 3], 'bool');
    same(Primitive.Where, [c, bytes, pair([1], [1, 1], 'bool').map((t) => t.broadcastTo([2 * TIMES, 3])) as [Tensor, Tensor]], {});
  });

  it('finds the first maximum and minimum along any axis, NaN first', () => {
    const values = randomValues(16 * 20 * 12, 2);
    values[7] = Number.NaN;
    values[30] = values[31]!;
    const x = pair(values, [16, 20, 12]);
    for (const axis of [0, 1, 2]) {
      same(Primitive.Argmax, [x], { axis });
      same(Primitive.Argmin, [x], { axis });
    }
    const xt: [Tensor, Tensor] = [x[0].transpose([2, 0, 1]), x[1].transpose([2, 0, 1])];
    same(Primitive.Argmax, [xt], { axis: 0 });
    same(Primitive.Argmax, [pair(tile([3, 9, 9, 1], TIMES), [4, TIMES], 'int32')], { axis: 0 });
  });

  it('gathers and scatter-adds along an axis, with repeated indices', () => {
    const x = pair(randomValues(3 * 4 * 2, 3), [3, 4, 2]);
    const indices = pair([3, 0, 3, 1, 2], [5], 'int32');
    same(Primitive.Gather, [x, indices], { axis: 1 });
    const updates = pair(randomValues(3 * 5 * 2, 4), [3, 5, 2]);
    same(Primitive.ScatterAdd, [x, indices, updates], { axis: 1 });
    const ints = pair(range(12), [12], 'int32');
    const at = pair([11, 0, 11], [3], 'int32');
    same(Primitive.ScatterAdd, [ints, at, pair([2147483647, 5, 1], [3], 'int32')], { axis: 0 });
  });

  /** A float32 tensor of [N, C, H, W] whose values repeat (ties) and hold NaN, -0, +0 and -Inf. */
  function activations(shape: number[], seed: number): [Tensor, Tensor] {
    const count = shape.reduce((p, d) => p * d, 1);
    const values = randomValues(count, seed).map((v) => Math.round(v * 8) / 8);
    for (let i = 0; i < count; i += 97) values[i] = Number.NaN;
    for (let i = 5; i < count; i += 89) values[i] = -0;
    for (let i = 6; i < count; i += 83) values[i] = 0;
    for (let i = 11; i < count; i += 61) values[i] = Number.NEGATIVE_INFINITY;
    return pair(values, shape);
  }

  const poolParams = (op: 'max' | 'sum', window: number[], strides: number[], padding: [number, number][], dilation: number[]) => ({
    op,
    window: [1, 1, ...window],
    strides: [1, 1, ...strides],
    padding: [[0, 0] as [number, number], [0, 0] as [number, number], ...padding],
    dilation: [1, 1, ...dilation],
  });

  it('pools max and sum in the addon bit for bit as the portable kernel (NaN, -0 ties, -Inf, padding)', () => {
    const none: [number, number][] = [
      [0, 0],
      [0, 0],
    ];
    // The CNN's two pools, then odd sizes that leave a row and a column out.
    for (const [index, shape] of [
      [64, 32, 28, 28],
      [64, 64, 14, 14],
      [3, 5, 7, 9],
      [2, 3, 1, 5],
    ].entries()) {
      const x = activations(shape, 60 + index);
      same(Primitive.ReduceWindow, [x], poolParams('max', [2, 2], [2, 2], none, [1, 1]));
      same(Primitive.ReduceWindow, [x], poolParams('sum', [2, 2], [2, 2], none, [1, 1]));
    }
    const x = activations([2, 3, 9, 8], 70);
    // Overlapping windows with padding, dilation, windows wholly in padding (-Inf and 0).
    same(
      Primitive.ReduceWindow,
      [x],
      poolParams(
        'max',
        [3, 3],
        [2, 2],
        [
          [1, 1],
          [1, 1],
        ],
        [1, 1],
      ),
    );
    same(
      Primitive.ReduceWindow,
      [x],
      poolParams(
        'sum',
        [3, 2],
        [1, 3],
        [
          [2, 0],
          [0, 2],
        ],
        [2, 1],
      ),
    );
    const edges = same(
      Primitive.ReduceWindow,
      [x],
      poolParams(
        'max',
        [1, 1],
        [4, 4],
        [
          [3, 3],
          [3, 3],
        ],
        [1, 1],
      ),
    );
    expect(edges[0]).toBe(Number.NEGATIVE_INFINITY);
    same(
      Primitive.ReduceWindow,
      [x],
      poolParams(
        'sum',
        [1, 2],
        [5, 5],
        [
          [4, 4],
          [4, 4],
        ],
        [1, 1],
      ),
    );
    // A transposed input view (copied first), and pools over one and three spatial dims.
    const xt: [Tensor, Tensor] = [x[0].transpose([0, 1, 3, 2]), x[1].transpose([0, 1, 3, 2])];
    same(Primitive.ReduceWindow, [xt], poolParams('max', [2, 2], [2, 2], none, [1, 1]));
    const line = activations([4, 6, 33], 71);
    same(Primitive.ReduceWindow, [line], {
      op: 'max',
      window: [1, 1, 3],
      strides: [1, 1, 2],
      padding: [
        [0, 0],
        [0, 0],
        [1, 1],
      ],
      dilation: [1, 1, 1],
    });
    const volume = activations([2, 3, 5, 6, 7], 72);
    const params3d = {
      window: [1, 1, 2, 2, 3],
      strides: [1, 1, 2, 1, 2],
      padding: [
        [0, 0],
        [0, 0],
        [1, 0],
        [0, 0],
        [1, 1],
      ] as [number, number][],
      dilation: [1, 1, 1, 2, 1],
    };
    same(Primitive.ReduceWindow, [volume], { op: 'max', ...params3d });
    same(Primitive.ReduceWindow, [volume], { op: 'sum', ...params3d });
  });

  it('keeps the first of tied maxima (-0 or +0) and NaN in a window, as the portable kernel does', () => {
    // Windows (row-major taps): [-0, +0, -1, -2], [+0, -0, -1, -0], [NaN, 1, 2, NaN], [-Inf x 4].
    const plane = [-0, 0, 0, -0, Number.NaN, 1, ...Array(2).fill(Number.NEGATIVE_INFINITY)];
    const below = [-1, -2, -1, -0, 2, Number.NaN, ...Array(2).fill(Number.NEGATIVE_INFINITY)];
    const values = tile([...plane, ...below], 256);
    const x = pair(values, [256, 1, 2, 8]);
    const none: [number, number][] = [
      [0, 0],
      [0, 0],
    ];
    const pooled = same(Primitive.ReduceWindow, [x], poolParams('max', [2, 2], [2, 2], none, [1, 1]));
    expect(Object.is(pooled[0], -0)).toBe(true);
    expect(Object.is(pooled[1], 0)).toBe(true);
    expect(pooled[2]).toBeNaN();
    expect(pooled[3]).toBe(Number.NEGATIVE_INFINITY);
  });

  it("gathers max pooling's window table by one index per output, and large rows, in parallel", () => {
    const table = pair([0, 1, 28, 29], [4], 'int32');
    const chosen = pair(
      Int32Array.from(randomValues(64 * 32 * 14 * 14, 80), (v) => Math.floor((v + 1) * 2) % 4),
      [64, 32, 14, 14],
      'int32',
    );
    same(Primitive.Gather, [table, chosen], { axis: 0 });
    // Several outer rows, rows of more than one element, an odd count, a transposed index view.
    const x = pair(randomValues(3 * 50 * 7, 81), [3, 50, 7]);
    const raw = pair(
      Int32Array.from(randomValues(1201 * 3, 82), (v) => Math.floor((v + 1) * 25) % 50),
      [3, 1201],
      'int32',
    );
    same(Primitive.Gather, [x, [raw[0].transpose(), raw[1].transpose()]], { axis: 1 });
    same(
      Primitive.Gather,
      [
        pair(randomValues(5000, 83), [5000]),
        pair(
          Int32Array.from(randomValues(70001, 84), (v) => Math.floor((v + 1) * 2500) % 5000),
          [70001],
          'int32',
        ),
      ],
      { axis: 0 },
    );
  });

  it('scatter-adds in parallel with the serial order of repeated indices (bit for bit)', () => {
    // Max pooling's backward pass: 401408 window maxima into a zero [64*32*28*28] gradient.
    const [n, c, h] = [64, 32, 28];
    const o = h / 2;
    const flat = Int32Array.from({ length: n * c * o * o }, (_, i) => {
      const ow = i % o;
      const oh = Math.floor(i / o) % o;
      const plane = Math.floor(i / (o * o));
      return plane * h * h + 2 * oh * h + 2 * ow + [0, 1, h, h + 1][(i * 7) % 4]!;
    });
    const zeros = pair(new Float32Array(n * c * h * h), [n * c * h * h]);
    same(Primitive.ScatterAdd, [zeros, pair(flat, [flat.length], 'int32'), pair(randomValues(flat.length, 90), [flat.length])], {
      axis: 0,
    });
    // The same from a broadcast value (the VJP's zeros are one broadcast element), filled in place.
    const value = pair([2.5], [1]);
    const broadcastTarget: [Tensor, Tensor] = [value[0].broadcastTo([n * c * h * h]), value[1].broadcastTo([n * c * h * h])];
    same(Primitive.ScatterAdd, [broadcastTarget, pair(flat, [flat.length], 'int32'), pair(randomValues(flat.length, 89), [flat.length])], {
      axis: 0,
    });
    // Many updates onto few targets, across the threads' slices: float sums depend on the order.
    const count = 100000;
    const crowded = Int32Array.from(randomValues(count, 91), (v, j) => (j % 3 === 0 ? Math.floor((v + 1) * 3) % 6 : 9000 + (j % 1000)));
    const updates = pair(
      randomValues(count, 92).map((v, j) => v * 10 ** (j % 7)),
      [count],
    );
    const base = pair(randomValues(10000, 93), [10000]);
    same(Primitive.ScatterAdd, [base, pair(crowded, [count], 'int32'), updates], { axis: 0 });
    // A transposed target, rows of 5 along the last axis, 3 outer rows (fewer than the slices' rule).
    const target = pair(randomValues(6 * 3 * 5, 94), [6, 3, 5]);
    const targetT: [Tensor, Tensor] = [target[0].transpose([1, 0, 2]), target[1].transpose([1, 0, 2])];
    const at = Int32Array.from(randomValues(5000, 95), (v) => Math.floor((v + 1) * 3) % 6);
    same(Primitive.ScatterAdd, [targetT, pair(at, [5000], 'int32'), pair(randomValues(3 * 5000 * 5, 96), [3, 5000, 5])], { axis: 1 });
    // Many outer rows (whole rows per thread), int32 wrapping and uint8.
    const many = pair(
      range(40 * 8).map((i) => 2147483600 + i),
      [40, 8],
      'int32',
    );
    const rowIndices = pair(
      Int32Array.from(randomValues(3000, 97), (v) => Math.floor((v + 1) * 4) % 8),
      [3000],
      'int32',
    );
    const rowUpdates = pair(
      range(40 * 3000).map((i) => i % 1000),
      [40, 3000],
      'int32',
    );
    same(Primitive.ScatterAdd, [many, rowIndices, rowUpdates], { axis: 1 });
    const seven = pair([7], [1, 1], 'int32');
    same(Primitive.ScatterAdd, [[seven[0].broadcastTo([40, 8]), seven[1].broadcastTo([40, 8])], rowIndices, rowUpdates], {
      axis: 1,
    });
    const bytes = pair(
      range(40 * 8).map((i) => i % 256),
      [40, 8],
      'uint8',
    );
    same(
      Primitive.ScatterAdd,
      [
        bytes,
        rowIndices,
        pair(
          range(40 * 3000).map((i) => i % 200),
          [40, 3000],
          'uint8',
        ),
      ],
      { axis: 1 },
    );
  });

  it('adds int32 window origins broadcast along the last dim to per-column offsets', () => {
    for (const [index, [n, c, h]] of [
      [64, 32, 14],
      [3, 5, 13],
    ].entries()) {
      const rows = pair(
        Int32Array.from(randomValues(n! * c! * h!, 100 + index), (v) => Math.floor(v * 1e9)),
        [n!, c!, h!, 1],
        'int32',
      );
      const cols = pair(
        Int32Array.from(randomValues(h!, 110 + index), (v) => Math.floor(v * 2e9)),
        [1, 1, 1, h!],
        'int32',
      );
      const shape = [n!, c!, h!, h!];
      const left: [Tensor, Tensor] = [rows[0].broadcastTo(shape), rows[1].broadcastTo(shape)];
      const right: [Tensor, Tensor] = [cols[0].broadcastTo(shape), cols[1].broadcastTo(shape)];
      same(Primitive.Add, [left, right], {});
      same(Primitive.Sub, [left, right], {});
      same(Primitive.Sub, [right, left], {});
      const dense = pair(
        Int32Array.from(randomValues(n! * c! * h! * h!, 120 + index), (v) => Math.floor(v * 4)),
        shape,
        'int32',
      );
      same(Primitive.Sub, [left, dense], {});
    }
  });

  it('copies non-contiguous reshapes in the addon and keeps contiguous ones as views', () => {
    const x = pair(randomValues(4 * 6, 5), [4, 6]);
    const xt: [Tensor, Tensor] = [x[0].transpose(), x[1].transpose()];
    same(Primitive.Reshape, [xt], { shape: [24] });
    const before = mkl.nativeRuns(Primitive.Reshape);
    x[0].reshape([6, 4]).dispose();
    expect(mkl.nativeRuns(Primitive.Reshape)).toBe(before);
  });

  it('computes convs with kernels larger than their output (weight gradients) as the portable kernel does', () => {
    const cases = [
      {
        x: [3, 5, 12, 12],
        w: [4, 5, 10, 10],
        params: {
          strides: [1, 1],
          padding: [
            [1, 1],
            [1, 1],
          ],
          rhsDilation: [1, 1],
        },
      },
      {
        x: [2, 3, 15, 13],
        w: [6, 3, 6, 5],
        params: {
          strides: [1, 2],
          padding: [
            [0, 2],
            [1, 0],
          ],
          rhsDilation: [2, 1],
        },
      },
      {
        x: [4, 8, 14, 14],
        w: [8, 8, 7, 7],
        params: {
          strides: [2, 2],
          padding: [
            [1, 1],
            [1, 1],
          ],
          rhsDilation: [2, 2],
        },
      },
    ];
    for (const [index, kase] of cases.entries()) {
      const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
      const x = pair(randomValues(size(kase.x), 30 + index), kase.x);
      // A transposed view, as the weight-gradient rule passes it.
      const wRaw = pair(randomValues(size(kase.w), 40 + index), [kase.w[1]!, kase.w[0]!, ...kase.w.slice(2)]);
      const w: [Tensor, Tensor] = [wRaw[0].transpose([1, 0, 2, 3]), wRaw[1].transpose([1, 0, 2, 3])];
      const params = { ...kase.params, lhsDilation: [1, 1], groups: 1 };
      const before = mkl.nativeRuns(Primitive.Conv);
      const fast = bind(Primitive.Conv, [x[0], w[0]], params as never).dataSync();
      const reference = bind(Primitive.Conv, [x[1], w[1]], params as never).dataSync();
      expect(mkl.nativeRuns(Primitive.Conv)).toBe(before + 1);
      expect(fast.length).toBe(reference.length);
      let worst = 0;
      for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i]! - reference[i]!) / (1 + Math.abs(reference[i]!)));
      expect(worst).toBeLessThan(1e-4);
      // The input as the rule passes it too (a transposed view), read in place by oneDNN.
      const xRaw = pair(randomValues(size(kase.x), 50 + index), [kase.x[1]!, kase.x[0]!, ...kase.x.slice(2)]);
      const xT: [Tensor, Tensor] = [xRaw[0].transpose([1, 0, 2, 3]), xRaw[1].transpose([1, 0, 2, 3])];
      const fastT = bind(Primitive.Conv, [xT[0], w[0]], params as never).dataSync();
      const referenceT = bind(Primitive.Conv, [xT[1], w[1]], params as never).dataSync();
      for (let i = 0; i < fastT.length; i++)
        expect(Math.abs(fastT[i]! - referenceT[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(referenceT[i]!)));
    }
  });

  it("runs convolution input gradients and transposed convolutions as oneDNN's backward-data pass, as the portable kernel computes them", () => {
    // Strides (input dilation in the gradient's convolution), dilations, padding the stride leaves
    // uneven, non-square kernels, 3-d, and a broadcast cotangent (a sum's), which oneDNN reads packed.
    const cases = [
      { x: [2, 3, 9, 9], w: [4, 3, 3, 3], stride: 2, padding: 1, dilation: 1, broadcast: false },
      { x: [1, 2, 10, 9], w: [3, 2, 3, 2], stride: [2, 3], padding: [1, 2], dilation: [1, 2], broadcast: true },
      { x: [2, 4, 7, 7], w: [5, 4, 1, 1], stride: 2, padding: 0, dilation: 1, broadcast: false },
      { x: [1, 2, 5, 6, 5], w: [3, 2, 3, 3, 2], stride: 2, padding: 1, dilation: 1, broadcast: false },
      // Depthwise, with a channel multiplier, and grouped with one output channel per group.
      { x: [2, 4, 9, 9], w: [8, 1, 3, 3], stride: 2, padding: 1, dilation: 1, broadcast: false, groups: 4 },
      { x: [2, 6, 8, 8], w: [3, 2, 3, 3], stride: 2, padding: 1, dilation: 1, broadcast: true, groups: 3 },
      // Grouped with channels on both sides: autodiff's regrouped filter is a copy, packed back.
      { x: [2, 6, 9, 8], w: [4, 3, 3, 3], stride: 2, padding: 1, dilation: 1, broadcast: false, groups: 2 },
      // The last window ends before the input does (even sizes, stride 2, no padding: ResNet's
      // 1x1 shortcut): the high padding is taken as 0.
      { x: [2, 4, 8, 8], w: [6, 4, 1, 1], stride: 2, padding: 0, dilation: 1, broadcast: false },
      { x: [1, 3, 10, 10], w: [4, 3, 3, 3], stride: 2, padding: 0, dilation: 1, broadcast: false },
    ];
    const worstError = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      expect(a.length).toBe(b.length);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
      return worst;
    };
    for (const [index, kase] of cases.entries()) {
      const x = pair(randomValues(sizeOf(kase.x), 60 + index), kase.x);
      const w = pair(randomValues(sizeOf(kase.w), 70 + index), kase.w);
      const options = {
        stride: kase.stride,
        padding: kase.padding,
        dilation: kase.dilation,
        groups: 'groups' in kase ? kase.groups : 1,
      } as never;
      const conv = (a: Tensor, b: Tensor) => (kase.x.length === 4 ? conv2d(a, b, options) : conv3d(a, b, options));
      const gradients = ([xs, ws]: [Tensor, Tensor], backend: string) => {
        const [y, pullback] = vjp(conv, xs, ws);
        const shape = y.shape as number[];
        const dy = kase.broadcast
          ? tensor([1.5], { backend }).broadcastTo(shape)
          : tensor(Float32Array.from(randomValues(sizeOf(shape), 80 + index)), { shape, backend });
        const [dx, dw] = pullback(dy) as [Tensor, Tensor];
        pullback.dispose();
        return [dx.dataSync(), dw.dataSync()];
      };
      const before = mkl.nativeRuns(Primitive.Conv);
      const [fastDx, fastDw] = gradients([x[0], w[0]], 'mkl');
      // The forward and both gradients ran natively (the input gradient needs input dilation when strided).
      expect(mkl.nativeRuns(Primitive.Conv), `case ${index}`).toBe(before + 3);
      const [dx, dw] = gradients([x[1], w[1]], 'cpu');
      expect(worstError(fastDx!, dx!), `case ${index}: dx`).toBeLessThan(1e-5);
      expect(worstError(fastDw!, dw!), `case ${index}: dw`).toBeLessThan(1e-4);
    }
    // A transposed convolution's forward is the same pass.
    const x = pair(randomValues(2 * 4 * 5 * 5, 90), [2, 4, 5, 5]);
    const w = pair(randomValues(4 * 3 * 3 * 3, 91), [4, 3, 3, 3]);
    const before = mkl.nativeRuns(Primitive.Conv);
    const fast = convTranspose2d(x[0], w[0], { stride: 2, padding: 1, outputPadding: 1 }).dataSync();
    expect(mkl.nativeRuns(Primitive.Conv)).toBe(before + 1);
    expect(worstError(fast, convTranspose2d(x[1], w[1], { stride: 2, padding: 1, outputPadding: 1 }).dataSync())).toBeLessThan(1e-5);
    // Grouped, with channels on both sides of each group: its regrouped filter is packed.
    const grouped = { stride: 2, padding: 1, outputPadding: 1, groups: 2 };
    const wg = pair(randomValues(4 * 3 * 3 * 3, 92), [4, 3, 3, 3]);
    const groupedBefore = mkl.nativeRuns(Primitive.Conv);
    const fastGrouped = convTranspose2d(x[0], wg[0], grouped).dataSync();
    expect(mkl.nativeRuns(Primitive.Conv)).toBe(groupedBefore + 1);
    expect(worstError(fastGrouped, convTranspose2d(x[1], wg[1], grouped).dataSync())).toBeLessThan(1e-5);
  });

  it('lists bfloat16 exactly when the CPU computes it, and multiplies and convolves it in oneDNN', () => {
    expect(mkl.capabilities.dtypes.includes('bfloat16')).toBe(mkl.info.bfloat16);
    if (!mkl.info.bfloat16) {
      console.log('backend-mkl: bfloat16 kernels not checked: this CPU has neither AVX-512 BF16 nor AMX');
      return;
    }
    const a = tensor(randomValues(33 * 40, 6), { shape: [33, 40], backend: 'mkl' }).bfloat16();
    const b = tensor(randomValues(40 * 17, 7), { shape: [40, 17], backend: 'mkl' }).bfloat16();
    const before = mkl.nativeRuns(Primitive.DotGeneral);
    const product = matmul(a, b.transpose().transpose());
    expect(mkl.nativeRuns(Primitive.DotGeneral)).toBe(before + 1);
    expect(product.dtype).toBe('bfloat16');
    // The exact product of the rounded inputs, rounded once: within bfloat16's half ulp (2^-9).
    const reference = matmul(a.float(), b.float()).dataSync();
    const got = product.dataSync();
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(got[i]! - reference[i]!)).toBeLessThanOrEqual(Math.abs(reference[i]!) * 2 ** -8 + 1e-6);
    const x = tensor(randomValues(2 * 3 * 8 * 8, 8), { shape: [2, 3, 8, 8], backend: 'mkl' }).bfloat16();
    const w = tensor(randomValues(4 * 3 * 3 * 3, 9), { shape: [4, 3, 3, 3], backend: 'mkl' }).bfloat16();
    const convBefore = mkl.nativeRuns(Primitive.Conv);
    const y = conv2d(x, w, { padding: 1 });
    expect(mkl.nativeRuns(Primitive.Conv)).toBe(convBefore + 1);
    const yReference = conv2d(x.float(), w.float(), { padding: 1 }).dataSync();
    const yGot = y.dataSync();
    for (let i = 0; i < yGot.length; i++)
      expect(Math.abs(yGot[i]! - yReference[i]!)).toBeLessThanOrEqual(Math.abs(yReference[i]!) * 2 ** -8 + 1e-6);
  });
});
