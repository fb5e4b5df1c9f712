import { ValueError } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { type TensorLike, toTensor } from './convert.js';
import { moveaxis, narrow, unstack } from './movement.js';

// torch.tensor_split, and PyTorch's names for two movement ops Flint has under NumPy's names
// (torch.unbind is `unstack`, torch.movedim is `moveaxis`).

/**
 * Splits `x` along `axis` as torch.tensor_split (numpy.array_split): a number `n` gives n pieces
 * whose sizes differ by at most one, the larger first (`tensorSplit(arange(7), 3)` has sizes 3,
 * 2, 2); a list of indices splits before each of them, as Python slices do: an index past the
 * end, or one below the previous, gives an empty piece, and a negative one counts from the end.
 * The pieces are views.
 *
 * @example
 * tensorSplit(arange(7), 3);         // [0, 1, 2], [3, 4], [5, 6]
 * tensorSplit(arange(7), [1, 5]);    // [0], [1, 2, 3, 4], [5, 6]
 */
export function tensorSplit(x: TensorLike, indicesOrSections: number | readonly number[], axis = 0): Tensor[] {
  const op = 'tensorSplit';
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis, t.ndim);
  const n = t.shape[a] as number;
  let bounds: number[];
  if (typeof indicesOrSections === 'number') {
    const sections = indicesOrSections;
    if (!Number.isInteger(sections) || sections < 1)
      throw new ValueError(`${op}: the number of sections must be a positive integer, got ${sections}`);
    const size = Math.floor(n / sections);
    const larger = n % sections;
    bounds = [0];
    for (let i = 0; i < sections; i++) bounds.push((bounds[i] as number) + size + (i < larger ? 1 : 0));
  } else if (Array.isArray(indicesOrSections)) {
    for (const index of indicesOrSections) {
      if (!Number.isInteger(index)) throw new ValueError(`${op}: indices must be integers, got ${JSON.stringify(indicesOrSections)}`);
    }
    const clampIndex = (index: number): number => Math.min(Math.max(index < 0 ? index + n : index, 0), n);
    bounds = [0, ...indicesOrSections.map(clampIndex), n];
  } else {
    throw new ValueError(`${op}: expects a number of sections or a list of indices, got ${JSON.stringify(indicesOrSections)}`);
  }
  const pieces: Tensor[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i] as number;
    pieces.push(narrow(t, a, start, Math.max((bounds[i + 1] as number) - start, 0)));
  }
  return pieces;
}

/**
 * The slices of `x` along `axis`, that axis removed (torch.unbind): the same as `unstack`.
 *
 * @example
 * const [row0, row1] = unbind(tensor([[1, 2], [3, 4]])); // [1, 2] and [3, 4]
 */
export function unbind(x: TensorLike, axis = 0): Tensor[] {
  return unstack(x, axis);
}

/**
 * Moves axes to new positions, keeping the others in order (torch.movedim): the same as
 * `moveaxis`.
 *
 * @example
 * movedim(zeros([2, 3, 4]), 0, -1).shape; // [3, 4, 2]
 */
export function movedim(x: TensorLike, source: number | readonly number[], destination: number | readonly number[]): Tensor {
  return moveaxis(x, source, destination);
}
