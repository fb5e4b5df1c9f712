import '@flint/backend-cpu';
import { grad, jvp, ShapeError, type Tensor, tensor, tidy, ValueError, vjp, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';

const f64 = (data: number | number[] | number[][] | number[][][]): Tensor => tensor(data, { dtype: 'float64' });
const values = (t: unknown): number[] => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
const close = (t: unknown, expected: number[]) =>
  expect(values(t).map((v) => Number(v.toFixed(9)))).toEqual(expected.map((v) => Number(v.toFixed(9))));

describe('vmap', () => {
  const xs = f64([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);

  it('maps over axis 0 by default', () => {
    const y = vmap((x: Tensor) => x.mul(x).sum())(xs);
    expect(y.shape).toEqual([3]);
    close(y, [5, 25, 61]);
  });

  it('takes inAxes per argument, null for shared arguments, and negative axes', () => {
    const w = f64([10, 100]);
    const y = vmap((x: Tensor, v: Tensor) => x.mul(v).sum(), { inAxes: [0, null] })(xs, w);
    close(y, [210, 430, 650]);
    const cols = vmap((c: Tensor) => c.sum(), { inAxes: -1 })(xs);
    close(cols, [9, 12]);
  });

  it('places the batch with outAxes, and broadcasts unbatched outputs', () => {
    const y = vmap((x: Tensor) => x.mul(2), { outAxes: 1 })(xs);
    expect(y.shape).toEqual([2, 3]);
    close(y, [2, 6, 10, 4, 8, 12]);
    const constant = vmap((_x: Tensor) => f64([7]), { inAxes: 0 })(xs);
    expect(constant.shape).toEqual([3, 1]);
    const shared = vmap((x: Tensor): [Tensor, Tensor] => [x.sum(), f64([1])], { outAxes: [0, null] })(xs);
    expect(shared[1].shape).toEqual([1]);
  });

  it('maps over pytrees with prefix inAxes', () => {
    const batch = { x: xs, scale: f64(2) };
    const y = vmap((b: typeof batch) => b.x.sum().mul(b.scale), { inAxes: [{ x: 0, scale: null }] })(batch);
    close(y, [6, 14, 22]);
  });

  it('nests: an outer product', () => {
    const a = f64([1, 2, 3]);
    const b = f64([10, 20]);
    const outer = vmap((x: Tensor) => vmap((y: Tensor) => x.mul(y))(b))(a);
    expect(outer.shape).toEqual([3, 2]);
    close(outer, [10, 20, 20, 40, 30, 60]);
  });

  it('composes with grad both ways: per-example gradients and gradients of batched functions', () => {
    const w = f64([1, -1]);
    const loss = (weights: Tensor, x: Tensor) => weights.mul(x).sum().square();
    const perExample = vmap(grad(loss), { inAxes: [null, 0] })(w, xs);
    expect(perExample.shape).toEqual([3, 2]);
    // d/dw (w.x)^2 = 2 (w.x) x, with w.x = -1 for every row.
    close(perExample, [-2, -4, -6, -8, -10, -12]);
    const total = grad((weights: Tensor) => vmap((x: Tensor) => loss(weights, x))(xs).sum())(w);
    close(total, [-18, -24]);
  });

  it('per-example gradients of a function that uses tidy: the pullback still reads the batched values the scope made', () => {
    // grad under vmap saves batched tracers; the tidy scope ends before the pullback runs, and
    // retaining a tracer must keep the concrete values it wraps alive.
    const loss = (x: Tensor) => tidy(() => x.mul(x.exp()).sum());
    const perExample = vmap(grad(loss))(xs);
    const expected = values(xs).map((v) => Math.exp(v) * (1 + v));
    close(perExample, expected);
    const pulled = vmap((x: Tensor) => vjp((v: Tensor) => tidy(() => v.mul(v.exp())), x)[1](f64([1, 1]))[0] as Tensor)(xs);
    close(pulled, expected);
  });

  it('composes with jvp', () => {
    const [, t] = jvp(
      vmap((x: Tensor) => x.sin()),
      [f64([0, 1])],
      [f64([1, 1])],
    );
    close(t, [1, Math.cos(1)]);
    const perRow = vmap((x: Tensor) => jvp((y: Tensor) => y.exp(), [x], [x])[1])(f64([0, 1]));
    close(perRow, [0, Math.E]);
  });

  it('reports mismatched sizes, bad axes, and batched outputs with outAxes null', () => {
    expect(() => vmap((a: Tensor, b: Tensor) => a.add(b))(f64([1, 2]), f64([1, 2, 3]))).toThrow(ShapeError);
    expect(() => vmap((a: Tensor) => a, { inAxes: 2 })(f64([1, 2]))).toThrow(ShapeError);
    expect(() => vmap((a: Tensor) => a, { outAxes: null })(f64([1, 2]))).toThrow(/outAxes entry is null/);
    expect(() => vmap((a: Tensor) => a, { inAxes: [0, 0] })(f64([1]))).toThrow(ValueError);
    expect(() => vmap((a: Tensor) => a, { inAxes: null })(f64([1]))).toThrow(/axisSize/);
  });

  it('maps with axisSize when nothing is batched', () => {
    const y = vmap(() => f64([1, 2]), { inAxes: null, axisSize: 3 })();
    expect(y.shape).toEqual([3, 2]);
  });

  it('errors in per-example shapes name the per-example shapes', () => {
    expect(() => vmap((x: Tensor) => x.reshape([3]))(xs)).toThrow(/\[2\].*\[3\]|\[3\].*\[2\]/);
  });
});
