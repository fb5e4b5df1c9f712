import '@flint/backend-cpu';
import { grad, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync());

interface Geometry {
  kernel: [number, number];
  dilation: [number, number];
  padding: [number, number];
  stride: [number, number];
}

/** im2col as PyTorch documents it, element by element. */
function unfoldReference(x: number[], [n, c, h, w]: number[], g: Geometry): { data: number[]; blocks: [number, number] } {
  const { kernel, dilation, padding, stride } = g;
  const bh = Math.floor(((h as number) + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) / stride[0]) + 1;
  const bw = Math.floor(((w as number) + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) / stride[1]) + 1;
  const data: number[] = [];
  for (let b = 0; b < (n as number); b++)
    for (let ch = 0; ch < (c as number); ch++)
      for (let ki = 0; ki < kernel[0]; ki++)
        for (let kj = 0; kj < kernel[1]; kj++)
          for (let i = 0; i < bh; i++)
            for (let j = 0; j < bw; j++) {
              const row = i * stride[0] + ki * dilation[0] - padding[0];
              const col = j * stride[1] + kj * dilation[1] - padding[1];
              const inside = row >= 0 && row < (h as number) && col >= 0 && col < (w as number);
              data.push(inside ? (x[((b * (c as number) + ch) * (h as number) + row) * (w as number) + col] as number) : 0);
            }
  return { data, blocks: [bh, bw] };
}

describe('unfold and fold', () => {
  const random = seededRandom(51);
  const shape = [2, 3, 5, 6];
  const data = randomValues(random, 2 * 3 * 5 * 6);
  const x = tensor(data, { shape, ...f64 });
  const geometries: Geometry[] = [
    { kernel: [2, 2], dilation: [1, 1], padding: [0, 0], stride: [1, 1] },
    { kernel: [3, 2], dilation: [1, 2], padding: [1, 0], stride: [2, 1] },
    { kernel: [2, 3], dilation: [2, 1], padding: [2, 1], stride: [1, 3] },
  ];

  it.each(geometries)('unfold matches im2col element by element (%o)', (g) => {
    const { data: expected, blocks } = unfoldReference(data, shape, g);
    const out = F.unfold(x, g.kernel, { dilation: g.dilation, padding: g.padding, stride: g.stride });
    expect(out.shape).toEqual([2, 3 * g.kernel[0] * g.kernel[1], blocks[0] * blocks[1]]);
    expect(values(out)).toEqual(expected);
  });

  it.each(geometries)('fold is the adjoint of unfold: <unfold(x), y> = <x, fold(y)> (%o)', (g) => {
    const options = { dilation: g.dilation, padding: g.padding, stride: g.stride };
    const columns = F.unfold(x, g.kernel, options);
    const y = tensor(randomValues(random, columns.size), { shape: columns.shape, ...f64 });
    const folded = F.fold(y, [5, 6], g.kernel, options);
    expect(folded.shape).toEqual(shape);
    const left = columns.mul(y).sum().item() as number;
    const right = x.mul(folded).sum().item() as number;
    expect(Math.abs(left - right)).toBeLessThan(1e-10);
  });

  it('fold sums overlapping blocks (torch’s documented fold(unfold(ones)) counts)', () => {
    const ones = tensor(new Array(16).fill(1), { shape: [1, 1, 4, 4], ...f64 });
    const counts = F.fold(F.unfold(ones, 2), 4, 2);
    expect(values(counts)).toEqual([1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1]);
    // Unbatched forms.
    expect(F.unfold(tensor(data.slice(0, 30), { shape: [1, 5, 6], ...f64 }), 2).shape).toEqual([4, 20]);
    expect(F.fold(F.unfold(ones.reshape([1, 4, 4]), 2), [4, 4], 2).shape).toEqual([1, 4, 4]);
  });

  it('are differentiable: unfold’s gradient is fold, and fold’s is unfold', () => {
    const g = { padding: 1, stride: 2 } as const;
    const columns = F.unfold(x, 3, g);
    const weights = tensor(randomValues(random, columns.size), { shape: columns.shape, ...f64 });
    const dx = grad((v: Tensor) => F.unfold(v, 3, g).mul(weights).sum())(x);
    expect(maxDifference(values(dx), values(F.fold(weights, [5, 6], 3, g)))).toBeLessThan(1e-12);
    const image = tensor(randomValues(random, x.size), { shape, ...f64 });
    const dy = grad((v: Tensor) => F.fold(v, [5, 6], 3, g).mul(image).sum())(weights);
    expect(maxDifference(values(dy), values(F.unfold(image, 3, g)))).toBeLessThan(1e-12);
  });

  it('check shapes and options, naming the op', () => {
    expect(() => F.unfold(tensor([1, 2, 3]), 2)).toThrow(/^unfold: input must be \[N, C, H, W\] or \[C, H, W\]/);
    expect(() => F.unfold(x, 7)).toThrow(ShapeError);
    expect(() => F.unfold(x, 0)).toThrow(/^unfold: kernelSize must be an integer >= 1/);
    expect(() => F.unfold(x, 2, { padding: -1 })).toThrow(ValueError);
    expect(() => F.fold(tensor(new Array(10).fill(0), { shape: [1, 5, 2] }), 3, 2)).toThrow(
      /^fold: input's axis 1 \(5\) must be divisible/,
    );
    expect(() => F.fold(tensor(new Array(12).fill(0), { shape: [1, 4, 3] }), 3, 2)).toThrow(/^fold: input has 3 blocks, but .* give 4/);
  });

  it('modules Unfold and Fold compute what the functions compute', () => {
    const options = { dilation: 2, padding: 1 };
    expect(values(new nn.Unfold(2, options).forward(x))).toEqual(values(F.unfold(x, 2, options)));
    const columns = F.unfold(x, 2, options);
    expect(values(new nn.Fold([5, 6], 2, options).forward(columns))).toEqual(values(F.fold(columns, [5, 6], 2, options)));
    expect(new nn.Unfold([2, 3], { stride: 2 }).toString()).toBe('Unfold(kernelSize=(2, 3), dilation=1, padding=0, stride=2)');
    expect(new nn.Fold(4, 2).toString()).toBe('Fold(outputSize=4, kernelSize=2, dilation=1, padding=0, stride=1)');
  });
});
