// What the mkl benchmarks that compare systems in separate processes share: each round runs one
// process per system in turn, so that load on the machine falls on all alike, and the figure of a
// case is the median over the rounds of each process's median.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Milliseconds per call, median of the calls made in about `seconds` after a warm-up. */
export function medianMs(run: () => void, seconds = 2): number {
  for (let i = 0; i < 5; i++) run();
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < seconds * 1000 || times.length < 10) {
    const before = performance.now();
    run();
    times.push(performance.now() - before);
  }
  return middle(times);
}

/** The median of `values`. */
export function middle(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

/**
 * Runs `rounds` rounds of `measure(system)` for each system in turn (each a process's medians by
 * case), printing each, and returns every system's medians over the rounds, by case.
 */
export function alternate<S extends string>(
  rounds: number,
  systems: readonly S[],
  measure: (system: S) => Record<string, number>,
): Record<S, Record<string, number>> {
  const collected = Object.fromEntries(systems.map((s) => [s, {}])) as Record<S, Record<string, number[]>>;
  for (let round = 0; round < rounds; round++) {
    for (const system of systems) {
      const result = measure(system);
      for (const [label, ms] of Object.entries(result)) {
        const list = collected[system][label] ?? [];
        list.push(ms);
        collected[system][label] = list;
      }
      const row = Object.values(result)
        .map((ms) => ms.toFixed(3).padStart(8))
        .join(' ');
      console.log(`round ${round + 1} ${system.padEnd(9)} ${row} ms`);
    }
  }
  return Object.fromEntries(
    systems.map((s) => [s, Object.fromEntries(Object.entries(collected[s]).map(([label, list]) => [label, middle(list)]))]),
  ) as Record<S, Record<string, number>>;
}

/** The last line a benchmark child process printed, parsed as its medians by case. */
function childMedians(child: { readonly status: number | null; readonly stdout: string; readonly stderr: string }, what: string) {
  if (child.status !== 0) throw new Error(`${what} benchmark process failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as Record<string, number>;
}

/** In a benchmark's child process: prints each case's median (medianMs) as the one JSON line the parent reads. */
export function printMedians(cases: Readonly<Record<string, () => void>>): void {
  const result: Record<string, number> = {};
  for (const [name, run] of Object.entries(cases)) result[name] = medianMs(run);
  console.log(JSON.stringify(result));
}

/**
 * Runs the benchmark script at `scriptUrl` (its `import.meta.url`) again in a child process, with
 * `env` added to this one's, and returns the medians it printed.
 */
export function scriptMedians(scriptUrl: string, env: Record<string, string>, what: string): Record<string, number> {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(scriptUrl)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return childMedians(child, what);
}

/**
 * Runs a PyTorch script (`python -c script ...args`, the Python FLINT_BENCH_PYTHON names, else
 * Debian's) and returns the medians it printed. Unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set,
 * PyTorch gets GOMP_SPINCOUNT=3000, its better setting (docs/backend-mkl.md, "OpenMP and loaded
 * machines").
 */
export function torchMedians(script: string, args: readonly string[], what = 'torch'): Record<string, number> {
  const spin = process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined ? { GOMP_SPINCOUNT: '3000' } : {};
  const child = spawnSync(process.env.FLINT_BENCH_PYTHON ?? '/usr/bin/python3', ['-c', script, ...args], {
    env: { ...process.env, ...spin },
    encoding: 'utf8',
  });
  return childMedians(child, what);
}
