import '@flint/backend-cpu';
import {
  add,
  compile,
  customVjp,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jit,
  jvp,
  matmul,
  mean,
  memory,
  mul,
  nn,
  noGrad,
  randn,
  sigmoid,
  stopGradient,
  sum,
  type Tensor,
  tanh,
  tensor,
  tidy,
  vjp,
  vmap,
} from '@flint/api';
import { describe, expect, it } from 'vitest';
import { eagerDispatches } from '../tensor/dispatch.js';

// grad, jvp, vjp and vmap of a jitted function keep the call a compiled call: the transform
// derives the compiled JVP, forward/backward pair or batched program, instead of running the
// function's primitives eagerly under the transform.

function expectClose(actual: Tensor, expected: Tensor, tolerance = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const b = expected.dataSync();
  let scale = 1;
  for (const v of b) scale = Math.max(scale, Math.abs(v as number));
  for (let i = 0; i < a.length; i++) expect(Math.abs((a[i] as number) - (b[i] as number)) / scale).toBeLessThanOrEqual(tolerance);
}

/** Eager primitive dispatches while `fn` runs. */
function dispatchesOf(fn: () => void): number {
  const before = eagerDispatches.count;
  fn();
  return eagerDispatches.count - before;
}

const mlp = (w1: Tensor, w2: Tensor, x: Tensor): Tensor => {
  const h = tanh(matmul(x, w1));
  return mean(sigmoid(matmul(h, w2)).square());
};

describe('grad of a jitted function', () => {
  it('runs a compiled forward (with residuals) and a compiled backward, equal to eager', () => {
    const [w1, w2, x] = [randn([6, 8]), randn([8, 3]), randn([5, 6])];
    const jitted = jit(mlp);
    const g = grad(jitted, { argnums: [0, 1] });
    const expected = grad(mlp, { argnums: [0, 1] })(w1, w2, x);
    const first = g(w1, w2, x);
    expectClose(first[0], expected[0]);
    expectClose(first[1], expected[1]);
    expect(jitted.stats).toEqual({ hits: 0, misses: 1, inline: 0, compiles: 2 });
    let second: Tensor[] = [];
    const eager = dispatchesOf(() => {
      second = g(w1, w2, x);
    });
    // The eager work left is the seed cotangent of grad (one op); the mlp has about 40 primitives.
    expect(eager).toBeLessThanOrEqual(3);
    expect(jitted.stats).toEqual({ hits: 1, misses: 1, inline: 0, compiles: 2 });
    expectClose(second[0] as Tensor, expected[0]);
  });

  it('grad(grad(jit(f))) differentiates the compiled backward program again', () => {
    const f = (x: Tensor): Tensor => sum(mul(tanh(x), x));
    const jitted = jit(f);
    const x = tensor([0.3, -1.2, 2]).astype('float32');
    const second = grad((y: Tensor) => sum(grad(jitted)(y)));
    expectClose(second(x), grad((y: Tensor) => sum(grad(f)(y)))(x), 1e-5);
    const compiles = jitted.stats.compiles;
    expect(compiles).toBeGreaterThanOrEqual(3);
    // Eager: the user's sum between the two grads and its VJP, and each grad's seed cotangent.
    const eager = dispatchesOf(() => second(x));
    expect(eager).toBeLessThanOrEqual(8);
    expect(jitted.stats.compiles).toBe(compiles);
  });

  it('keeps stopGradient and user-defined derivatives in effect', () => {
    const x = randn([5]);
    const cut = (v: Tensor): Tensor => sum(mul(v, stopGradient(tanh(v))));
    expectClose(grad(jit(cut))(x), grad(cut)(x));
    expectClose(jvp(jit(cut), [x], [x])[1], jvp(cut, [x], [x])[1]);
    const roundSte = customVjp((v: Tensor) => v.round(), { fwd: (v: Tensor) => [v.round(), null], bwd: (_: null, g: Tensor) => [g] });
    const f = (v: Tensor): Tensor => sum(mul(roundSte(v), v));
    expectClose(grad(jit(f))(x), grad(f)(x));
    const logits = randn([4, 5]);
    const labels = tensor([0, 3, 1, 4]).astype('int32');
    const loss = (l: Tensor): Tensor => nn.functional.crossEntropy(l, labels);
    expectClose(grad(jit(loss))(logits), grad(loss)(logits));
  });

  it('vjp(jit(f)) with several outputs, one of them an integer', () => {
    const f = (a: Tensor, b: Tensor) => ({ s: sum(mul(a, b)), p: mul(tanh(a), b), n: tensor([1, 2]).astype('int32') });
    const [a, b] = [randn([4]), randn([4])];
    const [out, pullback] = vjp(jit(f), a, b);
    const [expectedOut, expectedPullback] = vjp(f, a, b);
    expectClose(out.p, expectedOut.p);
    const ct = { s: tensor(2).astype('float32'), p: randn([4]), n: tensor([0, 0]).astype('int32') };
    const [da, db] = pullback(ct);
    const [ea, eb] = expectedPullback(ct);
    expectClose(da, ea);
    expectClose(db, eb);
  });

  it('loss.backward() through a jitted call runs its compiled backward pass', () => {
    const w = randn([4, 3]);
    w.requiresGrad = true;
    const x = randn([5, 4]);
    const f = jit((w: Tensor, x: Tensor) => mean(tanh(matmul(x, w))));
    f(w, x).backward();
    const expected = grad((v: Tensor) => mean(tanh(matmul(x, v))))(noGrad(() => w.mul(1)));
    expectClose(w.grad as Tensor, expected);
    expect(f.stats.compiles).toBe(2);
  });

  it('backward({ createGraph: true }) through a jitted call records its compiled backward call', () => {
    const f = (v: Tensor): Tensor => sum(mul(tanh(v), v));
    const secondOrder = (g: (v: Tensor) => Tensor): Tensor => {
      const w = tensor([0.5, -1, 2]).astype('float32');
      w.requiresGrad = true;
      g(w).backward(undefined, { createGraph: true });
      const first = w.grad as Tensor;
      const firstValue = noGrad(() => first.mul(1));
      sum(mul(first, first)).backward();
      // .grad now holds the first derivative plus the derivative of |first|^2.
      return noGrad(() => (w.grad as Tensor).sub(firstValue));
    };
    expectClose(secondOrder(jit(f)), secondOrder(f));
  });

  it('compile(model) under the tape compiles forward and backward; backward() fills the gradients', () => {
    const model = new nn.Sequential(new nn.Linear(4, 6), new nn.Tanh(), new nn.Linear(6, 2));
    const x = randn([3, 4]);
    sum(model.forward(x)).backward();
    const expected = model.parameters().map((p) => (p.grad as Tensor).mul(1));
    for (const p of model.parameters()) p.zeroGrad();
    const fast = compile(model);
    sum(fast(x)).backward();
    model.parameters().forEach((p, i) => {
      expectClose(p.grad as Tensor, expected[i] as Tensor);
    });
    for (const p of model.parameters()) p.zeroGrad();
    const eager = dispatchesOf(() => sum(fast(x)).backward());
    // sum, its VJP and the seed; the rest is the compiled forward and backward programs.
    expect(eager).toBeLessThanOrEqual(6);
    model.parameters().forEach((p, i) => {
      expectClose(p.grad as Tensor, expected[i] as Tensor);
    });
    // The residuals the compiled forward saved are freed by backward().
    const step = (): void => {
      for (const p of model.parameters()) p.zeroGrad();
      tidy(() => sum(fast(x)).backward());
    };
    step();
    const buffers = memory().buffers;
    for (let i = 0; i < 3; i++) step();
    expect(memory().buffers).toBe(buffers);
  });

  it('holds memory flat across repeated grad(jit(f)) calls', () => {
    const [w1, w2, x] = [randn([6, 8]), randn([8, 3]), randn([5, 6])];
    const g = grad(jit(mlp));
    const run = (): void => tidy(() => void g(w1, w2, x));
    run();
    run();
    const buffers = memory().buffers;
    for (let i = 0; i < 3; i++) run();
    expect(memory().buffers).toBe(buffers);
  });
});

