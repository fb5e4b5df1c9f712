import { isGradEnabled } from '../autograd/grad-mode.js';
import { getBackend } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import { ValueError } from '../core/errors.js';
import { type TreeDef, treeFlatten, treeUnflatten } from '../core/pytree.js';
import { type PassRecord, runPasses } from '../ir/pipeline.js';
import { printProgram } from '../ir/print.js';
import type { Program, Var } from '../ir/program.js';
import { evalPrimitive } from '../tensor/dispatch.js';
import { isTensor, keep, untrackTensor } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import { popTrace, pushTrace, raise, setStagingTrace } from '../transforms/core.js';
import { Executable } from './executable.js';
import { type CallSignature, signatureOf } from './signature.js';
import { JitTrace, type JitTracer, StageOut } from './trace.js';

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
}

/** A traced and optimized call of a jitted function, for inspection. */
export interface Lowered {
  /** The program as traced. */
  readonly traced: Program;
  /** The program after the passes (what runs). */
  readonly optimized: Program;
  /** Each pass with the program before and after it. */
  readonly passes: readonly PassRecord[];
  /** Milliseconds spent tracing, optimizing and compiling. */
  readonly compileTimeMs: number;
  /** The backend it was compiled for. */
  readonly backend: string;
  /** Fused kernels the backend compiled to code, and fused groups it runs op by op. */
  readonly compiledKernels: number;
  readonly fallbackKernels: number;
  /** The optimized program, printed. */
  toString(): string;
}

/** What `jit` returns: the function, compiled per input signature on first call. */
export interface JittedFunction<A extends unknown[], R> {
  (...args: A): R;
  /** Traces and compiles (or finds in the cache) the call with these arguments, without running it. */
  lower(...args: A): Lowered;
  /** Number of compiled signatures held. */
  readonly cacheSize: number;
  /** Calls served from the cache, calls that compiled, and calls run as plain code under enclosing transforms. */
  readonly stats: { readonly hits: number; readonly misses: number; readonly inline: number };
  /** Drops every compiled signature and the constants they hold. */
  clearCache(): void;
}

type OutputLeaf = { readonly tensor: number } | { readonly value: unknown };

interface Entry {
  readonly lowered: Lowered;
  readonly executable: Executable;
  readonly outDef: TreeDef;
  readonly outputs: readonly OutputLeaf[];
  readonly captured: readonly Tensor[];
  readonly created: readonly Tensor[];
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
): { program: Program; captured: Tensor[]; outDef: TreeDef; outputs: OutputLeaf[] } | null {
  const jitTrace = pushTrace((level) => new JitTrace(level));
  const previous = setStagingTrace(jitTrace);
  try {
    const [leaves, def] = treeFlatten(args.map((a, i) => (statics.has(i) ? null : a)));
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
    return { program: jitTrace.builder.build(name, outVars), captured: jitTrace.captured, outDef, outputs };
  } catch (error) {
    for (const t of jitTrace.captured) t.release();
    if (error instanceof StageOut) return null;
    throw error;
  } finally {
    setStagingTrace(previous);
    popTrace(jitTrace);
  }
}

function compile(
  name: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  statics: ReadonlySet<number>,
  backend: Backend,
  implicitState: boolean,
): Entry | null {
  const start = performance.now();
  const traced = trace(name, f, args, statics, implicitState);
  if (traced === null) return null;
  const created: Tensor[] = [];
  try {
    const { program, records } = runPasses(traced.program, {
      evaluate: (p, inputs, params) => evalPrimitive(p, inputs, params, backend),
      created,
    });
    // Folded constants belong to the cache entry, not to a tidy scope the first call ran in.
    for (const t of created) keep(t);
    const executable = new Executable(program, backend);
    const compileTimeMs = performance.now() - start;
    const lowered: Lowered = {
      traced: traced.program,
      optimized: program,
      passes: records,
      compileTimeMs,
      backend: backend.name,
      compiledKernels: executable.compiledKernels,
      fallbackKernels: executable.fallbackKernels,
      toString: () => printProgram(program),
    };
    return { lowered, executable, outDef: traced.outDef, outputs: traced.outputs, captured: traced.captured, created };
  } catch (error) {
    for (const t of traced.captured) t.release();
    for (const t of created) t.dispose();
    throw error;
  }
}

function release(entry: Entry): void {
  entry.executable.dispose();
  for (const t of entry.captured) t.release();
  for (const t of entry.created) t.dispose();
}

function execute(entry: Entry, signature: CallSignature, donated: ReadonlySet<number>): unknown {
  const tensors = signature.tensors;
  const handles = new Array<unknown>(tensors.length);
  let owned: boolean[] | null = null;
  const consumed: Tensor[] = [];
  for (let i = 0; i < tensors.length; i++) handles[i] = (tensors[i] as Tensor)._handle;
  if (donated.size > 0) {
    owned = new Array<boolean>(tensors.length).fill(false);
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
  const executable = entry.executable;
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
 * grad, vjp, jvp and vmap in any order: `jit(grad(f))` compiles the backward pass too, and a
 * jitted function called under grad or vmap runs inline, so the outer transform sees its ops.
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
 * taking it as an argument (compile(module) passes the module's current parameters there).
 */
export function makeJitted<A extends unknown[], R>(
  f: (...args: A) => R,
  options: JitOptions,
  implicitState: boolean,
): JittedFunction<A, R> {
  if (typeof f !== 'function') throw new ValueError('jit: expected a function');
  const statics = argnumSet('jit', 'staticArgnums', options.staticArgnums);
  const donated = argnumSet('jit', 'donateArgnums', options.donateArgnums);
  for (const a of donated) if (statics.has(a)) throw new ValueError(`jit: argument ${a} cannot be both static and donated`);
  const name = options.name ?? (f.name || 'jit');
  const cache = new Map<string, Entry>();
  const stats = { hits: 0, misses: 0, inline: 0 };
  const lookup = (args: readonly unknown[], signature: CallSignature): Entry | null => {
    const backend = signature.backend ?? getBackend();
    const key = `${backend.name}|${signature.key}`;
    let entry = cache.get(key);
    if (entry !== undefined) {
      stats.hits++;
      return entry;
    }
    const made = compile(name, f as (...args: never[]) => unknown, args, statics, backend, implicitState);
    if (made === null) return null;
    stats.misses++;
    entry = made;
    cache.set(key, entry);
    return entry;
  };
  const jitted = ((...args: A): R => {
    const signature = signatureOf('jit', args, statics);
    // Under grad or vmap (tracer arguments), or while the tape records these tensors, the
    // enclosing transform must see the ops themselves: run the function as it is.
    if (signature.traced || (signature.recorded && isGradEnabled())) {
      stats.inline++;
      return f(...args);
    }
    const entry = lookup(args, signature);
    if (entry === null) {
      stats.inline++;
      return f(...args);
    }
    return execute(entry, signature, donated) as R;
  }) as JittedFunction<A, R>;
  Object.defineProperties(jitted, {
    cacheSize: { get: () => cache.size },
    stats: { get: () => ({ ...stats }) },
  });
  jitted.lower = (...args: A): Lowered => {
    const signature = signatureOf('jit.lower', args, statics);
    const entry = signature.traced ? null : lookup(args, signature);
    if (entry === null) {
      throw new ValueError(
        `jit.lower: ${name} cannot be compiled on its own here: its inputs or captured values are traced by an enclosing transform or recorded by the tape`,
      );
    }
    return entry.lowered;
  };
  jitted.clearCache = () => {
    for (const entry of cache.values()) release(entry);
    cache.clear();
  };
  return jitted;
}
