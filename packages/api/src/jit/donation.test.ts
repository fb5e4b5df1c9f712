import '@flint/backend-cpu';
import { jit, mul, optim, randn, sub, type Tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';

// A donated parameter is written in place by the fused update kernel, also when the kernel's
// first dying input is a gradient the caller keeps (the memory plan offers every candidate and
// the backend takes the one it owns).

const handleOf = (t: Tensor): unknown => (t as unknown as { _handle: unknown })._handle;

describe('updates write into donated parameters', () => {
  it('p - g * lr writes into p, not into the kept g', () => {
    const step = jit((p: Tensor, g: Tensor) => sub(p, mul(g, 0.1)), { donateArgnums: [0] });
    const p = randn([32, 32]);
    const g = randn([32, 32]);
    const expected = Array.from(sub(p, mul(g, 0.1)).dataSync());
    const memoryOfP = handleOf(p);
    const next = step(p, g);
    expect(handleOf(next)).toBe(memoryOfP);
    expect(Array.from(next.dataSync())).toEqual(expected);
    expect(g.isDisposed).toBe(false);
    expect(step.lower(next, g).optimized.memory?.reusedBytes).toBe(32 * 32 * 4);
  });

  it("an Adam step writes the new parameters and moments into the donated ones' memory", () => {
    const adam = optim.adam({ lr: 1e-2 });
    type Params = { w: Tensor; b: Tensor };
    const step = jit(
      (params: Params, state: optim.OptimizerState, grads: Params) => {
        const [updates, next] = adam.update(grads, state, params);
        return [optim.applyUpdates(params, updates), next] as const;
      },
      { donateArgnums: [0, 1] },
    );
    let params: Params = { w: randn([16, 8]), b: randn([8]) };
    let state = adam.init(params);
    const grads: Params = { w: randn([16, 8]), b: randn([8]) };
    [params, state] = step(params, state, grads);
    const memoryOf = [handleOf(params.w), handleOf(params.b)];
    [params, state] = step(params, state, grads);
    expect([handleOf(params.w), handleOf(params.b)]).toEqual(memoryOf);
    expect(grads.w.isDisposed).toBe(false);
  });
});
