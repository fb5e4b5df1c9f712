import '@flint/backend-cpu';
import { dispose, getBackend, grad, jit, manualSeed, noGrad, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom } from '../testing.test-support.js';

// RNN, LSTM, GRU and their cells against an independent reference: PyTorch's documented
// equations as plain loops over Float64Arrays, sharing nothing with the layer code.

type Kind = 'rnn-tanh' | 'rnn-relu' | 'lstm' | 'gru';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const gatesOf = (kind: Kind): number => (kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1);
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** The weights of one layer and direction, row-major. */
interface Weights {
  ih: Float64Array;
  hh: Float64Array;
  bih: Float64Array | null;
  bhh: Float64Array | null;
  hr: Float64Array | null;
}

/** `w v (+ b)` for a row-major [rows, v.length] matrix. */
function affine(w: Float64Array, v: Float64Array, b: Float64Array | null): Float64Array {
  const rows = w.length / v.length;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = b === null ? 0 : (b[r] as number);
    for (let c = 0; c < v.length; c++) s += (w[r * v.length + c] as number) * (v[c] as number);
    out[r] = s;
  }
  return out;
}

/** One step for one example: returns the new h (projected for LSTM with hr) and c. */
function referenceStep(kind: Kind, x: Float64Array, h: Float64Array, c: Float64Array, w: Weights, H: number) {
  const gx = affine(w.ih, x, w.bih);
  const gh = affine(w.hh, h, w.bhh);
  const at = (a: Float64Array, i: number): number => a[i] as number;
  if (kind === 'rnn-tanh' || kind === 'rnn-relu') {
    const next = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const v = at(gx, j) + at(gh, j);
      next[j] = kind === 'rnn-tanh' ? Math.tanh(v) : Math.max(v, 0);
    }
    return { h: next, c };
  }
  if (kind === 'gru') {
    const next = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const r = sigmoid(at(gx, j) + at(gh, j));
      const z = sigmoid(at(gx, H + j) + at(gh, H + j));
      const n = Math.tanh(at(gx, 2 * H + j) + r * at(gh, 2 * H + j));
      next[j] = (1 - z) * n + z * at(h, j);
    }
    return { h: next, c };
  }
  const nextC = new Float64Array(H);
  const nextH = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const g = (k: number): number => at(gx, k * H + j) + at(gh, k * H + j);
    nextC[j] = sigmoid(g(1)) * at(c, j) + sigmoid(g(0)) * Math.tanh(g(2));
    nextH[j] = sigmoid(g(3)) * Math.tanh(at(nextC, j));
  }
  return { h: w.hr === null ? nextH : affine(w.hr, nextH, null), c: nextC };
}

/**
 * A stacked, optionally bidirectional recurrence: input [T, N, I] flat, weights [layer][direction],
 * initial h [L*D, N, P] and c [L*D, N, H] flat (P = projSize or H). Returns output [T, N, D*P] and
 * the final h and c, flat.
 */
function referenceSequence(
  kind: Kind,
  input: Float64Array,
  [T, N, I]: [number, number, number],
  weights: Weights[][],
  H: number,
  P: number,
  h0: Float64Array,
  c0: Float64Array,
): { output: Float64Array; h: Float64Array; c: Float64Array } {
  const L = weights.length;
  const D = (weights[0] as Weights[]).length;
  let x = input;
  let width = I;
  const hN = new Float64Array(L * D * N * P);
  const cN = new Float64Array(L * D * N * H);
  for (let l = 0; l < L; l++) {
    const out = new Float64Array(T * N * D * P);
    for (let d = 0; d < D; d++) {
      const w = (weights[l] as Weights[])[d] as Weights;
      const index = l * D + d;
      for (let n = 0; n < N; n++) {
        let h: Float64Array = h0.slice((index * N + n) * P, (index * N + n + 1) * P);
        let c: Float64Array = c0.slice((index * N + n) * H, (index * N + n + 1) * H);
        for (let k = 0; k < T; k++) {
          const t = d === 0 ? k : T - 1 - k;
          const xt = x.slice((t * N + n) * width, (t * N + n + 1) * width);
          ({ h, c } = referenceStep(kind, xt, h, c, w, H));
          out.set(h, (t * N + n) * D * P + d * P);
        }
        hN.set(h, (index * N + n) * P);
        cN.set(c, (index * N + n) * H);
      }
    }
    x = out;
    width = D * P;
  }
  return { output: x, h: hN, c: cN };
}

