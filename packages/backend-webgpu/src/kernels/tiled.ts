import type { WgslScalar } from '../layout.js';
import { bindings, library } from '../wgsl/shader.js';

/**
 * The tiled matrix-product shader that DotGeneral and Conv (as an implicit GEMM) share. A
 * workgroup of 8 x 8 threads computes a 32 x 32 block of C = A B; each thread keeps a 4 x 4 block
 * of accumulators in registers, and 32 x 16 / 16 x 32 tiles of A and B are staged in workgroup
 * memory so that each element loaded from the buffers is used 32 times.
 *
 * The caller supplies `loadA(batch, m, k)`, `loadB(batch, k, n)` (zero outside the matrices) and
 * `store(batch, m, n, value)`, and the sizes M, N, K at params[1..3]; workgroup z is the batch.
 */
export const TILE = 32;
const TILE_K = 16;

export function tiledProductSource(type: WgslScalar, inputTypes: readonly WgslScalar[], functions: string): string {
  const zero = type === 'f32' ? '0.0' : type === 'i32' ? '0' : '0u';
  return `${bindings(type, inputTypes)}${library([])}${functions}
var<workgroup> tileA: array<array<${type}, ${TILE_K}>, ${TILE}>;
var<workgroup> tileB: array<array<${type}, ${TILE}>, ${TILE_K}>;
@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let batch = i32(wid.z);
  let rowBase = i32(wid.y) * ${TILE};
  let columnBase = i32(wid.x) * ${TILE};
  let M = params[1];
  let N = params[2];
  let K = params[3];
  let tx = i32(lid.x);
  let ty = i32(lid.y);
  let flat = ty * 8 + tx;
  var acc: array<array<${type}, 4>, 4>;
  for (var r = 0; r < 4; r++) { for (var c = 0; c < 4; c++) { acc[r][c] = ${zero}; } }
  for (var k0 = 0; k0 < K; k0 += ${TILE_K}) {
    for (var e = 0; e < ${(TILE * TILE_K) / 64}; e++) {
      let index = flat + e * 64;
      let m = index / ${TILE_K};
      let k = index % ${TILE_K};
      var a = ${zero};
      if (rowBase + m < M && k0 + k < K) { a = loadA(batch, rowBase + m, k0 + k); }
      tileA[m][k] = a;
      let kb = index / ${TILE};
      let n = index % ${TILE};
      var b = ${zero};
      if (k0 + kb < K && columnBase + n < N) { b = loadB(batch, k0 + kb, columnBase + n); }
      tileB[kb][n] = b;
    }
    workgroupBarrier();
    for (var k = 0; k < ${TILE_K}; k++) {
      var a: array<${type}, 4>;
      var b: array<${type}, 4>;
      for (var r = 0; r < 4; r++) { a[r] = tileA[ty * 4 + r][k]; }
      for (var c = 0; c < 4; c++) { b[c] = tileB[k][tx * 4 + c]; }
      for (var r = 0; r < 4; r++) { for (var c = 0; c < 4; c++) { acc[r][c] = acc[r][c] + a[r] * b[c]; } }
    }
    workgroupBarrier();
  }
  for (var r = 0; r < 4; r++) {
    for (var c = 0; c < 4; c++) {
      let m = rowBase + ty * 4 + r;
      let n = columnBase + tx * 4 + c;
      if (m < M && n < N) { store(batch, m, n, acc[r][c]); }
    }
  }
}
`;
}
