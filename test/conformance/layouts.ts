import { bind, Primitive, type Tensor } from '@flint/api';
import type { Layout } from './cases/types.js';
import { broadcastReference, flipReference, sliceReference, transposeReference } from './reference/movement.js';
import type { RefArray } from './reference/ndarray.js';

// Each layout knows three things: the shape of the array it starts from, given the shape it must
// produce; how the reference computes it; and which movement primitive makes it on a backend.

interface SliceParams {
  readonly starts: number[];
  readonly stops: number[];
  readonly steps: number[];
}

/** A slice with `steps` that yields `shape`, starting one element in and stopping one short of the end. */
function sliceFor(shape: readonly number[], steps: readonly number[]): { source: number[]; params: SliceParams } {
  const source: number[] = [];
  const starts: number[] = [];
  const stops: number[] = [];
  shape.forEach((n, i) => {
    const step = steps[i] ?? 1;
    const span = n === 0 ? 0 : (n - 1) * step + 1;
    starts.push(1);
    stops.push(1 + span);
    source.push(1 + span + 1);
  });
  return { source, params: { starts, stops, steps: shape.map((_, i) => steps[i] ?? 1) } };
}

export function sourceShape(layout: Layout, shape: readonly number[]): number[] {
  if ('broadcastFrom' in layout) return [...layout.broadcastFrom];
  if ('transpose' in layout) {
    const source: number[] = new Array(shape.length);
    layout.transpose.forEach((p, i) => {
      source[p] = shape[i] as number;
    });
    return source;
  }
  if ('sliceSteps' in layout) return sliceFor(shape, layout.sliceSteps).source;
  return [...shape];
}

export function applyReference(layout: Layout, source: RefArray, shape: readonly number[]): RefArray {
  if ('broadcastFrom' in layout) return broadcastReference(source, shape).out;
  if ('transpose' in layout) return transposeReference(source, layout.transpose).out;
  if ('sliceSteps' in layout) {
    const { params } = sliceFor(shape, layout.sliceSteps);
    return sliceReference(source, params.starts, params.stops, params.steps).out;
  }
  return flipReference(source, layout.flip).out;
}

export function applyOnBackend(layout: Layout, source: Tensor, shape: readonly number[]): Tensor {
  if ('broadcastFrom' in layout) return bind(Primitive.Broadcast, [source], { shape: [...shape] });
  if ('transpose' in layout) return bind(Primitive.Transpose, [source], { perm: [...layout.transpose] });
  if ('sliceSteps' in layout) return bind(Primitive.Slice, [source], sliceFor(shape, layout.sliceSteps).params);
  return bind(Primitive.Flip, [source], { axes: [...layout.flip] });
}

/** A short label for reports: "transposed [1,0]", "broadcast from [1,5]". */
export function describeLayout(layout: Layout): string {
  if ('broadcastFrom' in layout) return `broadcast from [${layout.broadcastFrom.join(',')}]`;
  if ('transpose' in layout) return `transposed [${layout.transpose.join(',')}]`;
  if ('sliceSteps' in layout) return `sliced with steps [${layout.sliceSteps.join(',')}]`;
  return `flipped [${layout.flip.join(',')}]`;
}
