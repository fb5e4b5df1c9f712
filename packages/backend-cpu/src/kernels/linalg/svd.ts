import { hypot } from './matrices.js';

// The SVD of one m x n matrix, m >= n (the caller transposes a wide one): Golub-Kahan
// bidiagonalization by Householder reflections, then the implicit-shift QR iteration on the
// bidiagonal (LINPACK's dsvdc, as JAMA writes it), its rotations accumulated into U and V. About
// 4 m n^2 + 8 n^3 flops with the vectors, where the composites' one-sided Jacobi dispatches some 25
// ops a round, n - 1 rounds a sweep.
//
// Every matrix is kept transposed (column j of A, U or V is row j of `at`, `ut`, `vt`): the
// reflections combine whole columns and the rotations mix pairs of them, so the loops run along
// contiguous rows.

/** What `singularValues` fills: s descending; U's columns as the rows of `ut`, V's as the rows of `vt`. */
export interface SvdWorkspace {
  /** n + 1 entries (the bidiagonal's order is at most n). */
  readonly s: Float64Array;
  readonly e: Float64Array;
  readonly work: Float64Array;
}

export function svdWorkspace(m: number, n: number): SvdWorkspace {
  return { s: new Float64Array(n + 1), e: new Float64Array(n), work: new Float64Array(m) };
}

/** QR steps allowed per singular value before giving up (two or three are usual). */
const MAX_ITERATIONS = 75;

/**
 * The singular values of A (given as `at`, n rows of m: A^T row-major; overwritten) into
 * `space.s` (descending), and with `ut` (uColumns rows of m, uColumns n or m) and `vt` (n rows of
 * n) the singular vectors: A = U diag(s) V^T, columns of U past n completing an orthonormal basis.
 * Null vectors skip their accumulation. Returns false when the QR iteration did not converge.
 */
