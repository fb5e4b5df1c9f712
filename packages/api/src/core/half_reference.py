"""Reference float16 and bfloat16 rounding for core/half.test.ts, independent of Flint's code.

  python3 half_reference.py IN OUT   IN holds little-endian float32 values; OUT receives, for each,
                                     its float16 bits (numpy's astype) then its bfloat16 bits,
                                     as little-endian uint16 (2 * n values)

bfloat16 has no numpy dtype: each value is rounded by comparing its exact distances (in float64,
where they are exact) to the two bfloat16 neighbours found by truncation.
"""
import sys

import numpy as np


def bfloat16_bits(values):
    bits = values.view(np.uint32)
    low = (bits >> 16).astype(np.uint32)
    high = low + 1
    as_float = lambda b: (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    x = np.abs(values.astype(np.float64))
    below = np.abs(as_float(low))
    above = np.abs(as_float(high))
    # Past the largest finite bfloat16 the next step up is Infinity: round as if it were 2^128.
    above = np.where((high & 0x7FFF) == 0x7F80, 2.0**128, above)
    up = (x - below > above - x) | ((x - below == above - x) & ((low & 1) == 1))
    out = np.where(up, high, low)
    nan = np.isnan(values)
    out = np.where(nan, low | 0x40, out)
    return out.astype(np.uint16)


def main(source, target):
    values = np.fromfile(source, dtype="<f4")
    with np.errstate(over="ignore", invalid="ignore"):
        half = values.astype(np.float16).view(np.uint16)
        brain = bfloat16_bits(values)
    np.concatenate([half, brain]).astype("<u2").tofile(target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
