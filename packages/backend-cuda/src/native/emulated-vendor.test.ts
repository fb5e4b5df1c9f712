// The cuda-emulation-vendor project (vitest.config.ts) checks the addon's cuBLASLt and cuDNN paths
// on the emulation's own libraries: this makes sure those are the ones it opened (a stale build, or
// a real NVIDIA library found on the way, would leave the vendor paths untested or unusable), and
// that a real library is passed over with the reason. Elsewhere it skips.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCudaBackend } from '../index.js';

const folders = (process.env.FLINT_CUDA_LIBRARY_PATH ?? '').split(':');
const vendorFolder = folders.find((f) => f.endsWith('emulated-vendor'));
const emulated = process.env.FLINT_CUDA_ADDON !== undefined && vendorFolder !== undefined;
if (!emulated) console.log('backend-cuda: emulated vendor library checks skipped: not the cuda-emulation-vendor project');

describe.skipIf(!emulated)('the emulated vendor libraries', () => {
  it('are the libraries the emulated addon opened', () => {
    const libraries = createCudaBackend().libraries();
    expect(libraries.cublasLt.path).toBe(`${vendorFolder}/libcublasLt.so.13`);
    expect(libraries.cublas.path).toBe(`${vendorFolder}/libcublas.so.13`);
    expect(libraries.cudnn.path).toBe(`${vendorFolder}/libcudnn.so.9`);
  });

  it('pass over a library that is not one of theirs, saying so', () => {
    // Any shared library named libcudnn.so.9 stands in for NVIDIA's: it lacks the emulation's
    // attach entry. A link to the C math library this process has loaded already.
    const libm = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((line) => line.slice(line.indexOf('/')))
      .find((path) => /\/libm\.so\.6$/.test(path));
    expect(libm, 'libm.so.6 among the mapped files').toBeDefined();
    const folder = mkdtempSync(join(tmpdir(), 'flint-real-cudnn-'));
    try {
      symlinkSync(libm as string, join(folder, 'libcudnn.so.9'));
      const script = `const addon = require(${JSON.stringify(process.env.FLINT_CUDA_ADDON)}); console.log(JSON.stringify(addon.libraries().cudnn));`;
      const output = execFileSync(process.execPath, ['-e', script], {
        env: { ...process.env, FLINT_CUDA_LIBRARY_PATH: folder },
        encoding: 'utf8',
      });
      const cudnn = JSON.parse(output) as { found: boolean; reason: string };
      expect(cudnn.found).toBe(false);
      expect(cudnn.reason).toContain(`passed over, not the emulation's own: ${folder}/libcudnn.so.9`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
