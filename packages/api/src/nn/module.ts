import { noGrad } from '../autograd/grad-mode.js';
import { isDType, isFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { cast } from '../ops/broadcast.js';
import { isTensor, keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { type BackwardHook, type BackwardPreHook, ModuleBackwardCall } from './backward-hooks.js';
import { isLent } from './lent.js';
import { isParameter, type Parameter } from './parameter.js';
import {
  type LoadStateDictPostHook,
  type LoadStateDictResult,
  loadStateDictInto,
  type StateDict,
  type StateDictPreHook,
  stateDictOf,
} from './state-dict.js';
import { isUninitializedParameter } from './uninitialized-parameter.js';

// Module: a tree of named parameters, buffers and submodules, as torch.nn.Module. PyTorch finds
// them in __setattr__; JavaScript has no such hook, and class field initializers run after the base
// constructor, so a module adopts its fields lazily instead: every enumeration (children,
// parameters, stateDict, to, train, functionalCall, ...) first looks at the module's own
// enumerable data fields (accessors are never invoked) and registers, under the field's name, each
// Module or Parameter not already registered explicitly. A field adopted that way is followed:
// reassigning it replaces the entry (null empties it), as __setattr__ would; so is the field of a
// name registered explicitly, once it is assigned something other than what it held at
// registration. Explicit registration (registerParameter, registerBuffer, registerModule) is
// still there for names that differ from the field, for buffers (a Tensor field is not
// necessarily state), for #private fields (which reflection cannot see), and for containers; it
// wins over a field holding the same object, and refuses a name whose field holds another one (the
// two would disagree). Entries are ordered by assignment, as PyTorch's dicts are: a field's
// position among the own fields, and an explicit registration's position at the time it ran.
// Enumeration runs often (compile reads parameters() on every call), so a module remembers its own
// fields as it last saw them and skips discovery while they are unchanged. A module tree may not
// contain a cycle (a child holding its parent in a field): every recursive traversal refuses one
// with a ValueError rather than recursing forever. Parameters are mutable cells holding immutable
// tensors: an optimizer step or `loadStateDict` replaces the tensor in the cell, and every field
// that holds the cell sees the new value.

/** Any module, whatever its forward's signature. */
export type AnyModule = Module<never[], unknown>;

/**
 * Removes the hook it was returned for (torch.utils.hooks.RemovableHandle). `remove()` may be
 * called more than once; `using handle = ...` removes the hook at the end of the scope.
 */
export interface RemovableHandle {
  /** Distinguishes the handles of one module. */
  readonly id: number;
  remove(): void;
  [Symbol.dispose](): void;
}

/** The arguments of a module's forward. */
export type ForwardArguments<M> = M extends { forward(...args: infer A): unknown } ? A : never;

/** What a module's forward returns. */
export type ForwardOutput<M> = M extends { forward(...args: never[]): infer O } ? O : never;

/**
 * Runs before `forward` with the module and its arguments; returning an array replaces the
 * arguments (any other value is taken as the one argument, as PyTorch wraps a non-tuple);
 * returning undefined keeps them.
 */
export type ForwardPreHook<M> = (module: M, args: ForwardArguments<M>) => unknown;

/** Runs after `forward` with the module, its arguments and its output; returning a value other than undefined replaces the output. */
export type ForwardHook<M> = (module: M, args: ForwardArguments<M>, output: ForwardOutput<M>) => unknown;

/** Options of `registerForwardPreHook`, `registerForwardHook` and the backward hooks' registrations. */
export interface ForwardHookOptions {
  /** Run this hook before the ones already registered (default false: after them). */
  readonly prepend?: boolean;
}

let nextHookId = 0;

type AnyPreHook = (module: AnyModule, args: unknown[]) => unknown;
type AnyPostHook = (module: AnyModule, args: unknown[], output: unknown) => unknown;
type AnyBackwardPreHook = BackwardPreHook<unknown>;
type AnyBackwardHook = BackwardHook<unknown>;

function addHook<H>(hooks: Map<number, H>, hook: H, prepend: boolean): RemovableHandle {
  const id = nextHookId++;
  if (prepend) {
    const rest = [...hooks];
    hooks.clear();
    hooks.set(id, hook);
    for (const [key, value] of rest) hooks.set(key, value);
  } else {
    hooks.set(id, hook);
  }
  const remove = (): void => {
    hooks.delete(id);
  };
  return { id, remove, [Symbol.dispose]: remove };
}

/** The hooks of a registry with their handles' ids, in the order they run. */
function registered<H>(hooks: Map<number, H>): { id: number; hook: H }[] {
  return [...hooks].map(([id, hook]) => ({ id, hook }));
}

const NAME_PATTERN = /^[^.\s]+$/;

/** Names that Module's own members use, which a registered entry may not shadow. */
function checkName(owner: AnyModule, kind: string, name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new ValueError(
      `${owner.constructor.name}: ${kind} name must be a non-empty string without '.' or spaces, got ${JSON.stringify(name)}`,
    );
  }
}

type EntryKind = 'parameter' | 'submodule';

function kindOf(value: unknown): EntryKind | null {
  return isParameter(value) ? 'parameter' : value instanceof Module ? 'submodule' : null;
}

function describeValue(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value;
  return `a ${value.constructor?.name ?? 'object'}`;
}

/** An entry with no recorded position sorts last (it cannot happen for a registered one). */
const UNRANKED = Number.MAX_SAFE_INTEGER;

/** Stands for an accessor property in a field snapshot: its value is never read. */
const ACCESSOR: unique symbol = Symbol('accessor');

/** The module's own enumerable fields as discovery last saw them. */
interface FieldSnapshot {
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
}

/** The value of an own data property, or undefined for an accessor or a missing one. */
function ownDataValue(object: object, name: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, name);
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
}

