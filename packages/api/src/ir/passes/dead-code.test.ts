import '../../index.js';
import { describe, expect, it } from 'vitest';
import { Primitive } from '../../primitives/primitive.js';
import { ProgramBuilder } from '../builder.js';
import { printProgram } from '../print.js';
import { verifyProgram } from '../verify.js';
import { eliminateDeadCode } from './dead-code.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });

describe('dead-code elimination', () => {
  it('removes unused equations and their producers, and unused constants', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(4));
    const two = b.literal(2, f32(4));
    const unusedExp = b.bind(Primitive.Exp, [x], {});
    b.bind(Primitive.Log, [unusedExp], {});
    const y = b.bind(Primitive.Mul, [x, x], {});
    b.bind(Primitive.Add, [y, two], {});
    const program = b.build('f', [y]);
    expect(printProgram(program)).toBe(
      [
        'program f(%0: f32[4]) {',
        '  %1: f32[4] = exp %0',
        '  %2: f32[4] = log %1',
        '  %3: f32[4] = mul %0 %0',
        '  %4: f32[4] = add %3 2.0',
        '  return %3',
        '}',
      ].join('\n'),
    );
    const after = eliminateDeadCode(program);
    verifyProgram(after);
    expect(printProgram(after)).toBe(['program f(%0: f32[4]) {', '  %1: f32[4] = mul %0 %0', '  return %1', '}'].join('\n'));
    expect(after.constants.size).toBe(0);
  });

  it('leaves a program whose every value is used unchanged', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(2, 3));
    const s = b.bind(Primitive.ReduceSum, [x], { axes: [1] });
    const e = b.bind(Primitive.Exp, [s], {});
    const program = b.build('g', [e, s]);
    const after = eliminateDeadCode(program);
    expect(printProgram(after)).toBe(printProgram(program));
    expect(after.equations).toHaveLength(2);
  });

  it('drops unused outputs of a fusion and the body equations that only fed them', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(8));
    const e = b.bind(Primitive.Exp, [x], {});
    const t = b.bind(Primitive.Tanh, [x], {});
    const program = b.build('h', [e]);
    const fusedProgram = {
      ...program,
      equations: [
        {
          kind: 'fusion' as const,
          fusion: 'elementwise' as const,
          inputs: [x],
          body: program.equations.filter((q) => q.kind === 'primitive'),
          outputs: [e, t],
        },
      ],
    };
    const after = eliminateDeadCode(fusedProgram);
    verifyProgram(after);
    const fusion = after.equations[0];
    expect(fusion?.kind).toBe('fusion');
    if (fusion?.kind !== 'fusion') return;
    expect(fusion.outputs).toEqual([e]);
    expect(fusion.body.map((q) => q.primitive)).toEqual([Primitive.Exp]);
  });
});
