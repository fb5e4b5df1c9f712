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
import { repeatedCase, trainingCheck } from '../common/cases.js';
import { Absent, concatValues, readJob, reportInfo } from '../common/child.js';
import { type PreparedCase, runCases } from '../common/driver.js';
import { cnnModel, conv2dInputs, type Initial, materialize, mlpModel, transformerModel } from '../common/models.js';
import { symmetricArray } from '../common/prng.js';
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

function dataAndDispose(t: tf.Tensor): Promise<Float32Array> {
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return Promise.resolve(out);
}

/** A case whose iteration returns one tensor; kernels are synchronous, so nothing is awaited. */
function tensorCase(run: () => tf.Tensor, dispose: () => void, output = dataAndDispose): PreparedCase {
  return repeatedCase({ note: SYNC_NOTE, run, output, release: (t) => t.dispose(), dispose });
}

const variableOf = (initial: Initial): tf.Variable =>
  tf.variable(
    'data' in initial ? tf.tensor(initial.data, initial.shape) : initial.fill === 1 ? tf.ones(initial.shape) : tf.zeros(initial.shape),
  );

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
  const timed = tensorCase(step, () => {
    optimizer.dispose();
    for (const v of variables) v.dispose();
    for (const t of extra) t.dispose();
  });
  return {
    ...timed,
    async check() {
      const { value, grads } = tf.variableGrads(loss, variables);
      value.dispose();
      const gradients: ArrayLike<number>[] = [];
      for (const t of trainables) {
        const g = grads[t.variable.name] as tf.Tensor;
        gradients.push(t.canonical ? t.canonical(g) : (g.dataSync() as Float32Array));
      }
      tf.dispose(grads);
      return trainingCheck(spec, gradients, timed.check);
    },
  };
}

const plain = (variable: tf.Variable): Trainable => ({ variable });

function implement(spec: CaseSpec): PreparedCase {
  const seed = spec.params.seed ?? 0;
  switch (spec.kind) {
    case 'matmul': {
      const n = param(spec, 'n');
      const a = tf.tensor2d(symmetricArray(seed + 1, n * n), [n, n]);
      const b = tf.tensor2d(symmetricArray(seed + 2, n * n), [n, n]);
      return tensorCase(
        () => tf.matMul(a, b),
        () => tf.dispose([a, b]),
      );
    }
    case 'elementwise-eager': {
      const size = param(spec, 'size');
      const x = tf.tensor1d(symmetricArray(seed + 1, size));
      return tensorCase(
        () => chain(x),
        () => x.dispose(),
      );
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
      const { n, c, o, s, stride, so, ...inputs } = conv2dInputs(spec);
      const x = nhwc(inputs.x, n, c, s, s);
      const w = hwio(inputs.w, o, c, 3, 3);
      // A number pads every side by that much, as PyTorch's padding=1. 'same' is the same padding
      // at stride 1 only (kept there: the wasm backend hands XNNPACK its own flag for it); at
      // stride 2 TensorFlow's 'same' pads the odd row and column at the end only.
      const pad = stride === 1 ? 'same' : 1;
      const strides: [number, number] = [stride, stride];
      if (spec.kind === 'conv2d-forward') {
        return tensorCase(
          () => tf.conv2d(x, w, strides, pad),
          () => tf.dispose([x, w]),
          async (y) => {
            const out = toNchwData(y as tf.Tensor4D);
            y.dispose();
            return out;
          },
        );
      }
      const r = nhwc(inputs.cotangent(), n, o, so, so);
      const gradients = tf.grads((xv: tf.Tensor, wv: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, strides, pad), r)),
      );
      return repeatedCase({
        note: SYNC_NOTE,
        run: () => gradients([x, w]) as tf.Tensor4D[],
        async output([dx, dw]) {
          const dxData = toNchwData(dx as tf.Tensor4D);
          const dwData = toOihwData(dw as tf.Tensor4D);
          tf.dispose([dx as tf.Tensor4D, dw as tf.Tensor4D]);
          return concatValues([dxData, dwData]);
        },
        release: (g) => tf.dispose(g),
        dispose: () => tf.dispose([x, w, r]),
      });
    }
    case 'mlp-step': {
      const model = mlpModel(spec);
      const batch = model.batch;
      const x = tf.tensor2d(model.x.data, [batch, model.x.shape[1] as number]);
      const y = tf.tensor2d(model.y.data, [batch, model.y.shape[1] as number]);
      const variables = materialize(model.params, variableOf);
      const { w1, b1, w2, b2, w3, b3 } = variables;
      const loss = () => {
        const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1));
        const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
        return crossEntropy(tf.add(tf.matMul(h2, w3), b3) as tf.Tensor2D, y, batch);
      };
      return trainingCase(spec, Object.values(variables).map(plain), loss, [x, y]);
    }
    case 'cnn-step': {
      const { batch, image, c1, c2, hidden, flat, params, ...model } = cnnModel(spec);
      const q = image / 4;
      const x = nhwc(model.x.data, batch, 1, image, image);
      const y = tf.tensor2d(model.y.data, [batch, model.y.shape[1] as number]);
      const k1 = tf.variable(hwio(params.k1.data, c1, 1, 3, 3));
      const kb1 = variableOf(params.kb1);
      const k2 = tf.variable(hwio(params.k2.data, c2, c1, 3, 3));
      const kb2 = variableOf(params.kb2);
      // Rows of the dense weight follow NCHW flattening (c, h, w); channels-last flattens (h, w, c).
      const w3Canonical = params.w3.data;
      const w3Data = new Float32Array(flat * hidden);
      for (let c = 0; c < c2; c++) {
        for (let p = 0; p < q * q; p++) {
          w3Data.set(w3Canonical.subarray((c * q * q + p) * hidden, (c * q * q + p + 1) * hidden), (p * c2 + c) * hidden);
        }
      }
      const w3 = tf.variable(tf.tensor2d(w3Data, [flat, hidden]));
      const b3 = variableOf(params.b3);
      const w4 = variableOf(params.w4);
      const b4 = variableOf(params.b4);
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
      const { batch, tokens, d, heads, dh, rows, ...model } = transformerModel(spec);
      const x = tf.tensor2d(model.x.data, [rows, d]);
      const target = tf.tensor2d(model.target.data, [rows, d]);
      const variables = materialize(model.params, variableOf);
      const { wq, wk, wv, wo, w1, w2, bq, bk, bv, bo, b1, b2, g1, n1, g2, n2 } = variables;
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
      return trainingCase(spec, Object.values(variables).map(plain), loss, [x, target]);
    }
    case 'trainer-hand-loop':
    case 'trainer-fit':
      throw new Absent("Flint-only figure (Trainer against Flint's own hand-written loop)");
    case 'linalg-eigh':
    case 'linalg-svd':
    case 'linalg-qr':
    case 'linalg-cholesky':
    case 'linalg-solve':
      throw new Absent('the linalg suite (float64 decompositions) is measured against PyTorch and NumPy');
  }
}

/** TensorFlow.js reports a kernel its backend lacks at run time; that is an absence, not a failure. */
function missingKernel(error: unknown): string | undefined {
  const match = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(String((error as Error)?.message ?? error));
  return match ? `TensorFlow.js's ${match[2]} backend has no ${match[1]} kernel` : undefined;
}

await runCases(job, implement, missingKernel);
