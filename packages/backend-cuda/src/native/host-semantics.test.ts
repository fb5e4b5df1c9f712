// The GPU kernels' scalar semantics, checked on the host. native/elementwise_math.cuh (every
// elementwise op and cast, shared by the addon's kernels and jit's fused kernels) and
// native/threefry.cuh (the random streams) are plain C++ with CUDA qualifiers; compiled here by the
// host compiler with the qualifiers defined away, they must agree with the portable CPU backend on
// edge values (signed zeros, NaN, infinities, integer extremes, division by zero, halves) and
// produce its random words bit for bit. On the GPU the same source runs with CUDA's math library,
// whose transcendental functions the conformance tables check on a GPU.
import '@flint/backend-cpu';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Backend,
  bfloat16Bits,
  bind,
  type DType,
  decodeHalf,
  float16Bits,
  initBackend,
  isFloating,
  isHalf,
  Primitive,
  roundToHalf,
  tensor,
} from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { BINARY_CODES, UNARY_CODES } from './codes.js';

const NATIVE = fileURLToPath(new URL('../../native/', import.meta.url));

function findCompiler(): string | null {
  for (const compiler of ['c++', 'g++', 'clang++']) {
    try {
      execFileSync(compiler, ['--version'], { stdio: 'ignore' });
      return compiler;
    } catch {
      // try the next
    }
  }
  return null;
}

const compiler = findCompiler();
if (compiler === null) console.log('backend-cuda: host semantics tests skipped: no C++ compiler');

const VALUES: Record<DType, number[]> = {
  float32: [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -7.25, 100, 1e-30, 1e30, Number.NaN, Infinity, -Infinity, 0.1, 2, 7],
  float64: [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -7.25, 100, 1e-300, 1e300, Number.NaN, Infinity, -Infinity, 0.1, 2, 7],
  int32: [0, 1, -1, 2, -2, 3, 7, -7, 100, -100, 2147483647, -2147483648, 13],
  uint8: [0, 1, 2, 3, 7, 100, 200, 255],
  bool: [0, 1],
  // Rounded to the dtype on the way in, on both sides; 65520 and 1e30 overflow float16, 3e-8 is
  // a float16 subnormal and 1e-30 underflows it.
  float16: [
    0,
    -0,
    1,
    -1,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    3,
    -7.25,
    100,
    65504,
    65520,
    3e-8,
    1e-30,
    1e30,
    Number.NaN,
    Infinity,
    -Infinity,
    0.1,
    2,
    7,
  ],
  bfloat16: [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -7.25, 100, 1e-30, 1e30, 3e38, Number.NaN, Infinity, -Infinity, 0.1, 2, 7],
};

const C_TYPE: Record<DType, string> = {
  float32: 'float',
  float64: 'double',
  int32: 'int',
  uint8: 'unsigned char',
  bool: 'unsigned char',
  float16: 'Float16',
  bfloat16: 'BFloat16',
};
const HALVES: DType[] = ['float16', 'bfloat16'];
/** One unit in the last place of the half dtypes, relative: transcendentals may round differently once. */
const HALF_ULP: Partial<Record<DType, number>> = { float16: 2 ** -10, bfloat16: 2 ** -7 };

const FLOAT_ONLY = new Set<Primitive>([
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
  Primitive.Atan2,
  Primitive.Tanh,
  Primitive.Logistic,
  Primitive.Erf,
  Primitive.Reciprocal,
]);
const TRANSCENDENTAL = new Set<Primitive>([...FLOAT_ONLY, Primitive.Pow].filter((p) => p !== Primitive.Sqrt && p !== Primitive.Reciprocal));
const COMPARISONS = new Set<Primitive>([
  Primitive.Equal,
  Primitive.NotEqual,
  Primitive.Less,
  Primitive.LessEqual,
  Primitive.Greater,
  Primitive.GreaterEqual,
]);

function unaryDTypes(p: Primitive): DType[] {
  if (p === Primitive.Not) return ['bool'];
  if (FLOAT_ONLY.has(p)) return ['float32', 'float64', ...HALVES];
  return ['float32', 'float64', 'int32', 'uint8', ...HALVES];
}

function binaryDTypes(p: Primitive): DType[] {
  if (p === Primitive.And || p === Primitive.Or) return ['bool'];
  if (FLOAT_ONLY.has(p)) return ['float32', 'float64', ...HALVES];
  if (COMPARISONS.has(p) || p === Primitive.Max || p === Primitive.Min) return ['float32', 'float64', 'int32', 'uint8', 'bool', ...HALVES];
  return ['float32', 'float64', 'int32', 'uint8', ...HALVES];
}

