/**
 * The benchmark run: wait for a quiet machine, measure the ceilings, find the systems, then per
 * suite run every system in its own child, compute the references, check every output, and
 * write the report (terminal, JSON, Markdown, SVG).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CaseResult, defaultTiming, type Job, type TimingOptions } from '../common/protocol.js';
import { type CaseSpec, type SuiteName, suiteCases } from '../common/suites.js';
import { type Options, systemSelected } from './cli.js';
import { type Correctness, compareOutputs, readValues } from './compare.js';
import { describeCeilings, describeQuiet, markdownReport, terminalMemory, terminalTable } from './format.js';
import { buildNative, NATIVE_PROGRAMS } from './native.js';
import { waitForQuiet } from './quiet.js';
import {
  BASELINES,
  type CaseReport,
  type Ceilings,
  caseUnit,
  computeRatios,
  makeFigure,
  mergeReports,
  type Report,
  type SuiteReport,
  type SystemEntry,
} from './report.js';
import { type ChildOutcome, lastLines, runChild } from './spawn.js';
import { suiteChart } from './svg.js';
import { discoverSystems, JS_REFERENCE_KINDS, OPENMP_ENVIRONMENT, type Paths, referenceSystems, type SystemPlan } from './systems.js';

const log = (line: string) => process.stdout.write(`${line}\n`);

/** Peers whose float32 output serves as reference when no float64 one exists, in this order. */
const FALLBACK_REFERENCES = ['torch', 'jax-js', 'tfjs-wasm', 'tfjs-cpu', 'numpy', 'openblas', 'onednn'];

export interface RunSummary {
  readonly report: Report;
  readonly jsonPath: string;
  readonly markdownPath: string;
  /** Flint figures whose output did not match the reference. */
  readonly wrongFlintFigures: number;
}

