import { isFloating } from '../core/dtype.js';
import { zerosLike } from '../primitives/lax.js';
import type { ParamsOf, Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  atBaseLevel,
  bindCustomJvp,
  bindCustomVjp,
  bindStagedCall,
  bindStopGradient,
  checkLive,
  Trace,
  Tracer,
  withTrace,
} from './core.js';
import type { CustomJvpCall, CustomVjpCall } from './custom-call.js';
import {
  backwardPass,
  CallNode,
  type GradEdge,
  type GradNode,
  LeafNode,
  recordPrimitive,
  retainResiduals,
  runCustomVjpRule,
} from './graph.js';
import type { StagedCall } from './staged-call.js';

/** A value under reverse-mode differentiation: its primal and where its cotangent goes (null: a constant). */
export class VjpTracer extends Tracer {
  constructor(
    trace: VjpTrace,
    readonly primal: Tensor,
    readonly edge: GradEdge | null,
  ) {
    super(trace, primal);
  }
  _lower(): Tensor {
    return this.primal;
  }
}

/**
 * Reverse mode as a per-level tape: each primitive computes its primal one level down and records
 * a node with its VJP rule. The pullback sweeps the nodes in reverse (graph.ts); the rules are
 * ordinary ops on the saved primals, so outer levels trace them and higher derivatives work.
 */
export class VjpTrace extends Trace {
  /** Every node this level recorded, so that the tape can be released as a whole. */
  readonly nodes: GradNode[] = [];

  constructor(
    level: number,
    readonly transform: string = 'vjp',
  ) {
    super(level);
  }

  lift(value: Tensor): VjpTracer {
    return new VjpTracer(this, value, null);
  }

  wrap(primal: Tensor, edge: GradEdge | null): Tensor {
    return edge === null ? primal : new VjpTracer(this, primal, edge);
  }

  processPrimitive<P extends Primitive>(primitive: P, tracers: readonly Tracer[], params: ParamsOf<P>): Tensor {
    const n = tracers.length;
    const primals = new Array<Tensor>(n);
    const edges = new Array<GradEdge | null>(n);
    for (let i = 0; i < n; i++) {
      const t = tracers[i] as VjpTracer;
      primals[i] = t.primal;
      edges[i] = t.edge;
    }
    const out = bind(primitive, primals, params);
    const node = recordPrimitive(primitive, primals, params, out, edges);
    if (node === null) return out;
    this.nodes.push(node);
    return new VjpTracer(this, out, { node, index: 0 });
  }

  processCustomJvp(call: CustomJvpCall, tracers: readonly Tracer[]): Tensor[] {
    const vjpTracers = tracers as readonly VjpTracer[];
    const primals = vjpTracers.map((t) => t.primal);
    const edges = vjpTracers.map((t) => (isFloating(t.primal.dtype) ? t.edge : null));
    if (edges.every((e) => e === null)) return bindCustomJvp(call, primals);
    // Reverse mode from a JVP rule: the rule is linear in the tangents, so transposing that
    // linear map (by a nested tape over the tangents) gives the VJP.
    const { outputs, transpose, release } = linearTranspose(call, primals);
    const node = new CallNode(call.name, edges, outputs.length, transpose, release);
    this.nodes.push(node);
    return outputs.map((o, i) => (isFloating(o.dtype) ? this.wrap(o, { node, index: i }) : o));
  }

  processCustomVjp(call: CustomVjpCall, tracers: readonly Tracer[]): Tensor[] {
    const vjpTracers = tracers as readonly VjpTracer[];
    const primals = vjpTracers.map((t) => t.primal);
    const edges = vjpTracers.map((t) => (isFloating(t.primal.dtype) ? t.edge : null));
    if (edges.every((e) => e === null)) return bindCustomVjp(call, primals);
    const { outputs, residuals } = call.fwd(primals);
    const node = new CallNode(
      call.name,
      edges,
      outputs.length,
      (cts) => runCustomVjpRule(call, residuals, cts, outputs),
      retainResiduals(residuals),
    );
    this.nodes.push(node);
    return outputs.map((o, i) => (isFloating(o.dtype) ? this.wrap(o, { node, index: i }) : o));
  }

