import { CpuBackend } from '@flint/backend-cpu';
import { describe, expect, test } from 'vitest';
import { DTypeError } from '../core/errors.js';
import { jit } from '../jit/jit.js';
import { tensor } from '../ops/convert.js';
import { zeros } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { registerBackend } from './registry.js';
import type { BackendCapabilities } from './spi.js';
import '../index.js';

// A CPU backend that lists only float32 and int32, to check that the api refuses every other
// dtype by name before the backend sees it.
class NarrowBackend extends CpuBackend {
  override readonly capabilities: BackendCapabilities = { dtypes: ['float32', 'int32'], syncRead: true };
}
registerBackend({ name: 'narrow', priority: -1, create: () => Object.assign(new NarrowBackend(), { name: 'narrow' }) });

describe('dtypes a backend does not list', () => {
  const message = (op: string, dtype: string) => new RegExp(`^${op}: ${dtype} is not offered by the 'narrow' backend`);

  test('creating one is a DTypeError naming the op, the backend and the dtype', () => {
    expect(() => tensor([1, 2], { dtype: 'float16', backend: 'narrow' })).toThrow(DTypeError);
    expect(() => tensor([1, 2], { dtype: 'float16', backend: 'narrow' })).toThrow(message('tensor', 'float16'));
    expect(() => tensor(new Float32Array(2), { dtype: 'bfloat16', backend: 'narrow' })).toThrow(message('tensor', 'bfloat16'));
    expect(() => zeros([2], { dtype: 'float64', backend: 'narrow' })).toThrow(message('full', 'float64'));
  });

  test('converting to one is a DTypeError, eagerly and under jit', () => {
    const x = tensor([1.5, 2], { backend: 'narrow' });
    expect(() => x.astype('float16')).toThrow(message('cast', 'float16'));
    expect(() => x.half()).toThrow(DTypeError);
    expect(() => jit((t: Tensor) => t.bfloat16().float())(x)).toThrow(message('jit', 'bfloat16'));
    expect(x.astype('int32').dtype).toBe('int32');
  });

  test('moving a tensor of one there is a DTypeError', () => {
    const h = tensor([1, 2], { dtype: 'float16', backend: 'cpu' });
    expect(() => h.to('narrow')).toThrow(message('to', 'float16'));
    expect(h.float().to('narrow').dataSync()).toEqual(new Float32Array([1, 2]));
  });
});
