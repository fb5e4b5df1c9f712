// The searching and counting ops (packages/api/src/ops/searching.ts, counting.ts, nonzero.ts,
// unique.ts) on cuda, an asynchronous backend: the static ones (searchsorted, bucketize,
// countNonzero, histc, bincount with a length) run eagerly and under jit, the data-dependent ones
// through their asynchronous forms, and every result equals the portable CPU backend's on the same
// inputs; the synchronous forms name the asynchronous ones. Runs on a GPU, or on the CPU emulation
// (the cuda-emulation project of vitest.config.ts); skipped with the reason elsewhere.
import '@flint/backend-cpu';
import * as api from '@flint/api';
import { type DType, type Tensor, tensor } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { cudaUnavailable } from './cuda-availability.test-support.js';

type Name = 'cuda' | 'cpu';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const next = seeded(11);
const randomInts = (n: number, low: number, high: number) => Array.from({ length: n }, () => low + Math.floor(next() * (high - low + 1)));
const sortedFloats = (n: number) => Array.from({ length: n }, () => Math.round(next() * 40) / 4 - 5).sort((a, b) => a - b);

/** Every tensor in a result (a tensor, an array, an object of tensors), in a fixed order. */
function tensorsOf(result: unknown): Tensor[] {
  if (api.isTensor(result)) return [result];
  if (Array.isArray(result)) return result.flatMap(tensorsOf);
  return Object.keys(result as object)
    .sort()
    .flatMap((k) => tensorsOf((result as Record<string, unknown>)[k]));
}

async function read(result: unknown): Promise<{ shape: number[]; dtype: DType; data: number[] }[]> {
  const out = [];
  for (const t of tensorsOf(result)) {
    out.push({ shape: [...t.shape], dtype: t.dtype, data: Array.from(await t.data(), Number) });
    t.dispose();
  }
  return out;
}

/** Runs `fn` with the inputs on each backend; the results must agree exactly (NaN with NaN). */
async function expectAgree(label: string, fn: (on: (data: number[], dtype: DType, shape?: number[]) => Tensor) => unknown): Promise<void> {
  const results: Record<Name, Awaited<ReturnType<typeof read>>> = { cuda: [], cpu: [] };
  for (const backend of ['cuda', 'cpu'] as const) {
    const on = (data: number[], dtype: DType, shape?: number[]) => tensor(data, { backend, dtype, ...(shape ? { shape } : {}) });
    results[backend] = await read(await fn(on));
  }
  expect(results.cuda.length, label).toBe(results.cpu.length);
  results.cuda.forEach((r, i) => {
    const want = results.cpu[i] as (typeof results.cpu)[number];
    expect(r.shape, `${label}, output ${i}: shape`).toEqual(want.shape);
    expect(r.dtype, `${label}, output ${i}: dtype`).toBe(want.dtype);
    expect(
      r.data.map((v) => (Number.isNaN(v) ? 'NaN' : v)),
      `${label}, output ${i}`,
    ).toEqual(want.data.map((v) => (Number.isNaN(v) ? 'NaN' : v)));
  });
}

