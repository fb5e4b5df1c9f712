/**
 * How an error names a user's hook: the function's name, or `#id` (the id of the handle its
 * registration returned) for an anonymous one.
 */
export function hookName(hook: (...args: never[]) => unknown, id: number): string {
  return hook.name.length > 0 ? `'${hook.name}'` : `#${id}`;
}
