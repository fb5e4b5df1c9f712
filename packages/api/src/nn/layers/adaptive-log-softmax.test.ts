import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { grad, IndexError, manualSeed, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../../test/support/python-torch.test-support.js';
import * as nn from '../index.js';
import { maxRelativeDifference, randomValues, seededRandom } from '../testing.test-support.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** torch's parameter names: head.weight, head.bias, tail.0.0.weight, ... (Flint's are the same). */
function stateOf(module: nn.AnyModule): Record<string, { shape: number[]; values: number[] }> {
  return Object.fromEntries(Object.entries(module.stateDict()).map(([k, t]) => [k, { shape: [...t.shape], values: values(t) }]));
}

interface Case {
  readonly inFeatures: number;
  readonly nClasses: number;
  readonly cutoffs: number[];
  readonly divValue: number;
  readonly headBias: boolean;
  readonly rows: number;
  readonly targets: number[];
}

const CASES: Case[] = [
  { inFeatures: 8, nClasses: 10, cutoffs: [3, 6], divValue: 2, headBias: true, rows: 7, targets: [0, 4, 9, 2, 6, 5, 8] },
  { inFeatures: 6, nClasses: 5, cutoffs: [2], divValue: 4, headBias: false, rows: 4, targets: [4, 3, 2, 3] },
];

// Runs each case's module in PyTorch (float64) with Flint's weights: forward's output and loss,
// the gradients of sum(output * r) + loss with respect to the input and every weight, logProb, predict.
const SCRIPT = `
import json, sys, torch
torch.set_default_dtype(torch.float64)
out = []
for c in json.load(sys.stdin):
    m = torch.nn.AdaptiveLogSoftmaxWithLoss(c['inFeatures'], c['nClasses'], c['cutoffs'], div_value=c['divValue'], head_bias=c['headBias'])
    m.load_state_dict({k: torch.tensor(v['values']).reshape(v['shape']) for k, v in c['state'].items()}, strict=True)
    x = torch.tensor(c['x']).reshape(c['rows'], c['inFeatures']).requires_grad_(True)
    y = torch.tensor(c['targets'], dtype=torch.long)
    r = torch.tensor(c['r'])
    res = m(x, y)
    ((res.output * r).sum() + res.loss).backward()
    out.append({
        'output': res.output.tolist(), 'loss': res.loss.item(), 'gradInput': x.grad.flatten().tolist(),
        'gradWeights': {k: p.grad.flatten().tolist() for k, p in m.named_parameters()},
        'logProb': m.log_prob(x).flatten().tolist(), 'predict': m.predict(x).tolist(),
    })
print(json.dumps(out))
`;

const reason = torchUnavailable();

describe.skipIf(reason !== '')(`AdaptiveLogSoftmaxWithLoss against PyTorch${reason === '' ? '' : ` (skipped: ${reason})`}`, () => {
  it('agrees on output, loss, logProb, predict and the gradients of input and weights (float64)', () => {
    const random = seededRandom(11);
    const prepared = CASES.map((c) => {
      manualSeed(5);
      const module = new nn.AdaptiveLogSoftmaxWithLoss(c.inFeatures, c.nClasses, c.cutoffs, {
        divValue: c.divValue,
        headBias: c.headBias,
        dtype: 'float64',
      });
      const x = randomValues(random, c.rows * c.inFeatures, -2, 2);
      const r = randomValues(random, c.rows);
      return { c, module, x, r };
    });
    const run = spawnSync(PYTHON, ['-c', SCRIPT], {
      input: JSON.stringify(prepared.map(({ c, module, x, r }) => ({ ...c, state: stateOf(module), x, r }))),
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(run.stderr).toBe('');
    const expected = JSON.parse(run.stdout) as {
      output: number[];
      loss: number;
      gradInput: number[];
      gradWeights: Record<string, number[]>;
      logProb: number[];
      predict: number[];
    }[];
    for (const [i, { c, module, x, r }] of prepared.entries()) {
      const torchResult = expected[i];
      if (torchResult === undefined) throw new Error(`no PyTorch result for case ${i}`);
      const input = tensor(x, { dtype: 'float64', shape: [c.rows, c.inFeatures], requiresGrad: true });
      const { output, loss } = module.forward(input, tensor(c.targets, { dtype: 'int32' }));
      expect(maxRelativeDifference(values(output), torchResult.output)).toBeLessThan(1e-12);
      expect(maxRelativeDifference(values(loss), [torchResult.loss])).toBeLessThan(1e-12);
      output
        .mul(tensor(r, { dtype: 'float64' }))
        .sum()
        .add(loss)
        .backward();
      expect(maxRelativeDifference(values(input.grad as Tensor), torchResult.gradInput)).toBeLessThan(1e-12);
      const named = module.namedParameters();
      expect(named.map(([name]) => name)).toEqual(Object.keys(torchResult.gradWeights));
      for (const [name, p] of named) {
        expect(maxRelativeDifference(values(p.grad as Tensor), torchResult.gradWeights[name] as number[]), name).toBeLessThan(1e-12);
      }
      expect(maxRelativeDifference(values(module.logProb(input)), torchResult.logProb)).toBeLessThan(1e-12);
      expect(values(module.predict(input))).toEqual(torchResult.predict);
    }
  });
});

describe('AdaptiveLogSoftmaxWithLoss', () => {
  const make = (): nn.AdaptiveLogSoftmaxWithLoss => {
    manualSeed(1);
    return new nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], { divValue: 2, dtype: 'float64' });
  };

  it('has torch’s structure, and its log-probabilities sum to one over the classes', () => {
    const m = make();
    expect(m.namedParameters().map(([name, p]) => [name, p.shape])).toEqual([
      ['head.weight', [5, 8]],
      ['tail.0.0.weight', [4, 8]],
      ['tail.0.1.weight', [3, 4]],
      ['tail.1.0.weight', [2, 8]],
      ['tail.1.1.weight', [4, 2]],
    ]);
    const x = tensor(randomValues(seededRandom(2), 24), { dtype: 'float64', shape: [3, 8] });
    const logProb = m.logProb(x);
    expect(logProb.shape).toEqual([3, 10]);
    for (const total of values(logProb.exp().sum(1))) expect(total).toBeCloseTo(1, 12);
    // forward's output is the log-probability of each target.
    const targets = [9, 0, 4];
    const { output } = m.forward(x, targets);
    const table = logProb.arraySync() as number[][];
    expect(values(output)).toEqual(targets.map((t, row) => expect.closeTo(table[row]?.[t] as number, 12)));
  });

  it('takes an unbatched input with a scalar target, and gradients under grad() equal backward()', () => {
    const m = make();
    const x = tensor(randomValues(seededRandom(3), 8), { dtype: 'float64' });
    const single = m.forward(x, tensor(7, { dtype: 'int32' }));
    expect(single.output.shape).toEqual([]);
    expect(single.loss.item()).toBeCloseTo(-single.output.item(), 12);
    expect(m.logProb(x).shape).toEqual([10]);
    expect(m.predict(x).shape).toEqual([]);
    const batch = tensor(randomValues(seededRandom(4), 16), { dtype: 'float64', shape: [2, 8] });
    const target = tensor([1, 8], { dtype: 'int32' });
    const viaGrad = grad((input: Tensor) => m.forward(input, target).loss)(batch);
    const leaf = tensor(batch.arraySync() as number[][], { dtype: 'float64', requiresGrad: true });
    m.forward(leaf, target).loss.backward();
    expect(maxRelativeDifference(values(viaGrad), values(leaf.grad as Tensor))).toBeLessThan(1e-14);
  });

  it('refuses bad cutoffs, shapes and targets', () => {
    expect(() => new nn.AdaptiveLogSoftmaxWithLoss(8, 10, [])).toThrow(/cutoffs must be a non-empty list/);
    expect(() => new nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3])).toThrow(/increasing order.*got \[5,3\]/);
    expect(() => new nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 10])).toThrow(/between 1 and nClasses - 1 = 9/);
    expect(() => new nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3], { divValue: 16 })).toThrow(/tail cluster 0 would project to .* 0 features/);
    const m = make();
    const x = tensor(randomValues(seededRandom(5), 16), { dtype: 'float64', shape: [2, 8] });
    expect(() => m.forward(x, [0, 10])).toThrow(IndexError);
    expect(() => m.forward(x, [0, 10])).toThrow(/target 10 is out of range for 10 classes/);
    expect(() => m.forward(x, [0, 1, 2])).toThrow(ShapeError);
    expect(() => m.forward(x, tensor([0.5, 1], { dtype: 'float64' }))).toThrow(/int32/);
    expect(() => m.logProb(tensor([1, 2, 3]))).toThrow(/expected an input of shape \[N, 8\] or \[8\], got \[3\]/);
    expect(() => new nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3], { divValue: 0 })).toThrow(ValueError);
  });
});
