import { noGrad } from '../../autograd/grad-mode.js';
import { ValueError } from '../../core/errors.js';
import { formatShape, type Shape, shapesEqual } from '../../core/shape.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { isTensor, keep } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ModuleDict } from '../layers/containers.js';
import { isLent } from '../lent.js';
import { type AnyModule, Module } from '../module.js';
import { isParameter, Parameter } from '../parameter.js';

// Parametrizations (torch.nn.utils.parametrize): a module's parameter `weight` becomes a function
// of other parameters, `weight = p_n(...p_1(original))`, recomputed whenever it is read. As in
// torch, the module gains a submodule `parametrizations` (a ModuleDict) holding, per parametrized
// name, a ParametrizationList: the parametrizations as children '0', '1', ... and the trained
// tensor(s) as parameters 'original' (or 'original0', 'original1', ... when the first
// parametrization's rightInverse returns several). So parameters(), stateDict(), loadStateDict,
// functionalCall, optimizers and compile() see `parametrizations.weight.original`, and torch's
// state dicts load as they are.
//
// torch swaps the module's class for one with a property `weight`. Flint's layers read their
// weights as `this.weight.value` from Parameter objects they hold (fields, or private arrays as the
// recurrent layers do), so the Parameter object the module held stays where it is and becomes a
// view: its `value` is an accessor computing the parametrized tensor (assigning it runs the
// rightInverse into the originals), and it leaves the module's registry, so that it is no longer
// trained or saved itself. The field (or, without one, a property of that name) reads the view.
// removeParametrizations puts the tensor back into that same Parameter and registers it again.
// An optimizer built before the registration holds the view, which gets no gradient: build it (or
// add the originals to it) afterwards, as torch documents for the several-originals case.

/**
 * A parametrization: a module whose forward maps the original tensor(s) to the parametrized one.
 * `rightInverse`, when present, maps a value back to the original(s) (one tensor, or several for
 * a forward taking several); without it the original is the tensor as it was.
 */
export type Parametrization = AnyModule & {
  forward(...originals: Tensor[]): Tensor;
  rightInverse?(value: Tensor): Tensor | readonly Tensor[];
};

/** Options of registerParametrization. */
export interface RegisterParametrizationOptions {
  /**
   * Skip the consistency checks (that the parametrization keeps the tensor's shape and dtype, and
   * that its rightInverse returns tensors of the original's), as torch's `unsafe`. Default false.
   */
  readonly unsafe?: boolean;
}

/** Options of removeParametrizations. */
export interface RemoveParametrizationsOptions {
  /**
   * Leave the tensor with its current parametrized value (the default, true), or with the
   * original's (false; only for a single original).
   */
  readonly leaveParametrized?: boolean;
}

/** The view Parameter's own accessors, removed again by removeParametrizations. */
const VIEW_KEYS = ['value', 'shape', 'dtype'] as const;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (isTensor(value)) return `a Tensor ${formatShape(value.shape)}`;
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : typeof value;
}

/** A rightInverse's result as a list of tensors, checked. */
function originalsOf(op: string, result: unknown): { tensors: Tensor[]; single: boolean } {
  if (isTensor(result)) return { tensors: [result], single: true };
  if (Array.isArray(result) && result.length > 0 && result.every(isTensor)) return { tensors: [...result], single: false };
  throw new ValueError(`${op}: rightInverse must return a Tensor or a non-empty array of Tensors, got ${describe(result)}`);
}

/** Replaces a parameter's tensor, disposing the old one unless someone lent it (functionalCall). */
function replaceValue(parameter: Parameter, next: Tensor): void {
  const old = parameter.value;
  parameter.value = next;
  keep(parameter.value);
  if (old !== parameter.value && !isLent(old)) old.dispose();
}

/**
 * The parametrizations of one tensor and its original(s) (torch's ParametrizationList): children
 * '0', '1', ... applied in order, parameters 'original' or 'original0', 'original1', ... Calling
 * `forward()` computes the parametrized tensor.
 */
export class ParametrizationList extends Module<[], Tensor> {
  /** Whether the consistency checks are skipped (any registration with `unsafe` turns it on). */
  unsafe: boolean;
  readonly #chain: Parametrization[] = [];
  readonly #originals: Parameter[];
  readonly #single: boolean;
  /** The tensor's shape and dtype when the checks ran (safe mode): what the view reports. */
  #shape: Shape | null = null;

