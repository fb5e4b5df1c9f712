import type { Backend } from '../backend/spi.js';
import { type JittedFunction, jit } from '../jit/jit.js';
import { cast } from '../ops/broadcast.js';
import { full } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { Tracer } from '../transforms/core.js';
import type { Buffers, UpdateRule } from './rule.js';
import type { Scalar } from './scalar.js';

// The eager step of an optimizer runs each parameter's update as one jitted pure function, so
// that a backend's compile hook fuses the dozen elementwise ops of an update into one pass that
// writes the parameter and its buffers in place (they are donated), as PyTorch's fused=True.
// Hyperparameters that may change every step (lr, the step count, scalar state before and after
// the step) enter as
// rank-0 tensors; the others are static, part of the cache key, so a new value recompiles.

/** The update of one parameter as a pure function: the new parameter and buffers. */
type FusedUpdate = JittedFunction<
  [Tensor, Tensor, Buffers, Record<string, Tensor>, Record<string, Tensor>, Tensor, Tensor, Record<string, unknown>],
  [Tensor, Record<string, Tensor>]
>;

/**
 * A scheduler that moves a static hyperparameter (momentum, betas) every step would recompile
 * every step: past this many distinct static settings the optimizer stops fusing.
 */
const MAX_STATIC_SETTINGS = 8;

/**
 * The jitted update of each rule, shared by every optimizer that uses the rule: a new optimizer
 * (Trainer.fit calls configureOptimizers on every fit) reuses the programs compiled for the same
 * shapes, dtypes and static settings instead of tracing and compiling them again (about 10 ms
 * for the bench's MLP, whose Trainer.fit of 16 steps it slowed by a fifth).
 */
const sharedUpdates = new WeakMap<object, FusedUpdate>();

/**
 * A rule's shared cache drops its least recently used program past this many (so that it stays
 * bounded): a step whose parameters need more distinct programs than this would retrace some
 * every step.
 */
const MAX_SHARED_PROGRAMS = 4096;

function sharedUpdate<H>(rule: UpdateRule<H>): FusedUpdate {
  let update = sharedUpdates.get(rule);
  if (update === undefined) {
    const apply = (
      param: Tensor,
      grad: Tensor,
      buffers: Buffers,
      scalars: Record<string, Tensor>,
      previousScalars: Record<string, Tensor>,
      step: Tensor,
      lr: Tensor,
      hyper: Record<string, unknown>,
    ): [Tensor, Record<string, Tensor>] => {
      const out = rule.apply({ param, grad, buffers, scalars, previousScalars, step, lr, hyper: hyper as H });
      return [cast(add(param, out.update), param.dtype), { ...out.buffers }];
    };
    update = jit(apply, { staticArgnums: 7, donateArgnums: [0, 2], name: `${rule.name}.step`, maxCacheSize: MAX_SHARED_PROGRAMS });
    sharedUpdates.set(rule, update);
  }
  return update;
}

/** An optimizer's fused updates: its rule's shared jitted function, keyed by shape, dtype and settings. */
export class FusedUpdates<H> {
  private readonly update: FusedUpdate;
  private readonly settings = new Set<string>();
  private enabled = true;
  private count = 0;
  /** Rank-0 tensors of this step() call, by backend, dtype and value: shared by the parameters. */
  private readonly scalarTensors = new Map<string, Tensor>();

  constructor(rule: UpdateRule<H>) {
    this.update = sharedUpdate(rule);
  }

  /**
   * Whether this update can run fused: concrete tensors on a backend with a compile hook, of a
   * dtype the scalars can share without changing the promotion, and plain-number hyperparameters
   * (inside compile()'s trace they are tracers: the step is then traced op by op, and fused with
   * the rest of the training step).
   */
  accepts(
    param: Tensor,
    grad: Tensor,
    buffers: Buffers,
    step: Scalar,
    lr: Scalar,
    scalars: readonly Readonly<Record<string, Scalar>>[],
  ): boolean {
    if (!this.enabled || typeof step !== 'number' || typeof lr !== 'number') return false;
    if (param instanceof Tracer || grad instanceof Tracer) return false;
    const backend = param._backend as Backend | null;
    if (backend === null || typeof backend.compile !== 'function' || grad._backend !== backend) return false;
    if ((param.dtype !== 'float32' && param.dtype !== 'float64') || grad.dtype !== param.dtype) return false;
    for (const t of Object.values(buffers)) if (t instanceof Tracer || t._backend !== backend || t.dtype !== param.dtype) return false;
    for (const record of scalars) for (const v of Object.values(record)) if (typeof v !== 'number') return false;
    return true;
  }

  /**
   * Runs the update; the caller has checked `accepts`. Consumes `param` and `buffers` (their
   * memory may hold the results). Returns null when this optimizer has stopped fusing.
   */
  run(
    param: Tensor,
    grad: Tensor,
    buffers: Buffers,
    step: number,
    lr: number,
    scalars: Record<string, Scalar>,
    previousScalars: Record<string, Scalar>,
    hyper: H,
    hyperNames: readonly string[],
  ): { value: Tensor; buffers: Record<string, Tensor> } | null {
    const statics: Record<string, unknown> = {};
    // Only the optimizer's own options: groups also hold params and schedulers' bookkeeping.
    for (const name of hyperNames) if (name !== 'lr') statics[name] = (hyper as Record<string, unknown>)[name];
    const key = JSON.stringify(statics);
    if (!this.settings.has(key)) {
      if (this.settings.size >= MAX_STATIC_SETTINGS) {
        this.enabled = false;
        return null;
      }
      this.settings.add(key);
    }
    const scalarInputs = (record: Record<string, Scalar>): Record<string, Tensor> =>
      Object.fromEntries(Object.entries(record).map(([name, value]) => [name, this.scalar(param, value as number)]));
    // The parameter's tensor is dropped by the step: its link to the tape's leaf must not keep the
    // program from writing the new value into its memory.
    param._autograd = null;
    const [value, next] = this.update(
      param,
      grad,
      buffers,
      scalarInputs(scalars),
      scalarInputs(previousScalars),
      this.scalar(param, step),
      this.scalar(param, lr),
      statics,
    );
    this.count++;
    return { value, buffers: next };
  }

  /** How many updates this optimizer ran fused. */
  get runs(): number {
    return this.count;
  }

  /** Frees the rank-0 tensors made during one step() call. */
  endStep(): void {
    for (const t of this.scalarTensors.values()) t.dispose();
    this.scalarTensors.clear();
  }

  /** Frees what this optimizer holds (the compiled updates are its rule's, shared). */
  dispose(): void {
    this.endStep();
  }

  private scalar(like: Tensor, value: number): Tensor {
    const backend = like._backend as Backend;
    const key = `${backend.name}|${like.dtype}|${value}`;
    let t = this.scalarTensors.get(key);
    if (t === undefined) {
      t = full([], value, { dtype: like.dtype, backend: backend.name });
      this.scalarTensors.set(key, t);
    }
    return t;
  }
}
