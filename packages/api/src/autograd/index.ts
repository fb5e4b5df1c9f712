export { Parameter, type ParameterOptions } from './parameter.js';
export { backward, type BackwardOptions } from './backward.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './grad-mode.js';
export type { GradHook } from './state.js';
