import { distributed, ValueError } from '@flint/api';
import * as E from 'fp-ts/lib/Either.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RNEA from 'fp-ts/lib/ReadonlyNonEmptyArray.js';
import type { Callback } from '../callbacks/callback.js';
import type { Logger } from '../loggers/logger.js';
import type { Strategy } from '../strategies/strategy.js';
import type { Profiler } from './profiler.js';

/** Where the Trainer runs: 'auto' picks the best backend that initializes (cuda, webgpu, mkl, cpu). */
export type Accelerator = 'auto' | 'cpu' | 'mkl' | 'cuda' | 'webgpu';

/** Numeric precision of training (Lightning's names). Lightning's aliases 32, 64, 16, '16' and 'bf16' are accepted too. */
export type Precision = '32-true' | '64-true' | '16-mixed' | 'bf16-mixed';

/** What `precision` accepts. */
export type PrecisionInput = Precision | 32 | 64 | 16 | '32' | '64' | '16' | 'bf16';

/**
 * The Trainer's options: Lightning's names, camelCased, with Lightning's defaults.
 *
 * @example
 * new Trainer({ maxEpochs: 10, accelerator: 'auto', devices: 1, gradientClipVal: 1.0 });
 */
export interface TrainerOptions {
  /** Stop after this many epochs (default 1000, or unlimited when only maxSteps is given). */
  readonly maxEpochs?: number;
  /** Train at least this many epochs, even when a stop is requested (default 0). */
  readonly minEpochs?: number;
  /** Stop after this many optimizer steps (default -1: no limit). */
  readonly maxSteps?: number;
  /** The backend to train on (default 'auto'). */
  readonly accelerator?: Accelerator;
  /** Devices (processes) per machine: 1, 'auto', or several with strategy 'ddp' (see docs/distributed.md). */
  readonly devices?: number | 'auto';
  /** Machines taking part (default 1); more than one needs strategy 'ddp'. */
  readonly numNodes?: number;
  /** 'auto' (one process), 'ddp' (distributed data parallel, launched with flint-run or mpirun), or a strategy such as `new DDPStrategy({ bucketCapMb })`. */
  readonly strategy?: 'auto' | 'ddp' | Strategy;
  /**
   * Default '32-true'. '64-true' trains in float64. '16-mixed' and 'bf16-mixed' keep float32
   * weights and run the forward pass under `amp.autocast` (float16 with dynamic loss scaling,
   * or bfloat16); they need a backend with that dtype.
   */
  readonly precision?: PrecisionInput;
  /** Clip gradients before each optimizer step, at this value (by norm or by value). */
  readonly gradientClipVal?: number;
  /** 'norm' (default): scale all gradients so their global L2 norm is at most gradientClipVal; 'value': clamp each element. */
  readonly gradientClipAlgorithm?: 'norm' | 'value';
  /** Accumulate gradients over this many batches per optimizer step (default 1). */
  readonly accumulateGradBatches?: number;
  /** Validate every this many training batches (an integer), or at this fraction of an epoch (default 1.0). */
  readonly valCheckInterval?: number;
  /** Validate every this many epochs (default 1); null validates only by valCheckInterval batches. */
  readonly checkValEveryNEpoch?: number | null;
  /** Log step metrics every this many steps (default 50). */
  readonly logEveryNSteps?: number;
  /** Training batches per epoch: a fraction of the loader (<= 1.0) or a count (an integer > 1). */
  readonly limitTrainBatches?: number;
  readonly limitValBatches?: number;
  readonly limitTestBatches?: number;
  readonly limitPredictBatches?: number;
  /** Run n batches (true: 1) of training, validation and test, once, without loggers or checkpoints: a smoke test. */
  readonly fastDevRun?: boolean | number;
  /** Train and validate on the same first batches (a count, or a fraction of the training batches), to check the model can overfit. */
  readonly overfitBatches?: number;
  /** Validation batches run before training starts, to catch bugs in validation early (default 2; -1: all). */
  readonly numSanityValSteps?: number;
  /** Show a progress bar when `fit` runs (default true; quiet when the output is not a terminal). */
  readonly enableProgressBar?: boolean;
  /** Add a ModelCheckpoint saving the latest epoch when no checkpoint callback is given (default true). */
  readonly enableCheckpointing?: boolean;
  /** Where logs and checkpoints go when loggers and callbacks name no folder (default: the current folder). */
  readonly defaultRootDir?: string;
  /** Require deterministic algorithms: with `seed`, every run repeats exactly (default false). */
  readonly deterministic?: boolean;
  /** Seed Flint's global generator at fit start (Lightning's seed_everything). */
  readonly seed?: number;
  readonly callbacks?: readonly Callback[];
  /** A logger, several, or true for the default CSVLogger under defaultRootDir, false for none (default true). */
  readonly logger?: Logger | readonly Logger[] | boolean;
  /** 'simple' times each phase of training and prints a summary at the end; or a Profiler. */
  readonly profiler?: 'simple' | Profiler;
}

