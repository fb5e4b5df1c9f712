import type { Backend } from '../backend/spi.js';
import { type DType, isFloating, isHalf, type TypedArray, typedArrayConstructor } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { tensor } from '../ops/convert.js';
import { Tensor } from '../tensor/tensor.js';
import { type DeviceCollectives, deviceCollectivesFor, whyNoDeviceCollectives } from './device-collectives.js';
import { DistributedError } from './errors.js';
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

/** The device collectives of `input`'s backend in this job (NCCL for CUDA tensors), if any. */
function deviceFor(op: string, input: Tensor, group: Transport): { backend: Backend; device: DeviceCollectives } | undefined {
  const backend = input.concreteBackend(op);
  const device = deviceCollectivesFor(backend, group);
  return device === undefined ? undefined : { backend, device };
}

/** A tensor around a handle a device collective returned. */
function fromDevice(backend: Backend, handle: unknown, shape: Shape, dtype: DType): Tensor {
  return new Tensor(shape, dtype, backend, handle);
}

/**
 * The host copy a synchronous collective works on (reads return fresh copies, per the backend
 * SPI, so the collective may write into it); a clear error where the backend cannot read
 * synchronously.
 */
function readSync(op: string, input: Tensor): TypedArray {
  const backend = input.concreteBackend(op);
  if (backend.readSync === undefined)
    throw new DistributedError(
      `${op}Sync: backend '${backend.name}' reads asynchronously and its tensors cannot use device collectives here (${whyNoDeviceCollectives(backend.name)}); use \`await distributed.${op}(...)\``,
    );
  return input.dataSync();
}

/**
 * Reduces `t` over all ranks and returns the result on every rank, on `t`'s backend
 * (torch.distributed.all_reduce). Every rank calls it with a tensor of the same shape and dtype.
 * CUDA tensors reduce on the device through NCCL (queued on the stream: nothing waits); other
 * tensors are read synchronously: use `allReduce` on backends that read asynchronously.
 *
 * @example
 * const total = distributed.allReduceSync(localLoss, 'mean');
 */
export function allReduceSync(t: Tensor, op: ReduceOp = 'sum'): Tensor {
  const name = 'allReduce';
  const input = checkTensor(name, t);
  const reduce = checkOp(name, op, input.dtype);
  const group = processGroup(name);
  const on = deviceFor(name, input, group);
  if (on !== undefined)
    return fromDevice(on.backend, on.device.allReduce(input._handle, input.shape, input.dtype, reduce), input.shape, input.dtype);
  const data = readSync(name, input);
  reduceHost(group, data, reduce);
  return fromHost(data, input);
}

/**
 * `allReduceSync` for any backend: reads `t` asynchronously first (unless its backend reduces
 * on the device).
 *
 * @example
 * const mean = await distributed.allReduce(metric, 'mean');
 */
export async function allReduce(t: Tensor, op: ReduceOp = 'sum'): Promise<Tensor> {
  const name = 'allReduce';
  const input = checkTensor(name, t);
  const reduce = checkOp(name, op, input.dtype);
  const group = processGroup(name);
  if (deviceFor(name, input, group) !== undefined) return allReduceSync(input, reduce);
  const data = await input.data();
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
  const on = deviceFor(name, input, group);
  if (on !== undefined)
    return fromDevice(on.backend, on.device.broadcast(input._handle, input.shape, input.dtype, from), input.shape, input.dtype);
  const data = readSync(name, input);
  group.broadcast(data, from);
  return fromHost(data, input);
}

/** `broadcastSync` for any backend. */
export async function broadcast(t: Tensor, root = 0): Promise<Tensor> {
  const name = 'broadcast';
  const input = checkTensor(name, t);
  const group = processGroup(name);
  const from = checkRoot(name, root, group);
  if (deviceFor(name, input, group) !== undefined) return broadcastSync(input, from);
  const data = await input.data();
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
  const shape = [group.worldSize, ...input.shape];
  const on = deviceFor(name, input, group);
  if (on !== undefined) return fromDevice(on.backend, on.device.allGather(input._handle, input.shape, input.dtype), shape, input.dtype);
  return fromHost(group.allGather(readSync(name, input)), input, shape);
}

/** `allGatherSync` for any backend. */
export async function allGather(t: Tensor): Promise<Tensor> {
  const name = 'allGather';
  const input = checkTensor(name, t);
  const group = processGroup(name);
  if (deviceFor(name, input, group) !== undefined) return allGatherSync(input);
  return fromHost(group.allGather(await input.data()), input, [group.worldSize, ...input.shape]);
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
  const on = deviceFor(name, input, group);
  if (on !== undefined)
    return fromDevice(on.backend, on.device.reduceScatter(input._handle, input.shape, input.dtype, reduce), shape, input.dtype);
  return fromHost(reduceScatterHost(group, readSync(name, input), reduce), input, shape);
}

