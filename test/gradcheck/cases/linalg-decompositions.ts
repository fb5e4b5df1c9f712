import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import { backendOf } from '../../../packages/api/src/transforms/core.js';
import { distinctOperand, floatOperand, type Operand, permutation, shapes } from '../generators.js';
import { type CompositeCase, type CompositeOptions, composite } from './composite-case.js';

// Matrix decompositions, solves, determinants and products (ops/linalg-decompositions.ts,
// linalg-solvers.ts, linalg-products.ts). The decompositions take their reverse-mode rules from
// ops/linalg/rules.ts, and these checks hold those rules to finite differences, to forward mode
// (which goes through the factorizations' loops) and to vmap. Matrices are generated well
// conditioned: SPD as X X^T + n I for Cholesky, a dominant diagonal for solves and inverses,
// distinct positive entries where LU's pivot search must not meet a tie.

type Params = Record<string, unknown>;

/** A case of these ops: smooth and 4 runs unless told otherwise; parameters default to {}. */
const linalgCase = (
  name: string,
  ops: readonly string[],
  sample: fc.Arbitrary<{ operands: Operand[]; params?: Params }>,
  apply: (xs: Tensor[], p: Params) => Tensor,
  options: CompositeOptions = {},
): CompositeCase => composite(name, ops, sample, apply, { smooth: true, numRuns: 4, fallback: {}, ...options });

/** Batch axes (0 to 2 of them) and a matrix size. */
const batchAndSize = (minN = 1, maxN = 4) => fc.tuple(shapes(0, 2, 1, 2), fc.integer({ min: minN, max: maxN }));

/** A [..., n, n] operand. */
const square = (minN = 1, maxN = 4) =>
  batchAndSize(minN, maxN).chain(([batch, n]) => floatOperand([...batch, n, n]).map((x) => ({ x, n })));

/** Adds `amount` to every diagonal entry: a dominant diagonal keeps the matrix well conditioned. */
function shifted(x: Tensor, amount: number): Tensor {
  // Built from x (not eye) so that it lives on x's backend and follows vmap.
  const diagonal = flint.fullLike(flint.diagonal(x, 0, -2, -1), amount);
  return x.add(flint.diagEmbed(diagonal));
}

/** X X^T + n I: symmetric positive-definite, well conditioned. */
function spd(x: Tensor): Tensor {
  const n = x.shape[x.ndim - 1] as number;
  return shifted(flint.matmul(x, flint.swapaxes(x, -1, -2)), n);
}

/** Pairwise distinct positive entries (no tie for LU's pivot search, even at |x|). */
const distinctPositive = (shape: readonly number[]) =>
  distinctOperand(shape, 0.25).map((o) => ({ ...o, data: o.data.map((v) => v + 0.25 * o.data.length + 0.5) }));

/**
 * [..., m, n] entries in [-1, 1] plus one dominant entry (10, 14, 18, ...) in each of the first
 * min(m, n) columns, in rows permuted by `rows`: partial pivoting picks those rows, in permuted
 * order, by a wide margin after every elimination step, so no finite-difference step near the
 * sample changes a pivot (distinct entries alone leave later columns free to nearly tie).
 */
const pivotedOperand = (batch: readonly number[], m: number, n: number) =>
  fc.tuple(floatOperand([...batch, m, n], { min: -1, max: 1 }), permutation(m)).map(([o, rows]) => {
    const data = [...o.data];
    for (let offset = 0; offset < data.length; offset += m * n) {
      for (let k = 0; k < Math.min(m, n); k++) {
        const at = offset + (rows[k] as number) * n + k;
        data[at] = (data[at] as number) + 10 + 4 * k;
      }
    }
    return { ...o, data };
  });

/** Pairwise distinct entries, none within 0.3 of 0 (full rank; no Householder sign flip nearby). */
const distinctAwayFromZero = (shape: readonly number[]) =>
  distinctOperand(shape, 0.25).map((o) => ({ ...o, data: o.data.map((v) => (v >= 0 ? v + 0.3 : v - 0.3)) }));

