import { isGradEnabled } from '../autograd/grad-mode.js';
import { getBackend, useBackendScoped } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import { ValueError } from '../core/errors.js';
import { type TreeDef, treeFlatten, treeUnflatten } from '../core/pytree.js';
import type { Program, Var } from '../ir/program.js';
import { generatorArguments, isGeneratorTraced, setTracedGenerator, type TracedGenerator } from '../random/generator.js';
import { isTensor, untrackTensor } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import { backendOf, bindStagedCall, popTrace, pushTrace, raise, setStagingTrace } from '../transforms/core.js';
import { dispatchStateKey } from './dispatch-state.js';
import { type CallSignature, signatureOf } from './signature.js';
import { type CompileCounter, type Compiled, type Lowered, StagedProgram } from './staged.js';
import { JitTrace, type JitTracer, StageOut } from './trace.js';

export type { Lowered } from './staged.js';

/** Options of `jit`. */
export interface JitOptions {
  /**
   * Arguments that are not traced: their values are part of the cache key (so a new value
   * recompiles) and the function sees them as they are (numbers, strings, configuration objects).
   */
  readonly staticArgnums?: number | readonly number[];
  /**
   * Arguments the caller gives up: their tensors are consumed by the call (disposed, as JAX
   * deletes donated buffers), and the compiled code may write its outputs into their memory.
   * Donate the state a training step replaces (parameters, optimizer state).
   */
  readonly donateArgnums?: number | readonly number[];
  /** The name printed in the IR (default: the function's name). */
  readonly name?: string;
  /** Past this many compiled signatures the least recently used one is dropped (default: no limit). */
  readonly maxCacheSize?: number;
}

/** What `jit` returns: the function, compiled per input signature on first call. */
export interface JittedFunction<A extends unknown[], R> {
  (...args: A): R;
  /** Traces and compiles (or finds in the cache) the call with these arguments, without running it. */
  lower(...args: A): Lowered;
  /** Number of compiled signatures held. */
  readonly cacheSize: number;
  /**
   * Calls served from the cache, calls that traced, calls run as plain code (a closure over an
   * enclosing transform's value), and programs compiled (the function's own per signature and
   * backend, and those derived from it under grad, jvp and vmap: forward, backward, JVP, batched).
   */
  readonly stats: { readonly hits: number; readonly misses: number; readonly inline: number; readonly compiles: number };
  /** Drops every compiled signature and the constants they hold. */
  clearCache(): void;
}

type OutputLeaf = { readonly tensor: number } | { readonly value: unknown };

interface Entry {
  readonly staged: StagedProgram;
  /**
   * How many times the function drew from the global generator while traced: the program then
   * takes the generator's key and counter as two inputs after the arguments' tensors.
   */
  readonly draws: number;
  readonly outDef: TreeDef;
  readonly outputs: readonly OutputLeaf[];
  /** The compilation for the backend in the cache key (null for calls on tracers). */
  readonly compiled: Compiled | null;
}

function argnumSet(op: string, what: string, value: number | readonly number[] | undefined): Set<number> {
  const list = value === undefined ? [] : typeof value === 'number' ? [value] : [...value];
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0)
      throw new ValueError(`${op}: ${what} must be non-negative argument positions, got ${JSON.stringify(value)}`);
  }
  return new Set(list);
}

