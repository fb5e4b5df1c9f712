// jit's contraction fusions on the CUDA backend (jit/contraction.ts): a matmul or convolution
// runs as the backend's op and its whole epilogue as one fused kernel over the result. Checked
// against eager evaluation, with the launches counted and the buffers accounted for. Needs the
// backend and NVRTC: on a GPU, or on the CPU emulation (both cuda-emulation projects of
// vitest.config.ts, the second with the emulated cuBLASLt and cuDNN); skipped elsewhere.
import { add, conv2d, jit, matmul, maximum, mul, nn, slice, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import type { CudaBackend } from '../backend.js';
import { createCudaBackend } from '../index.js';

let cuda: CudaBackend | null = null;
let reason = '';
try {
  cuda = createCudaBackend();
  if (!cuda.libraries().nvrtc.found) {
    reason = `NVRTC is not available: ${cuda.libraries().nvrtc.reason ?? 'not found'}`;
    cuda = null;
  }
} catch (error) {
  reason = (error as Error).message;
}
if (cuda === null) console.log(`backend-cuda: jit contraction tests skipped: ${reason}`);

function values(count: number, seed: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233));
}

const on = (shape: number[], seed: number) =>
  tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    { shape, backend: 'cuda' },
  );

async function worstError(actual: Tensor, expected: Tensor): Promise<number> {
  const [a, e] = [await actual.data(), await expected.data()];
  expect(a.length).toBe(e.length);
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(Number(a[i]) - Number(e[i])) / (1 + Math.abs(Number(e[i]))));
  return worst;
}

/** Runs `f` eagerly and jitted; checks one compiled kernel (no group op by op), one fused launch per call, and agreement. */
async function expectFused(f: (...args: Tensor[]) => Tensor[], args: Tensor[], contractions: 'matmul' | 'conv'): Promise<void> {
  const backend = cuda as CudaBackend;
  const jitted = jit(f);
  const lowered = jitted.lower(...args);
  expect(lowered.compiledKernels).toBe(1);
  expect(lowered.fallbackKernels).toBe(0);
  const eager = f(...args);
  const before = backend.deviceMemory();
  const compiled = jitted(...args);
  const after = backend.deviceMemory();
  expect(after.jitLaunches - before.jitLaunches).toBe(1);
  const ran =
    contractions === 'matmul'
      ? after.matmulCublasLt + after.matmulKernel - before.matmulCublasLt - before.matmulKernel
      : after.convCudnn + after.convKernel - before.convCudnn - before.convKernel;
  expect(ran).toBe(1);
  expect(compiled).toHaveLength(eager.length);
  for (const [i, t] of compiled.entries()) expect(await worstError(t, eager[i] as Tensor)).toBeLessThan(1e-5);
  for (const t of [...compiled, ...eager]) t.dispose();
}

