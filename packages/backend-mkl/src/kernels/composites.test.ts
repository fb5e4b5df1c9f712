import '@flint/backend-cpu';
import { grad, initBackend, jit, jvp, memory, nn, type Tensor, tensor, tidy, vmap } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type MklBackend } from '../index.js';
import type { Addon } from '../native/addon.js';
import { expectClose, randomValues } from '../values.test-support.js';

// The fused softmax, log-softmax and layer norm on mkl against the composites on the portable
// backend: values, first and second derivatives through every route (tape, grad, jvp, vmap,
// jit), declines, and extreme inputs.

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;

type BackendName = 'mkl' | 'cpu';
const BACKENDS: readonly BackendName[] = ['mkl', 'cpu'];

/** Runs `fn` on each backend (inside tidy) and returns what it read. */
function onBoth(fn: (backend: BackendName) => Float32Array[]): Record<BackendName, Float32Array[]> {
  const results = {} as Record<BackendName, Float32Array[]>;
  for (const backend of BACKENDS) results[backend] = tidy(() => fn(backend));
  return results;
}

function expectAgree(fn: (backend: BackendName) => Float32Array[], tolerance = 2e-6): void {
  const { mkl, cpu } = onBoth(fn);
  expect(mkl.length).toBe(cpu.length);
  mkl.forEach((values, i) => {
    expectClose(values, cpu[i]!, tolerance);
  });
}

const read = (t: Tensor) => t.dataSync() as Float32Array;

