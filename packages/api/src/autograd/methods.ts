import { ValueError } from '../core/errors.js';
import { isContainer } from '../core/pytree.js';
import type { TensorLike } from '../ops/convert.js';
import { Tensor } from '../tensor/tensor.js';
import { Tracer } from '../transforms/core.js';
import { stopGradient } from '../transforms/custom.js';
import { type BackwardOptions, backward } from './backward.js';
import { type GradHook, isLeafState, slotOf } from './state.js';
import { detachedView, makeLeaf } from './tape.js';

// The imperative autograd surface of Tensor, as in PyTorch: requiresGrad, grad, backward(),
// detach(), hooks. Installed on the prototype (declaration merging, as tensor/methods-*.ts).

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * Whether operations on this tensor are recorded for `backward()`. Set it on leaves (or
     * create them with `{ requiresGrad: true }`); results of recorded ops require grad too.
     */
    requiresGrad: boolean;
    /** Sets `requiresGrad` (default true) and returns this tensor. */
    requiresGrad_(requiresGrad?: boolean): Tensor;
    /**
     * The gradient accumulated by `backward()` (leaves, and tensors after `retainGrad()`), or
     * null. Belongs to the tensor: accumulation replaces it and frees the one it made before.
     */
    grad: Tensor | null;
    /** True for tensors not computed by recorded ops (all tensors that do not require grad, and requiresGrad leaves). */
    readonly isLeaf: boolean;
    /** The name of the op that produced this tensor on the tape, or null for leaves. */
    readonly gradFn: string | null;
    /** Whether a non-leaf keeps its `.grad` (after `retainGrad()`). */
    readonly retainsGrad: boolean;
    /**
     * Accumulates d(this)/d(leaf) into every leaf's `.grad`. Non-scalars need `gradient` (the
     * cotangent, shaped like this tensor). Frees the graph unless `retainGraph`.
     *
     * @example
     * const x = tensor([1, 2, 3], { requiresGrad: true });
     * x.mul(x).sum().backward();
     * x.grad; // [2, 4, 6]
     */
    backward(gradient?: TensorLike | BackwardOptions | null, options?: BackwardOptions): void;
    /** A tensor with the same data that is not recorded (and, under transforms, has no derivative). */
    detach(): Tensor;
    /** Keeps this non-leaf's gradient in `.grad` after `backward()`. */
    retainGrad(): void;
    /**
     * Calls `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces it.
     *
     * @example
     * const handle = h.registerHook((g) => g.clamp(-1, 1));
     * handle.remove();
     */
    registerHook(hook: GradHook): { remove(): void };
  }
}

function isOptions(value: unknown): value is BackwardOptions {
  return isContainer(value) && !Array.isArray(value);
}

Object.defineProperty(Tensor.prototype, 'requiresGrad', {
  configurable: true,
  get(this: Tensor): boolean {
    return this._autograd !== null;
  },
  set(this: Tensor, value: boolean) {
    if (value) makeLeaf(this);
    else if (this._autograd !== null) {
      if (!isLeafState(this._autograd)) {
        throw new ValueError(
          'requiresGrad: you can only change requiresGrad on leaf tensors; use x.detach() to get a tensor outside the graph',
        );
      }
      this._autograd = null;
    }
  },
});

Object.defineProperty(Tensor.prototype, 'grad', {
  configurable: true,
  get(this: Tensor): Tensor | null {
    return this._autograd?.slot?.grad ?? null;
  },
  set(this: Tensor, value: Tensor | null) {
    const state = this._autograd;
    if (state === null) {
      if (value === null) return;
      throw new ValueError('grad: can only be assigned on tensors that require grad');
    }
    const slot = slotOf(state);
    slot.grad = value;
    slot.ownsGrad = false;
  },
});

Object.defineProperty(Tensor.prototype, 'isLeaf', {
  configurable: true,
  get(this: Tensor): boolean {
    return this._autograd === null || isLeafState(this._autograd);
  },
});

Object.defineProperty(Tensor.prototype, 'gradFn', {
  configurable: true,
  get(this: Tensor): string | null {
    const state = this._autograd;
    return state === null || isLeafState(state) ? null : state.edge.node.name;
  },
});

Object.defineProperty(Tensor.prototype, 'retainsGrad', {
  configurable: true,
  get(this: Tensor): boolean {
    const state = this._autograd;
    return state !== null && !isLeafState(state) && state.slot?.retain === true;
  },
});

Tensor.prototype.requiresGrad_ = function (requiresGrad = true) {
  this.requiresGrad = requiresGrad;
  return this;
};

Tensor.prototype.backward = function (gradient, options) {
  if (isOptions(gradient)) backward(this, null, gradient);
  else backward(this, gradient, options);
};

Tensor.prototype.detach = function () {
  if (this instanceof Tracer) return stopGradient(this);
  return detachedView(this);
};

Tensor.prototype.retainGrad = function () {
  const state = this._autograd;
  if (state === null) throw new ValueError("retainGrad: can't retain the gradient of a tensor that doesn't require grad");
  slotOf(state).retain = true;
};

Tensor.prototype.registerHook = function (hook) {
  const state = this._autograd;
  if (state === null) throw new ValueError("registerHook: can't register a hook on a tensor that doesn't require grad");
  if (typeof hook !== 'function') throw new ValueError('registerHook: expected a function');
  const slot = slotOf(state);
  slot.hooks.push(hook);
  return {
    remove() {
      const i = slot.hooks.indexOf(hook);
      if (i >= 0) slot.hooks.splice(i, 1);
    },
  };
};
