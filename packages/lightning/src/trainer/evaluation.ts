import { dispose, forEachTensor, keep, noGrad, tidy } from '@flint/api';
import type { LightningModule, StepOutput } from '../module.js';
import { type BatchSource, castBatchToFloat64, epochBatches, inferBatchSize, ownsBatches } from './batches.js';
import { guard, wrapError } from './guard.js';
import type { MetricCollector, MetricsOut } from './metrics.js';
import type { Profiler } from './profiler.js';
import { getGlobalRandomState, setGlobalRandomState } from './rng.js';

/** What one evaluation run needs. */
export interface EvaluationRun {
  readonly module: LightningModule<never[], unknown>;
  readonly source: BatchSource;
  /** For messages and the profiler: 'validate', 'test' or 'sanityCheck'. */
  readonly stage: string;
  /** The step method's name, for messages: 'validationStep' or 'testStep'. */
  readonly stepName: string;
  readonly step: (batch: unknown, batchIdx: number) => StepOutput;
  readonly onStart?: (() => void) | undefined;
  readonly onEnd?: (() => void) | undefined;
  /** Batches to run at most. */
  readonly limit: number;
  readonly collector: MetricCollector;
  readonly profiler: Profiler;
  readonly float64: boolean;
  readonly epoch: number;
  readonly globalStep: number;
  /** Batches to use instead of iterating `source` (overfitBatches). */
  readonly cached?: readonly unknown[] | undefined;
}

/**
 * Runs a validation or test loop: eval mode, no tape, each step in its own memory scope, values
 * logged per batch reduced over the run. The global random state is put back afterwards, so that
 * evaluating never changes the numbers training draws next (and a resumed run matches).
 */
export async function runEvaluation(run: EvaluationRun): Promise<{ metrics: MetricsOut; batches: number }> {
  const { module, collector, profiler } = run;
  const wasTraining = module.training;
  const randomState = getGlobalRandomState();
  const where = (phase: string, batchIdx: number) => ({ stage: run.stage, phase, epoch: run.epoch, step: run.globalStep, batchIdx });
  module.eval();
  try {
    collector.begin('epochHook', 1);
    guard(where('onEpochStart', -1), () => run.onStart?.());
    let batches = 0;
    const owned = run.cached === undefined && ownsBatches(run.source);
    const iterable: AsyncIterable<unknown> | Iterable<unknown> = run.cached ?? epochBatches(run.source, () => undefined);
    if (run.limit > 0) {
      for await (const raw of iterable) {
        const batchIdx = batches;
        const batch = run.float64 ? castBatchToFloat64(raw, owned) : raw;
        try {
          collector.begin('evalStep', inferBatchSize(batch));
          profiler.start(run.stepName);
          guard(where(run.stepName, batchIdx), () => noGrad(() => tidy(() => void run.step(batch, batchIdx))));
          profiler.stop(run.stepName);
          if (collector.hasPending) await collector.endStep();
          else collector.endStepSync();
        } finally {
          if (owned || batch !== raw) dispose(batch);
        }
        batches++;
        if (batches >= run.limit) break;
      }
    }
    collector.begin('epochHook', 1);
    guard(where('onEpochEnd', -1), () => noGrad(() => tidy(() => run.onEnd?.())));
    if (collector.hasPending) await collector.endStep();
    else collector.endStepSync();
    return { metrics: collector.endEpoch(), batches };
  } catch (error) {
    throw wrapError(where(run.stepName, -1), error);
  } finally {
    setGlobalRandomState(randomState);
    module.train(wasTraining);
  }
}

/** Runs a predict loop: `predictStep` on each batch, the outputs (their tensors kept) in order. */
export async function runPrediction(
  run: Omit<EvaluationRun, 'collector' | 'stepName' | 'step'> & { readonly step: (batch: unknown, batchIdx: number) => unknown },
): Promise<unknown[]> {
  const { module } = run;
  const wasTraining = module.training;
  const outputs: unknown[] = [];
  module.eval();
  try {
    guard({ stage: 'predict', phase: 'onPredictEpochStart', epoch: 0, step: 0, batchIdx: -1 }, () => run.onStart?.());
    const owned = ownsBatches(run.source);
    let batches = 0;
    if (run.limit > 0) {
      for await (const raw of epochBatches(run.source, () => undefined)) {
        const batchIdx = batches;
        const batch = run.float64 ? castBatchToFloat64(raw, owned) : raw;
        try {
          const out = guard({ stage: 'predict', phase: 'predictStep', epoch: 0, step: 0, batchIdx }, () =>
            noGrad(() => tidy(() => run.step(batch, batchIdx))),
          );
          outputs.push(keepAll(out));
        } finally {
          if (owned || batch !== raw) dispose(batch);
        }
        batches++;
        if (batches >= run.limit) break;
      }
    }
    guard({ stage: 'predict', phase: 'onPredictEpochEnd', epoch: 0, step: 0, batchIdx: -1 }, () => run.onEnd?.());
    return outputs;
  } finally {
    module.train(wasTraining);
  }
}

function keepAll<T>(value: T): T {
  forEachTensor(value, (t) => keep(t));
  return value;
}
