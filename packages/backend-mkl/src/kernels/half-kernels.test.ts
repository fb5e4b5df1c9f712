import '@flint/backend-cpu';
import { bind, encodeHalf, type HalfDType, initBackend, Primitive, primitiveName, type Tensor, tensor } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type MklBackend } from '../index.js';

// float16 and bfloat16 elementwise ops, casts, where, reductions and copies in the addon
// (native/half.h): each element decoded to float32, computed, rounded once on store, as the
// portable kernels compute them. Checked against the portable backend bit for bit where float32
// arithmetic is exact (the basic operations, casts, moves), within one half ulp where the float32
// result itself may differ by an ulp (transcendental functions, sums in another order).

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;

/** Values that tell conversions apart: ties, overflow, subnormals, NaN, infinities, signed zeros. */
const SPECIAL = [
  0,
  -0,
  1,
  -1,
  0.1,
  -2.5,
  3.75,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  1 + 2 ** -8,
  1 + 3 * 2 ** -8,
  65504,
  65519,
  65520,
  -70000,
  6e-8,
  3e-8,
  -1e-7,
  1e-40,
  3e38,
  2 ** -14,
  1000.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];
/** Past every size below which an op takes the portable kernel (NATIVE_MIN in context.ts). */
const SIZE = 4096;

/** SPECIAL, then spread values (seeded), SIZE in all. */
function values(seed: number): Float32Array {
  const out = new Float32Array(SIZE);
  let state = seed;
  for (let i = 0; i < SIZE; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const spread = (state / 2 ** 32) * 8 - 4;
    out[i] = i % 7 === 0 ? (SPECIAL[(i / 7) % SPECIAL.length] as number) : spread * (i % 3 === 0 ? 100 : 1);
  }
  return out;
}

/** The same half tensor on mkl and on cpu, from the same bits. */
function pair(dtype: HalfDType, seed: number, shape: number[] = [SIZE / 4, 4]): [Tensor, Tensor] {
  const bits = encodeHalf(dtype, values(seed));
  return [tensor(bits, { shape, dtype, backend: 'mkl' }), tensor(bits.slice(), { shape, dtype, backend: 'cpu' })];
}

/** One half ulp of `value` in `dtype` (relative, with the subnormal floor). */
function ulp(dtype: HalfDType, value: number): number {
  const mantissaBits = dtype === 'float16' ? 10 : 7;
  const floor = dtype === 'float16' ? 2 ** -24 : 2 ** -133;
  return Math.max(floor, 2 ** (Math.floor(Math.log2(Math.abs(value) || floor)) - mantissaBits));
}

