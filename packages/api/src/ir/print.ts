import type { Aval } from '../core/aval.js';
import type { DType } from '../core/dtype.js';
import { isFloating } from '../core/dtype.js';
import { primitiveName } from '../primitives/primitive.js';
import { formatCompositeCall } from './composite.js';
import type { Equation, PrimitiveEquation, Program, Var } from './program.js';

// The readable form of a program, as `jit(f).lower(...args).toString()` shows it and as the
// FLINT_DUMP_IR dumps write it. Vars are renumbered in order of definition (inputs, tensor
// constants, then equation outputs), so a printed program does not depend on the ids a pass
// happened to allocate; literal constants print inline as numbers.

const SHORT_DTYPE: Record<DType, string> = {
  float32: 'f32',
  float64: 'f64',
  float16: 'f16',
  bfloat16: 'bf16',
  int32: 'i32',
  uint8: 'u8',
  bool: 'bool',
};

/** `f32[128,784]`. */
export function formatAval(aval: Aval): string {
  return `${SHORT_DTYPE[aval.dtype] ?? aval.dtype}[${aval.shape.join(',')}]`;
}

function formatNumber(value: number, dtype: DType): string {
  if (dtype === 'bool') return value !== 0 ? 'true' : 'false';
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (isFloating(dtype) && Number.isInteger(value)) return Object.is(value, -0) ? '-0.0' : `${value}.0`;
  if (dtype === 'float32') {
    // The shortest decimal that rounds to this float32 (0.1, not 0.10000000149011612).
    for (let digits = 1; digits < 17; digits++) {
      const text = value.toPrecision(digits);
      if (Math.fround(Number(text)) === value) return String(Number(text));
    }
  }
  return String(value);
}

function formatParam(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(formatParam).join(',')}]`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : formatNumber(value, 'float32');
  return String(value);
}

function formatParams(params: object): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    // dotGeneral without batch dims is the common case; its empty lists only add noise.
    if (Array.isArray(value) && value.length === 0 && key.endsWith('Batch')) continue;
    parts.push(`${key}=${formatParam(value)}`);
  }
  return parts.length === 0 ? '' : `[${parts.join(' ')}]`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Prints `program`; equal programs print equally, whatever their Var ids. */
export function printProgram(program: Program): string {
  const names = new Map<Var, string>();
  let next = 0;
  const define = (v: Var): string => {
    let name = names.get(v);
    if (name === undefined) {
      name = `%${next++}`;
      names.set(v, name);
    }
    return name;
  };
  const ref = (v: Var): string => {
    const c = program.constants.get(v);
    if (c !== undefined && c.kind === 'literal') return formatNumber(c.value, v.aval.dtype);
    return names.get(v) ?? `%?${v.id}`;
  };
  const typed = (v: Var): string => `${define(v)}: ${formatAval(v.aval)}`;
  const lines: string[] = [];
  const header = program.inputs.map(typed).join(', ');
  lines.push(`program ${program.name}(${header}) {`);
  for (const [v, c] of program.constants) {
    if (c.kind === 'tensor') lines.push(`  const ${typed(v)}`);
  }
  const primitiveLine = (e: PrimitiveEquation, indent: string): string =>
    `${indent}${typed(e.output)} = ${primitiveName(e.primitive)}${formatParams(e.params)} ${e.inputs.map(ref).join(' ')}`.trimEnd();
  const memory = program.memory;
  program.equations.forEach((e: Equation, index) => {
    if (e.kind === 'primitive') lines.push(primitiveLine(e, '  '));
    else {
      const outputs = e.outputs.map(typed).join(', ');
      const kind = e.composite === undefined ? `${e.fusion} fusion` : `composite ${formatCompositeCall(e.composite)}`;
      lines.push(`  ${outputs} = ${kind}(${e.inputs.map(ref).join(' ')}) {`);
      for (const inner of e.body) lines.push(primitiveLine(inner, '    '));
      lines.push('  }');
    }
    if (memory !== undefined) {
      const notes: string[] = [];
      const reusable = memory.reusable[index];
      if (reusable) {
        const lent = e.inputs.filter((_, i) => reusable[i] === true);
        if (lent.length > 0) notes.push(`may write into ${lent.map(ref).join(' ')}`);
      }
      const freed = memory.freeAfter[index] ?? [];
      if (freed.length > 0) notes.push(`free ${freed.map(ref).join(' ')}`);
      if (notes.length > 0) lines.push(`    # ${notes.join('; ')}`);
    }
  });
  lines.push(`  return ${program.outputs.map(ref).join(', ')}`);
  if (memory !== undefined) {
    lines.push(
      `  # memory: peak ${formatBytes(memory.peakBytes)} of intermediates; ${formatBytes(memory.reusedBytes)} may be written in place`,
    );
  }
  lines.push('}');
  return lines.join('\n');
}
