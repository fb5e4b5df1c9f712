import { ValueError } from '../../core/errors.js';
import { concat, full, reshape } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindStopGradient } from '../../transforms/core.js';
import { add, div, equal, greater, maximum, mul, neg, sub, where } from '../elementwise.js';
import { tril, triu } from '../triangular.js';
import { householder, householderQ } from './householder.js';
import {
  type AnalyticVjp,
  columnsOf,
  diagonalOf,
  identity,
  matmul3,
  matmulNT,
  matmulTN,
  rowsOf,
  transposed,
  withAnalyticVjp,
} from './matrices.js';
import { singularValueDecomposition, symmetricEigen } from './spectral.js';

// The spectral decompositions on [B, m, n] stacks in the compute dtype, as custom calls with
// PyTorch's analytic rules for both modes (FunctionsManual.cpp: linalg_eig_backward and
// linalg_eig_jvp for the Hermitian case, svd_backward and svd_jvp, pinv_backward and pinv_jvp),
// written in ops so that higher derivatives differentiate them in turn, and so that no derivative
// ever goes through the Jacobi sweeps (whose count depends on the data). vmap runs the sweeps.
//
// Eigenvectors and singular vectors are determined only up to sign (and, for repeated values, up
// to a rotation within their space): the rules hold for functions that do not depend on that
// choice, and divide by the gaps between distinct values, so that repeated ones give infinite or
// NaN gradients (as PyTorch's).

/** [B, n] as rows [B, 1, n] or columns [B, n, 1]. */
const asRow = (x: Tensor): Tensor => reshape(x, [x.shape[0] as number, 1, x.shape[1] as number]);
const asColumn = (x: Tensor): Tensor => reshape(x, [x.shape[0] as number, x.shape[1] as number, 1]);

/** A [B, n] vector on the diagonal of a [B, n, n] stack. */
const diagonalMatrix = (d: Tensor): Tensor => mul(asRow(d), identity(d.shape[0] as number, d.shape[1] as number, d));

/** `x` with its diagonal set to zero. */
const offDiagonal = (x: Tensor): Tensor => where(equal(identity(1, x.shape[1] as number, x), 1), 0, x);

/** The [B, n, n] matrix of differences d[j] - d[i], with ones on the diagonal (so that dividing by it leaves the diagonal alone). */
function differences(d: Tensor): Tensor {
  return where(equal(identity(1, d.shape[1] as number, d), 1), 1, sub(asRow(d), asColumn(d)));
}

/** The symmetric matrix that `a`'s lower (or upper) triangle stands for. */
export function symmetricFromTriangle(a: Tensor, upper: boolean): Tensor {
  return upper ? add(triu(a), transposed(triu(a, 1))) : add(tril(a), transposed(tril(a, -1)));
}

/** What `spectralCall` takes: `withAnalyticVjp`'s op, with `values` required and the reverse-mode forward pass optional. */
type SpectralOp<Residuals> = Omit<AnalyticVjp<Residuals>, 'forward' | 'values'> & {
  /** The outputs, from the kernels (spectral.ts): where no derivative is taken, and at the bottom of every derivative. */
  readonly values: (inputs: readonly Tensor[]) => Tensor[];
  /** The residuals from the inputs and the outputs (default: the outputs). */
  readonly residuals?: (inputs: readonly Tensor[], outputs: Tensor[]) => Residuals;
  /** The reverse-mode forward pass, through differentiable calls only (default: this call itself one level down, and `residuals`). */
  readonly forward?: (inputs: readonly Tensor[]) => { readonly outputs: Tensor[]; readonly residuals: Residuals };
};

/**
 * `op` as a custom call whose reverse-mode forward pass computes the outputs (and what the rule
 * keeps) through the call itself one level down, not through the kernels' ops: a second
 * derivative then differentiates the rule's residuals by the analytic rules again. The sweeps'
 * own ops, whose count depends on the data (none at all for a matrix already diagonal), are
 * never differentiated.
 */
function spectralCall<Residuals>(op: SpectralOp<Residuals>, inputs: readonly Tensor[]): Tensor[] {
  const call = (xs: readonly Tensor[]): Tensor[] => withAnalyticVjp(analytic, xs);
  const analytic: AnalyticVjp<Residuals> = {
    ...op,
    forward:
      op.forward ??
      ((xs) => {
        const outputs = call(xs);
        return { outputs, residuals: op.residuals === undefined ? (outputs as Residuals) : op.residuals(xs, outputs) };
      }),
  };
  return call(inputs);
}

