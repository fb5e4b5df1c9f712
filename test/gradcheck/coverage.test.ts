import '@flint/backend-cpu';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PRIMITIVE_COUNT, Primitive, RULES } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { compositeCases } from './cases/composites.js';
import { primitiveCases } from './cases/index.js';

// Op coverage: every differentiable primitive and public op has a property check, or is declared
// non-differentiable (with its reason). A new op without either fails here, naming the fix.

/** Primitives without inputs: nothing to differentiate or batch. */
const NO_INPUTS = new Set<Primitive>([Primitive.Iota, Primitive.Full]);

/** Public ops that are not differentiable, or take nothing to differentiate, and why. */
const NOT_DIFFERENTIABLE: Record<string, string> = {
  equal: 'bool output',
  notEqual: 'bool output',
  less: 'bool output',
  lessEqual: 'bool output',
  greater: 'bool output',
  greaterEqual: 'bool output',
  logicalAnd: 'bool output',
  logicalOr: 'bool output',
  logicalXor: 'bool output',
  logicalNot: 'bool output',
  all: 'bool output',
  any: 'bool output',
  isnan: 'bool output',
  isinf: 'bool output',
  isfinite: 'bool output',
  isclose: 'bool output',
  allclose: 'boolean output',
  sign: 'zero derivative almost everywhere',
  sgn: 'zero derivative almost everywhere',
  signbit: 'bool output',
  floor: 'zero derivative almost everywhere',
  ceil: 'zero derivative almost everywhere',
  round: 'zero derivative almost everywhere',
  floorDivide: 'zero derivative almost everywhere',
  argmax: 'integer output',
  argmin: 'integer output',
  argsort: 'integer output',
  oneHot: 'integer input',
  zeros: 'creation: no input',
  ones: 'creation: no input',
  full: 'creation: no input',
  zerosLike: 'creation: constant output',
  onesLike: 'creation: constant output',
  fullLike: 'creation: constant output',
  arange: 'creation: no input',
  linspace: 'creation: no input',
  eye: 'creation: no input',
  tensor: 'creation',
  scalar: 'creation',
  causalMask: 'creation: constant mask',
  dropout: 'random mask (with a fixed key its gradient is the mask: dropout.test.ts)',
  rand: 'random creation',
  randn: 'random creation',
  randint: 'random creation',
  randperm: 'random creation',
  searchsorted: 'integer output',
  bucketize: 'integer output',
  countNonzero: 'integer output',
  histc: 'counts: zero derivative almost everywhere (PyTorch defines none)',
  bincountAsync: "bincount's asynchronous form; bincount's gradient is checked",
  nonzero: 'integer output',
  nonzeroAsync: 'integer output',
  argwhere: 'integer output',
  argwhereAsync: 'integer output',
  maskedSelectAsync: "maskedSelect's asynchronous form; maskedSelect's gradient is checked",
  unique: 'PyTorch defines no derivative; the gradient of its gather reaching the first of each run is tested in unique.test.ts',
  uniqueAsync: "unique's asynchronous form",
  uniqueConsecutive: 'PyTorch defines no derivative; as unique',
  uniqueConsecutiveAsync: "uniqueConsecutive's asynchronous form",
  besselJ0: 'PyTorch defines no derivative (its result does not require grad): the gradient is zero, as a constant’s',
  besselJ1: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  besselY0: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  besselY1: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  modifiedBesselI0: 'PyTorch defines no derivative: zero gradient, as besselJ0 (i0 is the differentiable form)',
  modifiedBesselI1: 'PyTorch defines no derivative: zero gradient, as besselJ0 (i1 is the differentiable form)',
  modifiedBesselK0: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  modifiedBesselK1: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  scaledModifiedBesselK0: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  scaledModifiedBesselK1: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  sphericalBesselJ0: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  chebyshevPolynomialT: 'PyTorch defines no derivative (x or n): zero gradient, as besselJ0',
  chebyshevPolynomialU: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  chebyshevPolynomialV: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  chebyshevPolynomialW: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  hermitePolynomialH: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  hermitePolynomialHe: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  laguerrePolynomialL: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  legendrePolynomialP: 'PyTorch defines no derivative: zero gradient, as besselJ0',
  matrixRank: 'integer output',
  manualSeed: 'not an op',
  initialSeed: 'not an op',
};

