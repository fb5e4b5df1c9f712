import {
  type Aval,
  bind,
  type CompiledKernel,
  type DType,
  getBackend,
  type KernelOp,
  type KernelProgram,
  type KernelRef,
  Primitive,
  type Tensor,
  tensor,
} from '@flint/api';
import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { roundHalfEven } from '../math.js';
import type { CpuHandle } from '../view.js';

// The CPU backend's jit hook on hand-written kernels: generated code must compute what the
// op-by-op kernels compute (exactly for the JavaScript loops, within a few float32 ulps for the
// SIMD exp/tanh/logistic), for every dtype and input layout, and reuse buffers only when allowed.

const backend = getBackend('cpu');
const compile = (k: KernelProgram): CompiledKernel<CpuHandle> => {
  const compiled = backend.compile?.(k) as CompiledKernel<CpuHandle> | null;
  if (!compiled) throw new Error('kernel did not compile');
  return compiled;
};
const input = (index: number): KernelRef => ({ kind: 'input', index });
const op = (index: number): KernelRef => ({ kind: 'op', index });
const literal = (value: number): KernelRef => ({ kind: 'literal', value });
const aval = (shape: number[], dtype: DType): Aval => ({ shape, dtype });
const kernel = (kind: KernelProgram['kind'], inputs: Aval[], ops: KernelOp[], outputs: number[]): KernelProgram => ({
  kind,
  inputs,
  ops,
  outputs,
  reusable: inputs.map(() => true),
  text: '',
});
const run = (k: KernelProgram, inputs: Tensor[], consumable = inputs.map(() => false)): Tensor[] => {
  const out = compile(k).run(
    inputs.map((t) => t._handle as CpuHandle),
    consumable,
  );
  return out.map((h, i) => {
    const a = k.ops[k.outputs[i] as number]?.aval as Aval;
    return new (tensor(0).constructor as new (s: readonly number[], d: DType, b: unknown, h: unknown) => Tensor)(
      a.shape,
      a.dtype,
      backend,
      h,
    );
  });
};
const values = (t: Tensor): number[] => Array.from(t.dataSync());
const eager = (p: Primitive, inputs: Tensor[], params: object = {}): Tensor => bind(p as Primitive.Add, inputs, params as never);

const UNARY_FLOAT = [
  Primitive.Neg,
  Primitive.Abs,
  Primitive.Sign,
  Primitive.Exp,
  Primitive.Log,
  Primitive.Log1p,
  Primitive.Expm1,
  Primitive.Sqrt,
  Primitive.Rsqrt,
  Primitive.Sin,
  Primitive.Cos,
  Primitive.Tan,
  Primitive.Asin,
  Primitive.Acos,
  Primitive.Atan,
  Primitive.Tanh,
  Primitive.Logistic,
  Primitive.Erf,
  Primitive.Floor,
  Primitive.Ceil,
  Primitive.Round,
  Primitive.Reciprocal,
];
const BINARY_NUMERIC = [
  Primitive.Add,
  Primitive.Sub,
  Primitive.Mul,
  Primitive.Div,
  Primitive.Pow,
  Primitive.Max,
  Primitive.Min,
  Primitive.Mod,
  Primitive.FloorDivide,
];
/** Binary ops defined for floats only. */
const BINARY_FLOAT = [Primitive.Atan2];
const COMPARISONS = [Primitive.Equal, Primitive.NotEqual, Primitive.Less, Primitive.LessEqual, Primitive.Greater, Primitive.GreaterEqual];

