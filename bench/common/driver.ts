/** The loop every TypeScript runner runs: per case, check once, then time, then report. */
import { Absent, errorMessage, reportCase, writeOutput } from './child.js';
import { withPeakMemory } from './memory.js';
import { caseTiming, type Job } from './protocol.js';
import type { CaseSpec } from './suites.js';
import { measure } from './timing.js';

export interface PreparedCase {
  /**
   * The correctness run: the case's outputs on the shared inputs. Training cases: the gradients
   * at the initial parameters (in the canonical order and layout of bench/README.md), then the
   * losses of the first `checkSteps` Adam steps. Also serves as the first warm-up.
   */
  check(): Promise<Float32Array | Float64Array | readonly number[]>;
  /** Runs `count` timed iterations and resolves once their results exist. */
  batch(count: number): unknown;
  /** Releases what the case holds. */
  dispose?(): void;
  /** How completion is awaited, or other facts the report should show. */
  readonly note?: string;
}

/** Builds one case, or throws Absent (the system cannot run it) or any error (it failed). */
export type Implement = (spec: CaseSpec) => Promise<PreparedCase> | PreparedCase;

/** Turns a runner's error that means "this system lacks a capability" into an absence reason. */
export type ClassifyError = (error: unknown) => string | undefined;

export async function runCases(job: Job, implement: Implement, classify?: ClassifyError): Promise<void> {
  for (const spec of job.cases) {
    const caseStart = performance.now();
    let prepared: PreparedCase | undefined;
    try {
      prepared = await implement(spec);
      const checkStart = performance.now();
      const preparedForCheck = prepared;
      const { result: values, peakBytes } = spec.training
        ? await withPeakMemory(() => preparedForCheck.check())
        : { result: await prepared.check(), peakBytes: undefined };
      const firstRunMs = (performance.now() - checkStart) / (spec.checkSteps ?? 1);
      const output = writeOutput(job, spec, values);
      if (job.referenceOnly) {
        reportCase({ id: spec.id, status: 'ok', output });
        continue;
      }
      const measurement = await measure((count) => prepared?.batch(count), caseTiming(job.timing, spec.training), caseStart, firstRunMs);
      reportCase({
        id: spec.id,
        status: 'ok',
        output,
        samplesMs: measurement.samplesMs,
        inner: measurement.inner,
        ...(measurement.fromCheckRun ? {} : { coresUsed: measurement.coresUsed }),
        ...(peakBytes === undefined ? {} : { peakStepBytes: peakBytes }),
        ...(prepared.note === undefined && !measurement.fromCheckRun
          ? {}
          : {
              note: [prepared.note, measurement.fromCheckRun ? 'timed by its correctness run alone' : undefined].filter(Boolean).join('; '),
            }),
      });
    } catch (error) {
      const absence = error instanceof Absent ? error.message : classify?.(error);
      if (absence !== undefined) reportCase({ id: spec.id, status: 'absent', reason: absence });
      else reportCase({ id: spec.id, status: 'error', reason: errorMessage(error) });
    } finally {
      try {
        prepared?.dispose?.();
      } catch {
        // A failed disposal must not hide the case's own result.
      }
    }
  }
}
