"""Writes special-tables.ts: the coefficients of the special functions (gamma.ts,
error-functions.ts, bessel.ts, bessel-j-y.ts, incomplete-gamma.ts), computed with mpmath at 60 digits.

Each series is the Chebyshev interpolant of a smooth function at 100-140 Chebyshev nodes on
[-1, 1], kept while the terms dropped would add up to more than 2e-17 of the function's smallest
value on the interval (1e-8 for float32's shorter series). Run from anywhere:

    python3 packages/api/src/ops/special_tables.py && npx biome format --write packages/api/src/ops/special-tables.ts
"""
import os
import struct

import mpmath as mp

mp.mp.dps = 60


def chebyshev(f, nodes):
    """c0..c(n-1) with f(t) ~ c0 + sum ck Tk(t) (c0 not halved)."""
    angles = [mp.pi * (j + mp.mpf(1) / 2) / nodes for j in range(nodes)]
    values = [f(mp.cos(a)) for a in angles]
    coefficients = [2 * mp.fsum(values[j] * mp.cos(k * angles[j]) for j in range(nodes)) / nodes for k in range(nodes)]
    coefficients[0] /= 2
    return coefficients


def fit(f, nodes=100, absolute=False):
    cs = chebyshev(f, nodes)
    samples = [mp.cos(mp.pi * (j + mp.mpf(1) / 2) / 200) for j in range(200)]
    scale = mp.mpf(1) if absolute else min(abs(f(t)) for t in samples)

    def terms(tolerance):
        n = len(cs)
        while n > 1 and mp.fsum(abs(c) for c in cs[n - 1:]) < tolerance * scale:
            n -= 1
        return n

    return cs[: terms(mp.mpf('2e-17'))], terms(mp.mpf('1e-8'))


def number(v):
    return repr(float(v)).replace('e-0', 'e-').replace('e+', 'e')


x0 = mp.findroot(mp.digamma, 1.46)


def reciprocal_gamma(shift):
    # (1/gamma(shift + z) - 1) / z, z = t / 2; its limit at z = 0 is -digamma(shift).
    return lambda t: (1 / mp.gamma(shift + t / 2) - 1) / (t / 2) if t != 0 else -mp.digamma(shift)


def erfcx_log(u):
    t = (u + 1) / 2
    if t == 0:
        return mp.log(1 / (2 * mp.sqrt(mp.pi))) / 2
    z = 2 / t - 2
    return mp.log(mp.erfc(z) * mp.exp(z * z) / t) / (1 - u)


def bessel_large(order):
    def f(t):
        if t == -1:
            return 1 / mp.sqrt(2 * mp.pi)
        x = 16 / (t + 1)
        return mp.sqrt(x) * mp.exp(-x) * mp.besseli(order, x)

    return f


def i1_small(t):
    x = 4 * t + 4
    return mp.exp(-x) * mp.besseli(1, x) / x if x != 0 else mp.mpf(1) / 2


# The Bessel functions of the first and second kind and the modified ones of the second kind
# (bessel-j-y.ts). Below 8, J0 and J1 / x are (z - j1^2)(z - j2^2) times a series in z = x^2, j1 and
# j2 their zeros there, so that they keep relative precision at the zeros; Y0 and Y1 are J0 and J1
# times log(x/2) plus series in z; beyond 8, J and Y are sqrt(2/(pi x)) (P cos(chi) -+ Q sin(chi)),
# P and x Q series in 64/x^2. K0 and K1 below 2 are I0 and I1 times log(x/2) plus series in z;
# beyond 2, sqrt(x) exp(x) K is a series in 2/x.
J0_ZEROS = [mp.besseljzero(0, k) for k in (1, 2)]
J1_ZEROS = [mp.besseljzero(1, k) for k in (1, 2)]


def bessel_small_square(t):
    """z = x^2 in [0, 64] for x in [0, 8]."""
    return 32 * (t + 1)


def j0_over_zeros(t):
    z = bessel_small_square(t)
    return mp.besselj(0, mp.sqrt(z)) / ((z - J0_ZEROS[0] ** 2) * (z - J0_ZEROS[1] ** 2))


def j1_over_zeros(t):
    z = bessel_small_square(t)
    ratio = mp.besselj(1, mp.sqrt(z)) / mp.sqrt(z) if z != 0 else mp.mpf(1) / 2
    return ratio / ((z - J1_ZEROS[0] ** 2) * (z - J1_ZEROS[1] ** 2))


