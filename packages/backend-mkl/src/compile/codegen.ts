// C source for a fused elementwise program (the register program compile/elementwise.ts builds for
// native/fused.cc), so that the system's C compiler can turn it into straight-line vector code:
// every value stays in a register from its load to its store. Each op is the C expression of the
// same op in fused.cc, on floats, rounded to float32 after each op (no contraction into fused
// multiply-adds: the compiler runs with -ffp-contract=off), so the generated kernel computes
// exactly what the register program and the eager kernels compute.

/** How a generated kernel reads one input (native/generated.cc has the same codes). */
export const OperandKind = { fullFloat: 0, scalarFloat: 1, fullBool: 2, scalarBool: 3 } as const;
export type OperandKind = (typeof OperandKind)[keyof typeof OperandKind];

const BOOL_CODE = 4; // the dtype code of bool in the program (src/native/codes.ts)

const UNARY: Record<number, (a: string) => string> = {
  0: (a) => `-${a}`,
  1: (a) => `fabsf(${a})`,
  2: (a) => `(${a} > 0.0f ? 1.0f : ${a} < 0.0f ? -1.0f : ${a})`,
  3: (a) => `expf(${a})`,
  4: (a) => `logf(${a})`,
  5: (a) => `log1pf(${a})`,
  6: (a) => `expm1f(${a})`,
  7: (a) => `sqrtf(${a})`,
  8: (a) => `1.0f / sqrtf(${a})`,
  9: (a) => `sinf(${a})`,
  10: (a) => `cosf(${a})`,
  11: (a) => `tanf(${a})`,
  12: (a) => `tanhf(${a})`,
  13: (a) => `flint_logistic(${a})`,
  14: (a) => `erff(${a})`,
  15: (a) => `floorf(${a})`,
  16: (a) => `ceilf(${a})`,
  17: (a) => `nearbyintf(${a})`,
  18: (a) => `1.0f / ${a}`,
  19: (a) => `(${a} == 0.0f ? 1.0f : 0.0f)`,
  20: (a) => `(${a} != 0.0f || ${a} != ${a} ? 1.0f : 0.0f)`,
  21: (a) => a,
  22: (a) => `(${a} < 0.0f ? 0.0f : ${a})`,
  23: (a) => `asinf(${a})`,
  24: (a) => `acosf(${a})`,
  25: (a) => `atanf(${a})`,
};

/**
 * The unary codes (exp, log, log1p, expm1, sin, cos, tan, tanh, erf, asin, acos, atan) that an
 * addon built with glibc's vector math library computes through it (NativeInfo.vectorMath): a C
 * loop of scalar calls would round them differently, so the generator leaves programs holding them
 * to the register program.
 */
export const VECTOR_MATH_CODES: ReadonlySet<number> = new Set([3, 4, 5, 6, 9, 10, 11, 12, 14, 23, 24, 25]);

const compare = (operator: string) => (a: string, b: string) => `(${a} ${operator} ${b} ? 1.0f : 0.0f)`;
const BINARY: Record<number, (a: string, b: string) => string> = {
  32: (a, b) => `${a} + ${b}`,
  33: (a, b) => `${a} - ${b}`,
  34: (a, b) => `${a} * ${b}`,
  35: (a, b) => `${a} / ${b}`,
  36: (a, b) => `powf(${a}, ${b})`,
  // NaN in the first operand wins; a NaN second operand wins through the failed comparison; of
  // two zeros, max takes -0 only when both are (a + b), min +0 only when both are (-(-a - b)).
  37: (a, b) => `(${a} != ${a} ? ${a} : (${a} > ${b} ? ${a} : (${a} == ${b} && ${a} == 0.0f ? ${a} + ${b} : ${b})))`,
  38: (a, b) => `(${a} != ${a} ? ${a} : (${a} < ${b} ? ${a} : (${a} == ${b} && ${a} == 0.0f ? -(-${a} - ${b}) : ${b})))`,
  39: compare('=='),
  40: compare('!='),
  41: compare('<'),
  42: compare('<='),
  43: compare('>'),
  44: compare('>='),
  45: (a, b) => `(${a} != 0.0f && ${b} != 0.0f ? 1.0f : 0.0f)`,
  46: (a, b) => `(${a} != 0.0f || ${b} != 0.0f ? 1.0f : 0.0f)`,
  47: (a, b) => `(${a} <= 0.0f ? 0.0f : ${b})`,
  49: (a, b) => `atan2f(${a}, ${b})`,
};
const WHERE = 48;

