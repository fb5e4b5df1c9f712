import '../../index.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Primitive } from '../../primitives/primitive.js';
import { ProgramBuilder } from '../builder.js';
import { printProgram } from '../print.js';
import type { Program, Var } from '../program.js';
import { verifyProgram } from '../verify.js';
import { fuse } from './fusion.js';
import { fuseReference } from './fusion.test-support.js';

const f32 = (...shape: number[]) => ({ shape, dtype: 'float32' as const });
const lines = (...l: string[]) => l.join('\n');
const fused = (p: Parameters<typeof fuse>[0]) => {
  const after = fuse(p);
  verifyProgram(after, 'fusion');
  return after;
};

describe('fusion', () => {
  it('fuses a chain of elementwise ops into one kernel', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(1024));
    let y = b.bind(Primitive.Mul, [x, b.literal(0.5, x.aval)], {});
    y = b.bind(Primitive.Tanh, [y], {});
    y = b.bind(Primitive.Mul, [y, x], {});
    y = b.bind(Primitive.Exp, [y], {});
    y = b.bind(Primitive.Max, [y, b.literal(0, x.aval)], {});
    const program = b.build('chain', [y]);
    expect(printProgram(program)).toBe(
      lines(
        'program chain(%0: f32[1024]) {',
        '  %1: f32[1024] = mul %0 0.5',
        '  %2: f32[1024] = tanh %1',
        '  %3: f32[1024] = mul %2 %0',
        '  %4: f32[1024] = exp %3',
        '  %5: f32[1024] = max %4 0.0',
        '  return %5',
        '}',
      ),
    );
    expect(printProgram(fused(program))).toBe(
      lines(
        'program chain(%0: f32[1024]) {',
        '  %1: f32[1024] = elementwise fusion(%0 0.5 0.0) {',
        '    %2: f32[1024] = mul %0 0.5',
        '    %3: f32[1024] = tanh %2',
        '    %4: f32[1024] = mul %3 %0',
        '    %5: f32[1024] = exp %4',
        '    %1: f32[1024] = max %5 0.0',
        '  }',
        '  return %1',
        '}',
      ),
    );
  });

  it('fuses elementwise producers into a reduction, keeping values used later as extra outputs', () => {
    // Softmax over the last axis: max, then exp(x - max) feeding a sum, then a division.
    const b = new ProgramBuilder();
    const x = b.input(f32(4, 10));
    const m = b.bind(Primitive.ReduceMax, [x], { axes: [1] });
    const mb = b.bind(Primitive.Broadcast, [b.bind(Primitive.Reshape, [m], { shape: [4, 1] })], { shape: [4, 10] });
    const e = b.bind(Primitive.Exp, [b.bind(Primitive.Sub, [x, mb], {})], {});
    const s = b.bind(Primitive.ReduceSum, [e], { axes: [1] });
    const sb = b.bind(Primitive.Broadcast, [b.bind(Primitive.Reshape, [s], { shape: [4, 1] })], { shape: [4, 10] });
    const y = b.bind(Primitive.Div, [e, sb], {});
    const after = fused(b.build('softmax', [y]));
    expect(printProgram(after)).toBe(
      lines(
        'program softmax(%0: f32[4,10]) {',
        '  %1: f32[4] = reduceMax[axes=[1]] %0',
        '  %2: f32[4,1] = reshape[shape=[4,1]] %1',
        '  %3: f32[4,10], %4: f32[4] = reduction fusion(%2 %0) {',
        '    %5: f32[4,10] = broadcast[shape=[4,10]] %2',
        '    %6: f32[4,10] = sub %0 %5',
        '    %3: f32[4,10] = exp %6',
        '    %4: f32[4] = reduceSum[axes=[1]] %3',
        '  }',
        '  %7: f32[4,1] = reshape[shape=[4,1]] %4',
        '  %8: f32[4,10] = elementwise fusion(%7 %3) {',
        '    %9: f32[4,10] = broadcast[shape=[4,10]] %7',
        '    %8: f32[4,10] = div %3 %9',
        '  }',
        '  return %8',
        '}',
      ),
    );
  });

  it('fuses bias, activation and residual epilogues into a matmul', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(8, 16));
    const w = b.input(f32(16, 32));
    const bias = b.input(f32(32));
    const residual = b.input(f32(8, 32));
    const d = b.bind(Primitive.DotGeneral, [x, w], { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] });
    const biased = b.bind(Primitive.Add, [d, b.bind(Primitive.Broadcast, [bias], { shape: [8, 32] })], {});
    const relu = b.bind(Primitive.Max, [biased, b.literal(0, biased.aval)], {});
    const y = b.bind(Primitive.Add, [relu, residual], {});
    const after = fused(b.build('layer', [y]));
    expect(printProgram(after)).toBe(
      lines(
        'program layer(%0: f32[8,16], %1: f32[16,32], %2: f32[32], %3: f32[8,32]) {',
        '  %4: f32[8,32] = contraction fusion(%0 %1 %2 0.0 %3) {',
        '    %5: f32[8,32] = dotGeneral[lhsContracting=[1] rhsContracting=[0]] %0 %1',
        '    %6: f32[8,32] = broadcast[shape=[8,32]] %2',
        '    %7: f32[8,32] = add %5 %6',
        '    %8: f32[8,32] = max %7 0.0',
        '    %4: f32[8,32] = add %8 %3',
        '  }',
        '  return %4',
        '}',
      ),
    );
  });

  it('does not fuse an op whose other input depends on the group through an outside op (a cycle)', () => {
    // y = exp(x) feeds a transpose-like reshape outside the group, whose result feeds back in.
    const b = new ProgramBuilder();
    const x = b.input(f32(4, 4));
    const e = b.bind(Primitive.Exp, [x], {});
    const t = b.bind(Primitive.Transpose, [e], { perm: [1, 0] });
    const y = b.bind(Primitive.Add, [e, t], {});
    const z = b.bind(Primitive.Tanh, [y], {});
    const after = fused(b.build('cycle', [z]));
    const kinds = after.equations.map((q) => (q.kind === 'fusion' ? `fusion(${q.body.length})` : q.primitive));
    expect(kinds).toEqual([Primitive.Exp, Primitive.Transpose, 'fusion(2)']);
  });

  it('sees a group as one kernel: a value it computes depends on every input of the group', () => {
    // Merging the broadcast into the second matmul's group makes it depend on the first group's
    // tanh; the min then must not join the first group (the regression a fuzz run found), and
    // joins the second.
    const b = new ProgramBuilder();
    const x = b.input(f32(3, 3));
    const w = b.input(f32(3, 3));
    const row = b.input(f32(3));
    const dims = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] };
    const t1 = b.bind(Primitive.Tanh, [b.bind(Primitive.DotGeneral, [x, w], dims)], {});
    const t2 = b.bind(Primitive.Tanh, [b.bind(Primitive.DotGeneral, [t1, w], dims)], {});
    const wide = b.bind(Primitive.Broadcast, [row], { shape: [3, 3] });
    const d = b.bind(Primitive.Sub, [t2, wide], {});
    const m = b.bind(Primitive.Min, [t1, wide], {});
    const after = fused(b.build('two', [d, m]));
    const bodies = after.equations.map((q) => (q.kind === 'fusion' ? q.body.map((e) => e.primitive) : [q.primitive]));
    expect(bodies).toEqual([
      [Primitive.DotGeneral, Primitive.Tanh],
      [Primitive.DotGeneral, Primitive.Tanh, Primitive.Broadcast, Primitive.Sub, Primitive.Min],
    ]);
  });

  it('leaves single ops and ops of different shapes unfused', () => {
    const b = new ProgramBuilder();
    const x = b.input(f32(4, 4));
    const e = b.bind(Primitive.Exp, [x], {});
    const s = b.bind(Primitive.ReduceSum, [b.input(f32(4, 4))], { axes: [0] });
    const n = b.bind(Primitive.Neg, [s], {});
    const d = b.bind(Primitive.DotGeneral, [e, x], { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] });
    const program = b.build('apart', [d, n]);
    expect(fuse(program)).toBe(program);
  });
});

