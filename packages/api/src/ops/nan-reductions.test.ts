import '@flint/backend-cpu';
import { AxisError, grad, isfinite, isnan, jit, maskedFill, nanmean, nansum, type Tensor, tensor, vmap, zeros } from '@flint/api';
import { describe, expect, test } from 'vitest';

const NaN_ = Number.NaN;
const m = () =>
  tensor([
    [1, NaN_, 3],
    [NaN_, NaN_, NaN_],
  ]);

describe('nansum', () => {
  test('sums treating NaN as zero (torch.nansum)', () => {
    expect(nansum(m()).item()).toBe(4);
    expect(nansum(m(), 1).arraySync()).toEqual([4, 0]);
    expect(nansum(m(), 0, true).arraySync()).toEqual([[1, 0, 3]]);
    expect(nansum(tensor([Number.POSITIVE_INFINITY, NaN_])).item()).toBe(Number.POSITIVE_INFINITY);
    expect(nansum(zeros([0])).item()).toBe(0);
    expect(m().nansum(-1).arraySync()).toEqual([4, 0]);
  });

  test('keeps sum dtypes', () => {
    expect(nansum(m()).dtype).toBe('float32');
    expect(nansum(tensor([1, 2], { dtype: 'int32' })).dtype).toBe('int32');
    expect(nansum(tensor([true, true])).item()).toBe(2);
    expect(nansum(tensor([1, NaN_], { dtype: 'float16' })).dtype).toBe('float16');
  });

  test('has gradient 1 at numbers and exactly 0 (not NaN) at NaN', () => {
    const g = grad((x: Tensor) => nansum(x))(tensor([1, NaN_, 3, NaN_], { dtype: 'float64' }));
    expect(g.arraySync()).toEqual([1, 0, 1, 0]);
  });

  test('checks axes, naming the op', () => {
    expect(() => nansum(m(), 2)).toThrow(AxisError);
    expect(() => nansum(m(), 2)).toThrow(/^nansum: axis 2 is out of range/);
    expect(() => nanmean(m(), [0, -3])).toThrow(/^nanmean: axis -3 is out of range/);
    expect(nansum(tensor(NaN_), 0).item()).toBe(0);
  });
});

describe('nanmean', () => {
  test('averages the non-NaN elements (torch.nanmean); all-NaN and empty give NaN', () => {
    expect(nanmean(m()).item()).toBe(2);
    expect(nanmean(m(), 1).arraySync()).toEqual([2, NaN_]);
    expect(nanmean(m(), 0, true).arraySync()).toEqual([[1, NaN_, 3]]);
    expect(nanmean(zeros([0])).item()).toBeNaN();
    expect(m().nanmean(1).arraySync()).toEqual([2, NaN_]);
  });

  test('computes integers in float32 and keeps halves', () => {
    const ints = nanmean(tensor([1, 2], { dtype: 'int32' }));
    expect(ints.dtype).toBe('float32');
    expect(ints.item()).toBe(1.5);
    const halves = nanmean(tensor([60000, 60000, NaN_], { dtype: 'float16' }));
    expect(halves.dtype).toBe('float16');
    expect(halves.item()).toBe(60000);
  });

  test('has gradient 1/count at numbers and exactly 0 at NaN', () => {
    const g = grad((x: Tensor) => nanmean(x))(tensor([1, NaN_, 3, NaN_], { dtype: 'float64' }));
    expect(g.arraySync()).toEqual([0.5, 0, 0.5, 0]);
  });
});

describe('under jit and vmap', () => {
  test('nansum, nanmean, isnan, isfinite and maskedFill give the eager values', () => {
    const f = jit((t: Tensor) => [nansum(t, 1), nanmean(t, 0), isnan(t), isfinite(t.astype('int32')), maskedFill(t, isnan(t), -1)]);
    const x = m();
    const traced = f(x) as Tensor[];
    const eager = [nansum(x, 1), nanmean(x, 0), isnan(x), isfinite(x.astype('int32')), maskedFill(x, isnan(x), -1)];
    for (const [i, want] of eager.entries()) expect((traced[i] as Tensor).arraySync(), `output ${i}`).toEqual(want.arraySync());
    expect(vmap((t: Tensor) => nanmean(t))(x).arraySync()).toEqual([2, NaN_]);
  });
});
