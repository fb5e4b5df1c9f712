import '@flint/backend-cpu';
import { arange, grad, pad as numpyPad, ones, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

const F = nn.functional;
type Mode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * Where output position `j` of one padded dimension reads from the input (-1: the fill value),
 * transcribed from PyTorch's kernels (ReflectionPad.cpp, ReplicationPadding.cpp, and
 * _pad_circular, which crops before it wraps), negative amounts included.
 */
function sourceIndex(mode: Mode, j: number, size: number, left: number, right: number): number {
  const inputStart = Math.max(0, -left);
  const outputStart = Math.max(0, left);
  if (mode === 'constant') {
    const i = j - left;
    return i >= 0 && i < size ? i : -1;
  }
  if (mode === 'circular') {
    const kept = size - inputStart - Math.max(0, -right);
    return inputStart + ((((j - outputStart) % kept) + kept) % kept);
  }
  let i: number;
  if (j < left) i = mode === 'reflect' ? left * 2 - j : left;
  else if (j < size + left) i = j;
  else i = mode === 'reflect' ? (size + left - 1) * 2 - j : size + left - 1;
  return i - outputStart + inputStart;
}

/** torch.nn.functional.pad on nested arrays, one output element at a time. */
function reference(x: Tensor, padding: readonly number[], mode: Mode, value = 0): { shape: number[]; data: number[] } {
  const shape = x.shape;
  const pairs = shape.map((_, axis) => {
    const k = shape.length - 1 - axis;
    return 2 * k < padding.length ? [padding[2 * k] as number, padding[2 * k + 1] as number] : [0, 0];
  });
  const outShape = shape.map((d, axis) => d + (pairs[axis]?.[0] as number) + (pairs[axis]?.[1] as number));
  const input = Array.from(x.dataSync() as Float32Array);
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const count = outShape.reduce((a, b) => a * b, 1);
  const data: number[] = [];
  for (let flat = 0; flat < count; flat++) {
    let rest = flat;
    let offset = 0;
    let filled = false;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      const n = outShape[axis] as number;
      const j = rest % n;
      rest = Math.floor(rest / n);
      const [left, right] = pairs[axis] as [number, number];
      const i = sourceIndex(mode, j, shape[axis] as number, left, right);
      if (i < 0) filled = true;
      offset += i * (strides[axis] as number);
    }
    data.push(filled ? value : (input[offset] as number));
  }
  return { shape: outShape, data };
}

const values = (t: Tensor): number[] => Array.from(t.dataSync() as Float32Array);

