import { type KernelOp, type KernelRef, Primitive } from '@flint/api';
import { ins, type MemoryImport, moduleBytes } from './encoding.js';
import { interleave } from './interleave.js';
import { type Emitter, expInto, logInto, signInto, tanhInto } from './math.js';

// Fused float32 elementwise kernels as WebAssembly SIMD, four lanes per instruction. A kernel is
// one function, run(begin, end, constants, base...), over the byte range [begin, end) of every
// operand (a multiple of 16 bytes): each streamed load and each output is an array at its base
// address in the module's imported memory, each scalar load one float at its base, and the
// kernel's constants 32-bit words from `constants` on. Where that memory lies is up to the
// caller: a small private memory that chunks of the data stream through (./simd-kernel.ts), or
// the thread pool's shared memory (./threaded-kernel.ts).

/** The ops the SIMD generator implements (all on float32). */
const SUPPORTED = new Set<Primitive>([
  Primitive.Neg,
  Primitive.Abs,
  Primitive.Sqrt,
  Primitive.Rsqrt,
  Primitive.Exp,
  Primitive.Log,
  Primitive.Sign,
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
  Primitive.Relu,
  Primitive.ReluGrad,
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

/**
 * max(v, c) and min(v, c) for a literal c that is not NaN, as the pseudo-max pmax(v, c) = v < c ?
 * c : v (pmin alike), which returns v for NaN v, as Math.max does. Only zeros of opposite signs
 * differ: max(-0, +0) must be +0, which adding +0 afterwards gives (and leaves every other value
 * as it is); min(+0, -0) must be -0, which no such fix gives, so min by -0 is not taken.
 */
function literalBound(primitive: Primitive, a: KernelRef, b: KernelRef): { value: KernelRef; bound: number; plusZero: boolean } | null {
  if (primitive !== Primitive.Max && primitive !== Primitive.Min) return null;
  const [value, literal] = b.kind === 'literal' ? [a, b] : a.kind === 'literal' ? [b, a] : [null, null];
  if (value === null || literal?.kind !== 'literal' || Number.isNaN(literal.value) || value.kind === 'literal') return null;
  const bound = Math.fround(literal.value);
  if (primitive === Primitive.Min && Object.is(bound, -0)) return null;
  return { value, bound, plusZero: primitive === Primitive.Max && Object.is(bound, 0) };
}

/** What the generated module reads: per load, an array streamed in chunks or one splatted scalar. */
export interface SimdLayout {
  readonly scalar: readonly boolean[];
}

/** A generated kernel: its module (for either kind of memory) and what to place in memory for it. */
export interface SimdProgram {
  /** The module's bytes, importing its memory as private or shared. */
  bytes(memory: MemoryImport): Uint8Array<ArrayBuffer>;
  /** The constants table, 32-bit words the kernel loads from its `constants` address. */
  readonly constants: Uint32Array;
  /** Per load: true for a scalar (its base holds one float), false for a streamed array. */
  readonly scalar: readonly boolean[];
  readonly outputs: number;
  /** Estimated machine instructions per four elements, for when threads pay off. */
  readonly cost: number;
}

/** Parameters of `run` before the bases: begin, end, constants. */
export const FIXED_PARAMS = 3;

/**
 * Vectors of four computed per loop iteration, their code interleaved (see ./interleave.ts):
 * `run`'s range must be a multiple of 16 x UNROLL bytes.
 */
export const UNROLL = 4;

/**
 * Generates the SIMD kernel for `ops` (elementwise only) under `layout`. `directLoad` maps a
 * kernel input read directly to its load; `broadcastLoad` maps a broadcast op to its load.
 * Returns null for an op it does not implement.
 */
export function generateSimd(
  ops: readonly KernelOp[],
  outputs: readonly number[],
  directLoad: ReadonlyMap<number, number>,
  broadcastLoad: ReadonlyMap<number, number>,
  layout: SimdLayout,
): SimdProgram | null {
  const loadCount = layout.scalar.length;
  const BEGIN = 0;
  const END = 1;
  const CONSTANTS = 2;
  const base = (operand: number): number => FIXED_PARAMS + operand;
  const params = FIXED_PARAMS + loadCount + outputs.length;
  let nextLocal = params;
  const local = (): number => nextLocal++;
  const prologue: number[][] = [];
  const scalarLocal = new Array<number>(loadCount);
  for (let k = 0; k < loadCount; k++) {
    if (!layout.scalar[k]) continue;
    scalarLocal[k] = local();
    prologue.push(ins.localGet(base(k)), ins.v128Load32Splat(0), ins.localSet(scalarLocal[k] as number));
  }
  // Constants are loaded from memory into locals before the loop: V8 keeps such values in
  // registers (or spill slots), whereas it rebuilds every v128.const at each use in the loop.
  const constantWords: number[] = [];
  const constantLocals = new Map<number, number>();
  const constant = (bits: number): number[] => {
    let l = constantLocals.get(bits);
    if (l === undefined) {
      l = local();
      constantLocals.set(bits, l);
      prologue.push(ins.localGet(CONSTANTS), ins.v128Load32Splat(constantWords.length * 4), ins.localSet(l));
      constantWords.push(bits);
    }
    return ins.localGet(l);
  };
  const floatBits = new Uint32Array(new Float32Array(1).buffer);
  const floatView = new Float32Array(floatBits.buffer);
  const emitter: Emitter = {
    local,
    f32: (value) => {
      floatView[0] = value;
      return constant(floatBits[0] as number);
    },
    i32: (value) => constant(value >>> 0),
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
  /** The loop body for the vector `offset` bytes past BEGIN: its own locals, the shared constants. */
  const vectorBody = (offset: number): number[][] | null => {
    const body: number[][] = [];
    const loadLocal = new Array<number>(loadCount);
    for (let k = 0; k < loadCount; k++) {
      if (layout.scalar[k]) loadLocal[k] = scalarLocal[k] as number;
      else {
        loadLocal[k] = local();
        body.push(ins.localGet(BEGIN), ins.localGet(base(k)), ins.i32Add(), ins.v128Load(offset), ins.localSet(loadLocal[k] as number));
      }
    }
    const opLocal = new Array<number>(ops.length);
    const push = (ref: KernelRef): number[][] => {
      if (ref.kind === 'op') return [ins.localGet(opLocal[ref.index] as number)];
      if (ref.kind === 'input') return [ins.localGet(loadLocal[directLoad.get(ref.index) as number] as number)];
      return [emitter.f32(ref.value)];
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
      const clamp = literalBound(op.primitive, a, b);
      if (clamp !== null) {
        // One pseudo-max/min instruction instead of the several of a NaN- and zero-exact max/min.
        body.push(...push(clamp.value), emitter.f32(clamp.bound), op.primitive === Primitive.Max ? ins.f32x4Pmax() : ins.f32x4Pmin());
        if (clamp.plusZero) body.push(emitter.f32(0), ins.f32x4Add());
        body.push(ins.localSet(out));
      } else if (bin !== undefined) body.push(...push(a), ...push(b), bin(), ins.localSet(out));
      else if (un !== undefined) body.push(...push(a), un(), ins.localSet(out));
      // relu(x) = x < 0 ? 0 : x is exactly the pseudo-max pmax(x, 0): NaN and -0 pass through.
      else if (op.primitive === Primitive.Relu) body.push(...push(a), emitter.f32(0), ins.f32x4Pmax(), ins.localSet(out));
      // reluGrad(y, g) = y <= 0 ? 0 : g: g with the lanes where 0 >= y (false for NaN) cleared.
      else if (op.primitive === Primitive.ReluGrad)
        body.push(...push(b), emitter.f32(0), ...push(a), ins.f32x4Ge(), ins.v128AndNot(), ins.localSet(out));
      else if (op.primitive === Primitive.Reciprocal) body.push(emitter.f32(1), ...push(a), ins.f32x4Div(), ins.localSet(out));
      else if (op.primitive === Primitive.Rsqrt) body.push(emitter.f32(1), ...push(a), ins.f32x4Sqrt(), ins.f32x4Div(), ins.localSet(out));
      else if (op.primitive === Primitive.Exp) {
        body.push(...push(a), ins.localSet(out), ...expInto(out, out, emitter));
      } else if (op.primitive === Primitive.Log || op.primitive === Primitive.Sign) {
        const x = local();
        body.push(...push(a), ins.localSet(x), ...(op.primitive === Primitive.Log ? logInto : signInto)(x, out, emitter));
      } else if (op.primitive === Primitive.Tanh) {
        const x = local();
        body.push(...push(a), ins.localSet(x), ...tanhInto(x, out, emitter));
      } else if (op.primitive === Primitive.Logistic) {
        // e = exp(-|x|) never overflows: 1 / (1 + e) for x >= 0, e / (1 + e) below (which keeps
        // the tiny results of very negative x that 1 / (1 + exp(-x)) would flush to 0).
        const x = local();
        const q = local();
        body.push(
          ...push(a),
          ins.localTee(x),
          emitter.i32(-0x80000000),
          ins.v128Or(),
          ins.localSet(out),
          ...expInto(out, out, emitter),
          emitter.f32(1),
          emitter.f32(1),
          ins.localGet(out),
          ins.f32x4Add(),
          ins.f32x4Div(),
          ins.localSet(q),
          ins.localGet(out),
          ins.localGet(q),
          ins.f32x4Mul(),
          ins.localGet(q),
          ins.localGet(x),
          emitter.f32(0),
          ins.f32x4Lt(),
          ins.v128Bitselect(),
          ins.localSet(out),
        );
      } else return null;
    }
    outputs.forEach((o, m) => {
      body.push(
        ins.localGet(BEGIN),
        ins.localGet(base(loadCount + m)),
        ins.i32Add(),
        ins.localGet(opLocal[o] as number),
        ins.v128Store(offset),
      );
    });
    return body;
  };
  const groups: number[][][] = [];
  for (let g = 0; g < UNROLL; g++) {
    const body = vectorBody(16 * g);
    if (body === null) return null;
    groups.push(body);
  }
  const body = interleave(groups);
  const code: number[][] = [
    ...prologue,
    ins.block(),
    ins.loop(),
    ins.localGet(BEGIN),
    ins.localGet(END),
    ins.i32GeU(),
    ins.brIf(1),
    ...body,
    ins.localGet(BEGIN),
    ins.i32Const(16 * UNROLL),
    ins.i32Add(),
    ins.localSet(BEGIN),
    ins.br(0),
    ins.end(),
    ins.end(),
  ];
  const v128Locals = nextLocal - params;
  const constants = Uint32Array.from(constantWords);
  // Roughly one machine instruction per wasm SIMD instruction in the loop.
  const cost = body.length / UNROLL;
  return {
    bytes: (memory) => moduleBytes(params, 0, v128Locals, code, memory),
    constants,
    scalar: layout.scalar,
    outputs: outputs.length,
    cost,
  };
}
