import '@flint/backend-cpu';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  abs,
  add,
  bind,
  broadcastTo,
  cast,
  ceil,
  cos,
  div,
  equal,
  erf,
  expm1,
  floor,
  greater,
  initBackend,
  jit,
  lessEqual,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  notEqual,
  Primitive,
  pow,
  reciprocal,
  relu,
  round,
  rsqrt,
  sign,
  sin,
  sqrt,
  sub,
  type Tensor,
  tan,
  tensor,
  where,
} from '@flint/api';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type Addon, loadAddon } from '../index.js';
import { awkwardValues } from '../values.test-support.js';
import { kernelSource, OperandKind, VECTOR_MATH_CODES } from './codegen.js';
import { COMPILER_FLAGS } from './kernel-cache.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: generated-kernel tests skipped, the addon is unavailable: ${missing}`);

/** Element-for-element identity, NaN equal to NaN and -0 distinct from 0. */
function expectIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  const mismatches: string[] = [];
  for (let i = 0; i < expected.length && mismatches.length < 5; i++)
    if (!Object.is(actual[i], expected[i])) mismatches.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  expect(mismatches).toEqual([]);
}

describe.skipIf(missing !== undefined)('generated elementwise kernels on mkl', () => {
  const addon = (loaded as { addon: Addon }).addon;
  const saved = { mode: process.env.FLINT_MKL_CODEGEN, cache: process.env.FLINT_CACHE_DIR };
  let runs = 0;
  const runKernel = addon.runKernel;
  // This test's own cache folder, removed at the end (never the user's FLINT_CACHE_DIR).
  let cache: string | undefined;
  beforeAll(async () => {
    await initBackend('mkl');
    process.env.FLINT_MKL_CODEGEN = 'sync';
    cache = mkdtempSync(path.join(tmpdir(), 'flint-codegen-test-'));
    process.env.FLINT_CACHE_DIR = cache;
    addon.runKernel = (...args) => {
      runs++;
      runKernel(...args);
    };
  });
  afterAll(() => {
    addon.runKernel = runKernel;
    if (cache !== undefined) rmSync(cache, { recursive: true, force: true });
    for (const [key, value] of [
      ['FLINT_MKL_CODEGEN', saved.mode],
      ['FLINT_CACHE_DIR', saved.cache],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  const on = (values: Float32Array, shape: number[]) => tensor(values, { shape, backend: 'mkl' });

  it('computes every op of the register program bit for bit as the eager kernels, on every thread', () => {
    // 300000 elements: above the size from which the kernel runs split over the threads (131072).
    const x = on(awkwardValues(300000, 1), [600, 500]);
    const y = on(awkwardValues(300000, 2), [600, 500]);
    const s = on(Float32Array.of(0.75), []);
    const chains: [string, (x: Tensor, y: Tensor, s: Tensor) => Tensor][] = [
      ['arithmetic', (x, y, s) => sub(div(mul(add(x, y), s), add(y, 3)), neg(x))],
      ['roots and rounding', (x, y) => add(add(sqrt(abs(x)), rsqrt(abs(y))), add(add(floor(x), ceil(y)), round(mul(x, 2))))],
      ['transcendental', (x, y) => add(add(expm1(mul(x, 0.1)), log1p(abs(y))), add(add(sin(x), cos(y)), add(tan(x), erf(y))))],
      ['powers and reciprocals', (x, y, s) => add(pow(abs(x), s), add(reciprocal(y), sign(x)))],
      ['NaN-propagating max and min', (x, y) => add(maximum(x, y), minimum(y, x))],
      ['comparisons and selects', (x, y, s) => where(greater(x, y), add(x, s), where(lessEqual(y, 0), mul(y, 2), neg(x)))],
      ['bool arithmetic', (x, y) => add(cast(equal(x, y), 'float32'), mul(cast(notEqual(x, 0), 'float32'), y))],
      ['relu and its derivative', (x, y) => add(relu(x), bind(Primitive.ReluGrad, [y, neg(x)], {}))],
    ];
    for (const [name, f] of chains) {
      const eager = f(x, y, s).dataSync();
      const before = runs;
      const compiled = jit(f)(x, y, s).dataSync();
      // An addon with glibc's vector math computes the transcendental ops through it, eagerly and
      // in the register program, so the generator leaves them to the register program.
      if (name === 'transcendental' && addon.info().vectorMath) expect(runs, `${name} ran as the register program`).toBe(before);
      else expect(runs, `${name} ran as a generated kernel`).toBeGreaterThan(before);
      expectIdentical(compiled, eager);
    }
  });

  it('writes bool outputs and reads bool inputs', () => {
    const x = on(awkwardValues(5000, 3), [5000]);
    const flags = cast(greater(x, 0), 'bool');
    const f = (x: Tensor, flags: Tensor) => [greater(mul(x, 2), 1), where(flags, x, neg(x))] as const;
    const eager = f(x, flags).map((t) => t.dataSync());
    const before = runs;
    const compiled = jit((x: Tensor, flags: Tensor) => [...f(x, flags)])(x, flags).map((t: Tensor) => t.dataSync());
    expect(runs).toBeGreaterThan(before);
    expectIdentical(compiled[0]!, eager[0]!);
    expectIdentical(compiled[1]!, eager[1]!);
  });

  it('runs a program whose only inputs are broadcast single elements, and one of zero elements', () => {
    const s = on(Float32Array.of(2.5), [1, 1]);
    const f = (s: Tensor) => mul(add(broadcastTo(s, [50, 40]), 1), s);
    const before = runs;
    const compiled = jit(f)(s).dataSync();
    expect(runs).toBeGreaterThan(before);
    expect(compiled).toHaveLength(2000);
    expectIdentical(compiled, f(s).dataSync());
    const empty = on(new Float32Array(0), [0, 3]);
    expect(jit((x: Tensor) => mul(add(x, 1), 2))(empty).shape).toEqual([0, 3]);
  });

  it('falls back to the register program for non-contiguous inputs and row broadcasts', () => {
    const x = on(awkwardValues(64 * 48, 4), [64, 48]);
    const row = on(awkwardValues(48, 5), [48]);
    const f = (x: Tensor, row: Tensor) => mul(add(x, row), 0.5);
    const before = runs;
    expectIdentical(jit(f)(x, row).dataSync(), f(x, row).dataSync());
    const g = (x: Tensor) => mul(add(x, 1), 0.5);
    const transposed = x.transpose();
    expectIdentical(jit(g)(transposed).dataSync(), g(transposed).dataSync());
    expect(runs).toBe(before);
  });

  it('compiles in the background after a few runs and picks the kernel up without waiting for it', async () => {
    process.env.FLINT_MKL_CODEGEN = 'async';
    try {
      const x = on(awkwardValues(4096, 6), [4096]);
      // A literal of its own, so that no earlier test compiled this kernel.
      const f = jit((x: Tensor) => mul(add(x, 0.123456), sub(x, 0.654321)));
      const expected = mul(add(x, 0.123456), sub(x, 0.654321)).dataSync();
      const before = runs;
      let calls = 0;
      for (; calls < 2000 && runs === before; calls++) {
        expectIdentical(f(x).dataSync(), expected);
        // The compiler runs in another process; this loop only gives it time.
        if (calls % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(runs).toBeGreaterThan(before);
      expect(calls).toBeGreaterThanOrEqual(3);
      expectIdentical(f(x).dataSync(), expected);
    } finally {
      process.env.FLINT_MKL_CODEGEN = 'sync';
    }
  });

  it('generates every op code of the register program as the register program computes it', () => {
    // One program: inputs x, y (float32) and c (bool); each op writes its own register, all outputs.
    const size = 300000;
    // The transcendental codes an addon with vector math computes through libmvec are not generated (next test).
    const vectorMathCodes = addon.info().vectorMath ? VECTOR_MATH_CODES : new Set<number>();
    const unary = Array.from({ length: 26 }, (_, i) => i).filter((code) => !vectorMathCodes.has(code));
    const binary = [...Array.from({ length: 16 }, (_, i) => 32 + i), 49];
    const ops = [...unary.map((code) => [code, 0, 0, 0]), ...binary.map((code) => [code, 0, 1, 0]), [48, 2, 0, 1]] as const;
    const registers = 3 + ops.length;
    const shown = ops.map((_, k) => k);
    const program = Int32Array.from([
      3,
      shown.length,
      registers,
      ops.length,
      1,
      size,
      0,
      0,
      4,
      ...shown.flatMap((k) => [3 + k, k === ops.length - 1 ? 4 : 0]),
      ...ops.flatMap(([code, a, b, c], k) => [code, 3 + k, a, b, c]),
    ]);
    const x = awkwardValues(size, 7);
    const y = awkwardValues(size, 8);
    const c = Uint8Array.from(y, (v) => (v > 0 ? 1 : 0));
    const full = Int32Array.from([0, 1, size, 1]);
    const outputs = () => shown.map((k) => (k === ops.length - 1 ? new Uint8Array(size) : new Float32Array(size)));
    const expected = outputs();
    addon.fused(program, new Float64Array(0), x, full, y, full, c, full, ...expected);
    const source = kernelSource(program, new Float64Array(0), [OperandKind.fullFloat, OperandKind.fullFloat, OperandKind.fullBool]);
    const folder = mkdtempSync(path.join(tmpdir(), 'flint-codegen-ops-'));
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    writeFileSync(path.join(folder, 'ops.c'), source ?? '');
    execFileSync(process.env.CC ?? 'cc', [...COMPILER_FLAGS, '-o', path.join(folder, 'ops.so'), path.join(folder, 'ops.c'), '-lm']);
    const actual = outputs();
    addon.runKernel(addon.loadKernel(path.join(folder, 'ops.so')), size, x, full, y, full, c, full, ...actual);
    shown.forEach((k, o) => {
      const mismatch = Array.from(actual[o]!).findIndex((v, i) => !Object.is(v, expected[o]![i]));
      expect(mismatch, `op ${ops[k]![0]} (#${k}) differs at ${mismatch} (x ${x[mismatch]}, y ${y[mismatch]})`).toBe(-1);
    });
  });

  it('leaves programs holding an op the addon computes through vector math to the register program', () => {
    // x -> op(x), one float32 input and output of 4096 elements.
    const program = (code: number) => Int32Array.from([1, 1, 2, 1, 1, 4096, 0, 1, 0, code, 1, 0, 0, 0]);
    const kinds = [OperandKind.fullFloat];
    for (const code of VECTOR_MATH_CODES) {
      expect(kernelSource(program(code), new Float64Array(0), kinds, true), `op ${code}`).toBeNull();
      expect(kernelSource(program(code), new Float64Array(0), kinds, false), `op ${code}`).not.toBeNull();
    }
    expect(kernelSource(program(0), new Float64Array(0), kinds, true)).not.toBeNull(); // neg stays generated
  });

  it('rounds a product before adding to it, as the register program does (no fused multiply-add)', () => {
    const size = 4096;
    // r2 = x * y; r3 = r2 + y; the product's only use is the sum: the shape compilers contract.
    const program = Int32Array.from([2, 1, 4, 2, 1, size, 0, 0, 3, 0, 34, 2, 0, 1, 0, 32, 3, 2, 1, 0]);
    const x = awkwardValues(size, 9);
    const y = awkwardValues(size, 10);
    const full = Int32Array.from([0, 1, size, 1]);
    const expected = new Float32Array(size);
    addon.fused(program, new Float64Array(0), x, full, y, full, expected);
    const folder = mkdtempSync(path.join(tmpdir(), 'flint-codegen-fma-'));
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    writeFileSync(
      path.join(folder, 'fma.c'),
      kernelSource(program, new Float64Array(0), [OperandKind.fullFloat, OperandKind.fullFloat]) ?? '',
    );
    execFileSync(process.env.CC ?? 'cc', [...COMPILER_FLAGS, '-o', path.join(folder, 'fma.so'), path.join(folder, 'fma.c'), '-lm']);
    const actual = new Float32Array(size);
    addon.runKernel(addon.loadKernel(path.join(folder, 'fma.so')), size, x, full, y, full, actual);
    expectIdentical(actual, expected);
  });

  it('leaves a kernel whose compilation fails to the register program, and marks it failed for later processes', () => {
    const saved = process.env.CC;
    process.env.CC = 'false';
    try {
      const x = on(awkwardValues(3000, 11), [3000]);
      const f = (x: Tensor) => mul(sub(x, 0.987654), 3);
      const before = runs;
      expectIdentical(jit(f)(x).dataSync(), f(x).dataSync());
      expect(runs).toBe(before);
      const folder = path.join(process.env.FLINT_CACHE_DIR as string, 'mkl-kernels');
      expect(readdirSync(folder).some((name) => name.endsWith('.failed'))).toBe(true);
      expect(readdirSync(folder).some((name) => name.endsWith('.c'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.CC;
      else process.env.CC = saved;
    }
  });

  it('refuses files that are not kernels and arguments that break the signature, without crashing', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'flint-codegen-bad-'));
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    const text = path.join(folder, 'not-a-library.so');
    writeFileSync(text, 'hello');
    expect(() => addon.loadKernel(text)).toThrow(/cannot load/);
    expect(() => addon.loadKernel('/lib/x86_64-linux-gnu/libm.so.6')).toThrow(/not a Flint kernel/);
    // x + s over 4 elements: one full and one scalar float32 input.
    const source = kernelSource(Int32Array.from([2, 1, 3, 1, 1, 4, 0, 0, 2, 0, 32, 2, 0, 1, 0]), new Float64Array(0), [
      OperandKind.fullFloat,
      OperandKind.scalarFloat,
    ]);
    expect(source).toContain('flint_kernel_signature[] = {2, 1, 0, 1, 0}');
    const sourceFile = path.join(folder, 'add.c');
    const library = path.join(folder, 'add.so');
    writeFileSync(sourceFile, source ?? '');
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-fPIC', '-shared', '-o', library, sourceFile, '-lm']);
    const id = addon.loadKernel(library);
    const full = Float32Array.of(1, 2, 3, 4);
    const scalar = Float32Array.of(10);
    const out = new Float32Array(4);
    const fullLayout = Int32Array.from([0, 1, 4, 1]);
    const scalarLayout = Int32Array.from([0, 1, 4, 0]);
    addon.runKernel(id, 4, full, fullLayout, scalar, scalarLayout, out);
    expect(Array.from(out)).toEqual([11, 12, 13, 14]);
    expect(() => addon.runKernel(1e9, 4, full, fullLayout, scalar, scalarLayout, out)).toThrow(RangeError);
    expect(() => addon.runKernel(id, 4, full, fullLayout, scalar, scalarLayout)).toThrow(/expected 7 arguments/);
    expect(() => addon.runKernel(id, 4, new Float32Array(8), Int32Array.from([0, 1, 4, 2]), scalar, scalarLayout, out)).toThrow(
      /contiguous/,
    );
    expect(() => addon.runKernel(id, 4, full, fullLayout, new Float32Array(4), Int32Array.from([0, 1, 4, 1]), out)).toThrow(/zero strides/);
    expect(() => addon.runKernel(id, 4, full, fullLayout, scalar, scalarLayout, new Float32Array(3))).toThrow();
    expect(() => addon.runKernel(id, 5, full, fullLayout, scalar, scalarLayout, out)).toThrow(/`size` elements/);
    expect(() => addon.runKernel(id, -1, full, fullLayout, scalar, scalarLayout, out)).toThrow(RangeError);
    expect(() => addon.runKernel(id, 4, new Int32Array(4), fullLayout, scalar, scalarLayout, out)).toThrow();
    expect(() => addon.runKernel(id, 4, full, Int32Array.from([2, 1, 4, 1]), scalar, scalarLayout, out)).toThrow();
  });
});
