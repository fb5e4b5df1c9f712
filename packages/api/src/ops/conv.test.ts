import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  conv1d,
  conv2d,
  conv3d,
  convTranspose1d,
  convTranspose2d,
  convTranspose3d,
  getBackend,
  grad,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
} from '@flint/api';

// Naive nested-loop references, written independently of the Conv/ReduceWindow lowering.

interface Dense {
  shape: number[];
  data: Float64Array;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function random(shape: number[], seed: number): Dense {
  const next = lcg(seed);
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = next() * 2;
  return { shape, data };
}

const toTensor = (d: Dense): Tensor => tensor(d.data, { shape: d.shape, dtype: 'float64' });

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}

/** Every multi-index of `shape`, in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const size = shape.reduce((a, b) => a * b, 1);
  const st = strides(shape);
  for (let flat = 0; flat < size; flat++) yield shape.map((d, i) => Math.floor(flat / st[i]!) % d);
}

function at(d: Dense, index: readonly number[]): number {
  const st = strides(d.shape);
  return d.data[index.reduce((o, v, i) => o + v * st[i]!, 0)]!;
}

function naiveConv(x: Dense, w: Dense, stride: number[], pad: [number, number][], dilation: number[], groups: number): Dense {
  const [n, c] = x.shape as [number, number];
  const [o, cg] = w.shape as [number, number];
  const spatial = x.shape.slice(2);
  const kernel = w.shape.slice(2);
  const outSpatial = spatial.map(
    (l, i) => Math.floor((l + pad[i]![0] + pad[i]![1] - dilation[i]! * (kernel[i]! - 1) - 1) / stride[i]!) + 1,
  );
  const outShape = [n, o, ...outSpatial];
  const out = new Float64Array(outShape.reduce((a, b) => a * b, 1));
  const perGroup = o / groups;
  void c;
  let flat = 0;
  for (const [b, oc, ...pos] of indices(outShape)) {
    const g = Math.floor(oc! / perGroup);
    let sum = 0;
    for (let ic = 0; ic < cg; ic++) {
      for (const kk of indices(kernel)) {
        const inPos = pos.map((p, i) => p * stride[i]! - pad[i]![0] + kk[i]! * dilation[i]!);
        if (inPos.some((p, i) => p < 0 || p >= spatial[i]!)) continue;
        sum += at(x, [b!, g * cg + ic, ...inPos]) * at(w, [oc!, ic, ...kk]);
      }
    }
    out[flat++] = sum;
  }
  return { shape: outShape, data: out };
}

/** Transposed convolution by its definition: every input element scatters a scaled kernel. */
function naiveConvTranspose(
  x: Dense,
  w: Dense,
  stride: number[],
  pad: number[],
  outputPadding: number[],
  dilation: number[],
  groups: number,
): Dense {
  const [n, c] = x.shape as [number, number];
  const opg = w.shape[1]!;
  const cpg = c / groups;
  const spatial = x.shape.slice(2);
  const kernel = w.shape.slice(2);
  const outSpatial = spatial.map((l, i) => (l - 1) * stride[i]! - 2 * pad[i]! + dilation[i]! * (kernel[i]! - 1) + outputPadding[i]! + 1);
  const outShape = [n, opg * groups, ...outSpatial];
  const out = new Float64Array(outShape.reduce((a, b) => a * b, 1));
  const st = strides(outShape);
  for (const [b, ic, ...pos] of indices(x.shape)) {
    const g = Math.floor(ic! / cpg);
    const v = at(x, [b!, ic!, ...pos]);
    for (let oc = 0; oc < opg; oc++) {
      for (const kk of indices(kernel)) {
        const outPos = pos.map((p, i) => p * stride[i]! - pad[i]! + kk[i]! * dilation[i]!);
        if (outPos.some((p, i) => p < 0 || p >= outSpatial[i]!)) continue;
        const index = [b!, g * opg + oc, ...outPos];
        out[index.reduce((o, q, i) => o + q * st[i]!, 0)]! += v * at(w, [ic!, oc, ...kk]);
      }
    }
  }
  return { shape: outShape, data: out };
}