describe('generated JavaScript kernels', () => {
  const floats = [-2.5, -1, -0.5, -0, 0, 0.3, 0.5, 1, 2.5, 7, Number.NaN, Number.POSITIVE_INFINITY];
  for (const dtype of ['float32', 'float64'] as const) {
    it(`compute every unary float op exactly as the op-by-op kernels (${dtype})`, () => {
      const x = tensor(floats, { dtype });
      for (const p of UNARY_FLOAT) {
        // Followed by a negation so that the op is inside a fused chain.
        const k = kernel(
          'elementwise',
          [x],
          [
            { primitive: p, params: {}, args: [input(0)], aval: x },
            { primitive: Primitive.Neg, params: {}, args: [op(0)], aval: x },
          ],
          [1],
        );
        // float32 chains of SIMD ops go to WebAssembly only from 64 elements; these are fewer.
        expect(values(run(k, [x])[0] as Tensor), `${Primitive[p]}`).toEqual(values(eager(Primitive.Neg, [eager(p, [x])])));
      }
    });
  }

  for (const dtype of ['float32', 'float64', 'int32', 'uint8'] as const) {
    it(`compute every binary op and comparison as the op-by-op kernels (${dtype})`, () => {
      const a = tensor([7, -7, 5, 0, 200, 3, -1], { dtype: dtype === 'uint8' ? 'int32' : dtype }).astype(dtype);
      const b = tensor([2, 3, -2, 0, 100, 3, 0], { dtype: dtype === 'uint8' ? 'int32' : dtype }).astype(dtype);
      const floatOnly = dtype === 'float32' || dtype === 'float64' ? BINARY_FLOAT : [];
      for (const p of [...BINARY_NUMERIC, ...floatOnly, ...COMPARISONS]) {
        const out = eager(p, [a, b]);
        const k = kernel('elementwise', [a, b], [{ primitive: p, params: {}, args: [input(0), input(1)], aval: out }], [0]);
        expect(values(run(k, [a, b])[0] as Tensor), `${Primitive[p]}`).toEqual(values(out));
      }
    });
  }

  it('computes where, logic and casts, with wrap-around of integer intermediates', () => {
    const x = tensor([2147483647, -5, 3], { dtype: 'int32' });
    const c = tensor([true, false, true]);
    const f = aval([3], 'float32');
    const ops: KernelOp[] = [
      { primitive: Primitive.Add, params: {}, args: [input(0), literal(1)], aval: x },
      { primitive: Primitive.Greater, params: {}, args: [input(0), literal(0)], aval: c },
      { primitive: Primitive.And, params: {}, args: [op(1), input(1)], aval: c },
      { primitive: Primitive.Where, params: {}, args: [op(2), op(0), input(0)], aval: x },
      { primitive: Primitive.Cast, params: { dtype: 'float32' }, args: [op(3)], aval: f },
      { primitive: Primitive.Not, params: {}, args: [op(2)], aval: c },
    ];
    const [w, cast, not] = run(kernel('elementwise', [x, c], ops, [3, 4, 5]), [x, c]) as Tensor[];
    expect(values(w as Tensor)).toEqual([-2147483648, -5, 4]);
    expect(values(cast as Tensor)).toEqual([-2147483648, -5, 4]);
    expect((not as Tensor).dtype).toBe('bool');
    expect(values(not as Tensor)).toEqual([0, 1, 0]);
  });

  it('reads transposed, sliced and broadcast inputs through their strides', () => {
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]).astype('float32');
    const t = eager(Primitive.Transpose, [m], { perm: [1, 0] }); // [3, 2], strided view
    const row = tensor([10, 20]).astype('float32');
    const out = aval([3, 2], 'float32');
    const ops: KernelOp[] = [
      { primitive: Primitive.Broadcast, params: { shape: [3, 2] }, args: [input(1)], aval: out },
      { primitive: Primitive.Mul, params: {}, args: [input(0), op(0)], aval: out },
      { primitive: Primitive.Sub, params: {}, args: [op(1), literal(1)], aval: out },
    ];
    expect(values(run(kernel('elementwise', [t, row], ops, [2]), [t, row])[0] as Tensor)).toEqual([9, 79, 19, 99, 29, 119]);
  });

  it('fuses elementwise producers into sums, maxima, minima and products over any axes', () => {
    const x = tensor(
      Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) - 5),
      { shape: [2, 3, 4], dtype: 'float32' },
    );
    const view = eager(Primitive.Transpose, [x], { perm: [2, 0, 1] }); // [4, 2, 3], strided
    const e = aval([4, 2, 3], 'float32');
    for (const p of [Primitive.ReduceSum, Primitive.ReduceMax, Primitive.ReduceMin, Primitive.ReduceProd]) {
      for (const axes of [[0], [1], [2], [0, 2], [0, 1, 2]]) {
        const scaled = eager(Primitive.Mul, [view, eager(Primitive.Broadcast, [tensor(0.5).astype('float32')], { shape: [4, 2, 3] })]);
        const expected = eager(p, [scaled], { axes });
        const ops: KernelOp[] = [
          { primitive: Primitive.Mul, params: {}, args: [input(0), literal(0.5)], aval: e },
          { primitive: p, params: { axes }, args: [op(0)], aval: expected },
        ];
        const [mapped, reduced] = run(kernel('reduction', [view], ops, [0, 1]), [view]) as Tensor[];
        expect(values(reduced as Tensor), `${Primitive[p]} ${axes}`).toEqual(values(expected));
        expect(values(mapped as Tensor)).toEqual(values(scaled));
      }
    }
  });

  it('splits reductions of exp/log producers into a SIMD elementwise kernel and the reduction, for any layout', () => {
    const data = Array.from({ length: 70 * 90 }, (_, i) => Math.sin(i * 0.37) * 4);
    const x = tensor(data, { shape: [70, 90], dtype: 'float32' });
    const transposed = eager(Primitive.Transpose, [tensor(data, { shape: [90, 70], dtype: 'float32' })], { perm: [1, 0] });
    for (const input0 of [x, transposed]) {
      const e = aval([70, 90], 'float32');
      const ops: KernelOp[] = [
        { primitive: Primitive.Sub, params: {}, args: [input(0), literal(1)], aval: e },
        { primitive: Primitive.Exp, params: {}, args: [op(0)], aval: e },
        { primitive: Primitive.ReduceSum, params: { axes: [1] }, args: [op(1)], aval: aval([70], 'float32') },
      ];
      const k = kernel('reduction', [input0], ops, [1, 2]);
      const [mapped, reduced] = run(k, [input0]) as Tensor[];
      const exps = eager(Primitive.Exp, [
        eager(Primitive.Sub, [input0, eager(Primitive.Broadcast, [tensor(1).astype('float32')], { shape: [70, 90] })]),
      ]);
      const sums = values(eager(Primitive.ReduceSum, [exps], { axes: [1] }));
      const want = values(exps);
      values(mapped as Tensor).forEach((v, i) => {
        const w = want[i] as number;
        expect(Math.abs(v - w)).toBeLessThanOrEqual(3e-7 * Math.abs(w));
      });
      values(reduced as Tensor).forEach((v, i) => {
        expect(Math.abs(v - (sums[i] as number))).toBeLessThanOrEqual(1e-6 * Math.abs(sums[i] as number));
      });
    }
  });

  it('gives the reduction identity for empty inputs and wraps int32 sums', () => {
    const empty = tensor([], { shape: [0, 3], dtype: 'float32' });
    const out = aval([3], 'float32');
    const ops: KernelOp[] = [
      { primitive: Primitive.Abs, params: {}, args: [input(0)], aval: empty },
      { primitive: Primitive.ReduceMax, params: { axes: [0] }, args: [op(0)], aval: out },
    ];
    expect(values(run(kernel('reduction', [empty], ops, [1]), [empty])[0] as Tensor)).toEqual([-Infinity, -Infinity, -Infinity]);
    const big = tensor([2147483647, 1, 5], { dtype: 'int32' });
    const sumOps: KernelOp[] = [
      { primitive: Primitive.Add, params: {}, args: [input(0), literal(0)], aval: big },
      { primitive: Primitive.ReduceSum, params: { axes: [0] }, args: [op(0)], aval: aval([], 'int32') },
    ];
    expect(values(run(kernel('reduction', [big], sumOps, [1]), [big])[0] as Tensor)).toEqual([-2147483643]);
  });
});