describe.skipIf(missing !== undefined)('mkl float16 and bfloat16 kernels in the addon', () => {
  let mkl: MklBackend;
  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
  });

  /**
   * Runs `primitive` on both backends; checks that the addon ran it and that the results agree,
   * exactly (ulps = 0: Object.is, so -0 and NaN count) or within `ulps` of the result dtype.
   */
  function agree(primitive: Primitive, inputs: [Tensor, Tensor][], params: object, ulps = 0): void {
    const before = mkl.nativeRuns(primitive);
    const fast = bind(primitive, inputs.map(([m]) => m) as never, params as never);
    const reference = bind(primitive, inputs.map(([, c]) => c) as never, params as never);
    const name = primitiveName(primitive);
    expect(mkl.nativeRuns(primitive), `${name} ran in the addon`).toBe(before + 1);
    expect(fast.dtype).toBe(reference.dtype);
    const got = fast.dataSync();
    const want = reference.dataSync();
    expect(got.length).toBe(want.length);
    let first = -1;
    for (let i = 0; i < got.length && first < 0; i++) {
      const [g, w] = [got[i] as number, want[i] as number];
      const close = Object.is(g, w) || (ulps > 0 && Number.isFinite(w) && Math.abs(g - w) <= ulps * ulp(fast.dtype as HalfDType, w));
      if (!close) first = i;
    }
    const inputs_ = inputs.map(([, c]) => c.dataSync()[first]).join(', ');
    expect(
      first < 0
        ? 'agree'
        : `${name} element ${first}: ${Object.is(got[first], -0) ? '-0' : got[first]} instead of ${Object.is(want[first], -0) ? '-0' : want[first]} (inputs ${inputs_})`,
    ).toBe('agree');
  }

  for (const dtype of ['float16', 'bfloat16'] as const) {
    describe(dtype, () => {
      const supported = () => {
        if (mkl.capabilities.dtypes.includes(dtype)) return true;
        console.log(`backend-mkl: ${dtype} kernels not checked: the backend does not list ${dtype} on this CPU`);
        return false;
      };

      it('adds, subtracts, multiplies, divides, takes max and min and compares bit for bit, broadcast and transposed', () => {
        if (!supported()) return;
        const a = pair(dtype, 1);
        const b = pair(dtype, 2);
        const row = pair(dtype, 3, [SIZE / 4, 4]);
        const broadcast: [Tensor, Tensor] = [
          row[0].slice([0, 0], [1, 4]).broadcastTo([SIZE / 4, 4]),
          row[1].slice([0, 0], [1, 4]).broadcastTo([SIZE / 4, 4]),
        ];
        const transposed = pair(dtype, 4, [4, SIZE / 4]);
        const bt: [Tensor, Tensor] = [transposed[0].transpose(), transposed[1].transpose()];
        for (const primitive of [Primitive.Add, Primitive.Sub, Primitive.Mul, Primitive.Div, Primitive.Max, Primitive.Min]) {
          agree(primitive, [a, b], {});
          agree(primitive, [a, broadcast], {});
          agree(primitive, [bt, a], {});
        }
        for (const primitive of [Primitive.Equal, Primitive.Less, Primitive.GreaterEqual, Primitive.NotEqual])
          agree(primitive, [a, bt], {});
      });

      it('computes unary ops through float32: exact where float32 is, within a half ulp for transcendental functions', () => {
        if (!supported()) return;
        const x = pair(dtype, 5);
        for (const primitive of [
          Primitive.Neg,
          Primitive.Abs,
          Primitive.Sign,
          Primitive.Sqrt,
          Primitive.Floor,
          Primitive.Ceil,
          Primitive.Round,
          Primitive.Reciprocal,
        ]) {
          agree(primitive, [x], {});
        }
        for (const primitive of [Primitive.Exp, Primitive.Log, Primitive.Tanh, Primitive.Logistic, Primitive.Sin, Primitive.Erf])
          agree(primitive, [x], {}, 1);
      });

      it('casts to and from every dtype as the portable kernels do (ties to even, overflow, NaN, wrap-around)', () => {
        if (!supported()) return;
        const source = values(6);
        const x = pair(dtype, 6);
        for (const to of ['float32', 'float64', 'int32', 'uint8', 'bool', dtype === 'float16' ? 'bfloat16' : 'float16'] as const) {
          if (mkl.capabilities.dtypes.includes(to)) agree(Primitive.Cast, [x], { dtype: to });
        }
        const f32: [Tensor, Tensor] = [
          tensor(source, { shape: [SIZE], backend: 'mkl' }),
          tensor(source, { shape: [SIZE], backend: 'cpu' }),
        ];
        agree(Primitive.Cast, [f32], { dtype });
        const f64: [Tensor, Tensor] = [f32[0].cast('float64'), f32[1].cast('float64')];
        agree(Primitive.Cast, [f64], { dtype });
        const integers = Int32Array.from(source, (v, i) => (Number.isFinite(v) ? Math.trunc(v * 1000) : i * 4099 + 16777217));
        agree(Primitive.Cast, [[tensor(integers, { backend: 'mkl' }), tensor(integers, { backend: 'cpu' })]], { dtype });
      });

      it('selects with where, sums, maxes and copies transposed views natively', () => {
        if (!supported()) return;
        const a = pair(dtype, 7);
        const b = pair(dtype, 8);
        const condition: [Tensor, Tensor] = [a[0].greater(b[0]), a[1].greater(b[1])];
        agree(Primitive.Where, [condition, a, b], {});
        const finite = (t: Tensor) => t.clamp(-1e4, 1e4);
        const f: [Tensor, Tensor] = [finite(a[0]), finite(a[1])];
        agree(Primitive.ReduceSum, [f], { axes: [0] }, 1);
        agree(Primitive.ReduceSum, [f], { axes: [1] }, 1);
        agree(Primitive.ReduceMax, [a], { axes: [0] });
        const t = pair(dtype, 9, [64, SIZE / 64]);
        agree(Primitive.Reshape, [[t[0].transpose(), t[1].transpose()]], { shape: [SIZE] });
      });
    });
  }

  it('refuses a half-dtype output of the wrong typed array', () => {
    const addon = (loaded as { addon: import('../native/addon.js').Addon }).addon;
    const layout = Int32Array.from([0, 1, 4, 1]);
    expect(() => addon.unary(0, 6, new Uint16Array(4), layout, new Float32Array(4))).toThrow(/Uint16Array|output/);
  });
});
