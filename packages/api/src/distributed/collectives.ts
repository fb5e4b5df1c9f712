import { type DType, isFloating, type TypedArray } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { tensor } from '../ops/convert.js';
import type { Tensor } from '../tensor/tensor.js';
import { processGroup } from './process-group.js';
import type { ReduceOp, Transport, TransportReduceOp } from './transport.js';

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'mean', 'max', 'min', 'prod'];

function checkOp(op: string, value: unknown, dtype: DType): ReduceOp {
  if (!REDUCE_OPS.includes(value as ReduceOp))
    throw new ValueError(`${op}: op must be one of ${REDUCE_OPS.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(value)}`);
  const reduce = value as ReduceOp;
  if (reduce === 'mean' && !isFloating(dtype))
    throw new DTypeError(`${op}: 'mean' needs a floating tensor, got ${dtype}; reduce with 'sum' and divide yourself`);
  if (dtype === 'bool' && (reduce === 'sum' || reduce === 'prod'))
    throw new DTypeError(`${op}: bool tensors reduce with 'max' (any) or 'min' (all), got '${reduce}'`);
  return reduce;
}

function checkTensor(op: string, t: unknown): Tensor {
  if (typeof t !== 'object' || t === null || typeof (t as Tensor).dataSync !== 'function')
    throw new ValueError(`${op}: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
  return t as Tensor;
}

function checkRoot(op: string, root: unknown, group: Transport): number {
  if (typeof root !== 'number' || !Number.isInteger(root) || root < 0 || root >= group.worldSize)
    throw new ValueError(`${op}: root must be a rank in [0, ${group.worldSize}), got ${JSON.stringify(root)}`);
  return root;
}

/** Reduces a host copy in place; 'mean' is a sum divided by the world size. */
function reduceHost(group: Transport, data: TypedArray, op: ReduceOp): void {
  group.allReduce(data, op === 'mean' ? 'sum' : (op as TransportReduceOp));
  if (op === 'mean' && group.worldSize > 1) {
    const scale = 1 / group.worldSize;
    for (let i = 0; i < data.length; i++) (data as Float32Array)[i] = (data[i] as number) * scale;
  }
}

function fromHost(data: TypedArray, like: Tensor, shape: readonly number[] = like.shape): Tensor {
  return tensor(data, { dtype: like.dtype, backend: like.backend, shape });
}

/**
 * Reduces `t` over all ranks and returns the result on every rank, on `t`'s backend
 * (torch.distributed.all_reduce). Every rank calls it with a tensor of the same shape and dtype.
 * The tensor is read synchronously: use `allReduce` on backends that read asynchronously.
 *
 * @example
 * const total = distributed.allReduceSync(localLoss, 'mean');
 */
export function allReduceSync(t: Tensor, op: ReduceOp = 'sum'): Tensor {
  const name = 'allReduce';
  const input = checkTensor(name, t);
  const reduce = checkOp(name, op, input.dtype);
  const group = processGroup(name);
  const data = input.dataSync().slice();
  reduceHost(group, data, reduce);
  return fromHost(data, input);
}

/**
 * `allReduceSync` for any backend: reads `t` asynchronously first.
 *
 * @example
 * const mean = await distributed.allReduce(metric, 'mean');
 */
export async function allReduce(t: Tensor, op: ReduceOp = 'sum'): Promise<Tensor> {
  const name = 'allReduce';
  const input = checkTensor(name, t);
  const reduce = checkOp(name, op, input.dtype);
  const group = processGroup(name);
  const data = (await input.data()).slice();
  reduceHost(group, data, reduce);
  return fromHost(data, input);
}

/**
 * The root rank's `t` on every rank (torch.distributed.broadcast); other ranks pass a tensor of
 * the same shape and dtype, whose values are ignored.
 *
 * @example
 * const weights = distributed.broadcastSync(initialWeights, 0);
 */
export function broadcastSync(t: Tensor, root = 0): Tensor {
  const name = 'broadcast';
  const input = checkTensor(name, t);
  const group = processGroup(name);
  const from = checkRoot(name, root, group);
  const data = input.dataSync().slice();
  group.broadcast(data, from);
  return fromHost(data, input);
}

/** `broadcastSync` for any backend. */
export async function broadcast(t: Tensor, root = 0): Promise<Tensor> {
  const name = 'broadcast';
  const input = checkTensor(name, t);
  const group = processGroup(name);
  const from = checkRoot(name, root, group);
  const data = (await input.data()).slice();
  group.broadcast(data, from);
  return fromHost(data, input);
}

/**
 * Every rank's `t`, stacked in rank order: shape `[worldSize, ...t.shape]` (torch's all_gather
 * into one tensor).
 *
 * @example
 * const all = distributed.allGatherSync(predictions); // [worldSize, batch, classes]
 */
export function allGatherSync(t: Tensor): Tensor {
  const name = 'allGather';
  const input = checkTensor(name, t);
  const group = processGroup(name);
  return fromHost(group.allGather(input.dataSync().slice()), input, [group.worldSize, ...input.shape]);
}

/** `allGatherSync` for any backend. */
export async function allGather(t: Tensor): Promise<Tensor> {
  const name = 'allGather';
  const input = checkTensor(name, t);
  const group = processGroup(name);
  return fromHost(group.allGather((await input.data()).slice()), input, [group.worldSize, ...input.shape]);
}

function scatterShape(name: string, input: Tensor, group: Transport): number[] {
  const first = input.shape[0];
  if (first === undefined || first % group.worldSize !== 0)
    throw new ValueError(
      `${name}: the first dimension must divide evenly among ${group.worldSize} ranks, got shape [${input.shape.join(', ')}]`,
    );
  return [first / group.worldSize, ...input.shape.slice(1)];
}

function reduceScatterHost(group: Transport, data: TypedArray, op: ReduceOp): TypedArray {
  const out = group.reduceScatter(data, op === 'mean' ? 'sum' : (op as TransportReduceOp));
  if (op === 'mean' && group.worldSize > 1)
    for (let i = 0; i < out.length; i++) (out as Float32Array)[i] = (out[i] as number) / group.worldSize;
  return out;
}

/**
 * Reduces `t` over all ranks and gives each rank its slice of the first dimension: rank r gets
 * rows `[r * n / worldSize, (r + 1) * n / worldSize)` (torch's reduce_scatter_tensor).
 *
 * @example
 * const mine = distributed.reduceScatterSync(gradients, 'sum'); // [n / worldSize, ...]
 */
export function reduceScatterSync(t: Tensor, op: ReduceOp = 'sum'): Tensor {
  const name = 'reduceScatter';
  const input = checkTensor(name, t);
  const reduce = checkOp(name, op, input.dtype);
  const group = processGroup(name);
  const shape = scatterShape(name, input, group);
  return fromHost(reduceScatterHost(group, input.dataSync().slice(), reduce), input, shape);
}

/** `reduceScatterSync` for any backend. */
export async function reduceScatter(t: Tensor, op: ReduceOp = 'sum'): Promise<Tensor> {
  const name = 'reduceScatter';
  const input = checkTensor(name, t);
  const reduce = checkOp(name, op, input.dtype);
  const group = processGroup(name);
  const shape = scatterShape(name, input, group);
  return fromHost(reduceScatterHost(group, (await input.data()).slice(), reduce), input, shape);
}

/**
 * Returns once every rank has called it (torch.distributed.barrier).
 *
 * @example
 * if (distributed.rank() === 0) await prepareData();
 * distributed.barrier();
 */
export function barrier(): void {
  processGroup('barrier').barrier();
}

/**
 * Reduces plain numbers over all ranks (metrics, decisions), as float64.
 *
 * @example
 * const [anyRankWantsToStop] = distributed.allReduceValues([stop ? 1 : 0], 'max');
 */
export function allReduceValues(values: readonly number[], op: ReduceOp = 'sum'): number[] {
  const name = 'allReduceValues';
  checkOp(name, op, 'float64');
  const data = Float64Array.from(values);
  reduceHost(processGroup(name), data, op);
  return [...data];
}

/** Options of `allReduceCoalescedSync`. */
export interface CoalescedOptions {
  /** The most megabytes one transport call carries (default 25, as torch's DDP buckets). */
  readonly bucketCapMb?: number;
}

const ARRAY_OF: Record<DType, new (length: number) => TypedArray> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/**
 * Reduces many tensors with few transport calls: tensors of one dtype are packed into buckets of
 * at most `bucketCapMb` megabytes, each bucket reduced in one call, and the results unpacked
 * (torch's DDP gradient buckets). Returns the reduced tensors in order.
 *
 * @example
 * const synced = distributed.allReduceCoalescedSync(grads, 'mean', { bucketCapMb: 25 });
 */
export function allReduceCoalescedSync(tensors: readonly Tensor[], op: ReduceOp = 'sum', options: CoalescedOptions = {}): Tensor[] {
  const name = 'allReduceCoalesced';
  if (!Array.isArray(tensors)) throw new ValueError(`${name}: expected a list of tensors`);
  const capMb = options.bucketCapMb ?? 25;
  if (!(typeof capMb === 'number' && capMb > 0))
    throw new ValueError(`${name}: bucketCapMb must be a positive number, got ${String(capMb)}`);
  const group = processGroup(name);
  const inputs = tensors.map((t) => checkTensor(name, t));
  const results: (Tensor | undefined)[] = new Array(inputs.length);
  const capBytes = capMb * 1024 * 1024;
  const byDType = new Map<DType, number[]>();
  inputs.forEach((t, i) => {
    checkOp(name, op, t.dtype);
    const list = byDType.get(t.dtype) ?? [];
    list.push(i);
    byDType.set(t.dtype, list);
  });
  for (const [dtype, indices] of byDType) {
    const bytesPerElement = new ARRAY_OF[dtype](0).BYTES_PER_ELEMENT;
    let start = 0;
    while (start < indices.length) {
      // One bucket: at least one tensor, then more while under the cap.
      let end = start + 1;
      let elements = (inputs[indices[start] as number] as Tensor).size;
      while (end < indices.length && (elements + (inputs[indices[end] as number] as Tensor).size) * bytesPerElement <= capBytes) {
        elements += (inputs[indices[end] as number] as Tensor).size;
        end++;
      }
      const bucket = new ARRAY_OF[dtype](elements);
      let offset = 0;
      for (let k = start; k < end; k++) {
        const t = inputs[indices[k] as number] as Tensor;
        bucket.set(t.dataSync(), offset);
        offset += t.size;
      }
      reduceHost(group, bucket, op);
      offset = 0;
      for (let k = start; k < end; k++) {
        const index = indices[k] as number;
        const t = inputs[index] as Tensor;
        results[index] = fromHost(bucket.slice(offset, offset + t.size), t);
        offset += t.size;
      }
      start = end;
    }
  }
  return results as Tensor[];
}
