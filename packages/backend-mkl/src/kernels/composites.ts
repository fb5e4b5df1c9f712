import {
  type Aval,
  type BatchNormResults,
  type CompositeKernels,
  type NormalizationCotangents,
  packWindowGeometry,
  sizeOf,
  type TypedArray,
  type WindowGeometry,
} from '@flint/api';
import { int32ArgumentOf } from '@flint/api/strided-backend';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import type { MklMemory } from '../memory.js';
import type { Addon } from '../native/addon.js';
import { DTYPE_CODES } from '../native/codes.js';

/** The composites the addon computes in one call each (a oneDNN primitive, or batch norm's loops). */
export type CompositeName =
  | 'softmax'
  | 'logSoftmax'
  | 'softmaxBackward'
  | 'logSoftmaxBackward'
  | 'layerNorm'
  | 'layerNormBackward'
  | 'batchNorm'
  | 'batchNormInference'
  | 'batchNormBackward'
  | 'windowMaxBackward';

/** What the composite kernels need: the addon, the backend's memory, and a counter of their runs. */
export interface CompositeContext {
  readonly addon: Addon;
  readonly memory: MklMemory;
  /** Counts a run of the fused kernel (for tests and profiling). */
  readonly recordComposite: (name: CompositeName) => void;
}

/**
 * oneDNN's softmax, log-softmax (and their backward passes) and layer normalization
 * (native/normalization.cc), and the addon's batch normalization loops (native/batch_norm.cc), for
 * float32 views of any layout (the addon packs what it cannot read in place); every other dtype is
 * declined, and the api runs the composite. Float16 and bfloat16 are declined too: the composites
 * take their statistics in float32 and round once, as the portable kernels do. So is a
 * configuration oneDNN refuses to create a primitive for (the addon returns false; batch norm's
 * loops never do); the outputs allocated for it go back to the pool.
 */
