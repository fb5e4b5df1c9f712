// The CUDA backend's kernels under AddressSanitizer: the device script's rehearsal (conformance
// tables, GPU checks, gradient checks, issue 10's workloads at toy sizes; see device-check.test.ts)
// runs on the sanitized emulation (scripts/build-emulation.mjs --asan) with its cuBLASLt and cuDNN,
// in a node started with libasan preloaded. "Device" buffers are allocated to the byte and the
// caching allocator poisons what lies past a block's request and whole blocks while cached
// (native/state.cc), so a kernel that reads or writes past its buffer, or into a released one,
// aborts the run with AddressSanitizer's report naming the kernel, as compute-sanitizer would on
// a GPU. An iota kernel made to write one element too many failed it so; its first run found a
// use after free in the emulated NVRTC's exit handler (since removed with the handler).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { asanRuntime, SANITIZED_EMULATION_DIR } from '../../scripts/build-emulation.mjs';

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = join(PACKAGE, SANITIZED_EMULATION_DIR);
const ADDON = join(BUILD, 'Release', 'flint_cuda.node');

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return `AddressSanitizer runs are set up for Linux only, not ${process.platform}`;
  if (!existsSync(ADDON)) {
    const status = join(BUILD, 'flint-cuda-status.json');
    const reason = existsSync(status) ? (JSON.parse(readFileSync(status, 'utf8')) as { reason?: string }).reason : undefined;
    return `the sanitized emulation is not built (${reason ?? 'run node packages/backend-cuda/scripts/build-emulation.mjs --asan'})`;
  }
  const runtime = asanRuntime();
  if (runtime === null) return 'the host compiler has no AddressSanitizer runtime (libasan.so) to preload';
  // ASan needs its shadow memory where the kernel's address layout allows it (not, for instance,
  // with vm.mmap_rnd_bits above 28 for gcc 12's runtime): a node that cannot even start says so.
  const probe = spawnSync(process.execPath, ['-e', '0'], {
    encoding: 'utf8',
    env: { ...process.env, LD_PRELOAD: runtime, ASAN_OPTIONS: 'detect_leaks=0' },
  });
  if (probe.status !== 0) return `AddressSanitizer cannot start a node here: ${probe.stderr.trim().split('\n').pop() ?? probe.status}`;
  return undefined;
}

const missing = unavailable();
if (missing !== undefined) console.log(`backend-cuda: sanitized emulation run skipped: ${missing}`);

describe.skipIf(missing !== undefined)('the kernels under AddressSanitizer', () => {
  it('run the device rehearsal without a fault, through the vendor libraries too', () => {
    // Two levels below the package root, where the bundle finds the addon and the CUDA C sources.
    const bundle = join(PACKAGE, '.device', 'dist', 'device-check-asan.mjs');
    execFileSync('bash', [join(PACKAGE, 'scripts', 'device-check.sh'), 'bundle', bundle], { stdio: 'pipe' });
    const out = mkdtempSync(join(tmpdir(), 'flint-device-check-asan-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    const env = {
      ...process.env,
      LD_PRELOAD: asanRuntime() as string,
      // Node itself is not instrumented: its own allocations at exit are not this test's business.
      ASAN_OPTIONS: 'detect_leaks=0',
      FLINT_CUDA_ADDON: ADDON,
      FLINT_CUDA_LIBRARY_PATH: [join(BUILD, 'emulated-vendor'), join(BUILD, 'emulated-nccl')].join(':'),
      FLINT_CUDA_STRICT_VENDOR: '1',
    };
    // Every primitive's gradient kernels, every 4th composite case (composites reuse the same
    // kernels; gradients.test.ts compares all of them unsanitized): 100 s instead of 280 s.
    const run = spawnSync(process.execPath, [bundle, out, '--rehearsal', '--gradient-stride=4'], {
      encoding: 'utf8',
      env,
      timeout: 420_000,
    });
    // (Its warning that fibers, makecontext/swapcontext, are not fully supported is expected: the
    // runs found no false positive from them.)
    const report = run.stderr.indexOf('ERROR: AddressSanitizer');
    expect(report, run.stderr.slice(Math.max(0, report), report + 4000)).toBe(-1);
    expect(run.stdout, run.stderr.slice(-3000)).toMatch(/done: conformance (\d+)\/\1, checks (\d+)\/\2, gradients (\d+)\/\3/);
    expect(run.stdout).toMatch(/ 0 failed vendor calls/);
    expect(run.status, run.stdout.slice(-2000)).toBe(0);
    const reportFile = readdirSync(out).find((f) => f.startsWith('cuda-') && f.endsWith('.json'));
    const results = JSON.parse(readFileSync(join(out, reportFile as string), 'utf8'));
    // The fused kernels ran too, compiled by the emulated NVRTC with -fsanitize=address.
    expect(results.device.libraries.nvrtc.found).toBe(true);
    expect(results.memory.jitCompiles).toBeGreaterThan(0);
    expect(results.device.libraries.cudnn.path).toBe(join(BUILD, 'emulated-vendor', 'libcudnn.so.9'));
  }, 480_000);
});
