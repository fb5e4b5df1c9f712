/**
 * The float64 reference in plain JavaScript loops, used when PyTorch is not installed: the
 * forward suites and the convolution's gradients, computed on the same (exactly representable)
 * inputs as every float32 system. Training steps need an autodiff system and are not covered.
 */
import { Absent, readJob } from '../common/child.js';
import { type PreparedCase, runCases } from '../common/driver.js';
import { conv2dInputs } from '../common/models.js';
import { symmetricArray } from '../common/prng.js';
import { type CaseSpec, param } from '../common/suites.js';
import { conv, convGradients } from './conv-reference.js';

const job = readJob();

const f64 = (data: Float32Array) => Float64Array.from(data);

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[row + k] as number;
      const bRow = k * n;
      for (let j = 0; j < n; j++) c[row + j] = (c[row + j] as number) + aik * (b[bRow + j] as number);
    }
  }
  return c;
}

function chain(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    out[i] = Math.max(Math.sqrt(Math.abs(Math.exp(Math.tanh(v * 0.5 + 0.25) * v) - 0.25)) + v, 0);
  }
  return out;
}

function constant(values: Float64Array): PreparedCase {
  return { check: async () => values, batch: () => undefined };
}

function implement(spec: CaseSpec): PreparedCase {
  const seed = spec.params.seed ?? 0;
  switch (spec.kind) {
    case 'matmul': {
      const n = param(spec, 'n');
      return constant(matmul(f64(symmetricArray(seed + 1, n * n)), f64(symmetricArray(seed + 2, n * n)), n));
    }
    case 'elementwise-eager':
    case 'elementwise-jit':
      return constant(chain(f64(symmetricArray(seed + 1, param(spec, 'size')))));
    case 'dispatch-add':
      return constant(Float64Array.of((symmetricArray(seed + 1, 1)[0] as number) + (symmetricArray(seed + 2, 1)[0] as number)));
    case 'conv2d-forward':
    case 'conv2d-backward': {
      const { n, c, o, s, stride, ...inputs } = conv2dInputs(spec);
      const shape = { n, c, o, s, stride };
      const x = f64(inputs.x);
      const w = f64(inputs.w);
      if (spec.kind === 'conv2d-forward') return constant(conv(x, w, shape));
      const r = f64(inputs.cotangent());
      return constant(convGradients(x, w, r, shape));
    }
    default:
      throw new Absent('the JavaScript reference covers forward suites only');
  }
}

await runCases(job, implement);
