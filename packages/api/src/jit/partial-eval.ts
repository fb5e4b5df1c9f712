import { wholeRegions } from '../ir/passes/composites.js';
import type { Equation, Program, Var } from '../ir/program.js';

// Splits the joint program of reverse mode (primals and output cotangents in; outputs and input
// cotangents out) into a forward program and a backward program, as JAX's partial evaluation
// does on a jaxpr: what depends only on the primals runs forward, what depends on a cotangent
// runs backward, and the forward values the backward part reads (the residuals) become extra
// outputs of the forward program. Values that depend on neither (zeros, literals' broadcasts)
// are recomputed where they are needed instead of being stored.

/** The two halves of a joint program. */
export interface ProgramSplit {
  /** Inputs: the primals. Outputs: the joint outputs, then the computed residuals. */
  readonly forward: Program;
  /** Inputs: residual primal inputs, computed residuals, the cotangents. Outputs: the input cotangents. */
  readonly backward: Program;
  /** Positions (among the primals) of the inputs the backward program reads directly. */
  readonly residualInputs: readonly number[];
}

const CONSTANT = 0;
const KNOWN = 1;
const UNKNOWN = 2;

function constantsUsedBy(joint: Program, equations: readonly Equation[], outputs: readonly Var[]): Map<Var, never> {
  const used = new Map();
  const visit = (v: Var): void => {
    const c = joint.constants.get(v);
    if (c !== undefined) used.set(v, c);
  };
  for (const e of equations) for (const v of e.inputs) visit(v);
  for (const v of outputs) visit(v);
  return used as Map<Var, never>;
}

/**
 * `joint` has `primalCount` primal inputs followed by cotangent inputs, and `outputCount`
 * outputs followed by the input cotangents.
 */
export function splitJoint(joint: Program, primalCount: number, outputCount: number): ProgramSplit {
  const kind = new Map<Var, number>();
  const definition = new Map<Var, Equation>();
  joint.inputs.forEach((v, i) => {
    kind.set(v, i < primalCount ? KNOWN : UNKNOWN);
  });
  for (const v of joint.constants.keys()) kind.set(v, CONSTANT);
  for (const e of joint.equations) {
    let k = CONSTANT;
    for (const v of e.inputs) k = Math.max(k, kind.get(v) ?? CONSTANT);
    const defined = e.kind === 'primitive' ? [e.output] : e.outputs;
    for (const v of defined) {
      kind.set(v, k);
      definition.set(v, e);
    }
  }
  // A composite region computed from a cotangent (a backward pass's softmaxBackward) runs whole on
  // the backward side, where its kernel then forms: parts of it that read only primals
  // (log-softmax's exp(y)) are not split off into the forward program as residuals.
  for (const { region } of wholeRegions(joint, () => true)) {
    if (region.outputs.every((v) => kind.get(v) === UNKNOWN)) for (const v of region.defines) kind.set(v, UNKNOWN);
  }
  const primalIndex = new Map<Var, number>();
  joint.inputs.forEach((v, i) => {
    if (i < primalCount) primalIndex.set(v, i);
  });

  // Backward: walk from the input cotangents; a forward-only value stops the walk as a residual.
  const backwardOutputs = joint.outputs.slice(outputCount);
  const backwardEquations = new Set<Equation>();
  const residualInputs = new Set<number>();
  const residualVars = new Set<Var>();
  const visitBackward = (v: Var): void => {
    const input = primalIndex.get(v);
    if (input !== undefined) {
      residualInputs.add(input);
      return;
    }
    const e = definition.get(v);
    if (e === undefined) return; // a cotangent input or a constant
    if (kind.get(v) === KNOWN) {
      residualVars.add(v);
      return;
    }
    if (backwardEquations.has(e)) return;
    backwardEquations.add(e);
    for (const u of e.inputs) visitBackward(u);
  };
  for (const v of backwardOutputs) visitBackward(v);

  // Forward: what computes the outputs and the residuals.
  const forwardOutputs = [...joint.outputs.slice(0, outputCount), ...residualVars];
  const forwardEquations = new Set<Equation>();
  const visitForward = (v: Var): void => {
    const e = definition.get(v);
    if (e === undefined || forwardEquations.has(e)) return;
    forwardEquations.add(e);
    for (const u of e.inputs) visitForward(u);
  };
  for (const v of forwardOutputs) visitForward(v);

  const inOrder = (set: Set<Equation>): Equation[] => joint.equations.filter((e) => set.has(e));
  const forwardList = inOrder(forwardEquations);
  const backwardList = inOrder(backwardEquations);
  const residualInputList = [...residualInputs].sort((a, b) => a - b);
  const forward: Program = {
    name: `${joint.name}.forward`,
    inputs: joint.inputs.slice(0, primalCount),
    constants: constantsUsedBy(joint, forwardList, forwardOutputs),
    equations: forwardList,
    outputs: forwardOutputs,
    ...(joint.stopGradients ? { stopGradients: joint.stopGradients } : {}),
    // Regions are facts about Vars: each half forms those it holds whole.
    ...(joint.composites ? { composites: joint.composites } : {}),
  };
  const backward: Program = {
    name: `${joint.name}.backward`,
    inputs: [...residualInputList.map((i) => joint.inputs[i] as Var), ...residualVars, ...joint.inputs.slice(primalCount)],
    constants: constantsUsedBy(joint, backwardList, backwardOutputs),
    equations: backwardList,
    outputs: backwardOutputs,
    ...(joint.stopGradients ? { stopGradients: joint.stopGradients } : {}),
    ...(joint.composites ? { composites: joint.composites } : {}),
  };
  return { forward, backward, residualInputs: residualInputList };
}
