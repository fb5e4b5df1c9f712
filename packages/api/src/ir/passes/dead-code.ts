import { type Constant, type Equation, type PrimitiveEquation, type Program, type Var, withChanges } from '../program.js';

/**
 * Dead-code elimination: equations none of whose outputs reach the program's outputs are
 * removed, then the constants nothing reads. Inside a fusion, outputs nothing reads are dropped
 * and so are the body equations that only fed them (a composite's kernel computes all its outputs: it stays whole). Every primitive is pure (random bits are a
 * function of their key), so removing an unused one never changes a result.
 */
export function eliminateDeadCode(program: Program): Program {
  const live = new Set<Var>(program.outputs);
  const kept: Equation[] = [];
  for (let i = program.equations.length - 1; i >= 0; i--) {
    const e = program.equations[i] as Equation;
    if (e.kind === 'primitive') {
      if (!live.has(e.output)) continue;
      for (const v of e.inputs) live.add(v);
      kept.push(e);
      continue;
    }
    const outputs = e.outputs.filter((v) => live.has(v));
    if (outputs.length === 0) continue;
    if (e.fusion === 'composite') {
      // Its kernel computes every output: the equation stays whole (the memory plan frees unread outputs at once).
      for (const v of e.inputs) live.add(v);
      kept.push(e);
      continue;
    }
    const bodyLive = new Set<Var>(outputs);
    const body: PrimitiveEquation[] = [];
    for (let j = e.body.length - 1; j >= 0; j--) {
      const inner = e.body[j] as PrimitiveEquation;
      if (!bodyLive.has(inner.output)) continue;
      for (const v of inner.inputs) bodyLive.add(v);
      body.push(inner);
    }
    body.reverse();
    const inputs = e.inputs.filter((v) => bodyLive.has(v));
    for (const v of inputs) live.add(v);
    const unchanged = outputs.length === e.outputs.length && body.length === e.body.length;
    kept.push(unchanged ? e : { ...e, inputs, body, outputs });
  }
  kept.reverse();
  const constants = new Map<Var, Constant>();
  for (const [v, c] of program.constants) if (live.has(v)) constants.set(v, c);
  return withChanges(program, { equations: kept, constants });
}
