import { noGrad } from '../autograd/grad-mode.js';
import { isHalf } from '../core/dtype.js';
import { ConcretizationError, ValueError } from '../core/errors.js';
import { rejectPromise } from '../core/promise.js';
import { sum } from '../ops/reduce.js';
import type { ParameterLike } from '../optim/parameter.js';
import { keep, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/** Options of `GradScaler` (torch.amp.GradScaler's, camelCased). */
export interface GradScalerOptions {
  /** The first scale (default 2**16). */
  readonly initScale?: number;
  /** The scale is multiplied by this after `growthInterval` steps without overflow (default 2). */
  readonly growthFactor?: number;
  /** The scale is multiplied by this after a step whose gradients overflowed (default 0.5). */
  readonly backoffFactor?: number;
  /** Steps without overflow before the scale grows (default 2000). */
  readonly growthInterval?: number;
  /** False makes every method a pass-through (default true). */
  readonly enabled?: boolean;
}

/** What `GradScaler` needs of an optimizer: its parameters' gradients, and `step`. */
export interface ScalableOptimizer {
  readonly paramGroups: readonly { readonly params: readonly ParameterLike[] }[];
  step(): unknown;
}

/** The scaler's state for checkpoints (torch's `state_dict` keys, camelCased). */
export interface GradScalerState {
  readonly scale: number;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  readonly growthTracker: number;
}

/** Where an optimizer stands in the current iteration: gradients unscaled (with the overflow check's outcome), or stepped. */
interface OptimizerRecord {
  stage: 'unscaled' | 'stepped';
  foundInf: boolean;
  /** How many gradients the overflow check read: 0 when no parameter had one. */
  checked: number;
}

function positive(name: string, value: number, check: (v: number) => boolean, expected: string): number {
  if (typeof value !== 'number' || !check(value)) throw new ValueError(`GradScaler: ${name} must be ${expected}, got ${String(value)}`);
  return value;
}

/**
 * Dynamic loss scaling for float16 mixed precision (torch.amp.GradScaler). `scale(loss)`
 * multiplies the loss by the scale so that small gradients do not flush to zero in float16;
 * `step(optimizer)` divides the gradients by it (unless `unscale` already did) and steps only
 * when they are all finite; `update()` halves the scale after an overflow and doubles it after
 * `growthInterval` clean steps. A skipped step leaves parameters and optimizer state untouched.
 *
 * Unlike torch's, `step` says whether the optimizer stepped (true) or skipped (false).
 *
 * @example
 * const scaler = new amp.GradScaler();
 * const loss = amp.autocast({ dtype: 'float16' }, () => lossFn(model.forward(x), y));
 * scaler.scale(loss).backward();
 * scaler.unscale(optimizer); // optional: to clip the true gradients
 * scaler.step(optimizer);
 * scaler.update();
 * optimizer.zeroGrad();
 */
export class GradScaler {
  readonly enabled: boolean;
  private scaleValue: number;
  private growthFactor: number;
  private backoffFactor: number;
  private growthInterval: number;
  private growthTracker = 0;
  private records = new Map<ScalableOptimizer, OptimizerRecord>();

  constructor(options: GradScalerOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.scaleValue = positive('initScale', options.initScale ?? 2 ** 16, (v) => Number.isFinite(v) && v > 0, 'a positive finite number');
    this.growthFactor = positive('growthFactor', options.growthFactor ?? 2, (v) => Number.isFinite(v) && v > 1, 'a number above 1');
    this.backoffFactor = positive('backoffFactor', options.backoffFactor ?? 0.5, (v) => v > 0 && v < 1, 'a number between 0 and 1');
    this.growthInterval = positive(
      'growthInterval',
      options.growthInterval ?? 2000,
      (v) => Number.isInteger(v) && v > 0,
      'a positive integer',
    );
  }

  /** The current scale (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }

  getGrowthFactor(): number {
    return this.growthFactor;
  }

  getBackoffFactor(): number {
    return this.backoffFactor;
  }

  getGrowthInterval(): number {
    return this.growthInterval;
  }

  /** `outputs` (a loss, or a list of them) multiplied by the scale, in float32 at least; unchanged when disabled. */
  scale<T extends Tensor | readonly Tensor[]>(outputs: T): T {
    if (!this.enabled) return outputs;
    const factor = this.scaleValue;
    // A half loss is scaled in float32, as PyTorch's float32 scale tensor promotes it: 2**16 is beyond float16's range.
    const scaled = (t: Tensor) => (isHalf(t.dtype) ? t.astype('float32') : t).mul(factor);
    if (Array.isArray(outputs)) return outputs.map(scaled) as unknown as T;
    return scaled(outputs as Tensor) as T;
  }

  /**
   * Divides the optimizer's gradients by the scale, in place, and records whether any is
   * infinite or NaN. Call it before clipping gradients; `step` then does not unscale again.
   * Once per optimizer between `update`s.
   */
  unscale(optimizer: ScalableOptimizer): void {
    if (!this.enabled) return;
    const record = this.records.get(optimizer);
    if (record?.stage === 'unscaled') throw new ValueError('GradScaler.unscale: already called on this optimizer since the last update()');
    if (record?.stage === 'stepped') throw new ValueError('GradScaler.unscale: called after step(); call update() first');
    const inverse = 1 / this.scaleValue;
    const params = optimizer.paramGroups.flatMap((group) => group.params).filter((p) => p.grad !== null);
    checkFloat32Gradients(optimizer, params);
    const foundInf = noGrad(() => {
      for (const p of params) {
        const old = p.grad as Tensor;
        // In a scope, so the scalar operand is freed now rather than when the collector runs.
        p.grad = keep(tidy(() => old.mul(inverse)));
        old.dispose();
      }
      return !allFinite(params.map((p) => p.grad as Tensor));
    });
    this.records.set(optimizer, { stage: 'unscaled', foundInf, checked: params.length });
  }

  /**
   * Unscales the gradients if `unscale` was not called, then steps the optimizer unless a
   * gradient is infinite or NaN. Returns whether it stepped.
   */
  step(optimizer: ScalableOptimizer): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    const before = this.records.get(optimizer);
    if (before?.stage === 'stepped') throw new ValueError('GradScaler.step: already called on this optimizer since the last update()');
    if (before === undefined) this.unscale(optimizer);
    const record = this.records.get(optimizer) as OptimizerRecord;
    if (record.checked === 0) {
      throw new ValueError(
        'GradScaler.step: no inf checks were recorded for this optimizer: none of its parameters has a gradient; call backward() on scaler.scale(loss) before step()',
      );
    }
    record.stage = 'stepped';
    if (record.foundInf) return false;
    optimizer.step();
    return true;
  }

  /** Whether the gradients checked since the last `update` held an infinite or NaN value. */
  get foundInf(): boolean {
    for (const record of this.records.values()) if (record.foundInf) return true;
    return false;
  }

  /**
   * Adjusts the scale at the end of an iteration: times `backoffFactor` if any optimizer's
   * gradients overflowed, times `growthFactor` after `growthInterval` clean iterations in a row.
   * `newScale` sets it instead.
   */
  update(newScale?: number): void {
    if (!this.enabled) return;
    if (newScale !== undefined) {
      this.scaleValue = positive('update newScale', newScale, (v) => Number.isFinite(v) && v > 0, 'a positive finite number');
    } else {
      if (this.records.size === 0)
        throw new ValueError('GradScaler.update: no gradients were checked since the last update; call step(optimizer) (or unscale) first');
      if (this.foundInf) {
        this.scaleValue *= this.backoffFactor;
        this.growthTracker = 0;
      } else if (++this.growthTracker === this.growthInterval) {
        // As PyTorch: a scale that would grow past float32's range stays where it is.
        const grown = this.scaleValue * this.growthFactor;
        if (Number.isFinite(grown) && grown <= FLOAT32_MAX) this.scaleValue = grown;
        this.growthTracker = 0;
      }
    }
    this.records = new Map();
  }

  /** The scale and growth settings, for checkpoints. */
  stateDict(): GradScalerState {
    return {
      scale: this.scaleValue,
      growthFactor: this.growthFactor,
      backoffFactor: this.backoffFactor,
      growthInterval: this.growthInterval,
      growthTracker: this.growthTracker,
    };
  }

  /** Restores a `stateDict`. */
  loadStateDict(state: GradScalerState): void {
    rejectPromise('GradScaler.loadStateDict', state, 'a GradScaler state dict');
    if (typeof state !== 'object' || state === null)
      throw new ValueError('GradScaler.loadStateDict: expected the object stateDict() returned');
    const check = new GradScaler({
      initScale: state.scale,
      growthFactor: state.growthFactor,
      backoffFactor: state.backoffFactor,
      growthInterval: state.growthInterval,
    });
    if (!(Number.isInteger(state.growthTracker) && state.growthTracker >= 0))
      throw new ValueError(`GradScaler.loadStateDict: growthTracker must be a non-negative integer, got ${String(state.growthTracker)}`);
    this.scaleValue = check.scaleValue;
    this.growthFactor = check.growthFactor;
    this.backoffFactor = check.backoffFactor;
    this.growthInterval = check.growthInterval;
    this.growthTracker = state.growthTracker;
    this.records = new Map();
  }
}

