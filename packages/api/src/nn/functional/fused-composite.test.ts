import {
  type Aval,
  type Backend,
  type CompositeKernels,
  compile,
  grad,
  jit,
  jvp,
  type NormalizationCotangents,
  memory,
  Parameter,
  registerBackend,
  type Tensor,
  type TypedArray,
  tensor,
  tidy,
  valueAndGrad,
  vmap,
} from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

// The dispatch of softmax, logSoftmax and layerNorm to a backend's composite kernels, on a test
// backend whose kernels are JavaScript references over the portable backend's handles: which
// calls reach the kernels, and that every derivative through them equals the composite's (the
// 'cpu' backend, which has none). The mkl backend's oneDNN kernels have their own tests.

type Handle = Parameters<CpuBackend['dispose']>[0];

const calls = { softmax: 0, softmaxBackward: 0, layerNorm: 0, layerNormBackward: 0, declined: 0 };

/** Row-major strides of `shape`; the index of element `flat`'s coordinate along `axis` is (flat / stride) % size. */
function rowsAlong(shape: readonly number[], axis: number): { size: number; stride: number; count: number } {
  const size = shape[axis] as number;
  const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { size, stride, count: shape.reduce((a, b) => a * b, 1) / size };
}

/** Calls `visit` with the flat indices of each slice along `axis`. */
function forEachSlice(shape: readonly number[], axis: number, visit: (indices: number[]) => void): void {
  const { size, stride, count } = rowsAlong(shape, axis);
  for (let row = 0; row < count; row++) {
    const base = Math.floor(row / stride) * stride * size + (row % stride);
    visit(Array.from({ length: size }, (_, i) => base + i * stride));
  }
}

