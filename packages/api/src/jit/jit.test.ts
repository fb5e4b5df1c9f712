import '@flint/backend-cpu';
import {
  abs,
  add,
  ConcretizationError,
  DisposedError,
  dispose,
  exp,
  grad,
  greater,
  index,
  jit,
  logSumExp,
  matmul,
  maximum,
  mean,
  memory,
  mul,
  ones,
  randn,
  sqrt,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  tidy,
  valueAndGrad,
  vmap,
  where,
} from '@flint/api';
import { afterEach, describe, expect, it, vi } from 'vitest';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

function expectClose(actual: Tensor, expected: Tensor, tolerance = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  const a = values(actual);
  const b = values(expected);
  const scale = Math.max(1, ...b.map(Math.abs));
  a.forEach((v, i) => {
    const w = b[i] as number;
    if (Number.isNaN(w)) expect(v).toBeNaN();
    else expect(Math.abs(v - w) / scale).toBeLessThanOrEqual(tolerance);
  });
}

// The elementwise chain of the benchmark: 10 ops with tanh and exp in it.
const chain = (x: Tensor): Tensor => {
  let y = mul(x, 0.5);
  y = add(y, 0.25);
  y = tanh(y);
  y = mul(y, x);
  y = exp(y);
  y = sub(y, 1);
  y = abs(y);
  y = sqrt(y);
  y = add(y, x);
  return maximum(y, 0);
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('jit', () => {
  it('compiles an elementwise chain into one fused kernel and matches eager evaluation', () => {
    const f = jit(chain);
    for (const size of [5, 1000, 5000]) {
      const x = randn([size]);
      expectClose(f(x), chain(x));
    }
    const lowered = f.lower(randn([1000]));
    expect(lowered.optimized.equations).toHaveLength(1);
    expect(lowered.optimized.equations[0]?.kind).toBe('fusion');
    expect(lowered.compiledKernels).toBe(1);
    expect(lowered.toString()).toContain('elementwise fusion');
    expect(lowered.compileTimeMs).toBeGreaterThan(0);
  });

  it('caches per input signature: hits for the same shapes, retraces for new shapes and dtypes', () => {
    let traces = 0;
    const f = jit((x: Tensor) => {
      traces++;
      return mul(x, 2);
    });
    f(randn([3]));
    f(randn([3]));
    expect(traces).toBe(1);
    expect(f.stats).toEqual({ hits: 1, misses: 1, inline: 0, compiles: 1 });
    expect(f(randn([2, 2])).shape).toEqual([2, 2]);
    expect(traces).toBe(2);
    f(tensor([1, 2, 3], { dtype: 'float64' }));
    expect(traces).toBe(3);
    expect(f.cacheSize).toBe(3);
    f.clearCache();
    expect(f.cacheSize).toBe(0);
    f(randn([3]));
    expect(traces).toBe(4);
  });

  it('keeps at most maxCacheSize signatures, dropping the least recently used', () => {
    let traces = 0;
    const f = jit(
      (x: Tensor) => {
        traces++;
        return mul(x, 2);
      },
      { maxCacheSize: 2 },
    );
    f(randn([1]));
    f(randn([2]));
    f(randn([1])); // [1] is now the most recent: [2] goes when [3] comes
    f(randn([3]));
    expect(f.cacheSize).toBe(2);
    expect(traces).toBe(3);
    f(randn([1]));
    expect(traces).toBe(3);
    f(randn([2]));
    expect(traces).toBe(4);
    expect(() => jit((x: Tensor) => x, { maxCacheSize: 0 })).toThrow('jit: maxCacheSize must be a positive integer, got 0');
  });

  it('unrolls JavaScript control flow on static arguments and shapes at trace time', () => {
    const power = jit(
      (x: Tensor, n: number) => {
        let y = x;
        for (let i = 1; i < n; i++) y = mul(y, x);
        return x.shape[0] === 3 ? y : y.neg();
      },
      { staticArgnums: [1] },
    );
    const x = tensor([1, 2, 3]).astype('float32');
    expect(values(power(x, 3))).toEqual([1, 8, 27]);
    expect(values(power(x, 2))).toEqual([1, 4, 9]);
    expect(values(power(tensor([2, 2]).astype('float32'), 2))).toEqual([-4, -4]);
    expect(power.cacheSize).toBe(3);
  });

  it('takes and returns pytrees, with non-tensor leaves passed through', () => {
    const f = jit((p: { w: Tensor; b: Tensor }, x: Tensor) => ({ y: add(matmul(x, p.w), p.b), tag: 'ok', n: [x.shape[0]] }));
    const p = { w: randn([4, 3]), b: randn([3]) };
    const x = randn([2, 4]);
    const out = f(p, x);
    expect(out.tag).toBe('ok');
    expect(out.n).toEqual([2]);
    expectClose(out.y, add(matmul(x, p.w), p.b));
  });

  it('raises a ConcretizationError naming the op when the function reads a traced value', () => {
    const f = jit((x: Tensor) => ((sum(x).item() as number) > 0 ? x : x.neg()));
    expect(() => f(randn([3]))).toThrow(ConcretizationError);
    expect(() => f(randn([3]))).toThrow(/item: inside a jit-compiled function/);
    // A result shape that depends on values: boolean-mask indexing.
    const g = jit((x: Tensor) => index(x, greater(x, 0)));
    expect(() => g(randn([4]))).toThrow(ConcretizationError);
    expect(() => g(randn([4]))).toThrow(/boolean mask/);
  });

  it('stages where() for data-dependent choices', () => {
    const f = jit((x: Tensor) => where(greater(x, 0), x, mul(x, 0.1)));
    const x = tensor([-1, 2, -3, 4]).astype('float32');
    expectClose(f(x), tensor([-0.1, 2, -0.3, 4]).astype('float32'));
  });

  it('stages creation ops and folds them, with identities simplified away', () => {
    const f = jit((x: Tensor) => add(x, mul(ones([3]), 2)));
    const text = f.lower(randn([3])).toString();
    expect(text).not.toContain('full');
    expect(text).toContain('add %0 2.0');
    expect(values(f(tensor([1, 2, 3]).astype('float32')))).toEqual([3, 4, 5]);
    const g = jit((x: Tensor) => x.add(1).mul(1).add(0));
    const simplified = g.lower(randn([3])).toString();
    expect(simplified).toContain('add %0 1.0');
    expect(simplified).not.toContain('mul');
  });

  it('donates arguments: their tensors are consumed and their memory reused', () => {
    const step = jit((w: Tensor, g: Tensor) => sub(w, mul(g, 0.1)), { donateArgnums: [0] });
    let w = randn([64, 64]);
    const g = randn([64, 64]);
    const expected = sub(w, mul(g, 0.1));
    const before = w;
    w = step(w, g);
    expect(before.isDisposed).toBe(true);
    expect(() => before.dataSync()).toThrow(DisposedError);
    expectClose(w, expected);
    // Steady state: a step allocates no new buffer, it writes into the donated one.
    w = step(w, g);
    const buffers = memory().buffers;
    for (let i = 0; i < 5; i++) w = step(w, g);
    expect(memory().buffers).toBe(buffers);
    expect(g.isDisposed).toBe(false);
  });

  it('does not write into arguments that are not donated', () => {
    const f = jit((x: Tensor) => exp(mul(x, 2)));
    const x = tensor([0, 1, 2]).astype('float32');
    f(x);
    expect(values(x)).toEqual([0, 1, 2]);
  });

  it('frees every intermediate: repeated calls hold no extra memory', () => {
    const f = jit((x: Tensor, w: Tensor) => {
      const h = maximum(matmul(x, w), 0);
      return [sum(h), exp(h).mean()];
    });
    const x = randn([8, 16]);
    const w = randn([16, 16]);
    dispose(f(x, w));
    const start = memory().buffers;
    for (let i = 0; i < 5; i++) dispose(f(x, w));
    expect(memory().buffers).toBe(start);
  });

  it('returns inputs and repeated outputs as separate tensors', () => {
    const f = jit((x: Tensor) => [x, x, mul(x, 2), mul(x, 2)]);
    const x = tensor([1, 2]).astype('float32');
    const [a, b, c, d] = f(x) as Tensor[];
    a?.dispose();
    expect(values(b as Tensor)).toEqual([1, 2]);
    c?.dispose();
    expect(values(d as Tensor)).toEqual([2, 4]);
    expect(values(x)).toEqual([1, 2]);
  });

  it('dumps the IR before and after each pass when FLINT_DUMP_IR is set', () => {
    vi.stubEnv('FLINT_DUMP_IR', '1');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    jit((x: Tensor) => mul(add(x, 0), 1), { name: 'dumped' }).lower(randn([2]));
    const text = errors.mock.calls.map((c) => String(c[0])).join('\n');
    errors.mockRestore();
    expect(text).toContain('IR before algebraic simplification');
    expect(text).toContain('IR after algebraic simplification');
    expect(text).toContain('program dumped');
  });
});

describe('jit with the other transforms', () => {
  const loss = (w: Tensor, x: Tensor): Tensor => mean(tanh(matmul(x, w)).square());

  it('jit(grad(f)) stages the backward pass and matches grad(f)', () => {
    const w = randn([4, 3]);
    const x = randn([5, 4]);
    const jitted = jit(grad(loss));
    expectClose(jitted(w, x), grad(loss)(w, x));
    const [value, gradient] = jit(valueAndGrad(loss))(w, x);
    expectClose(value, loss(w, x));
    expectClose(gradient, grad(loss)(w, x));
    expect(jitted.lower(w, x).toString()).toContain('dotGeneral');
  });

  it('grad(jit(f)) and vmap(jit(f)) keep the jitted call compiled under the outer transform', () => {
    const w = randn([4, 3]);
    const x = randn([5, 4]);
    const jitted = jit(loss);
    expectClose(grad(jitted)(w, x), grad(loss)(w, x));
    expect(jitted.stats.inline).toBe(0);
    expect(jitted.stats.compiles).toBe(2); // forward with residuals, backward
    const perRow = jit((row: Tensor) => sum(exp(row)));
    expectClose(vmap(perRow)(x), sum(exp(x), 1));
  });

  it('jit(vmap(f)) compiles the batched function', () => {
    const x = randn([6, 4]);
    const f = jit(vmap((row: Tensor) => logSumExp(row)));
    expectClose(f(x), logSumExp(x, 1));
  });

  it('a jitted function that closes over an outer tracer runs inline, so the gradient flows through it', () => {
    const c = randn([3]);
    const outer = (x: Tensor): Tensor => sum(jit((y: Tensor) => mul(y, x))(c));
    expectClose(grad(outer)(randn([3])), c);
  });
});

describe('jit and tidy', () => {
  it('keeps what compiling made alive when the first call runs inside tidy', () => {
    const f = jit((x: Tensor) => add(mul(x, exp(tensor([1, 2, 3]).astype('float32'))), 1));
    const x = tensor([1, 1, 1]).astype('float32');
    const first = values(tidy(() => f(x)));
    expect(values(f(x))).toEqual(first);
    expect(first[0]).toBeCloseTo(Math.E + 1, 5);
  });
});
