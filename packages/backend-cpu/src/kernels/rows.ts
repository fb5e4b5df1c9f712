/**
 * Strided iteration for kernels with several operands of one shape (output and inputs). Dims are
 * coalesced jointly (size-1 dims dropped, neighbours merged where every operand allows it), then
 * the kernel runs one plain inner loop per row: the callback is per row, never per element.
 */
export interface RowPlan {
  /** Length of each row (the innermost coalesced dim); 1 for scalars. */
  readonly inner: number;
  /** Each operand's stride along the row. */
  readonly innerStrides: readonly number[];
  /** The coalesced outer dims and each operand's strides along them. */
  readonly outerShape: readonly number[];
  readonly outerStrides: readonly (readonly number[])[];
  readonly rows: number;
}

export function planRows(shape: readonly number[], strides: readonly (readonly number[])[]): RowPlan {
  const count = strides.length;
  const dims: number[] = [];
  const dimStrides: number[][] = strides.map(() => []);
  let empty = false;
  for (let i = 0; i < shape.length; i++) {
    const dim = shape[i]!;
    if (dim === 0) empty = true;
    if (dim === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let k = 0; k < count && merge; k++) {
      if (dimStrides[k]![last] !== strides[k]![i]! * dim) merge = false;
    }
    if (merge) {
      dims[last] = dims[last]! * dim;
      for (let k = 0; k < count; k++) dimStrides[k]![last] = strides[k]![i]!;
    } else {
      dims.push(dim);
      for (let k = 0; k < count; k++) dimStrides[k]!.push(strides[k]![i]!);
    }
  }
  if (empty) return { inner: 0, innerStrides: strides.map(() => 0), outerShape: [], outerStrides: strides.map(() => []), rows: 0 };
  if (dims.length === 0)
    return { inner: 1, innerStrides: strides.map(() => 0), outerShape: [], outerStrides: strides.map(() => []), rows: 1 };
  const inner = dims.pop()!;
  const innerStrides = dimStrides.map((s) => s.pop()!);
  let rows = 1;
  for (const d of dims) rows *= d;
  return { inner, innerStrides, outerShape: dims, outerStrides: dimStrides, rows };
}

/**
 * Calls `visit` once per row with each operand's starting position in `positions` (reused and
 * mutated between calls), beginning at `offsets`.
 */
export function forEachRow(plan: RowPlan, offsets: readonly number[], visit: (positions: number[]) => void): void {
  const positions = [...offsets];
  const rank = plan.outerShape.length;
  const count = positions.length;
  if (plan.rows === 0) return;
  if (rank === 0) {
    visit(positions);
    return;
  }
  const counter = new Array<number>(rank).fill(0);
  for (let r = 0; r < plan.rows; r++) {
    visit(positions);
    for (let axis = rank - 1; axis >= 0; axis--) {
      if (++counter[axis]! < plan.outerShape[axis]!) {
        for (let k = 0; k < count; k++) positions[k] = positions[k]! + plan.outerStrides[k]![axis]!;
        break;
      }
      counter[axis] = 0;
      for (let k = 0; k < count; k++) positions[k] = positions[k]! - plan.outerStrides[k]![axis]! * (plan.outerShape[axis]! - 1);
    }
  }
}