describe('jvp and vmap of a jitted function', () => {
  it('jvp(jit(f)) runs the compiled JVP program', () => {
    const f = (x: Tensor, y: Tensor): Tensor => mul(tanh(x), add(y, 1));
    const jitted = jit(f);
    const [x, y, tx] = [randn([5]), randn([5]), randn([5])];
    const ty = mul(tx, 0);
    const [out, tangent] = jvp(jitted, [x, y], [tx, ty]);
    const [expectedOut, expectedTangent] = jvp(f, [x, y], [tx, ty]);
    expectClose(out, expectedOut);
    expectClose(tangent, expectedTangent);
    expect(jitted.stats.compiles).toBe(1);
    expect(dispatchesOf(() => jvp(jitted, [x, y], [tx, ty]))).toBeLessThanOrEqual(1);
  });

  it('vmap(jit(f)) runs the compiled batched program, and composes with grad', () => {
    const f = (row: Tensor, w: Tensor): Tensor => sum(tanh(mul(row, w)));
    const jitted = jit(f);
    const [x, w] = [randn([7, 4]), randn([4])];
    const batched = vmap(jitted, { inAxes: [0, null] });
    expectClose(batched(x, w), vmap(f, { inAxes: [0, null] })(x, w));
    expect(dispatchesOf(() => batched(x, w))).toBe(0);
    const perExample = vmap(grad(jitted), { inAxes: [0, null] });
    expectClose(perExample(x, w), vmap(grad(f), { inAxes: [0, null] })(x, w));
    const total = grad((v: Tensor) => sum(vmap(jitted, { inAxes: [null, 0] })(v, x)));
    expectClose(total(w), grad((v: Tensor) => sum(vmap(f, { inAxes: [null, 0] })(v, x)))(w));
  });

  it('jacrev, jacfwd and hessian of a jitted function (vmap of its VJP and JVP programs)', () => {
    const f = (x: Tensor): Tensor => sum(mul(tanh(x), x.square()));
    const jitted = jit(f);
    const x = randn([4]);
    expectClose(jacrev(jitted)(x) as Tensor, jacrev(f)(x) as Tensor);
    expectClose(jacfwd(jitted)(x) as Tensor, jacfwd(f)(x) as Tensor);
    expectClose(hessian(jitted)(x) as Tensor, hessian(f)(x) as Tensor, 1e-4);
    expect(jitted.stats.inline).toBe(0);
  });

  it('jit(grad(jit(f))) inlines the inner call into one program', () => {
    const f = jit((x: Tensor) => sum(tanh(x).square()));
    const outer = jit(grad(f));
    const x = randn([6]);
    expectClose(outer(x), grad((y: Tensor) => sum(tanh(y).square()))(x));
    expect(outer.lower(x).toString()).toContain('tanh');
  });
});
