import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';

// How a case reduces the several outputs it checks to one tensor (composites.ts and the per-family
// case files): each part summed with its own weights, so that an error in one part cannot cancel
// another's, and the parts' sums side by side.

/**
 * Each part times a ramp (1, 2, 3, ... along its last axis, plus the part's index) and summed:
 * every element of every part counts differently, so a wrong element or a permutation shows.
 */
export function rampWeightedSums(parts: readonly Tensor[]): Tensor {
  return flint.concat(
    parts.map((t, i) =>
      t
        .mul(flint.cumsum(flint.onesLike(t), -1).add(i))
        .sum()
        .reshape([1]),
    ),
    0,
  );
}

/**
 * Each part i times itself plus `first + i` and summed: quadratic, so that the second-derivative
 * checks see every part too.
 */
export function selfWeightedSums(parts: readonly Tensor[], first = 1): Tensor {
  return flint.concat(
    parts.map((t, i) =>
      t
        .mul(t.add(first + i))
        .sum()
        .reshape([1]),
    ),
    0,
  );
}
