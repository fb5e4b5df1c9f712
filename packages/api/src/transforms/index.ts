export { type CustomVjpRules, checkpoint, customJvp, customVjp, stopGradient } from './custom.js';
export { grad, valueAndGrad, vjp } from './grad.js';
export { hessian, type JacobianOptions, jacfwd, jacrev } from './jacobian.js';
export { jvp, linearize } from './jvp.js';
export type { Disposable, Gradient, GradOptions } from './types.js';
export { type AxisSpec, type VmapOptions, vmap } from './vmap.js';
