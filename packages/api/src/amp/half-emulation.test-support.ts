import { getBackend, registerBackend, setBackend } from '../backend/registry.js';
import type { Backend, KernelTable } from '../backend/spi.js';
import type { Aval } from '../core/aval.js';
import { type DType, type HalfDType, isHalf, type TypedArray } from '../core/dtype.js';
import { decodeHalf, encodeHalf, roundToHalf } from '../core/half.js';
import type { Shape } from '../core/shape.js';
import { PRIMITIVE_COUNT } from '../primitives/primitive.js';

/**
 * A test backend that gives the CPU backend float16 and bfloat16: a half tensor is held as a
 * float32 CPU tensor whose every element is a value of its half type; each kernel runs in float32
 * and its half result is rounded to the half type on store (what half hardware does after
 * accumulating in float32), so overflow to infinity and rounding behave as in half precision.
 * Reads and writes at the SPI carry Uint16Array bit patterns, as the contract says.
 */
interface Handle {
  readonly inner: unknown;
  readonly dtype: DType;
}

const NAME = 'half-emulated';

function emulate(cpu: Backend): Backend<Handle> {
  const kernels: Record<number, unknown> = {};
  const round = (result: unknown, shape: Shape, dtype: HalfDType): unknown => {
    const values = (cpu.readSync as (h: unknown) => TypedArray)(result) as Float32Array;
    cpu.dispose(result);
    const rounded = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) rounded[i] = roundToHalf(dtype, values[i] as number);
    return cpu.fromTypedArray(rounded, shape, 'float32');
  };
  for (let p = 0; p < PRIMITIVE_COUNT; p++) {
    const kernel = (cpu.kernels as unknown as Record<number, (h: readonly unknown[], params: unknown, out: Aval) => unknown>)[p];
    if (kernel === undefined) continue;
    kernels[p] = (handles: readonly Handle[], params: Record<string, unknown>, out: Aval): Handle => {
      const innerOut = isHalf(out.dtype) ? { ...out, dtype: 'float32' as DType } : out;
      const innerParams =
        typeof params === 'object' && params !== null && isHalf(params.dtype as DType) ? { ...params, dtype: 'float32' } : params;
      const result = kernel(
        handles.map((h) => h.inner),
        innerParams,
        innerOut,
      );
      return { inner: isHalf(out.dtype) ? round(result, out.shape, out.dtype) : result, dtype: out.dtype };
    };
  }
  const decode = (data: TypedArray, dtype: DType): TypedArray => (isHalf(dtype) ? decodeHalf(dtype, data as Uint16Array) : data);
  const encode = (data: TypedArray, dtype: DType): TypedArray => (isHalf(dtype) ? encodeHalf(dtype, data as Float32Array) : data);
  return {
    name: NAME,
    capabilities: { dtypes: [...cpu.capabilities.dtypes, 'float16', 'bfloat16'], syncRead: true },
    kernels: kernels as unknown as KernelTable<Handle>,
    fromTypedArray: (data, shape, dtype) => ({
      inner: cpu.fromTypedArray(decode(data, dtype), shape, isHalf(dtype) ? 'float32' : dtype),
      dtype,
    }),
    read: async (handle) => encode(await cpu.read(handle.inner), handle.dtype),
    readSync: (handle) => encode((cpu.readSync as (h: unknown) => TypedArray)(handle.inner), handle.dtype),
    dispose: (handle) => cpu.dispose(handle.inner),
    memory: () => cpu.memory(),
  };
}

let registered = false;

/**
 * Registers the emulating backend (once per process) and makes it the default, so that tests of
 * mixed precision run whether or not the CPU backend has half kernels. Needs '@flint/backend-cpu'
 * imported first.
 */
export function useHalfEmulation(): Backend {
  // FLINT_AMP_TEST_BACKEND names a real backend with half dtypes to run the same tests on instead.
  const real = process.env.FLINT_AMP_TEST_BACKEND;
  if (real !== undefined && real !== '') return setBackend(real);
  if (!registered) {
    registered = true;
    registerBackend({ name: NAME, priority: -1, create: () => emulate(getBackend('cpu')) as Backend });
  }
  return setBackend(NAME);
}

let registeredWithout = false;

/** Makes the default a backend like the CPU one but without half dtypes, to test the errors that explain it. */
export function useBackendWithoutHalf(): Backend {
  if (!registeredWithout) {
    registeredWithout = true;
    registerBackend({
      name: 'no-half',
      priority: -1,
      create: () => {
        const cpu = getBackend('cpu');
        // The CPU backend itself, seen through an object that lists no half dtype.
        const dtypes = cpu.capabilities.dtypes.filter((d) => !isHalf(d));
        return Object.create(cpu, { name: { value: 'no-half' }, capabilities: { value: { ...cpu.capabilities, dtypes } } }) as Backend;
      },
    });
  }
  return setBackend('no-half');
}
