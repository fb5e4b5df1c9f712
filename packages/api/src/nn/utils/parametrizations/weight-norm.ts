import { ValueError } from '../../../core/errors.js';
import { normalizeAxis } from '../../../core/shape.js';
import { div, mul, sqrt } from '../../../ops/elementwise.js';
import { optionsSignature, withCheckedOptions } from '../../../ops/options-argument.js';
import { sum } from '../../../ops/reduce.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { type AnyModule, Module } from '../../module.js';
import { registerParametrization } from '../parametrize.js';

// Weight normalization (torch.nn.utils.parametrizations.weight_norm; Salimans & Kingma, 2016):
// w = g · v / ‖v‖, the norm taken over every axis but `axis`, so that the direction v and the
// magnitude g are trained separately. g and v are the originals 'original0' and 'original1'.

/** Options of weightNorm. */
export interface WeightNormOptions {
  /** The parameter to parametrize (default 'weight'). */
  readonly name?: string;
  /**
   * The axis that keeps one magnitude per entry (default 0: one per output unit); null for one
   * magnitude for the whole tensor. Negative axes count from the end. (torch's dim=None is null
   * here; its dim=-1 also means the whole tensor there, where here it is the last axis.)
   */
  readonly axis?: number | null;
}

/** ‖v‖₂ over every axis but `axis` (kept as size 1), or over all of them (a scalar) for null: torch's norm_except_dim. */
export function normExceptAxis(v: Tensor, axis: number | null): Tensor {
  const squares = mul(v, v);
  if (axis === null) return sqrt(sum(squares));
  const others = v.shape.map((_, i) => i).filter((i) => i !== axis);
  return sqrt(sum(squares, others, true));
}

/** The weight-norm parametrization: forward(g, v) = v · g / ‖v‖; rightInverse(w) = [‖w‖, w]. */
export class WeightNorm extends Module<[Tensor, Tensor], Tensor> {
  readonly axis: number | null;

  constructor(axis: number | null = 0) {
    super();
    this.axis = axis;
  }

  forward(g: Tensor, v: Tensor): Tensor {
    return mul(v, div(g, normExceptAxis(v, this.#axisOf(v))));
  }

  rightInverse(weight: Tensor): [Tensor, Tensor] {
    return [normExceptAxis(weight, this.#axisOf(weight)), weight];
  }

  #axisOf(v: Tensor): number | null {
    return this.axis === null ? null : normalizeAxis('weightNorm', this.axis, v.ndim);
  }

  override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/**
 * Applies weight normalization to `module`'s parameter `name` (torch's
 * parametrizations.weight_norm): `weight = g · v / ‖v‖`, with g and v trained as
 * `parametrizations.weight.original0` and `original1`, initialized so that the weight is unchanged.
 * Returns the module.
 *
 * @example
 * const layer = nn.utils.parametrizations.weightNorm(new nn.Linear(20, 40));
 * layer.parametrizations; // g: original0 [40, 1], v: original1 [40, 20]
 */
export const weightNorm = withCheckedOptions(
  'weightNorm',
  optionsSignature<WeightNormOptions>(2, { name: true, axis: true }),
  <M extends AnyModule>(module: M, options: WeightNormOptions = {}): M => {
    const axis = options.axis === undefined ? 0 : options.axis;
    if (axis !== null && !Number.isInteger(axis)) throw new ValueError(`weightNorm: axis must be an integer or null, got ${String(axis)}`);
    // As torch: the magnitude's shape differs from the weight's, so the registration is unsafe.
    return registerParametrization(module, options.name ?? 'weight', new WeightNorm(axis), { unsafe: true });
  },
);
