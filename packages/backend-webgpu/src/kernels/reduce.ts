import { type Aval, type DType, type ParamsOf, Primitive, primitiveName, type ReducePrimitive, sizeOf } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import { coalesce, type Storage, type WebGpuHandle } from '../handle.js';
import { type WgslScalar, wgslType } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';
import { fillKernel } from './copy.js';

// Reductions see the input as [kept..., reduced...] through strides (no transpose first). Short
// rows are folded by one thread per output; longer ones by a workgroup per output: 256 threads
// take every 256th element, then combine their partial results in workgroup memory (two passes
// over the data would only pay for rows far longer than a workgroup can cover). Columns (outputs
// side by side in memory, their elements apart: a bias's gradient) take a workgroup per 32
// outputs instead, whose reads are rows of neighbouring outputs (columnSource).

interface Fold {
  readonly identity: string;
  readonly combine: (acc: string, value: string) => string;
  readonly finish: (acc: string) => string;
  readonly helpers: readonly string[];
}

const LOWEST: Record<WgslScalar, string> = { f32: '-infF()', i32: 'bitcast<i32>(0x80000000u)', u32: '0u' };
const HIGHEST: Record<WgslScalar | 'bool', string> = { f32: 'infF()', i32: '2147483647', u32: '255u', bool: '1u' };

function foldOf(op: ReducePrimitive | 'sum' | 'max', dtype: DType): Fold {
  const type = wgslType(dtype);
  const byte = dtype === 'uint8';
  const finish = byte ? (acc: string) => `(${acc}) & 255u` : (acc: string) => acc;
  const zero = type === 'f32' ? '0.0' : type === 'i32' ? '0' : '0u';
  const one = type === 'f32' ? '1.0' : type === 'i32' ? '1' : '1u';
  switch (op) {
    case Primitive.ReduceSum:
    case 'sum':
      return { identity: zero, combine: (a, v) => `${a} + ${v}`, finish, helpers: [] };
    case Primitive.ReduceProd:
      return { identity: one, combine: (a, v) => `${a} * ${v}`, finish, helpers: [] };
    case Primitive.ReduceMax:
    case 'max':
      if (type === 'f32') return { identity: LOWEST.f32, combine: (a, v) => `maxF(${a}, ${v})`, finish, helpers: ['orderF'] };
      return { identity: LOWEST[type], combine: (a, v) => `max(${a}, ${v})`, finish, helpers: [] };
    case Primitive.ReduceMin:
      if (type === 'f32') return { identity: HIGHEST.f32, combine: (a, v) => `minF(${a}, ${v})`, finish, helpers: ['orderF'] };
      return { identity: HIGHEST[dtype === 'bool' ? 'bool' : type], combine: (a, v) => `min(${a}, ${v})`, finish, helpers: [] };
  }
}

/** The identity's 32-bit pattern, for filling the output of an empty reduction. */
function identityBits(op: ReducePrimitive, dtype: DType): number {
  const float = dtype === 'float32';
  switch (op) {
    case Primitive.ReduceSum:
      return 0;
    case Primitive.ReduceProd:
      return float ? 0x3f800000 : 1;
    case Primitive.ReduceMax:
      return float ? 0xff800000 | 0 : dtype === 'int32' ? -2147483648 : 0;
    case Primitive.ReduceMin:
      return float ? 0x7f800000 : dtype === 'int32' ? 2147483647 : dtype === 'uint8' ? 255 : 1;
  }
}

/** Header slots of the reduction parameters. */
// outputs, length, keptRank, keptShapeAt, keptStridesAt, reducedRank, reducedShapeAt,
// reducedStridesAt, offset, chunks per row, chunk length
const SLOTS = 11;

const OFFSETS = `
fn rowStart(o: i32) -> i32 { return params[8] + stridedOffset(o, params[2], params[3], params[4]); }
fn rowOffset(r: i32) -> i32 { return stridedOffset(r, params[5], params[6], params[7]); }
`;

