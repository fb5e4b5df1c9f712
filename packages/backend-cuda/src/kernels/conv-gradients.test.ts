// Which of the convolutions autodiff emits the api's conv-gradients.ts (strided-backend) recognises as cuDNN's backward passes,
// with what forward geometry: the api's gradient rules (primitives/linalg-derivatives.ts) are
// traced on the cuda backend and every convolution reaching its kernel table is inspected. The
// values are checked elsewhere (gpu.checks.ts, against the CPU backend, with cuDNN or its
// emulation). Runs on a GPU or the CPU emulation; skipped with the reason elsewhere.
import { type Aval, conv2d, conv3d, convTranspose2d, initBackend, type ParamsOf, Primitive, type Tensor, tensor, vjp } from '@flint/api';
import { asDataGradient, asFilterGradient } from '@flint/api/strided-backend';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CudaBackend } from '../backend.js';
import { cudaUnavailable } from '../cuda-availability.test-support.js';
import type { CudaHandle } from '../handle.js';

type Seen = { filter: number[] | null; data: number[] | null };

describe.skipIf(cudaUnavailable('convolution-gradient recognition tests') !== undefined)(
  'convolution gradients recognised for cuDNN',
  () => {
    let cuda: CudaBackend;
    const seen: Seen[] = [];
    beforeAll(async () => {
      cuda = (await initBackend('cuda')) as unknown as CudaBackend;
      const table = cuda.kernels as unknown as Record<number, (...args: unknown[]) => unknown>;
      const conv = table[Primitive.Conv] as (...args: unknown[]) => unknown;
      table[Primitive.Conv] = (...args: unknown[]) => {
        const [inputs, params, out] = args as [CudaHandle[], ParamsOf<Primitive.Conv>, Aval];
        const [x, w] = inputs as [CudaHandle, CudaHandle];
        const geometry = (found: { geometry: readonly number[] } | null) => (found === null ? null : [...found.geometry]);
        seen.push({ filter: geometry(asFilterGradient(x, w, params, out)), data: geometry(asDataGradient(x, w, params, out)) });
        return conv(...args);
      };
    });

    const filled = (shape: number[]) =>
      tensor(
        Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)),
        { shape, backend: 'cuda' },
      );

    /** The convolutions of f's forward pass and of its pullback, in order. */
    function traced(f: (x: Tensor, w: Tensor) => Tensor, xShape: number[], wShape: number[]): Seen[] {
      seen.length = 0;
      const [x, w] = [filled(xShape), filled(wShape)];
      const [y, pullback] = vjp(f, x, w);
      const gradients = pullback(filled(y.shape as number[])) as Tensor[];
      pullback.dispose();
      for (const t of [x, w, y, ...gradients]) t.dispose();
      return [...seen];
    }

    it('a 2-d convolution: the forward is neither pass; dx is the data pass, dw the filter pass, with its geometry', () => {
      // Geometry: [...strides, ...pads, ...dilations, ...sizes] of the forward convolution.
      const [forward, dx, dw] = traced((x, w) => conv2d(x, w, { stride: 1, padding: 1 }), [2, 3, 8, 8], [4, 3, 3, 3]);
      expect(forward).toEqual({ filter: null, data: null });
      expect(dx).toEqual({ filter: null, data: [1, 1, 1, 1, 1, 1, 1, 8, 8] });
      expect(dw).toEqual({ filter: [1, 1, 1, 1, 1, 1, 1, 3, 3], data: null });
    });

    it('strides, dilations, padding the stride leaves uneven, non-square filters and 3-d', () => {
      const strided = traced((x, w) => conv2d(x, w, { stride: [2, 3], padding: [1, 2], dilation: [1, 2] }), [1, 2, 9, 10], [3, 2, 3, 2]);
      expect(strided.slice(1)).toEqual([
        { filter: null, data: [1, 2, 3, 1, 2, 1, 2, 9, 10] },
        { filter: [1, 2, 3, 1, 2, 1, 2, 3, 2], data: null },
      ]);
      const volume = traced((x, w) => conv3d(x, w, { stride: 2, padding: 1 }), [1, 2, 5, 6, 5], [3, 2, 3, 3, 2]);
      expect(volume.slice(1)).toEqual([
        { filter: null, data: [1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 5, 6, 5] },
        { filter: [1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 3, 3, 2], data: null },
      ]);
    });

    it('a transposed convolution is a data pass in its forward', () => {
      seen.length = 0;
      const y = convTranspose2d(filled([1, 4, 5, 5]), filled([4, 3, 3, 3]), { stride: 2, padding: 1 });
      expect(y.shape).toEqual([1, 3, 9, 9]);
      y.dispose();
      expect(seen[0]?.data).toEqual([1, 2, 2, 1, 1, 1, 1, 9, 9]);
      // Its gradients: dx is a strided forward convolution; dw convolves x dilated by the stride
      // with dy, a "filter" as large as the image, which is no data pass.
      const [forward, dx, dw] = traced((a, b) => convTranspose2d(a, b, { stride: 2, padding: 1 }), [1, 4, 5, 5], [4, 3, 3, 3]);
      expect(forward?.data).toEqual([1, 2, 2, 1, 1, 1, 1, 9, 9]);
      expect(dx).toEqual({ filter: null, data: null });
      expect(dw).toEqual({ filter: null, data: null });
    });

    it('forward convolutions whose size-1 dims make their operands read as swapped or flipped stay forward', () => {
      // One input channel: x [N, 1, H, W] is contiguous with N and C swapped, but its output is the
      // image, not a filter. A 1x1 filter with one output channel reads as flipped and swapped.
      for (const [x, w, padding] of [
        [[8, 1, 28, 28], [32, 1, 3, 3], 1],
        [[1, 16, 20, 20], [1, 16, 3, 3], 0],
        [[2, 4, 6, 6], [1, 4, 1, 1], 0],
      ] as [number[], number[], number][]) {
        seen.length = 0;
        conv2d(filled(x), filled(w), { padding }).dispose();
        expect(seen, `${x} * ${w}`).toEqual([{ filter: null, data: null }]);
      }
    });

    it('grouped convolutions: the filter gradient is a filter pass; the input gradient a data pass where its filter is a view or a stride makes packing it worth it', () => {
      // Channels on both sides of each group: autodiff's regrouped filter is a copy, which the data
      // pass would pack back; without a stride the forward pass is as fast, so dx stays there.
      // The filter pass packs back x, which autodiff copied with its groups apart.
      const grouped = traced((x, w) => conv2d(x, w, { padding: 1, groups: 2 }), [1, 4, 6, 6], [4, 2, 3, 3]);
      expect(grouped).toEqual([
        { filter: null, data: null },
        { filter: null, data: null },
        { filter: [2, 1, 1, 1, 1, 1, 1, 3, 3], data: null },
      ]);
      // Strided, the input gradient needs input dilation, which only the data pass takes.
      const strided = traced((x, w) => conv2d(x, w, { stride: 2, padding: 1, groups: 2 }), [1, 4, 7, 6], [6, 2, 3, 3]);
      expect(strided).toEqual([
        { filter: null, data: null },
        { filter: null, data: [2, 2, 2, 1, 1, 1, 1, 7, 6] },
        { filter: [2, 2, 2, 1, 1, 1, 1, 3, 3], data: null },
      ]);
      // One input channel per group, with a channel multiplier of 2: w [8, 1, 3, 3] over 4 groups.
      const depthwise = traced((x, w) => conv2d(x, w, { stride: 2, padding: 1, groups: 4 }), [2, 4, 9, 9], [8, 1, 3, 3]);
      expect(depthwise).toEqual([
        { filter: null, data: null },
        { filter: null, data: [4, 2, 2, 1, 1, 1, 1, 9, 9] },
        { filter: [4, 2, 2, 1, 1, 1, 1, 3, 3], data: null },
      ]);
    });

    it('a grouped transposed convolution is a data pass, its regrouped filter packed', () => {
      seen.length = 0;
      const y = convTranspose2d(filled([1, 4, 5, 5]), filled([4, 3, 3, 3]), { stride: 2, padding: 1, groups: 2 });
      expect(y.shape).toEqual([1, 6, 9, 9]);
      y.dispose();
      expect(seen[0]?.data).toEqual([2, 2, 2, 1, 1, 1, 1, 9, 9]);
    });
  },
);