/** The options with every default filled in and aliases resolved. */
export interface ResolvedTrainerOptions {
  readonly maxEpochs: number;
  readonly minEpochs: number;
  readonly maxSteps: number;
  readonly accelerator: Accelerator;
  readonly devices: number;
  readonly numNodes: number;
  readonly strategy: 'auto' | 'ddp' | Strategy;
  readonly precision: Precision;
  readonly gradientClipVal: number | undefined;
  readonly gradientClipAlgorithm: 'norm' | 'value';
  readonly accumulateGradBatches: number;
  readonly valCheckInterval: number;
  readonly checkValEveryNEpoch: number | null;
  readonly logEveryNSteps: number;
  readonly limitTrainBatches: number;
  readonly limitValBatches: number;
  readonly limitTestBatches: number;
  readonly limitPredictBatches: number;
  /** 0 when off, else the number of batches. */
  readonly fastDevRun: number;
  readonly overfitBatches: number;
  readonly numSanityValSteps: number;
  readonly enableProgressBar: boolean;
  readonly enableCheckpointing: boolean;
  readonly defaultRootDir: string;
  readonly deterministic: boolean;
  readonly seed: number | undefined;
  readonly callbacks: readonly Callback[];
  readonly logger: readonly Logger[] | boolean;
  readonly profiler: 'simple' | Profiler | undefined;
}

type Problems = RNEA.ReadonlyNonEmptyArray<string>;
type Checked<T> = E.Either<Problems, T>;

const validation = E.getApplicativeValidation(RNEA.getSemigroup<string>());
const fail = <T>(problem: string): Checked<T> => E.left([problem]);
const show = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : typeof value === 'function' ? 'a function' : String(value);

function optional<T>(value: unknown, fallback: T, check: (v: unknown) => Checked<T>): Checked<T> {
  if (value === undefined) return E.right(fallback);
  return check(value);
}

function integer(name: string, min: number, value: unknown): Checked<number> {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    return fail(`${name} must be an integer >= ${min}, got ${show(value)}`);
  return E.right(value);
}

