import '@flint/backend-cpu';
import { tensor } from '@flint/api';
import { expect, test } from 'vitest';
test('smoke', () => {
  const x = tensor([1, 2, 3]);
  expect(Array.from(x.mul(2).add(1).dataSync() as Float32Array)).toEqual([3, 5, 7]);
});
