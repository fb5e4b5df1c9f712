import { ins } from './encoding.js';

// exp, tanh, log and sign on four floats at once, for the generated SIMD kernels. exp follows
// Cephes' expf (range reduction by ln 2 and a degree-6 polynomial), tanh is built on the same
// reduction as expm1, log follows Cephes' logf: within a few float32 ulps, with NaN, infinities,
// overflow, underflow, subnormals and -0 as the op-by-op kernels (Math.exp, Math.tanh, Math.log)
// give them.

/**
 * What the generators need from the kernel being built: fresh v128 locals, and constants as
 * locals set once before the loop (V8 rebuilds a v128.const inside the loop on every iteration).
 */
export interface Emitter {
  local(): number;
  f32(value: number): number[];
  i32(value: number): number[];
}

// Inputs are clamped to [-104, 89]: exp overflows to +Infinity above ln(FLT_MAX) = 88.72 and
// underflows through the denormals to 0 below -103.97, both by the final multiplications
// themselves, because 2^k is applied as two normal powers of two (k is in [-150, 128]).
const EXP_HI = 89;
const EXP_LO = -104;
const LOG2E = Math.LOG2E;
const ROUNDER = 12582912; // 1.5 * 2^23
const ROUNDER_BITS = 0x4b400000;
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;
const EXP_POLY = [1.98756915e-4, 1.39819995e-3, 8.3334519e-3, 4.16657959e-2, 1.66666655e-1, 5.00000012e-1];

/** Horner's rule: ((c0 r + c1) r + ... + cn), leaving the value on the stack. */
function horner(c: Emitter, r: number, coefficients: readonly number[]): number[][] {
  const code: number[][] = [ins.localGet(r), c.f32(coefficients[0] as number), ins.f32x4Mul()];
  for (let i = 1; i < coefficients.length; i++) {
    code.push(c.f32(coefficients[i] as number), ins.f32x4Add());
    if (i < coefficients.length - 1) code.push(ins.localGet(r), ins.f32x4Mul());
  }
  return code;
}

/**
 * The range reduction of exp and expm1: local y = k ln 2 + r with k = round(y log2 e). k is found
 * by the 1.5 * 2^23 trick: adding it rounds to an integer (ties to even) held in the low mantissa
 * bits, so local `ki` receives k + ROUNDER_BITS as integer lanes without a conversion, local `k`
 * receives k as a float, and local `r` receives y - k ln 2 with ln 2 split in two parts, so that r
 * is exact.
 */
function reduceByLn2(c: Emitter, y: number, k: number, ki: number, r: number): number[][] {
  return [
    ins.localGet(y),
    c.f32(LOG2E),
    ins.f32x4Mul(),
    c.f32(ROUNDER),
    ins.f32x4Add(),
    ins.localTee(ki),
    c.f32(ROUNDER),
    ins.f32x4Sub(),
    ins.localSet(k),
    ins.localGet(y),
    ins.localGet(k),
    c.f32(LN2_HI),
    ins.f32x4Mul(),
    ins.f32x4Sub(),
    ins.localGet(k),
    c.f32(LN2_LO),
    ins.f32x4Mul(),
    ins.f32x4Sub(),
    ins.localSet(r),
  ];
}

/** expm1(r) = r + r^2 P(r) for a reduced |r| <= ln(2)/2, left on the stack. */
function expm1Reduced(c: Emitter, r: number): number[][] {
  return [...horner(c, r, EXP_POLY), ins.localGet(r), ins.f32x4Mul(), ins.localGet(r), ins.f32x4Mul(), ins.localGet(r), ins.f32x4Add()];
}

/** 2^k for integer lanes k in [-126, 127] (a float built from its exponent bits), on the stack. */
function powerOfTwo(c: Emitter, k: number): number[][] {
  return [ins.localGet(k), c.i32(127), ins.i32x4Add(), ins.i32Const(23), ins.i32x4Shl()];
}