function placeOf(path: string): string {
  return path === '' ? 'the root' : `'${path}'`;
}

/** The error every recursive traversal raises on a module that contains itself. */
function cycleError(root: AnyModule, path: string, module: AnyModule, enclosingPath: string): ValueError {
  return new ValueError(
    `${root.constructor.name}: the module tree has a cycle: submodule '${path}' is the ${module.constructor.name} at ${placeOf(enclosingPath)}, which encloses it. ` +
      'A field holding a Module registers it as a child; keep a reference to an enclosing module in a #private field (or a non-enumerable property)',
  );
}

/**
 * The base class of every layer and model (torch.nn.Module). Subclasses keep their submodules and
 * parameters in fields, which the module registers under the fields' names, and implement
 * `forward`. Buffers, #private fields and names that differ from the field are registered
 * explicitly (`registerBuffer`, `registerModule`, `registerParameter`).
 *
 * @example
 * class TwoLayer extends nn.Module<[Tensor], Tensor> {
 *   readonly hidden = new nn.Linear(4, 8);
 *   readonly out = new nn.Linear(8, 2);
 *   forward(x: Tensor): Tensor {
 *     return this.out.forward(nn.functional.relu(this.hidden.forward(x)));
 *   }
 * }
 * const model = new TwoLayer();
 * console.log(model.toString()); // the module tree with parameter counts
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** Whether the module is in training mode (dropout active, batch statistics); see `train()` / `eval()`. */
  training = true;
  readonly #parameters = new Map<string, Parameter | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #nonPersistent = new Set<string>();
  readonly #modules = new Map<string, AnyModule | null>();
  /** Parameter and submodule names whose entries follow their field (adopted, or reassigned since registration). */
  readonly #followed = new Set<string>();
  /** Each parameter's and submodule's place in assignment order (see #discover). */
  readonly #rank = new Map<string, number>();
  /** What the field of an explicitly registered name held when it was registered. */
  readonly #fieldAtRegistration = new Map<string, unknown>();
  /** The own fields after the last discovery; null when the registries changed since. */
  #snapshot: FieldSnapshot | null = null;
  /** Forward pre-hooks and forward hooks by handle id, in the order they run. */
  readonly #forwardPreHooks = new Map<number, AnyPreHook>();
  readonly #forwardHooks = new Map<number, AnyPostHook>();
  /** Full backward pre-hooks and full backward hooks by handle id, in the order they run. */
  readonly #backwardPreHooks = new Map<number, AnyBackwardPreHook>();
  readonly #backwardHooks = new Map<number, AnyBackwardHook>();
  /** State-dict pre-hooks and load-state-dict post-hooks by handle id, in the order they run. */
  readonly #stateDictPreHooks = new Map<number, StateDictPreHook<AnyModule>>();
  readonly #loadStateDictPostHooks = new Map<number, LoadStateDictPostHook<AnyModule>>();
  /** Whether `forward` on this instance is the hook-running wrapper (installed by the first hook). */
  #forwardWrapped = false;

  /** The computation the module performs. */
  abstract forward(...inputs: In): Out;

  #mapOf(kind: EntryKind): Map<string, AnyModule | Parameter | null> {
    return (kind === 'parameter' ? this.#parameters : this.#modules) as Map<string, AnyModule | Parameter | null>;
  }

  /** Forgets a followed entry (an explicit registration takes its name or its object over). */
  #release(name: string): void {
    this.#snapshot = null;
    this.#parameters.delete(name);
    this.#modules.delete(name);
    this.#followed.delete(name);
    this.#rank.delete(name);
    this.#fieldAtRegistration.delete(name);
  }

  /**
   * Records an explicit registration's place and drops adopted entries it supersedes. A field
   * initializer runs before its field exists, so the count of own fields at this point is the
   * position the field holding the registered entry (if any) will take.
   */
  #noteExplicit(name: string, value: unknown): void {
    this.#snapshot = null;
    this.#rank.set(name, 2 * Object.keys(this).length);
    this.#fieldAtRegistration.set(name, ownDataValue(this, name));
    if (value === null) return;
    for (const followed of this.#followed) {
      if (this.#parameters.get(followed) === value || this.#modules.get(followed) === value) this.#release(followed);
    }
  }

  /** Whether the own fields are what the last discovery saw (the registries unchanged since). */
  #unchangedSince(snapshot: FieldSnapshot | null, keys: readonly string[]): boolean {
    if (snapshot === null || snapshot.keys.length !== keys.length) return false;
    const fields = this as unknown as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) {
      const name = keys[i] as string;
      if (name !== snapshot.keys[i]) return false;
      const seen = snapshot.values[i];
      // A property seen as an accessor is not read: only redefining it could change it.
      if (seen === ACCESSOR) continue;
      const value = fields[name];
      if (value !== seen && !Object.is(value, seen)) return false;
    }
    return true;
  }

  /**
   * Adopts the own enumerable data fields holding a Module or Parameter (PyTorch's __setattr__,
   * run lazily), follows reassigned ones, and keeps the entries in assignment order.
   */
  #discover(): void {
    const keys = Object.keys(this);
    if (this.#unchangedSince(this.#snapshot, keys)) return;
    this.#snapshot = null;
    let reorder = false;
    for (const name of this.#followed) {
      if (!Object.hasOwn(this, name)) this.#release(name);
    }
    let explicit: Set<unknown> | null = null;
    const values: unknown[] = [];
    for (const [index, name] of keys.entries()) {
      const descriptor = Object.getOwnPropertyDescriptor(this, name);
      if (descriptor === undefined || !('value' in descriptor)) {
        values.push(ACCESSOR);
        continue;
      }
      const value: unknown = descriptor.value;
      values.push(value);
      if (value === this) continue;
      const kind = kindOf(value);
      const registered: EntryKind | 'buffer' | null = this.#parameters.has(name)
        ? 'parameter'
        : this.#modules.has(name)
          ? 'submodule'
          : this.#buffers.has(name)
            ? 'buffer'
            : null;
      if (registered === 'buffer') continue;
      if (registered === null) {
        if (kind === null) continue;
        explicit ??= this.#explicitValues();
        if (explicit.has(value)) continue;
        if (kind === 'parameter') keepValue(value as Parameter);
        this.#mapOf(kind).set(name, value as AnyModule | Parameter);
        this.#followed.add(name);
        this.#rank.set(name, 2 * index + 1);
        reorder = true;
        continue;
      }
      if (!this.#followed.has(name)) {
        // An explicitly registered name whose field was assigned something else since: the
        // assignment replaces the entry, as in PyTorch, and the field is followed from now on.
        const current = this.#mapOf(registered).get(name);
        if (value === current || value === this.#fieldAtRegistration.get(name)) continue;
        this.#followed.add(name);
      }
      reorder = this.#follow(name, registered, value, kind) || reorder;
    }
    if (reorder) {
      const rankOf = (name: string): number => this.#rank.get(name) ?? UNRANKED;
      for (const map of [this.#parameters, this.#modules] as Map<string, unknown>[]) {
        const entries = [...map].sort(([a], [b]) => rankOf(a) - rankOf(b));
        map.clear();
        for (const [name, value] of entries) map.set(name, value);
      }
    }
    this.#snapshot = { keys, values };
  }

  /** The objects registered explicitly (under names not following a field): not adopted again. */
  #explicitValues(): Set<unknown> {
    const explicit = new Set<unknown>();
    for (const map of [this.#parameters, this.#modules] as Map<string, unknown>[]) {
      for (const [name, value] of map) if (value !== null && !this.#followed.has(name)) explicit.add(value);
    }
    return explicit;
  }

  /** Makes a followed entry hold what its field holds now. Returns whether it changed kind. */
  #follow(name: string, registered: EntryKind, value: unknown, kind: EntryKind | null): boolean {
    if (value === null || value === undefined) {
      this.#mapOf(registered).set(name, null);
      return false;
    }
    if (kind === null) {
      throw new ValueError(
        `${this.constructor.name}: field '${name}' holds ${describeValue(value)}, but '${name}' is a registered ${registered}; assign a ${registered === 'parameter' ? 'Parameter' : 'Module'} or null`,
      );
    }
    if (kind === 'parameter') keepValue(value as Parameter);
    if (kind === registered) {
      this.#mapOf(kind).set(name, value as AnyModule | Parameter);
      return false;
    }
    this.#mapOf(registered).delete(name);
    this.#mapOf(kind).set(name, value as AnyModule | Parameter);
    return true;
  }

  /**
   * Checks that `name` can be registered: a valid name, not taken, and not a field holding another
   * object (the field and the entry would disagree: forward would use one, parameters() the
   * other; PyTorch refuses an existing attribute too).
   */
  #checkFree(method: string, kind: string, name: string, value: unknown): void {
    checkName(this as unknown as AnyModule, kind, name);
    // A name followed from a field is taken over by an explicit registration of what it holds.
    const taken = this.#followed.has(name)
      ? null
      : this.#parameters.has(name)
        ? 'a parameter'
        : this.#buffers.has(name)
          ? 'a buffer'
          : this.#modules.has(name)
            ? 'a submodule'
            : null;
    if (taken !== null) throw new ValueError(`${this.constructor.name}: cannot register ${kind} '${name}': the name is already ${taken}`);
    const field = ownDataValue(this, name);
    if (field !== undefined && field !== null && field !== value) {
      throw new ValueError(
        `${this.constructor.name}.${method}: cannot register ${kind} '${name}': the field '${name}' already holds ${describeValue(field)}, a different object. ` +
          `Register the object the field holds, assign the field the registered one (this.${name} = this.${method}('${name}', ...)), or use another name`,
      );
    }
    if (this.#followed.has(name)) this.#release(name);
  }

  /**
   * Registers a hook that runs before every call of `forward` (torch's register_forward_pre_hook):
   * `hook(module, args)` may return replacement arguments (an array; any other value is taken as
   * the single argument). Hooks run in registration order (`prepend: true` puts this one first).
   * They fire for every call of `module.forward(...)`, the documented way to run a module, from
   * user code, from a parent's forward, `Sequential`, `functionalCall` and jit alike: the first
   * hook replaces this instance's `forward` with a wrapper that runs the hooks around the class's
   * forward (calls through `super.forward` inside a subclass's forward are not hooked).
   *
   * @example
   * const handle = layer.registerForwardPreHook((_module, [x]) => [x.mul(2)]);
   * handle.remove();
   */
  registerForwardPreHook<M extends AnyModule>(this: M, hook: ForwardPreHook<M>, options: ForwardHookOptions = {}): RemovableHandle {
    return this.#registerHook('registerForwardPreHook', this.#forwardPreHooks, hook, options.prepend === true, true);
  }

  /**
   * Registers a hook that runs after every call of `forward` (torch's register_forward_hook):
   * `hook(module, args, output)` sees the arguments forward received (after the pre-hooks) and
   * may return a replacement output (undefined keeps it). See `registerForwardPreHook` for when
   * hooks fire.
   *
   * @example
   * const features: Tensor[] = [];
   * const handle = model.encoder.registerForwardHook((_module, _args, output) => { features.push(output); });
   */
  registerForwardHook<M extends AnyModule>(this: M, hook: ForwardHook<M>, options: ForwardHookOptions = {}): RemovableHandle {
    return this.#registerHook('registerForwardHook', this.#forwardHooks, hook, options.prepend === true, true);
  }

  /**
   * Registers a hook that runs in the backward pass when the gradients with respect to this
   * module's outputs are complete, before they flow into the module (torch's
   * register_full_backward_pre_hook): `hook(module, gradOutput)` gets one entry per output (the
   * output itself when forward returns a Tensor, each element when it returns an array; null for a
   * non-tensor element or one that received no gradient) and may return replacements (an array of
   * the same length, each of its tensor's shape, or null for none); undefined keeps them.
   *
   * Backward hooks fire in `backward()`, once for every call of `forward` whose inputs or outputs
   * the imperative tape recorded (a module called twice fires twice); not for calls under `noGrad`,
   * and not for calls on values traced by grad, vjp, vmap, jvp or jit (functionalCall under a
   * transform), whose gradients the transform computes without the tape. See docs/nn.md.
   *
   * @example
   * const handle = layer.registerFullBackwardPreHook((_module, [g]) => [g?.clamp(-1, 1) ?? null]);
   */
  registerFullBackwardPreHook<M extends AnyModule>(this: M, hook: BackwardPreHook<M>, options: ForwardHookOptions = {}): RemovableHandle {
    return this.#registerHook('registerFullBackwardPreHook', this.#backwardPreHooks, hook, options.prepend === true, true);
  }

  /**
   * Registers a hook that runs in the backward pass once the gradients with respect to this
   * module's inputs are computed (torch's register_full_backward_hook): `hook(module, gradInput,
   * gradOutput)` gets one gradient per positional argument of forward (null for a non-tensor
   * argument or one that does not require grad) and the gradients with respect to the outputs (as
   * the pre-hooks left them). It may return replacements for `gradInput` (an array of the same
   * length, each of its argument's shape, or null for none); undefined keeps them. When no
   * argument requires grad (a first layer), it runs as soon as `gradOutput` is known, with nulls,
   * and must not return gradients. When it fires: see `registerFullBackwardPreHook`.
   *
   * @example
   * const norms: number[] = [];
   * layer.registerFullBackwardHook((_module, [gradX]) => { if (gradX) norms.push(gradX.norm().item()); });
   */
  registerFullBackwardHook<M extends AnyModule>(this: M, hook: BackwardHook<M>, options: ForwardHookOptions = {}): RemovableHandle {
    return this.#registerHook('registerFullBackwardHook', this.#backwardHooks, hook, options.prepend === true, true);
  }

  /**
   * Adds `hook` to `hooks` (first with `prepend`) after checking it is a function; a hook that
   * runs around `forward` makes sure the hooked forward is installed.
   */
  #registerHook<H>(method: string, hooks: Map<number, H>, hook: unknown, prepend: boolean, aroundForward: boolean): RemovableHandle {
    if (typeof hook !== 'function')
      throw new ValueError(`${this.constructor.name}.${method}: hook must be a function, got ${describeValue(hook)}`);
    if (aroundForward) this.#wrapForward();
    return addHook(hooks, hook as H, prepend);
  }

  /**
   * Installs, once, an own non-enumerable `forward` that runs the hooks around the one the
   * instance had (its class's). Modules without hooks keep calling the class's forward directly:
   * the hot path pays nothing for hooks it does not use. The order is torch's: forward pre-hooks,
   * the backward hooks' wrapping of the arguments, forward, forward hooks, the wrapping of the
   * output; so the backward hooks see the gradients of what forward received and of what the
   * forward hooks returned.
   */
  #wrapForward(): void {
    if (this.#forwardWrapped) return;
    const inner = this.forward as unknown as (...args: unknown[]) => unknown;
    if (typeof inner !== 'function') throw new ValueError(`${this.constructor.name}: has no forward to hook`);
    const self = this as unknown as AnyModule;
    const preHooks = this.#forwardPreHooks;
    const postHooks = this.#forwardHooks;
    const backwardPreHooks = this.#backwardPreHooks;
    const backwardHooks = this.#backwardHooks;
    const hooked = function (this: unknown, ...args: unknown[]): unknown {
      let input = args;
      if (preHooks.size > 0) {
        for (const hook of [...preHooks.values()]) {
          const result = hook(self, input);
          if (result !== undefined) input = Array.isArray(result) ? result : [result];
        }
      }
      // The backward hooks registered now are this call's, as torch takes them when forward runs.
      const backward =
        backwardPreHooks.size > 0 || backwardHooks.size > 0
          ? new ModuleBackwardCall(self, registered(backwardPreHooks), registered(backwardHooks))
          : null;
      if (backward !== null) input = backward.wrapInputs(input);
      let output = inner.apply(self, input);
      if (postHooks.size > 0) {
        for (const hook of [...postHooks.values()]) {
          const result = hook(self, input, output);
          if (result !== undefined) output = result;
        }
      }
      return backward === null ? output : backward.wrapOutput(output);
    };
    Object.defineProperty(this, 'forward', { value: hooked, writable: true, configurable: true, enumerable: false });
    this.#forwardWrapped = true;
  }

  /**
   * Registers a parameter (or null for an absent one, e.g. `bias: false`) under `name` and
   * returns it, so a subclass can keep a typed field: `readonly weight = this.registerParameter(...)`.
   * The parameter's tensor is kept out of any enclosing `tidy` scope: the module owns it.
   */
  registerParameter<P extends Parameter | null>(name: string, parameter: P): P {
    this.#checkFree('registerParameter', 'parameter', name, parameter);
    if (parameter !== null && !isParameter(parameter)) {
      throw new ValueError(`${this.constructor.name}.registerParameter: '${name}' must be a Parameter (or null), got ${typeof parameter}`);
    }
    if (parameter !== null) keepValue(parameter);
    this.#noteExplicit(name, parameter);
    this.#parameters.set(name, parameter);
    return parameter;
  }

  /**
   * Registers a buffer: state that is not trained but belongs to the module (BatchNorm's running
   * statistics). Persistent buffers (the default) are part of `stateDict()`.
   */
  registerBuffer(name: string, value: Tensor | null, options: { readonly persistent?: boolean } = {}): void {
    this.#checkFree('registerBuffer', 'buffer', name, value);
    if (value !== null && !isTensor(value))
      throw new ValueError(`${this.constructor.name}.registerBuffer: '${name}' must be a Tensor (or null)`);
    if (value !== null) keep(value);
    this.#snapshot = null;
    this.#buffers.set(name, value);
    if (options.persistent === false) this.#nonPersistent.add(name);
  }

  /** Registers a submodule (torch's add_module) and returns it. */
  registerModule<M extends AnyModule | null>(name: string, module: M): M {
    this.#checkFree('registerModule', 'submodule', name, module);
    if (module !== null && !(module instanceof Module))
      throw new ValueError(`${this.constructor.name}.registerModule: '${name}' must be a Module (or null)`);
    this.#noteExplicit(name, module);
    this.#modules.set(name, module);
    return module;
  }

  /** Replaces a registered submodule (containers use it). */
  protected replaceModule(name: string, module: AnyModule | null): void {
    if (!this.#modules.has(name)) throw new ValueError(`${this.constructor.name}: no submodule named '${name}'`);
    this.#snapshot = null;
    this.#modules.set(name, module);
  }

  /** Removes a registered submodule (containers use it). */
  protected removeModule(name: string): void {
    this.#snapshot = null;
    this.#modules.delete(name);
    this.#followed.delete(name);
    this.#rank.delete(name);
    this.#fieldAtRegistration.delete(name);
  }

  /** Replaces a registered parameter (containers use it); the old one is left to its holders. */
  protected replaceParameter(name: string, parameter: Parameter | null): void {
    if (!this.#parameters.has(name)) throw new ValueError(`${this.constructor.name}: no parameter named '${name}'`);
    if (parameter !== null && !isParameter(parameter))
      throw new ValueError(`${this.constructor.name}: '${name}' must be a Parameter (or null), got ${describeValue(parameter)}`);
    if (parameter !== null) keepValue(parameter);
    this.#snapshot = null;
    this.#parameters.set(name, parameter);
  }

  /** Removes a registered parameter (containers use it). */
  protected removeParameter(name: string): void {
    this.#snapshot = null;
    this.#parameters.delete(name);
    this.#followed.delete(name);
    this.#rank.delete(name);
    this.#fieldAtRegistration.delete(name);
  }

  /** The value of buffer `name` (this module's own). */
  getBuffer(name: string): Tensor {
    const value = this.#buffers.get(name);
    if (value === undefined || value === null) {
      throw new ValueError(`${this.constructor.name}: no buffer named '${name}'${value === null ? ' (it is null)' : ''}`);
    }
    return value;
  }

  /**
   * Replaces buffer `name` with a new tensor (tensors are immutable: this is how running statistics
   * advance). The replaced tensor is disposed unless someone else lent it (functionalCall).
   */
  setBuffer(name: string, value: Tensor): void {
    if (!this.#buffers.has(name)) throw new ValueError(`${this.constructor.name}: no buffer named '${name}'`);
    const old = this.#buffers.get(name);
    if (isTensor(value) && value._backend !== null) keep(value);
    this.#buffers.set(name, value);
    if (old !== null && old !== undefined && old !== value && !isLent(old)) old.dispose();
  }

  /** @internal Swaps a buffer's tensor without disposing anything (functionalCall). */
  _swapBuffer(name: string, value: Tensor | null): Tensor | null {
    const old = this.#buffers.get(name) ?? null;
    this.#buffers.set(name, value);
    return old;
  }

  /** The submodule at a dotted path ('encoder.layers.0'); '' is the module itself. */
  getSubmodule(target: string): AnyModule {
    let module: AnyModule = this as unknown as AnyModule;
    if (target === '') return module;
    for (const part of target.split('.')) {
      module.#discover();
      const child = module.#modules.get(part);
      if (child === undefined || child === null)
        throw new ValueError(`${this.constructor.name}.getSubmodule: '${target}' has no submodule '${part}'`);
      module = child;
    }
    return module;
  }

  /** The parameter at a dotted path ('encoder.weight'). */
  getParameter(target: string): Parameter {
    const cut = target.lastIndexOf('.');
    const owner = this.getSubmodule(cut < 0 ? '' : target.slice(0, cut));
    owner.#discover();
    const parameter = owner.#parameters.get(target.slice(cut + 1));
    if (parameter === undefined || parameter === null)
      throw new ValueError(`${this.constructor.name}.getParameter: no parameter '${target}'`);
    return parameter;
  }

  /** Direct submodules with their names (skipping null ones). */
  namedChildren(): [string, AnyModule][] {
    this.#discover();
    const out: [string, AnyModule][] = [];
    for (const [name, module] of this.#modules) if (module !== null) out.push([name, module]);
    return out;
  }

  /** Direct submodules. */
  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every submodule below it, depth first, each once, with dotted names. */
  namedModules(prefix = ''): [string, AnyModule][] {
    const root = this as unknown as AnyModule;
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    // The modules being visited, by path: meeting one again below itself is a cycle.
    const open = new Map<AnyModule, string>();
    const visit = (module: AnyModule, path: string): void => {
      if (seen.has(module)) {
        const enclosing = open.get(module);
        if (enclosing !== undefined) throw cycleError(root, path, module, enclosing);
        return;
      }
      seen.add(module);
      open.set(module, path);
      module.#discover();
      out.push([path, module]);
      for (const [name, child] of module.#modules) if (child !== null) visit(child, path === '' ? name : `${path}.${name}`);
      open.delete(module);
    };
    visit(root, prefix);
    return out;
  }

  /** This module and every submodule. */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Parameters with dotted names ('0.weight'), each shared parameter once (under its first name),
   * in registration order, this module's own first.
   */
  namedParameters(options: { readonly prefix?: string; readonly recurse?: boolean } = {}): [string, Parameter][] {
    const prefix = options.prefix ?? '';
    const modules: [string, AnyModule][] = options.recurse === false ? [[prefix, this as unknown as AnyModule]] : this.namedModules(prefix);
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    // namedModules has discovered every module it lists; recurse: false lists only this one.
    if (options.recurse === false) this.#discover();
    for (const [path, module] of modules) {
      for (const [name, parameter] of module.#parameters) {
        if (parameter === null || seen.has(parameter)) continue;
        seen.add(parameter);
        out.push([path === '' ? name : `${path}.${name}`, parameter]);
      }
    }
    return out;
  }

  /**
   * Every parameter of the module tree, each once: what an optimizer takes.
   *
   * @example
   * const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
   */
  parameters(options: { readonly recurse?: boolean } = {}): Parameter[] {
    return this.namedParameters(options).map(([, p]) => p);
  }

  /** Buffers with dotted names, each once; `persistentOnly` keeps those that belong in a state dict. */
  namedBuffers(
    options: { readonly prefix?: string; readonly recurse?: boolean; readonly persistentOnly?: boolean } = {},
  ): [string, Tensor][] {
    const prefix = options.prefix ?? '';
    const modules: [string, AnyModule][] = options.recurse === false ? [[prefix, this as unknown as AnyModule]] : this.namedModules(prefix);
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [path, module] of modules) {
      for (const [name, value] of module.#buffers) {
        if (value === null || seen.has(value)) continue;
        if (options.persistentOnly === true && module.#nonPersistent.has(name)) continue;
        seen.add(value);
        out.push([path === '' ? name : `${path}.${name}`, value]);
      }
    }
    return out;
  }

  /** Every buffer of the module tree. */
  buffers(options: { readonly recurse?: boolean } = {}): Tensor[] {
    return this.namedBuffers(options).map(([, b]) => b);
  }

  /** @internal This module's own entries, for the state-dict and functional-call machinery. */
  _ownEntries(): { parameters: [string, Parameter][]; buffers: [string, Tensor, boolean][] } {
    this.#discover();
    const parameters: [string, Parameter][] = [];
    for (const [name, p] of this.#parameters) if (p !== null) parameters.push([name, p]);
    const buffers: [string, Tensor, boolean][] = [];
    for (const [name, b] of this.#buffers) if (b !== null) buffers.push([name, b, !this.#nonPersistent.has(name)]);
    return { parameters, buffers };
  }

  /** The parameters' current tensors by dotted name: the pytree `functionalCall` and `grad` take. */
  parameterValues(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, p] of this.namedParameters()) out[name] = p.value;
    return out;
  }

  /**
   * The buffers' current tensors by dotted name (the module keeps them): with `parameterValues()`,
   * the state `functionalCallWithBuffers` takes.
   *
   * @example
   * const [out, updated] = nn.functionalCallWithBuffers(model, { ...model.parameterValues(), ...model.bufferValues() }, x);
   */
  bufferValues(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, b] of this.namedBuffers()) out[name] = b;
    return out;
  }

  /** Total number of parameter elements (each shared parameter counted once). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  /**
   * Sets training mode on this module and every submodule (dropout active, BatchNorm uses and
   * updates batch statistics). Returns the module.
   */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ValueError(`${this.constructor.name}.train: mode must be a boolean, got ${typeof mode}`);
    for (const module of this.modules()) module.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. Returns the module. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Calls `fn` on every submodule (children first) and then on this module, as torch's apply (a
   * module shared by two parents is visited under each). A cycle in the tree is a ValueError.
   */
  apply(fn: (module: AnyModule) => void): this {
    const root = this as unknown as AnyModule;
    const open = new Map<AnyModule, string>();
    const visit = (module: AnyModule, path: string): void => {
      const enclosing = open.get(module);
      if (enclosing !== undefined) throw cycleError(root, path, module, enclosing);
      open.set(module, path);
      for (const [name, child] of module.namedChildren()) visit(child, path === '' ? name : `${path}.${name}`);
      open.delete(module);
      fn(module);
    };
    visit(root, '');
    return this;
  }

  /** Clears every parameter's gradient (PyTorch's default `set_to_none`), disposing it. */
  zeroGrad(): void {
    for (const parameter of this.parameters()) parameter.zeroGrad();
  }

  /**
   * Sets `requiresGrad` on every parameter (false freezes them: `backward()` leaves them
   * without gradients). Returns the module.
   *
   * @example
   * backbone.requiresGrad_(false); // fine-tune only the head
   */
  requiresGrad_(requiresGrad = true): this {
    for (const parameter of this.parameters()) parameter.requiresGrad = requiresGrad;
    return this;
  }

  /**
   * Moves every parameter, gradient and buffer to another backend (`'cpu'`, `'webgpu'`, ...) or,
   * given a floating dtype, casts the floating ones (integer buffers keep their dtype). The
   * replaced tensors are disposed. Returns the module. Reads synchronously; from an asynchronous
   * backend use `toAsync`.
   *
   * @example
   * model.to('float64');
   * model.to('webgpu');
   */
  to(target: string): this {
    const convert = (t: Tensor): Tensor => (isDType(target) ? (isFloating(t.dtype) ? cast(t, target) : t) : t.to(target));
    if (isDType(target) && !isFloating(target))
      throw new ValueError(`${this.constructor.name}.to: only floating dtypes can be targets, got ${target}`);
    this.#convertAll(convert);
    return this;
  }

  /** Casts floating parameters and buffers to float16 (torch's half()); integer buffers keep their dtype. Returns the module. */
  half(): this {
    return this.to('float16');
  }

  /** Casts floating parameters and buffers to bfloat16; integer buffers keep their dtype. Returns the module. */
  bfloat16(): this {
    return this.to('bfloat16');
  }

  /** Casts floating parameters and buffers to float32 (torch's float()); integer buffers keep their dtype. Returns the module. */
  float(): this {
    return this.to('float32');
  }

  /** Casts floating parameters and buffers to float64 (torch's double()); integer buffers keep their dtype. Returns the module. */
  double(): this {
    return this.to('float64');
  }

  /** As `to`, waiting for data on asynchronous backends. */
  async toAsync(target: string): Promise<this> {
    if (isDType(target)) return this.to(target);
    const moved = new Map<Tensor, Tensor>();
    const tensors: Tensor[] = [];
    for (const module of this.modules()) {
      for (const p of module.#parameters.values()) {
        if (p === null) continue;
        // A lazy parameter moves its placeholder, whose backend the materialized value takes.
        if (isUninitializedParameter(p)) tensors.push(p._placeholder());
        else tensors.push(p.value, ...(p.grad ? [p.grad] : []));
      }
      for (const b of module.#buffers.values()) if (b !== null) tensors.push(b);
    }
    try {
      for (const t of tensors) if (!moved.has(t)) moved.set(t, await t.toAsync(target));
    } catch (error) {
      // The module keeps its tensors: the copies made before the failure are nobody's.
      for (const [original, copy] of moved) if (copy !== original) copy.dispose();
      throw error;
    }
    this.#convertAll((t) => moved.get(t) ?? t);
    return this;
  }

  #convertAll(convert: (t: Tensor) => Tensor): void {
    const replaced = new Map<Tensor, Tensor>();
    const once = (t: Tensor): Tensor => {
      let out = replaced.get(t);
      if (out === undefined) {
        out = convert(t);
        replaced.set(t, out);
      }
      return out;
    };
    noGrad(() => {
      for (const module of this.modules()) {
        for (const p of module.#parameters.values()) {
          if (p === null) continue;
          if (isUninitializedParameter(p)) {
            p._replacePlaceholder(keep(once(p._placeholder())));
            continue;
          }
          p.value = once(p.value);
          keep(p.value);
          if (p.grad) p.grad = keep(once(p.grad));
        }
        for (const [name, b] of module.#buffers) if (b !== null) module.#buffers.set(name, keep(once(b)));
      }
    });
    for (const [old, next] of replaced) if (old !== next && !isLent(old)) old.dispose();
  }

  /**
   * The persistent state (parameters and persistent buffers) by dotted name, as new tensor handles
   * the caller owns (views where the backend shares storage, not copies), so that they survive the
   * optimizer replacing the module's tensors. As in PyTorch, a shared (tied) parameter appears
   * under every name it is registered by, each key a handle on the same data (`parameters()` and
   * `namedParameters()` list it once).
   *
   * @example
   * const state = model.stateDict();
   * other.loadStateDict(state);
   */
  stateDict(): StateDict {
    return stateDictOf(this as unknown as AnyModule);
  }

  /**
   * Copies tensors from `state` into the module's parameters and buffers (cast to their dtypes,
   * moved to their backends). With `strict` (the default), missing and unexpected keys are an
   * error; shape mismatches always are. Every problem is collected and reported in one ValueError
   * before anything changes (missing and unexpected keys excepted when the tree has
   * load-state-dict post-hooks, which may forgive them: see `registerLoadStateDictPostHook`).
   * Returns the missing and unexpected keys. A tied parameter expects each of its names (as
   * PyTorch's strict load); given under several, the last in `stateDict()`'s order is the one it keeps.
   */
  loadStateDict(state: StateDict | ReadonlyMap<string, Tensor>, strict = true): LoadStateDictResult {
    return loadStateDictInto(this as unknown as AnyModule, state, strict);
  }

  /**
   * Registers a hook that runs when `stateDict()` reaches this module, before its own entries are
   * taken (torch's register_state_dict_pre_hook, without keep_vars): `hook(module, prefix)`, the
   * prefix of its keys ('' at the root, 'encoder.' for a child). It may change the module (a
   * buffer to refresh); its return value is ignored.
   *
   * @example
   * model.registerStateDictPreHook((module, prefix) => console.log(`saving ${prefix || 'the root'}`));
   */
  registerStateDictPreHook<M extends AnyModule>(this: M, hook: StateDictPreHook<M>): RemovableHandle {
    return this.#registerHook('registerStateDictPreHook', this.#stateDictPreHooks, hook, false, false);
  }

  /**
   * Registers a hook that runs after `loadStateDict` loaded the tree this module is in (torch's
   * register_load_state_dict_post_hook): `hook(module, incompatibleKeys)`, where
   * `incompatibleKeys` is the `{ missingKeys, unexpectedKeys }` that `loadStateDict` returns.
   * The hook may edit the two arrays in place, and with `strict` the check sees its edits:
   * emptying them forgives the keys, adding to them makes the load fail. It must return undefined.
   *
   * @example
   * // A checkpoint saved before the `scale` buffer existed loads strictly.
   * model.registerLoadStateDictPostHook((_module, keys) => {
   *   keys.missingKeys.splice(0, keys.missingKeys.length, ...keys.missingKeys.filter((k) => k !== 'scale'));
   * });
   */
  registerLoadStateDictPostHook<M extends AnyModule>(this: M, hook: LoadStateDictPostHook<M>): RemovableHandle {
    return this.#registerHook('registerLoadStateDictPostHook', this.#loadStateDictPostHooks, hook, false, false);
  }

  /**
   * @internal Runs on every module of the tree when `loadStateDict` starts, before the keys and
   * shapes are compared, with the whole state and this module's prefix of its keys ('' at the
   * root, 'encoder.' below). A lazy module materializes its parameters here from the shapes the
   * state holds for them, as torch's lazy modules do in their load-state-dict pre-hook.
   */
  _prepareLoadStateDict(_state: ReadonlyMap<string, unknown>, _prefix: string): void {}

  /** @internal This module's state-dict hooks, in the order they run, for the state-dict machinery. */
  _stateDictHooks(): { pre: StateDictPreHook<AnyModule>[]; loadPost: [number, LoadStateDictPostHook<AnyModule>][] } {
    return { pre: [...this.#stateDictPreHooks.values()], loadPost: [...this.#loadStateDictPostHooks] };
  }

  /** The arguments shown in `toString()` ('inFeatures=4, outFeatures=2, bias=true'). */
  extraRepr(): string {
    return '';
  }

  /**
   * The module tree, one line per module, as PyTorch prints it, with parameter counts:
   *
   * ```text
   * Sequential(  # 49 parameters
   *   (0): Linear(inFeatures=4, outFeatures=8, bias=true)  # 40 parameters
   *   (1): ReLU()
   *   (2): Linear(inFeatures=8, outFeatures=1, bias=true)  # 9 parameters
   * )
   * ```
   */
  toString(): string {
    const root = this as unknown as AnyModule;
    return formatModule(root, '', { root, path: '', open: new Map() });
  }
}

function countSuffix(module: AnyModule): string {
  const parameters = module.parameters();
  const lazy = parameters.some(isUninitializedParameter);
  const n = parameters.reduce((total, p) => total + (isUninitializedParameter(p) ? 0 : p.value.size), 0);
  const counted = n === 0 ? '' : `${n.toLocaleString('en-US')} parameter${n === 1 ? '' : 's'}`;
  // A lazy module's parameters have no size until its first forward (numParameters throws).
  if (lazy) return `  # ${counted === '' ? '' : `${counted} and `}uninitialized parameters`;
  return counted === '' ? '' : `  # ${counted}`;
}

/** Keeps a parameter's tensor out of any enclosing tidy scope (a lazy one's placeholder is kept already). */
function keepValue(parameter: Parameter): void {
  if (!isUninitializedParameter(parameter) && isTensor(parameter.value)) keep(parameter.value);
}

/** Where formatModule is in the tree: the modules enclosing it, to refuse a cycle. */
interface FormatPlace {
  readonly root: AnyModule;
  readonly path: string;
  readonly open: Map<AnyModule, string>;
}

function formatModule(module: AnyModule, indent: string, place: FormatPlace): string {
  const enclosing = place.open.get(module);
  if (enclosing !== undefined) throw cycleError(place.root, place.path, module, enclosing);
  place.open.set(module, place.path);
  const text = formatInside(module, indent, place);
  place.open.delete(module);
  return text;
}

function formatInside(module: AnyModule, indent: string, place: FormatPlace): string {
  const name = module.constructor.name;
  const extra = module.extraRepr();
  const children = module.namedChildren();
  if (children.length === 0) return `${name}(${extra})${countSuffix(module)}`;
  const inner = `${indent}  `;
  // As PyTorch: the extra representation goes on its own line inside, before the children.
  const lines = [`${name}(${countSuffix(module)}`];
  if (extra !== '') lines.push(`${inner}${extra}`);
  for (const [childName, child] of children) {
    const path = place.path === '' ? childName : `${place.path}.${childName}`;
    lines.push(`${inner}(${childName}): ${formatModule(child, inner, { ...place, path })}`);
  }
  lines.push(`${indent})`);
  return lines.join('\n');
}
