import '@flint/backend-cpu';
import {
  add,
  dispose,
  jit,
  logSumExp,
  matmul,
  maximum,
  mean,
  memory,
  mul,
  optim,
  randn,
  sum,
  type Tensor,
  tensor,
  valueAndGrad,
} from '@flint/api';
import { describe, expect, it } from 'vitest';

// A small MLP trained with Adam, written functionally: the whole step (forward, backward,
// optimizer update) compiles into one program, and must give the eager results.

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor; w3: Tensor; b3: Tensor };

function initParams(): Params {
  const scale = (t: Tensor, s: number): Tensor => mul(t, s);
  return {
    w1: scale(randn([12, 16]), 0.3),
    b1: scale(randn([16]), 0.1),
    w2: scale(randn([16, 16]), 0.3),
    b2: scale(randn([16]), 0.1),
    w3: scale(randn([16, 5]), 0.3),
    b3: scale(randn([5]), 0.1),
  };
}

function forward(p: Params, x: Tensor): Tensor {
  const h1 = maximum(add(matmul(x, p.w1), p.b1), 0);
  const h2 = maximum(add(matmul(h1, p.w2), p.b2), 0);
  return add(matmul(h2, p.w3), p.b3);
}

function loss(p: Params, x: Tensor, oneHot: Tensor): Tensor {
  const logits = forward(p, x);
  return mean(logSumExp(logits, 1).sub(sum(mul(logits, oneHot), 1)));
}

const adam = optim.adam({ lr: 0.01 });

function trainStep(p: Params, state: optim.OptimizerState, x: Tensor, oneHot: Tensor): [Tensor, Params, optim.OptimizerState] {
  const [value, grads] = valueAndGrad(loss)(p, x, oneHot);
  const [updates, next] = adam.update(grads, state, p);
  return [value, optim.applyUpdates(p, updates), next];
}

/** A batch of 8 inputs and one-hot targets over 5 classes. */
function batch(shift: number): [Tensor, Tensor] {
  const hot = new Float32Array(8 * 5);
  for (let i = 0; i < 8; i++) hot[i * 5 + ((i * 7 + shift) % 5)] = 1;
  return [randn([8, 12]), tensor(hot, { shape: [8, 5] })];
}

const maxDifference = (a: Tensor, b: Tensor): number => {
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
};

describe('jit of a training step', () => {
  it('forward, backward and Adam in one compiled program give the eager losses and parameters', () => {
    let eagerParams = initParams();
    let eagerState = adam.init(eagerParams);
    let jitParams = Object.fromEntries(Object.entries(eagerParams).map(([k, v]) => [k, mul(v, 1)])) as Params;
    let jitState = adam.init(jitParams);
    const step = jit(trainStep, { donateArgnums: [0, 1] });
    const losses: number[] = [];
    const [x, y] = batch(100);
    for (let i = 0; i < 6; i++) {
      const [eagerLoss, nextParams, nextState] = trainStep(eagerParams, eagerState, x, y);
      eagerParams = nextParams;
      eagerState = nextState;
      const [jitLoss, p, s] = step(jitParams, jitState, x, y);
      jitParams = p;
      jitState = s;
      expect(Math.abs((jitLoss.item() as number) - (eagerLoss.item() as number))).toBeLessThan(1e-5);
      losses.push(jitLoss.item() as number);
    }
    for (const key of Object.keys(eagerParams) as (keyof Params)[])
      expect(maxDifference(jitParams[key], eagerParams[key])).toBeLessThan(1e-5);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] as number);
    expect(step.cacheSize).toBe(1);
    const lowered = step.lower(jitParams, jitState, x, y);
    expect(lowered.compiledKernels).toBeGreaterThan(3);
    expect(lowered.fallbackKernels).toBe(0);
  });

  it('a compiled training step holds memory flat across steps', () => {
    let params = initParams();
    let state = adam.init(params);
    const step = jit(trainStep, { donateArgnums: [0, 1] });
    const [x, y] = batch(7);
    const run = (): void => {
      const [value, p, s] = step(params, state, x, y);
      value.dispose();
      params = p;
      state = s;
    };
    run();
    run();
    const buffers = memory().buffers;
    for (let i = 0; i < 4; i++) run();
    expect(memory().buffers).toBe(buffers);
    dispose([params, state]);
  });
});
