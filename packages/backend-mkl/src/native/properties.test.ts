// Property tests of the addon's kernels on random strided views (zero, negative and gapped
// strides, offsets, empty dims) against naive references. Values are small integers, so float32
// sums and products are exact whatever order a kernel adds them in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Addon } from './addon.js';
import { loadAddon } from './load.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: kernel property tests skipped, the addon is unavailable: ${missing}`);

interface StridedView {
  readonly data: Float32Array;
  readonly layout: Int32Array;
  readonly shape: number[];
  readonly strides: number[];
  readonly offset: number;
}

/** An in-bounds view of `shape` with random strides over a buffer of small integers. */
function viewOf(shape: readonly number[]): fc.Arbitrary<StridedView> {
  return fc
    .record({
      strides: fc.tuple(...shape.map(() => fc.integer({ min: -5, max: 6 }))),
      slack: fc.integer({ min: 0, max: 3 }),
      seed: fc.integer(),
    })
    .map(({ strides, slack, seed }) => {
      let low = 0;
      let high = 0;
      shape.forEach((size, i) => {
        const span = Math.max(0, size - 1) * strides[i]!;
        if (span < 0) low += span;
        else high += span;
      });
      const offset = -low + slack;
      const length = offset + high + 1 + slack;
      let state = seed >>> 0 || 1;
      const data = Float32Array.from({ length }, () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return ((state >>> 16) % 7) - 3;
      });
      const layout = Int32Array.from([offset, shape.length, ...shape, ...strides]);
      return { data, layout, shape: [...shape], strides: [...strides], offset };
    });
}

function at(v: StridedView, index: readonly number[]): number {
  let position = v.offset;
  index.forEach((i, d) => {
    position += i * v.strides[d]!;
  });
  return v.data[position]!;
}

