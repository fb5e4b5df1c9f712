import { isHalf } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import { allReduceSync } from '../../distributed/collectives.js';
import { isInitialized, processGroup } from '../../distributed/process-group.js';
import type { Transport } from '../../distributed/transport.js';
import { cast } from '../../ops/broadcast.js';
import { tensor } from '../../ops/convert.js';
import { full } from '../../ops/creation.js';
import { add, div, mul, rsqrt, sub } from '../../ops/elementwise.js';
import { concat, narrow, reshape } from '../../ops/movement.js';
import { sum } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { customVjp } from '../../transforms/custom.js';
import type { AnyModule } from '../module.js';
import { ModuleDict, ModuleList, Sequential } from './containers.js';
import { BatchNormBase, type BatchNormOptions } from './normalization.js';

/** Options of SyncBatchNorm: BatchNorm's, and the processes to synchronize over. */
export interface SyncBatchNormOptions extends BatchNormOptions {
  /**
   * The processes whose batches are normalized together (torch's process_group). By default
   * the job `distributed.init()` joined (none before init: the layer is then BatchNorm). A
   * `distributed.Transport` of its own reduces through that transport's host `allReduce`.
   */
  readonly processGroup?: Transport;
}

/** Sums a tensor over the processes of a group (every process calls it with the same shape). */
type AllReduceSum = (t: Tensor) => Tensor;

function hostAllReduceSum(group: Transport): AllReduceSum {
  return (t) => {
    const data = t.dataSync();
    group.allReduce(data, 'sum');
    return tensor(data, { dtype: t.dtype, backend: t.backend, shape: [...t.shape] });
  };
}

/**
 * `reduce` made differentiable: the output on every process is the sum of every process's
 * input, so the gradient of the sum of all processes' losses with respect to one input is the
 * sum of every process's output cotangent, which is the same reduction run in the backward pass.
 */
function differentiable(reduce: AllReduceSum): AllReduceSum {
  // The transports add float32 and float64 host arrays; half floats travel as float32.
  const wide: AllReduceSum = (t) => tidy(() => (isHalf(t.dtype) ? cast(reduce(cast(t, 'float32')), t.dtype) : reduce(t)));
  return customVjp((t: Tensor) => wide(t), {
    fwd: (t: Tensor) => [wide(t), null],
    bwd: (_residuals: null, cotangent: Tensor) => [wide(cotangent)],
  });
}

/**
 * Batch normalization over the union of every process's batch: per channel, the sum and the
 * count are reduced over the group to give the mean, then the sum of squared deviations from it
 * to give the variance (two passes, as stable as one process's variance). The reductions are
 * differentiable, so backward() reduces the gradient sums in turn (torch's
 * batch_norm_backward_reduce, all-reduced).
 */
function synchronizedBatchNorm(
  x: Tensor,
  affine: { readonly weight: Tensor | null; readonly bias: Tensor | null; readonly eps: number },
  reduce: AllReduceSum,
): { output: Tensor; mean: Tensor; unbiasedVariance: Tensor } {
  const channels = x.shape[1] as number;
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const perChannel = x.shape.map((d, i) => (i === 1 ? d : 1));
  const localCount = x.size / channels;
  const totals = reduce(concat([sum(x, axes), full([1], localCount, { dtype: x.dtype, backend: x.backend })]));
  const count = narrow(totals, 0, channels, 1);
  const mean = div(narrow(totals, 0, 0, channels), count);
  const centered = sub(x, reshape(mean, perChannel));
  const squares = reduce(sum(mul(centered, centered), axes));
  const variance = div(squares, count);
  let output = mul(centered, reshape(rsqrt(add(variance, affine.eps)), perChannel));
  if (affine.weight !== null) output = mul(output, reshape(affine.weight, perChannel));
  if (affine.bias !== null) output = add(output, reshape(affine.bias, perChannel));
  return { output, mean, unbiasedVariance: div(squares, sub(count, 1)) };
}

/**
 * Batch normalization whose statistics are those of the whole distributed batch
 * (torch.nn.SyncBatchNorm): while training in a job of several processes, each channel's mean
 * and variance are reduced over the processes, and so are the gradient sums in backward(), so
 * the output and the gradients are BatchNorm's over the concatenation of every process's batch.
 * Without a group of more than one process, or in evaluation mode, it is BatchNorm. Takes any
 * input [N, C, ...] of 2 to 8 dimensions. Every process must call forward (and backward) the
 * same number of times, as any collective.
 *
 * Each collective reads synchronously (CUDA tensors reduce on the device through NCCL, with
 * `import '@flint/backend-cuda'`); it cannot run on values traced by jit or vmap.
 *
 * @example
 * distributed.init();
 * const model = nn.SyncBatchNorm.convertSyncBatchnorm(net); // every BatchNorm*d becomes a SyncBatchNorm
 */
