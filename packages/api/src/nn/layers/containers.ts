import { IndexError, ValueError } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type AnyModule, Module } from '../module.js';
import { KeyedContainer, type NamedValues } from './keyed-container.js';

// Containers: Sequential (a pipeline), ModuleList and ModuleDict (registered collections).

/** A module that maps one tensor to one tensor: what Sequential chains. */
export type TensorModule = Module<[Tensor], Tensor>;

function isModule(value: unknown): value is AnyModule {
  return value instanceof Module;
}

/**
 * Applies its modules in order, each to the previous one's output (torch.nn.Sequential). Built
 * from modules (named '0', '1', ...) or from one object of named modules.
 *
 * @example
 * const mlp = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1));
 * const named = new nn.Sequential({ encoder: new nn.Linear(4, 2), activation: new nn.Tanh() });
 */
export class Sequential extends Module<[Tensor], Tensor> implements Iterable<TensorModule> {
  constructor(...modules: TensorModule[] | [Readonly<Record<string, TensorModule>>]) {
    super();
    const [first] = modules;
    if (modules.length === 1 && first !== undefined && !isModule(first) && typeof first === 'object') {
      for (const [name, module] of Object.entries(first)) this.#add(name, module);
    } else {
      for (const [i, module] of (modules as TensorModule[]).entries()) this.#add(String(i), module);
    }
  }

  #add(name: string, module: unknown): void {
    if (!isModule(module)) throw new ValueError(`Sequential: '${name}' must be a Module, got ${module === null ? 'null' : typeof module}`);
    this.registerModule(name, module);
  }

  /** The number of modules. */
  get length(): number {
    return this.children().length;
  }

  /** The module at position `index` (negative counts from the end). */
  at(index: number): TensorModule {
    const children = this.children();
    const i = index < 0 ? index + children.length : index;
    const module = children[i];
    if (!Number.isInteger(index) || module === undefined)
      throw new IndexError(`Sequential.at: index ${index} is out of range for ${children.length} modules`);
    return module as unknown as TensorModule;
  }

  /**
   * Appends a module and returns the container. It is named by its position, or, in a slice
   * that kept other names, by the next integer no module uses.
   */
  append(module: TensorModule): this {
    const names = new Set(this.namedChildren().map(([name]) => name));
    let index = names.size;
    while (names.has(String(index))) index++;
    this.#add(String(index), module);
    return this;
  }

  /**
   * Replaces the module at position `index` (negative counts from the end), keeping its name, as
   * torch's `seq[index] = module`; returns the container.
   */
  set(index: number, module: TensorModule): this {
    if (!isModule(module)) throw new ValueError(`Sequential.set: expected a Module, got ${module === null ? 'null' : typeof module}`);
    const entries = this.namedChildren();
    const entry = entries[index < 0 ? index + entries.length : index];
    if (!Number.isInteger(index) || entry === undefined)
      throw new IndexError(`Sequential.set: index ${index} is out of range for ${entries.length} modules`);
    this.replaceModule(entry[0], module);
    return this;
  }

  /** Appends every module of `modules`; returns the container. */
  extend(modules: Iterable<TensorModule>): this {
    for (const module of modules) this.append(module);
    return this;
  }

  /**
   * Inserts a module before position `index` (negative counts from the end), renumbering the
   * modules '0', '1', ... as torch's insert. A Sequential built from named modules has no positions
   * to renumber: inserting into it is a ValueError.
   */
  insert(index: number, module: TensorModule): this {
    if (!isModule(module)) throw new ValueError(`Sequential.insert: expected a Module, got ${module === null ? 'null' : typeof module}`);
    const entries = this.namedChildren();
    const n = entries.length;
    if (!Number.isInteger(index) || index < -n || index > n)
      throw new IndexError(`Sequential.insert: index ${index} is out of range for ${n} modules`);
    if (entries.some(([name], k) => name !== String(k)))
      throw new ValueError(
        `Sequential.insert: the modules are named ${entries.map(([name]) => `'${name}'`).join(', ')}, not by position; build a new Sequential instead`,
      );
    const i = index < 0 ? index + n : index;
    const modules = entries.map(([, m]) => m as unknown as TensorModule);
    modules.splice(i, 0, module);
    for (const [name] of entries) this.removeModule(name);
    for (const [k, m] of modules.entries()) this.#add(String(k), m);
    return this;
  }

  /**
   * A new Sequential of the modules from `start` up to (not including) `end`, as PyTorch's
   * `seq[start:end]`: the modules are shared, not copied, and keep their names ('1', '2' for
   * `slice(1, 3)`). Indices follow `Array.prototype.slice` (negative counts from the end).
   *
   * @example
   * const backbone = model.slice(0, -1); // every module but the head, sharing their parameters
   */
  slice(start?: number, end?: number): Sequential {
    for (const [what, value] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (value !== undefined && !Number.isInteger(value))
        throw new ValueError(`Sequential.slice: ${what} must be an integer, got ${JSON.stringify(value)}`);
    }
    const entries = this.namedChildren().slice(start, end) as unknown as [string, TensorModule][];
    const out = new Sequential();
    for (const [name, module] of entries) out.#add(name, module);
    out.training = this.training;
    return out;
  }

  [Symbol.iterator](): Iterator<TensorModule> {
    return (this.children() as unknown as TensorModule[])[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const module of this) out = module.forward(out);
    return out;
  }
}

