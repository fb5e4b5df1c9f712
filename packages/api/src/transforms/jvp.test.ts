import '@flint/backend-cpu';
import { DTypeError, grad, jvp, linearize, ShapeError, type Tensor, tensor, ValueError, vjp } from '@flint/api';
import { describe, expect, it } from 'vitest';

const f64 = (data: number | number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' });
const values = (t: unknown): number[] => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
const close = (t: unknown, expected: number[]) =>
  expect(values(t).map((v) => Number(v.toFixed(9)))).toEqual(expected.map((v) => Number(v.toFixed(9))));

describe('jvp', () => {
  it('gives the output and the directional derivative', () => {
    const [y, dy] = jvp((x: Tensor) => x.sin().mul(x), [f64([0, 1])], [f64([1, 2])]);
    close(y, [0, Math.sin(1)]);
    close(dy, [0, 2 * (Math.cos(1) + Math.sin(1))]);
  });

  it('handles pytrees of primals, tangents and outputs', () => {
    const f = (p: { a: Tensor; b: Tensor }) => [p.a.mul(p.b), p.a.sum()];
    const [out, tangent] = jvp(f, [{ a: f64([1, 2]), b: f64([3, 4]) }], [{ a: f64([1, 0]), b: f64([0, 1]) }]);
    close(out[0], [3, 8]);
    close(tangent[0], [3, 2]);
    close(tangent[1], [1]);
  });

  it('returns zero tangents for outputs that do not depend on the input', () => {
    const [, t] = jvp((x: Tensor) => [x.mul(0).add(1), f64([5])], [f64([1])], [f64([1])]);
    close(t[0], [0]);
    close(t[1], [0]);
  });

  it('computes Hessian-vector products forward over reverse: jvp(grad(f))', () => {
    // f = sum(x^3) / 3: H = diag(2x).
    const f = (x: Tensor) => x.pow(3).sum().div(3);
    const [g, hv] = jvp(grad(f), [f64([1, 2, 3])], [f64([1, 1, 0])]);
    close(g, [1, 4, 9]);
    close(hv, [2, 4, 0]);
  });

  it('agrees with vjp: <u, J v> = <J^T u, v>', () => {
    const f = (x: Tensor) => x.exp().cumsum(0).mul(x.flip(0));
    const x = f64([0.1, -0.4, 0.7]);
    const [u, v] = [f64([1, -2, 0.5]), f64([0.3, 0.2, -1])];
    const [, jv] = jvp(f, [x], [v]);
    const [ju] = vjp(f, x)[1](u);
    expect(values(jv.mul(u).sum())[0]).toBeCloseTo(values(ju.mul(v).sum())[0] as number, 10);
  });

  it('checks tangents against primals', () => {
    expect(() => jvp((x: Tensor) => x, [f64([1, 2])], [f64([1])])).toThrow(ShapeError);
    expect(() => jvp((x: Tensor) => x, [f64([1])], [[f64([1])]] as never)).toThrow(ValueError);
  });

  it('refuses an integer primal as grad does, instead of a silent zero tangent', () => {
    // tensor([0.0]) is int32: 0.0 is 0 to JavaScript.
    const run = () => jvp((v: Tensor) => v.sin(), [tensor([0.0])], [tensor([1.0])]);
    expect(run).toThrow(DTypeError);
    expect(run).toThrow(
      /^jvp: can only differentiate with respect to floating-point tensors, but primal leaf 0 has dtype int32 \(JavaScript numbers with no fractional part, such as 1\.0, are inferred as int32\); create it with \{ dtype: 'float32' \}.*; or close over it instead of passing it as a primal$/,
    );
    expect(() => jvp((a: Tensor, b: Tensor) => a.add(b), [f64([1]), tensor([true])], [f64([1]), f64([1])])).toThrow(
      /^jvp: .* but primal leaf 1 has dtype bool; create it/,
    );
    expect(() => grad((v: Tensor) => v.sin().sum())(tensor([0.0]))).toThrow(
      /^grad: can only differentiate .* has dtype int32 \(JavaScript numbers/,
    );
    const [, tangent] = jvp((v: Tensor) => v.sin(), [tensor([0.0], { dtype: 'float32' })], [tensor([1.0], { dtype: 'float32' })]);
    close(tangent, [1]);
    // Closing over the integer input is the way to hold it constant.
    const index = tensor([1]);
    close(jvp((v: Tensor) => v.mul(index), [f64([2])], [f64([1])])[1], [1]);
  });

  it('composes with itself: second directional derivatives', () => {
    const f = (x: Tensor) => x.sin();
    const d2 = jvp((x: Tensor) => jvp(f, [x], [f64([1])])[1], [f64([0.5])], [f64([1])])[1];
    close(d2, [-Math.sin(0.5)]);
  });
});

describe('linearize', () => {
  it('evaluates once and applies the linear map many times', () => {
    let calls = 0;
    const f = (x: Tensor) => {
      calls++;
      return x.exp().mul(x);
    };
    const [y, jvpAt] = linearize(f, f64([0, 1]));
    close(y, [0, Math.E]);
    close(jvpAt(f64([1, 1])), [1, 2 * Math.E]);
    close(jvpAt(f64([2, 0])), [2, 0]);
    expect(calls).toBe(1);
  });

  it('matches jvp, including through nested grad', () => {
    const f = grad((x: Tensor) => x.sin().sum());
    const [, lin] = linearize(f, f64([0.2, 0.4]));
    const [, direct] = jvp(f, [f64([0.2, 0.4])], [f64([1, -1])]);
    close(lin(f64([1, -1])), values(direct));
  });
});