function poolOutSize(l: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = l + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= l + p) out--;
  return out;
}

function naiveMaxPool(x: Dense, k: number[], s: number[], p: number[], d: number[], ceil: boolean): Dense {
  const spatial = x.shape.slice(2);
  const outShape = [...x.shape.slice(0, 2), ...spatial.map((l, i) => poolOutSize(l, k[i]!, s[i]!, p[i]!, d[i]!, ceil))];
  const out: number[] = [];
  for (const [b, c, ...pos] of indices(outShape)) {
    let best = -Infinity;
    for (const kk of indices(k)) {
      const inPos = pos.map((q, i) => q * s[i]! - p[i]! + kk[i]! * d[i]!);
      if (inPos.some((q, i) => q < 0 || q >= spatial[i]!)) continue;
      best = Math.max(best, at(x, [b!, c!, ...inPos]));
    }
    out.push(best);
  }
  return { shape: outShape, data: Float64Array.from(out) };
}

/** PyTorch's avg_pool CPU kernel: window [start, start + k) clipped to [-p, L + p) for the divisor. */
function naiveAvgPool(x: Dense, k: number[], s: number[], p: number[], ceil: boolean, countIncludePad: boolean): Dense {
  const spatial = x.shape.slice(2);
  const outShape = [...x.shape.slice(0, 2), ...spatial.map((l, i) => poolOutSize(l, k[i]!, s[i]!, p[i]!, 1, ceil))];
  const out: number[] = [];
  for (const [b, c, ...pos] of indices(outShape)) {
    let poolSize = 1;
    let inside = 1;
    const lo: number[] = [];
    const hi: number[] = [];
    pos.forEach((q, i) => {
      const start = q * s[i]! - p[i]!;
      const end = Math.min(start + k[i]!, spatial[i]! + p[i]!);
      poolSize *= end - start;
      lo.push(Math.max(start, 0));
      hi.push(Math.min(end, spatial[i]!));
      inside *= Math.min(end, spatial[i]!) - Math.max(start, 0);
    });
    let sum = 0;
    for (const off of indices(lo.map((l, i) => hi[i]! - l))) sum += at(x, [b!, c!, ...off.map((o, i) => o + lo[i]!)]);
    out.push(sum / (countIncludePad ? poolSize : inside));
  }
  return { shape: outShape, data: Float64Array.from(out) };
}

function naiveAdaptive(x: Dense, outSize: number[], reduce: 'avg' | 'max'): Dense {
  const spatial = x.shape.slice(2);
  const outShape = [...x.shape.slice(0, 2), ...outSize];
  const out: number[] = [];
  for (const [b, c, ...pos] of indices(outShape)) {
    const lo = pos.map((q, i) => Math.floor((q * spatial[i]!) / outSize[i]!));
    const hi = pos.map((q, i) => Math.ceil(((q + 1) * spatial[i]!) / outSize[i]!));
    let sum = 0;
    let count = 0;
    let max = Number.NEGATIVE_INFINITY;
    for (const off of indices(lo.map((l, i) => hi[i]! - l))) {
      const v = at(x, [b!, c!, ...off.map((o, i) => o + lo[i]!)]);
      sum += v;
      max = Math.max(max, v);
      count++;
    }
    out.push(reduce === 'avg' ? sum / count : max);
  }
  return { shape: outShape, data: Float64Array.from(out) };
}

function expectDense(actual: Tensor, expected: Dense, digits = 10): void {
  expect(actual.shape).toEqual(expected.shape);
  const got = actual.dataSync();
  for (let i = 0; i < expected.data.length; i++) {
    if (!Number.isFinite(expected.data[i]!)) expect(got[i]).toBe(expected.data[i]);
    else expect(got[i]).toBeCloseTo(expected.data[i]!, digits);
  }
}

