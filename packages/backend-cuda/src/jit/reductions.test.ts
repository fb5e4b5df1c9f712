// jit's reduction fusions on cuda (jit/codegen.ts generateReduction): an elementwise prologue and
// its reduceSum/Max/Min/Prod in one kernel, a thread or a warp per output. Each case runs jit and
// eager on cuda and needs the same values (sums and products within the rounding of their order:
// float32 2e-6, the halves one unit in the last place of their result; integers, maxima and
// minima exactly), and counts that the fused kernel ran. On a GPU with NVRTC, or on the
// CPU emulation (the cuda-emulation project of vitest.config.ts); skipped with the reason elsewhere.
import { type DType, jit, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import type { CudaBackend } from '../backend.js';
import { cudaUnavailable } from '../cuda-availability.test-support.js';
import { createCudaBackend } from '../index.js';

const reason = cudaUnavailable('jit reduction tests');

function values(count: number, seed: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * 3);
}

describe.skipIf(reason !== undefined)('reduction fusions on cuda', () => {
  const cuda = () => createCudaBackend() as CudaBackend;

  /** jit(f)(x) against f(x) on cuda, within `tolerance` relative; returns the fused kernels it launched. */
  async function expectFused(f: (x: Tensor) => Tensor, x: Tensor, tolerance: number): Promise<number> {
    const before = cuda().deviceMemory().jitLaunches;
    const fused = jit(f);
    const got = Array.from(await (fused(x) as Tensor).data(), Number);
    const launched = cuda().deviceMemory().jitLaunches - before;
    const expected = Array.from(await f(x).data(), Number);
    expect(got.length).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) {
      const [a, e] = [got[i] as number, expected[i] as number];
      if (Number.isNaN(e)) expect(a, `element ${i}`).toBeNaN();
      else expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(e)));
    }
    return launched;
  }

  // Products of factors near 1, so that a wrong identity or a dropped factor shows.
  const reductions: [string, (t: Tensor, axis?: number | number[]) => Tensor][] = [
    ['sum', (t, axis) => (axis === undefined ? t.sum() : t.sum(axis))],
    ['max', (t, axis) => (axis === undefined ? t.max() : t.max(axis))],
    ['min', (t, axis) => (axis === undefined ? t.min() : t.min(axis))],
    ['prod', (t, axis) => (axis === undefined ? t.mul(0.05).add(1).prod() : t.mul(0.05).add(1).prod(axis))],
  ];
  /** One unit in the last place, relative: what two summation orders can differ by once rounded to the dtype. */
  const ulp: Record<string, number> = { float32: 2e-6, float64: 1e-12, float16: 2 ** -10, bfloat16: 2 ** -7 };

  for (const dtype of ['float32', 'float64', 'float16', 'bfloat16'] as const) {
    it(`every reduction of a prologue, over rows longer and shorter than a warp and strided ones (${dtype})`, async () => {
      const long = tensor(values(300, 1), { shape: [3, 100], backend: 'cuda' }).cast(dtype as DType);
      const strided = tensor(values(630, 2), { shape: [70, 9], backend: 'cuda' }).cast(dtype as DType);
      const cube = tensor(values(24 * 35, 3), { shape: [24, 5, 7], backend: 'cuda' }).cast(dtype as DType);
      for (const [name, reduce] of reductions) {
        // Exact for max/min; sums and products differ from the op-by-op kernel only in their order.
        const tolerance = name === 'max' || name === 'min' ? 0 : (ulp[dtype] as number);
        const prologue = (t: Tensor) => t.mul(1.5).tanh().add(t);
        expect(await expectFused((t) => reduce(prologue(t), 1), long, tolerance), `${name} of rows of 100`).toBeGreaterThan(0);
        expect(await expectFused((t) => reduce(prologue(t), 0), strided, tolerance), `${name} down columns`).toBeGreaterThan(0);
        // Axes that are not the last ones: the launch order puts the kept axis first.
        expect(await expectFused((t) => reduce(prologue(t), [0, 2]), cube, tolerance), `${name} over axes 0 and 2`).toBeGreaterThan(0);
      }
      expect(await expectFused((t) => t.abs().sum(), long, ulp[dtype] as number), 'a sum of everything').toBeGreaterThan(0);
    });
  }

  it('runs reductions over leading axes into many outputs (columns) as the prologue kernel and the column reduction', async () => {
    const backend = cuda();
    const addon = backend.context.addon;
    const reduceEntry = addon.reduce;
    let reduced = 0;
    addon.reduce = (...args: Parameters<typeof reduceEntry>) => {
      reduced++;
      return reduceEntry(...args);
    };
    try {
      for (const dtype of ['float32', 'float64', 'bfloat16', 'int32'] as const) {
        // 300 rows of 64 columns, and [40, 3, 48] over its first two axes (120 rows of 48).
        const columns = tensor(values(300 * 64, 4), { shape: [300, 64], backend: 'cuda' }).cast(dtype as DType);
        const cube = tensor(values(40 * 3 * 48, 5), { shape: [40, 3, 48], backend: 'cuda' }).cast(dtype as DType);
        for (const [name, reduce] of reductions) {
          if (dtype === 'int32' && name === 'prod') continue; // a product of 0.05 steps is not an int32 op
          const tolerance = name === 'max' || name === 'min' || dtype === 'int32' ? 0 : 4 * (ulp[dtype] ?? 0);
          const prologue = (t: Tensor) => (dtype === 'int32' ? t.mul(3).add(t) : t.mul(1.5).tanh().add(t));
          const before = reduced;
          expect(await expectFused((t) => reduce(prologue(t), 0), columns, tolerance), `${name} of [300, 64] (${dtype})`).toBeGreaterThan(
            0,
          );
          expect(
            await expectFused((t) => reduce(prologue(t), [0, 1]), cube, tolerance),
            `${name} of [40, 3, 48] (${dtype})`,
          ).toBeGreaterThan(0);
          expect(reduced - before, `${name} (${dtype}) ran the column reduction`).toBe(4); // jit and eager, twice
        }
      }
      // The prologue's value is an output too, beside its column sums.
      const x = tensor(values(100 * 40, 6), { shape: [100, 40], backend: 'cuda' });
      const both = jit((t: Tensor) => {
        const e = t.exp();
        return [e, e.sum(0)];
      })(x) as Tensor[];
      const e = x.exp();
      expect(Array.from(await (both[0] as Tensor).data())).toEqual(Array.from(await e.data()));
      const sums = Array.from(await (both[1] as Tensor).data());
      const expected = Array.from(await e.sum(0).data());
      sums.forEach((v, i) => {
        expect(Math.abs(v - (expected[i] as number))).toBeLessThanOrEqual(4e-6 * Math.abs(expected[i] as number));
      });
    } finally {
      addon.reduce = reduceEntry;
    }
  });

  it('maxima propagate NaN and empty broadcasts read through zero strides', async () => {
    const x = tensor([1, Number.NaN, 3, 4, 5, 6], { shape: [2, 3], backend: 'cuda' });
    const row = tensor([10, 20, 30], { backend: 'cuda' });
    expect(await expectFused((t) => t.add(row).max(1), x, 0)).toBeGreaterThan(0);
    expect(await expectFused((t) => t.mul(row).sum(0), x, 0)).toBeGreaterThan(0);
  });

  it('int32 sums and products wrap around as the own reduction does', async () => {
    // Each row's sum passes 2^31 inside the reduction itself (the prologue adds 1).
    const x = tensor([2147483000, 1000, 7, 2000000000, 2000000000, -5], { shape: [2, 3], dtype: 'int32', backend: 'cuda' });
    expect(await expectFused((t) => t.add(1).sum(1), x, 0)).toBeGreaterThan(0);
    expect(await expectFused((t) => t.add(1).prod(1), x, 0)).toBeGreaterThan(0);
  });

  it('sums uint8 into int32, as eager does', async () => {
    const bytes = tensor([1, 200, 100, 3], { shape: [2, 2], dtype: 'uint8', backend: 'cuda' });
    expect(await expectFused((t) => t.add(t).sum(1), bytes, 0)).toBeGreaterThan(0);
  });

  for (const dtype of ['float32', 'float16'] as const) {
    it(`returns prologue values the program also uses beside the reduction, from the same kernel (${dtype})`, async () => {
      // Rows a thread each and a warp each, a reduction over a middle axis (the launch order puts
      // it last: the values must still land row-major), several prologue outputs of two dtypes.
      const cases: [number[], number][] = [
        [[3, 5], 1],
        [[4, 70], 1],
        [[3, 40, 5], 1],
        [[6, 4, 3], 0],
      ];
      for (const [shape, axis] of cases) {
        const x = tensor(
          values(
            shape.reduce((p, d) => p * d, 1),
            7,
          ),
          { shape, backend: 'cuda' },
        ).cast(dtype);
        const f = (t: Tensor) => {
          const e = t.mul(0.5).exp();
          const mask = e.greater(1);
          return [e, e.sum(axis), mask];
        };
        const before = cuda().deviceMemory().jitLaunches;
        const got = jit(f)(x) as Tensor[];
        const launched = cuda().deviceMemory().jitLaunches - before;
        const expected = f(x);
        for (const [k, t] of got.entries()) {
          expect(t.shape, `${shape} output ${k}`).toEqual(expected[k]?.shape);
          const [a, e] = [Array.from(await t.data(), Number), Array.from(await (expected[k] as Tensor).data(), Number)];
          const tolerance = k === 1 ? (ulp[dtype] as number) * 4 : 0;
          for (let i = 0; i < e.length; i++)
            expect(Math.abs((a[i] as number) - (e[i] as number)), `${shape} output ${k} element ${i}`).toBeLessThanOrEqual(
              tolerance * Math.max(1, Math.abs(e[i] as number)),
            );
        }
        // One fused kernel computes e and its sum (the mask, one op on e, runs on its own).
        expect(launched, `${shape}`).toBe(1);
      }
    });
  }
});
