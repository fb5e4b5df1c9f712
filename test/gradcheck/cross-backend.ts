import { getBackend, jvp, type Tensor, tensor, tidy, vjp } from '@flint/api';
import fc from 'fast-check';
import { type Operand, rng, sizeOf } from './generators.js';
import type { OpCase } from './harness.js';

// Gradient checks for a backend that reads only asynchronously (cuda), which the finite-difference
// suites (primitives.test.ts, composites.test.ts) cannot drive: on samples of every
// differentiable case, in float64, the backend's VJP and JVP must equal the reference backend's
// (the portable CPU backend, whose rules those suites check against finite differences), and its
// imperative backward() must equal its own VJP. No vitest here: the device check
// (packages/backend-cuda/scripts/device-check.ts) bundles it for the GPU machine.

export interface GradientComparison {
  /** Samples compared (a case counts once per sample). */
  readonly checked: number;
  readonly failures: string[];
}

interface Derivatives {
  readonly output: Tensor;
  readonly cotangents: Tensor[];
  readonly tangent: Tensor;
  readonly backward: Tensor[];
}

function toTensor(op: Operand, backend: string): Tensor {
  const data =
    op.dtype === 'float64' ? Float64Array.from(op.data) : op.dtype === 'int32' ? Int32Array.from(op.data) : Uint8Array.from(op.data);
  return tensor(data, { shape: [...op.shape], dtype: op.dtype, backend });
}

/** The output, the VJP of `u`, the JVP along `v` and backward()'s gradients of `c` on `backend`. */
function derivatives<P>(c: OpCase<P>, operands: readonly Operand[], params: P, u: number[], v: number[][], backend: string): Derivatives {
  return tidy(() => {
    const inputs = operands.map((o) => toTensor(o, backend));
    const diff = operands.map((o, i) => (o.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
    const f = (...xs: Tensor[]): Tensor => {
      const all = [...inputs];
      diff.forEach((k, i) => {
        all[k] = xs[i] as Tensor;
      });
      return c.apply(all, params);
    };
    const diffInputs = diff.map((k) => inputs[k] as Tensor);
    const output = f(...diffInputs);
    const uT = tensor(Float64Array.from(u), { shape: [...output.shape], dtype: 'float64', backend });
    const [, pullback] = vjp(f, ...diffInputs);
    const cotangents = pullback(uT) as Tensor[];
    const vT = diff.map((k, i) =>
      tensor(Float64Array.from(v[i] as number[]), { shape: [...(operands[k] as Operand).shape], dtype: 'float64', backend }),
    );
    const [, tangent] = jvp(f, diffInputs, vT);
    const leaves = diffInputs.map((x) => x.detach().requiresGrad_());
    f(...leaves)
      .mul(uT)
      .sum()
      .backward();
    return { output, cotangents, tangent: tangent as Tensor, backward: leaves.map((leaf) => leaf.grad as Tensor) };
  });
}

async function read(tensors: readonly Tensor[]): Promise<number[][]> {
  const out: number[][] = [];
  for (const t of tensors) out.push(Array.from(await t.data(), Number));
  return out;
}

function disposeAll(d: Derivatives): void {
  for (const t of [d.output, ...d.cotangents, d.tangent, ...d.backward]) t.dispose();
}

function mismatch(actual: readonly number[], expected: readonly number[], tolerance: number): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i] as number, expected[i] as number];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= tolerance * (1 + Math.abs(a) + Math.abs(e)))) return `element ${i} is ${a}, expected ${e}`;
  }
  return null;
}

/**
 * Compares `backend`'s derivatives of every differentiable case in `cases` with `reference`'s, on
 * `samples` samples of each (drawn with `seed`). Float64 throughout: `tolerance` (default 1e-9,
 * relative) allows for different summation orders, not for different rules.
 */
export async function compareGradients(
  backend: string,
  reference: string,
  cases: readonly OpCase<never>[],
  options: { readonly samples?: number; readonly seed?: number; readonly tolerance?: number } = {},
): Promise<GradientComparison> {
  const failures: string[] = [];
  let checked = 0;
  const tolerance = options.tolerance ?? 1e-9;
  const readsSynchronously = getBackend(backend).readSync !== undefined;
  for (const [index, c] of cases.entries()) {
    if (c.differentiable === false) continue;
    if (c.readsValues !== undefined && !readsSynchronously) continue;
    const samples = fc.sample(c.sample, { numRuns: options.samples ?? 3, seed: (options.seed ?? 20261130) + index });
    for (const [s, sample] of samples.entries()) {
      const next = rng(1000 * index + s);
      const outputSize = tidy(() => {
        const out = c.apply(
          sample.operands.map((o) => toTensor(o, reference)),
          sample.params,
        );
        return sizeOf(out.shape);
      });
      const u = Array.from({ length: outputSize }, () => next() * 2 - 1);
      const v = sample.operands
        .filter((o) => o.dtype === 'float64')
        .map((o) => Array.from({ length: sizeOf(o.shape) }, () => next() * 2 - 1));
      let onBackend: Derivatives | null = null;
      let onReference: Derivatives | null = null;
      try {
        onBackend = derivatives(c, sample.operands, sample.params, u, v, backend);
        onReference = derivatives(c, sample.operands, sample.params, u, v, reference);
        const parts: [string, Tensor[], Tensor[]][] = [
          ['output', [onBackend.output], [onReference.output]],
          ['vjp', onBackend.cotangents, onReference.cotangents],
          ['jvp', [onBackend.tangent], [onReference.tangent]],
          ['backward() vs its own vjp', onBackend.backward, onBackend.cotangents],
        ];
        for (const [what, actual, expected] of parts) {
          const [a, e] = [await read(actual), await read(expected)];
          for (let i = 0; i < e.length; i++) {
            const problem = mismatch(a[i] ?? [], e[i] ?? [], tolerance);
            if (problem !== null) failures.push(`${c.name} (sample ${s}): ${what} ${i}: ${problem}`);
          }
        }
      } catch (error) {
        failures.push(`${c.name} (sample ${s}): ${(error as Error).message.split('\n')[0]}`);
      } finally {
        if (onBackend) disposeAll(onBackend);
        if (onReference) disposeAll(onReference);
      }
      checked++;
    }
  }
  return { checked, failures };
}
