import '@flint/backend-cpu';
import {
  ConcretizationError,
  compile,
  customJvp,
  customVjp,
  manualSeed,
  mean,
  memory,
  nn,
  optim,
  randn,
  sub,
  type Tensor,
  tensor,
  tidy,
} from '@flint/api';
import { describe, expect, it } from 'vitest';
import { eagerDispatches } from '../tensor/dispatch.js';

// A PyTorch-style training step (zeroGrad, forward, loss.backward(), optimizer.step()) compiled
// whole by compile(): forward, backward and the parameter and optimizer-state updates are one
// program, and it must reproduce eager training step by step.

const maxDifference = (a: Tensor, b: Tensor): number => {
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
};

function twinModels(): [nn.Sequential, nn.Sequential] {
  const make = () => new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.Tanh(), new nn.Linear(16, 3));
  const a = make();
  const b = make();
  b.parameters().forEach((p, i) => {
    p.value = (a.parameters()[i] as nn.Parameter).value.mul(1);
  });
  return [a, b];
}

type MakeOptimizer = (params: nn.Parameter[]) => optim.Optimizer<{ lr: number }>;

function trainBoth(makeOptimizer: MakeOptimizer, steps: number) {
  const [eagerModel, compiledModel] = twinModels();
  const eagerOptimizer = makeOptimizer(eagerModel.parameters());
  const compiledOptimizer = makeOptimizer(compiledModel.parameters());
  const stepOf = (model: nn.Sequential, optimizer: optim.Optimizer<{ lr: number }>) =>
    function trainStep(x: Tensor, y: Tensor): Tensor {
      optimizer.zeroGrad();
      const loss = mean(sub(model.forward(x), y).square());
      loss.backward();
      optimizer.step();
      return loss;
    };
  const eagerStep = stepOf(eagerModel, eagerOptimizer);
  const compiledStep = compile(stepOf(compiledModel, compiledOptimizer), { modules: [compiledModel], optimizers: [compiledOptimizer] });
  const x = randn([8, 6]);
  const y = randn([8, 3]);
  const losses: [number, number][] = [];
  for (let i = 0; i < steps; i++) {
    const eagerLoss = eagerStep(x, y).item() as number;
    const compiledLoss = (compiledStep(x, y) as Tensor).item() as number;
    losses.push([eagerLoss, compiledLoss]);
  }
  return { eagerModel, compiledModel, losses, compiledStep, x, y, eagerOptimizer, compiledOptimizer, eagerStep };
}