function threadSource(type: WgslScalar, fold: Fold): () => string {
  return () => `${bindings(type, [type])}${library(fold.helpers)}${OFFSETS}
${MAIN_1D} {
  let o = ${THREAD_INDEX};
  if (o >= params[0]) { return; }
  let start = rowStart(o);
  var acc = ${fold.identity};
  for (var r = 0; r < params[1]; r++) {
    let v = input0[start + rowOffset(r)];
    acc = ${fold.combine('acc', 'v')};
  }
  result[o] = ${fold.finish('acc')};
}
`;
}

// A workgroup folds one chunk of a row (the whole row unless the row is split for two passes).
function groupSource(type: WgslScalar, fold: Fold): () => string {
  return () => `${bindings(type, [type])}${library(fold.helpers)}${OFFSETS}
var<workgroup> partial: array<${type}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let piece = i32(wid.x + wid.y * nwg.x);
  let inRange = piece < params[0] * params[9];
  var acc = ${fold.identity};
  if (inRange) {
    let o = piece / params[9];
    let begin = (piece % params[9]) * params[10];
    let end = min(params[1], begin + params[10]);
    let start = rowStart(o);
    for (var r = begin + i32(lid); r < end; r += ${WORKGROUP}) {
      let v = input0[start + rowOffset(r)];
      acc = ${fold.combine('acc', 'v')};
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] = ${fold.combine('partial[lid]', 'partial[lid + s]')}; }
    workgroupBarrier();
  }
  if (lid == 0u && inRange) { result[piece] = ${fold.finish('partial[0]')}; }
}
`;
}

/**
 * Columns: workgroup (group, span) takes 32 neighbouring outputs and `span` elements of each; its
 * 8 rows of 32 threads read a row of the 32 outputs at a time (a workgroup per output would read
 * 256 elements of one column, each from another row), and each output's 8 partial results are
 * folded in order. The result holds span-major partial results (the outputs themselves when
 * there is one span), which the caller folds as columns again.
 */
function columnSource(type: WgslScalar, fold: Fold): () => string {
  return () => `${bindings(type, [type])}${library(fold.helpers)}${OFFSETS}
var<workgroup> partial: array<${type}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let groups = (params[0] + 31) / 32;
  let piece = i32(wid.x + wid.y * nwg.x);
  let o = (piece % groups) * 32 + i32(lid % 32u);
  let span = piece / groups;
  let inRange = span < params[9] && o < params[0];
  var acc = ${fold.identity};
  if (inRange) {
    let begin = span * params[10];
    let end = min(params[1], begin + params[10]);
    let start = rowStart(o);
    for (var r = begin + i32(lid / 32u); r < end; r += ${WORKGROUP / 32}) {
      let v = input0[start + rowOffset(r)];
      acc = ${fold.combine('acc', 'v')};
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  if (lid < 32u && inRange) {
    for (var k = 1u; k < ${WORKGROUP / 32}u; k++) { acc = ${fold.combine('acc', 'partial[lid + 32u * k]')}; }
    result[span * params[0] + o] = ${fold.finish('acc')};
  }
}
`;
}

/** Whether neighbouring outputs are neighbours in memory while each output's elements are not, with 32 or more outputs. */
function isColumns(layout: RowLayout): boolean {
  return layout.outputs >= 32 && layout.length > SHORT_ROW && layout.keptInnerStride === 1 && layout.reducedInnerStride !== 1;
}

/**
 * Columns (see columnSource): about 1024 workgroups, each span at least 512 elements; several
 * spans write partial results, which fold as columns again.
 */
function reduceColumns(context: WebGpuContext, x: WebGpuHandle, layout: RowLayout, op: ReducePrimitive, label: string): Storage {
  const groups = Math.ceil(layout.outputs / 32);
  const spans = Math.max(1, Math.min(Math.ceil(layout.length / 512), Math.ceil(1024 / groups)));
  layout.params.set(9, spans);
  layout.params.set(10, Math.ceil(layout.length / spans));
  const target = context.allocate(layout.outputs * spans);
  context.launch(
    {
      name: label,
      key: `${primitiveName(op)}:${x.dtype}:columns`,
      source: columnSource(wgslType(x.dtype), foldOf(op, x.dtype)),
      params: layout.params.words,
      workgroups: grid(groups * spans, 1),
    },
    target,
    [x.storage],
  );
  if (spans === 1) return target;
  try {
    return reduceToStorage(context, context.handle(target, [spans, layout.outputs], x.dtype), [0], op);
  } finally {
    context.release(target);
  }
}

