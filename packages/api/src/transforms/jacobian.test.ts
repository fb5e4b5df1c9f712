import '@flint/backend-cpu';
import { hessian, jacfwd, jacrev, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';

const f64 = (data: number | number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' });
const values = (t: unknown): number[] => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
const close = (t: unknown, expected: number[]) =>
  expect(values(t).map((v) => Number(v.toFixed(9)))).toEqual(expected.map((v) => Number(v.toFixed(9))));

describe('jacobians', () => {
  const f = (x: Tensor) => x.mul(x.flip(0)); // y_i = x_i x_{n-1-i}
  const x = f64([1, 2, 3]);
  // J = [[2*3... ]]: dy0/dx0 = x2, dy0/dx2 = x0; dy1/dx1 = 2 x1; dy2/dx0 = x2, dy2/dx2 = x0.
  const expected = [3, 0, 1, 0, 4, 0, 3, 0, 1];

  it('jacrev and jacfwd agree with the analytic Jacobian, laid out [out, in]', () => {
    const jr = jacrev(f)(x) as Tensor;
    const jf = jacfwd(f)(x) as Tensor;
    expect(jr.shape).toEqual([3, 3]);
    expect(jf.shape).toEqual([3, 3]);
    close(jr, expected);
    close(jf, expected);
  });

  it('lay out matrix inputs and outputs as out shape + in shape', () => {
    const g = (m: Tensor) => m.sum(1);
    const m = f64([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const j = jacrev(g)(m) as Tensor;
    expect(j.shape).toEqual([3, 3, 2]);
    expect(values(jacfwd(g)(m))).toEqual(values(j));
  });

  it('handle several arguments and pytree outputs', () => {
    const h = (a: Tensor, b: Tensor) => ({ s: a.mul(b).sum(), p: a.add(b) });
    const j = jacrev(h, { argnums: [0, 1] })(f64([1, 2]), f64([3, 4])) as { s: Tensor[]; p: Tensor[] };
    close(j.s[0], [3, 4]);
    close(j.s[1], [1, 2]);
    expect(j.p[0]?.shape).toEqual([2, 2]);
    close(j.p[1], [1, 0, 0, 1]);
    const jf = jacfwd(h, { argnums: [0, 1] })(f64([1, 2]), f64([3, 4])) as { s: Tensor[]; p: Tensor[] };
    close(jf.s[0], [3, 4]);
    close(jf.p[1], [1, 0, 0, 1]);
  });

  it('hessian is forward over reverse', () => {
    // f = x0^2 x1 + x1^3: H = [[2 x1, 2 x0], [2 x0, 6 x1]].
    const f2 = (v: Tensor) => {
      const [a, b] = [v.slice([0], [1]).sum(), v.slice([1], [2]).sum()];
      return a.square().mul(b).add(b.pow(3));
    };
    const hess = hessian(f2)(f64([1, 2])) as Tensor;
    expect(hess.shape).toEqual([2, 2]);
    close(hess, [4, 2, 2, 12]);
  });
});
