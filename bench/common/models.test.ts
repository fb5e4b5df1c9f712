/** The shared model inputs must match their shapes and keep the canonical parameter order. */
import { describe, expect, it } from 'vitest';
import { cnnModel, conv2dInputs, type Initial, materialize, mlpModel, transformerModel } from './models.js';
import { initScale, symmetricArray } from './prng.js';
import { suiteCases } from './suites.js';

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function expectConsistent(params: Record<string, Initial>): void {
  for (const initial of Object.values(params)) {
    if ('data' in initial) expect(initial.data.length).toBe(size(initial.shape));
    else expect([0, 1]).toContain(initial.fill);
  }
}

describe('shared models', () => {
  const spec = (kind: string) => {
    for (const quick of [true, false]) {
      for (const suite of ['mlp', 'cnn', 'transformer', 'conv2d'] as const) {
        const found = suiteCases(suite, quick).find((c) => c.kind === kind);
        if (found) return found;
      }
    }
    throw new Error(`no case ${kind}`);
  };

  it('give every parameter data of its shape, in the canonical order', () => {
    const mlp = mlpModel(spec('mlp-step'));
    expect(Object.keys(mlp.params)).toEqual(['w1', 'b1', 'w2', 'b2', 'w3', 'b3']);
    expect(mlp.x.data.length).toBe(size(mlp.x.shape));
    expect(mlp.y.data.length).toBe(size(mlp.y.shape));
    expectConsistent(mlp.params);
    const cnn = cnnModel(spec('cnn-step'));
    expect(Object.keys(cnn.params)).toEqual(['k1', 'kb1', 'k2', 'kb2', 'w3', 'b3', 'w4', 'b4']);
    expect(cnn.x.shape).toEqual([cnn.batch, 1, cnn.image, cnn.image]);
    expectConsistent(cnn.params);
    const transformer = transformerModel(spec('transformer-step'));
    expect(Object.keys(transformer.params).slice(0, 6)).toEqual(['wq', 'wk', 'wv', 'wo', 'w1', 'w2']);
    expect(transformer.params.g1).toEqual({ shape: [transformer.d], fill: 1 });
    expectConsistent(transformer.params);
  });

  it('scale weights by their fan-in from the seeds of bench/README.md', () => {
    const s = spec('mlp-step');
    const mlp = mlpModel(s);
    const [inputs, hidden] = mlp.params.w1.shape as [number, number];
    expect(mlp.params.w1.data).toEqual(symmetricArray((s.params.seed ?? 0) + 11, inputs * hidden, initScale(inputs)));
    const conv = conv2dInputs(spec('conv2d-backward'));
    expect(conv.w.length).toBe(conv.o * conv.c * 9);
    expect(conv.cotangent().length).toBe(conv.n * conv.o * conv.s * conv.s);
  });

  it('give the strided convolution a cotangent of the strided output shape', () => {
    for (const quick of [true, false]) {
      const cases = suiteCases('conv2d', quick);
      expect(cases.map((c) => c.id)).toEqual(['conv2d-forward', 'conv2d-backward', 'conv2d-backward-stride2']);
      const plain = conv2dInputs(cases[1] as (typeof cases)[number]);
      expect([plain.stride, plain.so]).toEqual([1, plain.s]);
      const strided = cases[2] as (typeof cases)[number];
      expect(strided.kind).toBe('conv2d-backward');
      const conv = conv2dInputs(strided);
      expect(conv.stride).toBe(2);
      expect(conv.so).toBe(Math.floor((conv.s - 1) / 2) + 1);
      expect(conv.so).toBe(quick ? 6 : 16);
      expect(conv.cotangent().length).toBe(conv.n * conv.o * conv.so * conv.so);
      expect(strided.flops).toBe(3 * 2 * conv.n * conv.o * conv.c * 9 * conv.so * conv.so);
    }
  });

  it('materialize keeps the keys and their order', () => {
    const made = materialize({ b: { shape: [2], fill: 0 }, a: { shape: [1], fill: 1 } } as Record<string, Initial>, (i) => i.shape[0]);
    expect(Object.entries(made)).toEqual([
      ['b', 2],
      ['a', 1],
    ]);
  });
});