export function singularValues(
  at: Float64Array,
  m: number,
  n: number,
  ut: Float64Array | null,
  uColumns: number,
  vt: Float64Array | null,
  space: SvdWorkspace,
): boolean {
  const { s, e, work } = space;
  s.fill(0);
  e.fill(0);
  const nct = Math.min(m - 1, n);
  const nrt = Math.max(0, Math.min(n - 2, m));
  for (let k = 0; k < Math.max(nct, nrt); k++) {
    const columnK = k * m;
    if (k < nct) {
      // The reflector zeroing column k below the diagonal; the diagonal entry into s[k].
      let norm = 0;
      for (let i = k; i < m; i++) norm = hypot(norm, at[columnK + i] as number);
      if (norm !== 0) {
        if ((at[columnK + k] as number) < 0) norm = -norm;
        for (let i = k; i < m; i++) at[columnK + i] = (at[columnK + i] as number) / norm;
        at[columnK + k] = (at[columnK + k] as number) + 1;
      }
      s[k] = -norm;
    }
    for (let j = k + 1; j < n; j++) {
      const columnJ = j * m;
      if (k < nct && s[k] !== 0) {
        let t = 0;
        for (let i = k; i < m; i++) t += (at[columnK + i] as number) * (at[columnJ + i] as number);
        t = -t / (at[columnK + k] as number);
        for (let i = k; i < m; i++) at[columnJ + i] = (at[columnJ + i] as number) + t * (at[columnK + i] as number);
      }
      // Row k, for the row reflector below.
      e[j] = at[columnJ + k] as number;
    }
    if (ut !== null && k < nct) for (let i = k; i < m; i++) ut[columnK + i] = at[columnK + i] as number;
    if (k < nrt) {
      // The reflector zeroing row k right of the superdiagonal; the superdiagonal entry into e[k].
      let norm = 0;
      for (let i = k + 1; i < n; i++) norm = hypot(norm, e[i] as number);
      if (norm !== 0) {
        if ((e[k + 1] as number) < 0) norm = -norm;
        for (let i = k + 1; i < n; i++) e[i] = (e[i] as number) / norm;
        e[k + 1] = (e[k + 1] as number) + 1;
      }
      e[k] = -norm;
      if (k + 1 < m && norm !== 0) {
        for (let i = k + 1; i < m; i++) work[i] = 0;
        for (let j = k + 1; j < n; j++) {
          const ej = e[j] as number;
          const columnJ = j * m;
          for (let i = k + 1; i < m; i++) work[i] = (work[i] as number) + ej * (at[columnJ + i] as number);
        }
        for (let j = k + 1; j < n; j++) {
          const t = -(e[j] as number) / (e[k + 1] as number);
          const columnJ = j * m;
          for (let i = k + 1; i < m; i++) at[columnJ + i] = (at[columnJ + i] as number) + t * (work[i] as number);
        }
      }
      if (vt !== null) for (let i = k + 1; i < n; i++) vt[k * n + i] = e[i] as number;
    }
  }

  // The bidiagonal of order p.
  let p = Math.min(n, m + 1);
  if (nct < n) s[nct] = at[nct * m + nct] as number;
  if (m < p) s[p - 1] = 0;
  if (nrt + 1 < p) e[nrt] = at[(p - 1) * m + nrt] as number;
  e[p - 1] = 0;

  if (ut !== null) generateU(ut, m, uColumns, nct, s);
  if (vt !== null) generateV(vt, n, nrt, e);

  const pp = p - 1;
  let iterations = 0;
  const eps = 2 ** -52;
  const tiny = 2 ** -966;
  while (p > 0) {
    if (iterations > MAX_ITERATIONS) return false;
    // kase 1: s[p - 1] and e[k - 1] negligible, k < p; 2: s[k] negligible, k < p; 3: e[k - 1]
    // negligible, k < p, s[k .. p - 1] not (a QR step); 4: e[p - 2] negligible (converged).
    let k: number;
    for (k = p - 2; k >= 0; k--) {
      if (Math.abs(e[k] as number) <= tiny + eps * (Math.abs(s[k] as number) + Math.abs(s[k + 1] as number))) {
        e[k] = 0;
        break;
      }
    }
    let kase: number;
    if (k === p - 2) {
      kase = 4;
    } else {
      let ks: number;
      for (ks = p - 1; ks > k; ks--) {
        const t = (ks !== p ? Math.abs(e[ks] as number) : 0) + (ks !== k + 1 ? Math.abs(e[ks - 1] as number) : 0);
        if (Math.abs(s[ks] as number) <= tiny + eps * t) {
          s[ks] = 0;
          break;
        }
      }
      if (ks === k) kase = 3;
      else if (ks === p - 1) kase = 1;
      else {
        kase = 2;
        k = ks;
      }
    }
    k++;

    if (kase === 1) {
      // Deflate the negligible s[p - 1].
      let f = e[p - 2] as number;
      e[p - 2] = 0;
      for (let j = p - 2; j >= k; j--) {
        const t = hypot(s[j] as number, f);
        const cs = (s[j] as number) / t;
        const sn = f / t;
        s[j] = t;
        if (j !== k) {
          f = -sn * (e[j - 1] as number);
          e[j - 1] = cs * (e[j - 1] as number);
        }
        if (vt !== null) rotate(vt, n, j, p - 1, cs, sn);
      }
    } else if (kase === 2) {
      // Split at the negligible s[k - 1].
      let f = e[k - 1] as number;
      e[k - 1] = 0;
      for (let j = k; j < p; j++) {
        const t = hypot(s[j] as number, f);
        const cs = (s[j] as number) / t;
        const sn = f / t;
        s[j] = t;
        f = -sn * (e[j] as number);
        e[j] = cs * (e[j] as number);
        if (ut !== null) rotate(ut, m, j, k - 1, cs, sn);
      }
    } else if (kase === 3) {
      // One QR step, shifted by the eigenvalue of the trailing 2 x 2 of B^T B nearer its end.
      const scale = Math.max(
        Math.abs(s[p - 1] as number),
        Math.abs(s[p - 2] as number),
        Math.abs(e[p - 2] as number),
        Math.abs(s[k] as number),
        Math.abs(e[k] as number),
      );
      const sp = (s[p - 1] as number) / scale;
      const spm1 = (s[p - 2] as number) / scale;
      const epm1 = (e[p - 2] as number) / scale;
      const sk = (s[k] as number) / scale;
      const ek = (e[k] as number) / scale;
      const b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2;
      const c = sp * epm1 * (sp * epm1);
      let shift = 0;
      if (b !== 0 || c !== 0) {
        shift = Math.sqrt(b * b + c);
        if (b < 0) shift = -shift;
        shift = c / (b + shift);
      }
      let f = (sk + sp) * (sk - sp) + shift;
      let g = sk * ek;
      // Chase the bulge down the bidiagonal.
      for (let j = k; j < p - 1; j++) {
        let t = hypot(f, g);
        let cs = f / t;
        let sn = g / t;
        if (j !== k) e[j - 1] = t;
        f = cs * (s[j] as number) + sn * (e[j] as number);
        e[j] = cs * (e[j] as number) - sn * (s[j] as number);
        g = sn * (s[j + 1] as number);
        s[j + 1] = cs * (s[j + 1] as number);
        if (vt !== null) rotate(vt, n, j, j + 1, cs, sn);
        t = hypot(f, g);
        cs = f / t;
        sn = g / t;
        s[j] = t;
        f = cs * (e[j] as number) + sn * (s[j + 1] as number);
        s[j + 1] = -sn * (e[j] as number) + cs * (s[j + 1] as number);
        g = sn * (e[j + 1] as number);
        e[j + 1] = cs * (e[j + 1] as number);
        if (ut !== null && j < m - 1) rotate(ut, m, j, j + 1, cs, sn);
      }
      e[p - 2] = f;
      iterations++;
    } else {
      // Converged: make s[k] non-negative, then move it down to its place in descending order.
      if ((s[k] as number) <= 0) {
        s[k] = (s[k] as number) < 0 ? -(s[k] as number) : 0;
        if (vt !== null) for (let i = 0; i <= pp; i++) vt[k * n + i] = -(vt[k * n + i] as number);
      }
      while (k < pp && (s[k] as number) < (s[k + 1] as number)) {
        const t = s[k] as number;
        s[k] = s[k + 1] as number;
        s[k + 1] = t;
        if (vt !== null && k < n - 1) swapRows(vt, n, k, k + 1);
        if (ut !== null && k < m - 1) swapRows(ut, m, k, k + 1);
        k++;
      }
      iterations = 0;
      p--;
    }
  }
  return true;
}

