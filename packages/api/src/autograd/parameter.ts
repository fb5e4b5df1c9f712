import type { DType } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { type CreationOptions, type TensorLike, tensor } from '../ops/convert.js';
import { isTensor, keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Tracer } from '../transforms/core.js';
import { LeafAccumulator } from './state.js';
import { checkCanRequireGrad, detachedView, makeLeaf } from './tape.js';

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
  /** While compile() traces a training step, the value may be a tracer of that trace. */
  private staging = false;

  constructor(value: Tensor | TensorLike, options: ParameterOptions = {}) {
    this.name = options.name;
    this.requires = options.requiresGrad ?? true;
    const initial = isTensor(value)
      ? value
      : tensor(value, { dtype: options.dtype ?? 'float32', ...(options.backend ? { backend: options.backend } : {}) });
    // A parameter is long-lived state: its tensor outlives an enclosing `tidy` (a model built
    // inside one keeps its weights, whether or not a module registered them yet).
    this.current = keep(this.adopt(initial));
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

  /**
   * @internal compile()'s hook for training steps: installs `value` (made this parameter's leaf)
   * and `grad` as they are, and returns what they replace. While `staging`, the value and the
   * gradient may be tracers of the compiled trace, and the optimizer may assign traced values.
   */
  _swap(value: Tensor, grad: Tensor | null, staging: boolean): { value: Tensor; grad: Tensor | null } {
    const previous = { value: this.current, grad: this.accumulator.slot.grad };
    this.staging = staging;
    if (value !== this.current && this.current._autograd?.edge.node === this.accumulator) this.current._autograd = null;
    this.current = this.adopt(value);
    this.accumulator.slot.grad = grad;
    // A gradient the program made belongs to the parameter, as one made by backward() does.
    this.accumulator.slot.ownsGrad = grad !== null && !staging;
    return previous;
  }

  /**
   * @internal The value stops being the tape's leaf, so that a compiled step it is donated to may
   * write the updated value into its memory (the step installs the new value right after).
   */
  _releaseValue(): void {
    if (this.current._autograd?.edge.node === this.accumulator) this.current._autograd = null;
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
    if (value instanceof Tracer) {
      if (!this.staging)
        throw new ValueError('Parameter: cannot hold a value traced by a transform; pass parameters as arguments to grad/vmap instead');
      // The compiled trace records the tape on its own tracers: the value becomes this leaf there.
      if (this.requires && value._autograd === null)
        value._autograd = { edge: { node: this.accumulator, index: 0 }, slot: this.accumulator.slot };
      return value;
    }
    if (!this.requires) return value;
    checkCanRequireGrad('Parameter', value.dtype);
    const state = value._autograd;
    if (state?.edge.node === this.accumulator) return value;
    // A tensor already on the tape (computed, or another leaf) stays as it is; the parameter views its data.
    const leaf = state === null ? value : detachedView(value);
    makeLeaf(leaf, this.accumulator);
    return leaf;
  }
}
