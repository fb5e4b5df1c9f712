import '@flint/backend-cpu';
import { compile, jit, memory, nn, noGrad, optim, randn, type Tensor, tensor, valueAndGrad } from '@flint/api';
import { describe, expect, it } from 'vitest';

// Module buffers (BatchNorm's running statistics and batch count) are state a compiled call
// threads like the parameters: inputs of the program, their updates outputs rebound to the
// modules afterwards. A CNN with BatchNorm2d trained under compile must match eager training in
// its losses, parameters and running statistics.

const F = nn.functional;

const maxDifference = (a: Tensor, b: Tensor): number => {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
};

const cnn = () =>
  new nn.Sequential(
    new nn.Conv2d(2, 4, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(4 * 5 * 5, 6, { bias: false }),
    new nn.BatchNorm1d(6, { momentum: null }),
    new nn.Tanh(),
    new nn.Linear(6, 3),
  );

function twinModels(): [nn.Sequential, nn.Sequential] {
  const a = cnn();
  const b = cnn();
  b.parameters().forEach((p, i) => {
    p.value = (a.parameters()[i] as nn.Parameter).value.mul(1);
  });
  return [a, b];
}

/** Every buffer of two models equal (running statistics to 1e-5, the batch counts exactly). */
function expectSameBuffers(a: nn.Module<[Tensor], Tensor>, b: nn.Module<[Tensor], Tensor>): void {
  const bufferA = a.namedBuffers();
  const bufferB = new Map(b.namedBuffers());
  expect(bufferA.length).toBe(6);
  for (const [name, value] of bufferA) {
    const other = bufferB.get(name) as Tensor;
    expect(other.dtype).toBe(value.dtype);
    if (value.dtype === 'int32') expect(other.item()).toBe(value.item());
    else expect(maxDifference(value, other)).toBeLessThan(1e-5);
  }
}

function expectSameParameters(a: nn.Module<[Tensor], Tensor>, b: nn.Module<[Tensor], Tensor>): void {
  a.parameters().forEach((p, i) => {
    expect(maxDifference(p.value, (b.parameters()[i] as nn.Parameter).value)).toBeLessThan(1e-4);
  });
}

type MakeOptimizer = (params: nn.Parameter[]) => optim.Optimizer<{ lr: number }>;

describe('module buffers in compiled training', () => {
  const optimizers: [string, MakeOptimizer][] = [
    ['SGD with momentum', (params) => new optim.SGD(params, { lr: 0.05, momentum: 0.9 })],
    ['Adam', (params) => new optim.Adam(params, { lr: 0.01 })],
  ];
  for (const [label, makeOptimizer] of optimizers) {
    it(`compile(step, { modules, optimizers }) with ${label}: the same losses, parameters and running statistics as eager`, () => {
      const [eagerModel, compiledModel] = twinModels();
      const eagerOptimizer = makeOptimizer(eagerModel.parameters());
      const compiledOptimizer = makeOptimizer(compiledModel.parameters());
      const stepOf = (model: nn.Sequential, optimizer: optim.Optimizer<{ lr: number }>) =>
        function trainStep(x: Tensor, y: Tensor): Tensor {
          optimizer.zeroGrad();
          const loss = F.crossEntropy(model.forward(x), y);
          loss.backward();
          optimizer.step();
          return loss;
        };
      const eagerStep = stepOf(eagerModel, eagerOptimizer);
      const compiledStep = compile(stepOf(compiledModel, compiledOptimizer), {
        modules: [compiledModel],
        optimizers: [compiledOptimizer],
      });
      const x = randn([8, 2, 5, 5]);
      const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' });
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const eagerLoss = eagerStep(x, y).item() as number;
        const compiledLoss = (compiledStep(x, y) as Tensor).item() as number;
        expect(Math.abs(eagerLoss - compiledLoss)).toBeLessThan(1e-4);
        losses.push(compiledLoss);
      }
      expect(losses[4] as number).toBeLessThan(losses[0] as number);
      expectSameParameters(compiledModel, eagerModel);
      expectSameBuffers(compiledModel, eagerModel);
      expect((compiledModel.at(1) as nn.BatchNorm2d).numBatchesTracked.item()).toBe(5);
      expect(compiledStep.cacheSize).toBeLessThanOrEqual(3);

      // Evaluation after training reads the updated running statistics, compiled or not.
      eagerModel.eval();
      compiledModel.eval();
      const test = randn([3, 2, 5, 5]);
      const expected = noGrad(() => eagerModel.forward(test));
      const compiledEval = compile(compiledModel);
      expect(
        maxDifference(
          noGrad(() => compiledEval(test)),
          expected,
        ),
      ).toBeLessThan(1e-4);
      expect(
        maxDifference(
          noGrad(() => compiledModel.forward(test)),
          expected,
        ),
      ).toBeLessThan(1e-4);
      // In eval mode the buffers are read, not replaced.
      const runningMean = (compiledModel.at(1) as nn.BatchNorm2d).runningMean;
      noGrad(() => compiledEval(test));
      expect((compiledModel.at(1) as nn.BatchNorm2d).runningMean).toBe(runningMean);
      expect(runningMean.isDisposed).toBe(false);
    });
  }

  it('donates the buffers of training-mode modules: the running statistics are updated in place, memory stays flat', () => {
    const model = cnn();
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.01 });
    const step = compile(
      (x: Tensor, y: Tensor) => {
        optimizer.zeroGrad();
        const loss = F.crossEntropy(model.forward(x), y);
        loss.backward();
        optimizer.step();
        return loss;
      },
      { modules: [model], optimizers: [optimizer] },
    );
    const x = randn([4, 2, 5, 5]);
    const y = tensor([0, 1, 2, 0], { dtype: 'int32' });
    for (let i = 0; i < 3; i++) (step(x, y) as Tensor).dispose();
    const lowered = step.lower(x, y);
    // Inputs of the program: 12 parameters' values and gradients, 6 buffers, the inputs.
    const program = lowered.optimized;
    const runningMean = (model.at(1) as nn.BatchNorm2d).runningMean;
    expect(program.inputs.filter((v) => v.aval.shape.length === 1 && v.aval.shape[0] === 4).length).toBeGreaterThan(3);
    expect(lowered.toString()).toMatch(/may write into/);
    const buffers = memory().buffers;
    for (let i = 0; i < 3; i++) (step(x, y) as Tensor).dispose();
    expect(memory().buffers).toBe(buffers);
    // The buffer tensors were replaced by the program's results (the old ones were donated).
    expect((model.at(1) as nn.BatchNorm2d).runningMean).not.toBe(runningMean);
    expect((model.at(1) as nn.BatchNorm2d).numBatchesTracked.item()).toBe(6);
  });

  it('compile(model) in training mode updates the running statistics, with and without the tape', () => {
    const [eagerModel, compiledModel] = twinModels();
    const compiled = compile(compiledModel);
    const x = randn([6, 2, 5, 5]);
    const y = tensor([0, 1, 2, 0, 1, 2], { dtype: 'int32' });
    // Forward passes only (noGrad): the statistics advance as eager ones do.
    for (let i = 0; i < 2; i++) {
      const expected = noGrad(() => eagerModel.forward(x));
      expect(
        maxDifference(
          noGrad(() => compiled(x)),
          expected,
        ),
      ).toBeLessThan(1e-4);
    }
    expectSameBuffers(compiledModel, eagerModel);
    // Under the tape: the compiled call is one recorded node, and backward() runs its compiled backward program.
    for (const [model, forward] of [
      [eagerModel, (t: Tensor) => eagerModel.forward(t)],
      [compiledModel, (t: Tensor) => compiled(t)],
    ] as const) {
      const sgd = new optim.SGD(model.parameters(), { lr: 0.1 });
      for (let i = 0; i < 2; i++) {
        sgd.zeroGrad();
        F.crossEntropy(forward(x), y).backward();
        sgd.step();
      }
    }
    expectSameParameters(compiledModel, eagerModel);
    expectSameBuffers(compiledModel, eagerModel);
    expect((compiledModel.at(1) as nn.BatchNorm2d).runningMean._autograd).toBeNull();
    expect((compiledModel.at(1) as nn.BatchNorm2d).numBatchesTracked.item()).toBe(4);
  });

  it('the functional path: functionalCallWithBuffers under jit returns the updated buffers, as eager', () => {
    const [eagerModel, functionalModel] = twinModels();
    const lossOf = (params: Record<string, Tensor>, buffers: Record<string, Tensor>, x: Tensor, y: Tensor) => {
      const [logits, updated] = nn.functionalCallWithBuffers(functionalModel, { ...params, ...buffers }, x);
      return [F.crossEntropy(logits, y), { ...buffers, ...updated }] as [Tensor, Record<string, Tensor>];
    };
    const adam = optim.adam({ lr: 0.01 });
    const step = jit(
      (params: Record<string, Tensor>, buffers: Record<string, Tensor>, state: optim.OptimizerState, x: Tensor, y: Tensor) => {
        const [[loss, nextBuffers], grads] = valueAndGrad(lossOf, { hasAux: true })(params, buffers, x, y);
        const [updates, nextState] = adam.update(grads, state, params);
        return [loss, optim.applyUpdates(params, updates), nextBuffers, nextState] as const;
      },
      { donateArgnums: [0, 1, 2] },
    );
    const eagerOptimizer = new optim.Adam(eagerModel.parameters(), { lr: 0.01 });
    let params = functionalModel.parameterValues();
    let buffers = functionalModel.bufferValues();
    for (const t of [...Object.values(params), ...Object.values(buffers)]) t.retain();
    let state = adam.init(params);
    const x = randn([8, 2, 5, 5]);
    const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' });
    for (let i = 0; i < 4; i++) {
      eagerOptimizer.zeroGrad();
      const eagerLoss = F.crossEntropy(eagerModel.forward(x), y);
      eagerLoss.backward();
      eagerOptimizer.step();
      let loss: Tensor;
      [loss, params, buffers, state] = step(params, buffers, state, x, y) as unknown as [
        Tensor,
        Record<string, Tensor>,
        Record<string, Tensor>,
        optim.OptimizerState,
      ];
      expect(Math.abs((loss.item() as number) - (eagerLoss.item() as number))).toBeLessThan(1e-4);
    }
    const eagerParams = eagerModel.parameterValues();
    for (const [name, value] of Object.entries(params)) expect(maxDifference(value, eagerParams[name] as Tensor)).toBeLessThan(1e-4);
    const eagerBuffers = eagerModel.bufferValues();
    expect(Object.keys(buffers).sort()).toEqual(Object.keys(eagerBuffers).sort());
    for (const [name, value] of Object.entries(buffers)) {
      if (value.dtype === 'int32') expect(value.item()).toBe(4);
      else expect(maxDifference(value, eagerBuffers[name] as Tensor)).toBeLessThan(1e-5);
    }
    expect(step.cacheSize).toBe(1);
  });

  it('functionalCallWithBuffers leaves the module as it was, and reports only the buffers the pass replaced', () => {
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    const before = model.bufferValues();
    const [out, updated] = nn.functionalCallWithBuffers(model, {}, randn([5, 3]));
    expect(out.shape).toEqual([5, 4]);
    expect(Object.keys(updated).sort()).toEqual(['1.numBatchesTracked', '1.runningMean', '1.runningVar']);
    expect(updated['1.numBatchesTracked']?.item()).toBe(1);
    expect(model.bufferValues()).toEqual(before);
    model.eval();
    expect(Object.keys(nn.functionalCallWithBuffers(model, {}, randn([5, 3]))[1])).toEqual([]);
  });

  it('plain jit of a function that updates a module it closes over still raises, naming the ways out', () => {
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    const f = jit((x: Tensor) => model.forward(x));
    expect(() => noGrad(() => f(randn([5, 3])))).toThrow(/compile\(\)|functionalCallWithBuffers/);
  });
});
