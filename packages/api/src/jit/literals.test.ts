import '@flint/backend-cpu';
import { getBackend, jit, mul, setBackend, sub, type Tensor, tensor } from '@flint/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';

// JavaScript scalars in ops (the 0.1 of `p - g * 0.1`) are literals of the program on every
// backend: a backend that cannot read a tensor back synchronously (WebGPU) must not get them as
// captured tensors broadcast to full shape, a buffer and a binding each.

registerAsyncCpuBackend('cpu-no-sync-read');

describe('JavaScript scalars in jitted functions', () => {
  // The default backend, as WebGPU is in a browser: scalars written in the function are made there.
  let previous = '';
  beforeAll(() => {
    previous = getBackend().name;
    setBackend('cpu-no-sync-read');
  });
  afterAll(() => {
    setBackend(previous);
  });

  it('are literals on a backend without synchronous reads', async () => {
    const update = jit((p: Tensor, g: Tensor) => sub(p, mul(g, 0.1)));
    const p = tensor([1, 2, 3, 4], { backend: 'cpu-no-sync-read' });
    const g = tensor([10, 20, 30, 40], { backend: 'cpu-no-sync-read' });
    const lowered = update.lower(p, g);
    const constants = [...lowered.traced.constants.values()];
    expect(constants.filter((c) => c.kind === 'tensor')).toHaveLength(0);
    expect(constants.filter((c) => c.kind === 'literal').map((c) => (c.kind === 'literal' ? c.value : null))).toEqual([Math.fround(0.1)]);
    expect(lowered.toString()).toContain('0.1');
    const values = (await update(p, g).array()) as number[];
    values.forEach((v, i) => {
      expect(v).toBeCloseTo([0, 0, 0, 0][i] as number, 6);
    });
  });

  it('keep their integer meaning in integer ops', async () => {
    const f = jit((x: Tensor) => mul(x, 3));
    const x = tensor([1, 2], { dtype: 'int32', backend: 'cpu-no-sync-read' });
    const constants = [...f.lower(x).traced.constants.values()];
    expect(constants).toEqual([{ kind: 'literal', value: 3 }]);
    expect(await f(x).array()).toEqual([3, 6]);
  });
});

registerAsyncCpuBackend('cpu-float32-only', ['float32', 'int32', 'uint8', 'bool']);

describe('constants of a jitted function', () => {
  // The default backend offers no float64, as WebGPU does not: a function traced on float64
  // tensors of another backend makes its constants beside them, as the eager ops do.
  let previous = '';
  beforeAll(() => {
    previous = getBackend().name;
    setBackend('cpu-float32-only');
  });
  afterAll(() => {
    setBackend(previous);
  });

  it("are made on the arguments' backend, not the default one", async () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', backend: 'cpu' });
    const scaled = jit((a: Tensor, s: number) => sub(mul(a, s), 1));
    expect(await scaled(x, 0.5).array()).toEqual([-0.5, 0, 0.5]);
    const withTensor = jit((a: Tensor) => mul(a, tensor([2, 3, 4], { dtype: 'float64' })));
    const out = withTensor(x);
    expect(out.dtype).toBe('float64');
    expect(await out.array()).toEqual([2, 6, 12]);
    // Outside the trace the default is as it was.
    expect(getBackend().name).toBe('cpu-float32-only');
    expect(() => tensor([1], { dtype: 'float64' })).toThrow(/float64 is not offered by the 'cpu-float32-only' backend/);
  });
});
