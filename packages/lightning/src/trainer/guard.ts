import { TrainingStepError } from '../core/errors.js';

/** Where user code runs, for error messages. */
export interface Where {
  readonly stage: string;
  readonly phase: string;
  readonly epoch: number;
  readonly step: number;
  readonly batchIdx: number;
}

/** The error as the stream reports it: user code's errors wrapped with where they happened. */
export function wrapError(where: Where, error: unknown): unknown {
  if (error instanceof TrainingStepError) return error;
  return new TrainingStepError(where, error);
}

/** Runs user code (synchronous), reporting its errors with where they happened. */
export function guard<T>(where: Where, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw wrapError(where, error);
  }
}

/** Runs user code that may be asynchronous, reporting its errors with where they happened. */
export async function guardAsync<T>(where: Where, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw wrapError(where, error);
  }
}
