import '../../index.js';
import { describe, expect, it } from 'vitest';
import { Primitive } from '../../primitives/primitive.js';
import { ProgramBuilder } from '../builder.js';
import type { CompositeCall } from '../composite.js';
import { runPasses } from '../pipeline.js';
import { printProgram } from '../print.js';
import type { Program, Var } from '../program.js';
import { verifyProgram } from '../verify.js';
import { formComposites } from './composites.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });
const SOFTMAX: CompositeCall = { name: 'softmax', axis: 1, log: false };
const everyKernel = { composites: () => true };

/**
 * A program computing softmax along axis 1 of a [2, 3] input, recorded as a composite region,
 * then `after(program's builder, x, softmax output)` for what follows it.
 */
function softmaxProgram(after: (b: ProgramBuilder, x: Var, y: Var, exp: Var) => Var[]): Program {
  const b = new ProgramBuilder();
  const x = b.input(f32(2, 3));
  const first = b.equationCount;
  const peak = b.bind(Primitive.ReduceMax, [x], { axes: [1] });
  const column = b.bind(Primitive.Reshape, [peak], { shape: [2, 1] });
  const shifted = b.bind(Primitive.Sub, [x, b.bind(Primitive.Broadcast, [column], { shape: [2, 3] })], {});
  const exp = b.bind(Primitive.Exp, [shifted], {});
  const total = b.bind(Primitive.Reshape, [b.bind(Primitive.ReduceSum, [exp], { axes: [1] })], { shape: [2, 1] });
  const y = b.bind(Primitive.Div, [exp, b.bind(Primitive.Broadcast, [total], { shape: [2, 3] })], {});
  b.composite(SOFTMAX, [x], [y], first);
  return b.build('f', after(b, x, y, exp));
}

describe('composite formation', () => {
  it('turns a whole region into one composite equation that keeps its primitives as the body', () => {
    const program = softmaxProgram((b, _x, y) => [b.bind(Primitive.Mul, [y, y], {})]);
    const after = formComposites(program, everyKernel);
    verifyProgram(after);
    expect(after.equations).toHaveLength(2);
    const composite = after.equations[0];
    expect(composite?.kind === 'fusion' && composite.composite).toEqual(SOFTMAX);
    expect(composite?.kind === 'fusion' && composite.body).toHaveLength(9);
    expect(printProgram(after)).toContain('composite softmax(axis=1, log=false)(%0) {');
  });

  it('leaves the primitives alone when something outside reads an intermediate value, or the backend has no kernel', () => {
    const escaping = softmaxProgram((b, _x, y, exp) => [b.bind(Primitive.Add, [y, exp], {})]);
    expect(formComposites(escaping, everyKernel)).toBe(escaping);
    const returned = softmaxProgram((_b, _x, y, exp) => [y, exp]);
    expect(formComposites(returned, everyKernel)).toBe(returned);
    const whole = softmaxProgram((_b, _x, y) => [y]);
    expect(formComposites(whole, { composites: () => false })).toBe(whole);
    expect(formComposites(whole, {})).toBe(whole);
  });

  it('skips a region whose Vars the program no longer defines all of', () => {
    const program = softmaxProgram((_b, _x, y) => [y]);
    const region = program.composites?.[0];
    if (region === undefined) throw new Error('no region recorded');
    // A derived program that kept the output's equation but not the others (as a split would).
    const partial: Program = { ...program, equations: program.equations.slice(-1) };
    expect(formComposites(partial, everyKernel)).toBe(partial);
  });

  it('survives the whole pipeline: renamed inputs reach the body, and dead-code elimination keeps it whole', () => {
    const b = new ProgramBuilder();
    const input = b.input(f32(2, 3));
    // x * 1 simplifies to the input: the composite's argument and its body must both be renamed.
    const x = b.bind(Primitive.Mul, [input, b.literal(1, f32(2, 3))], {});
    const first = b.equationCount;
    const exp = b.bind(Primitive.Exp, [x], {});
    const total = b.bind(Primitive.Reshape, [b.bind(Primitive.ReduceSum, [exp], { axes: [1] })], { shape: [2, 1] });
    const y = b.bind(Primitive.Div, [exp, b.bind(Primitive.Broadcast, [total], { shape: [2, 3] })], {});
    b.composite(SOFTMAX, [x], [y], first);
    const { program } = runPasses(b.build('g', [y]), everyKernel);
    verifyProgram(program);
    const composite = program.equations.find((e) => e.kind === 'fusion' && e.composite !== undefined);
    if (composite?.kind !== 'fusion') throw new Error(`no composite in\n${printProgram(program)}`);
    expect(composite.inputs[0]).toBe(program.inputs[0]);
    expect(composite.body[0]?.inputs[0]).toBe(program.inputs[0]);
    expect(composite.body).toHaveLength(5);
  });

  it('keeps fusion from grouping an op with a producer it reaches through a composite (a cycle)', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(2, 3));
    const a = b.bind(Primitive.Exp, [x], {});
    const first = b.equationCount;
    const total = b.bind(Primitive.Reshape, [b.bind(Primitive.ReduceSum, [a], { axes: [1] })], { shape: [2, 1] });
    const y = b.bind(Primitive.Div, [a, b.bind(Primitive.Broadcast, [total], { shape: [2, 3] })], {});
    b.composite(SOFTMAX, [a], [y], first);
    // add(a, y) may not join exp's group: y, computed by the composite, reads a.
    const out = b.bind(Primitive.Add, [a, y], {});
    const { program } = runPasses(b.build('h', [b.bind(Primitive.Neg, [out], {})]), everyKernel);
    verifyProgram(program);
    expect(printProgram(program)).toContain('composite softmax');
  });

  it('lets common-subexpression elimination merge two composites of one call on the same Vars', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(2, 3));
    const softmaxOf = (input: Var): Var => {
      const first = b.equationCount;
      const exp = b.bind(Primitive.Exp, [input], {});
      const total = b.bind(Primitive.Reshape, [b.bind(Primitive.ReduceSum, [exp], { axes: [1] })], { shape: [2, 1] });
      const y = b.bind(Primitive.Div, [exp, b.bind(Primitive.Broadcast, [total], { shape: [2, 3] })], {});
      b.composite(SOFTMAX, [input], [y], first);
      return y;
    };
    const out = b.bind(Primitive.Add, [softmaxOf(x), softmaxOf(x)], {});
    const { program } = runPasses(b.build('twice', [out]), everyKernel);
    verifyProgram(program);
    const composites = program.equations.filter((e) => e.kind === 'fusion' && e.composite !== undefined);
    expect(composites).toHaveLength(1);
  });
});
