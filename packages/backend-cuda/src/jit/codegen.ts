import { type DType, isHalf, type KernelOp, type KernelProgram, type KernelRef, Primitive } from '@flint/api';
import { BINARY_CODES, UNARY_CODES } from '../native/codes.js';

/** A fused kernel as CUDA C, with the dtypes of its outputs and inputs in launch order. */
export interface GeneratedKernel {
  readonly name: string;
  readonly source: string;
  readonly outputDTypes: readonly DType[];
  readonly inputDTypes: readonly DType[];
  /** The index space the kernel is launched over: the ops' shape, its axes in `order`. */
  readonly shape: readonly number[];
  /** The ops' axes in launch order (the identity, but for a reduction: kept axes, then reduced ones). */
  readonly order: readonly number[];
  /** Elements each output folds (a reduction's row), or 0 for an elementwise kernel (an output element per index). */
  readonly reduced: number;
  /** Threads per output: 1, or 32 for a reduction whose rows are longer than a warp (a warp per output). */
  readonly lanes: number;
  /**
   * Per output: whether it has an element per index of the launch shape (every output of an
   * elementwise kernel; a reduction's prologue values, written row-major in the ops' shape)
   * rather than one per reduced row.
   */
  readonly full: readonly boolean[];
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
  return p in UNARY_CODES;
}