def y0_regular(t):
    # Y0(x) - (2/pi) log(x/2) J0(x); its limit at 0 is 2 gamma / pi.
    z = bessel_small_square(t)
    x = mp.sqrt(z)
    return mp.bessely(0, x) - 2 / mp.pi * mp.log(x / 2) * mp.besselj(0, x) if z != 0 else 2 * mp.euler / mp.pi


def y1_regular(t):
    # (Y1(x) - (2/pi) (log(x/2) J1(x) - 1/x)) / x; its limit at 0 is (2 gamma - 1) / (2 pi).
    z = bessel_small_square(t)
    x = mp.sqrt(z)
    if z == 0:
        return (2 * mp.euler - 1) / (2 * mp.pi)
    return (mp.bessely(1, x) - 2 / mp.pi * (mp.log(x / 2) * mp.besselj(1, x) - 1 / x)) / x


def bessel_asymptotic(order, part):
    """P (part 'P') or x Q (part 'Q') at x = 8 / sqrt(u), u = (t + 1) / 2 in (0, 1]."""

    def f(t):
        u = (t + 1) / 2
        if u == 0:
            return mp.mpf(1) if part == 'P' else mp.mpf(4 * order * order - 1) / 8
        x = 8 / mp.sqrt(u)
        chi = x - (2 * order + 1) * mp.pi / 4
        j, y = mp.besselj(order, x), mp.bessely(order, x)
        scale = mp.sqrt(mp.pi * x / 2)
        if part == 'P':
            return scale * (j * mp.cos(chi) + y * mp.sin(chi))
        return x * scale * (y * mp.cos(chi) - j * mp.sin(chi))

    return f


def k_regular(order):
    """K0(x) + log(x/2) I0(x), or x (K1(x) - log(x/2) I1(x)), z = x^2 = 2 (t + 1) in [0, 4]."""

    def f(t):
        z = 2 * (t + 1)
        x = mp.sqrt(z)
        if order == 0:
            return mp.besselk(0, x) + mp.log(x / 2) * mp.besseli(0, x) if z != 0 else -mp.euler
        return x * (mp.besselk(1, x) - mp.log(x / 2) * mp.besseli(1, x)) if z != 0 else mp.mpf(1)

    return f


def k_scaled_large(order):
    """sqrt(x) exp(x) K(x), x = 2 / u for u = (t + 1) / 2 in (0, 1]."""

    def f(t):
        u = (t + 1) / 2
        if u == 0:
            return mp.sqrt(mp.pi / 2)
        x = 2 / u
        return mp.sqrt(x) * mp.exp(x) * mp.besselk(order, x)

    return f



def series_product(a, b, n):
    return [mp.fsum(a[i] * b[k - i] for i in range(k + 1)) for k in range(n)]


def series_inverse(a, n):
    r = [1 / a[0]] + [mp.mpf(0)] * (n - 1)
    for k in range(1, n):
        r[k] = -mp.fsum(a[i] * r[k - i] for i in range(1, k + 1)) / a[0]
    return r