/** A float32 literal in C, exactly: every float32 is a double that 17 significant digits round-trip. */
function floatLiteral(value: number): string {
  const rounded = Math.fround(value);
  if (Number.isNaN(rounded)) return 'NAN';
  if (rounded === Number.POSITIVE_INFINITY) return 'INFINITY';
  if (rounded === Number.NEGATIVE_INFINITY) return '-INFINITY';
  if (Object.is(rounded, -0)) return '-0.0f';
  return `(float)${rounded.toPrecision(17)}`;
}

/**
 * The C source of `program` (fused.cc's layout: [inputCount, outputCount, registerCount,
 * instructionCount, rank, ...shape, ...inputDtypes, ...(outputRegister, outputDtype),
 * ...(op, dst, a, b, c)]) with its literals, reading input i as `kinds[i]`. Null when the
 * program holds an op this generator does not know, or with `vectorMath` one the addon computes
 * through glibc's vector math library.
 */
export function kernelSource(
  program: Int32Array,
  literals: Float64Array,
  kinds: readonly OperandKind[],
  vectorMath = false,
): string | null {
  const [inputCount, outputCount, , instructionCount, rank] = program as unknown as number[] as [number, number, number, number, number];
  let at = 5 + rank + inputCount;
  const outputs: { register: number; bool: boolean }[] = [];
  for (let o = 0; o < outputCount; o++, at += 2) outputs.push({ register: program[at]!, bool: program[at + 1] === BOOL_CODE });
  // A register may be written twice (an output's COPY): each write gets its own C name.
  const names = new Map<number, string>();
  const reg = (r: number) => names.get(r) ?? `r${r}`;
  const body: string[] = [];
  for (let i = 0; i < inputCount; i++) {
    const kind = kinds[i]!;
    const read = kind === OperandKind.fullFloat ? `x${i}[i]` : kind === OperandKind.fullBool ? `(float)x${i}[i]` : `s${i}`;
    body.push(`const float ${reg(i)} = ${read};`);
  }
  for (let l = 0; l < literals.length; l++) body.push(`const float ${reg(inputCount + l)} = ${floatLiteral(literals[l]!)};`);
  for (let k = 0; k < instructionCount; k++, at += 5) {
    const [code, dst, a, b, c] = [program[at]!, program[at + 1]!, program[at + 2]!, program[at + 3]!, program[at + 4]!];
    let expression: string;
    if (vectorMath && VECTOR_MATH_CODES.has(code)) return null;
    if (code === WHERE) expression = `(${reg(a)} != 0.0f ? ${reg(b)} : ${reg(c)})`;
    else if (UNARY[code]) expression = UNARY[code](reg(a));
    else if (BINARY[code]) expression = BINARY[code](reg(a), reg(b));
    else return null;
    names.set(dst, `r${dst}_${k}`);
    body.push(`const float ${reg(dst)} = ${expression};`);
  }
  for (const [i, o] of outputs.entries())
    body.push(o.bool ? `y${i}[i] = ${reg(o.register)} != 0.0f ? 1 : 0;` : `y${i}[i] = ${reg(o.register)};`);
  const declarations = [
    ...kinds.map((kind, i) => {
      if (kind === OperandKind.fullFloat) return `const float* x${i} = (const float*)in[${i}];`;
      if (kind === OperandKind.fullBool) return `const uint8_t* x${i} = (const uint8_t*)in[${i}];`;
      if (kind === OperandKind.scalarFloat) return `const float s${i} = *(const float*)in[${i}];`;
      return `const float s${i} = (float)*(const uint8_t*)in[${i}];`;
    }),
    ...outputs.map((o, i) => (o.bool ? `uint8_t* y${i} = (uint8_t*)out[${i}];` : `float* y${i} = (float*)out[${i}];`)),
  ];
  const signature = [inputCount, outputCount, ...kinds, ...outputs.map((o) => (o.bool ? OperandKind.fullBool : OperandKind.fullFloat))];
  return [
    '#include <math.h>',
    '#include <stdint.h>',
    // Mirrors native/float_ops.h's logistic (exp(-|x|) never overflows); codegen.test.ts checks
    // that the generated kernels compute what the register program does.
    'static inline float flint_logistic(float x) { const float e = expf(-fabsf(x)); return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e); }',
    `const int32_t flint_kernel_signature[] = {${signature.join(', ')}};`,
    'void flint_kernel(int64_t begin, int64_t end, const void* const* in, void* const* out) {',
    ...declarations.map((d) => `  ${d}`),
    // Outputs may share an input's buffer, element for element (each element is loaded before it
    // is stored): no dependence crosses iterations, which ivdep tells the vectorizer.
    '#pragma GCC ivdep',
    '  for (int64_t i = begin; i < end; i++) {',
    ...body.map((line) => `    ${line}`),
    '  }',
    '}',
    '',
  ].join('\n');
}
