import type { Backend } from '../backend/spi.js';
import { checkDType, type DType, isFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import type { CreationOptions } from '../ops/convert.js';
import { tensor } from '../ops/convert.js';
import { add } from '../ops/elementwise.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { normal, permutation, randint as randintWithKey, uniform } from './distributions.js';
import { foldIn, key } from './keys.js';

// A seeded global generator for PyTorch-style code. It holds a seed and a call counter rather than
// a key tensor: call i draws from foldIn(key(seed), i), which is the same sequence a held key
// split once per call would give in spirit, but needs no tensor kept alive across `tidy` scopes,
// no synchronous read, and works on whichever backend each call asks for.
//
// Inside jit the generator is state the compiled program threads, as compile() threads
// parameters and module buffers: while a function is traced, its draws read two program inputs
// (the base key and the counter at the call) instead of the numbers of the moment, so draw k of
// the trace is foldIn(key, counter + k); each call passes the generator's current key and counter
// and advances the counter by the number of draws the trace made. A compiled call thus draws what
// the same code run eagerly would draw, and fresh values on every call (Dropout's masks).
/** PyTorch's default CPU seed, so unseeded programs are reproducible as they are in PyTorch. */
const DEFAULT_SEED = 67280421310721;

interface GeneratorState {
  seed: number;
  counter: number;
}

// On globalThis, like the backend registry, so that duplicated copies of the library share it.
const STATE_KEY = Symbol.for('flint.globalGenerator');
const state: GeneratorState = ((globalThis as Record<symbol, unknown>)[STATE_KEY] as GeneratorState | undefined) ?? {
  seed: DEFAULT_SEED,
  counter: 0,
};
(globalThis as Record<symbol, unknown>)[STATE_KEY] = state;

/** Options of the global generator's functions: dtype and backend of the result. */
export type GeneratorOptions = CreationOptions;

/**
 * Seeds the global generator (torch.manual_seed): later `randn`, `rand`, `randint` and `randperm`
 * calls repeat the same sequence after the same seed.
 *
 * @example
 * manualSeed(0);
 * const a = randn([3]);
 * manualSeed(0);
 * const b = randn([3]); // equal to a
 */
export function manualSeed(seed: number): void {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ValueError(`manualSeed: seed must be an integer between -(2^53 - 1) and 2^53 - 1, got ${String(seed)}`);
  }
  state.seed = seed;
  state.counter = 0;
}

/** The seed the global generator was last seeded with (torch.initial_seed). */
export function initialSeed(): number {
  return state.seed;
}

