import type { Aval, ParamsOf, Primitive } from '@flint/api';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';
import { DTYPE_CODES, type Engine } from '../native/codes.js';

function freeAxes(rank: number, contracting: readonly number[], batch: readonly number[]): number[] {
  const free: number[] = [];
  for (let i = 0; i < rank; i++) if (!contracting.includes(i) && !batch.includes(i)) free.push(i);
  return free;
}

/**
 * DotGeneral as a batch of [M, K] x [K, N] products: each operand is viewed as [batch, rows,
 * columns] in place when its axis groups merge (plain, transposed, broadcast and sliced
 * matrices), else packed once. The addon runs cuBLASLt for float32/float64 when it is present and
 * the view has a unit stride in a matrix dim, else its own tiled kernel.
 */
export function dotGeneralKernel(engine: () => Engine) {
  return (context: CudaContext, inputs: readonly CudaHandle[], params: ParamsOf<Primitive.DotGeneral>, out: Aval): CudaHandle => {
    const [lhs, rhs] = inputs as [CudaHandle, CudaHandle];
    const { lhsContracting, rhsContracting, lhsBatch, rhsBatch } = params;
    const a = context.grouped(lhs, [lhsBatch, freeAxes(lhs.shape.length, lhsContracting, lhsBatch), lhsContracting]);
    const b = context.grouped(rhs, [rhsBatch, rhsContracting, freeAxes(rhs.shape.length, rhsContracting, rhsBatch)]);
    try {
      const id = context.addon.matmul(DTYPE_CODES[lhs.dtype], a.id, a.layout, b.id, b.layout, engine());
      return context.adopt(id, out.shape, out.dtype);
    } finally {
      if (a.temporary !== null) context.release(a.temporary.storage);
      if (b.temporary !== null) context.release(b.temporary.storage);
    }
  };
}
