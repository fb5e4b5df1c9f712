import { type Aval, type KernelOp, type KernelRef, type Primitive, sizeOf } from '@flint/api';
import { generateSimd, simdCompatible } from '../compile/wasm/elementwise.js';
import type { SimdKernel } from '../compile/wasm/simd-kernel.js';
import { simdKernel } from '../compile/wasm/threaded-kernel.js';
import { type CpuHandle, isContiguous } from '../view.js';

// Large float32 eager ops run as the jit's WebAssembly SIMD kernels (compile/wasm), one op per
// kernel, threaded where that pays (threaded-kernel.ts decides). The JavaScript loops of
// elementwise.ts call Math.exp or Math.tanh per element in double precision, 8 to 12 ns each; the
// SIMD kernels evaluate float32 polynomials four lanes at a time, and even an add (which is memory
// bound) gains from the second core. Eager results therefore match the jit's for these ops.

/**
 * Below this many elements the JavaScript loop costs about what the kernel's copies do (measured:
 * an add of 256 floats takes 2.9 us either way, an exp 4.2 us in JavaScript and 2.5 us as SIMD).
 */
const SIMD_EAGER_MIN_ELEMENTS = 256;

/** Per operand: 'a' for a contiguous array of the output's size, 's' for one broadcast value. */
type Pattern = string;

/** Per primitive and pattern: the kernel, or null where the generator declines. */
const kernels = new Map<Primitive, Map<Pattern, SimdKernel | null>>();
let opsRun = 0;

/** How many eager ops have run as SIMD kernels so far, for tests. */
export function simdElementwiseOps(): number {
  return opsRun;
}

function operandPattern(h: CpuHandle, n: number): 'a' | 's' | null {
  if (h.dtype !== 'float32') return null;
  if (h.strides.every((s) => s === 0)) return 's';
  return isContiguous(h) && h.storage.data.length - h.offset >= n ? 'a' : null;
}

function buildKernel(primitive: Primitive, pattern: Pattern): SimdKernel | null {
  const args: KernelRef[] = [...pattern].map((_, index) => ({ kind: 'input', index }));
  // An aval of its own: the cached kernels' closures keep the op, and the caller's `out` may be a
  // tensor that must stay collectable. The generated code does not depend on the shape.
  const aval: Aval = { shape: [], dtype: 'float32' };
  const op = { primitive, params: {}, args, aval } as unknown as KernelOp;
  if (
    !simdCompatible(
      [op],
      [...pattern].map(() => 'float32'),
    )
  )
    return null;
  const direct = new Map<number, number>(args.map((_, k) => [k, k]));
  return simdKernel(generateSimd([op], [0], direct, new Map(), { scalar: [...pattern].map((c) => c === 's') }));
}

/**
 * Computes a unary or binary float32 `primitive` into `result` with a SIMD kernel and returns
 * true, or returns false (leaving `result` alone) where the op, dtypes or layout do not qualify.
 */
export function simdElementwise(primitive: Primitive, operands: readonly CpuHandle[], out: Aval, result: Float32Array): boolean {
  const n = sizeOf(out.shape);
  if (n < SIMD_EAGER_MIN_ELEMENTS || out.dtype !== 'float32') return false;
  let pattern = '';
  for (const h of operands) {
    const kind = operandPattern(h, n);
    if (kind === null) return false;
    pattern += kind;
  }
  // All-scalar operands broadcast one value: the JavaScript loop is as good, and the kernel wants a stream.
  if (!pattern.includes('a')) return false;
  let byPattern = kernels.get(primitive);
  if (byPattern === undefined) {
    byPattern = new Map();
    kernels.set(primitive, byPattern);
  }
  let found = byPattern.get(pattern);
  if (found === undefined) {
    found = buildKernel(primitive, pattern);
    byPattern.set(pattern, found);
  }
  if (found === null) return false;
  const args = [operands.map((h) => h.storage.data as Float32Array), operands.map((h) => h.offset), [result], [0], n] as const;
  found.run(...args);
  opsRun++;
  return true;
}
