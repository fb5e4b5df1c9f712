import type { DType } from '../core/dtype.js';
import { type Shape, shapesEqual, sizeOf } from '../core/shape.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { type PadPair, type ParamsOf, Primitive } from './primitive.js';

// Thin wrappers that bind primitives directly, for writing differentiation and batching rules.
// Operands already agree in shape and dtype (no promotion or broadcasting here); rules stay
// one line each, and outer transforms trace them like any other op.

export const neg = (x: Tensor): Tensor => bind(Primitive.Neg, [x], {});
export const exp = (x: Tensor): Tensor => bind(Primitive.Exp, [x], {});
export const log = (x: Tensor): Tensor => bind(Primitive.Log, [x], {});
export const sin = (x: Tensor): Tensor => bind(Primitive.Sin, [x], {});
export const cos = (x: Tensor): Tensor => bind(Primitive.Cos, [x], {});
export const sign = (x: Tensor): Tensor => bind(Primitive.Sign, [x], {});
export const floor = (x: Tensor): Tensor => bind(Primitive.Floor, [x], {});
export const reciprocal = (x: Tensor): Tensor => bind(Primitive.Reciprocal, [x], {});
export const add = (a: Tensor, b: Tensor): Tensor => bind(Primitive.Add, [a, b], {});
export const sub = (a: Tensor, b: Tensor): Tensor => bind(Primitive.Sub, [a, b], {});
export const mul = (a: Tensor, b: Tensor): Tensor => bind(Primitive.Mul, [a, b], {});
export const div = (a: Tensor, b: Tensor): Tensor => bind(Primitive.Div, [a, b], {});
export const pow = (a: Tensor, b: Tensor): Tensor => bind(Primitive.Pow, [a, b], {});
export const equal = (a: Tensor, b: Tensor): Tensor => bind(Primitive.Equal, [a, b], {});
export const greater = (a: Tensor, b: Tensor): Tensor => bind(Primitive.Greater, [a, b], {});
export const reluGrad = (y: Tensor, g: Tensor): Tensor => bind(Primitive.ReluGrad, [y, g], {});
export const select = (condition: Tensor, x: Tensor, y: Tensor): Tensor => bind(Primitive.Where, [condition, x, y], {});

export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : bind(Primitive.Cast, [x], { dtype });
}

/** A tensor of `shape` filled with `value`, on the backend of `like`. */
export function full(shape: Shape, dtype: DType, value: number, like?: Tensor): Tensor {
  return bind(Primitive.Full, [], { shape: [...shape], dtype, value }, like === undefined ? undefined : backendOf(like));
}

/** `value` broadcast to the shape and dtype of `like` (a view of one element). */
export function scalarLike(like: Tensor, value: number): Tensor {
  return broadcast(full([], like.dtype, value, like), like.shape);
}

export const zerosLike = (like: Tensor): Tensor => full(like.shape, like.dtype, 0, like);

/** `x * value` for a JavaScript number. */
export const scale = (x: Tensor, value: number): Tensor => mul(x, scalarLike(x, value));

/** Sums two possibly-zero (null) values. */
export function addMaybe(a: Tensor | null, b: Tensor | null): Tensor | null {
  if (a === null) return b;
  if (b === null) return a;
  return add(a, b);
}

export function iota(shape: Shape, dtype: DType, axis: number, like?: Tensor): Tensor {
  return bind(Primitive.Iota, [], { shape: [...shape], dtype, axis }, like === undefined ? undefined : backendOf(like));
}

export function reduceSum(x: Tensor, axes: readonly number[]): Tensor {
  return axes.length === 0 ? x : bind(Primitive.ReduceSum, [x], { axes: [...axes] });
}

export function reshape(x: Tensor, shape: Shape): Tensor {
  return shapesEqual(x.shape, shape) ? x : bind(Primitive.Reshape, [x], { shape: [...shape] });
}

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  return perm.every((p, i) => p === i) ? x : bind(Primitive.Transpose, [x], { perm: [...perm] });
}

export function broadcast(x: Tensor, shape: Shape): Tensor {
  return shapesEqual(x.shape, shape) ? x : bind(Primitive.Broadcast, [x], { shape: [...shape] });
}

export function slice(x: Tensor, starts: readonly number[], stops: readonly number[], steps?: readonly number[]): Tensor {
  const step = steps ?? starts.map(() => 1);
  const identity = starts.every((s, i) => s === 0 && stops[i] === x.shape[i] && step[i] === 1);
  return identity ? x : bind(Primitive.Slice, [x], { starts: [...starts], stops: [...stops], steps: [...step] });
}

