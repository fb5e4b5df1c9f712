import { type DType, isFloating, isHalf } from '../../core/dtype.js';
import { ShapeError } from '../../core/errors.js';
import { formatShape, type Shape, sizeOf } from '../../core/shape.js';
import { broadcast, dotGeneral, equal, full, iota, mul, reshape, select, slice, transpose } from '../../primitives/lax.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindCustomJvp, bindCustomVjp, concreteOf } from '../../transforms/core.js';
import type { CustomJvpCall, CustomVjpCall } from '../../transforms/custom-call.js';
import { forwardModeTraces } from '../../transforms/jvp-trace.js';
import { cast } from '../broadcast.js';
import { type TensorLike, toTensor } from '../convert.js';

// Shared pieces of the matrix decompositions (ops/linalg-decompositions.ts, linalg-solvers.ts):
// the dtype they compute in, shape checks that name the shapes, and the block helpers the
// kernels are written in. The kernels see every input as a stack of matrices [B, m, n] (the batch
// axes flattened into one, a view), so their slices and contractions have one form.

/** The dtype a decomposition computes in, and the dtype its result is cast back to. */
export interface ComputeDTypes {
  readonly compute: 'float32' | 'float64';
  readonly result: DType;
}

/**
 * float32 and float64 compute as they are; float16 and bfloat16 in float32, rounded once at the
 * end; integers and bool in float32 with a float32 result (as `mean` and the norms).
 */
export function computeDTypes(dtype: DType): ComputeDTypes {
  if (isHalf(dtype)) return { compute: 'float32', result: dtype };
  if (isFloating(dtype)) return { compute: dtype as 'float32' | 'float64', result: dtype };
  return { compute: 'float32', result: 'float32' };
}

/** The common compute dtypes of several operands (float64 if any is float64). */
export function jointDTypes(dtypes: readonly DType[]): ComputeDTypes {
  const each = dtypes.map(computeDTypes);
  const compute = each.some((d) => d.compute === 'float64') ? 'float64' : 'float32';
  const results = new Set(each.map((d) => d.result));
  const result = results.size === 1 ? (each[0] as ComputeDTypes).result : compute;
  return { compute, result };
}

/** A tensor of at least two dimensions (a matrix or a stack of them). */
export function matrixOperand(op: string, x: TensorLike, what = 'the input', like?: Tensor): Tensor {
  const t = toTensor(op, x, undefined, like);
  if (t.ndim < 2) {
    throw new ShapeError(`${op}: ${what} must have at least 2 dimensions (a matrix or a batch of them), got shape ${formatShape(t.shape)}`);
  }
  return t;
}

/** A stack of square matrices. */
export function squareOperand(op: string, x: TensorLike, what = 'the input', like?: Tensor): Tensor {
  const t = matrixOperand(op, x, what, like);
  if (t.shape[t.ndim - 1] !== t.shape[t.ndim - 2]) {
    throw new ShapeError(`${op}: ${what} must be square matrices in its last two dimensions, got shape ${formatShape(t.shape)}`);
  }
  return t;
}

/** The leading (batch) dimensions of a stack of matrices. */
export const batchShape = (t: Tensor): number[] => t.shape.slice(0, -2);

