// What the tests of the special functions share (special.test.ts, bessel-j-y.test.ts,
// erfinv.test.ts, incomplete-gamma.test.ts, zeta.test.ts, orthogonal-polynomials.test.ts; the
// float64 helpers also torch-elementwise.test.ts): float64 inputs and the values they give, grids of operand pairs and their labels, mpmath's values
// (through PyTorch's Python, which has mpmath) where PyTorch's own are less accurate than Flint's,
// and the checks every such function passes (half dtypes rounded once, vmap and jit as eager).
// The `.test-support` name keeps it out of the published package (and coverage.test.ts's ops).

import { jit, type Tensor, tensor, vmap } from '@flint/api';
import { expect } from 'vitest';
import { expectValuesClose } from '../../../../test/support/torch-oracle.test-support.js';

export const NAN = Number.NaN;
export const INF = Number.POSITIVE_INFINITY;

/** A tensor's values as numbers. */
export const values = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);

/** A float64 vector of `xs`. */
export const f64 = (xs: readonly number[]): Tensor => tensor([...xs], { dtype: 'float64' });

/** Every pair (x, y) of `xs` and `ys`, x-major, as the column of x's and the column of y's. */
export function grid(xs: readonly number[], ys: readonly number[]): [number[], number[]] {
  return [xs.flatMap((x) => ys.map(() => x)), xs.flatMap(() => ys)];
}

/** `first[i], name = second[i]` for each pair: the inputs a failure of expectValuesClose names. */
export function pairLabels(first: readonly number[], second: readonly number[], name: string): string[] {
  return first.map((x, i) => `${x}, ${name} = ${second[i]}`);
}

/**
 * A PyTorch expression (for runTorch) of mpmath's values, as a float64 vector: `expression`, a
 * Python expression over mpmath as `m` and one element of each named input (as an mpf, exact) by
 * the input's name, evaluated at `digits` decimal digits for each element, e.g.
 * `mpmath('m.besselj(0, x)', 30)` or `mpmath('m.gammainc(a, 0, x, regularized=True)', 50, ['a', 'x'])`.
 */
export function mpmath(expression: string, digits: number, inputs: readonly string[] = ['x']): string {
  const names = inputs.join(', ');
  const elements = inputs.length === 1 ? `${inputs[0]}.tolist()` : `zip(${inputs.map((n) => `${n}.tolist()`).join(', ')})`;
  const arguments_ = inputs.map((n) => `m.mpf(${n})`).join(', ');
  return `(lambda m: torch.tensor([float(m.workdps(${digits})(lambda ${names}: ${expression})(${arguments_})) for ${names} in ${elements}], dtype=torch.float64))(__import__('mpmath'))`;
}

/**
 * float16 and bfloat16 inputs (at `points`) give results of their own dtype, computed in float32 and
 * rounded once: within 1e-3 (float16) or 8e-3 (bfloat16) relative of the float64 values there.
 */
export function expectHalfDtypesRoundedOnce(name: string, f: (x: Tensor) => Tensor, points: readonly number[]): void {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    const x = tensor([...points], { dtype });
    const y = f(x);
    expect(y.dtype, `${name} of ${dtype}`).toBe(dtype);
    expectValuesClose(`${name} of ${dtype}`, values(y), values(f(x.astype('float64'))), { rtol: dtype === 'float16' ? 1e-3 : 8e-3 });
  }
}

/** vmap of `f` over `batch`'s first axis gives the eager values exactly, and jit within 1e-15. */
export function expectVmapAndJitLikeEager(name: string, f: (x: Tensor) => Tensor, batch: Tensor): void {
  expect(values(vmap(f)(batch))).toEqual(values(f(batch)));
  expectValuesClose(`jit ${name}`, values(jit(f)(batch)), values(f(batch)), { rtol: 1e-15 });
}
