import { noGrad } from '../../autograd/grad-mode.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape, shapesEqual } from '../../core/shape.js';
import { copyStateInto } from '../../nn/copy-state.js';
import { type AnyModule, type ForwardArguments, type ForwardOutput, Module } from '../../nn/module.js';
import { cast } from '../../ops/broadcast.js';
import { full } from '../../ops/creation.js';
import { add, div, equal, mul, sub, where } from '../../ops/elementwise.js';
import { keep, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkFiniteNumber } from '../checks.js';

/**
 * How an averaged tensor takes in a model's current one: the new average from the average so far,
 * the model's tensor, and how many models were averaged before (an int32 rank-0 tensor, as
 * PyTorch passes its count tensor).
 */
export type AveragingFunction = (averaged: Tensor, current: Tensor, numAveraged: Tensor) => Tensor;

/** Options of `AveragedModel`. */
export interface AveragedModelOptions<M extends AnyModule> {
  /**
   * Makes the module that holds the average: a new module of `model`'s architecture (its state is
   * then copied from `model`). JavaScript cannot deep-copy a class instance, so this replaces
   * torch's `deepcopy`; modules with a `clone()` method (the transformer layers) need none.
   */
  readonly copy?: (model: M) => M;
  /** The averaging function (default: the equally weighted running mean). */
  readonly avgFn?: AveragingFunction;
  /**
   * An exponential moving average instead: average = decay * average + (1 - decay) * current
   * (PyTorch 2's get_ema_avg_fn). Exclusive with `avgFn`.
   */
  readonly decay?: number;
  /** Average the buffers (BatchNorm's statistics) too; otherwise they stay as copied (default false). */
  readonly useBuffers?: boolean;
  /** The backend to keep the average on (default: the model's). */
  readonly backend?: string;
}

/** The equally weighted running mean: averaged + (current - averaged) / (numAveraged + 1). */
export const runningMean: AveragingFunction = (averaged, current, numAveraged) =>
  add(averaged, div(sub(current, averaged), add(numAveraged, 1)));

/** PyTorch 2's get_ema_avg_fn(decay): decay * averaged + (1 - decay) * current. */
export function emaAverage(decay: number): AveragingFunction {
  checkFiniteNumber('emaAverage', 'decay', decay);
  return (averaged, current) => add(mul(averaged, decay), mul(current, 1 - decay));
}

/** A module's parameters (and buffers) as cells to read and write, in PyTorch's order. */
interface Slot {
  readonly name: string;
  read(): Tensor;
  write(value: Tensor): void;
}

function slotsOf(module: AnyModule, withBuffers: boolean): Slot[] {
  const slots: Slot[] = module.namedParameters().map(([name, p]) => ({
    name,
    read: () => p.value,
    write: (value) => {
      const previous = p.value;
      p.value = keep(value);
      previous.dispose();
    },
  }));
  if (withBuffers) {
    for (const [name] of module.namedBuffers()) {
      const dot = name.lastIndexOf('.');
      const owner = dot < 0 ? module : module.getSubmodule(name.slice(0, dot));
      const local = name.slice(dot + 1);
      slots.push({ name, read: () => owner.getBuffer(local), write: (value) => owner.setBuffer(local, value) });
    }
  }
  return slots;
}

/**
 * A running average of a model's parameters, for stochastic weight averaging (SWA, Izmailov et
 * al.) or an exponential moving average (torch.optim.swa_utils.AveragedModel). It holds its own
 * copy of the model as `module` (state dict keys `module.*` and `nAveraged`, PyTorch's names
 * camelCased) and forwards to it. `updateParameters(model)` folds the model's current parameters
 * in: the first call copies them, later ones apply the averaging function. With BatchNorm, either
 * average the buffers too (`useBuffers`) or recompute the statistics with `updateBn`.
 *
 * @example
 * const swaModel = new optim.swaUtils.AveragedModel(model, { copy: () => new Net() });
 * const ema = new optim.swaUtils.AveragedModel(model, { copy: () => new Net(), decay: 0.999, useBuffers: true });
 * // after each epoch (SWA) or step (EMA):
 * swaModel.updateParameters(model);
 */