describe('WebAssembly SIMD kernels', () => {
  const special = [
    0,
    -0,
    1e-7,
    -1e-7,
    0.1,
    -0.3,
    0.5,
    0.62,
    0.63,
    -0.7,
    1,
    2,
    -3,
    5,
    9,
    -9.5,
    20,
    -20,
    40,
    88.5,
    88.7,
    88.8,
    100,
    -50,
    -87,
    -100,
    -103.9,
    -110,
    Infinity,
    -Infinity,
    Number.NaN,
    1e-40,
    -1e-40,
    1e-45,
    1.1754942e-38,
    1.1754944e-38,
    3e38,
    -3e38,
    0.70710677,
    Math.SQRT1_2,
    1.0000001,
    0.99999994,
  ];
  const size = 4096;
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = i < special.length ? (special[i] as number) : Math.sin(i * 12.9898) * 30;
  const x = tensor(data);

  // In double precision, rounded to float32 below: eager float32 ops of this size run the same
  // SIMD kernels (kernels/simd-elementwise.ts), so they are no reference.
  const reference: [Primitive, (v: number) => number][] = [
    [Primitive.Exp, Math.exp],
    [Primitive.Log, Math.log],
    [Primitive.Tanh, Math.tanh],
    [Primitive.Logistic, (v) => 1 / (1 + Math.exp(-v))],
    [Primitive.Sign, Math.sign],
  ];

  for (const [p, f] of reference) {
    it(`${Primitive[p]} is within a few float32 ulps of Math.${Primitive[p].toLowerCase()}, with its special values`, () => {
      const k = kernel('elementwise', [x], [{ primitive: p, params: {}, args: [input(0)], aval: x }], [0]);
      const got = values(run(k, [x])[0] as Tensor);
      got.forEach((g, i) => {
        const w = Math.fround(f(data[i] as number));
        if (Number.isNaN(w)) expect(g, `x=${data[i]}`).toBeNaN();
        else if (!Number.isFinite(w) || w === 0) expect(g, `x=${data[i]}`).toBe(w);
        else expect(Math.abs(g - w) / Math.max(Math.abs(w), 1e-30), `x=${data[i]}`).toBeLessThan(p === Primitive.Exp ? 3e-7 : 2e-6);
      });
    });
  }

  it('exp, log, tanh, logistic and sign stay within 3 float32 ulps of Math.* on random bit patterns (NaN, infinities, subnormals included)', () => {
    const count = 65536;
    const bits = new Uint32Array(count);
    let state = 12345;
    for (let i = 0; i < count; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bits[i] = state;
    }
    const xs = new Float32Array(bits.buffer);
    const w = tensor(xs);
    for (const [p, f] of reference) {
      const k = kernel('elementwise', [w], [{ primitive: p, params: {}, args: [input(0)], aval: w }], [0]);
      const got = values(run(k, [w])[0] as Tensor);
      let worst = 0;
      got.forEach((g, i) => {
        const want = Math.fround(f(xs[i] as number));
        if (Number.isNaN(want)) expect(g, `${Primitive[p]}(${xs[i]})`).toBeNaN();
        else if (!Number.isFinite(want) || want === 0) expect(g, `${Primitive[p]}(${xs[i]})`).toBe(want);
        else
          worst = Math.max(
            worst,
            Math.abs(g - f(xs[i] as number)) / 2 ** (Math.floor(Math.log2(Math.max(Math.abs(want), 2 ** -126))) - 23),
          );
      });
      expect(worst, Primitive[p]).toBeLessThanOrEqual(3);
    }
  });

  it('max and min by a literal (one pseudo-max/min instruction) keep NaN and the sign of zeros exactly', () => {
    const edge = [0, -0, Number.NaN, 1, -1, 0.5, -0.5, Infinity, -Infinity, 3, -3, 1e-45];
    const v = tensor(Array.from({ length: 96 }, (_, i) => edge[i % edge.length] as number)).astype('float32');
    for (const p of [Primitive.Max, Primitive.Min]) {
      for (const c of [0, -0, 0.5, -3, Infinity]) {
        for (const literalFirst of [false, true]) {
          const args = literalFirst ? [literal(c), input(0)] : [input(0), literal(c)];
          const k = kernel('elementwise', [v], [{ primitive: p, params: {}, args, aval: v }], [0]);
          const got = values(run(k, [v])[0] as Tensor);
          const want = Array.from(v.dataSync(), (x) => (p === Primitive.Max ? Math.max(x, c) : Math.min(x, c)));
          got.forEach((g, i) => {
            expect(Object.is(g, want[i]), `${Primitive[p]}(${v.dataSync()[i]}, ${c}) = ${g}`).toBe(true);
          });
        }
      }
    }
  });

  it('log is within 2 float32 ulps of Math.log over every binade, subnormals included', () => {
    const count = 278 * 64;
    const wide = new Float32Array(count);
    // 64 mantissas per power of two from 2^-149 to 2^128 (the last binade overflows to Infinity).
    for (let i = 0; i < count; i++) wide[i] = 2 ** ((i >> 6) - 149) * (1 + ((i * 0.618034) % 1));
    const w = tensor(wide);
    const k = kernel('elementwise', [w], [{ primitive: Primitive.Log, params: {}, args: [input(0)], aval: w }], [0]);
    const got = values(run(k, [w])[0] as Tensor);
    got.forEach((g, i) => {
      const v = wide[i] as number;
      if (!Number.isFinite(v)) expect(g).toBe(Number.POSITIVE_INFINITY);
      else {
        const want = Math.log(v);
        const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(want), 2 ** -126))) - 23);
        expect(Math.abs(g - want) / ulp, `x=${v}`).toBeLessThanOrEqual(2);
      }
    });
  });

  it('computes arithmetic chains exactly as float32 arithmetic op by op, with scalar and contiguous inputs', () => {
    const y = tensor(Array.from({ length: size }, (_, i) => (i % 13) - 6)).astype('float32');
    const s = tensor(3).astype('float32');
    const wide = aval([size], 'float32');
    const ops: KernelOp[] = [
      { primitive: Primitive.Broadcast, params: { shape: [size] }, args: [input(2)], aval: wide },
      { primitive: Primitive.Mul, params: {}, args: [input(0), op(0)], aval: wide },
      { primitive: Primitive.Add, params: {}, args: [op(1), input(1)], aval: wide },
      { primitive: Primitive.Div, params: {}, args: [op(2), literal(7)], aval: wide },
      { primitive: Primitive.Sqrt, params: {}, args: [op(3)], aval: wide },
      { primitive: Primitive.Max, params: {}, args: [op(4), literal(0.5)], aval: wide },
      { primitive: Primitive.Round, params: {}, args: [op(3)], aval: wide },
    ];
    const [a, b] = run(kernel('elementwise', [x, y, s], ops, [5, 6]), [x, y, s]) as Tensor[];
    // Eager float32 ops of this size run the same SIMD generator, so the reference is JavaScript's
    // arithmetic rounded to float32 after each op (exact for +, *, / and sqrt of float32 operands)
    // with the op-by-op kernels' Math.max and roundHalfEven.
    const ys = values(y);
    const q = Array.from(data, (v, i) => Math.fround(Math.fround(Math.fround(v * 3) + (ys[i] as number)) / 7));
    expect(values(a as Tensor)).toEqual(q.map((v) => Math.max(Math.fround(Math.sqrt(v)), 0.5)));
    expect(values(b as Tensor)).toEqual(q.map(roundHalfEven));
  });
});

