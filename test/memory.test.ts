// Memory management across the api and a real backend: tidy scopes keep long loops flat, dispose,
// `using` and keep behave as documented, debug mode finds leaks, and the finalizer is a safety net.
import '@flint/backend-cpu';
import '@flint/backend-mkl';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  add,
  amp,
  backendStatus,
  dispose,
  exp,
  getBackend,
  keep,
  keepOwned,
  lessEqual,
  liveTensors,
  matmul,
  memory,
  Parameter,
  reshape,
  setDebug,
  sum,
  type Tensor,
  tensor,
  tidy,
  transpose,
  where,
  zeros,
} from '@flint/api';
import { afterEach, describe, expect, it } from 'vitest';

const live = () => {
  const m = memory();
  return { buffers: m.buffers, bytes: m.bytes };
};

afterEach(() => {
  setDebug({ trackTensors: false });
});

describe('tidy keeps long loops flat', () => {
  it('2000 iterations of ops under tidy leave buffers and bytes unchanged', () => {
    const w = tensor(
      Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) / 8),
      { shape: [8, 8] },
    );
    let state = zeros([8, 8]);
    const samples: { buffers: number; bytes: number }[] = [];
    for (let step = 0; step < 2000; step++) {
      const next = tidy(() => {
        const h = matmul(state, w).add(1).tanh();
        const scale = sum(h.mul(h)).add(1).sqrt();
        return h.div(scale).add(transpose(w).mul(0.01));
      });
      state.dispose();
      state = next;
      if (step === 99 || step === 999 || step === 1999) samples.push(live());
    }
    expect(samples[1]).toEqual(samples[0]);
    expect(samples[2]).toEqual(samples[0]);
    const total = sum(state);
    expect(Number.isFinite(total.item() as number)).toBe(true);
    total.dispose();
    state.dispose();
    w.dispose();
  });

  it('counts each new buffer and releases it on dispose', () => {
    const before = live();
    const tensors = Array.from({ length: 10 }, (_, i) => tensor(new Float64Array(100).fill(i), { shape: [10, 10] }));
    const during = live();
    expect(during.buffers - before.buffers).toBe(10);
    expect(during.bytes - before.bytes).toBe(10 * 100 * 8);
    dispose(tensors);
    expect(live()).toEqual(before);
  });

  it('an op frees the operands it converts (a scalar, a cast, a broadcast view) when it returns, outside any scope', () => {
    const ints = tensor(
      Int32Array.from({ length: 1000 }, (_, i) => i),
      { shape: [10, 100] },
    );
    const row = tensor(new Float64Array(100).fill(0.5), { shape: [100] });
    const before = live();
    // The int32 operand is cast to float64 (8000 bytes) and the row broadcast to [10, 100].
    const y = add(ints, row);
    expect(live()).toEqual({ buffers: before.buffers + 1, bytes: before.bytes + 1000 * 8 });
    // 2 becomes a rank-0 tensor, broadcast too.
    const z = add(y, 2);
    expect(live()).toEqual({ buffers: before.buffers + 2, bytes: before.bytes + 2 * 1000 * 8 });
    expect(z.dtype).toBe('float64');
    expect(z.dataSync()[999]).toBe(999 + 0.5 + 2);
    // A unary op casts int32 to float32 first; where broadcasts its scalar and its mask.
    const e = exp(ints);
    expect(live()).toEqual({ buffers: before.buffers + 3, bytes: before.bytes + 2 * 1000 * 8 + 1000 * 4 });
    const mask = lessEqual(row, 0);
    const w = where(mask, 0, z);
    expect(live().buffers).toBe(before.buffers + 5);
    expect(w.dataSync()[999]).toBe(999 + 0.5 + 2);
    dispose([y, z, e, mask, w]);
    expect(live()).toEqual(before);
    dispose([ints, row]);
  });

  it('autocast frees its casts when the op returns, and keeps those a backward pass saved until it has run', () => {
    // On the portable backend, which has bfloat16 on every CPU (mkl lists it only where oneDNN
    // computes it: AVX-512 BF16 or AMX).
    const cpu = { backend: 'cpu' } as const;
    const a = tensor(
      [
        [0.5, -1.25, 2],
        [1, 0.75, -0.5],
      ],
      cpu,
    );
    const aT = transpose(a);
    const before = live();
    const product = amp.autocast({ dtype: 'bfloat16' }, () => matmul(a, aT));
    // Only the product: the bfloat16 copies of the operands are gone.
    expect(live().buffers - before.buffers).toBe(1);
    product.dispose();
    const initial = tensor(
      [
        [0.25, 1],
        [-0.5, 0.125],
        [2, -1],
      ],
      cpu,
    );
    const p = new Parameter(initial);
    const loss = tidy(() => amp.autocast({ dtype: 'bfloat16' }, () => matmul(a, p.value).sum()));
    loss.backward();
    // The gradient of sum(a @ W) is a's column sums, repeated along W's columns.
    expect(p.grad?.dtype).toBe('float32');
    expect(Array.from(p.grad?.dataSync() ?? [])).toEqual([1.5, 1.5, -0.5, -0.5, 1.5, 1.5]);
    dispose([loss, p.grad, p.value, initial]);
    expect(live()).toEqual(before);
    dispose([a, aT]);
  });

  it('memory() reports the backend that holds the buffers', () => {
    const t = tensor([1, 2, 3]);
    expect(memory().backends.map((b) => b.backend)).toContain('cpu');
    t.dispose();
  });
});