describe.skipIf(missing !== undefined)('fused composites on mkl', () => {
  let mkl: MklBackend;
  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
  });

  const input = (backend: BackendName, shape: number[], seed: number, options: { requiresGrad?: boolean; scale?: number } = {}) => {
    const values = randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ).map((v) => v * (options.scale ?? 3));
    return tensor(values, { shape, backend, requiresGrad: options.requiresGrad ?? false });
  };

  describe('softmax and logSoftmax', () => {
    const shapes = [[7], [5, 9], [3, 4, 6], [2, 3, 4, 5]];
    for (const log of [false, true]) {
      const op = log ? nn.functional.logSoftmax : nn.functional.softmax;
      const name = log ? 'logSoftmax' : 'softmax';
      // oneDNN's log-softmax takes its log and exp as polynomial approximations: within 4e-6 of
      // the float64 result where the composite is within 5e-7, so its comparisons allow more.
      const tolerance = log ? 1e-5 : 2e-6;
      const derivativeTolerance = log ? 5e-5 : 1e-5;

      it(`${name}: agrees with the composite over every axis of ranks 1 to 4, and runs fused`, () => {
        for (const shape of shapes) {
          for (let axis = -shape.length; axis < shape.length; axis++) {
            const before = mkl.compositeRuns(name);
            expectAgree((backend) => [read(op(input(backend, shape, 11 + axis), axis))], tolerance);
            expect(mkl.compositeRuns(name)).toBe(before + 1);
          }
        }
      });

      it(`${name}: takes transposed and sliced views`, () => {
        const before = mkl.compositeRuns(name);
        expectAgree((backend) => {
          const x = input(backend, [6, 5, 4], 3);
          const transposed = x.transpose([2, 0, 1]);
          const sliced = x.slice([1, 0, 1], [5, 5, 4]);
          return [read(op(transposed, -1)), read(op(transposed, 1)), read(op(sliced, -1)), read(op(sliced, 0))];
        }, tolerance);
        expect(mkl.compositeRuns(name)).toBe(before + 4);
      });

      it(`${name}: matches the composite on -Infinity, NaN, +Infinity and large magnitudes`, () => {
        const rows = [
          [1, 2, Number.NEGATIVE_INFINITY, 3], // -inf gives 0 (log: -inf)
          [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY], // NaN
          [1, Number.NaN, 2, 3], // NaN everywhere
          [1, Number.POSITIVE_INFINITY, 2, 3],
          [1e30, -1e30, 3e38, -3e38],
          [1e4, 1e4 + 1, -1e4, 1e4 - 1],
        ];
        const { mkl: fused, cpu: composite } = onBoth((backend) => [read(op(tensor(rows, { backend }), -1))]);
        expectClose(fused[0]!, composite[0]!, tolerance);
        const allNegative = Array.from(fused[0]!.slice(4, 8));
        expect(allNegative.every(Number.isNaN)).toBe(true);
        const withNaN = Array.from(fused[0]!.slice(8, 12));
        expect(withNaN.every(Number.isNaN)).toBe(true);
        expect(fused[0]![2]).toBe(log ? Number.NEGATIVE_INFINITY : 0);
      });

      it(`${name}: gradients by backward(), by grad(), and second derivatives, equal the composite's`, () => {
        const shape = [4, 6, 5];
        for (const axis of [-1, 1]) {
          expectAgree((backend) => {
            const x = input(backend, shape, 5, { requiresGrad: true });
            const cotangent = input(backend, shape, 6);
            const direction = input(backend, shape, 7);
            op(x, axis).mul(cotangent).sum().backward({ createGraph: true });
            const first = x.grad as Tensor;
            x.grad = null;
            first.mul(direction).sum().backward();
            const second = x.grad as unknown as Tensor;
            const plain = input(backend, shape, 5);
            const f = (t: Tensor) => op(t, axis).mul(cotangent).sum();
            const viaGrad = grad(f)(plain);
            const viaGradOfGrad = grad((t: Tensor) => grad(f)(t).mul(direction).sum())(plain);
            return [read(first), read(second), read(viaGrad), read(viaGradOfGrad)];
          }, derivativeTolerance);
        }
      });

      it(`${name}: a plain backward() runs the fused backward kernel, one with createGraph does not`, () => {
        const backwardName = log ? 'logSoftmaxBackward' : 'softmaxBackward';
        for (const [shape, axis] of [
          [[6, 9], -1],
          [[3, 4, 5], 1],
          [[5, 4], 0],
        ] as const) {
          const before = mkl.compositeRuns(backwardName);
          expectAgree((backend) => {
            const x = input(backend, [...shape], 14, { requiresGrad: true });
            op(x.transpose().transpose(), axis).backward(input(backend, [...shape], 15));
            return [read(x.grad as Tensor)];
          }, derivativeTolerance);
          expect(mkl.compositeRuns(backwardName)).toBe(before + 1);
        }
        const before = mkl.compositeRuns(backwardName);
        tidy(() => {
          const x = input('mkl', [4, 5], 16, { requiresGrad: true });
          op(x, -1).square().sum().backward({ createGraph: true });
        });
        expect(mkl.compositeRuns(backwardName)).toBe(before);
      });

      it(`${name}: third derivatives through the tape equal the composite's`, () => {
        expectAgree((backend) => {
          const x = input(backend, [3, 5], 8, { requiresGrad: true });
          const cotangent = input(backend, [3, 5], 9);
          op(x, -1).mul(cotangent).sum().backward({ createGraph: true });
          const first = x.grad as Tensor;
          x.grad = null;
          first.square().sum().backward({ createGraph: true });
          const second = x.grad as unknown as Tensor;
          x.grad = null;
          second.sin().sum().backward();
          return [read(second), read(x.grad as unknown as Tensor)];
        }, 10 * derivativeTolerance);
      });

      it(`${name}: jvp and vmap see the composite's primitives, and jit hands the traced composite to the kernel`, () => {
        const runs: Record<string, number> = {};
        const counting = (label: string, backend: string, fn: () => Float32Array[]): Float32Array[] => {
          const before = mkl.compositeRuns(name);
          const results = fn();
          if (backend === 'mkl') runs[label] = mkl.compositeRuns(name) - before;
          return results;
        };
        expectAgree((backend) => {
          const x = input(backend, [4, 7], 12);
          const t = input(backend, [4, 7], 13);
          const compiled = jit((v: Tensor) => op(v.mul(2), -1).add(1));
          return [
            ...counting('jvp', backend, () => jvp((v: Tensor) => op(v, -1), [x], [t]).map(read)),
            ...counting('vmap', backend, () => [read(vmap((v: Tensor) => op(v, 0), { inAxes: [1] })(x))]),
            ...counting('jit', backend, () => [read(compiled(x)), read(compiled(x))]),
          ];
        }, tolerance);
        expect(runs).toEqual({ jvp: 0, vmap: 0, jit: 2 });
      });

      it(`${name}: declines float64, which runs the composite`, () => {
        const before = mkl.compositeRuns(name);
        const values = Float64Array.from(randomValues(20, 4));
        const results = BACKENDS.map((backend) => tidy(() => op(tensor(values, { shape: [4, 5], backend, dtype: 'float64' })).dataSync()));
        expect(mkl.compositeRuns(name)).toBe(before);
        expectClose(results[0]!, results[1]!, 1e-14);
      });
    }
  });

  describe('layerNorm', () => {
    const cases = [
      { shape: [6, 10], normalized: [10] },
      { shape: [2, 3, 4, 5], normalized: [4, 5] },
      { shape: [8], normalized: [8] },
    ];
    for (const { shape, normalized } of cases) {
      for (const affine of ['none', 'weight', 'bias', 'both'] as const) {
        it(`agrees with the composite on ${JSON.stringify(shape)} over ${JSON.stringify(normalized)} with ${affine}, gradients and second derivatives included`, () => {
          const before = mkl.compositeRuns('layerNorm');
          expectAgree((backend) => {
            const x = input(backend, shape, 21, { requiresGrad: true });
            const weight = affine === 'weight' || affine === 'both' ? input(backend, normalized, 22, { requiresGrad: true }) : null;
            const bias = affine === 'bias' || affine === 'both' ? input(backend, normalized, 23, { requiresGrad: true }) : null;
            const cotangent = input(backend, shape, 24);
            const y = nn.functional.layerNorm(x, normalized, { weight, bias });
            y.mul(cotangent).sum().backward({ createGraph: true });
            const gx = x.grad as Tensor;
            const gw = weight?.grad ?? null;
            const outputs = [read(y), read(gx), ...(gw === null ? [] : [read(gw)]), ...(bias === null ? [] : [read(bias.grad as Tensor)])];
            x.grad = null;
            if (weight !== null) weight.grad = null;
            // Second order: d/dx and d/dweight of <gx, v> (+ <gw, u>).
            let objective = gx.mul(input(backend, shape, 25)).sum();
            if (gw !== null) objective = objective.add(gw.mul(input(backend, normalized, 26)).sum());
            objective.backward();
            outputs.push(read(x.grad as unknown as Tensor));
            if (weight !== null) outputs.push(read(weight.grad as unknown as Tensor));
            return outputs;
          }, 2e-5);
          expect(mkl.compositeRuns('layerNorm')).toBe(before + 1);
        });
      }
    }

    it('a plain backward() runs the fused backward kernel and agrees with the composite', () => {
      for (const { shape, normalized } of cases) {
        for (const affine of ['none', 'weight', 'bias', 'both'] as const) {
          const before = mkl.compositeRuns('layerNormBackward');
          expectAgree((backend) => {
            const x = input(backend, shape, 27, { requiresGrad: true });
            const weight = affine === 'weight' || affine === 'both' ? input(backend, normalized, 28, { requiresGrad: true }) : null;
            const bias = affine === 'bias' || affine === 'both' ? input(backend, normalized, 29, { requiresGrad: true }) : null;
            // A transposed cotangent: the kernel packs it.
            const cotangent = input(backend, [...shape].reverse(), 30).transpose();
            nn.functional.layerNorm(x.add(500), normalized, { weight, bias, eps: 1e-3 }).backward(cotangent);
            return [read(x.grad as Tensor), ...[weight, bias].flatMap((t) => (t === null ? [] : [read(t.grad as Tensor)]))];
          }, 2e-4);
          expect(mkl.compositeRuns('layerNormBackward')).toBe(before + 1);
        }
      }
    });

    it('takes transposed views and inputs far from zero, and weight and bias views', () => {
      const before = mkl.compositeRuns('layerNorm');
      expectAgree((backend) => {
        const x = input(backend, [7, 12], 31).add(1000);
        const weightSource = input(backend, [2, 12], 32);
        const weight = weightSource.slice([1, 0], [2, 12]).reshape([12]);
        const transposed = input(backend, [9, 7], 33).transpose();
        return [
          read(nn.functional.layerNorm(x, [12], { weight, bias: weightSource.slice([0, 0], [1, 12]).reshape([12]) })),
          read(nn.functional.layerNorm(transposed, 9, { eps: 0.1 })),
        ];
      }, 1e-4);
      expect(mkl.compositeRuns('layerNorm')).toBe(before + 2);
    });

    it('grad and jit reach the kernel, jvp and vmap run the composite, and all agree', () => {
      const runs: Record<string, number> = {};
      const counting = (label: string, backend: string, fn: () => Float32Array[]): Float32Array[] => {
        const before = mkl.compositeRuns('layerNorm');
        const results = fn();
        if (backend === 'mkl') runs[label] = mkl.compositeRuns('layerNorm') - before;
        return results;
      };
      expectAgree((backend) => {
        const x = input(backend, [5, 8], 41);
        const weight = input(backend, [8], 42);
        const bias = input(backend, [8], 43);
        const f = (v: Tensor, w: Tensor) => nn.functional.layerNorm(v, [8], { weight: w, bias }).square().sum();
        const compiled = jit((v: Tensor) => nn.functional.layerNorm(v, [8], { weight, bias }));
        return [
          // grad's forward pass runs one level down, on data: the kernel computes it.
          ...counting('grad', backend, () => (grad(f, { argnums: [0, 1] })(x, weight) as Tensor[]).map(read)),
          ...counting('jvp', backend, () => [
            read(jvp((v: Tensor) => nn.functional.layerNorm(v, [8], { weight, bias }), [x], [input(backend, [5, 8], 44)])[1]),
          ]),
          ...counting('vmap', backend, () => [read(vmap((v: Tensor) => nn.functional.layerNorm(v, [5]), { inAxes: [1] })(x))]),
          ...counting('jit', backend, () => [read(compiled(x))]),
        ];
      }, 2e-5);
      expect(runs).toEqual({ grad: 1, jvp: 0, vmap: 0, jit: 1 });
    });

    it('declines float64 and weights of another dtype, which run the composite', () => {
      const before = mkl.compositeRuns('layerNorm');
      const values = Float64Array.from(randomValues(24, 5));
      const results = BACKENDS.map((backend) =>
        tidy(() => nn.functional.layerNorm(tensor(values, { shape: [4, 6], backend, dtype: 'float64' }), [6]).dataSync()),
      );
      expectClose(results[0]!, results[1]!, 1e-12);
      tidy(() => {
        const x = tensor(randomValues(24, 6), { shape: [4, 6], backend: 'mkl' });
        nn.functional.layerNorm(x, [6], { weight: tensor(Float64Array.from([1, 2, 3, 4, 5, 6]), { backend: 'mkl', dtype: 'float64' }) });
      });
      expect(mkl.compositeRuns('layerNorm')).toBe(before);
    });

    it('keeps the composite errors for bad weights', () => {
      const x = tensor(randomValues(12, 7), { shape: [3, 4], backend: 'mkl' });
      expect(() => nn.functional.layerNorm(x, [4], { weight: tensor([1, 2, 3], { backend: 'mkl' }) })).toThrow(
        'layerNorm: weight must have shape [4], got [3]',
      );
      x.dispose();
    });
  });

  describe('a primitive oneDNN refuses', () => {
    // oneDNN 2.6 creates these primitives for every float32 shape the ops pass, so the addon's
    // test hook stands in for a refusal: while it is on, this thread's primitive creations fail
    // with the dnnl::error oneDNN raises for a configuration it does not take.
    const addon = (loaded as { addon: Addon }).addon;
    const refusing = <T>(fn: () => T): T => {
      addon.refuseNormalizationPrimitives(true);
      try {
        return fn();
      } finally {
        addon.refuseNormalizationPrimitives(false);
      }
    };

    it('makes the addon return false and leave its outputs alone; bad arguments still throw', () => {
      const x = Float32Array.from(randomValues(12, 61));
      const layout = Int32Array.from([0, 2, 3, 4, 4, 1]);
      const vector = Int32Array.from([0, 1, 4, 1]);
      const sentinel = () => new Float32Array(12).fill(-7);
      const untouched = (out: Float32Array) => expect(out.every((v) => v === -7)).toBe(true);
      refusing(() => {
        // Twice: the second call finds the refusal in the cache.
        for (let call = 0; call < 2; call++) {
          const out = sentinel();
          expect(addon.softmax(0, x, layout, 1, call, out)).toBe(false);
          untouched(out);
          const grad = sentinel();
          expect(addon.softmaxBackward(0, x, layout, x, layout, 1, call, grad)).toBe(false);
          untouched(grad);
          const normalized = sentinel();
          expect(addon.layerNorm(0, x, layout, 1, x, vector, null, null, 1e-5, normalized)).toBe(false);
          untouched(normalized);
          const [input, weight, bias] = [sentinel(), new Float32Array(4).fill(-7), new Float32Array(4).fill(-7)];
          expect(addon.layerNormBackward(0, x, layout, 1, x, vector, x, layout, 1e-5, input, weight, bias)).toBe(false);
          for (const out of [input, weight, bias]) untouched(out);
        }
        expect(() => addon.softmax(1, x, layout, 1, 0, sentinel())).toThrow(TypeError);
        expect(() => addon.softmax(0, x, layout, 2, 0, sentinel())).toThrow(RangeError);
        expect(() => addon.layerNorm(0, x, layout, 1, x, layout, null, null, 1e-5, sentinel())).toThrow(RangeError);
        expect(() => addon.layerNormBackward(0, x, layout, 1, null, null, x, layout, -1, sentinel(), null, null)).toThrow(RangeError);
      });
      // The refusal belonged to the hook: the same configurations run once it is off.
      const out = sentinel();
      expect(addon.softmax(0, x, layout, 1, 0, out)).toBe(true);
      expect(out.some((v) => v === -7)).toBe(false);
      expect(addon.layerNorm(0, x, layout, 1, x, vector, null, null, 1e-5, sentinel())).toBe(true);
    });

    it('declines, and softmax, logSoftmax and layerNorm run their composites, backward passes included', () => {
      const names = ['softmax', 'logSoftmax', 'softmaxBackward', 'logSoftmaxBackward', 'layerNorm', 'layerNormBackward'] as const;
      const runs = () => names.map((name) => mkl.compositeRuns(name));
      const buffers = () => memory().backends.find((b) => b.backend === 'mkl')?.buffers ?? 0;
      // [64, 512] float32 outputs are pooled sizes: the declined ones go back to the pool.
      const shape = [64, 512];
      const step = (backend: BackendName) => {
        const x = input(backend, shape, 62, { requiresGrad: true });
        const weight = input(backend, [512], 63, { requiresGrad: true });
        const bias = input(backend, [512], 64, { requiresGrad: true });
        const outputs = [nn.functional.softmax(x, 0), nn.functional.logSoftmax(x, -1), nn.functional.layerNorm(x, [512], { weight, bias })];
        outputs
          .map((y, i) => y.mul(input(backend, shape, 65 + i)).sum())
          .reduce((a, b) => a.add(b))
          .backward();
        const leaves = [x, weight, bias];
        const values = [...outputs.map(read), ...leaves.map((t) => read(t.grad as Tensor))];
        for (const leaf of leaves) leaf.grad?.dispose();
        return values;
      };
      const before = runs();
      refusing(() => expectAgree(step, 2e-5));
      expect(runs()).toEqual(before);
      // Declined layer norms leave nothing behind, forward and backward (the first step may leave
      // constants the api caches). Not asserted with softmax in the step: its composite's recorded
      // backward pass keeps two buffers a step on every backend, the portable one included.
      const layerNormStep = () =>
        tidy(() => {
          const x = input('mkl', shape, 70, { requiresGrad: true });
          const weight = input('mkl', [512], 71, { requiresGrad: true });
          nn.functional.layerNorm(x, [512], { weight }).backward(input('mkl', shape, 69));
          for (const leaf of [x, weight]) leaf.grad?.dispose();
        });
      refusing(layerNormStep);
      const start = buffers();
      refusing(layerNormStep);
      expect(buffers()).toBe(start);
      expect(runs()).toEqual(before);
      // Without the hook the same step runs every fused kernel once.
      expectAgree(step, 1e-4);
      expect(runs()).toEqual(before.map((count) => count + 1));
    });

    it('declines under jit too, whose composite equations then run their bodies', () => {
      const forward = jit((v: Tensor) => nn.functional.layerNorm(nn.functional.softmax(v, -1), [24]).add(nn.functional.logSoftmax(v, 0)));
      const names = ['softmax', 'logSoftmax', 'layerNorm'] as const;
      const runs = () => names.map((name) => mkl.compositeRuns(name));
      const before = runs();
      refusing(() => expectAgree((backend) => [read(forward(input(backend, [12, 24], 72)))], 2e-5));
      expect(runs()).toEqual(before);
      // The same compiled function reaches the kernels once the hook is off.
      expectAgree((backend) => [read(forward(input(backend, [12, 24], 72)))], 1e-5);
      expect(runs()).toEqual(before.map((count) => count + 1));
    });
  });

  describe('memory', () => {
    it('frees what the fused forward and backward passes made, saved values included', () => {
      const buffers = () => memory().backends.find((b) => b.backend === 'mkl')?.buffers ?? 0;
      const x = tensor(randomValues(64 * 128, 51), { shape: [64, 128], backend: 'mkl', requiresGrad: true });
      const weight = tensor(randomValues(128, 52), { backend: 'mkl', requiresGrad: true });
      let start = buffers();
      for (let i = 0; i < 4; i++) {
        // The first step may leave constants the api caches per backend (scalars such as eps).
        if (i === 1) start = buffers();
        tidy(() => {
          const y = nn.functional.layerNorm(nn.functional.logSoftmax(nn.functional.softmax(x, 0), -1), [128], { weight });
          y.square().sum().backward();
        });
        for (const leaf of [x, weight]) {
          leaf.grad?.dispose();
          leaf.grad = null;
        }
      }
      // A saved value still retained by a graph would survive its tidy scope.
      expect(buffers()).toBe(start);
      // Unrecorded (the graph of a recorded one keeps its output until backward() releases it).
      const y = nn.functional.softmax(x.detach());
      expect(buffers()).toBe(start + 1);
      y.dispose();
      expect(buffers()).toBe(start);
      x.dispose();
      weight.dispose();
    });
  });
});
