import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Backend, initBackend, registeredBackends } from '@flint/api';
import { isSelectedBackend } from './backend-selection.js';

// The suites that run on every backend import every workspace backend package (which registers
// it), so a new backend is checked with no change to them, and start those FLINT_TEST_BACKENDS
// selects; a backend that cannot start on this machine is kept with its reason, to be skipped.

const PACKAGES = fileURLToPath(new URL('../../packages/', import.meta.url));

/** Imports every packages/backend-* source entry; returns the folders whose import threw, with the error. */
export async function importWorkspaceBackends(): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  for (const folder of readdirSync(PACKAGES)
    .filter((f) => f.startsWith('backend-'))
    .sort()) {
    const entry = `${PACKAGES}${folder}/src/index.ts`;
    if (!existsSync(entry)) continue;
    try {
      await import(/* @vite-ignore */ pathToFileURL(entry).href);
    } catch (error) {
      failures.set(folder, (error as Error).stack ?? String(error));
    }
  }
  return failures;
}

/** A registered, selected backend: started, or the first line of why it could not start. */
export interface DiscoveredBackend {
  readonly name: string;
  readonly backend?: Backend;
  readonly reason?: string;
}

/** Starts every registered backend FLINT_TEST_BACKENDS selects (all when it is unset). */
export async function startSelectedBackends(): Promise<DiscoveredBackend[]> {
  const found: DiscoveredBackend[] = [];
  for (const name of registeredBackends().filter(isSelectedBackend)) {
    try {
      found.push({ name, backend: await initBackend(name) });
    } catch (error) {
      found.push({ name, reason: (error as Error).message.split('\n')[0] as string });
    }
  }
  return found;
}
