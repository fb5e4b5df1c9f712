import { type DType, type KernelProgram, type KernelRef, Primitive } from '@flint/api';
import { BINARY_CODES, UNARY_CODES } from '../native/codes.js';

/** A fused kernel as CUDA C, with the dtypes of its outputs and inputs in launch order. */
export interface GeneratedKernel {
  readonly name: string;
  readonly source: string;
  readonly outputDTypes: readonly DType[];
  readonly inputDTypes: readonly DType[];
  /** The shape every op of the kernel has: the index space it is launched over. */
  readonly shape: readonly number[];
}

/** At most this many inputs (native/jit.cc's FlintJitParams holds their strides). */
export const MAX_INPUTS = 8;
const MAX_RANK = 16;

const C_TYPES: Readonly<Record<DType, string>> = {
  float32: 'float',
  float64: 'double',
  // native/elementwise_math.cuh's element types, laid out as CUDA's __half and __nv_bfloat16:
  // each op computes in float and rounds to the half dtype, as the addon's own kernels do.
  float16: 'flint_math::Float16',
  bfloat16: 'flint_math::BFloat16',
  int32: 'int',
  uint8: 'unsigned char',
  bool: 'unsigned char',
};

const COMPARISONS = new Set<Primitive>([
  Primitive.Equal,
  Primitive.NotEqual,
  Primitive.Less,
  Primitive.LessEqual,
  Primitive.Greater,
  Primitive.GreaterEqual,
]);

function isUnary(p: Primitive): p is keyof typeof UNARY_CODES {
  return p >= Primitive.Neg && p <= Primitive.Not;
}

function isBinary(p: Primitive): p is keyof typeof BINARY_CODES {
  return p >= Primitive.Add && p <= Primitive.Or;
}

/** A C literal for `value` in `dtype` that rounds exactly as a typed-array store does. */
export function literal(value: number, dtype: DType): string {
  if (dtype === 'float32' || dtype === 'float64') {
    const type = C_TYPES[dtype];
    if (Number.isNaN(value)) return dtype === 'float32' ? '__int_as_float(0x7fc00000)' : '__longlong_as_double(0x7ff8000000000000LL)';
    if (value === Infinity) return dtype === 'float32' ? '__int_as_float(0x7f800000)' : '__longlong_as_double(0x7ff0000000000000LL)';
    if (value === -Infinity) return dtype === 'float32' ? '__int_as_float(0xff800000)' : '__longlong_as_double(0xfff0000000000000LL)';
    if (Object.is(value, -0)) return `(${type})(-0.0)`;
    // 17 significant digits name the double exactly; a float32 literal then rounds once from it.
    return `(${type})(${value.toPrecision(17)})`;
  }
  if (dtype === 'float16' || dtype === 'bfloat16') {
    // Rounded to float first, then to the half dtype, as core/half.ts encodes numbers.
    return `${C_TYPES[dtype]}(${literal(value, 'float32')})`;
  }
  if (dtype === 'bool') return value !== 0 ? '(unsigned char)1' : '(unsigned char)0';
  const converted = dtype === 'int32' ? new Int32Array([value])[0] : new Uint8Array([value])[0];
  return `(${C_TYPES[dtype]})(${converted})`;
}

/**
 * CUDA C for an 'elementwise' KernelProgram (jit's fusion of unary, binary, where, cast and
 * broadcast ops of one shape), or null for programs it does not take. Each thread computes one
 * element of every output: it reads its inputs through their strides (a broadcast input has zero
 * strides, so broadcast ops need no code), evaluates the ops in order with the scalar functions
 * of native/elementwise_math.cuh (`math`), and writes the outputs contiguously.
 */
