import '@flint/backend-cpu';
import { manualSeed, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom, sigmoidReference } from '../testing.test-support.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** Row-major [rows, columns] matrix times vector. */
function matVec(w: readonly number[], v: readonly number[], rows: number, columns: number): number[] {
  return Array.from({ length: rows }, (_, r) => v.reduce((s, x, c) => s + (w[r * columns + c] as number) * x, 0));
}

interface DirectionWeights {
  ih: number[];
  hh: number[];
  bih: number[];
  bhh: number[];
}

/**
 * A nested-loop LSTM/GRU from PyTorch's documented equations: sequence [T][N][input], state
 * [layers * directions][N][H]. Returns the output [T][N][directions * H] and the final states.
 */
function recurrentReference(
  kind: 'lstm' | 'gru',
  sequence: number[][][],
  weights: DirectionWeights[][],
  hiddenSize: number,
  initial: number[][][][],
): { output: number[][][]; states: number[][][][] } {
  const layers = weights.length;
  const directions = (weights[0] as DirectionWeights[]).length;
  const steps = sequence.length;
  const batch = (sequence[0] as number[][]).length;
  const H = hiddenSize;
  let input = sequence;
  const finals: number[][][][] = initial.map(() => []);
  for (let layer = 0; layer < layers; layer++) {
    const outputs: number[][][] = Array.from({ length: steps }, () => Array.from({ length: batch }, () => []));
    for (let d = 0; d < directions; d++) {
      const w = (weights[layer] as DirectionWeights[])[d] as DirectionWeights;
      const index = layer * directions + d;
      const inputSize = ((input[0] as number[][])[0] as number[]).length;
      const stateList = initial.map((s) => (s[index] as number[][]).map((row) => [...row]));
      for (let k = 0; k < steps; k++) {
        const t = d === 0 ? k : steps - 1 - k;
        for (let n = 0; n < batch; n++) {
          const x = (input[t] as number[][])[n] as number[];
          const h = (stateList[0] as number[][])[n] as number[];
          const gx = matVec(w.ih, x, (kind === 'lstm' ? 4 : 3) * H, inputSize).map((v, i) => v + (w.bih[i] as number));
          const gh = matVec(w.hh, h, (kind === 'lstm' ? 4 : 3) * H, H).map((v, i) => v + (w.bhh[i] as number));
          if (kind === 'lstm') {
            const c = (stateList[1] as number[][])[n] as number[];
            const g = gx.map((v, i) => v + (gh[i] as number));
            const nextC = c.map(
              (cv, j) => sigmoidReference(g[H + j] as number) * cv + sigmoidReference(g[j] as number) * Math.tanh(g[2 * H + j] as number),
            );
            const nextH = nextC.map((cv, j) => sigmoidReference(g[3 * H + j] as number) * Math.tanh(cv));
            (stateList[0] as number[][])[n] = nextH;
            (stateList[1] as number[][])[n] = nextC;
          } else {
            const r = h.map((_, j) => sigmoidReference((gx[j] as number) + (gh[j] as number)));
            const z = h.map((_, j) => sigmoidReference((gx[H + j] as number) + (gh[H + j] as number)));
            const candidate = h.map((_, j) => Math.tanh((gx[2 * H + j] as number) + (r[j] as number) * (gh[2 * H + j] as number)));
            (stateList[0] as number[][])[n] = h.map((hv, j) => (1 - (z[j] as number)) * (candidate[j] as number) + (z[j] as number) * hv);
          }
          ((outputs[t] as number[][])[n] as number[]).push(...((stateList[0] as number[][])[n] as number[]));
        }
      }
      for (const [i, s] of stateList.entries()) (finals[i] as number[][][]).push(s);
    }
    input = outputs;
  }
  return { output: input, states: finals };
}

function weightsOf(layer: nn.LSTM | nn.GRU): DirectionWeights[][] {
  const out: DirectionWeights[][] = [];
  for (let l = 0; l < layer.numLayers; l++) {
    const perDirection: DirectionWeights[] = [];
    for (let d = 0; d < (layer.bidirectional ? 2 : 1); d++) {
      const suffix = `L${l}${d === 1 ? 'Reverse' : ''}`;
      const read = (name: string): number[] => values(layer.getParameter(`${name}${suffix}`).value);
      perDirection.push({ ih: read('weightIh'), hh: read('weightHh'), bih: read('biasIh'), bhh: read('biasHh') });
    }
    out.push(perDirection);
  }
  return out;
}

const flatten3 = (a: number[][][]): number[] => a.flat(2);

