// Softmax and layer norm on mkl through oneDNN's fused kernels (Backend.composites) against the
// composites of primitives they replace, forward and forward + backward (the imperative tape):
//   pnpm exec tsx packages/backend-mkl/bench/composites.ts [rounds=3]
// Each round runs one process per mode, alternately (FLINT_MKL_COMPOSITES=off turns the fused
// kernels off), so that load on the machine falls on both alike; it prints each process's median
// and the median over the rounds.
import '@flint/backend-cpu';
import { nn, type Tensor, tensor, tidy } from '@flint/api';
import '../src/index.js';
import { alternate, printMedians, scriptMedians } from './alternating.js';

interface Case {
  readonly label: string;
  readonly run: () => void;
}

function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 6 - 3;
  });
}

function cases(): Case[] {
  const scores = [8, 4, 128, 128];
  const x = tensor(values(8 * 4 * 128 * 128, 1), { shape: scores, backend: 'mkl' });
  const xRecorded = tensor(values(8 * 4 * 128 * 128, 1), { shape: scores, backend: 'mkl', requiresGrad: true });
  const g = tensor(values(8 * 4 * 128 * 128, 2), { shape: scores, backend: 'mkl' });
  const h = tensor(values(1024 * 256, 3), { shape: [1024, 256], backend: 'mkl' });
  const hRecorded = tensor(values(1024 * 256, 3), { shape: [1024, 256], backend: 'mkl', requiresGrad: true });
  const hCotangent = tensor(values(1024 * 256, 4), { shape: [1024, 256], backend: 'mkl' });
  const weight = tensor(values(256, 5), { backend: 'mkl', requiresGrad: true });
  const bias = tensor(values(256, 6), { backend: 'mkl', requiresGrad: true });
  const clear = (...leaves: Tensor[]) => {
    for (const leaf of leaves) {
      leaf.grad?.dispose();
      leaf.grad = null;
    }
  };
  return [
    { label: 'softmax [8,4,128,128] forward', run: () => nn.functional.softmax(x, -1).dispose() },
    {
      label: 'softmax [8,4,128,128] fwd+bwd',
      run: () => {
        tidy(() => nn.functional.softmax(xRecorded, -1).backward(g));
        clear(xRecorded);
      },
    },
    {
      label: 'layerNorm [1024,256] forward',
      run: () => tidy(() => nn.functional.layerNorm(h.detach(), [256], { weight: weight.detach(), bias: bias.detach() })).dispose(),
    },
    {
      label: 'layerNorm [1024,256] fwd+bwd',
      run: () => {
        tidy(() => nn.functional.layerNorm(hRecorded, [256], { weight, bias }).backward(hCotangent));
        clear(hRecorded, weight, bias);
      },
    },
  ];
}

if (process.env.COMPOSITES_BENCH_CHILD === '1') {
  printMedians(Object.fromEntries(cases().map(({ label, run }) => [label, run])));
} else {
  const medians = alternate(Number(process.argv[2] ?? 3), ['fused', 'composite'] as const, (mode) =>
    scriptMedians(import.meta.url, { COMPOSITES_BENCH_CHILD: '1', FLINT_MKL_COMPOSITES: mode === 'fused' ? 'on' : 'off' }, mode),
  );
  for (const [label, fused] of Object.entries(medians.fused)) {
    const composite = medians.composite[label] as number;
    console.log(
      `${label.padEnd(32)} fused ${fused.toFixed(3)} ms, composite ${composite.toFixed(3)} ms (${(composite / fused).toFixed(2)}x)`,
    );
  }
}