describe('conv2d', () => {
  it('computes a hand-checked cross-correlation', () => {
    const x = tensor([
      [
        [
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
        ],
      ],
    ]);
    const w = tensor([
      [
        [
          [1, 0],
          [0, -1],
        ],
      ],
    ]);
    // out[i][j] = x[i][j] - x[i+1][j+1]
    expect(conv2d(x, w).arraySync()).toEqual([
      [
        [
          [-4, -4],
          [-4, -4],
        ],
      ],
    ]);
    expect(conv2d(x, w).dtype).toBe('float32');
  });

  const configurations: {
    name: string;
    x: number[];
    w: number[];
    stride?: number[];
    padding?: number[];
    dilation?: number[];
    groups?: number;
  }[] = [
    { name: 'plain', x: [2, 3, 6, 5], w: [4, 3, 3, 2] },
    { name: 'stride and padding', x: [1, 2, 7, 7], w: [3, 2, 3, 3], stride: [2, 3], padding: [1, 2] },
    { name: 'dilation', x: [1, 2, 9, 8], w: [2, 2, 3, 2], dilation: [2, 3], padding: [2, 1] },
    { name: 'groups', x: [2, 4, 5, 5], w: [6, 2, 3, 3], groups: 2, padding: [1, 1] },
    { name: 'depthwise, everything', x: [1, 3, 8, 7], w: [3, 1, 2, 3], groups: 3, stride: [2, 2], dilation: [2, 1], padding: [1, 0] },
  ];
  for (const [i, cfg] of configurations.entries()) {
    it(`matches the naive reference: ${cfg.name}`, () => {
      const x = random(cfg.x, 10 + i);
      const w = random(cfg.w, 20 + i);
      const stride = cfg.stride ?? [1, 1];
      const padding = cfg.padding ?? [0, 0];
      const dilation = cfg.dilation ?? [1, 1];
      const out = conv2d(toTensor(x), toTensor(w), { stride, padding, dilation, groups: cfg.groups ?? 1 });
      expectDense(
        out,
        naiveConv(
          x,
          w,
          stride,
          padding.map((p) => [p, p]),
          dilation,
          cfg.groups ?? 1,
        ),
      );
    });
  }

  it("supports padding 'same' (extra padding on the high side) and 'valid'", () => {
    const x = random([1, 2, 6, 5], 1);
    const w = random([3, 2, 4, 3], 2);
    const same = conv2d(toTensor(x), toTensor(w), { padding: 'same', dilation: [1, 2] });
    expect(same.shape).toEqual([1, 3, 6, 5]);
    // kernel 4, dilation 1: total 3 -> [1, 2]; kernel 3, dilation 2: total 4 -> [2, 2]
    expectDense(
      same,
      naiveConv(
        x,
        w,
        [1, 1],
        [
          [1, 2],
          [2, 2],
        ],
        [1, 2],
        1,
      ),
    );
    expect(conv2d(toTensor(x), toTensor(w), { padding: 'valid' }).shape).toEqual([1, 3, 3, 3]);
    expect(() => conv2d(toTensor(x), toTensor(w), { padding: 'same', stride: 2 })).toThrow(/padding='same' needs stride 1/);
  });

  it('frees the unbiased output once the bias is added: a call leaves one buffer, its result', () => {
    const x = toTensor(random([2, 2, 5, 5], 5));
    const w = toTensor(random([3, 2, 3, 3], 6));
    const bias = tensor([1, -2, 0.5], { dtype: 'float64' });
    // Counted on the backend the tensors live on: memory() also sums the backends other test files
    // made, and a stand-in that wraps 'cpu' counts its buffers again.
    const before = getBackend().memory().buffers;
    const out = conv2d(x, w, { bias, padding: 1 });
    expect(getBackend().memory().buffers - before).toBe(1);
    out.dispose();
  });

  it('adds the bias per output channel and accepts unbatched input', () => {
    const x = random([2, 4, 4], 3);
    const w = random([3, 2, 3, 3], 4);
    const bias = tensor([1, -2, 0.5], { dtype: 'float64' });
    const out = conv2d(toTensor(x), toTensor(w), { bias, padding: 1 });
    expect(out.shape).toEqual([3, 4, 4]);
    const ref = naiveConv(
      { shape: [1, 2, 4, 4], data: x.data },
      w,
      [1, 1],
      [
        [1, 1],
        [1, 1],
      ],
      [1, 1],
      1,
    );
    ref.shape = [3, 4, 4];
    ref.data = ref.data.map((v, i) => v + [1, -2, 0.5][Math.floor(i / 16)]!);
    expectDense(out, ref);
  });

  it('names shapes in its errors', () => {
    const x = toTensor(random([1, 3, 5, 5], 1));
    expect(() => conv2d(x, toTensor(random([4, 2, 3, 3], 2)))).toThrow(
      /input \[1, 3, 5, 5\] has 3 channels but weight \[4, 2, 3, 3\] expects 2 x groups \(1\) = 2/,
    );
    expect(() => conv2d(x, toTensor(random([4, 3, 3], 2)))).toThrow(ShapeError);
    expect(() => conv2d(toTensor(random([5, 5], 1)), toTensor(random([1, 1, 3, 3], 2)))).toThrow(/input must be \[N, C, H, W\]/);
    expect(() => conv2d(x, toTensor(random([4, 3, 7, 7], 2)))).toThrow(/smaller than the \(dilated\) kernel/);
    expect(() => conv2d(x, toTensor(random([4, 1, 3, 3], 2)), { groups: 3, bias: tensor([1, 2]) })).toThrow(/not divisible by groups/);
    expect(() => conv2d(x, toTensor(random([3, 1, 3, 3], 2)), { groups: 3, bias: tensor([1, 2]) })).toThrow(/bias must have shape \[3\]/);
    expect(() => conv2d(x, toTensor(random([3, 3, 3, 3], 2)), { stride: [1, 2, 3] })).toThrow(ValueError);
    expect(() => conv2d(x, toTensor(random([3, 3, 3, 3], 2)), { stride: 0 })).toThrow(/stride must be positive/);
  });
});

