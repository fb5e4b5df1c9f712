// Where a small elementwise op or reduction should leave the portable JavaScript kernel for the
// addon (NATIVE_MIN in src/kernels/context.ts): each op at sizes from 16 to 2048 elements, timed
// through the api with every op sent to the portable kernels (FLINT_MKL_NATIVE_MIN_ELEMENTS set
// past every size) and with every op sent to the addon (0), in child processes that alternate:
//   pnpm exec tsx packages/backend-mkl/bench/kernel-thresholds.ts [rounds=3]
// Prints microseconds per call, medians over the rounds, and the faster side per size.
import * as api from '@flint/api';
import '../src/index.js';
import { alternate, medianMs, scriptMedians } from './alternating.js';
import { seededValues } from './inputs.js';

const SIZES = [16, 64, 128, 256, 512, 1024, 2048];
const CALLS = 200;

function childMedians(): void {
  api.setBackend('mkl');
  const values = seededValues();
  const result: Record<string, number> = {};
  for (const size of SIZES) {
    const shape = size >= 8 ? [size / 8, 8] : [size];
    const x = api.tensor(values(size), { shape });
    const mask = api.lessEqual(x, 0);
    const ops: Record<string, () => api.Tensor> = {
      mul: () => api.mul(x, x),
      neg: () => api.neg(x),
      exp: () => api.exp(x),
      where: () => api.where(mask, x, x),
      'sum last axis': () => api.sum(x, -1),
      'sum first axis': () => api.sum(x, 0),
    };
    for (const [op, run] of Object.entries(ops)) {
      const ms = medianMs(() => {
        for (let i = 0; i < CALLS; i++) run().dispose();
      }, 0.3);
      result[`${op}|${size}`] = ms / CALLS;
    }
  }
  console.log(JSON.stringify(result));
}

if (process.env.FLINT_THRESHOLD_CHILD === '1') childMedians();
else {
  const rounds = Number(process.argv[2] ?? 3);
  const settings = { portable: '1000000000', native: '0' } as const;
  const medians = alternate(rounds, ['portable', 'native'] as const, (side) =>
    scriptMedians(import.meta.url, { FLINT_THRESHOLD_CHILD: '1', FLINT_MKL_NATIVE_MIN_ELEMENTS: settings[side] }, side),
  );
  console.log(`\nmicroseconds per call (medians of ${rounds} rounds): portable / addon`);
  console.log(`${'op'.padEnd(15)}${SIZES.map((s) => String(s).padStart(16)).join('')}`);
  const ops = [...new Set(Object.keys(medians.portable).map((k) => k.split('|')[0] as string))];
  for (const op of ops) {
    const cells = SIZES.map((size) => {
      const js = (medians.portable[`${op}|${size}`] as number) * 1000;
      const native = (medians.native[`${op}|${size}`] as number) * 1000;
      return `${js.toFixed(2)}/${native.toFixed(2)}${native < js ? '*' : ' '}`.padStart(16);
    });
    console.log(`${op.padEnd(15)}${cells.join('')}`);
  }
  console.log('* the addon is faster');
}
