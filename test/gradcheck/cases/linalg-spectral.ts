import type { Tensor } from '@flint/api';
import * as flint from '@flint/api';
import fc from 'fast-check';
import { floatOperand, type Operand, shapes } from '../generators.js';
import { type CompositeCase, type CompositeOptions, composite } from './composite-case.js';

// eigh, svd and what is built on them (ops/linalg-spectral.ts, linalg-matrix-exp.ts): their
// analytic rules (ops/linalg/spectral-rules.ts) held to finite differences, to each other (the
// forward-mode rule against the reverse-mode one) and to vmap, as torch's own tests do: on
// matrices with well separated eigenvalues or singular values (a dominant diagonal 3, 6, 9, ...
// under entries in [-0.5, 0.5]), through functions that do not depend on the signs of the
// eigenvectors and singular vectors (their squares elementwise), and for eigh on symmetric inputs.

type Params = Record<string, unknown>;

/** A case of these ops: smooth and 3 runs unless told otherwise. */
const spectralCase = (
  name: string,
  ops: readonly string[],
  sample: fc.Arbitrary<{ operands: Operand[]; params?: Params }>,
  apply: (xs: Tensor[], p: Params) => Tensor,
  options: CompositeOptions = {},
): CompositeCase => composite(name, ops, sample, apply, { smooth: true, numRuns: 3, fallback: {}, ...options });

/**
 * [..., m, n] entries in [-0.5, 0.5] plus 3 (i + 1) on the main diagonal: singular values (and, for
 * a symmetrized square, eigenvalues) within about one of 3, 6, 9, ..., distinct by a wide margin.
 */
const separated = (batch: readonly number[], m: number, n: number) =>
  floatOperand([...batch, m, n], { min: -0.5, max: 0.5 }).map((o) => {
    const data = [...o.data];
    for (let offset = 0; offset < data.length; offset += m * n) {
      for (let i = 0; i < Math.min(m, n); i++) data[offset + i * n + i] = (data[offset + i * n + i] as number) + 3 * (i + 1);
    }
    return { ...o, data };
  });

/** Batch axes (0 or 1 of them) and a matrix size. */
const batchAndSize = (minN = 1, maxN = 4) => fc.tuple(shapes(0, 1, 1, 2), fc.integer({ min: minN, max: maxN }));

/** Batch axes, and m and n. */
const batchAndShape = () => fc.tuple(shapes(0, 1, 1, 2), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }));

/** (X + X^T) / 2. */
const symmetrized = (x: Tensor): Tensor => x.add(flint.swapaxes(x, -1, -2)).mul(0.5);

const squares = (x: Tensor): Tensor => x.mul(x);

const flat = (...ts: Tensor[]): Tensor =>
  flint.concat(
    ts.map((t) => flint.reshape(t, [-1])),
    0,
  );

