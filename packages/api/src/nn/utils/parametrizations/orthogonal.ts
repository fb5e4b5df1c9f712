import { noGrad } from '../../../autograd/grad-mode.js';
import { ShapeError, ValueError } from '../../../core/errors.js';
import { formatShape, type Shape, shapesEqual } from '../../../core/shape.js';
import { finfo } from '../../../core/type-info.js';
import { broadcastTo, cast } from '../../../ops/broadcast.js';
import { clone } from '../../../ops/clone.js';
import { eye, zeros } from '../../../ops/creation.js';
import { add, div, mul, sign, sub } from '../../../ops/elementwise.js';
import { matmul } from '../../../ops/linalg.js';
import { qr } from '../../../ops/linalg-decompositions.js';
import { matrixExp } from '../../../ops/linalg-matrix-exp.js';
import { solve } from '../../../ops/linalg-solvers.js';
import { concat, narrow, swapaxes, unsqueeze } from '../../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../../ops/options-argument.js';
import { allclose } from '../../../ops/predicates.js';
import { sum } from '../../../ops/reduce.js';
import { diagonal, tril } from '../../../ops/triangular.js';
import { randn } from '../../../random/generator.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { backendOption } from '../../layers/recurrent-cells.js';
import { type AnyModule, Module } from '../../module.js';
import { registerParametrization } from '../parametrize.js';
import { currentValue } from './current-value.js';

// Orthogonal parametrization (torch.nn.utils.parametrizations.orthogonal, with its default
// use_trivialization=True): the weight [..., n, k] is `base · map(X)`, with `map` taking any
// matrix X to an orthogonal one (the matrix exponential or Cayley's retraction of the
// skew-symmetric part of X's lower triangle, or a product of Householder reflections from X's
// strictly lower triangle), and `base` an orthogonal buffer: the weight orthogonalized at registration (and at every
// assignment), so that X starts at the map's preimage of the identity. Gradient steps on X move
// the weight along the orthogonal group around `base` ("dynamic trivialization"). A wide weight
// (n < k) is handled transposed, as torch does.

/** The maps from matrices to orthogonal ones (PyTorch's names). */
export type OrthogonalMap = 'matrix_exp' | 'cayley' | 'householder';

/** Options of orthogonal. */
export interface OrthogonalOptions {
  /** The parameter to parametrize (default 'weight'). */
  readonly name?: string;
  /** 'matrix_exp' (the default for square weights), 'cayley', or 'householder' (the default for the others). */
  readonly orthogonalMap?: OrthogonalMap;
}

const transposeLast = (x: Tensor): Tensor => swapaxes(x, -2, -1);

/**
 * `H_1 H_2 ... H_k` restricted to its first k columns, `H_i = I - tau_i v_i v_iᵀ`, v_i column i
 * of `a` [..., n, k] below the diagonal with a 1 on it (torch.linalg.householder_product for a
 * strictly lower triangular `a`), applied to the identity's first k columns from the right, one
 * rank-1 update per reflector, so that its derivatives come from matmuls.
 */
function householderProduct(a: Tensor, tau: Tensor): Tensor {
  const n = a.shape[a.ndim - 2] as number;
  const k = a.shape[a.ndim - 1] as number;
  const options = { dtype: a.dtype, ...backendOption(a) };
  const identity = eye(n, options);
  let product = broadcastTo(eye(n, k, options), a.shape);
  for (let i = k - 1; i >= 0; i--) {
    const v = add(narrow(a, -1, i, 1), narrow(identity, -1, i, 1));
    const scale = unsqueeze(narrow(tau, -1, i, 1), -1);
    product = sub(product, mul(scale, matmul(v, matmul(transposeLast(v), product))));
  }
  return product;
}

/** The Q of A = QR with R's diagonal positive (torch's _make_orthogonal). */
function makeOrthogonal(a: Tensor): Tensor {
  const { Q, R } = qr(a);
  return mul(Q, unsqueeze(sign(diagonal(R, 0, -2, -1)), -2));
}

/** Whether Qᵀ Q is the identity to 10 n ε (torch's _is_orthogonal). */
function isOrthogonal(q: Tensor): boolean {
  const n = q.shape[q.ndim - 2] as number;
  const k = q.shape[q.ndim - 1] as number;
  const gram = matmul(transposeLast(q), q);
  return allclose(gram, eye(k, { dtype: q.dtype, ...backendOption(q) }), { atol: 10 * n * finfo(q.dtype).eps });
}

/** The orthogonal parametrization: forward(X) = base · map(X); rightInverse(Q) orthogonalizes Q into `base` and returns map's preimage of the identity. */
export class Orthogonal extends Module<[Tensor], Tensor> {
  readonly orthogonalMap: OrthogonalMap;
  readonly #shape: Shape;

