export { grad, valueAndGrad, vjp } from './grad.js';
export { jvp, linearize } from './jvp.js';
export { vmap, type AxisSpec, type VmapOptions } from './vmap.js';
export { jacrev, jacfwd, hessian, type JacobianOptions } from './jacobian.js';
export { customJvp, customVjp, checkpoint, stopGradient, type CustomVjpRules } from './custom.js';
export type { Gradient, GradOptions } from './types.js';
