import { ValueError } from '../core/errors.js';
import { treeFlatten } from '../core/pytree.js';
import type { Tensor } from '../tensor/tensor.js';
import { type JitOptions, type JittedFunction, makeJitted } from './jit.js';
import { type BufferArguments, type BufferResults, type BufferTree, ModuleBuffers } from './module-buffers.js';
import { JitTracer } from './trace.js';
import { hasStagedTape, type StatefulOptimizer, TrainingCells, type TrainingState } from './training-state.js';

/** What `compile` needs of a module: `nn.Module` has all of it. */
export interface CompilableModule<In extends unknown[], Out> {
  forward(...inputs: In): Out;
  /** Its parameters: cells whose `value` an optimizer replaces between calls. */
  parameters(): readonly { readonly value: Tensor }[];
}

type StateModule = Pick<CompilableModule<never[], unknown>, 'parameters'> & BufferTree;

/** Options of `compile`: jit's, plus the modules a step function reads. */
export interface CompileOptions extends JitOptions {
  /**
   * Modules whose parameters and buffers the function reads. Their current values are passed to
   * the compiled program on every call, instead of being captured as constants when it is traced,
   * so that a compiled step sees the parameters an optimizer has replaced since.
   */
  readonly modules?: readonly StateModule[];
  /**
   * Optimizers the step calls `step()` on. Their per-parameter state (moments, momentum, step
   * counts) becomes an input and an output of the compiled program, like the parameters'
   * values and gradients.
   */
  readonly optimizers?: readonly StatefulOptimizer[];
}

/** Thrown while tracing a step whose result the caller's tape must record (a forward pass under the tape). */
class NeedsCallerTape extends Error {}

/** A compiled module: called like its `forward`. */
export interface CompiledModule<In extends unknown[], Out> {
  (...inputs: In): Out;
  lower(...inputs: In): ReturnType<JittedFunction<In, Out>['lower']>;
  readonly cacheSize: number;
  clearCache(): void;
}

function isModule(value: unknown): value is CompilableModule<unknown[], unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { forward?: unknown }).forward === 'function' &&
    typeof (value as { parameters?: unknown }).parameters === 'function'
  );
}

function parametersOf(modules: readonly StateModule[]): Tensor[] {
  const out: Tensor[] = [];
  for (const m of modules) for (const p of m.parameters()) out.push(p.value);
  return out;
}

const shift = (argnums: number | readonly number[] | undefined, by = 1): number[] | undefined =>
  argnums === undefined ? undefined : (typeof argnums === 'number' ? [argnums] : [...argnums]).map((a) => a + by);

interface StepConstants {
  readonly kept: BufferArguments['kept'];
  readonly groups: TrainingState['groups'];
}

/**
 * A PyTorch-style training step compiled whole: the parameters' values and gradients, the
 * optimizers' state and the buffers of modules in training mode are the program's inputs and
 * outputs (see training-state.ts and module-buffers.ts), donated (argument 1); the buffers of
 * modules in evaluation mode and the learning rates are read-only inputs (argument 0).
 */
function compileTrainingStep(
  name: string,
  body: (...args: unknown[]) => unknown,
  modules: readonly StateModule[],
  optimizers: readonly StatefulOptimizer[],
  options: JitOptions,
  forwardOnly: CompiledModule<unknown[], unknown>,
): CompiledModule<unknown[], unknown> {
  const cells = new TrainingCells(modules as never, optimizers);
  const buffers = new ModuleBuffers(modules);
  // Argument 0: read-only inputs (learning rates, buffers of modules in eval mode); argument 1: the donated state.
  const step = (
    constants: StepConstants,
    [state, donatedBuffers]: [TrainingState, Tensor[]],
    ...inputs: unknown[]
  ): [TrainingState, BufferResults, unknown] => {
    const restore = cells.install(state.groups === undefined ? { ...state, groups: constants.groups } : state, true);
    const restoreBuffers = buffers.install({ donated: donatedBuffers, kept: constants.kept });
    try {
      const out = body(...inputs);
      // A forward pass under the tape (no backward() inside): the caller's tape must see the call.
      if (!cells.gradientsChanged(state) && treeFlatten(out)[0].some(hasStagedTape)) throw new NeedsCallerTape();
      return [cells.snapshot(), buffers.snapshot(), out];
    } finally {
      restoreBuffers();
      restore();
    }
  };
  Object.defineProperty(step, 'name', { value: name });
  const jitted = makeJitted(
    step,
    { ...options, name, staticArgnums: shift(options.staticArgnums, 2), donateArgnums: [1, ...(shift(options.donateArgnums, 2) ?? [])] },
    true,
    true,
  );
  let useCallerTape = false;
  const call = (lower: boolean, inputs: unknown[]): unknown => {
    const { groups, ...state } = cells.read();
    const current = buffers.read();
    const constants: StepConstants = { kept: current.kept, groups };
    const donated: [TrainingState, Tensor[]] = [state, current.donated];
    if (lower) return jitted.lower(constants, donated, ...inputs);
    const undo = cells.releaseValues();
    let result: [TrainingState, BufferResults, unknown];
    try {
      result = jitted(constants, donated, ...inputs);
    } catch (error) {
      undo();
      throw error;
    }
    cells.write(result[0]);
    buffers.write(current, result[1]);
    return result[2];
  };
  const compiled = ((...inputs: unknown[]) => {
    if (useCallerTape) return forwardOnly(...inputs);
    try {
      return call(false, inputs);
    } catch (error) {
      if (!(error instanceof NeedsCallerTape)) throw error;
      useCallerTape = true;
      return forwardOnly(...inputs);
    }
  }) as CompiledModule<unknown[], unknown>;
  compiled.lower = (...inputs: unknown[]) => call(true, inputs) as ReturnType<CompiledModule<unknown[], unknown>['lower']>;
  compiled.clearCache = () => {
    jitted.clearCache();
    forwardOnly.clearCache();
  };
  Object.defineProperty(compiled, 'cacheSize', { get: () => jitted.cacheSize + forwardOnly.cacheSize });
  return compiled;
}

