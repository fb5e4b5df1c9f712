import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { zeros } from '../../ops/creation.js';
import { add, mul, sigmoid, sub, tanh } from '../../ops/elementwise.js';
import { concat, narrow, reshape, stack, swapaxes, unstack } from '../../ops/movement.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { dropout } from '../functional/dropout.js';
import { linear } from '../functional/linear.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, positiveInteger, probability, uniformParameter } from './common.js';

// LSTM and GRU (torch.nn.LSTM / torch.nn.GRU): stacked, optionally bidirectional recurrences.
// Each layer projects the whole input sequence at once (one matmul), then steps through time
// with only the hidden projection inside the loop.

/** Options of LSTM and GRU. */
export interface RecurrentOptions extends FactoryOptions {
  /** Stacked layers (default 1). */
  readonly numLayers?: number;
  /** Input and hidden biases (default true). */
  readonly bias?: boolean;
  /** Inputs and outputs are [N, T, features] instead of [T, N, features] (default false). */
  readonly batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, while training (default 0). */
  readonly dropout?: number;
  /** Run a second recurrence backwards in time and concatenate (default false). */
  readonly bidirectional?: boolean;
}

interface LayerWeights {
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter | null;
  readonly biasHh: Parameter | null;
}

/** One time step: the gates' input projection for this step, the previous state, the weights. */
type Cell = (inputProjection: Tensor, state: Tensor[], weights: LayerWeights) => Tensor[];

abstract class RecurrentBase<State> extends Module<[Tensor, State?], [Tensor, State]> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly #weights: LayerWeights[][] = [];

  /** Tensors of state per layer and direction: 2 for LSTM (h, c), 1 for GRU (h). */
  protected abstract readonly stateCount: number;
  protected abstract readonly cell: Cell;

  /** `gates` per hidden unit: 4 for LSTM (i, f, g, o), 3 for GRU (r, z, n). */
  constructor(gates: number, inputSize: number, hiddenSize: number, options: RecurrentOptions) {
    super();
    const name = this.constructor.name;
    this.inputSize = positiveInteger(name, 'inputSize', inputSize);
    this.hiddenSize = positiveInteger(name, 'hiddenSize', hiddenSize);
    this.numLayers = positiveInteger(name, 'numLayers', options.numLayers ?? 1);
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = probability(name, 'dropout', options.dropout ?? 0);
    this.bidirectional = options.bidirectional ?? false;
    const directions = this.bidirectional ? 2 : 1;
    // As PyTorch: every weight and bias uniform in ±1/√hiddenSize.
    const bound = 1 / Math.sqrt(hiddenSize);
    for (let layer = 0; layer < this.numLayers; layer++) {
      const perDirection: LayerWeights[] = [];
      for (let direction = 0; direction < directions; direction++) {
        const suffix = `L${layer}${direction === 1 ? 'Reverse' : ''}`;
        const layerInput = layer === 0 ? inputSize : hiddenSize * directions;
        perDirection.push({
          weightIh: this.registerParameter(`weightIh${suffix}`, uniformParameter([gates * hiddenSize, layerInput], bound, options)),
          weightHh: this.registerParameter(`weightHh${suffix}`, uniformParameter([gates * hiddenSize, hiddenSize], bound, options)),
          biasIh: this.registerParameter(`biasIh${suffix}`, this.bias ? uniformParameter([gates * hiddenSize], bound, options) : null),
          biasHh: this.registerParameter(`biasHh${suffix}`, this.bias ? uniformParameter([gates * hiddenSize], bound, options) : null),
        });
      }
      this.#weights.push(perDirection);
    }
  }

  /** The initial state tensors ([layers * directions, N, H] each) from the user's state, or zeros. */
  protected abstract stateTensors(state: State | undefined): (Tensor | undefined)[];
  protected abstract packState(states: Tensor[]): State;

  forward(input: Tensor, state?: State): [Tensor, State] {
    const name = this.constructor.name;
    const batched = input.ndim === 3;
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new ShapeError(
        `${name}: input must be [T, N, ${this.inputSize}] ([N, T, ${this.inputSize}] with batchFirst) or unbatched [T, ${this.inputSize}], got ${formatShape(input.shape)}`,
      );
    }
    if (input.shape[input.ndim - 1] !== this.inputSize)
      throw new ShapeError(`${name}: input ${formatShape(input.shape)} must end in inputSize = ${this.inputSize}`);
    // Work sequence-first and batched: [T, N, features].
    let x = batched ? (this.batchFirst ? swapaxes(input, 0, 1) : input) : reshape(input, [input.shape[0] as number, 1, this.inputSize]);
    const steps = x.shape[0] as number;
    const batch = x.shape[1] as number;
    if (steps === 0) throw new ShapeError(`${name}: the input sequence is empty`);
    const directions = this.bidirectional ? 2 : 1;
    const stateShape = batched ? [this.numLayers * directions, batch, this.hiddenSize] : [this.numLayers * directions, this.hiddenSize];
    const initial = this.stateTensors(state).map((t, i) => {
      if (t === undefined) return zeros([this.numLayers * directions, batch, this.hiddenSize], { dtype: x.dtype, ...backendOption(x) });
      if (t.ndim !== stateShape.length || t.shape.some((d, k) => d !== stateShape[k])) {
        throw new ShapeError(`${name}: initial state ${i} must have shape ${formatShape(stateShape)}, got ${formatShape(t.shape)}`);
      }
      return cast(batched ? t : reshape(t, [stateShape[0] as number, 1, this.hiddenSize]), x.dtype);
    });
    const finals: Tensor[][] = Array.from({ length: this.stateCount }, () => []);
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outputs: Tensor[] = [];
      for (let direction = 0; direction < directions; direction++) {
        const weights = (this.#weights[layer] as LayerWeights[])[direction] as LayerWeights;
        const index = layer * directions + direction;
        let current = initial.map((s) => reshape(narrow(s, 0, index, 1), [batch, this.hiddenSize]));
        const projections = unstack(linear(x, weights.weightIh.value, weights.biasIh?.value ?? null), 0);
        const hidden = new Array<Tensor>(steps);
        for (let k = 0; k < steps; k++) {
          const t = direction === 0 ? k : steps - 1 - k;
          current = this.cell(projections[t] as Tensor, current, weights);
          hidden[t] = current[0] as Tensor;
        }
        outputs.push(stack(hidden, 0));
        for (const [i, s] of current.entries()) (finals[i] as Tensor[]).push(s);
      }
      x = directions === 1 ? (outputs[0] as Tensor) : concat(outputs, 2);
      if (this.dropout > 0 && this.training && layer < this.numLayers - 1) x = dropout(x, this.dropout);
    }
    const output = batched ? (this.batchFirst ? swapaxes(x, 0, 1) : x) : reshape(x, [steps, x.shape[2] as number]);
    const states = finals.map((list) => {
      const stacked = stack(list, 0);
      return batched ? stacked : reshape(stacked, stateShape);
    });
    return [output, this.packState(states)];
  }

  override extraRepr(): string {
    const parts = [`${this.inputSize}`, `${this.hiddenSize}`];
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (!this.bias) parts.push('bias=false');
    if (this.batchFirst) parts.push('batchFirst=true');
    if (this.dropout !== 0) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=true');
    return parts.join(', ');
  }
}

