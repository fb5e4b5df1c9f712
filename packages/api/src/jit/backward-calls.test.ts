import '@flint/backend-cpu';
import { exp, grad, jit, matmul, mean, memory, randn, sum, type Tensor, tanh, tidy, valueAndGrad, vmap, zerosLike } from '@flint/api';
import { describe, expect, it, vi } from 'vitest';
import { getBackend } from '../backend/registry.js';
import type { Program } from '../ir/program.js';
import { eagerDispatches } from '../tensor/dispatch.js';
import { StagedProgram, traceFlat } from './staged.js';

// The backward programs derived for grad of a jitted call: specialized to the output cotangents
// that are symbolic zeros (an auxiliary output nothing differentiates gets no cotangent, and the
// program neither takes nor propagates one), and given the forward's residuals to consume.

function expectClose(actual: Tensor, expected: Tensor, tolerance = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const b = expected.dataSync();
  for (let i = 0; i < a.length; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThanOrEqual(tolerance);
}

/** The gradient backward() left on a leaf (read through a call: the test reset it to null before the sweeps that set it again). */
function gradOf(leaf: Tensor): Tensor {
  if (leaf.grad === null) throw new Error('backward() left no gradient on the leaf');
  return leaf.grad;
}

const equationsOf = (program: Program): number => program.equations.reduce((n, e) => n + (e.kind === 'primitive' ? 1 : e.body.length), 0);

/** A loss and an auxiliary output (a statistic logged, never differentiated) that costs a backward pass of its own. */
const withAux = (w: Tensor, x: Tensor): [Tensor, Tensor] => {
  const h = matmul(x, w);
  const loss = mean(tanh(h).square());
  const aux = sum(exp(matmul(h, w.transpose())), 1);
  return [loss, aux];
};

function stagedWithAux(w: Tensor, x: Tensor): StagedProgram {
  const { program, captured } = traceFlat('withAux', [w, x], ([a, b]) => withAux(a as Tensor, b as Tensor));
  return new StagedProgram(program, captured, { compiles: 0 });
}

describe('backward programs specialized to symbolic-zero cotangents', () => {
  it('drops the zero cotangent: fewer equations, the same gradients', () => {
    const [w, x] = [randn([4, 3]), randn([5, 4])];
    const staged = stagedWithAux(w, x);
    const split = staged.vjp([true, false]);
    const specialized = split.specialize([false, true], false);
    const full = split.backward as StagedProgram;
    const call = specialized.call as StagedProgram;
    // One input fewer (the auxiliary output's cotangent), and none of its backward pass.
    expect(call.inputAvals.length).toBe(full.inputAvals.length - 1);
    expect(equationsOf(call.program)).toBeLessThan(equationsOf(full.program));
    const backend = getBackend();
    expect(equationsOf(call.compiled(backend).lowered.optimized)).toBeLessThan(equationsOf(full.compiled(backend).lowered.optimized));
    expect(specialized.zeroOutputs).toEqual([false]);
    // Cached per mask.
    expect(split.specialize([false, true], false)).toBe(specialized);

    const results = split.forward.run([w, x]);
    const residuals = [...split.residualInputs.map((i) => [w, x][i] as Tensor), ...results.slice(split.outputCount)];
    const seed = zerosLike(results[0] as Tensor).add(1);
    const [expected] = full.run([...residuals, seed, zerosLike(results[1] as Tensor)]);
    const [actual] = call.run([...residuals, seed]);
    expectClose(actual as Tensor, expected as Tensor);
    // The joint call (a recorded backward pass) is specialized the same way.
    const joint = split.specialize([false, true], true);
    expect(equationsOf((joint.call as StagedProgram).program)).toBeLessThan(equationsOf((split.joint as StagedProgram).program));
    expectClose(joint.call.run([w, x, seed])[0] as Tensor, expected as Tensor);
    staged.dispose();
  });

  it('an input reached only through a zero cotangent gets no gradient computed', () => {
    const staged = (() => {
      const [a, b] = [randn([3]), randn([3])];
      const { program, captured } = traceFlat('two', [a, b], ([p, q]) => [sum((p as Tensor).square()), sum((q as Tensor).sin())]);
      return new StagedProgram(program, captured, { compiles: 0 });
    })();
    const split = staged.vjp([true, true]);
    const specialized = split.specialize([false, true], false);
    expect(specialized.zeroOutputs).toEqual([false, true]);
    expect(specialized.call.outputAvals.length).toBe(1);
    staged.dispose();
  });

  it('grad(jit(f)) with an unused auxiliary output: eager results, no zeros made for its cotangent', () => {
    const [w, x] = [randn([4, 3]), randn([5, 4])];
    const jitted = jit(withAux);
    const g = valueAndGrad(jitted, { hasAux: true });
    const [[loss, aux], dw] = g(w, x);
    const [[eagerLoss, eagerAux], eagerDw] = valueAndGrad(withAux, { hasAux: true })(w, x);
    expectClose(loss, eagerLoss);
    expectClose(aux, eagerAux, 1e-4);
    expectClose(dw, eagerDw);
    // Besides the two compiled calls, only the seed cotangent is made eagerly (no zeros for the aux output).
    const before = eagerDispatches.count;
    const [, again] = g(w, x);
    expect(eagerDispatches.count - before).toBeLessThanOrEqual(1);
    expectClose(again, eagerDw);
    // On the imperative tape too: backward() from the loss sends nothing to the auxiliary output.
    const leaf = randn([4, 3]).requiresGrad_();
    const [tapeLoss] = jitted(leaf, x);
    tapeLoss.backward();
    const eagerLeaf = leaf.detach().requiresGrad_();
    withAux(eagerLeaf, x)[0].backward();
    expectClose(leaf.grad as Tensor, eagerLeaf.grad as Tensor);
  });
});

describe('specialized backward programs under further transforms', () => {
  it('grad of grad(jit(f)) with an auxiliary output, and vmap of it, equal eager', () => {
    const [w, x] = [randn([4, 3]), randn([5, 4])];
    const jitted = jit(withAux);
    const outer = (f: (w: Tensor, x: Tensor) => [Tensor, Tensor]) => (v: Tensor) => sum(grad((u: Tensor) => f(u, x)[0])(v).square());
    expectClose(grad(outer(jitted))(w), grad(outer(withAux))(w), 1e-4);
    const ws = randn([2, 4, 3]);
    const perExample = (f: (w: Tensor, x: Tensor) => [Tensor, Tensor]) => vmap((v: Tensor) => grad((u: Tensor) => f(u, x)[0])(v));
    expectClose(perExample(jitted)(ws), perExample(withAux)(ws), 1e-5);
  });
});

describe('residuals donated to the backward program', () => {
  it('the backward call consumes the computed residuals it is handed', () => {
    const [w, x] = [randn([4, 3]), randn([5, 4])];
    const staged = stagedWithAux(w, x);
    const split = staged.vjp([true, false]);
    const results = split.forward.run([w, x]);
    const computed = results.slice(split.outputCount);
    expect(computed.length).toBeGreaterThan(0);
    const residuals = [...split.residualInputs.map((i) => [w, x][i] as Tensor), ...computed];
    const seed = zerosLike(results[0] as Tensor).add(1);
    const { call } = split.specialize([false, true], false);
    const [expected] = call.run([...residuals, seed]);
    let buffers = memory().buffers;
    (call.run([...residuals, seed])[0] as Tensor).dispose();
    const kept = memory().buffers - buffers;
    buffers = memory().buffers;
    const consumable = [...split.residualInputs.map(() => false), ...computed.map(() => true), false];
    const [actual] = call.run([...residuals, seed], consumable);
    expectClose(actual as Tensor, expected as Tensor);
    for (const t of computed) expect(t.isDisposed).toBe(true);
    // The residuals' buffers were freed or reused for the result (views of one buffer count once).
    expect(kept).toBe(0);
    // The memory plan knows the residuals are handed over: writing into one counts as reuse.
    const plan = (call as StagedProgram).compiled(getBackend()).lowered.optimized.memory;
    expect(plan?.reusedBytes).toBeGreaterThan(0);
    expect(memory().buffers - buffers).toBeLessThan(0);
    expect(w.isDisposed || x.isDisposed).toBe(false);
    staged.dispose();
  });

  it('backward() through a jitted call: the same gradients, memory flat across steps, retainGraph still allowed', () => {
    const [w0, x] = [randn([6, 8]), randn([5, 6])];
    const f = jit((w: Tensor, x: Tensor) => mean(tanh(matmul(x, w)).square()));
    const eagerLeaf = w0.detach().requiresGrad_();
    mean(tanh(matmul(x, eagerLeaf)).square()).backward();
    const w = w0.detach().requiresGrad_();
    const step = (): void => {
      w.grad?.dispose();
      w.grad = null;
      tidy(() => {
        f(w, x).backward();
      });
    };
    step();
    expectClose(w.grad as Tensor, eagerLeaf.grad as Tensor);
    step();
    const buffers = memory().buffers;
    for (let i = 0; i < 4; i++) step();
    expect(memory().buffers).toBe(buffers);
    expectClose(w.grad as Tensor, eagerLeaf.grad as Tensor);
    // The backward call is handed the residuals to consume, except while the graph is retained.
    const runs = vi.spyOn(StagedProgram.prototype, 'run');
    const consumes = (): boolean[] => runs.mock.calls.map(([, consumable]) => (consumable ?? []).includes(true));
    step();
    expect(consumes()).toEqual([false, true]); // forward, backward
    runs.mockClear();
    w.grad = null;
    const loss = f(w, x);
    loss.backward({ retainGraph: true });
    loss.backward();
    expect(consumes()).toEqual([false, false, true]);
    runs.mockRestore();
    // A retained graph keeps its residuals: the second sweep reads them again.
    expectClose(gradOf(w), gradOf(eagerLeaf).mul(2));
  });

  it('grad(jit(f)) repeatedly: memory flat, results equal eager', () => {
    const [w, x] = [randn([6, 8]), randn([5, 6])];
    const loss = (w: Tensor, x: Tensor) => mean(tanh(matmul(x, w)).square());
    const g = grad(jit(loss));
    const expected = grad(loss)(w, x);
    tidy(() => g(w, x)).dispose();
    const buffers = memory().buffers;
    for (let i = 0; i < 4; i++) tidy(() => g(w, x)).dispose();
    expect(memory().buffers).toBe(buffers);
    const runs = vi.spyOn(StagedProgram.prototype, 'run');
    expectClose(g(w, x), expected);
    expect(runs.mock.calls.map(([, consumable]) => (consumable ?? []).includes(true))).toEqual([false, true]);
    runs.mockRestore();
  });
});