export function mklComposites(context: CompositeContext): CompositeKernels<MklHandle> {
  const { addon, memory, recordComposite } = context;
  const float32 = DTYPE_CODES.float32;
  /** Declines after the addon refused: the outputs allocated for it, untouched, go back to the pool. */
  const declined = (...outputs: (TypedArray | null)[]): null => {
    for (const output of outputs) if (output !== null) memory.recycle(output);
    return null;
  };
  /** Whether every handle given is float32 (null: an absent weight or bias). */
  const allFloat32 = (...handles: (MklHandle | null)[]) => handles.every((h) => h === null || h.dtype === 'float32');
  /** An optional [C] operand as the addon takes it: the array and its layout, or both null. */
  const optional = (h: MklHandle | null) => [h?.storage.data ?? null, h === null ? null : layoutOf(h)] as const;
  return {
    softmax(x: MklHandle, axis: number, log: boolean, out: Aval): MklHandle | null {
      if (x.dtype !== 'float32' || out.dtype !== 'float32' || x.shape.length === 0) return null;
      const data = memory.allocateUninitialized('float32', sizeOf(out.shape));
      if (!addon.softmax(float32, x.storage.data, layoutOf(x), axis, log ? 1 : 0, data)) return declined(data);
      recordComposite(log ? 'logSoftmax' : 'softmax');
      return wrap(data, out.shape, out.dtype);
    },
    softmaxBackward(y: MklHandle, g: MklHandle, axis: number, log: boolean, out: Aval): MklHandle | null {
      if (y.dtype !== 'float32' || g.dtype !== 'float32' || out.dtype !== 'float32' || y.shape.length === 0) return null;
      const data = memory.allocateUninitialized('float32', sizeOf(out.shape));
      if (!addon.softmaxBackward(float32, y.storage.data, layoutOf(y), g.storage.data, layoutOf(g), axis, log ? 1 : 0, data)) {
        return declined(data);
      }
      recordComposite(log ? 'logSoftmaxBackward' : 'softmaxBackward');
      return wrap(data, out.shape, out.dtype);
    },
    layerNorm(x: MklHandle, weight: MklHandle | null, bias: MklHandle | null, normalizedDims: number, eps: number, out: Aval) {
      if (x.dtype !== 'float32' || out.dtype !== 'float32') return null;
      if ((weight !== null && weight.dtype !== 'float32') || (bias !== null && bias.dtype !== 'float32')) return null;
      const data = memory.allocateUninitialized('float32', sizeOf(out.shape));
      const ran = addon.layerNorm(
        float32,
        x.storage.data,
        layoutOf(x),
        normalizedDims,
        weight?.storage.data ?? null,
        weight === null ? null : layoutOf(weight),
        bias?.storage.data ?? null,
        bias === null ? null : layoutOf(bias),
        eps,
        data,
      );
      if (!ran) return declined(data);
      recordComposite('layerNorm');
      return wrap(data, out.shape, out.dtype);
    },
    layerNormBackward(
      x: MklHandle,
      weight: MklHandle | null,
      g: MklHandle,
      normalizedDims: number,
      eps: number,
      withBias: boolean,
      out: Aval,
    ): NormalizationCotangents<MklHandle> | null {
      if (x.dtype !== 'float32' || g.dtype !== 'float32' || out.dtype !== 'float32') return null;
      if (weight !== null && weight.dtype !== 'float32') return null;
      const outputs = cotangentOutputs(memory, out, x.shape.slice(x.shape.length - normalizedDims), weight !== null, withBias);
      const ran = addon.layerNormBackward(
        float32,
        x.storage.data,
        layoutOf(x),
        normalizedDims,
        weight?.storage.data ?? null,
        weight === null ? null : layoutOf(weight),
        g.storage.data,
        layoutOf(g),
        eps,
        outputs.input,
        outputs.weight,
        outputs.bias,
      );
      if (!ran) return declined(outputs.input, outputs.weight, outputs.bias);
      recordComposite('layerNormBackward');
      return outputs.wrapped();
    },
    batchNorm(x: MklHandle, weight: MklHandle | null, bias: MklHandle | null, eps: number, out: Aval): BatchNormResults<MklHandle> | null {
      if (!allFloat32(x, weight, bias) || out.dtype !== 'float32' || x.shape.length < 2) return null;
      const channels = x.shape[1]!;
      const data = memory.allocateUninitialized('float32', sizeOf(out.shape));
      const mean = memory.allocateUninitialized('float32', channels);
      const variance = memory.allocateUninitialized('float32', channels);
      const ran = addon.batchNorm(float32, x.storage.data, layoutOf(x), ...optional(weight), ...optional(bias), eps, data, mean, variance);
      if (!ran) return declined(data, mean, variance);
      recordComposite('batchNorm');
      return {
        output: wrap(data, out.shape, out.dtype),
        mean: wrap(mean, [channels], 'float32'),
        variance: wrap(variance, [channels], 'float32'),
      };
    },
    batchNormInference(
      x: MklHandle,
      mean: MklHandle,
      variance: MklHandle,
      weight: MklHandle | null,
      bias: MklHandle | null,
      eps: number,
      out: Aval,
    ): MklHandle | null {
      if (!allFloat32(x, mean, variance, weight, bias) || out.dtype !== 'float32' || x.shape.length < 2) return null;
      const data = memory.allocateUninitialized('float32', sizeOf(out.shape));
      const ran = addon.batchNormInference(
        float32,
        x.storage.data,
        layoutOf(x),
        mean.storage.data,
        layoutOf(mean),
        variance.storage.data,
        layoutOf(variance),
        ...optional(weight),
        ...optional(bias),
        eps,
        data,
      );
      if (!ran) return declined(data);
      recordComposite('batchNormInference');
      return wrap(data, out.shape, out.dtype);
    },
    batchNormBackward(
      x: MklHandle,
      mean: MklHandle,
      variance: MklHandle,
      weight: MklHandle | null,
      g: MklHandle,
      eps: number,
      withBias: boolean,
      out: Aval,
    ): NormalizationCotangents<MklHandle> | null {
      if (!allFloat32(x, mean, variance, weight, g) || out.dtype !== 'float32' || x.shape.length < 2) return null;
      const outputs = cotangentOutputs(memory, out, [x.shape[1]!], weight !== null, withBias);
      const ran = addon.batchNormBackward(
        float32,
        x.storage.data,
        layoutOf(x),
        mean.storage.data,
        layoutOf(mean),
        variance.storage.data,
        layoutOf(variance),
        ...optional(weight),
        g.storage.data,
        layoutOf(g),
        eps,
        outputs.input,
        outputs.weight,
        outputs.bias,
      );
      if (!ran) return declined(outputs.input, outputs.weight, outputs.bias);
      recordComposite('batchNormBackward');
      return outputs.wrapped();
    },
    windowMaxBackward(x: MklHandle, g: MklHandle, geometry: WindowGeometry, out: Aval): MklHandle | null {
      if (x.dtype !== 'float32' || g.dtype !== 'float32' || out.dtype !== 'float32') return null;
      const data = memory.allocateUninitialized('float32', sizeOf(out.shape));
      if (
        !addon.windowMaxBackward(
          float32,
          x.storage.data,
          layoutOf(x),
          g.storage.data,
          layoutOf(g),
          data,
          int32ArgumentOf(packWindowGeometry(geometry)),
        )
      ) {
        return declined(data);
      }
      recordComposite('windowMaxBackward');
      return wrap(data, out.shape, out.dtype);
    },
  };
}

/**
 * Pooled arrays for a normalization's cotangents, which its backward kernel writes whole: the
 * input's (`out`'s size), and the weight's and the bias's (`vectorShape`) where asked for;
 * `wrapped` makes them handles.
 */
function cotangentOutputs(memory: MklMemory, out: Aval, vectorShape: readonly number[], withWeight: boolean, withBias: boolean) {
  const vectorSize = sizeOf(vectorShape);
  const input = memory.allocateUninitialized('float32', sizeOf(out.shape));
  const weight = withWeight ? memory.allocateUninitialized('float32', vectorSize) : null;
  const bias = withBias ? memory.allocateUninitialized('float32', vectorSize) : null;
  const wrapped = (): NormalizationCotangents<MklHandle> => ({
    input: wrap(input, out.shape, out.dtype),
    weight: weight === null ? null : wrap(weight, [...vectorShape], 'float32'),
    bias: bias === null ? null : wrap(bias, [...vectorShape], 'float32'),
  });
  return { input, weight, bias, wrapped };
}