function referenceKernels(cpu: CpuBackend): CompositeKernels<Handle> {
  const read = (h: Handle) => Float64Array.from(cpu.readSync(h) as ArrayLike<number>);
  const make = (values: Float64Array, out: Aval) => cpu.fromTypedArray(Float32Array.from(values) as TypedArray, out.shape, 'float32');
  const declines = (...dtypes: string[]) => {
    const decline = dtypes.some((d) => d !== 'float32');
    if (decline) calls.declined++;
    return decline;
  };
  return {
    softmax(x, axis, log, out) {
      if (declines(x.dtype)) return null;
      calls.softmax++;
      const v = read(x);
      const y = new Float64Array(v.length);
      forEachSlice(x.shape, axis, (indices) => {
        const peak = Math.max(...indices.map((i) => v[i] as number));
        const total = indices.reduce((a, i) => a + Math.exp((v[i] as number) - peak), 0);
        for (const i of indices) y[i] = log ? (v[i] as number) - peak - Math.log(total) : Math.exp((v[i] as number) - peak) / total;
      });
      return make(y, out);
    },
    softmaxBackward(yHandle, gHandle, axis, log, out) {
      if (declines(yHandle.dtype, gHandle.dtype)) return null;
      calls.softmaxBackward++;
      const y = read(yHandle);
      const g = read(gHandle);
      const result = new Float64Array(y.length);
      forEachSlice(yHandle.shape, axis, (indices) => {
        const total = indices.reduce((a, i) => a + (g[i] as number) * (log ? 1 : (y[i] as number)), 0);
        for (const i of indices) {
          result[i] = log ? (g[i] as number) - Math.exp(y[i] as number) * total : (y[i] as number) * ((g[i] as number) - total);
        }
      });
      return make(result, out);
    },
    layerNorm(x, weight, bias, normalizedDims, eps, out) {
      if (declines(x.dtype, ...[weight, bias].flatMap((h) => (h === null ? [] : [h.dtype])))) return null;
      calls.layerNorm++;
      const v = read(x);
      const w = weight === null ? null : read(weight);
      const b = bias === null ? null : read(bias);
      const length = x.shape.slice(x.shape.length - normalizedDims).reduce((p, d) => p * d, 1);
      const y = new Float64Array(v.length);
      for (let start = 0; start < v.length; start += length) {
        const row = v.subarray(start, start + length);
        const mean = row.reduce((a, c) => a + c, 0) / length;
        const r = 1 / Math.sqrt(row.reduce((a, c) => a + (c - mean) ** 2, 0) / length + eps);
        row.forEach((c, i) => {
          y[start + i] = (c - mean) * r * (w === null ? 1 : (w[i] as number)) + (b === null ? 0 : (b[i] as number));
        });
      }
      return make(y, out);
    },
    layerNormBackward(x, weight, gHandle, normalizedDims, eps, withBias, out): NormalizationCotangents<Handle> | null {
      if (declines(x.dtype, gHandle.dtype)) return null;
      calls.layerNormBackward++;
      const v = read(x);
      const g = read(gHandle);
      const w = weight === null ? null : read(weight);
      const vectorShape = x.shape.slice(x.shape.length - normalizedDims);
      const length = vectorShape.reduce((p, d) => p * d, 1);
      const dx = new Float64Array(v.length);
      const dw = new Float64Array(length);
      const db = new Float64Array(length);
      for (let start = 0; start < v.length; start += length) {
        const row = v.subarray(start, start + length);
        const mean = row.reduce((a, c) => a + c, 0) / length;
        const r = 1 / Math.sqrt(row.reduce((a, c) => a + (c - mean) ** 2, 0) / length + eps);
        const normalized = Array.from(row, (c) => (c - mean) * r);
        const h = normalized.map((_, i) => (g[start + i] as number) * (w === null ? 1 : (w[i] as number)));
        const hMean = h.reduce((a, c) => a + c, 0) / length;
        const projection = h.reduce((a, c, i) => a + c * (normalized[i] as number), 0) / length;
        h.forEach((c, i) => {
          dx[start + i] = r * (c - hMean - (normalized[i] as number) * projection);
          dw[i] = (dw[i] as number) + (g[start + i] as number) * (normalized[i] as number);
          db[i] = (db[i] as number) + (g[start + i] as number);
        });
      }
      const vector = { shape: vectorShape, dtype: out.dtype };
      return { input: make(dx, out), weight: weight === null ? null : make(dw, vector), bias: withBias ? make(db, vector) : null };
    },
  };
}

registerBackend({
  name: 'cpu-fused',
  priority: -1,
  create: () => {
    const cpu = new CpuBackend();
    return Object.assign(cpu, { name: 'cpu-fused', composites: referenceKernels(cpu) }) as unknown as Backend;
  },
});

// A backend whose layer norm backward kernel breaks the SPI's contract: no weight cotangent.
registerBackend({
  name: 'cpu-broken',
  priority: -1,
  create: () => {
    const cpu = new CpuBackend();
    const reference = referenceKernels(cpu);
    const composites: CompositeKernels<Handle> = {
      layerNormBackward(x, weight, g, normalizedDims, eps, withBias, out) {
        const result = reference.layerNormBackward?.(x, weight, g, normalizedDims, eps, withBias, out) ?? null;
        if (result?.weight) cpu.dispose(result.weight);
        return result === null ? null : { ...result, weight: null };
      },
    };
    return Object.assign(cpu, { name: 'cpu-broken', composites }) as unknown as Backend;
  },
});

function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 4 - 2;
  });
}

type BackendName = 'cpu-fused' | 'cpu';
const input = (backend: BackendName, shape: number[], seed: number, requiresGrad = false) =>
  tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    { shape, backend, requiresGrad },
  );

