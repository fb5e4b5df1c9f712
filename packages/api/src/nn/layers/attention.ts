import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { swapaxes } from '../../ops/movement.js';
import type { Tensor } from '../../tensor/tensor.js';
import { multiHeadAttention } from '../functional/attention.js';
import { constant, xavierUniform } from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, initOptions, parameter, positiveInteger, probability } from './common.js';
import { Linear } from './linear.js';

/** Options of MultiheadAttention. */
export interface MultiheadAttentionOptions extends FactoryOptions {
  /** Dropout on the attention weights while training (default 0). */
  readonly dropout?: number;
  /** Biases on the input and output projections (default true). */
  readonly bias?: boolean;
  /** Size of the keys (default embedDim). */
  readonly kdim?: number;
  /** Size of the values (default embedDim). */
  readonly vdim?: number;
  /** Inputs and outputs are [N, L, E] instead of [L, N, E] (default false). */
  readonly batchFirst?: boolean;
}

/** Options of MultiheadAttention's forward. */
export interface MultiheadAttentionForwardOptions {
  /** Boolean [N, S] (true = ignore that key), or float (added). */
  readonly keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true). */
  readonly needWeights?: boolean;
  /** [L, S] or [N * numHeads, L, S]: boolean true where attention is NOT allowed, or float (added). */
  readonly attnMask?: Tensor | null;
  /** Average the returned weights over heads (default true). */
  readonly averageAttnWeights?: boolean;
  /** Without attnMask, mask future positions. */
  readonly isCausal?: boolean;
}

/**
 * Multi-head attention (torch.nn.MultiheadAttention): packed input projection (xavier uniform,
 * zero biases), `numHeads` scaled dot-product attentions, output projection. Returns the output
 * and, unless `needWeights: false`, the attention weights.
 *
 * @example
 * const attention = new nn.MultiheadAttention(256, 8, { batchFirst: true });
 * const [out, weights] = attention.forward(x, x, x, { keyPaddingMask });
 */
export class MultiheadAttention extends Module<[Tensor, Tensor, Tensor, MultiheadAttentionForwardOptions?], [Tensor, Tensor | null]> {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  /** [3E, E] when key and value have size E; else null and the three below are used. */
  readonly inProjWeight: Parameter | null;
  readonly qProjWeight: Parameter | null;
  readonly kProjWeight: Parameter | null;
  readonly vProjWeight: Parameter | null;
  /** [3E], or null without bias. */
  readonly inProjBias: Parameter | null;
  readonly outProj: Linear;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    this.embedDim = positiveInteger('MultiheadAttention', 'embedDim', embedDim);
    this.numHeads = positiveInteger('MultiheadAttention', 'numHeads', numHeads);
    if (embedDim % numHeads !== 0)
      throw new ValueError(`MultiheadAttention: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    this.kdim = positiveInteger('MultiheadAttention', 'kdim', options.kdim ?? embedDim);
    this.vdim = positiveInteger('MultiheadAttention', 'vdim', options.vdim ?? embedDim);
    this.dropout = probability('MultiheadAttention', 'dropout', options.dropout ?? 0);
    this.batchFirst = options.batchFirst ?? false;
    const init = initOptions(options);
    const packed = this.kdim === embedDim && this.vdim === embedDim;
    this.inProjWeight = this.registerParameter('inProjWeight', packed ? parameter(xavierUniform([3 * embedDim, embedDim], 1, init)) : null);
    this.qProjWeight = this.registerParameter('qProjWeight', packed ? null : parameter(xavierUniform([embedDim, embedDim], 1, init)));
    this.kProjWeight = this.registerParameter('kProjWeight', packed ? null : parameter(xavierUniform([embedDim, this.kdim], 1, init)));
    this.vProjWeight = this.registerParameter('vProjWeight', packed ? null : parameter(xavierUniform([embedDim, this.vdim], 1, init)));
    const bias = options.bias !== false;
    this.inProjBias = this.registerParameter('inProjBias', bias ? parameter(constant([3 * embedDim], 0, init)) : null);
    this.outProj = this.registerModule('outProj', new Linear(embedDim, embedDim, { ...options, bias }));
    if (this.outProj.bias !== null) constant(this.outProj.bias, 0);
  }

  forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const batched = query.ndim === 3;
    if (query.ndim !== 2 && query.ndim !== 3)
      throw new ShapeError(
        `MultiheadAttention: query must be [L, N, E], [N, L, E] with batchFirst, or unbatched [L, E]; got ${formatShape(query.shape)}`,
      );
    const toSequenceFirst = (t: Tensor): Tensor => (this.batchFirst && batched ? swapaxes(t, 0, 1) : t);
    const [output, weights] = multiHeadAttention(
      toSequenceFirst(query),
      toSequenceFirst(key),
      toSequenceFirst(value),
      {
        numHeads: this.numHeads,
        inProjWeight: this.inProjWeight?.value ?? null,
        qProjWeight: this.qProjWeight?.value ?? null,
        kProjWeight: this.kProjWeight?.value ?? null,
        vProjWeight: this.vProjWeight?.value ?? null,
        inProjBias: this.inProjBias?.value ?? null,
        outProjWeight: this.outProj.weight.value,
        outProjBias: this.outProj.bias?.value ?? null,
      },
      {
        keyPaddingMask: options.keyPaddingMask ?? null,
        attnMask: options.attnMask ?? null,
        isCausal: options.isCausal ?? false,
        needWeights: options.needWeights ?? true,
        averageAttnWeights: options.averageAttnWeights ?? true,
        dropoutP: this.dropout,
        training: this.training,
      },
    );
    return [toSequenceFirst(output), weights];
  }

  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}`;
  }
}
