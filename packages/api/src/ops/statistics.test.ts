import '@flint/backend-cpu';
import {
  aminmax,
  corrcoef,
  cov,
  cumulativeTrapezoid,
  grad,
  mean,
  std,
  stdMean,
  type Tensor,
  tensor,
  trapezoid,
  variance,
  varMean,
} from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  describeAgainstTorch,
  expectValuesClose,
  runTorch,
  type TorchCase,
  type TorchResult,
} from '../../../../test/support/torch-oracle.test-support.js';

// ops/statistics.ts: hand-computed values, shapes and dtypes, argument checks, and values and
// gradients against PyTorch.

const values = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);
const f64 = (xs: readonly number[], shape?: number[]): Tensor => tensor([...xs], { dtype: 'float64', ...(shape ? { shape } : {}) });

describe('varMean, stdMean, aminmax', () => {
  const x = f64([1, 2, 3, 4, 10, 20], [2, 3]);

  it('are the variance (or std) and the mean, with the same options', () => {
    const [v, m] = varMean(x, 1, { correction: 0, keepdims: true });
    expect(v.shape).toEqual([2, 1]);
    expect(values(v)).toEqual(values(variance(x, 1, { correction: 0, keepdims: true })));
    expect(values(m)).toEqual([2, 34 / 3]);
    const [s, m2] = stdMean(x);
    expect(values(s)).toEqual(values(std(x)));
    expect(values(m2)).toEqual(values(mean(x)));
    const [, kept] = varMean(x, 0, true);
    expect(kept.shape).toEqual([1, 3]);
    expect(varMean(tensor([1, 2, 3], { dtype: 'int32' }))[1].dtype).toBe('float32');
  });

  it('aminmax gives both extremes', () => {
    const { min, max } = aminmax(x, { axis: 1 });
    expect(values(min)).toEqual([1, 4]);
    expect(values(max)).toEqual([3, 20]);
    const all = aminmax(
      tensor(
        [
          [3, -1],
          [7, 2],
        ],
        { dtype: 'int32' },
      ),
    );
    expect([all.min.shape, all.min.dtype, values(all.min), values(all.max)]).toEqual([[], 'int32', [-1], [7]]);
    expect(aminmax(x, { axis: 0, keepdims: true }).max.shape).toEqual([1, 3]);
    expect(() => aminmax(f64([]))).toThrow(/empty/);
    // @ts-expect-error: torch's dim keyword is refused with the spelling.
    expect(() => aminmax(x, { dim: 1 })).toThrow(/axis/);
  });
});

describe('cov and corrcoef', () => {
  it('cov of one variable is its variance, of rows the covariance matrix', () => {
    expectValuesClose('cov', values(cov(f64([1, 2, 4]))), [7 / 3], { rtol: 3e-16 });
    expect(cov(f64([1, 2, 4])).shape).toEqual([]);
    expectValuesClose('cov', values(cov(f64([0, 1, 2, 2, 1, 0], [2, 3]))), [1, -1, -1, 1], { rtol: 1e-15 });
    expectValuesClose(
      'cov (correction 0)',
      values(cov(f64([0, 1, 2, 2, 1, 0], [2, 3]), { correction: 0 })),
      [2 / 3, -2 / 3, -2 / 3, 2 / 3],
      {
        rtol: 1e-15,
      },
    );
  });

  it('weights count observations: fweights as repetitions', () => {
    const weighted = cov(f64([1, 2, 4]), { fweights: tensor([1, 3, 2], { dtype: 'int32' }) });
    expectValuesClose('fweights', values(weighted), values(cov(f64([1, 2, 2, 2, 4, 4]))), { rtol: 1e-15 });
    expect(() => cov(f64([1, 2]), { fweights: f64([1, 1]) })).toThrow(/integer/);
    expect(() => cov(f64([1, 2]), { aweights: tensor([1, 1], { dtype: 'int32' }) })).toThrow(/floating/);
    expect(() => cov(f64([1, 2]), { aweights: f64([1, 1, 1]) })).toThrow(/2 entries/);
    expect(() => cov(f64([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]))).toThrow(/2-d/);
  });

  it('corrcoef is clipped to [-1, 1]; a constant variable gives NaN', () => {
    expectValuesClose('corrcoef', values(corrcoef(f64([0, 1, 2, 2, 1, 0], [2, 3]))), [1, -1, -1, 1], { rtol: 1e-15 });
    const constant = values(corrcoef(f64([1, 2, 4, 3, 3, 3], [2, 3])));
    expect(constant[0]).toBe(1);
    expect(constant.slice(1).every(Number.isNaN)).toBe(true);
    expect(values(corrcoef(f64([1, 2, 4])))).toEqual([1]);
  });
});

