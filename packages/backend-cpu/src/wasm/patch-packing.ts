import { type FunctionSpec, I32, op } from './assembler.js';

// A convolution's patches packed as the gemm's B panels (its im2col matrix, never materialized),
// in WebAssembly: the same gather in JavaScript costs about 2 ns per element over the threads'
// shared memory, several times the copy, and took more time than the product it fed. A strided
// A is the same gather with a row's address per panel column (kernels/gemm.ts, packAOnThreads),
// packed into A panels, as tall as a tile.

/**
 * `<name>(bPtr, columnsPtr, rowsPtr, panels, kc)` for panels `width` elements wide: writes `panels` full panels of one k-block,
 * [panel][kc][width] from bPtr, where element (p, q) of a panel is the element at byte address
 * columns[q] + rows[p]: `columns` holds the byte addresses of the panels' columns (width per
 * panel, int32), `rows` the byte offsets of the block's kc rows. `panels` and `kc` are at least 1.
 */
export function patchPackingFunction(element: 'f32' | 'f64', width: number, name: string): FunctionSpec {
  const size = element === 'f32' ? 4 : 8;
  const load = element === 'f32' ? op.f32Load : op.f64Load;
  const store = element === 'f32' ? op.f32Store : op.f64Store;
  const [B_PTR, COLUMNS, ROWS_PTR, PANELS, KC] = [0, 1, 2, 3, 4];
  const [ROW, P, D] = [5, 6, 7];
  const COLUMN = 8;

  const row: number[][] = [op.localGet(ROW), op.i32Load(), op.localSet(D)];
  for (let q = 0; q < width; q++)
    row.push(op.localGet(B_PTR), op.localGet(COLUMN + q), op.localGet(D), op.i32Add(), load(), store(q * size));
  const body: number[][] = [
    op.loop(), // over panels
    ...Array.from({ length: width }, (_, q) => [op.localGet(COLUMNS), op.i32Load(q * 4), op.localSet(COLUMN + q)]).flat(),
    op.localGet(ROWS_PTR),
    op.localSet(ROW),
    op.localGet(KC),
    op.localSet(P),
    op.loop(), // over the k-block's rows
    ...row,
    op.localGet(B_PTR),
    op.i32Const(width * size),
    op.i32Add(),
    op.localSet(B_PTR),
    op.localGet(ROW),
    op.i32Const(4),
    op.i32Add(),
    op.localSet(ROW),
    op.localGet(P),
    op.i32Const(1),
    op.i32Sub(),
    op.localTee(P),
    op.brIf(0),
    op.end(),
    op.localGet(COLUMNS),
    op.i32Const(width * 4),
    op.i32Add(),
    op.localSet(COLUMNS),
    op.localGet(PANELS),
    op.i32Const(1),
    op.i32Sub(),
    op.localTee(PANELS),
    op.brIf(0),
    op.end(),
  ];
  return { name, params: [I32, I32, I32, I32, I32], locals: [[3 + width, I32]], body };
}
