import { bind, grad, jvp, Primitive, type Tensor, tensor, tidy, vjp, vmap } from '@flint/api';
import { expect } from 'vitest';
import { type Operand, rng, type Sample, sizeOf } from './generators.js';

// The checks every case goes through (see docs/autodiff.md, "Testing"):
//  1. VJP against central finite differences, along a random direction: <J^T u, v> = d/dh <u, f(x + h v)>
//  2. JVP and VJP agree: <u, J v> = <J^T u, v>
//  3. imperative backward() gives the same gradient as functional vjp
//  4. vmap(f) equals stacking f over the batch (random in/out axes, some operands unbatched)
//  5. vmap of the pullback equals stacking per-example pullbacks (the VJP rules batch)
//  6. for smooth cases: grad(grad) against finite differences of grad, and
//     forward-over-reverse (jvp of grad) against reverse-over-reverse.

export interface OpCase<Params = never> {
  readonly name: string;
  /** The primitives whose rules this case exercises (read by the coverage test). */
  readonly covers: readonly Primitive[];
  readonly sample: import('fast-check').Arbitrary<Sample<Params>>;
  readonly apply: (inputs: Tensor[], params: Params) => Tensor;
  /** False for primitives declared non-differentiable: only batching and zero gradients are checked. */
  readonly differentiable?: boolean;
  /** Second derivatives exist and are checked. */
  readonly smooth?: boolean;
  /** Finite-difference step and tolerance (defaults 1e-5 and 1e-6). */
  readonly step?: number;
  readonly tolerance?: number;
  readonly numRuns?: number;
  /**
   * Why the op reads its input's values on the host (a result whose size depends on them), where
   * it does: a backend that reads only asynchronously refuses the synchronous form, so the
   * cross-backend comparison skips the case there (its async form is tested on that backend).
   */
  readonly readsValues?: string;
}

export function toTensor(op: Operand, backend: string): Tensor {
  if (op.dtype === 'float64') return tensor(Float64Array.from(op.data), { shape: op.shape, dtype: 'float64', backend });
  if (op.dtype === 'int32') return tensor(Int32Array.from(op.data), { shape: op.shape, dtype: 'int32', backend });
  return tensor(Uint8Array.from(op.data), { shape: op.shape, dtype: 'bool', backend });
}

export const values = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function close(actual: number, expected: number, tolerance: number): boolean {
  if (Number.isNaN(actual) && Number.isNaN(expected)) return true;
  return Math.abs(actual - expected) <= tolerance * (1 + Math.abs(actual) + Math.abs(expected));
}

export function expectClose(actual: number, expected: number, tolerance: number, what: string): void {
  if (!close(actual, expected, tolerance)) {
    expect.fail(`${what}: ${actual} vs ${expected} (difference ${Math.abs(actual - expected)}, tolerance ${tolerance} relative)`);
  }
}

export function expectAllClose(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  actual.forEach((a, i) => {
    if (!close(a, expected[i] as number, tolerance))
      expect.fail(`${what}: element ${i} is ${a}, expected ${expected[i]} (all: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)})`);
  });
}

const randomVector = (n: number, next: () => number): number[] => Array.from({ length: n }, () => next() * 2 - 1);

const floatTensor = (data: readonly number[], shape: readonly number[], backend: string): Tensor =>
  tensor(Float64Array.from(data), { shape, dtype: 'float64', backend });

/** Moves axis 0 of `x` to `axis` (a view). */
function fromFront(x: Tensor, axis: number): Tensor {
  if (axis === 0) return x;
  const perm = x.shape.map((_, i) => i).slice(1);
  perm.splice(axis, 0, 0);
  return bind(Primitive.Transpose, [x], { perm });
}

/** Stacks per-example operands along a new axis 0. */
function stackOperands(ops: readonly Operand[]): Operand {
  const first = ops[0] as Operand;
  return { shape: [ops.length, ...first.shape], data: ops.flatMap((o) => o.data), dtype: first.dtype };
}

/** Example `b` of a batch derived from one operand: floats scaled (keeping sign and domain), indices reversed, bools negated. */
function variant(op: Operand, b: number): Operand {
  if (b === 0) return op;
  if (op.dtype === 'float64') return { ...op, data: op.data.map((v) => v * (1 + 0.25 * b)) };
  if (op.dtype === 'bool') return { ...op, data: op.data.map((v) => (b % 2 === 1 ? 1 - v : v)) };
  return { ...op, data: b % 2 === 1 ? [...op.data].reverse() : op.data };
}

/** Runs every check of `c` on one sample, on one backend. */
export function checkSample<Params>(c: OpCase<Params>, sample: Sample<Params>, seed: number, backend: string): void {
  tidy(() => runChecks(c, sample, seed, backend));
}

