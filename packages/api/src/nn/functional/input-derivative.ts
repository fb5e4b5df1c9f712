import { cast } from '../../ops/broadcast.js';
import { mul } from '../../ops/elementwise.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindCustomVjp } from '../../transforms/core.js';
import type { CustomVjpCall } from '../../transforms/custom-call.js';

/**
 * `forward(x)`, an elementwise activation written in several ops (GELU, SiLU), differentiated
 * from its input alone: its VJP is `g * derivative(x)`, so a backward pass keeps `x` and nothing
 * else, as PyTorch's gelu and silu do. Differentiating the ops themselves kept their
 * intermediates too (erf's input and output, the logistic), three more activation-sized tensors
 * for an exact GELU and six for the tanh form.
 *
 * `derivative` is written in ops, so a recorded backward pass (createGraph) differentiates it in
 * turn; forward mode, vmap and jit see `forward`'s ops (the rule is exactly their derivative).
 */
export function savingInput(name: string, x: Tensor, forward: (x: Tensor) => Tensor, derivative: (x: Tensor) => Tensor): Tensor {
  const compute = (inputs: readonly Tensor[]): Tensor[] => [tidy(() => forward(inputs[0] as Tensor))];
  const call: CustomVjpCall = {
    name,
    differentiateFnInForwardMode: true,
    ruleIsDerivative: true,
    fn: compute,
    fwd: (inputs) => ({ outputs: compute(inputs), residuals: [inputs[0]] }),
    // In x's dtype: under autocast a float16 x's derivative may come out float32 (exp runs in float32).
    bwd: (residuals, [g]) => {
      const x = (residuals as Tensor[])[0] as Tensor;
      return [tidy(() => mul(g as Tensor, cast(derivative(x), x.dtype)))];
    },
  };
  return bindCustomVjp(call, [x])[0] as Tensor;
}
