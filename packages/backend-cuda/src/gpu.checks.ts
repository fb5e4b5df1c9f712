// Checks that need a GPU, written without a test framework so that the same list runs under
// vitest (gpu.test.ts, skipped where there is no GPU) and in the device script's bundle
// (scripts/device-check.ts). The cross-backend conformance tables (test/conformance) check every
// primitive's values; these check what is particular to this backend: asynchronous reads, the
// allocator, the vendor libraries against the own kernels, bit-exact random streams, fused kernels.
import {
  type Backend,
  bind,
  conv2d,
  conv3d,
  type DType,
  distributed,
  jit,
  maxPool2d,
  nn,
  optim,
  Parameter,
  Primitive,
  sizeOf,
  slice,
  type Tensor,
  type TypedArray,
  tensor,
  tidy,
  vjp,
} from '@flint/api';
import type { CudaBackend } from './backend.js';
import { createNcclCollectives, ncclAvailability } from './distributed/nccl.js';
import type { CudaHandle } from './handle.js';

export interface GpuCheckContext {
  readonly cuda: CudaBackend;
  /** The portable CPU backend, the reference. */
  readonly cpu: Backend;
}

export interface GpuCheck {
  readonly name: string;
  run(context: GpuCheckContext): Promise<void>;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** A deterministic pseudo-random sequence in [-1, 1) (not the library's generator, so as not to test it with itself). */
function values(count: number, seed: number): number[] {
  let state = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 31 - 1;
  });
}

function on(backend: Backend, data: readonly number[], shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return tensor(data as number[], { shape: [...shape], dtype, backend: backend.name });
}

