import { forEachTensor, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { concreteOf } from '../../transforms/core.js';

// What the iterative linear-algebra kernels (the Jacobi sweeps, matrixExp's squarings) share: a
// loop whose superseded states are freed as it goes (a sweep of a 256 x 256 Jacobi makes
// hundreds of matrices, which the enclosing tidy scope would otherwise hold to its end), and a
// look at a value that decides how many steps to run, where it can be had without waiting.

/** The concrete tensors under a pytree of tensors, tracers included (their data underneath). */
function heldTensors(value: unknown): Set<Tensor> {
  const held = new Set<Tensor>();
  const visit = (t: Tensor): void => {
    if (t._backend !== null) held.add(t);
    const wrapped = (t as { _wrapped?: () => (Tensor | null)[] })._wrapped?.();
    if (wrapped !== undefined) for (const w of wrapped) if (w !== null) visit(w);
  };
  forEachTensor(value, visit);
  return held;
}

/**
 * `step` applied to `initial` until `more(state, count)` (count: the steps taken so far) says
 * stop, each step in a tidy scope of its own; the tensors of each superseded state that the loop
 * made are disposed once the next state exists (never those of `initial`). The final state joins
 * the enclosing scope like any result of `tidy`.
 */
export function iterate<S>(initial: S, more: (state: S, count: number) => boolean, step: (state: S) => S): S {
  const given = heldTensors(initial);
  let state = initial;
  let held = given;
  for (let count = 0; more(state, count); count++) {
    const current = state;
    state = tidy(() => step(current));
    const next = heldTensors(state);
    for (const t of held) if (!next.has(t) && !given.has(t)) t.dispose();
    held = next;
  }
  return state;
}

/**
 * The values of `x` where they can be read without waiting: `x` (or the data under a vmap or grad
 * tracer) is concrete and its backend reads synchronously; undefined under jit and on backends that
 * read only asynchronously, where a kernel falls back to a fixed schedule.
 */
export function readNow(x: Tensor): ArrayLike<number> | undefined {
  return readableNow(x) ? ((concreteOf(x) as Tensor).dataSync() as ArrayLike<number>) : undefined;
}

/** Whether `readNow(x)` would read (so that a caller can skip computing what it would read). */
export function readableNow(x: Tensor): boolean {
  const backend = concreteOf(x)?._backend;
  return backend !== null && backend !== undefined && backend.readSync !== undefined;
}

/** The largest of `readNow(x)` (NaN if any is NaN), or undefined where `x` cannot be read now. */
export function largestNow(x: Tensor): number | undefined {
  const values = readNow(x);
  if (values === undefined) return undefined;
  let largest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) return Number.NaN;
    if (v > largest) largest = v;
  }
  return largest;
}
