import { IndexError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { isTensor } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { isParameter, Parameter } from '../parameter.js';
import { KeyedContainer, type NamedValues } from './keyed-container.js';

// ParameterList and ParameterDict: parameters held in a collection and registered under their
// positions or keys, so that they are in parameters(), stateDict() ('0', '1' / the keys), to(),
// functionalCall... as torch.nn.ParameterList and ParameterDict.

/** A Parameter, or a Tensor to wrap in a new one (as PyTorch wraps a plain tensor). */
export type ParameterLike = Parameter | Tensor;

function asParameter(container: string, what: string, value: unknown): Parameter {
  if (isParameter(value)) return value;
  if (isTensor(value)) return new Parameter(value);
  throw new ValueError(
    `${container}: ${what} must be a Parameter or a Tensor, got ${value === null ? 'null' : typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : typeof value}`,
  );
}

function describeParameter(parameter: Parameter): string {
  return `Parameter ${formatShape(parameter.value.shape)} ${parameter.value.dtype}`;
}

/**
 * Parameters by position (torch.nn.ParameterList), registered as '0', '1', ... A Tensor is
 * wrapped in a new Parameter. It has no forward: the owner decides how to use them.
 *
 * @example
 * readonly scales = new nn.ParameterList(Array.from({ length: 3 }, () => ones([64])));
 * x = x.mul(this.scales.at(i).value);
 */
export class ParameterList extends Module<never[], never> implements Iterable<Parameter> {
  #items: Parameter[] = [];

  constructor(values: Iterable<ParameterLike> = []) {
    super();
    for (const value of values) this.append(value);
  }

  /** The number of parameters. */
  get length(): number {
    return this.#items.length;
  }

  #index(method: string, index: number): number {
    const i = index < 0 ? index + this.#items.length : index;
    if (!Number.isInteger(index) || i < 0 || i >= this.#items.length)
      throw new IndexError(`ParameterList.${method}: index ${index} is out of range for ${this.#items.length} parameters`);
    return i;
  }

  /** The parameter at `index` (negative counts from the end). */
  at(index: number): Parameter {
    return this.#items[this.#index('at', index)] as Parameter;
  }

  /** Replaces the parameter at `index` (torch's `list[i] = p`); returns the list. */
  set(index: number, value: ParameterLike): this {
    const i = this.#index('set', index);
    const parameter = asParameter('ParameterList.set', 'the value', value);
    this.replaceParameter(String(i), parameter);
    this.#items[i] = parameter;
    return this;
  }

  /** Appends a parameter (a Tensor is wrapped in one); returns the list. */
  append(value: ParameterLike): this {
    const parameter = asParameter('ParameterList.append', 'the value', value);
    this.registerParameter(String(this.#items.length), parameter);
    this.#items.push(parameter);
    return this;
  }

  /** Appends every value of `values`; returns the list. */
  extend(values: Iterable<ParameterLike>): this {
    for (const value of values) this.append(value);
    return this;
  }

  [Symbol.iterator](): Iterator<Parameter> {
    return this.#items[Symbol.iterator]();
  }

  forward(): never {
    throw new ValueError('ParameterList: has no forward; iterate over it or use at(i)');
  }

  override extraRepr(): string {
    return this.#items.map((p, i) => `(${i}): ${describeParameter(p)}`).join(', ');
  }
}

/**
 * Parameters by name (torch.nn.ParameterDict), registered under their keys in insertion order.
 * A Tensor is wrapped in a new Parameter. Keys follow the rules of parameter names (no '.', no
 * spaces, not the name of a module member such as 'training').
 *
 * @example
 * readonly biases = new nn.ParameterDict({ left: zeros([8]), right: zeros([8]) });
 * this.biases.get('left').value;
 */
export class ParameterDict extends KeyedContainer<Parameter, ParameterLike> {
  constructor(values: NamedValues<ParameterLike> = {}) {
    super('ParameterDict', 'parameter');
    this.update(values);
  }

  /** A Tensor is wrapped in a new Parameter. */
  protected override admit(key: string, value: ParameterLike): Parameter {
    return asParameter('ParameterDict.set', `'${key}'`, value);
  }

  protected override attach(key: string, parameter: Parameter, replacing: boolean): void {
    if (replacing) this.replaceParameter(key, parameter);
    else this.registerParameter(key, parameter);
  }

  protected override detach(key: string): void {
    this.removeParameter(key);
  }

  forward(): never {
    throw new ValueError('ParameterDict: has no forward; get a parameter by name');
  }

  override extraRepr(): string {
    return this.entries()
      .map(([key, p]) => `(${key}): ${describeParameter(p)}`)
      .join(', ');
  }
}
