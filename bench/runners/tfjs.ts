/**
 * TensorFlow.js 4.22 runner, for its 'cpu' (plain JavaScript) and 'wasm' (XNNPACK, SIMD) backends.
 * TensorFlow.js is channels-last, so convolution inputs are transposed to NHWC once, before timing,
 * and outputs back to NCHW for the check; the CNN's dense weights are permuted to match its
 * flatten order. Both backends run kernels synchronously, so no read is needed to wait for work.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node build registers no gradients: the union package's bundle does, into the global
// registry that tfjs-core reads (its ESM gradient files cannot be imported by Node directly).
import '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Absent, concatValues, readJob, reportInfo } from '../common/child.js';
import { type PreparedCase, runCases } from '../common/driver.js';
import { initScale, labels, oneHot, symmetricArray } from '../common/prng.js';
import { type CaseSpec, param } from '../common/suites.js';

const job = readJob();
const backendName = job.system === 'tfjs-wasm' ? 'wasm' : 'cpu';

if (backendName === 'wasm') {
  const require = createRequire(import.meta.url);
  const wasmFile = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  setWasmPaths(`${path.dirname(wasmFile)}/`);
}
if (!(await tf.setBackend(backendName))) throw new Error(`TensorFlow.js backend '${backendName}' failed to initialize`);
await tf.ready();
tf.enableProdMode();

const notes = [`backend ${tf.getBackend()}`];
if (backendName === 'wasm') {
  notes.push(`simd ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}`);
}
reportInfo({ system: job.system, version: tf.version_core, notes });

const SYNC_NOTE = 'synchronous kernels';

/** NCHW data as an NHWC tensor. */
function nhwc(data: Float32Array, n: number, c: number, h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, [n, c, h, w]), [0, 2, 3, 1]));
}

/** OIHW weights as an HWIO tensor. */
function hwio(data: Float32Array, o: number, i: number, h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, [o, i, h, w]), [2, 3, 1, 0]));
}

function toNchwData(x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => tf.transpose(x, [0, 3, 1, 2])).dataSync() as Float32Array;
}

function toOihwData(w: tf.Tensor4D): Float32Array {
  return tf.tidy(() => tf.transpose(w, [3, 2, 0, 1])).dataSync() as Float32Array;
}

function chain(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let y = tf.mul(x, 0.5);
    y = tf.add(y, 0.25);
    y = tf.tanh(y);
    y = tf.mul(y, x);
    y = tf.exp(y);
    y = tf.sub(y, 0.25);
    y = tf.abs(y);
    y = tf.sqrt(y);
    y = tf.add(y, x);
    return tf.maximum(y, 0);
  });
}

function layerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.mul(centered, centered), -1, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, 1e-5))), gain), bias) as tf.Tensor2D;
}

function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D, batch: number): tf.Scalar {
  return tf.div(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)))), batch) as tf.Scalar;
}

/** A trainable tensor and how its gradient maps to the canonical (NCHW, OIHW) layout. */
interface Trainable {
  readonly variable: tf.Variable;
  readonly canonical?: (gradient: tf.Tensor) => Float32Array;
}

/** A training case: `loss` reads the variables; Adam updates them in place. */
function trainingCase(spec: CaseSpec, trainables: Trainable[], loss: () => tf.Scalar, extra: tf.Tensor[]): PreparedCase {
  const variables = trainables.map((t) => t.variable);
  const optimizer = tf.train.adam(param(spec, 'learningRate'), 0.9, 0.999, 1e-8);
  const step = () => optimizer.minimize(loss, true, variables) as tf.Scalar;
  return {
    note: SYNC_NOTE,
    async check() {
      const { value, grads } = tf.variableGrads(loss, variables);
      value.dispose();
      const parts: ArrayLike<number>[] = [];
      for (const t of trainables) {
        const g = grads[t.variable.name] as tf.Tensor;
        parts.push(t.canonical ? t.canonical(g) : (g.dataSync() as Float32Array));
      }
      tf.dispose(grads);
      for (let s = 0; s < (spec.checkSteps ?? 1); s++) {
        const l = step();
        parts.push(l.dataSync() as Float32Array);
        l.dispose();
      }
      return concatValues(parts);
    },
    batch(count) {
      for (let i = 0; i < count; i++) step().dispose();
    },
    dispose() {
      optimizer.dispose();
      for (const v of variables) v.dispose();
      for (const t of extra) t.dispose();
    },
  };
}

