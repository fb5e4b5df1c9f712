import { ConcretizationError, ValueError } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { forEachTensor, keepOwned, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Tracer } from '../transforms/core.js';

// Ops whose result's shape depends on the values of their input (nonzero, maskedSelect, unique,
// bincount without a length), as PyTorch's CUDA nonzero synchronizes. Each runs in two steps:
// the device work up to the few integers that fix the result's size (a count, a maximum), a read
// of those integers alone, and the rest on the device once they are known. The synchronous form
// (`nonzero`) reads with `dataSync` and so needs a backend with synchronous reads; the
// asynchronous form (`nonzeroAsync`) awaits the read and works on every backend. Both run the
// same two steps.
//
// Under grad, jvp and the imperative tape the values exist underneath the traced ones and are
// read there. Under jit they do not exist yet, and under vmap every example could need a
// different size: both are a ConcretizationError naming the op and a static alternative.

/** The first step's result: the integers to read, and what the second step reuses. */
export interface Prepared<S> {
  /** An int32 tensor of the integers that fix the result's shape; null when nothing needs reading (an empty input). */
  readonly sizes: Tensor | null;
  readonly state: S;
}

/** A data-dependent op: its names, its two steps, and what to use where its result cannot be sized. */
export interface DataDependentOp<S, R> {
  /** The synchronous form's name, as the user called it ('nonzero'). */
  readonly op: string;
  /** The asynchronous form's name ('nonzeroAsync'). */
  readonly asyncOp: string;
  /** A static alternative, for the error under jit and vmap ("use where(mask, x, 0), which keeps x's shape"). */
  readonly alternative: string;
  prepare(): Prepared<S>;
  finish(sizes: readonly number[], state: S): R;
}

/**
 * The concrete tensor holding `t`'s values: `t` itself, or what lies underneath its tracers
 * (the primal under grad and jvp). A ConcretizationError under jit (no value yet) and under vmap
 * (one value per example).
 */
function concreteSizes<S, R>(spec: DataDependentOp<S, R>, t: Tensor): Tensor {
  let current: Tensor = t;
  while (current instanceof Tracer) {
    const transform = current._trace.transform;
    const lower = current._lower();
    if (lower === null) {
      throw new ConcretizationError(
        `${spec.op}: the shape of its result depends on the values of its input, which do not exist yet while ${transform} traces; ` +
          `${spec.alternative}, or call ${spec.op} outside the ${transform}-transformed function`,
      );
    }
    if (!shapesEqual(lower.shape, current.shape)) {
      throw new ConcretizationError(
        `${spec.op}: under ${transform} each example could need a result of a different shape, which one batched tensor cannot hold; ` +
          `${spec.alternative}, or loop over the examples`,
      );
    }
    current = lower;
  }
  return current;
}

function readSizesSync<S, R>(spec: DataDependentOp<S, R>, t: Tensor): number[] {
  const concrete = concreteSizes(spec, t);
  const backend = concrete.concreteBackend(spec.op);
  if (backend.readSync === undefined) {
    throw new ValueError(
      `${spec.op}: the shape of its result depends on the values of its input, and backend '${backend.name}' reads asynchronously; ` +
        `use \`await ${spec.asyncOp}(...)\``,
    );
  }
  return Array.from(concrete.dataSync());
}

async function readSizes<S, R>(spec: DataDependentOp<S, R>, t: Tensor): Promise<number[]> {
  return Array.from(await concreteSizes(spec, t).data());
}

/** @internal Runs a data-dependent op, reading its sizes synchronously. */
export function runDataDependent<S, R>(spec: DataDependentOp<S, R>): R {
  return tidy(() => {
    const { sizes, state } = spec.prepare();
    return spec.finish(sizes === null ? [] : readSizesSync(spec, sizes), state);
  });
}

/** @internal Runs a data-dependent op, awaiting the read of its sizes. */
export async function runDataDependentAsync<S, R>(spec: DataDependentOp<S, R>): Promise<R> {
  // tidy scopes cannot span the await: the first step's tensors are kept by hand and freed after
  // the second, except those the result holds.
  let owned: Tensor[] = [];
  const prepared = tidy(() => {
    const p = spec.prepare();
    owned = keepOwned(p);
    return p;
  });
  let result: R | undefined;
  try {
    const sizes = prepared.sizes === null ? [] : await readSizes(spec, prepared.sizes);
    result = tidy(() => spec.finish(sizes, prepared.state));
    return result;
  } finally {
    const returned = new Set<Tensor>();
    forEachTensor(result, (t) => returned.add(t));
    for (const t of owned) if (!returned.has(t)) t.dispose();
  }
}
