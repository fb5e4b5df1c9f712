import '@flint/backend-cpu';
import { initBackend, registeredBackends } from '@flint/api';
import { isSelectedBackend } from '../support/backend-selection.js';
import { importWorkspaceBackends } from '../support/workspace-backends.js';

// The backends the gradient checks run on: every workspace backend package is imported (which
// registers it), and those that start on this machine, hold float64 (finite differences need it)
// and read synchronously (the checks read values in between transforms) are used.

export interface BackendChoice {
  readonly used: string[];
  /** Backends left out, with the reason. */
  readonly skipped: Record<string, string>;
}

export async function gradcheckBackends(): Promise<BackendChoice> {
  const skipped: Record<string, string> = {};
  for (const [folder, error] of await importWorkspaceBackends()) skipped[folder] = `import failed: ${error.split('\n')[0]}`;
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