export const linalgSpectralCases: CompositeCase[] = [
  spectralCase(
    "linalg.eigh (eigenvalues and squared eigenvectors; uplo 'L' or 'U')",
    ['eigh'],
    batchAndSize().chain(([batch, n]) =>
      fc.tuple(separated(batch, n, n), fc.boolean()).map(([x, upper]) => ({ operands: [x], params: { upper } })),
    ),
    ([x], p) => {
      const { eigenvalues, eigenvectors } = flint.linalg.eigh(symmetrized(x as Tensor), { uplo: p.upper === true ? 'U' : 'L' });
      return flat(eigenvalues, squares(eigenvectors));
    },
  ),
  spectralCase(
    'linalg.eigvalsh',
    ['eigvalsh'],
    batchAndSize().chain(([batch, n]) => separated(batch, n, n).map((x) => ({ operands: [x] }))),
    ([x]) => flint.linalg.eigvalsh(symmetrized(x as Tensor)),
  ),
  spectralCase(
    'linalg.svd (reduced; S and the squares of U and Vh; tall, wide, square)',
    ['svd'],
    batchAndShape().chain(([batch, m, n]) => separated(batch, m, n).map((x) => ({ operands: [x] }))),
    ([x]) => {
      const { U, S, Vh } = flint.linalg.svd(x as Tensor, { fullMatrices: false });
      return flat(S, squares(U), squares(Vh));
    },
  ),
  spectralCase(
    'linalg.svd (fullMatrices; S and the determined factor)',
    ['svd'],
    batchAndShape().chain(([batch, m, n]) => separated(batch, m, n).map((x) => ({ operands: [x], params: { m, n } }))),
    ([x], p) => {
      const { U, S, Vh } = flint.linalg.svd(x as Tensor);
      // With m != n the last |m - n| columns of U (rows of Vh) are not determined by A.
      if ((p.m as number) > (p.n as number)) return flat(S, squares(Vh));
      if ((p.m as number) < (p.n as number)) return flat(S, squares(U));
      return flat(S, squares(U), squares(Vh));
    },
  ),
  spectralCase(
    'linalg.svdvals',
    ['svdvals'],
    batchAndShape().chain(([batch, m, n]) => separated(batch, m, n).map((x) => ({ operands: [x] }))),
    ([x]) => flint.linalg.svdvals(x as Tensor),
  ),
  spectralCase(
    "linalg.matrixNorm ('nuc', 2, -2)",
    ['matrixNorm'],
    batchAndShape().chain(([batch, m, n]) =>
      fc.tuple(separated(batch, m, n), fc.constantFrom('nuc', 2, -2)).map(([x, ord]) => ({ operands: [x], params: { ord } })),
    ),
    ([x], p) => flint.linalg.matrixNorm(x as Tensor, { ord: p.ord as 'nuc' | 2 | -2 }),
  ),
  spectralCase(
    'linalg.pinv (tall, wide, hermitian)',
    ['pinv'],
    batchAndShape().chain(([batch, m, n]) =>
      fc
        .tuple(separated(batch, m, n), fc.boolean())
        .map(([x, hermitian]) => ({ operands: [x], params: { hermitian: hermitian && m === n } })),
    ),
    ([x], p) => (p.hermitian === true ? flint.linalg.pinv(symmetrized(x as Tensor), { hermitian: true }) : flint.linalg.pinv(x as Tensor)),
  ),
  spectralCase(
    'linalg.lstsq (solution, residuals, singular values; matrix or vector right-hand side)',
    ['lstsq'],
    batchAndShape().chain(([batch, m, n]) =>
      fc
        .tuple(separated(batch, m, n), fc.boolean(), fc.integer({ min: 1, max: 2 }))
        .chain(([a, vector, k]) =>
          floatOperand(vector ? [...batch, m] : [...batch, m, k]).map((b) => ({ operands: [a, b], params: { m, n } })),
        ),
    ),
    ([a, b]) => {
      const { solution, residuals, singularValues } = flint.linalg.lstsq(a as Tensor, b as Tensor);
      return flat(solution, residuals, singularValues);
    },
  ),
  spectralCase(
    "linalg.cond (2, -2, 'fro', 'nuc')",
    ['cond'],
    batchAndSize().chain(([batch, n]) =>
      fc.tuple(separated(batch, n, n), fc.constantFrom(2, -2, 'fro', 'nuc')).map(([x, p]) => ({ operands: [x], params: { p } })),
    ),
    ([x], p) => flint.linalg.cond(x as Tensor, p.p as 2 | -2 | 'fro' | 'nuc'),
  ),
  spectralCase(
    'linalg.matrixExp and matrixExp (norms that need squarings)',
    ['matrixExp'],
    batchAndSize(1, 4).chain(([batch, n]) => floatOperand([...batch, n, n], { min: -2, max: 2 }).map((x) => ({ operands: [x] }))),
    ([x]) => flint.linalg.matrixExp(x as Tensor),
  ),
];
