// What the mkl benchmarks that compare systems in separate processes share: each round runs one
// process per system in turn, so that load on the machine falls on all alike, and the figure of a
// case is the median over the rounds of each process's median.

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
export function childMedians(child: { readonly status: number | null; readonly stdout: string; readonly stderr: string }, what: string) {
  if (child.status !== 0) throw new Error(`${what} benchmark process failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as Record<string, number>;
}
