import {
  type Aval,
  type CompiledKernel,
  type DType,
  type KernelOp,
  type KernelProgram,
  type KernelRef,
  type ParamsOf,
  Primitive,
  sizeOf,
  type TypedArray,
} from '@flint/api';
import { erf, floatMod, floatPow, int32Pow, roundHalfEven, uint8Pow } from '../math.js';
import { allocateUninitialized, type MemoryLedger } from '../storage.js';
import { type CpuHandle, isContiguous, wrap } from '../view.js';
import { expression, numberSource, rounded } from './expression.js';
import { broadcastStrides, coalesceLoops, rowMajor } from './layout.js';
import { generateSimd, simdCompatible } from './wasm/elementwise.js';
import type { SimdKernel } from './wasm/simd-kernel.js';
import { simdKernel } from './wasm/threaded-kernel.js';

// Fused elementwise and reduction kernels as generated JavaScript. A kernel is compiled once per
// layout of its inputs (their strides; usually one per program), with every trip count and stride
// a literal in the code, so V8 sees a plain loop nest of typed-array reads, arithmetic and
// stores, with no per-element call or dispatch.

/** One strided read of a kernel input: directly, or as a broadcast op of it. */
interface Load {
  readonly input: number;
  /** The broadcast op that reads the input, or null for direct reads. */
  readonly broadcast: number | null;
}

const REDUCTIONS = new Set<Primitive>([Primitive.ReduceSum, Primitive.ReduceMax, Primitive.ReduceMin, Primitive.ReduceProd]);

/** Below this many elements the generated loop beats the SIMD kernel's setup. */
const SIMD_MIN_ELEMENTS = 64;

type Generated = (data: readonly TypedArray[], offsets: readonly number[]) => void;

function reductionIdentity(p: Primitive, dtype: DType): number {
  switch (p) {
    case Primitive.ReduceSum:
      return 0;
    case Primitive.ReduceProd:
      return 1;
    case Primitive.ReduceMax:
      return dtype === 'int32' ? -2147483648 : dtype === 'uint8' || dtype === 'bool' ? 0 : -Infinity;
    default:
      return dtype === 'int32' ? 2147483647 : dtype === 'uint8' ? 255 : dtype === 'bool' ? 1 : Infinity;
  }
}

function combine(p: Primitive, dtype: DType, value: string): string {
  switch (p) {
    case Primitive.ReduceSum:
      return dtype === 'int32' ? `acc = (acc + ${value}) | 0;` : dtype === 'uint8' ? `acc = (acc + ${value}) & 255;` : `acc += ${value};`;
    case Primitive.ReduceProd:
      return dtype === 'int32'
        ? `acc = Math.imul(acc, ${value});`
        : dtype === 'uint8'
          ? `acc = (acc * ${value}) & 255;`
          : `acc *= ${value};`;
    case Primitive.ReduceMax:
      return `{ const v = ${value}; if (v > acc || v !== v) acc = v; }`;
    default:
      return `{ const v = ${value}; if (v < acc || v !== v) acc = v; }`;
  }
}

/**
 * The compiled form of an elementwise or reduction kernel, or null when it uses something this
 * generator does not handle (the jit then runs those ops one by one).
 */