/** exp(local x) into local `out` (which may be x). */
export function expInto(x: number, out: number, c: Emitter): number[][] {
  const local = () => c.local();
  const xc = local();
  const k = local();
  const r = local();
  const ki = local();
  const k1 = local();
  return [
    // Clamp with the pseudo-min/max (one instruction each on x64; NaN still passes through,
    // as the first operand is returned when a comparison fails).
    ins.localGet(x),
    c.f32(EXP_HI),
    ins.f32x4Pmin(),
    c.f32(EXP_LO),
    ins.f32x4Pmax(),
    ins.localSet(xc),
    ...reduceByLn2(c, xc, k, ki, r),
    ins.localGet(ki),
    c.i32(ROUNDER_BITS),
    ins.i32x4Sub(),
    ins.localSet(ki),
    // p = expm1(r) + 1
    ...expm1Reduced(c, r),
    c.f32(1),
    ins.f32x4Add(),
    // k is split in two halves, each a normal power of two.
    ins.localGet(ki),
    ins.i32Const(1),
    ins.i32x4ShrS(),
    ins.localSet(k1),
    ...powerOfTwo(c, k1),
    ins.f32x4Mul(),
    ins.localGet(ki),
    ins.localGet(k1),
    ins.i32x4Sub(),
    ins.localSet(ki),
    ...powerOfTwo(c, ki),
    ins.f32x4Mul(),
    ins.localSet(out),
  ];
}

/**
 * tanh(local x) into local `out`, as tanh|x| = -m / (2 + m) with m = expm1(-2|x|) in (-1, 0],
 * then x's sign. expm1 uses exp's range reduction, y = k ln 2 + r: for k = 0 (|x| < 0.17) it is
 * r + r^2 P(r) itself, with no cancellation, and elsewhere (2^k - 1) + 2^k (r + r^2 P(r)), where
 * 2^k - 1 is exact. -2|x| is clamped to -88 (tanh is 1 in float32 from |x| = 9.01 on), so 2^k is
 * one power of two (0 below 2^-126, giving m = -1). The quotient is computed as (0 - m) / (2 + m)
 * so that zeros come out +0 before the sign is applied (tanh(-0) = -0), and NaN passes through.
 */
export function tanhInto(x: number, out: number, c: Emitter): number[][] {
  const local = () => c.local();
  const y = local();
  const k = local();
  const ki = local();
  const r = local();
  const t = local();
  return [
    // y = max(-2|x|, -88): the sign bit set on 2|x| (pseudo-max keeps NaN).
    ins.localGet(x),
    ins.localGet(x),
    ins.f32x4Add(),
    c.i32(-0x80000000),
    ins.v128Or(),
    c.f32(-88),
    ins.f32x4Pmax(),
    ins.localSet(y),
    ...reduceByLn2(c, y, k, ki, r),
    // q = expm1(r), left on the stack.
    ...expm1Reduced(c, r),
    // t = 2^k (k in [-127, 0]; the exponent field k + 127 is 0 for k = -127, t = 0).
    ins.localGet(ki),
    c.i32(ROUNDER_BITS - 127),
    ins.i32x4Sub(),
    ins.i32Const(23),
    ins.i32x4Shl(),
    ins.localTee(t),
    ins.f32x4Mul(),
    ins.localGet(t),
    c.f32(1),
    ins.f32x4Sub(),
    ins.f32x4Add(),
    ins.localSet(r),
    // tanh|x| = (0 - m) / (2 + m), then x's sign.
    c.f32(0),
    ins.localGet(r),
    ins.f32x4Sub(),
    c.f32(2),
    ins.localGet(r),
    ins.f32x4Add(),
    ins.f32x4Div(),
    ins.localGet(x),
    c.i32(-0x80000000),
    ins.v128And(),
    ins.v128Or(),
    ins.localSet(out),
  ];
}

// log follows Cephes' logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(x) = e ln 2 + f - f^2/2 +
// f^3 P(f) for f = m - 1, with ln 2 split in two parts so that e ln 2 adds no rounding error.
const LOG_POLY = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
  3.3333331174e-1,
];
const SQRT_HALF = Math.SQRT1_2;
const SMALLEST_NORMAL = 1.17549435e-38;

/**
 * log(local x) into local `out`: NaN for NaN and negative x, -Infinity for zeros, +Infinity for
 * +Infinity; subnormal x is scaled by 2^23 first, so it keeps its full precision.
 */
