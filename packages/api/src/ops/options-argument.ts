import { ValueError } from '../core/errors.js';
import { isTensor } from '../tensor/memory.js';

// PyTorch's functions take their optional parameters positionally (`F.conv2d(x, w, b)`,
// `F.max_pool2d(x, 2, 1)`, `F.dropout(x, 0.5, False)`); Flint's take them in a trailing options
// object. TypeScript rejects the positional form, but plain JavaScript and `any`-typed callers
// reach the function anyway, and the value would be silently ignored (a Tensor has no `bias`
// property). Every function with a trailing options object checks it here, so such a call fails
// with the fix in the message instead of computing something else.

/** How a function's trailing options object is checked: see `optionsSignature`. */
export interface OptionsSignature {
  /** 1-based position of the options object, the function's last parameter. */
  readonly position: number;
  /** The names the options object accepts, in the order messages list them. */
  readonly keys: readonly string[];
  /** PyTorch's positional parameters from `position` on, as Flint's options name them. */
  readonly torchPositional: readonly string[];
}

/**
 * The signature of an options object of type `T` at argument `position`. `keys` lists every
 * option of `T` (the compiler checks that none is missing or unknown); `torchPositional` names
 * PyTorch's positional parameters from that position on, spelled as Flint's options are
 * (camelCase, `axis` for `dim`), so that a positional value can be told where it belongs. A name
 * that is not an option (`inplace`, `sizeAverage`) has no counterpart in Flint.
 *
 * @example
 * const CONV = optionsSignature<ConvOptions>(3, { bias: true, stride: true, padding: true, dilation: true, groups: true });
 */
export function optionsSignature<T extends object>(
  position: number,
  keys: { readonly [K in keyof Required<T>]: true },
  torchPositional: readonly string[] = Object.keys(keys),
): OptionsSignature {
  return { position, keys: Object.keys(keys), torchPositional };
}

/**
 * `fn`, checking at every call that its options argument (see `optionsSignature`) is an object or
 * absent, that nothing follows it, and that it spells its options as Flint does (`ceilMode`, not
 * `ceil_mode`); otherwise it throws a ValueError naming `op`, the argument, what it got and the
 * right spelling.
 *
 * @example
 * export const conv2d = withCheckedOptions('conv2d', CONV, (input: TensorLike, weight: TensorLike, options: ConvOptions = {}) => ...);
 * conv2d(x, w, b); // ValueError: conv2d: argument 3 is the options object { bias, ... }; got a Tensor — pass the bias as { bias }
 */
export function withCheckedOptions<A extends unknown[], R>(
  op: string,
  signature: OptionsSignature,
  fn: (...args: A) => R,
): (...args: A) => R {
  return (...args: A): R => {
    checkOptionsArgument(op, args, signature);
    return fn(...args);
  };
}

function checkOptionsArgument(op: string, args: readonly unknown[], signature: OptionsSignature): void {
  const { position } = signature;
  const options = args[position - 1];
  if (!isOptionsObject(options)) throw new ValueError(positionalMessage(op, args, signature));
  const last = lastDefined(args);
  if (last >= position) throw new ValueError(extraArgumentsMessage(op, args, last, signature));
  if (options !== undefined) checkSpellings(op, options, signature);
}

function isOptionsObject(value: unknown): value is object | undefined {
  if (value === undefined) return true;
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && !isTensor(value);
}

/** Index of the last argument that is not undefined (trailing undefineds are harmless: forwarded optionals). */
function lastDefined(args: readonly unknown[]): number {
  let last = args.length - 1;
  while (last >= 0 && args[last] === undefined) last--;
  return last;
}

function braces(names: readonly string[]): string {
  return `{ ${names.join(', ')} }`;
}

function describe(value: unknown): string {
  if (isTensor(value)) return 'a Tensor';
  if (value === null) return 'null';
  if (Array.isArray(value)) return literal(value) === undefined ? 'an array' : `an array (${literal(value)})`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  if (value === undefined) return 'undefined';
  return `a ${typeof value} (${literal(value)})`;
}

/** A value as source text where it is short and plain (numbers, booleans, strings, arrays of numbers). */
function literal(value: unknown): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value) && value.length <= 8 && value.every((v) => typeof v === 'number')) return `[${value.join(', ')}]`;
  return undefined;
}

function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The options argument holds a positional value: say which PyTorch parameter it was and how to name it. */
function positionalMessage(op: string, args: readonly unknown[], signature: OptionsSignature): string {
  const { position, keys, torchPositional } = signature;
  const given = args.slice(position - 1, lastDefined(args) + 1);
  const named: string[] = [];
  const entries: string[] = [];
  const unmatched: string[] = [];
  given.forEach((value, i) => {
    const name = torchPositional[i];
    if (value === undefined || value === null) return;
    if (name !== undefined && keys.includes(name)) {
      const text = literal(value);
      named.push(name);
      entries.push(text === undefined ? name : `${name}: ${text}`);
    } else if (name !== undefined) unmatched.push(name);
  });
  const got = listed(given.map(describe));
  const fixes: string[] = [];
  if (named.length > 0) fixes.push(`pass the ${listed(named)} as ${braces(entries)}`);
  if (unmatched.length > 0) fixes.push(`PyTorch's positional ${listed(unmatched)} has no counterpart here`);
  if (fixes.length === 0) fixes.push(given.every((v) => v === null) ? 'omit it or pass an object' : 'name each option in the object');
  return `${op}: argument ${position} is the options object ${braces(keys)}; got ${got} — ${fixes.join('; ')}`;
}

function extraArgumentsMessage(op: string, args: readonly unknown[], last: number, signature: OptionsSignature): string {
  const { position, keys } = signature;
  const extra = args.slice(position, last + 1).map((value, i) => `argument ${position + 1 + i} is ${describe(value)}`);
  const fix =
    args[position - 1] === undefined
      ? `pass the options as argument ${position}`
      : `put every option in the object at argument ${position}`;
  return `${op}: takes at most ${position} arguments, the last the options object ${braces(keys)}; got ${last + 1} (${extra.join(', ')}) — ${fix}`;
}

/** Names PyTorch users reach for, mapped to Flint's. */
const SYNONYMS: Readonly<Record<string, string>> = { dim: 'axis' };

/**
 * Refuses keys that spell one of the options another way (PyTorch's snake_case `ceil_mode`, other
 * casing, `dim` for `axis`): they would be ignored. Other extra keys are let through, so that one
 * configuration object can serve several calls, as JavaScript options objects commonly do.
 */
function checkSpellings(op: string, options: object, signature: OptionsSignature): void {
  const { position, keys } = signature;
  for (const key of Object.keys(options)) {
    if (keys.includes(key)) continue;
    const meant = respelled(key, keys);
    if (meant !== undefined) {
      throw new ValueError(
        `${op}: option '${key}' in argument ${position} is spelled '${meant}' here; the options object takes ${braces(keys)}`,
      );
    }
  }
}

/** The option `key` spells differently: its camelCase, another casing, or a synonym; undefined if none. */
function respelled(key: string, keys: readonly string[]): string | undefined {
  const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const synonym = SYNONYMS[camel];
  if (synonym !== undefined && keys.includes(synonym)) return synonym;
  return keys.find((k) => k.toLowerCase() === camel.toLowerCase());
}
