import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { clone } from '../../ops/clone.js';
import { zeros } from '../../ops/creation.js';
import { take } from '../../ops/indexing.js';
import { concat, narrow, reshape, split, stack, swapaxes, unstack } from '../../ops/movement.js';
import { isTensor, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { dropout } from '../functional/dropout.js';
import { linear } from '../functional/linear.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { isPackedSequence, type PackedSequence } from '../utils/rnn/packed-sequence.js';
import { type FactoryOptions, nonNegativeInteger, positiveInteger, probability, uniformParameter } from './common.js';
import {
  backendOption,
  gruStep,
  lstmStep,
  type RecurrentNonlinearity,
  recurrentNonlinearity,
  recurrentOptions,
  rnnStep,
} from './recurrent-cells.js';

// RNN, LSTM and GRU (torch.nn.RNN / LSTM / GRU): stacked, optionally bidirectional recurrences.
// Each layer and direction projects the whole input sequence at once (one matmul, x W_ihᵀ + b_ih
// for every time step), then steps through time with only the hidden projection inside the loop.
// The step equations are the cells' (recurrent-cells.ts).
//
// A PackedSequence input (nn.utils.rnn) runs the same loop over its time steps, as torch does:
// step t takes the batchSizes[t] sequences still running (the batch is sorted longest first, so
// those are the first rows), a sequence's final state is its state at its own last step, and the
// reverse direction starts each sequence at its last step from its initial state. A padded batch
// is the case where every step's batch is the whole batch.

/** Options of RNN, LSTM and GRU. */
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

/** Options of RNN. */
export interface RNNOptions extends RecurrentOptions {
  /** 'tanh' (default) or 'relu'. */
  readonly nonlinearity?: RecurrentNonlinearity;
}

/** Options of LSTM. */
export interface LSTMOptions extends RecurrentOptions {
  /** With projSize > 0, h is projected to projSize by `weightHrL{k}` [projSize, hiddenSize] (default 0). */
  readonly projSize?: number;
}

/** The options of every sequence module after numLayers, in PyTorch's positional order. */
const SEQUENCE_OPTIONS = ['bias', 'batchFirst', 'dropout', 'bidirectional', 'dtype', 'backend'];

interface LayerWeights {
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter | null;
  readonly biasHh: Parameter | null;
  readonly weightHr: Parameter | null;
}

/** The tensors a time step uses, read from the parameters once per call (a parametrized weight is computed on each read). */
interface StepWeights {
  readonly weightHh: Tensor;
  readonly biasHh: Tensor | null;
  readonly weightHr: Tensor | null;
}

/** One time step: the input's projection for this step, the previous state, the weights. */
type Step = (inputProjection: Tensor, state: Tensor[], weights: StepWeights) => Tensor[];

/**
 * How a layer's input is laid out in time: a padded [T, N, features] tensor, whose steps are its
 * slices on axis 0, or a PackedSequence's data [sum of lengths, features], whose steps are runs of
 * batchSizes[t] rows. Both keep the features on the last axis.
 */
interface TimeLayout {
  /** How many sequences run at each step (all N for a padded batch). */
  readonly batchSizes: readonly number[];
  /** The steps of a layer's input (or of its projection), [batchSizes[t], features] each. */
  split(sequence: Tensor): Tensor[];
  /** The steps' outputs back in the layout. */
  join(steps: Tensor[]): Tensor;
}

function paddedLayout(steps: number, batch: number): TimeLayout {
  return { batchSizes: new Array<number>(steps).fill(batch), split: (x) => unstack(x, 0), join: (steps) => stack(steps, 0) };
}

function packedLayout(batchSizes: readonly number[]): TimeLayout {
  return { batchSizes, split: (x) => split(x, batchSizes, 0), join: (steps) => concat(steps, 0) };
}

/**
 * One layer and direction through time. `initial` holds the state tensors [N, size] in the
 * batch's (sorted) order; the batch at step t is its first batchSizes[t] rows. Forward in time, the
 * rows of the sequences that ended are set aside as their final states; backward in time, the
 * sequences join at their last step with their initial states. Returns each step's output and the
 * final states [N, size], in the batch's order.
 */
function runDirection(
  step: Step,
  projections: Tensor[],
  batchSizes: readonly number[],
  initial: Tensor[],
  weights: StepWeights,
  reverse: boolean,
): { hidden: Tensor[]; final: Tensor[] } {
  const steps = projections.length;
  const hidden = new Array<Tensor>(steps);
  const rowsOf = (state: Tensor[]): number => (state[0] as Tensor).shape[0] as number;
  if (reverse) {
    let current: Tensor[] | null = null;
    for (let t = steps - 1; t >= 0; t--) {
      const active = current === null ? 0 : rowsOf(current);
      const size = batchSizes[t] as number;
      if (current === null) current = size === rowsOf(initial) ? initial : initial.map((s) => narrow(s, 0, 0, size));
      else if (size > active) current = current.map((s, i) => concat([s, narrow(initial[i] as Tensor, 0, active, size - active)], 0));
      current = step(projections[t] as Tensor, current, weights);
      hidden[t] = current[0] as Tensor;
    }
    return { hidden, final: current ?? initial };
  }
  let current = initial;
  // The final states of sequences that ended, latest first: the shortest come last in the batch.
  const ended: Tensor[][] = initial.map(() => []);
  for (let t = 0; t < steps; t++) {
    const active = rowsOf(current);
    const size = batchSizes[t] as number;
    if (size < active) {
      for (const [i, s] of current.entries()) (ended[i] as Tensor[]).unshift(narrow(s, 0, size, active - size));
      current = current.map((s) => narrow(s, 0, 0, size));
    }
    current = step(projections[t] as Tensor, current, weights);
    hidden[t] = current[0] as Tensor;
  }
  const final = current.map((s, i) => ((ended[i] as Tensor[]).length === 0 ? s : concat([s, ...(ended[i] as Tensor[])], 0)));
  return { hidden, final };
}

/** The recurrent layers' input: a padded batch, or a PackedSequence (nn.utils.rnn). */
export type RecurrentInput = Tensor | PackedSequence;

// The Module type names the padded form, which is what functionalCall, hooks and containers infer;
// forward's overloads add the packed one.
abstract class RecurrentBase<State> extends Module<[Tensor, State?], [Tensor, State]> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** LSTM's projection size (0: none); always 0 for RNN and GRU. */
  readonly projSize: number;
  readonly #weights: LayerWeights[][] = [];
  readonly #name: string;

  /** Names of the state tensors, in order: ['h0', 'c0'] for LSTM, ['h0'] for RNN and GRU. */
  protected abstract readonly stateNames: readonly string[];
  protected abstract readonly step: Step;

  /** `gates` per hidden unit: 1 for RNN, 4 for LSTM (i, f, g, o), 3 for GRU (r, z, n). */
  constructor(name: string, gates: number, inputSize: number, hiddenSize: number, options: RecurrentOptions, projSize = 0) {
    super();
    this.#name = name;
    this.inputSize = positiveInteger(name, 'inputSize', inputSize);
    this.hiddenSize = positiveInteger(name, 'hiddenSize', hiddenSize);
    this.numLayers = positiveInteger(name, 'numLayers', options.numLayers ?? 1);
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = probability(name, 'dropout', options.dropout ?? 0);
    this.bidirectional = options.bidirectional ?? false;
    this.projSize = nonNegativeInteger(name, 'projSize', projSize);
    if (this.projSize >= hiddenSize) {
      throw new ValueError(`${name}: projSize (${this.projSize}) must be smaller than hiddenSize (${hiddenSize})`);
    }
    const directions = this.bidirectional ? 2 : 1;
    const outputSize = this.projSize > 0 ? this.projSize : hiddenSize;
    // As PyTorch: every weight and bias uniform in ±1/√hiddenSize, registered in PyTorch's order
    // under PyTorch's names camelCased (weight_ih_l0_reverse -> weightIhL0Reverse).
    const bound = 1 / Math.sqrt(hiddenSize);
    const rows = gates * hiddenSize;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const perDirection: LayerWeights[] = [];
      for (let direction = 0; direction < directions; direction++) {
        const suffix = `L${layer}${direction === 1 ? 'Reverse' : ''}`;
        const layerInput = layer === 0 ? inputSize : outputSize * directions;
        perDirection.push({
          weightIh: this.registerParameter(`weightIh${suffix}`, uniformParameter([rows, layerInput], bound, options)),
          weightHh: this.registerParameter(`weightHh${suffix}`, uniformParameter([rows, outputSize], bound, options)),
          biasIh: this.registerParameter(`biasIh${suffix}`, this.bias ? uniformParameter([rows], bound, options) : null),
          biasHh: this.registerParameter(`biasHh${suffix}`, this.bias ? uniformParameter([rows], bound, options) : null),
          weightHr:
            this.projSize > 0
              ? this.registerParameter(`weightHr${suffix}`, uniformParameter([this.projSize, hiddenSize], bound, options))
              : null,
        });
      }
      this.#weights.push(perDirection);
    }
  }

  /** The user's initial state as a list in `stateNames` order (entries undefined when not given). */
  protected abstract stateTensors(state: State | undefined): (Tensor | undefined)[];
  protected abstract packState(states: Tensor[]): State;

  /** The last axis of state tensor `index`: h has projSize with a projection, c always hiddenSize. */
  #stateSize(index: number): number {
    return index === 0 && this.projSize > 0 ? this.projSize : this.hiddenSize;
  }

  /**
   * Runs the recurrence over a padded batch [T, N, features] (or [N, T, features] with
   * `batchFirst`, or unbatched [T, features]), or over a PackedSequence, whose output is then a
   * PackedSequence too and whose final states are each sequence's state at its own last step.
   */
  // The padded overload comes last: it is the one type inference (functionalCall, hooks) reads.
  forward(input: PackedSequence, state?: State): [PackedSequence, State];
  forward(input: Tensor, state?: State): [Tensor, State];
  forward(input: RecurrentInput, state?: State): [RecurrentInput, State] {
    if (isPackedSequence(input)) return this.#forwardPacked(input, state);
    const name = this.#name;
    if (!isTensor(input)) throw new ValueError(`${name}: input must be a Tensor or a PackedSequence`);
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 1] !== this.inputSize) {
      const layout = this.batchFirst ? `[N, T, ${this.inputSize}]` : `[T, N, ${this.inputSize}]`;
      throw new ShapeError(`${name}: input must be ${layout} or unbatched [T, ${this.inputSize}], got ${formatShape(input.shape)}`);
    }
    const batched = input.ndim === 3;
    const steps = input.shape[batched && this.batchFirst ? 1 : 0] as number;
    const batch = batched ? (input.shape[this.batchFirst ? 0 : 1] as number) : 1;
    if (steps === 0) throw new ShapeError(`${name}: the input sequence is empty (${formatShape(input.shape)})`);
    const given = this.#checkedState(state, batched ? batch : null, `input ${formatShape(input.shape)}`);
    return tidy(() => {
      // Work sequence-first and batched: [T, N, features].
      const x = batched ? (this.batchFirst ? swapaxes(input, 0, 1) : input) : reshape(input, [steps, 1, this.inputSize]);
      const initial = this.#initialStates(given, batch, x, batched);
      const [output, finals] = this.#layers(x, paddedLayout(steps, batch), initial);
      const out = batched ? (this.batchFirst ? swapaxes(output, 0, 1) : output) : reshape(output, [steps, output.shape[2] as number]);
      const states = finals.map((s, i) => (batched ? s : reshape(s, [s.shape[0] as number, this.#stateSize(i)])));
      return [out, this.packState(states)];
    });
  }

  /** forward on a PackedSequence: the initial and final states are in the batch's own order. */
  #forwardPacked(input: PackedSequence, state: State | undefined): [PackedSequence, State] {
    const name = this.#name;
    const { data, batchSizes, sortedIndices, unsortedIndices } = input;
    if (data.ndim !== 2 || data.shape[1] !== this.inputSize) {
      throw new ShapeError(`${name}: a PackedSequence's data must be [sum of lengths, ${this.inputSize}], got ${formatShape(data.shape)}`);
    }
    const batch = batchSizes[0] as number;
    const given = this.#checkedState(state, batch, `a packed batch of ${batch}`);
    return tidy(() => {
      // The states follow the batch's order; the recurrence, the sorted order.
      const sorted = given.map((t) => (t === undefined || sortedIndices === null ? t : take(t, sortedIndices, 1)));
      const initial = this.#initialStates(sorted, batch, data, true);
      const [output, finals] = this.#layers(data, packedLayout(batchSizes), initial);
      const states = finals.map((s) => (unsortedIndices === null ? s : take(s, unsortedIndices, 1)));
      // The output's index tensors are its own (copies of B integers), so that disposing the output
      // leaves the input whole.
      const own = (indices: Tensor | null): Tensor | null => (indices === null ? null : clone(indices));
      const packed: PackedSequence = { data: output, batchSizes, sortedIndices: own(sortedIndices), unsortedIndices: own(unsortedIndices) };
      return [packed, this.packState(states)];
    });
  }

  /** The given state tensors, checked against [L*D, N, size] (or [L*D, size] when `batch` is null: unbatched). */
  #checkedState(state: State | undefined, batch: number | null, what: string): (Tensor | undefined)[] {
    const name = this.#name;
    const layers = this.numLayers * (this.bidirectional ? 2 : 1);
    const given = this.stateTensors(state);
    for (const [i, t] of given.entries()) {
      if (t === undefined) continue;
      const size = this.#stateSize(i);
      const expected = batch === null ? [layers, size] : [layers, batch, size];
      if (!isTensor(t)) throw new ValueError(`${name}: ${this.stateNames[i]} must be a Tensor of shape ${formatShape(expected)}`);
      if (t.ndim !== expected.length || t.shape.some((d, k) => d !== expected[k])) {
        throw new ShapeError(
          `${name}: ${this.stateNames[i]} must have shape ${formatShape(expected)} for ${what}, got ${formatShape(t.shape)}`,
        );
      }
    }
    return given;
  }

  /** The initial states [L*D, N, size] in `like`'s dtype: the given ones, or zeros. */
  #initialStates(given: (Tensor | undefined)[], batch: number, like: Tensor, batched: boolean): Tensor[] {
    const layers = this.numLayers * (this.bidirectional ? 2 : 1);
    return given.map((t, i) => {
      const size = this.#stateSize(i);
      if (t === undefined) return zeros([layers, batch, size], { dtype: like.dtype, ...backendOption(like) });
      return cast(batched ? t : reshape(t, [layers, 1, size]), like.dtype);
    });
  }

  /**
   * The stacked layers over `x` (laid out as `layout` says, features last), from the initial
   * states [L*D, N, size]: the top layer's output in the same layout, and the final states
   * [L*D, N, size].
   */
  #layers(input: Tensor, layout: TimeLayout, initial: Tensor[]): [Tensor, Tensor[]] {
    const directions = this.bidirectional ? 2 : 1;
    const batch = layout.batchSizes[0] as number;
    const finals: Tensor[][] = initial.map(() => []);
    let x = input;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outputs: Tensor[] = [];
      for (let direction = 0; direction < directions; direction++) {
        const weights = (this.#weights[layer] as LayerWeights[])[direction] as LayerWeights;
        const index = layer * directions + direction;
        const start = initial.map((s, i) => reshape(narrow(s, 0, index, 1), [batch, this.#stateSize(i)]));
        const projections = layout.split(linear(x, weights.weightIh.value, weights.biasIh?.value ?? null));
        const stepWeights: StepWeights = {
          weightHh: weights.weightHh.value,
          biasHh: weights.biasHh?.value ?? null,
          weightHr: weights.weightHr?.value ?? null,
        };
        const { hidden, final } = runDirection(this.step, projections, layout.batchSizes, start, stepWeights, direction === 1);
        outputs.push(layout.join(hidden));
        for (const [i, s] of final.entries()) (finals[i] as Tensor[]).push(s);
      }
      x = directions === 1 ? (outputs[0] as Tensor) : concat(outputs, -1);
      if (this.dropout > 0 && this.training && layer < this.numLayers - 1) x = dropout(x, this.dropout);
    }
    return [x, finals.map((list) => stack(list, 0))];
  }

  override extraRepr(): string {
    const parts = [`${this.inputSize}`, `${this.hiddenSize}`];
    if (this.projSize !== 0) parts.push(`projSize=${this.projSize}`);
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (!this.bias) parts.push('bias=false');
    if (this.batchFirst) parts.push('batchFirst=true');
    if (this.dropout !== 0) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=true');
    return parts.join(', ');
  }
}

/**
 * A multi-layer Elman RNN (torch.nn.RNN): per step `h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`
 * (or ReLU with `nonlinearity: 'relu'`). Returns the output sequence (the top layer's h at every
 * step, both directions concatenated) and the final h [numLayers * directions, N, hiddenSize].
 *
 * @example
 * const rnn = new nn.RNN(10, 20, { numLayers: 2 });
 * const [out, h] = rnn.forward(x); // x [T, N, 10] -> out [T, N, 20], h [2, N, 20]
 */
export class RNN extends RecurrentBase<Tensor> {
  protected readonly stateNames = ['h0'];
  readonly nonlinearity: RecurrentNonlinearity;

  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const checked = recurrentOptions('RNN', options, ['numLayers', 'nonlinearity', ...SEQUENCE_OPTIONS]);
    super('RNN', 1, inputSize, hiddenSize, checked);
    this.nonlinearity = recurrentNonlinearity('RNN', checked.nonlinearity);
  }

  protected readonly step: Step = (projection, [h], weights) => [
    rnnStep(projection, h as Tensor, weights.weightHh, weights.biasHh, this.nonlinearity),
  ];

  protected stateTensors(state: Tensor | undefined): (Tensor | undefined)[] {
    return [state];
  }

  protected packState(states: Tensor[]): Tensor {
    return states[0] as Tensor;
  }

  override extraRepr(): string {
    const parts = super.extraRepr().split(', ');
    if (this.nonlinearity !== 'tanh') parts.splice(2, 0, `nonlinearity='${this.nonlinearity}'`);
    return parts.join(', ');
  }
}