describe('dispose, using and keep', () => {
  it('dispose releases once and is safe to repeat', () => {
    const before = live();
    const t = tensor([1, 2, 3, 4]);
    expect(t.isDisposed).toBe(false);
    t.dispose();
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(live()).toEqual(before);
  });

  it('dispose(pytree) reaches tensors in arrays, objects and maps', () => {
    const before = live();
    const tree = { a: tensor([1]), nested: [tensor([2]), { b: tensor([3]) }], map: new Map([['c', tensor([4])]]) };
    expect(live().buffers - before.buffers).toBe(4);
    dispose(tree);
    expect(live()).toEqual(before);
    expect(tree.a.isDisposed && (tree.nested[0] as Tensor).isDisposed).toBe(true);
  });

  it('a `using` declaration disposes at the end of its block', () => {
    const before = live();
    let escaped: Tensor;
    {
      using t = tensor([1, 2, 3]);
      escaped = t;
      expect(live().buffers - before.buffers).toBe(1);
      expect(t.isDisposed).toBe(false);
    }
    expect(escaped.isDisposed).toBe(true);
    expect(live()).toEqual(before);
  });

  it('tidy disposes what it created except what it returns and what was kept', () => {
    const before = live();
    let kept: Tensor | undefined;
    let dropped: Tensor | undefined;
    const result = tidy(() => {
      kept = keep(tensor([1, 2]));
      dropped = tensor([3, 4]);
      return { value: add(kept, dropped) };
    });
    expect(dropped?.isDisposed).toBe(true);
    expect(kept?.isDisposed).toBe(false);
    expect(result.value.isDisposed).toBe(false);
    expect(result.value.arraySync()).toEqual([4, 6]);
    dispose([kept, result]);
    expect(live()).toEqual(before);
  });

  it('nested scopes hand returned tensors to the outer scope', () => {
    const before = live();
    let inner: Tensor | undefined;
    const outer = tidy(() => {
      inner = tidy(() => tensor([1, 2]).mul(2));
      expect(inner.isDisposed).toBe(false);
      return inner.add(1);
    });
    expect(inner?.isDisposed).toBe(true);
    expect(outer.arraySync()).toEqual([3, 5]);
    outer.dispose();
    expect(live()).toEqual(before);
  });

  it('tidy releases its tensors when the function throws', () => {
    const before = live();
    expect(() =>
      tidy(() => {
        tensor([1, 2, 3]).add(1);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(live()).toEqual(before);
  });

  it('a view keeps its storage alive after its base is disposed', () => {
    const before = live();
    const base = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const view = transpose(base);
    const flat = reshape(view, [6]);
    base.dispose();
    expect(view.arraySync()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(live().buffers).toBeGreaterThan(before.buffers);
    view.dispose();
    expect(flat.arraySync()).toEqual([1, 4, 2, 5, 3, 6]);
    flat.dispose();
    expect(live()).toEqual(before);
  });
});

describe('debug mode', () => {
  function makeForgottenTensor(): Tensor {
    return tensor([7, 8, 9]);
  }

  it('liveTensors() lists an undisposed tensor with the stack where it was made', () => {
    setDebug({ trackTensors: true });
    const leaked = makeForgottenTensor();
    const entry = liveTensors().find((e) => e.tensor === leaked);
    expect(entry).toBeDefined();
    expect(entry?.createdAt).toContain('makeForgottenTensor');
    expect(entry?.createdAt).toContain('memory.test.ts');
    leaked.dispose();
    expect(liveTensors().some((e) => e.tensor === leaked)).toBe(false);
  });

  it('tensors made inside a tidy scope are gone from liveTensors() after it', () => {
    setDebug({ trackTensors: true });
    const before = liveTensors().length;
    const kept = tidy(() => tensor([1, 2]).add(tensor([3, 4])));
    expect(liveTensors().length).toBe(before + 1);
    kept.dispose();
    expect(liveTensors().length).toBe(before);
  });

  it('the finalizer releases a forgotten tensor and reports where it was made', async () => {
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const reports: string[] = [];
    setDebug({ trackTensors: true, onLeak: (message) => reports.push(message) });
    const before = live();
    (() => {
      makeForgottenTensor();
    })();
    // The tracked list holds the tensor strongly while debug mode is on; turn it off to let go.
    setDebug({ trackTensors: false });
    setDebug({ trackTensors: true, onLeak: (message) => reports.push(message) });
    for (let attempt = 0; attempt < 100 && reports.length === 0; attempt++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(reports.length).toBeGreaterThan(0);
    expect(live()).toEqual(before);
    expect(reports.join('\n')).toContain('makeForgottenTensor');
  });
});

describe('the finalizer leaves the arrays of undisposed tensors to the garbage collector', () => {
  const backends = backendStatus()
    .filter((s) => s.available && (s.name === 'cpu' || s.name === 'mkl'))
    .map((s) => s.name);

  it.each(backends)('%s: a synchronous loop that never disposes keeps its memory bounded', (backend) => {
    // 150 undisposed results of 8 MiB each: 1.2 GiB if anything held their arrays until the
    // finalizer runs, which it never does before this synchronous loop ends.
    const x = tensor(new Float32Array(1 << 21), { backend });
    const start = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let i = 0; i < 150; i++) {
      x.add(i);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - start);
    }
    expect(peak).toBeLessThan(512 * 2 ** 20);
    x.dispose();
  });

  it.each(backends)('%s: the accounts of collected tensors and views are settled', async (backend) => {
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const accounts = () => getBackend(backend).memory();
    // Tensors earlier tests forgot are settled first, so that the baseline is this test's own.
    for (let attempt = 0, last = -1; attempt < 100 && accounts().buffers !== last; attempt++) {
      last = accounts().buffers;
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const before = accounts();
    (() => {
      for (let i = 0; i < 10; i++) {
        const t = tensor(new Float32Array(8192).fill(i), { shape: [64, 128], backend });
        transpose(t); // a view sharing t's storage, also forgotten
        t.add(1);
      }
    })();
    expect(accounts().buffers).toBeGreaterThan(before.buffers);
    for (let attempt = 0; attempt < 100 && accounts().buffers !== before.buffers; attempt++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(accounts()).toEqual(before);
  });
});

describe('tensors that leave their tidy scopes undisposed still have the finalizer', () => {
  const backends = backendStatus()
    .filter((s) => s.available && (s.name === 'cpu' || s.name === 'mkl'))
    .map((s) => s.name);

  // A tensor made inside a scope is given to the finalizer only when it outlives the scopes
  // (tensor/memory.ts): returned from the outermost one, kept, keepOwned, or retained by a
  // backward pass's graph when the scope ends. Each such tensor here is then forgotten.
  it.each(backends)('%s: returned, kept, keepOwned, graph-retained and async-scope tensors are settled once collected', async (backend) => {
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const accounts = () => getBackend(backend).memory();
    const settle = async (until: () => boolean) => {
      for (let attempt = 0; attempt < 100 && !until(); attempt++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    let last = -1;
    await settle(() => {
      const now = accounts().buffers;
      const same = now === last;
      last = now;
      return same;
    });
    const before = accounts();
    (() => {
      const make = (i: number) => tensor(new Float32Array(4096).fill(i), { shape: [64, 64], backend });
      tidy(() => make(1).add(1));
      tidy(() => {
        keep(make(2).mul(2));
        keepOwned({ kept: make(3).sub(1) });
        // The product saves its inputs for the backward pass: their dispose at the scope's end is
        // deferred, and the graph is then dropped without a backward pass.
        const leaf = tensor(new Float32Array(4096).fill(4), { shape: [64, 64], backend, requiresGrad: true });
        leaf.mul(make(5)).sum();
      });
      // An async function: what it made before its first await is left to it, with the finalizer.
      expect(() => tidy((async () => make(6).add(1)) as never)).toThrow(/Promise/);
    })();
    expect(accounts().buffers).toBeGreaterThan(before.buffers);
    await settle(() => accounts().buffers === before.buffers);
    expect(accounts()).toEqual(before);
  });
});

describe('keepOwned', () => {
  it('keeps what the innermost scope made and returns it, leaving other tensors to their owners', () => {
    const outside = tensor([1, 2]);
    let made: Tensor[] = [];
    let product: Tensor | undefined;
    tidy(() => {
      product = outside.mul(2);
      const discarded = outside.add(1);
      made = keepOwned({ product, outside, nested: [product] });
      expect(discarded.isDisposed).toBe(false);
    });
    expect(made).toEqual([product]);
    expect(product?.isDisposed).toBe(false);
    expect(Array.from(product?.dataSync() ?? [])).toEqual([2, 4]);
    dispose(made);
    expect(product?.isDisposed).toBe(true);
    expect(outside.isDisposed).toBe(false);
    expect(keepOwned(outside)).toEqual([]);
    outside.dispose();
  });
});
