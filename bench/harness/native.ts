/**
 * The C peers (bench/peers/*.c), compiled with the system's `cc` into bench/.build/bin/ at run
 * time. A program whose compiler, headers or libraries are missing is reported absent with the
 * Debian package that provides them; the benchmark itself never requires them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface NativeProgram {
  readonly name: string;
  readonly source: string;
  readonly flags: readonly string[];
  readonly libraries: readonly string[];
  /** What to install when it does not compile. */
  readonly installHint: string;
}

export const NATIVE_PROGRAMS = {
  fmaPeak: {
    name: 'fma_peak',
    source: 'fma_peak.c',
    flags: ['-O2'],
    libraries: ['-lpthread', '-lm'],
    installHint: 'a C compiler (apt-get install gcc)',
  },
  bandwidth: {
    name: 'bandwidth',
    source: 'bandwidth.c',
    flags: ['-O3'],
    libraries: ['-lpthread'],
    installHint: 'a C compiler (apt-get install gcc)',
  },
  openblas: {
    name: 'openblas_sgemm',
    source: 'openblas_sgemm.c',
    flags: ['-O2'],
    libraries: ['-lopenblas', '-lm'],
    installHint: 'apt-get install libopenblas-dev',
  },
  onednn: {
    name: 'onednn_matmul',
    source: 'onednn_matmul.c',
    flags: ['-O2'],
    libraries: ['-ldnnl', '-lm'],
    installHint: 'apt-get install libdnnl-dev',
  },
} as const satisfies Record<string, NativeProgram>;

export type NativeBuild = { readonly ok: true; readonly binary: string } | { readonly ok: false; readonly reason: string };

function compiler(): string | undefined {
  for (const candidate of [process.env.CC, 'cc', 'gcc', 'clang']) {
    if (!candidate) continue;
    const probe = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** Compiles `program` unless an up-to-date binary exists (keyed by source, flags and compiler). */
export function buildNative(program: NativeProgram, peersDir: string, buildDir: string): NativeBuild {
  const cc = compiler();
  if (!cc) return { ok: false, reason: `no C compiler found (install ${program.installHint})` };
  const binDir = path.join(buildDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const sources = [program.source, 'prng.h', 'bench_timing.h'].map((f) => readFileSync(path.join(peersDir, f), 'utf8'));
  const key = createHash('sha256')
    .update([cc, ...program.flags, ...program.libraries, ...sources].join('\0'))
    .digest('hex')
    .slice(0, 12);
  const binary = path.join(binDir, `${program.name}-${key}`);
  if (existsSync(binary)) return { ok: true, binary };
  try {
    execFileSync(cc, [...program.flags, `-I${peersDir}`, '-o', binary, path.join(peersDir, program.source), ...program.libraries], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    return { ok: true, binary };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    const firstError = stderr.split('\n').find((l) => /error|cannot find|not found/i.test(l)) ?? stderr.split('\n')[0] ?? '';
    return { ok: false, reason: `does not compile (${firstError.trim().slice(0, 160)}); install ${program.installHint}` };
  }
}