describe('conv1d and conv3d', () => {
  it('conv1d matches the reference with stride, padding, dilation and groups', () => {
    const x = random([2, 4, 11], 5);
    const w = random([6, 2, 3], 6);
    const out = conv1d(toTensor(x), toTensor(w), { stride: 2, padding: 2, dilation: 2, groups: 2 });
    expectDense(out, naiveConv(x, w, [2], [[2, 2]], [2], 2));
  });

  it('conv3d matches the reference', () => {
    const x = random([1, 2, 4, 5, 4], 7);
    const w = random([2, 2, 2, 3, 2], 8);
    const out = conv3d(toTensor(x), toTensor(w), { stride: [1, 2, 1], padding: [1, 0, 1] });
    expectDense(
      out,
      naiveConv(
        x,
        w,
        [1, 2, 1],
        [
          [1, 1],
          [0, 0],
          [1, 1],
        ],
        [1, 1, 1],
        1,
      ),
    );
  });
});

describe('transposed convolution', () => {
  it('convTranspose1d scatters the kernel (hand-computed)', () => {
    // input [1, 2], kernel [1, 1, 1], stride 2: [1, 1, 1, 0, 0] + [0, 0, 2, 2, 2]
    const out = convTranspose1d(tensor([[[1, 2]]]), tensor([[[1, 1, 1]]]), { stride: 2 });
    expect(out.arraySync()).toEqual([[[1, 1, 3, 2, 2]]]);
  });

  const configurations: {
    name: string;
    x: number[];
    w: number[];
    stride: number[];
    padding: number[];
    outputPadding: number[];
    dilation: number[];
    groups: number;
  }[] = [
    {
      name: 'stride 2',
      x: [1, 2, 3, 4],
      w: [2, 3, 3, 3],
      stride: [2, 2],
      padding: [0, 0],
      outputPadding: [0, 0],
      dilation: [1, 1],
      groups: 1,
    },
    {
      name: 'padding and outputPadding',
      x: [2, 2, 4, 3],
      w: [2, 2, 3, 3],
      stride: [2, 3],
      padding: [1, 1],
      outputPadding: [1, 2],
      dilation: [1, 1],
      groups: 1,
    },
    {
      name: 'dilation and groups',
      x: [1, 4, 3, 3],
      w: [4, 3, 2, 3],
      stride: [1, 2],
      padding: [1, 0],
      outputPadding: [0, 1],
      dilation: [2, 1],
      groups: 2,
    },
  ];
  for (const [i, cfg] of configurations.entries()) {
    it(`convTranspose2d matches the scatter definition: ${cfg.name}`, () => {
      const x = random(cfg.x, 30 + i);
      const w = random(cfg.w, 40 + i);
      const out = convTranspose2d(toTensor(x), toTensor(w), cfg);
      expectDense(out, naiveConvTranspose(x, w, cfg.stride, cfg.padding, cfg.outputPadding, cfg.dilation, cfg.groups));
    });
  }

  it('convTranspose1d and 3d match the reference', () => {
    const x1 = random([2, 3, 5], 50);
    const w1 = random([3, 2, 4], 51);
    expectDense(
      convTranspose1d(toTensor(x1), toTensor(w1), { stride: 3, padding: 1, outputPadding: 2 }),
      naiveConvTranspose(x1, w1, [3], [1], [2], [1], 1),
    );
    const x3 = random([1, 2, 2, 3, 2], 52);
    const w3 = random([2, 1, 2, 2, 3], 53);
    expectDense(
      convTranspose3d(toTensor(x3), toTensor(w3), { stride: 2 }),
      naiveConvTranspose(x3, w3, [2, 2, 2], [0, 0, 0], [0, 0, 0], [1, 1, 1], 1),
    );
  });

  it('adds a bias and checks its arguments', () => {
    const out = convTranspose2d(tensor([[[[1]]]]), tensor([[[[1, 2]], [[3, 4]]]]), { bias: tensor([10, 20]) });
    expect(out.arraySync()).toEqual([[[[11, 12]], [[23, 24]]]]);
    expect(() => convTranspose2d(toTensor(random([1, 3, 4, 4], 1)), toTensor(random([2, 2, 3, 3], 2)))).toThrow(
      /has 3 channels but weight \[2, 2, 3, 3\] expects 2/,
    );
    expect(() =>
      convTranspose2d(toTensor(random([1, 2, 4, 4], 1)), toTensor(random([2, 2, 3, 3], 2)), { stride: 2, outputPadding: 2 }),
    ).toThrow(/outputPadding/);
  });
});

