import type { AutogradState } from '../autograd/state.js';
import type { Backend } from '../backend/spi.js';
import type { Aval } from '../core/aval.js';
import { type DType, isHalf, type TypedArray } from '../core/dtype.js';
import { ConcretizationError, DisposedError, ValueError } from '../core/errors.js';
import { decodeHalf } from '../core/half.js';
import { type Shape, sizeOf } from '../core/shape.js';
import { trackTensor, untrackTensor } from './memory.js';

/** Nested JavaScript arrays, as `array()` returns them. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An immutable n-dimensional array on one backend. Operations return new tensors; methods such
 * as `x.add(y)` are thin wrappers over the functions of the same name (installed by
 * tensor/methods.ts). A concrete tensor owns a handle to backend memory until `dispose()`, the end
 * of its `tidy` scope, or garbage collection.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]]);
 * console.log(x.add(1).mul(x).toString());
 */
export class Tensor implements Aval {
  readonly shape: Shape;
  readonly dtype: DType;
  /** @internal The backend holding the data; null for abstract tracer values. */
  _backend: Backend | null;
  /** @internal The backend's handle; undefined once disposed. */
  _handle: unknown;
  /** @internal Imperative autograd state (see autograd/); null when the tensor takes no part in it. */
  _autograd: AutogradState | null = null;
  /**
   * @internal How many internal holders (autodiff tapes saving it for the backward pass, jit
   * constants) still need this tensor's data. `dispose()` of a retained tensor is deferred until
   * the last `release()`, so that composite ops and `tidy` can free intermediates eagerly without
   * breaking a backward pass that saved them.
   */
  _retainCount = 0;
  /** @internal `dispose()` was called while retained. */
  _disposeRequested = false;
  /**
   * @internal Whether the backend's FinalizationRegistry holds this tensor (tensor/memory.ts): a
   * tensor made inside a `tidy` scope is registered only if it outlives the scopes undisposed.
   */
  _finalizerRegistered = false;
  /**
   * @internal The JavaScript number `toTensor` made this tensor from (the 2 of `x.mul(2)`), so that
   * jit stages it as a literal without reading it back. A field rather than a WeakMap entry: an op
   * with a scalar operand makes one such tensor per call.
   */
  _scalar: number | undefined = undefined;

  /** @internal Use `tensor()`, `zeros()` and the other creation functions. */
  constructor(shape: Shape, dtype: DType, backend: Backend | null, handle: unknown) {
    this.shape = shape;
    this.dtype = dtype;
    this._backend = backend;
    this._handle = handle;
    if (backend !== null) trackTensor(this);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Alias of `ndim`, as in TensorFlow.js. */
  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Name of the backend holding the data. */
  get backend(): string {
    return this.concreteBackend('backend').name;
  }

  /** Whether `dispose()` has been called (or the tensor released by its `tidy` scope). */
  get isDisposed(): boolean {
    return this._backend !== null && (this._handle === undefined || this._disposeRequested);
  }

  /** @internal The backend, checking that the tensor is concrete and alive. */
  concreteBackend(op: string): Backend {
    const backend = this._backend;
    if (backend === null) {
      throw new ConcretizationError(
        `${op}: this tensor is an abstract traced value (shape ${JSON.stringify(this.shape)}, ${this.dtype}) and has no data; read values outside grad/vmap/jit, or pass them as static arguments`,
      );
    }
    if (this._handle === undefined) {
      throw new DisposedError(`${op}: tensor of shape ${JSON.stringify(this.shape)} (${this.dtype}) was disposed`);
    }
    return backend;
  }

  /** Releases the tensor's memory. Safe to call twice. */
  dispose(): void {
    if (this._backend === null || this._handle === undefined) return;
    if (this._retainCount > 0) {
      this._disposeRequested = true;
      return;
    }
    const handle = this._handle;
    this._handle = undefined;
    untrackTensor(this);
    this._backend.dispose(handle);
  }

  /** @internal Keeps the data alive for an internal holder until the matching `release()`. */
  retain(): void {
    this._retainCount++;
  }

  /** @internal Ends a `retain()`; completes a deferred `dispose()` when it was the last one. */
  release(): void {
    if (this._retainCount === 0) return;
    this._retainCount--;
    if (this._retainCount === 0 && this._disposeRequested) this.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Resolves to a row-major copy of the elements once the backend has computed them. float16 and
   * bfloat16 tensors read as a Float32Array of their (exactly representable) values.
   */
  async data(): Promise<TypedArray> {
    const backend = this.concreteBackend('data');
    return decodeStorage(this.dtype, await backend.read(this._handle));
  }

  /** The elements, synchronously; a BackendError on backends that can only read asynchronously. */
  dataSync(): TypedArray {
    const backend = this.concreteBackend('dataSync');
    if (!backend.readSync) {
      throw new ValueError(`dataSync: backend '${backend.name}' reads asynchronously; use \`await t.data()\``);
    }
    return decodeStorage(this.dtype, backend.readSync(this._handle));
  }

  /** Resolves to the elements as nested arrays (booleans for bool tensors). */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape, this.dtype);
  }

  /** The nested arrays, synchronously, where the backend allows. */
  arraySync(): NestedArray {
    return nest(this.dataSync(), this.shape, this.dtype);
  }

  /** The single element of a one-element tensor, synchronously. */
  item(): number | boolean {
    if (this.size !== 1) {
      throw new ValueError(
        `item: only a tensor with one element can be converted to a number, this one has shape ${JSON.stringify(this.shape)}`,
      );
    }
    this.concreteBackend('item'); // a traced tensor's error names item(), the call the user wrote
    const value = this.dataSync()[0] as number;
    return this.dtype === 'bool' ? value !== 0 : value;
  }
}

/**
 * @internal The elements as the backend stores them: like `data()`, except that float16 and
 * bfloat16 stay Uint16Array bit patterns (for writers of binary formats).
 */
export function readStorage(t: Tensor): Promise<TypedArray> {
  return t.concreteBackend('data').read(t._handle);
}

/** @internal `readStorage`, synchronously. */
export function readStorageSync(t: Tensor): TypedArray {
  if (!isHalf(t.dtype)) return t.dataSync();
  const backend = t.concreteBackend('dataSync');
  if (!backend.readSync) {
    throw new ValueError(`dataSync: backend '${backend.name}' reads asynchronously; use \`await t.data()\``);
  }
  return backend.readSync(t._handle);
}

/** Backend storage as users see it: half bit patterns become their float32 values. */
export function decodeStorage(dtype: DType, data: TypedArray): TypedArray {
  return isHalf(dtype) && data instanceof Uint16Array ? decodeHalf(dtype, data) : data;
}

function nest(data: TypedArray, shape: Shape, dtype: DType): NestedArray {
  const toValue = dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
  if (shape.length === 0) return toValue(data[0] as number);
  const build = (dim: number, offset: number, stride: number): NestedArray[] => {
    const n = shape[dim] as number;
    const inner = stride / Math.max(n, 1);
    const out: NestedArray[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = dim === shape.length - 1 ? toValue(data[offset + i] as number) : build(dim + 1, offset + i * inner, inner);
    }
    return out;
  };
  return build(0, 0, sizeOf(shape));
}
