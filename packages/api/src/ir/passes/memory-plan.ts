import { itemSize } from '../../core/dtype.js';
import { shapesEqual, sizeOf } from '../../core/shape.js';
import { definedBy, type MemoryPlan, type Program, type Var, withChanges } from '../program.js';

const bytesOf = (v: Var): number => sizeOf(v.aval.shape) * itemSize(v.aval.dtype);

/**
 * Memory planning by liveness. Each value's buffer is freed right after the last equation that
 * reads it (program outputs and constants never are), so a compiled function holds only what
 * is still needed. A fused kernel may write an output into the buffer of an input that dies at
 * that kernel and has the output's shape and dtype: an in-place update, which saves an
 * allocation and keeps the working set in cache. Program inputs are freed or written only when
 * the caller donated them (jit's donateArgnums); the runtime checks that, and the backend checks
 * that no other view shares the buffer, so the plan only marks where reuse is allowed.
 */
export function planMemory(program: Program): Program {
  const lastUse = new Map<Var, number>();
  program.equations.forEach((e, i) => {
    for (const v of e.inputs) lastUse.set(v, i);
  });
  const pinned = new Set<Var>(program.outputs);
  for (const v of program.constants.keys()) pinned.add(v);
  const freeAfter: Var[][] = program.equations.map(() => []);
  const reusable: (boolean[] | null)[] = program.equations.map(() => null);
  const unused: Var[] = [];
  for (const v of program.inputs) {
    const last = lastUse.get(v);
    if (pinned.has(v)) continue;
    if (last === undefined) unused.push(v);
    else (freeAfter[last] as Var[]).push(v);
  }
  const isInput = new Set(program.inputs);
  const donated = new Set(program.inputs.filter((_, i) => program.donatedInputs?.[i] === true));
  let live = 0;
  let peak = 0;
  let reused = 0;
  program.equations.forEach((e, i) => {
    const outputs = definedBy(e);
    for (const v of outputs) {
      live += bytesOf(v);
      if (pinned.has(v)) continue;
      // A value nothing reads (dead-code elimination leaves none, but a hand-built program may) dies at once.
      (freeAfter[lastUse.get(v) ?? i] as Var[]).push(v);
    }
    let shared = 0;
    if (e.kind === 'fusion' && e.fusion !== 'composite') {
      // (A composite's kernel writes fresh outputs.) Every input that dies here and has some output's shape and dtype is offered: which of
      // them the caller owns (donated inputs, intermediates) is known only at run time, and the
      // backend picks among the consumable ones. Offering only the first candidate would miss
      // the donated parameter of `p - g * lr` behind the gradient g the caller keeps.
      const flags = e.inputs.map(
        (v) =>
          !pinned.has(v) &&
          lastUse.get(v) === i &&
          e.inputs.indexOf(v) === e.inputs.lastIndexOf(v) &&
          outputs.some((o) => o.aval.dtype === v.aval.dtype && shapesEqual(o.aval.shape, v.aval.shape)),
      );
      if (flags.some((f) => f)) {
        reusable[i] = flags;
        // Only intermediates are sure to be reused, and program inputs when the caller donates
        // them; each output takes at most one input, those sure ones first.
        const sure = (j: number): boolean => {
          const v = e.inputs[j] as Var;
          return flags[j] === true && (!isInput.has(v) || donated.has(v));
        };
        const taken = new Set<Var>();
        e.inputs.forEach((v, j) => {
          if (!sure(j)) return;
          const match = outputs.find((o) => !taken.has(o) && o.aval.dtype === v.aval.dtype && shapesEqual(o.aval.shape, v.aval.shape));
          if (match === undefined) return;
          taken.add(match);
          shared += bytesOf(v);
        });
        reused += shared;
      }
    }
    // While the kernel runs, outputs written in place share their inputs' buffers.
    peak = Math.max(peak, live - shared);
    for (const v of freeAfter[i] as Var[]) if (!isInput.has(v)) live -= bytesOf(v);
  });
  const memory: MemoryPlan = { unused, freeAfter, reusable, peakBytes: peak, reusedBytes: reused };
  return { ...withChanges(program, {}), memory };
}
