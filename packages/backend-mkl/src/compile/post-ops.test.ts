// The addon's post-ops against a plain JavaScript reference: random chains on random matmuls and
// convolutions (as compile/post-ops.ts hands them over, consecutive linear ops folded) must equal
// the product (or convolution) followed by the chain applied one op at a time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Addon } from '../native/addon.js';
import { loadAddon } from '../native/load.js';
import { hasExactReciprocal, linearCount, mergeLinear } from './post-ops.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: post-op tests skipped, the addon is unavailable: ${missing}`);

type Op = { kind: number; alpha: number; beta: number; layout: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant(0), alpha: fc.constantFrom(-2, 0.5, 1, 3), beta: fc.constantFrom(-1, 0, 0.25), layout: fc.constant(0) }),
  fc.record({ kind: fc.constantFrom(1, 2, 3), alpha: fc.constant(0), beta: fc.constant(0), layout: fc.constant(0) }),
  fc.record({ kind: fc.constantFrom(4, 5), alpha: fc.constant(0), beta: fc.constant(0), layout: fc.constantFrom(0, 1) }),
);

function apply(op: Op, value: number, operand: number): number {
  switch (op.kind) {
    case 0:
      return Math.fround(op.alpha * value + op.beta);
    case 1:
      return Math.max(value, 0);
    case 2:
      return Math.tanh(value);
    case 3:
      return 1 / (1 + Math.exp(-value));
    case 4:
      return Math.fround(value + operand);
    default:
      return Math.fround(value * operand);
  }
}

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));

describe.skipIf(missing !== undefined)('oneDNN post-ops', () => {
  const addon = (loaded as { addon: Addon }).addon;

  it('apply a random chain after a matmul, in order, with row and full operands', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 11 }),
        fc.array(opArbitrary, { minLength: 1, maxLength: 4 }),
        (batch, m, k, n, ops) => {
          const encoded = mergeLinear(ops.flatMap((o) => [o.kind, o.alpha, o.beta, o.layout]));
          fc.pre(linearCount(encoded) <= 1); // what planPostOps hands over
          const a = values(batch * m * k, 1);
          const b = values(batch * k * n, 2);
          const operands = ops.filter((o) => o.kind >= 4).map((o, i) => values(o.layout === 0 ? n : batch * m * n, 3 + i));
          const out = new Float32Array(batch * m * n);
          const layoutA = Int32Array.from([0, 3, batch, m, k, m * k, k, 1]);
          const layoutB = Int32Array.from([0, 3, batch, k, n, k * n, n, 1]);
          expect(addon.matmulPostOps(a, layoutA, b, layoutB, out, encoded, operands)).toBe(true);
          for (let bi = 0; bi < batch; bi++)
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let value = 0;
                for (let p = 0; p < k; p++) value += a[bi * m * k + i * k + p]! * b[bi * k * n + p * n + j]!;
                let binary = 0;
                for (const op of ops) {
                  const operand = op.kind >= 4 ? operands[binary++]! : null;
                  value = apply(op, value, operand === null ? 0 : operand[op.layout === 0 ? j : bi * m * n + i * n + j]!);
                }
                const got = out[bi * m * n + i * n + j]!;
                expect(Math.abs(got - value)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(value)));
              }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('apply a random chain after a convolution, with per-channel and full operands', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(opArbitrary, { maxLength: 3 }),
        (batch, channels, ops) => {
          const [c, h, kh] = [2, 6, 3];
          const x = values(batch * c * h * h, 4);
          const w = values(channels * c * kh * kh, 5);
          const outH = h - kh + 1;
          const size = batch * channels * outH * outH;
          const operands = ops.filter((o) => o.kind >= 4).map((o, i) => values(o.layout === 0 ? channels : size, 6 + i));
          const out = new Float32Array(size);
          const layoutX = Int32Array.from([0, 4, batch, c, h, h, c * h * h, h * h, h, 1]);
          const layoutW = Int32Array.from([0, 4, channels, c, kh, kh, c * kh * kh, kh * kh, kh, 1]);
          const params = Int32Array.from([1, 1, 1, 0, 0, 0, 0, 1, 1]);
          const encoded = mergeLinear(ops.flatMap((o) => [o.kind, o.alpha, o.beta, o.layout]));
          fc.pre(linearCount(encoded) <= 1);
          expect(addon.conv(0, x, layoutX, w, layoutW, out, params, encoded, operands)).toBe(true);
          for (let n = 0; n < batch; n++)
            for (let o = 0; o < channels; o++)
              for (let i = 0; i < outH; i++)
                for (let j = 0; j < outH; j++) {
                  let value = 0;
                  for (let ci = 0; ci < c; ci++)
                    for (let p = 0; p < kh; p++)
                      for (let q = 0; q < kh; q++)
                        value += x[((n * c + ci) * h + i + p) * h + j + q]! * w[((o * c + ci) * kh + p) * kh + q]!;
                  const at = ((n * channels + o) * outH + i) * outH + j;
                  let binary = 0;
                  for (const op of ops) {
                    const operand = op.kind >= 4 ? operands[binary++]! : null;
                    value = apply(op, value, operand === null ? 0 : operand[op.layout === 0 ? o : at]!);
                  }
                  expect(Math.abs(out[at]! - value)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(value)));
                }
        },
      ),
      { numRuns: 40 },
    );
  });

  // The cached primitive bakes the constants in, so its key must tell apart any two float32 values.
  it('keys cached primitives on the exact constants: scales equal to 6 decimals stay apart', () => {
    const [m, k, n] = [3, 4, 5];
    const a = values(m * k, 40);
    const b = values(k * n, 41);
    const layoutA = Int32Array.from([0, 3, 1, m, k, m * k, k, 1]);
    const layoutB = Int32Array.from([0, 3, 1, k, n, k * n, n, 1]);
    const product = (i: number, j: number) => {
      let value = 0;
      for (let p = 0; p < k; p++) value += a[i * k + p]! * b[p * n + j]!;
      return value;
    };
    for (const [alpha, beta] of [
      [1.5e-7, 0],
      [4.5e-7, 0],
      [1, 0.0012341],
      [1, 0.0012344],
      [1, 1.5e-7],
      [1, 4.5e-7],
    ] as const) {
      const out = new Float32Array(m * n);
      expect(addon.matmulPostOps(a, layoutA, b, layoutB, out, Float64Array.from([0, alpha, beta, 0]), [])).toBe(true);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          const expected = Math.fround(alpha) * product(i, j) + Math.fround(beta);
          expect(Math.abs(out[i * n + j]! - expected)).toBeLessThanOrEqual(1e-5 * Math.abs(expected));
        }
    }
    const x = values(16, 42);
    const w = values(4, 43);
    const layoutX = Int32Array.from([0, 4, 1, 1, 4, 4, 16, 16, 4, 1]);
    const layoutW = Int32Array.from([0, 4, 1, 1, 2, 2, 4, 4, 2, 1]);
    const params = Int32Array.from([1, 1, 1, 0, 0, 0, 0, 1, 1]);
    const outputs = [1.5e-7, 4.5e-7].map((alpha) => {
      const out = new Float32Array(9);
      expect(addon.conv(0, x, layoutX, w, layoutW, out, params, Float64Array.from([0, alpha, 0, 0]), [])).toBe(true);
      return out;
    });
    for (let i = 0; i < 9; i++) expect(outputs[1]![i]! / outputs[0]![i]!).toBeCloseTo(3, 4);
  });

  it('refuses two linear post-ops in one list with a RangeError (oneDNN 2.6 computes them wrong)', () => {
    const layout = Int32Array.from([0, 3, 1, 2, 2, 4, 2, 1]);
    const twoLinear = [Float64Array.from([0, 2, 1, 0, 0, 3, 0, 0]), Float64Array.from([0, 2, 1, 0, 1, 0, 0, 0, 0, 3, 0, 0])];
    for (const encoded of twoLinear) {
      expect(() => addon.matmulPostOps(new Float32Array(4), layout, new Float32Array(4), layout, new Float32Array(4), encoded, [])).toThrow(
        /matmulPostOps.*at most one linear/,
      );
      const layoutX = Int32Array.from([0, 4, 1, 1, 2, 2, 4, 4, 2, 1]);
      const layoutW = Int32Array.from([0, 4, 1, 1, 1, 1, 1, 1, 1, 1]);
      const params = Int32Array.from([1, 1, 1, 0, 0, 0, 0, 1, 1]);
      expect(() =>
        addon.conv(0, new Float32Array(4), layoutX, new Float32Array(1), layoutW, new Float32Array(4), params, encoded, []),
      ).toThrow(RangeError);
    }
    // One linear op among others is fine.
    const out = new Float32Array(4);
    const one = Float64Array.from([0, 2, 1, 0, 1, 0, 0, 0]);
    expect(addon.matmulPostOps(Float32Array.from([1, 0, 0, 1]), layout, Float32Array.from([1, -2, 3, -4]), layout, out, one, [])).toBe(
      true,
    );
    expect([...out]).toEqual([3, 0, 7, 0]);
  });
});

