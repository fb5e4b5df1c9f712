/**
 * The shape every runner's cases share: the check computes one result and reads it; a timed batch
 * runs the iteration `count` times, releasing each result, and waits for the work the system's own
 * way (bench/README.md, "How figures are timed").
 */
import { concatValues } from './child.js';
import type { PreparedCase } from './driver.js';
import type { CaseSpec } from './suites.js';

type Values = Float32Array | Float64Array | readonly number[];

export interface RepeatedRun<R> {
  readonly note: string;
  /** One iteration; its result is released by `output` (the check) or `release` (timing). */
  run(): R;
  /** The check's values from one result, which it releases. */
  output(result: R): Promise<Values>;
  release(result: R): void;
  /** Waits until `result` is computed; absent where kernels are synchronous. */
  settle?(result: R): unknown;
  /**
   * Wait after every iteration (a lazy system whose queue would otherwise grow without bound)
   * instead of only after the last one.
   */
  readonly settleEvery?: boolean;
  dispose?(): void;
}

export function repeatedCase<R>(spec: RepeatedRun<R>): PreparedCase {
  const { run, release, settle } = spec;
  const settleEvery = spec.settleEvery === true;
  return {
    note: spec.note,
    check: async () => spec.output(run()),
    batch: settle
      ? async (count: number) => {
          for (let i = 0; i < count; i++) {
            const result = run();
            if (settleEvery || i === count - 1) await settle(result);
            release(result);
          }
        }
      : (count: number) => {
          for (let i = 0; i < count; i++) release(run());
        },
    ...(spec.dispose ? { dispose: spec.dispose } : {}),
  };
}

/**
 * A training case's check values: the gradients at the initial parameters (already read, in the
 * canonical order), then the losses of the first `checkSteps` steps.
 */
export async function trainingCheck(
  spec: CaseSpec,
  gradients: ArrayLike<number>[],
  stepLoss: () => Promise<ArrayLike<number>>,
): Promise<Float32Array> {
  const parts = [...gradients];
  for (let s = 0; s < (spec.checkSteps ?? 1); s++) parts.push(await stepLoss());
  return concatValues(parts);
}