/** Rows no longer than this are folded by one thread each. */
const SHORT_ROW = 64;
/** Rows at least this long, when there are too few to occupy the GPU, are folded in two passes. */
const SPLIT_ROW = 8192;
const FEW_ROWS = 64;
const CHUNK = 2048;

interface RowLayout {
  readonly outputs: number;
  readonly length: number;
  readonly params: ParamWriter;
  /** The strides of the innermost kept and reduced dims once size-1 dims are dropped and runs merged (undefined: none). */
  readonly keptInnerStride: number | undefined;
  readonly reducedInnerStride: number | undefined;
}

/** The input as rows: kept dims (in order) index the rows, `reduced` dims run along them. */
function rowLayout(x: WebGpuHandle, reduced: readonly number[]): RowLayout {
  const kept: number[] = [];
  for (let d = 0; d < x.shape.length; d++) if (!reduced.includes(d)) kept.push(d);
  const keptShape = kept.map((d) => x.shape[d] as number);
  const reducedShape = reduced.map((d) => x.shape[d] as number);
  const keptMerged = coalesce(keptShape, [kept.map((d) => x.strides[d] as number)]);
  const reducedMerged = coalesce(reducedShape, [reduced.map((d) => x.strides[d] as number)]);
  const params = new ParamWriter(SLOTS);
  const outputs = sizeOf(keptShape);
  const length = sizeOf(reducedShape);
  params.set(0, outputs);
  params.set(1, length);
  params.set(2, keptMerged.shape.length);
  params.section(3, keptMerged.shape);
  params.section(4, keptMerged.strides[0] as number[]);
  params.set(5, reducedMerged.shape.length);
  params.section(6, reducedMerged.shape);
  params.section(7, reducedMerged.strides[0] as number[]);
  params.set(8, x.offset);
  params.set(9, 1);
  params.set(10, length);
  const inner = (strides: readonly number[]) => strides[strides.length - 1];
  return {
    outputs,
    length,
    params,
    keptInnerStride: inner(keptMerged.strides[0] as number[]),
    reducedInnerStride: inner(reducedMerged.strides[0] as number[]),
  };
}

/** Folds the `axes` of `x` into a new storage of one element per kept position. */
function reduceToStorage(context: WebGpuContext, x: WebGpuHandle, axes: readonly number[], op: ReducePrimitive): Storage {
  const name = primitiveName(op);
  const layout = rowLayout(x, axes);
  const label = `${name} (${x.dtype})`;
  if (isColumns(layout)) return reduceColumns(context, x, layout, op, label);
  const split = layout.length >= SPLIT_ROW && layout.outputs < FEW_ROWS;
  const output = split ? null : context.allocate(layout.outputs);
  if (output === null) {
    // Few long rows: one workgroup per row would leave most of the GPU idle, so the first pass
    // folds chunks of every row in parallel and the second folds each row's partial results.
    const chunks = Math.ceil(layout.length / CHUNK);
    layout.params.set(9, chunks);
    layout.params.set(10, CHUNK);
    const partials = context.allocate(layout.outputs * chunks);
    context.launch(
      {
        name: label,
        key: `${name}:${x.dtype}:group`,
        source: groupSource(wgslType(x.dtype), foldOf(op, x.dtype)),
        params: layout.params.words,
        workgroups: grid(layout.outputs * chunks, 1),
      },
      partials,
      [x.storage],
    );
    const folded = reduceToStorage(context, context.handle(partials, [layout.outputs, chunks], x.dtype), [1], op);
    context.release(partials);
    return folded;
  }
  if (layout.outputs === 0) return output;
  if (layout.length === 0) {
    fillKernel(context, label, output, layout.outputs, identityBits(op, x.dtype));
    return output;
  }
  const type = wgslType(x.dtype);
  const fold = foldOf(op, x.dtype);
  if (layout.length <= SHORT_ROW) {
    context.launch(
      {
        name: label,
        key: `${name}:${x.dtype}:thread`,
        source: threadSource(type, fold),
        params: layout.params.words,
        workgroups: grid(layout.outputs, WORKGROUP),
      },
      output,
      [x.storage],
    );
    return output;
  }
  context.launch(
    {
      name: label,
      key: `${name}:${x.dtype}:group`,
      source: groupSource(type, fold),
      params: layout.params.words,
      workgroups: grid(layout.outputs, 1),
    },
    output,
    [x.storage],
  );
  return output;
}

