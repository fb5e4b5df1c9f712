import { enableGrad } from '../autograd/grad-mode.js';
import { isFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { rejectPromise } from '../core/promise.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { cast } from '../ops/broadcast.js';
import { zeros } from '../ops/creation.js';
import { abs, add, mul, neg, sub } from '../ops/elementwise.js';
import { concat, narrow, reshape } from '../ops/movement.js';
import { max, sum } from '../ops/reduce.js';
import { isTensor, keep, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNonNegative, checkPositiveInteger } from './checks.js';
import { type LineSearchProblem, strongWolfe } from './lbfgs-line-search.js';
import { withoutTape } from './no-tape.js';
import { cloneTensor } from './ownership.js';
import { clearGradient, isParameterLike, type ParameterLike } from './parameter.js';

/** LBFGS's options (PyTorch's names, camelCased). */
export interface LBFGSHyper {
  /** The step length of each iteration (the first iteration's is scaled down by the gradient's 1-norm). */
  lr: number;
  /** Iterations per `step()`. */
  maxIter: number;
  /** Closure evaluations per `step()`. */
  maxEval: number;
  /** Stop when every gradient element is at most this in magnitude. */
  toleranceGrad: number;
  /** Stop when the loss or the parameters change by less than this. */
  toleranceChange: number;
  /** How many curvature pairs the inverse-Hessian approximation keeps. */
  historySize: number;
  /** 'strong_wolfe' or null (a fixed step of `lr`). */
  lineSearchFn: 'strong_wolfe' | null;
}

/** Options of `LBFGS` (PyTorch's defaults: lr 1, maxIter 20, maxEval maxIter * 5 / 4, historySize 100). */
export type LBFGSOptions = Partial<LBFGSHyper>;

/** LBFGS's single parameter group: its options and parameters (schedulers change `lr` here). */
export type LBFGSGroup = LBFGSHyper & { params: ParameterLike[]; [extra: string]: unknown };

/** LBFGS's state between steps (PyTorch keeps it under the first parameter), names camelCased. */
export interface LBFGSStateEntry {
  readonly funcEvals: number;
  readonly nIter: number;
  /** The last search direction, flat. */
  readonly d?: Tensor;
  /** The last step length. */
  readonly t?: number;
  /** The curvature pairs: gradient differences y, steps s, and 1 / (y . s). */
  readonly oldDirs?: readonly Tensor[];
  readonly oldStps?: readonly Tensor[];
  readonly ro?: readonly number[];
  /** The scale of the initial inverse Hessian. */
  readonly hDiag?: number;
  readonly prevFlatGrad?: Tensor;
  readonly prevLoss?: number;
}

/** `LBFGS.stateDict()`: PyTorch's layout, with the state under parameter 0. */
export interface LBFGSStateDict {
  readonly state: Readonly<Record<string, LBFGSStateEntry>>;
  readonly paramGroups: readonly (LBFGSHyper & { readonly params: readonly number[] })[];
}

interface History {
  d: Tensor;
  t: number;
  oldDirs: Tensor[];
  oldStps: Tensor[];
  ro: number[];
  hDiag: number;
  prevFlatGrad: Tensor;
  prevLoss: number;
}

const OWNER = 'LBFGS';

function validate(h: LBFGSHyper): void {
  checkNonNegative(OWNER, 'lr', h.lr);
  checkPositiveInteger(OWNER, 'maxIter', h.maxIter);
  checkPositiveInteger(OWNER, 'maxEval', h.maxEval);
  checkNonNegative(OWNER, 'toleranceGrad', h.toleranceGrad);
  checkNonNegative(OWNER, 'toleranceChange', h.toleranceChange);
  checkPositiveInteger(OWNER, 'historySize', h.historySize);
  if (h.lineSearchFn !== null && h.lineSearchFn !== 'strong_wolfe')
    throw new ValueError(`LBFGS: lineSearchFn must be 'strong_wolfe' or null, got ${JSON.stringify(h.lineSearchFn)}`);
}

/** The defaults, with PyTorch's maxEval = maxIter * 5 // 4 when maxEval is not given. */
function withDefaults(options: LBFGSOptions): LBFGSHyper {
  const maxIter = options.maxIter ?? 20;
  return {
    lr: 1,
    maxIter,
    maxEval: typeof maxIter === 'number' ? Math.floor((maxIter * 5) / 4) : maxIter,
    toleranceGrad: 1e-7,
    toleranceChange: 1e-9,
    historySize: 100,
    lineSearchFn: null,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
}

/** The number a closure returned (a number or a one-element tensor), read synchronously. */
function lossValue(loss: unknown): number {
  const value = isTensor(loss) ? loss.item() : loss;
  if (typeof value !== 'number')
    throw new ValueError(`LBFGS.step: the closure must return the loss (a number or a one-element tensor), got ${String(loss)}`);
  return value;
}

/** A rank-0 result read back as a number; its tensors are released. */
function read(compute: () => Tensor): number {
  const t = tidy(compute);
  const value = t.item() as number;
  t.dispose();
  return value;
}

const dot = (a: Tensor, b: Tensor): number => read(() => sum(mul(a, b)));
const absMax = (a: Tensor): number => read(() => max(abs(a)));

/** A tensor made from temporaries that outlives them and any enclosing `tidy`. */
const owned = (compute: () => Tensor): Tensor => keep(tidy(compute));

/**
 * L-BFGS (torch.optim.LBFGS, after minFunc): a quasi-Newton method that builds an approximation
 * of the inverse Hessian from the last `historySize` gradient differences, optionally with a
 * strong-Wolfe line search. Each `step(closure)` runs up to `maxIter` iterations, calling the
 * closure (zero the gradients, compute the loss, `backward()`, return the loss) whenever it needs
 * the loss and gradient. One parameter group; all parameters of one dtype and backend. It reads
 * losses and slopes back synchronously, as PyTorch does, so it needs a backend with synchronous
 * reads. Only the imperative form exists: how many evaluations a step makes depends on the
 * values, which a pure, traceable `update` cannot express.
 *
 * @example
 * const optimizer = new optim.LBFGS(model.parameters(), { lineSearchFn: 'strong_wolfe' });
 * for (let i = 0; i < 10; i++) {
 *   optimizer.step(() => {
 *     optimizer.zeroGrad();
 *     const loss = lossFn(model.forward(x), y);
 *     loss.backward();
 *     return loss;
 *   });
 * }
 */
export class LBFGS {
  readonly defaults: Readonly<LBFGSHyper>;
  /** The one parameter group (schedulers set `lr` here). */
  readonly paramGroups: [LBFGSGroup];
  #funcEvals = 0;
  #nIter = 0;
  #history: History | null = null;

  constructor(
    params: Iterable<ParameterLike> | Iterable<LBFGSOptions & { readonly params: Iterable<ParameterLike> }>,
    options: LBFGSOptions = {},
  ) {
    const defaults = withDefaults(options);
    validate(defaults);
    this.defaults = Object.freeze({ ...defaults });
    const items = [...(params as Iterable<unknown>)];
    if (items.length === 0) throw new ValueError('LBFGS: got an empty list of parameters');
    let group: LBFGSGroup;
    if (items.every(isParameterLike)) group = { ...defaults, params: items };
    else if (items.length === 1 && typeof items[0] === 'object' && items[0] !== null && 'params' in items[0]) {
      const { params: listed, ...overrides } = items[0] as LBFGSOptions & { params: Iterable<ParameterLike> };
      group = { ...withDefaults({ ...options, ...overrides }), params: [...listed] };
      validate(group);
    } else {
      throw new ValueError(
        "LBFGS: params must be a list of parameters (objects with a tensor `value`), or one group; LBFGS doesn't support per-parameter options (parameter groups)",
      );
    }
    this.paramGroups = [group];
    this.#checkParameters(group.params);
  }

  #checkParameters(params: readonly ParameterLike[]): void {
    if (params.length === 0) throw new ValueError('LBFGS: got an empty list of parameters');
    params.forEach((p, i) => {
      if (!isParameterLike(p)) throw new ValueError(`LBFGS: params[${i}] is not a parameter (an object with a tensor \`value\`)`);
      if (!isFloating(p.value.dtype))
        throw new DTypeError(`LBFGS: params[${i}] is ${p.value.dtype}; only floating-point parameters can be optimized`);
    });
    if (new Set(params).size !== params.length) throw new ValueError('LBFGS: a parameter appears twice');
    const [first] = params as [ParameterLike];
    params.forEach((p, i) => {
      // The parameters are optimized as one flat vector.
      if (p.value.dtype !== first.value.dtype || p.value.backend !== first.value.backend) {
        throw new ValueError(
          `LBFGS: every parameter must have the same dtype and backend; params[0] is ${first.value.dtype} on ${first.value.backend}, params[${i}] is ${p.value.dtype} on ${p.value.backend}`,
        );
      }
    });
  }

  /** The name of the optimizer ('LBFGS'). */
  get name(): string {
    return OWNER;
  }

  get #params(): ParameterLike[] {
    return this.paramGroups[0].params;
  }

  /** Clears every parameter's gradient (sets it to null), disposing the gradient tensors. */
  zeroGrad(): void {
    for (const p of this.#params) clearGradient(p);
  }

  /**
   * Runs up to `maxIter` L-BFGS iterations and returns what the first call of `closure` returned
   * (the loss before the step). `closure` must zero the gradients, recompute the loss, call
   * `backward()` and return the loss (a number or a one-element tensor); it runs with the tape
   * on, in a `tidy` scope, as in `Optimizer.step`.
   */
  step<L>(closure: () => L): L {
    if (typeof closure !== 'function')
      throw new ValueError(
        'LBFGS.step: needs a closure that zeroes the gradients, computes the loss, calls backward() and returns the loss',
      );
    return withoutTape(() => this.#iterate(closure));
  }

  #iterate<L>(closure: () => L): L {
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize, lineSearchFn } = this.paramGroups[0];
    const originalLoss = this.#evaluate(closure);
    let loss = lossValue(originalLoss);
    let currentEvals = 1;
    this.#funcEvals += 1;
    let flatGrad = this.#gatherFlatGrad();
    let optimal = absMax(flatGrad) <= toleranceGrad;
    if (optimal) {
      flatGrad.dispose();
      return originalLoss;
    }
    let history = this.#history;
    let iteration = 0;
    while (iteration < maxIter) {
      iteration++;
      this.#nIter++;
      // The descent direction.
      if (this.#nIter === 1 || history === null) {
        disposeHistory(history);
        const d = owned(() => neg(flatGrad));
        history = { d, t: 0, oldDirs: [], oldStps: [], ro: [], hDiag: 1, prevFlatGrad: owned(() => cloneTensor(flatGrad)), prevLoss: loss };
      } else {
        this.#updateCurvature(history, flatGrad, historySize);
        const d = this.#twoLoopDirection(history, flatGrad);
        history.d.dispose();
        history.d = d;
      }
      history.prevFlatGrad.dispose();
      history.prevFlatGrad = owned(() => cloneTensor(flatGrad));
      history.prevLoss = loss;
      const d = history.d;
      // The step length: scaled by the gradient's 1-norm on the very first iteration.
      const t = this.#nIter === 1 ? Math.min(1, 1 / read(() => sum(abs(flatGrad)))) * lr : lr;
      history.t = t;
      const gtd = dot(flatGrad, d);
      if (gtd > -toleranceChange) break;

      let lineSearchEvals = 0;
      if (lineSearchFn === 'strong_wolfe') {
        const start = this.#params.map((p) => keep(cloneTensor(p.value)));
        const evaluated: Tensor[] = [];
        const problem: LineSearchProblem = {
          evaluate: (step) => {
            const [value, grad] = this.#directionalEvaluate(closure, start, step, d);
            evaluated.push(grad);
            return [value, grad];
          },
          slope: (grad) => dot(grad, d),
          directionNorm: absMax(d),
        };
        const found = strongWolfe(problem, t, loss, flatGrad, gtd);
        for (const x of [...start, ...evaluated]) if (x !== found.grad) x.dispose();
        if (found.grad !== flatGrad) {
          flatGrad.dispose();
          flatGrad = found.grad;
        }
        loss = found.loss;
        history.t = found.t;
        lineSearchEvals = found.evaluations;
        this.#addGrad(found.t, d);
        optimal = absMax(flatGrad) <= toleranceGrad;
      } else {
        this.#addGrad(t, d);
        // The last iteration does not re-evaluate: in a stochastic setting it would be wasted.
        if (iteration !== maxIter) {
          loss = this.#evaluateValue(closure);
          flatGrad.dispose();
          flatGrad = this.#gatherFlatGrad();
          optimal = absMax(flatGrad) <= toleranceGrad;
          lineSearchEvals = 1;
        }
      }
      currentEvals += lineSearchEvals;
      this.#funcEvals += lineSearchEvals;

      if (iteration === maxIter || currentEvals >= maxEval || optimal) break;
      const stepLength = history.t;
      if (read(() => max(abs(mul(d, stepLength)))) <= toleranceChange) break;
      if (Math.abs(loss - history.prevLoss) < toleranceChange) break;
    }
    this.#history = history;
    flatGrad.dispose();
    return originalLoss;
  }

  /** Adds the newest curvature pair (y, s) when it is positive enough, dropping the oldest past `historySize`. */
  #updateCurvature(history: History, flatGrad: Tensor, historySize: number): void {
    const y = owned(() => sub(flatGrad, history.prevFlatGrad));
    const s = owned(() => mul(history.d, history.t));
    const ys = dot(y, s);
    if (ys > 1e-10) {
      if (history.oldDirs.length === historySize) {
        history.oldDirs.shift()?.dispose();
        history.oldStps.shift()?.dispose();
        history.ro.shift();
      }
      history.oldDirs.push(y);
      history.oldStps.push(s);
      history.ro.push(1 / ys);
      history.hDiag = ys / dot(y, y);
    } else {
      y.dispose();
      s.dispose();
    }
  }

  /** The L-BFGS two-loop recursion: the approximate inverse Hessian times the negative gradient. */
  #twoLoopDirection(history: History, flatGrad: Tensor): Tensor {
    const { oldDirs, oldStps, ro, hDiag } = history;
    const count = oldDirs.length;
    const al: number[] = new Array(count).fill(0);
    let q = owned(() => neg(flatGrad));
    for (let i = count - 1; i >= 0; i--) {
      al[i] = dot(oldStps[i] as Tensor, q) * (ro[i] as number);
      const next = owned(() => add(q, mul(oldDirs[i] as Tensor, -(al[i] as number))));
      q.dispose();
      q = next;
    }
    let r = owned(() => mul(q, hDiag));
    q.dispose();
    for (let i = 0; i < count; i++) {
      const be = dot(oldDirs[i] as Tensor, r) * (ro[i] as number);
      const next = owned(() => add(r, mul(oldStps[i] as Tensor, (al[i] as number) - be)));
      r.dispose();
      r = next;
    }
    return r;
  }

  /** Calls the closure with the tape on, in a `tidy` scope that keeps the parameters' values and gradients. */
  #evaluate<L>(closure: () => L): L {
    return enableGrad(() =>
      tidy(() => {
        try {
          return closure();
        } finally {
          for (const p of this.#params) {
            keep(p.value);
            if (p.grad) keep(p.grad);
          }
        }
      }),
    );
  }

  /** The closure's loss as a number; a returned tensor is released. */
  #evaluateValue(closure: () => unknown): number {
    const result = this.#evaluate(closure);
    const value = lossValue(result);
    if (isTensor(result)) result.dispose();
    return value;
  }

  /** The loss and flat gradient at `start + t d`; the parameters are restored to `start` after. */
  #directionalEvaluate(closure: () => unknown, start: readonly Tensor[], t: number, d: Tensor): [number, Tensor] {
    this.#addGrad(t, d);
    const loss = this.#evaluateValue(closure);
    const flatGrad = this.#gatherFlatGrad();
    for (const [i, p] of this.#params.entries()) this.#setValue(p, cloneTensor(start[i] as Tensor));
    return [loss, flatGrad];
  }

  /** Every parameter's gradient (zeros where there is none), flattened and concatenated. */
  #gatherFlatGrad(): Tensor {
    return owned(() =>
      concat(
        this.#params.map((p) => {
          if (p.grad === null || p.grad === undefined) return zeros([p.value.size], { dtype: p.value.dtype, backend: p.value.backend });
          if (!shapesEqual(p.grad.shape, p.value.shape)) {
            throw new ValueError(
              `LBFGS.step: a parameter of shape ${formatShape(p.value.shape)} has a gradient of shape ${formatShape(p.grad.shape)}`,
            );
          }
          return reshape(cast(p.grad, p.value.dtype), [-1]);
        }),
      ),
    );
  }

  /** Moves the parameters by `t` times the flat direction `d`. */
  #addGrad(t: number, d: Tensor): void {
    let offset = 0;
    for (const p of this.#params) {
      const start = offset;
      const value = p.value;
      this.#setValue(
        p,
        tidy(() => cast(add(value, mul(reshape(narrow(d, 0, start, value.size), value.shape), t)), value.dtype)),
      );
      offset += value.size;
    }
  }

  /** Installs a parameter's new tensor and releases the one it replaces. */
  #setValue(p: ParameterLike, next: Tensor): void {
    const previous = p.value;
    p.value = keep(next);
    if (previous !== next) previous.dispose();
  }

  /**
   * The optimizer's state (PyTorch's names, camelCased, under parameter 0: funcEvals, nIter, the
   * last direction `d` and step `t`, the curvature pairs `oldDirs`, `oldStps`, `ro`, `hDiag`,
   * `prevFlatGrad`, `prevLoss`) and its group's options. The tensors are copies the caller owns.
   */
  stateDict(): LBFGSStateDict {
    const { params, ...options } = this.paramGroups[0];
    const paramGroups = [{ ...(options as LBFGSHyper), params: params.map((_, i) => i) }];
    if (this.#funcEvals === 0 && this.#history === null) return { state: {}, paramGroups };
    const h = this.#history;
    const entry: LBFGSStateEntry = {
      funcEvals: this.#funcEvals,
      nIter: this.#nIter,
      ...(h === null
        ? {}
        : {
            d: cloneTensor(h.d),
            t: h.t,
            oldDirs: h.oldDirs.map(cloneTensor),
            oldStps: h.oldStps.map(cloneTensor),
            ro: [...h.ro],
            hDiag: h.hDiag,
            prevFlatGrad: cloneTensor(h.prevFlatGrad),
            prevLoss: h.prevLoss,
          }),
    };
    return { state: { '0': entry }, paramGroups };
  }

  /**
   * Restores a state saved by `stateDict()` of an LBFGS over parameters of the same sizes. Every
   * problem is reported at once, in one ValueError; the tensors are copied (the caller still owns
   * `dict`).
   */
  loadStateDict(dict: unknown): void {
    rejectPromise('LBFGS.loadStateDict', dict, 'an optimizer state dict');
    const numel = this.#params.reduce((n, p) => n + p.value.size, 0);
    const problems = checkStateDict(dict, this.#params.length, numel);
    if (problems.length > 0) {
      throw new ValueError(
        `LBFGS.loadStateDict: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the state dict:\n  - ${problems.join('\n  - ')}`,
      );
    }
    const valid = dict as LBFGSStateDict;
    const { params: _params, ...options } = valid.paramGroups[0] as LBFGSStateDict['paramGroups'][number];
    validate({ ...this.paramGroups[0], ...options });
    Object.assign(this.paramGroups[0], options);
    disposeHistory(this.#history);
    this.#history = null;
    const entry = valid.state['0'];
    this.#funcEvals = entry?.funcEvals ?? 0;
    this.#nIter = entry?.nIter ?? 0;
    if (entry?.d !== undefined) {
      const dtype = this.#params[0]?.value.dtype ?? 'float32';
      const copy = (t: Tensor) => keep(t.dtype === dtype ? cloneTensor(t) : cast(t, dtype));
      this.#history = {
        d: copy(entry.d),
        t: entry.t as number,
        oldDirs: (entry.oldDirs ?? []).map(copy),
        oldStps: (entry.oldStps ?? []).map(copy),
        ro: [...(entry.ro ?? [])],
        hDiag: entry.hDiag as number,
        prevFlatGrad: copy(entry.prevFlatGrad as Tensor),
        prevLoss: entry.prevLoss as number,
      };
    }
  }

  /** Releases the optimizer's state tensors (not the parameters). */
  dispose(): void {
    disposeHistory(this.#history);
    this.#history = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function disposeHistory(history: History | null): void {
  if (history === null) return;
  for (const t of [history.d, history.prevFlatGrad, ...history.oldDirs, ...history.oldStps]) t.dispose();
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every problem of a saved LBFGS state for `count` parameters of `numel` elements in all. */
function checkStateDict(dict: unknown, count: number, numel: number): string[] {
  if (!isRecord(dict)) return ['the state dict is not an object with `state` and `paramGroups`'];
  const problems: string[] = [];
  const { state, paramGroups } = dict;
  if (!Array.isArray(paramGroups) || paramGroups.length !== 1)
    problems.push(`paramGroups must be a list of one group (LBFGS has one), got ${JSON.stringify(paramGroups)}`);
  else {
    const group = paramGroups[0];
    const expected = Array.from({ length: count }, (_, i) => i);
    if (!isRecord(group) || !Array.isArray(group.params) || JSON.stringify(group.params) !== JSON.stringify(expected))
      problems.push(`paramGroups[0].params must be ${JSON.stringify(expected)}`);
    else if (typeof group.lr !== 'number' || !Number.isFinite(group.lr))
      problems.push(`paramGroups[0].lr is ${JSON.stringify(group.lr)}, not a finite number`);
  }
  if (!isRecord(state)) return [...problems, 'state is not an object'];
  for (const key of Object.keys(state)) if (key !== '0') problems.push(`state[${key}]: LBFGS keeps its state under parameter 0 only`);
  const entry = state['0'];
  if (entry === undefined) return problems;
  if (!isRecord(entry)) return [...problems, 'state[0] is not an object'];
  const vector = (name: string, value: unknown) => {
    if (!isTensor(value)) problems.push(`state[0].${name} is not a tensor`);
    else if (value.isDisposed) problems.push(`state[0].${name} was disposed`);
    else if (!shapesEqual(value.shape, [numel]))
      problems.push(`state[0].${name} has shape ${formatShape(value.shape)}, expected [${numel}] (the parameters' size)`);
  };
  const number = (name: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      problems.push(`state[0].${name} is ${JSON.stringify(value)}, not a finite number`);
  };
  for (const name of ['funcEvals', 'nIter']) {
    const value = entry[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      problems.push(`state[0].${name} is ${JSON.stringify(value)}, not a non-negative integer`);
  }
  const historyNames = ['d', 't', 'oldDirs', 'oldStps', 'ro', 'hDiag', 'prevFlatGrad', 'prevLoss'];
  const known = new Set(['funcEvals', 'nIter', ...historyNames]);
  for (const name of Object.keys(entry))
    if (!known.has(name)) problems.push(`state[0].${name} is not part of LBFGS's state (expected ${[...known].join(', ')})`);
  if (entry.d === undefined) return problems;
  vector('d', entry.d);
  vector('prevFlatGrad', entry.prevFlatGrad);
  for (const name of ['t', 'hDiag', 'prevLoss']) number(name, entry[name]);
  const lists = ['oldDirs', 'oldStps', 'ro'].map((name) => [name, entry[name]] as const);
  for (const [name, list] of lists) if (!Array.isArray(list)) problems.push(`state[0].${name} is not a list`);
  const [dirs, steps, ro] = lists.map(([, list]) => list) as [unknown, unknown, unknown];
  if (Array.isArray(dirs) && Array.isArray(steps) && Array.isArray(ro)) {
    if (dirs.length !== steps.length || dirs.length !== ro.length)
      problems.push(`state[0].oldDirs, oldStps and ro must have the same length, got ${dirs.length}, ${steps.length} and ${ro.length}`);
    for (const [i, t] of dirs.entries()) vector(`oldDirs[${i}]`, t);
    for (const [i, t] of steps.entries()) vector(`oldStps[${i}]`, t);
    for (const [i, v] of ro.entries()) number(`ro[${i}]`, v);
  }
  return problems;
}
