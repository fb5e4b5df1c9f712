import '@flint/backend-cpu';
import * as api from '@flint/api';
import { grad, jit, memory, optim, pow, type Tensor, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';

const f64 = (values: number[]) => tensor(values, { dtype: 'float64' });
const values = (t: unknown) => [...(t as Tensor).dataSync()];

describe('functional optimizers', () => {
  test('an update is differentiable: grad through one SGD-with-momentum step (meta-gradient)', () => {
    const opt = optim.sgd({ lr: 0.1, momentum: 0.9 });
    const p0 = f64([1, -2, 0.5]);
    const state = opt.init(p0);
    // loss(p) = sum((p - 0.1 * 2p)^2) = 0.64 sum(p^2): d/dp = 1.28 p.
    const afterStep = (p: Tensor) => {
      const [updates] = opt.update(p.mul(2), state, p);
      return optim.applyUpdates(p, updates).square().sum();
    };
    expect(values(grad(afterStep)(p0))).toEqual([1.28, -2.56, 0.64].map((v) => expect.closeTo(v, 12)));
  });

  test('an Adam update is differentiable and agrees with finite differences', () => {
    const opt = optim.adam({ lr: 0.1, weightDecay: 0.01 });
    const point = [0.3, -0.7];
    const state = opt.init(f64(point));
    const loss = (p: Tensor) => {
      const [updates] = opt.update(p.mul(p).mul(3), state, p);
      return optim
        .applyUpdates(p, updates)
        .mul(f64([1, 2]))
        .sum();
    };
    const analytic = values(grad(loss)(f64(point)));
    const h = 1e-6;
    point.forEach((_, i) => {
      const plus = [...point];
      const minus = [...point];
      plus[i] = (plus[i] as number) + h;
      minus[i] = (minus[i] as number) - h;
      const numeric = ((loss(f64(plus)).item() as number) - (loss(f64(minus)).item() as number)) / (2 * h);
      expect(analytic[i]).toBeCloseTo(numeric, 5);
    });
  });

  test('a learning-rate schedule of the step count, written in tensor ops', () => {
    // lr_t = 0.1 * 0.5^t for t = 0, 1, 2 updates done: plain SGD moves p by -lr_t * g.
    const opt = optim.sgd({ lr: (count) => pow(0.5, count).mul(0.1) });
    let p = f64([1]);
    let state = opt.init(p);
    const moves: number[] = [];
    for (let t = 0; t < 3; t++) {
      const [updates, next] = opt.update(f64([1]), state, p);
      moves.push(values(updates)[0] as number);
      p = optim.applyUpdates(p, updates);
      state = next;
    }
    expect(moves.map((m) => expect.closeTo(m, 7))).toEqual([-0.1, -0.05, -0.025]);
    expect(values(state.count)).toEqual([3]);
    expect(state.count.dtype).toBe('int32');
  });

  test('state is a pytree shaped like the parameters; nothing returned aliases an input', () => {
    const opt = optim.adam({ amsgrad: true });
    const params = { layer: { w: f64([1, 2]), b: f64([0]) }, frozen: null };
    const state = opt.init(params);
    expect(Object.keys(state.buffers).sort()).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq']);
    expect((state.buffers.expAvg as { layer: { w: Tensor } }).layer.w.shape).toEqual([2]);
    const grads = { layer: { w: f64([0.1, 0.2]), b: f64([0.3]) }, frozen: null };
    const before = memory().buffers;
    const [updates, next] = opt.update(grads, state, params);
    const inputs = new Set<Tensor>();
    api.forEachTensor([grads, params, state], (t) => inputs.add(t));
    api.forEachTensor([updates, next], (t) => expect(inputs.has(t)).toBe(false));
    api.dispose([grads, params, state]);
    expect(values((updates as typeof params).layer.w)).toHaveLength(2);
    api.dispose([updates, next]);
    expect(memory().buffers).toBeLessThan(before);
  });

  test('mismatched trees and non-tensor leaves are errors naming the optimizer', () => {
    const opt = optim.rmsprop();
    const params = { w: f64([1]) };
    const state = opt.init(params);
    expect(() => opt.update({ v: f64([1]) } as unknown as typeof params, state, params)).toThrow(
      /rmsprop.update: grads and params are trees of different structure/,
    );
    expect(() => opt.update({ w: f64([1, 2]) }, state, params)).toThrow(/leaf 0 of grads has shape \[2\], the parameter has \[1\]/);
    expect(() => opt.init({ w: 3 } as unknown as typeof params)).toThrow(/rmsprop.init: leaf 0 of params .* is number/);
    expect(() => optim.adam({ betas: [1, 0.9] })).toThrow(/Adam: betas\[0\] must be in \[0, 1\)/);
  });

  const COMPILED: Record<string, () => optim.GradientTransformation> = {
    adamw: () => optim.adamw({ lr: 0.05 }),
    radam: () => optim.radam({ lr: 0.05, betas: [0.5, 0.6] }), // rectified from step 3 on
    asgd: () => optim.asgd({ lr: (count) => pow(0.5, count).mul(0.05), t0: 1 }),
    rprop: () => optim.rprop({ lr: 0.05 }),
    adadelta: () => optim.adadelta(),
  };
  test.each(Object.keys(COMPILED))('a jit-compiled %s step (update and applyUpdates) matches the eager one', (name) => {
    const opt = (COMPILED[name] as () => optim.GradientTransformation)();
    const step = (p: Tensor, s: optim.OptimizerState, g: Tensor): [Tensor, optim.OptimizerState] => {
      const [updates, next] = opt.update(g, s, p);
      return [optim.applyUpdates(p, updates) as Tensor, next];
    };
    const compiled = jit(step);
    let eager: [Tensor, optim.OptimizerState] = [f64([1, -1]), opt.init(f64([1, -1]))];
    let traced: [Tensor, optim.OptimizerState] = [f64([1, -1]), opt.init(f64([1, -1]))];
    for (let t = 0; t < 5; t++) {
      eager = step(eager[0], eager[1], f64([0.5, t - 2]));
      traced = compiled(traced[0], traced[1], f64([0.5, t - 2]));
    }
    expect(values(traced[0]).map((v) => expect.closeTo(v, 12))).toEqual(values(eager[0]));
  });
});