/** Worst |actual - expected| / (1 + |expected|), with NaN positions required to agree. */
function worstError(actual: TypedArray, expected: TypedArray): number {
  check(actual.length === expected.length, `length ${actual.length}, expected ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      check(Number.isNaN(e) && Number.isNaN(a), `element ${i}: ${a}, expected ${e}`);
      continue;
    }
    worst = Math.max(worst, Math.abs(a - e) / (1 + Math.abs(e)));
  }
  return worst;
}

function sameBits(actual: TypedArray, expected: TypedArray, what: string): void {
  check(actual.length === expected.length, `${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    check(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${what}: element ${i} is ${a}, expected ${e}`);
  }
}

async function release(...tensors: Tensor[]): Promise<void> {
  for (const t of tensors) t.dispose();
}

export const GPU_CHECKS: readonly GpuCheck[] = [
  {
    name: 'reads are promises and there is no readSync',
    async run({ cuda }) {
      check((cuda as Backend).readSync === undefined, 'readSync must be absent on an asynchronous backend');
      check(cuda.capabilities.syncRead === false, 'capabilities.syncRead must be false');
      const t = on(cuda, [1, 2, 3], [3]);
      const pending = cuda.read(t._handle as never);
      check(pending instanceof Promise, 'read must return a promise');
      sameBits(await pending, Float32Array.of(1, 2, 3), 'read');
      await release(t);
    },
  },
  {
    name: 'every dtype round-trips through upload and read, contiguous and as views',
    async run({ cuda, cpu }) {
      const data = values(24, 7).map((v) => v * 100);
      for (const dtype of cuda.capabilities.dtypes) {
        // Creation refuses values an integer dtype cannot hold: uint8 gets the magnitudes (at most 100).
        const source = dtype === 'bool' ? data.map((v) => (v > 0 ? 1 : 0)) : dtype === 'uint8' ? data.map(Math.abs) : data;
        const a = on(cuda, source, [2, 3, 4], dtype);
        const b = on(cpu, source, [2, 3, 4], dtype);
        sameBits(await a.data(), await b.data(), `${dtype} contiguous`);
        const views = (t: Tensor) => [t.transpose([2, 0, 1]), slice(t, [0, 0, 3], [2, 3, 0], [1, 2, -1]), t.flip([1])];
        const gpuViews = views(a);
        const cpuViews = views(b);
        for (let i = 0; i < gpuViews.length; i++) sameBits(await gpuViews[i]!.data(), await cpuViews[i]!.data(), `${dtype} view ${i}`);
        await release(a, b, ...gpuViews, ...cpuViews);
      }
    },
  },
  {
    name: 'random bits and uniforms equal the CPU backend bit for bit',
    async run({ cuda, cpu }) {
      for (const key of [
        [0, 0],
        [42, -7],
        [-1, 2147483647],
      ]) {
        const gpuKey = on(cuda, key, [2], 'int32');
        const cpuKey = on(cpu, key, [2], 'int32');
        for (const [primitive, params] of [
          [Primitive.RandomBits, { shape: [1001] }],
          [Primitive.RandomUniform, { shape: [3, 333], dtype: 'float32' }],
          [Primitive.RandomUniform, { shape: [513], dtype: 'float64' }],
          // Rounded toward zero from the float32 samples, on both backends.
          [Primitive.RandomUniform, { shape: [777], dtype: 'float16' }],
          [Primitive.RandomUniform, { shape: [777], dtype: 'bfloat16' }],
        ] as const) {
          const a = bind(primitive, [gpuKey], params as never, cuda as unknown as Backend);
          const b = bind(primitive, [cpuKey], params as never, cpu);
          sameBits(await a.data(), await b.data(), `${Primitive[primitive]} key ${key}`);
          await release(a, b);
        }
        await release(gpuKey, cpuKey);
      }
    },
  },
  {
    name: 'matmul through cuBLASLt and through the own tiled kernel match the CPU backend',
    async run({ cuda, cpu }) {
      const lt = cuda.libraries().cublasLt.found;
      for (const dtype of ['float32', 'float64', 'float16', 'bfloat16'] as const) {
        const a = values(64 * 96, 1);
        const b = values(80 * 96, 2);
        // The half products accumulate in float32 on both sides, in different orders: one step of rounding apart.
        const tolerance = { float32: 1e-4, float64: 1e-11, float16: 2e-3, bfloat16: 1.6e-2 }[dtype];
        for (const engine of ['kernel', 'auto'] as const) {
          cuda.configure({ matmulEngine: engine });
          const before = cuda.deviceMemory();
          // rhs stored [80, 96] and used transposed: a strided view, not a copy.
          const ga = on(cuda, a, [64, 96], dtype);
          const gb = on(cuda, b, [80, 96], dtype);
          const ca = on(cpu, a, [64, 96], dtype);
          const cb = on(cpu, b, [80, 96], dtype);
          const gpu = ga.matmul(gb.transpose());
          const reference = ca.matmul(cb.transpose());
          const error = worstError(await gpu.data(), await reference.data());
          check(error < tolerance, `${dtype} ${engine}: relative error ${error}`);
          const after = cuda.deviceMemory();
          if (engine === 'kernel') check(after.matmulKernel > before.matmulKernel, 'the own kernel did not run');
          if (engine === 'auto' && lt) check(after.matmulCublasLt > before.matmulCublasLt, 'cuBLASLt is present but did not run');
          await release(ga, gb, ca, cb, gpu, reference);
        }
      }
      cuda.configure({ matmulEngine: 'auto' });
    },
  },
  {
    // cuBLASLt reads row-major views as transposed column-major matrices (native/blas.cc): every
    // pair of orientations, batches with a broadcast operand (batch stride 0), leading dimensions
    // wider than the matrix and views at odd offsets (pointers aligned to 4 bytes, not 16) must
    // come out right, and through cuBLASLt where it is present.
    name: 'matmul layouts through cuBLASLt: every transpose pair, broadcast batches, offset views',
    async run({ cuda, cpu }) {
      const lt = cuda.libraries().cublasLt.found;
      const [batch, m, k, n] = [3, 17, 24, 9];
      // Stored with an extra row and column: slicing them off leaves a view whose leading
      // dimension exceeds its width, at an odd offset when the first row goes.
      const stored = (rows: number, columns: number, transposed: boolean, batched: boolean, seed: number) => {
        const shape = transposed ? [columns, rows] : [rows, columns];
        const full = batched ? [batch, shape[0]! + 1, shape[1]! + 1] : [shape[0]! + 1, shape[1]! + 1];
        return {
          data: values(
            full.reduce((x, y) => x * y, 1),
            seed,
          ),
          full,
          transposed,
          batched,
        };
      };
      const view = (backend: Backend, s: ReturnType<typeof stored>, offset: boolean, dtype: DType) => {
        let t = on(backend, s.data, s.full, dtype);
        const rank = s.full.length;
        const starts = s.full.map((_, d) => (d === rank - 2 && offset ? 1 : 0));
        const stops = s.full.map((size, d) => (d === rank - 1 || (d === rank - 2 && !offset) ? size - 1 : size));
        t = slice(t, starts, stops);
        return s.transposed ? t.transpose(rank === 3 ? [0, 2, 1] : [1, 0]) : t;
      };
      for (const dtype of ['float32', 'bfloat16'] as const) {
        const tolerance = dtype === 'float32' ? 1e-4 : 1.6e-2;
        for (const [aT, bT, aBatched, offset] of [
          [false, false, true, false],
          [true, false, true, false],
          [false, true, true, true],
          [true, true, false, true],
          [false, false, false, true],
          [true, false, true, true],
        ] as const) {
          const label = `${dtype} a${aT ? 'ᵀ' : ''}${aBatched ? ' batched' : ''} b${bT ? 'ᵀ' : ''} (b batched: ${!aBatched})${offset ? ', offset views' : ''}`;
          const sa = stored(m, k, aT, aBatched, 11);
          const sb = stored(k, n, bT, !aBatched, 12);
          const before = cuda.deviceMemory();
          const [ga, gb, ca, cb] = [
            view(cuda, sa, offset, dtype),
            view(cuda, sb, offset, dtype),
            view(cpu, sa, offset, dtype),
            view(cpu, sb, offset, dtype),
          ];
          const gpu = ga.matmul(gb);
          const reference = ca.matmul(cb);
          check(gpu.shape.join() === [batch, m, n].join(), `${label}: shape ${gpu.shape}`);
          const error = worstError(await gpu.data(), await reference.data());
          check(error < tolerance, `${label}: relative error ${error}`);
          const after = cuda.deviceMemory();
          if (lt) check(after.matmulCublasLt > before.matmulCublasLt, `${label}: cuBLASLt is present but did not run`);
          check(after.vendorFailures === before.vendorFailures, `${label}: a cuBLASLt call failed`);
          await release(ga, gb, ca, cb, gpu, reference);
        }
      }
    },
  },
  {
    // jit's contraction fusions hand a matmul + bias row to cuBLASLt's BIAS epilogue (jit/contraction.ts).
    name: "matmul + bias in cuBLASLt's epilogue (jit) matches the CPU backend",
    async run({ cuda, cpu }) {
      const lt = cuda.libraries().cublasLt.found;
      const linear = jit((x: Tensor, w: Tensor, b: Tensor) => x.matmul(w.transpose()).add(b));
      for (const dtype of ['float32', 'bfloat16'] as const) {
        const tolerance = dtype === 'float32' ? 1e-4 : 1.6e-2;
        const [x, w, b] = [values(4 * 33 * 40, 21), values(24 * 40, 22), values(24, 23)];
        const before = cuda.deviceMemory();
        const gpu = [on(cuda, x, [4, 33, 40], dtype), on(cuda, w, [24, 40], dtype), on(cuda, b, [24], dtype)] as const;
        const ref = [on(cpu, x, [4, 33, 40], dtype), on(cpu, w, [24, 40], dtype), on(cpu, b, [24], dtype)] as const;
        const got = linear(...gpu);
        const expected = ref[0].matmul(ref[1].transpose()).add(ref[2]);
        const error = worstError(await got.data(), await expected.data());
        check(error < tolerance, `${dtype}: relative error ${error}`);
        const after = cuda.deviceMemory();
        if (lt) check(after.matmulBiasEpilogue > before.matmulBiasEpilogue, `${dtype}: cuBLASLt is present but did not take the bias`);
        check(after.vendorFailures === before.vendorFailures, `${dtype}: a cuBLASLt call failed`);
        await release(...gpu, ...ref, got, expected);
      }
    },
  },
  {
    name: 'convolution through cuDNN and through the direct kernel match the CPU backend',
    async run({ cuda, cpu }) {
      const dnn = cuda.libraries().cudnn.found;
      const x = values(2 * 4 * 11 * 11, 3);
      const w = values(6 * 2 * 3 * 3, 4);
      const params = {
        strides: [2, 1],
        padding: [
          [1, 1],
          [1, 1],
        ],
        lhsDilation: [1, 1],
        rhsDilation: [1, 2],
        groups: 2,
      } as const;
      // The half types accumulate in float32 on every path, in different orders: a step of rounding apart.
      const tolerances = { float32: 1e-4, float64: 1e-11, float16: 2e-3, bfloat16: 1.6e-2 };
      for (const [dtype, tolerance] of Object.entries(tolerances) as [keyof typeof tolerances, number][]) {
        for (const engine of ['kernel', 'auto'] as const) {
          cuda.configure({ convEngine: engine });
          const before = cuda.deviceMemory();
          const gx = on(cuda, x, [2, 4, 11, 11], dtype);
          const gw = on(cuda, w, [6, 2, 3, 3], dtype);
          const cx = on(cpu, x, [2, 4, 11, 11], dtype);
          const cw = on(cpu, w, [6, 2, 3, 3], dtype);
          const gpu = bind(Primitive.Conv, [gx, gw], params as never, cuda as unknown as Backend);
          const reference = bind(Primitive.Conv, [cx, cw], params as never, cpu);
          const error = worstError(await gpu.data(), await reference.data());
          check(error < tolerance, `conv ${dtype} ${engine}: relative error ${error}`);
          const after = cuda.deviceMemory();
          if (engine === 'kernel') check(after.convKernel > before.convKernel, `${dtype}: the direct kernel did not run`);
          if (engine === 'auto' && dnn) check(after.convCudnn > before.convCudnn, `${dtype}: cuDNN is present but did not run`);
          // The same problem again: cuDNN runs the algorithm it ran, without being asked again.
          const again = bind(Primitive.Conv, [gx, gw], params as never, cuda as unknown as Backend);
          check(worstError(await again.data(), await gpu.data()) === 0, `conv ${dtype} ${engine}: a second run differs`);
          const last = cuda.deviceMemory();
          check(
            last.dnnAlgorithmQueries === after.dnnAlgorithmQueries,
            `${dtype}: cuDNN's algorithms were queried again for the same problem`,
          );
          await release(gx, gw, cx, cw, gpu, reference, again);
        }
      }
      cuda.configure({ convEngine: 'auto' });
    },
  },
  {
    name: "convolution gradients through cuDNN's backward filter and data passes match the CPU backend",
    async run({ cuda, cpu }) {
      const dnn = cuda.libraries().cudnn.found;
      // Strides, dilations, uneven padding (dy positions the high side leaves out), 3-d, 1x1, one
      // channel in and out (size-1 dims, which make many views contiguous).
      const cases = [
        { x: [2, 3, 9, 9], w: [4, 3, 3, 3], stride: 1, padding: 1, dilation: 1 },
        { x: [1, 2, 10, 9], w: [3, 2, 3, 3], stride: 2, padding: 1, dilation: 1 },
        { x: [3, 1, 8, 8], w: [1, 1, 3, 3], stride: 1, padding: 1, dilation: 1 },
        { x: [2, 3, 9, 8], w: [4, 3, 3, 2], stride: 2, padding: 1, dilation: 1 },
        { x: [1, 2, 10, 10], w: [3, 2, 3, 3], stride: 3, padding: 2, dilation: 2 },
        { x: [2, 4, 7, 7], w: [5, 4, 1, 1], stride: 2, padding: 0, dilation: 1 },
        { x: [1, 2, 5, 6, 5], w: [3, 2, 3, 3, 2], stride: 2, padding: 1, dilation: 1 },
        // Depthwise with a channel multiplier, and grouped with channels on both sides (whose
        // filter and x autodiff copies and the backward passes pack back).
        { x: [2, 4, 9, 9], w: [8, 1, 3, 3], stride: 2, padding: 1, dilation: 1, groups: 4 },
        { x: [2, 6, 9, 8], w: [4, 3, 3, 3], stride: 2, padding: 1, dilation: 1, groups: 2 },
      ];
      const tolerances = { float32: 1e-4, float64: 1e-11, float16: 4e-3, bfloat16: 3e-2 };
      for (const [dtype, tolerance] of Object.entries(tolerances) as [keyof typeof tolerances, number][]) {
        for (const [i, kase] of cases.entries()) {
          const xs = values(sizeOf(kase.x), 30 + i);
          const ws = values(sizeOf(kase.w), 40 + i);
          const groups = 'groups' in kase ? (kase.groups as number) : 1;
          const options = { stride: kase.stride, padding: kase.padding, dilation: kase.dilation, groups };
          const conv = (x: Tensor, w: Tensor) => (kase.x.length === 4 ? conv2d(x, w, options) : conv3d(x, w, options));
          // A cotangent that differs per output element, so that every dy position counts.
          const gradients = (backend: Backend) => {
            const [x, w] = [on(backend, xs, kase.x, dtype), on(backend, ws, kase.w, dtype)];
            const [y, pullback] = vjp(conv, x, w);
            const dy = on(backend, values(sizeOf(y.shape as number[]), 50 + i), y.shape as number[], dtype);
            const [dx, dw] = pullback(dy) as [Tensor, Tensor];
            pullback.dispose();
            return { dx, dw, all: [x, w, y, dy, dx, dw] };
          };
          const before = cuda.deviceMemory();
          const gpu = gradients(cuda as unknown as Backend);
          const after = cuda.deviceMemory();
          const ref = gradients(cpu);
          const dxError = worstError(await gpu.dx.data(), await ref.dx.data());
          const dwError = worstError(await gpu.dw.data(), await ref.dw.data());
          check(dxError < tolerance, `${dtype} case ${i}: dx relative error ${dxError}`);
          // dw sums over the batch and the image: a few roundings more than dx.
          check(dwError < 4 * tolerance, `${dtype} case ${i}: dw relative error ${dwError}`);
          if (dnn) {
            check(
              after.convCudnnBackwardFilter > before.convCudnnBackwardFilter,
              `${dtype} case ${i}: the filter gradient did not go to cuDNN`,
            );
            check(after.convCudnnBackwardData > before.convCudnnBackwardData, `${dtype} case ${i}: the input gradient did not go to cuDNN`);
          }
          check(after.vendorFailures === before.vendorFailures, `${dtype} case ${i}: a cuDNN call failed`);
          await release(...gpu.all, ...ref.all);
        }
      }
    },
  },
  {
    name: 'max pooling through cuDNN and through the own kernel match the CPU backend, window sums stay on the kernel',
    async run({ cuda, cpu }) {
      const dnn = cuda.libraries().cudnn.found;
      const data = values(2 * 3 * 9 * 9, 6);
      data[17] = Number.NaN;
      const padded = (spatial: number) => [[0, 0], [0, 0], ...new Array(spatial).fill([1, 1])] as const;
      const cases = [
        { shape: [2, 3, 9, 9], op: 'max', window: [1, 1, 3, 3], strides: [1, 1, 2, 2], padding: padded(2) },
        { shape: [2, 3, 81], op: 'max', window: [1, 1, 4], strides: [1, 1, 3], padding: padded(1) },
        { shape: [2, 3, 9, 9], op: 'sum', window: [1, 1, 2, 2], strides: [1, 1, 2, 2], padding: padded(2) },
        // Maxima are exact in every type: the half types agree with the CPU's to the bit.
        { shape: [2, 3, 9, 9], op: 'max', window: [1, 1, 3, 3], strides: [1, 1, 2, 2], padding: padded(2), dtype: 'float16' },
        { shape: [2, 3, 81], op: 'max', window: [1, 1, 4], strides: [1, 1, 3], padding: padded(1), dtype: 'bfloat16' },
      ] as const;
      for (const kase of cases) {
        const params = {
          op: kase.op,
          window: kase.window,
          strides: kase.strides,
          padding: kase.padding,
          dilation: kase.window.map(() => 1),
        };
        for (const engine of ['kernel', 'auto'] as const) {
          cuda.configure({ poolEngine: engine });
          const before = cuda.deviceMemory();
          const dtype = 'dtype' in kase ? kase.dtype : 'float32';
          const gx = on(cuda, data, kase.shape, dtype);
          const cx = on(cpu, data, kase.shape, dtype);
          const gpu = bind(Primitive.ReduceWindow, [gx], params as never, cuda as unknown as Backend);
          const reference = bind(Primitive.ReduceWindow, [cx], params as never, cpu);
          const got = await gpu.data();
          const expected = await reference.data();
          // NaN propagates through both paths at the same places.
          for (let i = 0; i < expected.length; i++) {
            check(Number.isNaN(got[i] as number) === Number.isNaN(expected[i] as number), `pool ${kase.op} ${engine}: NaN at ${i} differs`);
          }
          const finite = (a: TypedArray) => Float32Array.from(a as Float32Array, (v) => (Number.isNaN(v) ? 0 : v));
          const error = worstError(finite(got), finite(expected));
          check(error < 1e-5, `pool ${kase.op} ${engine}: relative error ${error}`);
          const after = cuda.deviceMemory();
          const viaCudnn = engine === 'auto' && dnn && kase.op === 'max';
          if (viaCudnn) check(after.poolCudnn > before.poolCudnn, 'cuDNN is present but max pooling did not run through it');
          else check(after.poolKernel > before.poolKernel, `the own kernel did not run for ${kase.op} (${engine})`);
          await release(gx, cx, gpu, reference);
        }
      }
      cuda.configure({ poolEngine: 'auto' });
    },
  },
  {
    name: 'the caching allocator reuses freed blocks and empties its cache',
    async run({ cuda }) {
      const make = () => on(cuda, values(100_000, 5), [100_000]);
      const first = make();
      await first.data();
      first.dispose();
      const before = cuda.deviceMemory();
      check(before.cachedBytes > 0, 'a freed block must stay cached');
      const second = make();
      await second.data();
      const after = cuda.deviceMemory();
      check(after.cacheHits > before.cacheHits, 'the second buffer must come from the cache');
      check(after.deviceAllocations === before.deviceAllocations, 'no cudaMalloc for a cached size class');
      second.dispose();
      cuda.emptyCache();
      const emptied = cuda.deviceMemory();
      check(emptied.cachedBytes === 0 && emptied.cachedBlocks === 0, 'emptyCache must free every cached block');
      check(cuda.memory().buffers === emptied.buffers, 'the backend ledger and the addon agree on live buffers');
    },
  },
  {
    name: 'long reductions, stable argsort and scans match the CPU backend',
    async run({ cuda, cpu }) {
      const n = 1 << 20;
      const data = values(n, 6);
      const g = on(cuda, data, [n], 'float64');
      const c = on(cpu, data, [n], 'float64');
      const sums = [g.sum(), c.sum()];
      const error = worstError(await sums[0]!.data(), await sums[1]!.data());
      check(error < 1e-9, `sum of 2^20: relative error ${error}`);
      // Column sums (a bias's gradient over 2048 rows): reduce.cu's column kernels, in spans.
      const gm = g.reshape([2048, 512]);
      const cm = c.reshape([2048, 512]);
      const columns = [gm.sum(0), cm.sum(0), gm.max(0), cm.max(0)];
      const columnError = worstError(await columns[0]!.data(), await columns[1]!.data());
      check(columnError < 1e-9, `column sums of [2048, 512]: relative error ${columnError}`);
      sameBits(await columns[2]!.data(), await columns[3]!.data(), 'column maxima of [2048, 512]');
      await release(...columns, gm, cm);
      const keys = values(5000, 8).map((v, i) => (i % 97 === 0 ? Number.NaN : Math.round(v * 20)));
      for (const descending of [false, true]) {
        const gk = on(cuda, keys, [5000]);
        const ck = on(cpu, keys, [5000]);
        const a = bind(Primitive.Argsort, [gk], { axis: 0, descending }, cuda as unknown as Backend);
        const b = bind(Primitive.Argsort, [ck], { axis: 0, descending }, cpu);
        sameBits(await a.data(), await b.data(), `argsort descending=${descending}`);
        await release(gk, ck, a, b);
      }
      const ints = values(3 * 4000, 9).map((v) => Math.round(v * 1000));
      const gi = on(cuda, ints, [3, 4000], 'int32');
      const ci = on(cpu, ints, [3, 4000], 'int32');
      const scans = [
        bind(Primitive.Cumulative, [gi], { op: 'sum', axis: 1, reverse: true }, cuda as unknown as Backend),
        bind(Primitive.Cumulative, [ci], { op: 'sum', axis: 1, reverse: true }, cpu),
      ];
      sameBits(await scans[0]!.data(), await scans[1]!.data(), 'cumulative sum');
      await release(g, c, ...sums, gi, ci, ...scans);
    },
  },
  {
    name: 'many reads in flight settle with the right values',
    async run({ cuda }) {
      const tensors = Array.from({ length: 64 }, (_, i) => on(cuda, [i, i + 1, i + 2], [3]).mul(2));
      const results = await Promise.all(tensors.map((t) => t.data()));
      for (const [i, r] of results.entries()) sameBits(r, Float32Array.of(2 * i, 2 * i + 2, 2 * i + 4), `read ${i}`);
      await release(...tensors);
    },
  },
  {
    name: 'a jit-fused elementwise chain matches eager evaluation (NVRTC when present)',
    async run({ cuda }) {
      const f = (x: Tensor, y: Tensor) => x.mul(2).add(y).tanh().mul(x).maximum(0.25);
      const fused = jit(f);
      const x = on(cuda, values(4096, 10), [64, 64]);
      const y = on(cuda, values(64, 11), [64]);
      const before = cuda.deviceMemory();
      const eager = f(x, y);
      const jitted = fused(x, y) as Tensor;
      const error = worstError(await jitted.data(), await eager.data());
      check(error < 1e-6, `fused vs eager: relative error ${error}`);
      if (cuda.libraries().nvrtc.found)
        check(cuda.deviceMemory().jitLaunches > before.jitLaunches, 'NVRTC is present but no fused kernel ran');
      await release(x, y, eager, jitted);
    },
  },
  {
    name: "Adam's fused update is one launch per parameter (its scalars sunk into the kernel), in place, and matches the CPU backend",
    async run({ cuda, cpu }) {
      const train = async (backend: Backend) => {
        const parameters = [new Parameter(on(backend, values(96, 12), [8, 12])), new Parameter(on(backend, values(5, 13), [5]))];
        const optimizer = new optim.Adam(parameters, { lr: 0.01, weightDecay: 0.1 });
        const launches: number[] = [];
        for (let step = 0; step < 3; step++) {
          optimizer.zeroGrad();
          const [w, b] = parameters.map((p) => p.value as Tensor) as [Tensor, Tensor];
          const loss = tidy(() => w.tanh().sum().add(b.mul(b).sum()));
          loss.backward();
          loss.dispose();
          const before = backend === cpu ? 0 : cuda.deviceMemory().jitLaunches;
          optimizer.step();
          if (backend !== cpu) launches.push(cuda.deviceMemory().jitLaunches - before);
        }
        const result = await Promise.all(parameters.map((p) => (p.value as Tensor).data()));
        for (const p of parameters) p.dispose();
        return { launches, result };
      };
      // Count the outputs the fused kernels wrote into buffers they were handed (the parameter and
      // its moments, donated to the update) rather than fresh ones.
      const addon = (cuda as unknown as { addon: { jitLaunch: (...args: unknown[]) => number[] } }).addon;
      const launch = addon.jitLaunch;
      let written = 0;
      let fresh = 0;
      addon.jitLaunch = (...args: unknown[]) => {
        for (const id of args[2] as number[]) id === 0 ? fresh++ : written++;
        return launch.apply(addon, args);
      };
      let gpu: Awaited<ReturnType<typeof train>>;
      try {
        gpu = await train(cuda as unknown as Backend);
      } finally {
        addon.jitLaunch = launch;
      }
      const reference = await train(cpu);
      for (const [i, values] of gpu.result.entries()) {
        const error = worstError(values, reference.result[i] as TypedArray);
        check(error < 1e-5, `parameter ${i}: relative error ${error} after three steps`);
      }
      if (cuda.libraries().nvrtc.found) {
        check(
          gpu.launches.every((n) => n === 2),
          `fused kernels per step ${gpu.launches} (want 2: one per parameter)`,
        );
        // Three steps of two parameters, each update writing the parameter and two moments in place.
        check(written === 18 && fresh === 0, `updates wrote ${written} outputs in place and ${fresh} into fresh buffers (want 18 and 0)`);
      }
    },
  },
  {
    // kernels/composites.test.ts checks them case by case (on the CPU emulation where there is no GPU).
    name: 'the composite kernels (softmax, layer norm, batch norm, max pooling backward) match the api composites on the CPU backend',
    async run({ cuda, cpu }) {
      // Batch norm goes through cuDNN where present (counted as normCudnn): count both engines.
      const fusedRuns = () => cuda.deviceMemory().compositeKernel + cuda.deviceMemory().normCudnn;
      const before = fusedRuns();
      const results = async (backend: Backend) => {
        const tensors = tidy(() => {
          const param = (shape: number[], seed: number) =>
            tensor(
              values(
                shape.reduce((a, b) => a * b, 1),
                seed,
              ),
              { shape, backend: backend.name, requiresGrad: true },
            );
          const x = param([16, 300], 21);
          const soft = nn.functional.softmax(x, -1);
          const logSoft = nn.functional.logSoftmax(x, 0);
          const h = param([8, 12, 64], 22);
          const w = param([64], 23);
          const b = param([64], 24);
          const normed = nn.functional.layerNorm(h, [64], { weight: w, bias: b });
          const image = param([32, 8, 12, 12], 25);
          const scale = param([8], 26);
          const { output: batched, mean, unbiasedVariance } = nn.functional.batchNormTraining(image, { weight: scale });
          const pooled = maxPool2d(batched, 3, { stride: 2, padding: 1 });
          const loss = soft
            .mul(logSoft)
            .sum()
            .add(normed.square().mean())
            .add(pooled.mul(on(backend, values(pooled.size, 27), pooled.shape)).sum());
          loss.backward();
          return [
            soft,
            logSoft,
            normed,
            batched,
            mean,
            unbiasedVariance,
            pooled,
            ...[x, h, w, b, image, scale].map((p) => p.grad as Tensor),
          ];
        });
        const read = await Promise.all(tensors.map((t) => t.data()));
        await release(...tensors);
        return read;
      };
      const onCuda = await results(cuda);
      const onCpu = await results(cpu);
      for (const [i, r] of onCuda.entries()) {
        const error = worstError(r, onCpu[i] as TypedArray);
        check(error < 5e-5, `output ${i}: relative error ${error}`);
      }
      // Forward: softmax, log-softmax, layer norm, batch norm; backward: those and max pooling's.
      check(fusedRuns() >= before + 9, `the composite kernels ran ${fusedRuns() - before} times, expected 9`);
    },
  },
  {
    name: 'batch norm through cuDNN matches the own kernels (forward, inference, backward)',
    async run({ cuda }) {
      if (!cuda.libraries().cudnn.found) {
        console.log(`cuDNN batch norm check skipped: ${cuda.libraries().cudnn.reason ?? 'cuDNN not found'}`);
        return;
      }
      const results = async (engine: 'kernel' | 'cudnn') => {
        cuda.configure({ normEngine: engine });
        try {
          const tensors = tidy(() => {
            const x = tensor(values(32 * 8 * 12 * 12, 31), { shape: [32, 8, 12, 12], backend: 'cuda', requiresGrad: true });
            const w = tensor(values(8, 32), { backend: 'cuda', requiresGrad: true });
            const { output, mean, unbiasedVariance } = nn.functional.batchNormTraining(x, { weight: w });
            output.backward(on(cuda, values(output.size, 33), output.shape));
            // Detached statistics: recorded inputs would run the composite, which no engine serves.
            const inference = nn.functional.batchNorm(x.detach(), mean.detach(), unbiasedVariance.detach(), { weight: w.detach() });
            return [output, mean, unbiasedVariance, x.grad as Tensor, w.grad as Tensor, inference];
          });
          const read = await Promise.all(tensors.map((t) => t.data()));
          await release(...tensors);
          return read;
        } finally {
          cuda.configure({ normEngine: 'auto' });
        }
      };
      const before = cuda.deviceMemory().normCudnn;
      const viaCudnn = await results('cudnn');
      check(cuda.deviceMemory().normCudnn >= before + 3, `cuDNN ran ${cuda.deviceMemory().normCudnn - before} batch norms, expected 3`);
      const viaKernel = await results('kernel');
      for (const [i, r] of viaCudnn.entries()) {
        const error = worstError(r, viaKernel[i] as TypedArray);
        check(error < 5e-5, `output ${i}: cuDNN vs the own kernel, relative error ${error}`);
      }
    },
  },
  {
    // Two ranks need two GPUs; one rank still runs every NCCL call on the stream (ids, init,
    // each collective, a group, destroy), ordered after the kernel that made its input.
    name: 'NCCL on one rank: every collective on the stream, after the kernels that made its input',
    async run({ cuda }) {
      const availability = ncclAvailability(cuda.context.addon);
      if (!availability.available) {
        console.log(`NCCL check skipped: ${availability.reason}`);
        return;
      }
      const nccl = createNcclCollectives(cuda, new distributed.LocalTransport(), { timeoutSeconds: 60 });
      // Reads a collective's result and frees it.
      const take = async (h: CudaHandle) => {
        const read = await cuda.read(h);
        cuda.dispose(h);
        return read;
      };
      try {
        const data = values(1 << 20, 12);
        const x = on(cuda, data, [1024, 1024]).mul(2);
        const expected = Float32Array.from(data, (v) => Math.fround(2 * v));
        const handle = x._handle as CudaHandle;
        const shape = [1024, 1024];
        for (const op of ['sum', 'mean', 'max', 'min'] as const)
          sameBits(await take(nccl.allReduce(handle, shape, 'float32', op)), expected, `allReduce ${op}`);
        sameBits(await take(nccl.broadcast(handle, shape, 'float32', 0)), expected, 'broadcast');
        sameBits(await take(nccl.allGather(handle, shape, 'float32')), expected, 'allGather');
        sameBits(await take(nccl.reduceScatter(handle, shape, 'float32', 'sum')), expected, 'reduceScatter');
        const many = nccl.allReduceMany([handle, handle], [shape, shape], 'float32', 'sum');
        for (const h of many) sameBits(await take(h), expected, 'grouped allReduce');
        for (const dtype of cuda.capabilities.dtypes) {
          const t = on(cuda, [1, 0, 3, 4], [4], dtype);
          const h = t._handle as CudaHandle;
          sameBits(await take(nccl.allReduce(h, [4], dtype, 'max')), await cuda.read(h), `allReduce ${dtype}`);
          await release(t);
        }
        check(cuda.context.addon.ncclStatus().failure === undefined, 'the NCCL watchdog reported a failure');
        await release(x);
      } finally {
        nccl.finalize();
      }
    },
  },
];
