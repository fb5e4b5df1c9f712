import { isFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { treeFlatten } from '../core/pytree.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { zerosLike } from '../primitives/lax.js';
import type { ParamsOf, Primitive } from '../primitives/primitive.js';
import { Primitive as P } from '../primitives/primitive.js';
import { RULES } from '../primitives/rules.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, madeByInnermostScope, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CustomVjpCall } from './custom-call.js';

// The reverse-mode graph shared by `vjp`/`grad` (one tape per transform level) and the imperative
// tape (`loss.backward()`): nodes record how to send cotangents from outputs to inputs, using the
// primitives' VJP rules. Both sweep it the same way, so they cannot disagree.

/** Where a value's cotangent goes: output `index` of `node`. */
export interface GradEdge {
  readonly node: GradNode;
  readonly index: number;
}

/** A recorded operation (or a leaf: an input being differentiated). */
export abstract class GradNode {
  /** The cotangent destinations of the inputs (null: a constant, or not differentiable). */
  abstract readonly inputs: readonly (GradEdge | null)[];
  /** Number of outputs. */
  abstract readonly outputs: number;
  /** The op's name, for messages and `gradFn`. */
  abstract readonly name: string;
  /** True once `release()` has dropped the saved values. */
  released = false;
  /**
   * Input cotangents from output cotangents (absent outputs instantiated by the caller as needed).
   * `lastUse`: the node is released right after (the graph is not retained), so the values it
   * saved may be consumed.
   */
  abstract backward(cotangents: readonly (Tensor | null)[], lastUse?: boolean): readonly (Tensor | null)[];
  /** Drops the values saved for the backward pass. */
  release(): void {
    this.released = true;
  }
}

export const RELEASED_MESSAGE =
  'Trying to backward through the graph a second time (or to use saved values after they were freed): the values saved by the forward pass ' +
  'are freed by backward(); call backward({ retainGraph: true }) the first time if you need to backward through the graph again';

/** A leaf: a value being differentiated. Its cotangent is collected by the caller. */
export class LeafNode extends GradNode {
  readonly inputs: readonly (GradEdge | null)[] = [];
  readonly outputs = 1;
  constructor(readonly name = 'input') {
    super();
  }
  backward(): readonly (Tensor | null)[] {
    return [];
  }
}

/** One primitive application: inputs, output and params saved for its VJP rule. */
export class PrimitiveNode<Q extends Primitive> extends GradNode {
  readonly outputs = 1;
  readonly name: string;
  private primals: readonly Tensor[] | null;
  private out: Tensor | null;
  /** The values the rule reads (`vjpReads`), retained until the node is released. */
  private saved: readonly Tensor[];

  constructor(
    readonly primitive: Q,
    primals: readonly Tensor[],
    readonly params: ParamsOf<Q>,
    out: Tensor,
    readonly inputs: readonly (GradEdge | null)[],
  ) {
    super();
    this.name = RULES[primitive].name;
    this.primals = primals;
    this.out = out;
    // Saved values outlive `dispose()` and `tidy` until the graph is released; the others are
    // held for their shapes and dtypes only, and freed when disposed.
    const reads = RULES[primitive].vjpReads;
    this.saved =
      reads === undefined ? [...primals, out] : [...reads.inputs.map((i) => primals[i] as Tensor), ...(reads.output ? [out] : [])];
    for (const t of this.saved) t.retain();
  }

  backward(cotangents: readonly (Tensor | null)[]): readonly (Tensor | null)[] {
    const g = cotangents[0];
    const primals = this.primals;
    const out = this.out;
    if (primals === null || out === null) throw new ValueError(RELEASED_MESSAGE);
    if (g === null || g === undefined) return this.inputs.map(() => null);
    const vjp = RULES[this.primitive].vjp;
    if (vjp === null) return this.inputs.map(() => null);
    const wants = this.inputs.map((edge) => edge !== null);
    const result = vjp(g, primals, out, this.params, wants);
    return result.map((ct, i) => {
      if (ct === null || !wants[i]) return null;
      const x = primals[i] as Tensor;
      if (!shapesEqual(ct.shape, x.shape) || ct.dtype !== x.dtype) {
        throw new Error(
          `flint internal error: the VJP rule of ${this.name} gave input ${i} a cotangent ${ct.dtype} ${formatShape(ct.shape)} for a value ${x.dtype} ${formatShape(x.shape)}`,
        );
      }
      return ct;
    });
  }

  override release(): void {
    if (this.released) return;
    super.release();
    this.primals = null;
    this.out = null;
    for (const t of this.saved) t.release();
    this.saved = [];
  }
}

/**
 * Records one primitive application when it has a derivative and some floating input carries an
 * edge; returns null when the output does not depend differentiably on any recorded value.
 */
export function recordPrimitive<Q extends Primitive>(
  primitive: Q,
  primals: readonly Tensor[],
  params: ParamsOf<Q>,
  out: Tensor,
  edges: readonly (GradEdge | null)[],
): PrimitiveNode<Q> | null {
  if (!isFloating(out.dtype) || RULES[primitive].vjp === null) return null;
  let any = false;
  const inputs = edges.map((edge, i) => {
    if (edge === null || !isFloating((primals[i] as Tensor).dtype)) return null;
    any = true;
    return edge;
  });
  return any ? new PrimitiveNode(primitive, primals, params, out, inputs) : null;
}

/** Nodes reachable from `roots`, inputs before the nodes that consume them. */
export function topologicalOrder(roots: readonly GradNode[]): GradNode[] {
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  // Iterative depth-first search, so that long chains cannot overflow the stack.
  const stack: [GradNode, number][] = [];
  for (const root of roots) {
    if (visited.has(root)) continue;
    visited.add(root);
    stack.push([root, 0]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [GradNode, number];
      const [node, next] = top;
      if (next < node.inputs.length) {
        top[1] = next + 1;
        const child = node.inputs[next]?.node;
        if (child !== undefined && !visited.has(child)) {
          visited.add(child);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  }
  return order;
}

export interface BackwardOptions {
  /** Keep saved values so the graph can be swept again. */
  readonly retainGraph: boolean;
  /** Called with a node's complete output cotangents before it runs (hooks, retained grads, leaves). */
  readonly onReady?: (node: GradNode, cotangents: (Tensor | null)[]) => void;
  /**
   * The sweep runs in a `tidy` scope of its own: free each cotangent that scope made once the
   * sweep has consumed it (the node it flows into has run, or it was added into a total), as
   * PyTorch's engine drops its gradient buffers, instead of at the scope's end. The peak of a
   * backward pass is then the saved values plus the cotangents in flight, not all of them. Never
   * freed early: the seeds, the leaves' totals (returned), tensors kept (a hook's, a gradient
   * stored in `.grad`) or made outside the scope (a rule's captured constant), and residuals a
   * recorded node retains (their disposal waits for the node).
   */
  readonly freeCotangents?: boolean;
}

/**
 * The reverse sweep: cotangents flow from the seeds through the graph in reverse topological
 * order, each node's VJP applied once all of its consumers have contributed. Returns the
 * accumulated cotangents of the leaves reached (nodes without inputs).
 */
export function backwardPass(
  seeds: readonly { readonly edge: GradEdge; readonly cotangent: Tensor }[],
  options: BackwardOptions,
): Map<GradNode, (Tensor | null)[]> {
  const totals = new Map<GradNode, (Tensor | null)[]>();
  const freeing = options.freeCotangents === true;
  // How many total slots hold each cotangent (one tensor may flow into several edges); counted
  // only when freeing.
  const holders = new Map<Tensor, number>();
  const seedTensors = freeing ? new Set(seeds.map((s) => s.cotangent)) : null;
  const hold = (t: Tensor): void => {
    if (freeing) holders.set(t, (holders.get(t) ?? 0) + 1);
  };
  /** Frees `t` when no slot holds it and nothing else may read it. */
  const drop = (t: Tensor): void => {
    if (!freeing) return;
    const count = (holders.get(t) ?? 0) - 1;
    if (count > 0) {
      holders.set(t, count);
      return;
    }
    holders.delete(t);
    if (!seedTensors?.has(t) && madeByInnermostScope(t)) t.dispose();
  };
  const accumulate = (edge: GradEdge, ct: Tensor): void => {
    let slots = totals.get(edge.node);
    if (slots === undefined) {
      slots = new Array<Tensor | null>(edge.node.outputs).fill(null);
      totals.set(edge.node, slots);
    }
    const previous = slots[edge.index] ?? null;
    const next = previous === null ? ct : bind(P.Add, [previous, ct], {});
    slots[edge.index] = next;
    hold(next);
    if (previous !== null) drop(previous);
  };
  for (const { edge, cotangent } of seeds) accumulate(edge, cotangent);
  const order = topologicalOrder(seeds.map((s) => s.edge.node));
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i] as GradNode;
    const cts = totals.get(node);
    if (cts === undefined) continue;
    // What the slots held before hooks could replace them: what this node's run consumes.
    const consumed = freeing ? cts.filter((t): t is Tensor => t !== null) : [];
    options.onReady?.(node, cts);
    if (node.inputs.length === 0) continue;
    if (node.released) throw new ValueError(RELEASED_MESSAGE);
    // Freeing, the rule runs in a scope of its own: what it made and did not return (index
    // arithmetic, a transposed copy, a recomputed forward value) is freed when it returns, not
    // when the whole sweep ends. A value a recorded node saved is retained and survives.
    const inputCts = freeing ? tidy(() => node.backward(cts, !options.retainGraph)) : node.backward(cts, !options.retainGraph);
    if (!options.retainGraph) node.release();
    totals.delete(node); // only leaves' totals are wanted after the sweep
    for (let j = 0; j < node.inputs.length; j++) {
      const edge = node.inputs[j];
      const ct = inputCts[j];
      if (edge && ct) accumulate(edge, ct);
    }
    if (!freeing) continue;
    for (const t of consumed) drop(t);
    // A result that no edge took, or that only went into a sum, is held by no slot.
    for (const ct of inputCts) if (ct && !holders.has(ct)) drop(ct);
  }
  return totals;
}

/** Zeros for the outputs that received no cotangent. */
export function instantiate(cotangents: readonly (Tensor | null)[], outputs: readonly Tensor[]): Tensor[] {
  return outputs.map((o, i) => cotangents[i] ?? zerosLike(o));
}

/** Runs a custom-VJP call's rule on the outputs' cotangents, instantiated unless the call takes symbolic zeros. */
export function runCustomVjpRule(
  call: CustomVjpCall,
  residuals: unknown,
  cotangents: readonly (Tensor | null)[],
  outputs: readonly Tensor[],
): (Tensor | null)[] {
  return call.bwd(residuals, call.symbolicZeros === true ? cotangents : instantiate(cotangents, outputs));
}

/** A recorded call of a user-defined rule (customVjp, customJvp, checkpoint). */
export class CallNode extends GradNode {
  private rule: ((cotangents: readonly (Tensor | null)[], lastUse: boolean) => readonly (Tensor | null)[]) | null;
  constructor(
    readonly name: string,
    readonly inputs: readonly (GradEdge | null)[],
    readonly outputs: number,
    rule: (cotangents: readonly (Tensor | null)[], lastUse: boolean) => readonly (Tensor | null)[],
    /** Frees what the rule holds (a nested tape) when this node is released. */
    private readonly onRelease?: () => void,
  ) {
    super();
    this.rule = rule;
  }
  backward(cotangents: readonly (Tensor | null)[], lastUse = false): readonly (Tensor | null)[] {
    if (this.rule === null) throw new ValueError(RELEASED_MESSAGE);
    const result = this.rule(cotangents, lastUse);
    return this.inputs.map((edge, i) => (edge === null ? null : (result[i] ?? null)));
  }
  override release(): void {
    if (this.released) return;
    super.release();
    this.rule = null;
    this.onRelease?.();
  }
}

/** Keeps the tensors of a custom rule's residuals alive until its node is released; returns the release. */
export function retainResiduals(residuals: unknown): () => void {
  const tensors = treeFlatten(residuals)[0].filter(isTensor);
  for (const t of tensors) t.retain();
  return () => {
    for (const t of tensors) t.release();
  };
}
