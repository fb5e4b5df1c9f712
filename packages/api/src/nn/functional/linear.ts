import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import type { TensorLike } from '../../ops/convert.js';
import { add } from '../../ops/elementwise.js';
import { dotGeneral } from '../../ops/linalg.js';
import { reshape } from '../../ops/movement.js';
import { isTensor, releasing, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { floatTensor } from './common.js';

// Affine maps: linear (x Wᵀ + b) and bilinear (x1ᵀ W_k x2 + b_k).

function checkBias(op: string, bias: Tensor | null | undefined, size: number): Tensor | null {
  if (bias === undefined || bias === null) return null;
  // The bias is positional here, as in PyTorch; `{ bias }` (conv2d's spelling) from untyped code
  // would otherwise fail below with an unrelated TypeError.
  if (!isTensor(bias))
    throw new ValueError(`${op}: bias must be a Tensor or null, got ${typeof bias === 'object' ? 'an object' : typeof bias}`);
  if (bias.ndim !== 1 || bias.shape[0] !== size)
    throw new ShapeError(`${op}: bias must have shape [${size}], got ${formatShape(bias.shape)}`);
  return bias;
}

/**
 * `input @ weightᵀ + bias` with weight [out, in] and bias [out], over any leading dimensions of
 * input [..., in] (torch.nn.functional.linear).
 *
 * @example
 * nn.functional.linear(x, w, b); // [N, in] -> [N, out]
 */
export function linear(input: TensorLike, weight: Tensor, bias?: Tensor | null): Tensor {
  const op = 'linear';
  const x = floatTensor(op, input);
  if (weight.ndim !== 2) throw new ShapeError(`${op}: weight must be [outFeatures, inFeatures], got ${formatShape(weight.shape)}`);
  const inFeatures = weight.shape[1] as number;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new ShapeError(
      `${op}: input ${formatShape(x.shape)} must end in inFeatures = ${inFeatures} (weight ${formatShape(weight.shape)})`,
    );
  }
  const out = dotGeneral(x, cast(weight, x.dtype), { lhsContracting: [x.ndim - 1], rhsContracting: [1] });
  const b = checkBias(op, bias, weight.shape[0] as number);
  // The product before the bias is this op's intermediate (the sum's rule reads neither operand):
  // freed now, as PyTorch's addmm never makes it.
  return b === null ? out : releasing(add(out, cast(b, out.dtype)), out);
}

/**
 * `y_k = x1ᵀ W_k x2 + b_k` with weight [out, in1, in2] and bias [out], over the leading
 * dimensions shared by input1 [..., in1] and input2 [..., in2] (torch.nn.functional.bilinear).
 *
 * @example
 * nn.functional.bilinear(a, b, w); // [N, in1], [N, in2] -> [N, out]
 */
export function bilinear(input1: TensorLike, input2: TensorLike, weight: Tensor, bias?: Tensor | null): Tensor {
  return tidy(() => {
    const op = 'bilinear';
    const x1 = floatTensor(op, input1, 'input1');
    const x2 = cast(floatTensor(op, input2, 'input2', x1), x1.dtype);
    if (weight.ndim !== 3)
      throw new ShapeError(`${op}: weight must be [outFeatures, in1Features, in2Features], got ${formatShape(weight.shape)}`);
    const [outFeatures, in1, in2] = weight.shape as [number, number, number];
    const lead = x1.shape.slice(0, -1);
    if (
      x1.ndim === 0 ||
      x1.shape[x1.ndim - 1] !== in1 ||
      x2.ndim !== x1.ndim ||
      x2.shape[x2.ndim - 1] !== in2 ||
      x2.shape.slice(0, -1).some((d, i) => d !== lead[i])
    ) {
      throw new ShapeError(
        `${op}: inputs ${formatShape(x1.shape)} and ${formatShape(x2.shape)} must share leading dimensions and end in ${in1} and ${in2} (weight ${formatShape(weight.shape)})`,
      );
    }
    const rows = lead.reduce((a, b) => a * b, 1);
    const a = reshape(x1, [rows, in1]);
    const b = reshape(x2, [rows, in2]);
    // [rows, in1] . [out, in1, in2] -> [rows, out, in2], then a batched contraction with b over in2.
    const partial = dotGeneral(a, cast(weight, x1.dtype), { lhsContracting: [1], rhsContracting: [1] });
    const out = dotGeneral(partial, b, { lhsContracting: [2], rhsContracting: [1], lhsBatch: [0], rhsBatch: [0] });
    const withBias = checkBias(op, bias, outFeatures);
    return reshape(withBias === null ? out : add(out, cast(withBias, out.dtype)), [...lead, outFeatures]);
  });
}
