import '../../index.js';
import '@flint/backend-cpu';
import { describe, expect, it } from 'vitest';
import { tensor } from '../../ops/convert.js';
import { Primitive } from '../../primitives/primitive.js';
import { evalPrimitive } from '../../tensor/dispatch.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ProgramBuilder } from '../builder.js';
import { printProgram } from '../print.js';
import { verifyProgram } from '../verify.js';
import { foldConstants } from './constant-folding.js';
import type { PassContext } from './context.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });
const lines = (...l: string[]) => l.join('\n');

describe('constant folding', () => {
  it('folds creation, arithmetic on literals, movement and reductions of literals into literals', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(2, 3));
    const half = b.bind(Primitive.Full, [], { shape: [], dtype: 'float32', value: 0.5 });
    const one = b.bind(Primitive.Add, [half, b.literal(0.5, f32())], {});
    const wide = b.bind(Primitive.Broadcast, [one], { shape: [2, 3] });
    const count = b.bind(Primitive.ReduceSum, [wide], { axes: [0, 1] });
    const scaled = b.bind(Primitive.Mul, [x, wide], {});
    const program = b.build('f', [scaled, count]);
    expect(printProgram(program)).toBe(
      lines(
        'program f(%0: f32[2,3]) {',
        '  %1: f32[] = full[shape=[] dtype=float32 value=0.5]',
        '  %2: f32[] = add %1 0.5',
        '  %3: f32[2,3] = broadcast[shape=[2,3]] %2',
        '  %4: f32[] = reduceSum[axes=[0,1]] %3',
        '  %5: f32[2,3] = mul %0 %3',
        '  return %5, %4',
        '}',
      ),
    );
    const after = foldConstants(program);
    verifyProgram(after);
    expect(printProgram(after)).toBe(lines('program f(%0: f32[2,3]) {', '  %1: f32[2,3] = mul %0 1.0', '  return %1, 6.0', '}'));
  });

  it('rounds folded literals to the dtype, as a kernel would store them', () => {
    const b = new ProgramBuilder();
    const third = b.bind(Primitive.Div, [b.literal(1, f32()), b.literal(3, f32())], {});
    const int = b.bind(Primitive.Cast, [b.literal(2.9, f32())], { dtype: 'int32' });
    const wrapped = b.bind(
      Primitive.Add,
      [b.literal(2147483647, { shape: [], dtype: 'int32' }), b.literal(1, { shape: [], dtype: 'int32' })],
      {},
    );
    const after = foldConstants(b.build('g', [third, int, wrapped]));
    const values = after.outputs.map((v) => {
      const c = after.constants.get(v);
      return c?.kind === 'literal' ? c.value : undefined;
    });
    expect(values).toEqual([Math.fround(1 / 3), 2, -2147483648]);
  });

  it('computes small results from tensor constants with the evaluator, and leaves inputs and large results alone', () => {
    const created: Tensor[] = [];
    const context: PassContext = { evaluate: (p, inputs, params) => evalPrimitive(p, inputs, params), created, foldLimit: 8 };
    const b = new ProgramBuilder();
    const x = b.input(f32(3));
    const w = b.tensor(tensor([1, 2, 3], { dtype: 'float32' }));
    const ew = b.bind(Primitive.Exp, [w], {});
    const index = b.bind(Primitive.Iota, [], { shape: [3], dtype: 'float32', axis: 0 });
    const big = b.bind(Primitive.Iota, [], { shape: [16], dtype: 'float32', axis: 0 });
    const y = b.bind(Primitive.Mul, [x, ew], {});
    const program = b.build('h', [y, index, big]);
    const after = foldConstants(program, context);
    verifyProgram(after);
    expect(printProgram(after)).toBe(
      lines(
        'program h(%0: f32[3]) {',
        '  const %1: f32[3]',
        '  const %2: f32[3]',
        '  const %3: f32[3]',
        '  %4: f32[16] = iota[shape=[16] dtype=float32 axis=0]',
        '  %5: f32[3] = mul %0 %2',
        '  return %5, %3, %4',
        '}',
      ),
    );
    const folded = [...after.constants.values()].map((c) => (c.kind === 'tensor' ? Array.from(c.tensor.dataSync()) : c.value));
    expect(folded[1]).toEqual(Array.from(new Float32Array([Math.exp(1), Math.exp(2), Math.exp(3)])));
    expect(folded[2]).toEqual([0, 1, 2]);
    expect(created.length).toBe(2);
  });

  it('leaves a program without constant-only equations unchanged', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(4));
    const program = b.build('k', [b.bind(Primitive.Exp, [b.bind(Primitive.Neg, [x], {})], {})]);
    expect(foldConstants(program)).toBe(program);
  });
});
