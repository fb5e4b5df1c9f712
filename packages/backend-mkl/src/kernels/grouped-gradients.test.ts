// Grouped convolutions' gradients on mkl against the portable cpu backend, over random
// geometries: the input gradient of a strided grouped convolution (and a grouped transposed
// convolution) runs oneDNN's backward-data pass with the filter autodiff's reshape copied packed
// back into the forward's layout, and the filter gradient oneDNN's backward-weights pass with x
// packed back likewise (the api's strided-backend/conv-gradients.ts), so every way of splitting
// channels into groups, strides, dilations and paddings must give the portable kernel's values.
import '@flint/backend-cpu';
import { conv2d, convTranspose2d, initBackend, Primitive, sizeOf, type Tensor, tensor, vjp } from '@flint/api';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type MklBackend } from '../index.js';
import { randomValues } from '../values.test-support.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: grouped convolution gradient tests skipped, the addon is unavailable: ${missing}`);

const geometry = fc.record({
  groups: fc.integer({ min: 2, max: 3 }),
  inPerGroup: fc.integer({ min: 1, max: 3 }),
  outPerGroup: fc.integer({ min: 1, max: 3 }),
  batch: fc.integer({ min: 1, max: 2 }),
  height: fc.integer({ min: 4, max: 9 }),
  width: fc.integer({ min: 4, max: 9 }),
  kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  seed: fc.integer({ min: 0, max: 1000 }),
});

const worstError = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return worst;
};

describe.skipIf(missing !== undefined)('grouped convolution gradients on mkl', () => {
  let mkl: MklBackend;
  /** Backward-weights passes oneDNN ran (the addon's convBackwardWeights, counted by a wrapper). */
  let weightPasses = 0;
  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
    const addon = (mkl as unknown as { addon: { convBackwardWeights: (...args: unknown[]) => boolean } }).addon;
    const run = addon.convBackwardWeights.bind(addon);
    addon.convBackwardWeights = (...args: unknown[]) => {
      const done = run(...args);
      if (done) weightPasses++;
      return done;
    };
  });

  it('match the portable kernel, the strided input gradients through the backward-data pass and the filter gradients through the backward-weights pass', () => {
    let dataPasses = 0;
    let filterPasses = 0;
    fc.assert(
      fc.property(geometry, (g) => {
        const channels = g.groups * g.inPerGroup;
        const xShape = [g.batch, channels, g.height, g.width];
        const wShape = [g.groups * g.outPerGroup, g.inPerGroup, ...g.kernel];
        const reach = g.kernel.map((k, d) => (k - 1) * g.dilation[d]! + 1);
        fc.pre(reach[0]! <= g.height + 2 * g.padding[0] && reach[1]! <= g.width + 2 * g.padding[1]);
        const xs = randomValues(sizeOf(xShape), g.seed);
        const ws = randomValues(sizeOf(wShape), g.seed + 1);
        const options = { stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups };
        const inputs = (backend: string) => [
          tensor(Float32Array.from(xs), { shape: xShape, backend }),
          tensor(Float32Array.from(ws), { shape: wShape, backend }),
        ];
        // One operand's gradient at a time, so that the input gradient's native run is counted alone.
        const gradient = (backend: string, operand: 0 | 1) => {
          const [x, w] = inputs(backend) as [Tensor, Tensor];
          const [y, pullback] = vjp((t: Tensor) => (operand === 0 ? conv2d(t, w, options) : conv2d(x, t, options)), operand === 0 ? x : w);
          const shape = y.shape as number[];
          const dy = tensor(Float32Array.from(randomValues(sizeOf(shape), g.seed + 2)), { shape, backend });
          const result = (pullback(dy) as Tensor[])[0]!.dataSync();
          pullback.dispose();
          return result;
        };
        const before = mkl.nativeRuns(Primitive.Conv);
        const fastDx = gradient('mkl', 0);
        // The forward and the input gradient ran natively when a stride gave the latter input dilation.
        if (g.stride.some((s) => s > 1)) {
          expect(mkl.nativeRuns(Primitive.Conv)).toBe(before + 2);
          dataPasses++;
        }
        const beforeDw = weightPasses;
        const fastDw = gradient('mkl', 1);
        // The filter gradient ran oneDNN's backward-weights pass (x packed back), unless the
        // forward drops trailing input (left to the forward convolution).
        if (weightPasses === beforeDw + 1) filterPasses++;
        const [dx, dw] = [gradient('cpu', 0), gradient('cpu', 1)];
        expect(worstError(fastDx!, dx!), 'dx').toBeLessThan(1e-5);
        expect(worstError(fastDw!, dw!), 'dw').toBeLessThan(1e-4);
      }),
      { numRuns: 60, seed: 20261201 },
    );
    expect(dataPasses).toBeGreaterThan(20);
    expect(filterPasses).toBeGreaterThan(40);
  });

  it('runs grouped transposed convolutions as the backward-data pass, as the portable kernel computes them', () => {
    fc.assert(
      fc.property(geometry, fc.integer({ min: 0, max: 2 }), (g, extra) => {
        const inChannels = g.groups * g.inPerGroup;
        const xShape = [g.batch, inChannels, g.height, g.width];
        const wShape = [inChannels, g.outPerGroup, ...g.kernel];
        const stride = g.stride.map((s) => s + 1);
        const outputPadding = stride.map((s) => Math.min(extra, s - 1));
        const options = { stride, padding: g.padding, dilation: g.dilation, groups: g.groups, outputPadding };
        const sizes = [g.height, g.width].map(
          (size, d) => (size - 1) * stride[d]! - 2 * g.padding[d]! + g.dilation[d]! * (g.kernel[d]! - 1) + outputPadding[d]! + 1,
        );
        fc.pre(sizes.every((s) => s > 0));
        const xs = Float32Array.from(randomValues(sizeOf(xShape), g.seed));
        const ws = Float32Array.from(randomValues(sizeOf(wShape), g.seed + 1));
        const run = (backend: string) =>
          convTranspose2d(tensor(xs, { shape: xShape, backend }), tensor(ws, { shape: wShape, backend }), options).dataSync();
        const before = mkl.nativeRuns(Primitive.Conv);
        const fast = run('mkl');
        expect(mkl.nativeRuns(Primitive.Conv)).toBe(before + 1);
        expect(worstError(fast, run('cpu'))).toBeLessThan(1e-5);
      }),
      { numRuns: 40, seed: 20261202 },
    );
  });
});