/** `reduceScatterSync` for any backend. */
export async function reduceScatter(t: Tensor, op: ReduceOp = 'sum'): Promise<Tensor> {
  const name = 'reduceScatter';
  const input = checkTensor(name, t);
  const reduce = checkOp(name, op, input.dtype);
  const group = processGroup(name);
  const shape = scatterShape(name, input, group);
  if (deviceFor(name, input, group) !== undefined) return reduceScatterSync(input, reduce);
  return fromHost(reduceScatterHost(group, await input.data(), reduce), input, shape);
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

/** The host array a bucket of `dtype` packs into (half tensors read back as float32). */
function hostArray(dtype: DType, length: number): TypedArray {
  return isHalf(dtype) ? new Float32Array(length) : new (typedArrayConstructor(dtype))(length);
}

interface CoalescedPlan {
  readonly inputs: readonly Tensor[];
  readonly capBytes: number;
  readonly group: Transport;
  /** Indices per dtype that go through the host transport, and those that reduce on a device. */
  readonly host: Map<DType, number[]>;
  readonly device: Map<string, { backend: Backend; device: DeviceCollectives; indices: number[] }>;
}

function planCoalesced(name: string, tensors: readonly Tensor[], op: ReduceOp, options: CoalescedOptions): CoalescedPlan {
  if (!Array.isArray(tensors)) throw new ValueError(`${name}: expected a list of tensors`);
  const capMb = options.bucketCapMb ?? 25;
  if (!(typeof capMb === 'number' && capMb > 0))
    throw new ValueError(`${name}: bucketCapMb must be a positive number, got ${String(capMb)}`);
  const group = processGroup(name);
  const inputs = tensors.map((t) => checkTensor(name, t));
  const host = new Map<DType, number[]>();
  const device = new Map<string, { backend: Backend; device: DeviceCollectives; indices: number[] }>();
  inputs.forEach((t, i) => {
    checkOp(name, op, t.dtype);
    const on = deviceFor(name, t, group);
    if (on !== undefined) {
      const key = `${on.backend.name}:${t.dtype}`;
      const entry = device.get(key) ?? { ...on, indices: [] };
      entry.indices.push(i);
      device.set(key, entry);
      return;
    }
    const list = host.get(t.dtype) ?? [];
    list.push(i);
    host.set(t.dtype, list);
  });
  return { inputs, capBytes: capMb * 1024 * 1024, group, host, device };
}

/** Runs a plan: device groups queue one grouped call each, host tensors travel in buckets. */
function runCoalesced(plan: CoalescedPlan, op: ReduceOp, hostData: (index: number) => TypedArray): Tensor[] {
  const { inputs, group, capBytes } = plan;
  const results: (Tensor | undefined)[] = new Array(inputs.length);
  for (const { backend, device, indices } of plan.device.values()) {
    const chosen = indices.map((i) => inputs[i] as Tensor);
    const dtype = (chosen[0] as Tensor).dtype;
    const handles = device.allReduceMany(
      chosen.map((t) => t._handle),
      chosen.map((t) => t.shape),
      dtype,
      op,
    );
    indices.forEach((index, k) => {
      results[index] = fromDevice(backend, handles[k], (chosen[k] as Tensor).shape, dtype);
    });
  }
  for (const [dtype, indices] of plan.host) {
    const bytesPerElement = hostArray(dtype, 0).BYTES_PER_ELEMENT;
    let start = 0;
    while (start < indices.length) {
      // One bucket: at least one tensor, then more while under the cap.
      let end = start + 1;
      let elements = (inputs[indices[start] as number] as Tensor).size;
      while (end < indices.length && (elements + (inputs[indices[end] as number] as Tensor).size) * bytesPerElement <= capBytes) {
        elements += (inputs[indices[end] as number] as Tensor).size;
        end++;
      }
      const bucket = hostArray(dtype, elements);
      let offset = 0;
      for (let k = start; k < end; k++) {
        const index = indices[k] as number;
        bucket.set(hostData(index), offset);
        offset += (inputs[index] as Tensor).size;
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

/**
 * Reduces many tensors with few transport calls: tensors of one dtype are packed into buckets of
 * at most `bucketCapMb` megabytes, each bucket reduced in one call, and the results unpacked
 * (torch's DDP gradient buckets). CUDA tensors reduce on the device in one NCCL group per dtype.
 * Returns the reduced tensors in order.
 *
 * @example
 * const synced = distributed.allReduceCoalescedSync(grads, 'mean', { bucketCapMb: 25 });
 */
export function allReduceCoalescedSync(tensors: readonly Tensor[], op: ReduceOp = 'sum', options: CoalescedOptions = {}): Tensor[] {
  const name = 'allReduceCoalesced';
  const plan = planCoalesced(name, tensors, op, options);
  return runCoalesced(plan, op, (index) => readSync(name, plan.inputs[index] as Tensor));
}

/**
 * `allReduceCoalescedSync` for any backend: the tensors that travel through the host are read
 * asynchronously first (all reads in flight at once).
 *
 * @example
 * const synced = await distributed.allReduceCoalesced(grads, 'mean');
 */
export async function allReduceCoalesced(
  tensors: readonly Tensor[],
  op: ReduceOp = 'sum',
  options: CoalescedOptions = {},
): Promise<Tensor[]> {
  const name = 'allReduceCoalesced';
  const plan = planCoalesced(name, tensors, op, options);
  const hostIndices = [...plan.host.values()].flat();
  const read = await Promise.all(hostIndices.map((i) => (plan.inputs[i] as Tensor).data()));
  const byIndex = new Map<number, TypedArray>(hostIndices.map((index, k) => [index, read[k] as TypedArray]));
  return runCoalesced(plan, op, (index) => byIndex.get(index) as TypedArray);
}

/**
 * Whether `allReduceCoalescedSync` can take these tensors without waiting: each reduces on its
 * device or lives on a backend that reads synchronously. DDP awaits the asynchronous form otherwise.
 *
 * @example
 * const synced = distributed.canReduceSync(grads) ? distributed.allReduceCoalescedSync(grads) : await distributed.allReduceCoalesced(grads);
 */
export function canReduceSync(tensors: readonly Tensor[]): boolean {
  const group = processGroup('canReduceSync');
  return tensors.every((t) => {
    const backend = t.concreteBackend('canReduceSync');
    return backend.readSync !== undefined || deviceCollectivesFor(backend, group) !== undefined;
  });
}
