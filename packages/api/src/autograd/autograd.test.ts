import '@flint/backend-cpu';
import {
  checkpoint,
  customJvp,
  customVjp,
  DTypeError,
  enableGrad,
  grad,
  isGradEnabled,
  noGrad,
  Parameter,
  ShapeError,
  type Tensor,
  tensor,
  tidy,
  ValueError,
  vmap,
} from '@flint/api';
import { describe, expect, it } from 'vitest';

const leaf = (data: number | number[]): Tensor => tensor(data, { dtype: 'float64', requiresGrad: true });
const f64 = (data: number | number[]): Tensor => tensor(data, { dtype: 'float64' });
const values = (t: unknown): number[] => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
const close = (t: unknown, expected: number[]) =>
  expect(values(t).map((v) => Number(v.toFixed(9)))).toEqual(expected.map((v) => Number(v.toFixed(9))));

describe('backward()', () => {
  it('accumulates gradients into leaves', () => {
    const x = leaf([1, 2, 3]);
    const w = leaf(2);
    x.mul(w).square().sum().backward();
    close(x.grad, [8, 16, 24]);
    close(w.grad, [2 * 2 * (1 + 4 + 9)]);
    expect(x.isLeaf).toBe(true);
    expect(x.gradFn).toBeNull();
  });

  it('accumulates across calls, and records results as non-leaves', () => {
    const x = leaf([1, 2]);
    const y = x.mul(3);
    expect(y.requiresGrad).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(y.gradFn).toBe('mul');
    y.sum().backward();
    x.mul(x).sum().backward();
    close(x.grad, [3 + 2, 3 + 4]);
    expect(y.grad).toBeNull();
  });

  it('takes an explicit gradient for non-scalar outputs, and requires one otherwise', () => {
    const x = leaf([1, 2]);
    const y = x.square();
    expect(() => y.backward()).toThrow(ShapeError);
    expect(() => y.backward()).toThrow(/implicitly created only for scalar outputs/);
    expect(() => y.backward(f64([1, 2, 3]))).toThrow(ShapeError);
    y.backward(f64([1, 10]));
    close(x.grad, [2, 40]);
  });

  it('refuses a second backward through a freed graph, unless retainGraph', () => {
    const x = leaf([1]);
    const y = x.exp().sum();
    y.backward({ retainGraph: true });
    y.backward();
    close(x.grad, [2 * Math.E]);
    expect(() => y.backward()).toThrow(/backward through the graph a second time.*retainGraph/);
  });

  it('refuses outputs that do not require grad', () => {
    expect(() => f64([1]).sum().backward()).toThrow(/does not require grad/);
    expect(() =>
      noGrad(() => leaf([1]).mul(2))
        .sum()
        .backward(),
    ).toThrow(/does not require grad/);
  });

  it('differentiates twice with createGraph', () => {
    const x = leaf(2);
    const y = x.pow(3);
    y.backward({ createGraph: true });
    const g = x.grad as Tensor;
    close(g, [12]);
    expect(g.requiresGrad).toBe(true);
    x.grad = null;
    g.backward();
    close(x.grad, [12]);
  });

  it('detach() and noGrad() stop recording; enableGrad() restarts it', () => {
    const x = leaf([2]);
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    close(d, [2]);
    x.mul(d).sum().backward();
    close(x.grad, [2]);
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      expect(x.mul(2).requiresGrad).toBe(false);
      expect(enableGrad(() => x.mul(2)).requiresGrad).toBe(true);
    });
    expect(isGradEnabled()).toBe(true);
  });

  it('runs hooks, which may replace the gradient, and retains non-leaf gradients on request', () => {
    const x = leaf([1, 2]);
    const h = x.mul(2);
    h.retainGrad();
    const seen: number[][] = [];
    const handle = h.registerHook((g) => {
      seen.push(values(g));
      return g.mul(10);
    });
    h.sum().backward();
    expect(seen).toEqual([[1, 1]]);
    close(h.grad, [10, 10]);
    close(x.grad, [20, 20]);
    handle.remove();
    x.grad = null;
    x.mul(2).sum().backward();
    close(x.grad, [2, 2]);
    x.registerHook((g) => g.mul(0));
    x.sum().backward();
    close(x.grad, [2, 2]);
  });

  it('says why a tensor that cannot require grad is int32, and how to fix it', () => {
    const make = () => tensor([1, 2], { dtype: 'int32', requiresGrad: true });
    expect(make).toThrow(DTypeError);
    expect(make).toThrow(
      /^requiresGrad: only tensors of floating-point dtype can require gradients, got int32 \(JavaScript numbers with no fractional part, such as 1\.0, are inferred as int32\); create it with \{ dtype: 'float32' \}/,
    );
    expect(() => {
      tensor([1.0]).requiresGrad = true;
    }).toThrow(/got int32 \(JavaScript numbers with no fractional part/);
    expect(() => tensor([true], { requiresGrad: true })).toThrow(/can require gradients, got bool; create it with \{ dtype: 'float32' \}/);
  });

  it('checks requiresGrad: floats only, leaves only', () => {
    // Whole JavaScript numbers infer float32 when they require grad; an explicit integer dtype cannot.
    expect(tensor([1, 2], { requiresGrad: true }).dtype).toBe('float32');
    expect(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(DTypeError);
    const y = leaf([1]).mul(2);
    expect(() => {
      y.requiresGrad = false;
    }).toThrow(/leaf/);
    const z = f64([1]);
    z.requiresGrad = true;
    expect(z.requiresGrad).toBe(true);
    z.requiresGrad = false;
    expect(z.requiresGrad).toBe(false);
  });

  it('gives the same gradients as the functional grad, and mixes with it', () => {
    const f = (x: Tensor) => x.sin().mul(x.exp()).cumsum(0).sum();
    const x = leaf([0.1, 0.2, 0.3]);
    f(x).backward();
    close(x.grad, values(grad(f)(f64([0.1, 0.2, 0.3]))));
    // backward through a functional gradient: d/dx sum(grad(sum x^3)) = 6x.
    const z = leaf([1, 2]);
    grad((t: Tensor) => t.pow(3).sum())(z)
      .sum()
      .backward();
    close(z.grad, [6, 12]);
    // grad of a function that uses a requiresGrad tensor: the tape records through it.
    const w = leaf(3);
    const g = grad((t: Tensor) => t.mul(w).square().sum())(f64([1]));
    close(g, [18]);
    g.sum().backward();
    close(w.grad, [12]); // d/dw (2 t w^2) = 4 t w
    // vmap over requiresGrad tensors records the batched ops.
    const v = leaf([1, 2]);
    vmap((t: Tensor) => t.square())(v)
      .sum()
      .backward();
    close(v.grad, [2, 4]);
  });

  it('runs custom rules and checkpoint', () => {
    const ste = customVjp((x: Tensor) => x.round(), { fwd: (x) => [x.round(), null], bwd: (_, g) => [g.mul(2)] });
    const x = leaf([0.4, 1.6]);
    ste(x).sum().backward();
    close(x.grad, [2, 2]);
    const soft = customJvp(
      (t: Tensor) => t.exp().log1p(),
      ([t], [dt]) => [t.exp().log1p(), dt.mul(t.sigmoid())],
    );
    const y = leaf([1000]);
    soft(y).sum().backward();
    close(y.grad, [1]);
    const z = leaf([0.5]);
    checkpoint((t: Tensor) => t.sin().square())(z)
      .sum()
      .backward();
    close(z.grad, [Math.sin(1)]);
  });

  it('keeps gradients past the end of a tidy scope', () => {
    const x = leaf([1, 2]);
    tidy(() => {
      x.square().sum().backward();
    });
    close(x.grad, [2, 4]);
  });
});

