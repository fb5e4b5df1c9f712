import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { ValueError } from '../core/errors.js';
import { MAX_HEADER_LENGTH, type SafetensorsHeader } from '../io/header.js';
import { parseSafetensors, parseSafetensorsHeader } from '../io/read.js';
import { serializeSafetensorsAsync, type TensorRecord } from '../io/write.js';
import type { Tensor } from '../tensor/tensor.js';

function checkPath(op: string, path: unknown): string {
  if (typeof path !== 'string' || path === '') throw new ValueError(`${op}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  return path;
}

/**
 * Writes tensors by name to a safetensors file (readable by PyTorch's `safetensors.torch.load_file`).
 * The file is written beside its final path and renamed into place, so that a crash never
 * leaves a half-written checkpoint under the real name.
 *
 * @example
 * await save({ 'fc.weight': w, 'fc.bias': b }, 'model.safetensors', { epoch: '3' });
 */
export async function save(tensors: TensorRecord, path: string, metadata?: Readonly<Record<string, string>>): Promise<void> {
  checkPath('save', path);
  const bytes = await serializeSafetensorsAsync(tensors, metadata);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw namingDestination(error, temporary, path);
  }
}

/**
 * The file system's error about the temporary file, told about the path the caller gave (a
 * missing folder otherwise reads "no such file or directory, open 'model.safetensors.3f9a….tmp'");
 * its code and errno stay, for callers that test them.
 */
function namingDestination(error: unknown, temporary: string, path: string): unknown {
  if (!(error instanceof Error)) return error;
  error.message = `save: cannot write '${path}': ${error.message.split(temporary).join(path)}`;
  const withPath = error as Error & { path?: string };
  if (withPath.path === temporary) withPath.path = path;
  return error;
}

/** Options of `load`. */
export interface LoadOptions {
  /** The backend to create the tensors on (the default backend when omitted). */
  readonly backend?: string;
}

/**
 * Reads every tensor of a safetensors file (written by Flint, PyTorch, JAX or Hugging Face
 * tools). A malformed file raises a SafetensorsError naming the file and listing every problem
 * with its byte offset.
 *
 * @example
 * const weights = await load('model.safetensors');
 */
export async function load(path: string, options: LoadOptions = {}): Promise<Record<string, Tensor>> {
  checkPath('load', path);
  const bytes = await readFile(path);
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { source: path, ...options });
}

/**
 * The validated header of a safetensors file (names, dtypes, shapes, metadata) without creating
 * tensors.
 *
 * @example
 * const { metadata } = await loadHeader('model.safetensors');
 */
export async function loadHeader(path: string): Promise<SafetensorsHeader> {
  checkPath('loadHeader', path);
  // Reads only the header: a multi-gigabyte checkpoint's tensors stay on disk.
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const prefix = new Uint8Array(Math.min(8, size));
    await file.read(prefix, 0, prefix.length, 0);
    let headerLength = 0;
    if (prefix.length === 8) {
      const view = new DataView(prefix.buffer);
      headerLength = view.getUint32(4, true) * 2 ** 32 + view.getUint32(0, true);
    }
    const bytes = new Uint8Array(8 + Math.min(headerLength, MAX_HEADER_LENGTH, Math.max(0, size - 8)));
    await file.read(bytes, 0, bytes.length, 0);
    return parseSafetensorsHeader(bytes, { source: path, fileLength: size });
  } finally {
    await file.close();
  }
}
