// The searching and counting ops (packages/api/src/ops/searching.ts, counting.ts, nonzero.ts,
// unique.ts) on webgpu, which reads only asynchronously: the static ones run eagerly and under jit,
// the data-dependent ones through their asynchronous forms. Needs a WebGPU adapter (in Node: the
// webgpu package and a Vulkan driver); without one every test here is skipped with the reason.
import '@flint/backend-cpu';
import * as api from '@flint/api';
import { type DType, initBackend, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import './index.js';

const started = await initBackend('webgpu').then(
  () => '',
  (error: Error) => error.message,
);
if (started !== '') console.log(`webgpu searching tests skipped: ${started}`);
const suite = started === '' ? describe : describe.skip;

const on = (data: number[], dtype: DType = 'float32', shape?: number[]): Tensor =>
  tensor(data, { backend: 'webgpu', dtype, ...(shape ? { shape } : {}) });

suite(`searching and counting ops on webgpu (${started === '' ? 'on a device' : `unavailable: ${started}`})`, () => {
  it('searchsorted, bucketize, countNonzero, histc and bincount with a length need no read', async () => {
    expect(await api.searchsorted(on([1, 3, 5, 7]), on([3, 6, 9, 0, 1, 7])).array()).toEqual([1, 3, 4, 0, 0, 3]);
    expect(await api.searchsorted(on([1, 3, 5, 7]), on([3, 6, 9, 0, 1, 7]), { right: true }).array()).toEqual([2, 3, 4, 0, 1, 4]);
    expect(await api.searchsorted(on([1, 3, 2, 4], 'int32', [2, 2]), on([2, 2], 'int32', [2, 1])).array()).toEqual([[1], [0]]);
    expect(await api.bucketize(on([0.5, 1, 4, 9]), on([1, 3, 5])).array()).toEqual([0, 0, 2, 3]);
    expect(await api.countNonzero(on([0, 1, 2, 0, Number.NaN])).array()).toEqual(3);
    expect(await api.histc(on([1, 2, 3, 4]), { bins: 3 }).array()).toEqual([1, 1, 2]);
    expect(await api.bincount(on([1, 1, 3, 7], 'int32'), { length: 5, weights: on([1, 2, 3, 4]) }).array()).toEqual([0, 3, 0, 3, 0]);
    const traced = api.jit((s: Tensor, v: Tensor) => api.searchsorted(s, v));
    expect(await traced(on([0, 1, 2, 3]), on([0.5, 2, 9])).array()).toEqual([1, 2, 4]);
  });

  it('the data-dependent ops through their asynchronous forms', async () => {
    expect(() => api.nonzero(on([1, 0]))).toThrow(/use `await nonzeroAsync\(\.\.\.\)`/);
    expect(await (await api.bincountAsync(on([1, 1, 3], 'int32'))).array()).toEqual([0, 2, 0, 1]);
    expect(await (await api.nonzeroAsync(on([1, 0, 3, 0, 0, -2], 'float32', [2, 3]))).array()).toEqual([
      [0, 0],
      [0, 2],
      [1, 2],
    ]);
    const long = Array.from({ length: 5000 }, (_, i) => (i % 7 === 3 ? 1 : 0));
    const [positions] = await api.nonzeroAsync(on(long), { asTuple: true });
    expect(await (positions as Tensor).array()).toEqual(long.flatMap((v, i) => (v === 1 ? [i] : [])));
    expect(await (await api.maskedSelectAsync(on([1, 2, 3]), on([1, 0], 'bool', [2, 1]))).array()).toEqual([1, 2, 3]);
    const u = await api.uniqueAsync(on([3, 1, Number.NaN, 3, 2, 3]), { returnInverse: true, returnCounts: true });
    expect([await u.values.array(), await u.inverseIndices.array(), await u.counts.array()]).toEqual([
      [1, 2, 3, Number.NaN],
      [2, 0, 3, 2, 1, 2],
      [1, 1, 3, 1],
    ]);
    const rows = await api.uniqueAsync(on([1, 2, 1, 2, 0, 5], 'int32', [3, 2]), { axis: 0, returnCounts: true });
    expect([await rows.values.array(), await rows.counts.array()]).toEqual([
      [
        [0, 5],
        [1, 2],
      ],
      [1, 2],
    ]);
    const runs = await api.uniqueConsecutiveAsync(on([1, 1, 2, 2, 3, 1, 1, 2]), { returnCounts: true });
    expect(await runs.counts.array()).toEqual([2, 2, 1, 2, 1]);
  });
});
