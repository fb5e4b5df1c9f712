import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { tensor } from '../../ops/convert.js';
import { add } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { copyStateInto } from '../copy-state.js';
import { gelu, relu } from '../functional/activations.js';
import { xavierUniform } from '../init.js';
import { type AnyModule, Module } from '../module.js';
import { MultiheadAttention } from './attention.js';
import { type FactoryOptions, positiveInteger, probability } from './common.js';
import { ModuleList } from './containers.js';
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

/** Options of TransformerDecoderLayer: those of TransformerEncoderLayer. */
export type TransformerDecoderLayerOptions = TransformerEncoderLayerOptions;

/** The masks of one attention block of a transformer layer, as its forward options name them. */
interface BlockMasks {
  readonly attnMask: Tensor | null | undefined;
  readonly keyPaddingMask: Tensor | null | undefined;
  readonly isCausal: boolean | undefined;
}

/** An attention block's output: `attention(query, keyValue, keyValue)` under `masks`, through its dropout. */
function attentionBlock(attention: MultiheadAttention, dropout: Dropout, query: Tensor, keyValue: Tensor, masks: BlockMasks): Tensor {
  const [out] = attention.forward(query, keyValue, keyValue, {
    attnMask: masks.attnMask ?? null,
    keyPaddingMask: masks.keyPaddingMask ?? null,
    isCausal: masks.isCausal ?? false,
    needWeights: false,
  });
  return dropout.forward(out);
}

/** The activation function of a transformer layer, checked, with its name for printing. */
function activationOf(layer: string, activation: TransformerEncoderLayerOptions['activation']): [(x: Tensor) => Tensor, string] {
  const chosen = activation ?? 'relu';
  if (chosen === 'relu') return [relu, 'relu'];
  if (chosen === 'gelu') return [(x) => gelu(x), 'gelu'];
  if (typeof chosen === 'function') return [chosen, 'custom'];
  throw new ValueError(`${layer}: activation must be 'relu', 'gelu' or a function, got ${JSON.stringify(chosen)}`);
}