// ---- eigh ----

/**
 * Eigenvalues (ascending) and eigenvectors of the symmetric matrices that the lower (or `upper`)
 * triangles of `a` stand for. Backward (PyTorch's): gA = V (diag(gL) + skew(V^T gV) / E) V^T,
 * E_ij = L_j - L_i, skew(X) = (X - X^T) / 2: the symmetric gradient, as for `cholesky` (the
 * perturbations of A are assumed symmetric). Forward: with P = V^T dA V (dA from the triangle
 * read), dL = diag(P) and dV = V (P / E) off the diagonal.
 */
export function eighStacked(a: Tensor, upper: boolean): { values: Tensor; vectors: Tensor } {
  const [values, vectors] = spectralCall<Tensor[]>(
    {
      name: 'linalg.eigh',
      exact: false,
      values: ([a]) => {
        const { values, vectors } = symmetricEigen(symmetricFromTriangle(a as Tensor, upper));
        return [values, vectors];
      },
      backward: ([values, vectors], [gValues, gVectors]) => {
        const v = vectors as Tensor;
        let inner: Tensor | null = null;
        if (gVectors !== null && gVectors !== undefined) {
          const product = matmulTN(v, gVectors);
          inner = div(mul(sub(product, transposed(product)), 0.5), differences(values as Tensor));
        }
        if (gValues !== null && gValues !== undefined)
          inner = inner === null ? diagonalMatrix(gValues) : add(inner, diagonalMatrix(gValues));
        return [inner === null ? null : matmulNT(matmul3(v, inner), v)];
      },
      jvp: (_inputs, [values, vectors], [tangent]) => {
        const v = vectors as Tensor;
        const p = matmul3(matmulTN(v, symmetricFromTriangle(tangent as Tensor, upper)), v);
        return [diagonalOf(p), matmul3(v, offDiagonal(div(p, differences(values as Tensor))))];
      },
    },
    [a],
  ) as [Tensor, Tensor];
  return { values, vectors };
}

// ---- svd ----

interface SvdResiduals {
  /** The reduced factors: U [B, m, k], S [B, k], V [B, n, k]. */
  readonly u: Tensor;
  readonly s: Tensor;
  readonly v: Tensor;
}

/** The reduced factors of the complete ones (the first k columns). */
function reduced(u: Tensor, s: Tensor, v: Tensor): SvdResiduals {
  const k = s.shape[1] as number;
  return { u: columnsOf(u, 0, k), s, v: columnsOf(v, 0, k) };
}

/** E_ij = S_j^2 - S_i^2 off the diagonal, 1 on it. */
const squareDifferences = (s: Tensor): Tensor => differences(mul(s, s));

/**
 * PyTorch's svd_backward for the reduced factors: with skew(X) = X - X^T,
 * gA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] V^T, plus (I - U U^T) gU S^-1 V^T
 * where m > k and U S^-1 gV^T (I - V V^T) where n > k.
 */
function svdBackward({ u, s, v }: SvdResiduals, gU: Tensor | null, gS: Tensor | null, gV: Tensor | null): Tensor | null {
  const m = u.shape[1] as number;
  const n = v.shape[1] as number;
  const k = s.shape[1] as number;
  if (gU === null && gV === null) return gS === null ? null : matmulNT(mul(u, asRow(gS)), v);
  const skew = (x: Tensor) => sub(x, transposed(x));
  let inner: Tensor | null = null;
  if (gU !== null) inner = mul(skew(matmulTN(u, gU)), asRow(s));
  if (gV !== null) {
    const term = mul(asColumn(s), skew(matmulTN(v, gV)));
    inner = inner === null ? term : add(inner, term);
  }
  let core = div(inner as Tensor, squareDifferences(s));
  if (gS !== null) core = add(core, diagonalMatrix(gS));
  let left = matmul3(u, core); // [B, m, k]
  if (m > k && gU !== null) {
    const scaled = div(gU, asRow(s));
    left = add(left, sub(scaled, matmul3(u, matmulTN(u, scaled))));
  }
  let ga = matmulNT(left, v);
  if (n > k && gV !== null) {
    const scaled = div(gV, asRow(s)); // gV S^-1, [B, n, k]
    ga = add(ga, matmulNT(u, sub(scaled, matmul3(v, matmulTN(v, scaled)))));
  }
  return ga;
}

