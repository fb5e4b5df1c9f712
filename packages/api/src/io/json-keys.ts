/** A key that appears twice in one JSON object. */
export interface DuplicateKey {
  /** The path of the object holding it ('' for the top level). */
  readonly path: string;
  readonly key: string;
  /** Character index of the second occurrence in the text. */
  readonly index: number;
}

interface Frame {
  readonly isObject: boolean;
  readonly path: string;
  readonly keys: Set<string>;
  expectKey: boolean;
  lastKey: string;
}

/**
 * The duplicate keys of a JSON text that `JSON.parse` accepted (which silently keeps the last of
 * duplicates, where a safetensors header must name each tensor once).
 */
export function findDuplicateKeys(text: string): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const top = stack[stack.length - 1];
    if (c === '"') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      if (top?.isObject && top.expectKey) {
        const key = JSON.parse(text.slice(start, i)) as string;
        if (top.keys.has(key)) found.push({ path: top.path, key, index: start });
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      const parentPath = top === undefined ? '' : top.isObject ? `${top.path}${top.path === '' ? '' : '.'}${top.lastKey}` : `${top.path}[]`;
      stack.push({ isObject: c === '{', path: top === undefined ? '' : parentPath, keys: new Set(), expectKey: c === '{', lastKey: '' });
    } else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && top?.isObject) top.expectKey = true;
    i++;
  }
  return found;
}
