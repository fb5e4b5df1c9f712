import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { zeros } from '../../ops/creation.js';
import { add, mul, sigmoid, sub, tanh } from '../../ops/elementwise.js';
import { narrow, reshape } from '../../ops/movement.js';
import { isTensor, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { relu } from '../functional/activations.js';
import { linear } from '../functional/linear.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, positiveInteger, uniformParameter } from './common.js';

// The single-step recurrences of torch.nn.RNNCell, LSTMCell and GRUCell, and the step functions
// that the sequence modules (recurrent.ts) share with them. A step takes the input's projection
// `x W_ihᵀ + b_ih` already computed (the sequence modules compute it for every time step in one
// matmul) and adds the hidden projection, so the equations live in one place.

/** The nonlinearity of an Elman RNN: PyTorch's 'tanh' (default) or 'relu'. */
export type RecurrentNonlinearity = 'tanh' | 'relu';

/** `h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`, given the input's projection. */
export function rnnStep(
  projection: Tensor,
  h: Tensor,
  weightHh: Tensor,
  biasHh: Tensor | null,
  nonlinearity: RecurrentNonlinearity,
): Tensor {
  return tidy(() => {
    const preActivation = add(projection, linear(h, weightHh, biasHh));
    return nonlinearity === 'relu' ? relu(preActivation) : tanh(preActivation);
  });
}

/** A gate's slice of a [N, gates * size] projection. */
function gate(t: Tensor, index: number, size: number): Tensor {
  return narrow(t, 1, index * size, size);
}

/**
 * PyTorch's LSTM step, gates in the order i, f, g, o: `c' = σ(f) c + σ(i) tanh(g)`,
 * `h' = σ(o) tanh(c')`, then `h' = h' W_hrᵀ` with a projection. Returns [h', c'].
 */
export function lstmStep(
  projection: Tensor,
  h: Tensor,
  c: Tensor,
  weightHh: Tensor,
  biasHh: Tensor | null,
  weightHr: Tensor | null = null,
): [Tensor, Tensor] {
  return tidy(() => {
    const size = c.shape[c.ndim - 1] as number;
    const gates = add(projection, linear(h, weightHh, biasHh));
    const input = sigmoid(gate(gates, 0, size));
    const forget = sigmoid(gate(gates, 1, size));
    const candidate = tanh(gate(gates, 2, size));
    const output = sigmoid(gate(gates, 3, size));
    const nextC = add(mul(forget, c), mul(input, candidate));
    const nextH = mul(output, tanh(nextC));
    return [weightHr === null ? nextH : linear(nextH, weightHr, null), nextC];
  });
}

/**
 * PyTorch's GRU step, gates in the order r, z, n: `r = σ(W_ir x + b_ir + W_hr h + b_hr)`,
 * `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`,
 * `h' = (1 - z) n + z h`.
 */
export function gruStep(projection: Tensor, h: Tensor, weightHh: Tensor, biasHh: Tensor | null): Tensor {
  return tidy(() => {
    const size = h.shape[h.ndim - 1] as number;
    const hidden = linear(h, weightHh, biasHh);
    const reset = sigmoid(add(gate(projection, 0, size), gate(hidden, 0, size)));
    const update = sigmoid(add(gate(projection, 1, size), gate(hidden, 1, size)));
    const candidate = tanh(add(gate(projection, 2, size), mul(reset, gate(hidden, 2, size))));
    return add(mul(sub(1, update), candidate), mul(update, h));
  });
}

/** Checks an Elman nonlinearity option, naming the module. */
export function recurrentNonlinearity(module: string, value: unknown): RecurrentNonlinearity {
  if (value === undefined) return 'tanh';
  if (value !== 'tanh' && value !== 'relu') {
    throw new ValueError(`${module}: nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks a recurrent module's options argument. PyTorch takes these parameters positionally
 * (`nn.LSTM(10, 20, 2)`, `nn.GRUCell(10, 20, False)`); a value there instead of an object, or an
 * option spelled as PyTorch's keyword (`batch_first`), would be ignored by plain-JavaScript
 * callers, so both are refused, naming the option meant.
 */
export function recurrentOptions<T extends object>(module: string, options: T | undefined, keys: readonly string[]): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options) || isTensor(options)) {
    const got = isTensor(options)
      ? 'a Tensor'
      : options === null
        ? 'null'
        : Array.isArray(options)
          ? 'an array'
          : `a ${typeof options} (${JSON.stringify(options)})`;
    const first = keys.find((k) => k !== 'dtype' && k !== 'backend') as string;
    throw new ValueError(
      `${module}: argument 3 is the options object { ${keys.join(', ')} }; got ${got} — pass the ${first} as { ${first}: ${JSON.stringify(options)} }`,
    );
  }
  for (const key of Object.keys(options)) {
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (camel !== key && keys.includes(camel)) {
      throw new ValueError(`${module}: option '${key}' is spelled '${camel}' here; the options object takes { ${keys.join(', ')} }`);
    }
  }
  return options;
}

/** `{ backend }` of a tensor, for creating zeros next to it. */
export function backendOption(like: Tensor): { backend?: string } {
  const backend = backendOf(like)?.name;
  return backend === undefined ? {} : { backend };
}

/** Options of RNNCell, LSTMCell and GRUCell. */
export interface RecurrentCellOptions extends FactoryOptions {
  /** Input and hidden biases `biasIh`, `biasHh` (default true). */
  readonly bias?: boolean;
}

const CELL_OPTIONS = ['bias', 'dtype', 'backend'];

/** Options of RNNCell. */
export interface RNNCellOptions extends RecurrentCellOptions {
  /** 'tanh' (default) or 'relu'. */
  readonly nonlinearity?: RecurrentNonlinearity;
}

abstract class RecurrentCellBase<State, Out> extends Module<[Tensor, State?], Out> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** [gates * hiddenSize, inputSize] */
  readonly weightIh: Parameter;
  /** [gates * hiddenSize, hiddenSize] */
  readonly weightHh: Parameter;
  /** [gates * hiddenSize], or null without bias. */
  readonly biasIh: Parameter | null;
  readonly biasHh: Parameter | null;

  /** `gates` per hidden unit: 1 for RNN, 4 for LSTM (i, f, g, o), 3 for GRU (r, z, n). */
  constructor(name: string, gates: number, inputSize: number, hiddenSize: number, options: RecurrentCellOptions) {
    super();
    this.inputSize = positiveInteger(name, 'inputSize', inputSize);
    this.hiddenSize = positiveInteger(name, 'hiddenSize', hiddenSize);
    // As PyTorch: every weight and bias uniform in ±1/√hiddenSize; names are PyTorch's camelCased.
    const bound = 1 / Math.sqrt(hiddenSize);
    const bias = options.bias ?? true;
    this.weightIh = this.registerParameter('weightIh', uniformParameter([gates * hiddenSize, inputSize], bound, options));
    this.weightHh = this.registerParameter('weightHh', uniformParameter([gates * hiddenSize, hiddenSize], bound, options));
    this.biasIh = this.registerParameter('biasIh', bias ? uniformParameter([gates * hiddenSize], bound, options) : null);
    this.biasHh = this.registerParameter('biasHh', bias ? uniformParameter([gates * hiddenSize], bound, options) : null);
  }

  protected abstract readonly cellName: string;

  /** Checks the input: [N, inputSize] or unbatched [inputSize]. */
  protected checkInput(input: Tensor): void {
    if ((input.ndim !== 1 && input.ndim !== 2) || input.shape[input.ndim - 1] !== this.inputSize) {
      throw new ShapeError(
        `${this.cellName}: input must be [N, ${this.inputSize}] or unbatched [${this.inputSize}], got ${formatShape(input.shape)}`,
      );
    }
  }

  /** The state tensor `what` as [N, hiddenSize] (zeros when not given), checked against the input. */
  protected stateTensor(input: Tensor, state: Tensor | undefined, what: string): Tensor {
    const expected = input.ndim === 1 ? [this.hiddenSize] : [input.shape[0] as number, this.hiddenSize];
    if (state === undefined) {
      return zeros([input.ndim === 1 ? 1 : (input.shape[0] as number), this.hiddenSize], {
        dtype: input.dtype,
        ...backendOption(input),
      });
    }
    if (!isTensor(state)) {
      throw new ValueError(`${this.cellName}: ${what} must be a Tensor of shape ${formatShape(expected)}`);
    }
    if (state.ndim !== expected.length || state.shape.some((d, k) => d !== expected[k])) {
      throw new ShapeError(
        `${this.cellName}: ${what} must have shape ${formatShape(expected)} for input ${formatShape(input.shape)}, got ${formatShape(state.shape)}`,
      );
    }
    return cast(input.ndim === 1 ? reshape(state, [1, this.hiddenSize]) : state, input.dtype);
  }

  /** The input as [N, inputSize]. */
  protected batchedInput(input: Tensor): Tensor {
    return input.ndim === 1 ? reshape(input, [1, this.inputSize]) : input;
  }

  /** A [1, hiddenSize] result back to [hiddenSize] for unbatched input. */
  protected unbatch(input: Tensor, t: Tensor): Tensor {
    return input.ndim === 1 ? reshape(t, [this.hiddenSize]) : t;
  }

  protected projection(x: Tensor): Tensor {
    return linear(x, this.weightIh.value, this.biasIh?.value ?? null);
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.biasIh === null ? ', bias=false' : ''}`;
  }
}

/**
 * An Elman RNN cell (torch.nn.RNNCell): `h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)` (or ReLU).
 * Input [N, inputSize] or unbatched [inputSize]; `hx` defaults to zeros.
 *
 * @example
 * const cell = new nn.RNNCell(10, 20, { nonlinearity: 'relu' });
 * let h = cell.forward(x0); // x0 [N, 10] -> h [N, 20]
 * h = cell.forward(x1, h);
 */
export class RNNCell extends RecurrentCellBase<Tensor, Tensor> {
  protected readonly cellName = 'RNNCell';
  readonly nonlinearity: RecurrentNonlinearity;

  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    const checked = recurrentOptions('RNNCell', options, ['bias', 'nonlinearity', 'dtype', 'backend']);
    super('RNNCell', 1, inputSize, hiddenSize, checked);
    this.nonlinearity = recurrentNonlinearity('RNNCell', checked.nonlinearity);
  }

  forward(input: Tensor, hx?: Tensor): Tensor {
    this.checkInput(input);
    return tidy(() => {
      const h = this.stateTensor(input, hx, 'hx');
      const next = rnnStep(
        this.projection(this.batchedInput(input)),
        h,
        this.weightHh.value,
        this.biasHh?.value ?? null,
        this.nonlinearity,
      );
      return this.unbatch(input, next);
    });
  }

  override extraRepr(): string {
    return `${super.extraRepr()}${this.nonlinearity === 'tanh' ? '' : `, nonlinearity='${this.nonlinearity}'`}`;
  }
}

/**
 * A long short-term memory cell (torch.nn.LSTMCell), gates i, f, g, o:
 * `c' = σ(f) c + σ(i) tanh(g)`, `h' = σ(o) tanh(c')`. `forward(input, [h, c]?)` returns `[h', c']`;
 * the state defaults to zeros.
 *
 * @example
 * const cell = new nn.LSTMCell(10, 20);
 * const [h, c] = cell.forward(x); // x [N, 10] -> h, c [N, 20]
 */
export class LSTMCell extends RecurrentCellBase<[Tensor, Tensor], [Tensor, Tensor]> {
  protected readonly cellName = 'LSTMCell';

  constructor(inputSize: number, hiddenSize: number, options: RecurrentCellOptions = {}) {
    super('LSTMCell', 4, inputSize, hiddenSize, recurrentOptions('LSTMCell', options, CELL_OPTIONS));
  }

  forward(input: Tensor, hx?: [Tensor, Tensor]): [Tensor, Tensor] {
    this.checkInput(input);
    if (hx !== undefined && (!Array.isArray(hx) || hx.length !== 2)) {
      throw new ValueError('LSTMCell: the state must be [h, c], two tensors');
    }
    return tidy(() => {
      const h = this.stateTensor(input, hx?.[0], 'h');
      const c = this.stateTensor(input, hx?.[1], 'c');
      const [nextH, nextC] = lstmStep(this.projection(this.batchedInput(input)), h, c, this.weightHh.value, this.biasHh?.value ?? null);
      return [this.unbatch(input, nextH), this.unbatch(input, nextC)];
    });
  }
}

/**
 * A gated recurrent unit cell (torch.nn.GRUCell), gates r, z, n:
 * `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`, `h' = (1 - z) n + z h`. `hx` defaults to zeros.
 *
 * @example
 * const cell = new nn.GRUCell(10, 20);
 * const h = cell.forward(x, h0); // x [N, 10], h0 [N, 20] -> [N, 20]
 */
export class GRUCell extends RecurrentCellBase<Tensor, Tensor> {
  protected readonly cellName = 'GRUCell';

  constructor(inputSize: number, hiddenSize: number, options: RecurrentCellOptions = {}) {
    super('GRUCell', 3, inputSize, hiddenSize, recurrentOptions('GRUCell', options, CELL_OPTIONS));
  }

  forward(input: Tensor, hx?: Tensor): Tensor {
    this.checkInput(input);
    return tidy(() => {
      const h = this.stateTensor(input, hx, 'hx');
      const next = gruStep(this.projection(this.batchedInput(input)), h, this.weightHh.value, this.biasHh?.value ?? null);
      return this.unbatch(input, next);
    });
  }
}
