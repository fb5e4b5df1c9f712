// What jit's composite equations save: a compiled forward + backward pass of one attention block
// (the bench's transformer shapes: 8 x 128 tokens, d=256, 4 heads; pre-LN, softmax over the
// scores) with oneDNN's softmax and layer norm, against the same program with the composites as
// primitives. Run it once per mode, alternating (the mode is fixed when the backend is created):
//   FLINT_MKL_COMPOSITES=off pnpm exec tsx packages/backend-mkl/bench/jit-composites.ts [steps=200]
//   pnpm exec tsx packages/backend-mkl/bench/jit-composites.ts [steps=200]
import * as api from '@flint/api';
import '@flint/backend-mkl';
import { sineTensor } from './inputs.js';

api.setBackend('mkl');
const { batch, tokens, model, heads } = { batch: 8, tokens: 128, model: 256, heads: 4 };
const rows = batch * tokens;
const dh = model / heads;
const x = sineTensor([rows, model]);
const params = {
  wq: api.mul(sineTensor([model, model]), 0.05),
  wk: api.mul(sineTensor([model, model]), 0.05),
  wv: api.mul(sineTensor([model, model]), 0.05),
  gain: api.ones([model]),
  bias: api.zeros([model]),
};
type Params = typeof params;

const splitHeads = (t: api.Tensor) => api.transpose(api.reshape(t, [batch, tokens, heads, dh]), [0, 2, 1, 3]);

function loss(p: Params): api.Tensor {
  const h = api.nn.functional.layerNorm(x, [model], { weight: p.gain, bias: p.bias });
  const q = splitHeads(api.matmul(h, p.wq));
  const k = splitHeads(api.matmul(h, p.wk));
  const v = splitHeads(api.matmul(h, p.wv));
  const scores = api.mul(api.matmul(q, api.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(dh));
  const context = api.matmul(api.nn.functional.softmax(scores, -1), v);
  return api.mean(api.square(context));
}

const step = api.jit(api.valueAndGrad(loss));
const lowered = step.lower(params);
const composites = (lowered.toString().match(/composite \w+/g) ?? []).join(', ') || 'none';
const steps = Number(process.argv[2] ?? 200);
const run = () => api.tidy(() => void step(params));
for (let i = 0; i < 20; i++) run();
const samples: number[] = [];
for (let r = 0; r < 7; r++) {
  const start = performance.now();
  for (let i = 0; i < steps / 7; i++) run();
  samples.push((performance.now() - start) / Math.floor(steps / 7));
}
samples.sort((a, b) => a - b);
const mode = process.env.FLINT_MKL_COMPOSITES === 'off' ? 'composites off' : 'composites on';
console.log(`${mode}: ${samples[3]?.toFixed(2)} ms a step (min ${samples[0]?.toFixed(2)}); composite equations: ${composites}`);