export function compileMapReduce(kernel: KernelProgram, ledger: MemoryLedger): CompiledKernel<CpuHandle> | null {
  const ops = kernel.ops;
  const last = ops[ops.length - 1];
  const reduce = kernel.kind === 'reduction' && last !== undefined && REDUCTIONS.has(last.primitive) ? last : null;
  if (kernel.kind === 'reduction' && reduce === null) return null;
  const mapOps = reduce === null ? ops : ops.slice(0, -1);
  const shape =
    reduce === null
      ? ops[0]?.aval.shape
      : (() => {
          const arg = reduce.args[0] as KernelRef;
          return arg.kind === 'input' ? kernel.inputs[arg.index]?.shape : arg.kind === 'op' ? ops[arg.index]?.aval.shape : undefined;
        })();
  if (shape === undefined) return null;
  const reducedAxes = reduce === null ? [] : (reduce.params as ParamsOf<Primitive.ReduceSum>).axes;

  // Loads and the source of every op's value.
  const loads: Load[] = [];
  const directLoad = new Map<number, number>();
  const broadcastRead = new Set<number>();
  const sourceOf: string[] = [];
  const refSource = (ref: KernelRef): string => {
    if (ref.kind === 'literal') return numberSource(ref.value);
    if (ref.kind === 'op') return sourceOf[ref.index] as string;
    let load = directLoad.get(ref.index);
    if (load === undefined) {
      load = loads.length;
      loads.push({ input: ref.index, broadcast: null });
      directLoad.set(ref.index, load);
    }
    return `l${load}`;
  };
  const statements: string[] = [];
  for (let j = 0; j < mapOps.length; j++) {
    const op = mapOps[j] as KernelOp;
    if (op.primitive === Primitive.Broadcast) {
      const arg = op.args[0] as KernelRef;
      if (arg.kind !== 'input') return null;
      broadcastRead.add(arg.index);
      sourceOf[j] = `l${loads.length}`;
      loads.push({ input: arg.index, broadcast: j });
      continue;
    }
    const args = op.args.map(refSource);
    const first = op.args[op.primitive === Primitive.Where ? 1 : 0];
    const inputDType = first === undefined ? op.aval.dtype : dtypeOfRef(kernel, first, op.aval.dtype);
    const source = expression(op, args, inputDType);
    if (source === undefined) return null;
    statements.push(`const t${j} = ${source};`);
    sourceOf[j] = `t${j}`;
  }
  let reduceValue = '';
  if (reduce !== null) reduceValue = refSource(reduce.args[0] as KernelRef);

  // Outputs: map outputs are written at `shape`; the reduction's at the reduced shape.
  const mapOutputs = kernel.outputs.filter((o) => o !== ops.length - 1 || reduce === null);
  for (const o of mapOutputs) if ((ops[o] as KernelOp).primitive === Primitive.Broadcast) return null;
  const reduceDType = reduce?.aval.dtype ?? 'float32';

  const total = sizeOf(shape);
  const keptShape = shape.filter((_, d) => !reducedAxes.includes(d));
  const order = [...shape.keys()].filter((d) => !reducedAxes.includes(d)).concat(reducedAxes);
  const reorderedShape = order.map((d) => shape[d] as number);
  const contiguous = rowMajor(shape);
  const keptContiguous = rowMajor(keptShape);
  const reduceStrides = order.map((d) => {
    const k = keptShape.length > 0 ? order.indexOf(d) : -1;
    return reducedAxes.includes(d) ? 0 : (keptContiguous[k] as number);
  });

  const generate = (loadStrides: readonly (readonly number[])[]): Generated => {
    // Operands: map outputs, then loads, then the reduction's output.
    const operandStrides: number[][] = [];
    for (let m = 0; m < mapOutputs.length; m++) operandStrides.push(order.map((d) => contiguous[d] as number));
    for (const s of loadStrides) operandStrides.push(order.map((d) => s[d] as number));
    if (reduce !== null) operandStrides.push(reduceStrides);
    const nest = coalesceLoops(reorderedShape, operandStrides, keptShape.length);
    const levels = nest.counts.length;
    const accDepth = reduce === null ? -1 : nest.barrierLevel;
    const operands = operandStrides.length;
    const lines: string[] = ['"use strict";'];
    for (let k = 0; k < operands; k++) lines.push(`const D${k} = data[${k}]; const p${k}_0 = offsets[${k}];`);
    const body: string[] = [];
    for (let k = 0; k < loadStrides.length; k++) body.push(`const l${k} = D${mapOutputs.length + k}[p${mapOutputs.length + k}_${levels}];`);
    body.push(...statements);
    mapOutputs.forEach((o, m) => {
      body.push(`D${m}[p${m}_${levels}] = ${sourceOf[o]};`);
    });
    if (reduce !== null) body.push(combine(reduce.primitive, reduceDType, reduceValue));
    const reduceOperand = operands - 1;
    const accInit = reduce === null ? '' : `let acc = ${numberSource(reductionIdentity(reduce.primitive, reduceDType))};`;
    const accStore = reduce === null ? '' : `D${reduceOperand}[p${reduceOperand}_${accDepth}] = ${rounded(reduceDType, 'acc')};`;
    let open = '';
    let close = '';
    for (let j = 0; j < levels; j++) {
      if (j === accDepth) open += accInit;
      open += `for (let i${j} = 0; i${j} < ${nest.counts[j]}; i${j}++) {`;
      for (let k = 0; k < operands; k++) {
        const stride = (nest.strides[k] as number[])[j] as number;
        open += stride === 0 ? `const p${k}_${j + 1} = p${k}_${j};` : `const p${k}_${j + 1} = p${k}_${j} + i${j} * ${stride};`;
      }
    }
    for (let j = levels - 1; j >= 0; j--) {
      close += '}';
      if (j === accDepth) close += accStore;
    }
    if (accDepth === levels) {
      lines.push(`${open}${accInit}${body.join('\n')}${accStore}${close}`);
    } else lines.push(`${open}${body.join('\n')}${close}`);
    const source = lines.join('\n');
    const factory = new Function(
      'erf',
      'roundHalfEven',
      'floatMod',
      'floatPow',
      'int32Pow',
      'uint8Pow',
      `return function fusedKernel(data, offsets) {\n${source}\n};`,
    );
    return factory(erf, roundHalfEven, floatMod, floatPow, int32Pow, uint8Pow) as Generated;
  };

  const byLayout = new Map<string, Generated>();
  // Float32 chains of the arithmetic the SIMD generator knows run as WebAssembly when every read
  // is contiguous or a single broadcast value (the common case); other layouts use the loops above.
  const simd =
    reduce === null &&
    simdCompatible(
      ops,
      kernel.inputs.map((a) => a.dtype),
    );
  const simdByLayout = new Map<string, SimdKernel | null>();
  const broadcastLoad = new Map<number, number>();
  loads.forEach((load, k) => {
    if (load.broadcast !== null) broadcastLoad.set(load.broadcast, k);
  });
  const outputShape = (o: number): readonly number[] => (ops[o] as KernelOp).aval.shape;
  const reducedSize = sizeOf(keptShape);

  return {
    run(inputs: readonly CpuHandle[], consumable: readonly boolean[]): CpuHandle[] {
      // Outputs: write into a consumable input of the same shape and dtype that is read only
      // directly (so element i is read before it is overwritten) and viewed by nothing else.
      const taken = new Set<number>();
      const results: CpuHandle[] = new Array(kernel.outputs.length);
      const data: TypedArray[] = [];
      const offsets: number[] = [];
      for (let m = 0; m < mapOutputs.length; m++) {
        const o = mapOutputs[m] as number;
        const dtype = (ops[o] as KernelOp).aval.dtype;
        let handle: CpuHandle | undefined;
        for (let i = 0; i < inputs.length && handle === undefined; i++) {
          const candidate = inputs[i] as CpuHandle;
          if (!consumable[i] || taken.has(i) || broadcastRead.has(i) || candidate.dtype !== dtype) continue;
          if (candidate.storage.life.refs !== 1 || !isContiguous(candidate) || !sameShape(candidate.shape, outputShape(o))) continue;
          taken.add(i);
          handle = candidate;
        }
        if (handle === undefined) {
          handle = wrap(allocateUninitialized(dtype, total), outputShape(o), dtype);
          ledger.track(handle.storage);
        }
        results[kernel.outputs.indexOf(o)] = handle;
        data.push(handle.storage.data);
        offsets.push(handle.offset);
      }
      const keyParts: string[] = [];
      const loadStrides = loads.map((load) => {
        const h = inputs[load.input] as CpuHandle;
        data.push(h.storage.data);
        offsets.push(h.offset);
        const strides =
          load.broadcast === null ? h.strides : broadcastStrides(h.shape, h.strides, (ops[load.broadcast] as KernelOp).aval.shape);
        keyParts.push(strides.join(','));
        return strides;
      });
      if (reduce !== null) {
        const handle = wrap(allocateUninitialized(reduceDType, reducedSize), reduce.aval.shape, reduceDType);
        ledger.track(handle.storage);
        results[kernel.outputs.indexOf(ops.length - 1)] = handle;
        data.push(handle.storage.data);
        offsets.push(0);
      }
      if (total === 0) {
        if (reduce !== null) (data[data.length - 1] as TypedArray).fill(reductionIdentity(reduce.primitive, reduceDType));
        return results;
      }
      if (simd && total >= SIMD_MIN_ELEMENTS) {
        let pattern = '';
        for (const load of loads) {
          const h = inputs[load.input] as CpuHandle;
          pattern += sizeOf(h.shape) === 1 ? 's' : load.broadcast === null && isContiguous(h) ? 'a' : 'x';
        }
        if (!pattern.includes('x')) {
          let kernelForLayout = simdByLayout.get(pattern);
          if (kernelForLayout === undefined) {
            const program = generateSimd(ops, mapOutputs, directLoad, broadcastLoad, { scalar: [...pattern].map((c) => c === 's') });
            kernelForLayout = simdKernel(program);
            simdByLayout.set(pattern, kernelForLayout);
          }
          if (kernelForLayout !== null) {
            const outCount = mapOutputs.length;
            const args = [
              data.slice(outCount) as Float32Array[],
              offsets.slice(outCount),
              data.slice(0, outCount) as Float32Array[],
              offsets.slice(0, outCount),
              total,
            ] as const;
            kernelForLayout.run(...args);
            return results;
          }
        }
      }
      const key = keyParts.join(';');
      let fn = byLayout.get(key);
      if (fn === undefined) {
        fn = generate(loadStrides);
        byLayout.set(key, fn);
      }
      fn(data, offsets);
      return results;
    },
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function dtypeOfRef(kernel: KernelProgram, ref: KernelRef, fallback: DType): DType {
  if (ref.kind === 'input') return (kernel.inputs[ref.index] as Aval).dtype;
  if (ref.kind === 'op') return (kernel.ops[ref.index] as KernelOp).aval.dtype;
  return fallback;
}
