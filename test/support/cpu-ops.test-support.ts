import { type Backend, registerBackend } from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';

// The portable backend without its composite kernels (CpuBackend.composites), registered as
// 'cpu-ops': composites such as max pooling's backward pass run as the api's ops there, the
// reference that the fused kernels of every backend are checked against.

export const CPU_OPS = 'cpu-ops';

registerBackend({
  name: CPU_OPS,
  priority: -1,
  create: () => Object.assign(new CpuBackend(), { name: CPU_OPS, composites: undefined }) as unknown as Backend,
});