type Sequence = nn.RNN | nn.LSTM | nn.GRU;

/** Reads a sequence module's weights by their PyTorch-derived names. */
function weightsOf(layer: Sequence, parameters?: Record<string, Float64Array>): Weights[][] {
  const read = (name: string): Float64Array | null => {
    if (parameters !== undefined) return parameters[name] ?? null;
    try {
      return Float64Array.from(layer.getParameter(name).value.dataSync());
    } catch {
      return null;
    }
  };
  return Array.from({ length: layer.numLayers }, (_, l) =>
    Array.from({ length: layer.bidirectional ? 2 : 1 }, (_, d) => {
      const suffix = `L${l}${d === 1 ? 'Reverse' : ''}`;
      return {
        ih: read(`weightIh${suffix}`) as Float64Array,
        hh: read(`weightHh${suffix}`) as Float64Array,
        bih: read(`biasIh${suffix}`),
        bhh: read(`biasHh${suffix}`),
        hr: read(`weightHr${suffix}`),
      };
    }),
  );
}

const rng = seededRandom(40);
const random = (count: number, low = -1, high = 1): Float64Array => Float64Array.from(randomValues(rng, count, low, high));
const f64 = (data: Float64Array, shape: number[]): Tensor => tensor(data, { dtype: 'float64' }).reshape(shape);

function build(kind: Kind, inputSize: number, hidden: number, options: nn.LSTMOptions = {}): Sequence {
  const factory = { dtype: 'float64' as const, ...options };
  if (kind === 'lstm') return new nn.LSTM(inputSize, hidden, factory);
  if (kind === 'gru') return new nn.GRU(inputSize, hidden, factory);
  const { projSize: _unused, ...rest } = factory;
  return new nn.RNN(inputSize, hidden, { ...rest, nonlinearity: kind === 'rnn-relu' ? 'relu' : 'tanh' });
}

/** Calls a sequence module uniformly: returns output, h and (LSTM) c. */
function run(layer: Sequence, x: Tensor, h0?: Tensor, c0?: Tensor): { output: Tensor; h: Tensor; c: Tensor | null } {
  if (layer instanceof nn.LSTM) {
    const [output, [h, c]] = layer.forward(x, h0 === undefined ? undefined : [h0, c0 as Tensor]);
    return { output, h, c };
  }
  const [output, h] = layer.forward(x, h0);
  return { output, h, c: null };
}

