import '@flint/backend-cpu';
import { DTypeError, grad, ShapeError, type Tensor, tensor, ValueError, valueAndGrad, vjp } from '@flint/api';
import { describe, expect, it } from 'vitest';

const f64 = (data: number | number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' });
const values = (t: unknown): number[] => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
const close = (t: unknown, expected: number[]) =>
  expect(values(t).map((v) => Number(v.toFixed(9)))).toEqual(expected.map((v) => Number(v.toFixed(9))));

describe('grad', () => {
  it('differentiates a scalar function of one tensor', () => {
    const df = grad((x: Tensor) => x.mul(x).sum());
    close(df(f64([1, 2, 3])), [2, 4, 6]);
  });

  it('takes argnums as a number or a list', () => {
    const f = (a: Tensor, b: Tensor) => a.mul(b).sum();
    const [a, b] = [f64([1, 2]), f64([3, 4])];
    close(grad(f, { argnums: 1 })(a, b), [1, 2]);
    const [ga, gb] = grad(f, { argnums: [0, 1] })(a, b);
    close(ga, [3, 4]);
    close(gb, [1, 2]);
  });

  it('returns gradients in the structure of pytree arguments', () => {
    const params = { w: f64([1, 2]), layers: [f64(3), { b: f64([4]) }], none: null };
    const loss = (p: typeof params) =>
      p.w
        .sum()
        .mul(p.layers[0] as Tensor)
        .add((p.layers[1] as { b: Tensor }).b.square().sum());
    const g = grad(loss)(params);
    close(g.w, [3, 3]);
    close(g.layers[0], [3]);
    close((g.layers[1] as { b: Tensor }).b, [8]);
    expect(g.none).toBeNull();
  });

  it('passes aux through with hasAux, undifferentiated', () => {
    const f = (x: Tensor) => [x.square().sum(), { doubled: x.mul(2), label: 'ok' }] as const;
    const [g, aux] = grad(f, { hasAux: true })(f64([1, 2]));
    close(g, [2, 4]);
    close(aux.doubled, [2, 4]);
    expect(aux.label).toBe('ok');
    expect(aux.doubled.requiresGrad).toBe(false);
  });

  it('valueAndGrad returns both, and [[value, aux], grad] with hasAux', () => {
    const [value, g] = valueAndGrad((x: Tensor) => x.square().sum())(f64([3]));
    close(value, [9]);
    close(g, [6]);
    const [[v2, aux], g2] = valueAndGrad((x: Tensor) => [x.sum(), x.shape] as const, { hasAux: true })(f64([1, 1]));
    close(v2, [2]);
    expect(aux).toEqual([2]);
    close(g2, [1, 1]);
  });

  it('accepts JavaScript numbers as arguments, giving tensor gradients', () => {
    const g = grad((x: Tensor) => x.mul(x).mul(x))(2 as unknown as Tensor);
    close(g, [12]);
  });

  it('gives zeros for inputs the output does not depend on', () => {
    close(grad((_x: Tensor, y: Tensor) => y.sum(), { argnums: 0 })(f64([1, 2]), f64([3])), [0, 0]);
  });

  it('rejects non-scalar outputs, integer inputs and integer outputs', () => {
    expect(() => grad((x: Tensor) => x.mul(2))(f64([1, 2]))).toThrow(ShapeError);
    expect(() => grad((x: Tensor) => x.mul(2))(f64([1, 2]))).toThrow(/scalar.*shape \[2\]/);
    expect(() => grad((x: Tensor) => x.sum())(tensor([1, 2]))).toThrow(DTypeError);
    expect(() => grad((x: Tensor) => x.sum())(tensor([1, 2]))).toThrow(/floating-point.*int32/);
    expect(() => grad((x: Tensor) => x.argmax())(f64([1, 2]))).toThrow(DTypeError);
    expect(() => grad((x: Tensor) => x, { argnums: 3 })(f64(1))).toThrow(/argnums/);
  });

  it('nests: grad(grad(f)) is the second derivative', () => {
    const f = (x: Tensor) => x.sin().mul(x);
    const d2 = grad(grad(f));
    const x = 0.7;
    close(d2(f64(x)), [2 * Math.cos(x) - x * Math.sin(x)]);
    close(grad(grad(grad((t: Tensor) => t.pow(4))))(f64(2)), [48]);
  });

  it('does not confuse perturbations of nested grads', () => {
    // d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (a confused implementation gives 2).
    const g = grad((x: Tensor) => x.mul(grad((y: Tensor) => x.add(y))(f64(1))));
    close(g(f64(3)), [1]);
    // Inner grad closing over the outer variable: d/dx [d/dy (x * y)^2 at y=1] = d/dx [2 x^2] = 4x.
    const h = grad((x: Tensor) => grad((y: Tensor) => x.mul(y).square())(f64(1)));
    close(h(f64(2)), [8]);
  });

  it('reports an escaped tracer clearly', () => {
    let leaked: Tensor | undefined;
    grad((x: Tensor) => {
      leaked = x.mul(2);
      return x.sum();
    })(f64([1]));
    // With no transform active this takes the eager path, which refuses data-less values.
    expect(() => (leaked as Tensor).add(1)).toThrow(/escaped tracer|abstract traced value/);
    expect(() => grad((y: Tensor) => y.add(leaked as Tensor).sum())(f64([1]))).toThrow(/escaped tracer/);
    expect(() => (leaked as Tensor).dataSync()).toThrow(/abstract traced value/);
  });
});

describe('vjp', () => {
  it('returns the output and a pullback over pytrees', () => {
    const f = (a: Tensor, pair: { b: Tensor }) => ({ sum: a.add(pair.b), prod: [a.mul(pair.b)] });
    const [out, pullback] = vjp(f, f64([1, 2]), { b: f64([3, 4]) });
    close(out.sum, [4, 6]);
    const [da, dpair] = pullback({ sum: f64([1, 1]), prod: [f64([1, 0])] });
    close(da, [1 + 3, 1]);
    close(dpair.b, [1 + 1, 1]);
  });

  it('can be pulled back more than once', () => {
    const [, pullback] = vjp((x: Tensor) => x.exp(), f64([0, 1]));
    close(pullback(f64([1, 1]))[0], [1, Math.E]);
    close(pullback(f64([2, 0]))[0], [2, 0]);
  });

  it('checks the cotangent against the output', () => {
    const [, pullback] = vjp((x: Tensor) => x.mul(2), f64([1, 2]));
    expect(() => pullback(f64([1, 2, 3]))).toThrow(ShapeError);
    expect(() => pullback([f64([1, 2])] as unknown as Tensor)).toThrow(ValueError);
  });
});