/** U's columns (rows of `ut`) from the column reflectors kept in them, accumulated backwards. */
function generateU(ut: Float64Array, m: number, uColumns: number, nct: number, s: Float64Array): void {
  for (let j = nct; j < uColumns; j++) {
    ut.fill(0, j * m, j * m + m);
    ut[j * m + j] = 1;
  }
  for (let k = nct - 1; k >= 0; k--) {
    const columnK = k * m;
    if (s[k] !== 0) {
      for (let j = k + 1; j < uColumns; j++) {
        const columnJ = j * m;
        let t = 0;
        for (let i = k; i < m; i++) t += (ut[columnK + i] as number) * (ut[columnJ + i] as number);
        t = -t / (ut[columnK + k] as number);
        for (let i = k; i < m; i++) ut[columnJ + i] = (ut[columnJ + i] as number) + t * (ut[columnK + i] as number);
      }
      for (let i = k; i < m; i++) ut[columnK + i] = -(ut[columnK + i] as number);
      ut[columnK + k] = 1 + (ut[columnK + k] as number);
      ut.fill(0, columnK, columnK + k);
    } else {
      ut.fill(0, columnK, columnK + m);
      ut[columnK + k] = 1;
    }
  }
}

/** V's columns (rows of `vt`) from the row reflectors kept in them, accumulated backwards. */
function generateV(vt: Float64Array, n: number, nrt: number, e: Float64Array): void {
  for (let k = n - 1; k >= 0; k--) {
    const columnK = k * n;
    if (k < nrt && e[k] !== 0) {
      for (let j = k + 1; j < n; j++) {
        const columnJ = j * n;
        let t = 0;
        for (let i = k + 1; i < n; i++) t += (vt[columnK + i] as number) * (vt[columnJ + i] as number);
        t = -t / (vt[columnK + k + 1] as number);
        for (let i = k + 1; i < n; i++) vt[columnJ + i] = (vt[columnJ + i] as number) + t * (vt[columnK + i] as number);
      }
    }
    vt.fill(0, columnK, columnK + n);
    vt[columnK + k] = 1;
  }
}

/** Columns a and b of a matrix kept as rows of `x` (length `length`): (a, b) <- (cs a + sn b, cs b - sn a). */
function rotate(x: Float64Array, length: number, a: number, b: number, cs: number, sn: number): void {
  const rowA = a * length;
  const rowB = b * length;
  for (let i = 0; i < length; i++) {
    const xa = x[rowA + i] as number;
    const xb = x[rowB + i] as number;
    x[rowA + i] = cs * xa + sn * xb;
    x[rowB + i] = -sn * xa + cs * xb;
  }
}

function swapRows(x: Float64Array, length: number, a: number, b: number): void {
  for (let i = 0, at = a * length, bt = b * length; i < length; i++, at++, bt++) {
    const t = x[at] as number;
    x[at] = x[bt] as number;
    x[bt] = t;
  }
}