function backendOption(like: Tensor): { backend?: string } {
  const backend = backendOf(like)?.name;
  return backend === undefined ? {} : { backend };
}

function gate(t: Tensor, index: number, size: number): Tensor {
  return narrow(t, 1, index * size, size);
}

/**
 * Long short-term memory (torch.nn.LSTM). Per step, with gates i, f, g, o:
 * `c' = σ(f) c + σ(i) tanh(g)`, `h' = σ(o) tanh(c')`. Returns the output sequence (the top layer's
 * h at every step, both directions concatenated) and the final `[h, c]`, each
 * [numLayers * directions, N, hiddenSize].
 *
 * @example
 * const lstm = new nn.LSTM(10, 20, { numLayers: 2, batchFirst: true });
 * const [out, [h, c]] = lstm.forward(x); // x [N, T, 10] -> out [N, T, 20]
 */
export class LSTM extends RecurrentBase<[Tensor, Tensor]> {
  protected readonly stateCount = 2;

  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super(4, inputSize, hiddenSize, options);
  }

  protected readonly cell: Cell = (projection, [h, c], weights) => {
    const size = this.hiddenSize;
    const gates = add(projection, linear(h as Tensor, weights.weightHh.value, weights.biasHh?.value ?? null));
    const input = sigmoid(gate(gates, 0, size));
    const forget = sigmoid(gate(gates, 1, size));
    const candidate = tanh(gate(gates, 2, size));
    const output = sigmoid(gate(gates, 3, size));
    const nextC = add(mul(forget, c as Tensor), mul(input, candidate));
    return [mul(output, tanh(nextC)), nextC];
  };

  protected stateTensors(state: [Tensor, Tensor] | undefined): (Tensor | undefined)[] {
    if (state === undefined) return [undefined, undefined];
    if (!Array.isArray(state) || state.length !== 2) throw new ValueError('LSTM: the initial state must be [h0, c0]');
    return [state[0], state[1]];
  }

  protected packState(states: Tensor[]): [Tensor, Tensor] {
    return [states[0] as Tensor, states[1] as Tensor];
  }
}

/**
 * Gated recurrent unit (torch.nn.GRU). Per step, with gates r, z and candidate n:
 * `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`, `h' = (1 - z) n + z h`. Returns the output
 * sequence and the final h [numLayers * directions, N, hiddenSize].
 *
 * @example
 * const gru = new nn.GRU(8, 16, { bidirectional: true });
 * const [out, h] = gru.forward(x); // x [T, N, 8] -> out [T, N, 32]
 */
export class GRU extends RecurrentBase<Tensor> {
  protected readonly stateCount = 1;

  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super(3, inputSize, hiddenSize, options);
  }

  protected readonly cell: Cell = (projection, [h], weights) => {
    const size = this.hiddenSize;
    const previous = h as Tensor;
    const hiddenProjection = linear(previous, weights.weightHh.value, weights.biasHh?.value ?? null);
    const reset = sigmoid(add(gate(projection, 0, size), gate(hiddenProjection, 0, size)));
    const update = sigmoid(add(gate(projection, 1, size), gate(hiddenProjection, 1, size)));
    const candidate = tanh(add(gate(projection, 2, size), mul(reset, gate(hiddenProjection, 2, size))));
    return [add(mul(sub(1, update), candidate), mul(update, previous))];
  };

  protected stateTensors(state: Tensor | undefined): (Tensor | undefined)[] {
    return [state];
  }

  protected packState(states: Tensor[]): Tensor {
    return states[0] as Tensor;
  }
}