/** Traces `f` on the call's arguments into a program. Returns null when the call must run inline. */
function trace(
  name: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  statics: ReadonlySet<number>,
  implicitState: boolean,
): { program: Program; captured: Tensor[]; outDef: TreeDef; outputs: OutputLeaf[]; draws: number } | null {
  const jitTrace = pushTrace((level) => new JitTrace(level));
  const previous = setStagingTrace(jitTrace);
  // The global generator is state the program threads: draws read two inputs made on the first one.
  let generatorInputs: { key: Tensor; counter: Tensor } | null = null;
  const generator: TracedGenerator = {
    draws: 0,
    inputs: () => {
      generatorInputs ??= { key: jitTrace.input({ shape: [2], dtype: 'int32' }), counter: jitTrace.input({ shape: [], dtype: 'int32' }) };
      return generatorInputs;
    },
  };
  const previousGenerator = setTracedGenerator(generator);
  const [leaves, def] = treeFlatten(args.map((a, i) => (statics.has(i) ? null : a)));
  // The tracers stand for data on the arguments' backend: constants the function makes (a scalar
  // operand, a tensor() without a backend) are made there too, as eager ops make them beside
  // their operand, not on the default backend, which may not even offer their dtype.
  const home = homeBackend(leaves);
  const restoreBackend = home === undefined ? null : useBackendScoped(home);
  try {
    const traced = leaves.map((leaf) => (isTensor(leaf) ? jitTrace.input(leaf) : leaf));
    if (implicitState) {
      // Argument 0 holds state the function reads from elsewhere (a module's parameters): its
      // tensors, when read, are the program inputs made for them.
      const stateCount = treeFlatten(statics.has(0) ? null : args[0])[0].length;
      for (let i = 0; i < stateCount; i++) if (isTensor(leaves[i])) jitTrace.bindImplicit(leaves[i] as Tensor, traced[i] as JitTracer);
    }
    const rebuilt = treeUnflatten(def, traced) as unknown[];
    for (const i of statics) rebuilt[i] = args[i];
    const result = (f as (...a: unknown[]) => unknown)(...rebuilt);
    const [outLeaves, outDef] = treeFlatten(result);
    const outVars: Var[] = [];
    const outputs: OutputLeaf[] = outLeaves.map((leaf) => {
      if (!isTensor(leaf)) return { value: leaf };
      outVars.push((raise(jitTrace, leaf) as JitTracer).variable);
      return { tensor: outVars.length - 1 };
    });
    const draws = generatorInputs === null ? 0 : generator.draws;
    return { program: jitTrace.builder.build(name, outVars), captured: jitTrace.captured, outDef, outputs, draws };
  } catch (error) {
    for (const t of jitTrace.captured) t.release();
    if (error instanceof StageOut) return null;
    throw error;
  } finally {
    restoreBackend?.();
    setTracedGenerator(previousGenerator);
    setStagingTrace(previous);
    popTrace(jitTrace);
  }
}

/** The backend holding the first tensor argument's data (through any tracers of enclosing transforms). */
function homeBackend(leaves: readonly unknown[]): Backend | undefined {
  for (const leaf of leaves) {
    const backend = isTensor(leaf) ? backendOf(leaf) : undefined;
    if (backend !== undefined) return backend;
  }
  return undefined;
}

function makeEntry(
  name: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  statics: ReadonlySet<number>,
  backend: Backend | null,
  implicitState: boolean,
  counter: CompileCounter,
  donatedInputs: readonly boolean[] | null,
): Entry | null {
  const start = performance.now();
  const traced = trace(name, f, args, statics, implicitState);
  if (traced === null) return null;
  const inputCount = traced.program.inputs.length;
  // The generator's inputs (last, when the function draws) are never donated.
  const program =
    donatedInputs === null
      ? traced.program
      : { ...traced.program, donatedInputs: [...donatedInputs, ...new Array<boolean>(inputCount - donatedInputs.length).fill(false)] };
  const staged = new StagedProgram(program, traced.captured, counter, performance.now() - start);
  try {
    const compiled = backend === null ? null : staged.compiled(backend);
    return { staged, draws: traced.draws, outDef: traced.outDef, outputs: traced.outputs, compiled };
  } catch (error) {
    staged.dispose();
    throw error;
  }
}

function rebuildOutputs(entry: Entry, results: readonly Tensor[]): unknown {
  const leaves = entry.outputs.map((o) => ('value' in o ? o.value : results[o.tensor]));
  return treeUnflatten(entry.outDef, leaves);
}

