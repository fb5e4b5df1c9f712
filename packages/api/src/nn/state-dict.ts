import { noGrad } from '../autograd/grad-mode.js';
import { ValueError } from '../core/errors.js';
import { rejectPromise } from '../core/promise.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { hookName } from './hook-name.js';
import { isLent } from './lent.js';
import type { AnyModule } from './module.js';

// stateDict / loadStateDict: the persistent state of a module tree by dotted name.

/** Parameters and persistent buffers by dotted name ('0.weight', 'bn.runningMean'). */
export type StateDict = Record<string, Tensor>;

/** Runs when `stateDict()` reaches a module: `prefix` is its keys' ('' at the root, 'encoder.' below). */
export type StateDictPreHook<M> = (module: M, prefix: string) => unknown;

/**
 * Runs after `loadStateDict` loaded the tree: may edit `incompatibleKeys`' arrays in place (the
 * strict check sees the edits) and must return undefined.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: the hook returns nothing
export type LoadStateDictPostHook<M> = (module: M, incompatibleKeys: LoadStateDictResult) => void | undefined;

/** What `loadStateDict` did not match. */
export interface LoadStateDictResult {
  /** Keys the module expects that the state lacked (left unchanged). */
  readonly missingKeys: string[];
  /** Keys of the state that the module does not have (ignored). */
  readonly unexpectedKeys: string[];
}

/**
 * A new handle on `t`'s data that its holder may dispose independently (a view, not a copy),
 * outside the autograd tape: a state dict is a snapshot, not part of a graph.
 */
function ownHandle(t: Tensor): Tensor {
  return noGrad(() => bind(Primitive.Reshape, [t], { shape: [...t.shape] }));
}

interface Slot {
  readonly module: AnyModule;
  readonly name: string;
  readonly kind: 'parameter' | 'buffer';
  readonly current: Tensor;
}

/**
 * The tree's modules under every path that reaches them, as torch's state_dict recursion walks
 * them: a submodule shared by two parents is listed under both (namedModules lists it once).
 * Parents come before their children, or after them with `childrenFirst` (the order in which
 * torch's load recursion finishes them).
 */
function everyPath(root: AnyModule, childrenFirst = false): [string, AnyModule][] {
  // namedModules refuses a cycle, on which the walk below would never end.
  root.namedModules();
  const out: [string, AnyModule][] = [];
  const visit = (module: AnyModule, path: string): void => {
    if (!childrenFirst) out.push([path, module]);
    for (const [name, child] of module.namedChildren()) visit(child, path === '' ? name : `${path}.${name}`);
    if (childrenFirst) out.push([path, module]);
  };
  visit(root, '');
  return out;
}

/**
 * Every persistent slot of the tree by dotted name, in PyTorch's order (own parameters, own
 * buffers, then children). A shared (tied) parameter or buffer has a slot under each name it is
 * registered by, as in PyTorch's state_dict, so that a state dict saved by either library loads
 * strictly into the other; parameters() still lists it once. `reach` runs on each module (under
 * each path) before its own entries are read: stateDict's pre-hooks.
 */
function slots(root: AnyModule, reach?: (module: AnyModule, path: string) => void): Map<string, Slot> {
  const out = new Map<string, Slot>();
  for (const [path, module] of everyPath(root)) {
    reach?.(module, path);
    const { parameters, buffers } = module._ownEntries();
    const key = (name: string): string => (path === '' ? name : `${path}.${name}`);
    for (const [name, parameter] of parameters) out.set(key(name), { module, name, kind: 'parameter', current: parameter.value });
    for (const [name, value, persistent] of buffers) if (persistent) out.set(key(name), { module, name, kind: 'buffer', current: value });
  }
  return out;
}

export function stateDictOf(root: AnyModule): StateDict {
  const runPreHooks = (module: AnyModule, path: string): void => {
    for (const hook of module._stateDictHooks().pre) hook(module, path === '' ? '' : `${path}.`);
  };
  const out: StateDict = {};
  for (const [key, slot] of slots(root, runPreHooks)) out[key] = ownHandle(slot.current);
  return out;
}

