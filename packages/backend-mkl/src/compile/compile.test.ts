// Eager products through oneDNN, as the fused ones are (see the module).
import '../onednn-engine.test-support.js';
import '@flint/backend-cpu';
import { add, div, initBackend, jit, matmul, maximum, mul, neg, nn, type Tensor, tanh, tensor, where } from '@flint/api';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type MklBackend } from '../index.js';
import { randomValues } from '../values.test-support.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: jit tests skipped, the addon is unavailable: ${missing}`);

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
  return worst;
}

const on = (values: Float32Array, shape: number[]) => tensor(values, { shape, backend: 'mkl' });

/** Runs `f` eagerly and jitted on mkl; returns both results and the compiled program's kernel counts. */
function both(f: (...args: Tensor[]) => Tensor, args: Tensor[]) {
  const eager = f(...args).dataSync() as Float32Array;
  const jitted = jit(f);
  const lowered = jitted.lower(...args);
  const compiled = jitted(...args).dataSync() as Float32Array;
  return { eager, compiled, lowered };
}

describe.skipIf(missing !== undefined)('jit on mkl', () => {
  let mkl: MklBackend;
  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
  });

  it('fuses matmul + bias into one oneDNN matmul with post-ops, equal to eager', () => {
    const x = on(randomValues(32 * 48, 1), [32, 48]);
    const w = on(randomValues(48 * 24, 2), [48, 24]);
    const b = on(randomValues(24, 3), [24]);
    const before = mkl.fusedRuns;
    const { eager, compiled, lowered } = both((x, w, b) => add(matmul(x!, w!), b!), [x, w, b]);
    expect(lowered.compiledKernels).toBe(1);
    expect(mkl.fusedRuns).toBe(before + 1);
    expect(maxRelativeError(compiled, eager)).toBeLessThan(1e-5);
  });

  it('runs matmul + bias + ReLU as the product and one pass, keeping NaN and -0 as eager does (not oneDNN relu)', () => {
    // oneDNN's relu post-op turns NaN into 0 and -0 into +0.
    const values = randomValues(32 * 48, 1);
    values[5] = Number.NaN; // row 0 of the product is NaN throughout
    const x = on(values, [32, 48]);
    const w = on(randomValues(48 * 24, 2), [48, 24]);
    const b = on(randomValues(24, 3), [24]);
    const before = mkl.fusedRuns;
    for (const f of [
      (x: Tensor, w: Tensor, b: Tensor) => nn.functional.relu(add(matmul(x, w), b)),
      (x: Tensor, w: Tensor, b: Tensor) => maximum(add(matmul(x, w), b), 0),
    ]) {
      const { eager, compiled, lowered } = both(f as (...a: Tensor[]) => Tensor, [x, w, b]);
      expect(lowered.compiledKernels).toBe(1);
      expect(compiled.slice(0, 24).every(Number.isNaN)).toBe(true);
      expect(maxRelativeError(compiled.slice(24), eager.slice(24))).toBeLessThan(1e-5);
      expect(compiled.some((v) => v === 0) && compiled.some((v) => v > 0)).toBe(true);
    }
    expect(mkl.fusedRuns).toBe(before);
    // A product of -0: relu keeps it.
    const zeros = on(new Float32Array(4 * 48), [4, 48]);
    const negated = jit((x: Tensor, w: Tensor) => nn.functional.relu(neg(matmul(x, w))))(zeros, w).dataSync();
    expect(Array.from(negated).every((v) => Object.is(v, -0))).toBe(true);
  });

  it('fuses a residual add, scaling and tanh on a transposed weight', () => {
    const x = on(randomValues(16 * 32, 4), [16, 32]);
    const w = on(randomValues(20 * 32, 5), [20, 32]);
    const r = on(randomValues(16 * 20, 6), [16, 20]);
    const before = mkl.fusedRuns;
    const { eager, compiled } = both((x, w, r) => tanh(add(mul(matmul(x!, w!.transpose()), 0.5), r!)), [x, w, r]);
    expect(mkl.fusedRuns).toBe(before + 1);
    // oneDNN's tanh is a polynomial approximation.
    expect(maxRelativeError(compiled, eager)).toBeLessThan(1e-5);
  });

  it('fuses conv + per-channel bias + a residual into one oneDNN convolution with post-ops', () => {
    const x = on(randomValues(2 * 3 * 10 * 10, 30), [2, 3, 10, 10]);
    const w = on(randomValues(8 * 3 * 3 * 3, 31), [8, 3, 3, 3]);
    const b = on(randomValues(8, 32), [8]);
    const r = on(randomValues(2 * 8 * 10 * 10, 33), [2, 8, 10, 10]);
    const before = mkl.fusedRuns;
    const f = (x: Tensor, w: Tensor, b: Tensor, r: Tensor) => tanh(add(nn.functional.conv2d(x, w, { padding: 1, bias: b }), r));
    const { eager, compiled, lowered } = both(f as (...a: Tensor[]) => Tensor, [x, w, b, r]);
    expect(lowered.compiledKernels).toBe(1);
    expect(mkl.fusedRuns).toBe(before + 1);
    expect(maxRelativeError(compiled, eager)).toBeLessThan(1e-5);
  });

  it('leaves chains with two scalings apart from each other to the generic path (oneDNN 2.6 computes them wrong)', () => {
    const x = on(randomValues(16 * 24, 34), [16, 24]);
    const w = on(randomValues(24 * 8, 35), [24, 8]);
    const before = mkl.fusedRuns;
    const f = (x: Tensor, w: Tensor) => add(mul(maximum(add(mul(matmul(x, w), 2), 1), 0), 3), 0.5);
    const { eager, compiled } = both(f as (...a: Tensor[]) => Tensor, [x, w]);
    expect(mkl.fusedRuns).toBe(before);
    expect(maxRelativeError(compiled, eager)).toBeLessThan(1e-5);
  });

  it('fuses neg, a scaling and a division by a power of two exactly as eager computes them, -0 included', () => {
    const x = on(randomValues(16 * 24, 36), [16, 24]);
    const zero = on(new Float32Array(24 * 8), [24, 8]);
    const w = on(randomValues(24 * 8, 37), [24, 8]);
    const cases: [(x: Tensor, w: Tensor) => Tensor, Tensor][] = [
      [(x, w) => neg(matmul(x, w)), zero],
      [(x, w) => mul(matmul(x, w), -3), zero],
      [(x, w) => div(matmul(x, w), 4), w],
      [(x, w) => div(neg(matmul(x, w)), -0.25), w],
    ];
    for (const [f, rhs] of cases) {
      const before = mkl.fusedRuns;
      const { eager, compiled } = both(f as (...a: Tensor[]) => Tensor, [x, rhs]);
      expect(mkl.fusedRuns).toBe(before + 1);
      expect(compiled.every((v, i) => Object.is(v, eager[i]))).toBe(true);
    }
    expect(Object.is(neg(matmul(x, zero)).dataSync()[0], -0)).toBe(true);
  });

  it('leaves a division by a literal without an exact reciprocal unfused, equal to eager bit for bit', () => {
    const x = on(randomValues(16 * 24, 38), [16, 24]);
    const w = on(randomValues(24 * 8, 39), [24, 8]);
    const before = mkl.fusedRuns;
    const { eager, compiled } = both((x, w) => div(matmul(x!, w!), 3), [x, w]);
    expect(mkl.fusedRuns).toBe(before);
    expect(compiled.every((v, i) => Object.is(v, eager[i]))).toBe(true);
  });

  it('keeps two jitted epilogues whose scales agree to 6 decimals apart', () => {
    const x = on(randomValues(16 * 24, 40), [16, 24]);
    const w = on(randomValues(24 * 8, 41), [24, 8]);
    for (const scale of [1.5e-7, 4.5e-7, 0.0012341, 0.0012344]) {
      const { eager, compiled } = both((x, w) => mul(matmul(x!, w!), scale), [x, w]);
      expect(
        maxRelativeError(
          compiled.map((v) => v / scale),
          eager.map((v) => v / scale),
        ),
      ).toBeLessThan(1e-5);
    }
  });

  it('keeps the literals 0 and -0 of one fused elementwise kernel apart', () => {
    const x = on(
      Float32Array.from({ length: 64 }, (_, i) => i - 20),
      [64],
    );
    const f = jit((t: Tensor) => {
      const shifted = add(t, 1);
      return [div(shifted, 0), div(shifted, -0), mul(shifted, -0)] as const;
    });
    const results = f(x).map((r) => r.dataSync());
    const eager = [div(add(x, 1), 0), div(add(x, 1), -0), mul(add(x, 1), -0)].map((r) => r.dataSync());
    expect(results[0]![25]).toBe(Number.POSITIVE_INFINITY);
    expect(results[1]![25]).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(results[2]![25], -0)).toBe(true);
    for (let r = 0; r < 3; r++) expect(results[r]!.every((v, i) => Object.is(v, eager[r]![i]))).toBe(true);
  });

  it('runs an epilogue with two outputs (ReLU and its mask) as a fused pass after the matmul', () => {
    const x = on(randomValues(8 * 16, 7), [8, 16]);
    const w = on(randomValues(16 * 12, 8), [16, 12]);
    const before = mkl.fusedRuns;
    const f = (x: Tensor, w: Tensor) => {
      const h = matmul(x, w);
      return add(maximum(h, 0), h.greater(0).cast('float32'));
    };
    const { eager, compiled, lowered } = both(f as (...a: Tensor[]) => Tensor, [x, w]);
    expect(lowered.compiledKernels).toBeGreaterThan(0);
    expect(mkl.fusedRuns).toBe(before);
    expect(maxRelativeError(compiled, eager)).toBeLessThan(1e-6);
  });

  it('computes softmax and layer norm as eager does', () => {
    const x = on(
      randomValues(24 * 40, 9).map((v) => v * 6),
      [24, 40],
    );
    const g = on(randomValues(40, 10), [40]);
    const b = on(randomValues(40, 11), [40]);
    // Each is one composite equation that oneDNN's kernel runs (the eager call runs it too).
    const softmaxRuns = mkl.compositeRuns('softmax');
    const softmax = both((x) => nn.functional.softmax(x!, -1), [x]);
    expect(softmax.lowered.toString()).toContain('composite softmax(axis=1, log=false)');
    expect(mkl.compositeRuns('softmax') - softmaxRuns).toBe(2);
    expect(maxRelativeError(softmax.compiled, softmax.eager)).toBeLessThan(1e-6);
    const normRuns = mkl.compositeRuns('layerNorm');
    const norm = both((x, g, b) => nn.functional.layerNorm(x!, [40], { weight: g!, bias: b! }), [x, g, b]);
    expect(norm.lowered.toString()).toContain('composite layerNorm(normalizedDims=1');
    expect(mkl.compositeRuns('layerNorm') - normRuns).toBe(2);
    expect(maxRelativeError(norm.compiled, norm.eager)).toBeLessThan(1e-5);
  });

  it('counts the outputs of compiled kernels in the backend memory and frees them on dispose', () => {
    const x = on(randomValues(64 * 64, 12), [64, 64]);
    const w = on(randomValues(64 * 64, 13), [64, 64]);
    const f = jit((x: Tensor, w: Tensor) => maximum(add(matmul(x, w), 1), 0).exp());
    f(x, w).dispose();
    const before = mkl.memory().buffers;
    const y = f(x, w);
    expect(mkl.memory().buffers).toBe(before + 1);
    y.dispose();
    expect(mkl.memory().buffers).toBe(before);
  });

  it('runs random elementwise chains (broadcasts, transposed inputs, masks) as eager computes them', () => {
    type Step = (x: Tensor, y: Tensor, row: Tensor) => Tensor;
    const steps: Record<string, Step> = {
      add: (x, y) => x.add(y),
      sub: (x, _y, row) => x.sub(row),
      mul: (x, y) => x.mul(y),
      div: (x, y) => x.div(y.abs().add(0.5)),
      max: (x, y) => maximum(x, y),
      min: (x, _y, row) => x.minimum(row),
      exp: (x) => x.mul(0.5).exp(),
      tanh: (x) => x.tanh(),
      sqrt: (x) => x.abs().sqrt(),
      neg: (x) => x.neg(),
      select: (x, y) => where(x.greater(y), x, y.mul(2)),
      mask: (x, _y, row) => x.less(row).cast('float32').add(x),
    };
    const names = Object.keys(steps);
    const x = on(randomValues(48 * 64, 20), [48, 64]);
    const y = on(randomValues(64 * 48, 21), [64, 48]).transpose();
    const row = on(randomValues(64, 22), [64]);
    // The addon object is the backend's (require caches it): count the native fused passes, by
    // the register program or, once its background compile is ready, the generated C.
    const addon = (loaded as { addon: { fused: (...args: unknown[]) => void; runKernel: (...args: unknown[]) => void } }).addon;
    const [native, generated] = [addon.fused, addon.runKernel];
    let passes = 0;
    // Chains of one op are not fusion groups, nor are chains that simplify away (neg of neg), and
    // without the addon's vector math chains with exp or tanh run as the portable backend's SIMD
    // kernel: every other chain must make at least one native fused pass.
    const vectorMath = (loaded as { addon: { info(): { vectorMath: boolean } } }).addon.info().vectorMath;
    let nativeChains = 0;
    addon.fused = (...args: unknown[]) => {
      passes++;
      native(...args);
    };
    addon.runKernel = (...args: unknown[]) => {
      passes++;
      generated(...args);
    };
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 6 }), (chain) => {
        const f = (a: Tensor, b: Tensor, r: Tensor) => chain.reduce((value, name) => steps[name]!(value, b, r), a);
        const jitted = jit(f);
        const fused = jitted.lower(x, y, row).compiledKernels > 0;
        if (fused && (vectorMath || (!chain.includes('exp') && !chain.includes('tanh')))) nativeChains++;
        const eager = f(x, y, row).dataSync();
        const compiled = jitted(x, y, row).dataSync();
        expect(maxRelativeError(compiled, eager)).toBeLessThan(2e-6);
      }),
      { numRuns: 40 },
    );
    addon.fused = native;
    addon.runKernel = generated;
    expect(nativeChains).toBeGreaterThan(0);
    expect(passes).toBeGreaterThanOrEqual(nativeChains);
  });
});
