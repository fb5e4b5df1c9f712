import { amp, getBackend, type HalfDType, ValueError } from '@flint/api';
import type { Precision } from './options.js';

/** Runs `fn` (a step's forward pass) in a precision's compute dtype. */
export type PrecisionScope = <T>(fn: () => T) => T;

/** The autocast dtype of a mixed precision; undefined for the true ones. */
export function mixedDtype(precision: Precision): HalfDType | undefined {
  return precision === '16-mixed' ? 'float16' : precision === 'bf16-mixed' ? 'bfloat16' : undefined;
}

/** The scope steps run in: autocast for the mixed precisions, undefined (as they are) otherwise. */
export function precisionScope(precision: Precision): PrecisionScope | undefined {
  const dtype = mixedDtype(precision);
  if (dtype === undefined) return undefined;
  return <T>(fn: () => T): T => amp.autocast({ dtype }, fn);
}

/** Runs `fn` (a backward pass) outside autocast, as PyTorch recommends. */
export function outsideAutocast<T>(fn: () => T): T {
  return amp.isAutocastEnabled() ? amp.autocast({ enabled: false }, fn) : fn();
}

/** '16-mixed' scales the loss (dynamic loss scaling); bfloat16 has float32's range and needs none. */
export function createGradScaler(precision: Precision): amp.GradScaler | undefined {
  return precision === '16-mixed' ? new amp.GradScaler() : undefined;
}

/** What `checkPrecisionBackend` reads of a module: where its parameters live. */
interface ModuleWithParameters {
  parameters(): readonly { readonly value: { readonly backend: string } }[];
}

/**
 * Fails clearly, before training starts, when the backend cannot compute in the precision's
 * dtype: the backend the module's parameters live on (autocast casts them there), or the
 * default backend for a module without parameters.
 */
export function checkPrecisionBackend(precision: Precision, module?: ModuleWithParameters): void {
  const dtype = mixedDtype(precision);
  if (dtype === undefined) return;
  const first = module?.parameters()[0];
  const backend = getBackend(first?.value.backend);
  if (!backend.capabilities.dtypes.includes(dtype)) {
    throw new ValueError(
      `Trainer: precision '${precision}' computes in ${dtype}, which backend '${backend.name}' does not support (it supports ${backend.capabilities.dtypes.join(', ')}); choose an accelerator with ${dtype}, or precision '32-true'`,
    );
  }
}
