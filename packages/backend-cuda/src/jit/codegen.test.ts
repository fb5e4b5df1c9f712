// The CUDA C that jit's fusions become. The programs are real ones: jit lowers functions on a
// backend whose `compile` hook records what it is handed. Where nvcc is installed (no GPU needed)
// the generated source is compiled to PTX, which is what NVRTC does with it on a GPU machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, jit, type KernelProgram, registerBackend, type Tensor, tensor } from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { nvccCandidates } from '../../scripts/build.mjs';
import { generateElementwise, generateReduction, literal } from './codegen.js';
import { broadcastStrides, elementwiseMath } from './compile.js';

const cpu = new CpuBackend();
const captured: KernelProgram[] = [];
const spy: Backend = {
  name: 'spy',
  capabilities: cpu.capabilities,
  kernels: cpu.kernels as Backend['kernels'],
  fromTypedArray: (data, shape, dtype) => cpu.fromTypedArray(data, shape, dtype),
  read: (handle) => cpu.read(handle as never),
  readSync: (handle) => cpu.readSync(handle as never),
  dispose: (handle) => cpu.dispose(handle as never),
  memory: () => cpu.memory(),
  compile: (kernel) => {
    captured.push(kernel);
    return null;
  },
};
registerBackend({ name: 'spy', priority: 0, create: () => spy });

/** The fused programs jit hands the backend for `f` applied to `args`. */
function programsOf(f: (...args: Tensor[]) => Tensor, ...args: Tensor[]): KernelProgram[] {
  captured.length = 0;
  (jit(f)(...args) as Tensor).dispose();
  return [...captured];
}

