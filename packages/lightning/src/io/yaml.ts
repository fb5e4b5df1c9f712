// A small YAML emitter for hparams.yaml: plain data only (objects, arrays, strings, numbers,
// booleans, null), strings quoted whenever YAML could read them as something else.

const PLAIN = /^[A-Za-z_][A-Za-z0-9_.\-/ ]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (value === Infinity) return '.inf';
    if (value === -Infinity) return '-.inf';
    return String(value);
  }
  const text = String(value);
  if (PLAIN.test(text) && !RESERVED.test(text) && !text.endsWith(' ')) return text;
  return JSON.stringify(text);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmptyContainer(value: unknown): boolean {
  return (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
}

function emit(value: unknown, indent: string, lines: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if ((Array.isArray(item) || isObject(item)) && !isEmptyContainer(item)) {
        lines.push(`${indent}-`);
        emit(item, `${indent}  `, lines);
      } else lines.push(`${indent}- ${inline(item)}`);
    }
    return;
  }
  if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if ((Array.isArray(item) || isObject(item)) && !isEmptyContainer(item)) {
        lines.push(`${indent}${scalar(key)}:`);
        emit(item, `${indent}  `, lines);
      } else lines.push(`${indent}${scalar(key)}: ${inline(item)}`);
    }
    return;
  }
  lines.push(`${indent}${scalar(value)}`);
}

function inline(value: unknown): string {
  if (Array.isArray(value)) return '[]';
  if (isObject(value)) return '{}';
  return scalar(value);
}

/** `value` as a YAML document. */
export function toYaml(value: unknown): string {
  if (isEmptyContainer(value)) return '{}\n';
  const lines: string[] = [];
  emit(value, '', lines);
  return `${lines.join('\n')}\n`;
}
