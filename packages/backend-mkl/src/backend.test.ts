import '@flint/backend-cpu';
import {
  avgPool2d,
  type Backend,
  BackendError,
  backendStatus,
  bind,
  conv2d,
  convTranspose2d,
  initBackend,
  matmul,
  maxPool2d,
  Primitive,
  registeredBackends,
  type Tensor,
  tensor,
} from '@flint/api';
import { newStorage } from '@flint/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, MatmulMode, type MklBackend } from './index.js';
import { expectClose, randomValues } from './values.test-support.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: native tests skipped, the addon is unavailable: ${missing}`);

describe('mkl registration', () => {
  it('registers as mkl, preferred over cpu', () => {
    const names = registeredBackends();
    expect(names).toContain('mkl');
    expect(names.indexOf('mkl')).toBeLessThan(names.indexOf('cpu'));
  });

  it('reports itself available exactly when the addon loads, with the fix otherwise', () => {
    const status = backendStatus().find((s) => s.name === 'mkl');
    expect(status?.priority).toBe(20);
    expect(status?.available).toBe(missing === undefined);
    if (missing !== undefined) expect(status?.reason).toMatch(/libdnnl-dev|build\.mjs|FLINT_MKL_SKIP_BUILD/);
  });
});

describe.skipIf(missing !== undefined)('mkl backend (native addon)', () => {
  let mkl: MklBackend;
  let created: Tensor[] = [];
  const on = (name: 'mkl' | 'cpu', values: Float32Array | Float64Array, shape: number[]) => {
    const t = tensor(values, { shape, backend: name, dtype: values instanceof Float64Array ? 'float64' : 'float32' });
    created.push(t);
    return t;
  };
  const keep = (t: Tensor) => {
    created.push(t);
    return t;
  };

  beforeAll(async () => {
    mkl = (await initBackend('mkl')) as unknown as MklBackend;
  });
  afterAll(() => {
    for (const t of created) t.dispose();
    created = [];
  });

  it('describes the libraries it runs on', () => {
    expect(mkl.info.onednn).toMatch(/^\d+\.\d+\.\d+$/);
    expect(['mkl', 'openblas']).toContain(mkl.info.blas);
    expect(mkl.info.threads).toBeGreaterThanOrEqual(1);
  });

  it('runs float32 and float64 matmul natively and matches the portable backend', () => {
    for (const Type of [Float32Array, Float64Array]) {
      const a = Type.from(randomValues(64 * 48, 1));
      const b = Type.from(randomValues(48 * 80, 2));
      const before = mkl.nativeRuns(Primitive.DotGeneral);
      const fast = keep(matmul(on('mkl', a, [64, 48]), on('mkl', b, [48, 80])));
      const reference = keep(matmul(on('cpu', a, [64, 48]), on('cpu', b, [48, 80])));
      expect(mkl.nativeRuns(Primitive.DotGeneral)).toBe(before + 1);
      expectClose(fast.dataSync(), reference.dataSync(), Type === Float32Array ? 1e-5 : 1e-12);
    }
  });

  it('multiplies transposed, broadcast and batched views without copying them first', () => {
    const a = on('mkl', randomValues(5 * 7 * 6, 3), [5, 7, 6]);
    const b = on('mkl', randomValues(7 * 9, 4), [9, 7]);
    const ac = on('cpu', randomValues(5 * 7 * 6, 3), [5, 7, 6]);
    const bc = on('cpu', randomValues(7 * 9, 4), [9, 7]);
    // [5, 6, 7] (transposed) x [7, 9] (transposed, broadcast over the batch)
    const fast = keep(matmul(keep(a.transpose([0, 2, 1])), keep(b.transpose())));
    const reference = keep(matmul(keep(ac.transpose([0, 2, 1])), keep(bc.transpose())));
    expect(fast.shape).toEqual([5, 6, 9]);
    expectClose(fast.dataSync(), reference.dataSync(), 1e-5);
  });

  it('gives the same product from CBLAS and from oneDNN', () => {
    const addon = (loaded as { addon: import('./index.js').Addon }).addon;
    const a = randomValues(3 * 33 * 17, 5);
    const b = randomValues(3 * 17 * 29, 6);
    const layoutA = Int32Array.from([0, 3, 3, 33, 17, 33 * 17, 17, 1]);
    const layoutB = Int32Array.from([0, 3, 3, 17, 29, 17 * 29, 29, 1]);
    const viaBlas = new Float32Array(3 * 33 * 29);
    const viaDnnl = new Float32Array(3 * 33 * 29);
    expect(addon.matmul(0, a, layoutA, b, layoutB, viaBlas, MatmulMode.blas)).toBe(1);
    expect(addon.matmul(0, a, layoutA, b, layoutB, viaDnnl, MatmulMode.onednn)).toBe(2);
    expectClose(viaDnnl, viaBlas, 1e-5);
    expect(viaBlas.some((v) => v !== 0)).toBe(true);
  });

  it('tries both engines on a new shape, keeps the faster, and tries both again after 32 calls', () => {
    // A process's first calls are slowed by its own start-up, so a choice made on them alone is
    // reviewed: each review is a run of oneDNN calls, then a run of CBLAS calls, as at first.
    const addon = (loaded as { addon: import('./index.js').Addon }).addon;
    const a = randomValues(37 * 41, 7);
    const b = randomValues(41 * 43, 8);
    const layoutA = Int32Array.from([0, 3, 1, 37, 41, 37 * 41, 41, 1]);
    const layoutB = Int32Array.from([0, 3, 1, 41, 43, 41 * 43, 43, 1]);
    const out = new Float32Array(37 * 43);
    const engines = Array.from({ length: 6 + 32 + 6 + 4 }, () => addon.matmul(0, a, layoutA, b, layoutB, out, MatmulMode.auto));
    const trial = [2, 2, 2, 1, 1, 1];
    expect(engines.slice(0, 6)).toEqual(trial);
    const chosen = engines[6];
    expect(engines.slice(6, 6 + 31)).toEqual(Array(31).fill(chosen));
    expect(engines.slice(37, 43)).toEqual(trial);
    expect(new Set(engines.slice(43)).size).toBe(1);
    const viaBlas = new Float32Array(37 * 43);
    addon.matmul(0, a, layoutA, b, layoutB, viaBlas, MatmulMode.blas);
    expectClose(out, viaBlas, 1e-5);
  });

  it('runs on a smaller OpenMP team when told, with the same results, and refuses sizes outside 1 to the initial team', () => {
    const addon = (loaded as { addon: import('./index.js').Addon }).addon;
    const { maxThreads } = addon.info();
    expect(maxThreads).toBeGreaterThanOrEqual(1);
    expect(() => addon.setTeamSize(0)).toThrow(RangeError);
    expect(() => addon.setTeamSize(maxThreads + 1)).toThrow(RangeError);
    expect(() => addon.setTeamSize(Number.NaN)).toThrow(/setTeamSize/);
    expect(() => addon.setTeamSize('2' as unknown as number)).toThrow(TypeError);
    // Above the parallel threshold, through both engines and a cached convolution: the results
    // of one thread match those of the whole team, and the caches serve the new team.
    const product = (mode: number) => {
      const a = randomValues(192 * 160, 40);
      const b = randomValues(160 * 224, 41);
      const out = new Float32Array(192 * 224);
      addon.matmul(
        0,
        a,
        Int32Array.from([0, 3, 1, 192, 160, 192 * 160, 160, 1]),
        b,
        Int32Array.from([0, 3, 1, 160, 224, 160 * 224, 224, 1]),
        out,
        mode,
      );
      return out;
    };
    const convolved = () => {
      const x = on('mkl', randomValues(4 * 8 * 20 * 20, 42), [4, 8, 20, 20]);
      const k = on('mkl', randomValues(16 * 8 * 3 * 3, 43), [16, 8, 3, 3]);
      const y = conv2d(x, k, { padding: 1 });
      const values = y.dataSync().slice();
      for (const t of [x, k, y]) t.dispose();
      return values;
    };
    const whole = { blas: product(MatmulMode.blas), dnnl: product(MatmulMode.onednn), conv: convolved() };
    try {
      expect(addon.setTeamSize(1)).toBe(maxThreads);
      expect(addon.info().threads).toBe(1);
      expectClose(product(MatmulMode.blas), whole.blas, 1e-5);
      expectClose(product(MatmulMode.onednn), whole.dnnl, 1e-5);
      expectClose(convolved(), whole.conv, 1e-5);
    } finally {
      addon.setTeamSize(maxThreads);
    }
    expect(addon.info().threads).toBe(maxThreads);
    expectClose(product(MatmulMode.onednn), whole.dnnl, 1e-5);
  });

  it('reads the arrays and offsets of every call through a cached oneDNN product', () => {
    // The cached primitive keeps its memory objects and gets each call's pointers: calls of one
    // shape and layout on other arrays, at other offsets, into other outputs must not see the
    // previous call's.
    const addon = (loaded as { addon: import('./index.js').Addon }).addon;
    for (let call = 0; call < 4; call++) {
      const offset = 7 * call;
      const a = randomValues(offset + 9 * 13, 20 + call);
      const b = randomValues(offset + 13 * 11, 30 + call);
      const layoutA = Int32Array.from([offset, 3, 1, 9, 13, 9 * 13, 13, 1]);
      const layoutB = Int32Array.from([offset, 3, 1, 13, 11, 13 * 11, 11, 1]);
      const viaBlas = new Float32Array(9 * 11);
      const viaDnnl = new Float32Array(9 * 11);
      expect(addon.matmul(0, a, layoutA, b, layoutB, viaBlas, MatmulMode.blas)).toBe(1);
      expect(addon.matmul(0, a, layoutA, b, layoutB, viaDnnl, MatmulMode.onednn)).toBe(2);
      expectClose(viaDnnl, viaBlas, 1e-5);
    }
  });

  it('splits large CBLAS products over the threads by rows, by columns and by batch, on every layout', () => {
    const addon = (loaded as { addon: import('./index.js').Addon }).addon;
    // Each product is above the parallel threshold (2^21 multiply-adds), with extents that are
    // not multiples of the 16-wide split: tall (rows split), wide (columns split), batched.
    const shapes = [
      { batch: 1, m: 301, k: 97, n: 83 },
      { batch: 1, m: 45, k: 211, n: 263 },
      { batch: 4, m: 70, k: 90, n: 110 },
    ];
    for (const { batch, m, k, n } of shapes) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const a = randomValues(batch * m * k, m + k);
        const b = randomValues(batch * k * n, k + n);
        // Element (i, j) of A at i * m-stride + j * k-stride: a transposed operand is stored [k, m].
        const aStrides = ta ? [1, m] : [k, 1];
        const bStrides = tb ? [1, k] : [n, 1];
        const layoutA = Int32Array.from([0, 3, batch, m, k, m * k, ...aStrides]);
        const layoutB = Int32Array.from([0, 3, batch, k, n, k * n, ...bStrides]);
        for (const [dtype, Type] of [
          [0, Float32Array],
          [1, Float64Array],
        ] as const) {
          const out = new Type(batch * m * n);
          addon.matmul(dtype, Type.from(a), layoutA, Type.from(b), layoutB, out, MatmulMode.blas);
          const expected = new Float64Array(batch * m * n);
          for (let s = 0; s < batch; s++)
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let sum = 0;
                for (let t = 0; t < k; t++)
                  sum += a[s * m * k + i * aStrides[0]! + t * aStrides[1]!]! * b[s * k * n + t * bStrides[0]! + j * bStrides[1]!]!;
                expected[s * m * n + i * n + j] = sum;
              }
          expectClose(out, expected, Type === Float32Array ? 1e-5 : 1e-12);
        }
      }
    }
  });

  it('packs operands CBLAS cannot read in place, per thread, when the batch is split over the threads', () => {
    const addon = (loaded as { addon: import('./index.js').Addon }).addon;
    const [batch, m, k, n] = [4, 70, 90, 110];
    // A reads every other element (neither stride is 1): each product packs a copy of its matrix.
    const a = randomValues(batch * m * k * 2, 21);
    const b = randomValues(batch * k * n, 22);
    const out = new Float32Array(batch * m * n);
    addon.matmul(
      0,
      a,
      Int32Array.from([0, 3, batch, m, k, 2 * m * k, 2 * k, 2]),
      b,
      Int32Array.from([0, 3, batch, k, n, k * n, n, 1]),
      out,
      MatmulMode.blas,
    );
    const expected = new Float64Array(batch * m * n);
    for (let s = 0; s < batch; s++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let t = 0; t < k; t++) sum += a[s * 2 * m * k + i * 2 * k + 2 * t]! * b[s * k * n + t * n + j]!;
          expected[s * m * n + i * n + j] = sum;
        }
    expectClose(out, expected, 1e-5);
  });

  it('convolves through oneDNN, with groups, strides, padding and dilation', () => {
    const cases = [
      { x: [2, 3, 9, 9], w: [4, 3, 3, 3], options: { stride: 2, padding: 1 } },
      { x: [1, 4, 8, 7], w: [6, 2, 3, 2], options: { groups: 2, dilation: [2, 1] } },
      { x: [1, 16, 12, 12], w: [32, 16, 1, 1], options: {} },
    ];
    for (const [index, kase] of cases.entries()) {
      const xs = randomValues(
        kase.x.reduce((p, d) => p * d, 1),
        10 + index,
      );
      const ws = randomValues(
        kase.w.reduce((p, d) => p * d, 1),
        20 + index,
      );
      const before = mkl.nativeRuns(Primitive.Conv);
      const fast = keep(conv2d(on('mkl', xs, kase.x), on('mkl', ws, kase.w), kase.options));
      const reference = keep(conv2d(on('cpu', xs, kase.x), on('cpu', ws, kase.w), kase.options));
      expect(mkl.nativeRuns(Primitive.Conv)).toBe(before + 1);
      expect(fast.shape).toEqual(reference.shape);
      expectClose(fast.dataSync(), reference.dataSync(), 1e-5);
    }
  });

  it("runs transposed convolutions (input dilation) as oneDNN's backward-data pass, with the portable kernel's result", () => {
    const xs = randomValues(1 * 2 * 5 * 5, 30);
    const ws = randomValues(2 * 3 * 3 * 3, 31);
    const before = mkl.nativeRuns(Primitive.Conv);
    const fast = keep(convTranspose2d(on('mkl', xs, [1, 2, 5, 5]), on('mkl', ws, [2, 3, 3, 3]), { stride: 2 }));
    const reference = keep(convTranspose2d(on('cpu', xs, [1, 2, 5, 5]), on('cpu', ws, [2, 3, 3, 3]), { stride: 2 }));
    expect(mkl.nativeRuns(Primitive.Conv)).toBe(before + 1);
    expectClose(fast.dataSync(), reference.dataSync(), 1e-5);
  });

  it('pools natively, NaN propagating as in the portable kernel', () => {
    const xs = randomValues(2 * 3 * 8 * 8, 40);
    const before = mkl.nativeRuns(Primitive.ReduceWindow);
    const fastMax = keep(maxPool2d(on('mkl', xs, [2, 3, 8, 8]), 3, { stride: 2, padding: 1 }));
    const fastAverage = keep(avgPool2d(on('mkl', xs, [2, 3, 8, 8]), 2));
    expect(mkl.nativeRuns(Primitive.ReduceWindow)).toBe(before + 2);
    expectClose(fastMax.dataSync(), keep(maxPool2d(on('cpu', xs, [2, 3, 8, 8]), 3, { stride: 2, padding: 1 })).dataSync(), 0);
    expectClose(fastAverage.dataSync(), keep(avgPool2d(on('cpu', xs, [2, 3, 8, 8]), 2)).dataSync(), 1e-6);
    const withNaN = xs.slice();
    withNaN[0] = Number.NaN;
    const pooled = keep(maxPool2d(on('mkl', withNaN, [2, 3, 8, 8]), 2)).dataSync();
    expect(pooled[0]).toBeNaN();
    expect(pooled[1]).not.toBeNaN();
    expect(mkl.nativeRuns(Primitive.ReduceWindow)).toBe(before + 3);
  });

  it('computes elementwise ops on transposed, broadcast and flipped views', () => {
    // Large enough for the native kernels (small ones run the portable kernels).
    const xs = randomValues(60 * 50, 50);
    const ys = randomValues(50, 51);
    const compute = (name: 'mkl' | 'cpu') => {
      const x = keep(on(name, xs, [60, 50]).transpose()); // [50, 60], strides [1, 50]
      const y = keep(keep(on(name, ys, [50, 1])).broadcastTo([50, 60])); // zero strides
      const z = keep(keep(x.mul(y)).add(keep(x.flip(1))));
      return [keep(z.exp()).dataSync(), keep(z.greater(y)).dataSync()] as const;
    };
    const before = mkl.nativeRuns(Primitive.Mul);
    const [fastExp, fastGreater] = compute('mkl');
    const [referenceExp, referenceGreater] = compute('cpu');
    expect(mkl.nativeRuns(Primitive.Mul)).toBe(before + 1);
    expectClose(fastExp, referenceExp, 1e-6);
    expect(fastGreater).toBeInstanceOf(Uint8Array);
    expect([...fastGreater]).toEqual([...referenceGreater]);
  });

  it('reduces views along leading and trailing axes, in double precision, propagating NaN', () => {
    const xs = randomValues(40 * 300, 60);
    for (const axis of [0, 1]) {
      const fast = keep(keep(on('mkl', xs, [40, 300]).transpose()).sum(axis)).dataSync();
      const reference = keep(keep(on('cpu', xs, [40, 300]).transpose()).sum(axis)).dataSync();
      expectClose(fast, reference, 1e-6);
    }
    const withNaN = xs.slice();
    withNaN[301] = Number.NaN;
    const maxima = keep(on('mkl', withNaN, [40, 300]).max(1)).dataSync();
    expect(maxima[1]).toBeNaN();
    expect(maxima[0]).not.toBeNaN();
  });

  it('runs integer ops through the portable kernels on the same handles', () => {
    const x = keep(tensor([1, 2, 3, 2147483647], { dtype: 'int32', backend: 'mkl' }));
    const y = keep(x.add(1));
    expect([...y.dataSync()]).toEqual([2, 3, 4, -2147483648]);
    expect(mkl.nativeRuns(Primitive.Add)).toBeGreaterThanOrEqual(0);
  });

  it('reads non-contiguous views synchronously and asynchronously', async () => {
    const x = on('mkl', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const t = keep(x.transpose());
    expect([...t.dataSync()]).toEqual([1, 4, 2, 5, 3, 6]);
    expect([...(await t.data())]).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('frees storages when their last view is disposed, and reuses pooled memory correctly', () => {
    const baseline = mkl.memory();
    const big = tensor(randomValues(128 * 256, 70), { shape: [128, 256], backend: 'mkl' });
    const view = big.transpose();
    expect(mkl.memory().buffers).toBe(baseline.buffers + 1);
    big.dispose();
    expect(mkl.memory().buffers).toBe(baseline.buffers + 1);
    const doubled = view.add(view);
    view.dispose();
    expect(mkl.memory().buffers).toBe(baseline.buffers + 1);
    const expected = Float32Array.from(doubled.dataSync());
    doubled.dispose();
    expect(mkl.memory()).toEqual(baseline);
    // The next same-sized result reuses a pooled array; it must be fully overwritten.
    const zeros = tensor(new Float32Array(256 * 128), { shape: [256, 128], backend: 'mkl' });
    const again = zeros.exp();
    expect(again.dataSync().every((v) => v === 1)).toBe(true);
    expect(expected.some((v) => v !== 1)).toBe(true);
    zeros.dispose();
    again.dispose();
    expect(mkl.memory()).toEqual(baseline);
  });

  it('pools small results too: a freed 2 KiB array owns its buffer and serves the next result of its size', () => {
    const x = tensor(randomValues(512, 71), { shape: [512], backend: 'mkl' });
    const arrayOf = (t: Tensor) => (t._handle as { storage: { data: Float32Array } }).storage.data;
    const first = x.exp();
    const array = arrayOf(first);
    // Its own ArrayBuffer, not a slice of Node's shared Buffer slab (which the pool could not take back).
    expect(array.byteOffset).toBe(0);
    expect(array.buffer.byteLength).toBe(512 * 4);
    first.dispose();
    // sin, like exp, runs in the addon from 256 elements (NATIVE_MIN.costly).
    const second = x.sin();
    expect(arrayOf(second)).toBe(array);
    expectClose(second.dataSync(), Float64Array.from(x.dataSync(), Math.sin), 1e-6);
    second.dispose();
    x.dispose();
  });

  it('turns an addon refusal into a BackendError naming the primitive, and keeps running', () => {
    const backend = mkl as unknown as Backend<unknown>;
    const broken = {
      storage: newStorage(new Float32Array(2)),
      offset: 0,
      strides: [1],
      shape: [4096],
      dtype: 'float32',
      released: false,
    };
    expect(() => backend.kernels[Primitive.Exp]([broken], {}, { shape: [4096], dtype: 'float32' })).toThrow(BackendError);
    expect(() => backend.kernels[Primitive.Exp]([broken], {}, { shape: [4096], dtype: 'float32' })).toThrow(/mkl exp/);
    const ok = keep(tensor([0], { backend: 'mkl' }).exp());
    expect(ok.dataSync()[0]).toBe(1);
  });

  it('evaluates through bind like every backend', () => {
    const x = on('mkl', Float32Array.from([1, 4, 9]), [3]);
    const y = keep(bind(Primitive.Sqrt, [x], {}));
    expect([...y.dataSync()]).toEqual([1, 2, 3]);
  });
});
