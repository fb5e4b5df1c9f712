import { describe, expect, it } from 'vitest';
import { type LoadProbe, parseProcStat, procfsProbe, TeamSizer } from './team.js';

/**
 * A machine whose CPU time the test advances: each `advance(seconds, { others, own })` runs the
 * given cores of other processes and of this process for that long on `cpus` CPUs.
 */
class FakeMachine implements LoadProbe {
  private clock = 0;
  private busy = 0;
  private idle = 0;
  private own = 0;
  looks = 0;
  constructor(readonly cpus: number) {}

  advance(seconds: number, load: { others: number; own: number }): void {
    this.clock += seconds;
    const busy = Math.min(this.cpus, load.others + load.own) * seconds;
    this.busy += busy;
    this.idle += this.cpus * seconds - busy;
    this.own += load.own * seconds;
  }

  machine() {
    this.looks++;
    return { busy: this.busy * 100, total: (this.busy + this.idle) * 100, cpus: this.cpus };
  }

  process() {
    return this.own;
  }

  now() {
    return this.clock;
  }
}

/** Records the team sizes set. */
function recorder() {
  const sizes: number[] = [];
  return { sizes, control: { setTeamSize: (n: number) => sizes.push(n) } };
}

/** Runs `windows` quarter-second windows of `load`, each ended by 16 kernel calls. */
function run(sizer: TeamSizer, machine: FakeMachine, windows: number, load: { others: number; own: number }): void {
  for (let w = 0; w < windows; w++) {
    machine.advance(0.26, load);
    for (let call = 0; call < 16; call++) sizer.tick();
  }
}

describe('TeamSizer', () => {
  it('keeps the whole team on an idle machine, however busy the process itself is', () => {
    const machine = new FakeMachine(2);
    const { sizes, control } = recorder();
    const sizer = new TeamSizer(control, 2, machine);
    run(sizer, machine, 8, { others: 0.1, own: 2 });
    expect(sizes).toEqual([]);
    expect(sizer.size).toBe(2);
  });

  it('gives a core up after two windows in which another process keeps it busy, and takes it back after two idle ones', () => {
    const machine = new FakeMachine(2);
    const { sizes, control } = recorder();
    const sizer = new TeamSizer(control, 2, machine);
    run(sizer, machine, 1, { others: 0.7, own: 1.3 });
    expect(sizes).toEqual([]); // one window is a passing burst
    run(sizer, machine, 1, { others: 0.7, own: 1.3 });
    expect(sizes).toEqual([1]);
    expect(sizer.size).toBe(1);
    run(sizer, machine, 4, { others: 1, own: 1 });
    expect(sizes).toEqual([1]);
    run(sizer, machine, 1, { others: 0, own: 1 });
    expect(sizes).toEqual([1]);
    run(sizer, machine, 1, { others: 0, own: 1 });
    expect(sizes).toEqual([1, 2]);
  });

  it('ignores bursts that alternate with idle windows', () => {
    const machine = new FakeMachine(2);
    const { sizes, control } = recorder();
    const sizer = new TeamSizer(control, 2, machine);
    for (let i = 0; i < 6; i++) {
      run(sizer, machine, 1, { others: 1, own: 1 });
      run(sizer, machine, 1, { others: 0, own: 2 });
    }
    expect(sizes).toEqual([]);
  });

  it('asks for the cores others leave, rounding a core they use less than 0.4 of back in, within 1 and the maximum', () => {
    const cases: [cpus: number, max: number, others: number, team: number | undefined][] = [
      [16, 16, 3.5, 12],
      [16, 16, 3.7, 12],
      [16, 16, 3.41, 12],
      [16, 16, 3.39, 13],
      [16, 8, 2, undefined], // 14 free, capped at the 8 the process started with: no change
      [2, 2, 2, 1],
      [4, 4, 0.3, undefined],
    ];
    for (const [cpus, max, others, team] of cases) {
      const machine = new FakeMachine(cpus);
      const { sizes, control } = recorder();
      const sizer = new TeamSizer(control, max, machine);
      run(sizer, machine, 3, { others, own: Math.max(0, Math.min(max, cpus - others)) });
      expect(sizes, `${cpus} CPUs, ${others} busy with others`).toEqual(team === undefined ? [] : [team]);
    }
  });

  it('looks at the machine once every 16 kernel calls, and only past a window', () => {
    const machine = new FakeMachine(2);
    const sizer = new TeamSizer(recorder().control, 2, machine);
    const before = machine.looks;
    for (let call = 0; call < 160; call++) sizer.tick();
    expect(machine.looks).toBe(before); // no time passed: the clock is read, the machine is not
    machine.advance(0.3, { others: 0, own: 1 });
    for (let call = 0; call < 15; call++) sizer.tick();
    expect(machine.looks).toBe(before);
    sizer.tick();
    expect(machine.looks).toBe(before + 1);
  });

  it('never resizes where the machine cannot be read', () => {
    const { sizes, control } = recorder();
    const blind: LoadProbe = { machine: () => undefined, process: () => 0, now: () => performance.now() / 1000 };
    const sizer = new TeamSizer(control, 2, blind);
    for (let call = 0; call < 1000; call++) sizer.tick();
    expect(sizes).toEqual([]);
    expect(sizer.size).toBe(2);
  });
});

describe('parseProcStat', () => {
  it('sums busy time (steal included) and counts the CPUs', () => {
    const text = ['cpu  100 10 50 800 20 5 5 10 0 0', 'cpu0 50 5 25 400 10 3 2 5 0 0', 'cpu1 50 5 25 400 10 2 3 5 0 0', 'intr 12345'].join(
      '\n',
    );
    expect(parseProcStat(text)).toEqual({ busy: 100 + 10 + 50 + 5 + 5 + 10, total: 180 + 800 + 20, cpus: 2 });
  });

  it('refuses text that is not /proc/stat', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('cpu0 1 2 3 4 5 6 7')).toBeUndefined();
    expect(parseProcStat('cpu  1 2 x 4 5 6 7 8')).toBeUndefined();
    expect(parseProcStat('cpu  1 2 3 4 5 6 7 8')).toBeUndefined(); // no per-CPU lines
  });

  it.skipIf(process.platform !== 'linux')('reads this machine', () => {
    const machine = procfsProbe.machine();
    expect(machine?.cpus).toBeGreaterThan(0);
    expect(machine?.total).toBeGreaterThan(machine?.busy ?? Infinity);
  });
});
