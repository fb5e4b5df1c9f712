import type { Aval } from '../core/aval.js';
import { isFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { treeFlatten, treeUnflatten } from '../core/pytree.js';
import type { LinalgCall } from '../ir/composite.js';
import { batchToFront } from '../primitives/batching.js';
import { broadcast, full, moveAxis, reduceSum, reshape } from '../primitives/lax.js';
import type { ParamsOf, Primitive } from '../primitives/primitive.js';
import { RULES } from '../primitives/rules.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindCustomJvp, bindCustomVjp, bindLinalg, bindStagedCall, bindStopGradient, checkLive, Trace, Tracer, withTrace } from './core.js';
import type { CustomJvpCall, CustomVjpCall } from './custom-call.js';
import type { StagedCall } from './staged-call.js';

/** A value under vmap: the batched value and the axis its batch is on (null: not batched). */
export class BatchTracer extends Tracer {
  constructor(
    trace: BatchTrace,
    readonly value: Tensor,
    readonly batchDim: number | null,
  ) {
    super(trace, batchDim === null ? value : { shape: value.shape.filter((_, i) => i !== batchDim), dtype: value.dtype });
  }
  _lower(): Tensor {
    return this.value;
  }
}

/** Batching: every primitive runs once on the whole batch, by its batching rule. */
export class BatchTrace extends Trace {
  readonly transform = 'vmap';

  constructor(
    level: number,
    readonly axisSize: number,
  ) {
    super(level);
  }

  lift(value: Tensor): BatchTracer {
    return new BatchTracer(this, value, null);
  }

  wrap(value: Tensor, dim: number | null): Tensor {
    return dim === null ? value : new BatchTracer(this, value, dim);
  }

  processPrimitive<P extends Primitive>(primitive: P, tracers: readonly Tracer[], params: ParamsOf<P>, _out: Aval): Tensor {
    const n = tracers.length;
    const values = new Array<Tensor>(n);
    const dims = new Array<number | null>(n);
    let batched = false;
    for (let i = 0; i < n; i++) {
      const t = tracers[i] as BatchTracer;
      values[i] = t.value;
      dims[i] = t.batchDim;
      if (t.batchDim !== null) batched = true;
    }
    if (!batched) return bind(primitive, values, params);
    const [out, dim] = RULES[primitive].batch(values, dims, params, this.axisSize);
    return this.wrap(out, dim);
  }

  /** Values with their batch on axis 0 (dims 0 or null), for calling vmapped user functions. */
  private fronted(tracers: readonly Tracer[]): { values: Tensor[]; dims: (number | null)[] } {
    const batchTracers = tracers as readonly BatchTracer[];
    return {
      values: batchTracers.map((t) => (t.batchDim === null ? t.value : moveAxis(t.value, t.batchDim, 0))),
      dims: batchTracers.map((t) => (t.batchDim === null ? null : 0)),
    };
  }

  // A user rule under vmap becomes the rule of the vmapped function: the call is re-expressed one
  // level down with its function and rules vmapped (each opens a fresh vmap when it runs), so an
  // outer grad or jvp still applies the user's rule.
  processCustomJvp(call: CustomJvpCall, tracers: readonly Tracer[]): Tensor[] {
    const { values, dims } = this.fronted(tracers);
    const size = this.axisSize;
    const batched: CustomJvpCall = {
      name: call.name,
      fn: (inputs) => vmapFlat((xs) => call.fn(xs), inputs, dims, size),
      jvp: (primals, tangents) => {
        const n = primals.length;
        let outputCount = 0;
        const both = vmapFlat(
          (xs) => {
            const r = call.jvp(xs.slice(0, n), xs.slice(n));
            outputCount = r.outputs.length;
            return [...r.outputs, ...r.tangents];
          },
          [...primals, ...tangents],
          [...dims, ...dims],
          size,
        );
        return { outputs: both.slice(0, outputCount), tangents: both.slice(outputCount) };
      },
    };
    return bindCustomJvp(batched, values).map((o) => this.wrap(o, 0));
  }

  processCustomVjp(call: CustomVjpCall, tracers: readonly Tracer[]): Tensor[] {
    const { values, dims } = this.fronted(tracers);
    const size = this.axisSize;
    const exampleAvals = (tracers as readonly BatchTracer[]).map((t) => ({ shape: t.shape, dtype: t.dtype }));
    const batched: CustomVjpCall = {
      name: call.name,
      differentiateFnInForwardMode: call.differentiateFnInForwardMode,
      ...(call.ruleIsDerivative === true ? { ruleIsDerivative: true } : {}),
      fn: (inputs) => vmapFlat((xs) => call.fn(xs), inputs, dims, size),
      fwd: (inputs) => {
        // The residuals are a pytree: its tensor leaves come out of the vmap batched on axis 0.
        let outputCount = 0;
        let residualLeaves: unknown[] = [];
        let residualDef = treeFlatten(null)[1];
        const flat = vmapFlat(
          (xs) => {
            const { outputs, residuals } = call.fwd(xs);
            outputCount = outputs.length;
            [residualLeaves, residualDef] = treeFlatten(residuals);
            return [...outputs, ...residualLeaves.filter(isTensor)];
          },
          inputs,
          dims,
          size,
        );
        let next = outputCount;
        const leaves = residualLeaves.map((leaf) => (isTensor(leaf) ? flat[next++] : leaf));
        return { outputs: flat.slice(0, outputCount), residuals: { def: residualDef, leaves } };
      },
      bwd: (residuals, cotangents) => {
        const { def, leaves } = residuals as { def: ReturnType<typeof treeFlatten>[1]; leaves: unknown[] };
        const tensorLeaves = leaves.filter(isTensor);
        const k = tensorLeaves.length;
        const perExample = vmapFlat(
          (xs) => {
            let next = 0;
            const tree = treeUnflatten(
              def,
              leaves.map((leaf) => (isTensor(leaf) ? xs[next++] : leaf)),
            );
            const cts = call.bwd(tree, xs.slice(k));
            return exampleAvals.map((a, i) => cts[i] ?? full(a.shape, a.dtype, 0, xs[0]));
          },
          // Instantiated: this call does not take symbolic zeros.
          [...tensorLeaves, ...(cotangents as readonly Tensor[])],
          [...tensorLeaves.map(() => 0), ...cotangents.map(() => 0)],
          size,
        );
        // An input that was not batched gets the sum of its per-example cotangents.
        return perExample.map((ct, i) => (!isFloating(ct.dtype) ? null : dims[i] === null ? reduceSum(ct, [0]) : ct));
      },
    };
    return bindCustomVjp(batched, values).map((o) => this.wrap(o, 0));
  }

  processStopGradient(tracer: Tracer): Tensor {
    const t = tracer as BatchTracer;
    return this.wrap(bindStopGradient(t.value), t.batchDim);
  }

  // A decomposition takes a stack of matrices already: the vmapped axis joins the stack's, and the
  // call goes one level down whole (to the backend's kernel, where it is concrete there).
  override processLinalg(call: LinalgCall, inputs: readonly Tracer[]): Tensor[] {
    const tracers = inputs as readonly BatchTracer[];
    if (tracers.every((t) => t.batchDim === null))
      return bindLinalg(
        call,
        tracers.map((t) => t.value),
      );
    const size = this.axisSize;
    const stack = tracers[0]?.shape[0] as number;
    // Every stack with the batch in front (a shared one repeated), then joined to its own batch.
    const joined = tracers.map((t) => {
      const fronted = t.batchDim === null ? broadcast(t.value, [size, ...t.shape]) : moveAxis(t.value, t.batchDim, 0);
      return reshape(fronted, [size * stack, ...t.shape.slice(1)]);
    });
    return bindLinalg(call, joined).map((o) => this.wrap(reshape(o, [size, stack, ...o.shape.slice(1)]), 0));
  }

  // vmap of a compiled call is the compiled call of the vmapped program, batched on axis 0.
  processStagedCall(call: StagedCall, tracers: readonly Tracer[]): Tensor[] {
    const { values, dims } = this.fronted(tracers);
    const batched = dims.map((d) => d !== null);
    if (!batched.includes(true)) return bindStagedCall(call, values);
    return bindStagedCall(call.batch(batched, this.axisSize), values).map((o) => this.wrap(o, 0));
  }
}

/**
 * vmap on flat lists: runs `fn` on per-example views of `inputs` (batched along `inDims`; null:
 * shared by every example) and returns its outputs batched along `outAxes` (default 0; null
 * requires an unbatched output; unbatched outputs are broadcast along the batch). `outAxes` may
 * be a function, called once `fn` has run, for callers that learn the outputs' structure then.
 */
export function vmapFlat(
  fn: (inputs: Tensor[]) => readonly Tensor[],
  inputs: readonly Tensor[],
  inDims: readonly (number | null)[],
  axisSize: number,
  outAxes?: readonly (number | null)[] | (() => readonly (number | null)[]),
  transform = 'vmap',
): Tensor[] {
  return withTrace(
    (level) => new BatchTrace(level, axisSize),
    (trace) => {
      const tracers = inputs.map((x, i) => {
        const dim = inDims[i] ?? null;
        return dim === null ? x : new BatchTracer(trace, x, dim);
      });
      const outs = fn(tracers);
      const axes = typeof outAxes === 'function' ? outAxes() : outAxes;
      return outs.map((o, i) => batchedOutput(trace, o, axes === undefined ? 0 : (axes[i] ?? null), transform));
    },
  );
}

function batchedOutput(trace: BatchTrace, o: Tensor, axis: number | null, transform: string): Tensor {
  checkLive(o);
  const own = o instanceof BatchTracer && o._trace === trace;
  const value = own ? o.value : o;
  const dim = own ? o.batchDim : null;
  if (axis === null) {
    if (dim !== null) {
      throw new ValueError(
        `${transform}: an output of shape ${JSON.stringify(o.shape)} varies along the mapped axis, but its outAxes entry is null`,
      );
    }
    return value;
  }
  const rank = o.shape.length + 1;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ValueError(
      `${transform}: outAxes entry ${axis} is out of range for an output of rank ${o.shape.length} (batched rank ${rank})`,
    );
  }
  const target = axis < 0 ? axis + rank : axis;
  return dim === null ? moveAxis(batchToFront(value, null, trace.axisSize), 0, target) : moveAxis(value, dim, target);
}
