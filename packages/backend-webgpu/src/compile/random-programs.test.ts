// Random programs traced by jit on the WebGPU backend: every fused kernel (chains over broadcast
// and transposed views, reductions with prologues, matmuls with epilogues, several outputs) must
// agree with eager evaluation. Skipped without an adapter. Small sizes: SwiftShader is slow.
import {
  abs,
  add,
  equal,
  exp,
  greater,
  initBackend,
  jit,
  matmul,
  maximum,
  minimum,
  mul,
  neg,
  sigmoid,
  sqrt,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  where,
} from '@flint/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../backend.js';
import '../index.js';

const started = await initBackend('webgpu').then(
  (backend) => backend as unknown as WebGpuBackend,
  (error: Error) => {
    console.log(`webgpu random-program tests skipped: ${error.message}`);
    return null;
  },
);
const suite = started === null ? describe.skip : describe;

type Step =
  | { readonly kind: 'unary'; readonly op: number; readonly a: number }
  | { readonly kind: 'binary'; readonly op: number; readonly a: number; readonly b: number }
  | { readonly kind: 'scalar'; readonly op: number; readonly a: number; readonly value: number }
  | { readonly kind: 'row'; readonly op: number; readonly a: number }
  | { readonly kind: 'sum'; readonly a: number; readonly axis: number }
  | { readonly kind: 'matmul'; readonly a: number }
  | { readonly kind: 'select'; readonly a: number; readonly b: number }
  | { readonly kind: 'transpose'; readonly a: number };

const UNARY = [tanh, sigmoid, neg, abs, (x: Tensor) => sqrt(abs(x)), (x: Tensor) => exp(tanh(x))];
const BINARY = [add, sub, mul, maximum, minimum];

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('unary' as const), op: fc.nat(UNARY.length - 1), a: fc.nat() }),
  fc.record({ kind: fc.constant('binary' as const), op: fc.nat(BINARY.length - 1), a: fc.nat(), b: fc.nat() }),
  fc.record({
    kind: fc.constant('scalar' as const),
    op: fc.nat(BINARY.length - 1),
    a: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 1, -1, 2, Number.POSITIVE_INFINITY), fc.double({ min: -3, max: 3, noNaN: true })),
  }),
  fc.record({ kind: fc.constant('row' as const), op: fc.nat(BINARY.length - 1), a: fc.nat() }),
  fc.record({ kind: fc.constant('sum' as const), a: fc.nat(), axis: fc.nat(1) }),
  fc.record({ kind: fc.constant('matmul' as const), a: fc.nat() }),
  fc.record({ kind: fc.constant('select' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('transpose' as const), a: fc.nat() }),
);

function program(steps: readonly Step[]): (x: Tensor, y: Tensor, row: Tensor, w: Tensor) => Tensor[] {
  return (x, y, row, w) => {
    const values: Tensor[] = [x, y];
    const pick = (i: number): Tensor => values[i % values.length] as Tensor;
    for (const s of steps) {
      const a = pick(s.a);
      switch (s.kind) {
        case 'unary':
          values.push((UNARY[s.op] as (t: Tensor) => Tensor)(a));
          break;
        case 'binary':
          values.push((BINARY[s.op] as (p: Tensor, q: Tensor) => Tensor)(a, pick(s.b)));
          break;
        case 'scalar':
          values.push((BINARY[s.op] as (p: Tensor, q: number) => Tensor)(a, s.value));
          break;
        case 'row':
          values.push((BINARY[s.op] as (p: Tensor, q: Tensor) => Tensor)(a, row));
          break;
        case 'sum':
          values.push(sum(a, s.axis, true).mul(0.25).add(a));
          break;
        case 'matmul':
          values.push(tanh(matmul(a, w)));
          break;
        case 'select': {
          const b = pick(s.b);
          values.push(where(greater(a, b), sub(a, b), where(equal(a, b), a, mul(b, 0.5))));
          break;
        }
        case 'transpose':
          values.push(a.transpose());
          break;
      }
    }
    return values.slice(-3);
  };
}

async function close(a: readonly Tensor[], b: readonly Tensor[]): Promise<boolean> {
  for (let i = 0; i < a.length; i++) {
    const x = await (a[i] as Tensor).data();
    const y = await (b[i] as Tensor).data();
    for (let k = 0; k < y.length; k++) {
      const p = x[k] as number;
      const q = y[k] as number;
      if (Number.isNaN(q) ? !Number.isNaN(p) : !(p === q || Math.abs(p - q) <= 1e-5 * Math.max(1, Math.abs(q)))) return false;
    }
  }
  return true;
}

/** Deterministic pseudo-normal-ish values from a seed. */
function data(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * 1.5);
}

suite('random programs on webgpu: jit agrees with eager', () => {
  it('float32 programs', async () => {
    let compiled = 0;
    const unsupportedBefore = (started as WebGpuBackend).fusedKernels.unsupported;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 10 }),
        fc.constantFrom(1, 3, 8, 33),
        fc.nat(1000),
        async (steps, n, seed) => {
          const make = (shape: number[], s: number) =>
            tensor(
              data(
                shape.reduce((p, q) => p * q, 1),
                seed + s,
              ),
              { shape, backend: 'webgpu' },
            );
          const x = make([n, n], 1);
          const y = make([n, n], 2);
          const row = make([n], 3);
          const w = make([n, n], 4).mul(0.5);
          const f = program(steps);
          const jitted = jit(f);
          compiled += jitted.lower(x, y, row, w).compiledKernels;
          return close(jitted(x, y, row, w), f(x, y, row, w));
        },
      ),
      { numRuns: 16, seed: 20261130 },
    );
    expect(compiled).toBeGreaterThan(10);
    // Every fused group of these programs is one the generator handles.
    expect((started as WebGpuBackend).fusedKernels.unsupported).toBe(unsupportedBefore);
  });
});