describe('compile(trainStep) with loss.backward() and optimizer.step() inside', () => {
  const optimizers: [string, MakeOptimizer][] = [
    ['SGD with momentum', (params) => new optim.SGD(params, { lr: 0.05, momentum: 0.9 })],
    ['Adam', (params) => new optim.Adam(params, { lr: 0.01 })],
  ];
  for (const [label, makeOptimizer] of optimizers) {
    it(`${label}: the same losses, parameters and gradients as eager over several steps`, () => {
      const { eagerModel, compiledModel, losses, compiledStep } = trainBoth(makeOptimizer, 6);
      for (const [eager, compiled] of losses) expect(Math.abs(eager - compiled)).toBeLessThan(1e-5);
      expect((losses[5] as [number, number])[1]).toBeLessThan((losses[0] as [number, number])[1]);
      compiledModel.parameters().forEach((p, i) => {
        const q = eagerModel.parameters()[i] as nn.Parameter;
        expect(maxDifference(p.value, q.value)).toBeLessThan(1e-5);
        expect(p.grad).not.toBeNull();
        expect(maxDifference(p.grad as Tensor, q.grad as Tensor)).toBeLessThan(1e-5);
      });
      // First step (no optimizer state yet), second step (state as numbers), then one program.
      expect(compiledStep.cacheSize).toBeLessThanOrEqual(3);
      const lowered = compiledStep.lower(randn([8, 6]), randn([8, 3]));
      expect(lowered.toString()).toContain('dotGeneral');
      expect(lowered.compiledKernels).toBeGreaterThan(3);
    });
  }

  it('recompiles when input shapes change, and holds memory flat across steps', () => {
    const { compiledStep, compiledModel } = trainBoth((params) => new optim.Adam(params, { lr: 0.01 }), 3);
    const size = compiledStep.cacheSize;
    (compiledStep(randn([5, 6]), randn([5, 3])) as Tensor).dispose();
    expect(compiledStep.cacheSize).toBe(size + 1);
    const x = randn([5, 6]);
    const y = randn([5, 3]);
    (compiledStep(x, y) as Tensor).dispose();
    const buffers = memory().buffers;
    const dispatches = eagerDispatches.count;
    for (let i = 0; i < 3; i++) (compiledStep(x, y) as Tensor).dispose();
    expect(memory().buffers).toBe(buffers);
    // Everything ran in the compiled program: no primitive ran eagerly.
    expect(eagerDispatches.count - dispatches).toBe(0);
    expect(compiledModel.parameters().every((p) => p.grad !== null)).toBe(true);
  });

  it('sees learning-rate changes without recompiling, and continues eagerly from the compiled state', () => {
    const { eagerModel, compiledModel, compiledStep, x, y, eagerOptimizer, compiledOptimizer, eagerStep } = trainBoth(
      (params) => new optim.Adam(params, { lr: 0.01 }),
      3,
    );
    const size = compiledStep.cacheSize;
    for (const lr of [0.005, 0.002]) {
      for (const o of [eagerOptimizer, compiledOptimizer]) for (const g of o.paramGroups) g.lr = lr;
      const eagerLoss = eagerStep(x, y).item() as number;
      const compiledLoss = (compiledStep(x, y) as Tensor).item() as number;
      expect(Math.abs(eagerLoss - compiledLoss)).toBeLessThan(1e-5);
    }
    expect(compiledStep.cacheSize).toBe(size);
    // An eager step after compiled ones: the optimizer's state (its step count now a tensor) carries over.
    compiledOptimizer.zeroGrad();
    mean(sub(compiledModel.forward(x), y).square()).backward();
    compiledOptimizer.step();
    eagerStep(x, y);
    compiledModel.parameters().forEach((p, i) => {
      expect(maxDifference(p.value, (eagerModel.parameters()[i] as nn.Parameter).value)).toBeLessThan(1e-5);
    });
    expect(compiledOptimizer.stateDict().state['0']?.step).toBe(6);
  });

  it('a float64 group gets a float64 learning rate: compiled SGD with lr 0.1 follows eager float64 steps exactly', () => {
    const run = (compiled: boolean): Float64Array | Float32Array => {
      manualSeed(3);
      const model = new nn.Linear(3, 1, { dtype: 'float64' });
      const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
      const x = tensor(
        [
          [1, 2, 3],
          [0.5, -1, 2],
        ],
        { dtype: 'float64' },
      );
      const y = tensor([[1], [0]], { dtype: 'float64' });
      const step = () => {
        optimizer.zeroGrad();
        const loss = nn.functional.mseLoss(model.forward(x), y);
        loss.backward();
        optimizer.step();
        return loss;
      };
      const run = compiled ? compile(step, { modules: [model], optimizers: [optimizer] }) : step;
      for (let i = 0; i < 5; i++) run();
      return model.weight.value.dataSync() as Float64Array;
    };
    expect(Array.from(run(true))).toEqual(Array.from(run(false)));
  });

  it('a step without backward() under the tape is compiled as a forward pass the caller differentiates', () => {
    const model = new nn.Linear(4, 2);
    const forward = compile((x: Tensor) => model.forward(x).tanh(), { modules: [model] });
    const x = randn([3, 4]);
    mean(forward(x) as Tensor).backward();
    const compiledGrads = model.parameters().map((p) => (p.grad as Tensor).mul(1));
    for (const p of model.parameters()) p.zeroGrad();
    mean(model.forward(x).tanh()).backward();
    model.parameters().forEach((p, i) => {
      expect(maxDifference(p.grad as Tensor, compiledGrads[i] as Tensor)).toBeLessThan(1e-6);
    });
  });

  it("takes a customVjp's and a customJvp's rule on its tape, as eager backward() does", () => {
    // Rules that scale the derivative on purpose: differentiating the function instead would give 1.
    const tripled = customVjp((x: Tensor) => x.mul(1), { fwd: (x: Tensor) => [x.mul(1), null], bwd: (_r: null, g: Tensor) => [g.mul(3)] });
    const halved = customJvp(
      (x: Tensor) => x.mul(1),
      (primals: Tensor[], tangents: Tensor[]) => [primals[0]!.mul(1), tangents[0]!.mul(0.5)],
    );
    const gradient = (f: (x: Tensor) => Tensor, staged: boolean): number[] => {
      const model = new nn.Linear(2, 1);
      const weight = model.parameters()[0] as nn.Parameter;
      const step = () => {
        weight.grad = null;
        f(weight.value).sum().backward();
        return weight.grad as unknown as Tensor;
      };
      const grad = staged ? (compile(step, { modules: [model] })() as Tensor) : step();
      return Array.from(grad.dataSync());
    };
    expect(gradient(tripled, false)).toEqual([3, 3]);
    expect(gradient(tripled, true)).toEqual([3, 3]);
    expect(gradient(halved, false)).toEqual([0.5, 0.5]);
    expect(gradient(halved, true)).toEqual([0.5, 0.5]);
  });

  it('raises a ConcretizationError naming the op when the step reads a traced value', () => {
    const model = new nn.Linear(3, 1);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const before = (model.parameters()[0] as nn.Parameter).value;
    const step = compile(
      (x: Tensor) => {
        optimizer.zeroGrad();
        const loss = mean(model.forward(x).square());
        if ((loss.item() as number) > 1e6) return loss;
        loss.backward();
        optimizer.step();
        return loss;
      },
      { modules: [model], optimizers: [optimizer] },
    );
    expect(() => step(randn([4, 3]))).toThrow(ConcretizationError);
    expect(() => step(randn([4, 3]))).toThrow(/item/);
    // The parameters are left as they were.
    expect((model.parameters()[0] as nn.Parameter).value).toBe(before);
  });

  it('a compiled step inside tidy leaves the parameters, gradients and optimizer state alive', () => {
    const [model] = twinModels();
    const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
    const step = compile(
      (x: Tensor, y: Tensor) => {
        optimizer.zeroGrad();
        const loss = mean(sub(model.forward(x), y).square());
        loss.backward();
        optimizer.step();
        return loss;
      },
      { modules: [model], optimizers: [optimizer] },
    );
    const x = randn([8, 6]);
    const y = randn([8, 3]);
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) losses.push(tidy(() => (step(x, y) as Tensor).item() as number));
    expect((losses[3] as number) < (losses[0] as number)).toBe(true);
    for (const p of model.parameters()) {
      expect(p.value.isDisposed).toBe(false);
      expect(p.grad?.isDisposed).toBe(false);
      for (const t of Object.values(optimizer.state.get(p)?.buffers ?? {})) expect(t.isDisposed).toBe(false);
    }
  });
});
