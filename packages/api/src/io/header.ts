import { sequenceT } from 'fp-ts/lib/Apply.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RNEA from 'fp-ts/lib/ReadonlyNonEmptyArray.js';
import { isSafetensorsDType, SAFETENSORS_ITEM_SIZE, type SafetensorsDType } from './dtypes.js';
import type { SafetensorsProblem } from './errors.js';
import { findDuplicateKeys } from './json-keys.js';

/** One tensor as a safetensors header describes it. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** Byte length of the JSON header (the file's first 8 bytes, little-endian). */
  readonly headerLength: number;
  /** File offset of the data section: 8 + headerLength. */
  readonly dataStart: number;
  /** The tensors, in the header's order. */
  readonly tensors: readonly SafetensorsEntry[];
  /** The `__metadata__` map (string to string), empty when absent. */
  readonly metadata: Readonly<Record<string, string>>;
}

export type Problems = RNEA.ReadonlyNonEmptyArray<SafetensorsProblem>;
type Checked<T> = E.Either<Problems, T>;

/** The reference implementation refuses headers over 100 MB, so that a corrupt length cannot exhaust memory. */
export const MAX_HEADER_LENGTH = 100_000_000;

const validation = E.getApplicativeValidation(RNEA.getSemigroup<SafetensorsProblem>());
const all = <T>(checks: readonly Checked<T>[]): Checked<readonly T[]> => RA.sequence(validation)(checks);
const fail = <T>(message: string, offset?: number, tensor?: string): Checked<T> =>
  E.left([{ message, ...(offset === undefined ? {} : { offset }), ...(tensor === undefined ? {} : { tensor }) }]);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Index of the first byte that breaks UTF-8, or -1 when the bytes are valid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let extra: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [extra, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [extra, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [extra, min] = [3, 0x10000];
    else return i;
    if (i + extra >= bytes.length) return i;
    let code = b & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const next = bytes[i + k] as number;
      if ((next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += extra + 1;
  }
  return -1;
}

function checkEntry(name: string, value: unknown, dataLength: number, dataStart: number): Checked<SafetensorsEntry> {
  if (!isRecord(value)) return fail('its header entry is not an object with dtype, shape and data_offsets', undefined, name);
  const problems: Checked<unknown>[] = [];
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isSafetensorsDType(dtype))
    problems.push(
      fail(
        `unknown dtype ${JSON.stringify(dtype)} (the format's dtypes: ${Object.keys(SAFETENSORS_ITEM_SIZE).join(', ')})`,
        undefined,
        name,
      ),
    );
  const shapeOk = Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
  if (!shapeOk) problems.push(fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, undefined, name));
  const offsetsOk = Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isSafeInteger(o) && o >= 0);
  if (!offsetsOk)
    problems.push(fail(`data_offsets ${JSON.stringify(offsets)} is not a pair [begin, end] of non-negative integers`, undefined, name));
  else {
    const [begin, end] = offsets as [number, number];
    if (end < begin) problems.push(fail(`data_offsets [${begin}, ${end}] end before they begin`, dataStart + begin, name));
    else if (end > dataLength) {
      problems.push(
        fail(
          `data_offsets [${begin}, ${end}] run past the end of the data section (${dataLength} bytes, ending at file byte ${dataStart + dataLength})`,
          dataStart + begin,
          name,
        ),
      );
    }
    if (isSafetensorsDType(dtype) && shapeOk && end >= begin) {
      const elements = (shape as number[]).reduce((n, d) => n * d, 1);
      const needed = elements * SAFETENSORS_ITEM_SIZE[dtype];
      if (needed !== end - begin) {
        problems.push(
          fail(
            `dtype ${dtype} and shape ${JSON.stringify(shape)} need ${needed} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
            dataStart + begin,
            name,
          ),
        );
      }
    }
  }
  return pipe(
    all(problems),
    E.map(() => ({
      name,
      dtype: dtype as SafetensorsDType,
      shape: [...(shape as number[])],
      dataOffsets: [...(offsets as [number, number])] as const,
    })),
  );
}

/** The entries must tile the data section: sorted by offset, each begins where the previous ends. */
function checkLayout(entries: readonly SafetensorsEntry[], dataLength: number, dataStart: number): Checked<readonly SafetensorsEntry[]> {
  const sorted = [...entries].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  const problems: Checked<unknown>[] = [];
  let position = 0;
  let previous: SafetensorsEntry | undefined;
  for (const entry of sorted) {
    const [begin, end] = entry.dataOffsets;
    if (begin < position) {
      problems.push(
        fail(
          `data_offsets [${begin}, ${end}] overlap those of ${JSON.stringify(previous?.name)} (which end at ${position})`,
          dataStart + begin,
          entry.name,
        ),
      );
    } else if (begin > position) {
      const after = previous === undefined ? 'the start of the data section' : `${JSON.stringify(previous.name)}`;
      problems.push(
        fail(
          `data_offsets [${begin}, ${end}] leave a gap of ${begin - position} bytes after ${after}: the data must be contiguous`,
          dataStart + position,
          entry.name,
        ),
      );
    }
    if (end > position) {
      position = end;
      previous = entry;
    }
  }
  if (position < dataLength) {
    problems.push(fail(`${dataLength - position} bytes after the last tensor's data belong to no tensor`, dataStart + position));
  }
  return pipe(
    all(problems),
    E.map(() => entries),
  );
}

function checkMetadata(value: unknown): Checked<Record<string, string>> {
  if (value === undefined) return E.right({});
  if (!isRecord(value))
    return fail(
      `__metadata__ must be an object mapping strings to strings, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
    );
  const checks = Object.entries(value).map(([key, v]) =>
    typeof v === 'string'
      ? E.right(v)
      : fail<string>(`__metadata__[${JSON.stringify(key)}] is ${JSON.stringify(v)}; metadata values must be strings`),
  );
  return pipe(
    all(checks),
    E.map(() => value as Record<string, string>),
  );
}

/**
 * Reads and validates the header of a safetensors byte array, collecting every problem: a file
 * too short for its header, a header that is not UTF-8 JSON, duplicate names, unknown dtypes,
 * shapes that disagree with their byte ranges, offsets out of range, overlapping or
 * non-contiguous data, metadata that is not string to string. `bytes` may hold only the file's
 * first 8 + headerLength bytes when `fileLength` gives the whole file's length.
 */
export function readHeader(bytes: Uint8Array, fileLength = bytes.length): Checked<SafetensorsHeader> {
  if (fileLength < 8 || bytes.length < 8) return fail(`the file is ${fileLength} bytes long, too short for the 8-byte header length`, 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (headerLength > MAX_HEADER_LENGTH)
    return fail(`header length ${headerLength} exceeds the format's limit of ${MAX_HEADER_LENGTH} bytes`, 0);
  if (8 + headerLength > fileLength || 8 + headerLength > bytes.length) {
    return fail(
      `header length ${headerLength} is larger than the rest of the file (${fileLength - 8} bytes): the file is truncated or not safetensors`,
      0,
    );
  }
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  const badByte = firstInvalidUtf8(headerBytes);
  if (badByte >= 0)
    return fail(`the header is not valid UTF-8 (byte 0x${(headerBytes[badByte] as number).toString(16).padStart(2, '0')})`, 8 + badByte);
  const text = new TextDecoder('utf-8').decode(headerBytes);
  if (!text.startsWith('{'))
    return fail(`the header must be a JSON object starting with '{', it starts with ${JSON.stringify(text.slice(0, 16))}`, 8);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`the header is not valid JSON: ${(error as Error).message}`, 8);
  }
  if (!isRecord(json)) return fail('the header must be a JSON object', 8);
  const dataStart = 8 + headerLength;
  const dataLength = fileLength - dataStart;
  const encoder = new TextEncoder();
  const duplicates = findDuplicateKeys(text).map((d) =>
    fail<unknown>(
      d.path === ''
        ? `the name ${JSON.stringify(d.key)} appears more than once in the header`
        : `key ${JSON.stringify(d.key)} appears more than once in ${d.path}`,
      8 + encoder.encode(text.slice(0, d.index)).length,
      d.path === '' ? d.key : undefined,
    ),
  );
  const { __metadata__: metadata, ...entries } = json;
  const checkedEntries = pipe(
    all(Object.entries(entries).map(([name, value]) => checkEntry(name, value, dataLength, dataStart))),
    E.chain((list) => checkLayout(list, dataLength, dataStart)),
  );
  return pipe(
    sequenceT(validation)(all(duplicates), checkMetadata(metadata), checkedEntries),
    E.map(([, checkedMetadata, tensors]) => ({ headerLength, dataStart, tensors, metadata: checkedMetadata })),
  );
}