describe('recurrent cells', () => {
  const [batch, inputSize, hidden] = [3, 4, 5];

  for (const kind of ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'] as const) {
    it(`${kind} cell follows PyTorch's equations, batched and unbatched, with hx given or zeros`, () => {
      manualSeed(7);
      const options = { dtype: 'float64' as const };
      const cell =
        kind === 'lstm'
          ? new nn.LSTMCell(inputSize, hidden, options)
          : kind === 'gru'
            ? new nn.GRUCell(inputSize, hidden, options)
            : new nn.RNNCell(inputSize, hidden, { ...options, nonlinearity: kind === 'rnn-relu' ? 'relu' : 'tanh' });
      const G = gatesOf(kind);
      const state = cell.stateDict();
      expect(Object.entries(state).map(([n, t]) => `${n} ${JSON.stringify(t.shape)}`)).toEqual([
        `weightIh [${G * hidden},${inputSize}]`,
        `weightHh [${G * hidden},${hidden}]`,
        `biasIh [${G * hidden}]`,
        `biasHh [${G * hidden}]`,
      ]);
      const w: Weights = {
        ih: Float64Array.from(state.weightIh?.dataSync() ?? []),
        hh: Float64Array.from(state.weightHh?.dataSync() ?? []),
        bih: Float64Array.from(state.biasIh?.dataSync() ?? []),
        bhh: Float64Array.from(state.biasHh?.dataSync() ?? []),
        hr: null,
      };
      const x = random(batch * inputSize, -2, 2);
      const h = random(batch * hidden);
      const c = random(batch * hidden);
      const expectedH: number[] = [];
      const expectedC: number[] = [];
      const zeroH: number[] = [];
      for (let n = 0; n < batch; n++) {
        const row = (a: Float64Array, size: number) => a.slice(n * size, (n + 1) * size);
        const step = referenceStep(kind, row(x, inputSize), row(h, hidden), row(c, hidden), w, hidden);
        expectedH.push(...step.h);
        expectedC.push(...step.c);
        zeroH.push(...referenceStep(kind, row(x, inputSize), new Float64Array(hidden), new Float64Array(hidden), w, hidden).h);
      }
      const xt = f64(x, [batch, inputSize]);
      const ht = f64(h, [batch, hidden]);
      const ct = f64(c, [batch, hidden]);
      if (cell instanceof nn.LSTMCell) {
        const [nextH, nextC] = cell.forward(xt, [ht, ct]);
        expect(nextH.shape).toEqual([batch, hidden]);
        expect(maxDifference(values(nextH), expectedH)).toBeLessThan(1e-12);
        expect(maxDifference(values(nextC), expectedC)).toBeLessThan(1e-12);
        expect(maxDifference(values(cell.forward(xt)[0]), zeroH)).toBeLessThan(1e-12);
        const [h1, c1] = cell.forward(xt.narrow(0, 0, 1).reshape([inputSize]), [
          ht.narrow(0, 0, 1).reshape([hidden]),
          ct.narrow(0, 0, 1).reshape([hidden]),
        ]);
        expect(h1.shape).toEqual([hidden]);
        expect(c1.shape).toEqual([hidden]);
        expect(maxDifference(values(h1), expectedH.slice(0, hidden))).toBeLessThan(1e-12);
      } else {
        const next = cell.forward(xt, ht);
        expect(next.shape).toEqual([batch, hidden]);
        expect(maxDifference(values(next), expectedH)).toBeLessThan(1e-12);
        expect(maxDifference(values(cell.forward(xt)), zeroH)).toBeLessThan(1e-12);
        const single = cell.forward(xt.narrow(0, 0, 1).reshape([inputSize]), ht.narrow(0, 0, 1).reshape([hidden]));
        expect(single.shape).toEqual([hidden]);
        expect(maxDifference(values(single), expectedH.slice(0, hidden))).toBeLessThan(1e-12);
      }
    });
  }

  it('initializes uniformly in ±1/√hiddenSize, honours bias: false, and prints as PyTorch', () => {
    manualSeed(0);
    const cell = new nn.GRUCell(6, 16);
    const all = cell.parameters().flatMap((p) => values(p.value));
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.24);
    expect(new nn.LSTMCell(2, 3, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weightIh', 'weightHh']);
    expect(new nn.RNNCell(2, 3, { nonlinearity: 'relu' }).toString()).toMatch(/^RNNCell\(2, 3, nonlinearity='relu'\)/);
    expect(new nn.LSTMCell(2, 3, { bias: false }).toString()).toMatch(/^LSTMCell\(2, 3, bias=false\)/);
  });

  it('refuses wrong input and state shapes, naming the cell, the expected and the given shape', () => {
    const cell = new nn.LSTMCell(3, 4);
    expect(() => cell.forward(tensor([[1, 2]]))).toThrow('LSTMCell: input must be [N, 3] or unbatched [3], got [1, 2]');
    expect(() => cell.forward(tensor([[[1, 2, 3]]]))).toThrow('LSTMCell: input must be [N, 3] or unbatched [3], got [1, 1, 3]');
    expect(() => cell.forward(tensor([[1, 2, 3]]), [tensor([[0, 0, 0, 0]]), tensor([[0, 0, 0]])])).toThrow(
      'LSTMCell: c must have shape [1, 4] for input [1, 3], got [1, 3]',
    );
    expect(() => new nn.GRUCell(3, 4).forward(tensor([1, 2, 3]), tensor([[0, 0, 0, 0]]))).toThrow(
      'GRUCell: hx must have shape [4] for input [3], got [1, 4]',
    );
    expect(() => new nn.RNNCell(3, 4, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow("RNNCell: nonlinearity must be 'tanh' or 'relu'");
  });
});

describe('RNN, LSTM and GRU', () => {
  const [steps, batch, inputSize, hidden] = [4, 2, 3, 5];

  const cases: { name: string; kind: Kind; projSize?: number }[] = [
    { name: 'RNN (tanh)', kind: 'rnn-tanh' },
    { name: 'RNN (relu)', kind: 'rnn-relu' },
    { name: 'LSTM', kind: 'lstm' },
    { name: 'LSTM with projSize', kind: 'lstm', projSize: 2 },
    { name: 'GRU', kind: 'gru' },
  ];

  for (const { name, kind, projSize } of cases) {
    it(`${name}: 2 layers, both directions, given state, matches the reference`, () => {
      manualSeed(11);
      const layer = build(kind, inputSize, hidden, { numLayers: 2, bidirectional: true, ...(projSize ? { projSize } : {}) });
      const P = projSize ?? hidden;
      const x = random(steps * batch * inputSize, -2, 2);
      const h0 = random(4 * batch * P);
      const c0 = random(4 * batch * hidden);
      const reference = referenceSequence(kind, x, [steps, batch, inputSize], weightsOf(layer), hidden, P, h0, c0);
      const { output, h, c } = run(layer, f64(x, [steps, batch, inputSize]), f64(h0, [4, batch, P]), f64(c0, [4, batch, hidden]));
      expect(output.shape).toEqual([steps, batch, 2 * P]);
      expect(h.shape).toEqual([4, batch, P]);
      expect(maxDifference(values(output), reference.output)).toBeLessThan(1e-12);
      expect(maxDifference(values(h), reference.h)).toBeLessThan(1e-12);
      if (c !== null) {
        expect(c.shape).toEqual([4, batch, hidden]);
        expect(maxDifference(values(c), reference.c)).toBeLessThan(1e-12);
      }
    });
  }

  it('batchFirst transposes input and output (not the state), and the state defaults to zeros', () => {
    manualSeed(3);
    const lstm = build('lstm', inputSize, hidden, { batchFirst: true, numLayers: 2 }) as nn.LSTM;
    const x = random(steps * batch * inputSize);
    const reference = referenceSequence(
      'lstm',
      x,
      [steps, batch, inputSize],
      weightsOf(lstm),
      hidden,
      hidden,
      new Float64Array(2 * batch * hidden),
      new Float64Array(2 * batch * hidden),
    );
    const sequenceFirst = f64(x, [steps, batch, inputSize]);
    const [out, [h, c]] = lstm.forward(sequenceFirst.transpose([1, 0, 2]));
    expect(out.shape).toEqual([batch, steps, hidden]);
    expect(h.shape).toEqual([2, batch, hidden]);
    expect(maxDifference(values(out.transpose([1, 0, 2])), reference.output)).toBeLessThan(1e-12);
    expect(maxDifference(values(h), reference.h)).toBeLessThan(1e-12);
    expect(maxDifference(values(c), reference.c)).toBeLessThan(1e-12);
  });

  it('accepts unbatched sequences [T, features] with unbatched states [L*D, H], as PyTorch', () => {
    manualSeed(4);
    const gru = build('gru', inputSize, hidden, { bidirectional: true }) as nn.GRU;
    const x = random(steps * inputSize);
    const h0 = random(2 * hidden);
    const reference = referenceSequence('gru', x, [steps, 1, inputSize], weightsOf(gru), hidden, hidden, h0, new Float64Array(2 * hidden));
    const [out, h] = gru.forward(f64(x, [steps, inputSize]), f64(h0, [2, hidden]));
    expect(out.shape).toEqual([steps, 2 * hidden]);
    expect(h.shape).toEqual([2, hidden]);
    expect(maxDifference(values(out), reference.output)).toBeLessThan(1e-12);
    expect(maxDifference(values(h), reference.h)).toBeLessThan(1e-12);
    const lstm = build('lstm', inputSize, hidden, { projSize: 3 }) as nn.LSTM;
    const [lstmOut, [lh, lc]] = lstm.forward(f64(x, [steps, inputSize]));
    expect([lstmOut.shape, lh.shape, lc.shape]).toEqual([
      [steps, 3],
      [1, 3],
      [1, hidden],
    ]);
  });

  it('names parameters as PyTorch (camelCased), in its order and shapes, uniform in ±1/√hiddenSize', () => {
    manualSeed(0);
    const lstm = new nn.LSTM(3, 8, { numLayers: 2, bidirectional: true, projSize: 2 });
    const snake = (n: string): string => n.replace(/([A-Z])/g, '_$1').toLowerCase();
    const keys = Object.entries(lstm.stateDict()).map(([n, t]) => `${snake(n)} ${JSON.stringify(t.shape)}`);
    const layer = (l: number, suffix: string, input: number): string[] => [
      `weight_ih_l${l}${suffix} [32,${input}]`,
      `weight_hh_l${l}${suffix} [32,2]`,
      `bias_ih_l${l}${suffix} [32]`,
      `bias_hh_l${l}${suffix} [32]`,
      `weight_hr_l${l}${suffix} [2,8]`,
    ];
    expect(keys).toEqual([...layer(0, '', 3), ...layer(0, '_reverse', 3), ...layer(1, '', 4), ...layer(1, '_reverse', 4)]);
    const all = lstm.parameters().flatMap((p) => values(p.value));
    const bound = 1 / Math.sqrt(8);
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(Object.keys(new nn.GRU(3, 4, { bias: false }).stateDict())).toEqual(['weightIhL0', 'weightHhL0']);
    expect(new nn.RNN(3, 4).getParameter('weightHhL0').value.shape).toEqual([4, 4]);
    expect(new nn.GRU(3, 4).getParameter('weightIhL0').value.shape).toEqual([12, 3]);
    expect(new nn.LSTM(3, 4, { dtype: 'float64' }).getParameter('biasHhL0').value.dtype).toBe('float64');
    expect(new nn.RNN(3, 4, { nonlinearity: 'relu', numLayers: 2 }).toString()).toMatch(/^RNN\(3, 4, nonlinearity='relu', numLayers=2\)/);
    expect(lstm.toString()).toMatch(/^LSTM\(3, 8, projSize=2, numLayers=2, bidirectional=true\)/);
  });

  for (const kind of ['rnn-tanh', 'lstm', 'gru'] as const) {
    it(`${kind}: gradients of a loss with respect to every weight and the input agree with finite differences (float64), and backward() with grad`, () => {
      manualSeed(21);
      const [T, N, I, H] = [3, 2, 2, 3];
      const P = kind === 'lstm' ? 2 : H;
      const layer = build(kind, I, H, { numLayers: 2, bidirectional: true, ...(kind === 'lstm' ? { projSize: 2 } : {}) });
      const x = random(T * N * I);
      const h0 = random(4 * N * P);
      const c0 = random(4 * N * H);
      const outputWeights = random(T * N * 2 * P);
      const stateWeights = random(4 * N * P);
      const referenceLoss = (parameters: Record<string, Float64Array>, input: Float64Array): number => {
        const r = referenceSequence(kind, input, [T, N, I], weightsOf(layer, parameters), H, P, h0, c0);
        let s = 0;
        for (let i = 0; i < r.output.length; i++) s += (r.output[i] as number) * (outputWeights[i] as number);
        for (let i = 0; i < r.h.length; i++) s += (r.h[i] as number) * (stateWeights[i] as number);
        return s;
      };
      const loss = (p: Record<string, Tensor>, input: Tensor): Tensor => {
        // The union's forward signatures differ in the state's type; each member takes what is passed.
        const [output, state] = nn.functionalCall(
          layer as nn.Module<[Tensor, (Tensor | [Tensor, Tensor])?], [Tensor, Tensor | [Tensor, Tensor]]>,
          p,
          input,
          kind === 'lstm' ? [f64(h0, [4, N, P]), f64(c0, [4, N, H])] : f64(h0, [4, N, P]),
        );
        const h = Array.isArray(state) ? (state[0] as Tensor) : (state as Tensor);
        return output
          .mul(f64(outputWeights, [T, N, 2 * P]))
          .sum()
          .add(h.mul(f64(stateWeights, [4, N, P])).sum());
      };
      const params = layer.parameterValues();
      const xt = f64(x, [T, N, I]);
      const [gradParams, gradInput] = grad(loss, { argnums: [0, 1] })(params, xt) as [Record<string, Tensor>, Tensor];
      const base: Record<string, Float64Array> = Object.fromEntries(
        Object.entries(params).map(([n, t]) => [n, Float64Array.from(t.dataSync())]),
      );
      const epsilon = 1e-6;
      const central = (f: (delta: number) => number): number => (f(epsilon) - f(-epsilon)) / (2 * epsilon);
      for (const [name, value] of Object.entries(base)) {
        const numeric = Array.from(value, (_, i) =>
          central((delta) => {
            const perturbed = value.slice();
            perturbed[i] = (perturbed[i] as number) + delta;
            return referenceLoss({ ...base, [name]: perturbed }, x);
          }),
        );
        expect(maxDifference(values(gradParams[name] as Tensor), numeric), name).toBeLessThan(1e-7);
      }
      const numericInput = Array.from(x, (_, i) =>
        central((delta) => {
          const perturbed = x.slice();
          perturbed[i] = (perturbed[i] as number) + delta;
          return referenceLoss(base, perturbed);
        }),
      );
      expect(maxDifference(values(gradInput), numericInput)).toBeLessThan(1e-7);
      // The imperative tape gives the same gradients.
      layer.zeroGrad();
      loss(params, xt).backward();
      for (const [name, p] of layer.namedParameters()) {
        expect(maxDifference(values(p.grad as Tensor), values(gradParams[name] as Tensor)), name).toBeLessThan(1e-12);
      }
    });
  }

  it('runs under jit (the time loop traces) with the eager result and gradients', () => {
    manualSeed(5);
    const gru = build('gru', inputSize, hidden, { numLayers: 2, bidirectional: true, batchFirst: true }) as nn.GRU;
    const x = f64(random(batch * steps * inputSize), [batch, steps, inputSize]);
    const forward = (p: Record<string, Tensor>, input: Tensor): Tensor => nn.functionalCall(gru, p, input)[0];
    const params = gru.parameterValues();
    expect(maxDifference(values(jit(forward)(params, x)), values(forward(params, x)))).toBeLessThan(1e-12);
    const lossGrad = grad((p: Record<string, Tensor>, input: Tensor) => forward(p, input).square().sum());
    const compiled = jit(lossGrad)(params, x) as Record<string, Tensor>;
    const eager = lossGrad(params, x) as Record<string, Tensor>;
    for (const name of Object.keys(params)) {
      expect(maxDifference(values(compiled[name] as Tensor), values(eager[name] as Tensor)), name).toBeLessThan(1e-12);
    }
  });

  it('applies dropout between layers only while training', () => {
    manualSeed(6);
    const lstm = build('lstm', inputSize, hidden, { numLayers: 2, dropout: 0.5 }) as nn.LSTM;
    const x = random(steps * batch * inputSize);
    const zeros = new Float64Array(2 * batch * hidden);
    const reference = referenceSequence('lstm', x, [steps, batch, inputSize], weightsOf(lstm), hidden, hidden, zeros, zeros);
    const xt = f64(x, [steps, batch, inputSize]);
    expect(lstm.training).toBe(true);
    const [trained] = lstm.forward(xt);
    expect(maxDifference(values(trained), reference.output)).toBeGreaterThan(1e-3);
    lstm.eval();
    const [evaluated] = lstm.forward(xt);
    expect(maxDifference(values(evaluated), reference.output)).toBeLessThan(1e-12);
    // With one layer there is no "between": dropout never applies (PyTorch warns; Flint accepts).
    const single = build('rnn-tanh', inputSize, hidden, { dropout: 0.9 }) as nn.RNN;
    const singleReference = referenceSequence('rnn-tanh', x, [steps, batch, inputSize], weightsOf(single), hidden, hidden, zeros, zeros);
    expect(maxDifference(values(single.forward(xt)[0]), singleReference.output)).toBeLessThan(1e-12);
  });

  it('frees its intermediate tensors', () => {
    manualSeed(8);
    const lstm = new nn.LSTM(inputSize, hidden, { numLayers: 2, bidirectional: true });
    const x = f64(random(steps * batch * inputSize), [steps, batch, inputSize]);
    // Under noGrad (inference): with a tape, the backward pass keeps what its rules saved.
    dispose(noGrad(() => lstm.forward(x)));
    // Counted on the backend the tensors live on: memory() also sums the backends other test files
    // made, and a stand-in that wraps 'cpu' counts its buffers again.
    const before = getBackend().memory().buffers;
    const result = noGrad(() => lstm.forward(x));
    expect(getBackend().memory().buffers).toBe(before + 3);
    dispose(result);
    expect(getBackend().memory().buffers).toBe(before);
  });

  it('refuses wrong options, inputs and states, naming the module, the expected and the given shape', () => {
    const lstm = new nn.LSTM(3, 4);
    expect(() => lstm.forward(tensor([[[1, 2]]]))).toThrow('LSTM: input must be [T, N, 3] or unbatched [T, 3], got [1, 1, 2]');
    expect(() => lstm.forward(tensor([1, 2, 3]))).toThrow('LSTM: input must be [T, N, 3] or unbatched [T, 3], got [3]');
    expect(() => new nn.GRU(3, 4, { batchFirst: true }).forward(tensor([[[[1, 2, 3]]]]))).toThrow(
      'GRU: input must be [N, T, 3] or unbatched [T, 3], got [1, 1, 1, 3]',
    );
    expect(() => lstm.forward(tensor([[[1, 2, 3]]]), [tensor([[[0, 0, 0, 0]]]), tensor([[[0, 0, 0]]])])).toThrow(
      'LSTM: c0 must have shape [1, 1, 4] for input [1, 1, 3], got [1, 1, 3]',
    );
    expect(() => new nn.RNN(3, 4).forward(tensor([[1, 2, 3]]), tensor([[[0, 0, 0, 0]]]))).toThrow(
      'RNN: h0 must have shape [1, 4] for input [1, 3], got [1, 1, 4]',
    );
    expect(() => lstm.forward(tensor([[[1, 2, 3]]]), tensor([0]) as unknown as [Tensor, Tensor])).toThrow(
      'LSTM: the initial state must be [h0, c0]',
    );
    expect(() => new nn.LSTM(3, 4, { projSize: 4 })).toThrow('LSTM: projSize (4) must be smaller than hiddenSize (4)');
    expect(() => new nn.RNN(3, 4, { nonlinearity: 'gelu' as 'tanh' })).toThrow("RNN: nonlinearity must be 'tanh' or 'relu'");
    expect(() => new nn.GRU(3, 0)).toThrow('GRU: hiddenSize must be a positive integer');
    expect(() => new nn.GRU(3, 4, { dropout: 2 })).toThrow('GRU: dropout must be a probability');
    // PyTorch's positional arguments and keyword spellings would be ignored by plain JavaScript: refused.
    expect(() => new nn.LSTM(3, 4, 2 as unknown as nn.LSTMOptions)).toThrow(
      'LSTM: argument 3 is the options object { numLayers, bias, batchFirst, dropout, bidirectional, dtype, backend, projSize }; got a number (2) — pass the numLayers as { numLayers: 2 }',
    );
    expect(() => new nn.GRUCell(3, 4, false as unknown as nn.RecurrentCellOptions)).toThrow('pass the bias as { bias: false }');
    expect(() => new nn.GRU(3, 4, { batch_first: true } as nn.RecurrentOptions)).toThrow(
      "GRU: option 'batch_first' is spelled 'batchFirst' here",
    );
    expect(() => new nn.LSTM(3, 4, { proj_size: 2 } as nn.LSTMOptions)).toThrow("LSTM: option 'proj_size' is spelled 'projSize' here");
  });
});
