// The addon's three batch norm calls (native/batch_norm.cc) on contiguous float32 arrays with a
// weight and a bias, without the api around them: training forward, inference, backward, ms per
// call (the median of about 0.7 s of calls) for each shape:
//   pnpm exec tsx packages/backend-mkl/bench/batch-norm-kernels.ts ['[[64,32,28,28],[128,256]]']
// OMP_NUM_THREADS=1 keeps them on one thread. docs/backend-mkl.md ("Batch norm") compares them
// with the oneDNN kernels they replaced this way (an addon built from before, swapped into
// build/Release, alternately).
import { loadAddon } from '../src/native/load.js';
import { medianMs } from './alternating.js';

const loaded = loadAddon();
if (!('addon' in loaded)) throw new Error(loaded.reason);
const { addon } = loaded;
const shapes = JSON.parse(
  process.argv[2] ?? '[[64,32,28,28],[64,64,14,14],[128,256],[64,3,32,32],[64,256,4,4],[16,64,56,56]]',
) as number[][];

/** The layout of a contiguous array of `shape`: [offset, rank, ...shape, ...strides]. */
function layout(shape: readonly number[]): Int32Array {
  const strides: number[] = [];
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d]!;
  }
  return Int32Array.from([0, shape.length, ...shape, ...strides]);
}

const random = (count: number, low: number, high: number) => Float32Array.from({ length: count }, () => low + Math.random() * (high - low));

const result: Record<string, string> = {};
for (const shape of shapes) {
  const size = shape.reduce((a, b) => a * b, 1);
  const channels = shape[1]!;
  const [x, g] = [random(size, -3, 3), random(size, -1, 1)];
  const [weight, bias] = [random(channels, 0.5, 1.5), random(channels, -1, 1)];
  const out = new Float32Array(size);
  const [mean, variance, dw, db] = [0, 1, 2, 3].map(() => new Float32Array(channels)) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const [xl, vl] = [layout(shape), layout([channels])];
  const training = () => addon.batchNorm(0, x, xl, weight, vl, bias, vl, 1e-5, out, mean, variance);
  training();
  const inference = () => addon.batchNormInference(0, x, xl, mean, vl, variance, vl, weight, vl, bias, vl, 1e-5, out);
  const backward = () => addon.batchNormBackward(0, x, xl, mean, vl, variance, vl, weight, vl, g, xl, 1e-5, out, dw, db);
  result[`[${shape.join(',')}]`] = [training, inference, backward].map((run) => medianMs(run, 0.7).toFixed(4)).join(' / ');
}
console.log('training / inference / backward, ms');
for (const [shape, times] of Object.entries(result)) console.log(`${shape.padEnd(18)} ${times}`);
