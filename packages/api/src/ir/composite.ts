import type { Aval } from '../core/aval.js';
import type { WindowGeometry } from '../primitives/primitive.js';
import type { Var } from './program.js';

// Composites that a backend may compute with one fused kernel (Backend.composites) and that jit
// hands to that kernel. While jit traces, such a composite is recorded as its ordinary primitives
// plus a region saying which Vars it defines; the composite-formation pass turns a region into
// one equation where nothing outside reads its intermediate values. A region is a fact about
// Vars ("outputs = softmax(inputs)"), so it stays true in any program that holds those Vars.

/** Which composite, with the parameters its kernel takes. */
export type CompositeCall =
  | { readonly name: 'softmax'; readonly axis: number; readonly log: boolean }
  /** Inputs [y, g]: the softmax's output and its cotangent; output: the input's cotangent. */
  | { readonly name: 'softmaxBackward'; readonly axis: number; readonly log: boolean }
  /** Inputs [x, weight?, bias?]. */
  | LayerNormCall<'layerNorm'>
  /** Inputs [x, weight?, g]; outputs: the cotangents of x, then of the weight and the bias where present. */
  | LayerNormCall<'layerNormBackward'>
  /** Batch norm with the batch's statistics. Inputs [x, weight?, bias?]; outputs: the output, the mean and the biased variance per channel. */
  | BatchNormCall<'batchNorm'>
  /** Inputs [x, mean, variance, weight?, g]; outputs: the cotangents of x, then of the weight and the bias where present. */
  | BatchNormCall<'batchNormBackward'>
  /** Batch norm with given statistics. Inputs [x, mean, variance, weight?, bias?]. */
  | BatchNormCall<'batchNormInference'>
  /**
   * Max pooling's backward pass (ReduceWindow max's VJP). Inputs [x, g]: the pooled input and the
   * cotangent of the pool's output; output: x's cotangent.
   */
  | ({ readonly name: 'windowMaxBackward' } & WindowGeometry)
  | LinalgCall;

/**
 * A linear-algebra call on stacks of matrices: the decompositions of a [B, m, n] stack and the
 * triangular solve (CompositeKernels.eigh, svd, qr, cholesky, luFactor and triangularSolve).
 * Unlike the composites above, jit stages one whole: its equation has no body (the composite's
 * sweeps and panels would be thousands of equations), and where the kernel declines, the composite
 * runs eagerly instead (transforms/linalg-calls.ts). Inputs: the stack (the triangle T [B, n, n]
 * and the right-hand sides R [B, n, k] for the solve); outputs: see linalgOutputs.
 */
export type LinalgCall =
  | { readonly name: 'eigh' }
  | { readonly name: 'svd'; readonly vectors: boolean; readonly complete: boolean }
  | { readonly name: 'qr'; readonly complete: boolean }
  | { readonly name: 'cholesky' }
  | { readonly name: 'luFactor' }
  /** X with T X = R, reading only T's `upper` (else lower) triangle, its diagonal taken as ones when `unit`. */
  | { readonly name: 'triangularSolve'; readonly upper: boolean; readonly unit: boolean };

const LINALG_CALLS: ReadonlySet<CompositeCall['name']> = new Set(['eigh', 'svd', 'qr', 'cholesky', 'luFactor', 'triangularSolve']);

/** Whether `call` is a linear-algebra call (staged whole, without a body). */
export function isLinalgCall(call: CompositeCall): call is LinalgCall {
  return LINALG_CALLS.has(call.name);
}

/**
 * The outputs of `call` on `inputs` (a stack [B, m, n], k = min(m, n)): eigh's values [B, n]
 * and vectors [B, n, n]; svd's S [B, k], or U, S and V (not V^T) of [B, m, k] and [B, n, k]
 * (with `complete` [B, m, m] and [B, n, n]); qr's Q [B, m, k] and R [B, k, n] (with `complete`
 * [B, m, m] and [B, m, n]); cholesky's lower factor [B, n, n]; luFactor's packed LU [B, m, n],
 * perm int32 [B, m] and pivots int32 [B, k]; triangularSolve's X, R's shape.
 */
export function linalgOutputs(call: LinalgCall, inputs: readonly Aval[]): Aval[] {
  const a = inputs[0] as Aval;
  const [batch, m, n] = a.shape as [number, number, number];
  const k = Math.min(m, n);
  const of = (...shape: number[]): Aval => ({ shape, dtype: a.dtype });
  switch (call.name) {
    case 'eigh':
      return [of(batch, n), of(batch, n, n)];
    case 'svd':
      return call.vectors ? [of(batch, m, call.complete ? m : k), of(batch, k), of(batch, n, call.complete ? n : k)] : [of(batch, k)];
    case 'qr':
      return [of(batch, m, call.complete ? m : k), of(batch, call.complete ? m : k, n)];
    case 'cholesky':
      return [of(batch, n, n)];
    case 'luFactor':
      return [of(batch, m, n), { shape: [batch, m], dtype: 'int32' }, { shape: [batch, k], dtype: 'int32' }];
    case 'triangularSolve':
      return [of(...(inputs[1] as Aval).shape)];
  }
}

interface LayerNormCall<N extends string> extends AffineNormalization<N> {
  readonly normalizedDims: number;
}

type BatchNormCall<N extends string> = AffineNormalization<N>;

/** A normalization's parameters: its epsilon, and whether it has a weight (scale) and a bias (shift). */
interface AffineNormalization<N extends string> {
  readonly name: N;
  readonly eps: number;
  readonly hasWeight: boolean;
  readonly hasBias: boolean;
}

/** How many inputs the composite's kernel takes (they come first in a composite equation's inputs). */
export function compositeArity(call: CompositeCall): number {
  switch (call.name) {
    case 'softmax':
      return 1;
    case 'softmaxBackward':
      return 2;
    case 'layerNorm':
      return 1 + (call.hasWeight ? 1 : 0) + (call.hasBias ? 1 : 0);
    case 'layerNormBackward':
      return 2 + (call.hasWeight ? 1 : 0);
    case 'batchNorm':
      return 1 + (call.hasWeight ? 1 : 0) + (call.hasBias ? 1 : 0);
    case 'batchNormBackward':
      return 4 + (call.hasWeight ? 1 : 0);
    case 'batchNormInference':
      return 3 + (call.hasWeight ? 1 : 0) + (call.hasBias ? 1 : 0);
    case 'windowMaxBackward':
      return 2;
    case 'eigh':
    case 'svd':
    case 'qr':
    case 'cholesky':
    case 'luFactor':
      return 1;
    case 'triangularSolve':
      return 2;
  }
}

/** The call as it prints in IR dumps: `softmax(axis=1, log=false)`, `windowMaxBackward(window=[1,1,2,2], ...)`. */
export function formatCompositeCall(call: CompositeCall): string {
  const { name, ...params } = call;
  return `${name}(${Object.entries(params)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? JSON.stringify(v) : v}`)
    .join(', ')})`;
}

/** A composite traced into a program: `outputs = call(inputs)`, computed by the equations defining `defines`. */
export interface CompositeRegion {
  readonly call: CompositeCall;
  /** The kernel's arguments, in its order. */
  readonly inputs: readonly Var[];
  readonly outputs: readonly Var[];
  /** Every Var the composite's primitives defined, outputs included. */
  readonly defines: readonly Var[];
}
