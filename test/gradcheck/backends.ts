import '@flint/backend-cpu';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend, registeredBackends } from '@flint/api';
import { isSelectedBackend } from '../support/backend-selection.js';

// The backends the gradient checks run on: every workspace backend package is imported (which
// registers it), and those that start on this machine, hold float64 (finite differences need it)
// and read synchronously (the checks read values in between transforms) are used.

const PACKAGES = fileURLToPath(new URL('../../packages/', import.meta.url));

export interface BackendChoice {
  readonly used: string[];
  /** Backends left out, with the reason. */
  readonly skipped: Record<string, string>;
}

export async function gradcheckBackends(): Promise<BackendChoice> {
  const skipped: Record<string, string> = {};
  for (const folder of readdirSync(PACKAGES).filter((f) => f.startsWith('backend-'))) {
    const entry = `${PACKAGES}${folder}/src/index.ts`;
    if (!existsSync(entry)) continue;
    try {
      await import(/* @vite-ignore */ pathToFileURL(entry).href);
    } catch (error) {
      skipped[folder] = `import failed: ${(error as Error).message}`;
    }
  }
  const used: string[] = [];
  for (const name of registeredBackends()) {
    if (!isSelectedBackend(name)) {
      skipped[name] = 'not named in FLINT_TEST_BACKENDS';
      continue;
    }
    try {
      const backend = await initBackend(name);
      if (!backend.capabilities.dtypes.includes('float64')) skipped[name] = 'no float64';
      else if (!backend.capabilities.syncRead) skipped[name] = 'reads only asynchronously';
      else used.push(name);
    } catch (error) {
      skipped[name] = `unavailable: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  return { used, skipped };
}
