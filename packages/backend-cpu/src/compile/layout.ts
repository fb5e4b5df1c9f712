/**
 * Loop nests for fused kernels. Every operand of a kernel (each load, each output) walks the
 * same logical index space with its own strides; dims of size 1 are dropped and neighbouring dims
 * merged where every operand allows it, so a contiguous elementwise kernel becomes one flat loop.
 */
export interface LoopNest {
  /** Trip counts, outermost first. */
  readonly counts: readonly number[];
  /** strides[k][j]: operand k's step along loop j. */
  readonly strides: readonly (readonly number[])[];
  /** The first loop made from the dims at and after the barrier (counts.length when there are none). */
  readonly barrierLevel: number;
}

/**
 * Coalesces `shape` walked by operands with `strides` (one stride list per operand). Dims from
 * `barrier` on never merge with the dims before it (a reduction keeps its kept and reduced dims
 * apart, so that its accumulator sits between them).
 */
export function coalesceLoops(shape: readonly number[], strides: readonly (readonly number[])[], barrier = shape.length): LoopNest {
  const counts: number[] = [];
  const out: number[][] = strides.map(() => []);
  let barrierLevel = -1;
  for (let d = 0; d < shape.length; d++) {
    if (d === barrier) barrierLevel = counts.length;
    const n = shape[d] as number;
    if (n === 1) continue;
    const last = counts.length - 1;
    let merge = last >= 0 && last >= barrierLevel && n !== 0 && counts[last] !== 0;
    if (barrierLevel === counts.length) merge = false;
    for (let k = 0; k < strides.length && merge; k++) {
      if ((out[k] as number[])[last] !== ((strides[k] as number[])[d] as number) * n) merge = false;
    }
    if (merge) {
      counts[last] = (counts[last] as number) * n;
      for (let k = 0; k < strides.length; k++) (out[k] as number[])[last] = (strides[k] as number[])[d] as number;
    } else {
      counts.push(n);
      for (let k = 0; k < strides.length; k++) (out[k] as number[]).push((strides[k] as number[])[d] as number);
    }
  }
  return { counts, strides: out, barrierLevel: barrierLevel === -1 ? counts.length : barrierLevel };
}

/** Row-major strides of a contiguous `shape`. */
export function rowMajor(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  return strides;
}

/**
 * The strides with which a tensor of `shape` and `strides` is read as its broadcast to
 * `target` (NumPy rules: dims aligned to the right; added and size-1 dims step by 0).
 */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] {
  const lead = target.length - shape.length;
  return target.map((n, d) => {
    if (d < lead) return 0;
    const own = shape[d - lead] as number;
    return own === 1 && n !== 1 ? 0 : (strides[d - lead] as number);
  });
}
