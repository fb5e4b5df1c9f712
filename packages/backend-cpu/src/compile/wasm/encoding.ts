// A minimal WebAssembly binary encoder for the jit's generated SIMD kernels: one function, one
// memory, instructions as byte arrays. (The backend's hand-written kernels have their own
// assembler in src/wasm; the jit keeps its encoder to itself so the two can change apart; they
// share only the LEB128 integers of wasm/leb128.ts.)

import { signed, unsigned } from '../../wasm/leb128.js';

export const I32 = 0x7f;
export const V128 = 0x7b;

const simd = (opcode: number): number[] => [0xfd, ...unsigned(opcode)];
const memarg = (offset: number): number[] => [4, ...unsigned(offset)];

function f32Bytes(value: number): number[] {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return [view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3)];
}

/** Instruction encoders (only those the generated kernels use). */
export const ins = {
  localGet: (i: number) => [0x20, ...unsigned(i)],
  localSet: (i: number) => [0x21, ...unsigned(i)],
  localTee: (i: number) => [0x22, ...unsigned(i)],
  i32Const: (v: number) => [0x41, ...signed(v)],
  i32Add: () => [0x6a],
  i32LtU: () => [0x49],
  i32GeU: () => [0x4f],
  block: () => [0x02, 0x40],
  loop: () => [0x03, 0x40],
  br: (depth: number) => [0x0c, ...unsigned(depth)],
  brIf: (depth: number) => [0x0d, ...unsigned(depth)],
  end: () => [0x0b],
  v128Load: (offset: number) => [...simd(0x00), ...memarg(offset)],
  v128Load32Splat: (offset: number) => [...simd(0x09), 2, ...unsigned(offset)],
  f32x4Splat: () => simd(0x13),
  v128Store: (offset: number) => [...simd(0x0b), ...memarg(offset)],
  f32x4Const: (value: number) => [...simd(0x0c), ...f32Bytes(value), ...f32Bytes(value), ...f32Bytes(value), ...f32Bytes(value)],
  i32x4Const: (value: number) => {
    const view = new DataView(new ArrayBuffer(16));
    for (let i = 0; i < 4; i++) view.setInt32(i * 4, value, true);
    return [...simd(0x0c), ...new Uint8Array(view.buffer)];
  },
  f32x4Eq: () => simd(0x41),
  f32x4Ne: () => simd(0x42),
  f32x4Lt: () => simd(0x43),
  f32x4Gt: () => simd(0x44),
  f32x4Ge: () => simd(0x46),
  v128And: () => simd(0x4e),
  v128AndNot: () => simd(0x4f),
  v128Or: () => simd(0x50),
  v128Xor: () => simd(0x51),
  v128Bitselect: () => simd(0x52),
  f32x4Ceil: () => simd(0x67),
  f32x4Floor: () => simd(0x68),
  f32x4Nearest: () => simd(0x6a),
  i32x4Shl: () => simd(0xab),
  i32x4ShrS: () => simd(0xac),
  i32x4ShrU: () => simd(0xad),
  i32x4Add: () => simd(0xae),
  i32x4Sub: () => simd(0xb1),
  f32x4Abs: () => simd(0xe0),
  f32x4Neg: () => simd(0xe1),
  f32x4Sqrt: () => simd(0xe3),
  f32x4Add: () => simd(0xe4),
  f32x4Sub: () => simd(0xe5),
  f32x4Mul: () => simd(0xe6),
  f32x4Div: () => simd(0xe7),
  f32x4Min: () => simd(0xe8),
  f32x4Max: () => simd(0xe9),
  f32x4Pmin: () => simd(0xea),
  f32x4Pmax: () => simd(0xeb),
  i32x4TruncSatF32x4S: () => simd(0xf8),
  f32x4ConvertI32x4S: () => simd(0xfa),
};

function section(id: number, content: number[]): number[] {
  return [id, ...unsigned(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

/** How a kernel module gets its memory: imported from `env.memory`, shared (the thread pool's) or not. */
export type MemoryImport = 'private' | 'shared';

/**
 * A module importing its memory as `env.memory` and exporting one function `run` (i32
 * parameters `params`, no result; `i32Locals` extra i32 locals, then `v128Locals` v128 locals).
 * A shared import declares the largest maximum, which accepts the pool's memory whatever its own.
 */
export function moduleBytes(
  params: number,
  i32Locals: number,
  v128Locals: number,
  body: readonly number[][],
  memory: MemoryImport,
): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vector(new Array(params).fill([I32])), 0];
  const locals = vector([
    [...unsigned(i32Locals), I32],
    [...unsigned(v128Locals), V128],
  ]);
  const code = [...locals, ...body.flat(), 0x0b];
  const name = (text: string): number[] => [...unsigned(text.length), ...[...text].map((c) => c.charCodeAt(0))];
  const limits = memory === 'shared' ? [0x03, ...unsigned(1), ...unsigned(65536)] : [0x00, ...unsigned(1)];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector([type])),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vector([[0]])),
    ...section(7, vector([[...name('run'), 0x00, 0]])),
    ...section(10, vector([[...unsigned(code.length), ...code]])),
  ]);
}