/**
 * PyTorch's svd_jvp: with P = U^T dA V, dS = diag(P), X = P off the diagonal,
 * dU = U (X S + S X^T) / E + (I - U U^T) dA V S^-1 (m > k), dV = V (S X + X^T S) / E
 * + (I - V V^T) dA^T U S^-1 (n > k).
 */
function svdJvp({ u, s, v }: SvdResiduals, da: Tensor): { du: Tensor; ds: Tensor; dv: Tensor } {
  const m = u.shape[1] as number;
  const n = v.shape[1] as number;
  const k = s.shape[1] as number;
  const p = matmul3(matmulTN(u, da), v);
  const x = offDiagonal(p);
  const e = squareDifferences(s);
  const xs = mul(x, asRow(s));
  let du = matmul3(u, div(add(xs, transposed(xs)), e));
  const sx = mul(asColumn(s), x);
  let dv = matmul3(v, div(add(sx, transposed(sx)), e));
  if (m > k) {
    const along = div(matmul3(da, v), asRow(s));
    du = add(du, sub(along, matmul3(u, matmulTN(u, along))));
  }
  if (n > k) {
    const along = div(matmulTN(da, u), asRow(s));
    dv = add(dv, sub(along, matmul3(v, matmulTN(v, along))));
  }
  return { du, ds: diagonalOf(p), dv };
}

/** Orthonormal columns completing those of `y` ([B, p, k], orthonormal, p > k) to a basis, outside differentiation. */
function completion(y: Tensor): Tensor {
  const [, p, k] = y.shape as [number, number, number];
  const fixed = bindStopGradient(y);
  return columnsOf(householderQ(householder(fixed), p, p, fixed), k, p);
}

/**
 * The SVD of every matrix of `a`: U, S (descending) and V^T, reduced or (`complete`) with the
 * square U and V^T. Differentiable for the reduced factors (PyTorch's rules); with `complete` and
 * m != n the extra columns of U (rows of V^T) are not determined by A: a cotangent for that
 * factor is a ValueError, and forward mode gives them zero tangents (as PyTorch).
 */
export function svdStacked(a: Tensor, complete: boolean): { u: Tensor; s: Tensor; vh: Tensor } {
  const [, m, n] = a.shape as [number, number, number];
  const k = Math.min(m, n);
  const [u, s, vh] = spectralCall<SvdResiduals>(
    {
      name: 'linalg.svd',
      exact: false,
      values: ([a]) => {
        const f = singularValueDecomposition(a as Tensor, true, complete);
        return [f.u as Tensor, f.s, transposed(f.v as Tensor)];
      },
      residuals: (_, [u, s, vh]) => reduced(u as Tensor, s as Tensor, transposed(vh as Tensor)),
      // Square factors of a non-square A: the determined part from the reduced SVD's call (so that
      // a second derivative reaches this call's rule only through what the user differentiates),
      // the rest an orthonormal completion, constant.
      ...(complete && m !== n
        ? {
            forward: ([a]: readonly Tensor[]) => {
              const r = svdStacked(a as Tensor, false);
              const u = m > n ? concat([r.u, completion(r.u)], 2) : r.u;
              const vh = m < n ? concat([r.vh, transposed(completion(transposed(r.vh)))], 1) : r.vh;
              return { outputs: [u, r.s, vh], residuals: reduced(r.u, r.s, transposed(r.vh)) };
            },
          }
        : {}),
      backward: (residuals, [gU, gS, gVh]) => {
        const undetermined = complete ? (m > n && gU ? 'U' : m < n && gVh ? 'Vh' : null) : null;
        if (undetermined !== null) {
          throw new ValueError(
            `linalg.svd: fullMatrices with ${m} x ${n} matrices is not differentiable with respect to ${undetermined}: its last ${Math.abs(m - n)} ${undetermined === 'U' ? 'columns are' : 'rows are'} not determined by A; use fullMatrices: false`,
          );
        }
        const gV = gVh === null || gVh === undefined ? null : transposed(rowsOf(gVh, 0, k));
        const gUReduced = gU === null || gU === undefined ? null : columnsOf(gU, 0, k);
        return [svdBackward(residuals, gUReduced, gS ?? null, gV)];
      },
      jvp: ([a], [u, s, vh], [tangent]) => {
        const { du, ds, dv } = svdJvp(reduced(u as Tensor, s as Tensor, transposed(vh as Tensor)), tangent as Tensor);
        const batch = (a as Tensor).shape[0] as number;
        const padded = (x: Tensor, total: number): Tensor =>
          total === k ? x : concat([x, full([batch, x.shape[1] as number, total - k], x.dtype, 0, x)], 2);
        return [padded(du, (u as Tensor).shape[2] as number), ds, transposed(padded(dv, (vh as Tensor).shape[1] as number))];
      },
    },
    [a],
  ) as [Tensor, Tensor, Tensor];
  return { u, s, vh };
}