export function reduceKernel<P extends ReducePrimitive>(op: P) {
  return (context: WebGpuContext, inputs: readonly WebGpuHandle[], params: ParamsOf<P>, out: Aval): WebGpuHandle => {
    const x = inputs[0] as WebGpuHandle;
    return context.handle(reduceToStorage(context, x, params.axes, op), out.shape, out.dtype);
  };
}

/**
 * Whether (vb, ib) replaces (va, ia) as the best so far: strictly better, or equal with a lower
 * index (the first extreme wins whatever order partial results meet in). NaN counts as the extreme.
 */
function beatsSource(type: WgslScalar, isMax: boolean): string {
  const better = isMax ? '>' : '<';
  if (type === 'f32') {
    return `
fn beats(vb: f32, ib: i32, va: f32, ia: i32) -> bool {
  if (ia < 0) { return true; }
  let nb = isNanF(vb);
  let na = isNanF(va);
  if (na || nb) { return (na && nb && ib < ia) || (nb && !na); }
  let kb = keyF(vb);
  let ka = keyF(va);
  return kb ${better} ka || (kb == ka && ib < ia);
}
`;
  }
  return `
fn beats(vb: ${type}, ib: i32, va: ${type}, ia: i32) -> bool {
  if (ia < 0) { return true; }
  return vb ${better} va || (vb == va && ib < ia);
}
`;
}

function argSource(type: WgslScalar, isMax: boolean): () => string {
  return () => `${bindings('i32', [type])}${library(type === 'f32' ? ['orderF'] : [])}${OFFSETS}${beatsSource(type, isMax)}
var<workgroup> bestValue: array<${type}, ${WORKGROUP}>;
var<workgroup> bestIndex: array<i32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let o = i32(wid.x + wid.y * nwg.x);
  let inRange = o < params[0];
  var value = input0[0];
  var index = -1;
  if (inRange) {
    let start = rowStart(o);
    for (var r = i32(lid); r < params[1]; r += ${WORKGROUP}) {
      let v = input0[start + rowOffset(r)];
      if (beats(v, r, value, index)) { value = v; index = r; }
    }
  }
  bestValue[lid] = value;
  bestIndex[lid] = index;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s && bestIndex[lid + s] >= 0 && beats(bestValue[lid + s], bestIndex[lid + s], bestValue[lid], bestIndex[lid])) {
      bestValue[lid] = bestValue[lid + s];
      bestIndex[lid] = bestIndex[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u && inRange) { result[o] = max(bestIndex[0], 0); }
}
`;
}

export function argReduceKernel(op: Primitive.Argmax | Primitive.Argmin) {
  const name = primitiveName(op);
  const isMax = op === Primitive.Argmax;
  return (context: WebGpuContext, inputs: readonly WebGpuHandle[], params: { readonly axis: number }, out: Aval): WebGpuHandle => {
    const x = inputs[0] as WebGpuHandle;
    const layout = rowLayout(x, [params.axis]);
    const output = context.allocate(layout.outputs);
    if (layout.outputs > 0 && layout.length > 0) {
      context.launch(
        {
          name: `${name} (${x.dtype})`,
          key: `${name}:${x.dtype}`,
          source: argSource(wgslType(x.dtype), isMax),
          params: layout.params.words,
          workgroups: grid(layout.outputs, 1),
        },
        output,
        [x.storage],
      );
    } else if (layout.outputs > 0) fillKernel(context, name, output, layout.outputs, 0);
    return context.handle(output, out.shape, out.dtype);
  };
}

export { foldOf };