function runChecks<Params>(c: OpCase<Params>, sample: Sample<Params>, seed: number, backend: string): void {
  const next = rng(seed);
  const inputs = sample.operands.map((o) => toTensor(o, backend));
  const diff = sample.operands.map((o, i) => (o.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
  const apply = (xs: Tensor[]): Tensor => c.apply(xs, sample.params);
  /** f of the differentiated operands only, the others held fixed. */
  const f = (...xs: Tensor[]): Tensor => {
    const all = [...inputs];
    diff.forEach((k, i) => {
      all[k] = xs[i] as Tensor;
    });
    return apply(all);
  };
  const diffInputs = diff.map((k) => inputs[k] as Tensor);
  const out = apply(inputs);
  const tolerance = c.tolerance ?? 1e-6;

  if (c.differentiable === false) {
    checkBatching(c, sample, next, backend, tolerance);
    if (diff.length > 0 && out.dtype === 'float64') {
      const zero = grad((...xs: Tensor[]) => f(...xs).sum(), { argnums: diff.map((_, i) => i) })(...diffInputs) as Tensor[];
      for (const z of zero)
        expect(
          values(z).every((v) => v === 0),
          `${c.name}: gradient through a non-differentiable op is zero`,
        ).toBe(true);
    }
    return;
  }

  const u = randomVector(sizeOf(out.shape), next);
  const uT = floatTensor(u, out.shape, backend);
  const v = diff.map((k) => randomVector(sizeOf((sample.operands[k] as Operand).shape), next));
  const vT = diff.map((k, i) => floatTensor(v[i] as number[], (sample.operands[k] as Operand).shape, backend));
  const s = (xs: Tensor[]): number =>
    f(...xs)
      .mul(uT)
      .sum()
      .item() as number;

  // 1. VJP against central finite differences along v.
  const [, pullback] = vjp(f, ...diffInputs);
  const cts = pullback(uT) as Tensor[];
  const vjpDot = cts.reduce((acc, ct, i) => acc + dot(values(ct), v[i] as number[]), 0);
  const h = c.step ?? 1e-5;
  const shifted = (sign: number) =>
    diff.map((k, i) => {
      const o = sample.operands[k] as Operand;
      return floatTensor(
        o.data.map((x, j) => x + sign * h * ((v[i] as number[])[j] as number)),
        o.shape,
        backend,
      );
    });
  const finite = (s(shifted(1)) - s(shifted(-1))) / (2 * h);
  expectClose(vjpDot, finite, tolerance * 10, `${c.name}: <vjp(u), v> vs finite differences`);

  // 2. JVP and VJP agree.
  const [, tangentOut] = jvp(f, diffInputs, vT);
  expectClose(dot(u, values(tangentOut)), vjpDot, c.tolerance ?? 1e-9, `${c.name}: <u, jvp(v)> vs <vjp(u), v>`);

  // 3. The imperative tape gives the same gradients.
  const leaves = diffInputs.map((x) => x.detach().requiresGrad_());
  f(...leaves)
    .mul(uT)
    .sum()
    .backward();
  leaves.forEach((leaf, i) => {
    expectAllClose(values(leaf.grad as Tensor), values(cts[i] as Tensor), 1e-12, `${c.name}: backward() vs vjp, input ${i}`);
  });

  // 4 and 5. Batching of the op and of its VJP.
  checkBatching(c, sample, next, backend, tolerance);
  checkBatchedPullback(c, sample, diff, inputs, uT, next, backend);

  // 6. Second order.
  if (c.smooth) {
    const w = diff.map((k) => randomVector(sizeOf((sample.operands[k] as Operand).shape), next));
    const wT = diff.map((k, i) => floatTensor(w[i] as number[], (sample.operands[k] as Operand).shape, backend));
    const gradS = (...xs: Tensor[]): Tensor[] => vjp(f, ...xs)[1](uT) as Tensor[];
    const q = (...xs: Tensor[]): Tensor =>
      gradS(...xs).reduce<Tensor | null>((acc, g, i) => {
        const term = g.mul(wT[i] as Tensor).sum();
        return acc === null ? term : acc.add(term);
      }, null) as Tensor;
    const argnums = diff.map((_, i) => i);
    const hw = grad(q, { argnums })(...diffInputs) as Tensor[];
    const hwDotV = hw.reduce((acc, t, i) => acc + dot(values(t), v[i] as number[]), 0);
    const qFinite = ((q(...shifted(1)).item() as number) - (q(...shifted(-1)).item() as number)) / (2 * h);
    expectClose(hwDotV, qFinite, tolerance * 100, `${c.name}: grad(grad) vs finite differences of grad`);
    const [, hv] = jvp((...xs: Tensor[]) => gradS(...xs), diffInputs, vT);
    const hvDotW = (hv as Tensor[]).reduce((acc, t, i) => acc + dot(values(t), w[i] as number[]), 0);
    expectClose(hvDotW, hwDotV, 1e-8, `${c.name}: jvp(grad) vs grad(grad) (Hessian symmetry)`);
  }
}

interface BatchLayout {
  readonly batched: boolean[];
  readonly inAxes: (number | null)[];
  readonly outAxis: number;
  readonly size: number;
}

function layout(operands: readonly Operand[], outRank: number, next: () => number): BatchLayout {
  const size = 2 + Math.floor(next() * 2);
  const batched = operands.map(() => next() < 0.7);
  if (!batched.some(Boolean)) batched[Math.floor(next() * operands.length)] = true;
  const inAxes = operands.map((o, i) => (batched[i] ? Math.floor(next() * (o.shape.length + 1)) : null));
  return { batched, inAxes, outAxis: Math.floor(next() * (outRank + 1)), size };
}

function batchedInputs(operands: readonly Operand[], lay: BatchLayout, backend: string): { examples: Operand[][]; tensors: Tensor[] } {
  const examples = Array.from({ length: lay.size }, (_, b) => operands.map((o, i) => (lay.batched[i] ? variant(o, b) : o)));
  const tensors = operands.map((o, i) => {
    if (!lay.batched[i]) return toTensor(o, backend);
    const stacked = toTensor(stackOperands(examples.map((e) => e[i] as Operand)), backend);
    return fromFront(stacked, lay.inAxes[i] as number);
  });
  return { examples, tensors };
}

function checkBatching<Params>(c: OpCase<Params>, sample: Sample<Params>, next: () => number, backend: string, tolerance: number): void {
  if (sample.operands.length === 0) return;
  const apply = (xs: Tensor[]): Tensor => c.apply(xs, sample.params);
  const outRank = apply(sample.operands.map((o) => toTensor(o, backend))).shape.length;
  const lay = layout(sample.operands, outRank, next);
  const { examples, tensors } = batchedInputs(sample.operands, lay, backend);
  const batched = vmap((...xs: Tensor[]) => apply(xs), { inAxes: lay.inAxes, outAxes: lay.outAxis })(...tensors);
  const perExample = examples.map((e) => values(apply(e.map((o) => toTensor(o, backend)))));
  const first = apply(examples[0]?.map((o) => toTensor(o, backend)) ?? []);
  const expected = fromFront(floatOrSame(perExample.flat(), [lay.size, ...first.shape], first, backend), lay.outAxis);
  expect(batched.shape, `${c.name}: vmap output shape`).toEqual(expected.shape);
  expectAllClose(
    values(batched),
    values(expected),
    Math.min(tolerance, 1e-9),
    `${c.name}: vmap vs per-example (inAxes ${JSON.stringify(lay.inAxes)}, outAxes ${lay.outAxis})`,
  );
}

function floatOrSame(data: readonly number[], shape: readonly number[], like: Tensor, backend: string): Tensor {
  if (like.dtype === 'float64') return floatTensor(data, shape, backend);
  if (like.dtype === 'int32') return tensor(Int32Array.from(data), { shape, dtype: 'int32', backend });
  if (like.dtype === 'bool') return tensor(Uint8Array.from(data), { shape, dtype: 'bool', backend });
  return tensor(Float32Array.from(data), { shape, dtype: like.dtype, backend });
}

function checkBatchedPullback<Params>(
  c: OpCase<Params>,
  sample: Sample<Params>,
  diff: readonly number[],
  inputs: readonly Tensor[],
  uT: Tensor,
  next: () => number,
  backend: string,
): void {
  if (diff.length === 0) return;
  const diffOperands = diff.map((k) => sample.operands[k] as Operand);
  const lay = layout(diffOperands, 0, next);
  const { examples, tensors } = batchedInputs(diffOperands, lay, backend);
  const pull = (...xs: Tensor[]): Tensor[] => {
    const all = [...inputs];
    diff.forEach((k, i) => {
      all[k] = xs[i] as Tensor;
    });
    return vjp(
      (...ys: Tensor[]) => {
        const full = [...all];
        diff.forEach((k, i) => {
          full[k] = ys[i] as Tensor;
        });
        return c.apply(full, sample.params);
      },
      ...xs,
    )[1](uT) as Tensor[];
  };
  const batched = vmap(pull, { inAxes: lay.inAxes, outAxes: 0 })(...tensors);
  examples.forEach((e, b) => {
    const grads = pull(...e.map((o) => toTensor(o, backend)));
    grads.forEach((g, i) => {
      const row = bind(Primitive.Slice, [batched[i] as Tensor], {
        starts: [b, ...g.shape.map(() => 0)],
        stops: [b + 1, ...g.shape],
        steps: [1, ...g.shape.map(() => 1)],
      });
      expectAllClose(values(row), values(g), 1e-9, `${c.name}: vmap(pullback) vs per-example pullback, example ${b}, input ${i}`);
    });
  });
}
