import { ValueError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { type JitOptions, type JittedFunction, makeJitted } from './jit.js';
import { JitTracer } from './trace.js';

/** What `compile` needs of a module: `nn.Module` has all of it. */
export interface CompilableModule<In extends unknown[], Out> {
  forward(...inputs: In): Out;
  /** Its parameters: cells whose `value` an optimizer replaces between calls. */
  parameters(): readonly { readonly value: Tensor }[];
  /** Its buffers (running statistics), if any. */
  buffers?(): readonly Tensor[];
}

type StateModule = Pick<CompilableModule<never[], unknown>, 'parameters' | 'buffers'>;

/** Options of `compile`: jit's, plus the modules a step function reads. */
export interface CompileOptions extends JitOptions {
  /**
   * Modules whose parameters and buffers the function reads. Their current values are passed to
   * the compiled program on every call, instead of being captured as constants when it is traced,
   * so that a compiled step sees the parameters an optimizer has replaced since.
   */
  readonly modules?: readonly StateModule[];
}

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

function stateOf(modules: readonly StateModule[]): Tensor[] {
  const out: Tensor[] = [];
  for (const m of modules) {
    for (const p of m.parameters()) out.push(p.value);
    if (typeof m.buffers === 'function') out.push(...m.buffers());
  }
  return out;
}

const shift = (argnums: number | readonly number[] | undefined): number[] | undefined =>
  argnums === undefined ? undefined : (typeof argnums === 'number' ? [argnums] : [...argnums]).map((a) => a + 1);

/**
 * jit for the imperative style. `compile(model)` returns a function called like `model.forward`
 * that runs compiled, reading the model's current parameters and buffers on every call (an
 * optimizer that replaces them between calls is seen), and recompiling when input shapes change.
 * `compile(stepFn, { modules: [model] })` does the same for any function that reads modules.
 *
 * While the imperative tape records the parameters (training without `noGrad`), the call runs
 * eagerly so that `backward()` works; compile the whole training step functionally
 * (`jit(trainStep)` with `grad`) to compile the backward pass and the update too. A forward pass
 * that writes module state (BatchNorm's running statistics in training mode) cannot be compiled:
 * call `model.eval()` first.
 *
 * @example
 * const fast = compile(model);
 * const logits = noGrad(() => fast(x)); // traced on the first call, compiled afterwards
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
  const withState = (state: readonly Tensor[], ...inputs: unknown[]): unknown => {
    const out = body(...inputs);
    const after = stateOf(modules);
    if (after.length !== state.length || after.some((t, i) => t !== state[i] && t instanceof JitTracer)) {
      throw new ValueError(
        `compile: ${name} writes module state (a parameter or buffer) while it is traced, which a compiled call cannot do; ` +
          'call model.eval() before compiling a model with running statistics, or write the step functionally with jit',
      );
    }
    return out;
  };
  const jitted = makeJitted(
    withState,
    { ...options, name, staticArgnums: shift(options.staticArgnums), donateArgnums: shift(options.donateArgnums) },
    true,
  );
  const compiled = ((...inputs: unknown[]) => jitted(stateOf(modules), ...inputs)) as CompiledModule<unknown[], unknown>;
  compiled.lower = (...inputs: unknown[]) => jitted.lower(stateOf(modules), ...inputs);
  compiled.clearCache = () => jitted.clearCache();
  Object.defineProperty(compiled, 'cacheSize', { get: () => jitted.cacheSize });
  return compiled;
}
