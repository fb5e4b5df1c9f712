// The random programs that jit must run exactly as eager code does, shared by the api's jit suite
// (CPU) and the WebGPU backend's fused-kernel suite: chains of elementwise ops over broadcast and
// transposed views, reductions feeding elementwise ops (rank-0 ones too), matmuls with epilogues,
// several outputs.
import {
  abs,
  add,
  bind,
  broadcastTo,
  equal,
  exp,
  greater,
  matmul,
  maximum,
  minimum,
  mul,
  neg,
  Primitive,
  relu,
  sigmoid,
  sqrt,
  sub,
  sum,
  type Tensor,
  tanh,
  where,
} from '@flint/api';
import fc from 'fast-check';

export type Step =
  | { readonly kind: 'unary'; readonly op: number; readonly a: number }
  | { readonly kind: 'binary'; readonly op: number; readonly a: number; readonly b: number }
  | { readonly kind: 'scalar'; readonly op: number; readonly a: number; readonly value: number }
  | { readonly kind: 'row'; readonly op: number; readonly a: number }
  | { readonly kind: 'sum'; readonly a: number; readonly axis: number }
  | { readonly kind: 'total'; readonly a: number }
  | { readonly kind: 'matmul'; readonly a: number }
  | { readonly kind: 'select'; readonly a: number; readonly b: number }
  | { readonly kind: 'transpose'; readonly a: number };

export interface StepOptions {
  /** Also generate `where` selects between two values (default false). */
  readonly select?: boolean;
  /** Let scalar operands be +Infinity (default false). */
  readonly infinity?: boolean;
}

// sqrt away from 0, where it would turn a last-bit difference of summation orders (which jit may
// change: scalar sinking recomputes totals in the kernels) into a 1e-4 one.
const UNARY = [tanh, sigmoid, neg, abs, (x: Tensor) => sqrt(add(abs(x), 0.25)), (x: Tensor) => exp(tanh(x)), relu];
const BINARY = [add, sub, mul, maximum, minimum];

/** q where p > 0 (or NaN), else 0: ReLU's derivative (the ReluGrad primitive) on two [n|1, n|1] values. */
function reluGate(p: Tensor, q: Tensor): Tensor {
  const shape = p.shape.map((d, i) => Math.max(d, q.shape[i] as number));
  return bind(Primitive.ReluGrad, [broadcastTo(p, shape), broadcastTo(q, shape)], {});
}
/** Binary ops between two values (not a scalar or a row). */
const BETWEEN_VALUES = [...BINARY, reluGate];

/** One step of a random program; each `a`/`b` picks an earlier value modulo their count. */
export function stepArbitrary(options: StepOptions = {}): fc.Arbitrary<Step> {
  const scalars = options.infinity ? [0, 1, -1, 2, Number.POSITIVE_INFINITY] : [0, 1, -1, 2];
  const steps: fc.Arbitrary<Step>[] = [
    fc.record({ kind: fc.constant('unary' as const), op: fc.nat(UNARY.length - 1), a: fc.nat() }),
    fc.record({ kind: fc.constant('binary' as const), op: fc.nat(BETWEEN_VALUES.length - 1), a: fc.nat(), b: fc.nat() }),
    fc.record({
      kind: fc.constant('scalar' as const),
      op: fc.nat(BINARY.length - 1),
      a: fc.nat(),
      value: fc.oneof(fc.constantFrom(...scalars), fc.double({ min: -3, max: 3, noNaN: true })),
    }),
    fc.record({ kind: fc.constant('row' as const), op: fc.nat(BINARY.length - 1), a: fc.nat() }),
    fc.record({ kind: fc.constant('sum' as const), a: fc.nat(), axis: fc.nat(1) }),
    fc.record({ kind: fc.constant('total' as const), a: fc.nat() }),
    fc.record({ kind: fc.constant('matmul' as const), a: fc.nat() }),
  ];
  if (options.select) steps.push(fc.record({ kind: fc.constant('select' as const), a: fc.nat(), b: fc.nat() }));
  steps.push(fc.record({ kind: fc.constant('transpose' as const), a: fc.nat() }));
  return fc.oneof(...steps);
}

/** Runs the steps on square [n, n] values (sums keep dims so every value stays broadcastable). */
export function programForTest(steps: readonly Step[]): (x: Tensor, y: Tensor, row: Tensor, w: Tensor) => Tensor[] {
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
          values.push((BETWEEN_VALUES[s.op] as (p: Tensor, q: Tensor) => Tensor)(a, pick(s.b)));
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
        case 'total':
          // A rank-0 value, computed on and broadcast back (scalar arithmetic jit may sink into the kernel).
          values.push(add(a, tanh(sub(mul(sum(a), 0.1), 0.5))));
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

/**
 * Whether jit's results `a` equal eager evaluation's `b`, output by output: NaN where the other
 * has NaN, else within `tolerance` relative (0: bit for bit, as the half dtypes must be).
 */
export async function resultsAgree(a: readonly Tensor[], b: readonly Tensor[], tolerance = 1e-5): Promise<boolean> {
  for (let i = 0; i < a.length; i++) {
    const x = await (a[i] as Tensor).data();
    const y = await (b[i] as Tensor).data();
    for (let k = 0; k < y.length; k++) {
      const p = x[k] as number;
      const q = y[k] as number;
      if (Number.isNaN(q) ? !Number.isNaN(p) : !(p === q || Math.abs(p - q) <= tolerance * Math.max(1, Math.abs(q)))) return false;
    }
  }
  return true;
}

/** Deterministic values in [-1.5, 1.5] from a seed: the programs' inputs. */
export function programData(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * 1.5);
}
