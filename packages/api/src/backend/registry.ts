import 'reflect-metadata';
import { container } from 'tsyringe';
import { BackendError } from '../core/errors.js';
import type { Backend, BackendFactory } from './spi.js';

/** The tsyringe token under which backend packages register their factories. */
export const BACKEND_FACTORY = Symbol.for('flint.BackendFactory');

interface BackendState {
  readonly created: Map<string, Backend>;
  readonly failures: Map<string, string>;
  current: Backend | null;
}

// Module state lives on globalThis so that two copies of @flint/api (a bundler duplicating it,
// or a backend resolving its own copy) still share one registry.
const STATE_KEY = Symbol.for('flint.backendState');
const state: BackendState = ((globalThis as Record<symbol, unknown>)[STATE_KEY] as BackendState | undefined) ?? {
  created: new Map(),
  failures: new Map(),
  current: null,
};
(globalThis as Record<symbol, unknown>)[STATE_KEY] = state;

/**
 * Registers a backend. Backend packages call this when imported (`import '@flint/backend-cpu'`);
 * users may call it with their own factory. Registering a name again replaces the earlier factory.
 */
export function registerBackend(factory: BackendFactory): void {
  container.register<BackendFactory>(BACKEND_FACTORY, { useValue: factory });
  state.created.delete(factory.name);
  state.failures.delete(factory.name);
}

function factories(): BackendFactory[] {
  if (!container.isRegistered(BACKEND_FACTORY, true)) return [];
  const all = container.resolveAll<BackendFactory>(BACKEND_FACTORY);
  const byName = new Map<string, BackendFactory>();
  for (const f of all) byName.set(f.name, f); // the last registration of a name wins
  return [...byName.values()].sort((a, b) => b.priority - a.priority);
}

/** Names of the registered backends, most preferred first. */
export function registeredBackends(): string[] {
  return factories().map((f) => f.name);
}

function hint(): string {
  const names = registeredBackends();
  return names.length === 0
    ? "no backend is registered: install and import one, for example `import '@flint/backend-cpu'`"
    : `registered backends: ${names.join(', ')}`;
}

function createSync(factory: BackendFactory): Backend {
  const existing = state.created.get(factory.name);
  if (existing) return existing;
  const failure = state.failures.get(factory.name);
  if (failure !== undefined) throw new BackendError(`backend '${factory.name}' is unavailable: ${failure}`);
  let made: Backend | Promise<Backend>;
  try {
    made = factory.create();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    state.failures.set(factory.name, reason);
    throw new BackendError(`backend '${factory.name}' is unavailable: ${reason}`);
  }
  if (made instanceof Promise) {
    made.catch(() => undefined);
    throw new BackendError(`backend '${factory.name}' initializes asynchronously: call \`await initBackend('${factory.name}')\` first`);
  }
  state.created.set(factory.name, made);
  return made;
}

/** Creates (once) and returns the backend `name`, waiting for backends that start asynchronously. */
export async function initBackend(name: string): Promise<Backend> {
  const factory = factories().find((f) => f.name === name);
  if (!factory) throw new BackendError(`unknown backend '${name}'; ${hint()}`);
  const existing = state.created.get(name);
  if (existing) return existing;
  try {
    const made = await factory.create();
    state.created.set(name, made);
    return made;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    state.failures.set(name, reason);
    throw new BackendError(`backend '${name}' is unavailable: ${reason}`);
  }
}

function environmentChoice(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.FLINT_BACKEND;
  return value === undefined || value === '' ? undefined : value;
}

function pickAuto(): Backend {
  const reasons: string[] = [];
  for (const factory of factories()) {
    try {
      return createSync(factory);
    } catch (error) {
      reasons.push(`${factory.name}: ${(error as Error).message}`);
    }
  }
  throw new BackendError(`no backend could be initialized (${hint()})${reasons.length ? `; ${reasons.join('; ')}` : ''}`);
}

/**
 * Returns a backend by name, or the default one: the one chosen by `setBackend`, else the
 * `FLINT_BACKEND` environment variable, else `auto` (the most preferred that initializes).
 */
export function getBackend(name?: string): Backend {
  if (name === undefined) {
    if (state.current) return state.current;
    state.current = resolveChoice(environmentChoice() ?? 'auto');
    return state.current;
  }
  return resolveChoice(name);
}

function resolveChoice(name: string): Backend {
  if (name === 'auto') return pickAuto();
  // Every op that turns a number into a tensor names its backend: a created one is returned
  // without listing the factories (registering a name again removes its created backend, and
  // nothing else unregisters a factory).
  const created = state.created.get(name);
  if (created !== undefined) return created;
  const factory = factories().find((f) => f.name === name);
  if (!factory) throw new BackendError(`unknown backend '${name}'; ${hint()}`);
  return createSync(factory);
}

/** Makes `name` (or `auto`) the default backend for tensors created without one. */
export function setBackend(name: string): Backend {
  const backend = resolveChoice(name);
  state.current = backend;
  return backend;
}

/**
 * Makes `name` the default backend until the returned function is called, which puts back the
 * choice from before: the backend `setBackend` had chosen, or none (the default is then resolved
 * from `FLINT_BACKEND` or `auto` when next needed, as if this had never run). For code that
 * switches the default for a while, as the Trainer does for its accelerator.
 */
export function setBackendScoped(name: string): () => void {
  const previous = state.current;
  setBackend(name);
  return () => {
    state.current = previous;
  };
}

/**
 * Makes `backend` itself (an instance, registered by name or not) the default until the returned
 * function is called, which puts back the choice from before. For jit's tracing, whose abstract
 * tracers hold no data to say where the constants they meet should be made.
 */
export function useBackendScoped(backend: Backend): () => void {
  const previous = state.current;
  state.current = backend;
  return () => {
    state.current = previous;
  };
}

export interface BackendStatus {
  readonly name: string;
  readonly priority: number;
  readonly available: boolean;
  /** Why the backend cannot be used, with the fix, when it is unavailable. */
  readonly reason?: string;
}

/** Tries every registered backend and reports which initialize, and why the others do not. */
export function backendStatus(): BackendStatus[] {
  return factories().map((factory) => {
    try {
      createSync(factory);
      return { name: factory.name, priority: factory.priority, available: true };
    } catch (error) {
      return { name: factory.name, priority: factory.priority, available: false, reason: (error as Error).message };
    }
  });
}

/** Every backend created so far (for memory reports). */
export function createdBackends(): Backend[] {
  return [...state.created.values()];
}
