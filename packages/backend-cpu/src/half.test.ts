import {
  arange,
  argmax,
  argsort,
  concat,
  conv2d,
  cumsum,
  type DType,
  decodeHalf,
  exp,
  full,
  getBackend,
  grad,
  jit,
  type KernelProgram,
  matmul,
  max,
  maxPool2d,
  mean,
  Primitive,
  pad,
  random,
  roundToHalf,
  scatterAdd,
  sum,
  type Tensor,
  take,
  tensor,
  variance,
  where,
  zeros,
} from '@flint/api';
import { describe, expect, test } from 'vitest';
import '@flint/backend-cpu';

const HALF = ['float16', 'bfloat16'] as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync());
const rounded = (dtype: (typeof HALF)[number], xs: readonly number[]): number[] => xs.map((x) => roundToHalf(dtype, Math.fround(x)));

describe.each(HALF)('%s on the CPU backend', (dtype) => {
  test('is listed in capabilities and stored as 2-byte bit patterns', () => {
    const cpu = getBackend('cpu');
    expect(cpu.capabilities.dtypes).toContain(dtype);
    const x = tensor([1, 2, 3], { dtype });
    const raw = cpu.readSync?.(x._handle);
    expect(raw).toBeInstanceOf(Uint16Array);
    expect(decodeHalf(dtype, raw as Uint16Array)).toEqual(new Float32Array([1, 2, 3]));
    const before = cpu.memory().bytes;
    const y = zeros([1000], { dtype });
    expect(cpu.memory().bytes - before).toBe(2000);
    y.dispose();
  });

  test('elementwise ops compute in float32 and round once', () => {
    const xs = [0.1, 0.7, -1.3, 2.5];
    const x = tensor(xs, { dtype });
    const stored = rounded(dtype, xs);
    expect(x.dtype).toBe(dtype);
    expect(values(exp(x))).toEqual(
      rounded(
        dtype,
        stored.map((v) => Math.fround(Math.exp(v))),
      ),
    );
    const y = x.mul(x).add(1);
    expect(y.dtype).toBe(dtype);
    // Each op rounds its own result: (x*x) is rounded before the + 1.
    expect(values(y)).toEqual(
      rounded(
        dtype,
        rounded(
          dtype,
          stored.map((v) => v * v),
        ).map((v) => v + 1),
      ),
    );
    expect(values(x.greater(0))).toEqual([1, 1, 0, 1]);
    expect(values(where(x.greater(0), x, 0))).toEqual([stored[0], stored[1], 0, stored[3]]);
    expect(values(x.neg())).toEqual(stored.map((v) => -v));
  });

  test('int and bool operands promote to the half dtype; float16 with bfloat16 to float32', () => {
    const x = tensor([1.5, 2], { dtype });
    expect(x.add(tensor([1, 2])).dtype).toBe(dtype);
    expect(x.add(tensor([true, false])).dtype).toBe(dtype);
    expect(x.mul(0.5).dtype).toBe(dtype);
    expect(x.add(tensor([1, 1], { dtype: 'float32' })).dtype).toBe('float32');
    const other = dtype === 'float16' ? 'bfloat16' : 'float16';
    const mixed = x.add(tensor([1, 1], { dtype: other }));
    expect(mixed.dtype).toBe('float32');
    expect(values(mixed)).toEqual([2.5, 3]);
  });

  test('casts round to nearest even in both directions', () => {
    const f = tensor([0.1, 1e-3, 3.3e38, -7.9], { dtype: 'float32' });
    const h = f.astype(dtype);
    expect(values(h)).toEqual(rounded(dtype, [0.1, 1e-3, 3.3e38, -7.9]));
    expect(h.float().dtype).toBe('float32');
    expect(values(h.float())).toEqual(values(h));
    expect(values(tensor([2.75, -7.9, 100.4], { dtype }).astype('int32'))).toEqual([2, -7, 100]);
    expect(values(h.astype('bool'))).toEqual([1, 1, 1, 1]);
    expect(values(tensor([1, 2, 300], { dtype: 'int32' }).astype(dtype))).toEqual([1, 2, 300]);
    const other = dtype === 'float16' ? 'bfloat16' : 'float16';
    expect(values(h.astype(other))).toEqual(rounded(other, rounded(dtype, [0.1, 1e-3, 3.3e38, -7.9])));
    expect(values(tensor([0.1], { dtype: 'float64' }).astype(dtype))).toEqual(rounded(dtype, [0.1]));
  });

  test('reductions accumulate in float32', () => {
    // 4096 ones: a float16 accumulator would stop at 2048 (2048 + 1 rounds back to 2048).
    const ones = full([4096], 1, { dtype });
    expect(sum(ones).item()).toBe(4096);
    expect(mean(ones).item()).toBe(1);
    // The mean and variance of values whose sum overflows float16 (65504) are still finite.
    const big = full([10000], 100, { dtype });
    expect(mean(big).item()).toBe(100);
    expect(mean(big).dtype).toBe(dtype);
    expect(variance(big.add(arange(10000, { dtype }).greater(4999).astype(dtype))).item()).toBeCloseTo(0.25, 2);
    const x = tensor(
      [
        [1, 5, 3],
        [-2, 0, 9],
      ],
      { dtype },
    );
    expect(values(max(x, 1))).toEqual([5, 9]);
    expect(max(x).dtype).toBe(dtype);
    expect(values(argmax(x, 1))).toEqual([1, 2]);
    expect(values(cumsum(x, 1))).toEqual([1, 6, 9, -2, -2, 7]);
    expect(values(argsort(tensor([3, 1, 2], { dtype })))).toEqual([1, 2, 0]);
  });

  test('matmul and conv accumulate in float32 and round the result once', () => {
    const a = full([1, 4096], 1, { dtype });
    const b = full([4096, 1], 1, { dtype });
    const p = matmul(a, b);
    expect(p.dtype).toBe(dtype);
    expect(p.item()).toBe(4096);
    const image = arange(16, { dtype }).reshape([1, 1, 4, 4]);
    const kernel = full([1, 1, 2, 2], 0.5, { dtype });
    const y = conv2d(image, kernel);
    expect(y.dtype).toBe(dtype);
    expect(values(y)).toEqual([5, 7, 9, 13, 15, 17, 21, 23, 25]);
    expect(values(maxPool2d(image, 2))).toEqual([5, 7, 13, 15]);
  });

  test('movement: views stay views of the 16-bit storage, copies move bits unchanged', () => {
    const cpu = getBackend('cpu');
    const x = tensor(
      [
        [0.1, 0.2, 0.3],
        [0.4, 0.5, 0.6],
      ],
      { dtype },
    );
    const stored = rounded(dtype, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const buffers = cpu.memory().buffers;
    const t = x.transpose();
    const r = x.reshape([3, 2]);
    const e = tensor([0.1], { dtype }).expand([3]);
    expect(cpu.memory().buffers).toBe(buffers + 1);
    expect(values(t)).toEqual([0, 3, 1, 4, 2, 5].map((i) => stored[i] as number));
    expect(values(r)).toEqual(stored);
    expect(values(e)).toEqual(rounded(dtype, [0.1, 0.1, 0.1]));
    // A broadcast half input is widened without materializing the broadcast, and adds correctly.
    expect(values(t.add(tensor([1], { dtype }).expand([3, 2])))).toEqual(
      rounded(
        dtype,
        [0, 3, 1, 4, 2, 5].map((i) => (stored[i] as number) + 1),
      ),
    );
    expect(values(concat([x, x], 0))).toEqual([...stored, ...stored]);
    expect(values(take(x, tensor([2, 0]), 1))).toEqual([stored[2], stored[0], stored[5], stored[3]]);
    expect(values(pad(tensor([1, 2], { dtype }), [[1, 1]], { value: 0.1 }))).toEqual(rounded(dtype, [0.1, 1, 2, 0.1]));
    expect(values(scatterAdd(zeros([3], { dtype }), 0, tensor([0, 0, 2]), tensor([1, 2, 3], { dtype })))).toEqual([3, 0, 3]);
  });

  test('creation and random primitives give the half dtype', () => {
    expect(values(arange(4, { dtype }))).toEqual([0, 1, 2, 3]);
    expect(values(full([2], 0.1, { dtype }))).toEqual(rounded(dtype, [0.1, 0.1]));
    const u = random.uniform(random.key(3), [20000], { dtype });
    expect(u.dtype).toBe(dtype);
    const samples = values(u);
    expect(Math.max(...samples)).toBeLessThan(1);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.abs(samples.reduce((s, v) => s + v, 0) / samples.length - 0.5)).toBeLessThan(0.02);
    const n = random.normal(random.key(4), [1000], { dtype });
    expect(n.dtype).toBe(dtype);
    expect(values(n).every(Number.isFinite)).toBe(true);
  });

  test('jit falls back to the op-by-op kernels for half programs and agrees with eager', () => {
    const f = (x: Tensor) => exp(x.mul(2)).add(x).sum();
    const x = tensor([0.1, 0.2, 0.3], { dtype });
    const eager = f(x);
    const jitted = jit(f)(x);
    expect(jitted.dtype).toBe(dtype);
    expect(jitted.item()).toBe(eager.item());
  });

  test("the compile hook declines kernels with half dtypes (jit's fallback runs them)", () => {
    const cpu = getBackend('cpu');
    const program = (d: DType): KernelProgram => ({
      kind: 'elementwise',
      inputs: [{ shape: [2], dtype: d }],
      ops: [{ primitive: Primitive.Neg, params: {}, args: [{ kind: 'input', index: 0 }], aval: { shape: [2], dtype: d } }],
      outputs: [0],
      reusable: [false],
      text: 'neg',
    });
    expect(cpu.compile?.(program(dtype))).toBeNull();
    expect(cpu.compile?.(program('float32'))).not.toBeNull();
  });

  test('toString prints values with the dtype', () => {
    expect(tensor([0.5, 1.25], { dtype }).toString()).toBe(`tensor([0.5000, 1.2500], dtype=${dtype})`);
  });
});

describe('gradients through half precision', () => {
  test('grad of a float16 computation is close to the float32 one', () => {
    const loss = (dtype: DType) => (x: Tensor) => {
      const h = x.astype(dtype);
      return h
        .mul(h)
        .add(exp(h.mul(0.5)))
        .sum()
        .astype('float32');
    };
    const x = tensor([0.3, -1.2, 2.1, 0.05]);
    const exact = values(grad(loss('float32'))(x) as Tensor);
    for (const dtype of HALF) {
      const g = grad(loss(dtype))(x) as Tensor;
      expect(g.dtype).toBe('float32');
      const tolerance = dtype === 'float16' ? 4e-3 : 3e-2;
      values(g).forEach((v, i) => {
        expect(Math.abs(v - (exact[i] as number))).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(exact[i] as number)));
      });
    }
  });
});
