// WGSL helper functions, included into a shader only when one of its expressions names them.
//
// GPUs (SwiftShader included) flush subnormal floats to zero in arithmetic and give library
// functions a few ulps (sin/cos only absolute accuracy), while Flint documents IEEE results. So
// comparisons and sign operations work on the bits, multiplication and division rescale
// subnormal operands first, and the functions whose built-ins are too coarse (sin, cos, tan,
// asin, acos, atan, atan2, tanh, erf, log1p, expm1, pow, remainder) are written out here.

interface Helper {
  readonly code: string;
  readonly uses: readonly string[];
}

const HELPERS: Record<string, Helper> = {
  halfF: {
    uses: [],
    code: /* wgsl */ `
// float16 bit patterns (the low 16 bits of a u32 word) to and from f32, on the bits: exact
// (subnormals included, which arithmetic conversions may flush) and rounding to nearest-even,
// as Flint's CPU conversion does, on every adapter.
fn halfToFloat(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let exponent = (h >> 10u) & 0x1fu;
  let mantissa = h & 0x3ffu;
  if (exponent == 0x1fu) { return bitcast<f32>(sign | 0x7f800000u | (mantissa << 13u)); }
  if (exponent != 0u) { return bitcast<f32>(sign | ((exponent + 112u) << 23u) | (mantissa << 13u)); }
  if (mantissa == 0u) { return bitcast<f32>(sign); }
  var m = mantissa;
  var e = 113u;
  loop {
    m = m << 1u;
    e = e - 1u;
    if ((m & 0x400u) != 0u) { break; }
  }
  return bitcast<f32>(sign | (e << 23u) | ((m & 0x3ffu) << 13u));
}
fn floatToHalf(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  let sign = (bits >> 16u) & 0x8000u;
  let exponent = (bits >> 23u) & 0xffu;
  let mantissa = bits & 0x7fffffu;
  if (exponent == 0xffu) {
    if (mantissa != 0u) { return sign | 0x7e00u | (mantissa >> 13u); }
    return sign | 0x7c00u;
  }
  let e = i32(exponent) - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    let full = mantissa | 0x800000u;
    let shift = u32(14 - e);
    var half = full >> shift;
    let rest = full & ((1u << shift) - 1u);
    let halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (half & 1u) == 1u)) { half = half + 1u; }
    return sign | half;
  }
  var half = (u32(e) << 10u) | (mantissa >> 13u);
  let rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u) == 1u)) { half = half + 1u; }
  return sign | half;
}
// Rounded toward zero instead (uniform samples, which must stay below 1); finite inputs only.
fn floatToHalfTowardZero(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  let sign = (bits >> 16u) & 0x8000u;
  let e = i32((bits >> 23u) & 0xffu) - 112;
  let full = (bits & 0x7fffffu) | 0x800000u;
  if (e >= 31) { return sign | 0x7bffu; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    return sign | (full >> u32(14 - e));
  }
  return sign | (u32(e) << 10u) | ((bits & 0x7fffffu) >> 13u);
}
// An f32 result rounded to the nearest float16, as an f32 (what storing and reloading gives).
fn roundHalfF(x: f32) -> f32 { return halfToFloat(floatToHalf(x)); }
`,
  },
  bitsF: {
    uses: [],
    code: /* wgsl */ `
fn isNanF(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isInfF(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn isZeroF(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0u; }
fn signBitF(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }
// NaN and infinity must come from runtime values: a constant expression that evaluates to
// either is a shader compile error in WGSL.
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn nanF() -> f32 { return bitcast<f32>(NAN_BITS); }
fn infF() -> f32 { return bitcast<f32>(INF_BITS); }
fn withSignF(x: f32, negative: bool) -> f32 { return bitcast<f32>((bitcast<u32>(x) & 0x7fffffffu) | select(0u, 0x80000000u, negative)); }
`,
  },
  orderF: {
    uses: ['bitsF'],
    code: /* wgsl */ `
// A u32 whose unsigned order is the floats' order (-0 and +0 equal); not for NaN.
fn keyF(x: f32) -> u32 {
  var b = bitcast<u32>(x);
  if (b == 0x80000000u) { b = 0u; }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
fn lessF(a: f32, b: f32) -> bool { return !isNanF(a) && !isNanF(b) && keyF(a) < keyF(b); }
fn equalF(a: f32, b: f32) -> bool { return !isNanF(a) && !isNanF(b) && keyF(a) == keyF(b); }
// NaN propagates, as torch.maximum/minimum.
fn maxF(a: f32, b: f32) -> f32 { if (isNanF(a)) { return a; } if (isNanF(b)) { return b; } return select(b, a, keyF(a) >= keyF(b)); }
fn minF(a: f32, b: f32) -> f32 { if (isNanF(a)) { return a; } if (isNanF(b)) { return b; } return select(b, a, keyF(a) <= keyF(b)); }
`,
  },
  splitF: {
    uses: [],
    code: /* wgsl */ `
// x = m * 2^(64 * e) with m normal: subnormals are scaled up exactly from their bits, because
// arithmetic on them would flush them to zero.
struct SplitF { m: f32, e: i32 }
fn splitF(x: f32) -> SplitF {
  let b = bitcast<u32>(x);
  let magnitude = b & 0x7fffffffu;
  if (magnitude != 0u && magnitude < 0x00800000u) {
    let m = f32(magnitude) * 2.5849394142282115e-26; // 2^-85: the value times 2^64
    return SplitF(select(m, -m, (b & 0x80000000u) != 0u), -1);
  }
  return SplitF(x, 0);
}
fn scaleF(x: f32, e: i32) -> f32 {
  var r = x;
  for (var k = e; k > 0; k--) { r = r * 18446744073709551616.0; }
  for (var k = e; k < 0; k++) { r = r * 5.421010862427522e-20; }
  return r;
}
fn mulF(a: f32, b: f32) -> f32 { let x = splitF(a); let y = splitF(b); return scaleF(x.m * y.m, x.e + y.e); }
fn divF(a: f32, b: f32) -> f32 { let x = splitF(a); let y = splitF(b); return scaleF(x.m / y.m, x.e - y.e); }
`,
  },
  roundingF: {
    uses: ['bitsF'],
    code: /* wgsl */ `
// floor, ceil and round of values in (-1, 1) decided on the bits (a subnormal would read as zero).
fn floorF(x: f32) -> f32 {
  let m = bitcast<u32>(x) & 0x7fffffffu;
  if (m != 0u && m < 0x3f800000u) { return select(0.0, -1.0, signBitF(x)); }
  return floor(x);
}
fn ceilF(x: f32) -> f32 {
  let m = bitcast<u32>(x) & 0x7fffffffu;
  if (m != 0u && m < 0x3f800000u) { return withSignF(select(1.0, 0.0, signBitF(x)), signBitF(x)); }
  return ceil(x);
}
// round() in WGSL is half-to-even, as Flint documents.
fn roundF(x: f32) -> f32 {
  let m = bitcast<u32>(x) & 0x7fffffffu;
  if (m != 0u && m < 0x3f800000u) { return withSignF(select(0.0, 1.0, m > 0x3f000000u), signBitF(x)); }
  return round(x);
}
fn signF(x: f32) -> f32 {
  if (isNanF(x) || isZeroF(x)) { return x; }
  return select(1.0, -1.0, signBitF(x));
}
fn castFI(x: f32) -> i32 { if (isNanF(x)) { return 0; } return i32(x); }
`,
  },
  logF: {
    uses: ['bitsF', 'splitF'],
    code: /* wgsl */ `
// The built-in log is only specified for positive finite arguments (SwiftShader returns finite
// values for 0, negatives and infinities), so the IEEE special cases are decided first.
fn logF(x: f32) -> f32 {
  if (isNanF(x)) { return x; }
  if (isZeroF(x)) { return -infF(); }
  if (signBitF(x)) { return nanF(); }
  if (isInfF(x)) { return x; }
  let s = splitF(x);
  return log(s.m) + f32(s.e) * 44.3614195558365; // 64 ln 2
}
fn sqrtF(x: f32) -> f32 { let s = splitF(x); return sqrt(s.m) * select(1.0, 2.3283064365386963e-10, s.e < 0); } // 2^-32
`,
  },
  log1pF: {
    uses: ['bitsF'],
    code: /* wgsl */ `
// log1p(x) = 2 atanh(x / (2 + x)); near zero the odd series in s = x / (2 + x) keeps relative accuracy.
fn log1pF(x: f32) -> f32 {
  if (isNanF(x)) { return x; }
  if (x > 0.5 || x < -0.5) {
    if (x == -1.0) { return -infF(); }
    if (x < -1.0) { return nanF(); }
    if (isInfF(x)) { return x; }
    return log(1.0 + x);
  }
  let s = x / (2.0 + x);
  let s2 = s * s;
  let series = 1.0 + s2 * (0.3333333333 + s2 * (0.2 + s2 * (0.1428571429 + s2 * (0.1111111111 + s2 * (0.0909090909 + s2 * 0.0769230769)))));
  return 2.0 * s * series;
}
`,
  },
  expm1F: {
    uses: ['bitsF'],
    code: /* wgsl */ `
// Near zero a Taylor polynomial (exp(x) - 1 would cancel); elsewhere exp(x) - 1 is accurate.
fn expm1F(x: f32) -> f32 {
  if (isNanF(x)) { return x; }
  if (x > 0.5 || x < -0.5) {
    if (x < -20.0) { return -1.0; }
    return exp(x) - 1.0;
  }
  let p = 1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * (0.008333333333333333
    + x * (0.001388888888888889 + x * (0.0001984126984126984 + x * (0.0000248015873015873 + x * 0.0000027557319223985893)))))));
  return x * p;
}
`,
  },
  tanhF: {
    uses: ['bitsF', 'expm1F'],
    code: /* wgsl */ `
fn tanhF(x: f32) -> f32 {
  if (isNanF(x)) { return x; }
  let a = abs(x);
  var t = 1.0;
  if (a < 9.0) { let e = expm1F(2.0 * a); t = e / (e + 2.0); }
  return withSignF(t, signBitF(x));
}
`,
  },
  logisticF: {
    uses: [],
    code: /* wgsl */ `
fn logisticF(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
`,
  },
  trigF: {
    uses: ['bitsF'],
    code: /* wgsl */ `
// Range reduction to x = q * pi/2 + r with |r| <= pi/4, then minimax polynomials for sin and cos
// on [-pi/4, pi/4]. Below 8192, pi/4 split in three parts (products with it are exact); above,
// Payne-Hanek: x * 2/pi computed exactly enough from 2/pi's bits, so that sin(1e30) is right too.
var<private> TWO_OVER_PI: array<u32, 10> = array<u32, 10>(0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u, 0xdb629599u,
  0x3c439041u, 0xfe5163abu, 0xdebbc561u, 0xb7246e3au, 0x424dd2e0u);
struct Reduced { quadrant: u32, r: f32 }
// 32 bits of the 128-bit number in 'words' (least significant first) from bit 'at'.
fn bitsFrom(words: array<u32, 5>, at: u32) -> u32 {
  let index = at / 32u;
  let shift = at % 32u;
  if (shift == 0u) { return words[index]; }
  return (words[index] >> shift) | (words[index + 1u] << (32u - shift));
}
fn reduceLarge(a: f32) -> Reduced {
  let bits = bitcast<u32>(a);
  let e = i32(bits >> 23u) - 150; // a = m * 2^e with m a 24-bit integer
  let m = (bits & 0x7fffffu) | 0x800000u;
  // 96 bits of 2/pi from bit s (bit 1 is the first after the point); earlier bits only add
  // multiples of 4 to x * 2/pi, which do not change the quadrant.
  let s = max(1, e - 1);
  let word = u32(s - 1) / 32u;
  let shift = u32(s - 1) % 32u;
  var w: array<u32, 3>;
  for (var j = 0u; j < 3u; j++) {
    let high = TWO_OVER_PI[word + j];
    let low = TWO_OVER_PI[word + j + 1u];
    w[j] = select((high << shift) | (low >> (32u - shift)), high, shift == 0u);
  }
  // m * w in 16-bit columns (every partial product fits a u32), then carries.
  var limbs = array<u32, 6>(w[2] & 0xffffu, w[2] >> 16u, w[1] & 0xffffu, w[1] >> 16u, w[0] & 0xffffu, w[0] >> 16u);
  let m0 = m & 0xffffu;
  let m1 = m >> 16u;
  var columns: array<u32, 9>;
  for (var i = 0u; i < 9u; i++) { columns[i] = 0u; }
  for (var i = 0u; i < 6u; i++) {
    let p0 = m0 * limbs[i];
    let p1 = m1 * limbs[i];
    columns[i] = columns[i] + (p0 & 0xffffu);
    columns[i + 1u] = columns[i + 1u] + (p0 >> 16u) + (p1 & 0xffffu);
    columns[i + 2u] = columns[i + 2u] + (p1 >> 16u);
  }
  for (var i = 0u; i < 8u; i++) {
    columns[i + 1u] = columns[i + 1u] + (columns[i] >> 16u);
    columns[i] = columns[i] & 0xffffu;
  }
  let product = array<u32, 5>(columns[0] | (columns[1] << 16u), columns[2] | (columns[3] << 16u),
    columns[4] | (columns[5] << 16u), columns[6] | (columns[7] << 16u), 0u);
  // The product's bit 'point' has weight 1: two bits above it are the quadrant, 64 below the fraction.
  let point = u32(s + 95 - e);
  var quadrant = bitsFrom(product, point) & 3u;
  var high = bitsFrom(product, point - 32u);
  var low = bitsFrom(product, point - 64u);
  var negative = false;
  if (high >= 0x80000000u) {
    // A fraction above 1/2 becomes (fraction - 1) of the next quadrant, so that |r| <= pi/4.
    quadrant = (quadrant + 1u) & 3u;
    negative = true;
    high = ~high;
    low = ~low + 1u;
    if (low == 0u) { high = high + 1u; }
  }
  let fraction = f32(high) * 2.3283064365386963e-10 + f32(low) * 5.421010862427522e-20;
  let r = fraction * 1.5707963267948966;
  return Reduced(quadrant, select(r, -r, negative));
}
fn sinCosF(x: f32) -> vec2<f32> {
  if (isNanF(x) || isInfF(x)) { return vec2<f32>(nanF(), nanF()); }
  let a = abs(x);
  var quadrant: u32;
  var z: f32;
  if (a < 8192.0) {
    var j = u32(a * 1.2732395447351628);
    var y = f32(j);
    if ((j & 1u) == 1u) { j = j + 1u; y = y + 1.0; }
    quadrant = (j >> 1u) & 3u;
    z = ((a - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  } else {
    let reduced = reduceLarge(a);
    quadrant = reduced.quadrant;
    z = reduced.r;
  }
  let zz = z * z;
  let s = ((-1.9515295891e-4 * zz + 8.3321608736e-3) * zz - 1.6666654611e-1) * zz * z + z;
  let c = ((2.443315711809948e-5 * zz - 1.388731625493765e-3) * zz + 4.166664568298827e-2) * zz * zz - 0.5 * zz + 1.0;
  var sinValue: f32;
  var cosValue: f32;
  switch (quadrant) {
    case 0u: { sinValue = s; cosValue = c; }
    case 1u: { sinValue = c; cosValue = -s; }
    case 2u: { sinValue = -s; cosValue = -c; }
    default: { sinValue = -c; cosValue = s; }
  }
  if (signBitF(x)) { sinValue = -sinValue; }
  return vec2<f32>(sinValue, cosValue);
}
fn sinF(x: f32) -> f32 { return sinCosF(x).x; }
fn cosF(x: f32) -> f32 { return sinCosF(x).y; }
fn tanF(x: f32) -> f32 { let v = sinCosF(x); return v.x / v.y; }
`,
  },
  inverseTrigF: {
    uses: ['bitsF', 'splitF'],
    code: /* wgsl */ `
// Cephes' single-precision atanf and asinf (relative error about 2e-7; WGSL allows its built-ins
// 4096 ulps): a range reduction, then a short odd polynomial. Tiny arguments give themselves
// (exact to float32, and -0 and subnormals kept, which arithmetic may flush).
// atan of a >= 0 (not NaN): reduced to |t| <= tan(pi/8) around 0, pi/4 or pi/2.
fn atanPositiveF(a: f32) -> f32 {
  if (a < 1e-4) { return a; }
  var base = 0.0;
  var t = a;
  if (a > 2.414213562373095) { base = 1.5707963267948966; t = -1.0 / a; }
  else if (a > 0.41421356237309503) { base = 0.7853981633974483; t = (a - 1.0) / (a + 1.0); }
  let z = t * t;
  return base + (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * t + t;
}
fn atanF(x: f32) -> f32 {
  if (isNanF(x)) { return x; }
  if (abs(x) < 1e-4) { return x; }
  return withSignF(atanPositiveF(abs(x)), signBitF(x));
}
// asin of a in [0, 1]: above 1/2 through asin(a) = pi/2 - 2 asin(sqrt((1 - a) / 2)).
fn asinPositiveF(a: f32) -> f32 {
  if (a < 1e-4) { return a; }
  let flip = a > 0.5;
  var t = a;
  var z = a * a;
  if (flip) { z = 0.5 * (1.0 - a); t = sqrt(z); }
  let p = ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z + 1.6666752422e-1) * z * t + t;
  return select(p, 1.5707963267948966 - 2.0 * p, flip);
}
fn asinF(x: f32) -> f32 {
  if (isNanF(x)) { return x; }
  if (abs(x) > 1.0) { return nanF(); }
  if (abs(x) < 1e-4) { return x; }
  return withSignF(asinPositiveF(abs(x)), signBitF(x));
}
// acos(x) = 2 asin(sqrt((1 - x) / 2)) above 1/2, pi - 2 asin(sqrt((1 + x) / 2)) below -1/2.
fn acosF(x: f32) -> f32 {
  if (isNanF(x)) { return x; }
  if (abs(x) > 1.0) { return nanF(); }
  if (x > 0.5) { return 2.0 * asinPositiveF(sqrt(0.5 * (1.0 - x))); }
  if (x < -0.5) { return 3.141592653589793 - 2.0 * asinPositiveF(sqrt(0.5 * (1.0 + x))); }
  return 1.5707963267948966 - withSignF(asinPositiveF(abs(x)), signBitF(x));
}
// C's atan2: the signs of zeros and infinities pick the quadrant; the sign of y is the result's.
fn atan2F(y: f32, x: f32) -> f32 {
  if (isNanF(y) || isNanF(x)) { return nanF(); }
  let left = signBitF(x);
  var r = 1.5707963267948966; // y infinite and x finite, or x zero
  if (isZeroF(y) || (isInfF(x) && !isInfF(y))) {
    r = select(0.0, 3.141592653589793, left);
  } else if (isInfF(y)) {
    if (isInfF(x)) { r = select(0.7853981633974483, 2.356194490192345, left); }
  } else if (!isZeroF(x)) {
    // |y| / |x| on the bits' magnitudes (subnormals rescaled, not flushed); infinite when it overflows.
    r = atanPositiveF(divF(withSignF(y, false), withSignF(x, false)));
    if (left) { r = 3.141592653589793 - r; }
  }
  return withSignF(r, signBitF(y));
}
`,
  },
  erfF: {
    uses: ['bitsF'],
    code: /* wgsl */ `
// Below 2.5 the series erf(a) = 2/sqrt(pi) e^(-a^2) sum (2a^2)^n a / (1*3*...*(2n+1)) (positive
// terms, no cancellation); above, the continued fraction of erfc.
fn erfF(x: f32) -> f32 {
  if (isNanF(x)) { return x; }
  let a = abs(x);
  var r = 1.0;
  if (a < 2.5) {
    let a2 = a * a;
    var term = a;
    var sum = a;
    for (var n = 1; n < 80; n++) {
      term = term * (2.0 * a2) / f32(2 * n + 1);
      sum = sum + term;
      if (term < sum * 1e-8) { break; }
    }
    r = 1.1283791670955126 * exp(-a2) * sum;
  } else if (a < 4.0) {
    var f = a;
    for (var k = 50; k >= 1; k--) { f = a + f32(k) * 0.5 / f; }
    r = 1.0 - 0.5641895835477563 * exp(-a * a) / f;
  }
  return withSignF(r, signBitF(x));
}
`,
  },
  powF: {
    uses: ['bitsF', 'splitF'],
    code: /* wgsl */ `
// C99 pow: pow(x, +-0) = 1 and pow(1, y) = 1 even for NaN; negative bases need integer exponents.
fn powF(x: f32, y: f32) -> f32 {
  if (isZeroF(y) || x == 1.0) { return 1.0; }
  if (isNanF(x) || isNanF(y)) { return nanF(); }
  let negative = signBitF(x) && !isZeroF(x);
  let ax = abs(x);
  if (isInfF(y)) {
    if (ax == 1.0) { return 1.0; }
    return select(0.0, infF(), (ax > 1.0) == (y > 0.0));
  }
  // A subnormal y is not an integer, though floor would flush it to one.
  let integral = (bitcast<u32>(y) & 0x7f800000u) != 0u && floor(y) == y;
  let odd = integral && abs(y) < 16777216.0 && fract(y * 0.5) != 0.0;
  var r: f32;
  if (isZeroF(x)) {
    r = select(0.0, infF(), signBitF(y));
  } else if (isInfF(x)) {
    r = select(infF(), 0.0, signBitF(y));
  } else if (negative && !integral) {
    return nanF();
  } else {
    let s = splitF(ax);
    r = exp2(y * (log2(s.m) + f32(s.e) * 64.0));
  }
  return withSignF(r, signBitF(x) && odd);
}
`,
  },
  powI: {
    uses: [],
    code: /* wgsl */ `
// Integer power with two's-complement wrap-around; negative exponents truncate 1/a^|b| toward zero.
fn powI(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(1, -1, (b & 1) != 0); }
    return 0;
  }
  var result = 1;
  var base = a;
  var e = b;
  while (e > 0) {
    if ((e & 1) != 0) { result = result * base; }
    base = base * base;
    e = e >> 1u;
  }
  return result;
}
fn powU(a: u32, b: u32) -> u32 {
  var result = 1u;
  var base = a;
  var e = b;
  while (e > 0u) {
    if ((e & 1u) != 0u) { result = (result * base) & 255u; }
    base = (base * base) & 255u;
    e = e >> 1u;
  }
  return result;
}
`,
  },
  remainderF: {
    uses: ['bitsF', 'splitF'],
    code: /* wgsl */ `
// |a| mod |b| on the bits by long division of the significands: exact, subnormals included
// (a floating-point a - b * trunc(a / b) is not). Arguments finite, b nonzero.
fn fmodBits(ua: u32, ub: u32) -> u32 {
  if (ua < ub) { return ua; }
  var ea = i32(ua >> 23u);
  var eb = i32(ub >> 23u);
  var ma = (ua & 0x7fffffu) | 0x800000u;
  var mb = (ub & 0x7fffffu) | 0x800000u;
  if (ea == 0) { ma = ua; ea = 1; while (ma < 0x800000u) { ma = ma << 1u; ea = ea - 1; } }
  if (eb == 0) { mb = ub; eb = 1; while (mb < 0x800000u) { mb = mb << 1u; eb = eb - 1; } }
  for (; ea > eb; ea--) {
    if (ma >= mb) { ma = ma - mb; }
    if (ma == 0u) { return 0u; }
    ma = ma << 1u;
  }
  if (ma >= mb) { ma = ma - mb; }
  if (ma == 0u) { return 0u; }
  while (ma < 0x800000u) { ma = ma << 1u; ea = ea - 1; }
  if (ea >= 1) { return (u32(ea) << 23u) | (ma & 0x7fffffu); }
  return ma >> u32(1 - ea);
}
// C's fmod: the sign of a; NaN for b = 0 or infinite a.
fn fmodF(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a) & 0x7fffffffu;
  let ub = bitcast<u32>(b) & 0x7fffffffu;
  if (isNanF(a) || isNanF(b) || ua == 0x7f800000u || ub == 0u) { return nanF(); }
  if (ub == 0x7f800000u) { return a; }
  return bitcast<f32>(fmodBits(ua, ub) | (bitcast<u32>(a) & 0x80000000u));
}
// Python's %: the sign of the divisor.
fn remainderF(a: f32, b: f32) -> f32 {
  var r = fmodF(a, b);
  if (!isZeroF(r) && !isNanF(r) && signBitF(r) != signBitF(b)) { r = r + b; }
  return r;
}
// floor(a / b) from the exact remainder: (a - fmod(a, b)) / b is an integer up to rounding.
fn floorDivideF(a: f32, b: f32) -> f32 {
  if (isNanF(a) || isNanF(b)) { return nanF(); }
  if (isZeroF(b) || isInfF(a) || isInfF(b)) { return floor(divF(a, b)); }
  let r = fmodF(a, b);
  var q: f32;
  if (isZeroF(r)) { q = round(divF(a, b)); } else { q = round(divF(a - r, b)); }
  if (!isZeroF(r) && signBitF(r) != signBitF(b)) { q = q - 1.0; }
  return q;
}
`,
  },
  remainderI: {
    uses: [],
    code: /* wgsl */ `
fn remainderI(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  var r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) { r = r + b; }
  return r;
}
fn floorDivideI(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  var q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) { q = q - 1; }
  return q;
}
fn divideI(a: i32, b: i32) -> i32 { if (b == 0) { return 0; } return a / b; }
fn divideU(a: u32, b: u32) -> u32 { if (b == 0u) { return 0u; } return a / b; }
fn remainderU(a: u32, b: u32) -> u32 { if (b == 0u) { return 0u; } return a % b; }
`,
  },
};

/** The WGSL source of the named helpers and everything they use, each once, dependencies first. */
export function helperSource(names: Iterable<string>): string {
  const ordered: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const helper = HELPERS[name];
    if (helper === undefined) throw new Error(`unknown WGSL helper '${name}'`);
    for (const used of helper.uses) visit(used);
    ordered.push(helper.code);
  };
  for (const name of names) visit(name);
  return ordered.join('');
}
