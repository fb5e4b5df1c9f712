import { noGrad } from '../../autograd/grad-mode.js';
import { ValueError } from '../../core/errors.js';
import { BatchNorm1d, BatchNorm2d, BatchNorm3d } from '../../nn/layers/normalization.js';
import type { AnyModule } from '../../nn/module.js';
import { isTensor, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Options of `updateBn`. */
export interface UpdateBnOptions {
  /** Move each batch to this backend before the forward pass. */
  readonly backend?: string;
}

type BatchNorm = BatchNorm1d | BatchNorm2d | BatchNorm3d;

const isBatchNorm = (module: AnyModule): module is BatchNorm & AnyModule =>
  module instanceof BatchNorm1d || module instanceof BatchNorm2d || module instanceof BatchNorm3d;

/**
 * Resets the running statistics of `model`'s BatchNorm layers and switches them to a cumulative
 * average (momentum null) in training mode; returns what puts momenta and modes back, or null
 * when there is no BatchNorm layer that tracks statistics.
 */
function resetBatchNorms(model: AnyModule): (() => void) | null {
  const layers = model
    .modules()
    .filter(isBatchNorm)
    .filter((m) => m.trackRunningStats);
  if (layers.length === 0) return null;
  const momenta = layers.map((m) => m.momentum);
  const modes = model.modules().map((m) => m.training);
  // The layers read `momentum` at each forward pass; as PyTorch's update_bn, this sets it for the
  // duration of the pass over the data (it is readonly to users, not to this).
  const writable = layers as unknown as { momentum: number | null }[];
  for (const layer of layers) layer.resetRunningStats();
  for (const layer of writable) layer.momentum = null;
  model.train();
  return () => {
    writable.forEach((layer, i) => {
      layer.momentum = momenta[i] as number | null;
    });
    for (const [i, module] of model.modules().entries()) module.training = modes[i] ?? module.training;
  };
}

function forwardBatch(model: AnyModule, batch: unknown, options: UpdateBnOptions): void {
  const input = Array.isArray(batch) ? batch[0] : batch;
  if (!isTensor(input)) {
    throw new ValueError(
      `updateBn: each batch must be a tensor or a list whose first element is the input tensor, got ${Array.isArray(batch) ? `a list starting with ${typeof input}` : typeof batch}`,
    );
  }
  tidy(() => {
    const moved: Tensor = options.backend === undefined || input.backend === options.backend ? input : input.to(options.backend);
    noGrad(() => (model.forward as (x: Tensor) => unknown)(moved));
  });
}

/**
 * Recomputes the BatchNorm running statistics of `model` with one pass over `loader`
 * (torch.optim.swa_utils.update_bn): the statistics are reset and accumulated as an equally
 * weighted average over the batches. Each batch is a tensor, or a list whose first element is the
 * input. Modes and momenta are restored afterwards. For loaders that only iterate asynchronously,
 * use `updateBnAsync`.
 *
 * @example
 * optim.swaUtils.updateBn(trainLoader, swaModel);
 */
export function updateBn(loader: Iterable<unknown>, model: AnyModule, options: UpdateBnOptions = {}): void {
  if (loader === null || typeof (loader as Iterable<unknown>)[Symbol.iterator] !== 'function')
    throw new ValueError('updateBn: loader must be iterable (for an async-only loader use updateBnAsync)');
  const restore = resetBatchNorms(model);
  if (restore === null) return;
  try {
    for (const batch of loader) forwardBatch(model, batch, options);
  } finally {
    restore();
  }
}

/** `updateBn` over a loader iterated with `for await` (a DataLoader's asynchronous iterator, or any async iterable). */
export async function updateBnAsync(
  loader: AsyncIterable<unknown> | Iterable<unknown>,
  model: AnyModule,
  options: UpdateBnOptions = {},
): Promise<void> {
  if (loader === null || typeof loader !== 'object' || !(Symbol.asyncIterator in loader || Symbol.iterator in loader))
    throw new ValueError('updateBnAsync: loader must be an async iterable or an iterable');
  const restore = resetBatchNorms(model);
  if (restore === null) return;
  try {
    for await (const batch of loader) forwardBatch(model, batch, options);
  } finally {
    restore();
  }
}