def temme_coefficients(rows, columns):
    """d[k][n], the Taylor coefficients in eta of Temme's c_k(eta) (DLMF 8.12.6-8.12.8).

    lambda = x/a, mu = lambda - 1 and eta^2/2 = mu - log(1 + mu) (eta with mu's sign); mu(eta) by
    Lagrange inversion; c_0 = 1/mu - 1/eta and c_k = c_(k-1)'/eta + (-1)^k g_k / mu, g_k the
    coefficients of Gamma*(a) = sum g_k a^-k, whose poles at eta = 0 cancel.
    """
    with mp.workdps(80):
        m = columns + 2 * rows + 4
        # eta = mu s(mu), s = sqrt(2 (mu - log(1 + mu)) / mu^2)
        h = [mp.mpf(2) * (-1) ** k / (k + 2) for k in range(m)]
        s = [mp.mpf(1)] + [mp.mpf(0)] * (m - 1)
        for k in range(1, m):
            s[k] = (h[k] - mp.fsum(s[i] * s[k - i] for i in range(1, k))) / 2
        r = series_inverse(s, m)
        power = [mp.mpf(1)] + [mp.mpf(0)] * (m - 1)
        mu = [mp.mpf(0)] * (m + 1)
        for k in range(1, m + 1):
            power = series_product(power, r, m)
            mu[k] = power[k - 1] / k
        reciprocal_mu = series_inverse(mu[1 : m + 1], m)  # 1/mu = reciprocal_mu(eta) / eta
        exponent = [mp.mpf(0)] * (rows + 1)
        for j in range(1, rows // 2 + 2):
            if 2 * j - 1 <= rows:
                exponent[2 * j - 1] = mp.bernoulli(2 * j) / (2 * j * (2 * j - 1))
        g = [mp.mpf(1)] + [mp.mpf(0)] * rows
        for k in range(1, rows + 1):
            g[k] = mp.fsum(i * exponent[i] * g[k - i] for i in range(1, k + 1)) / k
        c = [reciprocal_mu[n + 1] for n in range(m - 1)]
        table = [c[:columns]]
        for k in range(1, rows):
            assert abs(c[1] + (-1) ** k * g[k] * reciprocal_mu[0]) < mp.mpf(10) ** -40
            c = [(i + 2) * c[i + 2] + (-1) ** k * g[k] * reciprocal_mu[i + 1] for i in range(len(c) - 2)]
            table.append(c[:columns])
        return table


# Temme's expansion serves a >= 10 with |x/a - 1| < 1/2, where |eta| <= 0.62: the terms kept are
# those with |d[k][n]| 0.62^n 10^-k above 1e-17 (float64) or 1e-8 (float32), a rectangle padded
# with zeros.
TEMME = temme_coefficients(25, 25)


def temme_block(tolerance):
    kept = [(k, n) for k in range(25) for n in range(25) if abs(TEMME[k][n]) * mp.mpf('0.62') ** n * mp.mpf(10) ** -k > tolerance]
    rows = max(k for k, _ in kept) + 1
    columns = max(n for _, n in kept) + 1
    return [[TEMME[k][n] if (k, n) in kept else 0 for n in range(columns)] for k in range(rows)]


SERIES = [
    ('RECIPROCAL_GAMMA_NEAR_1', '(1/gamma(1 + z) - 1) / z, z = t / 2 in [-0.5, 0.5]', fit(reciprocal_gamma(1))),
    ('RECIPROCAL_GAMMA_NEAR_2', '(1/gamma(2 + z) - 1) / z, z = t / 2 in [-0.5, 0.5]', fit(reciprocal_gamma(2))),
    ('DIGAMMA_OVER_ROOT', 'digamma(x) / (x - x0), x = (t + 3) / 2 in [1, 2]', fit(lambda t: mp.digamma((t + 3) / 2) / ((t + 3) / 2 - x0))),
    (
        'ERFCX_LOG',
        'log(erfcx(z) (2 + z) / 2) / (1 - u), u = 4 / (2 + z) - 1 in (-1, 1] for z >= 0 (1 - u = 2z / (2 + z))',
        fit(erfcx_log, nodes=140, absolute=True),
    ),
    ('I0E_SMALL', 'exp(-x) I0(x), t = x / 4 - 1 for x in [0, 8]', fit(lambda t: mp.exp(-(4 * t + 4)) * mp.besseli(0, 4 * t + 4))),
    ('I0E_LARGE', 'sqrt(x) exp(-x) I0(x), t = 16 / x - 1 for x >= 8', fit(bessel_large(0), nodes=140)),
    ('I1E_SMALL', 'exp(-x) I1(x) / x, t = x / 4 - 1 for x in [0, 8]', fit(i1_small)),
    ('I1E_LARGE', 'sqrt(x) exp(-x) I1(x), t = 16 / x - 1 for x >= 8', fit(bessel_large(1), nodes=140)),
    ('J0_OVER_ZEROS', 'J0(x) / ((x^2 - j1^2)(x^2 - j2^2)), j1, j2 its first zeros, t = x^2 / 32 - 1 for x in [0, 8]', fit(j0_over_zeros)),
    ('J1_OVER_ZEROS', 'J1(x) / (x (x^2 - j1^2)(x^2 - j2^2)), j1, j2 its first zeros, t = x^2 / 32 - 1 for x in [0, 8]', fit(j1_over_zeros)),
    ('Y0_REGULAR', 'Y0(x) - (2/pi) log(x/2) J0(x), t = x^2 / 32 - 1 for x in [0, 8]', fit(y0_regular, absolute=True)),
    ('Y1_REGULAR', '(Y1(x) - (2/pi) (log(x/2) J1(x) - 1/x)) / x, t = x^2 / 32 - 1 for x in [0, 8]', fit(y1_regular, absolute=True)),
    ('BESSEL_P0', 'P0(x) of J0 and Y0 beyond 8, t = 128 / x^2 - 1', fit(bessel_asymptotic(0, 'P'))),
    ('BESSEL_Q0', 'x Q0(x) of J0 and Y0 beyond 8, t = 128 / x^2 - 1', fit(bessel_asymptotic(0, 'Q'))),
    ('BESSEL_P1', 'P1(x) of J1 and Y1 beyond 8, t = 128 / x^2 - 1', fit(bessel_asymptotic(1, 'P'))),
    ('BESSEL_Q1', 'x Q1(x) of J1 and Y1 beyond 8, t = 128 / x^2 - 1', fit(bessel_asymptotic(1, 'Q'))),
    ('K0_REGULAR', 'K0(x) + log(x/2) I0(x), t = x^2 / 2 - 1 for x in [0, 2]', fit(k_regular(0), absolute=True)),
    ('K1_REGULAR', 'x (K1(x) - log(x/2) I1(x)), t = x^2 / 2 - 1 for x in [0, 2]', fit(k_regular(1), absolute=True)),
    ('K0E_LARGE', 'sqrt(x) exp(x) K0(x), t = 4 / x - 1 for x >= 2', fit(k_scaled_large(0), nodes=140)),
    ('K1E_LARGE', 'sqrt(x) exp(x) K1(x), t = 4 / x - 1 for x >= 2', fit(k_scaled_large(1), nodes=140)),
]

lines = [
    "import type { Series } from './special-support.js';",
    '',
    '// Coefficients of the special functions (ops/gamma.ts, ops/error-functions.ts, ops/bessel.ts,',
    '// ops/bessel-j-y.ts, ops/incomplete-gamma.ts),',
    '// written by special_tables.py (mpmath, 60 digits): Chebyshev series by interpolation at 100-140',
    '// Chebyshev nodes, kept while the terms dropped would add up to more than 2e-17 of the smallest',
    '// value on the interval (1e-8 for float32). The functions fitted are smooth on their intervals,',
    '// so the series converge geometrically; the variable t in [-1, 1] is given with each.',
]
for name, note, (cs, float32_terms) in SERIES:
    lines.append(f'/** {note}; float32 uses the first {float32_terms}. */')
    lines.append(f'export const {name}: Series = {{ float32Terms: {float32_terms}, coefficients: [{", ".join(number(c) for c in cs)}] }};')
B = mp.bernoulli
lines.append("/** lgamma's Stirling series: B_2k / (2k (2k - 1)), k = 1, 2, ... */")
lines.append('export const STIRLING = [' + ', '.join(number(B(2 * k) / (2 * k * (2 * k - 1))) for k in range(1, 12)) + '];')
lines.append("/** digamma's asymptotic series: B_2k / (2k), k = 1, 2, ... */")
lines.append('export const DIGAMMA_ASYMPTOTIC = [' + ', '.join(number(B(2 * k) / (2 * k)) for k in range(1, 12)) + '];')
lines.append('/** The Euler-Maclaurin tail of the Hurwitz zeta function: B_2j / (2j)!, j = 1, 2, ... */')
lines.append('export const EULER_MACLAURIN = [' + ', '.join(number(B(2 * k) / mp.factorial(2 * k)) for k in range(1, 14)) + '];')
head64 = float(x0)
head32 = struct.unpack('f', struct.pack('f', head64))[0]
lines.append('/** The positive zero of digamma, 1.46163214496836234126..., as a float64 (or float32) head and the rest. */')
lines.append(
    f'export const DIGAMMA_ZERO = {{ float64: [{repr(head64)}, {number(x0 - mp.mpf(head64))}], '
    f'float32: [{repr(head32)}, {number(x0 - mp.mpf(head32))}] }} as const;'
)
for name, tolerance in (('float64', '1e-17'), ('float32', '1e-8')):
    block = temme_block(mp.mpf(tolerance))
    if name == 'float64':
        lines.append('/**')
        lines.append(' * Temme\'s coefficients d[k][n] of the incomplete gamma function (DLMF 8.12.8): c_k(eta) = sum over n of')
        lines.append(' * d[k][n] eta^n, the rows k and columns n that matter for a >= 10, |eta| <= 0.62 (zeros elsewhere).')
        lines.append(' */')
        lines.append('export const TEMME = {')
    lines.append(f'  {name}: [' + ', '.join('[' + ', '.join(number(v) for v in row) + ']' for row in block) + '],')
lines.append('} as const;')
lines.append('/** The first two positive zeros of J0 and of J1, each as a float64 (or float32) head and the rest. */')
for name, zeros in (('J0_ZEROS', J0_ZEROS), ('J1_ZEROS', J1_ZEROS)):
    parts = []
    for z in zeros:
        h64 = float(z)
        h32 = struct.unpack('f', struct.pack('f', h64))[0]
        parts.append(f'{{ float64: [{repr(h64)}, {number(z - mp.mpf(h64))}], float32: [{repr(h32)}, {number(z - mp.mpf(h32))}] }}')
    lines.append(f'export const {name} = [{", ".join(parts)}] as const;')
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'special-tables.ts'), 'w') as out:
    out.write('\n'.join(lines) + '\n')
