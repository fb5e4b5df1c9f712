/** The float64 reference convolution at stride 1 and 2: output shapes, subsampling, and its gradients as adjoints. */
import { describe, expect, it } from 'vitest';
import { conv2dInputs } from '../common/models.js';
import { suiteCases } from '../common/suites.js';
import { conv, convGradients, convOutputSize } from './conv-reference.js';

const dot = (a: Float64Array, b: Float64Array) => a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);

describe('reference convolution', () => {
  const backward = suiteCases('conv2d', true).filter((c) => c.kind === 'conv2d-backward');

  it('covers both quick backward cases, at stride 1 and 2', () => {
    expect(backward.map((c) => [c.id, c.params.stride ?? 1])).toEqual([
      ['conv2d-backward', 1],
      ['conv2d-backward-stride2', 2],
    ]);
  });

  for (const spec of backward) {
    it(`${spec.id}: strided shapes, and gradients that are the adjoints of the forward`, () => {
      const { n, c, o, s, stride, so, ...inputs } = conv2dInputs(spec);
      const shape = { n, c, o, s, stride };
      expect(convOutputSize(shape)).toBe(so);
      const x = Float64Array.from(inputs.x);
      const w = Float64Array.from(inputs.w);
      const r = Float64Array.from(inputs.cotangent());
      const y = conv(x, w, shape);
      expect(y.length).toBe(n * o * so * so);
      const grads = convGradients(x, w, r, shape);
      expect(grads.length).toBe(n * c * s * s + o * c * 9);
      // sum(conv(x, w) * r) is linear in x and in w: it equals <x, dx> and <w, dw>.
      const loss = dot(y, r);
      expect(Math.abs(loss)).toBeGreaterThan(0);
      expect(dot(x, grads.subarray(0, x.length))).toBeCloseTo(loss, 9);
      expect(dot(w, grads.subarray(x.length))).toBeCloseTo(loss, 9);
    });
  }

  it('at stride 2 keeps every second row and column of the stride-1 output', () => {
    const { n, c, o, s, ...inputs } = conv2dInputs(backward[1] as (typeof backward)[number]);
    const x = Float64Array.from(inputs.x);
    const w = Float64Array.from(inputs.w);
    const full = conv(x, w, { n, c, o, s });
    const strided = conv(x, w, { n, c, o, s, stride: 2 });
    const so = convOutputSize({ n, c, o, s, stride: 2 });
    for (let plane = 0; plane < n * o; plane++)
      for (let h = 0; h < so; h++)
        for (let ww = 0; ww < so; ww++) expect(strided[(plane * so + h) * so + ww]).toBe(full[(plane * s + 2 * h) * s + 2 * ww]);
  });
});
