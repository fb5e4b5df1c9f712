import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { reshape } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';

/** Options of `meshgrid`. */
export interface MeshgridOptions {
  /**
   * 'ij' (the default, as torch.meshgrid): output axis i runs along input i. 'xy' (numpy's
   * default, Cartesian): the first two axes are swapped, so that 2-D grids are indexed [y, x].
   */
  readonly indexing?: 'ij' | 'xy';
}

const MESHGRID = optionsSignature<MeshgridOptions>(2, { indexing: true });

/**
 * Coordinate grids from 1-D coordinate vectors (torch.meshgrid, numpy.meshgrid): for inputs of
 * sizes n1, ..., nk, k tensors of shape [n1, ..., nk] ('ij') or [n2, n1, n3, ..., nk] ('xy'),
 * the i-th holding input i's values along its axis. Each keeps its input's dtype; the results are
 * broadcast views where the backend has them. A 0-dim input counts as a vector of one element.
 *
 * @example
 * const [rows, cols] = meshgrid([arange(2), arange(3)]);           // both [2, 3]; rows [[0,0,0],[1,1,1]]
 * const [xs, ys] = meshgrid([arange(3), arange(2)], { indexing: 'xy' }); // both [2, 3]; xs [[0,1,2],[0,1,2]]
 */
export const meshgrid = withCheckedOptions(
  'meshgrid',
  MESHGRID,
  (tensors: readonly TensorLike[], options: MeshgridOptions = {}): Tensor[] => {
    const op = 'meshgrid';
    if (!Array.isArray(tensors)) {
      throw new ValueError(
        `${op}: pass the coordinate vectors as one array, meshgrid([x, y]), got ${isTensor(tensors) ? 'a tensor' : typeof tensors}`,
      );
    }
    const indexing = options.indexing ?? 'ij';
    if (indexing !== 'ij' && indexing !== 'xy') {
      throw new ValueError(`${op}: indexing must be 'ij' or 'xy', got ${JSON.stringify(indexing)}`);
    }
    const like = tensors.find(isTensor);
    const vectors = tensors.map((v, i) => {
      const t = toTensor(op, v, undefined, like);
      if (t.ndim > 1) throw new ShapeError(`${op}: input ${i} must be 0-D or 1-D, got shape ${formatShape(t.shape)}`);
      return t;
    });
    const sizes = vectors.map((t) => t.size);
    // Where each input's values run in the output: 'xy' swaps the first two axes.
    const axisOf = (i: number): number => (indexing === 'xy' && vectors.length >= 2 && i < 2 ? 1 - i : i);
    const shape = sizes.map((_, axis) => sizes[axisOf(axis)] as number);
    return vectors.map((t, i) => {
      const along = shape.map((d, axis) => (axis === axisOf(i) ? d : 1));
      return broadcastTo(reshape(t, along), shape);
    });
  },
);
