/**
 * Peak resident memory of the first training steps, measured the same way in every system
 * (this file, peers/bench_common.py): Linux lets a process reset its resident-set high-water
 * mark by writing 5 to /proc/self/clear_refs, so the peak is VmHWM after the steps minus VmRSS
 * before them. The first steps are measured, in a fresh process after the model and data exist,
 * because later steps reuse memory the allocator already holds. Where the reset is not possible
 * the process's lifetime peak is used, an upper bound.
 */
import { readFileSync, writeFileSync } from 'node:fs';

function statusField(name: string): number | undefined {
  try {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `fn` and returns its result and the resident bytes it added at its peak (undefined off Linux). */
export async function withPeakMemory<R>(fn: () => R | Promise<R>): Promise<{ result: R; peakBytes: number | undefined }> {
  (globalThis as { gc?: () => void }).gc?.();
  let reset = true;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    reset = false;
  }
  const before = statusField('VmRSS');
  const result = await fn();
  const peak = reset ? statusField('VmHWM') : process.resourceUsage().maxRSS * 1024;
  return { result, peakBytes: before === undefined || peak === undefined ? undefined : Math.max(0, peak - before) };
}
