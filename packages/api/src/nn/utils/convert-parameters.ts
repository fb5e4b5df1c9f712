import { noGrad } from '../../autograd/grad-mode.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { concat, narrow, reshape } from '../../ops/movement.js';
import { isTensor, keep } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { isLent } from '../lent.js';
import { isParameter, type Parameter } from '../parameter.js';

// parametersToVector and vectorToParameters (torch.nn.utils.parameters_to_vector and
// vector_to_parameters): the parameters as one flat vector and back, for methods that treat the
// model as a point in R^n (line searches, evolution strategies, second-order methods).

function parameterList(op: string, parameters: Iterable<Parameter>): Parameter[] {
  if (typeof parameters !== 'object' || parameters === null || !(Symbol.iterator in parameters)) {
    throw new ValueError(
      `${op}: parameters must be an iterable of Parameters (model.parameters()), got ${parameters === null ? 'null' : typeof parameters}`,
    );
  }
  const list = [...parameters];
  for (const [i, p] of list.entries()) {
    if (!isParameter(p)) throw new ValueError(`${op}: parameters[${i}] is not a Parameter (got ${isTensor(p) ? 'a Tensor' : typeof p})`);
  }
  return list;
}

/**
 * The parameters' values flattened and concatenated, in the order given: one vector that the
 * gradient flows back through to each parameter.
 *
 * @example
 * const theta = nn.utils.parametersToVector(model.parameters()); // [model.numParameters()]
 */
export function parametersToVector(parameters: Iterable<Parameter>): Tensor {
  const op = 'parametersToVector';
  const list = parameterList(op, parameters);
  if (list.length === 0) throw new ValueError(`${op}: got no parameters`);
  return concat(
    list.map((p) => reshape(p.value, [-1])),
    0,
  );
}

/**
 * Sets the parameters' values from consecutive slices of `vector` (1-d, as many elements as the
 * parameters hold), each reshaped to its parameter's shape and cast to its dtype: the inverse of
 * `parametersToVector`. The assignment is not recorded for backward (as torch's `.data` writes).
 *
 * @example
 * nn.utils.vectorToParameters(theta.add(step), model.parameters());
 */
export function vectorToParameters(vector: Tensor, parameters: Iterable<Parameter>): void {
  const op = 'vectorToParameters';
  if (!isTensor(vector)) throw new ValueError(`${op}: vector must be a Tensor, got ${vector === null ? 'null' : typeof vector}`);
  const list = parameterList(op, parameters);
  const needed = list.reduce((n, p) => n + p.value.size, 0);
  if (vector.ndim !== 1 || vector.shape[0] !== needed) {
    throw new ShapeError(`${op}: vector must be 1-d with the parameters' ${needed} elements, got shape ${formatShape(vector.shape)}`);
  }
  const values = noGrad(() => {
    let start = 0;
    return list.map((p) => {
      const piece = reshape(narrow(vector, 0, start, p.value.size), [...p.value.shape]);
      start += p.value.size;
      return piece.dtype === p.value.dtype ? piece : cast(piece, p.value.dtype);
    });
  });
  for (const [i, p] of list.entries()) {
    const old = p.value;
    p.value = values[i] as Tensor;
    keep(p.value);
    if (old !== p.value && !isLent(old)) old.dispose();
  }
}
