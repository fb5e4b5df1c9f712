/**
 * Automatic mixed precision (torch.amp): `autocast` runs matmuls and convolutions in float16 or
 * bfloat16 and numerically sensitive ops in float32; `GradScaler` scales float16 losses so
 * small gradients survive, and skips steps whose gradients overflowed.
 */
export { type AutocastOptions, type AutocastScope, autocast, autocastDtype, autocastScope, isAutocastEnabled } from './autocast.js';
export { GradScaler, type GradScalerOptions, type GradScalerState, type ScalableOptimizer } from './grad-scaler.js';
export { FLOAT32_OPS, FLOAT32_PRIMITIVES, LOWER_PRECISION_PRIMITIVES } from './policy.js';