export function logInto(x: number, out: number, c: Emitter): number[][] {
  const local = () => c.local();
  const xs = local();
  const subnormal = local();
  const e = local();
  const f = local();
  const z = local();
  const small = local();
  return [
    // Subnormals (and zeros, fixed at the end) times 2^23, their exponent 23 lower.
    ins.localGet(x),
    c.f32(SMALLEST_NORMAL),
    ins.f32x4Lt(),
    ins.localSet(subnormal),
    ins.localGet(x),
    c.f32(8388608),
    ins.f32x4Mul(),
    ins.localGet(x),
    ins.localGet(subnormal),
    ins.v128Bitselect(),
    ins.localSet(xs),
    // e = biased exponent - 126 (m in [0.5, 1)), minus 23 for scaled subnormals.
    ins.localGet(xs),
    ins.i32Const(23),
    ins.i32x4ShrU(),
    c.i32(126),
    ins.i32x4Sub(),
    c.i32(23),
    ins.localGet(subnormal),
    ins.v128And(),
    ins.i32x4Sub(),
    ins.localSet(e),
    // m: the mantissa with the exponent of 0.5.
    ins.localGet(xs),
    c.i32(0x007fffff),
    ins.v128And(),
    c.i32(0x3f000000),
    ins.v128Or(),
    ins.localSet(f),
    // m < sqrt(1/2): f = 2m - 1 and e - 1 (the mask is -1); else f = m - 1.
    ins.localGet(f),
    c.f32(SQRT_HALF),
    ins.f32x4Lt(),
    ins.localSet(small),
    ins.localGet(e),
    ins.localGet(small),
    ins.i32x4Add(),
    ins.f32x4ConvertI32x4S(),
    ins.localSet(e),
    ins.localGet(f),
    ins.localGet(f),
    ins.localGet(small),
    ins.v128And(),
    ins.f32x4Add(),
    c.f32(1),
    ins.f32x4Sub(),
    ins.localSet(f),
    ins.localGet(f),
    ins.localGet(f),
    ins.f32x4Mul(),
    ins.localSet(z),
    // y = f z P(f) + e ln2_lo - z / 2; log = (f + y) + e ln2_hi.
    ...horner(c, f, LOG_POLY),
    ins.localGet(f),
    ins.f32x4Mul(),
    ins.localGet(z),
    ins.f32x4Mul(),
    ins.localGet(e),
    c.f32(LN2_LO),
    ins.f32x4Mul(),
    ins.f32x4Add(),
    ins.localGet(z),
    c.f32(0.5),
    ins.f32x4Mul(),
    ins.f32x4Sub(),
    ins.localGet(f),
    ins.f32x4Add(),
    ins.localGet(e),
    c.f32(LN2_HI),
    ins.f32x4Mul(),
    ins.f32x4Add(),
    ins.localSet(out),
    // +Infinity stays; zeros give -Infinity; NaN and negatives give NaN.
    c.f32(Number.POSITIVE_INFINITY),
    ins.localGet(out),
    ins.localGet(x),
    c.f32(Number.POSITIVE_INFINITY),
    ins.f32x4Eq(),
    ins.v128Bitselect(),
    ins.localSet(out),
    c.f32(Number.NEGATIVE_INFINITY),
    ins.localGet(out),
    ins.localGet(x),
    c.f32(0),
    ins.f32x4Eq(),
    ins.v128Bitselect(),
    ins.localSet(out),
    ins.localGet(out),
    c.f32(Number.NaN),
    ins.localGet(x),
    c.f32(0),
    ins.f32x4Ge(),
    ins.v128Bitselect(),
    ins.localSet(out),
  ];
}

/** sign(local x) into local `out`: ±1 by x's sign bit, and x itself for ±0 and NaN. */
export function signInto(x: number, out: number, c: Emitter): number[][] {
  return [
    ins.localGet(x),
    c.i32(-0x80000000),
    ins.v128And(),
    c.f32(1),
    ins.v128Or(),
    ins.localGet(x),
    ins.localGet(x),
    ins.f32x4Abs(),
    c.f32(0),
    ins.f32x4Gt(),
    ins.v128Bitselect(),
    ins.localSet(out),
  ];
}
