/**
 * Neural networks: `Module` and the layers built on it, their functional forms
 * (`nn.functional`), initializers (`nn.init`) and gradient clipping.
 *
 * @example
 * import { nn } from '@flint/api';
 * const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * const loss = nn.functional.crossEntropy(model.forward(images), labels);
 */
export * as functional from './functional/index.js';
export * as init from './init.js';
