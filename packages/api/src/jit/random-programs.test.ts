import '@flint/backend-cpu';
import {
  add,
  type Backend,
  grad,
  greater,
  jit,
  jvp,
  maximum,
  mean,
  minimum,
  mul,
  randn,
  registerBackend,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  vmap,
  where,
} from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { programForTest, stepArbitrary as sharedStepArbitrary } from '../../../../test/support/random-programs.test-support.js';

// Random programs traced and run both ways: jit (all passes, fused kernels compiled by the CPU
// backend's hook, or run op by op on a backend without it) must agree with eager evaluation.

registerBackend({
  name: 'cpu-without-compile',
  priority: -1,
  // The CPU backend under another name, without the compile hook: every fused group runs op by op.
  create: () => Object.create(new CpuBackend(), { name: { value: 'cpu-without-compile' }, compile: { value: undefined } }) as Backend,
});

registerBackend({
  name: 'cpu-recomputing-scalars',
  priority: -1,
  // The CPU backend under another name, asking jit to sink rank-0 arithmetic into the kernels
  // that read it, as the GPU backends do (ir/passes/scalar-sinking.ts).
  create: () => {
    const cpu = new CpuBackend();
    return Object.create(cpu, {
      name: { value: 'cpu-recomputing-scalars' },
      capabilities: { value: { ...cpu.capabilities, recomputeScalars: true } },
    }) as Backend;
  },
});

const stepArbitrary = sharedStepArbitrary();

/**
 * Whether jit's results are eager's within float32 rounding: up to 12 steps, with matmuls of 40
 * terms whose sums jit may order differently (fused contractions), compound to about 1e-5 of the
 * intermediate values' scale (seed 727957608 gave 1.006e-5 after four matmuls and a tanh). A wrong
 * op, axis or operand is off by O(1).
 */
function close(a: readonly Tensor[], b: readonly Tensor[]): boolean {
  return a.every((t, i) => {
    const u = b[i] as Tensor;
    const x = t.dataSync();
    const y = u.dataSync();
    for (let k = 0; k < x.length; k++) {
      const p = x[k] as number;
      const q = y[k] as number;
      if (Number.isNaN(q) ? !Number.isNaN(p) : Math.abs(p - q) > 1e-4 * Math.max(1, Math.abs(q))) return false;
    }
    return true;
  });
}

const cases = fc.record({ steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 12 }), n: fc.constantFrom(1, 3, 8, 40) });

describe('random programs: jit agrees with eager', () => {
  for (const backend of ['cpu', 'cpu-without-compile', 'cpu-recomputing-scalars']) {
    it(`on ${backend}`, () => {
      let sunk = 0;
      fc.assert(
        fc.property(cases, ({ steps, n }) => {
          const make = (shape: number[]) => tensor(randn(shape).dataSync(), { shape, backend });
          const x = make([n, n]);
          const y = make([n, n]);
          const row = make([n]);
          const w = make([n, n]).mul(0.5);
          const f = programForTest(steps);
          const eager = f(x, y, row, w);
          const jitted = jit(f);
          const sinking = jitted.lower(x, y, row, w).passes.find((p) => p.name === 'scalar sinking');
          if (sinking !== undefined && sinking.after !== sinking.before) sunk++;
          return close(jitted(x, y, row, w), eager);
        }),
        { numRuns: 60 },
      );
      // The programs reduce to scalars and broadcast them back often enough to exercise the pass.
      expect(sunk > 0).toBe(backend === 'cpu-recomputing-scalars');
    });
  }
});

// The same programs under grad, jvp and vmap of the jitted function: each transform derives a
// compiled program from the jitted call (forward and backward, JVP, batched), which must agree
// with the transform applied to the eager function.
const loose = (a: readonly Tensor[], b: readonly Tensor[]): boolean =>
  a.every((t, i) => {
    const x = t.dataSync();
    const y = (b[i] as Tensor).dataSync();
    let scale = 1;
    for (const q of y) if (Number.isFinite(q)) scale = Math.max(scale, Math.abs(q as number));
    for (let k = 0; k < x.length; k++) {
      const p = x[k] as number;
      const q = y[k] as number;
      if (Number.isNaN(q) ? !Number.isNaN(p) : !(p === q || Math.abs(p - q) <= 1e-4 * scale)) return false;
    }
    return true;
  });

