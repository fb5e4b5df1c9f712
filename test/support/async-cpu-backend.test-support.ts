import { type Backend, type DType, registerBackend } from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';

/**
 * Registers the portable CPU backend under `name` without synchronous reads: it stands in for an
 * asynchronous backend (WebGPU, a GPU, a worker) in tests that must not read data back
 * synchronously. Its priority is below every real backend, so `auto` never picks it. `dtypes`
 * narrows the dtypes it offers (WebGPU's float32, int32, uint8 and bool, say).
 */
export function registerAsyncCpuBackend(name: string, dtypes?: readonly DType[]): void {
  registerBackend({
    name,
    priority: -1,
    create: () => {
      const cpu = new CpuBackend();
      return Object.create(cpu, {
        name: { value: name },
        readSync: { value: undefined },
        capabilities: { value: { ...cpu.capabilities, syncRead: false, ...(dtypes ? { dtypes } : {}) } },
      }) as Backend;
    },
  });
}
