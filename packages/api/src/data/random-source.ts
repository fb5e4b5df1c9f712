import { ValueError } from '../core/errors.js';
import { drawHostSeed } from '../random/generator.js';

/**
 * A source of random 32-bit words for host-side sampling decisions (shuffles, splits). They are
 * drawn on the host, not on a backend, so that choosing indices never waits for a device.
 */
export interface RandomSource {
  /** A uniformly random integer in [0, 2^32). */
  nextUint32(): number;
}

/** A RandomSource, or a seed to make one from. */
export type RandomSourceLike = RandomSource | number;

function splitMix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A small, fast, seeded generator (xoshiro128**, seeded by SplitMix32) for reproducible shuffles
 * and splits: the same seed gives the same sequence on every platform.
 *
 * @example
 * const loader = new DataLoader(dataset, { batchSize: 32, shuffle: true, generator: new SeededRandom(42) });
 */
export class SeededRandom implements RandomSource {
  private readonly words = new Uint32Array(4);

  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
      throw new ValueError(`SeededRandom: seed must be an integer, got ${String(seed)}`);
    // Both halves of a 53-bit seed matter.
    const next = splitMix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x27d4eb2d));
    for (let i = 0; i < 4; i++) this.words[i] = next();
    if (this.words.every((w) => w === 0)) this.words[0] = 1;
  }

  nextUint32(): number {
    const s = this.words;
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const s2 = s[2] as number;
    const s3 = s[3] as number;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s[2] = s2 ^ s0;
    s[3] = s3 ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = s0 ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    const w3 = s[3] as number;
    s[3] = (w3 << 11) | (w3 >>> 21);
    return result;
  }

  /** The generator's state, to resume a sequence later (for example from a checkpoint). */
  getState(): number[] {
    return [...this.words];
  }

  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w >= 2 ** 32)) {
      throw new ValueError(`SeededRandom.setState: expected 4 unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    }
    this.words.set(state);
  }
}

/**
 * The source of a sampler (or split) given no generator, as torch's RandomSampler without one:
 * every epoch draws from a fresh seed taken from the global generator (`manualSeed`,
 * `seedEverything`, `Trainer({ seed })`) as it starts, so that runs after the same seed repeat
 * their order, successive epochs differ, and each epoch advances the global generator by one
 * draw. Its state (`getState` / `setState`, what the Trainer keeps in checkpoints) is that of the
 * epoch about to start: reading it draws that epoch's seed early, and an epoch started after
 * `setState` replays the restored sequence without drawing.
 */
export class GlobalSeededRandom implements RandomSource {
  /** The sequence of the epoch about to start, once drawn or restored. */
  #upcoming: SeededRandom | null = null;
  /** The sequence of the epoch under way. */
  #current: SeededRandom | null = null;

  /** Starts an epoch, whose draws follow the upcoming sequence; returns that sequence. */
  startEpoch(): RandomSource {
    this.#current = this.#nextSequence();
    this.#upcoming = null;
    return this.#current;
  }

  nextUint32(): number {
    return (this.#current ?? this.startEpoch()).nextUint32();
  }

  /** The state the next epoch starts from. */
  getState(): number[] {
    return this.#nextSequence().getState();
  }

  /** Makes the next epoch start from `state` (from `getState`). */
  setState(state: readonly number[]): void {
    const restored = new SeededRandom(0);
    restored.setState(state);
    this.#upcoming = restored;
  }

  #nextSequence(): SeededRandom {
    this.#upcoming ??= new SeededRandom(drawHostSeed());
    return this.#upcoming;
  }
}

/** What one epoch (or one split) draws from: the source itself, or the sequence a GlobalSeededRandom starts for it. */
export function epochSource(source: RandomSource): RandomSource {
  return source instanceof GlobalSeededRandom ? source.startEpoch() : source;
}

/** `value` as a RandomSource: seeds become SeededRandom; nothing becomes a GlobalSeededRandom. */
export function toRandomSource(owner: string, value: RandomSourceLike | undefined): RandomSource {
  if (value === undefined) return new GlobalSeededRandom();
  if (typeof value === 'number') return new SeededRandom(value);
  if (typeof value === 'object' && value !== null && typeof value.nextUint32 === 'function') return value;
  throw new ValueError(`${owner}: generator must be a seed (an integer) or an object with nextUint32(), got ${String(value)}`);
}

/** A uniformly random integer in [0, n), without modulo bias. */
export function randomBelow(source: RandomSource, n: number): number {
  if (n <= 1) return 0;
  // Reject the top partial block of the 2^32 range so that every residue is equally likely.
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (;;) {
    const word = source.nextUint32();
    if (word < limit) return word % n;
  }
}

/** A uniformly random permutation of 0 .. n-1 (Fisher-Yates). */
export function randomPermutation(source: RandomSource, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomBelow(source, i + 1);
    const tmp = out[i] as number;
    out[i] = out[j] as number;
    out[j] = tmp;
  }
  return out;
}
