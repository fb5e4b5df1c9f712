import '@flint/backend-cpu';
import { describe, expect, it } from 'vitest';
import { linalg, randn, type Tensor, tidy } from '../index.js';
import { ProgramBuilder } from '../ir/builder.js';
import type { FusionEquation, Program } from '../ir/program.js';
import { verifyProgram } from '../ir/verify.js';
import { jit } from './jit.js';

// Linear-algebra calls under jit (transforms/linalg-calls.ts): on a backend with the kernels
// (the portable cpu backend has all six) each is one composite equation without a body, which
// the passes keep whole, merge when repeated, and verify.

const decompositionsIn = (program: Program): string[] =>
  program.equations
    .filter((e): e is FusionEquation => e.kind === 'fusion' && e.composite !== undefined)
    .map((e) => e.composite?.name ?? '');

describe('linear-algebra calls under jit', () => {
  it('each is one equation, as traced and after the passes; a repeated one is computed once', () => {
    tidy(() => {
      const a = randn([5, 5], { dtype: 'float64' });
      const symmetric = a.add(a.T);
      const f = (x: Tensor) =>
        linalg.eigvalsh(x).sum().add(linalg.eigvalsh(x).max()).add(linalg.qr(x).R.sum()).add(linalg.svdvals(x).sum());
      const lowered = jit(f).lower(symmetric);
      expect(decompositionsIn(lowered.traced).sort()).toEqual(['eigh', 'eigh', 'qr', 'svd']);
      expect(lowered.traced.equations.length).toBeLessThan(100);
      expect(decompositionsIn(lowered.optimized).sort()).toEqual(['eigh', 'qr', 'svd']);
      // solve: the LU, then its two triangular solves.
      const solved = jit((x: Tensor) => linalg.solve(x, x.T)).lower(symmetric);
      expect(decompositionsIn(solved.optimized)).toEqual(['luFactor', 'triangularSolve', 'triangularSolve']);
      expect(solved.toString()).toContain('composite triangularSolve(upper=false, unit=true)');
      for (const { name, after } of lowered.passes) verifyProgram(after, name);
      expect(lowered.toString()).toContain('composite svd(vectors=false, complete=false)');
      const expected = f(symmetric).item() as number;
      expect(jit(f)(symmetric).item()).toBeCloseTo(expected, 10);
    });
  });

  it('float16 computes in float32, which the kernel takes; an empty stack, which no kernel takes, traces the composite', () => {
    tidy(() => {
      const half = randn([3, 3]).astype('float16');
      expect(decompositionsIn(jit((x: Tensor) => linalg.cholesky(x.matmul(x.T).add(3))).lower(half).traced)).toEqual(['cholesky']);
      const empty = randn([0, 4, 4], { dtype: 'float64' });
      expect(decompositionsIn(jit((x: Tensor) => linalg.qr(x).Q).lower(empty).traced)).toEqual([]);
    });
  });

  it('the verifier names a linear-algebra call whose outputs do not match its call', () => {
    const b = new ProgramBuilder();
    const x = b.input({ shape: [2, 4, 3], dtype: 'float32' });
    const [q, r] = b.linalg({ name: 'qr', complete: false }, [x]) as [never, never];
    const good = b.build('qr', [q, r]);
    expect(() => verifyProgram(good)).not.toThrow();
    const equation = good.equations[0] as FusionEquation;
    const bad: Program = { ...good, equations: [{ ...equation, composite: { name: 'qr', complete: true } }] };
    expect(() => verifyProgram(bad)).toThrow('qr(complete=true) of f32[2,4,3] gives f32[2,4,4], f32[2,4,3], not f32[2,4,3], f32[2,3,3]');
  });
});
