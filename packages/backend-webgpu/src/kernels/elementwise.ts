import {
  type Aval,
  type BinaryPrimitive,
  type DType,
  type ParamsOf,
  Primitive,
  primitiveName,
  sizeOf,
  type UnaryPrimitive,
} from '@flint/api';
import type { WebGpuContext } from '../context.js';
import { coalesce, isContiguous, type WebGpuHandle } from '../handle.js';
import { type WgslScalar, wgslType } from '../layout.js';
import { grid } from '../runtime.js';
import { bindings, library, MAIN_1D, ParamWriter, THREAD_INDEX, WORKGROUP } from '../wgsl/shader.js';

/** A WGSL expression over the inputs `a`, `b`, `c`, and the helpers it calls. */
export interface Expression {
  readonly code: string;
  readonly helpers: readonly string[];
}

const e = (code: string, ...helpers: string[]): Expression => ({ code, helpers });

export type ByType = Partial<Record<WgslScalar | 'bool', Expression>>;

const SAME_AS_INPUT = e('a');

export const UNARY: Record<UnaryPrimitive, ByType> = {
  [Primitive.Neg]: { f32: e('bitcast<f32>(bitcast<u32>(a) ^ 0x80000000u)'), i32: e('-a'), u32: e('(0u - a) & 255u') },
  [Primitive.Abs]: { f32: e('bitcast<f32>(bitcast<u32>(a) & 0x7fffffffu)'), i32: e('abs(a)'), u32: SAME_AS_INPUT },
  [Primitive.Sign]: { f32: e('signF(a)', 'roundingF'), i32: e('sign(a)'), u32: e('min(a, 1u)') },
  [Primitive.Exp]: { f32: e('select(exp(a), a, isNanF(a))', 'bitsF') },
  [Primitive.Log]: { f32: e('select(logF(a), a, isNanF(a))', 'logF', 'bitsF') },
  [Primitive.Log1p]: { f32: e('log1pF(a)', 'log1pF') },
  [Primitive.Expm1]: { f32: e('expm1F(a)', 'expm1F') },
  [Primitive.Sqrt]: { f32: e('select(sqrtF(a), a, isNanF(a))', 'logF', 'bitsF') },
  [Primitive.Rsqrt]: { f32: e('select(1.0 / sqrtF(a), a, isNanF(a))', 'logF', 'bitsF') },
  [Primitive.Sin]: { f32: e('sinF(a)', 'trigF') },
  [Primitive.Cos]: { f32: e('cosF(a)', 'trigF') },
  [Primitive.Tan]: { f32: e('tanF(a)', 'trigF') },
  [Primitive.Asin]: { f32: e('asinF(a)', 'inverseTrigF') },
  [Primitive.Acos]: { f32: e('acosF(a)', 'inverseTrigF') },
  [Primitive.Atan]: { f32: e('atanF(a)', 'inverseTrigF') },
  [Primitive.Tanh]: { f32: e('tanhF(a)', 'tanhF') },
  [Primitive.Logistic]: { f32: e('select(logisticF(a), a, isNanF(a))', 'logisticF', 'bitsF') },
  [Primitive.Erf]: { f32: e('erfF(a)', 'erfF') },
  [Primitive.Floor]: { f32: e('floorF(a)', 'roundingF'), i32: SAME_AS_INPUT, u32: SAME_AS_INPUT },
  [Primitive.Ceil]: { f32: e('ceilF(a)', 'roundingF'), i32: SAME_AS_INPUT, u32: SAME_AS_INPUT },
  [Primitive.Round]: { f32: e('roundF(a)', 'roundingF'), i32: SAME_AS_INPUT, u32: SAME_AS_INPUT },
  [Primitive.Reciprocal]: { f32: e('divF(1.0, a)', 'splitF') },
  [Primitive.Not]: { bool: e('select(1u, 0u, a != 0u)') },
  // NaN and -0 pass through, as torch.relu.
  [Primitive.Relu]: { f32: e('select(a, 0.0, lessF(a, 0.0))', 'orderF'), i32: e('max(a, 0)'), u32: SAME_AS_INPUT },
};

const TRUE_IF = (condition: string, ...helpers: string[]): Expression => e(`select(0u, 1u, ${condition})`, ...helpers);

