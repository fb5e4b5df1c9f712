import '@flint/backend-cpu';
import { conv2d, customVjp, getBackend, grad, jvp, memory, nn, noGrad, Parameter, type Tensor, tensor, tidy, vjp, vmap } from '@flint/api';
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

describe('a backward pass frees each intermediate cotangent once it has consumed it', () => {
  /** An identity whose backward rule shows `inspect` the cotangent it receives, then scales it by `factor`. */
  const probe = (inspect: (g: Tensor) => void, factor = 1, constant: Tensor | null = null) =>
    customVjp((x: Tensor) => x.mul(1), {
      fwd: (x: Tensor) => [x.mul(1), null],
      bwd: (_: null, g: Tensor) => {
        inspect(g);
        return [constant ?? g.mul(factor)];
      },
    });

  it('backward(): the cotangent of an upper node is gone when a lower node runs; seeds, hooks and leaf gradients stay', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const seed = tensor([1, 1, 1], { dtype: 'float64' });
    let upper: Tensor | null = null;
    let upperDisposedBelow: boolean | null = null;
    let hooked: Tensor | null = null;
    tidy(() => {
      const a = probe(() => {
        upperDisposedBelow = (upper as Tensor).isDisposed;
      })(x.exp());
      const b = a.tanh();
      b.registerHook((g) => {
        hooked = g;
      });
      const c = probe((g) => {
        upper = g;
      }, 2)(b.square());
      c.mul(3).backward(seed);
    });
    expect(upperDisposedBelow).toBe(true);
    expect(seed.isDisposed).toBe(false);
    expect(hooked === null ? null : (hooked as Tensor).isDisposed).toBe(false);
    // d/dx of 6 * tanh(exp(x))^2, per element.
    const expected = [1, 2, 3].map((v) => 6 * 2 * Math.tanh(Math.exp(v)) * (1 - Math.tanh(Math.exp(v)) ** 2) * Math.exp(v));
    const got = Array.from(x.grad?.dataSync() ?? []);
    got.forEach((g, i) => {
      expect(g).toBeCloseTo(expected[i] as number, 10);
    });
  });

  it('a rule that returns a tensor made outside the sweep (a captured constant) does not lose it', () => {
    const constant = tensor([0.5, 0.5], { dtype: 'float64' });
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    tidy(() =>
      probe(
        () => {},
        1,
        constant,
      )(x.mul(3))
        .sum()
        .backward(),
    );
    expect(constant.isDisposed).toBe(false);
    expect(Array.from(x.grad?.dataSync() ?? [])).toEqual([1.5, 1.5]);
  });

  it('grad at top level with grad mode on: the same, and a gradient the tape records can still be differentiated', () => {
    let upper: Tensor | null = null;
    let upperDisposedBelow: boolean | null = null;
    const f = (x: Tensor) =>
      probe((g) => {
        upper = g;
      }, 2)(
        probe(() => {
          upperDisposedBelow = (upper as Tensor).isDisposed;
        })(x.exp()).sin(),
      ).sum();
    const g = grad(f)(tensor([0.5, 1], { dtype: 'float64' }));
    expect(upperDisposedBelow).toBe(true);
    const expected = [0.5, 1].map((v) => 2 * Math.cos(Math.exp(v)) * Math.exp(v));
    Array.from(g.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 10);
    });
    // A closed-over leaf the tape records: grad's sweep is recorded, and its result differentiated.
    const w = tensor([0.3, -0.7], { dtype: 'float64', requiresGrad: true });
    const x = tensor([0.5, 2], { dtype: 'float64' });
    const gx = grad((x: Tensor) => x.mul(w).exp().sin().sum())(x);
    gx.sum().backward();
    // d/dw of sum(cos(exp(x w)) exp(x w) w), elementwise.
    const dw = [0, 1].map((i) => {
      const [xi, wi] = [[0.5, 2][i] as number, [0.3, -0.7][i] as number];
      const e = Math.exp(xi * wi);
      return -Math.sin(e) * e * xi * e * wi + Math.cos(e) * e * xi * wi + Math.cos(e) * e;
    });
    Array.from(w.grad?.dataSync() ?? []).forEach((v, i) => {
      expect(v).toBeCloseTo(dw[i] as number, 10);
    });
  });
});

describe('a backward pass frees what each rule made and did not return', () => {
  it('the temporaries of one rule are gone before the next rule runs; its cotangents flow on', () => {
    // The upper rule makes a temporary (a product it does not return); the lower rule checks it is gone.
    let temporary: Tensor | null = null;
    let temporaryDisposedBelow: boolean | null = null;
    const upper = customVjp((x: Tensor) => x.mul(1), {
      fwd: (x: Tensor) => [x.mul(1), null],
      bwd: (_: null, g: Tensor) => {
        temporary = g.mul(10);
        return [temporary.sub(g.mul(9))];
      },
    });
    const lower = customVjp((x: Tensor) => x.mul(1), {
      fwd: (x: Tensor) => [x.mul(1), null],
      bwd: (_: null, g: Tensor) => {
        temporaryDisposedBelow = (temporary as Tensor).isDisposed;
        return [g.mul(2)];
      },
    });
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    tidy(() => upper(lower(x).square()).sum().backward());
    expect(temporaryDisposedBelow).toBe(true);
    expect(Array.from(x.grad?.dataSync() ?? [])).toEqual([4, 8]);
  });
});