function execute(entry: Entry, signature: CallSignature, donated: ReadonlySet<number>, generator: readonly Tensor[]): unknown {
  const compiled = entry.compiled as Compiled;
  const tensors = signature.tensors;
  const handles = new Array<unknown>(tensors.length + generator.length);
  let owned: boolean[] | null = null;
  const consumed: Tensor[] = [];
  for (let i = 0; i < tensors.length; i++) handles[i] = (tensors[i] as Tensor)._handle;
  for (let i = 0; i < generator.length; i++) handles[tensors.length + i] = (generator[i] as Tensor)._handle;
  if (donated.size > 0) {
    owned = new Array<boolean>(handles.length).fill(false);
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i] as Tensor;
      if (!donated.has(signature.argumentOf[i] as number)) continue;
      // The handle moves into the program only when nothing else can still reach the tensor's data.
      const alone = t._retainCount === 0 && t._autograd === null && tensors.indexOf(t) === i && tensors.lastIndexOf(t) === i;
      if (alone) {
        owned[i] = true;
        t._handle = undefined;
        untrackTensor(t);
      } else consumed.push(t);
    }
  }
  const executable = compiled.executable;
  const results = executable.run(handles, owned);
  for (const t of consumed) t.dispose();
  const backend = executable.backend;
  const avals = executable.program.outputs;
  const leaves = entry.outputs.map((o) => {
    if ('value' in o) return o.value;
    const aval = (avals[o.tensor] as Var).aval;
    return new Tensor(aval.shape, aval.dtype, backend, results[o.tensor]);
  });
  return treeUnflatten(entry.outDef, leaves);
}

/**
 * Just-in-time compilation: `jit(f)` traces `f` with abstract values (shape, dtype, backend) into
 * Flint's IR, optimizes it (common subexpressions, constant folding, dead code, algebraic
 * identities, fusion, memory planning), compiles the fused kernels with the backend's `compile`
 * hook, caches the result per input signature and runs it. The arguments and result are pytrees
 * (arrays and plain objects) of tensors.
 *
 * JavaScript control flow runs once, while tracing: an `if` on an argument's shape or a `for`
 * loop unrolls into the program, while reading a tensor's value inside `f` raises a
 * ConcretizationError (use `where`, or make the argument static). Tensors `f` closes over are
 * captured as constants when it is traced: pass parameters as arguments. jit composes with
 * grad, vjp, jvp and vmap in any order: `jit(grad(f))` compiles the backward pass too, and
 * `grad(jit(f))` runs two compiled programs (the forward pass, which also returns what the
 * backward pass needs, and the backward pass); `jvp(jit(f))` and `vmap(jit(f))` run the compiled
 * JVP and the compiled batched program. `loss.backward()` through a jitted call runs its
 * compiled backward pass.
 *
 * @example
 * const step = jit((params, x, y) => {
 *   const [loss, grads] = valueAndGrad(lossFn)(params, x, y);
 *   return [loss, mapParams(params, grads, (p, g) => p.sub(g.mul(0.1)))];
 * }, { donateArgnums: [0] });
 * const [loss, next] = step(params, x, y);
 * console.log(step.lower(next, x, y).toString()); // the optimized IR
 */
export function jit<A extends unknown[], R>(f: (...args: A) => R, options: JitOptions = {}): JittedFunction<A, R> {
  return makeJitted(f, options, false);
}

/**
 * @internal jit, where `implicitState` says that argument 0 is state the function reads without
 * taking it as an argument (compile(module) passes the module's current parameters there), and
 * `stagesTape` that the function runs the imperative tape itself (a training step compiled by
 * compile(): its backward() is staged), so that recorded arguments do not make the call a
 * recorded call.
 */