/** The factory options of a layer's copy: where the original's parameters are now (after `to()`). */
function factoryOf(parameterValue: Tensor): FactoryOptions {
  return { dtype: parameterValue.dtype, backend: parameterValue.backend };
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
    [this.#activation, this.#activationName] = activationOf('TransformerEncoderLayer', options.activation);
    this.#configuration = [dModel, nhead, options];
  }

  readonly #configuration: [number, number, TransformerEncoderLayerOptions];

  /**
   * A deep copy (PyTorch's copy.deepcopy, which TransformerEncoder's _get_clones uses): a new layer
   * with the same options, its own parameters holding this layer's values, on this layer's
   * current dtype and backend, in the same training mode. Hooks are not copied.
   */
  clone(): TransformerEncoderLayer {
    const [dModel, nhead, options] = this.#configuration;
    return copyStateInto(
      new TransformerEncoderLayer(dModel, nhead, { ...options, ...factoryOf(this.linear1.weight.value) }),
      this as unknown as AnyModule,
    );
  }

  forward(src: Tensor, options: TransformerEncoderForwardOptions = {}): Tensor {
    const attend = (x: Tensor): Tensor =>
      attentionBlock(this.selfAttn, this.dropout1, x, x, {
        attnMask: options.srcMask,
        keyPaddingMask: options.srcKeyPaddingMask,
        isCausal: options.isCausal,
      });
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

/** Options of TransformerDecoderLayer's and TransformerDecoder's forward. */
export interface TransformerDecoderForwardOptions {
  /** [T, T] or [N * nhead, T, T] mask of the self-attention: boolean true where attention is NOT allowed, or float (added). */
  readonly tgtMask?: Tensor | null;
  /** [T, S] or [N * nhead, T, S] mask of the attention to the memory, as tgtMask. */
  readonly memoryMask?: Tensor | null;
  /** Boolean [N, T], true at padding positions of the target. */
  readonly tgtKeyPaddingMask?: Tensor | null;
  /** Boolean [N, S], true at padding positions of the memory. */
  readonly memoryKeyPaddingMask?: Tensor | null;
  /** Without tgtMask, mask future positions of the target. */
  readonly tgtIsCausal?: boolean;
  /** Without memoryMask, mask memory positions after each target position (rarely wanted). */
  readonly memoryIsCausal?: boolean;
}

/**
 * One transformer decoder layer (torch.nn.TransformerDecoderLayer): self-attention, attention to
 * the encoder's output (`memory`), and a feed-forward block, each with dropout, a residual
 * connection and layer normalization (after each block, or before with `normFirst`). Options and
 * submodule names are TransformerEncoderLayer's plus `multiheadAttn`, `norm3`, `dropout3`, so
 * the state dict converts from PyTorch's mechanically (`self_attn.in_proj_weight` is
 * `selfAttn.inProjWeight`, `multihead_attn.out_proj.weight` is `multiheadAttn.outProj.weight`).
 *
 * @example
 * const layer = new nn.TransformerDecoderLayer(512, 8, { batchFirst: true });
 * layer.forward(tgt, memory, { tgtMask: nn.Transformer.generateSquareSubsequentMask(tgt.shape[1]) });
 */
export class TransformerDecoderLayer extends Module<[Tensor, Tensor, TransformerDecoderForwardOptions?], Tensor> {
  readonly selfAttn: MultiheadAttention;
  readonly multiheadAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly normFirst: boolean;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly dropout3: Dropout;
  readonly #activation: (x: Tensor) => Tensor;
  readonly #activationName: string;
  readonly #configuration: [number, number, TransformerDecoderLayerOptions];

  constructor(dModel: number, nhead: number, options: TransformerDecoderLayerOptions = {}) {
    super();
    positiveInteger('TransformerDecoderLayer', 'dModel', dModel);
    positiveInteger('TransformerDecoderLayer', 'nhead', nhead);
    const dimFeedforward = positiveInteger('TransformerDecoderLayer', 'dimFeedforward', options.dimFeedforward ?? 2048);
    const p = probability('TransformerDecoderLayer', 'dropout', options.dropout ?? 0.1);
    const bias = options.bias ?? true;
    const factory: FactoryOptions = {
      ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
      ...(options.backend === undefined ? {} : { backend: options.backend }),
    };
    const eps = options.layerNormEps ?? 1e-5;
    const attention = { ...factory, dropout: p, bias, batchFirst: options.batchFirst ?? false };
    // Registration order is PyTorch's, so that stateDict() lists the keys as torch does.
    this.selfAttn = this.registerModule('selfAttn', new MultiheadAttention(dModel, nhead, attention));
    this.multiheadAttn = this.registerModule('multiheadAttn', new MultiheadAttention(dModel, nhead, attention));
    this.linear1 = this.registerModule('linear1', new Linear(dModel, dimFeedforward, { ...factory, bias }));
    this.dropout = this.registerModule('dropout', new Dropout(p));
    this.linear2 = this.registerModule('linear2', new Linear(dimFeedforward, dModel, { ...factory, bias }));
    this.normFirst = options.normFirst ?? false;
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel, { ...factory, eps, bias }));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel, { ...factory, eps, bias }));
    this.norm3 = this.registerModule('norm3', new LayerNorm(dModel, { ...factory, eps, bias }));
    this.dropout1 = this.registerModule('dropout1', new Dropout(p));
    this.dropout2 = this.registerModule('dropout2', new Dropout(p));
    this.dropout3 = this.registerModule('dropout3', new Dropout(p));
    [this.#activation, this.#activationName] = activationOf('TransformerDecoderLayer', options.activation);
    this.#configuration = [dModel, nhead, options];
  }

  forward(tgt: Tensor, memory: Tensor, options: TransformerDecoderForwardOptions = {}): Tensor {
    const selfAttend = (x: Tensor): Tensor =>
      attentionBlock(this.selfAttn, this.dropout1, x, x, {
        attnMask: options.tgtMask,
        keyPaddingMask: options.tgtKeyPaddingMask,
        isCausal: options.tgtIsCausal,
      });
    const attendToMemory = (x: Tensor): Tensor =>
      attentionBlock(this.multiheadAttn, this.dropout2, x, memory, {
        attnMask: options.memoryMask,
        keyPaddingMask: options.memoryKeyPaddingMask,
        isCausal: options.memoryIsCausal,
      });
    const feedForward = (x: Tensor): Tensor =>
      this.dropout3.forward(this.linear2.forward(this.dropout.forward(this.#activation(this.linear1.forward(x)))));
    if (this.normFirst) {
      let x = add(tgt, selfAttend(this.norm1.forward(tgt)));
      x = add(x, attendToMemory(this.norm2.forward(x)));
      return add(x, feedForward(this.norm3.forward(x)));
    }
    let x = this.norm1.forward(add(tgt, selfAttend(tgt)));
    x = this.norm2.forward(add(x, attendToMemory(x)));
    return this.norm3.forward(add(x, feedForward(x)));
  }

  /** A deep copy with independent parameters (see TransformerEncoderLayer.clone). */
  clone(): TransformerDecoderLayer {
    const [dModel, nhead, options] = this.#configuration;
    return copyStateInto(
      new TransformerDecoderLayer(dModel, nhead, { ...options, ...factoryOf(this.linear1.weight.value) }),
      this as unknown as AnyModule,
    );
  }

  override extraRepr(): string {
    return `activation='${this.#activationName}', normFirst=${this.normFirst}`;
  }
}

/** A layer TransformerEncoder and TransformerDecoder can copy. */
interface Clonable<M> {
  clone(): M;
}

/** `numLayers` deep copies of `layer` (torch's _get_clones), checked. */
function clones<M extends AnyModule>(container: string, kind: string, layer: M & Clonable<M>, numLayers: number): ModuleList<M> {
  if (!(layer instanceof Module) || typeof (layer as Partial<Clonable<M>>).clone !== 'function')
    throw new ValueError(
      `${container}: the layer must be a ${kind} (or a Module with a clone() method), got ${layer === null ? 'null' : typeof layer === 'object' ? `a ${(layer as object).constructor?.name ?? 'object'}` : typeof layer}`,
    );
  positiveInteger(container, 'numLayers', numLayers);
  return new ModuleList<M>(Array.from({ length: numLayers }, () => layer.clone()));
}

/** Options of TransformerEncoder and TransformerDecoder. */
export interface TransformerStackOptions {
  /** A module applied to the last layer's output (PyTorch passes a LayerNorm); default none. */
  readonly norm?: Module<[Tensor], Tensor> | null;
}

/** Options of TransformerEncoder's forward (PyTorch's mask, src_key_padding_mask, is_causal). */
export interface TransformerEncoderStackForwardOptions {
  /** [S, S] or [N * nhead, S, S]: boolean true where attention is NOT allowed, or float (added). */
  readonly mask?: Tensor | null;
  /** Boolean [N, S], true at padding positions. */
  readonly srcKeyPaddingMask?: Tensor | null;
  /** Without mask, mask future positions. */
  readonly isCausal?: boolean;
}

/**
 * A stack of `numLayers` encoder layers (torch.nn.TransformerEncoder): deep copies of
 * `encoderLayer`, each with its own parameters (the given layer itself is not registered), then
 * `norm` if given. State-dict keys are PyTorch's camelCased: `layers.0.selfAttn.inProjWeight`,
 * `norm.weight`.
 *
 * @example
 * const layer = new nn.TransformerEncoderLayer(512, 8, { batchFirst: true });
 * const encoder = new nn.TransformerEncoder(layer, 6, { norm: new nn.LayerNorm(512) });
 * encoder.forward(tokens, { srcKeyPaddingMask });
 */
export class TransformerEncoder extends Module<[Tensor, TransformerEncoderStackForwardOptions?], Tensor> {
  readonly layers: ModuleList<TransformerEncoderLayer>;
  readonly norm: Module<[Tensor], Tensor> | null;
  readonly numLayers: number;

  constructor(encoderLayer: TransformerEncoderLayer, numLayers: number, options: TransformerStackOptions = {}) {
    super();
    this.layers = this.registerModule('layers', clones('TransformerEncoder', 'TransformerEncoderLayer', encoderLayer, numLayers));
    this.numLayers = numLayers;
    const norm = options.norm ?? null;
    if (norm !== null && !(norm instanceof Module))
      throw new ValueError(`TransformerEncoder: norm must be a Module (a LayerNorm) or null, got ${typeof norm}`);
    this.norm = this.registerModule('norm', norm as AnyModule | null) as Module<[Tensor], Tensor> | null;
  }

  forward(src: Tensor, options: TransformerEncoderStackForwardOptions = {}): Tensor {
    const layerOptions: TransformerEncoderForwardOptions = {
      srcMask: options.mask ?? null,
      srcKeyPaddingMask: options.srcKeyPaddingMask ?? null,
      isCausal: options.isCausal ?? false,
    };
    let out = src;
    for (const layer of this.layers) out = layer.forward(out, layerOptions);
    return this.norm === null ? out : this.norm.forward(out);
  }
}

/**
 * A stack of `numLayers` decoder layers (torch.nn.TransformerDecoder): deep copies of
 * `decoderLayer`, each with its own parameters, each attending to the same `memory`, then `norm`
 * if given.
 *
 * @example
 * const decoder = new nn.TransformerDecoder(new nn.TransformerDecoderLayer(512, 8), 6);
 * decoder.forward(tgt, memory, { tgtMask: nn.Transformer.generateSquareSubsequentMask(tgt.shape[0]) });
 */
export class TransformerDecoder extends Module<[Tensor, Tensor, TransformerDecoderForwardOptions?], Tensor> {
  readonly layers: ModuleList<TransformerDecoderLayer>;
  readonly norm: Module<[Tensor], Tensor> | null;
  readonly numLayers: number;

  constructor(decoderLayer: TransformerDecoderLayer, numLayers: number, options: TransformerStackOptions = {}) {
    super();
    this.layers = this.registerModule('layers', clones('TransformerDecoder', 'TransformerDecoderLayer', decoderLayer, numLayers));
    this.numLayers = numLayers;
    const norm = options.norm ?? null;
    if (norm !== null && !(norm instanceof Module))
      throw new ValueError(`TransformerDecoder: norm must be a Module (a LayerNorm) or null, got ${typeof norm}`);
    this.norm = this.registerModule('norm', norm as AnyModule | null) as Module<[Tensor], Tensor> | null;
  }

  forward(tgt: Tensor, memory: Tensor, options: TransformerDecoderForwardOptions = {}): Tensor {
    let out = tgt;
    for (const layer of this.layers) out = layer.forward(out, memory, options);
    return this.norm === null ? out : this.norm.forward(out);
  }
}

/** Options of Transformer. */
export interface TransformerOptions extends TransformerEncoderLayerOptions {
  /** Model width (default 512). */
  readonly dModel?: number;
  /** Attention heads (default 8). */
  readonly nhead?: number;
  /** Default 6. */
  readonly numEncoderLayers?: number;
  /** Default 6. */
  readonly numDecoderLayers?: number;
  /** Used instead of the standard encoder (PyTorch's custom_encoder). */
  readonly customEncoder?: Module<[Tensor, TransformerEncoderStackForwardOptions?], Tensor> | null;
  /** Used instead of the standard decoder (PyTorch's custom_decoder). */
  readonly customDecoder?: Module<[Tensor, Tensor, TransformerDecoderForwardOptions?], Tensor> | null;
}

/** Options of Transformer's forward (PyTorch's keyword arguments, camelCased). */
export interface TransformerForwardOptions extends TransformerDecoderForwardOptions {
  /** Mask of the encoder's self-attention ([S, S] or [N * nhead, S, S]). */
  readonly srcMask?: Tensor | null;
  /** Boolean [N, S], true at padding positions of the source. */
  readonly srcKeyPaddingMask?: Tensor | null;
  /** Without srcMask, mask future positions of the source. */
  readonly srcIsCausal?: boolean;
}

/**
 * The encoder-decoder transformer of "Attention Is All You Need" (torch.nn.Transformer): a
 * TransformerEncoder and a TransformerDecoder, each ending in a LayerNorm, with every parameter
 * of more than one dimension re-initialized Xavier uniform, as PyTorch's _reset_parameters.
 * Submodules `encoder` and `decoder` (state-dict keys `encoder.layers.0.selfAttn.inProjWeight`,
 * `decoder.norm.weight`, ...).
 *
 * @example
 * const model = new nn.Transformer({ dModel: 256, nhead: 4, batchFirst: true });
 * const out = model.forward(src, tgt, { tgtMask: nn.Transformer.generateSquareSubsequentMask(tgt.shape[1]) });
 */
export class Transformer extends Module<[Tensor, Tensor, TransformerForwardOptions?], Tensor> {
  readonly encoder: Module<[Tensor, TransformerEncoderStackForwardOptions?], Tensor>;
  readonly decoder: Module<[Tensor, Tensor, TransformerDecoderForwardOptions?], Tensor>;
  readonly dModel: number;
  readonly nhead: number;
  readonly batchFirst: boolean;

  constructor(options: TransformerOptions = {}) {
    super();
    const { dModel = 512, nhead = 8, numEncoderLayers = 6, numDecoderLayers = 6, customEncoder, customDecoder, ...layerOptions } = options;
    this.dModel = positiveInteger('Transformer', 'dModel', dModel);
    this.nhead = positiveInteger('Transformer', 'nhead', nhead);
    this.batchFirst = options.batchFirst ?? false;
    const factory: FactoryOptions = {
      ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
      ...(options.backend === undefined ? {} : { backend: options.backend }),
    };
    const normOptions = { ...factory, eps: options.layerNormEps ?? 1e-5, bias: options.bias ?? true };
    this.encoder = this.registerModule(
      'encoder',
      customEncoder ??
        (new TransformerEncoder(new TransformerEncoderLayer(dModel, nhead, layerOptions), numEncoderLayers, {
          norm: new LayerNorm(dModel, normOptions),
        }) as unknown as Module<[Tensor, TransformerEncoderStackForwardOptions?], Tensor>),
    );
    this.decoder = this.registerModule(
      'decoder',
      customDecoder ??
        (new TransformerDecoder(new TransformerDecoderLayer(dModel, nhead, layerOptions), numDecoderLayers, {
          norm: new LayerNorm(dModel, normOptions),
        }) as unknown as Module<[Tensor, Tensor, TransformerDecoderForwardOptions?], Tensor>),
    );
    for (const parameter of this.parameters()) if (parameter.value.ndim > 1) xavierUniform(parameter);
  }

  /**
   * Encodes `src` and decodes `tgt` attending to it: [S, N, E] and [T, N, E] (or [N, S, E] and
   * [N, T, E] with batchFirst, or unbatched [S, E] and [T, E]); returns [T, N, E].
   */
  forward(src: Tensor, tgt: Tensor, options: TransformerForwardOptions = {}): Tensor {
    const batchAxis = this.batchFirst ? 0 : 1;
    if (src.ndim !== tgt.ndim || (src.ndim !== 2 && src.ndim !== 3))
      throw new ShapeError(
        `Transformer: src and tgt must both be batched (3-d) or both unbatched (2-d), got ${formatShape(src.shape)} and ${formatShape(tgt.shape)}`,
      );
    if (src.ndim === 3 && src.shape[batchAxis] !== tgt.shape[batchAxis])
      throw new ShapeError(
        `Transformer: the batch size of src and tgt must be equal (axis ${batchAxis}${this.batchFirst ? ', batchFirst' : ''}), got ${formatShape(src.shape)} and ${formatShape(tgt.shape)}`,
      );
    if (src.shape[src.ndim - 1] !== this.dModel || tgt.shape[tgt.ndim - 1] !== this.dModel)
      throw new ShapeError(
        `Transformer: the feature size of src and tgt must be dModel (${this.dModel}), got ${formatShape(src.shape)} and ${formatShape(tgt.shape)}`,
      );
    const memory = this.encoder.forward(src, {
      mask: options.srcMask ?? null,
      srcKeyPaddingMask: options.srcKeyPaddingMask ?? null,
      isCausal: options.srcIsCausal ?? false,
    });
    return this.decoder.forward(tgt, memory, {
      tgtMask: options.tgtMask ?? null,
      memoryMask: options.memoryMask ?? null,
      tgtKeyPaddingMask: options.tgtKeyPaddingMask ?? null,
      memoryKeyPaddingMask: options.memoryKeyPaddingMask ?? null,
      tgtIsCausal: options.tgtIsCausal ?? false,
      memoryIsCausal: options.memoryIsCausal ?? false,
    });
  }

  /**
   * The [size, size] float mask that keeps each position from attending to later ones: -Infinity
   * above the diagonal, 0 on and below it (torch's generate_square_subsequent_mask), to pass as
   * `tgtMask`. Float32 on the default backend unless `{ dtype, backend }`.
   */
  static generateSquareSubsequentMask(size: number, options: FactoryOptions = {}): Tensor {
    positiveInteger('Transformer.generateSquareSubsequentMask', 'size', size);
    const data = new Float64Array(size * size);
    for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) data[i * size + j] = Number.NEGATIVE_INFINITY;
    return tensor(data, {
      shape: [size, size],
      dtype: options.dtype ?? 'float32',
      ...(options.backend === undefined ? {} : { backend: options.backend }),
    });
  }
}
