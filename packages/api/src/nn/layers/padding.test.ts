import '@flint/backend-cpu';
import { arange, grad, manualSeed, randn, ShapeError, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import type { FunctionalPadMode } from '../functional/pad.js';
import * as nn from '../index.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync() as Float32Array);
const row = (xs: number[]) => tensor(xs, { shape: [1, 1, xs.length], dtype: 'float32' });

describe('padding layers (torch.nn.ZeroPad*d, ConstantPad*d, ReflectionPad*d, ReplicationPad*d, CircularPad*d)', () => {
  it('pad as PyTorch: mirror without the edge, repeat the edge, wrap, fill', () => {
    const x = row([0, 1, 2, 3]);
    expect(values(new nn.ReflectionPad1d(2).forward(x))).toEqual([2, 1, 0, 1, 2, 3, 2, 1]);
    expect(values(new nn.ReplicationPad1d([1, 2]).forward(x))).toEqual([0, 0, 1, 2, 3, 3, 3]);
    expect(values(new nn.CircularPad1d(1).forward(row([0, 1, 2])))).toEqual([2, 0, 1, 2, 0]);
    expect(values(new nn.ConstantPad1d([2, 1], 3.5).forward(x))).toEqual([3.5, 3.5, 0, 1, 2, 3, 3.5]);
    expect(values(new nn.ZeroPad1d(1).forward(x))).toEqual([0, 0, 1, 2, 3, 0]);
  });

  it('take 2-d amounts as (left, right, top, bottom)', () => {
    const square = tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2], dtype: 'float32' });
    expect(new nn.ZeroPad2d([1, 0, 0, 1]).forward(square).arraySync()).toEqual([
      [
        [
          [0, 1, 2],
          [0, 3, 4],
          [0, 0, 0],
        ],
      ],
    ]);
    // x[r][c] = 3r + c, mirrored rows and columns (1, 0, 1, 2, 1).
    const nine = arange(9, { dtype: 'float32' }).reshape([1, 3, 3]);
    expect(new nn.ReflectionPad2d(1).forward(nine).arraySync()).toEqual([
      [
        [4, 3, 4, 5, 4],
        [1, 0, 1, 2, 1],
        [4, 3, 4, 5, 4],
        [7, 6, 7, 8, 7],
        [4, 3, 4, 5, 4],
      ],
    ]);
  });

  it('equal nn.functional.pad with the same amounts, in 1, 2 and 3 dimensions, batched or not', () => {
    manualSeed(5);
    const x = randn([2, 3, 4, 5, 6]);
    const cases: [nn.Module<[Tensor], Tensor>, number[], FunctionalPadMode, number?][] = [
      [new nn.ZeroPad3d([1, 2, 0, 1, 2, 0]), [1, 2, 0, 1, 2, 0], 'constant'],
      [new nn.ConstantPad3d(1, -2), [1, 1, 1, 1, 1, 1], 'constant', -2],
      [new nn.ConstantPad2d([0, 1, 2, 3], 7), [0, 1, 2, 3], 'constant', 7],
      [new nn.ReflectionPad3d([1, 2, 3, 0, 1, 1]), [1, 2, 3, 0, 1, 1], 'reflect'],
      [new nn.ReplicationPad3d(2), [2, 2, 2, 2, 2, 2], 'replicate'],
      [new nn.CircularPad3d([1, 0, 2, 1, 3, 0]), [1, 0, 2, 1, 3, 0], 'circular'],
      [new nn.ReflectionPad2d([2, 1, 0, 3]), [2, 1, 0, 3], 'reflect'],
      [new nn.ReplicationPad2d([0, 4, 1, 0]), [0, 4, 1, 0], 'replicate'],
      [new nn.CircularPad2d(2), [2, 2, 2, 2], 'circular'],
    ];
    for (const [layer, amounts, mode, value] of cases) {
      const input = x.index(0);
      const expected = F.pad(input, amounts, mode === 'constant' ? { value: value ?? 0 } : { mode });
      expect(layer.forward(input).shape).toEqual(expected.shape);
      expect(values(layer.forward(input) as Tensor)).toEqual(values(expected));
    }
    const batched = new nn.ReflectionPad3d(1).forward(x);
    expect(batched.shape).toEqual([2, 3, 6, 7, 8]);
  });

  it('pass gradients back to the elements they copy', () => {
    const g = grad((t: Tensor) => new nn.ReflectionPad1d(2).forward(t).sum())(row([0, 0, 0, 0]));
    // Output [2, 1, 0, 1, 2, 3, 2, 1] reads 0 once, 1 three times, 2 three times, 3 once.
    expect(values(g)).toEqual([1, 3, 3, 1]);
    const c = grad((t: Tensor) => new nn.CircularPad1d([2, 1]).forward(t).sum())(row([0, 0, 0]));
    expect(values(c)).toEqual([2, 2, 2]);
  });

  it('print as PyTorch and have no parameters', () => {
    expect(new nn.ZeroPad2d(2).toString()).toBe('ZeroPad2d((2, 2, 2, 2))');
    expect(new nn.ConstantPad1d(2, 3.5).toString()).toBe('ConstantPad1d(padding=(2, 2), value=3.5)');
    expect(new nn.ReflectionPad1d([1, 2]).toString()).toBe('ReflectionPad1d((1, 2))');
    expect(new nn.CircularPad3d(1).padding).toEqual([1, 1, 1, 1, 1, 1]);
    expect(new nn.ReplicationPad2d(1).parameters()).toEqual([]);
  });

  it('refuse wrong amounts and, in the non-constant modes, inputs of the wrong rank', () => {
    expect(() => new nn.ReflectionPad2d([1, 2])).toThrow(ValueError);
    expect(() => new nn.ReflectionPad2d([1, 2])).toThrow(
      'ReflectionPad2d: padding must be an integer or 4 integers (left, right, top, bottom), got [1,2]',
    );
    expect(() => new nn.ZeroPad1d(1.5)).toThrow('ZeroPad1d: padding must be an integer or 2 integers (left, right), got 1.5');
    expect(() => new nn.ReflectionPad2d(1).forward(arange(4, { dtype: 'float32' }).reshape([2, 2]))).toThrow(ShapeError);
    expect(() => new nn.CircularPad1d(1).forward(arange(8, { dtype: 'float32' }).reshape([1, 2, 2, 2]))).toThrow(
      'CircularPad1d: expected a 2-d (unbatched) or 3-d (batched) input, got [1, 2, 2, 2]',
    );
    expect(() => new nn.ReflectionPad1d(4).forward(row([0, 1, 2, 3]))).toThrow('must be less than its size');
    // Constant padding takes any rank, as PyTorch's.
    expect(new nn.ZeroPad1d(1).forward(tensor([1, 2], { dtype: 'float32' })).shape).toEqual([4]);
  });
});

