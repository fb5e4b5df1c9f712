import '@flint/backend-cpu';
import { grad, random, type Tensor, tensor, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as F from '../../packages/api/src/nn/functional/index.js';

// dropout is listed as non-differentiable in the coverage test because its output is random;
// with a fixed key it is linear, and its gradient is the scaled keep-mask.

describe('dropout gradient', () => {
  it('is the kept positions scaled by 1 / (1 - p), the same under vmap', () => {
    const x = tensor([0.5, -1, 2, 3, -0.25, 1.5, 0.75, -2], { dtype: 'float64' });
    const key = random.key(7);
    const out = F.dropout(x, 0.5, { key });
    const g = grad((t: Tensor) => F.dropout(t, 0.5, { key }).sum())(x);
    const kept = Array.from(out.dataSync()).map((v) => (v !== 0 ? 2 : 0));
    expect(Array.from(g.dataSync())).toEqual(kept);
    const rows = vmap(grad((t: Tensor) => F.dropout(t, 0.5, { key }).sum()))(x.reshape([2, 4]));
    expect(rows.shape).toEqual([2, 4]);
    expect(Array.from(rows.dataSync()).every((v) => v === 0 || v === 2)).toBe(true);
  });
});
