import { isDType, isFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { rejectPromise } from '../core/promise.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { add } from '../ops/elementwise.js';
import { isTensor, keep, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { FusedUpdates } from './fused.js';
import { withoutTape } from './no-tape.js';
import { cloneTensor } from './ownership.js';
import { clearGradient, isParameterLike, type ParameterLike } from './parameter.js';
import type { Buffers, UpdateRule } from './rule.js';
import { type Scalar, scalarAdd } from './scalar.js';
import { type OptimizerStateDict, type ParameterStateEntry, validateStateDict } from './state-dict.js';

/** Options of every imperative optimizer's constructor besides its hyperparameters. */
export interface StepOptions {
  /**
   * Run each parameter's update as one compiled, fused kernel that writes the parameter and its
   * state in place (PyTorch's `fused=True`), on backends with a jit compile hook. Default true;
   * false runs the update op by op.
   */
  readonly fused?: boolean;
}

/** The hyperparameters every optimizer has. */
export interface BaseHyper {
  lr: number;
}

/**
 * A parameter group: parameters that share hyperparameters. Schedulers change `lr` (and
 * momentum or betas) in place, and record their own fields (`initialLr`, ...) here, as PyTorch's
 * schedulers do in `param_groups`.
 */
export type ParamGroup<H extends BaseHyper> = H & {
  params: ParameterLike[];
  [extra: string]: unknown;
};

/** A parameter group as passed to an optimizer's constructor: options it omits come from the defaults. */
export type ParamGroupInput<H extends BaseHyper> = Partial<H> & { readonly params: Iterable<ParameterLike> };

/** What an optimizer's constructor takes: parameters, or parameter groups. */
export type ParamsInput<H extends BaseHyper> = Iterable<ParameterLike> | Iterable<ParamGroupInput<H>>;

/**
 * The state one parameter carries between steps. The step count and scalar state are numbers,
 * or rank-0 tensors once a compiled training step (jit's `compile`) has updated them: a number
 * would be frozen into the compiled program.
 */
export interface ParameterState {
  step: Scalar;
  scalars: Record<string, Scalar>;
  buffers: Buffers;
}

const toNumber = (value: Scalar): number => (typeof value === 'number' ? value : (value.item() as number));

function isGroupInput(value: unknown): value is { readonly params: Iterable<ParameterLike> } {
  return typeof value === 'object' && value !== null && 'params' in value && !isParameterLike(value);
}

/**
 * The imperative optimizer (torch.optim.Optimizer): parameter groups, per-parameter state,
 * `zeroGrad()`, `step()`, `stateDict()` / `loadStateDict()`. Each subclass supplies its update
 * rule, shared with the functional form. `step()` replaces each parameter's tensor with the
 * updated one and disposes the tensors it replaces (the old value and old state), so memory stays
 * flat however many steps run.
 */
export class Optimizer<H extends BaseHyper> {
  readonly defaults: Readonly<H>;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** @internal Per-parameter state, created at a parameter's first update. */
  readonly state = new Map<ParameterLike, ParameterState>();
  /** @internal */
  protected readonly rule: UpdateRule<H>;
  /** Whether `step()` runs each update as one fused kernel (see `StepOptions.fused`). */
  fused: boolean;
  private fusedUpdates: FusedUpdates<H> | null = null;

  constructor(params: ParamsInput<H>, options: H & StepOptions, rule: UpdateRule<H>) {
    this.rule = rule;
    const { fused, ...rest } = options;
    if (fused !== undefined && typeof fused !== 'boolean')
      throw new ValueError(`${rule.name}: option fused must be a boolean, got ${JSON.stringify(fused)}`);
    this.fused = fused ?? true;
    const defaults = rest as unknown as H;
    rule.validate(defaults);
    this.defaults = Object.freeze({ ...defaults });
    const items = [...(params as Iterable<unknown>)];
    if (items.length === 0) throw new ValueError(`${rule.name}: got an empty list of parameters`);
    if (items.every(isParameterLike)) this.addParamGroup({ params: items } as unknown as ParamGroupInput<H>);
    else if (items.every(isGroupInput)) for (const group of items) this.addParamGroup(group as ParamGroupInput<H>);
    else {
      throw new ValueError(
        `${rule.name}: params must be a list of parameters (objects with a tensor \`value\`) or a list of groups ({ params, ...options }), not a mixture or anything else`,
      );
    }
  }

  /** The name of the optimizer ('Adam'). */
  get name(): string {
    return this.rule.name;
  }

  /**
   * Adds a group of parameters with its own options (for example a lower `lr` for a pretrained
   * backbone); options it omits come from the optimizer's defaults.
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    const owner = this.rule.name;
    if (!isGroupInput(group)) throw new ValueError(`${owner}: addParamGroup expects { params, ...options }`);
    const params = [...group.params];
    params.forEach((p, i) => {
      if (!isParameterLike(p))
        throw new ValueError(
          `${owner}: params[${i}] of group ${this.paramGroups.length} is not a parameter (an object with a tensor \`value\`)`,
        );
      if (!isFloating(p.value.dtype)) {
        throw new DTypeError(
          `${owner}: params[${i}] of group ${this.paramGroups.length} is ${p.value.dtype}; only floating-point parameters can be optimized`,
        );
      }
    });
    if (new Set(params).size !== params.length)
      throw new ValueError(`${owner}: a parameter appears twice in group ${this.paramGroups.length}`);
    for (const existing of this.paramGroups) {
      if (existing.params.some((p) => params.includes(p))) {
        throw new ValueError(`${owner}: some parameters appear in more than one parameter group`);
      }
    }
    const merged = { ...this.defaults, ...group, params } as ParamGroup<H>;
    this.rule.validate(merged);
    this.paramGroups.push(merged);
  }

  /**
   * Clears every parameter's gradient (sets it to null), disposing the gradient tensors: they
   * belong to the parameters, and a new `backward()` makes new ones.
   */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) clearGradient(p);
    }
  }

  /**
   * Updates every parameter that has a gradient. `closure`, when given, is called first (with
   * the tape active: it recomputes the loss and calls `backward()`) and its result returned.
   * The closure runs as a `tidy` scope: the tensors it makes (the forward pass's activations) are
   * released when it returns, except what it returns (anywhere in a returned array or plain
   * object), the parameters' values and gradients, and what it passes to `keep()`. A tensor the
   * closure stores elsewhere for later (logits for a metric, a detached hidden state) must be
   * returned or kept, or it is disposed. JavaScript has no reference counts: without a scope a
   * synchronous training loop leaves every activation to the garbage collector, which made the
   * benchmark's CNN step about 40% slower.
   *
   * @example
   * optimizer.zeroGrad();
   * loss.backward();
   * optimizer.step();
   *
   * @example
   * const loss = optimizer.step(() => {
   *   optimizer.zeroGrad();
   *   const loss = lossFn(model.forward(x), y);
   *   loss.backward();
   *   return loss;
   * });
   */
  step<L = undefined>(closure?: () => L): L | undefined {
    const loss =
      closure === undefined
        ? undefined
        : tidy(() => {
            // Kept even when the closure throws: a gradient it assigned must not be left disposed.
            try {
              return closure();
            } finally {
              this.keepParameters();
            }
          });
    withoutTape(() => {
      try {
        for (const group of this.paramGroups) {
          for (const p of group.params) this.updateParameter(group, p);
        }
      } finally {
        this.fusedUpdates?.endStep();
      }
    });
    return loss;
  }

  /** Keeps the parameters' values and gradients (which a closure may have set) out of the enclosing `tidy` scopes. */
  private keepParameters(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        keep(p.value);
        if (p.grad) keep(p.grad);
      }
    }
  }

  private updateParameter(group: ParamGroup<H>, p: ParameterLike): void {
    const grad = p.grad;
    if (grad === null || grad === undefined) return;
    const rule = this.rule;
    const param = p.value;
    if (!shapesEqual(grad.shape, param.shape)) {
      throw new ShapeError(
        `${rule.name}.step: a parameter of shape ${formatShape(param.shape)} has a gradient of shape ${formatShape(grad.shape)}`,
      );
    }
    let state = this.state.get(p);
    if (state === undefined) {
      const fresh: ParameterState = {
        step: 0,
        scalars: { ...rule.initScalars(group) },
        buffers: tidy(() => rule.initBuffers(param, group)),
      };
      this.state.set(p, fresh);
      state = fresh;
    }
    const step = scalarAdd(state.step, 1);
    const previousScalars = state.scalars;
    const scalars = rule.advanceScalars(previousScalars, step, group, group.lr) as Record<string, Scalar>;
    const oldBuffers = state.buffers;
    const result =
      this.fusedUpdate(group, param, grad, oldBuffers, step, scalars, previousScalars) ??
      this.eagerUpdate(group, param, grad, oldBuffers, step, scalars, previousScalars);
    // The rule may hand back its inputs (a buffer left as it was, or the gradient itself as a
    // first momentum buffer); the optimizer keeps its own handle to whatever it stores.
    const buffers: Record<string, Tensor> = {};
    const kept = new Set<Tensor>();
    for (const [name, t] of Object.entries(result.buffers)) {
      const owned = t === grad || t === param ? cloneTensor(t) : t;
      buffers[name] = owned;
      kept.add(owned);
    }
    // Donated to a fused update, the old value and buffers are disposed already; dispose() is idempotent.
    for (const t of Object.values(oldBuffers)) if (!kept.has(t)) t.dispose();
    if (typeof state.step !== 'number') state.step.dispose();
    // What the step stores outlives the step: a `tidy` around it must not free the new state.
    for (const t of kept) keep(t);
    for (const value of [step, ...Object.values(scalars)]) if (isTensor(value)) keep(value);
    state.step = step;
    state.scalars = scalars;
    state.buffers = buffers;
    p.value = keep(result.value);
    if (result.value !== param) param.dispose();
  }

  /** @internal How many updates ran fused (served or traced by the compiled updates). */
  get fusedUpdateCount(): number {
    return this.fusedUpdates?.runs ?? 0;
  }

  private eagerUpdate(
    group: ParamGroup<H>,
    param: Tensor,
    grad: Tensor,
    buffers: Buffers,
    step: Scalar,
    scalars: Record<string, Scalar>,
    previousScalars: Record<string, Scalar>,
  ): { value: Tensor; buffers: Buffers } {
    return tidy(() => {
      const out = this.rule.apply({ param, grad, buffers, scalars, previousScalars, step, lr: group.lr, hyper: group });
      return { value: cast(add(param, out.update), param.dtype), buffers: out.buffers };
    });
  }

  // One compiled kernel per update, when the backend compiles and the values are concrete; null
  // leaves the update to the op-by-op path.
  private fusedUpdate(
    group: ParamGroup<H>,
    param: Tensor,
    grad: Tensor,
    buffers: Buffers,
    step: Scalar,
    scalars: Record<string, Scalar>,
    previousScalars: Record<string, Scalar>,
  ): { value: Tensor; buffers: Buffers } | null {
    if (!this.fused) return null;
    const names = this.rule.bufferNames(group);
    // Buffers missing for these options (momentum turned on mid-run) take the rule's eager path once.
    if (names.length !== Object.keys(buffers).length || names.some((n) => buffers[n] === undefined)) return null;
    this.fusedUpdates ??= new FusedUpdates(this.rule);
    const fused = this.fusedUpdates;
    if (!fused.accepts(param, grad, buffers, step, group.lr, [scalars, previousScalars])) return null;
    return fused.run(param, grad, buffers, step as number, group.lr, scalars, previousScalars, group, Object.keys(this.defaults));
  }

  /**
   * Moves the optimizer's state (its buffers, and steps and scalars held as tensors) to another
   * backend, as Lightning moves optimizers with their module; the replaced tensors are disposed.
   * Move the parameters with their module (`Module.toAsync`): this moves only what the optimizer
   * holds. All or nothing: when a move fails, the state stays where it was.
   */
  async toAsync(target: string): Promise<this> {
    if (isDType(target)) throw new ValueError(`${this.constructor.name}.toAsync: takes a backend name, got the dtype ${target}`);
    const moved = new Map<Tensor, Tensor>();
    const move = async (t: Tensor) => {
      if (!moved.has(t)) moved.set(t, t.backend === target ? t : keep(await t.toAsync(target)));
    };
    try {
      for (const s of this.state.values()) {
        for (const value of [s.step, ...Object.values(s.scalars), ...Object.values(s.buffers)]) if (isTensor(value)) await move(value);
      }
    } catch (error) {
      for (const [original, copy] of moved) if (copy !== original) copy.dispose();
      throw error;
    }
    // A step taken while the copies were made (an optimizer shared with a run) stored new tensors:
    // they stay, and the copies of what it replaced are dropped.
    const used = new Set<Tensor>();
    const swap = <T extends Scalar | Tensor>(value: T): T => {
      if (!isTensor(value)) return value;
      const copy = moved.get(value);
      if (copy === undefined) return value;
      used.add(copy);
      return copy as T;
    };
    for (const s of this.state.values()) {
      s.step = swap(s.step);
      s.scalars = Object.fromEntries(Object.entries(s.scalars).map(([name, value]) => [name, swap(value)]));
      s.buffers = Object.fromEntries(Object.entries(s.buffers).map(([name, t]) => [name, swap(t)]));
    }
    for (const [original, copy] of moved) if (copy !== original) (used.has(copy) ? original : copy).dispose();
    return this;
  }

  /**
   * The optimizer's state: per-parameter steps and buffers (keyed by the parameter's index across
   * groups, in order), and each group's options. The tensors are copies that belong to the caller.
   */
  stateDict(): OptimizerStateDict {
    const state: Record<string, ParameterStateEntry> = {};
    const paramGroups: OptimizerStateDict['paramGroups'][number][] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const indices: number[] = [];
      for (const p of group.params) {
        const s = this.state.get(p);
        if (s !== undefined) {
          const entry: Record<string, Tensor | number> = { step: toNumber(s.step) };
          for (const [name, value] of Object.entries(s.scalars)) entry[name] = toNumber(value);
          for (const [name, t] of Object.entries(s.buffers)) entry[name] = cloneTensor(t);
          state[String(index)] = entry as ParameterStateEntry;
        }
        indices.push(index++);
      }
      const { params: _params, ...options } = group;
      paramGroups.push({ ...plainOptions(options), params: indices });
    }
    return { state, paramGroups };
  }

  /**
   * Restores a state saved by `stateDict()` of an optimizer of the same kind over parameters of
   * the same shapes. Every problem is reported at once, in one ValueError. The tensors are copied:
   * the caller still owns `dict`.
   */
  loadStateDict(dict: unknown): void {
    rejectPromise(`${this.rule.name}.loadStateDict`, dict, 'an optimizer state dict');
    // Buffer names depend on options (amsgrad, momentum, centered): take the saved ones.
    const savedGroups: unknown[] =
      typeof dict === 'object' && dict !== null && Array.isArray((dict as { paramGroups?: unknown }).paramGroups)
        ? (dict as { paramGroups: unknown[] }).paramGroups
        : [];
    const groups = this.paramGroups.map((g, i) => {
      const saved = savedGroups[i];
      const options = { ...g, ...(typeof saved === 'object' && saved !== null ? saved : {}) } as ParamGroup<H>;
      return {
        params: g.params.map((p) => p.value),
        bufferNames: this.rule.bufferNames(options),
        scalarNames: Object.keys(this.rule.initScalars(options)),
      };
    });
    const valid = validateStateDict(this.rule.name, dict, groups);
    for (const s of this.state.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.state.clear();
    let index = 0;
    valid.paramGroups.forEach((saved, g) => {
      const group = this.paramGroups[g] as ParamGroup<H>;
      const { params: _params, ...options } = saved;
      Object.assign(group, options);
      for (const p of group.params) {
        const entry = valid.state[String(index++)];
        if (entry === undefined) continue;
        const scalars: Record<string, number> = {};
        const buffers: Record<string, Tensor> = {};
        for (const [name, value] of Object.entries(entry)) {
          if (name === 'step') continue;
          if (typeof value === 'number') scalars[name] = value;
          else buffers[name] = value.dtype === p.value.dtype ? cloneTensor(value) : cast(value, p.value.dtype);
        }
        this.state.set(p, { step: entry.step, scalars, buffers });
      }
    });
  }

  /** Releases the optimizer's state tensors (not the parameters) and its compiled updates. */
  dispose(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.state.clear();
    this.fusedUpdates?.dispose();
    this.fusedUpdates = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

// Group options are numbers, booleans and number pairs; copying arrays keeps a saved dict
// independent of later scheduler updates.
function plainOptions(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) out[key] = Array.isArray(value) ? [...value] : value;
  return out;
}