describe('post-op planning helpers', () => {
  const sign = (values: Float64Array) => [...values].map((v) => (Object.is(v, -0) ? '-0' : String(v)));

  it('folds linear ops keeping the sign of zero results, and leaves apart what one op cannot express', () => {
    // neg then neg: x again, -0 stays -0.
    expect(sign(mergeLinear([0, -1, -0, 0, 0, -1, -0, 0]))).toEqual(['0', '1', '-0', '0']);
    // x * 2 then + 0: every zero becomes +0.
    expect(sign(mergeLinear([0, 2, -0, 0, 0, 1, 0, 0]))).toEqual(['0', '2', '0', '0']);
    // x + 0 then * 3: zeros are +0, as 3 * (x + 0) gives.
    expect(sign(mergeLinear([0, 1, 0, 0, 0, 3, -0, 0]))).toEqual(['0', '3', '0', '0']);
    // x + 0 then neg: always -0 at zero, which no alpha * x + beta gives: two ops.
    expect(linearCount(mergeLinear([0, 1, 0, 0, 0, -1, -0, 0]))).toBe(2);
    // Nonzero offsets fold as before.
    expect([...mergeLinear([0, 2, 1, 0, 0, 3, 0.5, 0])]).toEqual([0, 6, 3.5, 0]);
  });

  it('takes a division as a multiplication only by an exact float32 reciprocal', () => {
    for (const c of [1, 2, -4, 0.5, 2 ** -20, 2 ** 126, 2 ** -126]) expect(hasExactReciprocal(c)).toBe(true);
    for (const c of [0, -0, 3, 0.1, 1.5, 2 ** 127 * 1.5, 2 ** -128, 2 ** 128, Number.NaN, Number.POSITIVE_INFINITY])
      expect(hasExactReciprocal(c)).toBe(false);
  });
});