export const BINARY: Record<BinaryPrimitive, ByType> = {
  [Primitive.Add]: { f32: e('a + b'), i32: e('a + b'), u32: e('(a + b) & 255u') },
  [Primitive.Sub]: { f32: e('a - b'), i32: e('a - b'), u32: e('(a - b) & 255u') },
  [Primitive.Mul]: { f32: e('mulF(a, b)', 'splitF'), i32: e('a * b'), u32: e('(a * b) & 255u') },
  [Primitive.Div]: { f32: e('divF(a, b)', 'splitF'), i32: e('divideI(a, b)', 'remainderI'), u32: e('divideU(a, b)', 'remainderI') },
  [Primitive.Pow]: { f32: e('powF(a, b)', 'powF'), i32: e('powI(a, b)', 'powI'), u32: e('powU(a, b)', 'powI') },
  [Primitive.Atan2]: { f32: e('atan2F(a, b)', 'inverseTrigF') },
  [Primitive.Max]: { f32: e('maxF(a, b)', 'orderF'), i32: e('max(a, b)'), u32: e('max(a, b)'), bool: e('max(a, b)') },
  [Primitive.Min]: { f32: e('minF(a, b)', 'orderF'), i32: e('min(a, b)'), u32: e('min(a, b)'), bool: e('min(a, b)') },
  [Primitive.Mod]: {
    f32: e('remainderF(a, b)', 'remainderF'),
    i32: e('remainderI(a, b)', 'remainderI'),
    u32: e('remainderU(a, b)', 'remainderI'),
  },
  [Primitive.FloorDivide]: {
    f32: e('floorDivideF(a, b)', 'remainderF'),
    i32: e('floorDivideI(a, b)', 'remainderI'),
    u32: e('divideU(a, b)', 'remainderI'),
  },
  [Primitive.Equal]: { f32: TRUE_IF('equalF(a, b)', 'orderF'), i32: TRUE_IF('a == b'), u32: TRUE_IF('a == b'), bool: TRUE_IF('a == b') },
  [Primitive.NotEqual]: {
    f32: TRUE_IF('!equalF(a, b)', 'orderF'),
    i32: TRUE_IF('a != b'),
    u32: TRUE_IF('a != b'),
    bool: TRUE_IF('a != b'),
  },
  [Primitive.Less]: { f32: TRUE_IF('lessF(a, b)', 'orderF'), i32: TRUE_IF('a < b'), u32: TRUE_IF('a < b'), bool: TRUE_IF('a < b') },
  [Primitive.LessEqual]: {
    f32: TRUE_IF('lessF(a, b) || equalF(a, b)', 'orderF'),
    i32: TRUE_IF('a <= b'),
    u32: TRUE_IF('a <= b'),
    bool: TRUE_IF('a <= b'),
  },
  [Primitive.Greater]: { f32: TRUE_IF('lessF(b, a)', 'orderF'), i32: TRUE_IF('a > b'), u32: TRUE_IF('a > b'), bool: TRUE_IF('a > b') },
  [Primitive.GreaterEqual]: {
    f32: TRUE_IF('lessF(b, a) || equalF(a, b)', 'orderF'),
    i32: TRUE_IF('a >= b'),
    u32: TRUE_IF('a >= b'),
    bool: TRUE_IF('a >= b'),
  },
  [Primitive.And]: { bool: e('a & b') },
  [Primitive.Or]: { bool: e('a | b') },
  // NaN in a lets b through, as torch's threshold_backward.
  [Primitive.ReluGrad]: {
    f32: e('select(b, 0.0, lessF(a, 0.0) || equalF(a, 0.0))', 'orderF'),
    i32: e('select(b, 0, a <= 0)'),
    u32: e('select(b, 0u, a == 0u)'),
  },
};

/** The expression table's column for a dtype: bool has its own, uint8 shares u32. */
function column(dtype: DType): WgslScalar | 'bool' {
  return dtype === 'bool' ? 'bool' : wgslType(dtype);
}

export function lookup(table: ByType, op: string, dtype: DType): Expression {
  const expression = table[column(dtype)];
  // Abstract evaluation refuses these dtypes before a kernel runs; this guards the table itself.
  if (expression === undefined) throw new Error(`webgpu: no WGSL expression for ${op} on ${dtype}`);
  return expression;
}

const LETTERS = ['a', 'b', 'c'];

function mapSource(inputTypes: readonly WgslScalar[], outputType: WgslScalar, expression: Expression): () => string {
  return () => {
    const reads = inputTypes
      .map((_, k) => {
        const slot = 3 + 3 * k;
        return `  var at${k} = params[${slot}] + i;
  if (params[${slot + 2}] == 0) { at${k} = params[${slot}] + stridedOffset(i, rank, params[2], params[${slot + 1}]); }
  let ${LETTERS[k]} = input${k}[at${k}];`;
      })
      .join('\n');
    return `${bindings(outputType, inputTypes)}${library(expression.helpers)}
${MAIN_1D} {
  let i = ${THREAD_INDEX};
  if (i >= params[0]) { return; }
  let rank = params[1];
${reads}
  result[i] = ${expression.code};
}
`;
  };
}

