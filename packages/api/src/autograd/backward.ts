import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { cast, full } from '../primitives/lax.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, keep, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { nothingObserves, Tracer } from '../transforms/core.js';
import { backwardPass, type GradNode } from '../transforms/graph.js';
import { enableGrad, noGrad } from './grad-mode.js';
import { type GradSlot, nodeSlots } from './state.js';

/** Options of `backward()`, as PyTorch's. */
export interface BackwardOptions {
  /** Keep the graph's saved values, so that backward can run through it again (default: createGraph). */
  readonly retainGraph?: boolean;
  /** Record the backward pass itself, so that the gradients can be differentiated again (default false). */
  readonly createGraph?: boolean;
}

/**
 * Accumulates the gradient of `root` into the `.grad` of every leaf it depends on (PyTorch's
 * `loss.backward()`). `gradient` is required when `root` is not a single element.
 */
export function backward(root: Tensor, gradient?: TensorLike | null, options: BackwardOptions = {}): void {
  // compile() stages a training step's tape on its own tracers: their backward() is staged too.
  if (root instanceof Tracer && root._autograd === null) {
    throw new ValueError(
      'backward: called on a value traced by a transform (grad, vmap, jit); inside transforms, differentiate with grad or vjp',
    );
  }
  const state = root._autograd;
  if (state === null) {
    throw new ValueError(
      'backward: element 0 of tensors does not require grad and does not have a gradFn; ' +
        'create the inputs with { requiresGrad: true } (or as Parameters) before computing the output, outside noGrad',
    );
  }
  const given = gradient === undefined || gradient === null ? null : toTensor('backward', gradient, root.dtype, root);
  if (given === null && root.size !== 1) {
    throw new ShapeError(
      `backward: grad can be implicitly created only for scalar outputs; this output has shape ${formatShape(root.shape)}, so pass its gradient: y.backward(gradient)`,
    );
  }
  if (given !== null && !shapesEqual(given.shape, root.shape)) {
    throw new ShapeError(
      `backward: the gradient has shape ${formatShape(given.shape)}, but the output has shape ${formatShape(root.shape)}`,
    );
  }
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  // Tensors the caller handed in: never freed when a later accumulation replaces them.
  const foreign = new Set<Tensor>();
  if (given !== null) foreign.add(given);
  const sweep = (freeCotangents: boolean): void => {
    const seed = given === null ? full(root.shape, root.dtype, 1, root) : cast(given, root.dtype);
    backwardPass([{ edge: state.edge, cotangent: seed }], {
      retainGraph,
      onReady: (node, cotangents) => visitSlots(node, cotangents, foreign),
      freeCotangents,
    });
  };
  if (createGraph) enableGrad(() => sweep(false));
  else noGrad(() => (nothingObserves() ? tidy(() => sweep(true)) : sweep(false)));
}

/** Runs a node's hooks and stores retained gradients (leaves' `.grad`) once its cotangents are complete. */
function visitSlots(node: GradNode, cotangents: (Tensor | null)[], foreign: Set<Tensor>): void {
  const slots = nodeSlots(node);
  if (slots === undefined) return;
  slots.forEach((slot, i) => {
    let g = cotangents[i];
    if (slot === undefined || g === null || g === undefined) return;
    for (const hook of slot.hooks) {
      keep(g); // a hook may keep the gradient it is shown
      const replaced = hook(g);
      if (replaced !== undefined && replaced !== null) {
        if (!isTensor(replaced) || !shapesEqual(replaced.shape, g.shape)) {
          throw new ShapeError(
            `backward: a hook returned ${isTensor(replaced) ? `shape ${formatShape(replaced.shape)}` : typeof replaced} for a gradient of shape ${formatShape(g.shape)}`,
          );
        }
        foreign.add(replaced);
        g = replaced;
      }
    }
    cotangents[i] = g;
    if (slot.retain) accumulate(slot, g, foreign);
  });
}

function accumulate(slot: GradSlot, g: Tensor, foreign: Set<Tensor>): void {
  const previous = slot.grad;
  const next = previous === null ? g : bind(Primitive.Add, [previous, g], {});
  keep(next);
  slot.grad = next;
  // The replaced gradient was made by an earlier backward() and is in no graph: free it now.
  if (previous !== null && slot.ownsGrad && previous._autograd === null) previous.dispose();
  slot.ownsGrad = !foreign.has(next);
}
