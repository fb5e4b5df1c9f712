import '../../index.js';
import { describe, expect, it } from 'vitest';
import { Primitive } from '../../primitives/primitive.js';
import { ProgramBuilder } from '../builder.js';
import { printProgram } from '../print.js';
import { fuse } from './fusion.js';
import { planMemory } from './memory-plan.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });
const lines = (...l: string[]) => l.join('\n');

describe('memory planning', () => {
  it('frees each value after its last use and never frees outputs', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(256));
    const a = b.bind(Primitive.Exp, [x], {});
    const c = b.bind(Primitive.ReduceSum, [a], { axes: [0] });
    const d = b.bind(Primitive.Log, [a], {});
    const e = b.bind(Primitive.Neg, [d], {});
    const program = planMemory(b.build('f', [c, e]));
    expect(printProgram(program)).toBe(
      lines(
        'program f(%0: f32[256]) {',
        '  %1: f32[256] = exp %0',
        '    # free %0',
        '  %2: f32[] = reduceSum[axes=[0]] %1',
        '  %3: f32[256] = log %1',
        '    # free %1',
        '  %4: f32[256] = neg %3',
        '    # free %3',
        '  return %2, %4',
        '  # memory: peak 2.0 KiB of intermediates; 0 B may be written in place',
        '}',
      ),
    );
  });

  it('lets a fused kernel write into an input that dies there, but not into one used later or returned', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(1024));
    const y = b.input(f32(1024));
    const t = b.bind(Primitive.Exp, [x], {});
    let u = b.bind(Primitive.Mul, [t, y], {});
    u = b.bind(Primitive.Tanh, [u], {});
    const w = b.bind(Primitive.Add, [u, b.literal(1, u.aval)], {});
    const v = b.bind(Primitive.Sqrt, [b.bind(Primitive.Abs, [w], {})], {});
    const z = b.bind(Primitive.Neg, [y], {});
    const program = planMemory(fuse(b.build('g', [v, z, x])));
    expect(printProgram(program)).toBe(
      lines(
        'program g(%0: f32[1024], %1: f32[1024]) {',
        '  %2: f32[1024] = elementwise fusion(%0 %1 1.0) {',
        '    %3: f32[1024] = exp %0',
        '    %4: f32[1024] = mul %3 %1',
        '    %5: f32[1024] = tanh %4',
        '    %6: f32[1024] = add %5 1.0',
        '    %7: f32[1024] = abs %6',
        '    %2: f32[1024] = sqrt %7',
        '  }',
        '  %8: f32[1024] = neg %1',
        '    # free %1',
        '  return %2, %8, %0',
        '  # memory: peak 8.0 KiB of intermediates; 0 B may be written in place',
        '}',
      ),
    );
    // %1 (y) is read again by neg and %0 (x) is returned: neither may be overwritten.
    expect(program.memory?.reusable[0]).toBeNull();
  });

  it('marks a dying intermediate as reusable by a fused kernel', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(1024));
    const s = b.bind(Primitive.Cumulative, [x], { op: 'sum', axis: 0, reverse: false });
    const e = b.bind(Primitive.Exp, [s], {});
    const y = b.bind(Primitive.Mul, [e, b.literal(2, e.aval)], {});
    const program = planMemory(fuse(b.build('h', [y])));
    expect(printProgram(program)).toBe(
      lines(
        'program h(%0: f32[1024]) {',
        '  %1: f32[1024] = cumulative[op=sum axis=0 reverse=false] %0',
        '    # free %0',
        '  %2: f32[1024] = elementwise fusion(%1 2.0) {',
        '    %3: f32[1024] = exp %1',
        '    %2: f32[1024] = mul %3 2.0',
        '  }',
        '    # may write into %1; free %1',
        '  return %2',
        '  # memory: peak 4.0 KiB of intermediates; 4.0 KiB may be written in place',
        '}',
      ),
    );
    expect(program.memory?.reusable[1]).toEqual([true, false]);
  });
  it('counts writing into an input as reuse only when the caller donates it', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(1024));
    const e = b.bind(Primitive.Exp, [x], {});
    const y = b.bind(Primitive.Mul, [e, b.literal(2, e.aval)], {});
    const fused = fuse(b.build('h', [y]));
    const kept = planMemory(fused);
    const donated = planMemory({ ...fused, donatedInputs: [true] });
    // Either way the kernel may write into %0 (the runtime checks the donation).
    expect(kept.memory?.reusable[0]).toEqual([true, false]);
    expect(donated.memory?.reusable[0]).toEqual([true, false]);
    expect(kept.memory?.reusedBytes).toBe(0);
    expect(kept.memory?.peakBytes).toBe(4096);
    expect(donated.memory?.reusedBytes).toBe(4096);
    expect(donated.memory?.peakBytes).toBe(0);
  });

  it('offers every input that dies at a kernel, so that a donated one behind a kept one is written', () => {
    // p - g * lr with p donated and g kept by the caller: both die at the kernel; g comes first.
    const b = new ProgramBuilder();
    const p = b.input(f32(256));
    const g = b.input(f32(256));
    const scaled = b.bind(Primitive.Mul, [g, b.literal(0.1, g.aval)], {});
    const next = b.bind(Primitive.Sub, [p, scaled], {});
    const program = planMemory({ ...fuse(b.build('update', [next])), donatedInputs: [true, false] });
    const fusion = program.equations[0];
    expect(fusion?.kind).toBe('fusion');
    const flags = program.memory?.reusable[0] as boolean[];
    expect(fusion?.inputs.map((v, i) => [v === p || v === g ? (v === p ? 'p' : 'g') : 'literal', flags[i]])).toEqual(
      expect.arrayContaining([
        ['p', true],
        ['g', true],
      ]),
    );
    // Only the donated p is sure to be reused: its bytes count, once.
    expect(program.memory?.reusedBytes).toBe(1024);
    expect(printProgram(program)).toContain('# may write into %1 %0');
  });
});
