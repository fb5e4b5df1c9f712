import type { CompiledKernel, KernelProgram } from '@flint/api';
import type { WebGpuContext } from '../context.js';
import type { WebGpuHandle } from '../handle.js';
import { Unsupported } from './body.js';
import { compileColumnReduction } from './columns.js';
import { compileContraction } from './contraction.js';
import { compileElementwise } from './elementwise.js';
import { compileReduction } from './reduction.js';

/** How the fused-kernel cache has been used (see WebGpuBackend.fusedKernels). */
export interface FusedKernelStats {
  /** Kernels generated (or found unsupported) for a new IR signature. */
  readonly compiled: number;
  /** Requests answered from the cache: the same fused IR met again (another program, a cleared jit cache). */
  readonly hits: number;
  /** Kernels left to jit's op-by-op fallback, with the reason of the latest one. */
  readonly unsupported: number;
  readonly lastUnsupported: string | null;
}

/** Kernels kept; past this the earliest compiled are dropped (programs of ever new shapes). */
const CAPACITY = 1024;

/**
 * The WebGPU backend's jit hook: a fused kernel (see KernelProgram in @flint/api) becomes one
 * generated WGSL shader: an elementwise chain, elementwise producers folded into a reduction, or
 * a matmul or conv with its epilogue (an elementwise group over the binding limit becomes a few
 * shaders). Compiled kernels are cached by their IR signature (the kernel's printed IR, which
 * names every op, shape, dtype and literal), so a kernel met again in another program or after the
 * jit cache was cleared reuses its shader. Returns null for anything it does not generate, and jit
 * runs those ops one by one.
 */
export class FusedKernelCache {
  private readonly kernels = new Map<string, CompiledKernel<WebGpuHandle> | null>();
  private stats = { compiled: 0, hits: 0, unsupported: 0, lastUnsupported: null as string | null };

  constructor(private readonly context: WebGpuContext) {}

  compile(kernel: KernelProgram): CompiledKernel<WebGpuHandle> | null {
    const signature = `${kernel.kind}\n${kernel.text}`;
    const cached = this.kernels.get(signature);
    if (cached !== undefined) {
      this.stats.hits++;
      return cached;
    }
    let compiled: CompiledKernel<WebGpuHandle> | null;
    try {
      compiled = generate(this.context, kernel);
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
      compiled = null;
      this.stats.unsupported++;
      this.stats.lastUnsupported = error.message;
    }
    this.stats.compiled++;
    if (this.kernels.size >= CAPACITY) this.kernels.delete(this.kernels.keys().next().value as string);
    this.kernels.set(signature, compiled);
    return compiled;
  }

  get statistics(): FusedKernelStats {
    return { ...this.stats };
  }

  /** Drops every cached kernel (their shaders stay in the runtime's pipeline cache). */
  clear(): void {
    this.kernels.clear();
  }
}

function generate(context: WebGpuContext, kernel: KernelProgram): CompiledKernel<WebGpuHandle> {
  switch (kernel.kind) {
    case 'elementwise':
      return compileElementwise(context, kernel);
    case 'reduction':
      return compileColumnReduction(context, kernel) ?? compileReduction(context, kernel);
    case 'contraction':
      return compileContraction(context, kernel);
  }
}
