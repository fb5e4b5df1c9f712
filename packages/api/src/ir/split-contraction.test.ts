import { describe, expect, it } from 'vitest';
import { Primitive } from '../primitives/primitive.js';
import type { KernelProgram } from './kernel.js';
import { splitContraction } from './kernel.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });
const dot = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] };

// inputs: 0 a residual, 1 the lhs, 2 the rhs, 3 a bias; ops: 0 dot, 1 + bias, 2 max(., 0), 3 + residual.
const kernel: KernelProgram = {
  kind: 'contraction',
  inputs: [f32(4, 3), f32(4, 5), f32(5, 3), f32(3)],
  ops: [
    {
      primitive: Primitive.DotGeneral,
      params: dot as never,
      args: [
        { kind: 'input', index: 1 },
        { kind: 'input', index: 2 },
      ],
      aval: f32(4, 3),
    },
    {
      primitive: Primitive.Add,
      params: {} as never,
      args: [
        { kind: 'op', index: 0 },
        { kind: 'input', index: 3 },
      ],
      aval: f32(4, 3),
    },
    {
      primitive: Primitive.Max,
      params: {} as never,
      args: [
        { kind: 'op', index: 1 },
        { kind: 'literal', value: 0 },
      ],
      aval: f32(4, 3),
    },
    {
      primitive: Primitive.Add,
      params: {} as never,
      args: [
        { kind: 'op', index: 2 },
        { kind: 'input', index: 0 },
      ],
      aval: f32(4, 3),
    },
  ],
  outputs: [3, 0],
  reusable: [true, false, false, true],
  text: 'test',
};

describe('splitContraction', () => {
  it('takes the contraction apart from an epilogue that reads the result and only the inputs it names', () => {
    const split = splitContraction(kernel);
    expect(split).not.toBeNull();
    const { head, lhs, rhs, epilogue, resultIsOutput } = split!;
    expect([head.primitive, lhs, rhs, resultIsOutput]).toEqual([Primitive.DotGeneral, 1, 2, true]);
    // The result first, then the residual (input 0) and the bias (input 3); not the operands.
    expect(epilogue?.inputs).toEqual([f32(4, 3), f32(4, 3), f32(3)]);
    expect(epilogue?.reusable).toEqual([false, true, true]);
    expect(epilogue?.ops.map((op) => op.args)).toEqual([
      [
        { kind: 'input', index: 0 },
        { kind: 'input', index: 2 },
      ],
      [
        { kind: 'op', index: 0 },
        { kind: 'literal', value: 0 },
      ],
      [
        { kind: 'op', index: 1 },
        { kind: 'input', index: 1 },
      ],
    ]);
    expect(epilogue?.outputs).toEqual([2]);
    expect(split!.epilogueArgs('result', ['r', 'a', 'b', 'bias'])).toEqual(['result', 'r', 'bias']);
    expect(split!.assemble('result', ['relu'])).toEqual(['relu', 'result']);
  });

  it('declines kernels that are not a contraction of two inputs', () => {
    expect(splitContraction({ ...kernel, kind: 'elementwise' })).toBeNull();
    const fromOp = {
      ...kernel,
      ops: [
        {
          ...kernel.ops[0]!,
          args: [
            { kind: 'literal', value: 1 },
            { kind: 'input', index: 2 },
          ] as const,
        },
      ],
    };
    expect(splitContraction(fromOp as KernelProgram)).toBeNull();
  });
});