function isBinary(p: Primitive): p is keyof typeof BINARY_CODES {
  return p in BINARY_CODES;
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

/** The ops' CUDA C lines (`const T tI = ...;`) for ops [0, count) of `program`, or null for an op it does not generate. */
function opLines(program: KernelProgram, count: number): { names: string[]; lines: string[] } | null {
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

  for (let i = 0; i < count; i++) {
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
  return { names, lines };
}

/** Whether ops [0, count) all have `shape`, and every input fits inside it (aligned right). */
function sameShape(program: KernelProgram, count: number, shape: readonly number[]): boolean {
  if (shape.length > MAX_RANK) return false;
  for (let i = 0; i < count; i++) {
    const s = (program.ops[i] as KernelOp).aval.shape;
    if (s.length !== shape.length || s.some((d, k) => d !== shape[k])) return false;
  }
  return program.inputs.every((input) => input.shape.length <= shape.length);
}

/**
 * A kernel's source: the fusion as a comment, the scalar semantics, the parameter block (declared
 * as native/jit.cc declares it) and `body`, the kernel's code, which finds its inputs' element
 * offsets for linear index `i` with `OFFSETS(i)` and loads them into x0, x1, ... with `LOADS`.
 */
function kernelSource(
  program: KernelProgram,
  math: string,
  name: string,
  outputDTypes: readonly DType[],
  body: string,
  mayAlias: boolean,
): string {
  const inputDTypes = program.inputs.map((input) => input.dtype);
  // An elementwise kernel may write an output into an input's buffer (a donated argument, see
  // compile.ts): its pointers then alias, and without __restrict__ the compiler keeps every load
  // of an element before the stores the source puts after it.
  const restrict = mayAlias ? '' : ' __restrict__';
  const parameters = [
    'FlintJitParams p',
    ...outputDTypes.map((dtype, k) => `${C_TYPES[dtype]}*${restrict} out${k}`),
    ...inputDTypes.map((dtype, k) => `const ${C_TYPES[dtype]}*${restrict} in${k}`),
  ];
  const offsets = inputDTypes.map((_, k) => `o${k}`);
  // The addon coalesces the launch's dims (native/jit.cc), so most launches have rank 1 and take
  // the branch without divisions (uniform across the grid, so it costs no divergence).
  const offsetCode = `${offsets.map((o, k) => `    long long ${o} = p.offsets[${k}];`).join('\n')}
    if (p.rank == 1) {
${offsets.map((o, k) => `      ${o} += i * p.strides[${k}][0];`).join('\n')}
    } else {
      unsigned int rest = (unsigned int)i;
      for (int d = p.rank - 1; d >= 0; d--) {
        const unsigned int dim = (unsigned int)p.shape[d];
        const unsigned int c = rest % dim;
        rest /= dim;
${offsets.map((o, k) => `        ${o} += (long long)c * p.strides[${k}][d];`).join('\n')}
      }
    }
${inputDTypes.map((dtype, k) => `    const ${C_TYPES[dtype]} x${k} = in${k}[o${k}];`).join('\n')}`;
  return `// Generated by @flint/backend-cuda from this fusion:
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
${body.replace('    LOADS', offsetCode)}
}
`;
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
  if (!sameShape(program, program.ops.length, shape)) return null;
  const code = opLines(program, program.ops.length);
  if (code === null) return null;
  const outputDTypes = program.outputs.map((index) => program.ops[index]?.aval.dtype as DType);
  const body = `  const long long step = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < p.total; i += step) {
    LOADS
${code.lines.join('\n')}
${program.outputs.map((index, k) => `    out${k}[i] = ${code.names[index]};`).join('\n')}
  }`;
  return {
    name,
    source: kernelSource(program, math, name, outputDTypes, body, true),
    outputDTypes,
    inputDTypes: program.inputs.map((input) => input.dtype),
    shape,
    order: shape.map((_, i) => i),
    reduced: 0,
    lanes: 1,
    full: outputDTypes.map(() => true),
  };
}

/** How each reduction folds, in the accumulator's C type: the identity and the combination of `a` and `b`. */
function fold(primitive: Primitive, dtype: DType): { identity: string; combine: (a: string, b: string) => string } | null {
  const integer = dtype === 'int32';
  // Infinities as bit patterns: NVRTC has no math.h to define INFINITY.
  const wide = dtype === 'float64' ? 'float64' : 'float32';
  const max = integer ? '(int)(-2147483647 - 1)' : literal(Number.NEGATIVE_INFINITY, wide);
  const min = integer ? '(int)2147483647' : literal(Number.POSITIVE_INFINITY, wide);
  switch (primitive) {
    case Primitive.ReduceSum:
      return {
        identity: '0',
        // Integer sums wrap, as the own reduction's (two's complement through unsigned arithmetic).
        combine: integer ? (a, b) => `(int)((unsigned int)${a} + (unsigned int)${b})` : (a, b) => `${a} + ${b}`,
      };
    case Primitive.ReduceProd:
      return { identity: '1', combine: integer ? (a, b) => `(int)((unsigned int)${a} * (unsigned int)${b})` : (a, b) => `${a} * ${b}` };
    case Primitive.ReduceMax:
      return { identity: max, combine: (a, b) => `flint_math::maxPropagating(${a}, ${b})` };
    case Primitive.ReduceMin:
      return { identity: min, combine: (a, b) => `flint_math::minPropagating(${a}, ${b})` };
    default:
      return null;
  }
}

/** The accumulator's C type of a reduction in `dtype`: float for the half dtypes, as the own reduction. */
const ACCUMULATORS: Partial<Record<DType, string>> = {
  float32: 'float',
  float64: 'double',
  float16: 'float',
  bfloat16: 'float',
  int32: 'int',
};

/**
 * Rows of at least this many elements, when there are fewer than FEW_ROWS of them, go to the own
 * reduction, whose chunked pass spreads them over the device (native/reduce.cu's useChunks).
 */
const LONG_ROW = 4 * 16384;
const FEW_ROWS = 512;
/** Rows up to a warp long take a thread each (as the own reduction's), longer ones a warp each. */
const WARP = 32;

/**
 * CUDA C for a 'reduction' KernelProgram (elementwise ops over the reduction's input shape, then
 * one reduceSum/Max/Min/Prod), or null for programs it does not take (reductions into uint8 or
 * bool (a uint8 sum is int32 and fuses), empty rows, and a few very long rows, which the own
 * chunked reduction spreads over more of the device). A thread takes each output whose row is
 * at most a warp long, a warp each longer one (as the own reduction): it evaluates the ops at the
 * row's elements (the launch shape has the kept axes first and the reduced ones last, `order`, so
 * that an output's elements are one run of `reduced` linear indices) and folds them; a warp's
 * lanes then combine their results down a shuffle tree. Prologue values used outside the kernel
 * (`y = x * s` returned beside `sum(y)`) are further outputs, written as they are computed, each
 * element once, at its row-major index in the ops' shape.
 */
export function generateReduction(program: KernelProgram, math: string, name = 'flint_fused_reduction'): GeneratedKernel | null {
  if (program.kind !== 'reduction' || program.inputs.length > MAX_INPUTS) return null;
  const last = program.ops.length - 1;
  const reduction = program.ops[last];
  if (reduction === undefined || !program.outputs.includes(last)) return null;
  const combination = fold(reduction.primitive, reduction.aval.dtype);
  const accumulator = ACCUMULATORS[reduction.aval.dtype];
  if (combination === null || accumulator === undefined) return null;
  const argument = reduction.args[0];
  if (argument === undefined || argument.kind === 'literal') return null;
  const shape = argument.kind === 'input' ? program.inputs[argument.index]?.shape : program.ops[argument.index]?.aval.shape;
  if (shape === undefined || !sameShape(program, last, shape)) return null;
  const axes = (reduction.params as { readonly axes: readonly number[] }).axes;
  const reduced = axes.reduce((p, a) => p * (shape[a] as number), 1);
  const rows = shape.reduce((p, d) => p * d, 1) / Math.max(reduced, 1);
  if (reduced === 0 || (rows < FEW_ROWS && reduced >= LONG_ROW)) return null;
  const code = opLines(program, last);
  if (code === null) return null;
  const value = argument.kind === 'input' ? `x${argument.index}` : (code.names[argument.index] as string);
  const outputDType = reduction.aval.dtype;
  const store = isHalf(outputDType) ? `${C_TYPES[outputDType]}(acc)` : 'acc';
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const order = [...kept, ...axes];
  // The reduced output's slot, and each prologue output's; a prologue value is written at its
  // element's row-major index: the row's offset over the kept axes plus the row element's.
  const slot = program.outputs.indexOf(last);
  const prologue = program.outputs.map((index, k) => ({ index, k })).filter(({ index }) => index !== last);
  const rowMajor = shape.map((_, d) => shape.slice(d + 1).reduce((p, n) => p * n, 1));
  const offsetOf = (linear: string, target: string, dims: readonly number[], indent: string) =>
    `${indent}{\n${indent}  long long rest = ${linear};\n${[...dims]
      .reverse()
      .map((d) => `${indent}  ${target} += (rest % ${shape[d]}LL) * ${rowMajor[d]}LL;\n${indent}  rest /= ${shape[d]}LL;`)
      .join('\n')}\n${indent}}`;
  const rowStart = (indent: string) =>
    prologue.length === 0 ? '' : `\n${indent}long long rowOffset = 0;\n${offsetOf('row', 'rowOffset', kept, indent)}`;
  const writePrologue = (indent: string) =>
    prologue.length === 0
      ? ''
      : `\n${indent}long long element = rowOffset;\n${offsetOf('j', 'element', axes, indent)}\n${prologue
          .map(({ index, k }) => `${indent}out${k}[element] = ${code.names[index]};`)
          .join('\n')}`;
  const foldElement = (indent: string) => `${indent}const long long i = row * inner + j;
    LOADS
${code.lines.map((line) => `${indent.slice(4)}${line}`).join('\n')}
${indent}acc = ${combination.combine('acc', `(${accumulator})${value}`)};${writePrologue(indent)}`;
  const lanes = reduced > WARP ? WARP : 1;
  const body =
    lanes === 1
      ? `  const long long inner = ${reduced}LL;
  const long long outer = p.total / inner;
  const long long step = (long long)gridDim.x * blockDim.x;
  for (long long row = (long long)blockIdx.x * blockDim.x + threadIdx.x; row < outer; row += step) {
    ${accumulator} acc = ${combination.identity};${rowStart('    ')}
    for (long long j = 0; j < inner; j++) {
${foldElement('      ')}
    }
    out${slot}[row] = ${store};
  }`
      : `  const long long inner = ${reduced}LL;
  const long long outer = p.total / inner;
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; row < outer; row += warps) {
    ${accumulator} acc = ${combination.identity};${rowStart('    ')}
    for (long long j = lane; j < inner; j += 32) {
${foldElement('      ')}
    }
    for (int delta = 16; delta > 0; delta >>= 1) {
      const ${accumulator} other = __shfl_down_sync(0xffffffffu, acc, delta);
      acc = ${combination.combine('acc', 'other')};
    }
    if (lane == 0) out${slot}[row] = ${store};
  }`;
  const outputDTypes = program.outputs.map((index) => program.ops[index]?.aval.dtype as DType);
  return {
    name,
    source: kernelSource(program, math, name, outputDTypes, body, false),
    outputDTypes,
    inputDTypes: program.inputs.map((input) => input.dtype),
    shape: order.map((a) => shape[a] as number),
    order,
    reduced,
    lanes,
    full: program.outputs.map((index) => index !== last),
  };
}
