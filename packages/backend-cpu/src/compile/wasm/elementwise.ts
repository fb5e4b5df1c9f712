import { type KernelOp, type KernelRef, Primitive } from '@flint/api';
import { I32, ins, moduleBytes } from './encoding.js';
import { type Emitter, expInto, tanhInto } from './math.js';

// Fused float32 elementwise kernels as WebAssembly SIMD, four lanes per instruction. The data
// stays in the backend's typed arrays; the kernel streams it through its own small memory in
// chunks that fit in L1 (copy a chunk of each input in, run, copy the outputs' chunk out), so the
// copies hit cache and main memory is read and written once, as by a single fused loop.

/** Elements per chunk: a few operands of 4 KiB each stay in L1 together. */
const CHUNK = 1024;

/** The ops the SIMD generator implements (all on float32). */
const SUPPORTED = new Set<Primitive>([
  Primitive.Neg,
  Primitive.Abs,
  Primitive.Sqrt,
  Primitive.Rsqrt,
  Primitive.Exp,
  Primitive.Tanh,
  Primitive.Logistic,
  Primitive.Reciprocal,
  Primitive.Floor,
  Primitive.Ceil,
  Primitive.Round,
  Primitive.Add,
  Primitive.Sub,
  Primitive.Mul,
  Primitive.Div,
  Primitive.Max,
  Primitive.Min,
  Primitive.Broadcast,
]);

/** Whether every op and value of `ops` is float32 arithmetic the SIMD generator implements. */
export function simdCompatible(ops: readonly KernelOp[], inputDTypes: readonly string[]): boolean {
  return (
    typeof WebAssembly !== 'undefined' &&
    inputDTypes.every((d) => d === 'float32') &&
    ops.every((op) => SUPPORTED.has(op.primitive) && op.aval.dtype === 'float32')
  );
}

/** What the generated module reads: per load, an array streamed in chunks or one splatted scalar. */
export interface SimdLayout {
  readonly scalar: readonly boolean[];
}

export interface SimdKernel {
  run(
    loads: readonly Float32Array[],
    loadOffsets: readonly number[],
    outputs: readonly Float32Array[],
    outputOffsets: readonly number[],
    total: number,
  ): void;
}

/**
 * Builds the SIMD kernel for `ops` (elementwise only) under `layout`. `directLoad` maps a kernel
 * input read directly to its load; `broadcastLoad` maps a broadcast op to its load. Returns null if
 * the module fails to build (no SIMD support).
 */
