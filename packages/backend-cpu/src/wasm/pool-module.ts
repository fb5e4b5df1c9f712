import { assemble, I32, type MemorySpec, op, V128 } from './assembler.js';

// 2 x 2 max pooling of stride 2 over [H, W] planes of float32, forward and backward, in
// WebAssembly SIMD: four outputs at a time, their taps split from two rows by lane shuffles, the
// window's maximum chosen with masks. In JavaScript each of a window's three comparisons is a
// branch that real data makes unpredictable: 4 to 6 ns per input element, against well under one.

/** Byte lanes: the even and the odd floats of two vectors, and two vectors' floats interleaved. */
const EVENS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODDS = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];
const LOW_PAIRS = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const HIGH_PAIRS = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];

// Parameters of both functions: x (input) and the second and third arrays (forward: the output;
// backward: the cotangent, then x's gradient), then the geometry in bytes and counts.
const [X, SECOND, THIRD, PLANES, ROW_BYTES, OUT_ROWS, GROUPS, PLANE_BYTES, OUT_PLANE_BYTES, OUT_ROW_BYTES] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
// i32 locals: counters, the current plane's and row's starts, and the current group's addresses.
const [PLANE, ROW, GROUP, PLANE_X, PLANE_SECOND, ROW_X, ROW_SECOND, TOP, AT, DX_DELTA] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
const I32_LOCALS = 10;
// v128 locals: the four taps, the best so far, the tap it came from, the cotangent, a mask.
const [A, B, C, D, BEST, TAP, COTANGENT, MASK] = [20, 21, 22, 23, 24, 25, 26, 27];
const V128_LOCALS = 8;

/** A, B, C, D = the taps (top left, top right, bottom left, bottom right) of the four windows at TOP. */
function loadTaps(): number[][] {
  const code: number[][] = [];
  for (const [bottom, even, odd] of [
    [false, A, B],
    [true, C, D],
  ] as const) {
    const address = bottom ? [op.localGet(TOP), op.localGet(ROW_BYTES), op.i32Add()] : [op.localGet(TOP)];
    for (const [lanes, target] of [
      [EVENS, even],
      [ODDS, odd],
    ] as const) {
      code.push(...address, op.v128Load(0), ...address, op.v128Load(16), op.i8x16Shuffle(lanes), op.localSet(target));
    }
  }
  return code;
}

/**
 * BEST = each window's maximum, the first in row-major order that no later tap replaces: a greater
 * value, or a NaN (forward: any NaN, as kernels/window.ts; backward: the first NaN, as argmax,
 * with TAP = the chosen tap's index 0 to 3).
 */
function bestOfTaps(backward: boolean): number[][] {
  const code: number[][] = [op.localGet(A), op.localSet(BEST)];
  if (backward) code.push(op.v128Zero(), op.localSet(TAP));
  [B, C, D].forEach((v, i) => {
    const nan = [op.localGet(v), op.localGet(v), op.f32x4Ne()];
    const replacingNaN = backward ? [...nan, op.localGet(BEST), op.localGet(BEST), op.f32x4Ne(), op.v128AndNot()] : nan;
    code.push(op.localGet(v), op.localGet(BEST), op.f32x4Gt(), ...replacingNaN, op.v128Or(), op.localSet(MASK));
    code.push(op.localGet(v), op.localGet(BEST), op.localGet(MASK), op.v128Bitselect(), op.localSet(BEST));
    if (backward) code.push(op.i32Const(i + 1), op.i32x4Splat(), op.localGet(TAP), op.localGet(MASK), op.v128Bitselect(), op.localSet(TAP));
  });
  return code;
}

/** `body` run `count` times (at least once), counting `counter` down. */
function repeat(counter: number, count: number, body: number[][]): number[][] {
  return [
    op.localGet(count),
    op.localSet(counter),
    op.loop(),
    ...body,
    op.localGet(counter),
    op.i32Const(1),
    op.i32Sub(),
    op.localTee(counter),
    op.brIf(0),
    op.end(),
  ];
}

/** local += the value `by` pushes. */
const advance = (local: number, by: number[][]): number[][] => [op.localGet(local), ...by, op.i32Add(), op.localSet(local)];

/**
 * Every plane's OUT_ROWS row pairs: `group` runs for each group of four windows, with TOP at its
 * top row's first tap and AT at its four values in the second array; left to right, or right to
 * left (`backward`: a last group past the row's end then writes into the next row's start before
 * that row's first group does).
 */