const nvcc = nvccCandidates().find((candidate) => existsSync(candidate));
const folder = mkdtempSync(join(tmpdir(), 'flint-cuda-jit-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function compileToPtx(source: string, name: string): string {
  const file = join(folder, `${name}.cu`);
  writeFileSync(file, source);
  execFileSync(nvcc as string, ['-arch=sm_90', '--ptx', '-o', join(folder, `${name}.ptx`), file], { stdio: 'pipe' });
  return join(folder, `${name}.ptx`);
}

describe('CUDA C for fused elementwise kernels', () => {
  const x = tensor(
    Array.from({ length: 12 }, (_, i) => i / 3 - 2),
    { shape: [3, 4], backend: 'spy' },
  );
  const row = tensor([0.5, -1, 2, 0], { backend: 'spy' });
  const chain = (a: Tensor, b: Tensor) => a.mul(2).add(b).tanh().maximum(0.25).less(a).where(a, b.neg());
  const programs = programsOf(chain, x, row);
  const elementwise = programs.filter((p) => p.kind === 'elementwise');

  it('receives an elementwise fusion from jit', () => {
    expect(elementwise.length).toBeGreaterThan(0);
  });

  it('reads every input through strides and evaluates the ops with the shared scalar semantics', () => {
    const generated = generateElementwise(elementwise[0] as KernelProgram, elementwiseMath());
    expect(generated).not.toBeNull();
    const source = generated!.source;
    expect(source).toContain('extern "C" __global__ void flint_fused(FlintJitParams p');
    expect(source).toContain('flint_math::unaryOf(12'); // tanh
    expect(source).toContain('flint_math::binaryOf(5'); // maximum
    expect(source).toContain('flint_math::compare<float>(11'); // less
    expect(source).toMatch(/out0\[i\] = t\d+;/);
    expect(generated!.inputDTypes.every((d) => d === 'float32')).toBe(true);
    expect(generated!.shape).toEqual([3, 4]);
  });

  it.skipIf(nvcc === undefined)('compiles with nvcc for sm_90 (no GPU needed)', () => {
    for (const [i, program] of elementwise.entries()) {
      const generated = generateElementwise(program, elementwiseMath(), `flint_fused_${i}`);
      if (generated === null) continue;
      expect(() => compileToPtx(generated.source, `chain${i}`)).not.toThrow();
    }
  });

  it.skipIf(nvcc === undefined)('compiles casts, integer and bool ops, and literals of every dtype', () => {
    const ints = tensor([1, -2, 3, 7], { dtype: 'int32', backend: 'spy' });
    const mixed = (a: Tensor) => a.mod(3).floorDivide(2).add(1).cast('float32').mul(0.1).greater(0).logicalOr(a.equal(7)).cast('uint8');
    const found = programsOf(mixed, ints).filter((p) => p.kind === 'elementwise');
    expect(found.length).toBeGreaterThan(0);
    for (const [i, program] of found.entries()) {
      const generated = generateElementwise(program, elementwiseMath(), `flint_mixed_${i}`);
      expect(generated).not.toBeNull();
      expect(() => compileToPtx(generated!.source, `mixed${i}`)).not.toThrow();
    }
  });

  it.skipIf(nvcc === undefined)('compiles float16 and bfloat16 chains, their literals and casts included', () => {
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const half = x.cast(dtype);
      const chain = (a: Tensor) => a.mul(0.1).add(1).exp().maximum(a).cast('float32').add(2).cast(dtype).less(a);
      const found = programsOf(chain, half).filter((p) => p.kind === 'elementwise');
      expect(found.length).toBeGreaterThan(0);
      for (const [i, program] of found.entries()) {
        const generated = generateElementwise(program, elementwiseMath(), `flint_${dtype}_${i}`);
        expect(generated).not.toBeNull();
        expect(generated!.source).toContain(`flint_math::${dtype === 'float16' ? 'Float16' : 'BFloat16'}`);
        expect(() => compileToPtx(generated!.source, `${dtype}${i}`)).not.toThrow();
      }
    }
  });

  it.skipIf(nvcc === undefined)('compiles reductions with their prologue, in every float dtype and int32', () => {
    for (const dtype of ['float32', 'float64', 'float16', 'bfloat16', 'int32'] as const) {
      const input = dtype === 'int32' ? tensor([1, -2, 3, 7, 0, 4], { shape: [2, 3], dtype, backend: 'spy' }) : x.cast(dtype);
      for (const [name, reduce] of [
        ['sum', (t: Tensor) => t.add(t).sum(1)],
        ['max', (t: Tensor) => t.abs().max(0)],
        ['prod', (t: Tensor) => t.mul(t).prod()],
        // A prologue value the program also uses: a further output of the same kernel.
        [
          'mapped',
          (t: Tensor) => {
            const e = t.add(t);
            return e.mul(e.sum(1, true));
          },
        ],
      ] as const) {
        const found = programsOf(reduce, input).filter((p) => p.kind === 'reduction');
        expect(found.length, `${name} ${dtype}`).toBeGreaterThan(0);
        for (const [i, program] of found.entries()) {
          const generated = generateReduction(program, elementwiseMath(), `flint_${name}_${dtype}_${i}`);
          expect(generated, `${name} ${dtype}`).not.toBeNull();
          expect(() => compileToPtx(generated!.source, `${name}${dtype}${i}`)).not.toThrow();
        }
      }
    }
  });

  it('declines programs it does not generate code for', () => {
    const reduction = programsOf((a: Tensor) => a.exp().sum(1), x).find((p) => p.kind === 'reduction');
    expect(reduction).toBeDefined();
    expect(generateElementwise(reduction as KernelProgram, elementwiseMath())).toBeNull();
  });

  it('writes a prologue value the program also uses as a further output, row-major, beside the reduction', () => {
    const mapped = programsOf((a: Tensor) => {
      const e = a.exp();
      return e.add(e.sum(1, true));
    }, x).find((p) => p.kind === 'reduction' && p.outputs.length > 1);
    expect(mapped).toBeDefined();
    const generated = generateReduction(mapped as KernelProgram, elementwiseMath());
    expect(generated?.full).toEqual((mapped as KernelProgram).outputs.map((index) => index !== (mapped as KernelProgram).ops.length - 1));
    expect(generated?.source).toMatch(/\[element\] = /);
  });
});

describe('literals', () => {
  it('name floats exactly, with the special values spelled as bit patterns', () => {
    expect(literal(0.1, 'float64')).toBe('(double)(0.10000000000000001)');
    expect(literal(0.1, 'float32')).toBe('(float)(0.10000000000000001)');
    expect(literal(-0, 'float32')).toBe('(float)(-0.0)');
    expect(literal(Number.NaN, 'float32')).toBe('__int_as_float(0x7fc00000)');
    expect(literal(-Infinity, 'float64')).toBe('__longlong_as_double(0xfff0000000000000LL)');
  });

  it('convert integers and bools as a typed-array store does', () => {
    expect(literal(-2.9, 'int32')).toBe('(int)(-2)');
    expect(literal(300, 'uint8')).toBe('(unsigned char)(44)');
    expect(literal(Number.NaN, 'bool')).toBe('(unsigned char)1');
    expect(literal(0, 'bool')).toBe('(unsigned char)0');
  });
});

describe('broadcastStrides', () => {
  it('aligns a smaller input to the right with zero strides where it is broadcast', () => {
    const handle = { shape: [4], strides: [1], offset: 0 } as never;
    expect(broadcastStrides(handle, [3, 4])).toEqual([0, 1]);
    const column = { shape: [3, 1], strides: [5, 1], offset: 0 } as never;
    expect(broadcastStrides(column, [2, 3, 4])).toEqual([0, 5, 0]);
  });
});
