import { assemble, I32, op, V128 } from './assembler.js';

// The f32 matmul micro-kernel in WebAssembly SIMD. It multiplies packed panels (see
// kernels/gemm.ts for the packing): A as [mPanels][kc][4] floats, B as [nPanels][kc][8] floats,
// and adds the product into C, row-major with `ldc` bytes per row, 4 x 8 floats per tile.
// Each tile keeps its 4 x 8 accumulators in eight v128 locals; per k step it loads one row of the
// B panel (two v128), splats each of the 4 A values and does 8 multiply-adds. The B micro-panel
// (kc x 8) stays in L1 while the loop over A panels streams the packed A block from L2.

// Parameters.
const A_PTR = 0;
const B_PTR = 1;
const C_PTR = 2;
const M_PANELS = 3;
const N_PANELS = 4;
const KC = 5;
const LDC = 6;
// Locals.
const IP = 7;
const JP = 8;
const P = 9;
const A = 10;
const B = 11;
const C = 12;
const B_PANEL = 13;
const A_PANEL_BYTES = 14;
const B_PANEL_BYTES = 15;
const ACC = 16; // ACC .. ACC + 7
const B0 = 24;
const B1 = 25;
const SPLAT = 26;

function multiplyAdd(row: number): number[][] {
  return [
    op.localGet(A),
    op.v128Load32Splat(row * 4),
    op.localSet(SPLAT),
    // acc[2 row] += splat * b0
    op.localGet(ACC + 2 * row),
    op.localGet(SPLAT),
    op.localGet(B0),
    op.f32x4Mul(),
    op.f32x4Add(),
    op.localSet(ACC + 2 * row),
    // acc[2 row + 1] += splat * b1
    op.localGet(ACC + 2 * row + 1),
    op.localGet(SPLAT),
    op.localGet(B1),
    op.f32x4Mul(),
    op.f32x4Add(),
    op.localSet(ACC + 2 * row + 1),
  ];
}

function storeRow(row: number): number[][] {
  const add = (half: number) => [
    op.localGet(C),
    op.localGet(C),
    op.v128Load(half * 16),
    op.localGet(ACC + 2 * row + half),
    op.f32x4Add(),
    op.v128Store(half * 16),
  ];
  const next = row < 3 ? [op.localGet(C), op.localGet(LDC), op.i32Add(), op.localSet(C)] : [];
  return [...add(0), ...add(1), ...next];
}

const body: number[][] = [
  op.localGet(KC),
  op.i32Const(4),
  op.i32Shl(),
  op.localSet(A_PANEL_BYTES),
  op.localGet(KC),
  op.i32Const(5),
  op.i32Shl(),
  op.localSet(B_PANEL_BYTES),
  op.localGet(B_PTR),
  op.localSet(B_PANEL),
  op.i32Const(0),
  op.localSet(JP),
  op.loop(), // over B panels
  op.i32Const(0),
  op.localSet(IP),
  op.loop(), // over A panels
  ...Array.from({ length: 8 }, (_, i) => [op.v128Zero(), op.localSet(ACC + i)]).flat(),
  op.localGet(A_PTR),
  op.localGet(IP),
  op.localGet(A_PANEL_BYTES),
  op.i32Mul(),
  op.i32Add(),
  op.localSet(A),
  op.localGet(B_PANEL),
  op.localSet(B),
  op.localGet(KC),
  op.localSet(P),
  op.loop(), // over k
  op.localGet(B),
  op.v128Load(0),
  op.localSet(B0),
  op.localGet(B),
  op.v128Load(16),
  op.localSet(B1),
  ...multiplyAdd(0),
  ...multiplyAdd(1),
  ...multiplyAdd(2),
  ...multiplyAdd(3),
  op.localGet(A),
  op.i32Const(16),
  op.i32Add(),
  op.localSet(A),
  op.localGet(B),
  op.i32Const(32),
  op.i32Add(),
  op.localSet(B),
  op.localGet(P),
  op.i32Const(1),
  op.i32Sub(),
  op.localTee(P),
  op.brIf(0),
  op.end(),
  // c = cPtr + ip * 4 * ldc + jp * 32
  op.localGet(C_PTR),
  op.localGet(IP),
  op.localGet(LDC),
  op.i32Mul(),
  op.i32Const(2),
  op.i32Shl(),
  op.i32Add(),
  op.localGet(JP),
  op.i32Const(5),
  op.i32Shl(),
  op.i32Add(),
  op.localSet(C),
  ...storeRow(0),
  ...storeRow(1),
  ...storeRow(2),
  ...storeRow(3),
  op.localGet(IP),
  op.i32Const(1),
  op.i32Add(),
  op.localTee(IP),
  op.localGet(M_PANELS),
  op.i32Ne(),
  op.brIf(0),
  op.end(),
  op.localGet(B_PANEL),
  op.localGet(B_PANEL_BYTES),
  op.i32Add(),
  op.localSet(B_PANEL),
  op.localGet(JP),
  op.i32Const(1),
  op.i32Add(),
  op.localTee(JP),
  op.localGet(N_PANELS),
  op.i32Ne(),
  op.brIf(0),
  op.end(),
];

/** The module's bytes: exports `gemm(aPtr, bPtr, cPtr, mPanels, nPanels, kc, ldcBytes)` and `memory`. */
export function gemmF32ModuleBytes(): Uint8Array<ArrayBuffer> {
  return assemble(
    [
      {
        name: 'gemm',
        params: [I32, I32, I32, I32, I32, I32, I32],
        locals: [
          [9, I32],
          [11, V128],
        ],
        body,
      },
    ],
    1,
  );
}
