import type { DType } from '../core/dtype.js';
import { isFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { type CreationOptions, type TensorLike, tensor } from '../ops/convert.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Tracer } from '../transforms/core.js';
import { LeafAccumulator } from './state.js';
import { detachedView, makeLeaf } from './tape.js';

export interface ParameterOptions extends CreationOptions {
  /** Whether backward() computes a gradient for it (default true). */
  readonly requiresGrad?: boolean;
  /** A name for messages and state dicts. */
  readonly name?: string;
}

/**
 * A trainable value: a mutable cell holding an immutable tensor and the gradient `backward()`
 * accumulates for it. Optimizers replace `value` with the updated tensor; `grad` stays with the
 * parameter across replacements, as in PyTorch.
 *
 * @example
 * const w = new Parameter(randn([3, 2]));
 * const loss = x.matmul(w.value).square().mean();
 * loss.backward();
 * w.grad; // d loss / d w
 */
export class Parameter {
  readonly name: string | undefined;
  private readonly accumulator = new LeafAccumulator();
  private current: Tensor;
  private requires: boolean;

  constructor(value: Tensor | TensorLike, options: ParameterOptions = {}) {
    this.name = options.name;
    this.requires = options.requiresGrad ?? true;
    const initial = isTensor(value)
      ? value
      : tensor(value, { dtype: options.dtype ?? 'float32', ...(options.backend ? { backend: options.backend } : {}) });
    this.current = this.adopt(initial);
  }

  /** The current tensor. Assigning takes the new tensor over (it becomes this parameter's leaf). */
  get value(): Tensor {
    return this.current;
  }

  set value(next: Tensor) {
    if (next === this.current) return;
    const adopted = this.adopt(next);
    if (this.current._autograd?.edge.node === this.accumulator) this.current._autograd = null;
    this.current = adopted;
  }

  /** The accumulated gradient, or null; `zeroGrad()` frees it. */
  get grad(): Tensor | null {
    return this.accumulator.slot.grad;
  }

  set grad(value: Tensor | null) {
    this.accumulator.slot.grad = value;
    this.accumulator.slot.ownsGrad = false;
  }

  get requiresGrad(): boolean {
    return this.requires;
  }

  set requiresGrad(on: boolean) {
    this.requires = on;
    if (on) this.current = this.adopt(this.current);
    else if (this.current._autograd?.edge.node === this.accumulator) this.current._autograd = null;
  }

  get shape(): Shape {
    return this.current.shape;
  }

  get dtype(): DType {
    return this.current.dtype;
  }

  /** Frees the gradient and sets it to null. */
  zeroGrad(): void {
    const g = this.accumulator.slot.grad;
    this.accumulator.slot.grad = null;
    this.accumulator.slot.ownsGrad = false;
    if (g !== null && g._autograd === null) g.dispose();
  }

  /** Frees the value and the gradient. */
  dispose(): void {
    this.zeroGrad();
    this.current.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `Parameter${this.name ? ` '${this.name}'` : ''}(${this.current.toString()})`;
  }

  private adopt(value: Tensor): Tensor {
    if (!isTensor(value)) throw new ValueError(`Parameter: value must be a Tensor, got ${typeof value}`);
    if (value instanceof Tracer)
      throw new ValueError('Parameter: cannot hold a value traced by a transform; pass parameters as arguments to grad/vmap instead');
    if (!this.requires) return value;
    if (!isFloating(value.dtype)) throw new DTypeError(`Parameter: only floating-point tensors can require gradients, got ${value.dtype}`);
    const state = value._autograd;
    if (state?.edge.node === this.accumulator) return value;
    // A tensor already on the tape (computed, or another leaf) stays as it is; the parameter views its data.
    const leaf = state === null ? value : detachedView(value);
    makeLeaf(leaf, this.accumulator);
    return leaf;
  }
}
