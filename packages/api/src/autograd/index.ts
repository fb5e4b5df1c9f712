export { type BackwardOptions, backward } from './backward.js';
export { enableGrad, isGradEnabled, noGrad, setGradEnabled } from './grad-mode.js';
export { Parameter, type ParameterOptions } from './parameter.js';
export type { GradHook } from './state.js';
