import fc from 'fast-check';
import { mulberry32 } from '../support/mulberry32.js';

// Random operands for the gradient checks: shapes with size-1 dims and broadcasting, values kept
// away from the kinks of each op (so finite differences see a smooth function).

/** One input of an op: row-major data, its shape and dtype. */
export interface Operand {
  readonly shape: readonly number[];
  readonly data: readonly number[];
  readonly dtype: 'float64' | 'int32' | 'bool';
}

/** One random instance of a case: its operands and static parameters. */
export interface Sample<Params = unknown> {
  readonly operands: readonly Operand[];
  readonly params: Params;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A shape of rank in [minRank, maxRank] with dims in [minDim, maxDim] (size-1 dims included). */
export function shapes(minRank = 0, maxRank = 3, minDim = 1, maxDim = 3): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

export interface ValueOptions {
  readonly min?: number;
  readonly max?: number;
  /** Points to stay at least `gap` away from (the op's kinks or poles). */
  readonly avoid?: readonly number[];
  readonly gap?: number;
  /** Snap values to multiples of 0.5 plus this offset (two different offsets never tie). */
  readonly grid?: number;
}

function pushAway(v: number, avoid: readonly number[], gap: number): number {
  let out = v;
  for (const k of avoid) if (Math.abs(out - k) < gap) out = k + (out >= k ? gap : -gap);
  return out;
}

/** `n` floats in [min, max], pushed away from `avoid`. */
export function floats(n: number, options: ValueOptions = {}): fc.Arbitrary<number[]> {
  const { min = -2, max = 2, avoid = [], gap = 0.15, grid } = options;
  return fc
    .array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
    .map((vs) => vs.map((v) => (grid === undefined ? pushAway(v, avoid, gap) : Math.round(v * 2) / 2 + grid)));
}

/** `n` distinct floats, pairwise at least `gap` apart (no ties for max/min/sort). */
export function distinctFloats(n: number, gap = 0.2): fc.Arbitrary<number[]> {
  return fc
    .tuple(
      fc.shuffledSubarray(
        Array.from({ length: Math.max(n, 1) * 2 }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
      floats(n, { min: 0, max: gap / 2 }),
    )
    .map(([slots, noise]) => slots.map((s, i) => (s - n) * gap + (noise[i] as number)));
}

export function floatOperand(shape: readonly number[], options: ValueOptions = {}): fc.Arbitrary<Operand> {
  return floats(sizeOf(shape), options).map((data) => ({ shape, data, dtype: 'float64' as const }));
}

export function distinctOperand(shape: readonly number[], gap = 0.2): fc.Arbitrary<Operand> {
  return distinctFloats(sizeOf(shape), gap).map((data) => ({ shape, data, dtype: 'float64' as const }));
}

export function intOperand(shape: readonly number[], min: number, max: number): fc.Arbitrary<Operand> {
  return fc
    .array(fc.integer({ min, max }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
    .map((data) => ({ shape, data, dtype: 'int32' as const }));
}

export function boolOperand(shape: readonly number[]): fc.Arbitrary<Operand> {
  return fc
    .array(fc.boolean(), { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
    .map((bs) => ({ shape, data: bs.map((b) => (b ? 1 : 0)), dtype: 'bool' as const }));
}

/** Two shapes that broadcast together: leading dims dropped and dims set to 1 at random. */
export function broadcastPair(maxRank = 3): fc.Arbitrary<[number[], number[]]> {
  return shapes(0, maxRank).chain((full) => fc.tuple(reduceShape(full), reduceShape(full)));
}

function reduceShape(full: readonly number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.integer({ min: 0, max: full.length }), fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }))
    .map(([drop, ones]) => full.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}

/** A non-empty, sorted subset of the axes of a rank-`rank` tensor (possibly all, possibly empty when `allowEmpty`). */
export function axesSubset(rank: number, allowEmpty = true): fc.Arbitrary<number[]> {
  const all = Array.from({ length: rank }, (_, i) => i);
  return fc.subarray(all, { minLength: allowEmpty || rank === 0 ? 0 : 1 }).map((a) => [...a].sort((x, y) => x - y));
}

export function permutation(rank: number): fc.Arbitrary<number[]> {
  const all = Array.from({ length: rank }, (_, i) => i);
  return fc.shuffledSubarray(all, { minLength: rank, maxLength: rank });
}

/**
 * The operands of the triplet losses: anchors [n, 3] (n from 1 to 3) and two offsets in [0.3, 1]
 * per coordinate, from which the cases make the positives and negatives: every distance stays
 * away from 0, where the norms have no derivative.
 */
export const tripletOperands: fc.Arbitrary<{ operands: Operand[] }> = fc
  .integer({ min: 1, max: 3 })
  .chain((n) =>
    fc
      .tuple(floatOperand([n, 3]), floatOperand([n, 3], { min: 0.3, max: 1 }), floatOperand([n, 3], { min: 0.3, max: 1 }))
      .map((operands) => ({ operands })),
  );

/** A seed for the cotangents, tangents and batch layouts the checks draw. */
export const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** A seeded generator (mulberry32) for the checks' own random vectors. */
export const rng = mulberry32;
