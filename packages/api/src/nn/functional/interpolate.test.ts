import '@flint/backend-cpu';
import { arange, grad, jit, ShapeError, type Tensor, tensor, ValueError, vmap } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

// Expected values are worked out by hand from PyTorch's index math (UpSample.h):
// nearest reads floor(dst * in / out) (or floor(dst / scaleFactor)); nearest-exact reads
// floor((dst + 0.5) * scale); the linear modes read src = (dst + 0.5) * scale - 0.5 clamped at 0
// (alignCorners false) or src = dst * (in - 1) / (out - 1) (alignCorners true) and weight the
// neighbours floor(src) and floor(src) + 1 (clamped to the last) by 1 - frac and frac.

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync() as Float64Array);
const closeTo = (actual: number[], expected: number[]) => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a).toBeCloseTo(expected[i] as number, 12);
  });
};
const line = (xs: number[]) => tensor(xs, { shape: [1, 1, xs.length], ...f64 });

describe('nn.functional.interpolate (torch.nn.functional.interpolate)', () => {
  const square = tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2], ...f64 });

  it('bilinear 2x2 -> 4x4 with alignCorners false: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the edge)', () => {
    const y = F.interpolate(square, { size: 4, mode: 'bilinear', alignCorners: false });
    expect(y.shape).toEqual([1, 1, 4, 4]);
    closeTo(values(y), [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
    // alignCorners defaults to false, and scaleFactor 2 samples the same sources.
    closeTo(values(F.interpolate(square, { scaleFactor: 2, mode: 'bilinear' })), values(y));
  });

  it('bilinear 2x2 -> 4x4 with alignCorners true: sources 0, 1/3, 2/3, 1', () => {
    const y = F.interpolate(square, { size: [4, 4], mode: 'bilinear', alignCorners: true });
    const t = 1 / 3;
    closeTo(values(y), [1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t, 3, 3 + t, 3 + 2 * t, 4]);
  });

  it('nearest: floor(dst * in / out), halving when the size doubles, copying when it is unchanged', () => {
    expect(values(F.interpolate(line([10, 20, 30]), { size: 5 }))).toEqual([10, 10, 20, 20, 30]);
    expect(values(F.interpolate(square, { scaleFactor: 2 }))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(values(F.interpolate(line([10, 20, 30, 40]), { size: 2 }))).toEqual([10, 30]);
    // scaleFactor 2.05 on 10 gives 20 = 2 * 10, so PyTorch halves (floor(2 / 2.05) would read 0 at dst 2).
    const ten = line([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(values(F.interpolate(ten, { scaleFactor: 2.05 }))).toEqual(Array.from({ length: 20 }, (_, i) => i >> 1));
    // scaleFactor 1.2 on 2 gives 2: a copy.
    expect(values(F.interpolate(line([5, 6]), { scaleFactor: 1.2 }))).toEqual([5, 6]);
    // Without those shortcuts the scale is 1 / scaleFactor: 3 * 0.75 -> out 2, floor(dst / 0.75) = 0, 1.
    expect(values(F.interpolate(line([5, 6, 7]), { scaleFactor: 0.75 }))).toEqual([5, 6]);
  });

  it('nearest-exact: floor((dst + 0.5) * in / out)', () => {
    // 3 -> 5: (dst + 0.5) * 0.6 = 0.3, 0.9, 1.5, 2.1, 2.7.
    expect(values(F.interpolate(line([10, 20, 30]), { size: 5, mode: 'nearest-exact' }))).toEqual([10, 10, 20, 30, 30]);
    // 4 -> 2: 1, 3 (nearest reads 0, 2).
    expect(values(F.interpolate(line([10, 20, 30, 40]), { size: 2, mode: 'nearest-exact' }))).toEqual([20, 40]);
  });

  it('linear samples with 1 / scaleFactor unless recomputeScaleFactor, as PyTorch', () => {
    const ramp = line([0, 1, 2, 3, 4]);
    // 5 * 1.5 -> 7 outputs; scale 1/1.5: src = (dst + 0.5) / 1.5 - 0.5, a ramp reproduces src.
    const y = F.interpolate(ramp, { scaleFactor: 1.5, mode: 'linear' });
    closeTo(values(y), [0, 0.5, 7 / 6, 11 / 6, 2.5, 19 / 6, 23 / 6]);
    // Recomputed: scale 5 / 7; the last source 4.14 reads the edge.
    const recomputed = F.interpolate(ramp, { scaleFactor: 1.5, mode: 'linear', recomputeScaleFactor: true });
    closeTo(
      values(recomputed),
      [0, 1, 2, 3, 4, 5, 6].map((d) => Math.min(Math.max((5 / 7) * (d + 0.5) - 0.5, 0), 4)),
    );
    // Downsampling with alignCorners true: 5 -> 3 reads 0, 2, 4.
    closeTo(values(F.interpolate(ramp, { size: 3, mode: 'linear', alignCorners: true })), [0, 2, 4]);
    // One output with alignCorners true reads the first element.
    closeTo(values(F.interpolate(ramp, { size: 1, mode: 'linear', alignCorners: true })), [0]);
  });

  it('trilinear reproduces a linear function of the coordinates', () => {
    const x = tensor([0, 1, 2, 3, 4, 5, 6, 7], { shape: [1, 1, 2, 2, 2], ...f64 }); // 4d + 2h + w
    const y = F.interpolate(x, { size: 3, mode: 'trilinear', alignCorners: true });
    expect(y.shape).toEqual([1, 1, 3, 3, 3]);
    const expected: number[] = [];
    for (let d = 0; d < 3; d++) for (let h = 0; h < 3; h++) for (let w = 0; w < 3; w++) expected.push(2 * d + h + w / 2);
    closeTo(values(y), expected);
    expect(F.interpolate(x, { size: [2, 3, 4] }).shape).toEqual([1, 1, 2, 3, 4]);
  });

  it('keeps batch and channels, and resamples every one alike', () => {
    const x = arange(2 * 3 * 2 * 2, f64).reshape([2, 3, 2, 2]);
    const y = F.interpolate(x, { size: [3, 5], mode: 'bilinear' });
    expect(y.shape).toEqual([2, 3, 3, 5]);
    const single = F.interpolate(x.index(1, 2).reshape([1, 1, 2, 2]), { size: [3, 5], mode: 'bilinear' });
    closeTo(values(y.index(1, 2)), values(single));
  });

  it('is differentiable: each input receives the sum of the weights that read it', () => {
    const nearest = grad((x: Tensor) => F.interpolate(x, { size: 5 }).sum())(line([1, 2, 3]));
    expect(values(nearest)).toEqual([2, 2, 1]);
    // 2 -> 4 bilinear, alignCorners false: column weights (1, 0.75, 0.25, 0) and (0, 0.25, 0.75, 1).
    const weights = tensor([1, 2, 3, 4], { shape: [1, 1, 1, 4], ...f64 });
    const g = grad((x: Tensor) =>
      F.interpolate(x, { size: [1, 4], mode: 'bilinear' })
        .mul(weights)
        .sum(),
    )(tensor([0, 0], { shape: [1, 1, 1, 2], ...f64 }));
    closeTo(values(g), [1 + 1.5 + 0.75, 0.5 + 2.25 + 4]);
  });

  it('runs under jit and vmap', () => {
    const f = (x: Tensor) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true });
    closeTo(values(jit(f)(square)), values(f(square)));
    const batch = arange(2 * 4, f64).reshape([2, 1, 1, 2, 2]);
    const mapped = vmap(f)(batch);
    expect(mapped.shape).toEqual([2, 1, 1, 4, 4]);
    closeTo(values(mapped.index(1)), values(f(batch.index(1))));
  });

  it('refuses what PyTorch refuses, naming the op, the shape and the option', () => {
    expect(() => F.interpolate(tensor([1, 2]), { size: 4 })).toThrow(ShapeError);
    expect(() => F.interpolate(tensor([1, 2]), { size: 4 })).toThrow(
      'interpolate: input must be [N, C, L], [N, C, H, W] or [N, C, D, H, W], got [2]',
    );
    expect(() => F.interpolate(square, { size: 4, mode: 'linear' })).toThrow(
      "interpolate: mode 'linear' needs a 3-d input, got [1, 1, 2, 2]",
    );
    expect(() => F.interpolate(square, { size: 4, mode: 'trilinear' })).toThrow("mode 'trilinear' needs a 5-d input");
    expect(() => F.interpolate(square, { size: 4, mode: 'cubic' as never })).toThrow(ValueError);
    expect(() => F.interpolate(square, { size: 4, alignCorners: true })).toThrow(
      "interpolate: alignCorners can only be set with the interpolating modes ('linear', 'bilinear', 'bicubic', 'trilinear'), not 'nearest'",
    );
    expect(() => F.interpolate(square, { size: 4, mode: 'area', alignCorners: false })).toThrow("not 'area'");
    expect(() => F.interpolate(line([1, 2]), { size: 4, mode: 'bicubic' })).toThrow(
      "interpolate: mode 'bicubic' needs a 4-d input, got [1, 1, 2]",
    );
    expect(() => F.interpolate(square, { size: 1, mode: 'nearest', antialias: true })).toThrow(
      "interpolate: antialias can only be used with the modes 'bilinear' and 'bicubic' (4-d inputs), not 'nearest'",
    );
    expect(() => F.interpolate(square, { size: 1, mode: 'bilinear', antialias: 1 as never })).toThrow('antialias must be a boolean, got 1');
    expect(() => F.interpolate(square, {})).toThrow('interpolate: give exactly one of size and scaleFactor');
    expect(() => F.interpolate(square, { size: 4, scaleFactor: 2 })).toThrow('give exactly one of size and scaleFactor');
    expect(() => F.interpolate(square, { size: [4, 4, 4] })).toThrow(
      'interpolate: size must be one number or 2 (one per spatial dimension), got [4,4,4]',
    );
    expect(() => F.interpolate(square, { size: 0 })).toThrow('interpolate: size must hold positive integers, got 0');
    expect(() => F.interpolate(square, { scaleFactor: -1 })).toThrow('scaleFactor must hold positive finite numbers');
    expect(() => F.interpolate(square, { scaleFactor: 0.1 })).toThrow('gives an empty output for the spatial sizes [2, 2]');
  });
});

describe('nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d', () => {
  const x = arange(2 * 3 * 3, f64).reshape([1, 2, 3, 3]);

  it('equal interpolate with their options', () => {
    const up = new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' });
    closeTo(values(up.forward(x)), values(F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' })));
    closeTo(values(new nn.UpsamplingNearest2d({ size: [5, 4] }).forward(x)), values(F.interpolate(x, { size: [5, 4] })));
    const bilinear = new nn.UpsamplingBilinear2d({ scaleFactor: 2 }).forward(x);
    closeTo(values(bilinear), values(F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true })));
    expect(values(bilinear)).not.toEqual(values(up.forward(x)));
  });

  it('print as PyTorch, with no parameters', () => {
    expect(new nn.Upsample({ scaleFactor: 2 }).toString()).toBe("Upsample(scaleFactor=2, mode='nearest')");
    expect(new nn.Upsample({ size: [4, 4], mode: 'bilinear', alignCorners: false }).toString()).toBe(
      "Upsample(size=(4, 4), mode='bilinear', alignCorners=false)",
    );
    expect(new nn.UpsamplingBilinear2d({ scaleFactor: 2 }).toString()).toBe(
      "UpsamplingBilinear2d(scaleFactor=2, mode='bilinear', alignCorners=true)",
    );
    expect(new nn.UpsamplingNearest2d({ size: 8 }).parameters()).toEqual([]);
  });

  it('refuse a missing or doubled size', () => {
    expect(() => new nn.Upsample({})).toThrow('Upsample: give exactly one of size and scaleFactor');
    expect(() => new nn.UpsamplingBilinear2d({ size: 2, scaleFactor: 2 })).toThrow('UpsamplingBilinear2d: give exactly one');
  });
});
