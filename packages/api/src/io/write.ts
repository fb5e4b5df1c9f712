import type { TypedArray } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { isTensor } from '../tensor/memory.js';
import { readStorage, readStorageSync, type Tensor } from '../tensor/tensor.js';
import { LITTLE_ENDIAN, swapBytes } from './decode.js';
import { SAFETENSORS_ITEM_SIZE, SAFETENSORS_OF } from './dtypes.js';
import { SafetensorsError, type SafetensorsProblem } from './errors.js';

/** Tensors by name, as `serializeSafetensors` takes them. */
export type TensorRecord = Readonly<Record<string, Tensor>>;

function checkInput(tensors: unknown, metadata: unknown): [string, Tensor][] {
  const problems: SafetensorsProblem[] = [];
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) {
    throw new ValueError(
      `serializeSafetensors: expected an object of tensors by name, got ${Array.isArray(tensors) ? 'an array' : String(tensors)}`,
    );
  }
  const entries = Object.entries(tensors as Record<string, unknown>);
  for (const [name, t] of entries) {
    if (name === '__metadata__')
      problems.push({
        tensor: name,
        message: "the name '__metadata__' is reserved for the metadata map; pass metadata as the second argument",
      });
    else if (!isTensor(t)) problems.push({ tensor: name, message: `is ${t === null ? 'null' : typeof t}, not a tensor` });
    else if (t.isDisposed) problems.push({ tensor: name, message: 'was disposed' });
    else if (t._backend === null)
      problems.push({ tensor: name, message: 'is an abstract traced value; save concrete tensors, outside jit/grad/vmap' });
  }
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
      problems.push({ message: 'metadata must be an object mapping strings to strings' });
    else
      for (const [key, value] of Object.entries(metadata))
        if (typeof value !== 'string')
          problems.push({ message: `metadata[${JSON.stringify(key)}] is ${JSON.stringify(value)}; metadata values must be strings` });
  }
  if (problems.length > 0) throw new SafetensorsError('tensors', problems, 'write');
  return entries as [string, Tensor][];
}

// Larger elements first, then by name (as the reference writer orders them), so that with the
// header padded to 8 bytes every tensor's data is aligned to its element size.
function layoutOrder(entries: [string, Tensor][]): [string, Tensor][] {
  const size = (t: Tensor) => SAFETENSORS_ITEM_SIZE[SAFETENSORS_OF[t.dtype]];
  return [...entries].sort(([na, a], [nb, b]) => size(b) - size(a) || (na < nb ? -1 : na > nb ? 1 : 0));
}

function encode(
  ordered: readonly [string, Tensor][],
  data: readonly TypedArray[],
  metadata: Readonly<Record<string, string>> | undefined,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  ordered.forEach(([name, t], i) => {
    const byteLength = (data[i] as TypedArray).byteLength;
    header[name] = { dtype: SAFETENSORS_OF[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + byteLength] };
    offset += byteLength;
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  ordered.forEach(([, t], i) => {
    const d = data[i] as TypedArray;
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    out.set(bytes, position);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(position, position + d.byteLength), SAFETENSORS_ITEM_SIZE[SAFETENSORS_OF[t.dtype]]);
    position += d.byteLength;
  });
  return out;
}

/**
 * Writes tensors by name in the safetensors format, which PyTorch (`safetensors.torch.load_file`),
 * JAX and Hugging Face tools read. `metadata` is a string-to-string map stored in the header.
 * Reads the tensors synchronously; on a backend that only reads asynchronously use
 * `serializeSafetensorsAsync`. Runs in browsers.
 *
 * @example
 * const bytes = serializeSafetensors({ weight: w, bias: b }, { format: 'pt' });
 */
export function serializeSafetensors(tensors: TensorRecord, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const ordered = layoutOrder(checkInput(tensors, metadata));
  return encode(
    ordered,
    ordered.map(([, t]) => readStorageSync(t)),
    metadata,
  );
}

/**
 * `serializeSafetensors` for any backend: waits for the tensors' values.
 *
 * @example
 * const bytes = await serializeSafetensorsAsync(model.stateDict());
 */
export async function serializeSafetensorsAsync(tensors: TensorRecord, metadata?: Readonly<Record<string, string>>): Promise<Uint8Array> {
  const ordered = layoutOrder(checkInput(tensors, metadata));
  const data = await Promise.all(ordered.map(([, t]) => readStorage(t)));
  return encode(ordered, data, metadata);
}
