import '@flint/backend-cpu';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../index.js';
import { jit } from '../../jit/jit.js';
import { Primitive } from '../../primitives/primitive.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ProgramBuilder } from '../builder.js';
import { printProgram } from '../print.js';
import type { Program } from '../program.js';
import { verifyProgram } from '../verify.js';
import { fuse } from './fusion.js';
import { sinkScalars } from './scalar-sinking.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });
const lines = (...l: string[]) => l.join('\n');
const sunk = (program: Program, recomputeScalars = true) => {
  const after = sinkScalars(fuse(program), { recomputeScalars });
  verifyProgram(after, 'scalar sinking');
  return after;
};
const kernels = (program: Program) => program.equations.filter((e) => e.kind === 'fusion').length;

/** An Adam-like update: x * (lr / (1 - 0.9^t)) / sqrt(1 - 0.999^t), the scalars from rank-0 inputs. */
function update(): Program {
  const b = new ProgramBuilder();
  const x = b.input(f32(4, 8));
  const t = b.input(f32());
  const lr = b.input(f32());
  const scalar = f32();
  const correction = (log: number) =>
    b.bind(Primitive.Neg, [b.bind(Primitive.Expm1, [b.bind(Primitive.Mul, [t, b.literal(log, scalar)], {})], {})], {});
  const size = b.bind(Primitive.Div, [lr, correction(Math.log(0.9))], {});
  const root = b.bind(Primitive.Sqrt, [correction(Math.log(0.999))], {});
  const scaled = b.bind(Primitive.Mul, [x, b.bind(Primitive.Broadcast, [size], { shape: [4, 8] })], {});
  const y = b.bind(Primitive.Div, [scaled, b.bind(Primitive.Broadcast, [root], { shape: [4, 8] })], {});
  return b.build('update', [y]);
}

