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
  return tiledProductWithBindings(type, bindings(type, inputTypes), functions);
}

/** As tiledProductSource, with the caller's bindings (fused kernels declare several outputs). */
export function tiledProductWithBindings(type: WgslScalar, declarations: string, functions: string): string {
  const zero = type === 'f32' ? '0.0' : type === 'i32' ? '0' : '0u';
  // The 4 x 4 block lives in named registers (acc_r_c), written out rather than indexed, so that
  // no compiler has to keep it in addressable memory.
  const cells: [number, number][] = [];
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) cells.push([r, c]);
  const declare = cells.map(([r, c]) => `  var acc_${r}_${c} = ${zero};`).join('\n');
  const loadRows = [0, 1, 2, 3].map((r) => `      let a${r} = tileA[ty * 4 + ${r}][k];`).join('\n');
  const loadColumns = [0, 1, 2, 3].map((c) => `      let b${c} = tileB[k][tx * 4 + ${c}];`).join('\n');
  const update = cells.map(([r, c]) => `      acc_${r}_${c} = acc_${r}_${c} + a${r} * b${c};`).join('\n');
  const stores = cells
    .map(
      ([r, c]) =>
        `  if (rowBase + ty * 4 + ${r} < M && columnBase + tx * 4 + ${c} < N) { store(batch, rowBase + ty * 4 + ${r}, columnBase + tx * 4 + ${c}, acc_${r}_${c}); }`,
    )
    .join('\n');
  return `${declarations}${library([])}${functions}
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
${declare}
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
${loadRows}
${loadColumns}
${update}
    }
    workgroupBarrier();
  }
${stores}
}
`;
}
