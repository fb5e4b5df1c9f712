// Optional system libraries that some backends need, installed with apt when this machine allows
// (root, Debian/Ubuntu). A missing library only makes its backend report itself unavailable, so
// nothing here may fail the bootstrap.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Each package, with a file whose presence shows it is installed, and the backend that needs it. */
export const SYSTEM_PACKAGES = [
  { name: 'libopenblas-dev', file: '/usr/include/x86_64-linux-gnu/cblas.h', alt: '/usr/include/cblas.h', backend: 'mkl' },
  { name: 'libdnnl-dev', file: '/usr/include/dnnl.h', alt: '/usr/include/oneapi/dnnl/dnnl.h', backend: 'mkl' },
  // Debian's oneDNN is built with its OpenCL GPU runtime, so its CMake package (dnnl-config.cmake)
  // asks for OpenCL's headers and library even though the addon uses only the CPU engine; apt
  // names it as a recommendation only, which --no-install-recommends leaves out.
  { name: 'ocl-icd-opencl-dev', file: '/usr/include/CL/cl.h', alt: '/usr/include/CL/opencl.h', backend: 'mkl' },
  { name: 'chromium-common', file: '/usr/lib/chromium/vk_swiftshader_icd.json', backend: 'webgpu' },
  { name: 'libvulkan1', file: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', backend: 'webgpu' },
  // Debian's browser, which test/browser drives (playwright-core) to run examples/browser on WebGPU.
  { name: 'chromium', file: '/usr/bin/chromium', backend: 'webgpu (browser page test)' },
  {
    name: 'libopenmpi-dev',
    file: '/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h',
    alt: '/usr/include/x86_64-linux-gnu/openmpi/mpi.h',
    backend: 'distributed-mpi',
  },
  { name: 'openmpi-bin', file: '/usr/bin/mpirun', alt: '/usr/bin/orterun', backend: 'distributed-mpi' },
];

/**
 * What only the test suite needs (scripts/test.mjs installs it, the demo does not): PyTorch, the
 * reference of the differential tests (nn layers, optimizers, schedulers, safetensors files),
 * which skip, saying so, where /usr/bin/python3 cannot import it.
 */
export const TEST_PACKAGES = [
  { name: 'python3-torch', file: '/usr/lib/python3/dist-packages/torch/__init__.py', backend: 'the differential tests against PyTorch' },
];

function installed(pkg) {
  return existsSync(pkg.file) || (pkg.alt !== undefined && existsSync(pkg.alt));
}

/** Installs the missing ones of `packages` with apt-get; returns the names still missing afterwards. */
export function ensureSystemPackages(log, packages = SYSTEM_PACKAGES) {
  const missing = packages.filter((p) => !installed(p));
  if (missing.length === 0 || process.env.FLINT_SKIP_APT === '1') return missing.map((p) => p.name);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    log(
      `optional system packages missing (${missing.map((p) => p.name).join(', ')}); not root or no apt-get, so their backends will report themselves unavailable`,
    );
    return missing.map((p) => p.name);
  }
  const names = missing.map((p) => p.name);
  log(`installing optional system packages with apt-get: ${names.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 300_000 });
  if (update.status === 0) {
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { stdio: 'inherit', env, timeout: 900_000 });
  }
  const still = packages.filter((p) => !installed(p)).map((p) => p.name);
  if (still.length > 0) log(`still missing after apt-get: ${still.join(', ')} (what needs them reports itself unavailable or skips)`);
  return still;
}
