import type { DType } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { full } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cloneTensor } from './ownership.js';
import type { UpdateRule } from './rule.js';
import { flattenTree, type ParamTree, sameTreeDef, type TreeDef, unflattenTree } from './tree.js';

/**
 * A learning rate: a constant, or a schedule of the number of updates done so far (an int32
 * rank-0 tensor) written in tensor ops, so that it stays traceable under `jit`.
 */
export type LearningRate = number | ((count: Tensor) => TensorLike);

/**
 * A functional optimizer's state: a pytree of tensors, so that it passes in and out of `jit`.
 * `buffers` holds, per buffer name, a tree shaped like the parameters.
 */
export interface OptimizerState {
  /** Updates done so far (int32, rank 0). */
  readonly count: Tensor;
  readonly scalars: Readonly<Record<string, Tensor>>;
  readonly buffers: Readonly<Record<string, ParamTree>>;
}

/**
 * An optimizer as a pair of pure functions (as optax's GradientTransformation): `init` makes
 * the state for a parameter tree; `update` maps gradients, state and parameters to the updates
 * to add and the next state. Neither reads tensor values nor mutates its inputs, so both run
 * under `jit`; the returned tensors never alias the inputs, so the caller may dispose the old
 * state, gradients and parameters after each step.
 *
 * @example
 * const opt = optim.adam({ lr: 1e-3 });
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grads, state, params);
 * params = optim.applyUpdates(params, updates);
 */
export interface GradientTransformation {
  init(params: ParamTree): OptimizerState;
  update<T extends ParamTree>(grads: T, state: OptimizerState, params: T): [T, OptimizerState];
}

/** Builds the functional form of an optimizer from its update rule. */
export function functionalOptimizer<H extends { lr: number }>(
  rule: UpdateRule<H>,
  hyper: Omit<H, 'lr'> & { readonly lr: LearningRate },
): GradientTransformation {
  const checked = { ...hyper, lr: typeof hyper.lr === 'number' ? hyper.lr : 0 } as H;
  rule.validate(checked);
  const schedule = hyper.lr;
  const owner = `${rule.name.toLowerCase()}`;
  return {
    init(params) {
      const { leaves, def } = flattenTree(`${owner}.init`, params);
      const perLeaf = leaves.map((p) => tidy(() => rule.initBuffers(p, checked)));
      const buffers: Record<string, ParamTree> = {};
      for (const name of rule.bufferNames(checked))
        buffers[name] = unflattenTree(
          def,
          perLeaf.map((b) => b[name] as Tensor),
        );
      const backend = leaves[0]?._backend?.name;
      const options = backend === undefined ? {} : { backend };
      const scalars: Record<string, Tensor> = {};
      for (const [name, value] of Object.entries(rule.initScalars(checked)))
        scalars[name] = full([], value, { dtype: scalarDTypeOf(leaves), ...options });
      return { count: full([], 0, { dtype: 'int32', ...options }), scalars, buffers };
    },
    update(grads, state, params) {
      const op = `${owner}.update`;
      const g = flattenTree(op, grads, 'grads');
      const p = flattenTree(op, params, 'params');
      if (!sameTreeDef(g.def, p.def)) throw new ValueError(`${op}: grads and params are trees of different structure`);
      g.leaves.forEach((grad, i) => {
        const param = p.leaves[i] as Tensor;
        if (!shapesEqual(grad.shape, param.shape)) {
          throw new ValueError(
            `${op}: leaf ${i} of grads has shape ${formatShape(grad.shape)}, the parameter has ${formatShape(param.shape)}`,
          );
        }
      });
      const bufferLeaves = new Map<string, Tensor[]>();
      for (const name of rule.bufferNames(checked)) {
        const tree = state.buffers[name];
        if (tree === undefined) throw new ValueError(`${op}: the state has no buffer '${name}'; make it with init()`);
        const b = flattenTree(op, tree, `state.buffers.${name}`);
        if (!sameTreeDef(b.def, p.def)) throw new ValueError(`${op}: state.buffers.${name} does not have the structure of params`);
        bufferLeaves.set(name, b.leaves);
      }
      const inputs = new Set<Tensor>([...g.leaves, ...p.leaves, state.count, ...Object.values(state.scalars)]);
      for (const leaves of bufferLeaves.values()) for (const t of leaves) inputs.add(t);
      // Step-dependent scalars (bias corrections) compute in float64 when every parameter is
      // float64, so that float64 training matches PyTorch's float64 arithmetic.
      const scalarDType = scalarDTypeOf(p.leaves);
      return tidy(() => {
        const count = add(state.count, 1);
        const step = cast(count, scalarDType);
        const lr = typeof schedule === 'number' ? schedule : toTensor(op, schedule(state.count));
        const previous: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(state.scalars)) previous[name] = cast(t, scalarDType);
        const advanced = rule.advanceScalars(previous, step, checked, lr) as Record<string, Tensor>;
        // Scalar state keeps its own dtype (float32 from init) whatever the step computed in.
        const scalars: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(advanced)) scalars[name] = cast(t, (state.scalars[name] as Tensor).dtype);
        const updates: Tensor[] = [];
        const nextBuffers = new Map<string, Tensor[]>([...bufferLeaves.keys()].map((name) => [name, []]));
        g.leaves.forEach((grad, i) => {
          const buffers: Record<string, Tensor> = {};
          for (const [name, leaves] of bufferLeaves) buffers[name] = leaves[i] as Tensor;
          const out = rule.apply({
            param: p.leaves[i] as Tensor,
            grad,
            buffers,
            scalars: advanced,
            previousScalars: previous,
            step,
            lr,
            hyper: checked,
          });
          updates.push(owned(out.update, inputs));
          for (const [name, leaves] of nextBuffers) leaves.push(owned(out.buffers[name] as Tensor, inputs));
        });
        const buffers: Record<string, ParamTree> = {};
        for (const [name, leaves] of nextBuffers) buffers[name] = unflattenTree(p.def, leaves);
        const nextScalars: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(scalars)) nextScalars[name] = owned(t, inputs);
        const next: OptimizerState = { count, scalars: nextScalars, buffers };
        return [unflattenTree(p.def as TreeDef, updates), next];
      });
    },
  };
}

function scalarDTypeOf(leaves: readonly Tensor[]): DType {
  return leaves.length > 0 && leaves.every((leaf) => leaf.dtype === 'float64') ? 'float64' : 'float32';
}

function owned(t: Tensor, inputs: ReadonlySet<Tensor>): Tensor {
  return inputs.has(t) ? cloneTensor(t) : t;
}

/**
 * `params + updates`, leaf by leaf, keeping each parameter's dtype.
 *
 * @example
 * params = applyUpdates(params, updates);
 */
export function applyUpdates<T extends ParamTree>(params: T, updates: T): T {
  const p = flattenTree('applyUpdates', params, 'params');
  const u = flattenTree('applyUpdates', updates, 'updates');
  if (!sameTreeDef(p.def, u.def)) throw new ValueError('applyUpdates: params and updates are trees of different structure');
  return unflattenTree(
    p.def,
    p.leaves.map((param, i) => cast(add(param, u.leaves[i] as Tensor), param.dtype)),
  );
}
