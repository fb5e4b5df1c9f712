import '@flint/backend-cpu';
import { manualSeed, optim, randn, ShapeError, type Tensor, tensor, ValueError, vmap, zeros } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

type AnyLayer = nn.Module<[Tensor], Tensor>;

/** Builds the lazy and the eager module from the same seed, runs both on `x`, and compares everything. */
function expectSameAsEager(makeLazy: () => AnyLayer, makeEager: () => AnyLayer, x: Tensor, steps = 2): void {
  manualSeed(7);
  const lazy = makeLazy();
  const lazyOutputs = Array.from({ length: steps }, () => values(lazy.forward(x)));
  manualSeed(7);
  const eager = makeEager();
  const eagerOutputs = Array.from({ length: steps }, () => values(eager.forward(x)));
  expect(lazyOutputs).toEqual(eagerOutputs);
  const lazyState = lazy.stateDict();
  const eagerState = eager.stateDict();
  expect(Object.keys(lazyState)).toEqual(Object.keys(eagerState));
  for (const [key, value] of Object.entries(eagerState)) {
    expect(lazyState[key]?.shape, key).toEqual(value.shape);
    expect(lazyState[key]?.dtype, key).toBe(value.dtype);
    expect(values(lazyState[key] as Tensor), key).toEqual(values(value));
  }
  expect(lazy.toString()).toBe(eager.toString().replace(eager.constructor.name, lazy.constructor.name));
  lazy.eval();
  eager.eval();
  expect(values(lazy.forward(x))).toEqual(values(eager.forward(x)));
}