/** The largest finite float32, beyond which the scale (a float32 in PyTorch) would be infinite. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Refuses half gradients, as PyTorch does ("Attempting to unscale FP16 gradients."): their
 * scaled values overflow, and unscaling them in place loses what the scale protected. Parameters
 * stay float32 under autocast; only their activations are half.
 */
function checkFloat32Gradients(optimizer: ScalableOptimizer, params: readonly ParameterLike[]): void {
  const all = optimizer.paramGroups.flatMap((group) => group.params);
  for (const p of params) {
    const dtype = (p.grad as Tensor).dtype;
    if (!isHalf(dtype)) continue;
    const name = (p as { name?: unknown }).name;
    const which = typeof name === 'string' && name !== '' ? `'${name}'` : `${all.indexOf(p)}`;
    throw new ValueError(
      `GradScaler.unscale: attempting to unscale ${dtype} gradients (parameter ${which} has a ${dtype} gradient); keep the parameters in float32 and let autocast cast the activations`,
    );
  }
}

/**
 * Whether every element of `grads` is finite, with one read: x * 0 is 0 for finite x and NaN
 * for an infinity or a NaN, and a sum of zeros cannot overflow.
 */
function allFinite(grads: readonly Tensor[]): boolean {
  if (grads.length === 0) return true;
  const probe = tidy(() => {
    let total: Tensor | undefined;
    for (const g of grads) {
      const zeroed = sum(g.mul(0).astype('float32'));
      total = total === undefined ? zeroed : total.add(zeroed);
    }
    return total as Tensor;
  });
  try {
    return Number.isFinite(probe.item() as number);
  } catch (error) {
    if (error instanceof ConcretizationError) {
      throw new ValueError(
        "GradScaler.step: the inf/NaN check reads the gradients' values, which a function traced by jit or compile does not have yet; run the steps that use GradScaler eagerly, outside jit/compile (bfloat16 autocast needs no GradScaler)",
      );
    }
    throw error;
  } finally {
    probe.dispose();
  }
}
