import { ValueError } from '../../core/errors.js';
import { add } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { gelu, relu } from '../functional/activations.js';
import { Module } from '../module.js';
import { MultiheadAttention } from './attention.js';
import { type FactoryOptions, positiveInteger, probability } from './common.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { LayerNorm } from './normalization.js';

/** Options of TransformerEncoderLayer. */
export interface TransformerEncoderLayerOptions extends FactoryOptions {
  /** Hidden size of the feed-forward block (default 2048). */
  readonly dimFeedforward?: number;
  /** Dropout probability (default 0.1). */
  readonly dropout?: number;
  /** 'relu' (default), 'gelu', or a function. */
  readonly activation?: 'relu' | 'gelu' | ((x: Tensor) => Tensor);
  /** Default 1e-5. */
  readonly layerNormEps?: number;
  /** Inputs are [N, S, E] instead of [S, N, E] (default false). */
  readonly batchFirst?: boolean;
  /** Normalize before attention and feed-forward (pre-LN) instead of after (default false). */
  readonly normFirst?: boolean;
  /** Biases in the linear layers and layer norms (default true). */
  readonly bias?: boolean;
}

/** Options of TransformerEncoderLayer's forward. */
export interface TransformerEncoderForwardOptions {
  /** [S, S] or [N * nhead, S, S]: boolean true where attention is NOT allowed, or float (added). */
  readonly srcMask?: Tensor | null;
  /** Boolean [N, S], true at padding positions. */
  readonly srcKeyPaddingMask?: Tensor | null;
  /** Without srcMask, mask future positions. */
  readonly isCausal?: boolean;
}

/**
 * One transformer encoder layer (torch.nn.TransformerEncoderLayer): self-attention and a
 * feed-forward block, each with dropout, a residual connection and layer normalization (after
 * each block, or before with `normFirst`).
 *
 * @example
 * const layer = new nn.TransformerEncoderLayer(512, 8, { batchFirst: true });
 * layer.forward(tokens, { srcKeyPaddingMask: padding });
 */
export class TransformerEncoderLayer extends Module<[Tensor, TransformerEncoderForwardOptions?], Tensor> {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;
  readonly #activation: (x: Tensor) => Tensor;
  readonly #activationName: string;

  constructor(dModel: number, nhead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    positiveInteger('TransformerEncoderLayer', 'dModel', dModel);
    positiveInteger('TransformerEncoderLayer', 'nhead', nhead);
    const dimFeedforward = positiveInteger('TransformerEncoderLayer', 'dimFeedforward', options.dimFeedforward ?? 2048);
    const p = probability('TransformerEncoderLayer', 'dropout', options.dropout ?? 0.1);
    const bias = options.bias ?? true;
    const factory: FactoryOptions = {
      ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
      ...(options.backend === undefined ? {} : { backend: options.backend }),
    };
    const eps = options.layerNormEps ?? 1e-5;
    this.selfAttn = this.registerModule(
      'selfAttn',
      new MultiheadAttention(dModel, nhead, { ...factory, dropout: p, bias, batchFirst: options.batchFirst ?? false }),
    );
    this.linear1 = this.registerModule('linear1', new Linear(dModel, dimFeedforward, { ...factory, bias }));
    this.dropout = this.registerModule('dropout', new Dropout(p));
    this.linear2 = this.registerModule('linear2', new Linear(dimFeedforward, dModel, { ...factory, bias }));
    this.normFirst = options.normFirst ?? false;
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel, { ...factory, eps, bias }));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel, { ...factory, eps, bias }));
    this.dropout1 = this.registerModule('dropout1', new Dropout(p));
    this.dropout2 = this.registerModule('dropout2', new Dropout(p));
    const activation = options.activation ?? 'relu';
    if (activation === 'relu') this.#activation = relu;
    else if (activation === 'gelu') this.#activation = (x) => gelu(x);
    else if (typeof activation === 'function') this.#activation = activation;
    else
      throw new ValueError(`TransformerEncoderLayer: activation must be 'relu', 'gelu' or a function, got ${JSON.stringify(activation)}`);
    this.#activationName = typeof activation === 'string' ? activation : 'custom';
  }

  forward(src: Tensor, options: TransformerEncoderForwardOptions = {}): Tensor {
    const attend = (x: Tensor): Tensor => {
      const [out] = this.selfAttn.forward(x, x, x, {
        attnMask: options.srcMask ?? null,
        keyPaddingMask: options.srcKeyPaddingMask ?? null,
        isCausal: options.isCausal ?? false,
        needWeights: false,
      });
      return this.dropout1.forward(out);
    };
    const feedForward = (x: Tensor): Tensor =>
      this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.#activation(this.linear1.forward(x)))));
    if (this.normFirst) {
      const x = add(src, attend(this.norm1.forward(src)));
      return add(x, feedForward(this.norm2.forward(x)));
    }
    const x = this.norm1.forward(add(src, attend(src)));
    return this.norm2.forward(add(x, feedForward(x)));
  }

  override extraRepr(): string {
    return `activation='${this.#activationName}', normFirst=${this.normFirst}`;
  }
}