function oneOf<T extends string>(name: string, allowed: readonly T[], value: unknown): Checked<T> {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    return fail(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(value)}`);
  }
  return E.right(value as T);
}

function boolean(name: string, value: unknown): Checked<boolean> {
  return typeof value === 'boolean' ? E.right(value) : fail(`${name} must be true or false, got ${show(value)}`);
}

/** A batch limit: a fraction in [0, 1] (of the loader's batches), or a whole count. */
function limit(name: string, value: unknown): Checked<number> {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    return fail(`${name} must be a fraction in [0, 1] or a non-negative integer count, got ${show(value)}`);
  if (value > 1 && !Number.isInteger(value)) return fail(`${name} must be a fraction in [0, 1] or a whole number of batches, got ${value}`);
  return E.right(value);
}

const PRECISIONS: Readonly<Record<string, Precision>> = {
  '32-true': '32-true',
  '32': '32-true',
  '64-true': '64-true',
  '64': '64-true',
  '16-mixed': '16-mixed',
  '16': '16-mixed',
  'bf16-mixed': 'bf16-mixed',
  bf16: 'bf16-mixed',
};

function precision(value: unknown): Checked<Precision> {
  if (value === '16-true' || value === 'bf16-true')
    return fail(
      `precision ${show(value)} is not supported: Flint keeps float32 master weights; use '16-mixed' or 'bf16-mixed' (half compute under autocast), '32-true' or '64-true'`,
    );
  const resolved = typeof value === 'string' || typeof value === 'number' ? PRECISIONS[String(value)] : undefined;
  if (resolved === undefined) return fail(`precision must be one of '32-true', '64-true', '16-mixed', 'bf16-mixed', got ${show(value)}`);
  return E.right(resolved);
}

function isLogger(value: unknown): value is Logger {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Logger).logMetrics === 'function' &&
    typeof (value as Logger).logHyperparams === 'function'
  );
}

function loggers(value: unknown): Checked<readonly Logger[] | boolean> {
  if (typeof value === 'boolean') return E.right(value);
  const list = Array.isArray(value) ? value : [value];
  const bad = list.findIndex((l) => !isLogger(l));
  if (bad >= 0)
    return fail(
      `logger must be true, false, a Logger (with logMetrics and logHyperparams) or a list of them; ${Array.isArray(value) ? `logger[${bad}]` : 'the value'} is ${show(list[bad])}`,
    );
  return E.right(list as Logger[]);
}

function callbacks(value: unknown): Checked<readonly Callback[]> {
  if (!Array.isArray(value)) return fail(`callbacks must be a list of callbacks, got ${show(value)}`);
  const bad = value.findIndex((c) => typeof c !== 'object' || c === null || typeof (c as Callback).operator !== 'function');
  if (bad >= 0) return fail(`callbacks[${bad}] is not a Callback (an object with an operator() method), got ${show(value[bad])}`);
  return E.right(value as Callback[]);
}

function profiler(value: unknown): Checked<'simple' | Profiler> {
  if (value === 'simple') return E.right('simple');
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Profiler).start === 'function' &&
    typeof (value as Profiler).stop === 'function'
  )
    return E.right(value as Profiler);
  return fail(`profiler must be 'simple' or a Profiler (with start and stop), got ${show(value)}`);
}

function isDistributed(value: unknown): boolean {
  return value === 'ddp' || (typeof value === 'object' && value !== null && (value as Strategy).name === 'ddp');
}

function strategy(value: unknown): Checked<'auto' | 'ddp' | Strategy> {
  if (value === 'auto' || value === 'ddp') return E.right(value);
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Strategy).name === 'string' &&
    typeof (value as Strategy).syncGradients === 'function' &&
    typeof (value as Strategy).setup === 'function'
  )
    return E.right(value as Strategy);
  return fail(`strategy must be 'auto', 'ddp' or a Strategy (such as new DDPStrategy()), got ${show(value)}`);
}

const KNOWN = [
  'maxEpochs',
  'minEpochs',
  'maxSteps',
  'accelerator',
  'devices',
  'numNodes',
  'strategy',
  'precision',
  'gradientClipVal',
  'gradientClipAlgorithm',
  'accumulateGradBatches',
  'valCheckInterval',
  'checkValEveryNEpoch',
  'logEveryNSteps',
  'limitTrainBatches',
  'limitValBatches',
  'limitTestBatches',
  'limitPredictBatches',
  'fastDevRun',
  'overfitBatches',
  'numSanityValSteps',
  'enableProgressBar',
  'enableCheckpointing',
  'defaultRootDir',
  'deterministic',
  'seed',
  'callbacks',
  'logger',
  'profiler',
] as const;

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}

function unknownKeys(options: Record<string, unknown>): Checked<null> {
  const problems = Object.keys(options)
    .filter((key) => !(KNOWN as readonly string[]).includes(key))
    .map((key) => {
      const near = KNOWN.map((k) => [k, editDistance(key, k)] as const).sort((x, y) => x[1] - y[1])[0];
      const hint = near !== undefined && near[1] <= Math.max(2, Math.floor(key.length / 4)) ? `; did you mean '${near[0]}'?` : '';
      return `unknown option '${key}'${hint}`;
    });
  return RA.isNonEmpty(problems) ? E.left(problems) : E.right(null);
}

/**
 * Checks every option, collecting every problem before reporting (with fp-ts's applicative
 * validation), and fills in Lightning's defaults.
 */
export function validateTrainerOptions(input: unknown): E.Either<Problems, ResolvedTrainerOptions> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail(`expected an object of options, got ${show(input)}`);
  const o = input as Record<string, unknown>;
  const checks = {
    unknown: unknownKeys(o),
    maxEpochs: optional(o.maxEpochs, -2, (v) => (v === -1 ? E.right(-1) : integer('maxEpochs', 0, v))),
    minEpochs: optional(o.minEpochs, 0, (v) => integer('minEpochs', 0, v)),
    maxSteps: optional(o.maxSteps, -1, (v) => (v === -1 ? E.right(-1) : integer('maxSteps', 0, v))),
    accelerator: optional(o.accelerator, 'auto' as Accelerator, (v) =>
      oneOf<Accelerator>('accelerator', ['auto', 'cpu', 'mkl', 'cuda', 'webgpu'], v),
    ),
    devices: optional(o.devices, 'auto' as number | 'auto', (v) =>
      v === 'auto' || v === 1 || (isDistributed(o.strategy) && typeof v === 'number' && Number.isInteger(v) && v > 1)
        ? E.right(v as number | 'auto')
        : fail<number | 'auto'>(
            `devices must be 1 or 'auto' unless strategy is 'ddp' (several devices train with strategy: 'ddp', launched by flint-run), got ${show(v)}`,
          ),
    ),
    numNodes: optional(o.numNodes, 1, (v) =>
      v === 1 || (isDistributed(o.strategy) && typeof v === 'number' && Number.isInteger(v) && v > 1)
        ? E.right(v as number)
        : fail<number>(`numNodes must be 1 unless strategy is 'ddp' (a positive integer), got ${show(v)}`),
    ),
    strategy: optional(o.strategy, 'auto' as 'auto' | 'ddp' | Strategy, strategy),
    precision: optional(o.precision, '32-true' as Precision, precision),
    gradientClipVal: optional(o.gradientClipVal, undefined as number | undefined, (v) =>
      typeof v === 'number' && Number.isFinite(v) && v >= 0
        ? E.right(v === 0 ? undefined : v)
        : fail<number | undefined>(`gradientClipVal must be a finite number >= 0, got ${show(v)}`),
    ),
    gradientClipAlgorithm: optional(o.gradientClipAlgorithm, 'norm' as const, (v) =>
      oneOf<'norm' | 'value'>('gradientClipAlgorithm', ['norm', 'value'], v),
    ),
    accumulateGradBatches: optional(o.accumulateGradBatches, 1, (v) => integer('accumulateGradBatches', 1, v)),
    valCheckInterval: optional(o.valCheckInterval, 1, (v) =>
      typeof v === 'number' && Number.isFinite(v) && v > 0 && (v <= 1 || Number.isInteger(v))
        ? E.right(v)
        : fail<number>(`valCheckInterval must be a fraction in (0, 1] of an epoch or a whole number of batches, got ${show(v)}`),
    ),
    checkValEveryNEpoch: optional(o.checkValEveryNEpoch, 1 as number | null, (v) =>
      v === null ? E.right(null) : integer('checkValEveryNEpoch', 1, v),
    ),
    logEveryNSteps: optional(o.logEveryNSteps, 50, (v) => integer('logEveryNSteps', 1, v)),
    limitTrainBatches: optional(o.limitTrainBatches, 1, (v) => limit('limitTrainBatches', v)),
    limitValBatches: optional(o.limitValBatches, 1, (v) => limit('limitValBatches', v)),
    limitTestBatches: optional(o.limitTestBatches, 1, (v) => limit('limitTestBatches', v)),
    limitPredictBatches: optional(o.limitPredictBatches, 1, (v) => limit('limitPredictBatches', v)),
    fastDevRun: optional(o.fastDevRun, 0, (v) => (typeof v === 'boolean' ? E.right(v ? 1 : 0) : integer('fastDevRun', 0, v))),
    overfitBatches: optional(o.overfitBatches, 0, (v) => limit('overfitBatches', v)),
    numSanityValSteps: optional(o.numSanityValSteps, 2, (v) => (v === -1 ? E.right(-1) : integer('numSanityValSteps', 0, v))),
    enableProgressBar: optional(o.enableProgressBar, true, (v) => boolean('enableProgressBar', v)),
    enableCheckpointing: optional(o.enableCheckpointing, true, (v) => boolean('enableCheckpointing', v)),
    defaultRootDir: optional(o.defaultRootDir, '.', (v) =>
      typeof v === 'string' && v !== '' ? E.right(v) : fail<string>(`defaultRootDir must be a non-empty path, got ${show(v)}`),
    ),
    deterministic: optional(o.deterministic, false, (v) => boolean('deterministic', v)),
    seed: optional(o.seed, undefined as number | undefined, (v) =>
      typeof v === 'number' && Number.isSafeInteger(v) ? E.right(v) : fail<number | undefined>(`seed must be an integer, got ${show(v)}`),
    ),
    callbacks: optional(o.callbacks, [] as readonly Callback[], callbacks),
    logger: optional(o.logger, true as readonly Logger[] | boolean, loggers),
    profiler: optional(o.profiler, undefined as 'simple' | Profiler | undefined, profiler),
  };
  const entries = Object.entries(checks) as [string, Checked<unknown>][];
  const all = RA.sequence(validation)(entries.map(([, check]) => check));
  return E.map((values: readonly unknown[]) => {
    const r = Object.fromEntries(entries.map(([key], i) => [key, values[i]])) as {
      [K in keyof typeof checks]: (typeof checks)[K] extends Checked<infer T> ? T : never;
    };
    const { unknown: _unknown, ...rest } = r;
    // Lightning: with neither limit set, 1000 epochs; with only maxSteps, epochs are unlimited.
    const maxEpochs = rest.maxEpochs === -2 ? (rest.maxSteps === -1 ? 1000 : -1) : rest.maxEpochs;
    // Under DDP, 'auto' devices are the processes the launcher started on this machine.
    const devices =
      rest.devices === 'auto' ? (isDistributed(rest.strategy) ? distributed.environmentRank().localWorldSize : 1) : rest.devices;
    return { ...rest, maxEpochs, devices } as ResolvedTrainerOptions;
  })(all);
}

/** The options resolved, or one ValueError listing every problem. */
export function resolveTrainerOptions(input: unknown): ResolvedTrainerOptions {
  const checked = validateTrainerOptions(input);
  if (E.isLeft(checked)) {
    const problems = checked.left;
    throw new ValueError(
      `Trainer: ${problems.length} problem${problems.length === 1 ? '' : 's'} with the options:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return checked.right;
}
