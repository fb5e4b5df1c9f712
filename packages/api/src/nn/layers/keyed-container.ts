import { ValueError } from '../../core/errors.js';
import { Module } from '../module.js';

// The shared body of ModuleDict and ParameterDict: a dict whose every entry is registered on the
// container under its key, so that what the dict holds and what the module registers never differ.

/** Named values as torch's dict containers take them: an object, or [key, value] pairs. */
export type NamedValues<V> = Readonly<Record<string, V>> | Iterable<readonly [string, V]>;

function entriesOf<V>(values: NamedValues<V>): (readonly [string, V])[] {
  return Symbol.iterator in values
    ? [...(values as Iterable<readonly [string, V]>)]
    : Object.entries(values as Readonly<Record<string, V>>);
}

/**
 * A Map of values in insertion order, each registered under its key. A subclass says how a value
 * is checked (or wrapped) and how it is registered, replaced and removed.
 */
export abstract class KeyedContainer<V, In = V> extends Module<never[], never> implements Iterable<string> {
  #items = new Map<string, V>();
  /** The container's name and what it holds ('ModuleDict', 'module'), for messages. */
  readonly #container: string;
  readonly #noun: string;

  protected constructor(container: string, noun: string) {
    super();
    this.#container = container;
    this.#noun = noun;
  }

  /** Checks `value` (or wraps it) before `set` stores it under `key`. */
  protected abstract admit(key: string, value: In): V;
  /** Registers `value` under `key`, or replaces the value registered there. */
  protected abstract attach(key: string, value: V, replacing: boolean): void;
  /** Unregisters the value under `key`. */
  protected abstract detach(key: string): void;

  /** The number of entries. */
  get size(): number {
    return this.#items.size;
  }

  /** The value named `key`; a missing key is a ValueError. */
  get(key: string): V {
    const value = this.#items.get(key);
    if (value === undefined)
      throw new ValueError(
        `${this.#container}.get: no ${this.#noun} named '${key}' (have ${[...this.#items.keys()].map((k) => `'${k}'`).join(', ') || 'none'})`,
      );
    return value;
  }

  /** Whether a value is named `key`. */
  has(key: string): boolean {
    return this.#items.has(key);
  }

  /** Adds or replaces the value named `key`; returns the container. */
  set(key: string, value: In): this {
    const admitted = this.admit(key, value);
    this.attach(key, admitted, this.#items.has(key));
    this.#items.set(key, admitted);
    return this;
  }

  /** Removes the value named `key`; returns whether there was one. */
  delete(key: string): boolean {
    if (!this.#items.has(key)) return false;
    this.detach(key);
    this.#items.delete(key);
    return true;
  }

  /** Removes the value named `key` and returns it (torch's pop); a missing key is a ValueError. */
  pop(key: string): V {
    const value = this.get(key);
    this.delete(key);
    return value;
  }

  /** Adds or replaces every entry of `values` (torch's update); returns the container. */
  update(values: NamedValues<In>): this {
    for (const [key, value] of entriesOf(values)) this.set(key, value);
    return this;
  }

  /** Removes every entry. */
  clear(): void {
    for (const key of this.keys()) this.delete(key);
  }

  /** The keys, as iterating a torch ModuleDict or ParameterDict gives. */
  [Symbol.iterator](): Iterator<string> {
    return this.#items.keys();
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  values(): V[] {
    return [...this.#items.values()];
  }

  entries(): [string, V][] {
    return [...this.#items.entries()];
  }
}
