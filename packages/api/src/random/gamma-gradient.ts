import { type TensorLike, toTensor } from '../ops/convert.js';
import { zerosLike } from '../ops/creation.js';
import { add, div, exp, greaterEqual, log, minimum, mul, neg, reciprocal, square, sub, where } from '../ops/elementwise.js';
import { digamma } from '../ops/gamma.js';
import { unsqueeze } from '../ops/movement.js';
import { cumsum, sum } from '../ops/reduce.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindCustomJvp, bindCustomVjp } from '../transforms/core.js';
import type { CustomJvpCall, CustomVjpCall } from '../transforms/custom-call.js';
import { forwardModeTraces } from '../transforms/jvp-trace.js';

// The implicit reparameterization gradient of gamma samples (Figurnov, Mohamed and Mnih,
// "Implicit reparameterization gradients", 2018; torch's _standard_gamma_grad, JAX's
// random_gamma_grad). A sample x of Gamma(a, 1) is F^-1(u; a) for a uniform u, F(x; a) = P(a, x)
// the regularized lower incomplete gamma function; holding u fixed,
//   dx/da = -(dP/da)(a, x) / f(x; a),   f the density.
// The samplers work in log space, so the rule here is d log x / da = (dx/da) / x, which stays
// finite where x underflows (small a).
//
// PyTorch approximates the derivative (a Taylor series, a saddle-point expansion, a rational fit:
// about 1e-4 relative). Here it is computed from two series whose terms all have one sign, so
// nothing cancels, each where it converges within a fixed number of terms (measured against
// mpmath's derivative of P to within 1e-12 relative in float64 for a in [1e-3, 1e3]):
//
// - x < a + 1, P's series P = x^a e^-x / Γ(a + 1) sum_n t_n, t_n = prod_{k<=n} x / (a + k):
//   its derivative over f is  d log x / da = -(1/a) sum_n t_n (log x - ψ(a + n + 1)),
//   every term negative (log x < ψ(a + 1) there). The prefactors cancel with the density's,
//   so only log x is needed. ψ(a + n + 1) = ψ(a + 1) + sum_{k<=n} 1/(a + k), a cumulative sum.
// - x >= a + 1, Legendre's continued fraction Γ(a, x) = x^a e^-x C(a, x):
//   d log x / da = (dQ/da) / (x f) = (log x - ψ(a)) C + dC/da, both terms positive, C and dC/da
//   carried together (dual numbers) through the fraction's backward recurrence.

/** Terms of P's series (a = 1000 at x = a + 1 needs 256 for float64's precision). */
const SERIES_TERMS = 256;
/** Depth of the continued fraction (96 holds float64's precision at x = a + 1 for a up to 1000). */
const FRACTION_DEPTH = 96;

/** The constant vector [1, 2, ..., n] in `like`'s dtype, on its backend. */
function counting(n: number, like: Tensor): Tensor {
  return toTensor(
    'gamma gradient',
    Array.from({ length: n }, (_, i) => i + 1),
    like.dtype,
    like,
  );
}

/** d log x / da by P's series, for x < a + 1 (logX clamped there by the caller). */
function bySeries(logX: Tensor, a: Tensor): Tensor {
  const shifted = add(unsqueeze(a, -1), counting(SERIES_TERMS - 1, a)); // a + k, k = 1 .. N - 1
  const logTerms = cumsum(sub(unsqueeze(logX, -1), log(shifted)), -1); // log t_k
  const harmonic = cumsum(reciprocal(shifted), -1); // ψ(a + k + 1) - ψ(a + 1)
  const first = sub(logX, digamma(add(a, 1))); // log x - ψ(a + 1), the n = 0 term
  const rest = sum(mul(exp(logTerms), sub(unsqueeze(first, -1), harmonic)), -1);
  return neg(div(add(first, rest), a));
}

