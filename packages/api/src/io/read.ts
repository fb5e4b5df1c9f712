import * as E from 'fp-ts/lib/Either.js';
import { getBackend } from '../backend/registry.js';
import { type DType, isHalf, type TypedArray } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { decodeHalf } from '../core/half.js';
import { tensor } from '../ops/convert.js';
import type { Tensor } from '../tensor/tensor.js';
import { decodeEntry } from './decode.js';
import { SafetensorsError, type SafetensorsProblem } from './errors.js';
import { readHeader, type SafetensorsHeader } from './header.js';

/** Options of `parseSafetensors`. */
export interface ParseSafetensorsOptions {
  /**
   * The backend to create the tensors on (the default backend when omitted). F16 and BF16
   * tensors are loaded as float16 and bfloat16 where that backend lists them, and widened to
   * float32 (exactly: every half value is a float32 value) where it does not.
   */
  readonly backend?: string;
  /** How to name the input in error messages (a file path; 'bytes' when omitted). */
  readonly source?: string;
}

function asBytes(op: string, bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new ValueError(`${op}: expected a Uint8Array or ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`);
}

/**
 * The validated header of a safetensors file: tensor names, dtypes, shapes, byte ranges and
 * metadata, without reading the tensors. Throws a SafetensorsError listing every problem.
 * `bytes` may be just the file's beginning (8 + header length bytes) when `fileLength` is given.
 *
 * @example
 * const { tensors, metadata } = parseSafetensorsHeader(bytes);
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array | ArrayBuffer,
  options: { readonly source?: string; readonly fileLength?: number } = {},
): SafetensorsHeader {
  const input = asBytes('parseSafetensorsHeader', bytes);
  const header = readHeader(input, options.fileLength ?? input.length);
  if (E.isLeft(header)) throw new SafetensorsError(options.source ?? 'bytes', header.left);
  return header.right;
}

/**
 * Reads the tensors of a safetensors byte array (the format of Hugging Face's `safetensors` and
 * PyTorch checkpoints) into tensors by name. The whole file is checked first; every problem found
 * (header, offsets, dtypes, values out of int32 range) is reported at once in a SafetensorsError
 * with byte offsets. Runs in browsers: no file system needed. F16 and BF16 tensors become
 * float32 on a backend without half dtypes (see `ParseSafetensorsOptions.backend`).
 *
 * @example
 * const weights = parseSafetensors(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer, options: ParseSafetensorsOptions = {}): Record<string, Tensor> {
  const source = options.source ?? 'bytes';
  const input = asBytes('parseSafetensors', bytes);
  const header = parseSafetensorsHeader(input, { source });
  const decoded: { dtype: DType; data: TypedArray }[] = [];
  const problems: SafetensorsProblem[] = [];
  for (const entry of header.tensors) {
    const result = decodeEntry(input, header.dataStart, entry);
    if (E.isLeft(result)) problems.push(result.left);
    else decoded.push(result.right);
  }
  if (problems.length > 0) throw new SafetensorsError(source, problems);
  const out: Record<string, Tensor> = {};
  const creation = options.backend === undefined ? {} : { backend: options.backend };
  const offered = getBackend(options.backend).capabilities.dtypes;
  header.tensors.forEach((entry, i) => {
    const { dtype, data } = decoded[i] as { dtype: DType; data: TypedArray };
    // The half types are the only ones a backend may lack; the bits widen exactly to float32.
    if (isHalf(dtype) && !offered.includes(dtype)) {
      out[entry.name] = tensor(decodeHalf(dtype, data as Uint16Array), { dtype: 'float32', shape: entry.shape, ...creation });
    } else {
      out[entry.name] = tensor(data, { dtype, shape: entry.shape, ...creation });
    }
  });
  return out;
}