function keyProblems(result: LoadStateDictResult): string[] {
  const problems: string[] = [];
  if (result.missingKeys.length > 0) problems.push(`missing key(s): ${result.missingKeys.map((k) => `'${k}'`).join(', ')}`);
  if (result.unexpectedKeys.length > 0) problems.push(`unexpected key(s): ${result.unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
  return problems;
}

function loadFailure(owner: string, problems: readonly string[], after = ''): ValueError {
  return new ValueError(
    `${owner}.loadStateDict: ${problems.length} problem(s) loading the state dict${after}:\n  ${problems.join('\n  ')}`,
  );
}

/**
 * Runs the tree's load-state-dict post-hooks, children first (as torch's recursion finishes
 * them), each shown the whole tree's keys (torch shows a child's hook the keys found so far).
 */
function runLoadPostHooks(hooks: readonly [AnyModule, number, LoadStateDictPostHook<AnyModule>][], result: LoadStateDictResult): void {
  for (const [module, id, hook] of hooks) {
    const returned: unknown = hook(module, result);
    if (returned !== undefined) {
      throw new ValueError(
        `${module.constructor.name}: the load-state-dict post-hook ${hookName(hook, id)} returned ${returned === null ? 'null' : typeof returned}; ` +
          'it must return undefined (edit the missingKeys and unexpectedKeys arrays in place)',
      );
    }
  }
}

export function loadStateDictInto(root: AnyModule, state: StateDict | ReadonlyMap<string, Tensor>, strict: boolean): LoadStateDictResult {
  const owner = root.constructor.name;
  rejectPromise(`${owner}.loadStateDict`, state, 'a state dict');
  if (typeof state !== 'object' || state === null)
    throw new ValueError(`${owner}.loadStateDict: expected an object of tensors by name, got ${state === null ? 'null' : typeof state}`);
  const entries: [string, unknown][] = state instanceof Map ? [...state.entries()] : Object.entries(state);
  const given = new Map(entries);
  for (const [path, module] of everyPath(root)) module._prepareLoadStateDict(given, path === '' ? '' : `${path}.`);
  const expected = slots(root);
  const missingKeys = [...expected.keys()].filter((k) => !given.has(k));
  const unexpectedKeys = entries.map(([k]) => k).filter((k) => !expected.has(k));
  const problems: string[] = [];
  for (const [key, value] of entries) {
    const slot = expected.get(key);
    if (slot === undefined) continue;
    if (!isTensor(value)) {
      problems.push(`'${key}' is ${value === null ? 'null' : typeof value}, not a tensor`);
      continue;
    }
    if (value._backend === null) {
      problems.push(`'${key}' is a traced value without data`);
      continue;
    }
    if (!shapesEqual(value.shape, slot.current.shape)) {
      problems.push(
        `size mismatch for '${key}': the checkpoint has shape ${formatShape(value.shape)}, the module ${formatShape(slot.current.shape)}`,
      );
    }
  }
  const result: LoadStateDictResult = { missingKeys, unexpectedKeys };
  const postHooks = everyPath(root, true).flatMap(([, module]) =>
    module._stateDictHooks().loadPost.map(([id, hook]) => [module, id, hook] as [AnyModule, number, LoadStateDictPostHook<AnyModule>]),
  );
  // Without post-hooks, the keys are checked with everything else, before anything changes. A
  // post-hook may forgive keys (or add some), so with one, as in torch, the keys are checked
  // after the load and the hooks: only the other problems still stop the load before it starts.
  if (strict && postHooks.length === 0) problems.push(...keyProblems(result));
  if (problems.length > 0) throw loadFailure(owner, problems);
  noGrad(() => assign(expected, given));
  if (postHooks.length === 0) return result;
  runLoadPostHooks(postHooks, result);
  const left = strict ? keyProblems(result) : [];
  if (left.length > 0) throw loadFailure(owner, left, ' (the matching entries were loaded and the post-hooks ran)');
  return result;
}

function assign(expected: Map<string, Slot>, given: Map<string, unknown>): void {
  // Convert everything first, so that a failing conversion leaves the module unchanged.
  const converted: [Slot, Tensor][] = [];
  for (const [key, slot] of expected) {
    const value = given.get(key) as Tensor | undefined;
    if (value === undefined) continue;
    const backend = slot.current._backend?.name;
    const moved = backend !== undefined && value._backend?.name !== backend ? value.to(backend) : value;
    const typed = cast(moved, slot.current.dtype);
    if (moved !== value && typed !== moved) moved.dispose();
    converted.push([slot, typed === value ? ownHandle(value) : typed]);
  }
  for (const [slot, value] of converted) {
    if (slot.kind === 'buffer') {
      slot.module.setBuffer(slot.name, value);
      continue;
    }
    const parameter = slot.module.getParameter(slot.name);
    const old = parameter.value;
    parameter.value = value;
    keep(parameter.value);
    if (old !== parameter.value && !isLent(old)) old.dispose();
  }
}
