import '@flint/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError } from '../core/errors.js';
import {
  amp,
  compile,
  getBackend,
  matmul,
  mean,
  memory,
  nn,
  optim,
  Parameter,
  setBackend,
  sum,
  type Tensor,
  tensor,
  tidy,
} from '../index.js';
import { useHalfEmulation } from './half-emulation.test-support.js';

let previous: string;
beforeAll(() => {
  previous = getBackend().name;
  useHalfEmulation();
});
afterAll(() => {
  setBackend(previous);
});

const x = () =>
  tensor([
    [0.5, -1.25, 2],
    [1, 0.75, -0.5],
  ]);
const w0 = [
  [0.25, 1],
  [-0.5, 0.125],
  [2, -1],
];

function setGrad(p: Parameter, values: number[][]): void {
  p.zeroGrad();
  p.grad = tensor(values);
}

describe('GradScaler', () => {
  it("has PyTorch's defaults", () => {
    const scaler = new amp.GradScaler();
    expect(scaler.getScale()).toBe(65536);
    expect([scaler.getGrowthFactor(), scaler.getBackoffFactor(), scaler.getGrowthInterval()]).toEqual([2, 0.5, 2000]);
    expect(scaler.stateDict()).toEqual({ scale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, growthTracker: 0 });
  });

  it('skips the step when a gradient is infinite or NaN, leaving the weights alone, and halves the scale', () => {
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN]) {
      const p = new Parameter(tensor(w0));
      const optimizer = new optim.SGD([p], { lr: 0.1 });
      const scaler = new amp.GradScaler({ initScale: 1024 });
      setGrad(p, [
        [1, 2],
        [3, bad],
        [5, 6],
      ]);
      expect(scaler.step(optimizer)).toBe(false);
      expect(scaler.foundInf).toBe(true);
      expect(p.value.arraySync()).toEqual(w0);
      scaler.update();
      expect(scaler.getScale()).toBe(512);
      expect(scaler.stateDict().growthTracker).toBe(0);
    }
  });

  it('steps with the unscaled gradients, and grows the scale after growthInterval clean steps', () => {
    const p = new Parameter(tensor(w0));
    const optimizer = new optim.SGD([p], { lr: 1 });
    const scaler = new amp.GradScaler({ initScale: 8, growthInterval: 3 });
    const scales: number[] = [];
    for (let i = 0; i < 7; i++) {
      const g = i === 4 ? Number.POSITIVE_INFINITY : scaler.getScale();
      setGrad(p, [
        [g, 0],
        [0, 0],
        [0, 0],
      ]);
      scaler.step(optimizer);
      scaler.update();
      scales.push(scaler.getScale());
    }
    // Growth after 3 clean steps; the overflow at step 4 halves it and restarts the count.
    expect(scales).toEqual([8, 8, 16, 16, 8, 8, 8]);
    // Each of the 6 clean steps subtracted lr x (scaled gradient / scale) = 1 from the first weight.
    expect((p.value.arraySync() as number[][])[0]).toEqual([0.25 - 6, 1]);
  });

  it('unscales to the float32 gradients, and keeps tiny float16 gradients that would flush to zero unscaled', () => {
    const lossOf = (w: Tensor) => sum(matmul(x(), w).astype('float32')).mul(1e-6);
    const reference = new Parameter(tensor(w0));
    lossOf(reference.value).backward();
    const exact = reference.grad?.dataSync() as Float32Array;
    expect(exact.every((v) => v !== 0)).toBe(true);

    const plain = new Parameter(tensor(w0));
    amp.autocast({ dtype: 'float16' }, () => lossOf(plain.value)).backward();
    // Unscaled, the cotangent 1e-6 becomes a float16 subnormal: most of the gradient is lost.
    const lost = Array.from(plain.grad?.dataSync() ?? []).map((v, i) => Math.abs(v - (exact[i] as number)) / Math.abs(exact[i] as number));
    expect(Math.max(...lost)).toBeGreaterThan(0.02);

    const p = new Parameter(tensor(w0));
    const optimizer = new optim.SGD([p], { lr: 0.1 });
    const scaler = new amp.GradScaler();
    const loss = amp.autocast({ dtype: 'float16' }, () => lossOf(p.value));
    scaler.scale(loss).backward();
    scaler.unscale(optimizer);
    expect(p.grad?.dtype).toBe('float32');
    Array.from(p.grad?.dataSync() ?? []).forEach((v, i) => {
      expect(Math.abs(v - (exact[i] as number))).toBeLessThan(2e-3 * Math.abs(exact[i] as number));
    });
    expect(scaler.step(optimizer)).toBe(true);
    scaler.update();
    expect(scaler.getScale()).toBe(65536);
    // A float16 loss is scaled in float32: 2 x 2**16 is beyond float16's range.
    const halfLoss = scaler.scale(tensor(2).astype('float16'));
    expect([halfLoss.dtype, halfLoss.item()]).toEqual(['float32', 131072]);
    expect(scaler.scale([tensor(1), tensor(3)]).map((t) => t.item())).toEqual([65536, 196608]);
  });

  it('refuses calls out of order, and passes everything through when disabled', () => {
    const p = new Parameter(tensor(w0));
    const optimizer = new optim.SGD([p], { lr: 0.5 });
    const scaler = new amp.GradScaler();
    expect(() => scaler.update()).toThrow(ValueError);
    setGrad(p, [
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    scaler.unscale(optimizer);
    expect(() => scaler.unscale(optimizer)).toThrow('GradScaler.unscale: already called on this optimizer since the last update()');
    scaler.step(optimizer);
    expect(() => scaler.step(optimizer)).toThrow(ValueError);
    expect(() => new amp.GradScaler({ growthFactor: 1 })).toThrow('GradScaler: growthFactor must be a number above 1, got 1');
    expect(() => new amp.GradScaler({ growthInterval: 1.5 })).toThrow(ValueError);

    const off = new amp.GradScaler({ enabled: false });
    const loss = tensor(3);
    expect(off.scale(loss)).toBe(loss);
    expect(off.getScale()).toBe(1);
    setGrad(p, [
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    const before = p.value.dataSync()[0] as number;
    expect(off.step(optimizer)).toBe(true);
    off.update();
    expect(p.value.dataSync()[0]).toBeCloseTo(before - 0.5, 6);
  });

  it('saves and restores its state', () => {
    const scaler = new amp.GradScaler({ initScale: 4, growthInterval: 5 });
    const p = new Parameter(tensor(w0));
    const optimizer = new optim.SGD([p], { lr: 0 });
    for (let i = 0; i < 2; i++) {
      setGrad(p, [
        [1, 1],
        [1, 1],
        [1, 1],
      ]);
      scaler.step(optimizer);
      scaler.update();
    }
    const state = scaler.stateDict();
    expect(state).toEqual({ scale: 4, growthFactor: 2, backoffFactor: 0.5, growthInterval: 5, growthTracker: 2 });
    const restored = new amp.GradScaler();
    restored.loadStateDict(JSON.parse(JSON.stringify(state)));
    expect(restored.stateDict()).toEqual(state);
    expect(() => restored.loadStateDict({ ...state, growthTracker: -1 })).toThrow(ValueError);
    expect(() => restored.loadStateDict(Promise.resolve(state) as never)).toThrow(/GradScaler\.loadStateDict: got a Promise/);
  });

  it('frees the old gradients and its scalar when it unscales: no buffer is left for the collector', () => {
    const p = new Parameter(tensor(w0));
    const optimizer = new optim.SGD([p], { lr: 0.1 });
    const scaler = new amp.GradScaler({ initScale: 4 });
    for (let i = 0; i < 3; i++) {
      tidy(() => scaler.scale(sum(matmul(x(), p.value))).backward());
      const before = memory().buffers;
      scaler.unscale(optimizer);
      expect(memory().buffers).toBe(before);
      scaler.step(optimizer);
      scaler.update();
      optimizer.zeroGrad();
    }
  });

  it("refuses half gradients, naming the parameter and dtype, as PyTorch's 'Attempting to unscale FP16 gradients.'", () => {
    const p = new Parameter(tensor(w0), { name: 'weight' });
    const optimizer = new optim.SGD([p], { lr: 0.1 });
    const scaler = new amp.GradScaler();
    p.grad = tensor(w0).astype('float16');
    expect(() => scaler.unscale(optimizer)).toThrow(ValueError);
    expect(() => scaler.step(optimizer)).toThrow(
      "GradScaler.unscale: attempting to unscale float16 gradients (parameter 'weight' has a float16 gradient)",
    );
    expect(p.value.arraySync()).toEqual(w0);
  });

  it('says so when the optimizer has no gradients, and never grows the scale past float32', () => {
    const p = new Parameter(tensor(w0));
    const optimizer = new optim.SGD([p], { lr: 0.1 });
    expect(() => new amp.GradScaler().step(optimizer)).toThrow('GradScaler.step: no inf checks were recorded for this optimizer');
    const scaler = new amp.GradScaler({ initScale: 2 ** 127, growthInterval: 1 });
    for (let i = 0; i < 3; i++) {
      setGrad(p, [
        [0, 0],
        [0, 0],
        [0, 0],
      ]);
      expect(scaler.step(optimizer)).toBe(true);
      scaler.update();
      expect(scaler.getScale()).toBe(2 ** 127);
    }
  });

  it('fails inside compile with an error that names GradScaler.step, not a bare concretization error', () => {
    const model = new nn.Linear(3, 2);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const scaler = new amp.GradScaler();
    const step = compile(
      (input: Tensor) => {
        optimizer.zeroGrad();
        const loss = mean(model.forward(input));
        scaler.scale(loss).backward();
        scaler.step(optimizer);
        scaler.update();
        return loss;
      },
      { modules: [model], optimizers: [optimizer] },
    );
    expect(() => step(x())).toThrow(ValueError);
    expect(() => step(x())).toThrow(/GradScaler\.step: .*jit or compile/);
  });
});