function localDate(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function hostName(): string {
  return (
    os
      .hostname()
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'host'
  );
}

function timingFor(options: Options): TimingOptions {
  const base = defaultTiming(options.quick);
  return {
    ...base,
    ...(options.repeats === undefined ? {} : { repeats: options.repeats, minSamples: Math.min(base.minSamples, options.repeats) }),
    ...(options.budgetSeconds === undefined ? {} : { budgetMs: options.budgetSeconds * 1000 }),
  };
}

function measureCeilings(paths: Paths): Ceilings {
  const peersDir = path.join(paths.benchDir, 'peers');
  const result: { -readonly [K in keyof Ceilings]: Ceilings[K] } = {};
  const reasons: string[] = [];
  const fma = buildNative(NATIVE_PROGRAMS.fmaPeak, peersDir, paths.buildDir);
  if (fma.ok) {
    const run = spawnSync(fma.binary, [], { encoding: 'utf8', timeout: 60_000 });
    try {
      const parsed = JSON.parse(run.stdout.trim()) as { fmaPeakGflops: number; fmaPeakGflopsOneCore: number; isa: string };
      result.fmaPeakGflops = parsed.fmaPeakGflops;
      result.fmaPeakGflopsOneCore = parsed.fmaPeakGflopsOneCore;
      result.isa = parsed.isa;
    } catch {
      reasons.push(`fma_peak failed: ${lastLines(run.stderr ?? String(run.error))}`);
    }
  } else reasons.push(`FMA peak: ${fma.reason}`);
  const bandwidth = buildNative(NATIVE_PROGRAMS.bandwidth, peersDir, paths.buildDir);
  if (bandwidth.ok) {
    const run = spawnSync(bandwidth.binary, [], { encoding: 'utf8', timeout: 120_000 });
    try {
      const parsed = JSON.parse(run.stdout.trim()) as { triadGBs: number; copyGBs: number };
      result.bandwidthGBs = parsed.triadGBs;
      result.copyGBs = parsed.copyGBs;
    } catch {
      reasons.push(`bandwidth failed: ${lastLines(run.stderr ?? String(run.error))}`);
    }
  } else reasons.push(`bandwidth: ${bandwidth.reason}`);
  if (reasons.length) result.reason = reasons.join('; ');
  return result;
}

/**
 * The ceilings the ratios use. Another process can only lower a measured peak, so the higher of
 * the start and end measurements stands; and no correct figure can beat the real FMA peak, so a
 * figure above it proves both measurements were disturbed and raises it (the report says so).
 */
export function settleCeilings(start: Ceilings, end: Ceilings, suites: readonly SuiteReport[]): Ceilings {
  const best: { -readonly [K in keyof Ceilings]: Ceilings[K] } = { ...start };
  if ((end.fmaPeakGflops ?? 0) > (best.fmaPeakGflops ?? 0)) {
    best.fmaPeakGflops = end.fmaPeakGflops;
    best.fmaPeakGflopsOneCore = end.fmaPeakGflopsOneCore;
    best.isa = end.isa;
  }
  if ((end.bandwidthGBs ?? 0) > (best.bandwidthGBs ?? 0)) {
    best.bandwidthGBs = end.bandwidthGBs;
    best.copyGBs = end.copyGBs;
  }
  if (best.fmaPeakGflops !== undefined) {
    for (const suite of suites) {
      for (const c of suite.cases) {
        if (c.unit !== 'GFLOP/s') continue;
        for (const f of c.figures) {
          if (f.status === 'ok' && f.rate !== undefined && f.rate > best.fmaPeakGflops) {
            best.fmaPeakGflops = Math.round(f.rate * 10) / 10;
            best.raisedBy = `${f.system} ${c.id} (the FMA-peak runs were disturbed by other load)`;
          }
        }
      }
    }
  }
  return best;
}

function jobTimeoutMs(cases: number, timing: TimingOptions): number {
  return cases * (2 * timing.maxCaseMs + 90_000) + 60_000;
}

/** Runs a native program once per case (they take positional arguments, not a job). */
async function runNative(
  system: string,
  binary: string,
  cases: readonly CaseSpec[],
  timing: TimingOptions,
  outputDir: string,
): Promise<ChildOutcome[]> {
  const outcomes: ChildOutcome[] = [];
  mkdirSync(path.join(outputDir, system), { recursive: true });
  for (const spec of cases) {
    const relative = path.join(system, `${spec.id}.f32`);
    const args = [
      spec.id,
      String(spec.params.n),
      String(spec.params.seed),
      path.join(outputDir, relative),
      relative,
      ...[timing.warmup, timing.warmupMs, timing.repeats, timing.minSamples, timing.budgetMs, timing.minSampleMs, timing.maxCaseMs].map(
        String,
      ),
    ];
    outcomes.push(await runChild({ command: binary, args, cwd: path.dirname(binary), env: OPENMP_ENVIRONMENT }, jobTimeoutMs(1, timing)));
  }
  return outcomes;
}

interface SystemRun {
  readonly system: SystemPlan;
  readonly results: Map<string, CaseResult>;
}

/**
 * One system's results over several rounds as one: the samples of every round where the first
 * round succeeded (its output is the one checked), the largest peak memory, the mean core use.
 */
export function poolRounds(rounds: readonly Map<string, CaseResult>[]): Map<string, CaseResult> {
  const pooled = new Map<string, CaseResult>();
  for (const [id, first] of rounds[0] ?? new Map<string, CaseResult>()) {
    const ok = rounds.map((r) => r.get(id)).filter((r): r is CaseResult => r?.status === 'ok' && r.samplesMs !== undefined);
    if (first.status !== 'ok' || ok.length < 2) {
      pooled.set(id, first);
      continue;
    }
    const cores = ok.map((r) => r.coresUsed).filter((c): c is number => c !== undefined);
    const peaks = ok.map((r) => r.peakStepBytes).filter((p): p is number => p !== undefined);
    pooled.set(id, {
      ...first,
      samplesMs: ok.flatMap((r) => r.samplesMs ?? []),
      ...(cores.length ? { coresUsed: cores.reduce((a, b) => a + b, 0) / cores.length } : {}),
      ...(peaks.length ? { peakStepBytes: Math.max(...peaks) } : {}),
    });
  }
  return pooled;
}

function collect(outcomes: readonly ChildOutcome[], cases: readonly CaseSpec[]): Map<string, CaseResult> {
  const results = new Map<string, CaseResult>();
  for (const outcome of outcomes) for (const r of outcome.results) results.set(r.id, r);
  const failed = outcomes.find((o) => o.exitCode !== 0 || o.timedOut);
  if (failed) {
    const why = failed.timedOut ? 'timed out' : `exited with ${failed.signal ?? failed.exitCode}`;
    for (const spec of cases) {
      if (!results.has(spec.id)) results.set(spec.id, { id: spec.id, status: 'error', reason: `runner ${why}: ${lastLines(failed.tail)}` });
    }
  }
  return results;
}

export async function runBenchmarks(options: Options, paths: Paths, command: string): Promise<RunSummary> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const timing = timingFor(options);
  const runId = `${Date.now()}-${process.pid}`;
  const outputDir = path.join(paths.buildDir, 'outputs', runId);
  mkdirSync(outputDir, { recursive: true });

  log(`Flint benchmarks${options.quick ? ' (quick)' : ''}: suites ${options.suites.join(', ')}`);
  const quiet = await waitForQuiet(options.quietWaitSeconds, options.quietThresholdCores, log);
  const ceilings = options.ceilings ? measureCeilings(paths) : { reason: 'skipped (--no-ceiling)' };

  const all = discoverSystems(paths, options.backends);
  const discovered = all.filter((s) => systemSelected(options, s.name));
  // PyTorch serves as the float64 reference even when --systems leaves it out of the measurements.
  const references = referenceSystems(
    paths,
    all.some((s) => s.name === 'torch' && s.available),
  );

  const cpu = os.cpus()[0]?.model ?? os.arch();
  const report: Report = {
    schema: 1,
    date: localDate(),
    host: hostName(),
    startedAt,
    durationSeconds: 0,
    quick: options.quick,
    command,
    machine: {
      cpu,
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.versions.node,
    },
    quiet,
    loadSeen: [],
    ceilings,
    systems: discovered.map(
      (s): SystemEntry => ({
        name: s.name,
        kind: s.kind,
        description: s.description,
        available: s.available,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.version ? { version: s.version } : {}),
      }),
    ),
    suites: [],
  };
  log(`machine: ${report.machine.cpu}, ${report.machine.cores} cores; ${describeQuiet(report).split('; ')[0]}`);
  log(`ceilings: ${describeCeilings(report.ceilings, report.machine.cores)}`);
  for (const s of report.systems)
    log(`  ${s.available ? '+' : '-'} ${s.name.padEnd(10)} ${s.available ? (s.version ?? '') : `absent: ${s.reason}`}`);

  const notesBySystem = new Map<string, string[]>();
  const recordLoad = (job: string, outcomes: readonly ChildOutcome[]) => {
    for (const o of outcomes) {
      if (o.load.maxOtherCores > options.quietThresholdCores) {
        report.loadSeen.push({ job, maxOtherCores: o.load.maxOtherCores, meanOtherCores: o.load.meanOtherCores });
      }
      if (o.info) {
        const notes = [...(o.info.notes ?? []), ...(o.info.threads !== undefined ? [`${o.info.threads} threads`] : [])];
        if (notes.length || o.info.version)
          notesBySystem.set(o.info.system, [...(o.info.version ? [`runtime ${o.info.version}`] : []), ...notes]);
      }
    }
  };

  for (const suite of options.suites) {
    const cases = suiteCases(suite, options.quick);
    const measuring = discovered.filter((system) => system.available && (!system.suites || system.suites.includes(suite)));
    const perSystem = new Map<SystemPlan, Map<string, CaseResult>[]>();
    for (let round = 0; round < options.rounds; round++) {
      // Each round starts with the next system, so that no system always runs first (or last).
      for (let i = 0; i < measuring.length; i++) {
        const system = measuring[(i + round) % measuring.length] as SystemPlan;
        const results = await measureSystem(suite, system, cases, round);
        if (results) perSystem.set(system, [...(perSystem.get(system) ?? []), results]);
      }
    }
    const runs: SystemRun[] = measuring.flatMap((system) => {
      const rounds = perSystem.get(system);
      return rounds ? [{ system, results: poolRounds(rounds) }] : [];
    });
    const referenceOutputs = await computeReferences(suite, cases, references, runs, timing, outputDir);
    const suiteReport = buildSuite(suite, cases, runs, referenceOutputs, outputDir);
    computeRatios(suiteReport, ceilings);
    report.suites.push(suiteReport);
    log(terminalTable({ ...report, suites: [suiteReport] }));
  }

  /** One system's run of a suite's cases (null: nothing to run it with). */
  async function measureSystem(
    suite: SuiteName,
    system: SystemPlan,
    cases: readonly CaseSpec[],
    round: number,
  ): Promise<Map<string, CaseResult> | null> {
    const t0 = performance.now();
    const measured = system.kind === 'native' ? cases.filter((c) => c.kind === 'matmul') : cases;
    // Later rounds write their outputs apart: the first round's are the ones checked.
    const roundDir = round === 0 ? outputDir : path.join(outputDir, `round-${round + 1}`);
    let outcomes: ChildOutcome[];
    if (system.nativeBinary !== undefined) {
      outcomes = await runNative(system.name, system.nativeBinary, measured, timing, roundDir);
    } else if (system.command) {
      const backend = system.kind === 'flint' ? { backend: system.name.slice('flint-'.length) } : {};
      // Training cases get a fresh process each, so that each one's peak memory is its own.
      const groups = cases.some((c) => c.training) ? cases.map((c) => [c]) : [cases];
      outcomes = [];
      for (const group of groups) {
        const job: Job = { system: system.name, cases: group, timing, outputDir: roundDir, ...backend };
        outcomes.push(await runChild(system.command(job), jobTimeoutMs(group.length, timing)));
      }
    } else return null;
    recordLoad(`${suite}/${system.name}`, outcomes);
    const roundNote = options.rounds > 1 ? ` (round ${round + 1} of ${options.rounds})` : '';
    log(`  [${suite}] ${system.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s${roundNote}`);
    return collect(outcomes, measured);
  }

  if (options.ceilings) {
    const settled = settleCeilings(ceilings, measureCeilings(paths), report.suites);
    (report as { ceilings: Ceilings }).ceilings = settled;
    for (const suite of report.suites) computeRatios(suite, settled);
  }
  for (const entry of report.systems) {
    const notes = notesBySystem.get(entry.name);
    if (notes) (entry as { notes?: readonly string[] }).notes = notes;
  }
  report.durationSeconds = Math.round((performance.now() - started) / 1000);
  const memory = terminalMemory(report);
  if (memory) log(memory);

  const outDir = options.outDir ?? path.join(paths.benchDir, options.quick ? path.join('.build', 'results') : 'results');
  const written = writeReport(report, outDir);
  rmSync(outputDir, { recursive: true, force: true });
  const wrongFlintFigures = report.suites
    .flatMap((s) => s.cases.flatMap((c) => c.figures))
    .filter((f) => f.systemKind === 'flint' && f.status === 'wrong').length;
  log('');
  log(`load: ${describeQuiet(report)}`);
  log(`results: ${written.jsonPath}, ${written.markdownPath}${written.charts.length ? `, ${written.charts.length} SVG chart(s)` : ''}`);
  if (wrongFlintFigures) log(`!! ${wrongFlintFigures} Flint figure(s) are WRONG: their outputs do not match the reference`);
  return { report: written.report, jsonPath: written.jsonPath, markdownPath: written.markdownPath, wrongFlintFigures };
}

