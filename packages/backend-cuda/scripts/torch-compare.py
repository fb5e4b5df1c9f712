"""Checks Flint's bf16 matmul (written by device-check.ts) against PyTorch's on the same GPU.

Reads a.bin, b.bin (the operands' bfloat16 bit patterns, n x n row-major), c.bin (Flint's product)
and meta.json from the folder given, recomputes the product with torch (bf16 inputs, float32
accumulation: torch's default), compares, times torch's matmul, and prints one JSON line.
"""
import json
import sys
import time

import numpy as np
import torch

folder = sys.argv[1]
meta = json.load(open(f"{folder}/meta.json"))
n = meta["n"]


def load(name):
    bits = np.fromfile(f"{folder}/{name}.bin", dtype=np.int16).reshape(n, n)
    return torch.from_numpy(bits).cuda().view(torch.bfloat16)


a, b, flint = load("a"), load("b"), load("c")
torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False
reference = a @ b
torch.cuda.synchronize()
difference = (flint.float() - reference.float()).abs()
scale = reference.float().abs() + 1.0
# Both round a float32 sum to bf16; summation orders differ, so allow one bf16 step (2^-8 relative).
relative = (difference / scale).max().item()
beyond = ((difference / scale) > 2.0**-7).float().mean().item()

samples = []
for _ in range(7):
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = a @ b
    torch.cuda.synchronize()
    samples.append((time.perf_counter() - start) * 1000)
    del out
samples.sort()
torch_ms = samples[len(samples) // 2]
flops = 2 * n**3
print(
    json.dumps(
        {
            "check": f"bf16 matmul {n} vs torch {torch.__version__}",
            "ok": relative <= 2.0**-6 and beyond < 1e-4,
            "maxRelativeDifference": relative,
            "fractionBeyondOneStep": beyond,
            "flintMs": meta["flintMs"],
            "torchMs": torch_ms,
            "flintTflops": flops / meta["flintMs"] / 1e9,
            "torchTflops": flops / torch_ms / 1e9,
        }
    )
)