/**
 * The singular values of every matrix of `a` (descending), without U and V where no derivative is
 * taken. Backward: gA = U diag(gS) V^T; forward: dS = diag(U^T dA V) (both defined at repeated
 * singular values too, where they are the derivative of any symmetric function of them).
 */
export function svdvalsStacked(a: Tensor): Tensor {
  return spectralCall<Tensor[]>(
    {
      name: 'linalg.svdvals',
      exact: false,
      values: ([a]) => [singularValueDecomposition(a as Tensor, false, false).s],
      // The vectors come from the SVD's own call, whose rule differentiates them in turn.
      forward: ([a]) => {
        const { u, s, vh } = svdStacked(a as Tensor, false);
        return { outputs: [s], residuals: [u, vh] };
      },
      backward: ([u, vh], [gS]) => [gS === null || gS === undefined ? null : matmul3(mul(u as Tensor, asRow(gS)), vh as Tensor)],
      jvp: ([a], _outputs, [tangent]) => [valuesTangent(a as Tensor, tangent as Tensor)],
    },
    [a],
  )[0] as Tensor;
}

/** diag(U^T dA V): the singular values' tangent (U and V from a differentiable SVD, for higher orders). */
function valuesTangent(a: Tensor, tangent: Tensor): Tensor {
  const { u, vh } = svdStacked(a, false);
  return diagonalOf(matmulNT(matmulTN(u, tangent), vh));
}

// ---- pinv ----

/** Which singular values `pinvStacked` inverts: those above max(atol, rtol * the largest); atol and rtol [B, 1]. */
export interface Cutoff {
  readonly atol: Tensor;
  readonly rtol: Tensor;
}

/** 1 / x where `keep`, else 0. */
const invertedWhere = (keep: Tensor, x: Tensor): Tensor => where(keep, div(1, where(keep, x, 1)), 0);

interface PinvResiduals {
  readonly a: Tensor;
  readonly p: Tensor;
  /** The reduced SVD's U and V, for the singular values' gradient (null when not returned). */
  readonly u: Tensor | null;
  readonly v: Tensor | null;
}

/** V S^+ U^T from an SVD, S^+ inverting the singular values above the cutoff. */
function pinvFromSvd(u: Tensor, s: Tensor, v: Tensor, { atol, rtol }: Cutoff): Tensor {
  const [batch, k] = s.shape as [number, number];
  const largest = k === 0 ? full([batch, 1], s.dtype, 0, s) : columnsOf(asRow(s), 0, 1);
  const keep = greater(s, maximum(atol, mul(rtol, reshape(largest, [batch, 1]))));
  return matmulNT(mul(v, asRow(invertedWhere(keep, s))), u);
}

/** V L^+ V^T from the eigendecomposition, L^+ inverting the eigenvalues above the cutoff in magnitude. */
function pinvByEigh(a: Tensor, { atol, rtol }: Cutoff): Tensor {
  const [batch, n] = a.shape as [number, number, number];
  const { values, vectors } = symmetricEigen(a);
  const magnitude = maximum(values, neg(values));
  // Ascending: the largest magnitude is at one end or the other.
  const largest = n === 0 ? full([batch, 1], a.dtype, 0, a) : maximum(entriesOf(magnitude, 0), entriesOf(magnitude, n - 1));
  const keep = greater(magnitude, maximum(atol, mul(rtol, largest)));
  return matmulNT(mul(vectors, asRow(invertedWhere(keep, values))), vectors);
}