interface ReferenceOutput {
  readonly system: string;
  readonly file: string;
}

async function computeReferences(
  suite: SuiteName,
  cases: readonly CaseSpec[],
  references: readonly SystemPlan[],
  runs: readonly SystemRun[],
  timing: TimingOptions,
  outputDir: string,
): Promise<Map<string, ReferenceOutput>> {
  const found = new Map<string, ReferenceOutput>();
  // Only cases some system measured need a reference.
  const wanted = cases.filter((c) => runs.some((r) => r.results.get(c.id)?.status === 'ok'));
  for (const reference of references) {
    const missing = wanted.filter((c) => !found.has(c.id) && (reference.name !== 'js-f64' || JS_REFERENCE_KINDS.includes(c.kind)));
    if (!missing.length || !reference.command) continue;
    const t0 = performance.now();
    const job: Job = { system: reference.name, cases: missing, timing, outputDir, referenceOnly: true };
    const outcome = await runChild(reference.command(job), jobTimeoutMs(missing.length, timing));
    for (const r of outcome.results)
      if (r.status === 'ok' && r.output) found.set(r.id, { system: reference.name, file: path.join(outputDir, r.output) });
    log(`  [${suite}] reference ${reference.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  for (const c of wanted) {
    if (found.has(c.id)) continue;
    for (const name of FALLBACK_REFERENCES) {
      const r = runs.find((run) => run.system.name === name)?.results.get(c.id);
      if (r?.status === 'ok' && r.output) {
        found.set(c.id, { system: `${name} (float32)`, file: path.join(outputDir, r.output) });
        break;
      }
    }
  }
  return found;
}

function buildSuite(
  suite: SuiteName,
  cases: readonly CaseSpec[],
  runs: readonly SystemRun[],
  references: Map<string, ReferenceOutput>,
  outputDir: string,
): SuiteReport {
  const caseReports: CaseReport[] = cases.map((spec) => {
    const reference = references.get(spec.id);
    const referenceValues = reference ? readValues(reference.file) : undefined;
    const figures = runs
      .filter((run) => run.results.has(spec.id))
      .map((run) => {
        const result = run.results.get(spec.id);
        let correctness: Correctness | undefined;
        if (result?.status === 'ok' && result.output) {
          const own = path.join(outputDir, result.output);
          if (!referenceValues || !reference) correctness = { status: 'unchecked', detail: 'no reference output to check against' };
          else if (reference.file === own) correctness = { status: 'unchecked', detail: 'this system is itself the (float32) reference' };
          else correctness = compareOutputs(readValues(own), referenceValues, spec.tolerance, reference.system);
        }
        return makeFigure(run.system.name, run.system.kind, spec, result, correctness);
      });
    const unit = caseUnit(spec);
    const baseline = BASELINES[spec.kind];
    return {
      id: spec.id,
      kind: spec.kind,
      title: spec.title,
      ...(unit ? { unit } : {}),
      ...(spec.flops !== undefined ? { work: spec.flops } : spec.bytes !== undefined ? { work: spec.bytes } : {}),
      tolerance: spec.tolerance,
      ...(baseline ? { baseline } : {}),
      figures,
    };
  });
  return { name: suite, cases: caseReports };
}

/** Results of earlier runs of the same day, host and mode keep the suites this run did not measure. */
function mergeWithEarlier(report: Report, jsonPath: string): Report {
  if (!existsSync(jsonPath)) return report;
  let earlier: Report;
  try {
    earlier = JSON.parse(readFileSync(jsonPath, 'utf8')) as Report;
  } catch {
    // An unreadable earlier file is replaced, not merged.
    return report;
  }
  return mergeReports(report, earlier);
}

/** Rounds floats so that the committed JSON stays small and diffs stay readable. */
function compact(_key: string, value: unknown): unknown {
  if (typeof value !== 'number' || Number.isInteger(value)) return value;
  return Number(value.toPrecision(4));
}

function writeReport(fresh: Report, outDir: string): { report: Report; jsonPath: string; markdownPath: string; charts: string[] } {
  mkdirSync(outDir, { recursive: true });
  const base = `${fresh.date}-${fresh.host}`;
  const jsonPath = path.join(outDir, `${base}.json`);
  const markdownPath = path.join(outDir, `${base}.md`);
  // Tables and charts are drawn from the stored (rounded) figures, so that a later run merging this
  // file draws the suites it keeps exactly as they are drawn now.
  const report = mergeWithEarlier(JSON.parse(JSON.stringify(fresh, compact)) as Report, jsonPath);
  const charts = new Map<string, string>();
  for (const suite of report.suites) {
    const file = `${base}-${suite.name}.svg`;
    writeFileSync(path.join(outDir, file), suiteChart(report, suite));
    charts.set(suite.name, file);
  }
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(markdownPath, `${markdownReport(report, charts)}\n`);
  return { report, jsonPath, markdownPath, charts: [...charts.values()] };
}
