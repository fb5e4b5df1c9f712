import '@flint/backend-cpu';
import { erf, erfinv, grad, jvp, special, type Tensor, tensor } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeAgainstTorch, expectValuesClose, runTorch, type TorchResult } from '../../../../test/support/torch-oracle.test-support.js';
import { expectHalfDtypesRoundedOnce, expectVmapAndJitLikeEager, f64, INF, mpmath, NAN, values } from './special.test-support.js';

// ops/erfinv.ts: the special values, dtypes, the derivative rule, float32 against float64, and
// values and gradients against PyTorch (and against mpmath, through PyTorch's Python, in the far
// tail where PyTorch's own float64 erfinv is off by up to 5e-5).

/** Both signs: a linear grid over (-1, 1), tiny magnitudes, and 1 - 10^-e toward the ends. */
const CENTRAL = Array.from({ length: 399 }, (_, i) => -0.995 + (i * 1.99) / 398);
const TINY = Array.from({ length: 40 }, (_, i) => 10 ** (-300 + 7.5 * i)).flatMap((x) => [x, -x]);
const TAIL = Array.from({ length: 53 }, (_, i) => 1 - 10 ** -(3 + i * 0.25)).flatMap((x) => [x, -x]);

describe('erfinv', () => {
  it('gives ±Infinity at ±1, NaN beyond, and keeps the sign of zero', () => {
    const y = values(erfinv(f64([1, -1, 1.5, -2, INF, NAN, 0, -0])));
    expect(y.slice(0, 7)).toEqual([INF, -INF, NAN, NAN, NAN, NAN, 0]);
    expect(Object.is(y[7], -0)).toBe(true);
    expectValuesClose(
      'erfinv',
      values(erfinv(f64([0.5, -0.9, 1e-300]))),
      [0.4769362762044699, -1.1630871536766743, 8.86226925452758e-301],
      {
        rtol: 2e-16,
      },
    );
  });

  it('computes integers in float32 and half dtypes in float32, rounded once', () => {
    expect(erfinv(tensor([0, 1], { dtype: 'int32' })).dtype).toBe('float32');
    expectHalfDtypesRoundedOnce('erfinv', erfinv, [-0.9, 0.25, 0.75]);
  });

  it('float32 (Giles, no Newton step) is within 3e-7 of float64 from its tiniest normal values to 1 - 2^-24', () => {
    const xs = [...CENTRAL, ...TINY.filter((x) => Math.abs(x) > 1e-37), ...TAIL.filter((x) => Math.abs(x) < 1 - 6e-8)];
    const x32 = tensor(xs, { dtype: 'float32' });
    expectValuesClose('float32 erfinv', values(erfinv(x32)), values(erfinv(x32.astype('float64'))), { rtol: 3e-7 }, values(x32));
  });

  it('inverts erf, and its derivative is sqrt(pi)/2 exp(erfinv(x)²) to every order and in forward mode', () => {
    const x = f64([-0.99, -0.3, 0, 0.6, 0.999]);
    expectValuesClose('erf(erfinv(x))', values(erf(erfinv(x))), values(x), { rtol: 4e-16, atol: 1e-17 });
    const y = values(erfinv(x));
    const slope = y.map((v) => (Math.sqrt(Math.PI) / 2) * Math.exp(v * v));
    expectValuesClose("erfinv'", values(grad((t: Tensor) => erfinv(t).sum())(x)), slope, { rtol: 1e-14 });
    const [, tangent] = jvp((t: Tensor) => erfinv(t), [x], [f64([1, 1, 1, 1, 1])]);
    expectValuesClose('jvp', values(tangent), slope, { rtol: 1e-14 });
    // d²/dx² = 2 y (y')².
    const second = values(grad((u: Tensor) => grad((t: Tensor) => erfinv(t).sum())(u).sum())(x));
    expectValuesClose(
      "erfinv''",
      second,
      y.map((v, i) => 2 * v * (slope[i] as number) ** 2),
      { rtol: 1e-13, atol: 1e-15 },
    );
    expect(values(grad((t: Tensor) => erfinv(t).sum())(f64([1, NAN])))).toEqual([INF, NAN]);
  });

  it('is a Tensor method and torch.special.erfinv, and runs under vmap and jit', () => {
    const x = f64([0.1, -0.7]);
    expect(values(x.erfinv())).toEqual(values(erfinv(x)));
    expect(special.erfinv).toBe(erfinv);
    const batch = tensor(
      [
        [0.1, -0.7],
        [0.99, 0],
      ],
      { dtype: 'float64' },
    );
    expectVmapAndJitLikeEager('erfinv', erfinv, batch);
  });
});

describeAgainstTorch('erfinv against PyTorch', () => {
  const central = [...CENTRAL, ...TINY, 0.9991, -0.9999, 0, -0, 1, -1, 1.5, NAN];
  let results: TorchResult[] = [];
  beforeAll(() => {
    results = runTorch([
      { expression: 'torch.special.erfinv(x)', inputs: { x: { values: central } } },
      { expression: 'torch.special.erfinv(x)', inputs: { x: { values: CENTRAL } }, gradients: ['x'] },
      // mpmath, which PyTorch's Python has (through sympy), for the far tail.
      { expression: mpmath('m.erfinv(x)', 40), inputs: { x: { values: TAIL } } },
    ]);
  });

  it('values over (-1, 1) and the special points agree to 5e-15 (PyTorch is good to 4e-15 here)', () => {
    expectValuesClose('erfinv', values(erfinv(f64(central))), results[0]?.outputs[0]?.values ?? [], { rtol: 5e-15 }, central);
  });

  it('gradients agree (the same formula, PyTorch rounding y² first)', () => {
    const flint = values(grad((t: Tensor) => erfinv(t).sum())(f64(CENTRAL)));
    expectValuesClose('erfinv gradient', flint, results[1]?.gradients.x ?? [], { rtol: 2e-14 }, CENTRAL);
  });

  it('the far tail (1 - |x| down to 1e-16) is within 2e-15 of mpmath', () => {
    expectValuesClose('erfinv tail', values(erfinv(f64(TAIL))), results[2]?.outputs[0]?.values ?? [], { rtol: 2e-15 }, TAIL);
  });
});