describe.skipIf(cuda === null)('jit contraction fusions on cuda', () => {
  it('matmul + bias + exact GELU: the matmul, then one fused epilogue', async () => {
    const [x, w, b] = [on([24, 40], 1), on([40, 16], 2), on([16], 3)];
    await expectFused((x, w, b) => [nn.functional.gelu(add(matmul(x as Tensor, w as Tensor), b as Tensor))], [x, w, b], 'matmul');
  });

  it('conv + per-channel bias + ReLU + residual', async () => {
    const [x, k, b, r] = [on([2, 3, 9, 9], 4), on([5, 3, 3, 3], 5), on([5, 1, 1], 6), on([2, 5, 9, 9], 7)];
    await expectFused(
      (x, k, b, r) => [add(nn.functional.relu(add(conv2d(x as Tensor, k as Tensor, { padding: 1 }), b as Tensor)), r as Tensor)],
      [x, k, b, r],
      'conv',
    );
  });

  it('returns the contraction itself next to its epilogue, and releases what it does not return', async () => {
    const backend = cuda as CudaBackend;
    const [x, w] = [on([8, 12], 8), on([12, 6], 9)];
    const f = (x: Tensor, w: Tensor) => {
      const y = matmul(x, w);
      return [y, maximum(mul(y, 2), 0)];
    };
    await expectFused((x, w) => f(x as Tensor, w as Tensor), [x, w], 'matmul');
    // Repeated calls leave no buffer behind: the intermediate result of an epilogue-only output is freed.
    const g = jit((x: Tensor, w: Tensor) => [maximum(mul(matmul(x, w), 2), 0)]);
    for (const t of g(x, w)) t.dispose();
    const before = backend.deviceMemory().buffers;
    for (let i = 0; i < 5; i++) for (const t of g(x, w)) t.dispose();
    expect(backend.deviceMemory().buffers).toBe(before);
  });

  it("matmul + bias: the bias in cuBLASLt's epilogue where present (one launch), else a fused epilogue", async () => {
    const backend = cuda as CudaBackend;
    const lt = backend.libraries().cublasLt.found;
    // A batched product with a transposed weight (a strided view) and a bias of the output's columns.
    const [x, w, b] = [on([3, 10, 16], 10), on([12, 16], 11), on([12], 12)];
    for (const order of ['result first', 'bias first'] as const) {
      const f = (x: Tensor, w: Tensor, b: Tensor) => {
        const y = matmul(x, w.transpose());
        return [order === 'result first' ? add(y, b) : add(b, y)];
      };
      const jitted = jit(f);
      expect(jitted.lower(x, w, b).compiledKernels).toBe(1);
      const eager = f(x, w, b);
      const before = backend.deviceMemory();
      const compiled = jitted(x, w, b);
      const after = backend.deviceMemory();
      expect(after.matmulBiasEpilogue - before.matmulBiasEpilogue, order).toBe(lt ? 1 : 0);
      expect(after.jitLaunches - before.jitLaunches, order).toBe(lt ? 0 : 1);
      expect(await worstError(compiled[0] as Tensor, eager[0] as Tensor)).toBeLessThan(1e-5);
      for (const t of [...compiled, ...eager]) t.dispose();
    }
    // A bias of the rows, not the columns, is no bias epilogue: the generic path serves it.
    const rows = on([10, 1], 13);
    const before = backend.deviceMemory();
    const g = jit((x: Tensor, w: Tensor, r: Tensor) => [add(matmul(x, w.transpose()), r)]);
    const [out] = g(x, w, rows);
    expect(backend.deviceMemory().matmulBiasEpilogue).toBe(before.matmulBiasEpilogue);
    const [expected] = [add(matmul(x, w.transpose()), rows)];
    expect(await worstError(out as Tensor, expected as Tensor)).toBeLessThan(1e-5);
    for (const t of [out as Tensor, expected as Tensor]) t.dispose();
  });

  it('a call cuBLASLt declines (a layout it cannot read) does not keep later calls from its epilogue', async () => {
    const backend = cuda as CudaBackend;
    if (!backend.libraries().cublasLt.found) return; // the epilogue needs cuBLASLt: the vendor project has it
    const linear = jit((x: Tensor, w: Tensor, b: Tensor) => [add(matmul(x, w), b)]);
    const [w, b] = [on([16, 12], 14), on([12], 15)];
    // Every other column of a wider tensor: no unit stride in its matrix dims, which cuBLASLt declines.
    const wide = on([10, 32], 16);
    const strided = slice(wide, [0, 0], [10, 32], [1, 2]);
    const plain = on([10, 16], 17);
    const before = backend.deviceMemory().matmulBiasEpilogue;
    for (const t of linear(strided, w, b)) t.dispose();
    expect(backend.deviceMemory().matmulBiasEpilogue).toBe(before);
    for (const t of linear(plain, w, b)) t.dispose();
    expect(backend.deviceMemory().matmulBiasEpilogue).toBe(before + 1);
  });
});
