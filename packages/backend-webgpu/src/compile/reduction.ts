import {
  type Aval,
  type CompiledKernel,
  contiguousStrides,
  type KernelOp,
  type KernelProgram,
  type ParamsOf,
  Primitive,
  type ReducePrimitive,
  sizeOf,
} from '@flint/api';
import type { WebGpuContext } from '../context.js';
import { coalesce, type Storage, type WebGpuHandle } from '../handle.js';
import { foldOf, reduceKernel } from '../kernels/reduce.js';
import { grid } from '../runtime.js';
import { library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';
import { fusedBody, literalDeclaration, loadedValue, storageType, storedValue, Unsupported, valueType } from './body.js';
import { checkBindings, fusedName, readInputs } from './elementwise.js';
import { fusedBindings, inputBuffer, loadStrides, outputBuffer } from './pointwise.js';

// Elementwise producers folded into a reduction: the reduction's threads evaluate the producers
// at each element they fold, so the producers' results never go through memory (unless the
// program also uses them: those "map outputs" are written where each element is visited, each
// exactly once). Rows are laid out as in the op-by-op reduction (kernels/reduce.ts): a thread per
// short row, a workgroup per long row, and few very long rows split into chunks whose partial
// results a second pass folds.

const REDUCTIONS = new Set<Primitive>([Primitive.ReduceSum, Primitive.ReduceMax, Primitive.ReduceMin, Primitive.ReduceProd]);

const SHORT_ROW = 64;
const SPLIT_ROW = 8192;
const FEW_ROWS = 64;
const CHUNK = 2048;

/** Header words: rows, length, keptRank, keptShapeAt, reducedRank, reducedShapeAt, chunks, chunk length. */
const HEADER = 8;

/** A fused reduction: elementwise ops over the reduced input's shape, then one reduction. */
export function compileReduction(context: WebGpuContext, kernel: KernelProgram): CompiledKernel<WebGpuHandle> {
  const reduce = kernel.ops[kernel.ops.length - 1];
  if (reduce === undefined || !REDUCTIONS.has(reduce.primitive)) throw new Unsupported('a reduction kernel without a closing reduction');
  const op = reduce.primitive as ReducePrimitive;
  const axes = (reduce.params as ParamsOf<Primitive.ReduceSum>).axes;
  const body = fusedBody(kernel, 0, kernel.ops.length - 1);
  const arg = reduce.args[0];
  if (arg === undefined) throw new Unsupported('a reduction without an operand');
  const value = body.reference(arg);
  const shape = arg.kind === 'input' ? kernel.inputs[arg.index]?.shape : arg.kind === 'op' ? kernel.ops[arg.index]?.aval.shape : undefined;
  if (shape === undefined) throw new Unsupported('a reduction of a literal');
  const dtype = reduce.aval.dtype;
  const type = valueType(dtype);
  // float16 accumulates in f32 and rounds the result once, as the op-by-op reduction does.
  const fold = foldOf(op, dtype === 'float16' ? 'float32' : dtype);
  const finish = (acc: string): string => storedValue(fold.finish(acc), dtype);
  const last = kernel.ops.length - 1;
  if (!kernel.outputs.includes(last)) throw new Unsupported('a reduction kernel that does not return its reduction');
  const mapOutputs = kernel.outputs.filter((o) => o !== last);
  const used = readInputs(body.loads);
  checkBindings(context, used.length + 1 + mapOutputs.length);
  const loads = body.loads.length;
  const operands = loads + mapOutputs.length;
  const literalsAt = HEADER + 3 * operands;

  const declarations = (): string => {
    const inputs = used.map((input) => ({ name: inputBuffer(input), type: storageType((kernel.inputs[input] as Aval).dtype) }));
    const outputTypes = [storageType(dtype), ...mapOutputs.map((o) => storageType((kernel.ops[o] as KernelOp).aval.dtype))];
    const helpers = [...body.helpers, ...fold.helpers, ...(dtype === 'float16' ? ['halfF'] : [])];
    return `${fusedBindings(outputTypes, inputs)}${library(helpers)}${body.functions}`;
  };
  const rowStarts = (row: string): string =>
    Array.from(
      { length: operands },
      (_, q) => `  let s${q} = params[${HEADER + 3 * q}] + stridedOffset(${row}, params[2], params[3], params[${HEADER + 1 + 3 * q}]);`,
    ).join('\n');
  const literals = body.literals.map((literal, l) => literalDeclaration(literal, l, literalsAt + l)).join('\n');
  const element = (position: string, accumulator: string): string => {
    const lines: string[] = [];
    // The position is split into coordinates once; every operand's offset accumulates from them.
    for (let q = 0; q < operands; q++) lines.push(`    var at${q} = s${q};`);
    lines.push(`    var elementRest = ${position};`);
    lines.push('    for (var elementDim = params[4] - 1; elementDim >= 0; elementDim--) {');
    lines.push('      let elementSize = params[params[5] + elementDim];');
    lines.push('      let elementCoordinate = elementRest % elementSize;');
    lines.push('      elementRest = elementRest / elementSize;');
    for (let q = 0; q < operands; q++) {
      lines.push(`      at${q} = at${q} + elementCoordinate * params[params[${HEADER + 2 + 3 * q}] + elementDim];`);
    }
    lines.push('    }');
    body.loads.forEach((load, k) => {
      lines.push(`    let l${k} = ${loadedValue(`${inputBuffer(load.input)}[at${k}]`, load.dtype)};`);
    });
    lines.push(body.statements.replaceAll('\n  ', '\n    ').replace(/^ {2}/, '    '));
    mapOutputs.forEach((o, m) => {
      lines.push(`    ${outputBuffer(m + 1)}[at${loads + m}] = ${storedValue(body.valueOf(o), (kernel.ops[o] as KernelOp).aval.dtype)};`);
    });
    lines.push(`    ${accumulator} = ${fold.combine(accumulator, value)};`);
    return lines.join('\n');
  };
  const threadSource = (): string => `${declarations()}
${MAIN_1D} {
  let o = ${THREAD_INDEX};
  if (o >= params[0]) { return; }
${rowStarts('o')}
${literals}
  var acc = ${fold.identity};
  for (var r = 0; r < params[1]; r++) {
${element('r', 'acc')}
  }
  result[o] = ${finish('acc')};
}
`;
  const groupSource = (): string => `${declarations()}
var<workgroup> partial: array<${type}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let piece = i32(wid.x + wid.y * nwg.x);
  let inRange = piece < params[0] * params[6];
  var acc = ${fold.identity};
  if (inRange) {
    let o = piece / params[6];
    let begin = (piece % params[6]) * params[7];
    let end = min(params[1], begin + params[7]);
${rowStarts('o')}
${literals}
    for (var r = begin + i32(lid); r < end; r += ${WORKGROUP}) {
${element('r', 'acc')}
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] = ${fold.combine('partial[lid]', 'partial[lid + s]')}; }
    workgroupBarrier();
  }
  if (lid == 0u && inRange) { result[piece] = ${finish('partial[0]')}; }
}
`;

  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const keptShape = kept.map((d) => shape[d] as number);
  const reducedShape = axes.map((d) => shape[d] as number);
  const rows = sizeOf(keptShape);
  const length = sizeOf(reducedShape);
  const contiguous = contiguousStrides(shape);
  const split = length >= SPLIT_ROW && rows < FEW_ROWS;
  if (split && dtype === 'float16') throw new Unsupported('a float16 reduction of few very long rows (run by the converting kernels)');
  const name = fusedName(kernel);
  const secondPass = reduceKernel(op);
  const mapAvals = mapOutputs.map((o) => (kernel.ops[o] as KernelOp).aval);

  return {
    run(inputs) {
      const chunks = split ? Math.ceil(length / CHUNK) : 1;
      const target = context.allocate(rows * chunks);
      const mapStorages: Storage[] = mapOutputs.map(() => context.allocate(sizeOf(shape)));
      if (rows > 0) {
        const strides = [...loadStrides(kernel, body, inputs), ...mapOutputs.map(() => contiguous)];
        const keptMerged = coalesce(
          keptShape,
          strides.map((s) => kept.map((d) => s[d] as number)),
        );
        const reducedMerged = coalesce(
          reducedShape,
          strides.map((s) => axes.map((d) => s[d] as number)),
        );
        const writer = new ParamWriter(literalsAt + body.literals.length);
        writer.set(0, rows);
        writer.set(1, length);
        writer.set(2, keptMerged.shape.length);
        writer.section(3, keptMerged.shape);
        writer.set(4, reducedMerged.shape.length);
        writer.section(5, reducedMerged.shape);
        writer.set(6, chunks);
        writer.set(7, split ? CHUNK : length);
        for (let q = 0; q < operands; q++) {
          writer.set(HEADER + 3 * q, q < loads ? (inputs[(body.loads[q] as { input: number }).input] as WebGpuHandle).offset : 0);
          writer.section(HEADER + 1 + 3 * q, keptMerged.strides[q] as number[]);
          writer.section(HEADER + 2 + 3 * q, reducedMerged.strides[q] as number[]);
        }
        body.literals.forEach((literal, l) => {
          writer.set(literalsAt + l, literal.bits);
        });
        const thread = length <= SHORT_ROW;
        context.launchMany(
          {
            name,
            key: `fused:${thread ? 'thread' : 'group'}:${kernel.text}`,
            source: thread ? threadSource : groupSource,
            params: writer.words,
            workgroups: thread ? grid(rows, WORKGROUP) : grid(rows * chunks, 1),
          },
          [target, ...mapStorages],
          used.map((input) => (inputs[input] as WebGpuHandle).storage),
        );
      }
      let reduced = context.handle(target, reduce.aval.shape, dtype);
      if (split) {
        const partials = context.handle(target, [rows, chunks], dtype);
        reduced = secondPass(context, [partials], { axes: [1] }, reduce.aval);
        context.release(target);
      }
      let next = 0;
      return kernel.outputs.map((o) => {
        if (o === last) return reduced;
        const m = next++;
        const aval = mapAvals[m] as Aval;
        return context.handle(mapStorages[m] as Storage, aval.shape, aval.dtype);
      });
    },
  };
}
