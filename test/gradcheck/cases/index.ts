import type { OpCase } from '../harness.js';
import { binaryCases, otherElementwiseCases, unaryCases } from './elementwise.js';
import { linalgCases } from './linalg.js';
import { movementCases } from './movement.js';
import { nonDifferentiableCases } from './nondifferentiable.js';
import { reduceCases, scanCases } from './reduce.js';

/** Every primitive-level case, grouped as the primitives are. */
export const primitiveCases: readonly OpCase<never>[] = [
  ...unaryCases,
  ...binaryCases,
  ...otherElementwiseCases,
  ...reduceCases,
  ...scanCases,
  ...movementCases,
  ...linalgCases,
  ...nonDifferentiableCases,
] as unknown as readonly OpCase<never>[];
