import type { Tensor } from '../tensor/tensor.js';

/** The structure a gradient (or cotangent) of a value of type T has: T with tensors for its numbers. */
export type Gradient<T> = T extends Tensor
  ? Tensor
  : T extends number
    ? Tensor
    : T extends null | undefined
      ? T
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Gradient<T[K]> }
        : T extends object
          ? { -readonly [K in keyof T]: Gradient<T[K]> }
          : T;

/** Options of `grad`, `valueAndGrad`, `jacrev`, `jacfwd` and `hessian`. */
export interface GradOptions {
  /** Which positional argument(s) to differentiate: a number gives one gradient, a list a tuple (default 0). */
  readonly argnums?: number | readonly number[];
  /** The function returns `[output, aux]`; aux comes back alongside the gradient, not differentiated. */
  readonly hasAux?: boolean;
}

/** The gradient type for arguments `A` and options `O`. */
export type GradientFor<A extends readonly unknown[], O> = O extends { readonly argnums: infer I extends readonly number[] }
  ? { -readonly [K in keyof I]: Gradient<A[I[K] & number]> }
  : O extends { readonly argnums: infer I extends number }
    ? Gradient<A[I]>
    : Gradient<A[0]>;

/** The aux value of a `hasAux` function's `[output, aux]`. */
export type AuxOf<R> = R extends readonly [unknown, infer Aux] ? Aux : never;

/**
 * A pullback (or linear map) that holds a tape. Call it as often as needed; `dispose()` (or
 * `using`) releases the values the tape saved now, instead of when it is garbage-collected.
 */
export type Disposable<F> = F & { dispose(): void; [Symbol.dispose](): void };

/** @internal Attaches `dispose` to a function that holds a tape. */
export function disposable<F extends (...args: never[]) => unknown>(fn: F, release: () => void): Disposable<F> {
  return Object.assign(fn, { dispose: release, [Symbol.dispose]: release });
}