const flat = (...ts: Tensor[]): Tensor =>
  flint.concat(
    ts.map((t) => flint.reshape(t, [-1])),
    0,
  );

export const linalgDecompositionCases: CompositeCase[] = [
  linalgCase(
    'linalg.cholesky (SPD from X X^T, upper or lower)',
    ['linalgCholesky', 'cholesky'],
    square().chain(({ x }) => fc.boolean().map((upper) => ({ operands: [x], params: { upper } }))),
    ([x], p) => (p.upper === true ? flint.cholesky(spd(x as Tensor), true) : flint.linalg.cholesky(spd(x as Tensor))),
  ),
  linalgCase(
    'linalg.cholesky (blocked, n = 20)',
    ['linalgCholesky'],
    floatOperand([20, 20]).map((x) => ({ operands: [x] })),
    ([x]) => flint.linalg.cholesky(spd(x as Tensor)),
    { numRuns: 1, smooth: false },
  ),
  linalgCase(
    'linalg.choleskyEx',
    ['choleskyEx'],
    square().map(({ x }) => ({ operands: [x] })),
    ([x]) => flint.linalg.choleskyEx(spd(x as Tensor), { upper: true }).L,
  ),
  linalgCase(
    'linalg.solveTriangular (upper or lower, left or right, unitriangular)',
    ['solveTriangular'],
    batchAndSize().chain(([batch, n]) =>
      fc
        .tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 3 }), fc.boolean())
        .chain(([upper, left, unit, k, broadcastA]) =>
          fc
            .tuple(floatOperand([...(broadcastA ? [] : batch), n, n]), floatOperand([...batch, ...(left ? [n, k] : [k, n])]))
            .map(([a, b]) => ({ operands: [a, b], params: { upper, left, unit, n } })),
        ),
    ),
    ([a, b], p) =>
      flint.linalg.solveTriangular(shifted(a as Tensor, (p.n as number) + 2), b as Tensor, {
        upper: p.upper as boolean,
        left: p.left as boolean,
        unitriangular: p.unit as boolean,
      }),
  ),
  linalgCase(
    'linalg.solve (matrix or vector right-hand side, left or right)',
    ['solve'],
    batchAndSize().chain(([batch, n]) =>
      fc
        .tuple(fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 2 }))
        .chain(([left, vector, k]) =>
          fc
            .tuple(floatOperand([...batch, n, n]), floatOperand(vector ? [...batch, n] : [...batch, ...(left ? [n, k] : [k, n])]))
            .map(([a, b]) => ({ operands: [a, b], params: { left, n } })),
        ),
    ),
    ([a, b], p) => flint.linalg.solve(shifted(a as Tensor, (p.n as number) + 2), b as Tensor, { left: p.left as boolean }),
  ),
  linalgCase(
    'linalg.solve (blocked, n = 20)',
    ['solve'],
    fc.tuple(floatOperand([20, 20]), floatOperand([20, 2])).map((operands) => ({ operands })),
    ([a, b]) => flint.linalg.solve(shifted(a as Tensor, 22), b as Tensor),
    { numRuns: 1, smooth: false },
  ),
  linalgCase(
    'linalg.inv and inverse',
    ['inv', 'inverse'],
    square().map(({ x, n }) => ({ operands: [x], params: { n } })),
    ([x], p) => flint.inverse(flint.linalg.inv(shifted(x as Tensor, (p.n as number) + 2))),
  ),
  linalgCase(
    'linalg.det and det',
    ['det'],
    // Distinct entries: never exactly singular (where only the first derivative is exact).
    batchAndSize().chain(([batch, n]) => distinctAwayFromZero([...batch, n, n]).map((x) => ({ operands: [x] }))),
    ([x]) => flint.det(x as Tensor),
  ),
  linalgCase(
    'linalg.det at singular matrices (a zero column: the adjugate, not NaN)',
    ['det'],
    batchAndSize(2, 4).chain(([batch, n]) =>
      distinctAwayFromZero([...batch, n, n]).map((x) => ({ operands: [{ ...x, data: x.data.map((v, i) => (i % n === n - 1 ? 0 : v)) }] })),
    ),
    ([x]) => flint.linalg.det(x as Tensor),
    // The rule's own derivative holds the zero pivot fixed: only first order is exact here.
    { smooth: false },
  ),
  linalgCase(
    'linalg.slogdet (logabsdet)',
    ['slogdet'],
    square().map(({ x, n }) => ({ operands: [x], params: { n } })),
    ([x], p) => flint.slogdet(shifted(x as Tensor, (p.n as number) + 2)).logabsdet,
  ),
  linalgCase(
    'logdet (SPD)',
    ['logdet'],
    square().map(({ x }) => ({ operands: [x] })),
    ([x]) => flint.logdet(spd(x as Tensor)),
  ),
  linalgCase(
    'linalg.luFactor and linalg.lu (square and rectangular)',
    ['luFactor', 'lu'],
    fc
      .tuple(shapes(0, 1, 1, 2), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean())
      .chain(([batch, m, n, packed]) => pivotedOperand(batch, m, n).map((x) => ({ operands: [x], params: { packed } }))),
    ([x], p) => {
      if (p.packed === true) return flint.linalg.luFactor(x as Tensor).LU;
      const { P, L, U } = flint.linalg.lu(x as Tensor);
      return flat(P, L, U);
    },
  ),
  linalgCase(
    'linalg.luSolve (left or right, adjoint)',
    ['luSolve'],
    batchAndSize().chain(([batch, n]) =>
      fc
        .tuple(fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 2 }))
        .chain(([left, adjoint, k]) =>
          fc
            .tuple(distinctPositive([...batch, n, n]), floatOperand([...batch, ...(left ? [n, k] : [k, n])]))
            .map(([a, b]) => ({ operands: [a, b], params: { left, adjoint, n } })),
        ),
    ),
    ([a, b], p) => {
      const { LU, pivots } = flint.linalg.luFactor(shifted(a as Tensor, 4 * (p.n as number)));
      return flint.linalg.luSolve(LU, pivots, b as Tensor, { left: p.left as boolean, adjoint: p.adjoint as boolean });
    },
  ),
  linalgCase(
    'linalg.qr (reduced, complete, r; tall and wide)',
    ['qr'],
    fc
      .tuple(
        shapes(0, 1, 1, 2),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('reduced', 'complete', 'r'),
      )
      .chain(([batch, m, n, mode]) => distinctAwayFromZero([...batch, m, n]).map((x) => ({ operands: [x], params: { mode, m, n } }))),
    ([x], p) => {
      const mode = p.mode as 'reduced' | 'complete' | 'r';
      // A shifted diagonal keeps the leading columns well conditioned: a nearly rank-deficient
      // sample (the shrinker found [[1.175, 0.55], [-1.175, -0.55]]) defeats the second-order
      // finite differences, not the rule.
      const [m, n] = [p.m as number, p.n as number];
      const backend = backendOf(x as Tensor)?.name;
      const diagonal = flint.eye(m, n, { dtype: 'float64', ...(backend === undefined ? {} : { backend }) }).mul(2 * Math.max(m, n) + 1);
      const { Q, R } = flint.linalg.qr((x as Tensor).add(diagonal), { mode });
      // Q's last columns in 'complete' mode with m > n are not determined by A.
      if (mode === 'r' || (mode === 'complete' && (p.m as number) > (p.n as number))) return R;
      return flat(Q, R);
    },
  ),
  linalgCase(
    'linalg.qr (blocked, 22 x 18)',
    ['qr'],
    distinctAwayFromZero([22, 18]).map((x) => ({ operands: [x] })),
    ([x]) => {
      const { Q, R } = flint.linalg.qr(x as Tensor);
      return flat(Q, R);
    },
    { numRuns: 1, smooth: false },
  ),
  linalgCase(
    'linalg.matrixPower (negative through inv)',
    ['matrixPower'],
    square(1, 3).chain(({ x, n }) => fc.constantFrom(-2, -1, 1, 2, 3).map((power) => ({ operands: [x], params: { power, n } }))),
    // Entries in [-2, 2]: a shift of 2n + 1 makes the diagonal strictly dominant, so the negative
    // powers' inverse exists (n + 1 let [[-2]] through as [[0]], singular).
    ([x], p) => flint.linalg.matrixPower(shifted(x as Tensor, 2 * (p.n as number) + 1), p.power as number),
  ),
  linalgCase(
    'linalg.cross and cross (broadcasting)',
    ['linalgCross', 'cross'],
    fc
      .tuple(shapes(0, 2, 1, 2), fc.boolean())
      .chain(([batch, top]) => fc.tuple(floatOperand([...batch, 3]), floatOperand([3])).map((operands) => ({ operands, params: { top } }))),
    ([a, b], p) => (p.top === true ? flint.cross(a as Tensor, b as Tensor, -1) : flint.linalg.cross(a as Tensor, b as Tensor)),
  ),
  linalgCase(
    'linalg.vecdot',
    ['vecdot'],
    shapes(1, 3).chain((shape) => fc.tuple(floatOperand(shape), floatOperand(shape.slice(-1))).map((operands) => ({ operands }))),
    ([a, b]) => flint.linalg.vecdot(a as Tensor, b as Tensor),
  ),
  linalgCase(
    'linalg.multiDot (vector ends)',
    ['multiDot'],
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 4 }).chain((dims) => {
      // A vector, matrices dims[i] x dims[i + 1], a vector.
      const shapesOf = [
        [dims[0] as number],
        ...dims.slice(0, -1).map((d, i) => [d, dims[i + 1] as number]),
        [dims[dims.length - 1] as number],
      ];
      return fc.tuple(...shapesOf.map((s) => floatOperand(s))).map((operands) => ({ operands }));
    }),
    (xs) => flint.linalg.multiDot(xs),
  ),
  linalgCase(
    'kron',
    ['kron'],
    fc
      .tuple(shapes(1, 2, 1, 2), shapes(1, 3, 1, 2))
      .chain(([sa, sb]) => fc.tuple(floatOperand(sa), floatOperand(sb)).map((operands) => ({ operands }))),
    ([a, b]) => flint.kron(a as Tensor, b as Tensor),
  ),
  linalgCase(
    'tensordot',
    ['tensordot'],
    fc
      .tuple(shapes(0, 2, 1, 3), shapes(1, 2, 1, 3), shapes(0, 2, 1, 3))
      .chain(([free, shared, other]) =>
        fc
          .tuple(floatOperand([...free, ...shared]), floatOperand([...shared, ...other]))
          .map((operands) => ({ operands, params: { dims: shared.length } })),
      ),
    ([a, b], p) => flint.tensordot(a as Tensor, b as Tensor, p.dims as number),
  ),
  linalgCase(
    'blockDiag',
    ['blockDiag'],
    fc
      .tuple(shapes(2, 2, 1, 3), shapes(1, 1, 1, 3), shapes(0, 0))
      .chain(([sa, sb, sc]) => fc.tuple(floatOperand(sa), floatOperand(sb), floatOperand(sc)).map((operands) => ({ operands }))),
    ([a, b, c]) => flint.blockDiag(a as Tensor, b as Tensor, c as Tensor),
  ),
  linalgCase(
    'diagEmbed',
    ['diagEmbed'],
    shapes(1, 3).chain((shape) =>
      fc
        .tuple(floatOperand(shape), fc.integer({ min: -2, max: 2 }))
        .map(([x, offset]) => ({ operands: [x], params: { offset, rank: shape.length } })),
    ),
    ([x], p) => flint.diagEmbed(x as Tensor, p.offset as number, 0, -1),
    { smooth: true },
  ),
];
