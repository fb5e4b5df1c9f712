import { readFileSync } from 'node:fs';

/**
 * How busy the machine is, as the team sizer samples it. `machine` is cumulative CPU time of
 * every CPU, busy (processes, interrupts, and time the hypervisor gave other guests) and in
 * total, in any one unit; `process` this process's CPU seconds; `now` wall seconds.
 */
export interface LoadProbe {
  machine(): { busy: number; total: number; cpus: number } | undefined;
  process(): number;
  now(): number;
}

/** The kernels' team size: how many OpenMP threads the calling thread's kernels use. */
export interface TeamControl {
  setTeamSize(threads: number): number;
}

/** Seconds of each sampling window. */
const WINDOW_SECONDS = 0.25;

/**
 * Other processes' CPU use (in cores) at which a thread is given up, on each core's worth: with
 * 0.4 of a core taken, the thread on it gets the rest, and the kernels, split evenly over the
 * team, wait for it.
 */
const YIELD_THRESHOLD = 0.4;

/** Kernel calls between two looks at the clock (a look costs more than a tiny kernel's dispatch). */
const CALLS_PER_LOOK = 16;

/** One look at the machine: when (wall seconds), its CPU times and CPU count, and this process's CPU seconds. */
interface Sample {
  readonly at: number;
  readonly busy: number;
  readonly total: number;
  readonly cpus: number;
  readonly process: number;
}

/**
 * Sizes the OpenMP team to the cores other processes leave free. OpenMP splits a kernel's work
 * evenly over its threads, so when another process keeps one of two cores busy the thread that
 * shares that core holds up every kernel: the eager MLP training step took 6.6 ms on two threads
 * that waited a short while before sleeping, and 5.4 ms on one thread. On an idle machine the
 * team has the machine to itself and may keep its threads awake longer (OPENMP_SPIN_COUNT in
 * load.ts); beside a busy process that long wait alone made the step three times slower.
 *
 * Every window (a quarter second of kernel calls) it measures other processes' CPU use (the
 * machine's busy time less this process's own, which counts the team's waiting threads) and asks
 * for the cores left, rounding a core that others use less than YIELD_THRESHOLD of back in; a new
 * size is set after two windows in a row ask for it, so a passing burst does not resize the team
 * (which drops the cached oneDNN primitives, sized for the old team).
 */
export class TeamSizer {
  private countdown = CALLS_PER_LOOK;
  private windowStart: Sample | undefined;
  private team: number;
  private pending: number;

  constructor(
    private readonly control: TeamControl,
    private readonly maxThreads: number,
    private readonly probe: LoadProbe = procfsProbe,
  ) {
    this.team = maxThreads;
    this.pending = maxThreads;
    this.windowStart = this.sample();
  }

  /** The team size the sizer last set (the full team until it has seen other load). */
  get size(): number {
    return this.team;
  }

  /** Called on every kernel call: nearly free until a window has passed. */
  tick(): void {
    if (--this.countdown > 0) return;
    this.countdown = CALLS_PER_LOOK;
    const start = this.windowStart;
    if (start === undefined || this.probe.now() - start.at < WINDOW_SECONDS) return;
    const end = this.sample();
    this.windowStart = end;
    if (end === undefined) return;
    const wanted = this.wantedTeam(start, end);
    if (wanted === undefined) return;
    const confirmed = wanted === this.pending;
    this.pending = wanted;
    if (confirmed && wanted !== this.team) {
      this.control.setTeamSize(wanted);
      this.team = wanted;
    }
  }

  private sample(): Sample | undefined {
    const machine = this.probe.machine();
    return machine === undefined ? undefined : { at: this.probe.now(), ...machine, process: this.probe.process() };
  }

  private wantedTeam(start: Sample, end: Sample): number | undefined {
    const seconds = end.at - start.at;
    const total = end.total - start.total;
    if (!(seconds > 0) || !(total > 0)) return undefined;
    const machineBusyCores = ((end.busy - start.busy) / total) * end.cpus;
    const ownCores = (end.process - start.process) / seconds;
    const othersCores = Math.max(0, machineBusyCores - ownCores);
    const freeCores = end.cpus - othersCores;
    return Math.min(this.maxThreads, Math.max(1, Math.floor(freeCores + YIELD_THRESHOLD)));
  }
}

/**
 * Linux's /proc/stat: the first line sums every CPU's time (user, nice, system, idle, iowait,
 * irq, softirq, steal, ...; guest time is already in user). Elsewhere undefined: no resizing.
 */
export const procfsProbe: LoadProbe = {
  machine() {
    let text: string;
    try {
      text = readFileSync('/proc/stat', 'latin1');
    } catch {
      return undefined;
    }
    return parseProcStat(text);
  },
  process() {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  },
  now: () => performance.now() / 1000,
};

/** The machine's busy and total CPU time and its CPU count from /proc/stat's text, or undefined when it does not parse. */
export function parseProcStat(text: string): { busy: number; total: number; cpus: number } | undefined {
  const lines = text.split('\n');
  const fields = lines[0]?.trim().split(/\s+/);
  if (fields?.[0] !== 'cpu' || fields.length < 8) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = fields.slice(1, 9).map(Number) as number[];
  const values = [user, nice, system, idle, iowait, irq, softirq, steal];
  if (values.some((v) => v === undefined || !Number.isFinite(v))) return undefined;
  const busy = user! + nice! + system! + irq! + softirq! + steal;
  const cpus = lines.filter((line) => /^cpu\d+\s/.test(line)).length;
  return cpus > 0 ? { busy, total: busy + idle! + iowait!, cpus } : undefined;
}
