import '@flint/backend-cpu';
import { nn, type Tensor, tensor } from '@flint/api';
import { describe, expect, test } from 'vitest';

// lpPool's own checks; its values and gradients against PyTorch are in ops/pooling-torch.test.ts.

const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

describe('lpPool', () => {
  test('p = 2 is the windows’ Euclidean norm; errors name lpPool', () => {
    const F = nn.functional;
    expect(values(F.lpPool1d(tensor([[[3, 4, 6, 8]]]), 2, 2))).toEqual([5, 10]);
    expect(() => F.lpPool2d(tensor([[[[1]]]]), 2, 2)).toThrow(/lpPool2d: input \[1, 1, 1, 1\] is smaller than the kernel/);
    expect(() => F.lpPool1d(tensor([[[1, 2]]]), 0, 2)).toThrow(/normType must not be 0/);
    expect(() => F.lpPool1d(tensor([[[1, 2]]]), Number.POSITIVE_INFINITY, 2)).toThrow(/normType must be a finite number/);
    expect(() => F.lpPool1d(tensor([[[1, 2]]]), 2, 2, { stride: 0 })).toThrow(/lpPool1d: stride must be positive/);
    expect(new nn.LPPool2d(2, 3, { ceilMode: true }).toString()).toContain('normType=2, kernelSize=3, stride=3, ceilMode=true');
  });
});
