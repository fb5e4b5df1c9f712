/**
 * jax-js runner (`init('wasm')`). jax-js arrays are reference-counted and every function consumes
 * its arguments: `.ref` keeps an array for a later use, `data()` consumes one reference. Its
 * operations are lazy, so each timed batch ends with `blockUntilReady`.
 */
import { blockUntilReady, defaultDevice, init, jit, lax, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { repeatedCase, trainingCheck } from '../common/cases.js';
import { Absent, concatValues, readJob, reportInfo } from '../common/child.js';
import { type PreparedCase, runCases } from '../common/driver.js';
import { cnnModel, conv2dInputs, type Initial, materialize, mlpModel, transformerModel } from '../common/models.js';
import { symmetricArray } from '../common/prng.js';
import { type CaseSpec, param } from '../common/suites.js';

type A = np.Array;
type Params = Record<string, A>;

const job = readJob();
const devices = await init('wasm');
if (!devices.includes('wasm')) throw new Error(`jax-js: the wasm device did not initialize (got ${devices.join(', ')})`);
defaultDevice('wasm');
reportInfo({ system: job.system, notes: ['device wasm', `SharedArrayBuffer ${typeof SharedArrayBuffer !== 'undefined'}`] });

const NOTE = 'blockUntilReady';

function array(data: Float32Array, shape: number[]): A {
  return np.array(data).reshape(shape);
}

async function read(a: A): Promise<Float32Array> {
  return Float32Array.from((await a.data()) as Float32Array);
}

/**
 * A case whose iteration returns one array: read (consumed) for the check; every timed iteration
 * is awaited, so that the lazy queue never grows past one.
 */
function arrayCase(run: () => A, dispose: () => void, note = NOTE): PreparedCase {
  return repeatedCase({
    note,
    run,
    output: read,
    settle: (y) => y.blockUntilReady(),
    settleEvery: true,
    release: (y) => y.dispose(),
    dispose,
  });
}

const fromInitial = (initial: Initial): A =>
  'data' in initial ? array(initial.data, initial.shape) : initial.fill === 1 ? np.ones(initial.shape) : np.zeros(initial.shape);

function chain(x: A): A {
  let y = x.ref.mul(0.5);
  y = y.add(0.25);
  y = np.tanh(y);
  y = y.mul(x.ref);
  y = np.exp(y);
  y = y.sub(0.25);
  y = np.abs(y);
  y = np.sqrt(y);
  y = y.add(x);
  return np.maximum(y, 0);
}

function crossEntropy(logits: A, targets: A, batch: number): A {
  return np.sum(targets.mul(nn.logSoftmax(logits, -1))).mul(-1 / batch);
}

function layerNorm(x: A, gain: A, bias: A): A {
  const centered = x.ref.sub(np.mean(x, -1, { keepdims: true }));
  const variance = np.mean(centered.ref.mul(centered.ref), -1, { keepdims: true });
  return centered
    .div(np.sqrt(variance.add(1e-5)))
    .mul(gain)
    .add(bias);
}

function maxPool2(x: A): A {
  return lax.reduceWindow(x, (w) => np.max(w), [2, 2], [2, 2]);
}

/** Adam (PyTorch's formula) on one parameter; consumes p, g, m, v. `scaled` = lr / (1 - b1^t). */
function adamLeaf(p: A, g: A, m: A, v: A, scaled: A | number, correction2: A | number): [A, A, A] {
  const m2 = m.mul(0.9).add(g.ref.mul(0.1));
  const v2 = v.mul(0.999).add(g.ref.mul(g).mul(0.001));
  const denominator = np.sqrt(v2.ref.div(correction2)).add(1e-8);
  const p2 = p.sub(m2.ref.mul(scaled).div(denominator));
  return [p2, m2, v2];
}

type Loss = (p: Params, inputs: A[]) => A;

function trainingCase(spec: CaseSpec, initial: Params, loss: Loss, inputs: A[], compile: boolean): PreparedCase {
  const learningRate = param(spec, 'learningRate');
  const lossOfParams = (p: Params, ...rest: A[]) => loss(p, rest);
  const gradient = valueAndGrad(lossOfParams);
  let params = initial;
  let m: Params = Object.fromEntries(Object.entries(params).map(([k, w]) => [k, np.zeros(w.shape)]));
  let v: Params = Object.fromEntries(Object.entries(params).map(([k, w]) => [k, np.zeros(w.shape)]));
  let t = 0;

  const update = (p: Params, mm: Params, vv: Params, grads: Params, scaled: A | number, correction2: A | number) => {
    const next: { p: Params; m: Params; v: Params } = { p: {}, m: {}, v: {} };
    const names = Object.keys(p);
    names.forEach((name, i) => {
      const last = i === names.length - 1;
      const s = typeof scaled === 'number' || last ? scaled : scaled.ref;
      const c = typeof correction2 === 'number' || last ? correction2 : correction2.ref;
      const [p2, m2, v2] = adamLeaf(p[name] as A, grads[name] as A, mm[name] as A, vv[name] as A, s, c);
      next.p[name] = p2;
      next.m[name] = m2;
      next.v[name] = v2;
    });
    return next;
  };

  const compiled = compile
    ? jit((p: Params, mm: Params, vv: Params, scaled: A, correction2: A, ...rest: A[]) => {
        const [value, grads] = gradient(tree.ref(p), ...rest) as unknown as [A, Params];
        const next = update(p, mm, vv, grads, scaled, correction2);
        return [next.p, next.m, next.v, value] as [Params, Params, Params, A];
      })
    : undefined;

  const step = (): A => {
    t += 1;
    const scaled = learningRate / (1 - 0.9 ** t);
    const correction2 = 1 - 0.999 ** t;
    if (compiled) {
      const [p2, m2, v2, value] = compiled(params, m, v, np.array(scaled), np.array(correction2), ...inputs.map((a) => a.ref)) as [
        Params,
        Params,
        Params,
        A,
      ];
      params = p2;
      m = m2;
      v = v2;
      return value;
    }
    const [value, grads] = gradient(tree.ref(params), ...inputs.map((a) => a.ref)) as unknown as [A, Params];
    const next = update(params, m, v, grads, scaled, correction2);
    params = next.p;
    m = next.m;
    v = next.v;
    return value;
  };

  const timed = repeatedCase({
    note: compile ? `jit, ${NOTE}` : NOTE,
    run: step,
    output: read,
    settle: (value) => blockUntilReady([value, params]),
    settleEvery: true,
    release: (value) => value.dispose(),
    dispose() {
      tree.dispose([params, m, v, inputs]);
      compiled?.dispose();
    },
  });
  return {
    ...timed,
    async check() {
      const [value, grads] = gradient(tree.ref(params), ...inputs.map((a) => a.ref)) as unknown as [A, Params];
      value.dispose();
      const gradients: ArrayLike<number>[] = [];
      for (const name of Object.keys(params)) gradients.push(await read(grads[name] as A));
      return trainingCheck(spec, gradients, timed.check);
    },
  };
}

function implement(spec: CaseSpec): PreparedCase {
  const seed = spec.params.seed ?? 0;
  switch (spec.kind) {
    case 'matmul': {
      const n = param(spec, 'n');
      const a = array(symmetricArray(seed + 1, n * n), [n, n]);
      const b = array(symmetricArray(seed + 2, n * n), [n, n]);
      return arrayCase(
        () => np.matmul(a.ref, b.ref),
        () => tree.dispose([a, b]),
      );
    }
    case 'elementwise-eager':
    case 'elementwise-jit': {
      const size = param(spec, 'size');
      const x = np.array(symmetricArray(seed + 1, size));
      const compiled = spec.kind === 'elementwise-jit' ? jit(chain) : undefined;
      const run = (input: A) => (compiled ? compiled(input) : chain(input));
      return arrayCase(
        () => run(x.ref),
        () => {
          x.dispose();
          compiled?.dispose();
        },
        compiled ? `jit, ${NOTE}` : NOTE,
      );
    }
    case 'dispatch-add': {
      const a = np.array(symmetricArray(seed + 1, 1));
      const b = np.array(symmetricArray(seed + 2, 1));
      return {
        note: NOTE,
        check: () => read(np.add(a.ref, b.ref)),
        async batch(count) {
          let c = a.ref;
          for (let i = 0; i < count; i++) c = np.add(c, b.ref);
          await c.blockUntilReady();
          c.dispose();
        },
        dispose: () => tree.dispose([a, b]),
      };
    }
    case 'conv2d-forward':
    case 'conv2d-backward': {
      const { n, c, o, s, stride, so, ...inputs } = conv2dInputs(spec);
      const x = array(inputs.x, [n, c, s, s]);
      const w = array(inputs.w, [o, c, 3, 3]);
      const conv = (xv: A, wv: A) =>
        lax.conv(
          xv,
          wv,
          [stride, stride],
          [
            [1, 1],
            [1, 1],
          ],
        );
      if (spec.kind === 'conv2d-forward') {
        return arrayCase(
          () => conv(x.ref, w.ref),
          () => tree.dispose([x, w]),
        );
      }
      const r = array(inputs.cotangent(), [n, o, so, so]);
      const gradients = valueAndGrad((p: { x: A; w: A }, rv: A) => np.sum(conv(p.x, p.w).mul(rv)));
      return repeatedCase({
        note: NOTE,
        run() {
          const [value, g] = gradients({ x: x.ref, w: w.ref }, r.ref) as unknown as [A, { x: A; w: A }];
          value.dispose();
          return g;
        },
        async output(g) {
          const dx = await read(g.x);
          const dw = await read(g.w);
          return concatValues([dx, dw]);
        },
        settle: (g) => blockUntilReady(g),
        settleEvery: true,
        release: (g) => tree.dispose(g),
        dispose: () => tree.dispose([x, w, r]),
      });
    }
    case 'mlp-step':
    case 'mlp-step-jit': {
      const model = mlpModel(spec);
      const batch = model.batch;
      const x = array(model.x.data, model.x.shape);
      const y = array(model.y.data, model.y.shape);
      const params: Params = materialize(model.params, fromInitial);
      const loss: Loss = (p, [xv, yv]) => {
        const h1 = nn.relu(np.matmul(xv as A, p.w1 as A).add(p.b1 as A));
        const h2 = nn.relu(np.matmul(h1, p.w2 as A).add(p.b2 as A));
        return crossEntropy(np.matmul(h2, p.w3 as A).add(p.b3 as A), yv as A, batch);
      };
      return trainingCase(spec, params, loss, [x, y], spec.kind === 'mlp-step-jit');
    }
    case 'cnn-step': {
      const { batch, c1, c2, flat, ...model } = cnnModel(spec);
      const x = array(model.x.data, model.x.shape);
      const y = array(model.y.data, model.y.shape);
      const params: Params = materialize(model.params, fromInitial);
      const same: [number, number][] = [
        [1, 1],
        [1, 1],
      ];
      const loss: Loss = (p, [xv, yv]) => {
        const a1 = maxPool2(nn.relu(lax.conv(xv as A, p.k1 as A, [1, 1], same).add((p.kb1 as A).reshape([1, c1, 1, 1]))));
        const a2 = maxPool2(nn.relu(lax.conv(a1, p.k2 as A, [1, 1], same).add((p.kb2 as A).reshape([1, c2, 1, 1]))));
        const h = nn.relu(np.matmul(a2.reshape([batch, flat]), p.w3 as A).add(p.b3 as A));
        return crossEntropy(np.matmul(h, p.w4 as A).add(p.b4 as A), yv as A, batch);
      };
      return trainingCase(spec, params, loss, [x, y], false);
    }
    case 'transformer-step': {
      const { batch, tokens, d, heads, dh, rows, ...model } = transformerModel(spec);
      const x = array(model.x.data, model.x.shape);
      const target = array(model.target.data, model.target.shape);
      const params: Params = materialize(model.params, fromInitial);
      const splitHeads = (t: A) => np.transpose(t.reshape([batch, tokens, heads, dh]), [0, 2, 1, 3]);
      const loss: Loss = (p, [xv, tv]) => {
        const xIn = xv as A;
        const h = layerNorm(xIn.ref, p.g1 as A, p.n1 as A);
        const q = splitHeads(np.matmul(h.ref, p.wq as A).add(p.bq as A));
        const k = splitHeads(np.matmul(h.ref, p.wk as A).add(p.bk as A));
        const v = splitHeads(np.matmul(h, p.wv as A).add(p.bv as A));
        const scores = np.matmul(q, np.transpose(k, [0, 1, 3, 2])).mul(1 / Math.sqrt(dh));
        const context = np.transpose(np.matmul(nn.softmax(scores, -1), v), [0, 2, 1, 3]).reshape([rows, d]);
        const x1 = xIn.add(np.matmul(context, p.wo as A).add(p.bo as A));
        const f = np
          .matmul(nn.relu(np.matmul(layerNorm(x1.ref, p.g2 as A, p.n2 as A), p.w1 as A).add(p.b1 as A)), p.w2 as A)
          .add(p.b2 as A);
        const diff = x1.add(f).sub(tv as A);
        return np.mean(diff.ref.mul(diff));
      };
      return trainingCase(spec, params, loss, [x, target], false);
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

await runCases(job, implement);