describe('scalar sinking', () => {
  it('moves rank-0 arithmetic into the kernel that reads it, reading the rank-0 inputs instead: one kernel where fusion made three', () => {
    const program = update();
    expect(kernels(fuse(program))).toBe(3);
    const after = sunk(program);
    expect(kernels(after)).toBe(1);
    expect(printProgram(after)).toBe(
      lines(
        'program update(%0: f32[4,8], %1: f32[], %2: f32[]) {',
        '  %3: f32[4,8] = elementwise fusion(%0 %1 -0.0010005003335835344 -0.10536051565782628 %2) {',
        '    %4: f32[4,8] = broadcast[shape=[4,8]] %1',
        '    %5: f32[4,8] = mul %4 -0.10536051565782628',
        '    %6: f32[4,8] = expm1 %5',
        '    %7: f32[4,8] = neg %6',
        '    %8: f32[4,8] = broadcast[shape=[4,8]] %2',
        '    %9: f32[4,8] = div %8 %7',
        '    %10: f32[4,8] = mul %0 %9',
        '    %11: f32[4,8] = broadcast[shape=[4,8]] %1',
        '    %12: f32[4,8] = mul %11 -0.0010005003335835344',
        '    %13: f32[4,8] = expm1 %12',
        '    %14: f32[4,8] = neg %13',
        '    %15: f32[4,8] = sqrt %14',
        '    %3: f32[4,8] = div %10 %15',
        '  }',
        '  return %3',
        '}',
      ),
    );
  });

  it('changes nothing unless the backend asks for it', () => {
    const fused = fuse(update());
    expect(sinkScalars(fused, {})).toBe(fused);
    expect(sinkScalars(fused, { recomputeScalars: false })).toBe(fused);
  });

  it('sinks nothing from a scalar kernel that stays anyway (its value a program output, or read unfused or by a contraction)', () => {
    // Recomputing it would then save no launch and add the arithmetic to every element.
    const b = new ProgramBuilder();
    const x = b.input(f32(16));
    const t = b.input(f32());
    const s = b.bind(Primitive.Exp, [b.bind(Primitive.Mul, [t, b.literal(2, f32())], {})], {});
    const y = b.bind(Primitive.Add, [x, b.bind(Primitive.Broadcast, [s], { shape: [16] })], {});
    const fused = fuse(b.build('output', [y, s]));
    expect(sinkScalars(fused, { recomputeScalars: true })).toBe(fused);

    const c = new ProgramBuilder();
    const m = c.input(f32(4, 3));
    const w = c.input(f32(3, 4));
    const v = c.input(f32(4, 4));
    const u = c.input(f32());
    const scale = c.bind(Primitive.Exp, [c.bind(Primitive.Neg, [u], {})], {});
    const product = c.bind(Primitive.DotGeneral, [m, w], { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] });
    // Read by a contraction's epilogue and by an elementwise kernel: the epilogue keeps it.
    const z = c.bind(Primitive.Mul, [product, c.bind(Primitive.Broadcast, [scale], { shape: [4, 4] })], {});
    const r = c.bind(Primitive.Tanh, [c.bind(Primitive.Mul, [v, c.bind(Primitive.Broadcast, [scale], { shape: [4, 4] })], {})], {});
    const epilogue = fuse(c.build('epilogue', [z, r]));
    expect(sinkScalars(epilogue, { recomputeScalars: true })).toBe(epilogue);
  });

  it('sinks nothing into a kernel the backend would not compile', () => {
    const fused = fuse(update());
    expect(sinkScalars(fused, { recomputeScalars: true, compiles: () => false })).toBe(fused);
    const seen: number[] = [];
    const after = sinkScalars(fused, {
      recomputeScalars: true,
      compiles: (kernel) => {
        seen.push(kernel.ops.length);
        return true;
      },
    });
    expect(kernels(after)).toBe(1);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('leaves a chain that would add to the tensors a kernel reads (backends bound them)', () => {
    // s = a * b + c from three rank-0 inputs, read by a kernel that reads s alone besides x.
    const b = new ProgramBuilder();
    const x = b.input(f32(16));
    const [p, q, r] = [b.input(f32()), b.input(f32()), b.input(f32())];
    const s = b.bind(Primitive.Add, [b.bind(Primitive.Mul, [p, q], {}), r], {});
    const y = b.bind(Primitive.Mul, [x, b.bind(Primitive.Broadcast, [s], { shape: [16] })], {});
    expect(kernels(sunk(b.build('wide', [y])))).toBe(2);
  });

  it('a jitted function computes the same values with its scalars sunk, in fewer kernels', () => {
    // The cpu backend, told to sink (as the GPU backends are): the same kernels' code, per element.
    const x = tensor([
      [0.5, -1, 2],
      [3, -0.25, 1],
    ]);
    const [t, lr] = [tensor(3), tensor(0.1)];
    const step = (v: Tensor, count: Tensor, rate: Tensor) =>
      v.mul(rate.div(count.mul(Math.log(0.9)).expm1().neg())).div(count.mul(Math.log(0.999)).expm1().neg().sqrt().add(1e-8));
    const capabilities = (x._backend as { capabilities: { recomputeScalars?: boolean } }).capabilities;
    const saved = capabilities.recomputeScalars;
    const run = (recompute: boolean) => {
      capabilities.recomputeScalars = recompute;
      try {
        const f = jit(step);
        return { kernels: kernels(f.lower(x, t, lr).optimized), values: Array.from((f(x, t, lr) as Tensor).dataSync()) };
      } finally {
        capabilities.recomputeScalars = saved;
      }
    };
    const [plain, sunkRun] = [run(false), run(true)];
    // Without sinking: one kernel for both scalars (the count is an int32 cast once), one for x.
    expect(plain.kernels).toBe(2);
    expect(sunkRun.kernels).toBe(1);
    expect(sunkRun.values).toEqual(plain.values);
    expect(sunkRun.values).toEqual(Array.from((step(x, t, lr) as Tensor).dataSync()));
  });
});
