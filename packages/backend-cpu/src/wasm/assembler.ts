// A tiny WebAssembly assembler: just enough to write the backend's SIMD kernels as readable
// instruction lists in TypeScript and emit the module bytes at load time (no build step, no
// binary blob, runs in browsers). Only the opcodes the kernels use are listed.

import { signed, unsigned } from './leb128.js';

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
const VOID_BLOCK = 0x40;

const simd = (opcode: number): number[] => [0xfd, ...unsigned(opcode)];
const memarg = (alignLog2: number, offset: number): number[] => [...unsigned(alignLog2), ...unsigned(offset)];

/** Instruction encoders. Each returns the instruction's bytes. */
export const op = {
  localGet: (i: number) => [0x20, ...unsigned(i)],
  localSet: (i: number) => [0x21, ...unsigned(i)],
  localTee: (i: number) => [0x22, ...unsigned(i)],
  i32Const: (v: number) => [0x41, ...signed(v)],
  i32Add: () => [0x6a],
  i32Sub: () => [0x6b],
  i32Mul: () => [0x6c],
  i32Shl: () => [0x74],
  i32LtU: () => [0x49],
  i32Ne: () => [0x47],
  block: () => [0x02, VOID_BLOCK],
  loop: () => [0x03, VOID_BLOCK],
  br: (depth: number) => [0x0c, ...unsigned(depth)],
  brIf: (depth: number) => [0x0d, ...unsigned(depth)],
  end: () => [0x0b],
  i32Load: (offset = 0) => [0x28, ...memarg(2, offset)],
  f32Load: (offset = 0) => [0x2a, ...memarg(2, offset)],
  f64Load: (offset = 0) => [0x2b, ...memarg(3, offset)],
  f32Store: (offset = 0) => [0x38, ...memarg(2, offset)],
  f64Store: (offset = 0) => [0x39, ...memarg(3, offset)],
  v128Load: (offset = 0) => [...simd(0x00), ...memarg(2, offset)],
  v128Store: (offset = 0) => [...simd(0x0b), ...memarg(2, offset)],
  v128Load32Splat: (offset = 0) => [...simd(0x09), ...memarg(2, offset)],
  v128Load64Splat: (offset = 0) => [...simd(0x0a), ...memarg(3, offset)],
  v128Zero: () => [...simd(0x0c), ...new Array<number>(16).fill(0)],
  /** Lanes of two vectors by byte index (0-15 the first, 16-31 the second). */
  i8x16Shuffle: (lanes: readonly number[]) => [...simd(0x0d), ...lanes],
  i32x4Splat: () => [...simd(0x11)],
  i32x4Eq: () => [...simd(0x37)],
  f32x4Ne: () => [...simd(0x42)],
  f32x4Gt: () => [...simd(0x44)],
  v128And: () => [...simd(0x4e)],
  v128AndNot: () => [...simd(0x4f)],
  v128Or: () => [...simd(0x50)],
  v128Bitselect: () => [...simd(0x52)],
  f32x4Add: () => [...simd(0xe4)],
  f32x4Mul: () => [...simd(0xe6)],
  f64x2Add: () => [...simd(0xf0)],
  f64x2Mul: () => [...simd(0xf2)],
};

function section(id: number, content: number[]): number[] {
  return [id, ...unsigned(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...text].map((c) => c.charCodeAt(0));
  return [...unsigned(bytes.length), ...bytes];
}

export interface FunctionSpec {
  readonly name: string;
  readonly params: readonly number[];
  /** Extra locals, in groups of one type: [count, type]. */
  readonly locals: readonly (readonly [number, number])[];
  readonly body: readonly number[][];
}

/** Where a module's memory comes from. */
export type MemorySpec =
  /** Its own memory of `pages` 64 KiB pages to start (growable), exported as "memory". */
  | { readonly kind: 'own'; readonly pages: number }
  /**
   * A shared memory imported as env.memory (`pages` to start, at most `maximum`), so that modules
   * instantiated on several threads compute over one memory.
   */
  | { readonly kind: 'shared'; readonly pages: number; readonly maximum: number };

/** A module exporting `functions` (no results), over the memory `memory` describes. */
export function assemble(functions: readonly FunctionSpec[], memory: MemorySpec): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((p) => [p])), 0]);
  const bodies = functions.map((f) => {
    const code = [...vector(f.locals.map(([count, type]) => [...unsigned(count), type])), ...f.body.flat(), 0x0b];
    return [...unsigned(code.length), ...code];
  });
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector(types)),
    ...(memory.kind === 'shared'
      ? section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x03, ...unsigned(memory.pages), ...unsigned(memory.maximum)]]))
      : []),
    ...section(3, vector(functions.map((_, i) => unsigned(i)))),
    ...(memory.kind === 'own' ? section(5, vector([[0x00, ...unsigned(memory.pages)]])) : []),
    ...section(
      7,
      vector([
        ...functions.map((f, i) => [...name(f.name), 0x00, ...unsigned(i)]),
        ...(memory.kind === 'own' ? [[...name('memory'), 0x02, 0]] : []),
      ]),
    ),
    ...section(10, vector(bodies)),
  ];
  return new Uint8Array(bytes);
}