  processStopGradient(tracer: Tracer): Tensor {
    return bindStopGradient((tracer as VjpTracer).primal);
  }

  processStagedCall(call: StagedCall, tracers: readonly Tracer[]): Tensor[] {
    const vjpTracers = tracers as readonly VjpTracer[];
    const primals = vjpTracers.map((t) => t.primal);
    const edges = vjpTracers.map((t) => (isFloating(t.primal.dtype) ? t.edge : null));
    if (edges.every((e) => e === null)) return bindStagedCall(call, primals);
    const { outputs, node } = recordStagedCall(call, primals, edges, (forward) => bindStagedCall(forward, primals));
    this.nodes.push(node);
    return outputs.map((o, i) => (isFloating(o.dtype) ? this.wrap(o, { node, index: i }) : o));
  }
}

/**
 * Reverse mode of a compiled call (here and on the imperative tape): runs the compiled forward
 * call, which returns the outputs and the residuals the backward pass needs, and records a node
 * whose backward pass is the compiled backward call on those residuals. On the tape the forward
 * runs unrecorded: when `recordsBackward()` says the backward pass is itself recorded
 * (`createGraph`), the node runs the joint call on the primals instead, so that second
 * derivatives flow through the forward computation too. Output cotangents that never arrive are
 * symbolic zeros: the backward call is specialized to them instead of being given zeros. On the
 * node's last use the computed residuals (the node's alone) are donated to the backward call.
 */
export function recordStagedCall(
  call: StagedCall,
  primals: readonly Tensor[],
  edges: readonly (GradEdge | null)[],
  runForward: (forward: StagedCall) => Tensor[],
  recordsBackward: () => boolean = () => false,
): { outputs: Tensor[]; node: CallNode } {
  const split = call.vjp(edges.map((e) => e !== null));
  const results = runForward(split.forward);
  const outputs = results.slice(0, split.outputCount);
  const computed = results.slice(split.outputCount);
  const inputs = [...primals];
  for (const t of inputs) t.retain();
  for (const t of computed) t.retain();
  let consumed = false;
  const residuals = [...split.residualInputs.map((i) => primals[i] as Tensor), ...computed];
  const backward = (cotangents: readonly (Tensor | null)[], lastUse: boolean): (Tensor | null)[] => {
    // Cotangents that never arrived are symbolic zeros: the backward call is specialized to them.
    const zeros = split.cotangentOutputs.map((i) => (cotangents[i] ?? null) === null);
    if (zeros.every((z) => z)) return edges.map(() => null);
    const cts = split.cotangentOutputs.filter((_, k) => !zeros[k]).map((i) => cotangents[i] as Tensor);
    const joint = recordsBackward();
    const { call: derived, zeroOutputs } = zeros.some((z) => z)
      ? split.specialize(zeros, joint)
      : { call: joint ? split.joint : split.backward, zeroOutputs: null };
    let grads: Tensor[];
    if (joint) grads = bindStagedCall(derived, [...inputs, ...cts]);
    else if (lastUse && computed.length > 0) {
      // The computed residuals are dead after this call: the backward program may free them
      // early or write its results into their memory.
      for (const t of computed) t.release();
      consumed = true;
      const consumable = [...split.residualInputs.map(() => false), ...computed.map(() => true), ...cts.map(() => false)];
      try {
        grads = bindStagedCall(derived, [...residuals, ...cts], consumable);
      } finally {
        for (const t of computed) t.dispose();
      }
    } else grads = bindStagedCall(derived, [...residuals, ...cts]);
    let next = 0;
    let wanted = 0;
    return edges.map((e) => {
      if (e === null) return null;
      return zeroOutputs?.[wanted++] === true ? null : (grads[next++] as Tensor);
    });
  };
  const release = (): void => {
    for (const t of inputs) t.release();
    if (consumed) return;
    // The computed residuals belong to the node alone.
    for (const t of computed) {
      t.release();
      t.dispose();
    }
  };
  return { outputs, node: new CallNode(call.name, edges, outputs.length, backward, release) };
}

