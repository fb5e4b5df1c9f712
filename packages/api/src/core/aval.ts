import type { DType } from './dtype.js';
import type { Shape } from './shape.js';

/** An abstract value: what is known about a tensor without its contents. */
export interface Aval {
  readonly shape: Shape;
  readonly dtype: DType;
}