/** d log x / da by the continued fraction, for x >= a + 1 (x clamped there by the caller). */
function byContinuedFraction(logX: Tensor, x: Tensor, a: Tensor): Tensor {
  const gap = sub(x, a);
  // v = n (n - a) / (gap + 2n + 1 - v_{n+1}) from the tail (v = 0), with dv = dv/da beside it.
  let v = zerosLike(gap);
  let dv = zerosLike(gap);
  for (let n = FRACTION_DEPTH; n >= 1; n--) {
    const numerator = mul(sub(n, a), n);
    const denominator = sub(add(gap, 2 * n + 1), v);
    // d numerator = -n; d denominator = -1 - dv.
    const next = div(numerator, denominator);
    dv = div(add(mul(next, add(dv, 1)), -n), denominator);
    v = next;
  }
  const denominator = sub(add(gap, 1), v);
  const c = reciprocal(denominator);
  const dc = mul(add(dv, 1), square(c)); // -(d denominator) c², d denominator = -1 - dv
  return add(mul(sub(logX, digamma(a)), c), dc);
}

/**
 * d log x / da for x = exp(logX) a sample of Gamma(a, 1), elementwise (logX and a of one shape
 * and floating dtype).
 */
export function logGammaSampleDerivative(logX: Tensor, a: Tensor): Tensor {
  return tidy(() => {
    const threshold = log(add(a, 1));
    const upper = greaterEqual(logX, threshold);
    const series = bySeries(minimum(logX, threshold), a);
    const fraction = byContinuedFraction(where(upper, logX, threshold), exp(where(upper, logX, threshold)), a);
    return where(upper, fraction, series);
  });
}

/**
 * `logSample` (log Gamma(a, 1) samples drawn from a with its gradient stopped), with the implicit
 * reparameterization derivative d logSample / da = logGammaSampleDerivative(logSample, a), in
 * reverse mode (a customVjp call) and forward mode (a customJvp call). The rule reads the traced
 * output, so higher derivatives differentiate it in turn.
 */
export function withGammaSampleGradient(a: Tensor, logSample: Tensor): Tensor {
  return call(a, logSample);
}

const fn = (inputs: readonly Tensor[]): Tensor[] => [mul(inputs[1] as Tensor, 1)];

function call(a: Tensor, logSample: Tensor): Tensor {
  const inputs = [a, logSample];
  return (inputs.some(forwardModeTraces) ? bindCustomJvp(jvpCall, inputs) : bindCustomVjp(vjpCall, inputs))[0] as Tensor;
}

const vjpCall: CustomVjpCall = {
  name: 'random.gamma (implicit reparameterization)',
  differentiateFnInForwardMode: false,
  fn,
  fwd: (inputs) => {
    const [a, logSample] = inputs as [Tensor, Tensor];
    const y = call(a, logSample);
    return { outputs: [y], residuals: [a, y] };
  },
  bwd: (residuals, cotangents) => {
    const [a, y] = residuals as [Tensor, Tensor];
    const g = cotangents[0] as Tensor;
    // The sample itself is a constant (drawn from a with its gradient stopped): g passes through.
    return tidy(() => [mul(g, logGammaSampleDerivative(y, a)), g]);
  },
};

const jvpCall: CustomJvpCall = {
  name: 'random.gamma (implicit reparameterization)',
  fn,
  jvp: (primals, tangents) => {
    const [a, logSample] = primals as [Tensor, Tensor];
    const y = call(a, logSample);
    return { outputs: [y], tangents: [tidy(() => add(mul(tangents[0] as Tensor, logGammaSampleDerivative(y, a)), tangents[1] as Tensor))] };
  },
};

/** @internal For the tests: the derivative on given samples (x, not log x) and concentrations. */
export function gammaSampleDerivative(x: TensorLike, a: TensorLike): Tensor {
  return tidy(() => {
    const xs = toTensor('gammaSampleDerivative', x);
    const as = toTensor('gammaSampleDerivative', a, xs.dtype, xs);
    return mul(xs, logGammaSampleDerivative(log(xs), as));
  });
}