describe('pooling', () => {
  it('maxPool2d takes window maxima (hand-computed)', () => {
    const x = tensor([
      [
        [
          [1, 2, 3, 4],
          [5, 6, 7, 8],
          [9, 10, 11, 12],
          [13, 14, 15, 16],
        ],
      ],
    ]);
    expect(maxPool2d(x, 2).arraySync()).toEqual([
      [
        [
          [6, 8],
          [14, 16],
        ],
      ],
    ]);
    expect(maxPool2d(x, 2).dtype).toBe('int32');
  });

  it('avgPool2d averages windows (hand-computed), integers giving floats', () => {
    const x = tensor([
      [
        [
          [1, 2, 3, 4],
          [5, 6, 7, 8],
          [9, 10, 11, 12],
          [13, 14, 15, 16],
        ],
      ],
    ]);
    const out = avgPool2d(x, 2);
    expect(out.dtype).toBe('float32');
    expect(out.arraySync()).toEqual([
      [
        [
          [3.5, 5.5],
          [11.5, 13.5],
        ],
      ],
    ]);
  });

  it('avgPool2d counts the zero padding in the divisor by default, as PyTorch', () => {
    const x = tensor([
      [
        [
          [1, 2],
          [3, 4],
        ],
      ],
    ]);
    expect(avgPool2d(x, 2, { stride: 1, padding: 1 }).arraySync()).toEqual([
      [
        [
          [0.25, 0.75, 0.5],
          [1, 2.5, 1.5],
          [0.75, 1.75, 1],
        ],
      ],
    ]);
    expect(avgPool2d(x, 2, { stride: 1, padding: 1, countIncludePad: false }).arraySync()).toEqual([
      [
        [
          [1, 1.5, 2],
          [2, 2.5, 3],
          [3, 3.5, 4],
        ],
      ],
    ]);
  });

  const maxCases: { k: number[]; s?: number[]; p?: number[]; d?: number[]; ceil?: boolean; x: number[] }[] = [
    { x: [2, 3, 7, 6], k: [3, 2] },
    { x: [1, 2, 7, 7], k: [3, 3], s: [2, 2], p: [1, 1] },
    { x: [1, 2, 8, 7], k: [2, 3], s: [2, 2], d: [2, 2], p: [1, 1] },
    { x: [1, 1, 7, 6], k: [3, 2], s: [2, 2], ceil: true },
    { x: [1, 1, 6, 5], k: [2, 2], s: [2, 2], p: [1, 1], ceil: true },
  ];
  for (const [i, cfg] of maxCases.entries()) {
    it(`maxPool2d matches the reference (${JSON.stringify(cfg)})`, () => {
      const x = random(cfg.x, 60 + i);
      const s = cfg.s ?? cfg.k;
      const p = cfg.p ?? [0, 0];
      const d = cfg.d ?? [1, 1];
      const out = maxPool2d(toTensor(x), cfg.k, { stride: s, padding: p, dilation: d, ceilMode: cfg.ceil ?? false });
      expectDense(out, naiveMaxPool(x, cfg.k, s, p, d, cfg.ceil ?? false));
    });
  }

  const avgCases: { k: number[]; s?: number[]; p?: number[]; ceil?: boolean; include?: boolean; x: number[] }[] = [
    { x: [2, 2, 6, 6], k: [3, 3], s: [1, 1] },
    { x: [1, 2, 7, 5], k: [3, 2], s: [2, 1], p: [1, 1] },
    { x: [1, 2, 7, 5], k: [3, 2], s: [2, 1], p: [1, 1], include: false },
    { x: [1, 1, 7, 6], k: [3, 2], s: [2, 2], ceil: true },
    { x: [1, 1, 6, 5], k: [3, 3], s: [2, 2], p: [1, 1], ceil: true },
    { x: [1, 1, 6, 5], k: [3, 3], s: [2, 2], p: [1, 1], ceil: true, include: false },
  ];
  for (const [i, cfg] of avgCases.entries()) {
    it(`avgPool2d matches PyTorch's divisor rules (${JSON.stringify(cfg)})`, () => {
      const x = random(cfg.x, 70 + i);
      const s = cfg.s ?? cfg.k;
      const p = cfg.p ?? [0, 0];
      const out = avgPool2d(toTensor(x), cfg.k, {
        stride: s,
        padding: p,
        ceilMode: cfg.ceil ?? false,
        countIncludePad: cfg.include ?? true,
      });
      expectDense(out, naiveAvgPool(x, cfg.k, s, p, cfg.ceil ?? false, cfg.include ?? true));
    });
  }

  it('1-d and 3-d pools match the references', () => {
    const x1 = random([2, 3, 9], 80);
    expectDense(maxPool1d(toTensor(x1), 3, { stride: 2, padding: 1 }), naiveMaxPool(x1, [3], [2], [1], [1], false));
    expectDense(avgPool1d(toTensor(x1), 2, { countIncludePad: false, padding: 1 }), naiveAvgPool(x1, [2], [2], [1], false, false));
    const x3 = random([1, 2, 4, 5, 4], 81);
    expectDense(maxPool3d(toTensor(x3), 2), naiveMaxPool(x3, [2, 2, 2], [2, 2, 2], [0, 0, 0], [1, 1, 1], false));
    expectDense(avgPool3d(toTensor(x3), [2, 3, 2], { stride: 1 }), naiveAvgPool(x3, [2, 3, 2], [1, 1, 1], [0, 0, 0], false, true));
  });

  it('accepts unbatched input and rejects bad padding', () => {
    const x = random([2, 4, 4], 82);
    expect(maxPool2d(toTensor(x), 2).shape).toEqual([2, 2, 2]);
    expect(() => maxPool2d(toTensor(x), 2, { padding: 2 })).toThrow(/at most half the kernel/);
    expect(() => maxPool2d(toTensor(x), 5)).toThrow(/smaller than the kernel/);
  });

  it('adaptiveAvgPool2d handles even and uneven windows', () => {
    const x = random([2, 3, 7, 6], 90);
    expectDense(adaptiveAvgPool2d(toTensor(x), [3, 4]), naiveAdaptive(x, [3, 4], 'avg'));
    expectDense(adaptiveAvgPool2d(toTensor(x), 1), naiveAdaptive(x, [1, 1], 'avg'));
    expectDense(adaptiveAvgPool2d(toTensor(x), [7, 3]), naiveAdaptive(x, [7, 3], 'avg'));
    expect(adaptiveAvgPool2d(toTensor(x), [null, 2]).shape).toEqual([2, 3, 7, 2]);
    expectDense(adaptiveAvgPool2d(toTensor(x), [5, 8]), naiveAdaptive(x, [5, 8], 'avg'));
    const x1 = random([1, 2, 10], 91);
    expectDense(adaptiveAvgPool1d(toTensor(x1), 4), naiveAdaptive(x1, [4], 'avg'));
    expect(() => adaptiveAvgPool2d(toTensor(x), 0)).toThrow(/positive integers/);
    const x3 = random([1, 2, 5, 4, 3], 92);
    expectDense(adaptiveAvgPool3d(toTensor(x3), [2, 3, 2]), naiveAdaptive(x3, [2, 3, 2], 'avg'));
  });

  it("adaptiveMaxPool takes each window's maximum, even and uneven, in 1, 2 and 3 dimensions", () => {
    const x = random([2, 3, 7, 6], 93);
    for (const out of [
      [3, 4],
      [1, 1],
      [7, 3],
      [5, 8],
      [7, 6],
      [2, 3],
    ]) {
      expectDense(adaptiveMaxPool2d(toTensor(x), out), naiveAdaptive(x, out, 'max'));
    }
    expect(adaptiveMaxPool2d(toTensor(x), [null, 4]).shape).toEqual([2, 3, 7, 4]);
    const x1 = random([1, 2, 10], 94);
    for (const out of [4, 3, 1, 13]) expectDense(adaptiveMaxPool1d(toTensor(x1), out), naiveAdaptive(x1, [out], 'max'));
    const x3 = random([1, 2, 5, 4, 3], 95);
    expectDense(adaptiveMaxPool3d(toTensor(x3), [2, 3, 2]), naiveAdaptive(x3, [2, 3, 2], 'max'));
    // Unbatched input, and integers (whose padding is the dtype's lowest value).
    expect(adaptiveMaxPool2d(toTensor(random([3, 7, 6], 96)), 3).shape).toEqual([3, 3, 3]);
    const ints = tensor(Int32Array.from([-2147483648, -2147483648, 5, -7, -3]), { shape: [1, 1, 5] });
    expect(Array.from(adaptiveMaxPool1d(ints, 3).dataSync())).toEqual([-2147483648, 5, -3]);
    const bytes = tensor(Uint8Array.from([0, 0, 3, 0, 0]), { shape: [1, 1, 5], dtype: 'uint8' });
    expect(Array.from(adaptiveMaxPool1d(bytes, 3).dataSync())).toEqual([0, 3, 0]);
    expect(() => adaptiveMaxPool2d(toTensor(x), [2])).toThrow(/outputSize must be one integer or 2/);
    expect(() => adaptiveMaxPool2d(toTensor(random([2, 3, 7], 97)).reshape([42]), 2)).toThrow(/\[N, C, H, W\]/);
  });

  it("adaptiveMaxPool sends each window's gradient to its first maximum, as PyTorch", () => {
    // Windows of 5 -> 3 are [0, 2), [1, 4), [3, 5): positions 1 and 3 are shared. Ties pick the
    // first maximum in row-major order.
    const x = tensor(
      [
        [
          [
            [1, 4, 4, 2, 2],
            [4, 0, 3, 2, 1],
          ],
        ],
      ],
      { dtype: 'float32' },
    );
    const g = grad((t: Tensor) => adaptiveMaxPool2d(t, [1, 3]).sum())(x);
    expect(Array.from(g.dataSync())).toEqual([0, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    const even = grad((t: Tensor) => adaptiveMaxPool2d(t, [1, 1]).sum())(
      tensor(
        [
          [
            [
              [1, 4],
              [4, 0],
            ],
          ],
        ],
        { dtype: 'float32' },
      ),
    );
    expect(Array.from(even.dataSync())).toEqual([0, 1, 0, 0]);
  });
});