function forEachIndex(shape: readonly number[], visit: (index: number[]) => void): void {
  const size = shape.reduce((p, d) => p * d, 1);
  const index = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < size; n++) {
    visit(index);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

const dim = fc.integer({ min: 0, max: 4 });
const positive = fc.integer({ min: 1, max: 4 });

describe.skipIf(missing !== undefined)('native kernels on random strided views', () => {
  const addon = (loaded as { addon: Addon }).addon;

  it('binary ops read both operands through their strides', () => {
    const input = fc.array(dim, { maxLength: 4 }).chain((shape) => fc.tuple(viewOf(shape), viewOf(shape), fc.constantFrom(0, 1, 2, 5, 11)));
    fc.assert(
      fc.property(input, ([a, b, op]) => {
        const size = a.shape.reduce((p, d) => p * d, 1);
        const out = op === 11 ? new Uint8Array(size) : new Float32Array(size);
        addon.binary(op, 0, a.data, a.layout, b.data, b.layout, out);
        const expected: number[] = [];
        const apply = [(x: number, y: number) => x + y, (x: number, y: number) => x - y, (x: number, y: number) => x * y];
        forEachIndex(a.shape, (index) => {
          const x = at(a, index);
          const y = at(b, index);
          expected.push(op === 5 ? Math.max(x, y) : op === 11 ? Number(x < y) : apply[op]!(x, y));
        });
        expect([...out]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reductions fold any subset of axes of any view', () => {
    const input = fc
      .array(dim, { maxLength: 4 })
      .chain((shape) => fc.tuple(viewOf(shape), fc.subarray(shape.map((_, i) => i)), fc.integer({ min: 0, max: 3 })));
    fc.assert(
      fc.property(input, ([x, axes, op]) => {
        const kept = x.shape.filter((_, i) => !axes.includes(i));
        const outSize = kept.reduce((p, d) => p * d, 1);
        const out = new Float32Array(outSize);
        addon.reduce(op, 0, x.data, x.layout, Int32Array.from(axes), out);
        const identity = [0, -Infinity, Infinity, 1][op]!;
        const expected = new Array<number>(outSize).fill(identity);
        forEachIndex(x.shape, (index) => {
          let o = 0;
          x.shape.forEach((size, d) => {
            if (!axes.includes(d)) o = o * size + index[d]!;
          });
          const v = at(x, index);
          expected[o] = [expected[o]! + v, Math.max(expected[o]!, v), Math.min(expected[o]!, v), expected[o]! * v][op]!;
        });
        expect([...out]).toEqual(expected.map((v) => Math.fround(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('softmax and log-softmax read any view along any axis', () => {
    const input = fc
      .array(positive, { minLength: 1, maxLength: 4 })
      .chain((shape) => fc.tuple(viewOf(shape), fc.integer({ min: 0, max: shape.length - 1 }), fc.boolean()));
    fc.assert(
      fc.property(input, ([x, axis, log]) => {
        const size = x.shape.reduce((p, d) => p * d, 1);
        const out = new Float32Array(size).fill(Number.NaN);
        expect(addon.softmax(0, x.data, x.layout, axis, log ? 1 : 0, out)).toBe(true);
        let n = 0;
        forEachIndex(x.shape, (index) => {
          let peak = -Infinity;
          let total = 0;
          const row = (visit: (v: number) => void) => {
            for (let i = 0; i < x.shape[axis]!; i++)
              visit(
                at(
                  x,
                  index.map((v, d) => (d === axis ? i : v)),
                ),
              );
          };
          row((v) => {
            peak = Math.max(peak, v);
          });
          row((v) => {
            total += Math.exp(v - peak);
          });
          const v = at(x, index) - peak;
          const expected = log ? v - Math.log(total) : Math.exp(v) / total;
          expect(Math.abs(out[n++]! - expected)).toBeLessThanOrEqual(1e-5);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('the softmax backward pass reads any views along any axis', () => {
    const input = fc
      .array(positive, { minLength: 1, maxLength: 4 })
      .chain((shape) => fc.tuple(viewOf(shape), viewOf(shape), fc.integer({ min: 0, max: shape.length - 1 }), fc.boolean()));
    fc.assert(
      fc.property(input, ([y, g, axis, log]) => {
        const size = y.shape.reduce((p, d) => p * d, 1);
        const out = new Float32Array(size).fill(Number.NaN);
        // Any values stand in for the output: the formula holds for them as for a softmax's.
        expect(addon.softmaxBackward(0, y.data, y.layout, g.data, g.layout, axis, log ? 1 : 0, out)).toBe(true);
        let n = 0;
        forEachIndex(y.shape, (index) => {
          let total = 0;
          for (let i = 0; i < y.shape[axis]!; i++) {
            const along = index.map((v, d) => (d === axis ? i : v));
            total += log ? at(g, along) : at(g, along) * at(y, along);
          }
          const expected = log ? at(g, index) - Math.exp(at(y, index)) * total : at(y, index) * (at(g, index) - total);
          expect(Math.abs(out[n++]! - expected)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(expected)));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('layer normalization reads any view, weight and bias', () => {
    const input = fc
      .array(positive, { minLength: 1, maxLength: 4 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 1, max: shape.length })))
      .chain(([shape, normalizedDims]) => {
        const tail = shape.slice(shape.length - normalizedDims);
        return fc.tuple(viewOf(shape), fc.constant(normalizedDims), fc.option(viewOf(tail)), fc.option(viewOf(tail)));
      });
    fc.assert(
      fc.property(input, ([x, normalizedDims, weight, bias]) => {
        const size = x.shape.reduce((p, d) => p * d, 1);
        const out = new Float32Array(size).fill(Number.NaN);
        const eps = 0.5;
        const ran = addon.layerNorm(
          0,
          x.data,
          x.layout,
          normalizedDims,
          weight?.data ?? null,
          weight?.layout ?? null,
          bias?.data ?? null,
          bias?.layout ?? null,
          eps,
          out,
        );
        expect(ran).toBe(true);
        const lead = x.shape.length - normalizedDims;
        const tailShape = x.shape.slice(lead);
        let n = 0;
        forEachIndex(x.shape, (index) => {
          const values: number[] = [];
          forEachIndex(tailShape, (tail) => values.push(at(x, [...index.slice(0, lead), ...tail])));
          const mean = values.reduce((a, b) => a + b, 0) / values.length;
          const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
          const tail = index.slice(lead);
          const scale = weight === null ? 1 : at(weight, tail);
          const shift = bias === null ? 0 : at(bias, tail);
          const expected = ((at(x, index) - mean) / Math.sqrt(variance + eps)) * scale + shift;
          expect(Math.abs(out[n++]! - expected)).toBeLessThanOrEqual(1e-5);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('the layer normalization backward pass reads any views', () => {
    const input = fc
      .array(positive, { minLength: 1, maxLength: 4 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 1, max: shape.length })))
      .chain(([shape, normalizedDims]) =>
        fc.tuple(
          viewOf(shape),
          viewOf(shape),
          fc.constant(normalizedDims),
          fc.option(viewOf(shape.slice(shape.length - normalizedDims))),
          fc.boolean(),
        ),
      );
    fc.assert(
      fc.property(input, ([x, g, normalizedDims, weight, withBias]) => {
        const size = x.shape.reduce((p, d) => p * d, 1);
        const lead = x.shape.length - normalizedDims;
        const tailShape = x.shape.slice(lead);
        const length = tailShape.reduce((p, d) => p * d, 1);
        const out = new Float32Array(size).fill(Number.NaN);
        const weightOut = weight === null ? null : new Float32Array(length).fill(Number.NaN);
        const biasOut = withBias ? new Float32Array(length).fill(Number.NaN) : null;
        const eps = 0.5;
        const ran = addon.layerNormBackward(
          0,
          x.data,
          x.layout,
          normalizedDims,
          weight?.data ?? null,
          weight?.layout ?? null,
          g.data,
          g.layout,
          eps,
          out,
          weightOut,
          biasOut,
        );
        expect(ran).toBe(true);
        // Reference: x̂ = (x - mean) r, h = g w; dx = r (h - mean(h) - x̂ mean(h x̂)); dw = sum g x̂; db = sum g.
        const expectedWeight = new Array<number>(length).fill(0);
        const expectedBias = new Array<number>(length).fill(0);
        const expected: number[] = [];
        forEachIndex(x.shape.slice(0, lead), (leading) => {
          const xs: number[] = [];
          const gs: number[] = [];
          const ws: number[] = [];
          forEachIndex(tailShape, (tail) => {
            xs.push(at(x, [...leading, ...tail]));
            gs.push(at(g, [...leading, ...tail]));
            ws.push(weight === null ? 1 : at(weight, tail));
          });
          const mean = xs.reduce((a, b) => a + b, 0) / length;
          const r = 1 / Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / length + eps);
          const normalized = xs.map((v) => (v - mean) * r);
          const h = gs.map((v, i) => v * ws[i]!);
          const hMean = h.reduce((a, b) => a + b, 0) / length;
          const projection = h.reduce((a, v, i) => a + v * normalized[i]!, 0) / length;
          h.forEach((v, i) => {
            expected.push(r * (v - hMean - normalized[i]! * projection));
            expectedWeight[i]! += gs[i]! * normalized[i]!;
            expectedBias[i]! += gs[i]!;
          });
        });
        const close = (actual: ArrayLike<number>, wanted: readonly number[]) => {
          wanted.forEach((w, i) => {
            expect(Math.abs(actual[i]! - w)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(w)));
          });
        };
        close(out, expected);
        if (weightOut !== null) close(weightOut, expectedWeight);
        if (biasOut !== null) close(biasOut, expectedBias);
      }),
      { numRuns: 300 },
    );
  });

  describe('batch normalization', () => {
    // [N, C, ...spatial] of ranks 2 to 5; channel counts past 8 and 16 too (oneDNN's blocked
    // layouts pad them), and empty dims (statistics over no elements).
    const batchShape = fc
      .tuple(dim, fc.oneof(dim, fc.constantFrom(9, 17, 20)), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }))
      .map(([n, c, spatial]) => [n, c, ...spatial]);
    /** A [C] view holding values >= 0 (a variance): the view's buffer, mapped. */
    const nonNegative = (v: StridedView): StridedView => ({ ...v, data: v.data.map((x) => Math.abs(x) + 0.25) });
    const eps = 0.5;
    /** x's values of channel c, in row-major order of the other dims. */
    const channelValues = (v: StridedView, c: number): number[] => {
      const values: number[] = [];
      forEachIndex(v.shape, (index) => {
        if (index[1] === c) values.push(at(v, index));
      });
      return values;
    };
    const close = (actual: number, expected: number, tolerance = 1e-4) => {
      if (Number.isNaN(expected)) expect(actual).toBeNaN();
      else expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(expected)));
    };
    const optionalArguments = (v: StridedView | null) => [v?.data ?? null, v?.layout ?? null] as const;

    it('training: the batch statistics and the output, on any views, weight and bias', () => {
      const input = batchShape.chain((shape) => fc.tuple(viewOf(shape), fc.option(viewOf([shape[1]!])), fc.option(viewOf([shape[1]!]))));
      fc.assert(
        fc.property(input, ([x, weight, bias]) => {
          const size = x.shape.reduce((p, d) => p * d, 1);
          const channels = x.shape[1]!;
          const out = new Float32Array(size).fill(Number.NaN);
          const mean = new Float32Array(channels).fill(-7);
          const variance = new Float32Array(channels).fill(-7);
          const ran = addon.batchNorm(
            0,
            x.data,
            x.layout,
            ...optionalArguments(weight),
            ...optionalArguments(bias),
            eps,
            out,
            mean,
            variance,
          );
          expect(ran).toBe(true);
          const statistics: [number, number][] = [];
          for (let c = 0; c < channels; c++) {
            const values = channelValues(x, c);
            const m = values.reduce((a, b) => a + b, 0) / values.length;
            const v = values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length;
            statistics.push([m, v]);
            close(mean[c]!, m);
            close(variance[c]!, v);
          }
          let n = 0;
          forEachIndex(x.shape, (index) => {
            const c = index[1]!;
            const [m, v] = statistics[c]!;
            const scale = weight === null ? 1 : at(weight, [c]);
            const shift = bias === null ? 0 : at(bias, [c]);
            close(out[n++]!, ((at(x, index) - m) / Math.sqrt(v + eps)) * scale + shift);
          });
        }),
        { numRuns: 300 },
      );
    });

    it('inference: given statistics, on any views', () => {
      const input = batchShape.chain((shape) =>
        fc.tuple(
          viewOf(shape),
          viewOf([shape[1]!]),
          viewOf([shape[1]!]).map(nonNegative),
          fc.option(viewOf([shape[1]!])),
          fc.option(viewOf([shape[1]!])),
        ),
      );
      fc.assert(
        fc.property(input, ([x, mean, variance, weight, bias]) => {
          const size = x.shape.reduce((p, d) => p * d, 1);
          const out = new Float32Array(size).fill(Number.NaN);
          const ran = addon.batchNormInference(
            0,
            x.data,
            x.layout,
            mean.data,
            mean.layout,
            variance.data,
            variance.layout,
            ...optionalArguments(weight),
            ...optionalArguments(bias),
            eps,
            out,
          );
          expect(ran).toBe(true);
          let n = 0;
          forEachIndex(x.shape, (index) => {
            const c = index[1]!;
            const scale = weight === null ? 1 : at(weight, [c]);
            const shift = bias === null ? 0 : at(bias, [c]);
            close(out[n++]!, ((at(x, index) - at(mean, [c])) / Math.sqrt(at(variance, [c]) + eps)) * scale + shift);
          });
        }),
        { numRuns: 300 },
      );
    });

    it('backward: the input, weight and bias cotangents, on any views', () => {
      const input = batchShape.chain((shape) =>
        fc.tuple(
          viewOf(shape),
          viewOf(shape),
          viewOf([shape[1]!]),
          viewOf([shape[1]!]).map(nonNegative),
          fc.option(viewOf([shape[1]!])),
          fc.boolean(),
        ),
      );
      fc.assert(
        fc.property(input, ([x, g, mean, variance, weight, withBias]) => {
          const size = x.shape.reduce((p, d) => p * d, 1);
          const channels = x.shape[1]!;
          const out = new Float32Array(size).fill(Number.NaN);
          const weightOut = weight === null ? null : new Float32Array(channels).fill(Number.NaN);
          const biasOut = withBias ? new Float32Array(channels).fill(Number.NaN) : null;
          const ran = addon.batchNormBackward(
            0,
            x.data,
            x.layout,
            mean.data,
            mean.layout,
            variance.data,
            variance.layout,
            ...optionalArguments(weight),
            g.data,
            g.layout,
            eps,
            out,
            weightOut,
            biasOut,
          );
          expect(ran).toBe(true);
          // The formula holds for any statistics, not only the batch's: with r = 1 / sqrt(variance
          // + eps), x̂ = (x - mean) r, h = g w: dx = r (h - mean(h) - x̂ mean(h x̂)), dw = sum g x̂, db = sum g.
          const perChannel: { r: number; hMean: number; projection: number }[] = [];
          for (let c = 0; c < channels; c++) {
            const r = 1 / Math.sqrt(at(variance, [c]) + eps);
            const w = weight === null ? 1 : at(weight, [c]);
            const xs = channelValues(x, c);
            const gs = channelValues(g, c);
            const normalized = xs.map((v) => (v - at(mean, [c])) * r);
            const count = xs.length;
            const hMean = gs.reduce((a, v) => a + v * w, 0) / count;
            const projection = gs.reduce((a, v, i) => a + v * w * normalized[i]!, 0) / count;
            perChannel.push({ r, hMean, projection });
            if (weightOut !== null)
              close(
                weightOut[c]!,
                gs.reduce((a, v, i) => a + v * normalized[i]!, 0),
              );
            if (biasOut !== null)
              close(
                biasOut[c]!,
                gs.reduce((a, v) => a + v, 0),
              );
          }
          let n = 0;
          forEachIndex(x.shape, (index) => {
            const c = index[1]!;
            const { r, hMean, projection } = perChannel[c]!;
            const w = weight === null ? 1 : at(weight, [c]);
            const normalized = (at(x, index) - at(mean, [c])) * r;
            close(out[n++]!, r * (at(g, index) * w - hMean - normalized * projection));
          });
        }),
        { numRuns: 300 },
      );
    });

    it('all three past the parallel threshold: channels whole per thread, split by samples, rows of channels', () => {
      // From 131,072 elements the kernels run on every thread: the threads take channels whole and
      // split the rest by samples (C = 1, 3 and 5 on two threads), or split samples read as rows
      // of channels (rank 2; S = 9; S = 25, which sums along rows and writes on planes). [3, 3, 7, 8]
      // is on planes below the threshold. The views are packed first, as any non-contiguous one.
      const shapes = fc.constantFrom(
        [128, 1, 32, 32],
        [128, 3, 32, 32],
        [48, 5, 24, 24],
        [4096, 40],
        [512, 30, 3, 3],
        [300, 20, 5, 5],
        [3, 3, 7, 8],
      );
      const input = shapes.chain((shape) => {
        const vector = viewOf([shape[1]!]);
        return fc.tuple(viewOf(shape), viewOf(shape), fc.option(vector), fc.option(vector), vector, vector.map(nonNegative));
      });
      /** A view's values, row-major, and each element's channel. */
      const dense = (v: StridedView) => {
        const values: number[] = [];
        const channel: number[] = [];
        forEachIndex(v.shape, (index) => {
          values.push(at(v, index));
          channel.push(index[1]!);
        });
        return { values, channel };
      };
      /** The largest error relative to 1 + |expected|, over all elements. */
      const worst = (actual: ArrayLike<number>, expected: readonly number[]) =>
        expected.reduce((w, e, i) => Math.max(w, Math.abs(actual[i]! - e) / (1 + Math.abs(e))), 0);
      fc.assert(
        fc.property(input, ([x, g, weight, bias, givenMean, givenVariance]) => {
          const size = x.shape.reduce((p, d) => p * d, 1);
          const channels = x.shape[1]!;
          const count = size / channels;
          const xs = dense(x);
          const gs = dense(g).values;
          const scale = (c: number) => (weight === null ? 1 : at(weight, [c]));
          const shift = (c: number) => (bias === null ? 0 : at(bias, [c]));
          const perChannel = (term: (i: number) => number) => {
            const sums = new Array<number>(channels).fill(0);
            xs.values.forEach((_, i) => {
              sums[xs.channel[i]!]! += term(i);
            });
            return sums;
          };
          // Training: the statistics and the output.
          const out = new Float32Array(size);
          const mean = new Float32Array(channels);
          const variance = new Float32Array(channels);
          expect(
            addon.batchNorm(0, x.data, x.layout, ...optionalArguments(weight), ...optionalArguments(bias), eps, out, mean, variance),
          ).toBe(true);
          const m = perChannel((i) => xs.values[i]!).map((s) => s / count);
          const v = perChannel((i) => (xs.values[i]! - m[xs.channel[i]!]!) ** 2).map((s) => s / count);
          expect(worst(mean, m)).toBeLessThanOrEqual(1e-5);
          expect(worst(variance, v)).toBeLessThanOrEqual(1e-5);
          const normalized = (i: number, mu: (c: number) => number, sigma2: (c: number) => number) => {
            const c = xs.channel[i]!;
            return (xs.values[i]! - mu(c)) / Math.sqrt(sigma2(c) + eps);
          };
          const trained = xs.values.map(
            (_, i) =>
              normalized(
                i,
                (c) => m[c]!,
                (c) => v[c]!,
              ) *
                scale(xs.channel[i]!) +
              shift(xs.channel[i]!),
          );
          expect(worst(out, trained)).toBeLessThanOrEqual(1e-4);
          // Inference with the given statistics.
          const mu = (c: number) => at(givenMean, [c]);
          const sigma2 = (c: number) => at(givenVariance, [c]);
          const args = (view: StridedView) => [view.data, view.layout] as const;
          // What inference and the backward pass both take first: dtype, input, statistics, weight.
          const fromStatistics = [0, x.data, x.layout, ...args(givenMean), ...args(givenVariance), ...optionalArguments(weight)] as const;
          expect(addon.batchNormInference(...fromStatistics, ...optionalArguments(bias), eps, out)).toBe(true);
          const inferred = xs.values.map((_, i) => normalized(i, mu, sigma2) * scale(xs.channel[i]!) + shift(xs.channel[i]!));
          expect(worst(out, inferred)).toBeLessThanOrEqual(1e-4);
          // Backward from the given statistics: dx = r (h - mean(h) - x̂ mean(h x̂)), dw = sum g x̂, db = sum g.
          const weightOut = weight === null ? null : new Float32Array(channels);
          const biasOut = new Float32Array(channels);
          expect(addon.batchNormBackward(...fromStatistics, g.data, g.layout, eps, out, weightOut, biasOut)).toBe(true);
          const xhat = xs.values.map((_, i) => normalized(i, mu, sigma2));
          const hMean = perChannel((i) => gs[i]! * scale(xs.channel[i]!)).map((s) => s / count);
          const projection = perChannel((i) => gs[i]! * scale(xs.channel[i]!) * xhat[i]!).map((s) => s / count);
          const input = xs.values.map((_, i) => {
            const c = xs.channel[i]!;
            return (gs[i]! * scale(c) - hMean[c]! - xhat[i]! * projection[c]!) / Math.sqrt(sigma2(c) + eps);
          });
          expect(worst(out, input)).toBeLessThanOrEqual(1e-4);
          if (weightOut !== null)
            expect(
              worst(
                weightOut,
                perChannel((i) => gs[i]! * xhat[i]!),
              ),
            ).toBeLessThanOrEqual(1e-4);
          expect(
            worst(
              biasOut,
              perChannel((i) => gs[i]!),
            ),
          ).toBeLessThanOrEqual(1e-5);
        }),
        { numRuns: 14 },
      );
    });
  });

  it('matmul takes any strides through either engine', () => {
    const input = fc
      .tuple(dim, dim, dim, dim)
      .chain(([batch, m, k, n]) => fc.tuple(viewOf([batch, m, k]), viewOf([batch, k, n]), fc.constantFrom(0, 1, 2)));
    fc.assert(
      fc.property(input, ([a, b, mode]) => {
        const [batch, m, k] = a.shape as [number, number, number];
        const n = b.shape[2]!;
        const out = new Float32Array(batch * m * n).fill(Number.NaN);
        addon.matmul(0, a.data, a.layout, b.data, b.layout, out, mode);
        const expected: number[] = [];
        for (let i = 0; i < batch; i++)
          for (let r = 0; r < m; r++)
            for (let c = 0; c < n; c++) {
              let sum = 0;
              for (let j = 0; j < k; j++) sum += at(a, [i, r, j]) * at(b, [i, j, c]);
              expected.push(sum);
            }
        expect([...out]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('conv matches a naive convolution, or declines without writing', () => {
    const input = fc
      .record({
        spatial: fc.integer({ min: 1, max: 2 }),
        batch: fc.integer({ min: 0, max: 2 }),
        groups: fc.integer({ min: 1, max: 2 }),
        perGroupIn: positive,
        perGroupOut: positive,
      })
      .chain(({ spatial, batch, groups, perGroupIn, perGroupOut }) =>
        fc.tuple(
          fc.constant(groups),
          fc.array(fc.integer({ min: 0, max: 6 }), { minLength: spatial, maxLength: spatial }),
          fc.array(positive, { minLength: spatial, maxLength: spatial }),
          fc.array(
            fc.record({
              stride: fc.integer({ min: 1, max: 3 }),
              low: fc.integer({ min: -1, max: 2 }),
              high: fc.integer({ min: -1, max: 2 }),
              dilation: fc.integer({ min: 1, max: 2 }),
            }),
            {
              minLength: spatial,
              maxLength: spatial,
            },
          ),
          fc.constant([batch, groups * perGroupIn, groups * perGroupOut]),
        ),
      )
      .chain(([groups, sizes, kernel, options, [batch, channels, outChannels]]) =>
        fc.tuple(
          viewOf([batch!, channels!, ...sizes]),
          viewOf([outChannels!, channels! / groups, ...kernel]),
          fc.constant({ groups, options }),
        ),
      );
    fc.assert(
      fc.property(input, ([x, w, { groups, options }]) => {
        const spatial = options.length;
        const outSizes = options.map((o, d) => {
          const span = x.shape[2 + d]! + o.low + o.high - ((w.shape[2 + d]! - 1) * o.dilation + 1);
          return span < 0 ? 0 : Math.floor(span / o.stride) + 1;
        });
        const [batch, channels] = x.shape as [number, number];
        const outChannels = w.shape[0]!;
        const outShape = [batch, outChannels, ...outSizes];
        const out = new Float32Array(outShape.reduce((p, d) => p * d, 1)).fill(Number.NaN);
        const params = Int32Array.from([
          groups,
          ...options.map((o) => o.stride),
          ...options.map((o) => o.low),
          ...options.map((o) => o.high),
          ...options.map((o) => o.dilation),
        ]);
        const done = addon.conv(0, x.data, x.layout, w.data, w.layout, out, params);
        const negative = options.some((o) => o.low < 0 || o.high < 0);
        if (!done) {
          expect(negative).toBe(true);
          expect(out.every(Number.isNaN)).toBe(true);
          return;
        }
        const perGroupIn = channels / groups;
        const perGroupOut = outChannels / groups;
        const expected: number[] = [];
        forEachIndex(outShape, ([n, o, ...position]) => {
          const g = Math.floor(o! / perGroupOut);
          let sum = 0;
          forEachIndex([perGroupIn, ...w.shape.slice(2)], ([c, ...tap]) => {
            const source: number[] = [];
            for (let d = 0; d < spatial; d++)
              source.push(position[d]! * options[d]!.stride - options[d]!.low + tap[d]! * options[d]!.dilation);
            if (source.every((s, d) => s >= 0 && s < x.shape[2 + d]!))
              sum += at(x, [n!, g * perGroupIn + c!, ...source]) * at(w, [o!, c!, ...tap]);
          });
          expected.push(sum);
        });
        expect([...out]).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('pooling matches a naive window reduction, or declines without writing', () => {
    const input = fc
      .record({
        sizes: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 3, maxLength: 4 }),
        op: fc.integer({ min: 0, max: 1 }),
      })
      .chain(({ sizes, op }) =>
        fc.tuple(
          viewOf(sizes),
          fc.constant(op),
          fc.array(
            fc.record({
              window: positive,
              stride: fc.integer({ min: 1, max: 3 }),
              low: fc.integer({ min: -1, max: 2 }),
              high: fc.integer({ min: 0, max: 2 }),
              dilation: fc.integer({ min: 1, max: 2 }),
            }),
            {
              minLength: sizes.length,
              maxLength: sizes.length,
            },
          ),
        ),
      );
    fc.assert(
      fc.property(input, ([x, op, windows]) => {
        const outShape = windows.map((w, d) => {
          const span = x.shape[d]! + w.low + w.high - ((w.window - 1) * w.dilation + 1);
          return span < 0 ? 0 : Math.floor(span / w.stride) + 1;
        });
        const out = new Float32Array(outShape.reduce((p, d) => p * d, 1)).fill(Number.NaN);
        const params = Int32Array.from([
          ...windows.map((w) => w.window),
          ...windows.map((w) => w.stride),
          ...windows.map((w) => w.low),
          ...windows.map((w) => w.high),
          ...windows.map((w) => w.dilation),
        ]);
        if (!addon.pool(op, 0, x.data, x.layout, out, params)) {
          expect(out.every(Number.isNaN)).toBe(true);
          return;
        }
        const expected: number[] = [];
        forEachIndex(outShape, (position) => {
          let value = op === 1 ? -Infinity : 0;
          forEachIndex(
            windows.map((w) => w.window),
            (tap) => {
              const source = position.map((p, d) => p * windows[d]!.stride - windows[d]!.low + tap[d]! * windows[d]!.dilation);
              if (!source.every((s, d) => s >= 0 && s < x.shape[d]!)) return;
              const v = at(x, source);
              value = op === 1 ? Math.max(value, v) : value + v;
            },
          );
          expected.push(value);
        });
        expect(out.length).toBe(expected.length);
        const worst = Math.max(0, ...expected.map((e, i) => Math.abs(out[i]! - e) / (1 + Math.abs(e))));
        expect(worst).toBeLessThanOrEqual(1e-5);
      }),
      { numRuns: 200 },
    );
  });
});
