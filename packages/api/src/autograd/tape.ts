import type { Backend } from '../backend/spi.js';
import { type DType, floatingFix, isFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { type ParamsOf, Primitive } from '../primitives/primitive.js';
import { bind, evalPrimitive } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { installBaseBind, installBaseCustom, Tracer } from '../transforms/core.js';
import type { CustomJvpCall, CustomVjpCall } from '../transforms/custom-call.js';
import { CallNode, type GradEdge, recordPrimitive, retainResiduals, runCustomVjpRule } from '../transforms/graph.js';
import type { StagedCall } from '../transforms/staged-call.js';
import { linearTranspose, recordStagedCall } from '../transforms/vjp-trace.js';
import { anyRecorded, isGradEnabled, noGrad } from './grad-mode.js';
import { isLeafState, LeafAccumulator } from './state.js';

// The imperative tape is the base level of the trace stack: when no transform's tracer is among
// an op's inputs, `bind` evaluates it eagerly and, if an input takes part in autograd and grad
// mode is on, records a node with the primitive's VJP rule, exactly as a vjp level does.

let active = false;

/** Switches traced dispatch on (once, for good) when the first tensor requires grad. */
export function activateTape(): void {
  if (active) return;
  active = true;
  installBaseBind(recordingBind, isGradEnabled);
}

function recordingBind<P extends Primitive>(
  primitive: P,
  inputs: readonly Tensor[],
  params: ParamsOf<P>,
  backend: Backend | undefined,
): Tensor {
  const out = evalPrimitive(primitive, inputs, params, backend);
  if (!isGradEnabled()) return out;
  let edges: (GradEdge | null)[] | null = null;
  for (let i = 0; i < inputs.length; i++) {
    const state = (inputs[i] as Tensor)._autograd;
    if (state !== null) {
      edges ??= new Array<GradEdge | null>(inputs.length).fill(null);
      edges[i] = state.edge;
    }
  }
  if (edges === null) return out;
  const node = recordPrimitive(primitive, inputs, params, out, edges);
  if (node !== null) out._autograd = { edge: { node, index: 0 }, slot: null };
  return out;
}

/** A new tensor object viewing the same data, outside the tape (a tracer's is staged by its trace, unrecorded). */
export function detachedView(x: Tensor): Tensor {
  if (x instanceof Tracer) return noGrad(() => bind(Primitive.Reshape, [x], { shape: [...x.shape] }));
  return evalPrimitive(Primitive.Reshape, [x], { shape: [...x.shape] });
}

/** Refuses a dtype that cannot require gradients, saying why a tensor may be int32 and how to fix it. */
export function checkCanRequireGrad(op: string, dtype: DType): void {
  if (!isFloating(dtype))
    throw new DTypeError(`${op}: only tensors of floating-point dtype can require gradients, got ${dtype}${floatingFix(dtype)}`);
}

/** Makes `t` a leaf that accumulates its gradient in `.grad`. */
export function makeLeaf(t: Tensor, accumulator = new LeafAccumulator()): void {
  if (t instanceof Tracer) {
    throw new ValueError(
      'requiresGrad: cannot be set on a value traced by a transform (grad, vmap, jit); differentiate functionally with grad or vjp',
    );
  }
  checkCanRequireGrad('requiresGrad', t.dtype);
  const state = t._autograd;
  if (state !== null) {
    if (isLeafState(state)) return;
    throw new ValueError(
      'requiresGrad: you can only change requiresGrad on leaf tensors; this tensor was computed from others that require grad (use x.detach() to get a leaf)',
    );
  }
  t._autograd = { edge: { node: accumulator, index: 0 }, slot: accumulator.slot };
  activateTape();
}

function inputEdges(inputs: readonly Tensor[]): (GradEdge | null)[] {
  return inputs.map((x) => (isFloating(x.dtype) ? (x._autograd?.edge ?? null) : null));
}

/** Gives the call's outputs the node's edges (through fresh views where a tensor is already taken). */
function attachOutputs(outputs: readonly Tensor[], inputs: readonly Tensor[], node: CallNode): Tensor[] {
  return outputs.map((o, i) => {
    if (!isFloating(o.dtype)) return o;
    const t = o._autograd !== null || inputs.includes(o) || outputs.indexOf(o) !== i ? detachedView(o) : o;
    t._autograd = { edge: { node, index: i }, slot: null };
    return t;
  });
}

/**
 * A customVjp call on the tape, as PyTorch's autograd.Function: the forward pass (`fwd`) runs
 * unrecorded and one node runs `bwd` on backward(). Null when the tape records none of the inputs.
 * The base level and compile()'s staged tape (jit/trace.ts) share it.
 */
export function recordCustomVjp(call: CustomVjpCall, inputs: readonly Tensor[]): Tensor[] | null {
  if (!anyRecorded(inputs)) return null;
  const { outputs, residuals } = noGrad(() => call.fwd(inputs));
  const node = new CallNode(
    call.name,
    inputEdges(inputs),
    outputs.length,
    (cts) => runCustomVjpRule(call, residuals, cts, outputs),
    retainResiduals(residuals),
  );
  return attachOutputs(outputs, inputs, node);
}

/** A customJvp call on the tape: one node running the transpose of the JVP rule. Null when the tape records none of the inputs. */
export function recordCustomJvp(call: CustomJvpCall, inputs: readonly Tensor[]): Tensor[] | null {
  if (!anyRecorded(inputs)) return null;
  const { outputs, transpose, release } = linearTranspose(call, inputs);
  const node = new CallNode(call.name, inputEdges(inputs), outputs.length, transpose, release);
  return attachOutputs(outputs, inputs, node);
}

installBaseCustom({
  customVjp: (call, inputs) => recordCustomVjp(call, inputs) ?? call.fn(inputs),
  customJvp: (call, inputs) => recordCustomJvp(call, inputs) ?? call.fn(inputs),
  stopGradient(x: Tensor): Tensor {
    return x._autograd === null ? x : detachedView(x);
  },
  // A compiled call on recorded tensors: its compiled forward runs now (unrecorded), and
  // backward() runs its compiled backward pass.
  stagedCall(call: StagedCall, inputs: readonly Tensor[], consumable?: readonly boolean[] | null): Tensor[] {
    const edges = inputEdges(inputs);
    if (!anyRecorded(inputs) || edges.every((e) => e === null)) return call.run(inputs, consumable);
    const { outputs, node } = recordStagedCall(call, inputs, edges, (forward) => noGrad(() => forward.run(inputs)), isGradEnabled);
    return attachOutputs(outputs, inputs, node);
  },
});