/**
 * A list of modules registered as submodules '0', '1', ... (torch.nn.ModuleList), so their
 * parameters belong to the owner (a plain array field is not discovered, as in PyTorch). It has
 * no forward: the owner decides how to call them.
 *
 * @example
 * readonly layers = new nn.ModuleList(Array.from({ length: 4 }, () => new nn.Linear(64, 64))); // a field: registered as 'layers'
 * for (const layer of this.layers) x = layer.forward(x);
 */
export class ModuleList<M extends AnyModule = TensorModule> extends Module<never[], never> implements Iterable<M> {
  #items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const module of modules) this.append(module);
  }

  /** The number of modules. */
  get length(): number {
    return this.#items.length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): M {
    const i = index < 0 ? index + this.#items.length : index;
    const module = this.#items[i];
    if (!Number.isInteger(index) || module === undefined)
      throw new IndexError(`ModuleList.at: index ${index} is out of range for ${this.#items.length} modules`);
    return module;
  }

  /** Appends a module; returns the list. */
  append(module: M): this {
    if (!isModule(module)) throw new ValueError(`ModuleList.append: expected a Module, got ${module === null ? 'null' : typeof module}`);
    this.registerModule(String(this.#items.length), module);
    this.#items.push(module);
    return this;
  }

  /** Replaces the module at `index` (negative counts from the end), as torch's `list[index] = module`; returns the list. */
  set(index: number, module: M): this {
    if (!isModule(module)) throw new ValueError(`ModuleList.set: expected a Module, got ${module === null ? 'null' : typeof module}`);
    this.at(index);
    const i = index < 0 ? index + this.#items.length : index;
    this.replaceModule(String(i), module);
    this.#items[i] = module;
    return this;
  }

  /** Appends every module of `modules`; returns the list. */
  extend(modules: Iterable<M>): this {
    for (const module of modules) this.append(module);
    return this;
  }

  /** Inserts a module before position `index`, renumbering the ones after it. */
  insert(index: number, module: M): this {
    if (!isModule(module)) throw new ValueError(`ModuleList.insert: expected a Module, got ${module === null ? 'null' : typeof module}`);
    const n = this.#items.length;
    const i = Math.min(Math.max(index < 0 ? index + n : index, 0), n);
    const items = [...this.#items.slice(0, i), module, ...this.#items.slice(i)];
    for (let k = 0; k < n; k++) this.removeModule(String(k));
    this.#items = [];
    for (const item of items) this.append(item);
    return this;
  }

  /** Removes the module at `index` (default the last), renumbering the ones after it; returns it. */
  pop(index = -1): M {
    const module = this.at(index);
    const items = this.#items.filter((_item, k) => k !== (index < 0 ? index + this.#items.length : index));
    for (let k = 0; k < this.#items.length; k++) this.removeModule(String(k));
    this.#items = [];
    for (const item of items) this.append(item);
    return module;
  }

  /** A new ModuleList of the modules from `start` up to `end` (shared, as PyTorch's `list[start:end]`), renumbered from '0'. */
  slice(start?: number, end?: number): ModuleList<M> {
    const out = new ModuleList<M>(this.#items.slice(start, end));
    out.training = this.training;
    return out;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }

  forward(): never {
    throw new ValueError('ModuleList: has no forward; iterate over it and call each module');
  }
}

/**
 * Modules by name (torch.nn.ModuleDict), registered as submodules in insertion order.
 *
 * @example
 * const heads = new nn.ModuleDict({ classify: new nn.Linear(64, 10), regress: new nn.Linear(64, 1) });
 * heads.get('classify').forward(features);
 */
export class ModuleDict<M extends AnyModule = TensorModule> extends KeyedContainer<M> {
  constructor(modules: NamedValues<M> = {}) {
    super('ModuleDict', 'module');
    this.update(modules);
  }

  protected override admit(key: string, module: M): M {
    if (!isModule(module))
      throw new ValueError(`ModuleDict.set: '${key}' must be a Module, got ${module === null ? 'null' : typeof module}`);
    return module;
  }

  protected override attach(key: string, module: M, replacing: boolean): void {
    if (replacing) this.replaceModule(key, module);
    else this.registerModule(key, module);
  }

  protected override detach(key: string): void {
    this.removeModule(key);
  }

  forward(): never {
    throw new ValueError('ModuleDict: has no forward; get a module by name and call it');
  }
}
