/**
 * Peak resident memory of one training step, measured the same way in every system (this file,
 * peers/bench_common.py): Linux lets a process reset its resident-set high-water mark by
 * writing 5 to /proc/self/clear_refs, so the peak is VmHWM after the step minus VmRSS before it.
 * Where that is not possible the process's lifetime peak is used, which is still an upper bound.
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

/** Runs `step` once and returns the resident bytes it added at its peak, or undefined off Linux. */
export async function peakStepBytes(step: () => unknown): Promise<number | undefined> {
  (globalThis as { gc?: () => void }).gc?.();
  let reset = true;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    reset = false;
  }
  const before = statusField('VmRSS');
  await step();
  const peak = reset ? statusField('VmHWM') : process.resourceUsage().maxRSS * 1024;
  if (before === undefined || peak === undefined) return undefined;
  return Math.max(0, peak - before);
}