/** Exports of the ops modules that are helpers, not ops. */
const NOT_OPS = new Set([
  'binaryOp',
  'unaryOp',
  'broadcastAll',
  'resolveBackend',
  'convertTypedArray',
  'toTensor',
  'resultDType',
  'scalarNumberOf',
  'resolveSlice',
  'optionsSignature',
  'withCheckedOptions',
  // ops/special-support.ts: what the special functions share.
  'specialInput',
  'computeSpecial',
  'computeWithoutDerivative',
  'computeBinarySpecial',
  'withSecondDerivative',
  'chebyshev',
  'polynomial',
  'expOfSquare',
  'withDerivative',
  'runDataDependent',
  'runDataDependentAsync',
  'binarySearch',
  'truePositions',
  'batched',
  'unbatch',
  'spatialArgument',
  // ops/max-pool-indices.ts: what max pooling's returnIndices computes (its cases check maxPool*d).
  'maxPoolIndices',
  // ops/special-series.ts: series more than one special function evaluates.
  'factorial',
  'logReciprocalGammaNear',
  'stirlingSeries',
  'hurwitzLeadingTerms',
]);

async function publicOps(): Promise<Map<string, string>> {
  const root = fileURLToPath(new URL('../../packages/api/src/', import.meta.url));
  const ops = new Map<string, string>();
  const files = readdirSync(`${root}ops`)
    // Tests and their helpers (*.test-support.ts) are no ops.
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.test-support.ts'))
    .map((f) => `${root}ops/${f}`);
  files.push(`${root}nn/functional/index.ts`);
  for (const file of files) {
    const module = (await import(file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === 'function' && !NOT_OPS.has(name) && /^[a-z]/.test(name)) ops.set(name, file.slice(root.length));
    }
  }
  return ops;
}

describe('gradient check coverage', () => {
  it('every differentiable primitive has a property check, and every primitive with inputs a batching check', () => {
    const differentiableCovered = new Set(primitiveCases.filter((c) => c.differentiable !== false).flatMap((c) => c.covers));
    const covered = new Set(primitiveCases.flatMap((c) => c.covers));
    const rows: string[] = [];
    const missing: string[] = [];
    for (let p = 0 as Primitive; p < PRIMITIVE_COUNT; p++) {
      const rule = RULES[p];
      const differentiable = rule.jvp !== null;
      expect(rule.vjp !== null, `${rule.name}: a JVP rule and a VJP rule come together`).toBe(differentiable);
      if (differentiable && !differentiableCovered.has(p))
        missing.push(`${Primitive[p]}: differentiable but has no gradient check (add a case in test/gradcheck/cases/)`);
      if (!NO_INPUTS.has(p) && !covered.has(p)) missing.push(`${Primitive[p]}: has no batching check`);
      rows.push(
        `| ${Primitive[p]} | ${differentiable ? 'yes' : 'no (declared)'} | ${differentiableCovered.has(p) ? 'yes' : '-'} | ${NO_INPUTS.has(p) ? 'no inputs' : covered.has(p) ? 'yes' : 'MISSING'} |`,
      );
    }
    console.info(
      ['| primitive | differentiable | VJP/JVP/grad-grad checks | vmap check |', '| --- | --- | --- | --- |', ...rows].join('\n'),
    );
    expect(missing).toEqual([]);
  });

  it('every public differentiable op has a property check', async () => {
    const ops = await publicOps();
    const checked = new Set(compositeCases.flatMap((c) => c.ops));
    const missing = [...ops.keys()].filter((name) => !checked.has(name) && !(name in NOT_DIFFERENTIABLE));
    const unknown = [...checked].filter((name) => !ops.has(name));
    console.info(
      `public ops: ${ops.size}; with property checks: ${[...ops.keys()].filter((n) => checked.has(n)).length}; declared non-differentiable: ${Object.keys(NOT_DIFFERENTIABLE).filter((n) => ops.has(n)).length}`,
    );
    expect(
      missing.map(
        (name) =>
          `${name} (${ops.get(name)}): add a case to test/gradcheck/cases/composites.ts, or list it in NOT_DIFFERENTIABLE with the reason`,
      ),
    ).toEqual([]);
    expect(unknown, 'cases name ops that no longer exist').toEqual([]);
  });
});
