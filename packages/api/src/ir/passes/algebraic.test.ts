import '../../index.js';
import { describe, expect, it } from 'vitest';
import { Primitive } from '../../primitives/primitive.js';
import { ProgramBuilder } from '../builder.js';
import { printProgram } from '../print.js';
import { verifyProgram } from '../verify.js';
import { simplifyAlgebra } from './algebraic.js';
import { eliminateDeadCode } from './dead-code.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });
const lines = (...l: string[]) => l.join('\n');
const simplify = (p: Parameters<typeof simplifyAlgebra>[0]) => {
  const after = eliminateDeadCode(simplifyAlgebra(p));
  verifyProgram(after);
  return after;
};

describe('algebraic simplification', () => {
  it('removes x * 1, x + 0, x - 0, x / 1 and x ** 1', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(4));
    let y = b.bind(Primitive.Mul, [x, b.literal(1, f32(4))], {});
    y = b.bind(Primitive.Add, [b.literal(0, f32(4)), y], {});
    y = b.bind(Primitive.Sub, [y, b.literal(0, f32(4))], {});
    y = b.bind(Primitive.Div, [y, b.literal(1, f32(4))], {});
    y = b.bind(Primitive.Pow, [y, b.literal(1, f32(4))], {});
    y = b.bind(Primitive.Exp, [y], {});
    const program = b.build('f', [y]);
    expect(printProgram(program)).toBe(
      lines(
        'program f(%0: f32[4]) {',
        '  %1: f32[4] = mul %0 1.0',
        '  %2: f32[4] = add 0.0 %1',
        '  %3: f32[4] = sub %2 0.0',
        '  %4: f32[4] = div %3 1.0',
        '  %5: f32[4] = pow %4 1.0',
        '  %6: f32[4] = exp %5',
        '  return %6',
        '}',
      ),
    );
    expect(printProgram(simplify(program))).toBe(lines('program f(%0: f32[4]) {', '  %1: f32[4] = exp %0', '  return %1', '}'));
  });

  it('cancels a double transpose and a double negation, and composes reshapes and broadcasts', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(2, 3));
    const t = b.bind(Primitive.Transpose, [b.bind(Primitive.Transpose, [x], { perm: [1, 0] })], { perm: [1, 0] });
    const n = b.bind(Primitive.Neg, [b.bind(Primitive.Neg, [t], {})], {});
    const r = b.bind(Primitive.Reshape, [b.bind(Primitive.Reshape, [n], { shape: [6] })], { shape: [3, 2] });
    const v = b.input(f32(3));
    const wide = b.bind(Primitive.Broadcast, [b.bind(Primitive.Broadcast, [v], { shape: [1, 3] })], { shape: [4, 3] });
    const program = b.build('g', [r, wide]);
    expect(printProgram(simplify(program))).toBe(
      lines(
        'program g(%0: f32[2,3], %1: f32[3]) {',
        '  %2: f32[3,2] = reshape[shape=[3,2]] %0',
        '  %3: f32[4,3] = broadcast[shape=[4,3]] %1',
        '  return %2, %3',
        '}',
      ),
    );
  });

  it('rewrites x ** 2 as x * x, x * -1 as neg, and picks the branch of a where with a known condition', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(3));
    const y = b.input(f32(3));
    const sq = b.bind(Primitive.Pow, [x, b.literal(2, f32(3))], {});
    const ng = b.bind(Primitive.Mul, [b.literal(-1, f32(3)), sq], {});
    const pick = b.bind(Primitive.Where, [b.literal(0, { shape: [3], dtype: 'bool' }), ng, y], {});
    const program = b.build('h', [ng, pick]);
    expect(printProgram(simplify(program))).toBe(
      lines('program h(%0: f32[3], %1: f32[3]) {', '  %2: f32[3] = mul %0 %0', '  %3: f32[3] = neg %2', '  return %3, %1', '}'),
    );
  });

  it('removes casts to the same dtype and round trips through a wider dtype, but not narrowing ones', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(2));
    const back = b.bind(Primitive.Cast, [b.bind(Primitive.Cast, [x], { dtype: 'float64' })], { dtype: 'float32' });
    const lossy = b.bind(Primitive.Cast, [b.bind(Primitive.Cast, [x], { dtype: 'int32' })], { dtype: 'float32' });
    const program = b.build('k', [back, lossy]);
    expect(printProgram(simplify(program))).toBe(
      lines(
        'program k(%0: f32[2]) {',
        '  %1: i32[2] = cast[dtype=int32] %0',
        '  %2: f32[2] = cast[dtype=float32] %1',
        '  return %0, %2',
        '}',
      ),
    );
  });

  it('leaves IR without identities alone (x * 2, x + y, x * 0, a single transpose)', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(2, 2));
    const y = b.input(f32(2, 2));
    const m = b.bind(Primitive.Mul, [x, b.literal(2, f32(2, 2))], {});
    const z = b.bind(Primitive.Mul, [x, b.literal(0, f32(2, 2))], {});
    const t = b.bind(Primitive.Transpose, [b.bind(Primitive.Add, [m, y], {})], { perm: [1, 0] });
    const program = b.build('n', [t, z]);
    expect(simplifyAlgebra(program)).toBe(program);
  });
});
