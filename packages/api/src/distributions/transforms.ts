import { ValueError } from '../core/errors.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { abs, add, div, exp, log, mul, neg, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { logit } from '../ops/torch-elementwise.js';
import { atanh } from '../ops/transcendental.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { softplus } from './discrete.js';

// Bijections for TransformedDistribution (torch.distributions.transforms): each maps x to y,
// back, and gives log|dy/dx| elementwise, so that a density moves through it by the change of
// variables. All are elementwise (torch's event_dim 0).

/** An invertible elementwise map with its log-Jacobian. */
export abstract class Transform {
  /** y = f(x). */
  abstract forward(x: Tensor): Tensor;
  /** x = f⁻¹(y). */
  abstract inverse(y: Tensor): Tensor;
  /** log |f'(x)| at x (y = f(x) given too, for transforms that read it more cheaply). */
  abstract logAbsDetJacobian(x: Tensor, y: Tensor): Tensor;

  toString(): string {
    return `${this.constructor.name}()`;
  }
}

/** y = exp(x) (torch's ExpTransform). */
export class ExpTransform extends Transform {
  forward(x: Tensor): Tensor {
    return exp(x);
  }
  inverse(y: Tensor): Tensor {
    return log(y);
  }
  logAbsDetJacobian(x: Tensor): Tensor {
    return x;
  }
}

/**
 * y = loc + scale x (torch's AffineTransform); `loc` and `scale` broadcast with x, and numbers
 * take x's dtype (as Python numbers do in torch).
 */
export class AffineTransform extends Transform {
  readonly loc: TensorLike;
  readonly scale: TensorLike;
  constructor(loc: TensorLike, scale: TensorLike) {
    super();
    this.loc = loc;
    this.scale = scale;
  }
  /** A parameter as a tensor beside `x`. */
  private operand(value: TensorLike, x: Tensor): Tensor {
    return isTensor(value) ? value : toTensor('AffineTransform', value, x.dtype, x);
  }
  forward(x: Tensor): Tensor {
    return add(this.operand(this.loc, x), mul(this.operand(this.scale, x), x));
  }
  inverse(y: Tensor): Tensor {
    return div(sub(y, this.operand(this.loc, y)), this.operand(this.scale, y));
  }
  logAbsDetJacobian(x: Tensor): Tensor {
    return add(log(abs(this.operand(this.scale, x))), mul(x, 0));
  }
}

/** y = sigmoid(x) (torch's SigmoidTransform): log|dy/dx| = -softplus(-x) - softplus(x). */
export class SigmoidTransform extends Transform {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
  inverse(y: Tensor): Tensor {
    return logit(y);
  }
  logAbsDetJacobian(x: Tensor): Tensor {
    return sub(neg(softplus(neg(x))), softplus(x));
  }
}

/**
 * y = tanh(x) (torch's TanhTransform), the squashing of a tanh-Gaussian policy:
 * log|dy/dx| = 2 (log 2 - x - softplus(-2x)), stable for large |x|.
 */
export class TanhTransform extends Transform {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
  inverse(y: Tensor): Tensor {
    return atanh(y);
  }
  logAbsDetJacobian(x: Tensor): Tensor {
    return mul(sub(sub(Math.log(2), x), softplus(mul(x, -2))), 2);
  }
}

/** Transforms applied in order, as one (torch's ComposeTransform). */
export class ComposeTransform extends Transform {
  readonly parts: readonly Transform[];
  constructor(parts: readonly Transform[]) {
    super();
    for (const part of parts) {
      if (!(part instanceof Transform)) throw new ValueError(`ComposeTransform: every part must be a Transform, got ${String(part)}`);
    }
    this.parts = parts;
  }
  forward(x: Tensor): Tensor {
    return this.parts.reduce((value, part) => part.forward(value), x);
  }
  inverse(y: Tensor): Tensor {
    return this.parts.reduceRight((value, part) => part.inverse(value), y);
  }
  logAbsDetJacobian(x: Tensor): Tensor {
    let total: Tensor | undefined;
    let value = x;
    for (const part of this.parts) {
      const next = part.forward(value);
      const term = part.logAbsDetJacobian(value, next);
      total = total === undefined ? term : add(total, term);
      value = next;
    }
    return total ?? mul(x, 0);
  }
  override toString(): string {
    return `ComposeTransform(${this.parts.map(String).join(', ')})`;
  }
}
