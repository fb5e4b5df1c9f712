import { simplifyAlgebra } from './passes/algebraic.js';
import { formComposites } from './passes/composites.js';
import { foldConstants } from './passes/constant-folding.js';
import type { PassContext } from './passes/context.js';
import { eliminateCommonSubexpressions } from './passes/cse.js';
import { eliminateDeadCode } from './passes/dead-code.js';
import { fuse } from './passes/fusion.js';
import { planMemory } from './passes/memory-plan.js';
import { sinkScalars } from './passes/scalar-sinking.js';
import { printProgram } from './print.js';
import type { Program } from './program.js';
import { verifyProgram } from './verify.js';

/** One optimization pass: a pure function from program to program. */
export interface Pass {
  readonly name: string;
  run(program: Program, context: PassContext): Program;
}

/**
 * The passes jit runs, in order. Composites form first, on the Vars as traced. Cleanup runs first so that later passes see less; constant
 * folding precedes algebraic simplification (which looks for literals such as the 1 of x * 1);
 * simplification can expose duplicates and dead values, so CSE and DCE run again; fusion sees the
 * final arithmetic, scalar sinking (on backends that ask for it) moves rank-0 arithmetic into the
 * kernels that read it, and memory planning sees the final kernels.
 */
export const DEFAULT_PASSES: readonly Pass[] = [
  { name: 'composite formation', run: formComposites },
  { name: 'dead-code elimination', run: eliminateDeadCode },
  { name: 'common-subexpression elimination', run: eliminateCommonSubexpressions },
  { name: 'constant folding', run: foldConstants },
  { name: 'algebraic simplification', run: simplifyAlgebra },
  { name: 'common-subexpression elimination', run: eliminateCommonSubexpressions },
  { name: 'dead-code elimination', run: eliminateDeadCode },
  { name: 'fusion', run: fuse },
  { name: 'scalar sinking', run: sinkScalars },
  { name: 'memory planning', run: planMemory },
];

/** What one pass did, for `lower(...).passes` and the IR dumps. */
export interface PassRecord {
  readonly name: string;
  readonly before: Program;
  readonly after: Program;
}

function environment(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[name];
}

const enabled = (value: string | undefined): boolean => value !== undefined && value !== '' && value !== '0' && value !== 'false';

/**
 * Runs `passes` over `program`. With the environment variable FLINT_DUMP_IR set (to 1), the IR
 * before and after each pass is written to the console (stderr in Node); with FLINT_VERIFY_IR set,
 * each pass's result is checked for well-formedness (a pass bug then fails at the pass that made it).
 */
export function runPasses(
  program: Program,
  context: PassContext = {},
  passes: readonly Pass[] = DEFAULT_PASSES,
): { program: Program; records: PassRecord[] } {
  const dump = enabled(environment('FLINT_DUMP_IR'));
  const verify = enabled(environment('FLINT_VERIFY_IR'));
  const records: PassRecord[] = [];
  let current = program;
  if (verify) verifyProgram(current);
  for (const pass of passes) {
    const before = current;
    current = pass.run(current, context);
    if (verify) verifyProgram(current, pass.name);
    records.push({ name: pass.name, before, after: current });
    if (dump) {
      const changed = current !== before;
      console.error(
        changed
          ? `flint: IR before ${pass.name}:\n${printProgram(before)}\nflint: IR after ${pass.name}:\n${printProgram(current)}\n`
          : `flint: ${pass.name} left ${program.name} unchanged\n`,
      );
    }
  }
  return { program: current, records };
}