describe('lazy modules', () => {
  it('LazyLinear infers inFeatures and equals Linear built from the same seed', () => {
    const layer = new nn.LazyLinear(3);
    expect(layer.inFeatures).toBeNull();
    expect(layer.hasUninitializedParams()).toBe(true);
    expect(nn.isUninitializedParameter(layer.weight)).toBe(true);
    expect(layer.toString()).toBe('LazyLinear(inFeatures=uninitialized, outFeatures=3, bias=true)  # uninitialized parameters');
    const x = randn([4, 5]);
    expectSameAsEager(
      () => new nn.LazyLinear(3),
      () => new nn.Linear(5, 3),
      x,
    );
    expectSameAsEager(
      () => new nn.LazyLinear(2, { bias: false }),
      () => new nn.Linear(5, 2, { bias: false }),
      x,
    );
  });

  it('keeps the parameter cells across materialization, so that references taken early see the values', () => {
    const layer = new nn.LazyLinear(3);
    const weight = layer.weight;
    const [listed] = layer.parameters();
    layer.forward(zeros([2, 6]));
    expect(layer.inFeatures).toBe(6);
    expect(listed).toBe(weight);
    expect(weight.shape).toEqual([3, 6]);
    expect(nn.isUninitializedParameter(weight)).toBe(false);
    expect(layer.numParameters()).toBe(21);
    // Gradients reach the materialized cells, and an optimizer built now steps them.
    const optimizer = new optim.SGD(layer.parameters(), { lr: 0.5 });
    const before = values(weight.value);
    layer
      .forward(randn([2, 6]))
      .sum()
      .backward();
    expect(weight.grad?.shape).toEqual([3, 6]);
    optimizer.step();
    expect(values(weight.value)).not.toEqual(before);
  });

  it('conv, transposed conv and norm layers equal their eager counterparts', () => {
    expectSameAsEager(
      () => new nn.LazyConv1d(4, 3, { padding: 1 }),
      () => new nn.Conv1d(2, 4, 3, { padding: 1 }),
      randn([2, 2, 7]),
    );
    expectSameAsEager(
      () => new nn.LazyConv2d(4, 3, { groups: 2, stride: 2 }),
      () => new nn.Conv2d(6, 4, 3, { groups: 2, stride: 2 }),
      randn([1, 6, 7, 7]),
    );
    expectSameAsEager(
      () => new nn.LazyConv3d(2, 2),
      () => new nn.Conv3d(3, 2, 2),
      randn([1, 3, 3, 3, 3]),
    );
    expectSameAsEager(
      () => new nn.LazyConvTranspose1d(3, 4, { stride: 2, padding: 1 }),
      () => new nn.ConvTranspose1d(5, 3, 4, { stride: 2, padding: 1 }),
      randn([2, 5, 6]),
    );
    expectSameAsEager(
      () => new nn.LazyConvTranspose2d(2, 2, { stride: 2 }),
      () => new nn.ConvTranspose2d(3, 2, 2, { stride: 2 }),
      randn([1, 3, 4, 4]),
    );
    expectSameAsEager(
      () => new nn.LazyConvTranspose3d(2, 2),
      () => new nn.ConvTranspose3d(3, 2, 2),
      randn([1, 3, 2, 2, 2]),
    );
    // Two training steps move the running statistics, which live in the lazy module's buffers.
    expectSameAsEager(
      () => new nn.LazyBatchNorm1d(),
      () => new nn.BatchNorm1d(5),
      randn([6, 5]),
    );
    expectSameAsEager(
      () => new nn.LazyBatchNorm2d({ momentum: null }),
      () => new nn.BatchNorm2d(3, { momentum: null }),
      randn([2, 3, 4, 4]),
    );
    expectSameAsEager(
      () => new nn.LazyBatchNorm3d({ affine: false }),
      () => new nn.BatchNorm3d(2, { affine: false }),
      randn([2, 2, 2, 3, 3]),
    );
    expectSameAsEager(
      () => new nn.LazyInstanceNorm1d({ affine: true, trackRunningStats: true }),
      () => new nn.InstanceNorm1d(4, { affine: true, trackRunningStats: true }),
      randn([3, 4, 6]),
    );
    expectSameAsEager(
      () => new nn.LazyInstanceNorm2d(),
      () => new nn.InstanceNorm2d(3),
      randn([2, 3, 4, 4]),
    );
    expectSameAsEager(
      () => new nn.LazyInstanceNorm3d({ trackRunningStats: true }),
      () => new nn.InstanceNorm3d(2, { trackRunningStats: true }),
      randn([2, 2, 3, 3, 3]),
    );
  });

  it('infers channels from unbatched inputs, and counts the running batches in its own buffer', () => {
    const conv = new nn.LazyConv1d(2, 3);
    expect(conv.forward(randn([5, 8])).shape).toEqual([2, 6]);
    expect(conv.inChannels).toBe(5);
    const norm = new nn.LazyInstanceNorm1d({ affine: true });
    norm.forward(randn([4, 9]));
    expect(norm.numFeatures).toBe(4);
    const bn = new nn.LazyBatchNorm1d();
    bn.forward(randn([4, 3]));
    bn.forward(randn([4, 3]));
    expect(bn.getBuffer('numBatchesTracked').item()).toBe(2);
    expect(bn.runningMean.shape).toEqual([3]);
  });

  it('refuses what would read an uninitialized parameter, naming the module', () => {
    const model = new nn.Sequential(new nn.LazyLinear(4), new nn.ReLU(), new nn.Linear(4, 2));
    expect(model.parameters()).toHaveLength(4);
    expect(() => new optim.Adam(model.parameters())).toThrow(/LazyLinear\.weight is uninitialized.*Run one forward pass/);
    expect(() => model.stateDict()).toThrow(/LazyLinear\.weight is uninitialized/);
    expect(() => model.numParameters()).toThrow(ValueError);
    expect(() => (model.parameters()[0] as nn.Parameter).shape).toThrow(/LazyLinear\.weight is uninitialized/);
    expect(model.toString()).toContain('# 10 parameters and uninitialized parameters');
    expect(() => nn.functionalCall(model, model.parameterValues(), zeros([1, 3]))).toThrow(/uninitialized/);
    // Materializing needs a concrete input: not one traced by vmap.
    expect(() => vmap((x: Tensor) => new nn.LazyLinear(2).forward(x))(zeros([3, 4]))).toThrow(/run one eager forward pass first/);
    expect(() => new nn.LazyLinear(0)).toThrow(/outFeatures must be a positive integer/);
    expect(() => new nn.LazyConv2d(3, 3, { groups: 2 })).toThrow(/outChannels \(3\) must be divisible by groups \(2\)/);
    expect(() => new nn.LazyConv2d(4, 3, { groups: 2 }).forward(zeros([1, 3, 5, 5]))).toThrow(ShapeError);
    expect(() => new nn.LazyBatchNorm2d().forward(zeros([2, 3]))).toThrow(/LazyBatchNorm2d: expected a 4-d input, got \[2, 3\]/);
    // Once materialized, the module checks its inputs as the eager one does.
    const layer = new nn.LazyLinear(2);
    layer.forward(zeros([1, 3]));
    expect(() => layer.forward(zeros([1, 4]))).toThrow(ShapeError);
  });

  it('materializes with the dtype and backend that to() gave it before the first forward', () => {
    const layer = new nn.LazyLinear(2).to('float64');
    layer.forward(zeros([1, 3], { dtype: 'float64' }));
    expect(layer.weight.dtype).toBe('float64');
    expect(layer.bias?.dtype).toBe('float64');
  });

  it('round-trips a state dict, and loadStateDict materializes a lazy module from the shapes', () => {
    manualSeed(3);
    const source = new nn.Sequential(new nn.LazyConv2d(4, 3), new nn.LazyBatchNorm2d(), new nn.Flatten(), new nn.LazyLinear(2));
    const x = randn([2, 3, 5, 5]);
    const expected = values(source.forward(x));
    source.eval();
    const evaluated = values(source.forward(x));
    const state = source.stateDict();
    expect(Object.keys(state)).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '1.runningMean',
      '1.runningVar',
      '1.numBatchesTracked',
      '3.weight',
      '3.bias',
    ]);
    expect(state['3.weight']?.shape).toEqual([2, 36]);
    const target = new nn.Sequential(new nn.LazyConv2d(4, 3), new nn.LazyBatchNorm2d(), new nn.Flatten(), new nn.LazyLinear(2));
    expect(target.loadStateDict(state)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const [conv, bn, , linear] = target.children() as [nn.LazyConv2d, nn.LazyBatchNorm2d, nn.Flatten, nn.LazyLinear];
    expect([conv.inChannels, bn.numFeatures, linear.inFeatures]).toEqual([3, 4, 36]);
    target.eval();
    expect(values(target.forward(x))).toEqual(evaluated);
    // Into eager modules too: the keys are the eager module's.
    const eager = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.Flatten(), new nn.Linear(36, 2));
    eager.loadStateDict(state);
    eager.eval();
    expect(values(eager.forward(x))).toEqual(evaluated);
    expect(expected).toHaveLength(4);
  });

  it('reports a checkpoint that does not fit the lazy module', () => {
    const wrongOut = { weight: zeros([5, 4]), bias: zeros([5]) };
    expect(() => new nn.LazyLinear(3).loadStateDict(wrongOut)).toThrow(/size mismatch for 'weight'.*\[5, 4\].*\[3, 4\]/s);
    expect(() => new nn.LazyLinear(3).loadStateDict({ weight: zeros([12]), bias: zeros([3]) })).toThrow(
      /'weight' has shape \[12\]; expected 2 dimensions/,
    );
    // Without the weight nothing says the input size: the parameter stays uninitialized.
    expect(() => new nn.LazyLinear(3).loadStateDict({ bias: tensor([1, 2, 3]) }, false)).toThrow(/LazyLinear\.weight is uninitialized/);
  });
});