// Random DAGs over four shapes: elementwise chains, loads (broadcasts of a row), broadcasts of
// constants (not loads), reductions, transposes (outside every group, the way around that makes
// cycles) and matmuls, reading recent values mostly and old ones sometimes (long-range
// dependences are what the pass must not fuse across).
const shapes = { wide: [3, 4], row: [4], tall: [4, 3], square: [3, 3] } as const;
type ShapeName = keyof typeof shapes;
const matmulOperands: [ShapeName, ShapeName][] = [
  ['wide', 'tall'],
  ['square', 'wide'],
  ['tall', 'square'],
];
const operand = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 2 }), weight: 3 }, { arbitrary: fc.nat(), weight: 1 });
const opArbitrary = fc.oneof(...[3, 6, 1, 1, 1, 1, 1].map((weight, op) => ({ arbitrary: fc.constant(op), weight })));
const stepArbitrary = fc.record({ op: opArbitrary, variant: fc.nat(), a: operand, b: operand, output: fc.boolean() });
type Step = typeof stepArbitrary extends fc.Arbitrary<infer T> ? T : never;

function randomProgram(steps: readonly Step[]): Program {
  const b = new ProgramBuilder();
  const pools = new Map<ShapeName, Var[]>();
  const add = (v: Var): Var => {
    const name = (Object.keys(shapes) as ShapeName[]).find((k) => `${shapes[k]}` === `${v.aval.shape}`) as ShapeName;
    pools.get(name)?.push(v) ?? pools.set(name, [v]);
    return v;
  };
  for (const name of ['wide', 'wide', 'row', 'tall', 'square'] as const) add(b.input(f32(...shapes[name])));
  const pick = (name: ShapeName, k: number): Var => {
    const pool = pools.get(name) as Var[];
    return pool[pool.length - 1 - (k % pool.length)] as Var;
  };
  const names = Object.keys(shapes) as ShapeName[];
  const matmul = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] };
  const outputs: Var[] = [];
  for (const { op, variant, a, b: c, output } of steps) {
    const name = names[variant % names.length] as ShapeName;
    let v: Var;
    switch (op) {
      case 0:
        v = b.bind([Primitive.Exp, Primitive.Tanh, Primitive.Neg][variant % 3] as Primitive, [pick(name, a)], {});
        break;
      case 1: {
        const x = pick(name, a);
        const y = c % 5 === 4 ? b.literal(0.5, x.aval) : pick(name, c);
        v = b.bind([Primitive.Add, Primitive.Mul, Primitive.Max, Primitive.Sub][variant % 4] as Primitive, [x, y], {});
        break;
      }
      case 2:
        v = b.bind(Primitive.Broadcast, [pick('row', a)], { shape: [...shapes.wide] });
        break;
      case 3:
        v = b.bind(variant % 2 === 0 ? Primitive.ReduceSum : Primitive.ReduceMax, [pick('wide', a)], { axes: [0] });
        break;
      case 4:
        v = b.bind(Primitive.Transpose, [pick(name === 'row' ? 'wide' : name, a)], { perm: [1, 0] });
        break;
      case 5: {
        const [lhs, rhs] = matmulOperands[variant % matmulOperands.length] as [ShapeName, ShapeName];
        v = b.bind(Primitive.DotGeneral, [pick(lhs, a), pick(rhs, c)], matmul);
        break;
      }
      default:
        v = b.bind(Primitive.Broadcast, [b.literal(2, f32(...shapes.row))], { shape: [...shapes.wide] });
    }
    add(v);
    if (output) outputs.push(v);
  }
  const last = pools.get('wide') as Var[];
  return b.build('random', [...outputs, last[last.length - 1] as Var]);
}

describe('fusion of random programs', () => {
  it('makes the same groups as the reference (whole-program dependence walks) and a valid program', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 1, maxLength: 60, size: 'max' }), (steps) => {
        const program = randomProgram(steps);
        const after = fused(program);
        expect(printProgram(after)).toBe(printProgram(fuseReference(program)));
      }),
      { numRuns: 400 },
    );
  });
});
