import { setBackendScoped } from '@flint/api';

/** What placement needs of a module: where its parameters are, and moving them. */
interface Module {
  parameters(): readonly { readonly value: { readonly backend: string } }[];
  toAsync(target: string): Promise<unknown>;
}

/**
 * Where Trainer runs put the default backend and their modules, counted across runs that overlap
 * (two Trainers at once, or a `validate` during a `fit`): the first run to start on an accelerator
 * makes it the default and the last to end puts the previous default back, and a module moved to
 * an accelerator goes back to its own backend when the last run using it ends. Without the counts,
 * the run that ended first would pull the default (or the module) from under the other.
 */
interface ModulePlacement {
  readonly home: string;
  runs: number;
}

let defaultRuns = 0;
let restoreDefault: (() => void) | null = null;
const modules = new WeakMap<Module, ModulePlacement>();

/** Makes `accelerator` the default backend for a run; the returned function ends the run's claim. */
export function claimDefaultBackend(accelerator: string): () => void {
  const restore = setBackendScoped(accelerator);
  // Only the first claim's restore puts back the default from before every overlapping run.
  if (defaultRuns === 0) restoreDefault = restore;
  defaultRuns++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    defaultRuns--;
    if (defaultRuns === 0) {
      restoreDefault?.();
      restoreDefault = null;
    }
  };
}

/**
 * Moves `module` to `accelerator` for a run (unless it is there already); the returned function
 * ends the run's claim, moving the module back to where it was when no other run holds it.
 */
export async function claimModulePlacement(module: Module, accelerator: string): Promise<() => Promise<void>> {
  let placement = modules.get(module);
  if (placement === undefined) {
    const home = module.parameters()[0]?.value.backend;
    if (home === undefined || home === accelerator) return async () => undefined;
    placement = { home, runs: 0 };
    modules.set(module, placement);
  }
  placement.runs++;
  const claimed = placement;
  const release = async () => {
    claimed.runs--;
    if (claimed.runs > 0) return;
    modules.delete(module);
    // toAsync: reading parameters off an asynchronous backend (webgpu) has to wait.
    await module.toAsync(claimed.home);
  };
  try {
    await module.toAsync(accelerator);
  } catch (error) {
    await release();
    throw error;
  }
  return release;
}
