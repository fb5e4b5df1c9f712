import { describe, expect, it } from 'vitest';
import { Primitive } from '../primitives/primitive.js';
import type { KernelOp, KernelProgram } from './kernel.js';
import { splitColumnReduction } from './kernel.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });

/** inputs 0, 1 of `shape`; ops: 0 = input0 * input1, 1 = exp(op 0), 2 = reduceSum(op 1, axes); returns `outputs`. */
function kernel(shape: number[], axes: number[], outputs: number[]): KernelProgram {
  const kept = shape.filter((_, d) => !axes.includes(d));
  const ops: KernelOp[] = [
    {
      primitive: Primitive.Mul,
      params: {} as never,
      args: [
        { kind: 'input', index: 0 },
        { kind: 'input', index: 1 },
      ],
      aval: f32(...shape),
    },
    { primitive: Primitive.Exp, params: {} as never, args: [{ kind: 'op', index: 0 }], aval: f32(...shape) },
    { primitive: Primitive.ReduceSum, params: { axes } as never, args: [{ kind: 'op', index: 1 }], aval: f32(...kept) },
  ];
  return { kind: 'reduction', inputs: [f32(...shape), f32(...shape)], ops, outputs, reusable: [true, false], text: 'k' };
}

describe('splitColumnReduction', () => {
  it('takes a reduction of leading axes into many outputs apart: the prologue, then the reduction', () => {
    const split = splitColumnReduction(kernel([300, 64], [0], [2]));
    expect(split).not.toBeNull();
    expect(split?.reduction.primitive).toBe(Primitive.ReduceSum);
    expect(split?.prologue?.kind).toBe('elementwise');
    expect(split?.prologue?.ops.length).toBe(2);
    expect(split?.prologue?.outputs).toEqual([1]);
    expect(split?.operandIsTemporary).toBe(true);
    expect(split?.operand(['x', 'y'], ['e'])).toBe('e');
    expect(split?.assemble('sum', ['e'])).toEqual(['sum']);
  });

  it('keeps a prologue value the kernel returns, in the kernel output order', () => {
    const split = splitColumnReduction(kernel([40, 3, 48], [0, 1], [2, 0, 1]));
    expect(split?.prologue?.outputs).toEqual([1, 0]);
    expect(split?.operandIsTemporary).toBe(false);
    expect(split?.assemble('sum', ['e', 'p'])).toEqual(['sum', 'p', 'e']);
  });

  it('declines trailing axes, few outputs, short columns, and kernels that do not return the reduction', () => {
    expect(splitColumnReduction(kernel([64, 300], [1], [2]))).toBeNull();
    expect(splitColumnReduction(kernel([300, 31], [0], [2]))).toBeNull();
    expect(splitColumnReduction(kernel([32, 64], [0], [2]))).toBeNull();
    expect(splitColumnReduction(kernel([300, 64], [0], [1]))).toBeNull();
    expect(splitColumnReduction({ ...kernel([300, 64], [0], [2]), kind: 'elementwise' })).toBeNull();
  });
});
