// The whole CUDA backend, TypeScript kernels and addon, on a machine without a GPU: the addon runs
// in validation-only mode (buffers in host memory, every argument check, no kernel launched), and
// every case of the cross-backend conformance tables is dispatched through it. Values are not
// computed, so this checks the contract between the kernels and the addon: every layout, rank,
// dtype and parameter list the kernels send is accepted, the outputs have the shape and dtype the
// primitive promises, inputs are never written, and every buffer is released. The values are
// checked by the same tables on a GPU (test/conformance, scripts/device-check.sh). It also checks
// that no small typed array reaches the addon from inside V8's heap, which Node-API would have to
// move out on every call (@flint/api's native-arguments.ts).
import { type Backend, BackendError, initBackend, Primitive, primitiveName, registerBackend } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { CASES } from '../../../test/conformance/cases/index.js';
import type { PrimitiveTable } from '../../../test/conformance/cases/types.js';
import { ALL_PRIMITIVES, caseDTypes, runCase } from '../../../test/conformance/harness.js';
import { CudaBackend } from './backend.js';
import type { Addon } from './native/addon.js';
import { loadAddon } from './native/load.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-cuda: validation tests skipped, the addon is unavailable: ${missing}`);

/** Failures that only mean "the values are not computed" in validation-only mode. */
const VALUES_ONLY = /^\d+ of \d+ elements differ/;

/**
 * The addon, with every call's typed-array arguments inspected: one of at most 64 bytes whose
 * buffer is as small is a typed array V8 kept inside its heap (see native-arguments.ts), and is
 * added to `onHeap` as "function: argument i".
 */
function watchingArguments(addon: Addon, onHeap: Set<string>): Addon {
  const watched: Record<string, unknown> = Object.create(addon);
  for (const [name, fn] of Object.entries(addon)) {
    if (typeof fn !== 'function') continue;
    watched[name] = (...args: unknown[]) => {
      args.forEach((arg, i) => {
        if (ArrayBuffer.isView(arg) && arg.byteLength <= 64 && arg.buffer.byteLength <= 64) onHeap.add(`${name}: argument ${i}`);
      });
      return fn(...args);
    };
  }
  return watched as unknown as Addon;
}

describe.skipIf(missing !== undefined)('every conformance case through the addon in validation-only mode', async () => {
  const addon = (loaded as { addon: Addon }).addon;
  addon.initValidationOnly();
  const info = {
    device: -1,
    name: 'validation only',
    computeCapability: '0.0',
    multiprocessors: 0,
    totalMemory: 0,
    runtimeVersion: 0,
    driverVersion: 0,
  };
  const onHeap = new Set<string>();
  const backend = new CudaBackend(watchingArguments(addon, onHeap), info);
  // Registered under the backend's own name, which tensors use to find their backend.
  registerBackend({ name: 'cuda', priority: 0, create: () => backend as unknown as Backend });
  await initBackend('cuda');

  it.each(ALL_PRIMITIVES.map((p) => [primitiveName(p), p] as const))('%s: the addon accepts every case', async (_name, p) => {
    const table = CASES[p] as PrimitiveTable<Primitive>;
    const problems: string[] = [];
    onHeap.clear();
    let ran = 0;
    for (const kase of table.cases) {
      for (const dtype of caseDTypes(table, kase, backend.capabilities.dtypes)) {
        const result = await runCase(backend as unknown as Backend, p, table, kase, dtype);
        ran++;
        if (result.failure !== null && !VALUES_ONLY.test(result.failure)) problems.push(`${result.label}: ${result.failure}`);
      }
    }
    expect(ran).toBeGreaterThan(0);
    expect(problems, problems.join('\n')).toEqual([]);
    expect([...onHeap], 'typed arrays from inside V8 heap, which Node-API moves out on each call').toEqual([]);
    // Every buffer a case made (inputs, views' storages, outputs, packed copies) was released.
    expect(backend.memory()).toEqual({ buffers: 0, bytes: 0 });
    expect(backend.deviceMemory().buffers).toBe(0);
  });

  it('turns a refused launch into a BackendError naming the primitive and the addon call', () => {
    const a = backend.fromTypedArray(new Float32Array(6), [2, 3], 'float32');
    const b = backend.fromTypedArray(new Float32Array(6), [3, 2], 'float32');
    expect(() => backend.kernels[Primitive.Add]([a, b], {}, { shape: [2, 3], dtype: 'float32' })).toThrow(BackendError);
    expect(() => backend.kernels[Primitive.Add]([a, b], {}, { shape: [2, 3], dtype: 'float32' })).toThrow(
      /^cuda add: flint-cuda binary: rhs must have the first input's shape$/,
    );
    backend.dispose(a);
    backend.dispose(b);
    expect(backend.memory().buffers).toBe(0);
  });

  it('packs a strided view for cuDNN max pooling, passes the engine and releases the packed copy', () => {
    const calls: { op: number; layout: Int32Array; engine: number }[] = [];
    const recording: Addon = Object.create(addon);
    recording.reduceWindow = (op, dtype, x, layout, params, engine) => {
      calls.push({ op, layout: layout.slice(), engine });
      return addon.reduceWindow(op, dtype, x, layout, params, engine);
    };
    const pooled = new CudaBackend(recording, info);
    const report = addon.libraries();
    // As if cuDNN were installed: the kernel then hands the addon a contiguous input.
    pooled.libraries = () => ({ ...report, cudnn: { ...report.cudnn, found: true } });
    const x = pooled.fromTypedArray(new Float32Array(2 * 3 * 6 * 5), [2, 3, 6, 5], 'float32');
    const view = pooled.kernels[Primitive.Transpose]([x], { perm: [0, 1, 3, 2] }, { shape: [2, 3, 5, 6], dtype: 'float32' });
    const params = {
      op: 'max',
      window: [1, 1, 3, 3],
      strides: [1, 1, 2, 2],
      padding: [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 1],
      ],
      dilation: [1, 1, 1, 1],
    } as const;
    const out = { shape: [2, 3, 3, 3], dtype: 'float32' } as const;
    for (const [engine, code] of [
      ['auto', 0],
      ['kernel', 1],
      ['cudnn', 2],
    ] as const) {
      pooled.configure({ poolEngine: engine });
      const y = pooled.kernels[Primitive.ReduceWindow]([view], params, out);
      expect(y.shape).toEqual([2, 3, 3, 3]);
      expect(calls.at(-1)?.engine).toBe(code);
      // [offset, rank, ...shape, ...strides]: packed row-major [2, 3, 5, 6].
      expect(Array.from(calls.at(-1)?.layout ?? [])).toEqual([0, 4, 2, 3, 5, 6, 90, 30, 6, 1]);
      pooled.dispose(y);
    }
    // Window sums never go to cuDNN, so the view is passed as it is.
    const sum = pooled.kernels[Primitive.ReduceWindow]([view], { ...params, op: 'sum' }, out);
    expect(calls.at(-1)?.op).toBe(0);
    expect(Array.from(calls.at(-1)?.layout ?? [])).toEqual([0, 4, 2, 3, 5, 6, 90, 30, 1, 5]);
    pooled.dispose(sum);
    pooled.dispose(view);
    pooled.dispose(x);
    expect(pooled.memory()).toEqual({ buffers: 0, bytes: 0 });
  });
});