export function makeJitted<A extends unknown[], R>(
  f: (...args: A) => R,
  options: JitOptions,
  implicitState: boolean,
  stagesTape = false,
): JittedFunction<A, R> {
  if (typeof f !== 'function') throw new ValueError('jit: expected a function');
  const statics = argnumSet('jit', 'staticArgnums', options.staticArgnums);
  const donated = argnumSet('jit', 'donateArgnums', options.donateArgnums);
  for (const a of donated) if (statics.has(a)) throw new ValueError(`jit: argument ${a} cannot be both static and donated`);
  const name = options.name ?? (f.name || 'jit');
  const maxCacheSize = options.maxCacheSize;
  if (maxCacheSize !== undefined && (!Number.isInteger(maxCacheSize) || maxCacheSize < 1)) {
    throw new ValueError(`jit: maxCacheSize must be a positive integer, got ${maxCacheSize}`);
  }
  const cache = new Map<string, Entry>();
  const stats = { hits: 0, misses: 0, inline: 0 };
  const counter: CompileCounter = { compiles: 0 };
  // Calls on tracers (under grad, jvp, vmap) or on tensors the tape records are traced without a
  // backend: the program is compiled where it finally runs, in whatever form the transforms derive.
  const lookup = (args: readonly unknown[], signature: CallSignature, staged: boolean): Entry | null => {
    const backend = staged ? null : (signature.backend ?? getBackend());
    const key = `${backend?.name ?? '*'}|${dispatchStateKey()}|${signature.key}`;
    let entry = cache.get(key);
    if (entry !== undefined) {
      stats.hits++;
      if (maxCacheSize !== undefined) {
        // Most recently used last: a Map iterates in insertion order.
        cache.delete(key);
        cache.set(key, entry);
      }
      return entry;
    }
    // Direct calls consume the donated arguments: the memory plan may count on their buffers.
    const donatedInputs = backend !== null && donated.size > 0 ? signature.argumentOf.map((a) => donated.has(a)) : null;
    const made = makeEntry(name, f as (...args: never[]) => unknown, args, statics, backend, implicitState, counter, donatedInputs);
    if (made === null) return null;
    stats.misses++;
    entry = made;
    cache.set(key, entry);
    if (maxCacheSize !== undefined && cache.size > maxCacheSize) {
      const [oldestKey, oldest] = cache.entries().next().value as [string, Entry];
      cache.delete(oldestKey);
      oldest.staged.dispose();
    }
    return entry;
  };
  const jitted = ((...args: A): R => {
    const signature = signatureOf('jit', args, statics);
    // Under grad, jvp or vmap (tracer arguments), or while the tape records these tensors, the
    // call stays a call: the transforms derive its compiled JVP, forward/backward or batched form.
    const staged = signature.traced || (signature.recorded && isGradEnabled() && !stagesTape);
    const entry = lookup(args, signature, staged);
    // A call on concrete tensors inside a traced function still reads that trace's generator
    // inputs when its program draws: it is staged into the enclosing program like a traced call.
    const stagedCall = staged || (entry !== null && entry.draws > 0 && isGeneratorTraced());
    // A function with user-defined derivatives: its program holds only their primal computation.
    if (entry === null || (stagedCall && entry.staged.program.customRules === true)) {
      // The function closes over a value of an enclosing transform: run it as it is, under them.
      stats.inline++;
      return f(...args);
    }
    if (entry.draws === 0) {
      if (staged) return rebuildOutputs(entry, bindStagedCall(entry.staged, signature.tensors)) as R;
      return execute(entry, signature, donated, []) as R;
    }
    // The program draws: it gets the generator's key and counter, and the generator moves past its draws.
    const first = signature.tensors[0];
    const backend = signature.backend ?? (first === undefined ? undefined : backendOf(first)) ?? getBackend();
    const generator = generatorArguments(entry.draws, backend);
    try {
      if (stagedCall) return rebuildOutputs(entry, bindStagedCall(entry.staged, [...signature.tensors, ...generator.inputs])) as R;
      return execute(entry, signature, donated, generator.inputs) as R;
    } finally {
      generator.release();
    }
  }) as JittedFunction<A, R>;
  Object.defineProperties(jitted, {
    cacheSize: { get: () => cache.size },
    stats: { get: () => ({ ...stats, compiles: counter.compiles }) },
  });
  jitted.lower = (...args: A): Lowered => {
    const signature = signatureOf('jit.lower', args, statics);
    const entry = signature.traced ? null : lookup(args, signature, false);
    if (entry === null || entry.compiled === null) {
      throw new ValueError(
        `jit.lower: ${name} cannot be compiled on its own here: its inputs or captured values are traced by an enclosing transform or recorded by the tape`,
      );
    }
    return entry.compiled.lowered;
  };
  jitted.clearCache = () => {
    for (const entry of cache.values()) entry.staged.dispose();
    cache.clear();
  };
  return jitted;
}
