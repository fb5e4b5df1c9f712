import { type DType, isFloating, promoteTypes } from '../core/dtype.js';
import { DTypeError, ShapeError } from '../core/errors.js';
import { formatShape, normalizeAxis, type Shape, shapesEqual } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo, cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { mul } from './elementwise.js';

// Linear algebra composites. Everything contracts through the one DotGeneral primitive, so a
// backend needs a single batched-matmul kernel and autodiff a single rule.

function reshape(x: Tensor, shape: Shape): Tensor {
  return shapesEqual(x.shape, shape) ? x : bind(Primitive.Reshape, [x], { shape: [...shape] });
}

function transpose(x: Tensor, perm: readonly number[]): Tensor {
  return perm.every((p, i) => p === i) ? x : bind(Primitive.Transpose, [x], { perm: [...perm] });
}

/** Converts both operands to tensors of their promoted dtype; bool is refused (as in PyTorch). */
function promotePair(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const like = isTensor(a) ? a : isTensor(b) ? b : undefined;
  const ta = toTensor(op, a, undefined, like);
  const tb = toTensor(op, b, undefined, like ?? ta);
  const dtype = contractionDType(op, [ta.dtype, tb.dtype]);
  return [cast(ta, dtype), cast(tb, dtype)];
}

function contractionDType(op: string, dtypes: readonly DType[]): DType {
  let dtype = dtypes[0] as DType;
  for (const d of dtypes) dtype = promoteTypes(dtype, d);
  if (dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors; cast them to a numeric dtype first`);
  return dtype;
}

/**
 * Matrix product with NumPy/PyTorch semantics: 1-d operands are promoted to a row (left) or
 * column (right) and the added dimension removed from the result; leading (batch) dimensions
 * broadcast. Integer operands give an integer result.
 *
 * @example
 * matmul(tensor([[1, 2], [3, 4]]), tensor([[5], [6]])); // [[17], [39]]
 * matmul(zeros([8, 2, 3]), zeros([3, 4])).shape;         // [8, 2, 4]
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  // Float operands of one dtype with no batch on the right contract as they are; otherwise the
  // promoted and broadcast operands made on the way are freed when the product returns.
  if (isTensor(a) && isTensor(b) && a.dtype === b.dtype && isFloating(a.dtype) && b.shape.length <= 2) return matmulOf(a, b);
  return tidy(() => matmulOf(a, b));
}

function matmulOf(a: TensorLike, b: TensorLike): Tensor {
  const op = 'matmul';
  const [x, y] = promotePair(op, a, b);
  const rx = x.shape.length;
  const ry = y.shape.length;
  if (rx === 0 || ry === 0) {
    throw new ShapeError(
      `${op}: both operands must have at least one dimension, got shapes ${formatShape(x.shape)} and ${formatShape(y.shape)}`,
    );
  }
  const k = x.shape[rx - 1] as number;
  const yContracted = ry === 1 ? 0 : ry - 2;
  if (y.shape[yContracted] !== k) {
    throw new ShapeError(
      `${op}: shapes ${formatShape(x.shape)} and ${formatShape(y.shape)} are not aligned: dimension ${rx - 1} of the first (${k}) must equal dimension ${yContracted} of the second (${y.shape[yContracted]})`,
    );
  }
  // No batch on the right: contract x's last axis directly, with no broadcast or reshape.
  if (ry <= 2) {
    return bind(Primitive.DotGeneral, [x, y], { lhsContracting: [rx - 1], rhsContracting: [yContracted], lhsBatch: [], rhsBatch: [] });
  }
  if (rx === 1) {
    // [k] @ [..., k, m]: contract with the rhs's second-to-last axis; output [..., m] already.
    const out = bind(Primitive.DotGeneral, [x, y], { lhsContracting: [0], rhsContracting: [ry - 2], lhsBatch: [], rhsBatch: [] });
    return out;
  }
  const batchX = x.shape.slice(0, -2);
  const batchY = y.shape.slice(0, -2);
  const batch = broadcastBatch(op, x.shape, y.shape, batchX, batchY);
  const nb = batch.length;
  const xb = broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
  const yb = broadcastTo(y, [...batch, ...y.shape.slice(-2)]);
  const batchAxes = Array.from({ length: nb }, (_, i) => i);
  return bind(Primitive.DotGeneral, [xb, yb], { lhsContracting: [nb + 1], rhsContracting: [nb], lhsBatch: batchAxes, rhsBatch: batchAxes });
}

function broadcastBatch(op: string, shapeX: Shape, shapeY: Shape, batchX: Shape, batchY: Shape): number[] {
  const rank = Math.max(batchX.length, batchY.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const dx = batchX[batchX.length - rank + i] ?? 1;
    const dy = batchY[batchY.length - rank + i] ?? 1;
    if (dx !== dy && dx !== 1 && dy !== 1) {
      throw new ShapeError(
        `${op}: batch dimensions of shapes ${formatShape(shapeX)} and ${formatShape(shapeY)} cannot be broadcast: ${formatShape(batchX)} vs ${formatShape(batchY)} (${dx} vs ${dy} at batch dimension ${i})`,
      );
    }
    out[i] = dx === 1 ? dy : dx;
  }
  return out;
}

/**
 * Inner product of two 1-d tensors of equal length (torch.dot); a rank-0 result.
 *
 * @example
 * dot(tensor([1, 2, 3]), tensor([4, 5, 6])).item(); // 32
 */
export function dot(a: TensorLike, b: TensorLike): Tensor {
  const op = 'dot';
  const [x, y] = promotePair(op, a, b);
  if (x.shape.length !== 1 || y.shape.length !== 1) {
    throw new ShapeError(
      `${op}: expected two 1-d tensors, got shapes ${formatShape(x.shape)} and ${formatShape(y.shape)}; use matmul for higher ranks`,
    );
  }
  if (x.shape[0] !== y.shape[0]) {
    throw new ShapeError(`${op}: tensors have different lengths ${x.shape[0]} and ${y.shape[0]}`);
  }
  return bind(Primitive.DotGeneral, [x, y], { lhsContracting: [0], rhsContracting: [0], lhsBatch: [], rhsBatch: [] });
}

/**
 * Outer product of two 1-d tensors: `out[i, j] = a[i] * b[j]`.
 *
 * @example
 * outer(tensor([1, 2]), tensor([3, 4, 5])).shape; // [2, 3]
 */
export function outer(a: TensorLike, b: TensorLike): Tensor {
  const op = 'outer';
  const [x, y] = promotePair(op, a, b);
  if (x.shape.length !== 1 || y.shape.length !== 1) {
    throw new ShapeError(`${op}: expected two 1-d tensors, got shapes ${formatShape(x.shape)} and ${formatShape(y.shape)}`);
  }
  return mul(reshape(x, [x.shape[0] as number, 1]), reshape(y, [1, y.shape[0] as number]));
}

/** Which axes of each operand `dotGeneral` contracts and which it treats as batch axes. */
export interface DotGeneralDimensions {
  readonly lhsContracting: readonly number[];
  readonly rhsContracting: readonly number[];
  readonly lhsBatch?: readonly number[];
  readonly rhsBatch?: readonly number[];
}

/**
 * General batched contraction, as XLA's DotGeneral: the result's dimensions are the batch
 * dimensions, then the lhs's free dimensions, then the rhs's, each in input order. Negative axes
 * count from the end. Operands are promoted to a common dtype.
 *
 * @example
 * // batched matmul of [b, n, k] and [b, k, m]
 * dotGeneral(x, y, { lhsContracting: [2], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] });
 */
export function dotGeneral(lhs: TensorLike, rhs: TensorLike, dimensions: DotGeneralDimensions): Tensor {
  const op = 'dotGeneral';
  const [x, y] = promotePair(op, lhs, rhs);
  const rx = x.shape.length;
  const ry = y.shape.length;
  const norm = (axes: readonly number[] | undefined, rank: number) => (axes ?? []).map((a) => normalizeAxis(op, a, rank));
  return bind(Primitive.DotGeneral, [x, y], {
    lhsContracting: norm(dimensions.lhsContracting, rx),
    rhsContracting: norm(dimensions.rhsContracting, ry),
    lhsBatch: norm(dimensions.lhsBatch, rx),
    rhsBatch: norm(dimensions.rhsBatch, ry),
  });
}

// ---- einsum ----------------------------------------------------------------------------------
//
// einsum is lowered to primitives in three steps, so that it differentiates, batches and jits like
// any composite: (1) a label repeated within one operand takes that operand's diagonal (transpose
// the two axes to the end, flatten them, slice every (n+1)-th element); (2) a label that no other
// operand and not the output needs is summed away at once; (3) operands are contracted left to
// right with DotGeneral, labels still needed later becoming batch axes. A final transpose puts the
// labels in output order. Ellipsis dimensions get internal labels ('.0', '.1', ...) aligned to the
// right across operands, and broadcast like any size-1 label.

interface Term {
  readonly letters: string[];
  /** Position of '...' among the letters, or -1. */
  readonly ellipsisAt: number;
}

function parseTerm(op: string, term: string, what: string): Term {
  const letters: string[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < term.length; i++) {
    const c = term[i] as string;
    if (c === '.') {
      if (term.slice(i, i + 3) !== '...' || ellipsisAt !== -1) {
        throw new ShapeError(`${op}: ${what} '${term}' has a misplaced '.'; an ellipsis is written '...' and may appear once per term`);
      }
      ellipsisAt = letters.length;
      i += 2;
    } else if (/^[a-zA-Z]$/.test(c)) {
      letters.push(c);
    } else {
      throw new ShapeError(`${op}: ${what} '${term}' contains '${c}'; subscripts are letters a-z, A-Z and '...'`);
    }
  }
  return { letters, ellipsisAt };
}

const ellipsisLabel = (i: number): string => `.${i}`;

interface Labeled {
  tensor: Tensor;
  labels: string[];
}

/** Takes the diagonal for every label repeated within one operand (sizes already checked equal). */
function takeDiagonals(operand: Labeled): Labeled {
  let { tensor: t, labels } = operand;
  for (;;) {
    const p = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (p === -1) return { tensor: t, labels };
    const label = labels[p] as string;
    const first = labels.indexOf(label);
    const n = t.shape[first] as number;
    const others = labels.map((_, i) => i).filter((i) => i !== first && i !== p);
    const outer = others.map((i) => t.shape[i] as number);
    t = transpose(t, [...others, first, p]);
    const rank = outer.length;
    t = reshape(t, [...outer, n * n]);
    t = bind(Primitive.Slice, [t], {
      starts: new Array<number>(rank + 1).fill(0),
      stops: [...outer, n * n],
      steps: [...new Array<number>(rank).fill(1), n + 1],
    });
    labels = [...others.map((i) => labels[i] as string), label];
  }
}

function sumLabels(operand: Labeled, keep: (label: string) => boolean): Labeled {
  const axes = operand.labels.map((l, i) => (keep(l) ? -1 : i)).filter((i) => i >= 0);
  if (axes.length === 0) return operand;
  return {
    tensor: bind(Primitive.ReduceSum, [operand.tensor], { axes }),
    labels: operand.labels.filter((l) => keep(l)),
  };
}

/** Broadcasts size-1 axes of `a` to the sizes the same labels have in `b`. */
function broadcastShared(a: Labeled, b: Labeled): Tensor {
  const shape = a.labels.map((l, i) => {
    const j = b.labels.indexOf(l);
    const own = a.tensor.shape[i] as number;
    return j >= 0 && own === 1 ? (b.tensor.shape[j] as number) : own;
  });
  return broadcastTo(a.tensor, shape);
}

/**
 * Einstein summation. Each operand's subscripts label its axes; labels shared between operands
 * are multiplied together, labels missing from the output are summed. Supports explicit (`->`)
 * and implicit output (labels seen exactly once, in alphabetical order), repeated labels within
 * an operand (traces and diagonals), and `...` for broadcast leading dimensions.
 *
 * @example
 * einsum('ij,jk->ik', a, b);   // matmul
 * einsum('bij,bjk->bik', x, y); // batched matmul
 * einsum('ii', m);              // trace
 * einsum('...ij->...ji', x);    // transpose the last two axes
 */
export function einsum(equation: string, ...operands: TensorLike[]): Tensor {
  const op = 'einsum';
  if (typeof equation !== 'string') throw new ShapeError(`${op}: the equation must be a string, got ${typeof equation}`);
  const spec = equation.replace(/\s+/g, '');
  const arrow = spec.indexOf('->');
  if (arrow !== spec.lastIndexOf('->')) throw new ShapeError(`${op}: equation '${equation}' has more than one '->'`);
  const lhs = arrow === -1 ? spec : spec.slice(0, arrow);
  const inputTerms = lhs.split(',');
  if (inputTerms.length !== operands.length) {
    throw new ShapeError(
      `${op}: equation '${equation}' has ${inputTerms.length} input term(s) but ${operands.length} operand(s) were given`,
    );
  }
  if (operands.length === 0) throw new ShapeError(`${op}: expected at least one operand`);

  const like = operands.find(isTensor);
  const tensors = operands.map((o) => toTensor(op, o, undefined, like));
  const dtype = contractionDType(
    op,
    tensors.map((t) => t.dtype),
  );
  const terms = inputTerms.map((term, i) => parseTerm(op, term, `input term ${i}`));

  // Give every axis a label, ellipsis dims included (right-aligned across operands).
  let ellipsisRank = 0;
  terms.forEach((term, i) => {
    const rank = (tensors[i] as Tensor).shape.length;
    const extra = rank - term.letters.length;
    const shape = formatShape((tensors[i] as Tensor).shape);
    if (term.ellipsisAt === -1 ? extra !== 0 : extra < 0) {
      throw new ShapeError(
        `${op}: term '${inputTerms[i]}' labels ${term.letters.length} dimension(s) but operand ${i} has shape ${shape} (rank ${rank})`,
      );
    }
    if (term.ellipsisAt !== -1) ellipsisRank = Math.max(ellipsisRank, extra);
  });
  const operandLabels = terms.map((term, i) => {
    if (term.ellipsisAt === -1) return [...term.letters];
    const extra = (tensors[i] as Tensor).shape.length - term.letters.length;
    const dots = Array.from({ length: extra }, (_, j) => ellipsisLabel(ellipsisRank - extra + j));
    return [...term.letters.slice(0, term.ellipsisAt), ...dots, ...term.letters.slice(term.ellipsisAt)];
  });
  const allEllipsis = Array.from({ length: ellipsisRank }, (_, j) => ellipsisLabel(j));

  // Sizes: equal, or 1 (which broadcasts).
  const sizes = new Map<string, { size: number; operand: number }>();
  operandLabels.forEach((labels, i) => {
    const shape = (tensors[i] as Tensor).shape;
    labels.forEach((label, axis) => {
      const first = labels.indexOf(label);
      if (first !== axis && shape[first] !== shape[axis]) {
        throw new ShapeError(
          `${op}: label '${label}' is repeated in operand ${i} with sizes ${shape[first]} and ${shape[axis]} (shape ${formatShape(shape)}); a repeated label takes a diagonal and needs equal sizes`,
        );
      }
    });
    labels.forEach((label, axis) => {
      const size = shape[axis] as number;
      const seen = sizes.get(label);
      if (seen === undefined || seen.size === 1) sizes.set(label, { size, operand: i });
      else if (size !== 1 && size !== seen.size) {
        const name = label.startsWith('.') ? `ellipsis dimension ${label.slice(1)}` : `label '${label}'`;
        throw new ShapeError(
          `${op}: ${name} has size ${seen.size} in operand ${seen.operand} but ${size} in operand ${i} (shapes ${tensors.map((t) => formatShape(t.shape)).join(', ')})`,
        );
      }
    });
  });

  let output: string[];
  if (arrow === -1) {
    const counts = new Map<string, number>();
    for (const term of terms) for (const l of term.letters) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts]
      .filter(([, n]) => n === 1)
      .map(([l]) => l)
      .sort();
    output = [...allEllipsis, ...once];
  } else {
    const outTerm = parseTerm(op, spec.slice(arrow + 2), 'output term');
    const seen = new Set<string>();
    for (const l of outTerm.letters) {
      if (seen.has(l)) throw new ShapeError(`${op}: output label '${l}' appears more than once in '${equation}'`);
      if (!sizes.has(l)) throw new ShapeError(`${op}: output label '${l}' does not appear in any input term of '${equation}'`);
      seen.add(l);
    }
    output =
      outTerm.ellipsisAt === -1
        ? [...outTerm.letters]
        : [...outTerm.letters.slice(0, outTerm.ellipsisAt), ...allEllipsis, ...outTerm.letters.slice(outTerm.ellipsisAt)];
  }
  const outputSet = new Set(output);

  let pending: Labeled[] = tensors.map((t, i) => takeDiagonals({ tensor: cast(t, dtype), labels: operandLabels[i] as string[] }));
  const neededBesides = (skip: number, from: number): ((label: string) => boolean) => {
    const needed = new Set(outputSet);
    for (let j = from; j < pending.length; j++) if (j !== skip) for (const l of (pending[j] as Labeled).labels) needed.add(l);
    return (label) => needed.has(label);
  };
  pending = pending.map((operand, i) => sumLabels(operand, neededBesides(i, 0)));

  let acc = pending[0] as Labeled;
  for (let i = 1; i < pending.length; i++) {
    const next = pending[i] as Labeled;
    const later = neededBesides(-1, i + 1);
    const left: Labeled = { tensor: broadcastShared(acc, next), labels: acc.labels };
    const right: Labeled = { tensor: broadcastShared(next, acc), labels: next.labels };
    const shared = left.labels.filter((l) => right.labels.includes(l));
    const batch = shared.filter(later);
    const contracted = shared.filter((l) => !later(l));
    const tensor = bind(Primitive.DotGeneral, [left.tensor, right.tensor], {
      lhsContracting: contracted.map((l) => left.labels.indexOf(l)),
      rhsContracting: contracted.map((l) => right.labels.indexOf(l)),
      lhsBatch: batch.map((l) => left.labels.indexOf(l)),
      rhsBatch: batch.map((l) => right.labels.indexOf(l)),
    });
    acc = {
      tensor,
      labels: [...batch, ...left.labels.filter((l) => !shared.includes(l)), ...right.labels.filter((l) => !shared.includes(l))],
    };
  }
  acc = sumLabels(acc, (l) => outputSet.has(l));
  const perm = output.map((l) => acc.labels.indexOf(l));
  return transpose(acc.tensor, perm);
}
