import type { KernelOp, KernelProgram } from '@flint/api';
import { coalesce, isContiguous, type WebGpuHandle } from '../handle.js';
import type { WgslScalar } from '../layout.js';
import type { ParamWriter } from '../wgsl/shader.js';
import { type FusedBody, literalDeclaration, loadedValue } from './body.js';

// Reading a fused body's loads at one linear index of the kernel's shape, as the elementwise
// kernel (one thread per element) and the contraction epilogue (one call per stored element) do.
// Shapes and strides travel in the parameters, so one shader serves every layout of the inputs.

// Parameter words of the point reads, from `base`: rank, shape, whether every load is
// contiguous, then per load its offset and strides, then the literals.
const HEADER = 3;
const PER_LOAD = 2;

/** How many parameter words the point reads take. */
export function pointSlots(body: FusedBody): number {
  return HEADER + PER_LOAD * body.loads.length + body.literals.length;
}

/** The strides reading a view of `shape` as its broadcast to `target` (added and size-1 dims step by 0). */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] {
  const lead = target.length - shape.length;
  return target.map((n, d) => {
    if (d < lead) return 0;
    return (shape[d - lead] as number) === 1 && n !== 1 ? 0 : (strides[d - lead] as number);
  });
}

/** The strides with which load k reads its input over `shape`. */
export function loadStrides(kernel: KernelProgram, body: FusedBody, inputs: readonly WebGpuHandle[]): number[][] {
  return body.loads.map((load) => {
    const h = inputs[load.input] as WebGpuHandle;
    if (load.broadcast === null) return [...h.strides];
    const target = (kernel.ops[load.broadcast] as KernelOp).aval.shape;
    return broadcastStrides(h.shape, h.strides, target);
  });
}

/** Fills the point-read parameters at `base` of `writer` (whose header has room for them). */
export function writePointParams(
  writer: ParamWriter,
  base: number,
  body: FusedBody,
  shape: readonly number[],
  inputs: readonly WebGpuHandle[],
  strides: readonly number[][],
): void {
  const merged = coalesce(shape, strides);
  writer.set(base, merged.shape.length);
  writer.section(base + 1, merged.shape);
  writer.set(base + 2, strides.every((s) => isContiguous(shape, s)) ? 1 : 0);
  body.loads.forEach((load, k) => {
    const h = inputs[load.input] as WebGpuHandle;
    writer.set(base + HEADER + PER_LOAD * k, h.offset);
    writer.section(base + HEADER + 1 + PER_LOAD * k, merged.strides[k] as number[]);
  });
  const literalsAt = base + HEADER + PER_LOAD * body.loads.length;
  // Float literals (NaN and infinities included) travel as bits: WGSL rejects constant expressions that evaluate to them.
  body.literals.forEach((literal, l) => {
    writer.set(literalsAt + l, literal.bits);
  });
}

/**
 * WGSL declaring `l0..` (read at linear index `index`) and `c0..`; `binding(input)` names an
 * input's buffer. When every load is contiguous each reads at its offset plus the index; otherwise
 * the index is split into coordinates once and every load's offset accumulated from them.
 */
export function pointReads(body: FusedBody, base: number, index: string, binding: (input: number) => string): string {
  const lines: string[] = [];
  const offset = (k: number): string => `params[${base + HEADER + PER_LOAD * k}]`;
  const strides = (k: number): string => `params[${base + HEADER + 1 + PER_LOAD * k}]`;
  const loads = body.loads.map((_, k) => k);
  for (const k of loads) lines.push(`  var at${k} = ${offset(k)} + ${index};`);
  if (loads.length > 0) {
    lines.push(`  if (params[${base + 2}] == 0) {`);
    for (const k of loads) lines.push(`    at${k} = ${offset(k)};`);
    lines.push(`    var pointRest = ${index};`);
    lines.push(`    for (var pointDim = params[${base}] - 1; pointDim >= 0; pointDim--) {`);
    lines.push(`      let pointSize = params[params[${base + 1}] + pointDim];`);
    lines.push('      let pointCoordinate = pointRest % pointSize;');
    lines.push('      pointRest = pointRest / pointSize;');
    for (const k of loads) lines.push(`      at${k} = at${k} + pointCoordinate * params[${strides(k)} + pointDim];`);
    lines.push('    }');
    lines.push('  }');
  }
  body.loads.forEach((load, k) => {
    lines.push(`  let l${k} = ${loadedValue(`${binding(load.input)}[at${k}]`, load.dtype)};`);
  });
  const literalsAt = base + HEADER + PER_LOAD * body.loads.length;
  body.literals.forEach((literal, l) => {
    lines.push(literalDeclaration(literal, l, literalsAt + l));
  });
  return lines.join('\n');
}

/** The WGSL name of kernel input k's buffer in fused bodies. */
export const inputBuffer = (input: number): string => `in${input}`;

/**
 * Bindings of a fused kernel: binding 0 the parameters, 1 the first output, then the `inputs`
 * buffers in order, then the other outputs (`out1`, ...).
 */
export function fusedBindings(outputTypes: readonly WgslScalar[], inputs: readonly { name: string; type: WgslScalar }[]): string {
  const lines = [
    '@group(0) @binding(0) var<storage, read> params: array<i32>;',
    `@group(0) @binding(1) var<storage, read_write> result: array<${outputTypes[0]}>;`,
  ];
  inputs.forEach((input, k) => {
    lines.push(`@group(0) @binding(${2 + k}) var<storage, read> ${input.name}: array<${input.type}>;`);
  });
  outputTypes.slice(1).forEach((type, j) => {
    lines.push(`@group(0) @binding(${2 + inputs.length + j}) var<storage, read_write> out${j + 1}: array<${type}>;`);
  });
  return `${lines.join('\n')}\n`;
}

/** The WGSL name of output m's buffer. */
export function outputBuffer(m: number): string {
  return m === 0 ? 'result' : `out${m}`;
}
