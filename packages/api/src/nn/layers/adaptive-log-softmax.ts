import { DTypeError, IndexError, ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { type TensorLike, tensor } from '../../ops/convert.js';
import { add, greaterEqual, less, logicalAnd, neg, sub, where } from '../../ops/elementwise.js';
import { takeAlongAxis } from '../../ops/indexing.js';
import { concat, narrow, squeeze, unsqueeze } from '../../ops/movement.js';
import { argmax, mean } from '../../ops/reduce.js';
import { isTensor, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { logSoftmax } from '../functional/activations.js';
import { Module } from '../module.js';
import type { FactoryOptions } from './common.js';
import { positiveInteger } from './common.js';
import { ModuleList, Sequential } from './containers.js';
import { Linear } from './linear.js';

/** Options of AdaptiveLogSoftmaxWithLoss. */
export interface AdaptiveLogSoftmaxOptions extends FactoryOptions {
  /** How much narrower each tail cluster's projection is than the last: cluster i projects to ⌊inFeatures / divValue^(i+1)⌋ (default 4). */
  readonly divValue?: number;
  /** Give the head a bias (default false). */
  readonly headBias?: boolean;
}

/** What AdaptiveLogSoftmaxWithLoss's forward returns (torch's _ASMoutput). */
export interface AdaptiveLogSoftmaxOutput {
  /** The log-probability of each target, [N] (or [] for an unbatched input). */
  readonly output: Tensor;
  /** The mean negative log-likelihood, []. */
  readonly loss: Tensor;
}

function checkCutoffs(cutoffs: readonly number[], nClasses: number): number[] {
  const list = [...cutoffs];
  if (list.length === 0) throw new ValueError('AdaptiveLogSoftmaxWithLoss: cutoffs must be a non-empty list of class indices');
  const valid =
    list.every((c, i) => Number.isInteger(c) && c >= 1 && c <= nClasses - 1 && (i === 0 || c > (list[i - 1] as number))) &&
    new Set(list).size === list.length;
  if (!valid) {
    throw new ValueError(
      `AdaptiveLogSoftmaxWithLoss: cutoffs must be unique positive integers in increasing order, each between 1 and nClasses - 1 = ${nClasses - 1}, got ${JSON.stringify(list)}`,
    );
  }
  return list;
}

/**
 * Efficient softmax approximation for large output spaces (Grave et al., "Efficient softmax
 * approximation for GPUs"; torch.nn.AdaptiveLogSoftmaxWithLoss). Classes are split by `cutoffs`
 * into a shortlist `[0, cutoffs[0])`, predicted by the `head` together with one token per tail
 * cluster, and clusters `[cutoffs[i], cutoffs[i+1])`, each predicted by a two-layer projection
 * in `tail` of width ⌊inFeatures / divValue^(i+1)⌋. The log-probability of a tail class is the
 * head's log-probability of its cluster plus its log-probability within the cluster.
 *
 * Sort classes by frequency (class 0 the most frequent). The parameters are torch's: `head`
 * (Linear, bias with `headBias`) and `tail.i.0`, `tail.i.1` (Linears without bias), so state
 * dicts move between the two. Every tail cluster runs on every row (masked where the target is
 * not in it), so the forward has no data-dependent shapes and works under grad, vmap and jit;
 * torch runs each cluster only on its rows.
 *
 * @example
 * const asm = new nn.AdaptiveLogSoftmaxWithLoss(64, 1000, [100, 500]);
 * const { output, loss } = asm.forward(hidden, targets); // hidden [N, 64], targets int32 [N]
 * loss.backward();
 * asm.predict(hidden); // int32 [N]: the most likely class
 */
export class AdaptiveLogSoftmaxWithLoss extends Module<[Tensor, TensorLike], AdaptiveLogSoftmaxOutput> {
  readonly inFeatures: number;
  readonly nClasses: number;
  /** The cutoffs with nClasses appended, as torch keeps them. */
  readonly cutoffs: readonly number[];
  readonly divValue: number;
  readonly headBias: boolean;
  /** The number of classes the head predicts directly (cutoffs[0]). */
  readonly shortlistSize: number;
  readonly nClusters: number;
  /** shortlistSize + nClusters outputs. */
  readonly head: Linear;
  /** One Sequential(Linear(inFeatures, hidden), Linear(hidden, clusterSize)) per cluster. */
  readonly tail: ModuleList<Sequential>;

  constructor(inFeatures: number, nClasses: number, cutoffs: readonly number[], options: AdaptiveLogSoftmaxOptions = {}) {
    super();
    const name = 'AdaptiveLogSoftmaxWithLoss';
    this.inFeatures = positiveInteger(name, 'inFeatures', inFeatures);
    this.nClasses = positiveInteger(name, 'nClasses', nClasses);
    this.cutoffs = [...checkCutoffs(cutoffs, nClasses), nClasses];
    this.divValue = options.divValue ?? 4;
    if (typeof this.divValue !== 'number' || !(this.divValue > 0))
      throw new ValueError(`${name}: divValue must be a positive number, got ${String(options.divValue)}`);
    this.headBias = options.headBias ?? false;
    this.shortlistSize = this.cutoffs[0] as number;
    this.nClusters = this.cutoffs.length - 1;
    const factory = {
      ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
      ...(options.backend === undefined ? {} : { backend: options.backend }),
    };
    this.head = new Linear(inFeatures, this.shortlistSize + this.nClusters, { ...factory, bias: this.headBias });
    const clusters: Sequential[] = [];
    for (let i = 0; i < this.nClusters; i++) {
      const hidden = Math.floor(inFeatures / this.divValue ** (i + 1));
      if (hidden < 1) {
        throw new ValueError(
          `${name}: tail cluster ${i} would project to ⌊${inFeatures} / ${this.divValue}^${i + 1}⌋ = 0 features; use a smaller divValue or fewer cutoffs`,
        );
      }
      const size = (this.cutoffs[i + 1] as number) - (this.cutoffs[i] as number);
      clusters.push(
        new Sequential(new Linear(inFeatures, hidden, { ...factory, bias: false }), new Linear(hidden, size, { ...factory, bias: false })),
      );
    }
    this.tail = new ModuleList(clusters);
  }

  /**
   * The log-probability of each target class and their mean negative log-likelihood. `input`
   * [N, inFeatures] with `target` int32 [N], or [inFeatures] with a scalar target.
   */
  forward(input: Tensor, target: TensorLike): AdaptiveLogSoftmaxOutput {
    return tidy(() => {
      const labels = this.#checkTarget(input, target);
      const batched = labels.ndim === 1;
      const x = batched ? input : unsqueeze(input, 0);
      const y = batched ? labels : unsqueeze(labels, 0);
      const headLogProb = logSoftmax(this.head.forward(x), 1);
      // The head's column for each row: the class itself in the shortlist, else its cluster's token.
      let headColumn = y;
      const clusterTerms: Tensor[] = [];
      for (let i = 0; i < this.nClusters; i++) {
        const low = this.cutoffs[i] as number;
        const inCluster = logicalAnd(greaterEqual(y, low), less(y, this.cutoffs[i + 1] as number));
        headColumn = where(inCluster, this.shortlistSize + i, headColumn);
        const clusterLogProb = logSoftmax(this.#cluster(i).forward(x), 1);
        const within = where(inCluster, sub(y, low), 0);
        const picked = squeeze(takeAlongAxis(clusterLogProb, unsqueeze(within, 1), 1), 1);
        clusterTerms.push(where(inCluster, picked, 0));
      }
      let output = squeeze(takeAlongAxis(headLogProb, unsqueeze(headColumn, 1), 1), 1);
      for (const term of clusterTerms) output = add(term, output);
      const loss = mean(neg(output));
      return { output: batched ? output : squeeze(output, 0), loss };
    });
  }

  /**
   * The log-probabilities of every class, [N, nClasses] (or [nClasses] for an unbatched input),
   * as torch's log_prob.
   *
   * @example
   * asm.logProb(hidden).exp().sum(1); // ones
   */
  logProb(input: Tensor): Tensor {
    this.#checkInput('logProb', input);
    const batched = input.ndim === 2;
    return tidy(() => {
      const x = batched ? input : unsqueeze(input, 0);
      const out = this.#fullLogProb(x, logSoftmax(this.head.forward(x), 1));
      return batched ? out : squeeze(out, 0);
    });
  }

  /**
   * The most likely class of each row, int32 [N] (or []), as torch's predict: the head's
   * choice when it is a shortlist class (no tail class can then be likelier), else the argmax
   * of the full log-probabilities.
   */
  predict(input: Tensor): Tensor {
    this.#checkInput('predict', input);
    const batched = input.ndim === 2;
    return tidy(() => {
      const x = batched ? input : unsqueeze(input, 0);
      const headOutput = this.head.forward(x);
      const headChoice = argmax(headOutput, 1);
      const full = argmax(this.#fullLogProb(x, logSoftmax(headOutput, 1)), 1);
      const out = where(less(headChoice, this.shortlistSize), headChoice, full);
      return batched ? out : squeeze(out, 0);
    });
  }

  #cluster(i: number): Sequential {
    return this.tail.at(i);
  }

  #fullLogProb(x: Tensor, headLogProb: Tensor): Tensor {
    const parts = [narrow(headLogProb, 1, 0, this.shortlistSize)];
    for (let i = 0; i < this.nClusters; i++) {
      const clusterLogProb = logSoftmax(this.#cluster(i).forward(x), 1);
      parts.push(add(clusterLogProb, narrow(headLogProb, 1, this.shortlistSize + i, 1)));
    }
    return concat(parts, 1);
  }

  #checkInput(op: string, input: Tensor): void {
    const name = `AdaptiveLogSoftmaxWithLoss.${op}`;
    if (!isTensor(input)) throw new ValueError(`${name}: input must be a Tensor, got ${input === null ? 'null' : typeof input}`);
    if ((input.ndim !== 1 && input.ndim !== 2) || input.shape[input.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(
        `${name}: expected an input of shape [N, ${this.inFeatures}] or [${this.inFeatures}], got ${formatShape(input.shape)}`,
      );
    }
  }

  /** The target as int32, checked against the input's shape and (where readable) the class range. */
  #checkTarget(input: Tensor, target: TensorLike): Tensor {
    const name = 'AdaptiveLogSoftmaxWithLoss';
    this.#checkInput('forward', input);
    const labels = isTensor(target) ? target : tensor(target as number[], { dtype: 'int32', backend: input.backend });
    if (labels.dtype !== 'int32' && labels.dtype !== 'uint8')
      throw new DTypeError(`${name}: target must hold int32 (or uint8) class indices, got ${labels.dtype}`);
    if (labels.ndim > 1)
      throw new ShapeError(`${name}: expected a 0-d or 1-d target (one class per row), got ${formatShape(labels.shape)}`);
    if (labels.ndim === 1 && (input.ndim !== 2 || input.shape[0] !== labels.shape[0])) {
      throw new ShapeError(
        `${name}: a target of shape ${formatShape(labels.shape)} needs an input of shape [${labels.shape[0]}, ${this.inFeatures}], got ${formatShape(input.shape)}`,
      );
    }
    if (labels.ndim === 0 && input.ndim !== 1)
      throw new ShapeError(`${name}: a scalar target needs an unbatched input [${this.inFeatures}], got ${formatShape(input.shape)}`);
    const backend = labels._backend;
    if (backend !== null && backend.readSync !== undefined && labels.size <= 1 << 20) {
      for (const v of labels.dataSync()) {
        if (v < 0 || v >= this.nClasses) {
          throw new IndexError(`${name}: target ${v} is out of range for ${this.nClasses} classes (valid: 0..${this.nClasses - 1})`);
        }
      }
    }
    return cast(labels, 'int32');
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, nClasses=${this.nClasses}, cutoffs=(${this.cutoffs.join(', ')}), divValue=${this.divValue}, headBias=${this.headBias}`;
  }
}
