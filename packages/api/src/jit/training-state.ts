import { Parameter } from '../autograd/parameter.js';
import { ValueError } from '../core/errors.js';
import { full } from '../primitives/lax.js';
import { isTensor, keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Tracer } from '../transforms/core.js';

// The mutable state a PyTorch-style training step touches (parameters' values and gradients,
// optimizers' per-parameter state), as a pytree that a compiled step takes as an argument and
// returns updated. While the step is traced, the cells hold the trace's values (so that the
// model, backward() and optimizer.step() all compute on them); afterwards they get their
// concrete values back, and each compiled call writes the program's results into them. This is
// functionalization: the program stays a pure function of its inputs.

/** A number or a rank-0 tensor (an optimizer's step count). */
type Scalar = number | Tensor;

/** What compile() needs of an optimizer: `optim.Optimizer` has it. */
export interface StatefulOptimizer {
  readonly paramGroups: readonly { readonly params: readonly object[]; lr: number; readonly [option: string]: unknown }[];
  /** The hyperparameters' defaults: their names are the options a group's update depends on. */
  readonly defaults: Readonly<object>;
  /** Per-parameter state: step count, scalar state, buffers (moments, momentum). */
  readonly state: Map<object, { step: Scalar; scalars: Record<string, Scalar>; buffers: Readonly<Record<string, Tensor>> }>;
}

/** One optimizer's state for one parameter, as it enters and leaves the program. */
interface SlotState {
  readonly step: Scalar;
  readonly scalars: Record<string, Scalar>;
  readonly buffers: Record<string, Tensor>;
}

/** The state of a training step. */
export interface TrainingState {
  readonly values: Tensor[];
  readonly grads: (Tensor | null)[];
  readonly optimizers: (SlotState | null)[][];
  /**
   * Inputs only: each parameter group's learning rate as a rank-0 tensor (a scheduler changes it
   * between steps without recompiling), and its other options as they are (part of the cache key:
   * changing momentum or betas recompiles).
   */
  readonly groups?: { readonly lr: Tensor; readonly options: Record<string, unknown> }[][];
}

/** The parameters and optimizers a compiled step updates. */
export class TrainingCells {
  readonly parameters: Parameter[];
  /** The last learning rate of each group as a tensor, reused while the number is unchanged. */
  private readonly learningRates = new Map<object, { value: number; tensor: Tensor }>();

  constructor(
    modules: readonly { parameters(): readonly { readonly value: Tensor }[] }[],
    readonly optimizers: readonly StatefulOptimizer[],
  ) {
    const all = new Set<Parameter>();
    const add = (p: unknown, owner: string): void => {
      if (!(p instanceof Parameter))
        throw new ValueError(
          `compile: ${owner} holds a parameter that is not a Parameter; a compiled training step updates Parameters only`,
        );
      all.add(p);
    };
    for (const m of modules) for (const p of m.parameters()) add(p, 'a module');
    for (const o of optimizers) for (const g of o.paramGroups) for (const p of g.params) add(p, 'an optimizer');
    this.parameters = [...all];
  }

  private optimizerParameters(o: StatefulOptimizer): Parameter[] {
    return o.paramGroups.flatMap((g) => g.params as Parameter[]);
  }

  /**
   * The current state. Step counts and scalar state kept as numbers become rank-0 tensors, so
   * that the program takes them as inputs instead of freezing them.
   */
  read(): TrainingState {
    const asTensor = (value: Scalar, like: Tensor): Tensor => (typeof value === 'number' ? full([], 'float32', value, like) : value);
    const groups = this.optimizers.map((o) =>
      o.paramGroups.map((g) => {
        const { params, lr } = g;
        // Only the optimizer's own options: schedulers record other fields in groups too.
        const options: Record<string, unknown> = {};
        for (const name of Object.keys(o.defaults)) if (name !== 'lr') options[name] = g[name];
        let cached = this.learningRates.get(g);
        if (cached === undefined || cached.value !== lr) {
          cached?.tensor.dispose();
          // float64 where the whole group is (lr = 0.1 in float32 would move its steps by 1e-9
          // relative, unlike the eager step's JavaScript number); float32 otherwise, so that no
          // float32 parameter's update is promoted.
          const values = params.map((p) => (p as Parameter).value);
          const dtype = values.every((v) => v.dtype === 'float64') ? 'float64' : 'float32';
          cached = { value: lr, tensor: keep(full([], dtype, lr, values[0] as Tensor)) };
          this.learningRates.set(g, cached);
        }
        return { lr: cached.tensor, options };
      }),
    );
    return {
      groups,
      values: this.parameters.map((p) => p.value),
      grads: this.parameters.map((p) => p.grad),
      optimizers: this.optimizers.map((o) =>
        this.optimizerParameters(o).map((p) => {
          const s = o.state.get(p);
          if (s === undefined) return null;
          const scalars: Record<string, Scalar> = {};
          for (const [name, v] of Object.entries(s.scalars)) scalars[name] = asTensor(v, p.value);
          return { step: asTensor(s.step, p.value), scalars, buffers: { ...s.buffers } };
        }),
      ),
    };
  }