describe('nn.functional.pad (torch.nn.functional.pad)', () => {
  it('pads from the last dimension backwards, leaving dimensions without a pair alone', () => {
    expect(F.pad(ones([1, 2, 2]), [1, 1]).shape).toEqual([1, 2, 4]);
    expect(F.pad(ones([2, 3]), [0, 1]).arraySync()).toEqual([
      [1, 1, 1, 0],
      [1, 1, 1, 0],
    ]);
    expect(F.pad(ones([1, 2, 2]), [1, 1, 2, 2]).shape).toEqual([1, 6, 4]);
    expect(F.pad(ones([1, 1, 1, 1, 1]), [1, 2, 3, 4, 5, 6]).shape).toEqual([1, 1, 12, 8, 4]);
    expect(F.pad(tensor([1, 2]), [1, 1], { value: 7 }).arraySync()).toEqual([7, 1, 2, 7]);
    expect(F.pad(tensor([true]), [1, 0], { value: true }).arraySync()).toEqual([true, true]);
  });

  it('reflects, replicates and wraps as PyTorch, and crops where an amount is negative', () => {
    const x = tensor([1, 2, 3, 4], { dtype: 'float32' });
    const cases: [Mode, number[], number[]][] = [
      ['reflect', [2, 1], [3, 2, 1, 2, 3, 4, 3]],
      ['replicate', [2, 1], [1, 1, 1, 2, 3, 4, 4]],
      ['circular', [2, 1], [3, 4, 1, 2, 3, 4, 1]],
      ['constant', [-1, 2], [2, 3, 4, 0, 0]],
      // Reflection and replication are about the uncropped input's edges, wrapping about the cropped one's.
      ['reflect', [-1, 2], [2, 3, 4, 3, 2]],
      ['reflect', [-2, 3], [3, 4, 3, 2, 1]],
      ['replicate', [-1, 2], [2, 3, 4, 4, 4]],
      ['circular', [-1, 2], [2, 3, 4, 2, 3]],
      ['circular', [1, -3], [1, 1]],
    ];
    for (const [mode, padding, expected] of cases) {
      expect(values(F.pad(x, padding, { mode })), `${mode} ${JSON.stringify(padding)}`).toEqual(expected);
      expect(reference(x, padding, mode).data, `reference ${mode} ${JSON.stringify(padding)}`).toEqual(expected);
    }
  });

  it('matches the element-by-element reference for 1-, 2- and 3-dimensional pads of NCW, NCHW and NCDHW inputs', () => {
    const modes: Mode[] = ['constant', 'reflect', 'replicate', 'circular'];
    const inputs = [
      arange(2 * 3 * 5).reshape(2, 3, 5),
      arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5),
      arange(2 * 2 * 3 * 4 * 5).reshape(2, 2, 3, 4, 5),
    ];
    const paddings = [
      [1, 2],
      [2, 0, 1, 2],
      [-1, 2, 2, -1],
      [1, 1, 0, 2, 2, 1],
      [-2, 1, 1, -1, 0, 2],
    ];
    for (const input of inputs) {
      const x = input.cast('float32');
      for (const padding of paddings) {
        if (padding.length / 2 > x.ndim - 1) continue;
        for (const mode of modes) {
          const expected = reference(x, padding, mode, 0.5);
          const actual = F.pad(x, padding, mode === 'constant' ? { value: 0.5 } : { mode });
          const label = `${mode} ${JSON.stringify(padding)} on ${JSON.stringify(x.shape)}`;
          expect(actual.shape, label).toEqual(expected.shape);
          expect(values(actual), label).toEqual(expected.data);
        }
      }
    }
  });

  it('is differentiable: reflected elements send their gradient back to their source', () => {
    const g = grad((x: Tensor) =>
      F.pad(x, [1, 1], { mode: 'reflect' })
        .mul(tensor([1, 10, 100, 1000, 10000]))
        .sum(),
    );
    // Output [x1, x0, x1, x2, x1] weighted by 1, 10, 100, 1000, 10000.
    expect(values(g(tensor([1, 2, 3], { dtype: 'float32' })))).toEqual([10, 1 + 100 + 10000, 1000]);
  });

  it('leaves the top-level numpy-style pad as it was', () => {
    expect(numpyPad(ones([1, 2, 2]), [1, 1]).shape).toEqual([3, 4, 4]);
    expect(ones([2, 3]).pad([0, 1]).shape).toEqual([3, 4]);
  });

  it('raises errors naming the op, the input shape and the pad list', () => {
    const img = ones([1, 2, 3]);
    const cases: [() => unknown, RegExp][] = [
      [() => F.pad(img, [1, 1, 1]), /^nn\.functional\.pad: pad must have an even length.*\[1,1,1\].*\[1, 2, 3\]/],
      [() => F.pad(img, [1, 1, 1, 1, 1, 1, 1, 1]), /pads 4 dimensions, but the input \[1, 2, 3\] has 3/],
      [
        () => F.pad(img, [3, 0], { mode: 'reflect' }),
        /reflect padding \[3, 0\] of dimension 2 \(size 3\) must be less than its size; input \[1, 2, 3\], pad \[3,0\]/,
      ],
      [() => F.pad(img, [0, 0, 0, 2], { mode: 'reflect' }), /reflect padding \[0, 2\] of dimension 1 \(size 2\)/],
      [
        () => F.pad(img, [4, 0], { mode: 'circular' }),
        /circular padding \[4, 0\] of dimension 2 \(size 3\) would wrap around more than once/,
      ],
      [() => F.pad(img, [-2, -2]), /negative padding \[-2, -2\] crops more than dimension 2 \(size 3\) holds; input \[1, 2, 3\]/],
      [() => F.pad(ones([2, 0]), [1, 1], { mode: 'replicate' }), /replicate padding of the empty dimension 1/],
      [() => F.pad(img, [1, 1], { mode: 'reflect', value: 2 }), /mode 'reflect' takes no value/],
      [
        () => F.pad(img, [1, 1], { mode: 'edge' as Mode }),
        /mode must be one of 'constant', 'reflect', 'replicate', 'circular', got "edge"/,
      ],
      [() => F.pad(img, [1.5, 1]), /pad must be a flat list of integers/],
      [() => F.pad(img, [[1, 1]] as unknown as number[]), /for numpy-style \[before, after\] pairs per axis use the top-level pad\(\)/],
      [() => F.pad(img, 1 as unknown as number[]), /pad must be a flat list of integers.*got 1/],
      [
        () => F.pad(img, [1, 1], 'reflect' as never),
        /^nn\.functional\.pad: argument 3 is the options object \{ mode, value \}; got a string \('reflect'\) — pass the mode as \{ mode: 'reflect' \}$/,
      ],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(ValueError);
      expect(run).toThrow(message);
    }
    expect(F.pad(img, [1, 1], { mode: 'reflect', value: 0 }).shape).toEqual([1, 2, 5]);
  });
});
