// The suites that run on every registered backend (conformance, gradient checks) run on a chosen
// few when FLINT_TEST_BACKENDS names them (comma-separated): the vitest project that checks the
// CUDA backend on its CPU emulation (vitest.config.ts) uses it to run them on 'cuda' alone.

/** The backends FLINT_TEST_BACKENDS names, or null when it is unset (every backend runs). */
export function selectedBackends(env: Readonly<Record<string, string | undefined>> = process.env): ReadonlySet<string> | null {
  const value = env.FLINT_TEST_BACKENDS;
  if (value === undefined || value.trim() === '') return null;
  return new Set(
    value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
}

/** Whether the backend-iterating suites run on `name`. */
export function isSelectedBackend(name: string): boolean {
  const selected = selectedBackends();
  return selected === null || selected.has(name);
}