  /** The cells as they are (numbers stay numbers: a program returns them as constants). */
  snapshot(): TrainingState {
    return {
      values: this.parameters.map((p) => p.value),
      grads: this.parameters.map((p) => p.grad),
      optimizers: this.optimizers.map((o) =>
        this.optimizerParameters(o).map((p) => {
          const s = o.state.get(p);
          return s === undefined ? null : { step: s.step, scalars: { ...s.scalars }, buffers: { ...s.buffers } };
        }),
      ),
    };
  }

  /**
   * Puts `state` into the cells (`staging`: while a step is traced, with tracers) and returns a
   * function that puts back what was there.
   */
  install(state: TrainingState, staging: boolean): () => void {
    const previous = this.parameters.map((p, i) => p._swap(state.values[i] as Tensor, state.grads[i] ?? null, staging));
    const savedOptimizers = this.optimizers.map((o) => new Map(o.state));
    const savedRates = this.optimizers.map((o) => o.paramGroups.map((g) => g.lr));
    const groups = state.groups;
    if (groups !== undefined) {
      this.optimizers.forEach((o, k) => {
        o.paramGroups.forEach((g, i) => {
          // The rules compute with `lr` as a Scalar: a traced one keeps it an input of the program.
          (g as { lr: unknown }).lr = groups[k]?.[i]?.lr;
        });
      });
    }
    this.optimizers.forEach((o, k) => {
      this.optimizerParameters(o).forEach((p, i) => {
        const s = state.optimizers[k]?.[i] ?? null;
        if (s === null) o.state.delete(p);
        else o.state.set(p, { step: s.step, scalars: { ...s.scalars }, buffers: { ...s.buffers } });
      });
    });
    return () => {
      this.parameters.forEach((p, i) => {
        const before = previous[i] as { value: Tensor; grad: Tensor | null };
        p._swap(before.value, before.grad, false);
      });
      this.optimizers.forEach((o, k) => {
        o.paramGroups.forEach((g, i) => {
          g.lr = savedRates[k]?.[i] as number;
        });
        o.state.clear();
        for (const [p, s] of savedOptimizers[k] as Map<object, never>) o.state.set(p, s);
      });
    };
  }

  /** Whether any gradient differs from `state`'s (backward() ran in the step). */
  gradientsChanged(state: TrainingState): boolean {
    return this.parameters.some((p, i) => p.grad !== (state.grads[i] ?? null));
  }

  /**
   * Hands the parameters' values over to a compiled step (donated, they may be updated in place);
   * returns the undo for a step that fails before it runs.
   */
  releaseValues(): () => void {
    for (const p of this.parameters) p._releaseValue();
    return () => {
      for (const p of this.parameters) if (p.value._handle !== undefined) p._swap(p.value, p.grad, false);
    };
  }

  /**
   * Writes the state a compiled step returned into the cells. The cells own it from then on, as
   * after an eager step: a `tidy` around the call must not free it.
   */
  write(state: TrainingState): void {
    for (const t of state.values) keep(t);
    for (const g of state.grads) if (g !== null) keep(g);
    for (const slots of state.optimizers) {
      for (const s of slots) {
        if (s === null) continue;
        for (const value of [s.step, ...Object.values(s.scalars), ...Object.values(s.buffers)]) if (isTensor(value)) keep(value);
      }
    }
    this.install(state, false);
  }
}

/** Whether a value the step returns is on the step's own tape (so the caller's tape would need it). */
export function hasStagedTape(value: unknown): boolean {
  return isTensor(value) && value instanceof Tracer && value._autograd !== null;
}
