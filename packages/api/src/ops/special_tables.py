"""Writes special-tables.ts: the coefficients of the special functions (gamma.ts,
error-functions.ts, bessel.ts), computed with mpmath at 60 digits.

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
]

lines = [
    "import type { Series } from './special-support.js';",
    '',
    '// Coefficients of the special functions (ops/gamma.ts, ops/error-functions.ts, ops/bessel.ts),',
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
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'special-tables.ts'), 'w') as out:
    out.write('\n'.join(lines) + '\n')
