import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber } from '../functional/common.js';
import { cosineSimilarity, pairwiseDistance } from '../functional/distance.js';
import { Module } from '../module.js';

/**
 * The cosine similarity of two inputs along `axis` (torch.nn.CosineSimilarity; default axis 1,
 * eps 1e-8); see `nn.functional.cosineSimilarity`.
 *
 * @example
 * new nn.CosineSimilarity({ axis: -1 }).forward(a, b);
 */
export class CosineSimilarity extends Module<[Tensor, Tensor], Tensor> {
  readonly axis: number;
  readonly eps: number;
  constructor(options: { readonly axis?: number; readonly eps?: number } = {}) {
    super();
    this.axis = checkNumber('CosineSimilarity', 'axis', options.axis ?? 1);
    this.eps = checkNumber('CosineSimilarity', 'eps', options.eps ?? 1e-8);
  }
  forward(x1: Tensor, x2: Tensor): Tensor {
    return cosineSimilarity(x1, x2, { axis: this.axis, eps: this.eps });
  }
  override extraRepr(): string {
    return `axis=${this.axis}, eps=${this.eps}`;
  }
}

/**
 * The p-norm distance `‖x1 - x2 + eps‖_p` over the last axis (torch.nn.PairwiseDistance;
 * default p 2, eps 1e-6); see `nn.functional.pairwiseDistance`.
 *
 * @example
 * new nn.PairwiseDistance({ p: 1 }).forward(a, b);
 */
export class PairwiseDistance extends Module<[Tensor, Tensor], Tensor> {
  readonly p: number;
  readonly eps: number;
  readonly keepdims: boolean;
  constructor(options: { readonly p?: number; readonly eps?: number; readonly keepdims?: boolean } = {}) {
    super();
    this.p = checkNumber('PairwiseDistance', 'p', options.p ?? 2, { min: 0, minExclusive: true });
    this.eps = checkNumber('PairwiseDistance', 'eps', options.eps ?? 1e-6);
    this.keepdims = options.keepdims ?? false;
  }
  forward(x1: Tensor, x2: Tensor): Tensor {
    return pairwiseDistance(x1, x2, { p: this.p, eps: this.eps, keepdims: this.keepdims });
  }
  override extraRepr(): string {
    return `p=${this.p}, eps=${this.eps}, keepdims=${this.keepdims}`;
  }
}