/** Entry i of every row of a [B, n] tensor, [B, 1]. */
const entriesOf = (x: Tensor, i: number): Tensor => reshape(columnsOf(asRow(x), i, i + 1), [x.shape[0] as number, 1]);

/**
 * The pseudo-inverse of every matrix of `a`: by the SVD, or with `hermitian` by the
 * eigendecomposition of the symmetric matrix its lower triangle stands for; with `withValues`
 * (not `hermitian`) also the singular values. Backward: PyTorch's pinv_backward,
 * gA = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A), the derivative at constant rank
 * (defined where singular values repeat, unlike the SVD's; with `hermitian` not symmetrized, as
 * PyTorch's), plus
 * U diag(gS) V^T for the values; forward: dP = -P dA P + P P^T dA^T (I - A P)
 * + (I - P A) dA^T P^T P.
 */
export function pinvStacked(a: Tensor, cutoff: Cutoff, hermitian: boolean, withValues: boolean): { pinv: Tensor; s: Tensor | null } {
  const outputs = spectralCall<PinvResiduals>(
    {
      name: 'linalg.pinv',
      exact: false,
      values: ([a]) => {
        const t = a as Tensor;
        if (hermitian) return [pinvByEigh(symmetricFromTriangle(t, false), cutoff)];
        const f = singularValueDecomposition(t, true, false);
        const p = pinvFromSvd(f.u as Tensor, f.s, f.v as Tensor, cutoff);
        return withValues ? [p, f.s] : [p];
      },
      residuals: ([a], [p]) => ({
        a: hermitian ? symmetricFromTriangle(a as Tensor, false) : (a as Tensor),
        p: p as Tensor,
        u: null,
        v: null,
      }),
      // With the singular values, from the SVD's call (whose rule differentiates U and V in turn).
      ...(withValues
        ? {
            forward: ([a]: readonly Tensor[]) => {
              const { u, s, vh } = svdStacked(a as Tensor, false);
              const v = transposed(vh);
              const p = pinvFromSvd(u, s, v, cutoff);
              return { outputs: [p, s], residuals: { a: a as Tensor, p, u, v } };
            },
          }
        : {}),
      backward: ({ a, p, u, v }, [gP, gS]) => {
        let ga: Tensor | null = gP === null || gP === undefined ? null : pinvBackward(a, p, gP);
        if (gS !== null && gS !== undefined && u !== null && v !== null) {
          const term = matmulNT(mul(u, asRow(gS)), v);
          ga = ga === null ? term : add(ga, term);
        }
        return [ga];
      },
      jvp: ([a], outputs, [tangent]) => {
        const t = hermitian ? symmetricFromTriangle(a as Tensor, false) : (a as Tensor);
        const dA = hermitian ? symmetricFromTriangle(tangent as Tensor, false) : (tangent as Tensor);
        const dP = pinvJvp(t, outputs[0] as Tensor, dA);
        return withValues ? [dP, valuesTangent(t, dA)] : [dP];
      },
    },
    [a],
  );
  return { pinv: outputs[0] as Tensor, s: withValues ? (outputs[1] as Tensor) : null };
}

/** pinv_backward, for P = pinv(A): A [B, m, n], P and G [B, n, m]. */
function pinvBackward(a: Tensor, p: Tensor, g: Tensor): Tensor {
  const [batch, m, n] = a.shape as [number, number, number];
  const first = neg(matmulNT(matmulTN(p, g), p));
  const second = matmul3(matmul3(sub(identity(batch, m, a), matmul3(a, p)), transposed(g)), matmulNT(p, p));
  const third = matmul3(matmulTN(p, p), matmul3(transposed(g), sub(identity(batch, n, a), matmul3(p, a))));
  return add(add(first, second), third);
}

/** pinv_jvp: dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P. */
function pinvJvp(a: Tensor, p: Tensor, dA: Tensor): Tensor {
  const [batch, m, n] = a.shape as [number, number, number];
  const first = neg(matmul3(matmul3(p, dA), p));
  const second = matmul3(matmulNT(p, p), matmulTN(dA, sub(identity(batch, m, a), matmul3(a, p))));
  const third = matmul3(sub(identity(batch, n, a), matmul3(p, a)), matmulTN(dA, matmulTN(p, p)));
  return add(add(first, second), third);
}