function zerosVariable(shape: number[]): tf.Variable {
  return tf.variable(tf.zeros(shape));
}

const plain = (variable: tf.Variable): Trainable => ({ variable });

function implement(spec: CaseSpec): PreparedCase {
  const seed = spec.params.seed ?? 0;
  switch (spec.kind) {
    case 'matmul': {
      const n = param(spec, 'n');
      const a = tf.tensor2d(symmetricArray(seed + 1, n * n), [n, n]);
      const b = tf.tensor2d(symmetricArray(seed + 2, n * n), [n, n]);
      return {
        note: SYNC_NOTE,
        async check() {
          const c = tf.matMul(a, b);
          const out = c.dataSync() as Float32Array;
          c.dispose();
          return out;
        },
        batch(count) {
          for (let i = 0; i < count; i++) tf.matMul(a, b).dispose();
        },
        dispose() {
          a.dispose();
          b.dispose();
        },
      };
    }
    case 'elementwise-eager': {
      const size = param(spec, 'size');
      const x = tf.tensor1d(symmetricArray(seed + 1, size));
      return {
        note: SYNC_NOTE,
        async check() {
          const y = chain(x);
          const out = y.dataSync() as Float32Array;
          y.dispose();
          return out;
        },
        batch(count) {
          for (let i = 0; i < count; i++) chain(x).dispose();
        },
        dispose: () => x.dispose(),
      };
    }
    case 'elementwise-jit':
    case 'mlp-step-jit':
      throw new Absent('TensorFlow.js has no jit');
    case 'dispatch-add': {
      const a = tf.tensor1d(symmetricArray(seed + 1, 1));
      const b = tf.tensor1d(symmetricArray(seed + 2, 1));
      return {
        note: SYNC_NOTE,
        async check() {
          const c = tf.add(a, b);
          const out = c.dataSync() as Float32Array;
          c.dispose();
          return out;
        },
        batch(count) {
          let c: tf.Tensor = a;
          for (let i = 0; i < count; i++) {
            const next = tf.add(c, b);
            if (c !== a) c.dispose();
            c = next;
          }
          if (c !== a) c.dispose();
        },
        dispose() {
          a.dispose();
          b.dispose();
        },
      };
    }
    case 'conv2d-forward':
    case 'conv2d-backward': {
      const n = param(spec, 'batch');
      const c = param(spec, 'inChannels');
      const o = param(spec, 'outChannels');
      const s = param(spec, 'size');
      const x = nhwc(symmetricArray(seed + 1, n * c * s * s), n, c, s, s);
      const w = hwio(symmetricArray(seed + 2, o * c * 9, initScale(c * 9)), o, c, 3, 3);
      if (spec.kind === 'conv2d-forward') {
        return {
          note: SYNC_NOTE,
          async check() {
            const y = tf.conv2d(x, w, 1, 'same');
            const out = toNchwData(y);
            y.dispose();
            return out;
          },
          batch(count) {
            for (let i = 0; i < count; i++) tf.conv2d(x, w, 1, 'same').dispose();
          },
          dispose() {
            x.dispose();
            w.dispose();
          },
        };
      }
      const r = nhwc(symmetricArray(seed + 3, n * o * s * s), n, o, s, s);
      const gradients = tf.grads((xv: tf.Tensor, wv: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, 1, 'same'), r)),
      );
      return {
        note: SYNC_NOTE,
        async check() {
          const [dx, dw] = gradients([x, w]) as [tf.Tensor4D, tf.Tensor4D];
          const dxData = toNchwData(dx);
          const dwData = toOihwData(dw);
          dx.dispose();
          dw.dispose();
          const out = new Float32Array(dxData.length + dwData.length);
          out.set(dxData);
          out.set(dwData, dxData.length);
          return out;
        },
        batch(count) {
          for (let i = 0; i < count; i++) for (const g of gradients([x, w])) g.dispose();
        },
        dispose() {
          x.dispose();
          w.dispose();
          r.dispose();
        },
      };
    }
    case 'mlp-step': {
      const batch = param(spec, 'batch');
      const inputs = param(spec, 'inputs');
      const hidden = param(spec, 'hidden');
      const classes = param(spec, 'classes');
      const x = tf.tensor2d(symmetricArray(seed + 1, batch * inputs), [batch, inputs]);
      const y = tf.tensor2d(oneHot(labels(seed + 2, batch, classes), classes), [batch, classes]);
      const w1 = tf.variable(tf.tensor2d(symmetricArray(seed + 11, inputs * hidden, initScale(inputs)), [inputs, hidden]));
      const b1 = zerosVariable([hidden]);
      const w2 = tf.variable(tf.tensor2d(symmetricArray(seed + 12, hidden * hidden, initScale(hidden)), [hidden, hidden]));
      const b2 = zerosVariable([hidden]);
      const w3 = tf.variable(tf.tensor2d(symmetricArray(seed + 13, hidden * classes, initScale(hidden)), [hidden, classes]));
      const b3 = zerosVariable([classes]);
      const loss = () => {
        const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1));
        const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
        return crossEntropy(tf.add(tf.matMul(h2, w3), b3) as tf.Tensor2D, y, batch);
      };
      return trainingCase(spec, [w1, b1, w2, b2, w3, b3].map(plain), loss, [x, y]);
    }
    case 'cnn-step': {
      const batch = param(spec, 'batch');
      const image = param(spec, 'image');
      const c1 = param(spec, 'channels1');
      const c2 = param(spec, 'channels2');
      const hidden = param(spec, 'hidden');
      const classes = param(spec, 'classes');
      const q = image / 4;
      const flat = c2 * q * q;
      const x = nhwc(symmetricArray(seed + 1, batch * image * image), batch, 1, image, image);
      const y = tf.tensor2d(oneHot(labels(seed + 2, batch, classes), classes), [batch, classes]);
      const k1 = tf.variable(hwio(symmetricArray(seed + 11, c1 * 9, initScale(9)), c1, 1, 3, 3));
      const kb1 = zerosVariable([c1]);
      const k2 = tf.variable(hwio(symmetricArray(seed + 12, c2 * c1 * 9, initScale(c1 * 9)), c2, c1, 3, 3));
      const kb2 = zerosVariable([c2]);
      // Rows of the dense weight follow NCHW flattening (c, h, w); channels-last flattens (h, w, c).
      const w3Canonical = symmetricArray(seed + 13, flat * hidden, initScale(flat));
      const w3Data = new Float32Array(flat * hidden);
      for (let c = 0; c < c2; c++) {
        for (let p = 0; p < q * q; p++) {
          w3Data.set(w3Canonical.subarray((c * q * q + p) * hidden, (c * q * q + p + 1) * hidden), (p * c2 + c) * hidden);
        }
      }
      const w3 = tf.variable(tf.tensor2d(w3Data, [flat, hidden]));
      const b3 = zerosVariable([hidden]);
      const w4 = tf.variable(tf.tensor2d(symmetricArray(seed + 14, hidden * classes, initScale(hidden)), [hidden, classes]));
      const b4 = zerosVariable([classes]);
      const loss = () => {
        const a1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, k1 as tf.Tensor4D, 1, 'same'), kb1)) as tf.Tensor4D, 2, 2, 'valid');
        const a2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(a1, k2 as tf.Tensor4D, 1, 'same'), kb2)) as tf.Tensor4D, 2, 2, 'valid');
        const h = tf.relu(tf.add(tf.matMul(tf.reshape(a2, [batch, flat]), w3), b3));
        return crossEntropy(tf.add(tf.matMul(h, w4), b4) as tf.Tensor2D, y, batch);
      };
      const kernel = (variable: tf.Variable): Trainable => ({ variable, canonical: (g) => toOihwData(g as tf.Tensor4D) });
      const dense: Trainable = {
        variable: w3,
        canonical(g) {
          const data = g.dataSync() as Float32Array;
          const out = new Float32Array(data.length);
          for (let c = 0; c < c2; c++) {
            for (let p = 0; p < q * q; p++)
              out.set(data.subarray((p * c2 + c) * hidden, (p * c2 + c + 1) * hidden), (c * q * q + p) * hidden);
          }
          return out;
        },
      };
      return trainingCase(spec, [kernel(k1), plain(kb1), kernel(k2), plain(kb2), dense, plain(b3), plain(w4), plain(b4)], loss, [x, y]);
    }
    case 'transformer-step': {
      const batch = param(spec, 'batch');
      const tokens = param(spec, 'tokens');
      const d = param(spec, 'model');
      const heads = param(spec, 'heads');
      const ffn = param(spec, 'ffn');
      const dh = d / heads;
      const rows = batch * tokens;
      const x = tf.tensor2d(symmetricArray(seed + 1, rows * d), [rows, d]);
      const target = tf.tensor2d(symmetricArray(seed + 2, rows * d), [rows, d]);
      const matrix = (s: number, r: number, c: number) => tf.variable(tf.tensor2d(symmetricArray(seed + s, r * c, initScale(r)), [r, c]));
      const wq = matrix(11, d, d);
      const wk = matrix(12, d, d);
      const wv = matrix(13, d, d);
      const wo = matrix(14, d, d);
      const w1 = matrix(15, d, ffn);
      const w2 = matrix(16, ffn, d);
      const bq = zerosVariable([d]);
      const bk = zerosVariable([d]);
      const bv = zerosVariable([d]);
      const bo = zerosVariable([d]);
      const b1 = zerosVariable([ffn]);
      const b2 = zerosVariable([d]);
      const g1 = tf.variable(tf.ones([d]));
      const n1 = zerosVariable([d]);
      const g2 = tf.variable(tf.ones([d]));
      const n2 = zerosVariable([d]);
      const splitHeads = (t: tf.Tensor) =>
        tf.reshape(tf.transpose(tf.reshape(t, [batch, tokens, heads, dh]), [0, 2, 1, 3]), [batch * heads, tokens, dh]) as tf.Tensor3D;
      const loss = () => {
        const h = layerNorm(x, g1, n1);
        const q = splitHeads(tf.add(tf.matMul(h, wq), bq));
        const k = splitHeads(tf.add(tf.matMul(h, wk), bk));
        const v = splitHeads(tf.add(tf.matMul(h, wv), bv));
        const p = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)));
        const context = tf.reshape(tf.transpose(tf.reshape(tf.matMul(p, v), [batch, heads, tokens, dh]), [0, 2, 1, 3]), [
          rows,
          d,
        ]) as tf.Tensor2D;
        const x1 = tf.add(x, tf.add(tf.matMul(context, wo), bo)) as tf.Tensor2D;
        const f = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(layerNorm(x1, g2, n2), w1), b1)) as tf.Tensor2D, w2), b2);
        const diff = tf.sub(tf.add(x1, f), target);
        return tf.mean(tf.mul(diff, diff)) as tf.Scalar;
      };
      return trainingCase(spec, [wq, wk, wv, wo, w1, w2, bq, bk, bv, bo, b1, b2, g1, n1, g2, n2].map(plain), loss, [x, target]);
    }
    case 'trainer-hand-loop':
    case 'trainer-fit':
      throw new Absent("Flint-only figure (Trainer against Flint's own hand-written loop)");
  }
}

/** TensorFlow.js reports a kernel its backend lacks at run time; that is an absence, not a failure. */
function missingKernel(error: unknown): string | undefined {
  const match = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(String((error as Error)?.message ?? error));
  return match ? `TensorFlow.js's ${match[2]} backend has no ${match[1]} kernel` : undefined;
}

await runCases(job, implement, missingKernel);