describe("Conv layers with paddingMode 'circular'", () => {
  it('wrap the input around before convolving (hand-computed)', () => {
    const conv = new nn.Conv1d(1, 1, 3, { padding: 1, paddingMode: 'circular', bias: false });
    conv.weight.value = tensor([1, 2, 3], { shape: [1, 1, 3], dtype: 'float32' });
    // Padded [4, 1, 2, 3, 4, 1]; out[i] = p[i] + 2 p[i + 1] + 3 p[i + 2].
    expect(values(conv.forward(row([1, 2, 3, 4])))).toEqual([12, 14, 20, 14]);
    expect(conv.toString()).toBe(
      "Conv1d(1, 1, kernelSize=(3,), stride=(1,), padding=1, bias=false, paddingMode='circular')  # 3 parameters",
    );
  });

  it("equal a convolution of nn.functional.pad's circular padding, 'same' and per-dimension amounts included", () => {
    manualSeed(9);
    const conv = new nn.Conv2d(2, 3, [3, 2], { padding: [1, 2], paddingMode: 'circular' });
    const x = randn([2, 2, 5, 4]);
    const expected = F.conv2d(F.pad(x, [2, 2, 1, 1], { mode: 'circular' }), conv.weight.value, { bias: conv.bias?.value ?? null });
    expect(values(conv.forward(x))).toEqual(values(expected));
    const same = new nn.Conv2d(2, 2, [3, 2], { padding: 'same', paddingMode: 'circular' });
    // 'same' with an even kernel pads (0, 1) along W, as PyTorch: the output keeps the input's size.
    expect(same.forward(x).shape).toEqual([2, 2, 5, 4]);
    const sameExpected = F.conv2d(F.pad(x, [0, 1, 1, 1], { mode: 'circular' }), same.weight.value, { bias: same.bias?.value ?? null });
    expect(values(same.forward(x))).toEqual(values(sameExpected));
    const conv3 = new nn.Conv3d(1, 1, 3, { padding: 1, paddingMode: 'circular' });
    expect(conv3.forward(randn([1, 1, 3, 4, 5])).shape).toEqual([1, 1, 3, 4, 5]);
  });
});
