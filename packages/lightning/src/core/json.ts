// JSON cannot spell Infinity or NaN, yet trainer state holds them (a ReduceLROnPlateau's `best`
// starts at Infinity, an early-stopping score may be NaN). They travel as tagged objects.

/** Plain data as it is stored in checkpoints and logs. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

const TAG = '$number';

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { [TAG]: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tagged = (value as Record<string, unknown>)[TAG];
    if (keys.length === 1 && typeof tagged === 'string') return Number(tagged);
  }
  return value;
}

/** JSON.stringify that keeps Infinity, -Infinity and NaN. */
export function stringifyState(value: unknown, indent?: number): string {
  return JSON.stringify(value, replacer, indent);
}

/** JSON.parse that restores what `stringifyState` wrote. */
export function parseState(text: string): unknown {
  return JSON.parse(text, reviver);
}