export function generateElementwise(program: KernelProgram, math: string, name = 'flint_fused'): GeneratedKernel | null {
  if (program.kind !== 'elementwise' || program.ops.length === 0) return null;
  if (program.inputs.length > MAX_INPUTS || program.outputs.length === 0) return null;
  const shape = program.ops[0]?.aval.shape ?? [];
  if (shape.length > MAX_RANK) return null;
  if (program.ops.some((op) => op.aval.shape.length !== shape.length || op.aval.shape.some((d, i) => d !== shape[i]))) return null;
  if (program.inputs.some((input) => input.shape.length > shape.length)) return null;

  const names: string[] = [];
  const lines: string[] = [];
  const dtypeOf = (ref: KernelRef, fallback: DType): DType => {
    if (ref.kind === 'input') return program.inputs[ref.index]?.dtype ?? fallback;
    if (ref.kind === 'op') return program.ops[ref.index]?.aval.dtype ?? fallback;
    return fallback;
  };
  const operand = (ref: KernelRef, dtype: DType): string => {
    if (ref.kind === 'input') return `x${ref.index}`;
    if (ref.kind === 'op') return names[ref.index] as string;
    return literal(ref.value, dtype);
  };

  for (let i = 0; i < program.ops.length; i++) {
    const op = program.ops[i]!;
    const out = op.aval.dtype;
    const type = C_TYPES[out];
    const args = op.args;
    let expression: string;
    if (isUnary(op.primitive)) {
      const a = args[0]!;
      expression = `flint_math::unaryOf(${UNARY_CODES[op.primitive]}, (${C_TYPES[dtypeOf(a, out)]})${operand(a, out)})`;
    } else if (isBinary(op.primitive)) {
      const [a, b] = args as [KernelRef, KernelRef];
      // A literal operand takes the other operand's dtype (binary inputs share one).
      const inputType = a.kind !== 'literal' ? dtypeOf(a, out) : dtypeOf(b, out);
      const ca = `(${C_TYPES[inputType]})${operand(a, inputType)}`;
      const cb = `(${C_TYPES[inputType]})${operand(b, inputType)}`;
      const code = BINARY_CODES[op.primitive];
      const logicalOnBool = (op.primitive === Primitive.And || op.primitive === Primitive.Or) && inputType === 'bool';
      expression =
        COMPARISONS.has(op.primitive) || ((op.primitive === Primitive.And || op.primitive === Primitive.Or) && !logicalOnBool)
          ? `flint_math::compare<${C_TYPES[inputType]}>(${code}, ${ca}, ${cb})`
          : `flint_math::binaryOf(${code}, ${ca}, ${cb})`;
    } else if (op.primitive === Primitive.Where) {
      const [c, x, y] = args as [KernelRef, KernelRef, KernelRef];
      expression = `(${operand(c, 'bool')} != 0 ? (${type})${operand(x, out)} : (${type})${operand(y, out)})`;
    } else if (op.primitive === Primitive.Cast) {
      const a = args[0]!;
      const from = dtypeOf(a, out);
      expression = `flint_math::cast<${type}, ${C_TYPES[from]}>(${operand(a, from)}, ${out === 'bool' ? 'true' : 'false'})`;
    } else if (op.primitive === Primitive.Broadcast) {
      const a = args[0]!;
      // Only broadcasts of inputs are fused; their zero strides do the broadcasting.
      if (a.kind !== 'input') return null;
      expression = operand(a, out);
    } else {
      return null;
    }
    const variable = `t${i}`;
    names.push(variable);
    lines.push(`    const ${type} ${variable} = ${expression};`);
  }

  const outputDTypes = program.outputs.map((index) => program.ops[index]?.aval.dtype as DType);
  const inputDTypes = program.inputs.map((input) => input.dtype);
  const parameters = [
    'FlintJitParams p',
    ...outputDTypes.map((dtype, k) => `${C_TYPES[dtype]}* __restrict__ out${k}`),
    ...inputDTypes.map((dtype, k) => `const ${C_TYPES[dtype]}* __restrict__ in${k}`),
  ];
  const offsets = inputDTypes.map((_, k) => `o${k}`);
  const source = `// Generated by @flint/backend-cuda from this fusion:
${program.text
  .split('\n')
  .map((line) => `// ${line}`)
  .join('\n')}
${math}

struct FlintJitParams {
  long long total;
  int rank;
  int shape[16];
  long long strides[${MAX_INPUTS}][16];
  long long offsets[${MAX_INPUTS}];
};

extern "C" __global__ void ${name}(${parameters.join(', ')}) {
  const long long step = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.total; i += step) {
${offsets.map((o, k) => `    long long ${o} = p.offsets[${k}];`).join('\n')}
    unsigned int rest = (unsigned int)i;
    for (int d = p.rank - 1; d >= 0; d--) {
      const unsigned int dim = (unsigned int)p.shape[d];
      const unsigned int c = rest % dim;
      rest /= dim;
${offsets.map((o, k) => `      ${o} += (long long)c * p.strides[${k}][d];`).join('\n')}
    }
${inputDTypes.map((dtype, k) => `    const ${C_TYPES[dtype]} x${k} = in${k}[o${k}];`).join('\n')}
${lines.join('\n')}
${program.outputs.map((index, k) => `    out${k}[i] = ${names[index]};`).join('\n')}
  }
}
`;
  return { name, source, outputDTypes, inputDTypes, shape };
}