/** The broadcast batch shape of two matrix stacks, or a ShapeError naming both shapes. */
export function jointBatch(op: string, a: Tensor, b: Tensor): number[] {
  const ba = batchShape(a);
  const bb = batchShape(b);
  const rank = Math.max(ba.length, bb.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = ba[ba.length - rank + i] ?? 1;
    const y = bb[bb.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ShapeError(
        `${op}: the batch dimensions of A ${formatShape(a.shape)} and B ${formatShape(b.shape)} do not broadcast (${formatShape(ba)} and ${formatShape(bb)})`,
      );
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** A stack of matrices as [B, m, n] in the compute dtype (a view and a cast). */
export function stacked(t: Tensor, dtype: DType): Tensor {
  const m = t.shape[t.ndim - 2] as number;
  const n = t.shape[t.ndim - 1] as number;
  return reshape(cast(t, dtype), [sizeOf(batchShape(t)), m, n]);
}

/** [B, ...] back to the batch shape `batch` followed by the trailing dimensions. */
export function unstacked(t: Tensor, batch: Shape): Tensor {
  return reshape(t, [...batch, ...t.shape.slice(1)]);
}

// ---- blocks of [B, m, n] stacks ----

/** Rows [r0, r1) and columns [c0, c1) of every matrix. */
export function block(x: Tensor, r0: number, r1: number, c0: number, c1: number): Tensor {
  return slice(x, [0, r0, c0], [x.shape[0] as number, r1, c1]);
}

/** Rows [r0, r1) of every matrix. */
export const rowsOf = (x: Tensor, r0: number, r1: number): Tensor => block(x, r0, r1, 0, x.shape[2] as number);

/** Columns [c0, c1) of every matrix. */
export const columnsOf = (x: Tensor, c0: number, c1: number): Tensor => block(x, 0, x.shape[1] as number, c0, c1);

/** The transpose of every matrix (a view). */
export const transposed = (x: Tensor): Tensor => transpose(x, [0, 2, 1]);

/** a @ b, matrix by matrix. */
export const matmul3 = (a: Tensor, b: Tensor): Tensor =>
  dotGeneral(a, b, { lhsContracting: [2], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] });

/** a @ b^T, matrix by matrix. */
export const matmulNT = (a: Tensor, b: Tensor): Tensor =>
  dotGeneral(a, b, { lhsContracting: [2], rhsContracting: [2], lhsBatch: [0], rhsBatch: [0] });

/** a^T @ b, matrix by matrix. */
export const matmulTN = (a: Tensor, b: Tensor): Tensor =>
  dotGeneral(a, b, { lhsContracting: [1], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] });

/** The identity, [B, n, n], on `like`'s backend. */
export function identity(batch: number, n: number, like: Tensor): Tensor {
  const eye = select(
    equal(iota([n, n], 'int32', 0, like), iota([n, n], 'int32', 1, like)),
    full([n, n], like.dtype, 1, like),
    full([n, n], like.dtype, 0, like),
  );
  return broadcast(reshape(eye, [1, n, n]), [batch, n, n]);
}

/** The diagonal of every matrix of a [B, n, n] stack, [B, n]. */
export function diagonalOf(x: Tensor): Tensor {
  const [batch, n] = x.shape as [number, number, number];
  if (n === 0) return reshape(x, [batch, 0]);
  return slice(reshape(x, [batch, n * n]), [0, 0], [batch, n * n], [1, n + 1]);
}

/**
 * The outer product of a column [B, r, 1] and a row [B, 1, c] of every matrix, [B, r, c]: a
 * broadcast multiply, which the CPU backends run faster than a contraction of length 1.
 */
export function outerProduct(column: Tensor, row: Tensor): Tensor {
  const shape = [column.shape[0] as number, column.shape[1] as number, row.shape[2] as number];
  return mul(broadcast(column, shape), broadcast(row, shape));
}

// ---- analytic derivatives ----

/** A composite's function and its reverse-mode rule, for `withAnalyticVjp`. */
export interface AnalyticVjp<Residuals> {
  readonly name: string;
  /**
   * The rule is exactly the derivative of `forward` (so jit may differentiate the staged
   * primitives instead); false where it differs off some set the op assumes (cholesky's
   * symmetric gradient, for example).
   */
  readonly exact: boolean;
  /** The outputs and what the rule needs. */
  readonly forward: (inputs: readonly Tensor[]) => { readonly outputs: Tensor[]; readonly residuals: Residuals };
  /** One cotangent (or null) per input, from the residuals and the outputs' cotangents (null where none). */
  readonly backward: (residuals: Residuals, cotangents: readonly (Tensor | null)[]) => (Tensor | null)[];
  /** The outputs where no derivative is taken, when they cost less than `forward`'s (default: `forward`'s). */
  readonly values?: (inputs: readonly Tensor[]) => Tensor[];
  /**
   * Forward mode's rule: the outputs' tangents from the inputs, the outputs and the inputs'
   * tangents (zeros where none). Without it, forward mode differentiates `forward`'s ops.
   */
  readonly jvp?: (inputs: readonly Tensor[], outputs: readonly Tensor[], tangents: readonly Tensor[]) => Tensor[];
}

/**
 * The outputs of `op.forward` on `inputs`, with reverse mode taking `op.backward` instead of
 * differentiating the factorization's loops (the rule is written in ops, so higher derivatives
 * differentiate it in turn). Forward mode takes `op.jvp` where there is one (a customJvp call,
 * which reverse mode above it transposes), else the loops' ops; vmap sees the loops' ops.
 */
export function withAnalyticVjp<Residuals>(op: AnalyticVjp<Residuals>, inputs: readonly Tensor[]): Tensor[] {
  const values = (xs: readonly Tensor[]): Tensor[] => tidy(() => (op.values === undefined ? op.forward(xs).outputs : op.values(xs)));
  const jvpRule = op.jvp;
  if (jvpRule !== undefined && inputs.some(forwardModeTraces)) {
    const jvpCall: CustomJvpCall = {
      name: op.name,
      fn: values,
      jvp: (primals, tangents) => {
        const outputs = withAnalyticVjp(op, primals);
        return { outputs, tangents: tidy(() => jvpRule(primals, outputs, tangents)) };
      },
    };
    return bindCustomJvp(jvpCall, inputs);
  }
  const call: CustomVjpCall = {
    name: op.name,
    differentiateFnInForwardMode: true,
    ...(op.exact ? { ruleIsDerivative: true } : {}),
    symbolicZeros: true,
    fn: values,
    fwd: (xs) => tidy(() => op.forward(xs)),
    bwd: (residuals, cotangents) => tidy(() => op.backward(residuals as Residuals, cotangents)),
  };
  return bindCustomVjp(call, inputs);
}

// ---- failures ----

/**
 * Raises `failure(order, matrix)` for the first nonzero entry of `info` (one int32 per matrix of
 * the batch; `matrix` is its flat index) when its value can be read now: the tensor (or the data
 * under a vmap or grad tracer) is concrete and its backend reads synchronously. Under jit, and on
 * backends that read only asynchronously (cuda, webgpu), nothing is read: the result carries the
 * NaN or Infinity of the failed factorization, and the `...Ex` variants return `info` instead.
 */
export function raiseOnFailure(info: Tensor, failure: (order: number, matrix: number) => Error): void {
  const concrete = concreteOf(info);
  const backend = concrete?._backend;
  if (concrete === undefined || backend === null || backend === undefined || backend.readSync === undefined) return;
  const values = concrete.dataSync();
  for (let i = 0; i < values.length; i++) {
    const order = values[i] as number;
    if (order !== 0) throw failure(order, i);
  }
}
