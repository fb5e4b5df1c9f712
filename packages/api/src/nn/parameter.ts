import { Parameter } from '../autograd/parameter.js';

export { Parameter };

/** Whether `value` is a Parameter (the autograd layer's mutable cell of a tensor and its gradient). */
export function isParameter(value: unknown): value is Parameter {
  return value instanceof Parameter;
}
