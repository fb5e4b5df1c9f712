import { isGradEnabled } from '../autograd/grad-mode.js';
import { isFloating } from '../core/dtype.js';
import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape, type Shape, shapesEqual } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { isTensor, keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindCustomVjp } from '../transforms/core.js';
import type { CustomVjpCall } from '../transforms/custom-call.js';
import { hookName } from './hook-name.js';

// A module's full backward hooks, as torch.utils.hooks.BackwardHook implements them: each call of
// a hooked module's forward wraps the tensors it receives and the tensors it returns in an
// identity op with a custom VJP (one for the inputs, one for the outputs). The backward pass
// reaches the outputs' op first, with the gradients with respect to the outputs: it runs the
// backward pre-hooks, which may replace them, and remembers them. It reaches the inputs' op once
// every gradient inside the module has flowed back to the inputs: it runs the full backward hooks
// with both, which may replace the gradients with respect to the inputs. Only tensors the
// imperative tape records are wrapped (as torch wraps only tensors that require grad, with grad
// mode on): values traced by grad, vjp, vmap or jit are not, so the hooks belong to backward().

/** Gradients by position of the module's arguments (or outputs): null where there is none. */
export type ModuleGradients = readonly (Tensor | null)[];

/**
 * What a backward hook may return: replacement gradients, one per position (null or undefined
 * for none), or undefined to keep those it was shown.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that only observes returns nothing
export type GradientsReplacement = readonly (Tensor | null | undefined)[] | undefined | void;

/** Runs in the backward pass before the gradients flow into the module (torch's full backward pre-hook). */
export type BackwardPreHook<M> = (module: M, gradOutput: ModuleGradients) => GradientsReplacement;

/** Runs once the gradients with respect to the module's inputs are computed (torch's full backward hook). */
export type BackwardHook<M> = (module: M, gradInput: ModuleGradients, gradOutput: ModuleGradients) => GradientsReplacement;

type AnyBackwardPreHook = (module: unknown, gradOutput: ModuleGradients) => GradientsReplacement;
type AnyBackwardHook = (module: unknown, gradInput: ModuleGradients, gradOutput: ModuleGradients) => GradientsReplacement;

/** A registered hook with its handle's id, which names it in errors when the function has no name. */
interface Registered<H> {
  readonly id: number;
  readonly hook: H;
}

/** Whether the imperative tape records `value` now, so that a backward pass can reach it. */
function recorded(value: unknown): value is Tensor {
  return isTensor(value) && value._autograd !== null && isFloating(value.dtype) && isGradEnabled();
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return `a ${value.constructor?.name ?? 'object'}`;
}

/** The tensors of one side (inputs or outputs) that the tape records, wrapped in the identity op. */
interface WrappedSide {
  /** How many positions the side has (arguments, or top-level outputs). */
  readonly count: number;
  /** The positions wrapped, in order. */
  readonly positions: readonly number[];
  /** The wrapped tensors' shapes and dtypes, which replacement gradients must match. */
  readonly shapes: readonly Shape[];
  readonly dtypes: readonly Tensor['dtype'][];
}

/**
 * The backward hooks of one call of a module's forward (torch's BackwardHook): created by the
 * hooked forward when the module has backward hooks, it wraps the arguments before forward runs
 * and the output after the forward hooks ran. The hooks are those registered when forward ran.
 */
export class ModuleBackwardCall {
  /** The gradients with respect to the outputs, between the outputs' op and the inputs' op of one backward pass. */
  #gradOutputs: ModuleGradients | null = null;
  /** Null when no argument is recorded: then the full hooks run from the outputs' op, with null gradients. */
  #inputs: WrappedSide | null = null;
  #inputCount = 0;
  #outputs: WrappedSide | null = null;

  constructor(
    private readonly module: { readonly constructor: { readonly name: string } },
    private readonly preHooks: readonly Registered<AnyBackwardPreHook>[],
    private readonly hooks: readonly Registered<AnyBackwardHook>[],
  ) {}

  /** The arguments, the recorded tensors among them replaced by the identity op's outputs. */
  wrapInputs(args: readonly unknown[]): unknown[] {
    this.#inputCount = args.length;
    const { side, replaced } = this.#wrap('inputs', args, (cotangents) => this.#onInputGradients(cotangents));
    this.#inputs = side;
    return replaced;
  }

  /**
   * The output, its recorded tensors replaced by the identity op's outputs: a Tensor, or the
   * Tensors among an array's elements (as torch takes a tensor or a tuple; nested ones are not wrapped).
   */
  wrapOutput(output: unknown): unknown {
    const single = !Array.isArray(output);
    if (single && !isTensor(output)) {
      if (!isGradEnabled()) return output;
      throw new ValueError(
        `${this.#name()}: backward hooks need forward to return a Tensor or an array of Tensors, got ${describe(output)}; ` +
          'register them on a submodule that does, or return an array',
      );
    }
    const elements: readonly unknown[] = single ? [output] : (output as unknown[]);
    const { side, replaced } = this.#wrap('outputs', elements, (cotangents) => this.#onOutputGradients(cotangents));
    this.#outputs = side;
    return single ? replaced[0] : replaced;
  }