function cLiteral(value: number, dtype: DType): string {
  if (dtype !== 'float32' && dtype !== 'float64' && !HALVES.includes(dtype)) return String(value);
  if (Number.isNaN(value)) return 'NAN';
  if (value === Infinity) return 'INFINITY';
  if (value === -Infinity) return '-INFINITY';
  return Object.is(value, -0) ? '-0.0' : value.toPrecision(17);
}

interface Job {
  readonly key: string;
  readonly code: string;
}

/** C++ that prints one line per job: the key, then the results as %.17g. */
function program(jobs: readonly Job[]): string {
  return `#define __host__
#define __device__
#define __forceinline__ inline
#include <math.h>
#include <stdio.h>
#include "elementwise_math.cuh"
#include "threefry.cuh"
using namespace flint_math;
static void put(double v) { printf(" %.17g", v); }
int main() {
${jobs.map((job) => `  printf("%s", "${job.key}");\n${job.code}\n  printf("\\n");`).join('\n')}
  return 0;
}
`;
}

const unaryPrimitives = Object.keys(UNARY_CODES).map(Number) as (keyof typeof UNARY_CODES)[];
const binaryPrimitives = Object.keys(BINARY_CODES).map(Number) as (keyof typeof BINARY_CODES)[];
const DTYPES: DType[] = ['float32', 'float64', 'int32', 'uint8', 'bool', 'float16', 'bfloat16'];

/**
 * float32 bit patterns for the conversion checks: the edges of both half formats (ties, the
 * largest finite values, subnormals, NaN payloads) and pseudo-random patterns of every exponent.
 */
function conversionInputs(): number[] {
  const edges = [
    0, 0x80000000, 0x3f800000, 0x477fe000, 0x477ff000, 0x477fefff, 0x47800000, 0x38800000, 0x387fffff, 0x33000000, 0x33000001, 0x33800000,
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfffff, 0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, 0x7f7fffff,
    0x7f7f8000, 0x00000001, 0x00800000, 0x3dcccccd, 0x3f801000, 0x3f803000,
  ];
  let state = 0x9e3779b9;
  const random = Array.from({ length: 4000 }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  });
  return [...edges, ...random];
}

function jobs(): Job[] {
  const list: Job[] = [];
  const array = (dtype: DType, values: readonly number[]) => `{${values.map((v) => `(${C_TYPE[dtype]})${cLiteral(v, dtype)}`).join(', ')}}`;
  for (const p of unaryPrimitives) {
    for (const dtype of unaryDTypes(p)) {
      const t = C_TYPE[dtype];
      const values = VALUES[dtype];
      list.push({
        key: `unary ${p} ${dtype}`,
        code: `  { const ${t} xs[] = ${array(dtype, values)}; for (int i = 0; i < ${values.length}; i++) put((double)unaryOf(${UNARY_CODES[p]}, xs[i])); }`,
      });
    }
  }
  for (const p of binaryPrimitives) {
    for (const dtype of binaryDTypes(p)) {
      const t = C_TYPE[dtype];
      const values = VALUES[dtype];
      const logical = (p === Primitive.And || p === Primitive.Or) && dtype === 'bool';
      const call =
        COMPARISONS.has(p) && !logical ? `compare<${t}>(${BINARY_CODES[p]}, xs[i], xs[j])` : `binaryOf(${BINARY_CODES[p]}, xs[i], xs[j])`;
      list.push({
        key: `binary ${p} ${dtype}`,
        code: `  { const ${t} xs[] = ${array(dtype, values)}; for (int i = 0; i < ${values.length}; i++) for (int j = 0; j < ${values.length}; j++) put((double)${call}); }`,
      });
    }
  }
  for (const from of DTYPES) {
    for (const to of DTYPES) {
      const values = VALUES[from];
      list.push({
        key: `cast ${from} ${to}`,
        code: `  { const ${C_TYPE[from]} xs[] = ${array(from, values)}; for (int i = 0; i < ${values.length}; i++) put((double)cast<${C_TYPE[to]}, ${C_TYPE[from]}>(xs[i], ${to === 'bool'})); }`,
      });
    }
  }
  const inputs = conversionInputs();
  list.push({
    key: 'halfbits encode float',
    code: `  { const unsigned xs[] = {${inputs.map((u) => `${u}u`).join(', ')}}; for (unsigned i = 0; i < ${inputs.length}; i++) { put(float16FromFloat(floatOfBits(xs[i]))); put(bfloat16FromFloat(floatOfBits(xs[i]))); } }`,
  });
  list.push({
    key: 'halfbits decode all',
    code: '  for (unsigned h = 0; h < 65536; h++) { put(bitsOfFloat(float16ToFloat((unsigned short)h))); put(bitsOfFloat(bfloat16ToFloat((unsigned short)h))); }',
  });
  for (const [k0, k1] of [
    [0, 0],
    [42, -7],
    [-1, 2147483647],
  ] as const) {
    list.push({
      key: `threefry ${k0} ${k1}`,
      code: `  for (unsigned j = 0; j < 50; j++) { unsigned y0, y1; flint_random::threefry((unsigned)${k0}, (unsigned)${k1}, j, 0u, y0, y1); put((double)(int)y0); put((double)(int)y1); put(flint_random::uniformFloat(y0)); put(flint_random::uniformDouble(y0, y1)); }`,
    });
  }
  return list;
}