export class AveragedModel<M extends AnyModule> extends Module<ForwardArguments<M>, ForwardOutput<M>> {
  /** The module holding the average. */
  readonly module: M;
  readonly useBuffers: boolean;
  readonly #avgFn: AveragingFunction;

  constructor(model: M, options: AveragedModelOptions<M> = {}) {
    super();
    if (!(model instanceof Module)) throw new ValueError(`AveragedModel: expected a Module, got ${typeof model}`);
    const { copy, avgFn, decay, useBuffers = false, backend } = options;
    if (avgFn !== undefined && decay !== undefined) throw new ValueError('AveragedModel: pass avgFn or decay, not both');
    if (avgFn !== undefined && typeof avgFn !== 'function')
      throw new ValueError(`AveragedModel: avgFn must be a function, got ${typeof avgFn}`);
    if (typeof useBuffers !== 'boolean') throw new ValueError(`AveragedModel: useBuffers must be a boolean, got ${typeof useBuffers}`);
    this.#avgFn = avgFn ?? (decay === undefined ? runningMean : emaAverage(decay));
    this.useBuffers = useBuffers;
    this.module = this.registerModule('module', copyOf(model, copy));
    if (backend !== undefined) this.module.to(backend);
    const where = this.module.parameters()[0]?.value.backend ?? backend;
    this.registerBuffer('nAveraged', full([], 0, { dtype: 'int32', ...(where === undefined ? {} : { backend: where }) }));
  }

  /** How many models have been averaged (an int32 rank-0 buffer). */
  get nAveraged(): Tensor {
    return this.getBuffer('nAveraged');
  }

  forward(...inputs: ForwardArguments<M>): ForwardOutput<M> {
    return (this.module.forward as (...args: ForwardArguments<M>) => ForwardOutput<M>)(...inputs);
  }

  /**
   * Folds `model`'s current parameters (and buffers, with `useBuffers`) into the average: copies
   * them on the first call, applies the averaging function after. Reads nothing back.
   */
  updateParameters(model: M): void {
    const own = slotsOf(this.module, this.useBuffers);
    const theirs = slotsOf(model, this.useBuffers);
    if (own.length !== theirs.length) {
      throw new ValueError(
        `AveragedModel.updateParameters: the model has ${theirs.length} ${this.useBuffers ? 'parameters and buffers' : 'parameters'}, the average ${own.length}`,
      );
    }
    const count = this.nAveraged;
    noGrad(() => {
      own.forEach((slot, i) => {
        const averaged = slot.read();
        const source = (theirs[i] as Slot).read();
        if (!shapesEqual(averaged.shape, source.shape)) {
          throw new ShapeError(
            `AveragedModel.updateParameters: ${(theirs[i] as Slot).name} has shape ${formatShape(source.shape)}, the average's ${slot.name} has ${formatShape(averaged.shape)}`,
          );
        }
        const next = tidy(() => {
          const current = source.backend === averaged.backend ? source : source.to(averaged.backend);
          // The first update copies: the averaging function's value at a count of 0 is dropped.
          return cast(where(equal(count, 0), current, this.#avgFn(averaged, current, count)), averaged.dtype);
        });
        slot.write(next);
      });
      this.setBuffer(
        'nAveraged',
        tidy(() => add(count, 1)),
      );
    });
  }
}

function copyOf<M extends AnyModule>(model: M, copy: ((model: M) => M) | undefined): M {
  if (copy !== undefined) {
    if (typeof copy !== 'function') throw new ValueError(`AveragedModel: copy must be a function, got ${typeof copy}`);
    const made = copy(model);
    if (!(made instanceof Module) || made === model)
      throw new ValueError('AveragedModel: copy must return a new Module of the same architecture as the model');
    return copyStateInto(made, model);
  }
  const cloneable = model as unknown as { clone?: () => M };
  if (typeof cloneable.clone === 'function') return copyStateInto(cloneable.clone(), model);
  throw new ValueError(
    `AveragedModel: cannot copy a ${model.constructor.name} (JavaScript has no deepcopy); pass copy: () => new ${model.constructor.name}(...), a module of the same architecture`,
  );
}