  constructor(parametrization: Parametrization, original: Parameter, unsafe: boolean) {
    super();
    const op = 'registerParametrization';
    this.unsafe = unsafe;
    this.#append(parametrization);
    const before = original.value;
    const inverted = noGrad(() => (typeof parametrization.rightInverse === 'function' ? parametrization.rightInverse(before) : before));
    const { tensors, single } = originalsOf(op, inverted);
    if (single && (tensors[0] as Tensor).dtype !== before.dtype) {
      throw new ValueError(
        `${op}: when rightInverse returns one tensor it may not change the dtype: ${before.dtype} became ${(tensors[0] as Tensor).dtype}`,
      );
    }
    this.#single = single;
    this.#originals = tensors.map((t, i) =>
      this.registerParameter(single ? 'original' : `original${i}`, new Parameter(t, { requiresGrad: original.requiresGrad })),
    );
    if (!unsafe) this.#shape = this.#checkConsistent(op, before);
  }

  /** The original tensor's Parameter (for a single original; see `originals`). */
  get original(): Parameter {
    if (!this.#single) throw new ValueError(`ParametrizationList: the tensor has ${this.#originals.length} originals; use originals`);
    return this.#originals[0] as Parameter;
  }

  /** The originals' Parameters, in order ('original' alone, or 'original0', 'original1', ...). */
  get originals(): readonly Parameter[] {
    return this.#originals;
  }

  /** Whether there is one original (torch's is_tensor). */
  get single(): boolean {
    return this.#single;
  }

  /** The parametrizations, in the order they apply. */
  get parametrizations(): readonly Parametrization[] {
    return this.#chain;
  }

  /** The shape the parametrized tensor has: checked at registration, or (unsafe) computed. */
  get shape(): Shape {
    return this.#shape ?? parametrizedValue(this).shape;
  }

  /** `p_n(...p_1(originals))`. */
  forward(): Tensor {
    const [first, ...rest] = this.#chain as [Parametrization, ...Parametrization[]];
    let x = first.forward(...this.#originals.map((p) => p.value));
    for (const p of rest) x = p.forward(x);
    return x;
  }

  /** Adds a parametrization applied after the others (registerParametrization on a parametrized tensor). */
  append(parametrization: Parametrization, unsafe: boolean): void {
    const op = 'registerParametrization';
    if (!unsafe && !this.unsafe) {
      // As torch: the new parametrization maps the tensor's space to itself.
      const current = noGrad(() => parametrizedValue(this));
      const mapped = noGrad(() => parametrization.forward(current));
      checkLike(op, 'the new parametrization', mapped, current);
      if (typeof parametrization.rightInverse === 'function') {
        checkLike(
          op,
          "the new parametrization's rightInverse",
          noGrad(() => parametrization.rightInverse?.(current)),
          current,
        );
      }
    }
    this.#append(parametrization);
    this.unsafe ||= unsafe;
    if (this.unsafe) this.#shape = null;
  }

  /**
   * Sets the originals so that the chain yields `value`: the rightInverses from the last
   * parametrization to the first (torch's right_inverse). Not recorded for backward.
   */
  rightInverse(value: Tensor): void {
    const op = 'ParametrizationList.rightInverse';
    if (!isTensor(value)) throw new ValueError(`${op}: expected a Tensor, got ${describe(value)}`);
    const inverted = noGrad(() => {
      let current: Tensor | readonly Tensor[] = value;
      for (const p of [...this.#chain].reverse()) {
        if (typeof p.rightInverse !== 'function') {
          throw new ValueError(`${op}: the parametrization ${p.constructor.name} has no rightInverse, so the tensor cannot be assigned`);
        }
        if (!isTensor(current)) throw new ValueError(`${op}: only the first parametrization's rightInverse may return several tensors`);
        current = p.rightInverse(current);
      }
      return current;
    });
    const { tensors, single } = originalsOf(op, inverted);
    if (single !== this.#single || tensors.length !== this.#originals.length) {
      throw new ValueError(`${op}: rightInverse returned ${tensors.length} tensor(s) for ${this.#originals.length} original(s)`);
    }
    for (const [i, t] of tensors.entries()) {
      const original = this.#originals[i] as Parameter;
      if (t.dtype !== original.value.dtype) {
        throw new ValueError(`${op}: rightInverse returned dtype ${t.dtype} for an original of dtype ${original.value.dtype}`);
      }
    }
    for (const [i, t] of tensors.entries()) replaceValue(this.#originals[i] as Parameter, t);
  }

  #append(parametrization: Parametrization): void {
    this.registerModule(String(this.#chain.length), parametrization);
    this.#chain.push(parametrization);
  }

  /** torch's consistency check at registration: the chain keeps the tensor's shape and dtype. */
  #checkConsistent(op: string, before: Tensor): Shape {
    const value = noGrad(() => this.forward());
    checkLike(op, 'the parametrization', value, before);
    return value.shape;
  }
}

/** Checks that `result` is a tensor of `like`'s shape and dtype (torch's checks outside unsafe mode). */
function checkLike(op: string, what: string, result: unknown, like: Tensor): void {
  const fix = 'pass { unsafe: true } to allow it';
  if (!isTensor(result)) throw new ValueError(`${op}: ${what} must return a Tensor, got ${describe(result)}`);
  if (result.dtype !== like.dtype) throw new ValueError(`${op}: ${what} changes the dtype from ${like.dtype} to ${result.dtype}; ${fix}`);
  if (!shapesEqual(result.shape, like.shape)) {
    throw new ValueError(`${op}: ${what} changes the shape from ${formatShape(like.shape)} to ${formatShape(result.shape)}; ${fix}`);
  }
}

// Caching (torch's parametrize.cached): inside `cached`, each parametrized tensor is computed once.
let cacheDepth = 0;
const cache = new Map<ParametrizationList, Tensor>();

function parametrizedValue(list: ParametrizationList): Tensor {
  if (cacheDepth === 0) return list.forward();
  let value = cache.get(list);
  if (value === undefined) {
    // Kept: an inner tidy must not free what later reads in the same `cached` call return.
    value = keep(list.forward());
    cache.set(list, value);
  }
  return value;
}

/**
 * Runs `fn` with the parametrized tensors cached: each is computed at its first read and reused
 * until `fn` returns (torch's `with parametrize.cached():`), for a forward pass that reads a
 * parametrized weight many times (a recurrent layer's, or one shared by several layers).
 *
 * @example
 * const out = nn.utils.parametrize.cached(() => model.forward(x));
 */
export function cached<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ValueError(`cached: expected a function, got ${describe(fn)}`);
  cacheDepth++;
  try {
    return fn();
  } finally {
    cacheDepth--;
    if (cacheDepth === 0) cache.clear();
  }
}

/** What a registration changed on the module, to undo in removeParametrizations. */
interface Injection {
  /** The Parameter the module held: now a view of the parametrized tensor. */
  readonly view: Parameter;
  /** The module's own property of the tensor's name before (its field), if it had one. */
  readonly field: PropertyDescriptor | undefined;
}

/** Each parametrized module's `parametrizations` dict, and each list's injection. */
const registries = new WeakMap<AnyModule, ModuleDict<ParametrizationList>>();
const injections = new WeakMap<ParametrizationList, Injection>();

/** Module's registry edits that containers use (protected there); parametrize needs them too. */
interface RegistryEdits {
  removeParameter(name: string): void;
  removeModule(name: string): void;
}

function checkModule(op: string, module: unknown): asserts module is AnyModule {
  if (!(module instanceof Module)) throw new ValueError(`${op}: module must be an nn.Module, got ${describe(module)}`);
}

function checkName(op: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '')
    throw new ValueError(`${op}: the tensor's name must be a non-empty string, got ${describe(name)}`);
}

/** Makes `view` read the parametrized tensor and `module[name]` read `view`. */
function inject(module: AnyModule, name: string, view: Parameter, list: ParametrizationList): void {
  const field = Object.getOwnPropertyDescriptor(module, name);
  injections.set(list, { view, field });
  const assign = (value: unknown): void => {
    const tensor = isParameter(value) ? value.value : value;
    list.rightInverse(tensor as Tensor);
  };
  Object.defineProperties(view, {
    value: { configurable: true, enumerable: false, get: () => parametrizedValue(list), set: assign },
    shape: { configurable: true, enumerable: false, get: () => list.shape },
    dtype: { configurable: true, enumerable: false, get: () => (list.originals[0] as Parameter).value.dtype },
  });
  // An accessor: the module's field discovery never adopts it (nor reads it).
  Object.defineProperty(module, name, { configurable: true, enumerable: field?.enumerable ?? false, get: () => view, set: assign });
}

/**
 * Parametrizes the parameter `tensorName` of `module` by `parametrization` (torch's
 * register_parametrization): from now on `module[tensorName].value` is
 * `parametrization.forward(original)`, recomputed at every read, and the trained tensor is
 * `parametrizations.<tensorName>.original` (several originals, `original0`, `original1`, ...,
 * when `rightInverse` returns several). The original starts as `rightInverse(weight)` (the weight
 * itself without a rightInverse). Registering on an already parametrized name appends to its list:
 * the new parametrization applies after the others. Returns the module.
 *
 * @example
 * class Symmetric extends nn.Module<[Tensor], Tensor> {
 *   forward(x: Tensor): Tensor { return x.triu().add(x.triu(1).transpose()); }
 * }
 * const layer = nn.utils.parametrize.registerParametrization(new nn.Linear(3, 3), 'weight', new Symmetric());
 * layer.weight.value; // symmetric; layer.parameters() trains parametrizations.weight.original
 */
export const registerParametrization = withCheckedOptions(
  'registerParametrization',
  optionsSignature<RegisterParametrizationOptions>(4, { unsafe: true }),
  <M extends AnyModule>(
    module: M,
    tensorName: string,
    parametrization: Parametrization,
    options: RegisterParametrizationOptions = {},
  ): M => {
    const op = 'registerParametrization';
    checkModule(op, module);
    checkName(op, tensorName);
    if (!(parametrization instanceof Module) || typeof parametrization.forward !== 'function') {
      throw new ValueError(`${op}: the parametrization must be an nn.Module with a forward, got ${describe(parametrization)}`);
    }
    const unsafe = options.unsafe ?? false;
    const registry = registries.get(module);
    if (registry?.has(tensorName) === true) {
      registry.get(tensorName).append(parametrization, unsafe);
      return module;
    }
    const { parameters, buffers } = module._ownEntries();
    const parameter = parameters.find(([name]) => name === tensorName)?.[1];
    if (parameter === undefined) {
      const buffer = buffers.some(([name]) => name === tensorName);
      throw new ValueError(
        buffer
          ? `${op}: '${tensorName}' is a buffer of ${module.constructor.name}; only parameters can be parametrized here`
          : `${op}: ${module.constructor.name} has no parameter or parametrized tensor named '${tensorName}'`,
      );
    }
    const list = new ParametrizationList(parametrization, parameter, unsafe);
    (module as unknown as RegistryEdits).removeParameter(tensorName);
    let dict = registry;
    if (dict === undefined) {
      dict = module.registerModule('parametrizations', new ModuleDict<ParametrizationList>());
      registries.set(module, dict);
      const registered = dict;
      // torch's attribute: module.parametrizations.get('weight').original.
      Object.defineProperty(module, 'parametrizations', { configurable: true, enumerable: false, get: () => registered });
    }
    dict.set(tensorName, list);
    inject(module, tensorName, parameter, list);
    return module;
  },
);

/**
 * Whether `module` has a parametrization on `tensorName` (torch's is_parametrized), or on any
 * tensor when `tensorName` is omitted.
 *
 * @example
 * nn.utils.parametrize.isParametrized(layer, 'weight'); // true after weightNorm(layer)
 */
export function isParametrized(module: AnyModule, tensorName?: string): boolean {
  const registry = registries.get(module);
  if (registry === undefined) return false;
  return tensorName === undefined ? registry.size > 0 : registry.has(tensorName);
}

/**
 * Removes the parametrizations of `tensorName` (torch's remove_parametrizations): the Parameter
 * the module held before the registration is registered again, holding the parametrized value
 * (`leaveParametrized`, the default) or the original (only for a single original). The module
 * loses `parametrizations` once nothing is parametrized. Returns the module.
 *
 * @example
 * nn.utils.parametrize.removeParametrizations(layer, 'weight'); // layer.weight is a plain Parameter again
 */
export const removeParametrizations = withCheckedOptions(
  'removeParametrizations',
  optionsSignature<RemoveParametrizationsOptions>(3, { leaveParametrized: true }),
  <M extends AnyModule>(module: M, tensorName: string, options: RemoveParametrizationsOptions = {}): M => {
    const op = 'removeParametrizations';
    checkModule(op, module);
    checkName(op, tensorName);
    const registry = registries.get(module);
    if (registry?.has(tensorName) !== true)
      throw new ValueError(`${op}: ${module.constructor.name} has no parametrization on '${tensorName}'`);
    const list = registry.get(tensorName);
    const { view, field } = injections.get(list) as Injection;
    const leave = options.leaveParametrized ?? true;
    if (!leave && !list.single) {
      throw new ValueError(
        `${op}: cannot leave '${tensorName}' unparametrized (leaveParametrized: false): it is parametrized by ${list.originals.length} tensors`,
      );
    }
    const next = leave ? noGrad(() => parametrizedValue(list)) : list.original.value;
    for (const key of VIEW_KEYS) delete (view as unknown as Record<string, unknown>)[key];
    replaceValue(view, next);
    registry.delete(tensorName);
    if (registry.size === 0) {
      (module as unknown as RegistryEdits).removeModule('parametrizations');
      registries.delete(module);
      delete (module as unknown as Record<string, unknown>).parametrizations;
    }
    delete (module as unknown as Record<string, unknown>)[tensorName];
    if (field !== undefined) Object.defineProperty(module, tensorName, 'value' in field ? { ...field, value: view } : field);
    module.registerParameter(tensorName, view);
    return module;
  },
);
