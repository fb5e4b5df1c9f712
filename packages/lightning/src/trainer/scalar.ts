import { isTensor, keep, type Tensor, ValueError } from '@flint/api';

/** A number now, or the promise of one from a backend that reads asynchronously. */
export type ScalarValue = number | Promise<number>;

function canReadSync(t: Tensor): boolean {
  return t._backend !== null && typeof t._backend.readSync === 'function';
}

/**
 * The value of a one-element tensor (or a number). On a backend that reads synchronously it is
 * read now; otherwise the tensor is kept alive and read asynchronously, then released, so that
 * logging never forces a synchronization inside a step.
 */
export function readScalar(owner: string, value: unknown): ScalarValue {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (!isTensor(value))
    throw new ValueError(`${owner}: expected a number or a one-element tensor, got ${value === null ? 'null' : typeof value}`);
  if (value.size !== 1)
    throw new ValueError(`${owner}: expected a one-element tensor, got shape [${value.shape.join(', ')}]; reduce it first (mean or sum)`);
  if (canReadSync(value)) return Number(value.item());
  const held = keep(value);
  held.retain();
  return held.data().then(
    (data) => {
      held.release();
      return Number(data[0]);
    },
    (error: unknown) => {
      held.release();
      throw error;
    },
  );
}
