import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layout } from '../handle.js';
import { DTYPE_CODES, type Engine } from '../native/codes.js';

function freeAxes(rank: number, contracting: readonly number[], batch: readonly number[]): number[] {
  const free: number[] = [];
  for (let i = 0; i < rank; i++) if (!contracting.includes(i) && !batch.includes(i)) free.push(i);
  return free;
}

/** The operands of a DotGeneral as the addon's [batch, m, k] and [batch, k, n] views; `release` drops any packed copies. */
function matmulOperands(context: CudaContext, lhs: CudaHandle, rhs: CudaHandle, params: ParamsOf<Primitive.DotGeneral>) {
  const { lhsContracting, rhsContracting, lhsBatch, rhsBatch } = params;
  const a = context.grouped(lhs, [lhsBatch, freeAxes(lhs.shape.length, lhsContracting, lhsBatch), lhsContracting]);
  const b = context.grouped(rhs, [rhsBatch, rhsContracting, freeAxes(rhs.shape.length, rhsContracting, rhsBatch)]);
  return {
    a,
    b,
    release() {
      if (a.temporary !== null) context.release(a.temporary.storage);
      if (b.temporary !== null) context.release(b.temporary.storage);
    },
  };
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
    const operands = matmulOperands(context, lhs, rhs, params);
    try {
      const { a, b } = operands;
      const id = context.addon.matmul(DTYPE_CODES[lhs.dtype], a.id, a.layout, b.id, b.layout, engine());
      return context.adopt(id, out.shape, out.dtype);
    } finally {
      operands.release();
    }
  };
}

/**
 * DotGeneral with `bias` (contiguous, one element per column of the product: the rhs's free
 * dims) added to every row in cuBLASLt's epilogue, or null when cuBLASLt does not take it.
 */
export function dotGeneralWithBias(
  context: CudaContext,
  lhs: CudaHandle,
  rhs: CudaHandle,
  bias: CudaHandle,
  params: ParamsOf<Primitive.DotGeneral>,
  out: Aval,
): CudaHandle | null {
  const operands = matmulOperands(context, lhs, rhs, params);
  try {
    const { a, b } = operands;
    const biasView = layout(bias.offset, [sizeOf(bias.shape)], [1]);
    const id = context.addon.matmulBias(DTYPE_CODES[lhs.dtype], a.id, a.layout, b.id, b.layout, bias.storage.id, biasView);
    return id === null ? null : context.adopt(id, out.shape, out.dtype);
  } finally {
    operands.release();
  }
}
