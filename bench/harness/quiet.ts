/**
 * Whether the machine is quiet: other processes' CPU use, read from /proc/stat (all CPU time)
 * minus what the benchmark itself (this process and the running child, from /proc/<pid>/stat)
 * used over the same interval. Before the run we wait for it to drop below a threshold; during
 * the run a monitor samples it once a second, and the report says what it saw.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Linux's USER_HZ; the kernel exports process times in these ticks. */
const TICKS_PER_SECOND = 100;

interface CpuSample {
  readonly busyTicks: number;
  readonly totalTicks: number;
  readonly ownTicks: number;
  readonly at: number;
}

function systemTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** utime + stime of a process (its threads included), in ticks; 0 once it is gone. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function sample(pids: readonly number[]): CpuSample | undefined {
  const system = systemTicks();
  if (!system) return undefined;
  const own = pids.reduce((sum, pid) => sum + processTicks(pid), 0);
  return { busyTicks: system.busy, totalTicks: system.total, ownTicks: own, at: performance.now() };
}

/** Cores kept busy by other processes between two samples. */
function otherCores(a: CpuSample, b: CpuSample, cores: number): number {
  const total = b.totalTicks - a.totalTicks;
  if (total <= 0) return 0;
  const busyCores = ((b.busyTicks - a.busyTicks) / total) * cores;
  const seconds = (b.at - a.at) / 1000;
  const ownCores = seconds > 0 ? (b.ownTicks - a.ownTicks) / TICKS_PER_SECOND / seconds : 0;
  return Math.max(0, busyCores - Math.max(0, ownCores));
}

export interface QuietCheck {
  readonly supported: boolean;
  readonly cores: number;
  readonly thresholdCores: number;
  readonly loadAverage: readonly number[];
  /** Other processes' load (cores) in the last second before the run started. */
  readonly otherCoresAtStart: number;
  readonly waitedSeconds: number;
  readonly quiet: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits up to `maxWaitSeconds` for other processes to use less than `thresholdCores`. */
export async function waitForQuiet(maxWaitSeconds: number, thresholdCores: number, log: (line: string) => void): Promise<QuietCheck> {
  const cores = os.cpus().length;
  const start = performance.now();
  let previous = sample([process.pid]);
  if (!previous) {
    return { supported: false, cores, thresholdCores, loadAverage: os.loadavg(), otherCoresAtStart: 0, waitedSeconds: 0, quiet: true };
  }
  let other = Number.POSITIVE_INFINITY;
  let announced = false;
  for (;;) {
    await sleep(1000);
    const next = sample([process.pid]);
    if (!next) break;
    other = otherCores(previous, next, cores);
    previous = next;
    const waited = (performance.now() - start) / 1000;
    if (other < thresholdCores || waited >= maxWaitSeconds) break;
    if (!announced) {
      log(`waiting up to ${maxWaitSeconds} s for the machine to be quiet (other processes use ${other.toFixed(2)} cores)...`);
      announced = true;
    }
  }
  const waitedSeconds = Math.round((performance.now() - start) / 100) / 10;
  return {
    supported: true,
    cores,
    thresholdCores,
    loadAverage: os.loadavg(),
    otherCoresAtStart: round2(other),
    waitedSeconds,
    quiet: other < thresholdCores,
  };
}

export interface LoadRecord {
  readonly samples: number;
  readonly meanOtherCores: number;
  readonly maxOtherCores: number;
}

/** Samples other processes' load once a second while a child runs. */
export class LoadMonitor {
  private timer: NodeJS.Timeout | undefined;
  private last: CpuSample | undefined;
  private readonly values: number[] = [];
  private readonly cores = os.cpus().length;

  constructor(private readonly childPid: number) {}

  start(): void {
    this.last = sample([process.pid, this.childPid]);
    this.timer = setInterval(() => {
      const next = sample([process.pid, this.childPid]);
      if (next && this.last) this.values.push(otherCores(this.last, next, this.cores));
      this.last = next;
    }, 1000);
    this.timer.unref();
  }

  stop(): LoadRecord {
    if (this.timer) clearInterval(this.timer);
    const n = this.values.length;
    return {
      samples: n,
      meanOtherCores: n ? round2(this.values.reduce((a, b) => a + b, 0) / n) : 0,
      maxOtherCores: n ? round2(Math.max(...this.values)) : 0,
    };
  }
}

function round2(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : value;
}
