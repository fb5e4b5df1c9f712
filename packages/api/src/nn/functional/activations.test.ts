import '@flint/backend-cpu';
import {
  amp,
  DTypeError,
  getBackend,
  grad,
  jit,
  jvp,
  maximum,
  minimum,
  Parameter,
  sum,
  type Tensor,
  tensor,
  tidy,
  ValueError,
  vmap,
} from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, maxRelativeDifference, randomValues, seededRandom, sigmoidReference, softmaxRow } from '../testing.test-support.js';

const F = nn.functional;

// References written from PyTorch's documented formulas, in float64.

/** erf by its everywhere-convergent series with positive terms: 2/√π e^(-x²) Σ (2x²)ⁿ x / (2n+1)!!. */
function erfReference(x: number): number {
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  let term = a;
  let total = a;
  for (let n = 1; n < 400; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    total += term;
    if (term < 1e-17 * total) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * total;
}

const softplusReference = (v: number, beta = 1, threshold = 20): number =>
  v * beta > threshold ? v : Math.log1p(Math.exp(beta * v)) / beta;

// torch.nn.functional.selu's constants.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const REFERENCES: Record<string, (v: number) => number> = {
  relu: (v) => Math.max(v, 0),
  relu6: (v) => Math.min(Math.max(v, 0), 6),
  hardtanh: (v) => Math.min(Math.max(v, -1), 1),
  leakyRelu: (v) => (v > 0 ? v : 0.01 * v),
  gelu: (v) => 0.5 * v * (1 + erfReference(v / Math.SQRT2)),
  geluTanh: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  silu: (v) => v * sigmoidReference(v),
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
  softplus: (v) => softplusReference(v),
  logSigmoid: (v) => -softplusReference(-v, 1, Number.POSITIVE_INFINITY),
  tanh: Math.tanh,
  sigmoid: sigmoidReference,
  mish: (v) => v * Math.tanh(softplusReference(v)),
  selu: (v) => (v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * Math.expm1(v)),
  celu: (v) => (v > 0 ? v : Math.expm1(v)),
  celu2: (v) => (v > 0 ? v : 2 * Math.expm1(v / 2)),
  hardswish: (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
  hardsigmoid: (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
  softsign: (v) => v / (1 + Math.abs(v)),
  threshold: (v) => (v > 1 ? v : -5),
};

const IMPLEMENTATIONS: Record<string, (x: Tensor) => Tensor> = {
  relu: F.relu,
  relu6: F.relu6,
  hardtanh: (x) => F.hardtanh(x),
  leakyRelu: (x) => F.leakyRelu(x),
  gelu: (x) => F.gelu(x),
  geluTanh: (x) => F.gelu(x, 'tanh'),
  silu: F.silu,
  elu: (x) => F.elu(x),
  softplus: (x) => F.softplus(x),
  logSigmoid: F.logSigmoid,
  tanh: F.tanh,
  sigmoid: F.sigmoid,
  mish: F.mish,
  selu: F.selu,
  celu: (x) => F.celu(x),
  celu2: (x) => F.celu(x, 2),
  hardswish: F.hardswish,
  hardsigmoid: F.hardsigmoid,
  softsign: F.softsign,
  threshold: (x) => F.threshold(x, 1, -5),
};

describe('activations', () => {
  const random = seededRandom(1);
  const values = [...randomValues(random, 60, -8, 8), -50, -25, -3.5, -3, -2.5, -1e-3, 0, 1e-3, 1, 2.5, 3, 3.5, 7, 25, 50];

  for (const name of Object.keys(REFERENCES)) {
    it(`${name} matches its formula in float64 and float32`, () => {
      const reference = REFERENCES[name] as (v: number) => number;
      const implementation = IMPLEMENTATIONS[name] as (x: Tensor) => Tensor;
      const expected = values.map(reference);
      const out64 = implementation(tensor(values, { dtype: 'float64' }));
      expect(out64.dtype).toBe('float64');
      expect(maxRelativeDifference(out64.dataSync(), expected)).toBeLessThan(1e-9);
      const out32 = implementation(tensor(values, { dtype: 'float32' }));
      expect(out32.dtype).toBe('float32');
      expect(maxRelativeDifference(out32.dataSync(), expected)).toBeLessThan(2e-6);
    });
  }

  it('take their parameters', () => {
    const x = tensor([-2, -0.5, 0.5, 3], { dtype: 'float64' });
    expect(Array.from(F.leakyRelu(x, 0.2).dataSync())).toEqual([-0.4, -0.1, 0.5, 3]);
    expect(maxDifference(F.elu(x, 2).dataSync(), [2 * Math.expm1(-2), 2 * Math.expm1(-0.5), 0.5, 3])).toBeLessThan(1e-12);
    expect(
      maxDifference(
        F.softplus(x, 2, 1).dataSync(),
        [-2, -0.5, 0.5, 3].map((v) => softplusReference(v, 2, 1)),
      ),
    ).toBeLessThan(1e-12);
    expect(Array.from(F.hardtanh(x, -1, 2).dataSync())).toEqual([-1, -0.5, 0.5, 2]);
  });

  it('relu keeps integers, propagates NaN, and refuses bool', () => {
    const out = F.relu(tensor([-3, 0, 4]));
    expect(out.dtype).toBe('int32');
    expect(Array.from(out.dataSync())).toEqual([0, 0, 4]);
    expect(Number.isNaN(F.relu(tensor([Number.NaN])).dataSync()[0])).toBe(true);
    expect(() => F.relu(tensor([true]))).toThrow(DTypeError);
  });

  it('derivatives at the kinks follow PyTorch, forward and reverse', () => {
    const x = tensor([-2, 0, 3], { dtype: 'float64' });
    const slopes = (f: (t: Tensor) => Tensor) => Array.from(grad((t: Tensor) => sum(f(t)))(x).dataSync());
    expect(slopes(F.relu)).toEqual([0, 0, 1]);
    expect(slopes((t) => F.leakyRelu(t, 0.2))).toEqual([0.2, 0.2, 1]);
    expect(slopes(F.relu6)).toEqual([0, 0, 1]);
    // torch.maximum / torch.minimum split a tie's gradient evenly.
    expect(slopes((t) => maximum(t, 0))).toEqual([0, 0.5, 1]);
    expect(slopes((t) => minimum(t, 0))).toEqual([1, 0.5, 0]);
    const [, tangent] = jvp((t: Tensor) => maximum(t, 0), [x], [tensor([1, 1, 1], { dtype: 'float64' })]);
    expect(Array.from(tangent.dataSync())).toEqual([0, 0.5, 1]);
    expect(F.leakyRelu(x, 0.2).dtype).toBe('float64');
    expect(Array.from(F.leakyRelu(x, 0.2).dataSync())).toEqual([-0.4, 0, 3]);
  });

  // Derivatives at the switch points, from PyTorch's backward kernels (hardtanh_backward,
  // elu_backward, softplus_backward, log_sigmoid_backward).
  const slopesAt = (f: (t: Tensor) => Tensor, values: number[]) =>
    Array.from(grad((t: Tensor) => sum(f(t)))(tensor(values, { dtype: 'float64' })).dataSync());

  it('hardtanh and relu6 pass no gradient at their bounds (min < x < max), and pass it at NaN', () => {
    expect(slopesAt((t) => F.hardtanh(t), [-1, 1, 0, -2, 2, Number.NaN])).toEqual([0, 0, 1, 0, 0, 1]);
    expect(slopesAt((t) => F.hardtanh(t, -1, 2), [2, -1, 1.5])).toEqual([0, 0, 1]);
    expect(slopesAt((t) => F.hardtanh(t, 1, 1), [0, 1, 2])).toEqual([0, 0, 0]);
    expect(slopesAt(F.relu6, [0, 6, 3, -1, 7])).toEqual([0, 0, 1, 0, 0]);
  });

  it('elu and softplus have the whole derivative of the side PyTorch takes at the switch point', () => {
    // ELU: the negative side's alpha * exp(0) at 0; NaN takes the positive side's 1.
    expect(slopesAt((t) => F.elu(t), [0, Number.NaN, -1, 1])).toEqual([1, 1, Math.exp(-1), 1]);
    expect(slopesAt((t) => F.elu(t, 2), [0])).toEqual([2]);
    const [, tangent] = jvp((t: Tensor) => F.elu(t), [tensor([0], { dtype: 'float64' })], [tensor([1], { dtype: 'float64' })]);
    expect(tangent.item()).toBe(1);
    // Softplus: sigmoid(beta x) at beta x == threshold, 1 beyond it.
    const [atThreshold, beyond, notANumber] = slopesAt((t) => F.softplus(t), [20, 20.5, Number.NaN]);
    expect(Math.abs((atThreshold as number) - sigmoidReference(20))).toBeLessThan(1e-15);
    expect(beyond).toBe(1);
    expect(notANumber).toBeNaN();
    const [scaled] = slopesAt((t) => F.softplus(t, 2, 10), [5]);
    expect(Math.abs((scaled as number) - sigmoidReference(10))).toBeLessThan(1e-15);
  });

  it('logSigmoid has exact first and second derivatives at 0', () => {
    const x = tensor([0], { dtype: 'float64' });
    const slope = (t: Tensor) => grad((u: Tensor) => sum(F.logSigmoid(u)))(t);
    expect(slope(x).item()).toBe(0.5);
    // -sigmoid(0) (1 - sigmoid(0)), by reverse over reverse and forward over reverse.
    expect(grad((t: Tensor) => sum(slope(t)))(x).item()).toBe(-0.25);
    const [, curvature] = jvp(slope, [x], [tensor([1], { dtype: 'float64' })]);
    expect(curvature.item()).toBe(-0.25);
  });

  it('hardswish and hardsigmoid take PyTorch’s derivatives at ±3 (hardswish_backward, hardsigmoid_backward)', () => {
    // hardswish': 0 where x < -3, x/3 + 0.5 where x <= 3 (so -0.5 at -3 and 1.5 at 3), else 1.
    expect(slopesAt(F.hardswish, [-3, 3, -4, 4, 0, 1.5, Number.NaN])).toEqual([-0.5, 1.5, 0, 1, 0.5, 1, 1]);
    // hardsigmoid': 1/6 where -3 < x < 3 only; NaN stays NaN with derivative 0.
    expect(slopesAt(F.hardsigmoid, [-3, 3, -4, 4, 0, Number.NaN])).toEqual([0, 0, 0, 0, 1 / 6, 0]);
    expect(F.hardsigmoid(tensor([Number.NaN], { dtype: 'float64' })).item()).toBeNaN();
    const [, tangent] = jvp(F.hardswish, [tensor([-3, 3], { dtype: 'float64' })], [tensor([1, 1], { dtype: 'float64' })]);
    expect(Array.from(tangent.dataSync())).toEqual([-0.5, 1.5]);
    // Second derivatives: 1/3 on hardswish's quadratic piece, its ends included.
    const hardswishSlope = (t: Tensor) => grad((u: Tensor) => sum(F.hardswish(u)))(t);
    expect(Array.from(grad((t: Tensor) => sum(hardswishSlope(t)))(tensor([-3, 0, 3, 4], { dtype: 'float64' })).dataSync())).toEqual([
      1 / 3,
      1 / 3,
      1 / 3,
      0,
    ]);
  });

  it('selu and celu take the negative side at 0 (elu_backward), threshold passes where x > threshold', () => {
    expect(slopesAt(F.selu, [0, 1, -1])).toEqual([SELU_ALPHA * SELU_SCALE, SELU_SCALE, SELU_ALPHA * SELU_SCALE * Math.exp(-1)]);
    const [, tangent] = jvp(F.selu, [tensor([0], { dtype: 'float64' })], [tensor([1], { dtype: 'float64' })]);
    expect(tangent.item()).toBe(SELU_ALPHA * SELU_SCALE);
    // CELU's derivative is 1 at 0 from both sides: alpha exp(x / alpha) / alpha there.
    expect(slopesAt((t) => F.celu(t, 2), [0, -1, 1])).toEqual([1, Math.exp(-0.5), 1]);
    expect(slopesAt((t) => F.threshold(t, 1, -5), [1, 1.5, 0, Number.NaN])).toEqual([0, 1, 0, 1]);
    expect(F.threshold(tensor([Number.NaN], { dtype: 'float64' }), 1, -5).item()).toBeNaN();
    // softsign' = 1 / (1 + |x|)²: 1 at 0.
    expect(slopesAt(F.softsign, [0, 1, -3])).toEqual([1, 0.25, 1 / 16]);
  });

  it('no overflow in the branches selu and celu discard', () => {
    expect(slopesAt(F.selu, [1000, -1000])).toEqual([SELU_SCALE, 0]);
    expect(slopesAt((t) => F.celu(t, 0.5), [1000, -1000])).toEqual([1, 0]);
  });

  it('glu halves along its axis; prelu takes a slope per channel', () => {
    const x = tensor(
      [
        [1, 2, 0, Math.log(3)],
        [-1, 4, 100, -100],
      ],
      { dtype: 'float64' },
    );
    expect(maxDifference(F.glu(x).dataSync(), [0.5, 2 * 0.75, -1, 0])).toBeLessThan(1e-15);
    const byRows = F.glu(x, 0);
    expect(byRows.shape).toEqual([1, 4]);
    expect(
      maxDifference(
        byRows.dataSync(),
        [1, 2, 0, Math.log(3)].map((v, i) => v * sigmoidReference([-1, 4, 100, -100][i] as number)),
      ),
    ).toBeLessThan(1e-15);
    expect(() => F.glu(tensor([1, 2, 3]))).toThrow(/glu: axis -1 must have an even size to halve, got input \[3\]/);
    expect(() => F.glu(tensor(1))).toThrow(/glu: the input must have at least one axis/);

    const images = tensor([-2, 3, -4, 5, -6, 7, -8, 9], { shape: [2, 2, 2], dtype: 'float64' });
    expect(Array.from(F.prelu(images, tensor([0.5, 0.25], { dtype: 'float64' })).dataSync())).toEqual([-1, 3, -1, 5, -3, 7, -2, 9]);
    expect(Array.from(F.prelu(tensor([-4, 4], { dtype: 'float64' }), tensor([0.25], { dtype: 'float64' })).dataSync())).toEqual([-1, 4]);
    expect(() => F.prelu(images, tensor([1, 2, 3], { dtype: 'float64' }))).toThrow(
      /prelu: weight \[3\] must have 1 element or one per channel/,
    );
    expect(() => F.prelu(tensor([1, 2], { dtype: 'float64' }), tensor([1, 2], { dtype: 'float64' }))).toThrow(/prelu: weight \[2\]/);

    // x > 0 ? g : w g for the input, x > 0 ? 0 : x g for the weight: at 0, w and 0.
    const input = new Parameter(
      tensor(
        [
          [0, -2, 3],
          [1, 0, -1],
        ],
        { dtype: 'float64' },
      ),
    );
    const weight = new Parameter(tensor([0.25, 0.5, 2], { dtype: 'float64' }));
    sum(F.prelu(input.value, weight.value)).backward();
    expect(Array.from((input.grad as Tensor).dataSync())).toEqual([0.25, 0.5, 1, 1, 0.5, 2]);
    expect(Array.from((weight.grad as Tensor).dataSync())).toEqual([0, -2, -1]);
  });

  it('the new activations run the same under jit and vmap', () => {
    const x = tensor([-4, -3, -0.5, 0, 0.5, 3, 4, 1.5], { shape: [2, 4], dtype: 'float64' });
    const all = (t: Tensor): Tensor =>
      F.selu(t)
        .add(F.celu(t, 0.5))
        .add(F.hardswish(t))
        .add(F.hardsigmoid(t))
        .add(F.softsign(t))
        .add(F.threshold(t, 0.5, -1))
        .add(F.prelu(t, tensor([0.25], { dtype: 'float64' })))
        .add(F.softmin(t))
        .sum(-1)
        .add(F.glu(t).sum(-1));
    const eager = Array.from(all(x).dataSync());
    expect(Array.from(jit(all)(x).dataSync())).toEqual(eager);
    const perRow = vmap((row: Tensor) => all(row.reshape([1, 4])).reshape([]))(x);
    expect(maxDifference(perRow.dataSync(), eager)).toBeLessThan(1e-12);
  });

  it('softmin is the softmax of the negated input', () => {
    const data = [1, 2, 3, -1, 0, 4];
    const x = tensor(data, { shape: [2, 3], dtype: 'float64' });
    const expected = [...softmaxRow([-1, -2, -3]), ...softmaxRow([1, 0, -4])];
    expect(maxDifference(F.softmin(x).dataSync(), expected)).toBeLessThan(1e-15);
    expect(maxDifference(F.softmin(x, 0).dataSync(), F.softmax(x.neg(), 0).dataSync())).toBe(0);
  });

  it('relu keeps -0 and makes negatives +0, as torch.relu', () => {
    const out = F.relu(tensor([-0, -2, 0], { dtype: 'float32' })).dataSync();
    expect(Object.is(out[0], -0)).toBe(true);
    expect(Object.is(out[1], 0)).toBe(true);
  });

  it('keep one activation for the backward pass: relu its output, gelu and silu their input (as PyTorch)', () => {
    const n = 4096;
    const activationBytes = 4 * n;
    const w = new Parameter(tensor(Float32Array.from(randomValues(seededRandom(3), n)), { shape: [64, 64] }));
    for (const [name, f] of [
      ['relu', F.relu],
      ['gelu', F.gelu],
      ['gelu (tanh)', (t: Tensor) => F.gelu(t, 'tanh')],
      ['silu', F.silu],
    ] as const) {
      let held = 0;
      tidy(() => {
        const x = w.value.mul(2); // the activation's input: not a leaf
        // Counted on the backend the tensors live on: memory() also sums the backends other test files
        // made, and a stand-in that wraps 'cpu' counts its buffers again.
        const before = getBackend().memory().bytes;
        const y = f(x);
        held = getBackend().memory().bytes - before;
        y.sum().backward();
      });
      w.zeroGrad();
      // The output, and nothing else the node keeps (the input is the scope's anyway).
      expect(held, name).toBe(activationBytes);
    }
    w.dispose();
  });

  it("differentiate a float16 input to a float16 gradient under autocast (where GELU's exp runs in float32)", () => {
    const x = tensor([-1.5, 0.25, 2], { dtype: 'float16' });
    for (const f of [F.gelu, (t: Tensor) => F.gelu(t, 'tanh'), F.silu]) {
      const g = amp.autocast({ dtype: 'float16' }, () => grad((t: Tensor) => sum(f(t)))(x));
      expect(g.dtype).toBe('float16');
    }
  });

  it('reject bad options with the op name', () => {
    expect(() => F.gelu(tensor([1]), 'fast' as 'tanh')).toThrow(/gelu: approximate must be 'none' or 'tanh'/);
    expect(() => F.softplus(tensor([1]), 0)).toThrow(ValueError);
    expect(() => F.hardtanh(tensor([1]), 2, 1)).toThrow(/hardtanh: minValue/);
    expect(() => F.celu(tensor([1]), 0)).toThrow(/celu: alpha must be non-zero/);
    expect(() => F.threshold(tensor([1]), Number.NaN, 0)).toThrow(/threshold: threshold must be a finite number/);
  });
});

describe('softmax and logSoftmax', () => {
  const random = seededRandom(2);
  const rows = 4;
  const columns = 5;
  const data = randomValues(random, rows * columns, -5, 5);

  it('match the reference along the last and the first axis', () => {
    const x = tensor(data, { shape: [rows, columns], dtype: 'float64' });
    const expectedLast = Array.from({ length: rows }, (_, r) => softmaxRow(data.slice(r * columns, (r + 1) * columns))).flat();
    expect(maxDifference(F.softmax(x).dataSync(), expectedLast)).toBeLessThan(1e-12);
    expect(maxDifference(F.logSoftmax(x, -1).dataSync(), expectedLast.map(Math.log))).toBeLessThan(1e-12);
    const columnsFirst = Array.from({ length: columns }, (_, c) =>
      softmaxRow(Array.from({ length: rows }, (_, r) => data[r * columns + c] as number)),
    );
    const expectedFirst = Array.from(
      { length: rows * columns },
      (_, i) => (columnsFirst[i % columns] as number[])[Math.floor(i / columns)] as number,
    );
    expect(maxDifference(F.softmax(x, 0).dataSync(), expectedFirst)).toBeLessThan(1e-12);
  });

  it('are stable for large logits', () => {
    const x = tensor([
      [1000, 1000, 990],
      [-1000, -1010, -1000],
    ]);
    const p = F.softmax(x, 1).dataSync();
    const expected = [...softmaxRow([1000, 1000, 990]), ...softmaxRow([-1000, -1010, -1000])];
    expect(maxDifference(p, expected)).toBeLessThan(1e-6);
    const logp = F.logSoftmax(x, 1).dataSync();
    expect(Array.from(logp).every(Number.isFinite)).toBe(true);
    expect(logp[2]).toBeCloseTo(-10 - Math.log(2 + Math.exp(-10)), 4);
  });

  it('handle -Infinity entries (masked positions) and give NaN for an all -Infinity row, as PyTorch', () => {
    const x = tensor([
      [0, Number.NEGATIVE_INFINITY, 0],
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
    ]);
    const p = Array.from(F.softmax(x).dataSync());
    expect(p.slice(0, 3)).toEqual([0.5, 0, 0.5]);
    expect(p.slice(3).every(Number.isNaN)).toBe(true);
    expect(F.logSoftmax(x).dataSync()[1]).toBe(Number.NEGATIVE_INFINITY);
  });

  it('accept integers (as float32) and scalars', () => {
    const p = F.softmax(tensor([1, 1]));
    expect(p.dtype).toBe('float32');
    expect(Array.from(p.dataSync())).toEqual([0.5, 0.5]);
    expect(F.softmax(tensor(3)).item()).toBe(1);
  });
});
