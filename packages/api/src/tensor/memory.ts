import { createdBackends } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from './tensor.js';

// Memory is released three ways (DESIGN.md): `dispose()`, the end of a `tidy` scope, and a
// FinalizationRegistry as a safety net for tensors a user forgot.

let debug = false;
/** Called when the finalizer reclaims a tensor that was never disposed, in debug mode. */
let leakReporter: (message: string) => void = (message) => console.warn(message);

// One registry per backend, holding the bare handle (or the backend's finalizer token, which lets
// the garbage collector free the buffer itself): registering a tensor then allocates nothing but
// the registry's own cell, which matters on the eager fast path (one per op).
const registries = new WeakMap<Backend, FinalizationRegistry<unknown>>();
let lastBackend: Backend | null = null;
let lastRegistry: FinalizationRegistry<unknown> | null = null;

/** What the finalizer holds for a tensor: the backend's token where it has one, else the handle. */
function heldFor(backend: Backend, handle: unknown): unknown {
  return backend.finalizerToken ? backend.finalizerToken(handle) : handle;
}

/** Settles what `heldFor` returned, once its tensor was garbage-collected undisposed. */
function releaseHeld(backend: Backend, held: unknown): void {
  if (backend.releaseFinalized) backend.releaseFinalized(held as object);
  else backend.dispose(held);
}

function registryFor(backend: Backend): FinalizationRegistry<unknown> {
  if (backend === lastBackend) return lastRegistry as FinalizationRegistry<unknown>;
  let registry = registries.get(backend);
  if (registry === undefined) {
    registry = new FinalizationRegistry<unknown>((held) => releaseHeld(backend, held));
    registries.set(backend, registry);
  }
  lastBackend = backend;
  lastRegistry = registry;
  return registry;
}

interface DebugHeld {
  readonly backend: Backend;
  /** The handle, or the backend's finalizer token. */
  readonly held: unknown;
  readonly stack: string;
}

// In debug mode tensors go to this registry instead, which also knows where each was made.
const debugFinalizer = new FinalizationRegistry<DebugHeld>((held) => {
  leakReporter(`flint: a tensor was garbage-collected without dispose(); it was created at\n${held.stack}`);
  releaseHeld(held.backend, held.held);
});

/** Tensors alive while debug mode is on, with the stack where each was made. */
const debugLive = new Map<Tensor, string>();

/** The open `tidy` scopes, innermost last: the tensors each has seen created. */
const scopes: Set<Tensor>[] = [];

/**
 * @internal Called by the Tensor constructor for every concrete tensor. Inside a `tidy` scope the
 * scope holds the tensor until it ends and disposes it, so the finalizer is not needed yet: a
 * tensor is registered with it only once it leaves the scopes undisposed (registering and
 * unregistering cost about 0.2 us per tensor, and the registry's cells are work for every
 * garbage collection).
 */
export function trackTensor(t: Tensor): void {
  const scope = scopes[scopes.length - 1];
  if (debug) {
    const backend = t._backend as Backend;
    const stack = new Error().stack?.split('\n').slice(3).join('\n') ?? '(no stack)';
    debugFinalizer.register(t, { backend, held: heldFor(backend, t._handle), stack }, t);
    debugLive.set(t, stack);
    t._finalizerRegistered = true;
  } else if (scope === undefined) {
    registerFinalizer(t);
  }
  scope?.add(t);
}

/** Gives a live tensor that no scope will dispose to its backend's finalizer, once. */
function registerFinalizer(t: Tensor): void {
  if (t._finalizerRegistered || t._handle === undefined) return;
  const backend = t._backend as Backend;
  registryFor(backend).register(t, heldFor(backend, t._handle), t);
  t._finalizerRegistered = true;
}

/** @internal Called by `dispose()`. */
export function untrackTensor(t: Tensor): void {
  if (t._finalizerRegistered) {
    // A tensor made in debug mode sits in the debug registry; unregistering from both is harmless.
    if (!registryFor(t._backend as Backend).unregister(t)) debugFinalizer.unregister(t);
    t._finalizerRegistered = false;
  }
  if (debugLive.size !== 0) debugLive.delete(t);
  for (let i = scopes.length - 1; i >= 0; i--) if ((scopes[i] as Set<Tensor>).delete(t)) break;
}

/**
 * Disposes a tensor at the end of its scope; one a backward pass still retains (its dispose is
 * deferred to the last release) gets the finalizer, in case that graph is dropped unreleased.
 */
function disposeAtScopeEnd(t: Tensor): void {
  t.dispose();
  if (t._handle !== undefined) registerFinalizer(t);
}

/** Visits every Tensor in a pytree (arrays, plain objects, Maps), without recursing into tensors. */
export function forEachTensor(value: unknown, visit: (t: Tensor) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    visit(value);
    return;
  }
  if (Array.isArray(value)) for (const item of value) forEachTensor(item, visit, seen);
  else if (value instanceof Map) for (const item of value.values()) forEachTensor(item, visit, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const item of Object.values(value)) forEachTensor(item, visit, seen);
}

const TENSOR_BRAND = Symbol.for('flint.Tensor');
/** @internal Set on Tensor.prototype, so that two copies of the library recognize each other's tensors. */
export function brandTensorClass(proto: object): void {
  Object.defineProperty(proto, TENSOR_BRAND, { value: true });
}
export function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TENSOR_BRAND] === true;
}