export class SyncBatchNorm extends BatchNormBase {
  protected readonly ranks = [2, 3, 4, 5, 6, 7, 8];
  /** The group given at construction, or null for the job `distributed.init()` joined. */
  readonly processGroup: Transport | null;

  constructor(numFeatures: number, options: SyncBatchNormOptions = {}) {
    super(numFeatures, options);
    this.processGroup = options.processGroup ?? null;
  }

  override forward(x: Tensor): Tensor {
    const reduce = this.training ? this.#reduction() : null;
    if (reduce === null) return super.forward(x);
    this.checkInput(x);
    if (x._backend === null) {
      throw new ValueError(
        `${this.constructor.name}: cannot synchronize batch statistics of values traced by jit or vmap (the collectives read their data); run the layer eagerly, or in evaluation mode`,
      );
    }
    const affine = { weight: this.weight?.value ?? null, bias: this.bias?.value ?? null, eps: this.eps };
    const { output, mean, unbiasedVariance } = synchronizedBatchNorm(x, affine, reduce);
    if (this.trackRunningStats) this.updateRunningStats(mean, unbiasedVariance);
    return output;
  }

  /** The differentiable all-reduce over this layer's group, or null where there is no one to synchronize with. */
  #reduction(): AllReduceSum | null {
    if (this.processGroup !== null) return this.processGroup.worldSize > 1 ? differentiable(hostAllReduceSum(this.processGroup)) : null;
    if (!isInitialized() || processGroup().worldSize <= 1) return null;
    return differentiable((t) => allReduceSync(t, 'sum'));
  }

  /**
   * Replaces every BatchNorm1d/2d/3d in `module` (and `module` itself, if it is one) with a
   * SyncBatchNorm holding the same parameters (the same Parameter cells) and buffers, the same
   * options and training mode (torch's convert_sync_batchnorm). Returns the converted module:
   * `module` itself unless it was a BatchNorm. Children held by fields, Sequential, ModuleList
   * and ModuleDict are replaced in place.
   *
   * @example
   * const model = nn.SyncBatchNorm.convertSyncBatchnorm(new ResNet());
   */
  static convertSyncBatchnorm<M extends AnyModule>(module: M, processGroup?: Transport): M | SyncBatchNorm {
    if (module instanceof BatchNormBase && !(module instanceof SyncBatchNorm)) return fromBatchNorm(module, processGroup);
    for (const [name, child] of module.namedChildren()) {
      const converted = SyncBatchNorm.convertSyncBatchnorm(child, processGroup);
      if (converted !== child) replaceChild(module, name, child, converted);
    }
    return module;
  }

  override extraRepr(): string {
    return `${super.extraRepr()}${this.processGroup === null ? '' : `, processGroup=${this.processGroup.name}`}`;
  }
}

function fromBatchNorm(batchNorm: BatchNormBase, processGroup: Transport | undefined): SyncBatchNorm {
  const template = batchNorm.weight?.value ?? (batchNorm.trackRunningStats ? batchNorm.runningMean : null);
  const sync = new SyncBatchNorm(batchNorm.numFeatures, {
    eps: batchNorm.eps,
    momentum: batchNorm.momentum,
    affine: batchNorm.affine,
    trackRunningStats: batchNorm.trackRunningStats,
    ...(template === null ? {} : { dtype: template.dtype, backend: template.backend }),
    ...(processGroup === undefined ? {} : { processGroup }),
  });
  // The same Parameter cells: an optimizer built over the old model still steps these.
  const fields = sync as unknown as Record<string, unknown>;
  for (const name of ['weight', 'bias'] as const) {
    const own = sync[name];
    fields[name] = batchNorm[name];
    own?.dispose();
  }
  for (const [name, value] of batchNorm.namedBuffers({ recurse: false })) sync.setBuffer(name, value);
  sync.training = batchNorm.training;
  return sync;
}

/** Puts `converted` where `parent` holds `child` under `name`. */
function replaceChild(parent: AnyModule, name: string, child: AnyModule, converted: AnyModule): void {
  if (parent instanceof ModuleDict) {
    parent.set(name, converted);
    return;
  }
  if (parent instanceof Sequential || parent instanceof ModuleList) {
    // A Sequential may name its modules: it is set by position.
    parent.set(
      parent.namedChildren().findIndex(([n]) => n === name),
      converted as never,
    );
    return;
  }
  const fields = parent as unknown as Record<string, unknown>;
  const descriptor = Object.getOwnPropertyDescriptor(parent, name);
  if (descriptor !== undefined && 'value' in descriptor && descriptor.value === child && descriptor.writable === true) {
    fields[name] = converted;
    return;
  }
  throw new ValueError(
    `SyncBatchNorm.convertSyncBatchnorm: cannot replace ${parent.constructor.name}'s submodule '${name}': no writable field of that name holds it (registered under another name, or in a #private field); convert that module yourself`,
  );
}
