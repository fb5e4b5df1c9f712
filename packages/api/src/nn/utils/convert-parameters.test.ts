import '@flint/backend-cpu';
import { type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

// parametersToVector and vectorToParameters: torch's layout (each parameter flattened row-major,
// in the order given), the round trip, the gradient through the vector, and the errors.

const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

describe('parametersToVector and vectorToParameters', () => {
  it('flatten the parameters in order, pass the gradient back, and write slices back with the dtypes kept', () => {
    const linear = new nn.Linear(2, 3, { dtype: 'float64' });
    linear.weight.value = tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { dtype: 'float64' },
    );
    linear.bias!.value = tensor([7, 8, 9], { dtype: 'float64' });
    const vector = nn.utils.parametersToVector(linear.parameters());
    expect(values(vector)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    vector
      .mul(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { dtype: 'float64' }))
      .sum()
      .backward();
    expect(values(linear.weight.grad as Tensor)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(values(linear.bias!.grad as Tensor)).toEqual([7, 8, 9]);

    nn.utils.vectorToParameters(tensor([9, 8, 7, 6, 5, 4, 3, 2, 1], { dtype: 'float32' }), linear.parameters());
    expect([linear.weight.value.shape, linear.weight.value.dtype, values(linear.weight.value)]).toEqual([
      [3, 2],
      'float64',
      [9, 8, 7, 6, 5, 4],
    ]);
    expect(values(linear.bias!.value)).toEqual([3, 2, 1]);
  });

  it('refuse a vector of the wrong size, something that is not a parameter, and no parameters', () => {
    const linear = new nn.Linear(2, 1);
    expect(() => nn.utils.vectorToParameters(tensor([1, 2]), linear.parameters())).toThrow(
      "vectorToParameters: vector must be 1-d with the parameters' 3 elements, got shape [2]",
    );
    expect(() => nn.utils.parametersToVector([tensor([1])] as never)).toThrow(/parameters\[0\] is not a Parameter \(got a Tensor\)/);
    expect(() => nn.utils.parametersToVector([])).toThrow(/got no parameters/);
  });
});
