import { noGrad } from '../autograd/grad-mode.js';
import { ValueError } from '../core/errors.js';
import { rejectPromise } from '../core/promise.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { isLent } from './lent.js';
import type { AnyModule } from './module.js';

// stateDict / loadStateDict: the persistent state of a module tree by dotted name.

/** Parameters and persistent buffers by dotted name ('0.weight', 'bn.runningMean'). */
export type StateDict = Record<string, Tensor>;

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
 */
function everyPath(root: AnyModule): [string, AnyModule][] {
  // namedModules refuses a cycle, on which the walk below would never end.
  root.namedModules();
  const out: [string, AnyModule][] = [];
  const visit = (module: AnyModule, path: string): void => {
    out.push([path, module]);
    for (const [name, child] of module.namedChildren()) visit(child, path === '' ? name : `${path}.${name}`);
  };
  visit(root, '');
  return out;
}

/**
 * Every persistent slot of the tree by dotted name, in PyTorch's order (own parameters, own
 * buffers, then children). A shared (tied) parameter or buffer has a slot under each name it is
 * registered by, as in PyTorch's state_dict, so that a state dict saved by either library loads
 * strictly into the other; parameters() still lists it once.
 */
function slots(root: AnyModule): Map<string, Slot> {
  const out = new Map<string, Slot>();
  for (const [path, module] of everyPath(root)) {
    const { parameters, buffers } = module._ownEntries();
    const key = (name: string): string => (path === '' ? name : `${path}.${name}`);
    for (const [name, parameter] of parameters) out.set(key(name), { module, name, kind: 'parameter', current: parameter.value });
    for (const [name, value, persistent] of buffers) if (persistent) out.set(key(name), { module, name, kind: 'buffer', current: value });
  }
  return out;
}

export function stateDictOf(root: AnyModule): StateDict {
  const out: StateDict = {};
  for (const [key, slot] of slots(root)) out[key] = ownHandle(slot.current);
  return out;
}

export function loadStateDictInto(root: AnyModule, state: StateDict | ReadonlyMap<string, Tensor>, strict: boolean): LoadStateDictResult {
  const owner = root.constructor.name;
  rejectPromise(`${owner}.loadStateDict`, state, 'a state dict');
  if (typeof state !== 'object' || state === null)
    throw new ValueError(`${owner}.loadStateDict: expected an object of tensors by name, got ${state === null ? 'null' : typeof state}`);
  const entries: [string, unknown][] = state instanceof Map ? [...state.entries()] : Object.entries(state);
  const expected = slots(root);
  const given = new Map(entries);
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
  if (strict && missingKeys.length > 0) problems.push(`missing key(s): ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
  if (strict && unexpectedKeys.length > 0) problems.push(`unexpected key(s): ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
  if (problems.length > 0) {
    throw new ValueError(`${owner}.loadStateDict: ${problems.length} problem(s) loading the state dict:\n  ${problems.join('\n  ')}`);
  }
  noGrad(() => assign(expected, given));
  return { missingKeys, unexpectedKeys };
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
