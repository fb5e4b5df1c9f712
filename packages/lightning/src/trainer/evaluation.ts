import { dispose, forEachTensor, keep, noGrad, type Tensor, tidy } from '@flint/api';
import type { LightningModule, StepOutput } from '../module.js';
import type { DataloaderResult, Metrics } from '../stream/events.js';
import { type BatchSource, type BatchTarget, epochBatches, inferBatchSize, ownsBatches, prepareBatch } from './batches.js';
import { guard, wrapError } from './guard.js';
import type { MetricCollector, MetricsOut } from './metrics.js';
import type { Profiler } from './profiler.js';
import { getGlobalRandomState, setGlobalRandomState } from './rng.js';

/** One loader of an evaluation run. */
export interface EvaluationLoader {
  readonly source: BatchSource;
  /** Batches to run at most. */
  readonly limit: number;
  /** Batches to use instead of iterating `source` (overfitBatches). */
  readonly cached?: readonly unknown[] | undefined;
}

/** What one evaluation run needs. */
export interface EvaluationRun {
  readonly module: LightningModule<never[], unknown>;
  /** The loaders, run one after the other; with several, the step gets each one's index. */
  readonly loaders: readonly EvaluationLoader[];
  /** For messages and the profiler: 'validate', 'test' or 'sanityCheck'. */
  readonly stage: string;
  /** The step method's name, for messages: 'validationStep' or 'testStep'. */
  readonly stepName: string;
  readonly step: (batch: unknown, batchIdx: number, dataloaderIdx?: number) => StepOutput;
  readonly onStart?: (() => void) | undefined;
  readonly onEnd?: (() => void) | undefined;
  readonly collector: MetricCollector;
  readonly profiler: Profiler;
  /** The backend and dtype batches are brought to before their step. */
  readonly target: BatchTarget;
  readonly epoch: number;
  readonly globalStep: number;
  /** Runs a step's forward pass in the Trainer's precision (autocast for the mixed ones). */
  readonly precisionScope?: (<T>(fn: () => T) => T) | undefined;
}

/** The outcome of an evaluation run. */
export interface EvaluationResult {
  /** Every loader's metrics together. */
  readonly metrics: MetricsOut;
  /** Batches run, over all loaders. */
  readonly batches: number;
  readonly dataloaders: readonly DataloaderResult[];
}

const DATALOADER_SUFFIX = /\/dataloader_idx_(\d+)/;

/** The metrics that belong to loader `index`: its suffixed ones and the unsuffixed (Lightning's per-dataloader filter). */
export function metricsForLoader(metrics: Metrics, index: number): Metrics {
  return Object.fromEntries(
    Object.entries(metrics).filter(([name]) => {
      const match = DATALOADER_SUFFIX.exec(name);
      return match === null || Number(match[1]) === index;
    }),
  );
}

/**
 * Runs a validation or test loop: eval mode, no tape, each step in its own memory scope, values
 * logged per batch reduced over the run; several loaders run one after the other, their names
 * suffixed with `/dataloader_idx_<i>`. The global random state is put back afterwards, so that
 * evaluating never changes the numbers training draws next (and a resumed run matches).
 */
export async function runEvaluation(run: EvaluationRun): Promise<EvaluationResult> {
  const { module, collector, profiler } = run;
  const wasTraining = module.training;
  const randomState = getGlobalRandomState();
  const where = (phase: string, batchIdx: number) => ({ stage: run.stage, phase, epoch: run.epoch, step: run.globalStep, batchIdx });
  const several = run.loaders.length > 1;
  const scope = run.precisionScope ?? (<T>(fn: () => T): T => fn());
  module.eval();
  try {
    collector.begin('epochHook', 1);
    guard(where('onEpochStart', -1), () => run.onStart?.());
    const counts: number[] = [];
    for (const [loaderIdx, loader] of run.loaders.entries()) {
      const dataloaderIdx = several ? loaderIdx : undefined;
      let batches = 0;
      const owned = loader.cached === undefined && ownsBatches(loader.source);
      const iterable: AsyncIterable<unknown> | Iterable<unknown> = loader.cached ?? epochBatches(loader.source, () => undefined);
      if (loader.limit > 0) {
        for await (const raw of iterable) {
          const batchIdx = batches;
          let batch = raw;
          let created: Tensor[] = [];
          try {
            ({ batch, created } = await prepareBatch(raw, owned, run.target));
            collector.begin('evalStep', inferBatchSize(batch), dataloaderIdx);
            profiler.start(run.stepName);
            guard(where(run.stepName, batchIdx), () =>
              noGrad(() =>
                tidy(() =>
                  scope(() => void (dataloaderIdx === undefined ? run.step(batch, batchIdx) : run.step(batch, batchIdx, dataloaderIdx))),
                ),
              ),
            );
            profiler.stop(run.stepName);
            if (collector.hasPending) await collector.endStep();
            else collector.endStepSync();
          } finally {
            dispose(owned ? batch : created);
          }
          batches++;
          if (batches >= loader.limit) break;
        }
      }
      counts.push(batches);
    }
    collector.begin('epochHook', 1);
    guard(where('onEpochEnd', -1), () => noGrad(() => tidy(() => run.onEnd?.())));
    if (collector.hasPending) await collector.endStep();
    else collector.endStepSync();
    const metrics = collector.endEpoch();
    return {
      metrics,
      batches: counts.reduce((a, b) => a + b, 0),
      dataloaders: counts.map((batches, i) => ({
        metrics: metricsForLoader(metrics.logged, i),
        callbackMetrics: metricsForLoader(metrics.callback, i),
        batches,
      })),
    };
  } catch (error) {
    throw wrapError(where(run.stepName, -1), error);
  } finally {
    setGlobalRandomState(randomState);
    module.train(wasTraining);
  }
}

/** Runs a predict loop: `predictStep` on each batch, the outputs (their tensors kept) in order. */
export async function runPrediction(
  run: Omit<EvaluationRun, 'collector' | 'stepName' | 'step' | 'loaders'> &
    EvaluationLoader & { readonly step: (batch: unknown, batchIdx: number) => unknown },
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
        let batch = raw;
        let created: Tensor[] = [];
        try {
          ({ batch, created } = await prepareBatch(raw, owned, run.target));
          const out = guard({ stage: 'predict', phase: 'predictStep', epoch: 0, step: 0, batchIdx }, () =>
            noGrad(() =>
              tidy(() =>
                run.precisionScope === undefined ? run.step(batch, batchIdx) : run.precisionScope(() => run.step(batch, batchIdx)),
              ),
            ),
          );
          outputs.push(keepAll(out));
        } finally {
          dispose(owned ? batch : created);
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