describe('trapezoid and cumulativeTrapezoid', () => {
  it('integrate with unit spacing, dx or sample points', () => {
    expect(values(trapezoid(f64([1, 2, 3])))).toEqual([4]);
    expect(values(trapezoid(f64([1, 2, 3]), { dx: 2 }))).toEqual([8]);
    expect(values(trapezoid(f64([1, 2, 3]), { x: f64([0, 1, 4]) }))).toEqual([9]);
    expect(values(trapezoid(f64([1, 2, 3, 4], [2, 2]), { axis: 0 }))).toEqual([2, 3]);
    expect(values(trapezoid(f64([1, 2, 3, 4], [2, 2]), { x: f64([0, 1, 0, 3], [2, 2]) }))).toEqual([1.5, 10.5]);
    expect(values(trapezoid(f64([])))).toEqual([0]);
    expect(values(trapezoid(f64([5])))).toEqual([0]);
    expect(trapezoid(tensor([1, 2, 3], { dtype: 'int32' })).dtype).toBe('float32');
    expect(values(cumulativeTrapezoid(f64([1, 2, 3])))).toEqual([1.5, 4]);
    expect(values(cumulativeTrapezoid(f64([1, 2, 3]), { x: f64([0, 1, 4]) }))).toEqual([1.5, 9]);
    expect(cumulativeTrapezoid(f64([1])).shape).toEqual([0]);
  });

  it('check their arguments', () => {
    expect(() => trapezoid(f64([1, 2]), { x: f64([0, 1]), dx: 1 })).toThrow(/not both/);
    expect(() => trapezoid(f64([1, 2]), { x: f64([0, 1, 2]) })).toThrow(/length/);
    // @ts-expect-error: PyTorch's positional x is refused with the fix in the message.
    expect(() => trapezoid(f64([1, 2]), f64([0, 1]))).toThrow(/x/);
    expect(() => trapezoid(tensor(1))).toThrow(/at least 1 dimension/);
  });

  it('differentiate with respect to the samples and the points', () => {
    const [gy, gx] = grad((y: Tensor, x: Tensor) => trapezoid(y, { x }).sum(), { argnums: [0, 1] })(
      f64([1, 2, 3]),
      f64([0, 1, 4]),
    ) as Tensor[];
    // d/dy_i: (x_(i+1) - x_(i-1)) / 2 inside, half a width at the ends; d/dx_i: (y_(i-1) - y_(i+1)) / 2.
    expect(values(gy as Tensor)).toEqual([0.5, 2, 1.5]);
    expect(values(gx as Tensor)).toEqual([-1.5, -1, 2.5]);
  });
});

const X = [0.3, -1.2, 2.5, 0.7, 1.9, -0.4, 3.3, 0.1, -2.2, 1.4, 0.8, -0.6, 2.1, -1.7, 0.5];

