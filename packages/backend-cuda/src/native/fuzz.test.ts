// Throws random bad input at every function of the native addon in validation-only mode (buffers
// in host memory, every check run, no kernel launched), so it runs on machines without a GPU. A
// memory error in the addon would kill this test's process and fail the suite; the properties
// also check that the bounds checks accept exactly the views that stay inside their buffers, and
// that the caching allocator's statistics add up.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { attempt, layoutArray, plausibleLayout } from '../../../../test/support/native-fuzz.test-support.js';
import type { Addon } from './addon.js';
import { DEVICE_FUNCTIONS } from './addon-functions.test-support.js';
import { loadAddon } from './load.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-cuda: fuzz tests skipped, the addon is unavailable: ${missing}`);

// Functions without arguments, and the NCCL setup the suite itself does once, are not fuzzed;
// `configure` needs no device but checks its arguments.
const NOT_FUZZED: readonly string[] = ['emptyCache', 'synchronize', 'ncclUniqueId', 'ncclInit'];
const NAMES = [...DEVICE_FUNCTIONS.filter((name) => !NOT_FUZZED.includes(name)), 'configure'] as const;

describe.skipIf(missing !== undefined)('the addon under random bad input (validation-only mode)', () => {
  const addon = (loaded as { addon: Addon }).addon;
  /** Live buffers of each dtype with their element counts, for arguments that name real handles. */
  const buffers: { id: number; dtype: number; length: number }[] = [];

  beforeAll(() => {
    addon.initValidationOnly();
    const arrays = [
      new Float32Array(24),
      new Float64Array(24),
      new Int32Array([0, 1, 1, 0, 2, 5, -1, 3]),
      new Uint8Array(24),
      new Uint8Array(6),
      new Int32Array([7, 9]),
      new Float32Array(0),
      new Uint16Array(12),
      new Uint16Array(8),
    ];
    const dtypes = [0, 1, 2, 3, 4, 2, 0, 5, 6];
    arrays.forEach((data, i) => {
      buffers.push({ id: addon.upload(dtypes[i]!, data), dtype: dtypes[i]!, length: data.length });
    });
    // A simulated communicator (rank 0 of 2), so NCCL calls get past it to their argument checks.
    addon.ncclInit(new Uint8Array(128), 0, 2, 5);
  });

  const handle = () =>
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 8 }).map((i) => buffers[i]?.id ?? 1) },
      { weight: 1, arbitrary: fc.constantFrom(0, -1, 1e9, 2 ** 53, 0.5, Number.NaN) },
    );
  const dtype = fc.integer({ min: -1, max: 7 });
  const junk = fc.oneof(
    fc.anything(),
    plausibleLayout,
    fc.constantFrom(Number.NaN, Infinity, -0, 1.5, 2 ** 53, -1, 0, 1, 2, 4, 5, 100),
    fc.integer({ min: 1, max: 8 }),
  );

  // `free` is left out here: small integers name the live buffers the other properties use.
  it.each(NAMES.filter((n) => n !== 'free').map((name) => [name]))('%s never crashes on arbitrary arguments', (name) => {
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 8 }), (args) => {
        attempt(addon, name, args);
      }),
      { numRuns: 300 },
    );
  });

  it.each(NAMES.filter((n) => n !== 'configure').map((name) => [name]))(
    '%s never crashes on well-typed arguments with bad values',
    (name) => {
      const h = handle();
      const l = plausibleLayout;
      const small = fc.integer({ min: -1, max: 20 });
      const params = layoutArray;
      const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
      const eps = fc.constantFrom(0, 1e-5, -1, Number.NaN, Number.POSITIVE_INFINITY, 0.1);
      const engine = fc.integer({ min: -1, max: 3 });
      const argumentsFor: Record<string, fc.Arbitrary<unknown[]>> = {
        upload: fc.tuple(
          dtype,
          fc.oneof(
            fc.float32Array({ maxLength: 8 }),
            fc.int32Array({ maxLength: 8 }),
            fc.uint8Array({ maxLength: 8 }),
            fc.uint16Array({ maxLength: 8 }),
          ),
        ),
        read: fc.tuple(h, dtype, l),
        free: fc.tuple(fc.constantFrom(0, -1, 1e12, 0.5)),
        unary: fc.tuple(small, dtype, h, l),
        binary: fc.tuple(small, dtype, h, l, h, l),
        where: fc.tuple(dtype, h, l, h, l, h, l),
        cast: fc.tuple(dtype, dtype, h, l),
        copy: fc.tuple(dtype, h, l),
        copyInto: fc.tuple(dtype, h, l, h, l),
        full: fc.tuple(
          dtype,
          fc.integer({ min: -2, max: 50 }),
          fc.oneof(fc.float32Array({ maxLength: 2 }), fc.uint8Array({ maxLength: 2 })),
        ),
        empty: fc.tuple(dtype, fc.constantFrom(-1, 0, 5, 2 ** 31, 2 ** 40)),
        iota: fc.tuple(dtype, params, small),
        reduce: fc.tuple(small, dtype, h, l, params),
        argReduce: fc.tuple(small, dtype, h, l, small),
        cumulative: fc.tuple(small, fc.boolean(), dtype, h, l, small),
        argsort: fc.tuple(fc.boolean(), dtype, h, l, small),
        matmul: fc.tuple(dtype, h, l, h, l, fc.integer({ min: -1, max: 3 })),
        matmulBias: fc.tuple(dtype, h, l, h, l, h, l),
        conv: fc.tuple(dtype, h, l, h, l, params, fc.integer({ min: -1, max: 3 })),
        convBackwardFilter: fc.tuple(dtype, h, l, h, l, params),
        convBackwardData: fc.tuple(dtype, h, l, h, l, params),
        reduceWindow: fc.tuple(small, dtype, h, l, params, fc.integer({ min: -1, max: 3 })),
        windowMaxBackward: fc.tuple(dtype, h, l, h, l, params),
        softmax: fc.tuple(dtype, h, l, small, fc.boolean()),
        softmaxBackward: fc.tuple(dtype, h, l, h, l, small, fc.boolean()),
        layerNorm: fc.tuple(dtype, h, l, maybe(h), maybe(l), maybe(h), maybe(l), small, eps),
        layerNormBackward: fc.tuple(dtype, h, l, maybe(h), maybe(l), h, l, small, eps, fc.boolean()),
        batchNorm: fc.tuple(dtype, h, l, maybe(h), maybe(l), maybe(h), maybe(l), eps, engine),
        batchNormInference: fc.tuple(dtype, h, l, h, l, h, l, maybe(h), maybe(l), maybe(h), maybe(l), eps, engine),
        batchNormBackward: fc.tuple(dtype, h, l, h, l, h, l, maybe(h), maybe(l), h, l, eps, fc.boolean(), engine),
        gather: fc.tuple(dtype, h, l, h, l),
        scatterAdd: fc.tuple(dtype, h, l, h, l, h, l),
        randomBits: fc.tuple(h, l, fc.integer({ min: -1, max: 100 })),
        randomUniform: fc.tuple(dtype, h, l, fc.integer({ min: -1, max: 100 })),
        jitCompile: fc.tuple(fc.string(), fc.string(), params, params, fc.integer({ min: -1, max: 40 }), fc.constantFrom(0, 1, 32, 33)),
        jitLaunch: fc.tuple(fc.integer({ min: 0, max: 3 }), params, h, l),
        ncclCollective: fc.tuple(fc.integer({ min: -1, max: 4 }), fc.integer({ min: -1, max: 5 }), dtype, h, l, small),
        ncclGroup: fc.tuple(fc.boolean()),
      };
      let accepted = 0;
      fc.assert(
        fc.property(argumentsFor[name]!, (args) => {
          if (attempt(addon, name, args) === null) accepted++;
        }),
        { numRuns: 400 },
      );
      if (process.env.FLINT_CUDA_FUZZ_REPORT) console.log(`${name}: ${accepted} of 400 accepted`);
    },
  );

  it('accepts exactly the views that stay inside their buffers', () => {
    const target = () => buffers[0]!; // float32, 24 elements
    fc.assert(
      fc.property(
        fc.integer({ min: -30, max: 30 }),
        fc.array(fc.record({ dim: fc.integer({ min: 0, max: 5 }), stride: fc.integer({ min: -8, max: 8 }) }), { maxLength: 3 }),
        (offset, dims) => {
          const layout = Int32Array.from([offset, dims.length, ...dims.map((d) => d.dim), ...dims.map((d) => d.stride)]);
          const size = dims.reduce((p, d) => p * d.dim, 1);
          let low = offset;
          let high = offset;
          for (const d of dims) {
            const span = (d.dim - 1) * d.stride;
            if (span < 0) low += span;
            else high += span;
          }
          const inside = size === 0 || (low >= 0 && high < target().length);
          const error = attempt(addon, 'copy', [0, target().id, layout]);
          expect(error === null).toBe(inside);
          if (error !== null) expect(error.message).toMatch(/reaches outside its buffer of 24 elements/);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps its buffers valid: reads return what was uploaded, through any in-bounds view', async () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i * 1.5 - 3);
    const id = addon.upload(0, data);
    const transposed = await addon.read(id, 0, Int32Array.from([0, 2, 4, 3, 1, 4]));
    expect([...transposed]).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11].map((i) => data[i]));
    const flipped = await addon.read(id, 0, Int32Array.from([11, 1, 12, -1]));
    expect([...flipped]).toEqual([...data].reverse());
    addon.free(id);
    expect(() => addon.free(id)).toThrow(/names no live buffer/);
  });

  it('refuses a buffer of another dtype, naming both', () => {
    expect(() => addon.unary(0, 1, buffers[0]!.id, Int32Array.from([0, 1, 24, 1]))).toThrow(/float32 buffer, expected float64/);
  });

  it('refuses shapes that disagree, ranks over 16 and element counts of 2^31', () => {
    const f = buffers[0]!.id;
    expect(() => addon.binary(0, 0, f, Int32Array.from([0, 1, 4, 1]), f, Int32Array.from([0, 1, 5, 1]))).toThrow(/shape/);
    expect(() => addon.copy(0, f, Int32Array.from([0, 17, ...new Array(34).fill(1)]))).toThrow(/rank 17/);
    expect(() => addon.copy(0, f, Int32Array.from([0, 2, 65536, 65536, 0, 0]))).toThrow(/2\^31/);
    expect(() => addon.matmul(0, f, Int32Array.from([0, 2, 4, 6, 6, 1]), f, Int32Array.from([0, 3, 1, 6, 4, 0, 4, 1]), 0)).toThrow(
      /rank 3/,
    );
  });

  it('sizes outputs from the parameters and refuses inconsistent ones', () => {
    const x = addon.upload(0, new Float32Array(2 * 3 * 5 * 5));
    const w = addon.upload(0, new Float32Array(4 * 3 * 3 * 3));
    const xLayout = Int32Array.from([0, 4, 2, 3, 5, 5, 75, 25, 5, 1]);
    const wLayout = Int32Array.from([0, 4, 4, 3, 3, 3, 27, 9, 3, 1]);
    const before = addon.memory().buffers;
    const out = addon.conv(0, x, xLayout, w, wLayout, Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 0);
    expect(addon.memory().buffers).toBe(before + 1);
    // 2 x 4 x 5 x 5 elements: reading past them is refused.
    expect(() => addon.copy(0, out, Int32Array.from([0, 1, 201, 1]))).toThrow(/outside its buffer of 200 elements/);
    expect(() => addon.conv(0, x, xLayout, w, wLayout, Int32Array.from([2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 0)).toThrow(/groups/);
    expect(() => addon.conv(0, x, xLayout, w, wLayout, Int32Array.from([1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 0)).toThrow(/positive/);
    for (const id of [x, w, out]) addon.free(id);
  });

  it("sizes the backward convolutions' outputs from the forward's geometry and refuses a dy of another size", () => {
    // The forward: x [2, 3, 9, 9] * w [4, 3, 3, 3], stride 2, pad 1, dilation 1 -> dy [2, 4, 5, 5].
    const x = addon.upload(0, new Float32Array(2 * 3 * 9 * 9));
    const w = addon.upload(0, new Float32Array(4 * 3 * 3 * 3));
    const dy = addon.upload(0, new Float32Array(2 * 4 * 5 * 5));
    const xLayout = Int32Array.from([0, 4, 2, 3, 9, 9, 243, 81, 9, 1]);
    const wLayout = Int32Array.from([0, 4, 4, 3, 3, 3, 27, 9, 3, 1]);
    const dyLayout = Int32Array.from([0, 4, 2, 4, 5, 5, 100, 25, 5, 1]);
    const geometry = (size: number) => Int32Array.from([1, 2, 2, 1, 1, 1, 1, size, size]);
    const dw = addon.convBackwardFilter(0, x, xLayout, dy, dyLayout, geometry(3)) as number;
    const dx = addon.convBackwardData(0, w, wLayout, dy, dyLayout, geometry(9)) as number;
    // dw is 4 x 3 x 3 x 3 and dx 2 x 3 x 9 x 9 elements: reading past them is refused.
    expect(() => addon.copy(0, dw, Int32Array.from([0, 1, 109, 1]))).toThrow(/outside its buffer of 108 elements/);
    expect(() => addon.copy(0, dx, Int32Array.from([0, 1, 487, 1]))).toThrow(/outside its buffer of 486 elements/);
    // An input of 12 makes the forward's output 6, not dy's 5; a filter of 4 makes it 4.
    expect(() => addon.convBackwardData(0, w, wLayout, dy, dyLayout, geometry(12))).toThrow(
      /dy's spatial dim 0 is 5, but the forward convolution \(input 12/,
    );
    expect(() => addon.convBackwardFilter(0, x, xLayout, dy, dyLayout, geometry(4))).toThrow(/gives 4/);
    expect(() => addon.convBackwardFilter(0, x, xLayout, dy, dyLayout, Int32Array.from([1, 2, 2, -1, 1, 1, 1, 3, 3]))).toThrow(/padding/);
    expect(() => addon.convBackwardFilter(0, x, xLayout, dy, Int32Array.from([0, 4, 2, 4, 5, 5, 1, 2, 8, 40]), geometry(3))).toThrow(
      /contiguous/,
    );
    expect(() => addon.convBackwardData(0, x, xLayout, dy, dyLayout, geometry(9))).toThrow(/one channel per filter/);
    expect(() => addon.convBackwardData(0, w, wLayout, dy, dyLayout, Int32Array.from([3, 2, 2, 1, 1, 1, 1, 9, 9]))).toThrow(
      /divide the filters/,
    );
    // Groups must divide x's 3 channels and dy's 4.
    for (const groups of [0, 2, 3]) {
      expect(() => addon.convBackwardFilter(0, x, xLayout, dy, dyLayout, Int32Array.from([groups, 2, 2, 1, 1, 1, 1, 3, 3]))).toThrow(
        /divide x's channels and dy's/,
      );
    }
    // Two groups: w [4, 3, 3, 3] is then the filter of a 6-channel input.
    const dx2 = addon.convBackwardData(0, w, wLayout, dy, dyLayout, Int32Array.from([2, 2, 2, 1, 1, 1, 1, 9, 9])) as number;
    expect(() => addon.copy(0, dx2, Int32Array.from([0, 1, 973, 1]))).toThrow(/outside its buffer of 972 elements/);
    addon.free(dx2);
    for (const id of [x, w, dy, dw, dx]) addon.free(id);
    // The next test counts the cache's blocks from an empty cache.
    addon.emptyCache();
  });

  it('sizes pooling outputs for every engine and refuses an unknown engine or bad windows', () => {
    const x = addon.upload(0, new Float32Array(2 * 3 * 7 * 7));
    const layout = Int32Array.from([0, 4, 2, 3, 7, 7, 147, 49, 7, 1]);
    // window [1, 1, 3, 3], strides [1, 1, 2, 2], padding 1 each side of the spatial dims, no dilation.
    const params = Int32Array.from([1, 1, 3, 3, 1, 1, 2, 2, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]);
    for (const engine of [0, 1, 2]) {
      const out = addon.reduceWindow(1, 0, x, layout, params, engine);
      // 2 x 3 x 4 x 4 elements: reading past them is refused.
      expect(() => addon.copy(0, out, Int32Array.from([0, 1, 97, 1]))).toThrow(/outside its buffer of 96 elements/);
      addon.free(out);
    }
    expect(() => addon.reduceWindow(1, 0, x, layout, params, 3)).toThrow(/engine must be an integer in \[0, 2\]/);
    expect(() => addon.reduceWindow(1, 0, x, layout, params, 0.5)).toThrow(/engine/);
    expect(() => addon.reduceWindow(1, 0, x, layout, params.subarray(0, 16), 0)).toThrow(/params/);
    const zeroWindow = params.slice();
    zeroWindow[2] = 0;
    expect(() => addon.reduceWindow(1, 0, x, layout, zeroWindow, 0)).toThrow(/positive/);
    expect(() => addon.reduceWindow(2, 0, x, layout, params, 0)).toThrow(/op must be an integer/);
    addon.free(x);
  });

  it('reuses freed blocks of the same size class and empties its cache', () => {
    const before = addon.memory();
    const ids = [1000, 1001, 1100, 4000].map((n) => addon.upload(0, new Float32Array(n)));
    const allocated = addon.memory();
    expect(allocated.buffers).toBe(before.buffers + 4);
    // 1000 and 1001 floats share a size class (4 classes per power of two): both blocks are 4096 bytes.
    expect(allocated.allocatedBytes - before.allocatedBytes).toBe(4096 + 4096 + 5120 + 16384);
    for (const id of ids) addon.free(id);
    const freed = addon.memory();
    expect(freed.cachedBytes - before.cachedBytes).toBe(4096 + 4096 + 5120 + 16384);
    const again = addon.upload(0, new Float32Array(1001));
    const reused = addon.memory();
    expect(reused.cacheHits).toBe(freed.cacheHits + 1);
    expect(reused.deviceAllocations).toBe(freed.deviceAllocations);
    addon.free(again);
    addon.emptyCache();
    const emptied = addon.memory();
    expect(emptied.cachedBytes).toBe(0);
    expect(emptied.cachedBlocks).toBe(0);
    expect(emptied.peakAllocatedBytes).toBeGreaterThanOrEqual(allocated.allocatedBytes);
  });

  it('says NVRTC is unavailable, naming where it looked, when asked to compile without it', () => {
    const report = addon.libraries();
    if (report.nvrtc.found) return;
    const compile = (full: number[], reduced = 0) =>
      addon.jitCompile(
        'extern "C" __global__ void k() {}',
        'k',
        Int32Array.from(full.map(() => 0)),
        Int32Array.from([]),
        reduced,
        1,
        Int32Array.from(full),
        Int32Array.from([4]),
      );
    expect(() => compile([1])).toThrow(/unavailable: NVRTC not found \(searched libnvrtc/);
    // The outputs' kinds are checked first: one flag per output, 0 or 1, and a reduction folds one.
    expect(() => compile([1, 1], 4)).toThrow(/one element per row/);
    expect(() => compile([2])).toThrow(/0 or 1 per output/);
    expect(() =>
      addon.jitCompile('', 'k', Int32Array.from([0, 0]), Int32Array.from([]), 0, 1, Int32Array.from([1]), Int32Array.from([4])),
    ).toThrow(/full outputs/);
  });
});
