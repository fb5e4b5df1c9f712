// float16 on WebGPU. Adapters without 'shader-f16' (SwiftShader) do not offer it, so these tests
// run the float16 path on a second backend over the same device with float16 forced on: its
// conversions are integer code that needs no WGSL extension. Skipped without an adapter.
import '@flint/backend-cpu';
import { float16Bits, float16Value, initBackend, jit, matmul, registerBackend, sum, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { WebGpuBackend } from '../backend.js';
import '../index.js';
import { narrowHalf, widenHalf } from './half.js';

const base = await initBackend('webgpu').then(
  (backend) => backend as unknown as WebGpuBackend,
  (error: Error) => {
    console.log(`webgpu float16 tests skipped: ${error.message}`);
    return null;
  },
);
let forced: WebGpuBackend | null = null;
if (base !== null) {
  const made = new WebGpuBackend({ adapter: base.adapter, device: base.device, gpu: base.gpuObject }, { float16: true });
  // Tensors find their backend by name: this one needs its own.
  forced = Object.create(made, { name: { value: 'webgpu-float16' } }) as WebGpuBackend;
  const backend = forced;
  registerBackend({ name: 'webgpu-float16', priority: -1, create: () => backend });
  await initBackend('webgpu-float16');
}
const suite = forced === null ? describe.skip : describe;
const gpu = (): WebGpuBackend => forced as WebGpuBackend;

const halves = (values: number[], shape: number[], backend: string): Tensor =>
  tensor(Uint16Array.from(values, float16Bits), { shape, dtype: 'float16', backend });

async function bits(t: Tensor): Promise<number[]> {
  const handle = t._handle as Parameters<WebGpuBackend['read']>[0];
  return Array.from(await gpu().read(handle));
}

suite('float16 on webgpu (forced on this adapter)', () => {
  it('widens every float16 bit pattern exactly', async () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const input = gpu().fromTypedArray(all, [65536], 'float16');
    const wide = widenHalf(gpu().context, input);
    const values = (await gpu().read(wide)) as Float32Array;
    let wrong = 0;
    for (let i = 0; i < 65536; i++) {
      const expected = float16Value(i);
      const got = values[i] as number;
      if (Number.isNaN(expected) ? !Number.isNaN(got) : !Object.is(expected, got)) wrong++;
    }
    expect(wrong).toBe(0);
    gpu().dispose(input);
    gpu().dispose(wide);
  });

  it('rounds float32 to float16 to nearest-even, as the CPU conversion does', async () => {
    const edges = [
      0,
      -0,
      1,
      -1,
      65504,
      65519.99,
      65520,
      -65520,
      1e9,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      2 ** -24,
      2 ** -25,
      2 ** -25 * 1.0001,
      3 * 2 ** -26,
      2 ** -26,
      2 ** -14,
      2 ** -14 - 2 ** -25,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      1e-30,
      -1e-30,
      3.14,
      -2.72,
      1000.5,
      1001.5,
    ];
    const random = Array.from({ length: 4000 }, (_, i) => Math.sin(i * 7.1) * 10 ** ((i % 13) - 8));
    const values = Float32Array.from([...edges, ...random]);
    const input = gpu().fromTypedArray(values, [values.length], 'float32');
    const narrow = narrowHalf(gpu().context, input);
    const got = (await gpu().read(narrow)) as Uint16Array;
    expect(got).toBeInstanceOf(Uint16Array);
    const mismatches: string[] = [];
    values.forEach((v, i) => {
      const expected = float16Bits(v);
      const actual = got[i] as number;
      const bothNaN = Number.isNaN(float16Value(expected)) && Number.isNaN(float16Value(actual));
      if (actual !== expected && !bothNaN) mismatches.push(`${v}: ${actual.toString(16)} != ${expected.toString(16)}`);
    });
    expect(mismatches).toEqual([]);
  });

  it('computes float16 ops as the CPU backend does (one rounding per op)', async () => {
    const a = [0.1, -2.5, 3.75, 1000, -0.001, 7];
    const b = [0.3, 0.5, -1.25, 24, 0.002, -7];
    const ops: [string, (x: Tensor, y: Tensor) => Tensor][] = [
      ['add', (x, y) => x.add(y)],
      ['mul', (x, y) => x.mul(y)],
      ['div', (x, y) => x.div(y)],
      ['exp', (x) => x.mul(0.01).exp()],
      ['tanh', (x) => x.tanh()],
      ['sum', (x) => sum(x.reshape([2, 3]), 1)],
      ['matmul', (x, y) => matmul(x.reshape([2, 3]), y.reshape([3, 2]))],
      [
        'transpose+pad',
        (x) =>
          x
            .reshape([2, 3])
            .transpose()
            .pad(
              [
                [1, 0],
                [0, 1],
              ],
              { value: 2.5 },
            ),
      ],
      ['cast to float32', (x) => x.astype('float32')],
      ['greater', (x, y) => x.greater(y)],
      ['argmax', (x) => x.reshape([2, 3]).argmax(1)],
      ['where', (x, y) => x.greater(y).where(x, y)],
    ];
    for (const [name, f] of ops) {
      const onGpu = f(halves(a, [6], 'webgpu-float16'), halves(b, [6], 'webgpu-float16'));
      const onCpu = f(halves(a, [6], 'cpu'), halves(b, [6], 'cpu'));
      expect(onGpu.dtype, name).toBe(onCpu.dtype);
      const expected = Array.from(await onCpu.data());
      const actual = Array.from(await onGpu.data());
      for (let i = 0; i < expected.length; i++) {
        const tolerance = name === 'exp' || name === 'tanh' ? 2 ** -10 : 0;
        expect(Math.abs((actual[i] as number) - (expected[i] as number)), `${name}[${i}]`).toBeLessThanOrEqual(
          tolerance * Math.abs(expected[i] as number),
        );
      }
    }
  });

  it('keeps float16 bits through movement and reads them back as a Uint16Array', async () => {
    const patterns = [0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3c00, 0x03ff];
    const t = tensor(Uint16Array.from(patterns), { shape: [7], dtype: 'float16', backend: 'webgpu-float16' });
    expect(await bits(t.flip(0).flip(0))).toEqual(patterns);
  });

  it('fuses float16 chains and reductions in jit (loads widen, each op rounds, stores narrow)', async () => {
    const f = (x: Tensor, y: Tensor): Tensor[] => [x.mul(y).add(x).tanh(), sum(x.mul(y).sub(y), 1), x.greater(y).where(x, y.neg())];
    const a = [0.5, -1, 2, 3, 0.1, 65000];
    const b = [1.5, 0.25, -2, 0.125, 0.2, 2];
    const x = halves(a, [2, 3], 'webgpu-float16');
    const y = halves(b, [2, 3], 'webgpu-float16');
    const jitted = jit(f);
    const lowered = jitted.lower(x, y);
    expect(lowered.fallbackKernels).toBe(0);
    expect(lowered.compiledKernels).toBeGreaterThanOrEqual(2);
    const results = jitted(x, y);
    const expected = f(halves(a, [2, 3], 'cpu'), halves(b, [2, 3], 'cpu'));
    for (let k = 0; k < expected.length; k++) {
      const got = results[k] as Tensor;
      const want = expected[k] as Tensor;
      expect(got.dtype).toBe('float16');
      const g = await got.data();
      const w = await want.data();
      for (let i = 0; i < w.length; i++) {
        const tolerance = k === 0 ? 2 ** -10 : 0;
        if (g[i] === w[i]) continue;
        expect(Math.abs((g[i] as number) - (w[i] as number)), `output ${k}[${i}]`).toBeLessThanOrEqual(
          tolerance * Math.abs(w[i] as number),
        );
      }
    }
  });
});
