// Argument generators and the call wrapper of the native addons' fuzz tests (backend-cuda,
// backend-mkl): the addons take views as Int32Array layouts, [offset, rank, ...shape, ...strides],
// and must refuse every inconsistent or out-of-bounds one with a JavaScript error, never a crash.
import fc from 'fast-check';
import { expect } from 'vitest';

type Call = (...args: unknown[]) => unknown;

/**
 * Calls `target[name](...args)`; returns the exception it threw, or null. Anything thrown must be
 * an Error, and so must the rejection of a returned promise.
 */
export function attempt(target: object, name: string, args: readonly unknown[]): Error | null {
  try {
    const result = (target as Record<string, Call>)[name]!(...args);
    if (result instanceof Promise) result.catch((error: unknown) => expect(error).toBeInstanceOf(Error));
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
}

/** Values at the edges of int32 and of sizes, which bounds checks must survive. */
export const EXTREMES = [-1, -(2 ** 31), 2 ** 31 - 1, 2 ** 30, 65536, 0, 1, 3];

/** Integers a layout or parameter list might hold: mostly small, sometimes extreme. */
export const layoutInt = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -4, max: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(...EXTREMES) },
);

/** Up to 12 layout integers as an Int32Array: a raw layout or a parameter list. */
export const layoutArray = fc.array(layoutInt, { maxLength: 12 }).map((values) => Int32Array.from(values));

/** A plausible-looking layout: [offset, rank, ...shape, ...strides], sometimes inconsistent. */
export const plausibleLayout = fc
  .record({
    offset: layoutInt,
    shape: fc.array(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: layoutInt }), {
      maxLength: 4,
    }),
    strides: fc.array(layoutInt, { maxLength: 4 }),
    lie: fc.boolean(),
  })
  .map(({ offset, shape, strides, lie }) => {
    const rank = shape.length;
    const padded = Array.from({ length: rank }, (_, i) => strides[i] ?? 1);
    return Int32Array.from([offset, lie ? rank + 1 : rank, ...shape, ...padded]);
  });