describe('Parameter', () => {
  it('holds a value whose gradient survives replacement, and zeroGrad frees it', () => {
    const p = new Parameter(f64([1, 2]));
    expect(p.requiresGrad).toBe(true);
    p.value.square().sum().backward();
    close(p.grad, [2, 4]);
    const old = p.value;
    p.value = noGrad(() => old.sub((p.grad as Tensor).mul(0.5)));
    close(p.value, [0, 0]);
    close(p.grad, [2, 4]);
    p.value.add(1).sum().backward();
    close(p.grad, [3, 5]);
    const g = p.grad as Tensor;
    p.zeroGrad();
    expect(p.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
  });

  it('can be frozen, and takes JavaScript values', () => {
    const p = new Parameter([1, 2], { requiresGrad: false, name: 'bias' });
    expect(p.dtype).toBe('float32');
    expect(p.value.requiresGrad).toBe(false);
    p.requiresGrad = true;
    expect(p.value.requiresGrad).toBe(true);
    expect(p.toString()).toContain("Parameter 'bias'");
    expect(() => new Parameter(tensor([1, 2]))).toThrow(DTypeError);
    expect(() => new Parameter(tensor([1.0, 2.0]))).toThrow(
      /^Parameter: only tensors of floating-point dtype can require gradients, got int32 \(JavaScript numbers with no fractional part, such as 1\.0, are inferred as int32\); create it with \{ dtype: 'float32' \}, e\.g\. tensor\(\[1, 2\], \{ dtype: 'float32' \}\), or convert it with x\.float\(\)$/,
    );
    expect(() => grad((t: Tensor) => new Parameter(t).value.sum())(f64([1]))).toThrow(ValueError);
  });
});