/** Runs `fn` on both backends and checks that what it read agrees (float32: within 1e-5). */
function expectAgree(fn: (backend: BackendName) => Tensor[], tolerance = 1e-5): void {
  const [fused, composite] = (['cpu-fused', 'cpu'] as const).map((backend) => tidy(() => fn(backend).map((t) => Array.from(t.dataSync()))));
  expect(fused?.length).toBe(composite?.length);
  fused?.forEach((list, i) => {
    const reference = composite?.[i] as number[];
    expect(list.length).toBe(reference.length);
    list.forEach((v, k) => {
      expect(Math.abs(v - (reference[k] as number))).toBeLessThanOrEqual(tolerance * (1 + Math.abs(reference[k] as number)));
    });
  });
}

/** How many calls of each kernel `fn` made. */
function counted(fn: () => void): typeof calls {
  const before = { ...calls };
  fn();
  return {
    softmax: calls.softmax - before.softmax,
    softmaxBackward: calls.softmaxBackward - before.softmaxBackward,
    layerNorm: calls.layerNorm - before.layerNorm,
    layerNormBackward: calls.layerNormBackward - before.layerNormBackward,
    declined: calls.declined - before.declined,
  };
}

describe('composite kernels of a backend (Backend.composites)', () => {
  for (const log of [false, true]) {
    const op = log ? nn.functional.logSoftmax : nn.functional.softmax;
    const name = log ? 'logSoftmax' : 'softmax';

    it(`${name}: an eager call runs the kernel, along any axis`, () => {
      for (const axis of [0, 1, -1]) {
        const made = counted(() => expectAgree((backend) => [op(input(backend, [3, 4, 5], 1), axis)]));
        expect(made.softmax).toBe(1);
      }
    });

    it(`${name}: a plain backward() runs both kernels; with createGraph the backward pass is ops, and second derivatives agree`, () => {
      const plain = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [4, 6], 2, true);
          op(x, -1).backward(input(backend, [4, 6], 3));
          return [x.grad as Tensor];
        }),
      );
      expect(plain).toMatchObject({ softmax: 1, softmaxBackward: 1 });
      let duringRecordedBackward: typeof calls | null = null;
      const recorded = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [4, 6], 4, true);
          const loss = op(x, 0)
            .mul(input(backend, [4, 6], 5))
            .sum();
          const made = counted(() => loss.backward({ createGraph: true }));
          if (backend === 'cpu-fused') duringRecordedBackward = made;
          const first = x.grad as Tensor;
          x.grad = null;
          // A plain sweep through the recorded one reaches the softmax's node unrecorded: it may use the kernel.
          first.square().sum().backward();
          return [first, x.grad as unknown as Tensor];
        }, 1e-4),
      );
      expect(duringRecordedBackward).toMatchObject({ softmaxBackward: 0 });
      expect(recorded).toMatchObject({ softmax: 1, softmaxBackward: 1 });
    });

    it(`${name}: under grad, jvp, vmap and jit the derivatives agree, and grad and jit reach the kernels`, () => {
      const made: Record<string, typeof calls> = {};
      expectAgree((backend) => {
        const x = input(backend, [3, 5], 6);
        const f = (t: Tensor) =>
          op(t, -1)
            .mul(input(backend, [3, 5], 7))
            .sum();
        const compiled = jit(grad(f));
        const results: Tensor[] = [];
        const run = (label: string, fn: () => Tensor) => {
          const count = counted(() => results.push(fn()));
          if (backend === 'cpu-fused') made[label] = count;
        };
        run('grad', () => grad(f)(x));
        run('jvp', () => jvp((t: Tensor) => op(t, -1), [x], [input(backend, [3, 5], 8)])[1] as Tensor);
        run('vmap', () => vmap((t: Tensor) => op(t, 0), { inAxes: [1] })(x));
        run('jit', () => jit(f)(x));
        run('jit(grad)', () => compiled(x));
        run('grad(jit)', () => grad(jit(f))(x));
        return results;
      });
      // grad: the forward kernel one level down; its backward pass is the analytic VJP in ops (the
      // tape may record what a functional sweep computes, so it does not take the unrecorded kernel).
      expect(made.grad).toMatchObject({ softmax: 1, softmaxBackward: 0 });
      // jvp and vmap differentiate or batch the composite's primitives.
      expect(made.jvp).toMatchObject({ softmax: 0, softmaxBackward: 0 });
      expect(made.vmap).toMatchObject({ softmax: 0, softmaxBackward: 0 });
      // jit hands the traced composite, and the backward pass grad staged, to the kernels.
      expect(made.jit).toMatchObject({ softmax: 1, softmaxBackward: 0 });
      expect(made['jit(grad)']).toMatchObject({ softmax: 1, softmaxBackward: 1 });
      // The programs derived for grad(jit(f)) are re-traced from primitives: no regions, no kernels.
      expect(made['grad(jit)']).toMatchObject({ softmax: 0, softmaxBackward: 0 });
    });

    it(`${name}: jit stages a softmax of a captured constant and keeps grad(jit(f)) compiled`, () => {
      const constant = input('cpu-fused', [2, 3], 9);
      const f = jit((t: Tensor) => t.mul(op(constant, -1)).sum());
      const x = input('cpu-fused', [2, 3], 10);
      const made = counted(() => f(x));
      expect(made.softmax).toBe(1);
      grad(f)(x);
      expect(f.stats.inline).toBe(0);
    });

    it(`${name}: a float64 input is declined and runs the composite`, () => {
      const made = counted(() => {
        const x = tensor([[1, 2, 3]], { backend: 'cpu-fused', dtype: 'float64', requiresGrad: true });
        const y = op(x, -1);
        expect(y.dtype).toBe('float64');
        y.sum().backward();
        expect(x.grad?.shape).toEqual([1, 3]);
      });
      // The forward kernel declines once, and so does the backward kernel the analytic VJP offers it to.
      expect(made).toMatchObject({ softmax: 0, declined: 2 });
    });
  }

  it('layerNorm: eager calls and both kinds of backward pass agree with the composite, weight and bias included', () => {
    for (const affine of [false, true]) {
      const plain = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [3, 2, 4], 11, true);
          const weight = affine ? input(backend, [2, 4], 12, true) : null;
          const bias = affine ? input(backend, [2, 4], 13, true) : null;
          nn.functional.layerNorm(x, [2, 4], { weight, bias }).backward(input(backend, [3, 2, 4], 14));
          return [x.grad as Tensor, ...(affine ? [weight?.grad as Tensor, bias?.grad as Tensor] : [])];
        }, 1e-4),
      );
      expect(plain).toMatchObject({ layerNorm: 1, layerNormBackward: 1 });
      const recorded = counted(() =>
        expectAgree((backend) => {
          const x = input(backend, [5, 4], 15, true);
          const weight = affine ? input(backend, [4], 16, true) : null;
          nn.functional
            .layerNorm(x, 4, { weight, eps: 0.1 })
            .mul(input(backend, [5, 4], 17))
            .sum()
            .backward({ createGraph: true });
          const first = x.grad as Tensor;
          const firstWeight = weight?.grad ?? null;
          x.grad = null;
          if (weight !== null) weight.grad = null;
          first.square().sum().backward();
          return [
            first,
            x.grad as unknown as Tensor,
            ...(weight === null ? [] : [firstWeight as Tensor, weight.grad as unknown as Tensor]),
          ];
        }, 1e-4),
      );
      expect(recorded).toMatchObject({ layerNorm: 1, layerNormBackward: 0 });
    }
  });

  it('layerNorm: jit(valueAndGrad) hands the forward and backward passes to the kernels, which decline float64, and agrees', () => {
    const made: Record<string, typeof calls> = {};
    expectAgree((backend) => {
      const x = input(backend, [3, 2, 4], 19);
      const weight = input(backend, [2, 4], 20);
      const bias = input(backend, [2, 4], 21);
      const target = input(backend, [3, 2, 4], 22);
      const loss = (x: Tensor, w: Tensor, b: Tensor) => nn.functional.layerNorm(x, [2, 4], { weight: w, bias: b }).mul(target).sum();
      const step = jit(valueAndGrad(loss, { argnums: [0, 1, 2] }));
      let results: Tensor[] = [];
      const count = counted(() => {
        const [value, gradients] = step(x, weight, bias) as [Tensor, Tensor[]];
        results = [value, ...gradients];
      });
      if (backend === 'cpu-fused') made.float32 = count;
      // grad alone never reads the forward pass's output: dead code, only the backward kernel runs.
      const gradOnly = counted(() => jit(grad(loss, { argnums: [0, 1, 2] }))(x, weight, bias));
      if (backend === 'cpu-fused') made.gradOnly = gradOnly;
      const wide = (t: Tensor) => t.astype('float64');
      const declined = counted(() => jit(valueAndGrad(loss, { argnums: [0, 1, 2] }))(wide(x), wide(weight), wide(bias)));
      if (backend === 'cpu-fused') made.float64 = declined;
      return results;
    }, 1e-4);
    expect(made.float32).toMatchObject({ layerNorm: 1, layerNormBackward: 1, declined: 0 });
    expect(made.gradOnly).toMatchObject({ layerNorm: 0, layerNormBackward: 1 });
    expect(made.float64).toMatchObject({ layerNorm: 0, layerNormBackward: 0 });
    expect(made.float64?.declined).toBeGreaterThan(0);
  });

  it('softmax in a step compiled with compile(): its tape takes the analytic VJP, and both passes reach the kernels', () => {
    const made: Record<string, typeof calls> = {};
    expectAgree((backend) => {
      const weight = new Parameter(input(backend, [5, 4], 23));
      const x = input(backend, [3, 5], 24);
      const target = input(backend, [3, 4], 25);
      const step = () => {
        weight.grad = null;
        nn.functional.softmax(x.matmul(weight.value), -1).mul(target).sum().backward();
        return weight.grad as unknown as Tensor;
      };
      const module = new nn.Module();
      module.registerParameter('weight', weight);
      const compiled = compile(step, { modules: [module] });
      let gradient: Tensor | null = null;
      const count = counted(() => {
        gradient = compiled() as Tensor;
      });
      if (backend === 'cpu-fused') made.compiled = count;
      return [gradient as unknown as Tensor];
    });
    expect(made.compiled).toMatchObject({ softmax: 1, softmaxBackward: 1 });
  });

  it('layerNorm: a backward kernel that leaves out a cotangent it owes raises a BackendError and keeps nothing', () => {
    const x = tensor(values(8, 30), { shape: [2, 4], backend: 'cpu-broken', requiresGrad: true });
    const weight = tensor(values(4, 31), { shape: [4], backend: 'cpu-broken', requiresGrad: true });
    const bias = tensor(values(4, 32), { shape: [4], backend: 'cpu-broken', requiresGrad: true });
    const live = () => memory().backends.find((b) => b.backend === 'cpu-broken')?.buffers ?? 0;
    const before = live();
    expect(() => tidy(() => nn.functional.layerNorm(x, [4], { weight, bias }).sum().backward())).toThrow(
      'cpu-broken: composites.layerNormBackward returned no cotangent for the weight although one was asked for',
    );
    expect(x.grad).toBeNull();
    expect(live()).toBe(before);
  });

  it('layerNorm: a weight of another dtype runs the composite, and shapes are checked first', () => {
    const x = input('cpu-fused', [2, 3], 18);
    const made = counted(() => {
      nn.functional.layerNorm(x, [3], { weight: tensor([1, 2, 3], { backend: 'cpu-fused', dtype: 'float64' }) });
    });
    expect(made.layerNorm).toBe(0);
    expect(() => nn.functional.layerNorm(x, [3], { bias: tensor([1, 2], { backend: 'cpu-fused' }) })).toThrow(
      'layerNorm: bias must have shape [3], got [2]',
    );
  });
});
