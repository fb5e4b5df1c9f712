import { assemble, I32, type MemorySpec, op, V128 } from './assembler.js';
import { patchPackingFunction } from './patch-packing.js';

// The matmul micro-kernel in WebAssembly SIMD, for f32 (4 lanes) or f64 (2 lanes). It multiplies
// packed panels (see kernels/gemm.ts): A as [mPanels][kc][rows], B as [nPanels][kc][width] with
// width = vectors * lanes, and adds the product into C (row-major, `ldc` bytes per row), one
// rows x width tile at a time. A tile's accumulators live in rows * vectors v128 locals; per k
// step the kernel loads one row of the B panel, splats each A value and multiply-adds. The loop
// runs B panels outside and A panels inside, so the B micro-panel (kc x width) stays in L1 while
// the packed A block streams from L2.

export interface GemmShape {
  readonly element: 'f32' | 'f64';
  /** Rows of a tile (the A panel height). */
  readonly rows: number;
  /** v128 vectors across a tile's width. */
  readonly vectors: number;
}

export function tileWidth(shape: GemmShape): number {
  return shape.vectors * (shape.element === 'f32' ? 4 : 2);
}

/**
 * The module's bytes: exports `gemm(aPtr, bPtr, cPtr, mPanels, nPanels, kc, ldcBytes)`, the
 * gathers `patches` (into B panels, a tile wide) and `patchRows` (into A panels, a tile tall;
 * wasm/patch-packing.ts), and `memory` unless the memory is an imported shared one (see `MemorySpec`).
 */
export function gemmModuleBytes(shape: GemmShape, memory: MemorySpec = { kind: 'own', pages: 1 }): Uint8Array<ArrayBuffer> {
  const { rows, vectors } = shape;
  const size = shape.element === 'f32' ? 4 : 8;
  const splat = shape.element === 'f32' ? op.v128Load32Splat : op.v128Load64Splat;
  const add = shape.element === 'f32' ? op.f32x4Add : op.f64x2Add;
  const mul = shape.element === 'f32' ? op.f32x4Mul : op.f64x2Mul;
  const aStep = rows * size;
  const bStep = vectors * 16;

  // Parameters, then locals.
  const [A_PTR, B_PTR, C_PTR, M_PANELS, N_PANELS, KC, LDC] = [0, 1, 2, 3, 4, 5, 6];
  const [IP, JP, P, A, B, C, B_PANEL, A_PANEL_BYTES, B_PANEL_BYTES] = [7, 8, 9, 10, 11, 12, 13, 14, 15];
  const ACC = 16;
  const accumulators = rows * vectors;
  const BV = ACC + accumulators;
  const SPLAT = BV + vectors;
  const acc = (r: number, v: number) => ACC + r * vectors + v;

  const kStep: number[][] = [];
  for (let v = 0; v < vectors; v++) kStep.push(op.localGet(B), op.v128Load(v * 16), op.localSet(BV + v));
  for (let r = 0; r < rows; r++) {
    kStep.push(op.localGet(A), splat(r * size), op.localSet(SPLAT));
    for (let v = 0; v < vectors; v++) {
      kStep.push(op.localGet(acc(r, v)), op.localGet(SPLAT), op.localGet(BV + v), mul(), add(), op.localSet(acc(r, v)));
    }
  }
  const store: number[][] = [];
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) {
      store.push(op.localGet(C), op.localGet(C), op.v128Load(v * 16), op.localGet(acc(r, v)), add(), op.v128Store(v * 16));
    }
    if (r < rows - 1) store.push(op.localGet(C), op.localGet(LDC), op.i32Add(), op.localSet(C));
  }

  const body: number[][] = [
    op.localGet(KC),
    op.i32Const(aStep),
    op.i32Mul(),
    op.localSet(A_PANEL_BYTES),
    op.localGet(KC),
    op.i32Const(bStep),
    op.i32Mul(),
    op.localSet(B_PANEL_BYTES),
    op.localGet(B_PTR),
    op.localSet(B_PANEL),
    op.i32Const(0),
    op.localSet(JP),
    op.loop(), // over B panels
    op.i32Const(0),
    op.localSet(IP),
    op.loop(), // over A panels
    ...Array.from({ length: accumulators }, (_, i) => [op.v128Zero(), op.localSet(ACC + i)]).flat(),
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
    ...kStep,
    op.localGet(A),
    op.i32Const(aStep),
    op.i32Add(),
    op.localSet(A),
    op.localGet(B),
    op.i32Const(bStep),
    op.i32Add(),
    op.localSet(B),
    op.localGet(P),
    op.i32Const(1),
    op.i32Sub(),
    op.localTee(P),
    op.brIf(0),
    op.end(),
    // c = cPtr + ip * rows * ldc + jp * bStep
    op.localGet(C_PTR),
    op.localGet(IP),
    op.i32Const(rows),
    op.i32Mul(),
    op.localGet(LDC),
    op.i32Mul(),
    op.i32Add(),
    op.localGet(JP),
    op.i32Const(bStep),
    op.i32Mul(),
    op.i32Add(),
    op.localSet(C),
    ...store,
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
  return assemble(
    [
      patchPackingFunction(shape.element, tileWidth(shape), 'patches'),
      patchPackingFunction(shape.element, rows, 'patchRows'),
      {
        name: 'gemm',
        params: [I32, I32, I32, I32, I32, I32, I32],
        locals: [
          [9, I32],
          [accumulators + vectors + 1, V128],
        ],
        body,
      },
    ],
    memory,
  );
}
