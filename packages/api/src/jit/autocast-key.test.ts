import '@flint/backend-cpu';
import { amp, compile, getBackend, jit, jvp, matmul, nn, noGrad, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';

// Autocast rewrites ops' inputs when they are bound, so it decides what a trace records: jit's
// cache (and the calls derived from a staged program, and compile()'s) is keyed on it.

const halfMissing = ['float16', 'bfloat16'].filter((d) => !getBackend().capabilities.dtypes.includes(d as 'float16'));

describe.skipIf(halfMissing.length > 0)(
  `jit programs keyed on the autocast state${halfMissing.length > 0 ? ` (skipped: the default backend lacks ${halfMissing.join(', ')})` : ''}`,
  () => {
    const a = tensor([[1.0001, 2]], { dtype: 'float32' });
    const b = tensor([[1], [1]], { dtype: 'float32' });

    it('a program traced inside autocast is not reused outside it or under another dtype', () => {
      const f = jit((x: Tensor, y: Tensor) => matmul(x, y));
      expect(amp.autocast({ dtype: 'float16' }, () => f(a, b)).dtype).toBe('float16');
      const outside = f(a, b);
      expect(outside.dtype).toBe('float32');
      expect(outside.dataSync()[0]).toBeCloseTo(3.0001, 6);
      expect(amp.autocast({ dtype: 'bfloat16' }, () => f(a, b)).dtype).toBe('bfloat16');
      expect(f.cacheSize).toBe(3);
      // Each state finds its own program again.
      expect(amp.autocast({ dtype: 'float16' }, () => f(a, b)).dtype).toBe('float16');
      expect(f.cacheSize).toBe(3);
    });

    it('a program traced outside autocast is traced anew inside it, also as a staged call under jvp', () => {
      const f = jit((x: Tensor, y: Tensor) => matmul(x, y));
      const tangent = tensor([[1, 0]], { dtype: 'float32' });
      expect(jvp((x: Tensor) => f(x, b), [a], [tangent])[0].dtype).toBe('float32');
      const [out, tan] = amp.autocast({ dtype: 'bfloat16' }, () => jvp((x: Tensor) => f(x, b), [a], [tangent]));
      expect(out.dtype).toBe('bfloat16');
      expect(tan.dtype).toBe('bfloat16');
    });

    it('compile(model) keys its programs on autocast too', () => {
      const model = new nn.Linear(2, 1);
      const fast = compile(model);
      noGrad(() => {
        expect((fast(a) as Tensor).dtype).toBe('float32');
        expect(amp.autocast({ dtype: 'float16' }, () => fast(a) as Tensor).dtype).toBe('float16');
        expect((fast(a) as Tensor).dtype).toBe('float32');
      });
    });
  },
);