function parse(value: string): number {
  if (value === 'nan' || value === '-nan') return Number.NaN;
  if (value === 'inf') return Infinity;
  if (value === '-inf') return -Infinity;
  return Number(value);
}

const results = new Map<string, number[]>();
let cpu: Backend;

function same(a: number, e: number, tolerance: number): boolean {
  if (Number.isNaN(e) || Number.isNaN(a)) return Number.isNaN(e) && Number.isNaN(a);
  if (a === e) return a !== 0 || Object.is(a, e);
  if (!Number.isFinite(a) || !Number.isFinite(e)) return false;
  return Math.abs(a - e) <= tolerance * Math.max(Math.abs(e), 1e-300);
}

async function onCpu(primitive: Primitive, inputs: readonly { values: number[]; dtype: DType }[], params: object = {}): Promise<number[]> {
  const tensors = inputs.map(({ values, dtype }) => tensor(values, { shape: [values.length], dtype, backend: 'cpu' }));
  const out = bind(primitive, tensors, params as never, cpu);
  const data = [...(await out.data())];
  for (const t of [...tensors, out]) t.dispose();
  return data;
}

describe.skipIf(compiler === null)('the kernels’ scalar semantics, compiled for the host', () => {
  beforeAll(async () => {
    cpu = await initBackend('cpu');
    const folder = mkdtempSync(join(tmpdir(), 'flint-cuda-host-'));
    const source = join(folder, 'semantics.cc');
    const binary = join(folder, 'semantics');
    writeFileSync(source, program(jobs()));
    let output: string;
    try {
      execFileSync(compiler as string, ['-std=c++17', '-O1', '-I', NATIVE, '-o', binary, source, '-lm'], { stdio: 'pipe' });
      output = execFileSync(binary, { encoding: 'utf8', maxBuffer: 64 << 20 });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    for (const line of output.trim().split('\n')) {
      const parts = line.trim().split(/\s+/);
      const key = parts.slice(0, 3).join(' ');
      results.set(key, parts.slice(3).map(parse));
    }
  });

  it.each(unaryPrimitives.flatMap((p) => unaryDTypes(p).map((dtype) => [Primitive[p], dtype, p] as const)))(
    'unary %s agrees with the CPU backend (%s)',
    async (_name, dtype, p) => {
      const actual = results.get(`unary ${p} ${dtype}`) as number[];
      const expected = await onCpu(p, [{ values: VALUES[dtype], dtype }]);
      const tolerance = TRANSCENDENTAL.has(p) ? (HALF_ULP[dtype] ?? (dtype === 'float32' ? 3e-7 : 1e-14)) : 0;
      const wrong = expected.flatMap((e, i) =>
        same(actual[i] as number, e, tolerance) ? [] : [`${VALUES[dtype][i]} -> ${actual[i]}, expected ${e}`],
      );
      expect(wrong).toEqual([]);
    },
  );

  it.each(binaryPrimitives.flatMap((p) => binaryDTypes(p).map((dtype) => [Primitive[p], dtype, p] as const)))(
    'binary %s agrees with the CPU backend (%s)',
    async (_name, dtype, p) => {
      const values = VALUES[dtype];
      const left = values.flatMap((a) => values.map(() => a));
      const right = values.flatMap(() => values);
      const actual = results.get(`binary ${p} ${dtype}`) as number[];
      const expected = await onCpu(p, [
        { values: left, dtype },
        { values: right, dtype },
      ]);
      const tolerance = TRANSCENDENTAL.has(p) && isFloating(dtype) ? (HALF_ULP[dtype] ?? (dtype === 'float32' ? 3e-7 : 1e-14)) : 0;
      // Left undefined by the conformance tables: modulo and floor division by or of infinities.
      const undefinedCase = (a: number, b: number) =>
        (p === Primitive.Mod || p === Primitive.FloorDivide) && (!Number.isFinite(a) || !Number.isFinite(b));
      // The sign of a zero from max/min is not defined either (max(0, -0)).
      const signless = p === Primitive.Max || p === Primitive.Min;
      const wrong = expected.flatMap((e, i) =>
        undefinedCase(left[i] as number, right[i] as number) ||
        same(actual[i] as number, e, tolerance) ||
        (signless && actual[i] === 0 && e === 0)
          ? []
          : [`${left[i]}, ${right[i]} -> ${actual[i]}, expected ${e}`],
      );
      expect(wrong).toEqual([]);
    },
  );

  it.each(DTYPES.flatMap((from) => DTYPES.map((to) => [from, to] as const)))(
    'cast %s to %s agrees with the CPU backend',
    async (from, to) => {
      const actual = results.get(`cast ${from} ${to}`) as number[];
      const expected = await onCpu(Primitive.Cast, [{ values: VALUES[from], dtype: from }], { dtype: to });
      // Left undefined: float-to-integer casts out of the integer's range.
      // (A value rounded to a half dtype first: 65520 is Infinity in float16.)
      const outOfRange = (value: number) => {
        const v = isHalf(from) ? roundToHalf(from, value) : value;
        return (to === 'int32' || to === 'uint8') && (!Number.isFinite(v) || Math.abs(v) >= 2 ** 31);
      };
      const wrong = expected.flatMap((e, i) =>
        outOfRange(VALUES[from][i] as number) || same(actual[i] as number, e, 0)
          ? []
          : [`${VALUES[from][i]} -> ${actual[i]}, expected ${e}`],
      );
      expect(wrong).toEqual([]);
    },
  );

  it('encodes float32 to float16 and bfloat16 bit for bit as core/half.ts does (edges, NaN payloads, 4000 random patterns)', () => {
    const inputs = conversionInputs();
    const actual = results.get('halfbits encode float') as number[];
    expect(actual).toHaveLength(2 * inputs.length);
    const floats = new Float32Array(new Uint32Array(inputs).buffer);
    const wrong: string[] = [];
    inputs.forEach((u, i) => {
      const f16 = float16Bits(floats[i] as number);
      const bf16 = bfloat16Bits(floats[i] as number);
      if (actual[2 * i] !== f16 || actual[2 * i + 1] !== bf16)
        wrong.push(
          `0x${u.toString(16)}: float16 0x${actual[2 * i]?.toString(16)} (expected 0x${f16.toString(16)}), bfloat16 0x${actual[2 * i + 1]?.toString(16)} (expected 0x${bf16.toString(16)})`,
        );
    });
    expect(wrong).toEqual([]);
  });

  it('decodes all 65536 patterns of both formats to the float32 bits core/half.ts gives', () => {
    const actual = results.get('halfbits decode all') as number[];
    const patterns = Uint16Array.from({ length: 65536 }, (_, h) => h);
    const f16 = new Uint32Array(decodeHalf('float16', patterns).buffer);
    const bf16 = new Uint32Array(decodeHalf('bfloat16', patterns).buffer);
    let mismatches = 0;
    for (let h = 0; h < 65536; h++) if (actual[2 * h] !== f16[h] || actual[2 * h + 1] !== bf16[h]) mismatches++;
    expect(mismatches).toBe(0);
  });

  it.each([
    [0, 0],
    [42, -7],
    [-1, 2147483647],
  ])('Threefry words and uniforms for key [%i, %i] equal the CPU backend bit for bit', async (k0, k1) => {
    const actual = results.get(`threefry ${k0} ${k1}`) as number[];
    const words = await onCpu(Primitive.RandomBits, [{ values: [k0, k1], dtype: 'int32' }], { shape: [100] });
    for (let j = 0; j < 50; j++) {
      const y0 = words[2 * j] as number;
      const y1 = words[2 * j + 1] as number;
      expect(actual.slice(4 * j, 4 * j + 4)).toEqual([y0, y1, (y0 >>> 8) * 2 ** -24, ((y0 >>> 5) * 2 ** 26 + (y1 >>> 6)) * 2 ** -53]);
    }
  });
});