/**
 * One thread per output element: reads each input through its own strides (contiguous inputs
 * skip the index arithmetic) and writes the output contiguously.
 */
export function mapKernel(
  context: WebGpuContext,
  name: string,
  inputs: readonly WebGpuHandle[],
  inputTypes: readonly WgslScalar[],
  out: Aval,
  outputType: WgslScalar,
  expression: Expression,
): WebGpuHandle {
  const total = sizeOf(out.shape);
  const output = context.allocate(total);
  if (total > 0) {
    const merged = coalesce(
      out.shape,
      inputs.map((h) => h.strides),
    );
    const params = new ParamWriter(3 + 3 * inputs.length);
    params.set(0, total);
    params.set(1, merged.shape.length);
    params.section(2, merged.shape);
    inputs.forEach((h, k) => {
      params.set(3 + 3 * k, h.offset);
      params.section(4 + 3 * k, merged.strides[k] as number[]);
      params.set(5 + 3 * k, isContiguous(h.shape, h.strides) ? 1 : 0);
    });
    const key = `map:${inputTypes.join(',')}>${outputType}:${expression.code}`;
    context.launch(
      { name, key, source: mapSource(inputTypes, outputType, expression), params: params.words, workgroups: grid(total, WORKGROUP) },
      output,
      inputs.map((h) => h.storage),
    );
  }
  return context.handle(output, out.shape, out.dtype);
}

export function unaryKernel(op: UnaryPrimitive) {
  const name = primitiveName(op);
  return (context: WebGpuContext, inputs: readonly WebGpuHandle[], out: Aval): WebGpuHandle => {
    const x = inputs[0] as WebGpuHandle;
    const expression = lookup(UNARY[op], name, x.dtype);
    return mapKernel(context, `${name} (${x.dtype})`, [x], [wgslType(x.dtype)], out, wgslType(out.dtype), expression);
  };
}

export function binaryKernel(op: BinaryPrimitive) {
  const name = primitiveName(op);
  return (context: WebGpuContext, inputs: readonly WebGpuHandle[], out: Aval): WebGpuHandle => {
    const a = inputs[0] as WebGpuHandle;
    const b = inputs[1] as WebGpuHandle;
    const expression = lookup(BINARY[op], name, a.dtype);
    const type = wgslType(a.dtype);
    return mapKernel(context, `${name} (${a.dtype})`, [a, b], [type, type], out, wgslType(out.dtype), expression);
  };
}

/** Where moves raw words: the condition picks x's or y's bits whatever their dtype. */
export function whereKernel(context: WebGpuContext, inputs: readonly WebGpuHandle[], out: Aval): WebGpuHandle {
  return mapKernel(context, `where (${out.dtype})`, inputs, ['u32', 'u32', 'u32'], out, 'u32', e('select(c, b, a != 0u)'));
}

export function castExpression(from: DType, to: DType): { input: WgslScalar; output: WgslScalar; expression: Expression } {
  if (from === to) return { input: 'u32', output: 'u32', expression: SAME_AS_INPUT };
  const input = wgslType(from);
  const output = wgslType(to);
  const fromFloat = from === 'float32';
  switch (to) {
    case 'float32':
      return { input, output, expression: e('f32(a)') };
    case 'int32':
      return { input, output, expression: fromFloat ? e('castFI(a)', 'roundingF') : e('i32(a)') };
    case 'uint8':
      if (fromFloat) return { input, output, expression: e('bitcast<u32>(castFI(a)) & 255u', 'roundingF') };
      return { input, output, expression: from === 'int32' ? e('bitcast<u32>(a) & 255u') : SAME_AS_INPUT };
    case 'bool':
      // NaN is truthy, as bool(float('nan')) in Python; the test is on the bits so subnormals are too.
      if (fromFloat) return { input, output, expression: TRUE_IF('!isZeroF(a)', 'bitsF') };
      return { input, output, expression: from === 'int32' ? TRUE_IF('a != 0') : TRUE_IF('a != 0u') };
    case 'float64':
    case 'float16':
    case 'bfloat16':
      throw new Error(`unreachable: ${to} is refused before kernels run`);
  }
}

export function castKernel(
  context: WebGpuContext,
  inputs: readonly WebGpuHandle[],
  params: ParamsOf<Primitive.Cast>,
  out: Aval,
): WebGpuHandle {
  const x = inputs[0] as WebGpuHandle;
  const { input, output, expression } = castExpression(x.dtype, params.dtype);
  return mapKernel(context, `cast (${x.dtype} to ${params.dtype})`, [x], [input], out, output, expression);
}