/** The result of running a function under a reverse-mode level. */
export interface FlatVjp {
  /** The function's outputs (values one level down: constants to this level). */
  readonly outputs: Tensor[];
  /**
   * Input cotangents (null: zero) from output cotangents (null: zero). May be called many times;
   * the tape is kept until the pullback is garbage-collected. `final`: this is the last call
   * (`release()` follows), so the sweep may consume what the tape saved.
   */
  readonly pullback: (cotangents: readonly (Tensor | null)[], final?: boolean) => (Tensor | null)[];
  /** Releases the tape's saved values now (otherwise when the pullback is garbage-collected). */
  readonly release: () => void;
}

const releaseAll = (nodes: readonly GradNode[]): void => {
  for (const node of nodes) node.release();
};

/** Releases a tape's saved values once its pullback can no longer be called. */
const tapeFinalizer = new FinalizationRegistry<readonly GradNode[]>(releaseAll);

/** vjp on flat lists of tensors: the foundation of vjp, grad, jacrev and the rules of custom calls. */
export function vjpFlat(fn: (inputs: Tensor[]) => readonly Tensor[], primals: readonly Tensor[], transform = 'vjp'): FlatVjp {
  return withTrace(
    (level) => new VjpTrace(level, transform),
    (trace) => {
      const leaves = primals.map(() => new LeafNode());
      const inputs = primals.map((p, i) => new VjpTracer(trace, p, { node: leaves[i] as LeafNode, index: 0 }));
      const results = fn(inputs);
      const outputs: Tensor[] = [];
      const edges: (GradEdge | null)[] = [];
      for (const o of results) {
        checkLive(o);
        const own = o instanceof VjpTracer && o._trace === trace;
        outputs.push(own ? o.primal : o);
        edges.push(own ? o.edge : null);
      }
      const pullback = (cotangents: readonly (Tensor | null)[], final = false): (Tensor | null)[] => {
        const sweep = (freeCotangents = false): (Tensor | null)[] => {
          const seeds: { edge: GradEdge; cotangent: Tensor }[] = [];
          edges.forEach((edge, i) => {
            const ct = cotangents[i];
            if (edge && ct) seeds.push({ edge, cotangent: ct });
          });
          const totals = backwardPass(seeds, { retainGraph: !final, freeCotangents });
          return leaves.map((leaf) => totals.get(leaf)?.[0] ?? null);
        };
        if (!atBaseLevel()) return sweep();
        // At top level no transform sees the sweep's intermediate cotangents, and what a node the
        // tape records in it saves is retained: free them as they are consumed (the returned
        // cotangents join the caller's tidy scope, if any).
        return tidy(() => sweep(true));
      };
      const nodes = trace.nodes;
      tapeFinalizer.register(pullback, nodes, nodes);
      const release = (): void => {
        tapeFinalizer.unregister(nodes);
        releaseAll(nodes);
      };
      return { outputs, pullback, release };
    },
  );
}

/**
 * The primal outputs of a customJvp call and the transpose of its JVP rule, which is linear in
 * the tangents: the rule is run once on zero tangents under a nested tape over the tangents.
 */
export function linearTranspose(
  call: CustomJvpCall,
  primals: readonly Tensor[],
): { outputs: Tensor[]; transpose: (cotangents: readonly (Tensor | null)[]) => (Tensor | null)[]; release: () => void } {
  let outputCount = 0;
  const { outputs, pullback, release } = vjpFlat(
    (tangents) => {
      const r = call.jvp(primals, tangents);
      outputCount = r.outputs.length;
      return [...r.outputs, ...r.tangents];
    },
    primals.map((p) => zerosLike(p)),
    call.name,
  );
  return {
    outputs: outputs.slice(0, outputCount),
    transpose: (cts) => pullback([...new Array<null>(outputCount).fill(null), ...cts]),
    release,
  };
}
