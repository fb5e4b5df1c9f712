import type { DType, TypedArray } from '@flint/api';
import { erf, floatMod, floatPow, int32Pow, roundHalfEven, uint8Pow } from '../math.js';
import type { RowPlan } from './rows.js';

// Elementwise kernels run loops generated per (expression, operand dtypes, stride kinds) and
// cached. A generated loop sees one typed-array class per operand, so V8 compiles its loads and
// stores monomorphically; a stride-0 operand is read once before the loop and a stride-1 operand
// is indexed by the loop counter. A shared hand-written loop over the TypedArray union instead
// goes polymorphic in every training step (float32 data, uint8 masks, int32 indices) and runs
// several times slower.

/**
 * One row: out[o + i] = f(a[ap + i * as], b[bp + i * bs], c[cp + i * cs]) for i < n. Unary and
 * binary loops ignore the operands they do not have.
 */
export type RowLoop = (
  out: TypedArray,
  o: number,
  n: number,
  a: TypedArray,
  ap: number,
  as: number,
  b: TypedArray | undefined,
  bp: number,
  bs: number,
  c: TypedArray | undefined,
  cp: number,
  cs: number,
) => void;

const HELPERS = { erf, floatMod, floatPow, int32Pow, roundHalfEven, uint8Pow };
const cache = new Map<string, RowLoop>();

/** 0 for a stride of 0, 1 for 1, 2 for anything else: loops are specialized on these. */
function strideKind(stride: number): number {
  return stride === 0 ? 0 : stride === 1 ? 1 : 2;
}

/**
 * The row loop computing `expression` (over operands x0, x1, x2) into an `outDtype` array, for
 * these operand dtypes and strides. `expression` must be a pure function of its operands; it is part of the cache key.
 */
export function rowLoop(expression: string, outDtype: DType, dtypes: readonly DType[], strides: readonly number[]): RowLoop {
  let key = `${expression}|${outDtype}`;
  for (let k = 0; k < dtypes.length; k++) key += `|${dtypes[k]}${strideKind(strides[k]!)}`;
  let loop = cache.get(key);
  if (loop === undefined) {
    loop = generate(expression, strides.map(strideKind));
    cache.set(key, loop);
  }
  return loop;
}

function generate(expression: string, kinds: readonly number[]): RowLoop {
  const names = ['a', 'b', 'c'];
  const hoisted: string[] = [];
  let body = expression;
  for (let k = 0; k < kinds.length; k++) {
    const array = names[k]!;
    let read: string;
    if (kinds[k] === 0) {
      hoisted.push(`const v${k} = ${array}[${array}p];`);
      read = `v${k}`;
    } else if (kinds[k] === 1) read = `${array}[${array}p + i]`;
    else read = `${array}[${array}p + i * ${array}s]`;
    body = body.replaceAll(`x${k}`, `(${read})`);
  }
  const source = `${hoisted.join('\n')}\nfor (let i = 0; i < n; i++) out[o + i] = ${body};`;
  const factory = new Function(
    ...Object.keys(HELPERS),
    `return function rowLoop(out, o, n, a, ap, as, b, bp, bs, c, cp, cs) {\n${source}\n};`,
  ) as (...helpers: unknown[]) => RowLoop;
  return factory(...Object.values(HELPERS));
}

/**
 * Runs `loop` over every row of `plan` (from `planRows` over [out, ...operands]), the output
 * row-major from 0 and each operand from its offset.
 */
export function runRows(loop: RowLoop, plan: RowPlan, out: TypedArray, operands: readonly TypedArray[], offsets: readonly number[]): void {
  const rows = plan.rows;
  if (rows === 0) return;
  const n = plan.inner;
  const [, as = 0, bs = 0, cs = 0] = plan.innerStrides;
  const a = operands[0]!;
  const b = operands[1];
  const c = operands[2];
  let o = 0;
  let ap = offsets[0] ?? 0;
  let bp = offsets[1] ?? 0;
  let cp = offsets[2] ?? 0;
  const rank = plan.outerShape.length;
  if (rank === 0) {
    loop(out, o, n, a, ap, as, b, bp, bs, c, cp, cs);
    return;
  }
  const shape = plan.outerShape;
  const [oStrides, aStrides, bStrides = aStrides, cStrides = aStrides] = plan.outerStrides as (readonly number[])[];
  const counter = new Array<number>(rank).fill(0);
  for (let r = 0; r < rows; r++) {
    loop(out, o, n, a, ap, as, b, bp, bs, c, cp, cs);
    for (let axis = rank - 1; axis >= 0; axis--) {
      if (++counter[axis]! < shape[axis]!) {
        o += oStrides![axis]!;
        ap += aStrides![axis]!;
        bp += bStrides![axis]!;
        cp += cStrides![axis]!;
        break;
      }
      counter[axis] = 0;
      const back = shape[axis]! - 1;
      o -= oStrides![axis]! * back;
      ap -= aStrides![axis]! * back;
      bp -= bStrides![axis]! * back;
      cp -= cStrides![axis]! * back;
    }
  }
}
