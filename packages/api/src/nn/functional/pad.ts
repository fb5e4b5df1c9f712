import { ValueError } from '../../core/errors.js';
import { formatShape, type Shape } from '../../core/shape.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { concat, pad as padAxes, slice } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import type { PadPair } from '../../primitives/primitive.js';
import type { Tensor } from '../../tensor/tensor.js';

// torch.nn.functional.pad over the numpy-style `pad` of ops/movement.ts: PyTorch's flat list of
// (left, right) amounts from the last dimension backwards becomes one [before, after] pair per
// axis; negative amounts crop; 'circular' (numpy's 'wrap', which movement's pad lacks) is a
// concatenation of each axis's opposite ends.

/** How `nn.functional.pad` fills the border, as torch.nn.functional.pad's `mode`. */
export type FunctionalPadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Options of `nn.functional.pad`. */
export interface FunctionalPadOptions {
  /** 'constant' (default) fills with `value`; 'reflect' mirrors without repeating the edge; 'replicate' repeats the edge; 'circular' wraps around. */
  readonly mode?: FunctionalPadMode;
  /** The fill value of 'constant' mode (default 0). */
  readonly value?: number | boolean;
}

// PyTorch: pad(input, pad, mode, value).
const PAD_SIGNATURE = optionsSignature<FunctionalPadOptions>(3, { mode: true, value: true });

const MODES: readonly FunctionalPadMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/**
 * Pads (or, with negative amounts, crops) the last dimensions of `input`, as
 * torch.nn.functional.pad: `padding` is a flat list of (left, right) amounts, the first pair for
 * the last dimension, the next for the one before, and so on. Unlike the top-level `pad` (numpy's
 * convention: one pair per axis, from the first), dimensions without a pair are left alone.
 *
 * @example
 * nn.functional.pad(images, [1, 1]);                          // [N, C, H, W + 2]
 * nn.functional.pad(images, [1, 1, 2, 2], { mode: 'reflect' }); // [N, C, H + 4, W + 2]
 * nn.functional.pad(tensor([1, 2, 3]), [2, -1], { mode: 'circular' }); // [2, 3, 1, 2]
 */
export const pad = withCheckedOptions(
  'nn.functional.pad',
  PAD_SIGNATURE,
  (input: TensorLike, padding: readonly number[], options: FunctionalPadOptions = {}): Tensor => {
    const op = 'nn.functional.pad';
    const x = toTensor(op, input);
    const pairs = axisPairs(op, x.shape, padding);
    const mode = checkMode(op, options);
    const context = `input ${formatShape(x.shape)}, pad ${JSON.stringify(padding)}`;
    pairs.forEach((pair, axis) => {
      checkAxis(op, mode, pair, x.shape[axis] as number, axis, context);
    });
    const growth = pairs.map(([lo, hi]) => [Math.max(lo, 0), Math.max(hi, 0)] as const);
    // PyTorch reflects and replicates relative to the uncropped input, but wraps the cropped one.
    if (mode === 'reflect' || mode === 'replicate') {
      return crop(padAxes(x, growth, { mode: mode === 'reflect' ? 'reflect' : 'edge' }), pairs);
    }
    const cropped = crop(x, pairs);
    if (mode === 'circular') return wrap(cropped, growth);
    return padAxes(cropped, growth, { value: options.value ?? 0 });
  },
);

