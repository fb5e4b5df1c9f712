/**
 * The float64 reference in plain JavaScript loops, used when PyTorch is not installed: the
 * forward suites and the convolution's gradients, computed on the same (exactly representable)
 * inputs as every float32 system. Training steps need an autodiff system and are not covered.
 */
import { Absent, readJob } from '../common/child.js';
import { type PreparedCase, runCases } from '../common/driver.js';
import { initScale, symmetricArray } from '../common/prng.js';
import { type CaseSpec, param } from '../common/suites.js';

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

interface ConvShape {
  readonly n: number;
  readonly c: number;
  readonly o: number;
  readonly s: number;
}

/** 3x3 convolution, stride 1, zero padding 1, NCHW / OIHW. */
function conv(x: Float64Array, w: Float64Array, { n, c, o, s }: ConvShape): Float64Array {
  const y = new Float64Array(n * o * s * s);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let ic = 0; ic < c; ic++)
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const weight = w[((oc * c + ic) * 3 + kh) * 3 + kw] as number;
            for (let h = 0; h < s; h++) {
              const ih = h + kh - 1;
              if (ih < 0 || ih >= s) continue;
              const yRow = ((b * o + oc) * s + h) * s;
              const xRow = ((b * c + ic) * s + ih) * s;
              for (let ww = 0; ww < s; ww++) {
                const iw = ww + kw - 1;
                if (iw >= 0 && iw < s) y[yRow + ww] = (y[yRow + ww] as number) + weight * (x[xRow + iw] as number);
              }
            }
          }
  return y;
}

/** Gradients of sum(conv(x, w) * r) with respect to x and w, concatenated. */
function convGradients(x: Float64Array, w: Float64Array, r: Float64Array, { n, c, o, s }: ConvShape): Float64Array {
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let ic = 0; ic < c; ic++)
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const wIndex = ((oc * c + ic) * 3 + kh) * 3 + kw;
            const weight = w[wIndex] as number;
            let dwSum = 0;
            for (let h = 0; h < s; h++) {
              const ih = h + kh - 1;
              if (ih < 0 || ih >= s) continue;
              const rRow = ((b * o + oc) * s + h) * s;
              const xRow = ((b * c + ic) * s + ih) * s;
              for (let ww = 0; ww < s; ww++) {
                const iw = ww + kw - 1;
                if (iw < 0 || iw >= s) continue;
                const g = r[rRow + ww] as number;
                dwSum += g * (x[xRow + iw] as number);
                dx[xRow + iw] = (dx[xRow + iw] as number) + g * weight;
              }
            }
            dw[wIndex] = (dw[wIndex] as number) + dwSum;
          }
  const out = new Float64Array(dx.length + dw.length);
  out.set(dx);
  out.set(dw, dx.length);
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
      const shape = { n: param(spec, 'batch'), c: param(spec, 'inChannels'), o: param(spec, 'outChannels'), s: param(spec, 'size') };
      const x = f64(symmetricArray(seed + 1, shape.n * shape.c * shape.s * shape.s));
      const w = f64(symmetricArray(seed + 2, shape.o * shape.c * 9, initScale(shape.c * 9)));
      if (spec.kind === 'conv2d-forward') return constant(conv(x, w, shape));
      const r = f64(symmetricArray(seed + 3, shape.n * shape.o * shape.s * shape.s));
      return constant(convGradients(x, w, r, shape));
    }
    default:
      throw new Absent('the JavaScript reference covers forward suites only');
  }
}

await runCases(job, implement);
