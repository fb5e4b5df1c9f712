import type { Tensor } from '../tensor/tensor.js';
import { type GradEdge, type GradNode, LeafNode } from '../transforms/graph.js';

/** A hook on a tensor's gradient: may return a replacement gradient. */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that only observes returns nothing
export type GradHook = (grad: Tensor) => Tensor | undefined | void;

/** What the imperative tape keeps for one tensor that users can observe: hooks and a stored `.grad`. */
export class GradSlot {
  hooks: GradHook[] = [];
  /** Store the gradient in `grad` (always for leaves; after `retainGrad()` for others). */
  retain = false;
  grad: Tensor | null = null;
  /** `grad` was made by backward() (not handed in by the user), so replacing it may free it. */
  ownsGrad = false;
}

/** A leaf of the imperative tape (a tensor with requiresGrad, or a Parameter): gradients accumulate here. */
export class LeafAccumulator extends LeafNode {
  readonly slot = new GradSlot();
  constructor() {
    super('leaf');
    this.slot.retain = true;
  }
}

/**
 * A tensor's part in the imperative tape: where its cotangent goes (its producing node, or its
 * leaf accumulator) and, once a hook or retainGrad asks for one, its slot.
 */
export interface AutogradState {
  readonly edge: GradEdge;
  slot: GradSlot | null;
}

// Slots of non-leaf tensors, found by the backward sweep from their node; rare, so kept aside.
const slotTable = new WeakMap<GradNode, (GradSlot | undefined)[]>();

/** The slot of a tensor's gradient, created on first use. */
export function slotOf(state: AutogradState): GradSlot {
  if (state.slot !== null) return state.slot;
  const slot = new GradSlot();
  state.slot = slot;
  let slots = slotTable.get(state.edge.node);
  if (slots === undefined) {
    slots = new Array<GradSlot | undefined>(state.edge.node.outputs);
    slotTable.set(state.edge.node, slots);
  }
  slots[state.edge.index] = slot;
  return slot;
}

/** The slots of a node's outputs, if any has one. */
export function nodeSlots(node: GradNode): readonly (GradSlot | undefined)[] | undefined {
  if (node instanceof LeafAccumulator) return [node.slot];
  return slotTable.get(node);
}

export function isLeafState(state: AutogradState): boolean {
  return state.edge.node instanceof LeafAccumulator;
}
