import type { KernelTable } from '@flint/api';
import { stridedKernelTable } from '@flint/api/strided-backend';
import type { CudaContext } from '../context.js';
import type { CudaHandle } from '../handle.js';
import type { Engine } from '../native/codes.js';
import { convKernel } from './conv.js';
import { fullKernel, iotaKernel } from './creation.js';
import { dotGeneralKernel } from './dot.js';
import { binaryKernel, castKernel, unaryKernel, whereKernel } from './elementwise.js';
import { gatherKernel, scatterAddKernel } from './gather.js';
import { concatKernel, padKernel } from './movement.js';
import { randomBitsKernel, randomUniformKernel } from './random.js';
import { argReduceKernel, argsortKernel, cumulativeKernel, reduceKernel } from './reduce.js';
import { reduceWindowKernel } from './window.js';

/** Choices the kernels read at each call (set through the backend). */
export interface KernelOptions {
  readonly matmulEngine: () => Engine;
  readonly convEngine: () => Engine;
  readonly poolEngine: () => Engine;
  readonly cudnnPresent: () => boolean;
}

/**
 * The CUDA backend's kernel for every primitive, bound to one context. The shared strided table
 * makes a primitive without a kernel a compile error and supplies the movement views.
 */
export function cudaKernels(context: CudaContext, options: KernelOptions): KernelTable<CudaHandle> {
  return stridedKernelTable(context, {
    unary: unaryKernel,
    binary: binaryKernel,
    where: whereKernel,
    cast: castKernel,
    reduce: reduceKernel,
    argReduce: argReduceKernel,
    // Reshape's copy when no view fits: the packed copy's buffer, taken over by the reshaped handle.
    packContiguous: (cuda, x) => cuda.copyContiguous(x).storage,
    pad: padKernel,
    concat: concatKernel,
    gather: gatherKernel,
    scatterAdd: scatterAddKernel,
    dotGeneral: dotGeneralKernel(options.matmulEngine),
    conv: convKernel(options.convEngine, options.cudnnPresent),
    reduceWindow: reduceWindowKernel(options.poolEngine, options.cudnnPresent),
    cumulative: cumulativeKernel,
    argsort: argsortKernel,
    iota: iotaKernel,
    full: fullKernel,
    randomBits: randomBitsKernel,
    randomUniform: randomUniformKernel,
  });
}