/**
 * jit for the imperative style. `compile(model)` returns a function called like `model.forward`
 * that runs compiled, reading the model's current parameters and buffers on every call (an
 * optimizer that replaces them between calls is seen), and recompiling when input shapes change.
 * Under the imperative tape the compiled call is recorded as one node, so `loss.backward()`
 * runs its compiled backward program.
 *
 * `compile(stepFn, { modules, optimizers })` compiles a whole PyTorch-style training step:
 * `zeroGrad()`, the forward pass, `loss.backward()` and `optimizer.step()` are traced into one
 * program whose inputs and outputs are the parameters' values and gradients and the optimizers'
 * state (donated, so updated in place); after each call the parameters, their `.grad` and the
 * optimizers hold what an eager step would leave. Reading a value inside the step (`item()`)
 * raises a ConcretizationError. Module buffers are threaded the same way, in both forms: a
 * forward pass that updates them (BatchNorm's running statistics in training mode) returns the
 * new values from the program, and the modules hold them after the call.
 *
 * @example
 * const fast = compile(model);
 * const logits = noGrad(() => fast(x)); // traced on the first call, compiled afterwards
 *
 * const trainStep = compile((x: Tensor, y: Tensor) => {
 *   optimizer.zeroGrad();
 *   const loss = nn.functional.crossEntropy(model.forward(x), y);
 *   loss.backward();
 *   optimizer.step();
 *   return loss;
 * }, { modules: [model], optimizers: [optimizer] });
 */
export function compile<In extends unknown[], Out>(module: CompilableModule<In, Out>, options?: JitOptions): CompiledModule<In, Out>;
export function compile<A extends unknown[], R>(step: (...args: A) => R, options?: CompileOptions): CompiledModule<A, R>;
export function compile(target: unknown, options: CompileOptions = {}): CompiledModule<unknown[], unknown> {
  let modules: readonly StateModule[];
  let body: (...args: unknown[]) => unknown;
  if (isModule(target)) {
    modules = [target];
    body = (...inputs) => target.forward(...inputs);
  } else if (typeof target === 'function') {
    modules = options.modules ?? [];
    body = target as (...args: unknown[]) => unknown;
  } else throw new ValueError('compile: expected a module (an object with forward() and parameters()) or a function');
  const name = options.name ?? (isModule(target) ? (target.constructor?.name ?? 'module') : body.name || 'step');
  const buffers = new ModuleBuffers(modules);
  // Argument 0: the parameters (read where the function reads them); 1: the buffers of modules in
  // training mode (donated: the forward pass updates them); 2: the others, read-only.
  const withState = (
    parameters: readonly Tensor[],
    donatedBuffers: Tensor[],
    kept: BufferArguments['kept'],
    ...inputs: unknown[]
  ): [BufferResults, unknown] => {
    const restore = buffers.install({ donated: donatedBuffers, kept });
    try {
      const out = body(...inputs);
      const after = parametersOf(modules);
      if (after.length !== parameters.length || after.some((t, i) => t !== parameters[i] && t instanceof JitTracer)) {
        throw new ValueError(
          `compile: ${name} assigns a parameter while it is traced, which a compiled forward pass cannot do; ` +
            'update parameters in a training step compiled with compile(step, { modules, optimizers }), or outside the compiled call',
        );
      }
      return [buffers.snapshot(), out];
    } finally {
      restore();
    }
  };
  const jitted = makeJitted(
    withState,
    { ...options, name, staticArgnums: shift(options.staticArgnums, 3), donateArgnums: [1, ...(shift(options.donateArgnums, 3) ?? [])] },
    true,
  );
  const compiled = ((...inputs: unknown[]) => {
    const current = buffers.read();
    const [results, out] = jitted(parametersOf(modules), current.donated, current.kept, ...inputs);
    buffers.write(current, results);
    return out;
  }) as CompiledModule<unknown[], unknown>;
  compiled.lower = (...inputs: unknown[]) => {
    const current = buffers.read();
    return jitted.lower(parametersOf(modules), current.donated, current.kept, ...inputs);
  };
  compiled.clearCache = () => jitted.clearCache();
  Object.defineProperty(compiled, 'cacheSize', { get: () => jitted.cacheSize });
  if (isModule(target)) return compiled;
  return compileTrainingStep(name, body, modules, options.optimizers ?? [], options, compiled);
}
