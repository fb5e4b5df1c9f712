import '@flint/backend-cpu';
import { grad, jit, manualSeed, nn, noGrad, optim, randn, type Tensor, tensor, tidy, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { maxDifference } from './testing.test-support.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** Three well-separated blobs in 2-d, labelled 0, 1, 2. */
function blobs(): { x: Tensor; y: Tensor } {
  const centers = [
    [2, 0],
    [-1, 2],
    [-1, -2],
  ];
  const points: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 30; i++) {
    const c = i % 3;
    const center = centers[c] as number[];
    points.push([(center[0] as number) + Math.sin(i * 1.7) * 0.5, (center[1] as number) + Math.cos(i * 2.3) * 0.5]);
    labels.push(c);
  }
  return { x: tensor(points), y: tensor(labels) };
}

describe('training a small model', () => {
  it('Linear + ReLU + Linear with crossEntropy: the loss decreases under manual SGD on backward() gradients', () => {
    manualSeed(0);
    const { x, y } = blobs();
    const model = new nn.Sequential(new nn.Linear(2, 16), new nn.ReLU(), new nn.Linear(16, 3));
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      model.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      losses.push(loss.item() as number);
      noGrad(() => {
        for (const p of model.parameters()) p.value = tidy(() => p.value.sub((p.grad as Tensor).mul(0.5)));
      });
    }
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
    expect(losses[29] as number).toBeLessThan((losses[0] as number) * 0.3);
    for (let i = 5; i < losses.length; i += 5) expect(losses[i] as number).toBeLessThan(losses[i - 5] as number);
    const predictions = values(model.forward(x).argmax(1));
    expect(predictions).toEqual(values(y));
  });

  it('clipGradNorm and an optimizer step train the same model, and grad over functionalCall agrees with backward', () => {
    manualSeed(1);
    const { x, y } = blobs();
    const model = new nn.Sequential(new nn.Linear(2, 8), new nn.Tanh(), new nn.Dropout(0.1), new nn.Linear(8, 3));
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.3 });
    const first = F.crossEntropy(model.eval().forward(x), y).item() as number;
    model.train();
    for (let step = 0; step < 25; step++) {
      optimizer.zeroGrad();
      F.crossEntropy(model.forward(x), y).backward();
      nn.clipGradNorm(model.parameters(), 1);
      optimizer.step();
    }
    model.eval();
    const last = F.crossEntropy(model.forward(x), y).item() as number;
    expect(last).toBeLessThan(first * 0.5);
    // In eval mode (no dropout), the functional gradient equals the tape's.
    model.zeroGrad();
    F.crossEntropy(model.forward(x), y).backward();
    const functional = grad((p: Record<string, Tensor>) => F.crossEntropy(nn.functionalCall(model, p, x), y))(model.parameterValues());
    for (const [name, p] of model.namedParameters())
      expect(maxDifference(values(functional[name] as Tensor), values(p.grad as Tensor))).toBeLessThan(1e-5);
  });

  it('vmap(grad(...)) over functionalCall gives per-example gradients that average to the batch gradient', () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.SiLU(), new nn.Linear(4, 2));
    const x = randn([6, 3]);
    const y = tensor([0, 1, 1, 0, 1, 0]);
    const lossOne = (p: Record<string, Tensor>, input: Tensor, label: Tensor): Tensor =>
      F.crossEntropy(nn.functionalCall(model, p, input.reshape([1, 3])), label.reshape([1]));
    const params = model.parameterValues();
    const perExample = vmap(grad(lossOne), { inAxes: [null, 0, 0] })(params, x, y);
    expect(perExample['0.weight']?.shape).toEqual([6, 4, 3]);
    const batch = grad((p: Record<string, Tensor>) => F.crossEntropy(nn.functionalCall(model, p, x), y))(params);
    for (const name of Object.keys(params)) {
      expect(maxDifference(values((perExample[name] as Tensor).mean(0)), values(batch[name] as Tensor))).toBeLessThan(1e-5);
    }
  });

  it('a jit-compiled functional loss gives the same value as the eager one', () => {
    manualSeed(2);
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.GELU(), new nn.LayerNorm(4), new nn.Linear(4, 2));
    const x = randn([5, 3]);
    const y = tensor([0, 1, 1, 0, 1]);
    const loss = (p: Record<string, Tensor>, input: Tensor, target: Tensor): Tensor =>
      F.crossEntropy(nn.functionalCall(model, p, input), target);
    const compiled = jit(loss);
    const params = model.parameterValues();
    expect(compiled(params, x, y).item()).toBeCloseTo(loss(params, x, y).item() as number, 5);
  });
});

describe('gradient clipping', () => {
  function holders(gradients: number[][]): { grad: Tensor | null }[] {
    return gradients.map((g) => ({ grad: tensor(g, { dtype: 'float32' }) }));
  }

  it('clipGradNorm scales all gradients by maxNorm / total norm when above it, and returns the total norm', () => {
    const params = holders([
      [3, 0],
      [0, 4],
    ]);
    const total = nn.clipGradNorm(params, 1);
    expect(total.item()).toBeCloseTo(5, 6);
    expect(maxDifference(values(params[0]?.grad as Tensor), [0.6, 0])).toBeLessThan(1e-6);
    expect(maxDifference(values(params[1]?.grad as Tensor), [0, 0.8])).toBeLessThan(1e-6);
    const small = holders([[0.1, 0.2]]);
    nn.clipGradNorm(small, 10);
    expect(maxDifference(values(small[0]?.grad as Tensor), [0.1, 0.2])).toBeLessThan(1e-7);
  });

  it('supports other norms, skips parameters without gradients, and reports non-finite norms on request', () => {
    const params = [...holders([[1, -6], [2]]), { grad: null }];
    expect(nn.clipGradNorm(params, 3, { normType: Number.POSITIVE_INFINITY }).item()).toBe(6);
    expect(maxDifference(values(params[0]?.grad as Tensor), [0.5, -3])).toBeLessThan(1e-5);
    expect(nn.clipGradNorm(holders([[1, -2]]), 100, { normType: 1 }).item()).toBeCloseTo(3, 6);
    expect(() => nn.clipGradNorm(holders([[Number.NaN]]), 1, { errorIfNonfinite: true })).toThrow(
      /total norm of order 2 of the gradients is NaN/,
    );
    expect(nn.clipGradNorm([], 1).item()).toBe(0);
  });

  it('clipGradNorm without any gradient returns a float32 zero, as torch.tensor(0.0)', () => {
    for (const parameters of [[], [{ grad: null }], new nn.Linear(2, 2).parameters()]) {
      const total = nn.clipGradNorm(parameters, 1);
      expect(total.dtype).toBe('float32');
      expect(total.shape).toEqual([]);
      expect(total.item()).toBe(0);
    }
  });

  it('clipGradValue clamps every element', () => {
    const params = holders([[-3, 0.5, 2]]);
    nn.clipGradValue(params, 1);
    expect(values(params[0]?.grad as Tensor)).toEqual([-1, 0.5, 1]);
    expect(() => nn.clipGradValue(params, -1)).toThrow(/clipValue must be a non-negative number/);
  });
});