describe.skipIf(cudaUnavailable('searching and counting tests') !== undefined)('searching and counting ops on cuda', () => {
  beforeAll(async () => {
    await api.initBackend('cuda');
  });

  it('searchsorted and bucketize, eagerly and under jit', async () => {
    const row = sortedFloats(37);
    const values = [...sortedFloats(20), Number.NaN, -100, 100];
    for (const right of [false, true]) {
      await expectAgree(`searchsorted, right ${right}`, (on) => api.searchsorted(on(row, 'float32'), on(values, 'float32'), { right }));
      await expectAgree(`searchsorted under jit, right ${right}`, (on) =>
        api.jit((s: Tensor, v: Tensor) => api.searchsorted(s, v, { right }))(on(row, 'float32'), on(values, 'float32')),
      );
      await expectAgree(`bucketize, right ${right}`, (on) =>
        api.bucketize(on(values, 'float64'), on(row.slice(0, 9), 'float64'), { right }),
      );
    }
    // Inputs are drawn once, outside the functions each backend runs.
    const rows = [...sortedFloats(8), ...sortedFloats(8), ...sortedFloats(8)];
    const rowValues = sortedFloats(15);
    await expectAgree('searchsorted of batched rows', (on) =>
      api.searchsorted(on(rows, 'float32', [3, 8]), on(rowValues, 'float32', [3, 5])),
    );
    const unsorted = randomInts(12, -3, 3);
    const probes = randomInts(6, -4, 4);
    await expectAgree('searchsorted with a sorter', (on) => {
      const sequence = on(unsorted, 'int32');
      return api.searchsorted(sequence, on(probes, 'int32'), { sorter: api.argsort(sequence) });
    });
  });

  it('countNonzero, histc and bincount with a length need no read', async () => {
    const x = randomInts(60, -2, 2);
    await expectAgree('countNonzero', (on) => [api.countNonzero(on(x, 'int32', [6, 10]), 1), api.countNonzero(on(x, 'float32'))]);
    const floats = sortedFloats(50).map((v, i) => (i % 9 === 0 ? Number.NaN : v));
    await expectAgree('histc with a range', (on) => api.histc(on(floats, 'float32'), { bins: 7, min: -4, max: 4 }));
    const spread = sortedFloats(30);
    await expectAgree('histc over the data range, under jit', (on) =>
      api.jit((t: Tensor) => api.histc(t, { bins: 5 }))(on(spread, 'float32')),
    );
    const bins = randomInts(40, -1, 8);
    expect(() => api.bincount(tensor(bins, { backend: 'cuda', dtype: 'int32' }), { length: 8 })).not.toThrow();
    const weights = sortedFloats(40);
    await expectAgree('bincount with a length and weights', (on) =>
      api.bincount(on(bins, 'int32'), { length: 8, weights: on(weights, 'float32') }),
    );
  });

  it('the data-dependent ops: the synchronous forms name the asynchronous ones', () => {
    const x = tensor([1, 0, 2], { backend: 'cuda', dtype: 'float32' });
    expect(() => api.nonzero(x)).toThrow(/use `await nonzeroAsync\(\.\.\.\)`/);
    expect(() => api.maskedSelect(x, x.greater(0))).toThrow(/use `await maskedSelectAsync\(\.\.\.\)`/);
    expect(() => api.unique(x)).toThrow(/use `await uniqueAsync\(\.\.\.\)`/);
    expect(() => api.bincount(tensor([1], { backend: 'cuda', dtype: 'int32' }))).toThrow(/use `await bincountAsync\(\.\.\.\)`/);
  });

  it('the asynchronous forms agree with the portable CPU backend', async () => {
    const sparse = randomInts(3 * 4 * 50, -1, 1).map((v) => (v === 1 ? 1 : 0));
    await expectAgree('nonzeroAsync', (on) => api.nonzeroAsync(on(sparse, 'float32', [3, 4, 50])));
    await expectAgree('nonzeroAsync as a tuple', (on) => api.nonzeroAsync(on(sparse, 'bool', [12, 50]), { asTuple: true }));
    await expectAgree('argwhereAsync of nothing', (on) => api.argwhereAsync(on([0, 0, 0], 'int32')));
    const selected = sortedFloats(20);
    await expectAgree('maskedSelectAsync with broadcasting', (on) =>
      api.maskedSelectAsync(on(selected, 'float32', [4, 1, 5]), on(sparse.slice(0, 15), 'bool', [3, 5])),
    );
    const repeated = [...randomInts(40, -3, 3), Number.NaN, Number.NaN];
    await expectAgree('uniqueAsync', (on) => api.uniqueAsync(on(repeated, 'float32'), { returnInverse: true, returnCounts: true }));
    const bits = randomInts(30, 0, 1);
    await expectAgree('uniqueAsync along an axis', (on) =>
      api.uniqueAsync(on(bits, 'int32', [10, 3]), { axis: 0, returnInverse: true, returnCounts: true }),
    );
    const runs = randomInts(40, 0, 2);
    await expectAgree('uniqueConsecutiveAsync', (on) =>
      api.uniqueConsecutiveAsync(on(runs, 'int32'), { returnInverse: true, returnCounts: true }),
    );
    const counted = randomInts(50, 0, 9);
    await expectAgree('bincountAsync', (on) => api.bincountAsync(on(counted, 'int32'), { minlength: 12 }));
  });
});
