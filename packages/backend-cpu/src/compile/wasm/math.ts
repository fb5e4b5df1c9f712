import { ins } from './encoding.js';

// exp and tanh on four floats at once, for the generated SIMD kernels. Both follow Cephes' expf
// and tanhf (range reduction by ln 2 and a degree-6 polynomial; a degree-5 odd polynomial for
// small |x| and the exp form elsewhere): within a couple of float32 ulps, NaN in NaN out, and
// infinities where exp overflows, like the op-by-op kernels that call Math.exp / Math.tanh.

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
const TANH_POLY = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];

/** Horner's rule: ((c0 r + c1) r + ... + cn), leaving the value on the stack. */
function horner(c: Emitter, r: number, coefficients: readonly number[]): number[][] {
  const code: number[][] = [ins.localGet(r), c.f32(coefficients[0] as number), ins.f32x4Mul()];
  for (let i = 1; i < coefficients.length; i++) {
    code.push(c.f32(coefficients[i] as number), ins.f32x4Add());
    if (i < coefficients.length - 1) code.push(ins.localGet(r), ins.f32x4Mul());
  }
  return code;
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
    // k = round(x log2 e) by the 1.5 * 2^23 trick: adding it rounds to an integer (ties to
    // even) held in the low mantissa bits, which give k as an integer without a conversion.
    ins.localGet(xc),
    c.f32(LOG2E),
    ins.f32x4Mul(),
    c.f32(ROUNDER),
    ins.f32x4Add(),
    ins.localTee(ki),
    c.f32(ROUNDER),
    ins.f32x4Sub(),
    ins.localSet(k),
    ins.localGet(ki),
    c.i32(ROUNDER_BITS),
    ins.i32x4Sub(),
    ins.localSet(ki),
    ins.localGet(xc),
    ins.localGet(k),
    c.f32(LN2_HI),
    ins.f32x4Mul(),
    ins.f32x4Sub(),
    ins.localGet(k),
    c.f32(LN2_LO),
    ins.f32x4Mul(),
    ins.f32x4Sub(),
    ins.localSet(r),
    // p = poly(r) r^2 + r + 1
    ...horner(c, r, EXP_POLY),
    ins.localGet(r),
    ins.f32x4Mul(),
    ins.localGet(r),
    ins.f32x4Mul(),
    ins.localGet(r),
    ins.f32x4Add(),
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

/** tanh(local x) into local `out`: computed on |x|, then given x's sign (so tanh(-0) is -0). */
export function tanhInto(x: number, out: number, c: Emitter): number[][] {
  const local = () => c.local();
  const ax = local();
  const z = local();
  const e = local();
  const small = local();
  return [
    ins.localGet(x),
    ins.f32x4Abs(),
    ins.localSet(ax),
    // |x| < 0.625: |x| + |x| z P(z), z = x^2.
    ins.localGet(ax),
    ins.localGet(ax),
    ins.f32x4Mul(),
    ins.localSet(z),
    ...horner(c, z, TANH_POLY),
    ins.localGet(z),
    ins.f32x4Mul(),
    ins.localGet(ax),
    ins.f32x4Mul(),
    ins.localGet(ax),
    ins.f32x4Add(),
    ins.localSet(small),
    // Elsewhere: 1 - 2 / (exp(2|x|) + 1).
    ins.localGet(ax),
    ins.localGet(ax),
    ins.f32x4Add(),
    ins.localSet(e),
    ...expInto(e, e, c),
    c.f32(1),
    c.f32(2),
    ins.localGet(e),
    c.f32(1),
    ins.f32x4Add(),
    ins.f32x4Div(),
    ins.f32x4Sub(),
    ins.localSet(out),
    ins.localGet(small),
    ins.localGet(out),
    ins.localGet(ax),
    c.f32(0.625),
    ins.f32x4Lt(),
    ins.v128Bitselect(),
    ins.localGet(x),
    c.i32(-0x80000000),
    ins.v128And(),
    ins.v128Or(),
    ins.localSet(out),
  ];
}