  constructor(weight: Tensor, orthogonalMap: OrthogonalMap) {
    super();
    if (weight.ndim < 2)
      throw new ShapeError(`orthogonal: expected a matrix or a batch of matrices, got shape ${formatShape(weight.shape)}`);
    if (orthogonalMap !== 'matrix_exp' && orthogonalMap !== 'cayley' && orthogonalMap !== 'householder') {
      throw new ValueError(
        `orthogonal: orthogonalMap must be 'matrix_exp', 'cayley' or 'householder', got ${JSON.stringify(orthogonalMap)}`,
      );
    }
    this.orthogonalMap = orthogonalMap;
    this.#shape = [...weight.shape];
    this.registerBuffer('base', null);
  }

  forward(x: Tensor): Tensor {
    const transposed = (x.shape[x.ndim - 2] as number) < (x.shape[x.ndim - 1] as number);
    const tall = transposed ? transposeLast(x) : x;
    const n = tall.shape[tall.ndim - 2] as number;
    const k = tall.shape[tall.ndim - 1] as number;
    let q: Tensor;
    if (this.orthogonalMap !== 'householder') {
      // exp(A), or (I + A/2)(I - A/2)^-1, of the skew-symmetric A built from the lower triangle, embedded square.
      let lower = tril(tall);
      if (n !== k) lower = concat([lower, zeros([...lower.shape.slice(0, -1), n - k], { dtype: x.dtype, ...backendOption(x) })], -1);
      const skew = sub(lower, transposeLast(lower));
      if (this.orthogonalMap === 'matrix_exp') q = matrixExp(skew);
      else {
        const identity = eye(n, { dtype: x.dtype, ...backendOption(x) });
        q = solve(sub(identity, mul(skew, 0.5)), add(identity, mul(skew, 0.5)));
      }
      if (n !== k) q = narrow(q, -1, 0, k);
    } else {
      const reflectors = tril(tall, -1);
      const tau = div(2, add(1, sum(mul(reflectors, reflectors), -2)));
      // As torch: X's diagonal, truncated to an integer (±1 at the start), sets each column's sign, without a derivative.
      const signs = cast(cast(diagonal(tall, 0, -2, -1), 'int32'), x.dtype);
      q = mul(householderProduct(reflectors, tau), unsqueeze(signs, -2));
    }
    q = matmul(this.getBuffer('base'), q);
    return transposed ? transposeLast(q) : q;
  }

  /**
   * Sets `base` to `q` orthogonalized (completed with random columns to a square matrix when
   * `q` is not square) and returns -I, which every map takes to I, so that the weight is `q` when
   * `q` is orthogonal. Not differentiable (torch's right_inverse runs under no_grad).
   */
  rightInverse(q: Tensor): Tensor {
    if (!shapesEqual(q.shape, this.#shape)) {
      throw new ShapeError(
        `orthogonal: expected a matrix or a batch of matrices of shape ${formatShape(this.#shape)}, got ${formatShape(q.shape)}`,
      );
    }
    return noGrad(() => {
      const transposed = (q.shape[q.ndim - 2] as number) < (q.shape[q.ndim - 1] as number);
      const tall = transposed ? transposeLast(q) : q;
      const n = tall.shape[tall.ndim - 2] as number;
      const k = tall.shape[tall.ndim - 1] as number;
      const options = { dtype: q.dtype, ...backendOption(q) };
      let base: Tensor;
      if (n === k) base = isOrthogonal(tall) ? clone(tall) : makeOrthogonal(tall);
      else base = makeOrthogonal(concat([tall, randn([...tall.shape.slice(0, -1), n - k], options)], -1));
      this.setBuffer('base', base);
      const rows = q.shape[q.ndim - 2] as number;
      const columns = q.shape[q.ndim - 1] as number;
      return broadcastTo(mul(eye(rows, columns, options), -1), q.shape);
    });
  }

  override extraRepr(): string {
    return `orthogonalMap='${this.orthogonalMap}'`;
  }
}

/**
 * Makes `module`'s parameter `name` orthogonal (torch's parametrizations.orthogonal): a matrix
 * (or each matrix of a batch [..., n, k]) with orthonormal columns, or rows when wide. The weight
 * starts as itself orthogonalized (completed at random when not square), and training moves it
 * along the orthogonal matrices. `parametrizations.weight.original` is what the optimizer trains;
 * `parametrizations.weight.0.base` is a buffer. Returns the module.
 *
 * @example
 * const layer = nn.utils.parametrizations.orthogonal(new nn.Linear(8, 8));
 * layer.weight.value.matmul(layer.weight.value.transpose()); // the identity, to rounding
 */
export const orthogonal = withCheckedOptions(
  'orthogonal',
  optionsSignature<OrthogonalOptions>(2, { name: true, orthogonalMap: true }),
  <M extends AnyModule>(module: M, options: OrthogonalOptions = {}): M => {
    const name = options.name ?? 'weight';
    const weight = currentValue('orthogonal', module, name);
    const square = weight.ndim >= 2 && weight.shape[weight.ndim - 2] === weight.shape[weight.ndim - 1];
    const map = options.orthogonalMap ?? (square ? 'matrix_exp' : 'householder');
    // As torch, unsafe: the original (the map's argument) need not be orthogonal itself.
    return registerParametrization(module, name, new Orthogonal(weight, map), { unsafe: true });
  },
);
