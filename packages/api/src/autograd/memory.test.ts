import '@flint/backend-cpu';
import { grad, memory, noGrad, Parameter, type Tensor, tensor, tidy, vjp, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';

// The tape is released after backward, and transforms free what they make: memory stays flat
// over thousands of iterations (no reliance on garbage collection).

const ITERATIONS = 2000;

function buffersOverLoop(step: (i: number) => void): { early: number; late: number } {
  let early = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    step(i);
    if (i === 10) early = memory().buffers;
  }
  return { early, late: memory().buffers };
}

describe('memory over many iterations', () => {
  const x = tensor([0.5, -1, 2, 0.25], { dtype: 'float64', shape: [2, 2] });

  it('imperative: forward, backward, update, zeroGrad', () => {
    const w = new Parameter(tensor([0.1, 0.2, 0.3, 0.4], { dtype: 'float64', shape: [2, 2] }));
    const { early, late } = buffersOverLoop(() => {
      tidy(() => {
        const loss = x.matmul(w.value).tanh().square().sum();
        loss.backward();
      });
      const next = noGrad(() => tidy(() => w.value.sub((w.grad as Tensor).mul(0.01))));
      const old = w.value;
      w.value = next;
      old.dispose();
      w.zeroGrad();
    });
    expect(late).toBe(early);
  });

  it('imperative: gradients accumulated across calls replace (and free) the previous ones', () => {
    const v = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const { early, late } = buffersOverLoop(() => {
      tidy(() => v.exp().sum().backward());
    });
    expect(late).toBe(early);
  });

  it('functional: grad, vmap(grad) and vjp with dispose', () => {
    const f = (m: Tensor) => x.matmul(m).sin().sum();
    const m = tensor([0.1, 0.2, 0.3, 0.4], { dtype: 'float64', shape: [2, 2] });
    const { early, late } = buffersOverLoop(() => {
      tidy(() => {
        grad(f)(m);
        vmap(grad((row: Tensor) => row.square().sum()))(m);
        const [y, pullback] = vjp(f, m);
        pullback(y);
        pullback.dispose();
      });
    });
    expect(late).toBe(early);
  });
});