describe('buffer reuse', () => {
  const chain = (shape: number[]): KernelProgram =>
    kernel(
      'elementwise',
      [aval(shape, 'float32')],
      [{ primitive: Primitive.Exp, params: {}, args: [input(0)], aval: aval(shape, 'float32') }],
      [0],
    );

  for (const size of [8, 4096]) {
    it(`writes into a consumable input nothing else views (${size} elements)`, () => {
      const x = tensor(new Float32Array(size).fill(1));
      const handle = x._handle as CpuHandle;
      const [out] = compile(chain([size])).run([handle], [true]);
      expect(out).toBe(handle);
      expect(handle.storage.data[0]).toBeCloseTo(Math.E, 5);
    });

    it(`allocates when the input is not consumable or another view shares it (${size} elements)`, () => {
      const x = tensor(new Float32Array(size).fill(1));
      const handle = x._handle as CpuHandle;
      const [kept] = compile(chain([size])).run([handle], [false]);
      expect(kept).not.toBe(handle);
      const view = eager(Primitive.Reshape, [x], { shape: [size] });
      const [shared] = compile(chain([size])).run([handle], [true]);
      expect(shared).not.toBe(handle);
      expect(values(view)[0]).toBe(1);
    });
  }
});

describe('contraction epilogues', () => {
  it('runs a matmul with bias, activation and residual epilogue', () => {
    const a = tensor(
      Array.from({ length: 12 }, (_, i) => i - 6),
      { shape: [3, 4], dtype: 'float32' },
    );
    const w = tensor(
      Array.from({ length: 8 }, (_, i) => (i % 3) - 1),
      { shape: [4, 2], dtype: 'float32' },
    );
    const bias = tensor([0.5, -0.5]).astype('float32');
    const residual = tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2], dtype: 'float32' });
    const out = aval([3, 2], 'float32');
    const dims = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] };
    const ops: KernelOp[] = [
      { primitive: Primitive.DotGeneral, params: dims, args: [input(0), input(1)], aval: out },
      { primitive: Primitive.Broadcast, params: { shape: [3, 2] }, args: [input(2)], aval: out },
      { primitive: Primitive.Add, params: {}, args: [op(0), op(1)], aval: out },
      { primitive: Primitive.Max, params: {}, args: [op(2), literal(0)], aval: out },
      { primitive: Primitive.Add, params: {}, args: [op(3), input(3)], aval: out },
    ];
    const [product, result] = run(kernel('contraction', [a, w, bias, residual], ops, [0, 4]), [a, w, bias, residual]) as Tensor[];
    const d = eager(Primitive.DotGeneral, [a, w], dims);
    const expected = eager(Primitive.Add, [
      eager(Primitive.Max, [
        eager(Primitive.Add, [d, eager(Primitive.Broadcast, [bias], { shape: [3, 2] })]),
        eager(Primitive.Broadcast, [tensor(0).astype('float32')], { shape: [3, 2] }),
      ]),
      residual,
    ]);
    expect(values(product as Tensor)).toEqual(values(d));
    expect(values(result as Tensor)).toEqual(values(expected));
  });
});
