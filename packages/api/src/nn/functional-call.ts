import { ValueError } from '../core/errors.js';
import { rejectPromise } from '../core/promise.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { giveBack, isLent, lend } from './lent.js';
import type { AnyModule, Module } from './module.js';
import type { Parameter } from './parameter.js';

/**
 * Runs `module.forward(...inputs)` with some of its parameters and buffers replaced by the given
 * tensors, named as in `namedParameters()` / `namedBuffers()` (torch.func.functional_call). The
 * module is left exactly as it was: the replacements last for the call only, and state the forward
 * pass changes (BatchNorm's running statistics) is discarded. Since the result is a function of
 * `tensors`, `grad` can differentiate a module with respect to its parameters as a pytree.
 *
 * @example
 * const params = model.parameterValues();
 * const lossOf = (p: Record<string, Tensor>) => nn.functional.crossEntropy(nn.functionalCall(model, p, x), y);
 * const grads = grad(lossOf)(params); // same keys as params
 */
export function functionalCall<In extends unknown[], Out>(
  module: Module<In, Out>,
  tensors: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>,
  ...inputs: In
): Out {
  return callWith('functionalCall', module, tensors, inputs, null);
}

/**
 * `functionalCall` that returns the buffers the forward pass updated instead of discarding them:
 * `[output, buffers]`, where `buffers` maps the name of every buffer the pass replaced (BatchNorm's
 * running statistics and batch count in training mode) to its new value. The module is left as
 * it was. With it a training step stays a pure function of parameters and buffers, and so can be
 * differentiated (return the buffers as auxiliary output) and compiled with `jit`.
 *
 * @example
 * const lossOf = (p: Record<string, Tensor>, b: Record<string, Tensor>) => {
 *   const [logits, updated] = nn.functionalCallWithBuffers(model, { ...p, ...b }, x);
 *   return [nn.functional.crossEntropy(logits, y), { ...b, ...updated }];
 * };
 * const [[loss, buffers], grads] = valueAndGrad(lossOf, { hasAux: true })(params, model.bufferValues());
 */
export function functionalCallWithBuffers<In extends unknown[], Out>(
  module: Module<In, Out>,
  tensors: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>,
  ...inputs: In
): [Out, Record<string, Tensor>] {
  const updated: Record<string, Tensor> = {};
  const output = callWith('functionalCallWithBuffers', module, tensors, inputs, updated);
  return [output, updated];
}

function callWith<In extends unknown[], Out>(
  op: string,
  module: Module<In, Out>,
  tensors: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>,
  inputs: In,
  updated: Record<string, Tensor> | null,
): Out {
  const root = module as unknown as AnyModule;
  rejectPromise(op, tensors, 'tensors by name');
  if (typeof tensors !== 'object' || tensors === null)
    throw new ValueError(`${op}: expected an object of tensors by name, got ${tensors === null ? 'null' : typeof tensors}`);
  const entries: [string, unknown][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);

  const parameters = new Map<string, Parameter>();
  const buffers = new Map<string, { module: AnyModule; name: string }>();
  for (const [path, owner] of root.namedModules()) {
    const { parameters: own, buffers: ownBuffers } = owner._ownEntries();
    for (const [name, parameter] of own) parameters.set(path === '' ? name : `${path}.${name}`, parameter);
    for (const [name] of ownBuffers) buffers.set(path === '' ? name : `${path}.${name}`, { module: owner, name });
  }
  const unknown: string[] = [];
  for (const [name, value] of entries) {
    if (!isTensor(value)) throw new ValueError(`${op}: '${name}' must be a tensor, got ${value === null ? 'null' : typeof value}`);
    if (!parameters.has(name) && !buffers.has(name)) unknown.push(name);
  }
  if (unknown.length > 0) {
    throw new ValueError(`${op}: ${root.constructor.name} has no parameter or buffer named ${unknown.map((k) => `'${k}'`).join(', ')}`);
  }

  // Every buffer of the tree is restored afterwards, given or not, so that the call has no effect.
  const originalBuffers: [AnyModule, string, Tensor | null, string][] = [];
  for (const [path, owner] of root.namedModules()) {
    for (const [name, value] of owner._ownEntries().buffers) {
      // Lent as well: the forward pass may replace them (running statistics) but must not free them.
      lend(value);
      originalBuffers.push([owner, name, value, path === '' ? name : `${path}.${name}`]);
    }
  }
  const shadowed: Parameter[] = [];
  functionalCallDepth++;
  try {
    for (const [name, value] of entries as [string, Tensor][]) {
      lend(value);
      const parameter = parameters.get(name);
      if (parameter !== undefined) {
        shadow(parameter, value);
        shadowed.push(parameter);
      } else {
        const slot = buffers.get(name) as { module: AnyModule; name: string };
        slot.module._swapBuffer(slot.name, value);
      }
    }
    return module.forward(...inputs);
  } finally {
    functionalCallDepth--;
    for (let i = shadowed.length - 1; i >= 0; i--) unshadow(shadowed[i] as Parameter);
    const given = new Map<string, Tensor>(entries as [string, Tensor][]);
    for (const [owner, name, original, path] of originalBuffers) {
      const during = owner._swapBuffer(name, original);
      const replaced = during !== null && during !== (given.get(path) ?? original);
      // A buffer the forward pass replaced (running statistics) was made for this call: returned
      // when asked for, discarded otherwise.
      if (replaced && updated !== null) updated[path] = during;
      else if (during !== null && during !== original && !isLent(during)) during.dispose();
      if (original !== null) giveBack(original);
    }
    for (const [, value] of entries as [string, Tensor][]) giveBack(value);
  }
}

/**
 * Makes `parameter.value` read `value` until `unshadow`: an own accessor on the instance hides the
 * class's. A Parameter's own setter would refuse a traced value (it only holds concrete leaves),
 * and must not take the lent tensor over anyway.
 */
function shadow(parameter: Parameter, value: Tensor): void {
  if (Object.hasOwn(parameter, 'value')) {
    throw new ValueError(
      'functionalCall: a parameter is replaced twice (a tied parameter passed under two names, or nested calls on the same module); pass each parameter once',
    );
  }
  Object.defineProperty(parameter, 'value', {
    configurable: true,
    enumerable: false,
    get: () => value,
    set: () => {
      throw new ValueError('functionalCall: a parameter cannot be assigned while functionalCall replaces it');
    },
  });
}

function unshadow(parameter: Parameter): void {
  delete (parameter as unknown as Record<string, unknown>).value;
}

let functionalCallDepth = 0;

/** Whether a functionalCall is running, so that state a module changes now will be discarded. */
export function insideFunctionalCall(): boolean {
  return functionalCallDepth > 0;
}