/**
 * Runs `fn` and disposes every tensor it created except those it returns (anywhere in the
 * returned pytree) and those passed to `keep`. Scopes nest: returned tensors join the outer scope.
 * `fn` must be synchronous; await outside of `tidy`.
 *
 * @example
 * const y = tidy(() => x.mul(2).add(1).sum()); // the intermediate products are released
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ValueError('tidy: expected a function');
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    try {
      endScope(scope, null);
    } catch {
      // The function's own error is the one to report.
    }
    throw error;
  }
  scopes.pop();
  const kept = new Set<Tensor>();
  try {
    if (result instanceof Promise) {
      throw new ValueError('tidy: the function returned a Promise; tidy scopes must be synchronous (await outside tidy)');
    }
    forEachTensor(result, (t) => withWrapped(t, (held) => kept.add(held)));
  } catch (error) {
    // An async function runs on after its first await and may use what it made before it; a
    // result whose walk threw may hold any of them: the scope's tensors are left alive, with the finalizer.
    for (const t of scope) registerFinalizer(t);
    throw error;
  }
  endScope(scope, kept);
  return result;
}

/**
 * Ends a scope: disposes its tensors but those `kept`, which join the enclosing scope (or get the
 * finalizer when no scope encloses it). Every tensor is handled even when disposing one throws
 * (a backend's error): that one gets the finalizer, and the first error is thrown at the end.
 */
function endScope(scope: Set<Tensor>, kept: Set<Tensor> | null): void {
  const outer = scopes[scopes.length - 1];
  let failure: { readonly error: unknown } | null = null;
  for (const t of scope) {
    try {
      if (kept === null || !kept.has(t)) disposeAtScopeEnd(t);
      else if (outer !== undefined) outer.add(t);
      else registerFinalizer(t);
    } catch (error) {
      registerFinalizer(t);
      failure ??= { error };
    }
  }
  if (failure !== null) throw failure.error;
}

/**
 * Visits `t` and, when it is a transform's tracer, the tensors it wraps one level down and
 * further: a returned or kept tracer's values must outlive the scope with it. (Nodes of a
 * backward pass retain only what their rules read, so nothing else keeps them alive.)
 */
function withWrapped(t: Tensor, visit: (t: Tensor) => void): void {
  visit(t);
  const wrapped = (t as { _wrapped?: () => (Tensor | null)[] })._wrapped?.();
  if (wrapped !== undefined) for (const w of wrapped) if (w !== null) withWrapped(w, visit);
}

/**
 * @internal Whether the innermost `tidy` scope made `t` and will dispose it at its end (not kept,
 * not returned yet): code running in a scope of its own may then dispose it earlier.
 */
export function madeByInnermostScope(t: Tensor): boolean {
  const scope = scopes[scopes.length - 1];
  return scope?.has(t) === true;
}

/** Keeps `t` alive past the end of the enclosing `tidy` scopes. Returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  withWrapped(t, (held) => {
    for (const scope of scopes) if (scope.delete(held)) registerFinalizer(held);
  });
  return t;
}

/**
 * Keeps the tensors of a pytree that the innermost `tidy` scope made (those it would dispose at
 * its end) and returns them; tensors made outside the scope (its inputs, parameters) are left
 * alone. For code that must hold a scope's results past its end and later free exactly those.
 *
 * @example
 * let made: Tensor[] = [];
 * tidy(() => {
 *   const out = { y: x.mul(2), x }; // y is made here, x comes from outside
 *   made = keepOwned(out); // [y]
 * });
 * dispose(made); // frees y, never x
 */
export function keepOwned(value: unknown): Tensor[] {
  const scope = scopes[scopes.length - 1];
  const owned: Tensor[] = [];
  if (scope === undefined) return owned;
  forEachTensor(value, (t) =>
    withWrapped(t, (held) => {
      if (scope.delete(held)) {
        owned.push(held);
        registerFinalizer(held);
      }
    }),
  );
  return owned;
}

/**
 * @internal Returns `result` after disposing `temporaries`: the intermediates a composite op made
 * (never its inputs or its result). Freed now, a large intermediate goes back to its backend's pool
 * for the next op instead of waiting for the garbage collector; a backward pass that saved one
 * keeps it until its graph is released (`retain`).
 */
export function releasing<T>(result: T, ...temporaries: Tensor[]): T {
  for (const t of temporaries) t.dispose();
  return result;
}

/** Disposes every tensor in a pytree. */
export function dispose(value: unknown): void {
  forEachTensor(value, (t) => t.dispose());
}

export interface BackendMemory {
  readonly backend: string;
  readonly buffers: number;
  readonly bytes: number;
}

/**
 * Live buffers and bytes per backend that has been used. Tensors the garbage collector took
 * without `dispose()` still count until their finalizer runs, which is only when the event loop
 * turns: to look for leaks in a synchronous loop, run the step in `tidy`, or read this after an
 * `await` (docs/architecture.md, Memory).
 */
export function memory(): { readonly backends: BackendMemory[]; readonly buffers: number; readonly bytes: number } {
  const backends = createdBackends().map((b) => ({ backend: b.name, ...b.memory() }));
  return {
    backends,
    buffers: backends.reduce((n, b) => n + b.buffers, 0),
    bytes: backends.reduce((n, b) => n + b.bytes, 0),
  };
}

export interface DebugOptions {
  /** Record where each tensor is made, list the live ones, and report collected leaks. */
  readonly trackTensors: boolean;
  /** Where leak reports go (default: console.warn). */
  readonly onLeak?: (message: string) => void;
}

/** Turns the leak-hunting debug mode on or off. */
export function setDebug(options: DebugOptions): void {
  debug = options.trackTensors;
  if (options.onLeak) leakReporter = options.onLeak;
  if (!debug) debugLive.clear();
}

/** In debug mode: the tensors still alive, with the stack where each was created. */
export function liveTensors(): { readonly tensor: Tensor; readonly createdAt: string }[] {
  return [...debugLive].map(([tensor, createdAt]) => ({ tensor, createdAt }));
}
