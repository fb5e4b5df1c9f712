import { describe, expect, it } from 'vitest';
import { compareOutputs } from './compare.js';

const reference = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);

describe('compareOutputs', () => {
  it('accepts float32 rounding of a float64 reference', () => {
    const values = Float64Array.from(Float32Array.from(reference));
    const verdict = compareOutputs(values, reference, 1e-6, 'ref');
    expect(verdict.status).toBe('correct');
    expect(verdict.error).toBeGreaterThan(0);
    expect(verdict.error).toBeLessThan(1e-7);
  });

  it('fails on a single element off by more than the tolerance, and says where', () => {
    const values = Float64Array.from(reference);
    values[999] = (values[999] as number) + 0.01;
    const verdict = compareOutputs(values, reference, 1e-4, 'ref');
    expect(verdict.status).toBe('wrong');
    expect(verdict.mismatches).toBe(1);
    expect(verdict.detail).toContain('[999]');
  });

  it('fails on NaN and on a length mismatch', () => {
    const withNaN = Float64Array.from(reference);
    withNaN[3] = Number.NaN;
    expect(compareOutputs(withNaN, reference, 1e-2, 'ref').status).toBe('wrong');
    expect(compareOutputs(reference.subarray(1), reference, 1e-2, 'ref').detail).toContain('999 output values');
  });
});
