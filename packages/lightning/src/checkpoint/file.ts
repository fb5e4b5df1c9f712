import { readFile, unlink } from 'node:fs/promises';
import { isTensor, parseSafetensors, parseSafetensorsHeader, serializeSafetensorsAsync, type Tensor } from '@flint/api';
import * as E from 'fp-ts/lib/Either.js';
import { CheckpointError } from '../core/errors.js';
import { type Json, parseState, stringifyState } from '../core/json.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { CHECKPOINT_FORMAT, type CheckpointState, validateCheckpointState } from './state.js';

// A checkpoint is one safetensors file: the model's tensors under `model.<name>`, optimizer
// buffers under `optimizer.<k>.<parameter index>.<buffer>`, and everything else as JSON in the
// metadata. One file can be replaced atomically, and any safetensors reader can open it.

const STATE_KEY = 'flint_lightning_state';
const TENSOR_REF = '$tensor';

/** The contents of a checkpoint. */
export interface CheckpointContents {
  readonly state: CheckpointState;
  /** Every tensor by its name in the file; the caller owns them. */
  readonly tensors: Readonly<Record<string, Tensor>>;
}

/** Encodes a checkpoint: waits for the tensors' values (any backend). */
export async function encodeCheckpoint(state: CheckpointState, tensors: Readonly<Record<string, Tensor>>): Promise<Uint8Array> {
  return serializeSafetensorsAsync(tensors, { format: CHECKPOINT_FORMAT, [STATE_KEY]: stringifyState(state) });
}

/** Writes a checkpoint atomically: a reader, or a process killed midway, sees the old file or the new one. */
export async function writeCheckpointFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, bytes);
}

/** Removes a checkpoint file; one already gone is fine. */
export async function removeCheckpointFile(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** Reads and validates a checkpoint; every problem is reported in one CheckpointError naming the file. */
export async function readCheckpoint(path: string, options: { readonly backend?: string } = {}): Promise<CheckpointContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(`checkpoint '${path}' cannot be read: ${code === 'ENOENT' ? 'no such file' : String(error)}`, {
      cause: error,
    });
  }
  return decodeCheckpoint(bytes, path, options);
}

/** Decodes checkpoint bytes (`source` names them in errors). */
export function decodeCheckpoint(bytes: Uint8Array, source: string, options: { readonly backend?: string } = {}): CheckpointContents {
  let metadata: Readonly<Record<string, string>>;
  try {
    metadata = parseSafetensorsHeader(bytes, { source }).metadata;
  } catch (error) {
    throw new CheckpointError(`checkpoint '${source}' is not a readable safetensors file: ${(error as Error).message}`, { cause: error });
  }
  const text = metadata[STATE_KEY];
  if (metadata.format !== CHECKPOINT_FORMAT || text === undefined) {
    throw new CheckpointError(`'${source}' is a safetensors file but not a Flint Lightning checkpoint (no '${STATE_KEY}' in its metadata)`);
  }
  let raw: unknown;
  try {
    raw = parseState(text);
  } catch (error) {
    throw new CheckpointError(`checkpoint '${source}': the trainer state is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const checked = validateCheckpointState(raw);
  if (E.isLeft(checked)) {
    const problems = checked.left;
    throw new CheckpointError(
      `checkpoint '${source}': ${problems.length} problem${problems.length === 1 ? '' : 's'} in the trainer state:\n  - ${problems.join('\n  - ')}`,
    );
  }
  const tensors = parseSafetensors(bytes, { source, ...(options.backend === undefined ? {} : { backend: options.backend }) });
  return { state: checked.right, tensors };
}

/** An optimizer's state dict as JSON with tensor references, and the tensors it references. */
export function splitTensors(value: unknown, prefix: string, tensors: Record<string, Tensor>): Json {
  if (isTensor(value)) {
    tensors[prefix] = value;
    return { [TENSOR_REF]: prefix };
  }
  if (Array.isArray(value)) return value.map((item, i) => splitTensors(item, `${prefix}.${i}`, tensors));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) out[key] = splitTensors(item, `${prefix}.${key}`, tensors);
    return out;
  }
  if (value === undefined) return null;
  return value as Json;
}

/** The inverse of `splitTensors`: references replaced by the tensors; missing ones are listed in `missing`. */
export function joinTensors(value: Json, tensors: Readonly<Record<string, Tensor>>, missing: string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => joinTensors(item, tensors, missing));
  if (typeof value === 'object' && value !== null) {
    const record = value as Readonly<Record<string, Json>>;
    const ref = record[TENSOR_REF];
    if (typeof ref === 'string' && Object.keys(record).length === 1) {
      const t = tensors[ref];
      if (t === undefined) missing.push(ref);
      return t;
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(record)) out[key] = joinTensors(item, tensors, missing);
    return out;
  }
  return value;
}
