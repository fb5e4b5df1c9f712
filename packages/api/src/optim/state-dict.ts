import { sequenceT } from 'fp-ts/lib/Apply.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RNEA from 'fp-ts/lib/ReadonlyNonEmptyArray.js';
import { ValueError } from '../core/errors.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/** One parameter's saved state: its step count, scalar state and buffers. */
export interface ParameterStateEntry {
  readonly step: number;
  readonly [name: string]: Tensor | number;
}

/** One parameter group's saved options, with its parameters as indices. */
export interface ParamGroupEntry {
  readonly params: readonly number[];
  readonly [option: string]: unknown;
}

/**
 * An optimizer's state as `stateDict()` returns it, laid out as PyTorch's: `state` keyed by
 * parameter index (counting across groups, in order), `paramGroups` with each group's options.
 */
export interface OptimizerStateDict {
  readonly state: Readonly<Record<string, ParameterStateEntry>>;
  readonly paramGroups: readonly ParamGroupEntry[];
}

/** What the loading optimizer knows about each of its groups. */
export interface GroupLayout {
  readonly params: readonly Tensor[];
  readonly bufferNames: readonly string[];
  readonly scalarNames: readonly string[];
}

type Problems = RNEA.ReadonlyNonEmptyArray<string>;
type Checked<T> = E.Either<Problems, T>;

const validation = E.getApplicativeValidation(RNEA.getSemigroup<string>());

/** Every check's problems, or every value when none failed. */
function all<T>(checks: readonly Checked<T>[]): Checked<readonly T[]> {
  return RA.sequence(validation)(checks);
}

const fail = <T>(problem: string): Checked<T> => E.left([problem]);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkGroup(value: unknown, g: number, layout: GroupLayout, firstIndex: number): Checked<ParamGroupEntry> {
  if (!isRecord(value)) return fail(`paramGroups[${g}] is not an object`);
  const params = value.params;
  if (!Array.isArray(params)) return fail(`paramGroups[${g}].params is not an array of parameter indices`);
  if (params.length !== layout.params.length) {
    return fail(`paramGroups[${g}] has ${params.length} parameters, this optimizer's group ${g} has ${layout.params.length}`);
  }
  const expected = layout.params.map((_, i) => firstIndex + i);
  if (params.some((p, i) => p !== expected[i])) {
    return fail(`paramGroups[${g}].params is ${JSON.stringify(params)}, expected ${JSON.stringify(expected)}`);
  }
  if (typeof value.lr !== 'number' || !Number.isFinite(value.lr))
    return fail(`paramGroups[${g}].lr is ${JSON.stringify(value.lr)}, not a finite number`);
  return E.right(value as ParamGroupEntry);
}

function checkEntry(key: string, value: unknown, param: Tensor, layout: GroupLayout): Checked<ParameterStateEntry> {
  const where = `state[${key}]`;
  if (!isRecord(value)) return fail(`${where} is not an object`);
  const checks: Checked<unknown>[] = [];
  const step = value.step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0)
    checks.push(fail(`${where}.step is ${JSON.stringify(step)}, not a non-negative integer`));
  for (const name of layout.bufferNames) {
    const buffer = value[name];
    if (buffer === undefined) checks.push(fail(`${where}.${name} is missing`));
    else if (!isTensor(buffer)) checks.push(fail(`${where}.${name} is not a tensor`));
    else if (buffer.isDisposed) checks.push(fail(`${where}.${name} was disposed`));
    else if (!shapesEqual(buffer.shape, param.shape)) {
      checks.push(fail(`${where}.${name} has shape ${formatShape(buffer.shape)}, the parameter has ${formatShape(param.shape)}`));
    }
  }
  for (const name of layout.scalarNames) {
    if (typeof value[name] !== 'number' || !Number.isFinite(value[name]))
      checks.push(fail(`${where}.${name} is ${JSON.stringify(value[name])}, not a finite number`));
  }
  const known = new Set(['step', ...layout.bufferNames, ...layout.scalarNames]);
  for (const name of Object.keys(value))
    if (!known.has(name)) checks.push(fail(`${where}.${name} is not part of this optimizer's state (expected ${[...known].join(', ')})`));
  return pipe(
    all(checks),
    E.map(() => value as ParameterStateEntry),
  );
}

/**
 * Checks a saved optimizer state against the optimizer loading it, collecting every problem
 * (wrong group count, parameter counts, buffer names and shapes, step counts) before throwing
 * one ValueError that lists them.
 */
export function validateStateDict(owner: string, dict: unknown, groups: readonly GroupLayout[]): OptimizerStateDict {
  const checked: Checked<OptimizerStateDict> = (() => {
    if (!isRecord(dict)) return fail<OptimizerStateDict>('the state dict is not an object with `state` and `paramGroups`');
    const { state, paramGroups } = dict;
    if (!Array.isArray(paramGroups)) return fail<OptimizerStateDict>('paramGroups is not an array');
    if (!isRecord(state)) return fail<OptimizerStateDict>('state is not an object');
    if (paramGroups.length !== groups.length)
      return fail<OptimizerStateDict>(`the state dict has ${paramGroups.length} parameter groups, the optimizer has ${groups.length}`);
    const owners: { param: Tensor; layout: GroupLayout }[] = [];
    for (const layout of groups) for (const param of layout.params) owners.push({ param, layout });
    const firstIndices = groups.map((_, g) => groups.slice(0, g).reduce((n, l) => n + l.params.length, 0));
    const groupChecks = all(
      paramGroups.map((value: unknown, g) => checkGroup(value, g, groups[g] as GroupLayout, firstIndices[g] as number)),
    );
    const stateChecks = all(
      Object.entries(state).map(([key, value]) => {
        const index = Number(key);
        const owner = Number.isInteger(index) && index >= 0 ? owners[index] : undefined;
        if (owner === undefined)
          return fail<ParameterStateEntry>(`state[${key}] names no parameter (indices run from 0 to ${owners.length - 1})`);
        return checkEntry(key, value, owner.param, owner.layout);
      }),
    );
    return pipe(
      sequenceT(validation)(groupChecks, stateChecks),
      E.map(() => dict as unknown as OptimizerStateDict),
    );
  })();
  if (E.isLeft(checked)) {
    const problems = checked.left;
    throw new ValueError(
      `${owner}.loadStateDict: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the state dict:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return checked.right;
}