describe('LSTM and GRU', () => {
  const rng = seededRandom(40);
  const [steps, batch, inputSize, hidden] = [4, 2, 3, 5];
  const sequence = Array.from({ length: steps }, () => Array.from({ length: batch }, () => randomValues(rng, inputSize, -2, 2)));
  const zeroState = (layers: number): number[][][] =>
    Array.from({ length: layers }, () => Array.from({ length: batch }, () => new Array<number>(hidden).fill(0)));

  it('have PyTorch-named parameters of the right shapes, uniform in ±1/√hiddenSize', () => {
    manualSeed(0);
    const lstm = new nn.LSTM(inputSize, hidden, { numLayers: 2, bidirectional: true });
    const names = lstm.namedParameters().map(([n, p]) => `${n} ${JSON.stringify(p.value.shape)}`);
    expect(names.slice(0, 8)).toEqual([
      'weightIhL0 [20,3]',
      'weightHhL0 [20,5]',
      'biasIhL0 [20]',
      'biasHhL0 [20]',
      'weightIhL0Reverse [20,3]',
      'weightHhL0Reverse [20,5]',
      'biasIhL0Reverse [20]',
      'biasHhL0Reverse [20]',
    ]);
    expect(lstm.getParameter('weightIhL1').value.shape).toEqual([20, 10]);
    const all = lstm.parameters().flatMap((p) => values(p.value));
    const bound = 1 / Math.sqrt(hidden);
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(new nn.GRU(inputSize, hidden).getParameter('weightHhL0').value.shape).toEqual([15, 5]);
  });

  for (const kind of ['lstm', 'gru'] as const) {
    it(`${kind.toUpperCase()} with 2 layers, both directions, matches the step-by-step reference`, () => {
      manualSeed(kind === 'lstm' ? 1 : 2);
      const layer =
        kind === 'lstm'
          ? new nn.LSTM(inputSize, hidden, { numLayers: 2, bidirectional: true })
          : new nn.GRU(inputSize, hidden, { numLayers: 2, bidirectional: true });
      const h0 = Array.from({ length: 4 }, () => Array.from({ length: batch }, () => randomValues(rng, hidden)));
      const c0 = Array.from({ length: 4 }, () => Array.from({ length: batch }, () => randomValues(rng, hidden)));
      const x = tensor(sequence, { dtype: 'float32' });
      const reference = recurrentReference(kind, sequence, weightsOf(layer), hidden, kind === 'lstm' ? [h0, c0] : [h0]);
      if (layer instanceof nn.LSTM) {
        const [out, [h, c]] = layer.forward(x, [tensor(h0), tensor(c0)]);
        expect(out.shape).toEqual([steps, batch, 2 * hidden]);
        expect(maxDifference(values(out), flatten3(reference.output))).toBeLessThan(1e-5);
        expect(maxDifference(values(h), flatten3(reference.states[0] as number[][][]))).toBeLessThan(1e-5);
        expect(maxDifference(values(c), flatten3(reference.states[1] as number[][][]))).toBeLessThan(1e-5);
      } else {
        const [out, h] = layer.forward(x, tensor(h0));
        expect(maxDifference(values(out), flatten3(reference.output))).toBeLessThan(1e-5);
        expect(h.shape).toEqual([4, batch, hidden]);
        expect(maxDifference(values(h), flatten3(reference.states[0] as number[][][]))).toBeLessThan(1e-5);
      }
    });
  }

  it('batchFirst transposes inputs and outputs, and the state defaults to zeros', () => {
    manualSeed(3);
    const lstm = new nn.LSTM(inputSize, hidden, { batchFirst: true });
    const reference = recurrentReference('lstm', sequence, weightsOf(lstm), hidden, [zeroState(1), zeroState(1)]);
    const batchFirstInput = Array.from({ length: batch }, (_, n) => sequence.map((step) => step[n] as number[]));
    const [out, [h]] = lstm.forward(tensor(batchFirstInput));
    expect(out.shape).toEqual([batch, steps, hidden]);
    const expected = Array.from({ length: batch }, (_, n) => reference.output.map((step) => step[n] as number[]));
    expect(maxDifference(values(out), flatten3(expected))).toBeLessThan(1e-5);
    expect(h.shape).toEqual([1, batch, hidden]);
  });

  it('accepts unbatched sequences [T, features]', () => {
    manualSeed(4);
    const gru = new nn.GRU(inputSize, hidden);
    const single = sequence.map((step) => [step[0] as number[]]);
    const reference = recurrentReference('gru', single, weightsOf(gru), hidden, [[[new Array<number>(hidden).fill(0)]]]);
    const [out, h] = gru.forward(tensor(single.map((s) => s[0] as number[])));
    expect(out.shape).toEqual([steps, hidden]);
    expect(h.shape).toEqual([1, hidden]);
    expect(maxDifference(values(out), flatten3(reference.output))).toBeLessThan(1e-5);
  });

  it('rejects inputs and states of the wrong shape', () => {
    const lstm = new nn.LSTM(3, 4);
    expect(() => lstm.forward(tensor([[[1, 2]]]))).toThrow(/must end in inputSize = 3/);
    expect(() => lstm.forward(tensor([[[1, 2, 3]]]), [tensor([[[0, 0, 0]]]), tensor([[[0, 0, 0, 0]]])])).toThrow(
      /initial state 0 must have shape \[1, 1, 4\]/,
    );
  });
});