export function buildSimdKernel(
  ops: readonly KernelOp[],
  outputs: readonly number[],
  directLoad: ReadonlyMap<number, number>,
  broadcastLoad: ReadonlyMap<number, number>,
  layout: SimdLayout,
): SimdKernel | null {
  const loadCount = layout.scalar.length;
  // Memory: one f32 per scalar load, then a CHUNK-float region per streamed load and per output.
  const scalarAddress = (k: number): number => k * 4;
  const regionStart = Math.ceil((loadCount * 4) / 16) * 16;
  const region = (slot: number): number => regionStart + slot * CHUNK * 4;
  const loadRegion = new Map<number, number>();
  let slots = 0;
  for (let k = 0; k < loadCount; k++) if (!layout.scalar[k]) loadRegion.set(k, region(slots++));
  const outputRegion = outputs.map(() => region(slots++));
  const pages = Math.ceil(region(slots) / 65536) + 1;

  const N = 0;
  const I = 1;
  let nextLocal = 2;
  const local = (): number => nextLocal++;
  const loadLocal = new Array<number>(loadCount);
  const prologue: number[][] = [];
  const body: number[][] = [];
  for (let k = 0; k < loadCount; k++) {
    loadLocal[k] = local();
    if (layout.scalar[k]) prologue.push(ins.i32Const(0), ins.v128Load32Splat(scalarAddress(k)), ins.localSet(loadLocal[k] as number));
    else body.push(ins.localGet(I), ins.v128Load(loadRegion.get(k) as number), ins.localSet(loadLocal[k] as number));
  }
  const opLocal = new Array<number>(ops.length);
  // Constants live in locals set before the loop.
  const constantLocals = new Map<string, number>();
  const constant = (key: string, make: () => number[]): number[] => {
    let l = constantLocals.get(key);
    if (l === undefined) {
      l = local();
      constantLocals.set(key, l);
      prologue.push(make(), ins.localSet(l));
    }
    return ins.localGet(l);
  };
  const emitter: Emitter = {
    local,
    f32: (value) => constant(`f${Object.is(value, -0) ? '-0' : String(Math.fround(value))}`, () => ins.f32x4Const(value)),
    i32: (value) => constant(`i${value | 0}`, () => ins.i32x4Const(value)),
  };
  const push = (ref: KernelRef): number[][] => {
    if (ref.kind === 'op') return [ins.localGet(opLocal[ref.index] as number)];
    if (ref.kind === 'input') return [ins.localGet(loadLocal[directLoad.get(ref.index) as number] as number)];
    return [emitter.f32(ref.value)];
  };
  const binary: Partial<Record<Primitive, () => number[]>> = {
    [Primitive.Add]: ins.f32x4Add,
    [Primitive.Sub]: ins.f32x4Sub,
    [Primitive.Mul]: ins.f32x4Mul,
    [Primitive.Div]: ins.f32x4Div,
    [Primitive.Max]: ins.f32x4Max,
    [Primitive.Min]: ins.f32x4Min,
  };
  const unary: Partial<Record<Primitive, () => number[]>> = {
    [Primitive.Neg]: ins.f32x4Neg,
    [Primitive.Abs]: ins.f32x4Abs,
    [Primitive.Sqrt]: ins.f32x4Sqrt,
    [Primitive.Floor]: ins.f32x4Floor,
    [Primitive.Ceil]: ins.f32x4Ceil,
    [Primitive.Round]: ins.f32x4Nearest,
  };
  for (let j = 0; j < ops.length; j++) {
    const op = ops[j] as KernelOp;
    if (op.primitive === Primitive.Broadcast) {
      opLocal[j] = loadLocal[broadcastLoad.get(j) as number] as number;
      continue;
    }
    const out = local();
    opLocal[j] = out;
    const [a, b] = op.args as [KernelRef, KernelRef];
    const bin = binary[op.primitive];
    const un = unary[op.primitive];
    if (bin !== undefined) body.push(...push(a), ...push(b), bin(), ins.localSet(out));
    else if (un !== undefined) body.push(...push(a), un(), ins.localSet(out));
    else if (op.primitive === Primitive.Reciprocal) body.push(emitter.f32(1), ...push(a), ins.f32x4Div(), ins.localSet(out));
    else if (op.primitive === Primitive.Rsqrt) body.push(emitter.f32(1), ...push(a), ins.f32x4Sqrt(), ins.f32x4Div(), ins.localSet(out));
    else if (op.primitive === Primitive.Exp) {
      body.push(...push(a), ins.localSet(out), ...expInto(out, out, emitter));
    } else if (op.primitive === Primitive.Tanh) {
      const x = local();
      body.push(...push(a), ins.localSet(x), ...tanhInto(x, out, emitter));
    } else if (op.primitive === Primitive.Logistic) {
      // 1 / (1 + exp(-x))
      body.push(
        ...push(a),
        ins.f32x4Neg(),
        ins.localSet(out),
        ...expInto(out, out, emitter),
        emitter.f32(1),
        emitter.f32(1),
        ins.localGet(out),
        ins.f32x4Add(),
        ins.f32x4Div(),
        ins.localSet(out),
      );
    } else return null;
  }
  outputs.forEach((o, m) => {
    body.push(ins.localGet(I), ins.localGet(opLocal[o] as number), ins.v128Store(outputRegion[m] as number));
  });

  const code: number[][] = [
    ...prologue,
    ins.i32Const(0),
    ins.localSet(I),
    ins.block(),
    ins.loop(),
    ins.localGet(I),
    ins.localGet(N),
    ins.i32GeU(),
    ins.brIf(1),
    ...body,
    ins.localGet(I),
    ins.i32Const(16),
    ins.i32Add(),
    ins.localSet(I),
    ins.br(0),
    ins.end(),
    ins.end(),
  ];
  let run: (bytes: number) => void;
  let memory: WebAssembly.Memory;
  try {
    const bytes = moduleBytes([I32], 1, nextLocal - 2, code, pages);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    run = instance.exports.run as (bytes: number) => void;
    memory = instance.exports.memory as WebAssembly.Memory;
  } catch {
    return null;
  }
  const heap = new Float32Array(memory.buffer);
  const streamed = [...loadRegion.entries()].map(([k, address]) => [k, address / 4] as const);
  const scalars = [...layout.scalar.keys()].filter((k) => layout.scalar[k]);
  const outputStarts = outputRegion.map((address) => address / 4);
  return {
    run(loads, loadOffsets, outs, outputOffsets, total) {
      for (const k of scalars) heap[k] = (loads[k] as Float32Array)[loadOffsets[k] as number] as number;
      for (let start = 0; start < total; start += CHUNK) {
        const length = Math.min(CHUNK, total - start);
        for (const [k, at] of streamed) {
          const from = (loadOffsets[k] as number) + start;
          heap.set((loads[k] as Float32Array).subarray(from, from + length), at);
        }
        run(((length + 3) >> 2) << 4);
        for (let m = 0; m < outputStarts.length; m++) {
          const at = outputStarts[m] as number;
          (outs[m] as Float32Array).set(heap.subarray(at, at + length), (outputOffsets[m] as number) + start);
        }
      }
    },
  };
}