describe('random programs: transforms of a jitted call agree with the transforms of eager code', () => {
  for (const backend of ['cpu', 'cpu-without-compile', 'cpu-recomputing-scalars']) {
    it(`grad, jvp and vmap on ${backend}`, () => {
      fc.assert(
        fc.property(cases, fc.constantFrom('grad', 'jvp', 'vmap'), ({ steps, n }, transform) => {
          const make = (shape: number[]) => tensor(randn(shape).dataSync(), { shape, backend });
          const x = make([n, n]);
          const y = make([n, n]);
          const row = make([n]);
          const w = make([n, n]).mul(0.5);
          const f = programForTest(steps);
          if (transform === 'grad') {
            const loss = (a: Tensor, b: Tensor, r: Tensor, v: Tensor): Tensor =>
              f(a, b, r, v)
                .map((o) => mean(tanh(o)))
                .reduce((p, q) => add(p, q));
            const argnums = [0, 1, 3] as const;
            const compiled = grad(jit(loss), { argnums: [...argnums] })(x, y, row, w) as Tensor[];
            const eager = grad(loss, { argnums: [...argnums] })(x, y, row, w) as Tensor[];
            return loose(compiled, eager);
          }
          if (transform === 'jvp') {
            const tangents: [Tensor, Tensor, Tensor, Tensor] = [make([n, n]), make([n, n]), make([n]), make([n, n])];
            const [out, tangent] = jvp(jit(f), [x, y, row, w], tangents);
            const [eagerOut, eagerTangent] = jvp(f, [x, y, row, w], tangents);
            return loose(out, eagerOut) && loose(tangent, eagerTangent);
          }
          const xs = make([3, n, n]);
          const inAxes = [0, null, null, null];
          return loose(vmap(jit(f), { inAxes })(xs, y, row, w), vmap(f, { inAxes })(xs, y, row, w));
        }),
        { numRuns: 45 },
      );
    });
  }
});

// Integer and boolean programs: the generated JavaScript must reproduce int32 wrap-around,
// comparisons and selects exactly.
type IntStep = { readonly op: number; readonly a: number; readonly b: number; readonly value: number };
const intStep: fc.Arbitrary<IntStep> = fc.record({ op: fc.nat(6), a: fc.nat(), b: fc.nat(), value: fc.integer({ min: -5, max: 5 }) });

function intProgram(steps: readonly IntStep[]): (x: Tensor, y: Tensor) => Tensor[] {
  return (x, y) => {
    const values: Tensor[] = [x, y];
    const pick = (i: number): Tensor => values[i % values.length] as Tensor;
    for (const s of steps) {
      const a = pick(s.a);
      const b = pick(s.b);
      const next = [
        () => add(a, b),
        () => sub(a, s.value),
        () => mul(a, b),
        () => maximum(a, b),
        () => minimum(a, s.value),
        () => where(greater(a, b), a, mul(b, 3)),
        () => sum(a, 0, true).add(b),
      ][s.op] as () => Tensor;
      values.push(next());
    }
    return values.slice(-2);
  };
}

describe('random integer programs: jit agrees with eager exactly', () => {
  it('on cpu', () => {
    fc.assert(
      fc.property(fc.array(intStep, { minLength: 1, maxLength: 10 }), fc.constantFrom(1, 4, 70), (steps, n) => {
        const make = () =>
          tensor(
            Array.from({ length: n * n }, (_, i) => ((i * 2654435761) % 2000) - 1000),
            { shape: [n, n], dtype: 'int32' },
          );
        const x = make();
        const y = make().mul(-7);
        const f = intProgram(steps);
        const eager = f(x, y);
        return jit(f)(x, y).every((t, i) => {
          const e = eager[i] as Tensor;
          return t.dtype === e.dtype && Array.from(t.dataSync()).every((v, k) => v === e.dataSync()[k]);
        });
      }),
      { numRuns: 60 },
    );
  });
});
