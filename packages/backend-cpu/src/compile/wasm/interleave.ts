// Interleaving of independent straight-line wasm code. A SIMD kernel's body for one vector is a
// long chain of dependent instructions (tanh feeds exp feeds sqrt...), which the CPU can overlap
// with the next vector's only as far as its reorder window reaches, and V8 emits instructions in
// the order the module gives them. So the kernel computes several vectors per iteration with
// their statements interleaved, giving the CPU independent work at every point of the chain.

/** Operand-stack effect of one encoded instruction (only those the kernels emit). */
function stackEffect(instruction: readonly number[]): number {
  const [op, ...rest] = instruction;
  switch (op) {
    case 0x20: // local.get
    case 0x41: // i32.const
      return 1;
    case 0x21: // local.set
    case 0x6a: // i32.add
    case 0x49: // i32.lt_u
    case 0x4f: // i32.ge_u
      return -1;
    case 0x22: // local.tee
      return 0;
    case 0xfd:
      return simdEffect(rest);
    default:
      throw new Error(`interleave: no stack effect for opcode 0x${(op ?? 0).toString(16)}`);
  }
}

function simdEffect(bytes: readonly number[]): number {
  let opcode = 0;
  let shift = 0;
  for (const byte of bytes) {
    opcode |= (byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) === 0) break;
  }
  if (opcode === 0x0c) return 1; // v128.const
  if (opcode === 0x0b) return -2; // v128.store
  if (opcode === 0x52) return -2; // v128.bitselect
  // Loads, splats and unary ops replace their operand.
  if ([0x00, 0x09, 0x13, 0x4d, 0x67, 0x68, 0x6a, 0xe0, 0xe1, 0xe3, 0xf8, 0xfa].includes(opcode)) return 0;
  // Comparisons, bitwise, shifts and binary arithmetic take two operands for one.
  if (
    (opcode >= 0x41 && opcode <= 0x46) ||
    (opcode >= 0x4e && opcode <= 0x51) ||
    (opcode >= 0xab && opcode <= 0xb1) ||
    (opcode >= 0xe4 && opcode <= 0xeb)
  )
    return -1;
  throw new Error(`interleave: no stack effect for SIMD opcode 0x${opcode.toString(16)}`);
}

/** `code` cut where its operand stack is empty: each piece is a statement. */
export function statements(code: readonly number[][]): number[][][] {
  const pieces: number[][][] = [];
  let current: number[][] = [];
  let depth = 0;
  for (const instruction of code) {
    current.push(instruction);
    depth += stackEffect(instruction);
    if (depth === 0) {
      pieces.push(current);
      current = [];
    }
  }
  if (current.length > 0 || depth !== 0) throw new Error('interleave: code leaves values on the stack');
  return pieces;
}

/** The statements of independent `codes`, taken in turn from each (each keeps its own order). */
export function interleave(codes: readonly (readonly number[][])[]): number[][] {
  const split = codes.map(statements);
  const out: number[][] = [];
  const longest = Math.max(0, ...split.map((s) => s.length));
  for (let i = 0; i < longest; i++) for (const s of split) if (i < s.length) out.push(...(s[i] as number[][]));
  return out;
}
