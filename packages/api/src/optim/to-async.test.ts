// Optimizer.toAsync moves the optimizer's state between backends (as Lightning moves optimizers
// with their module): training continues where it was, bit for bit, and no buffer is left behind.
import '@flint/backend-cpu';
import { memory, optim, Parameter, type Tensor, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';
import { registerAsyncCpuBackend } from '../../../../test/support/async-cpu-backend.test-support.js';

registerAsyncCpuBackend('cpu-away');

/** Three Adam steps on a quadratic; between steps 1 and 2 the state (and parameter) visit `away` when given. */
async function train(away: string | null): Promise<{ values: number[]; buffers: string[] }> {
  const w = new Parameter(tensor([1.5, -2, 0.25]));
  const adam = new optim.Adam([w], { lr: 0.1, amsgrad: true });
  const step = () => {
    adam.zeroGrad();
    const loss = w.value.mul(w.value).sum();
    loss.backward();
    loss.dispose();
    adam.step();
  };
  step();
  let buffers: string[] = [];
  if (away !== null) {
    await adam.toAsync(away);
    buffers = Object.values(adam.state.get(w)?.buffers ?? {}).map((t: Tensor) => t.backend);
    await adam.toAsync('cpu');
  }
  step();
  step();
  const values = Array.from((await w.value.data()) as Float32Array);
  adam.zeroGrad();
  for (const s of adam.state.values()) for (const t of Object.values(s.buffers)) t.dispose();
  w.value.dispose();
  return { values, buffers };
}

describe('Optimizer.toAsync', () => {
  test('moves every buffer, and training goes on as if it had not', async () => {
    const start = memory().buffers;
    const stayed = await train(null);
    const between = memory().buffers;
    const moved = await train('cpu-away');
    expect(moved.buffers).toEqual(['cpu-away', 'cpu-away', 'cpu-away']);
    expect(moved.values).toEqual(stayed.values);
    // The moves leave nothing behind: the run that moved holds what the run that stayed holds.
    expect(memory().buffers - between).toBe(between - start);
  });
});