  #name(): string {
    return this.module.constructor.name;
  }

  #wrap(
    which: 'inputs' | 'outputs',
    values: readonly unknown[],
    backward: (cotangents: readonly (Tensor | null)[]) => (Tensor | null)[],
  ): { side: WrappedSide | null; replaced: unknown[] } {
    const positions: number[] = [];
    values.forEach((value, i) => {
      if (recorded(value)) positions.push(i);
    });
    if (positions.length === 0) return { side: null, replaced: [...values] };
    const tensors = positions.map((i) => values[i] as Tensor);
    const call: CustomVjpCall = {
      name: `${this.#name()} backward hook (${which})`,
      // Forward mode sees the identity: the hooks are reverse mode's.
      differentiateFnInForwardMode: true,
      // An output that received no gradient is shown to the hooks as null, as torch shows None.
      symbolicZeros: true,
      fn: (inputs) => [...inputs],
      fwd: (inputs) => ({ outputs: [...inputs], residuals: null }),
      bwd: (_residuals, cotangents) => backward(cotangents),
    };
    const wrapped = bindCustomVjp(call, tensors);
    const replaced = [...values];
    positions.forEach((position, k) => {
      replaced[position] = wrapped[k];
    });
    const side = { count: values.length, positions, shapes: tensors.map((t) => t.shape), dtypes: tensors.map((t) => t.dtype) };
    return { side, replaced };
  }

  /** The outputs' op in the backward pass: the pre-hooks, and the full hooks too when no input is recorded. */
  #onOutputGradients(cotangents: readonly (Tensor | null)[]): (Tensor | null)[] {
    const outputs = this.#outputs as WrappedSide;
    let gradOutputs: ModuleGradients = spread(outputs, cotangents);
    for (const { id, hook } of this.preHooks) {
      const result = hook(this.module, gradOutputs);
      if (result !== undefined && result !== null) gradOutputs = this.#checked(result, outputs, 'full backward pre-hook', hook, id);
    }
    this.#gradOutputs = gradOutputs;
    if (this.#inputs === null) {
      // No argument is recorded: no gradient flows to the inputs, so the full hooks run now, with
      // null for every argument, and may not return gradients (as in torch).
      const gradInputs = new Array<Tensor | null>(this.#inputCount).fill(null);
      for (const { id, hook } of this.hooks) {
        const result = hook(this.module, gradInputs, gradOutputs);
        if (result !== undefined && result !== null && (!Array.isArray(result) || result.some((g) => g !== null && g !== undefined))) {
          throw new ValueError(
            `${this.#name()}: the full backward hook ${hookName(hook, id)} returned gradients, but no input of this call requires grad; ` +
              'a backward hook of a module whose inputs do not require grad must return undefined (or nulls)',
          );
        }
      }
      this.#gradOutputs = null;
    }
    return outputs.positions.map((i) => gradOutputs[i] ?? null);
  }

  /** The inputs' op in the backward pass: the full hooks, with the gradients the outputs' op remembered. */
  #onInputGradients(cotangents: readonly (Tensor | null)[]): (Tensor | null)[] {
    const gradOutputs = this.#gradOutputs;
    // The gradient reached the inputs without passing through the outputs (a second-order
    // backward through the first one's graph): there is nothing to pair it with, as in torch.
    if (gradOutputs === null) return [...cotangents];
    const inputs = this.#inputs as WrappedSide;
    let gradInputs: ModuleGradients = spread(inputs, cotangents);
    for (const { id, hook } of this.hooks) {
      const result = hook(this.module, gradInputs, gradOutputs);
      if (result !== undefined && result !== null) gradInputs = this.#checked(result, inputs, 'full backward hook', hook, id);
    }
    this.#gradOutputs = null;
    return inputs.positions.map((i) => gradInputs[i] ?? null);
  }

  /**
   * A hook's replacement gradients, checked against the side they replace: one entry per position,
   * a tensor of the wrapped tensor's shape (cast to its dtype, as torch's engine does) or null.
   * Entries at positions that were not wrapped are ignored, as torch ignores them.
   */
  #checked(result: unknown, side: WrappedSide, kind: string, hook: (...args: never[]) => unknown, id: number): ModuleGradients {
    const what = side === this.#outputs ? 'grad_output (one per output)' : 'grad_input (one per positional argument)';
    const where = `${this.#name()}: the ${kind} ${hookName(hook, id)}`;
    if (!Array.isArray(result)) throw new ValueError(`${where} must return an array of gradients or undefined, got ${describe(result)}`);
    if (result.length !== side.count) {
      throw new ValueError(`${where} returned ${result.length} gradient(s), but expected ${side.count}: ${what}`);
    }
    const out: (Tensor | null)[] = new Array<Tensor | null>(side.count).fill(null);
    side.positions.forEach((position, k) => {
      const g: unknown = result[position];
      if (g === null || g === undefined) return;
      if (!isTensor(g))
        throw new ValueError(`${where} returned ${describe(g)} at position ${position}, where a Tensor or null was expected`);
      const shape = side.shapes[k] as Shape;
      if (!shapesEqual(g.shape, shape)) {
        throw new ShapeError(
          `${where} returned a gradient of shape ${formatShape(g.shape)} at position ${position}, but the tensor there has shape ${formatShape(shape)}`,
        );
      }
      // Kept, as `spread` keeps what the hooks are shown: the backward pass frees the gradients
      // it consumes, and the full hooks see the pre-hooks' replacements after that.
      out[position] = keep(cast(g, side.dtypes[k] as Tensor['dtype']));
    });
    return out;
  }
}

/** The gradients by position, null where nothing is wrapped or nothing arrived; kept, since a hook may hold on to them. */
function spread(side: WrappedSide, cotangents: readonly (Tensor | null)[]): (Tensor | null)[] {
  const out = new Array<Tensor | null>(side.count).fill(null);
  side.positions.forEach((position, k) => {
    const g = cotangents[k] ?? null;
    out[position] = g === null ? null : keep(g);
  });
  return out;
}
