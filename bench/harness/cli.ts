/** Command-line options of `npm run bench -- [suite ...] [options]`. */
import { isSuiteName, SUITE_NAMES, type SuiteName } from '../common/suites.js';

export interface Options {
  readonly suites: readonly SuiteName[];
  /** Flint backends to measure; undefined: every one that initializes. */
  readonly backends?: readonly string[];
  /** System names or prefixes to run; undefined: all. */
  readonly systems?: readonly string[];
  readonly quick: boolean;
  readonly repeats?: number;
  /** How many times each suite's systems run, round-robin, their samples pooled (default 1). */
  readonly rounds: number;
  readonly budgetSeconds?: number;
  readonly outDir?: string;
  readonly quietWaitSeconds: number;
  readonly quietThresholdCores: number;
  readonly ceilings: boolean;
  readonly help: boolean;
}

export const USAGE = `usage: npm run bench -- [suite ...] [options]

suites: ${SUITE_NAMES.join(' ')} (default: all)

  --backend <name>         Flint backend(s) to measure, repeatable or comma-separated (default: every one that initializes)
  --systems <list>         only these systems, by name or prefix: flint, tfjs, jax-js, torch, numpy, openblas, onednn
  --quick                  small shapes and few samples: a smoke run (results go to bench/.build/results)
  --repeats <n>            timed samples per figure (default 10; quick 3)
  --rounds <n>             run each suite's systems n times, taking turns, and pool their samples (default 1):
                           a machine whose speed drifts over seconds (a shared host) then biases no system
  --budget <seconds>       time per figure after which sampling stops once 3 samples exist (default 3)
  --out <dir>              folder for the JSON, Markdown and SVG results (default bench/results)
  --quiet-wait <seconds>   how long to wait for other processes to go quiet (default 60; quick 5)
  --quiet-threshold <n>    other processes' load, in cores, that still counts as quiet (default 0.25)
  --no-ceiling             skip measuring the FMA peak and the memory bandwidth
  --help                   this text`;

function positiveNumber(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < 0)
    throw new Error(`bench: ${flag} needs a non-negative number, got ${value ?? 'nothing'}`);
  return n;
}

export function parseOptions(argv: readonly string[]): Options {
  const suites: SuiteName[] = [];
  const backends: string[] = [];
  const systems: string[] = [];
  let quick = false;
  let repeats: number | undefined;
  let rounds = 1;
  let budgetSeconds: number | undefined;
  let outDir: string | undefined;
  let quietWait: number | undefined;
  let quietThreshold = 0.25;
  let ceilings = true;
  let help = false;
  const list = (value: string | undefined, flag: string) => {
    if (value === undefined || value.startsWith('--')) throw new Error(`bench: ${flag} needs a value`);
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const next = () => inline ?? argv[++i];
    switch (flag) {
      case '--backend':
      case '--backends':
        backends.push(...list(next(), flag));
        break;
      case '--systems':
      case '--system':
        systems.push(...list(next(), flag));
        break;
      case '--quick':
        quick = true;
        break;
      case '--repeats':
        repeats = Math.max(1, Math.round(positiveNumber(flag, next())));
        break;
      case '--rounds':
        rounds = Math.max(1, Math.round(positiveNumber(flag, next())));
        break;
      case '--budget':
        budgetSeconds = positiveNumber(flag, next());
        break;
      case '--out':
        outDir = next();
        if (outDir === undefined) throw new Error('bench: --out needs a folder');
        break;
      case '--quiet-wait':
        quietWait = positiveNumber(flag, next());
        break;
      case '--quiet-threshold':
        quietThreshold = positiveNumber(flag, next());
        break;
      case '--no-ceiling':
        ceilings = false;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default: {
        if (flag.startsWith('-')) throw new Error(`bench: unknown option ${flag}\n\n${USAGE}`);
        for (const name of flag.split(',')) {
          if (name === 'all') suites.push(...SUITE_NAMES);
          else if (isSuiteName(name)) suites.push(name);
          else throw new Error(`bench: unknown suite '${name}'; suites are ${SUITE_NAMES.join(', ')}`);
        }
      }
    }
  }
  return {
    suites: suites.length ? [...new Set(suites)] : [...SUITE_NAMES],
    ...(backends.length ? { backends } : {}),
    ...(systems.length ? { systems } : {}),
    quick,
    ...(repeats === undefined ? {} : { repeats }),
    rounds,
    ...(budgetSeconds === undefined ? {} : { budgetSeconds }),
    ...(outDir === undefined ? {} : { outDir }),
    quietWaitSeconds: quietWait ?? (quick ? 5 : 60),
    quietThresholdCores: quietThreshold,
    ceilings,
    help,
  };
}

/** Whether `system` is selected by the --systems filter (exact name or prefix before '-'). */
export function systemSelected(options: Options, system: string): boolean {
  if (!options.systems) return true;
  return options.systems.some((s) => system === s || system.startsWith(`${s}-`) || (s === 'jax' && system === 'jax-js'));
}
