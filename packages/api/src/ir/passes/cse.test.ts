import '../../index.js';
import { describe, expect, it } from 'vitest';
import { Primitive } from '../../primitives/primitive.js';
import { ProgramBuilder } from '../builder.js';
import { printProgram } from '../print.js';
import { verifyProgram } from '../verify.js';
import { eliminateCommonSubexpressions } from './cse.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });
const lines = (...l: string[]) => l.join('\n');

describe('common-subexpression elimination', () => {
  it('merges repeated equations and equal literals', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(3));
    const a1 = b.bind(Primitive.Mul, [x, b.literal(2, f32(3))], {});
    const a2 = b.bind(Primitive.Mul, [x, b.literal(2, f32(3))], {});
    const e1 = b.bind(Primitive.Exp, [a1], {});
    const e2 = b.bind(Primitive.Exp, [a2], {});
    const program = b.build('f', [b.bind(Primitive.Add, [e1, e2], {})]);
    expect(printProgram(program)).toBe(
      lines(
        'program f(%0: f32[3]) {',
        '  %1: f32[3] = mul %0 2.0',
        '  %2: f32[3] = mul %0 2.0',
        '  %3: f32[3] = exp %1',
        '  %4: f32[3] = exp %2',
        '  %5: f32[3] = add %3 %4',
        '  return %5',
        '}',
      ),
    );
    const after = eliminateCommonSubexpressions(program);
    verifyProgram(after);
    expect(printProgram(after)).toBe(
      lines(
        'program f(%0: f32[3]) {',
        '  %1: f32[3] = mul %0 2.0',
        '  %2: f32[3] = exp %1',
        '  %3: f32[3] = add %2 %2',
        '  return %3',
        '}',
      ),
    );
    expect(after.constants.size).toBe(1);
  });

  it('merges commutative operations written in either order', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(3));
    const y = b.input(f32(3));
    const p1 = b.bind(Primitive.Mul, [x, y], {});
    const p2 = b.bind(Primitive.Mul, [y, x], {});
    const d1 = b.bind(Primitive.Sub, [x, y], {});
    const d2 = b.bind(Primitive.Sub, [y, x], {});
    const program = b.build('f', [b.bind(Primitive.Add, [p1, p2], {}), b.bind(Primitive.Add, [d1, d2], {})]);
    const after = eliminateCommonSubexpressions(program);
    verifyProgram(after);
    expect(printProgram(after)).toBe(
      lines(
        'program f(%0: f32[3], %1: f32[3]) {',
        '  %2: f32[3] = mul %0 %1',
        '  %3: f32[3] = sub %0 %1',
        '  %4: f32[3] = sub %1 %0',
        '  %5: f32[3] = add %2 %2',
        '  %6: f32[3] = add %3 %4',
        '  return %5, %6',
        '}',
      ),
    );
  });

  it('keeps equations that differ in params, inputs or literal values', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(2, 3));
    const s0 = b.bind(Primitive.ReduceSum, [x], { axes: [0] });
    const s1 = b.bind(Primitive.ReduceSum, [x], { axes: [1] });
    const m2 = b.bind(Primitive.Mul, [x, b.literal(2, f32(2, 3))], {});
    const m3 = b.bind(Primitive.Mul, [x, b.literal(3, f32(2, 3))], {});
    const z = b.bind(Primitive.Pad, [x], {
      widths: [
        [0, 0],
        [0, 1],
      ],
      value: 0,
    });
    const nz = b.bind(Primitive.Pad, [x], {
      widths: [
        [0, 0],
        [0, 1],
      ],
      value: -0,
    });
    const program = b.build('g', [s0, s1, m2, m3, z, nz]);
    const after = eliminateCommonSubexpressions(program);
    expect(after).toBe(program);
    expect(after.equations).toHaveLength(6);
  });
});
