import type { KernelTable } from '@flint/api';
import { stridedKernelTable } from '@flint/api/strided-backend';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { convKernel } from './conv.js';
import { fullKernel, iotaKernel } from './creation.js';
import { dotGeneralKernel } from './dot.js';
import { binaryKernel, castKernel, unaryKernel, whereKernel } from './elementwise.js';
import { gatherKernel, scatterAddKernel } from './gather.js';
import { concatKernel, padKernel } from './movement.js';
import { randomBitsKernel, randomUniformKernel } from './random.js';
import { argReduceKernel, reduceKernel } from './reduce.js';
import { cumulativeKernel } from './scan.js';
import { argsortKernel } from './sort.js';
import { reduceWindowKernel } from './window.js';

/**
 * The WebGPU backend's kernel for every primitive, bound to one device's context. The shared
 * strided table makes a primitive without a WGSL kernel a compile error and supplies the
 * movement views.
 */
export function webGpuKernels(context: WebGpuContext): KernelTable<WebGpuHandle> {
  return stridedKernelTable(context, {
    unary: unaryKernel,
    binary: binaryKernel,
    where: whereKernel,
    cast: castKernel,
    reduce: reduceKernel,
    argReduce: argReduceKernel,
    packContiguous: (gpu, x) => gpu.copyContiguous(x),
    pad: padKernel,
    concat: concatKernel,
    gather: gatherKernel,
    scatterAdd: scatterAddKernel,
    dotGeneral: dotGeneralKernel,
    conv: convKernel,
    reduceWindow: reduceWindowKernel,
    cumulative: cumulativeKernel,
    argsort: argsortKernel,
    iota: iotaKernel,
    full: fullKernel,
    randomBits: randomBitsKernel,
    randomUniform: randomUniformKernel,
  });
}
