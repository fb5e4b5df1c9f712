import { readFileSync } from 'node:fs';
import { type CompiledKernel, type DType, itemSize, type KernelOp, type KernelProgram, sizeOf } from '@flint/api';
import { takesOutput } from '@flint/api/strided-backend';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layout } from '../handle.js';
import { DTYPE_CODES } from '../native/codes.js';
import { generateElementwise, generateReduction } from './codegen.js';

// src/jit/ and dist/jit/ both sit two levels below the package root.
const MATH_PATH = new URL('../../native/elementwise_math.cuh', import.meta.url);

let mathSource: string | null = null;

/** native/elementwise_math.cuh, the scalar semantics the addon's own kernels are compiled from. */
export function elementwiseMath(): string {
  if (mathSource === null) mathSource = readFileSync(MATH_PATH, 'utf8').replace('#pragma once', '');
  return mathSource;
}

/** The strides that read `h` over `shape` (aligned to the right, zero where it is broadcast). */
export function broadcastStrides(h: CudaHandle, shape: readonly number[]): number[] {
  const lead = shape.length - h.shape.length;
  return shape.map((dim, d) => {
    const own = d - lead;
    if (own < 0) return 0;
    return h.shape[own] === dim ? (h.strides[own] as number) : 0;
  });
}

/** Why the last fused kernel could not be compiled, for debugging (the jit then ran its primitives one by one). */
export let lastCompileFailure: string | null = null;

/**
 * jit's `compile` hook: CUDA C for the fusion (elementwise chains, and reductions with their
 * elementwise prologue), compiled once per fusion signature by NVRTC and cached. Returns null
 * (jit runs the primitives one by one) for fusions it does not generate code for, and when NVRTC
 * rejects the code.
 */
export function compileFused(
  context: CudaContext,
  program: KernelProgram,
  cache: Map<string, CompiledKernel<CudaHandle> | null>,
): CompiledKernel<CudaHandle> | null {
  const key = `${program.kind}|${program.inputs.map((a) => `${a.dtype}[${a.shape.join(',')}]`).join(';')}|${program.text}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const generated =
    program.kind === 'reduction' ? generateReduction(program, elementwiseMath()) : generateElementwise(program, elementwiseMath());
  let compiled: CompiledKernel<CudaHandle> | null = null;
  if (generated !== null) {
    try {
      const codes = (dtypes: readonly DType[]) => Int32Array.from(dtypes.map((d) => DTYPE_CODES[d]));
      const kernel = context.addon.jitCompile(
        generated.source,
        generated.name,
        codes(generated.outputDTypes),
        codes(generated.inputDTypes),
        generated.reduced,
        generated.lanes,
        Int32Array.from(generated.full.map((full) => (full ? 1 : 0))),
        Int32Array.from(generated.shape),
      );
      // The ops' shape, and the launch's: its axes in the kernel's order (a reduction's kept axes first).
      const { order } = generated;
      const opShape = order.reduce<number[]>((s, axis, i) => {
        s[axis] = generated.shape[i] as number;
        return s;
      }, []);
      const shapeArray = Int32Array.from(generated.shape);
      const outputShapes = program.outputs.map((index) => (program.ops[index] as KernelOp).aval.shape);
      compiled = {
        run(inputs: readonly CudaHandle[], consumable: readonly boolean[] = []): CudaHandle[] {
          const into = generated.reduced === 0 ? donatedOutputs(inputs, consumable, outputShapes, generated.outputDTypes) : [];
          const args: (number | Int32Array)[] = [];
          for (const h of inputs) {
            const strides = broadcastStrides(h, opShape);
            args.push(
              h.storage.id,
              layout(
                h.offset,
                generated.shape,
                order.map((axis) => strides[axis] as number),
              ),
            );
          }
          const ids = context.addon.jitLaunch(
            kernel,
            shapeArray,
            generated.outputDTypes.map((_, k) => into[k]?.storage.id ?? 0),
            ...args,
          );
          // An output written into a donated input is that input's handle, returned as it is.
          return ids.map((id, k) => into[k] ?? context.adopt(id, outputShapes[k] as number[], generated.outputDTypes[k] as DType));
        },
      };
    } catch (error) {
      lastCompileFailure = (error as Error).message;
      compiled = null;
    }
  }
  cache.set(key, compiled);
  return compiled;
}

/**
 * Per output, a consumable input (the caller hands it over and never reads it again) whose
 * buffer the output can be written into: a whole buffer nothing else views, contiguous, of the
 * output's shape and dtype. An elementwise kernel reads each element before it writes the same
 * index, so the update `p - lr * g` writes into p's buffer, as PyTorch's in-place optimizers do.
 */
function donatedOutputs(
  inputs: readonly CudaHandle[],
  consumable: readonly boolean[],
  shapes: readonly (readonly number[])[],
  dtypes: readonly DType[],
): (CudaHandle | undefined)[] {
  const taken = new Set<number>();
  return shapes.map((shape, k) => {
    // The whole buffer too: the addon checks that an output fills the buffer it is written into.
    const index = inputs.findIndex(
      (h, i) =>
        consumable[i] === true &&
        !taken.has(i) &&
        takesOutput(h, shape, dtypes[k] as DType) &&
        h.storage.bytes === sizeOf(shape) * itemSize(h.dtype),
    );
    if (index < 0) return undefined;
    taken.add(index);
    return inputs[index];
  });
}