/**
 * Long short-term memory (torch.nn.LSTM). Per step, with gates i, f, g, o:
 * `c' = σ(f) c + σ(i) tanh(g)`, `h' = σ(o) tanh(c')` (then `h' W_hrᵀ` with `projSize`). Returns
 * the output sequence (the top layer's h at every step, both directions concatenated) and the
 * final `[h, c]`, [numLayers * directions, N, hiddenSize] each (h's last axis projSize with a
 * projection).
 *
 * @example
 * const lstm = new nn.LSTM(10, 20, { numLayers: 2, batchFirst: true });
 * const [out, [h, c]] = lstm.forward(x); // x [N, T, 10] -> out [N, T, 20]
 */
export class LSTM extends RecurrentBase<[Tensor, Tensor]> {
  protected readonly stateNames = ['h0', 'c0'];

  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    const checked = recurrentOptions('LSTM', options, ['numLayers', ...SEQUENCE_OPTIONS, 'projSize']);
    super('LSTM', 4, inputSize, hiddenSize, checked, checked.projSize ?? 0);
  }

  protected readonly step: Step = (projection, [h, c], weights) =>
    lstmStep(projection, h as Tensor, c as Tensor, weights.weightHh, weights.biasHh, weights.weightHr);

  protected stateTensors(state: [Tensor, Tensor] | undefined): (Tensor | undefined)[] {
    if (state === undefined) return [undefined, undefined];
    if (!Array.isArray(state) || state.length !== 2) throw new ValueError('LSTM: the initial state must be [h0, c0], two tensors');
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
  protected readonly stateNames = ['h0'];

  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super('GRU', 3, inputSize, hiddenSize, recurrentOptions('GRU', options, ['numLayers', ...SEQUENCE_OPTIONS]));
  }

  protected readonly step: Step = (projection, [h], weights) => [gruStep(projection, h as Tensor, weights.weightHh, weights.biasHh)];

  protected stateTensors(state: Tensor | undefined): (Tensor | undefined)[] {
    return [state];
  }

  protected packState(states: Tensor[]): Tensor {
    return states[0] as Tensor;
  }
}