describeAgainstTorch('statistics against PyTorch', () => {
  const comparisons: { name: string; torch: string; flint: (x: Tensor) => Tensor; inputs: TorchCase['inputs'] }[] = [
    { name: 'cov', torch: 'torch.cov(x)', flint: (x) => cov(x), inputs: { x: { values: X, shape: [3, 5] } } },
    {
      name: 'cov (correction 0)',
      torch: 'torch.cov(x, correction=0)',
      flint: (x) => cov(x, { correction: 0 }),
      inputs: { x: { values: X, shape: [3, 5] } },
    },
    {
      name: 'cov (fweights and aweights)',
      torch: 'torch.cov(x, fweights=torch.tensor([1, 2, 1, 3, 1]), aweights=torch.tensor([0.5, 1, 2, 0.25, 1.5], dtype=torch.float64))',
      flint: (x) => cov(x, { fweights: tensor([1, 2, 1, 3, 1], { dtype: 'int32' }), aweights: f64([0.5, 1, 2, 0.25, 1.5]) }),
      inputs: { x: { values: X, shape: [3, 5] } },
    },
    {
      name: 'cov (aweights, correction 2)',
      torch: 'torch.cov(x, correction=2, aweights=torch.tensor([0.5, 1, 2, 0.25, 1.5], dtype=torch.float64))',
      flint: (x) => cov(x, { correction: 2, aweights: f64([0.5, 1, 2, 0.25, 1.5]) }),
      inputs: { x: { values: X, shape: [3, 5] } },
    },
    { name: 'cov (1-d)', torch: 'torch.cov(x)', flint: (x) => cov(x), inputs: { x: { values: X } } },
    { name: 'corrcoef', torch: 'torch.corrcoef(x)', flint: (x) => corrcoef(x), inputs: { x: { values: X, shape: [3, 5] } } },
    {
      name: 'var_mean',
      torch: 'torch.var_mean(x, 1, correction=0)[0] + 2 * torch.var_mean(x, 1, correction=0)[1]',
      flint: (x) => {
        const [v, m] = varMean(x, 1, { correction: 0 });
        return v.add(m.mul(2));
      },
      inputs: { x: { values: X, shape: [3, 5] } },
    },
    {
      name: 'std_mean',
      torch: 'torch.std_mean(x, 0)[0] + 2 * torch.std_mean(x, 0)[1]',
      flint: (x) => {
        const [s, m] = stdMean(x, 0);
        return s.add(m.mul(2));
      },
      inputs: { x: { values: X, shape: [3, 5] } },
    },
    {
      name: 'trapezoid',
      torch: 'torch.trapezoid(x, dx=0.5, dim=0)',
      flint: (x) => trapezoid(x, { dx: 0.5, axis: 0 }),
      inputs: { x: { values: X, shape: [3, 5] } },
    },
    {
      name: 'cumulative_trapezoid (x)',
      torch: 'torch.cumulative_trapezoid(x, torch.tensor([0, 0.5, 2, 2.5, 4], dtype=torch.float64))',
      flint: (x) => cumulativeTrapezoid(x, { x: f64([0, 0.5, 2, 2.5, 4]) }),
      inputs: { x: { values: X, shape: [3, 5] } },
    },
  ];
  let results: TorchResult[] = [];
  beforeAll(() => {
    results = runTorch(comparisons.map((c) => ({ expression: c.torch, inputs: c.inputs, gradients: ['x'] })));
  });
  comparisons.forEach((c, i) => {
    it(`${c.name}: values and gradients agree`, () => {
      const input = c.inputs.x as { values: number[]; shape?: number[] };
      const x = f64(input.values, input.shape);
      const expected = results[i] as TorchResult;
      const out = c.flint(x);
      expect(out.shape).toEqual(expected.outputs[0]?.shape);
      expectValuesClose(c.name, values(out), expected.outputs[0]?.values ?? [], { rtol: 1e-14, atol: 1e-15 });
      const g = grad((t: Tensor) => c.flint(t).sum())(x);
      expectValuesClose(`${c.name} gradient`, values(g), expected.gradients.x ?? [], { rtol: 1e-13, atol: 1e-14 });
    });
  });
});