describe('a recorded node retains only the values its rule reads', () => {
  it("linear and conv2d under grad leave one buffer, their output: the product before the bias is freed, as PyTorch's addmm never makes it", () => {
    const x = tensor([0.5, -1, 2, 0.25, 1, 3], { dtype: 'float64', shape: [2, 3] });
    const w = new Parameter(tensor([0.1, 0.2, 0.3, -0.4, 0.5, 0.6], { dtype: 'float64', shape: [2, 3] }));
    const b = new Parameter(tensor([1, -1], { dtype: 'float64' }));
    const image = tensor(
      Array.from({ length: 2 * 4 * 4 }, (_, i) => Math.sin(i)),
      { dtype: 'float64', shape: [1, 2, 4, 4] },
    );
    const k = new Parameter(
      tensor(
        Array.from({ length: 3 * 2 * 9 }, (_, i) => Math.cos(i)),
        { dtype: 'float64', shape: [3, 2, 3, 3] },
      ),
    );
    const kb = new Parameter(tensor([0.5, 0, -0.5], { dtype: 'float64' }));
    tidy(() => {
      // Counted on the backend the tensors live on: memory() also sums the backends other test files
      // made, and a stand-in that wraps 'cpu' counts its buffers again.
      const buffers = () => getBackend().memory().buffers;
      let before = buffers();
      const y = nn.functional.linear(x, w.value, b.value);
      expect(buffers() - before).toBe(1);
      before = buffers();
      const z = conv2d(image, k.value, { padding: 1, bias: kb.value });
      expect(buffers() - before).toBe(1);
      y.square().sum().add(z.square().sum()).backward();
    });
    // d/dW of sum((x W^T + b)^2) = 2 (x W^T + b)^T x; d/db = 2 sum over rows of (x W^T + b).
    const xs = [
      [0.5, -1, 2],
      [0.25, 1, 3],
    ];
    const ws = [
      [0.1, 0.2, 0.3],
      [-0.4, 0.5, 0.6],
    ];
    const ys = xs.map((row) => ws.map((wRow, j) => wRow.reduce((s, v, i) => s + v * (row[i] as number), 0) + [1, -1][j]!));
    const dw = ws.flatMap((_, j) => [0, 1, 2].map((i) => 2 * ys.reduce((s, y, r) => s + (y[j] as number) * (xs[r]![i] as number), 0)));
    Array.from(w.grad?.dataSync() ?? []).forEach((v, i) => {
      expect(v).toBeCloseTo(dw[i] as number, 10);
    });
    expect(Array.from(b.grad?.dataSync() ?? [])).toEqual(
      [0, 1].map((j) => expect.closeTo(2 * ys.reduce((s, y) => s + (y[j] as number), 0), 10)),
    );
    expect(kb.grad?.shape).toEqual([3]);
  });

  it('a disposed input of tanh (whose rule reads its output) is freed at once; the gradient is unchanged', () => {
    const x = tensor([0.5, -1.5], { dtype: 'float64', requiresGrad: true });
    tidy(() => {
      const h = x.mul(2);
      const y = h.tanh();
      // Counted on the backend the tensors live on: memory() also sums the backends other test files
      // made, and a stand-in that wraps 'cpu' counts its buffers again.
      const before = getBackend().memory().buffers;
      h.dispose();
      expect(getBackend().memory().buffers).toBe(before - 1);
      y.sum().backward();
    });
    expect(Array.from(x.grad?.dataSync() ?? [])).toEqual([0.5, -1.5].map((v) => expect.closeTo(2 * (1 - Math.tanh(2 * v) ** 2), 12)));
  });

  it('tidy keeps the values of a tracer it returns, one level down (grad and jvp through a scope)', () => {
    const x = tensor([0.5, -2], { dtype: 'float64' });
    const scoped = (v: Tensor) => tidy(() => v.mul(3).add(1));
    expect(Array.from(grad((v: Tensor) => scoped(v).square().sum())(x).dataSync())).toEqual(
      [0.5, -2].map((v) => expect.closeTo(6 * (3 * v + 1), 12)),
    );
    const [value, tangent] = jvp(scoped, [x], [tensor([1, 1], { dtype: 'float64' })]);
    expect(Array.from(value.dataSync())).toEqual([2.5, -5]);
    expect(Array.from(tangent.dataSync())).toEqual([3, 3]);
  });
});