/** A 32-bit avalanche mix (the finalizer of MurmurHash3). */
function mix32(h: number): number {
  let z = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * @internal A seed for sampling on the host (a DataLoader's shuffle, `randomSplit`) drawn from
 * the global generator, as torch's samplers without a generator draw theirs from its default
 * one: the same after the same `manualSeed`, and a new one at every draw, which takes a step of
 * the counter as `randn` does. It is computed on the host from the seed and the counter (no
 * backend, no read); in a jit trace it is host code, drawn at trace time from the eager state.
 */
export function drawHostSeed(): number {
  const index = state.counter++;
  let h = mix32((state.seed >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ (Math.floor(state.seed / 2 ** 32) | 0));
  h = mix32(h ^ (index >>> 0));
  h = mix32(h ^ (Math.floor(index / 2 ** 32) | 0));
  // 53 bits, all of which SeededRandom uses.
  return (mix32(h ^ 0x632be5ab) & 0x1fffff) * 2 ** 32 + h;
}

/**
 * @internal The generator as a jit trace sees it: draws read the program's generator inputs,
 * which `inputs` makes on the first draw, and `draws` counts them.
 */
export interface TracedGenerator {
  inputs(): { readonly key: Tensor; readonly counter: Tensor };
  draws: number;
}

let traced: TracedGenerator | null = null;

/** @internal jit's hook: makes the generator's draws read a trace's inputs (null: the global state); returns the previous one. */
export function setTracedGenerator(next: TracedGenerator | null): TracedGenerator | null {
  const previous = traced;
  traced = next;
  return previous;
}

/** @internal Whether the global generator's draws currently read a jit trace's inputs. */
export function isGeneratorTraced(): boolean {
  return traced !== null;
}

/**
 * @internal Where the global generator stands: the seed and counter of the eager generator, or
 * the trace's generator and how many draws the trace had made (`counter`). A class, so that
 * pytrees of residuals holding one treat it as a leaf.
 */
export class GeneratorPosition {
  constructor(
    readonly traced: TracedGenerator | null,
    readonly seed: number,
    readonly counter: number,
  ) {}
}

/** @internal The generator's current position, for `replayGenerator`. */
export function generatorPosition(): GeneratorPosition {
  return traced === null ? new GeneratorPosition(null, state.seed, state.counter) : new GeneratorPosition(traced, state.seed, traced.draws);
}

/**
 * @internal Runs `fn` with the generator moved back to `position`, so that its draws repeat
 * those made from there (checkpoint's recomputation, as PyTorch's preserve_rng_state), then puts
 * the generator back where it was: draws after it are those of a run without the replay.
 */
export function replayGenerator<T>(position: GeneratorPosition, fn: () => T): T {
  const previousTraced = traced;
  const { seed, counter } = state;
  const replayed = position.traced;
  const replayedDraws = replayed?.draws ?? 0;
  traced = replayed;
  if (replayed === null) {
    state.seed = position.seed;
    state.counter = position.counter;
  } else replayed.draws = position.counter;
  try {
    return fn();
  } finally {
    if (replayed !== null) replayed.draws = replayedDraws;
    traced = previousTraced;
    state.seed = seed;
    state.counter = counter;
  }
}

/**
 * @internal The generator inputs of a compiled call whose program draws `draws` times: the base
 * key (int32 [2], on `backend`) and the counter of its first draw (int32 []), after which the
 * generator is advanced past those draws. Inside a jit trace they are that trace's own inputs,
 * so a compiled call nested in a traced function draws from the enclosing program's stream (the
 * caller must then stage the call into that trace, even on concrete arguments: the inputs are
 * tracers). `release` frees the tensors made here.
 */
export function generatorArguments(draws: number, backend: Backend): { readonly inputs: Tensor[]; release(): void } {
  if (traced !== null) {
    const { key: base, counter } = traced.inputs();
    const offset = traced.draws;
    traced.draws += draws;
    return { inputs: [base, offset === 0 ? counter : add(counter, offset)], release: () => {} };
  }
  const inputs = [
    key(state.seed, { backend: backend.name }),
    tensor(new Int32Array([state.counter | 0]), { shape: [], backend: backend.name }),
  ];
  state.counter += draws;
  return {
    inputs,
    release: () => {
      for (const t of inputs) t.dispose();
    },
  };
}

function nextKey(backend: string | undefined): Tensor {
  if (traced !== null) {
    const { key: base, counter } = traced.inputs();
    const index = traced.draws++;
    return tidy(() => foldIn(base, index === 0 ? counter : add(counter, index)));
  }
  const index = state.counter++;
  return tidy(() => foldIn(key(state.seed, backend === undefined ? {} : { backend }), index));
}

/**
 * @internal Runs `sample` on the global generator's next key (on `backend`, or the default one),
 * as every PyTorch-style sampler draws: one counter step per call, traced under jit.
 */
export function draw<T>(backend: string | undefined, sample: (k: Tensor) => T): T {
  const k = nextKey(backend);
  try {
    return tidy(() => sample(k));
  } finally {
    k.dispose();
  }
}

function floatOption(op: string, options: GeneratorOptions): DType {
  const dtype = options.dtype === undefined ? 'float32' : checkDType(op, options.dtype);
  if (!isFloating(dtype)) throw new DTypeError(`${op}: dtype must be floating (float32, float64, float16 or bfloat16), got ${dtype}`);
  return dtype;
}

/**
 * Standard normal samples from the global generator (torch.randn).
 *
 * @example
 * manualSeed(42);
 * const w = randn([784, 128]).mul(0.01);
 */
export function randn(shape: Shape | number, options: GeneratorOptions = {}): Tensor {
  const dtype = floatOption('randn', options);
  return draw(options.backend, (k) => normal(k, shape, { dtype }));
}

/**
 * Samples uniform in [0, 1) from the global generator (torch.rand).
 *
 * @example
 * const mask = rand([4, 4]).less(0.5);
 */
export function rand(shape: Shape | number, options: GeneratorOptions = {}): Tensor {
  const dtype = floatOption('rand', options);
  return draw(options.backend, (k) => uniform(k, shape, { dtype }));
}

/**
 * Integers uniform in [low, high) from the global generator (torch.randint): `randint(high,
 * shape)` or `randint(low, high, shape)`. int32 unless `dtype` says otherwise.
 *
 * @example
 * randint(10, [5]);       // in [0, 10)
 * randint(-3, 3, [2, 2]);  // in [-3, 3)
 */
export function randint(high: number, shape: Shape | number, options?: GeneratorOptions): Tensor;
export function randint(low: number, high: number, shape: Shape | number, options?: GeneratorOptions): Tensor;
export function randint(a: number, b: number | Shape, c?: Shape | number | GeneratorOptions, d?: GeneratorOptions): Tensor {
  const withLow = typeof b === 'number' && (Array.isArray(c) || typeof c === 'number');
  const low = withLow ? a : 0;
  const high = withLow ? (b as number) : a;
  const shape = (withLow ? c : b) as Shape | number;
  const options = ((withLow ? d : c) ?? {}) as GeneratorOptions;
  const dtype = options.dtype === undefined ? 'int32' : checkDType('randint', options.dtype);
  return draw(options.backend, (k) => cast(randintWithKey(k, shape, low, high), dtype));
}

/**
 * A random permutation of 0 .. n-1 from the global generator (torch.randperm), int32 unless
 * `dtype` says otherwise.
 *
 * @example
 * const order = randperm(dataset.length);
 */
export function randperm(n: number, options: GeneratorOptions = {}): Tensor {
  const dtype = options.dtype === undefined ? 'int32' : checkDType('randperm', options.dtype);
  return draw(options.backend, (k) => cast(permutation(k, n), dtype));
}
