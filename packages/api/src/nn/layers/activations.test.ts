import '@flint/backend-cpu';
import { type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe('activation modules', () => {
  const x = tensor(randomValues(seededRandom(5), 48, -5, 5), { shape: [2, 4, 6], dtype: 'float64' });

  const pairs: [nn.Module<[Tensor], Tensor>, (t: Tensor) => Tensor, string][] = [
    [new nn.SELU(), F.selu, 'SELU()'],
    [new nn.CELU(), (t) => F.celu(t), 'CELU(alpha=1)'],
    [new nn.CELU(0.5), (t) => F.celu(t, 0.5), 'CELU(alpha=0.5)'],
    [new nn.GLU(), (t) => F.glu(t), 'GLU(axis=-1)'],
    [new nn.GLU(1), (t) => F.glu(t, 1), 'GLU(axis=1)'],
    [new nn.Hardswish(), F.hardswish, 'Hardswish()'],
    [new nn.Hardsigmoid(), F.hardsigmoid, 'Hardsigmoid()'],
    [new nn.Softsign(), F.softsign, 'Softsign()'],
    [new nn.LogSigmoid(), F.logSigmoid, 'LogSigmoid()'],
    [new nn.Threshold(0.1, 20), (t) => F.threshold(t, 0.1, 20), 'Threshold(threshold=0.1, value=20)'],
    [new nn.Softmin(), (t) => F.softmin(t), 'Softmin(axis=-1)'],
    [new nn.Softmin(1), (t) => F.softmin(t, 1), 'Softmin(axis=1)'],
    [new nn.PReLU(), (t) => F.prelu(t, tensor([0.25], { dtype: 'float32' })), 'PReLU(numParameters=1)  # 1 parameter'],
  ];

  it.each(pairs.map(([module, functional, repr]) => [repr, module, functional] as const))(
    '%s computes its functional form and prints as PyTorch',
    (repr, module, functional) => {
      expect(values(module.forward(x))).toEqual(values(functional(x)));
      expect(module.toString()).toBe(repr);
    },
  );

  it('PReLU learns one slope per channel, initialized to init, in the state dict as weight', () => {
    const prelu = new nn.PReLU(4, 0.1, { dtype: 'float64' });
    expect(prelu.weight.value.dtype).toBe('float64');
    expect(values(prelu.weight.value)).toEqual([0.1, 0.1, 0.1, 0.1]);
    expect(Object.keys(prelu.stateDict())).toEqual(['weight']);
    expect(prelu.numParameters()).toBe(4);
    expect(prelu.toString()).toBe('PReLU(numParameters=4)  # 4 parameters');
    const out = prelu.forward(x);
    expect(values(out)).toEqual(values(F.prelu(x, prelu.weight.value)));
    out.sum().backward();
    // d/dw_c = the sum of the channel's non-positive inputs.
    const data = values(x);
    const expected = [0, 1, 2, 3].map((c) =>
      data.filter((_, i) => Math.floor(i / 6) % 4 === c && (data[i] as number) <= 0).reduce((a, b) => a + b, 0),
    );
    const slopeGradient = values(prelu.weight.grad as Tensor);
    expect(Math.max(...expected.map((e, c) => Math.abs(e - (slopeGradient[c] as number))))).toBeLessThan(1e-12);
    expect(() => new nn.PReLU(0)).toThrow(/PReLU: numParameters must be a positive integer/);
  });

  it('check their arguments when built', () => {
    expect(() => new nn.CELU(Number.NaN)).toThrow(ValueError);
    expect(() => new nn.Threshold(Number.POSITIVE_INFINITY, 0)).toThrow(/Threshold: threshold must be a finite number/);
  });
});