function overGroups(group: number[][], backward: boolean): number[][] {
  // Right to left: from the last group, GROUPS - 1 steps in.
  const lastGroup = (step: number) =>
    backward ? [op.localGet(GROUPS), op.i32Const(1), op.i32Sub(), op.i32Const(step), op.i32Mul(), op.i32Add()] : [];
  const next = backward ? -1 : 1;
  const row = [
    op.localGet(ROW_X),
    ...lastGroup(32),
    op.localSet(TOP),
    op.localGet(ROW_SECOND),
    ...lastGroup(16),
    op.localSet(AT),
    ...repeat(GROUP, GROUPS, [...group, ...advance(TOP, [op.i32Const(32 * next)]), ...advance(AT, [op.i32Const(16 * next)])]),
    // The next row pair, two input rows down.
    ...advance(ROW_X, [op.localGet(ROW_BYTES), op.i32Const(2), op.i32Mul()]),
    ...advance(ROW_SECOND, [op.localGet(OUT_ROW_BYTES)]),
  ];
  const plane = [
    op.localGet(PLANE_X),
    op.localSet(ROW_X),
    op.localGet(PLANE_SECOND),
    op.localSet(ROW_SECOND),
    ...repeat(ROW, OUT_ROWS, row),
    ...advance(PLANE_X, [op.localGet(PLANE_BYTES)]),
    ...advance(PLANE_SECOND, [op.localGet(OUT_PLANE_BYTES)]),
  ];
  return [op.localGet(X), op.localSet(PLANE_X), op.localGet(SECOND), op.localSet(PLANE_SECOND), ...repeat(PLANE, PLANES, plane)];
}

/** Forward: the windows' maxima at AT. */
function forward(): number[][] {
  return overGroups([...loadTaps(), ...bestOfTaps(false), op.localGet(AT), op.localGet(BEST), op.v128Store(0)], false);
}

/**
 * Backward: each window's cotangent (at AT in the second array, + 0 so that -0 lands as +0, as
 * added to zeros) at its chosen tap and zeros at the others, written at TOP's place in the third
 * array (x's gradient, laid out as x).
 */
function backward(): number[][] {
  const onTap = (t: number) => [op.localGet(COTANGENT), op.localGet(TAP), op.i32Const(t), op.i32x4Splat(), op.i32x4Eq(), op.v128And()];
  const storeRow = (bottom: boolean, left: number, right: number) => {
    const address = bottom
      ? [op.localGet(TOP), op.localGet(DX_DELTA), op.i32Add(), op.localGet(ROW_BYTES), op.i32Add()]
      : [op.localGet(TOP), op.localGet(DX_DELTA), op.i32Add()];
    return [
      ...address,
      ...onTap(left),
      ...onTap(right),
      op.i8x16Shuffle(LOW_PAIRS),
      op.v128Store(0),
      ...address,
      ...onTap(left),
      ...onTap(right),
      op.i8x16Shuffle(HIGH_PAIRS),
      op.v128Store(16),
    ];
  };
  const group = [
    ...loadTaps(),
    ...bestOfTaps(true),
    op.localGet(AT),
    op.v128Load(0),
    op.v128Zero(),
    op.f32x4Add(),
    op.localSet(COTANGENT),
    ...storeRow(false, 0, 1),
    ...storeRow(true, 2, 3),
  ];
  return [op.localGet(THIRD), op.localGet(X), op.i32Sub(), op.localSet(DX_DELTA), ...overGroups(group, true)];
}

/**
 * The module: `maxPool2x2(x, out, _, planes, rowBytes, outRows, groups, planeBytes, outPlaneBytes,
 * outRowBytes)` and `maxPool2x2Backward(x, g, dx, ...the same)`, over [H, W] planes of x (rows
 * rowBytes apart, planes planeBytes apart) and [outRows, 4 * groups] ones of the output or
 * cotangent (rows outRowBytes apart; a last group's extra lanes read and write past a row's end,
 * so each array needs 32 bytes of slack after it). Every count is at least 1.
 */
export function poolModuleBytes(memory: MemorySpec = { kind: 'own', pages: 1 }): Uint8Array<ArrayBuffer> {
  const params = new Array<number>(10).fill(I32);
  const locals = [
    [I32_LOCALS, I32],
    [V128_LOCALS, V128],
  ] as const;
  return assemble(
    [
      { name: 'maxPool2x2', params, locals, body: forward() },
      { name: 'maxPool2x2Backward', params, locals, body: backward() },
    ],
    memory,
  );
}