export function pad(x: Tensor, widths: readonly PadPair[], value = 0): Tensor {
  return widths.every(([lo, hi]) => lo === 0 && hi === 0)
    ? x
    : bind(Primitive.Pad, [x], { widths: widths.map(([lo, hi]) => [lo, hi] as const), value });
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  return xs.length === 1 ? (xs[0] as Tensor) : bind(Primitive.Concat, xs, { axis });
}

export function flip(x: Tensor, axes: readonly number[]): Tensor {
  return axes.length === 0 ? x : bind(Primitive.Flip, [x], { axes: [...axes] });
}

export const gather = (x: Tensor, indices: Tensor, axis: number): Tensor => bind(Primitive.Gather, [x, indices], { axis });
export const scatterAdd = (target: Tensor, indices: Tensor, updates: Tensor, axis: number): Tensor =>
  bind(Primitive.ScatterAdd, [target, indices, updates], { axis });
export const dotGeneral = (a: Tensor, b: Tensor, params: ParamsOf<Primitive.DotGeneral>): Tensor =>
  bind(Primitive.DotGeneral, [a, b], params);
export const conv = (x: Tensor, w: Tensor, params: ParamsOf<Primitive.Conv>): Tensor => bind(Primitive.Conv, [x, w], params);
export const reduceWindow = (x: Tensor, params: ParamsOf<Primitive.ReduceWindow>): Tensor => bind(Primitive.ReduceWindow, [x], params);
export const cumulative = (x: Tensor, params: ParamsOf<Primitive.Cumulative>): Tensor => bind(Primitive.Cumulative, [x], params);
export const argmax = (x: Tensor, axis: number): Tensor => bind(Primitive.Argmax, [x], { axis });

// ---- Shape helpers ----

/** `shape` with the reduced `axes` kept as size-1 dims. */
export function keepDimsShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** The inverse of a permutation. */
export function inversePermutation(perm: readonly number[]): number[] {
  const out = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    out[p] = i;
  });
  return out;
}

/** Moves axis `from` of `x` to position `to`. */
export function moveAxis(x: Tensor, from: number, to: number): Tensor {
  if (from === to) return x;
  const perm = x.shape.map((_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return transpose(x, perm);
}

/** Reduces `x` (a cotangent) back to `shape`, undoing NumPy broadcasting. */
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const lead = x.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  return reshape(reduceSum(x, axes), shape);
}

/** Pads (positive widths) or trims (negative widths) `x` along every axis. */
export function padOrSlice(x: Tensor, widths: readonly PadPair[], value = 0): Tensor {
  const starts = widths.map(([lo]) => Math.max(0, -lo));
  const stops = widths.map(([, hi], i) => (x.shape[i] as number) - Math.max(0, -hi));
  const trimmed = slice(x, starts, stops);
  return pad(
    trimmed,
    widths.map(([lo, hi]) => [Math.max(0, lo), Math.max(0, hi)] as const),
    value,
  );
}

/**
 * Inserts `factor - 1` zeros between neighbouring elements along each axis (length n becomes
 * (n - 1) * factor + 1): reshape to [n, 1], pad to [n, factor], flatten, trim the tail.
 */
export function dilate(x: Tensor, factors: readonly number[]): Tensor {
  let out = x;
  factors.forEach((factor, axis) => {
    const n = out.shape[axis] as number;
    if (factor === 1 || n === 0) return;
    const shape = out.shape;
    const split = [...shape.slice(0, axis), n, 1, ...shape.slice(axis + 1)];
    const padded = pad(
      reshape(out, split),
      split.map((_, i) => (i === axis + 1 ? ([0, factor - 1] as const) : ([0, 0] as const))),
    );
    const flat = reshape(padded, [...shape.slice(0, axis), n * factor, ...shape.slice(axis + 1)]);
    const stops = flat.shape.map((d, i) => (i === axis ? (n - 1) * factor + 1 : d));
    out = slice(
      flat,
      stops.map(() => 0),
      stops,
    );
  });
  return out;
}

/**
 * The transpose of `slice(x, starts, stops, steps)` for x of `shape`: scatters `g` back into
 * zeros at the sliced positions (dilation places strided elements, padding places the block).
 */
export function sliceTranspose(g: Tensor, shape: Shape, starts: readonly number[], steps: readonly number[]): Tensor {
  if (sizeOf(g.shape) === 0) return full(shape, g.dtype, 0, g);
  const dilated = dilate(g, steps);
  return pad(
    dilated,
    shape.map((d, i) => {
      const lo = starts[i] as number;
      return [lo, d - lo - (dilated.shape[i] as number)] as const;
    }),
  );
}