/** One [before, after] pair per axis from PyTorch's flat list, which starts at the last axis. */
function axisPairs(op: string, shape: Shape, padding: readonly number[]): PadPair[] {
  if (!Array.isArray(padding) || padding.some((p) => !Number.isInteger(p))) {
    const hint =
      Array.isArray(padding) && padding.some(Array.isArray)
        ? '; for numpy-style [before, after] pairs per axis use the top-level pad()'
        : '';
    throw new ValueError(
      `${op}: pad must be a flat list of integers, (left, right) pairs from the last dimension (input ${formatShape(shape)}), got ${JSON.stringify(padding)}${hint}`,
    );
  }
  if (padding.length % 2 !== 0) {
    throw new ValueError(
      `${op}: pad must have an even length, (left, right) per dimension; got ${JSON.stringify(padding)} (input ${formatShape(shape)})`,
    );
  }
  if (padding.length / 2 > shape.length) {
    throw new ValueError(
      `${op}: pad ${JSON.stringify(padding)} pads ${padding.length / 2} dimensions, but the input ${formatShape(shape)} has ${shape.length}`,
    );
  }
  return shape.map((_, axis) => {
    const k = shape.length - 1 - axis;
    return 2 * k < padding.length ? [padding[2 * k] as number, padding[2 * k + 1] as number] : [0, 0];
  });
}

function checkMode(op: string, options: FunctionalPadOptions): FunctionalPadMode {
  const mode = options.mode ?? 'constant';
  if (!MODES.includes(mode)) {
    throw new ValueError(`${op}: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  }
  const { value } = options;
  if (value !== undefined && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new ValueError(`${op}: value must be a number or boolean, got ${typeof value}`);
  }
  // As PyTorch: only 'constant' fills, and a value for another mode is a mistake unless it is the default.
  if (mode !== 'constant' && value !== undefined && Number(value) !== 0) {
    throw new ValueError(`${op}: mode '${mode}' takes no value (got ${value}); only 'constant' fills`);
  }
  return mode;
}

/** The limits PyTorch puts on one axis's amounts, with the op, input shape and pad list in the message. */
function checkAxis(op: string, mode: FunctionalPadMode, [lo, hi]: PadPair, size: number, axis: number, context: string): void {
  const where = `dimension ${axis} (size ${size})`;
  const kept = size - Math.max(-lo, 0) - Math.max(-hi, 0);
  if (kept < 0) throw new ValueError(`${op}: negative padding [${lo}, ${hi}] crops more than ${where} holds; ${context}`);
  if (mode === 'reflect' && (lo >= size || hi >= size)) {
    throw new ValueError(`${op}: reflect padding [${lo}, ${hi}] of ${where} must be less than its size; ${context}`);
  }
  if (mode === 'replicate' && size === 0 && (lo > 0 || hi > 0)) {
    throw new ValueError(`${op}: replicate padding of the empty ${where} has no edge to repeat; ${context}`);
  }
  if (mode === 'circular' && (lo > kept || hi > kept)) {
    throw new ValueError(`${op}: circular padding [${lo}, ${hi}] of ${where} would wrap around more than once; ${context}`);
  }
}

/** Removes -lo and -hi elements from the ends of the axes whose amounts are negative. */
function crop(x: Tensor, pairs: readonly PadPair[]): Tensor {
  if (pairs.every(([lo, hi]) => lo >= 0 && hi >= 0)) return x;
  const starts = pairs.map(([lo]) => Math.max(-lo, 0));
  const stops = pairs.map(([, hi], axis) => (x.shape[axis] as number) - Math.max(-hi, 0));
  return slice(x, starts, stops);
}

/** Circular padding: each axis gets its last `lo` elements before and its first `hi` after, axis by axis so corners wrap too. */
function wrap(x: Tensor, growth: readonly PadPair[]): Tensor {
  let out = x;
  growth.forEach(([lo, hi], axis) => {
    if (lo === 0 && hi === 0) return;
    const n = out.shape[axis] as number;
    const starts = (start: number) => out.shape.map((_, i) => (i === axis ? start : 0));
    const stops = (stop: number) => out.shape.map((d, i) => (i === axis ? stop : d));
    const before = lo > 0 ? [slice(out, starts(n - lo), stops(n))] : [];
    const after = hi > 0 ? [slice(out, starts(0), stops(hi))] : [];
    out = concat([...before, out, ...after], axis);
  });
  return out;
}
