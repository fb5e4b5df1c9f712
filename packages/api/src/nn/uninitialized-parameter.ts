import type { DType } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { full } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { Parameter } from './parameter.js';

// A lazy module's parameter before its shape is known (torch.nn.UninitializedParameter). It is a
// real Parameter cell, registered under its name from the start, so that `parameters()` and
// `namedParameters()` list it and a reference taken early (`layer.weight`) stays valid: the first
// forward (or `loadStateDict`) materializes the same cell in place. Until then every read of its
// value, shape or dtype throws a ValueError naming the module and the way out, so that nothing
// (an optimizer, a state dict, functionalCall, jit) can work on a made-up tensor by accident.
// Behind the cell sits a placeholder, an empty tensor that only carries the dtype and backend
// the parameter will have: `module.to('float64')` or `to('webgpu')` before the first forward
// converts the placeholder, and the materialized tensor follows it, as in torch.

/** Says why the parameter has no value yet and what to do about it. */
function uninitializedError(owner: string, what: string): ValueError {
  return new ValueError(
    `${owner} is uninitialized: a lazy module infers its shape from the first forward's input. ` +
      `Run one forward pass (or loadStateDict) before ${what}, e.g. before building an optimizer over model.parameters()`,
  );
}

/**
 * A parameter whose shape is not known yet (torch.nn.UninitializedParameter): what a lazy
 * module (`nn.LazyLinear`, ...) registers until its first forward infers the input size.
 * Reading its `value`, `shape` or `dtype` before then is a ValueError that names the module, so
 * building an optimizer over an unmaterialized model fails at once. The module materializes the
 * same cell in place: references taken earlier stay valid.
 *
 * @example
 * const layer = new nn.LazyLinear(3);
 * nn.isUninitializedParameter(layer.weight); // true
 * layer.forward(zeros([2, 5]));
 * layer.weight.shape;                        // [3, 5]
 */
export class UninitializedParameter extends Parameter {
  /** 'LazyLinear.weight': how messages name the parameter. */
  readonly #owner: string;
  #materialized = false;
  /** Empty; carries the dtype and backend the materialized value will have. */
  #placeholder: Tensor;

  constructor(owner: string, options: { readonly dtype?: DType; readonly backend?: string; readonly requiresGrad?: boolean } = {}) {
    const placeholder = full([0], 0, {
      dtype: options.dtype ?? 'float32',
      ...(options.backend === undefined ? {} : { backend: options.backend }),
    });
    super(placeholder, { requiresGrad: options.requiresGrad ?? true });
    this.#owner = owner;
    this.#placeholder = placeholder;
  }

  /** Whether the parameter holds a real value (materialized by its module's first forward). */
  get isMaterialized(): boolean {
    return this.#materialized;
  }

  override get value(): Tensor {
    if (!this.#materialized) throw uninitializedError(this.#owner, 'reading its value');
    return super.value;
  }

  override set value(next: Tensor) {
    if (!this.#materialized) throw uninitializedError(this.#owner, 'assigning its value');
    super.value = next;
  }

  override get shape(): Shape {
    if (!this.#materialized) throw uninitializedError(this.#owner, 'reading its shape');
    return super.shape;
  }

  override get dtype(): DType {
    if (!this.#materialized) throw uninitializedError(this.#owner, 'reading its dtype');
    return super.dtype;
  }

  /** @internal The empty tensor whose dtype and backend the value will have (before materialization). */
  _placeholder(): Tensor {
    return this.#placeholder;
  }

  /** @internal Replaces the placeholder (Module.to before materialization), disposing the old one. */
  _replacePlaceholder(next: Tensor): void {
    if (this.#materialized) throw new ValueError(`${this.#owner}: is already materialized`);
    if (next === this.#placeholder) return;
    const old = this.#placeholder;
    this.#placeholder = next;
    super.value = next;
    old.dispose();
  }

  /**
   * @internal Gives the parameter its value (the module's first forward or loadStateDict); the
   * value's dtype and backend are the module's business (it builds it from the placeholder's).
   */
  _materialize(value: Tensor): void {
    if (this.#materialized) throw new ValueError(`${this.#owner}: is already materialized`);
    this.#materialized = true;
    super.value = value;
    this.#placeholder.dispose();
  }

  override toString(): string {
    return this.#materialized ? super.toString() : `UninitializedParameter(${this.#owner})`;
  }
}

/**
 * Whether `parameter` is a lazy module's parameter still waiting for its shape
 * (torch.nn.parameter.is_lazy): false once the module's first forward materialized it.
 */
export function isUninitializedParameter(parameter: unknown): parameter is UninitializedParameter {
  return parameter instanceof UninitializedParameter && !parameter.isMaterialized;
}
