import '@flint/backend-cpu';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Backend,
  bfloat16Bits,
  bfloat16Value,
  float16Bits,
  float16Value,
  getBackend,
  parseSafetensors,
  parseSafetensorsHeader,
  registerBackend,
  SafetensorsError,
  serializeSafetensors,
  serializeSafetensorsAsync,
  type Tensor,
  tensor,
} from '@flint/api';
import { afterAll, describe, expect, test } from 'vitest';

/** A safetensors byte array built by hand: the length prefix, the header text, the data. */
function build(header: string | object, data: Uint8Array = new Uint8Array(0), declaredLength?: number): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, declaredLength ?? text.length, true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function littleEndian(kind: 'f32' | 'f64' | 'i32' | 'i64' | 'u16', values: readonly (number | bigint)[]): Uint8Array {
  const size = { f32: 4, f64: 8, i32: 4, i64: 8, u16: 2 }[kind];
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (kind === 'f32') view.setFloat32(i * size, v as number, true);
    else if (kind === 'f64') view.setFloat64(i * size, v as number, true);
    else if (kind === 'i32') view.setInt32(i * size, v as number, true);
    else if (kind === 'u16') view.setUint16(i * size, v as number, true);
    else view.setBigInt64(i * size, BigInt(v), true);
  });
  return out;
}

function problemsOf(bytes: Uint8Array): SafetensorsError {
  try {
    parseSafetensors(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) return error;
    throw error;
  }
  throw new Error('expected a SafetensorsError');
}

const values = (t: Tensor | undefined) => [...(t as Tensor).dataSync()];

describe('serializeSafetensors / parseSafetensors', () => {
  test('every Flint dtype round-trips with its shape and the metadata', () => {
    const tensors = {
      f32: tensor(
        [
          [0.5, -1.25, 3],
          [1e-3, -0, 65504],
        ],
        { dtype: 'float32' },
      ),
      f64: tensor([Math.PI, -Math.E, 1e300], { dtype: 'float64' }),
      i32: tensor([0, -1, 2147483647, -2147483648], { dtype: 'int32', shape: [2, 2] }),
      u8: tensor([0, 1, 128, 255], { dtype: 'uint8' }),
      mask: tensor([true, false, true]),
      empty: tensor(new Float32Array(0), { shape: [0, 4] }),
      scalar: tensor(2.5),
      f16: tensor([0.1, -65504, 2 ** -24, Number.NaN], { dtype: 'float16' }),
      bf16: tensor([[0.1, 3e38]], { dtype: 'bfloat16' }),
    };
    const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'é ✓' });
    expect(parseSafetensorsHeader(bytes).tensors.find((e) => e.name === 'f16')?.dtype).toBe('F16');
    const header = parseSafetensorsHeader(bytes);
    expect(header.metadata).toEqual({ format: 'pt', note: 'é ✓' });
    expect(header.dataStart % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const loaded = back[name] as Tensor;
      expect(loaded.dtype, name).toBe(t.dtype);
      expect(loaded.shape, name).toEqual(t.shape);
      expect(values(loaded), name).toEqual(values(t));
    }
  });

  test('the writer produces the exact bytes of the format: aligned data, space-padded header', () => {
    const bytes = serializeSafetensors({ b: tensor([1, 2], { dtype: 'int32' }), a: tensor([0.5], { dtype: 'float64' }) });
    const header = '{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]}}';
    const padded = header + ' '.repeat((8 - ((8 + header.length) % 8)) % 8);
    const expected = build(padded, new Uint8Array([...littleEndian('f64', [0.5]), ...littleEndian('i32', [1, 2])]));
    expect([...bytes]).toEqual([...expected]);
  });

  test('a hand-built file reads, including dtypes Flint converts', () => {
    const data = new Uint8Array([
      ...littleEndian('f32', [1.5, -2]),
      ...littleEndian('i64', [5n, -7n]),
      ...littleEndian('u16', [0x3c00, 0xc000]),
      ...littleEndian('u16', [0x3fc0]),
      ...littleEndian('u16', [65535]),
    ]);
    const bytes = build(
      {
        x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        count: { dtype: 'I64', shape: [2], data_offsets: [8, 24] },
        half: { dtype: 'F16', shape: [2], data_offsets: [24, 28] },
        brain: { dtype: 'BF16', shape: [], data_offsets: [28, 30] },
        wide: { dtype: 'U16', shape: [1], data_offsets: [30, 32] },
      },
      data,
    );
    const t = parseSafetensors(bytes);
    expect(values(t.x)).toEqual([1.5, -2]);
    expect(t.count?.dtype).toBe('int32');
    expect(values(t.count)).toEqual([5, -7]);
    expect(t.half?.dtype).toBe('float16');
    expect(values(t.half)).toEqual([1, -2]);
    expect(t.brain?.dtype).toBe('bfloat16');
    expect(values(t.brain)).toEqual([1.5]);
    expect(values(t.wide)).toEqual([65535]);
  });

  test('F16 and BF16 load as float32 on a backend without half dtypes, exactly', () => {
    registerBackend({
      name: 'io-no-half',
      priority: -10,
      create: () => {
        const cpu = getBackend('cpu');
        const dtypes = cpu.capabilities.dtypes.filter((d) => d !== 'float16' && d !== 'bfloat16');
        return Object.create(cpu, { name: { value: 'io-no-half' }, capabilities: { value: { ...cpu.capabilities, dtypes } } }) as Backend;
      },
    });
    const bytes = serializeSafetensors({
      half: tensor([1.5, -65504, 2 ** -24], { dtype: 'float16' }),
      brain: tensor([[0.1, 3e38]], { dtype: 'bfloat16' }),
      x: tensor([2, 3], { dtype: 'float32' }),
    });
    const t = parseSafetensors(bytes, { backend: 'io-no-half' });
    expect(t.half?.dtype).toBe('float32');
    expect(values(t.half)).toEqual([1.5, -65504, 2 ** -24]);
    expect(t.brain?.dtype).toBe('float32');
    expect(t.brain?.shape).toEqual([1, 2]);
    expect(values(t.brain)).toEqual([bfloat16Value(bfloat16Bits(0.1)), bfloat16Value(bfloat16Bits(3e38))]);
    expect(values(t.x)).toEqual([2, 3]);
    // Where the backend has them, the half dtypes are kept.
    expect(parseSafetensors(bytes).half?.dtype).toBe('float16');
  });

  test('I64 values outside int32 are a clear error with their offset', () => {
    const bytes = build({ big: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, littleEndian('i64', [1n, 2n ** 40n]));
    const error = problemsOf(bytes);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ tensor: 'big', offset: bytes.length - 8 });
    expect(error.message).toMatch(/I64 element 1 is 1099511627776, outside int32/);
  });

  test('serializeSafetensorsAsync writes the same bytes', async () => {
    const tensors = {
      w: tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'float32' },
      ),
    };
    expect([...(await serializeSafetensorsAsync(tensors))]).toEqual([...serializeSafetensors(tensors)]);
  });

  test('bad input to the writer is reported', () => {
    const disposed = tensor([1]);
    disposed.dispose();
    expect(() => serializeSafetensors({ a: disposed, __metadata__: tensor([1]) }, { n: 1 as unknown as string })).toThrow(/3 problems/);
  });
});

describe('malformed files: every problem, with its context, in one SafetensorsError', () => {
  test('layout problems are collected together', () => {
    const bytes = build(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        overlapping: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        gap: { dtype: 'U8', shape: [2], data_offsets: [10, 12] },
        wrongSize: { dtype: 'F64', shape: [2], data_offsets: [12, 20] },
        outside: { dtype: 'U8', shape: [8], data_offsets: [20, 28] },
        badShape: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] },
        badDType: { dtype: 'F128', shape: [1], data_offsets: [0, 0] },
        __metadata__: { ok: 'yes', bad: 3 },
      },
      new Uint8Array(24),
    );
    const error = problemsOf(bytes);
    const messages = error.problems.map((p) => `${p.tensor ?? ''}: ${p.message}`);
    const dataStart = bytes.length - 24;
    expect(error.name).toBe('SafetensorsError');
    expect(error.file).toBe('bytes');
    expect(messages).toContainEqual(
      expect.stringMatching(/^wrongSize: dtype F64 and shape \[2\] need 16 bytes, data_offsets \[12, 20\] hold 8/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/^outside: data_offsets \[20, 28\] run past the end of the data section \(24 bytes/),
    );
    expect(messages).toContainEqual(expect.stringMatching(/^badShape: shape \[-1\] is not a list of non-negative integers/));
    expect(messages).toContainEqual(expect.stringMatching(/^badDType: unknown dtype "F128"/));
    expect(messages).toContainEqual(expect.stringMatching(/__metadata__\["bad"\] is 3; metadata values must be strings/));
    expect(error.problems.find((p) => p.tensor === 'wrongSize')?.offset).toBe(dataStart + 12);
    // The entries that are themselves valid are checked for overlap and gaps.
    const layout = problemsOf(
      build(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          overlapping: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          gap: { dtype: 'U8', shape: [2], data_offsets: [10, 12] },
        },
        new Uint8Array(14),
      ),
    );
    const layoutMessages = layout.problems.map((p) => `${p.tensor ?? ''}: ${p.message}`);
    expect(layoutMessages).toContainEqual(expect.stringMatching(/^overlapping: data_offsets \[4, 8\] overlap those of "a"/));
    expect(layoutMessages).toContainEqual(expect.stringMatching(/^gap: data_offsets \[10, 12\] leave a gap of 2 bytes after "a"/));
    expect(layoutMessages).toContainEqual(expect.stringMatching(/^: 2 bytes after the last tensor's data belong to no tensor/));
  });

  test('duplicate names are found although JSON.parse would keep the last', () => {
    const header = '{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}';
    const error = problemsOf(build(header, new Uint8Array(1)));
    expect(error.problems[0]).toMatchObject({ tensor: 'w', offset: 8 + header.lastIndexOf('"w"') });
    expect(error.message).toMatch(/the name "w" appears more than once/);
  });

  test.each([
    ['a file shorter than 8 bytes', new Uint8Array(5), /the file is 5 bytes long/],
    [
      'a header length larger than the file',
      build('{}', new Uint8Array(0), 100),
      /header length 100 is larger than the rest of the file \(2 bytes\)/,
    ],
    ['a header length beyond the format limit', build('{}', new Uint8Array(0), 200_000_000), /exceeds the format's limit/],
    ['a header that is not JSON', build('{"a": [1, 2}'), /the header is not valid JSON/],
    ['a header that is not an object', build('[1, 2]'), /must be a JSON object starting with '\{'/],
    ['an entry that is not an object', build({ a: 3 }), /its header entry is not an object/],
    [
      'truncated data',
      build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(10)),
      /run past the end of the data section \(10 bytes/,
    ],
  ])('%s', (_, bytes, pattern) => {
    expect(() => parseSafetensors(bytes)).toThrow(pattern);
  });

  test('a header that is not UTF-8 names the offending byte', () => {
    const text = new TextEncoder().encode('{"ab":1}');
    text[3] = 0xff;
    const bytes = build('', text, text.length);
    const error = problemsOf(bytes);
    expect(error.problems[0]).toMatchObject({ offset: 11 });
    expect(error.message).toMatch(/not valid UTF-8 \(byte 0xff\)/);
  });

  test('non-byte input is a ValueError', () => {
    expect(() => parseSafetensors('abc' as unknown as Uint8Array)).toThrow(/expected a Uint8Array or ArrayBuffer/);
  });
});

// Interop with an independent implementation: a Python reader and writer using only the
// standard library (and torch.frombuffer when torch is installed).
const SCRIPT = fileURLToPath(new URL('./safetensors_interop.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const pythonReason = existsSync(PYTHON) ? '' : `${PYTHON} does not exist`;
const folder = mkdtempSync(join(tmpdir(), 'flint-safetensors-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe.skipIf(pythonReason !== '')(
  `interop with an independent Python implementation${pythonReason === '' ? '' : ` (skipped: ${pythonReason})`}`,
  () => {
    test('Flint reads a file written by Python', () => {
      const path = join(folder, 'python.safetensors');
      const run = spawnSync(PYTHON, [SCRIPT, 'write', path], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const loaded = parseSafetensors(readFileSync(path));
      expect(parseSafetensorsHeader(readFileSync(path)).metadata).toEqual({ format: 'pt', writer: 'python-struct' });
      expect(values(loaded.weight)).toEqual([...Float32Array.from([0.5, -1.25, 3, 1e-3, -0, 65504])]);
      expect(values(loaded.bias)).toEqual([Math.PI, -Math.E, 1e300]);
      expect(loaded.steps?.dtype).toBe('int32');
      expect(values(loaded.steps)).toEqual([7, -3]);
      expect(values(loaded.indices)).toEqual([0, -1, 2147483647, -2147483648]);
      expect(loaded.indices?.shape).toEqual([2, 2]);
      expect(values(loaded.pixels)).toEqual([0, 1, 128, 255]);
      expect(loaded.mask?.dtype).toBe('bool');
      expect(loaded.mask?.arraySync()).toEqual([true, false, true]);
      expect(loaded.empty?.shape).toEqual([0, 4]);
      expect(loaded.scalar?.shape).toEqual([]);
      expect(loaded.half?.dtype).toBe('float16');
      expect(values(loaded.half)).toEqual([1, -0.5, 65504, 2 ** -24]);
      expect(loaded.brain?.dtype).toBe('bfloat16');
      // 3e38 rounds to the nearest bfloat16, 0x7f62 (3.0041e38), in Python as in Flint.
      expect(values(loaded.brain)).toEqual([1.5, -2, bfloat16Value(0x7f62)]);
      expect(values(tensor([3e38], { dtype: 'bfloat16' }))).toEqual([bfloat16Value(0x7f62)]);
    });

    test('Python (and torch, when installed) reads a file written by Flint', () => {
      const path = join(folder, 'flint.safetensors');
      const tensors = {
        w: tensor(
          [
            [0.25, -4],
            [8, 1e-7],
          ],
          { dtype: 'float32' },
        ),
        d: tensor([1 / 3], { dtype: 'float64' }),
        i: tensor([-5, 6], { dtype: 'int32' }),
        u: tensor([9], { dtype: 'uint8' }),
        m: tensor([false, true]),
        h: tensor([0.1, -65504, 2 ** -24], { dtype: 'float16' }),
        b: tensor([0.1, 1e38], { dtype: 'bfloat16' }),
      };
      writeFileSync(path, serializeSafetensors(tensors, { format: 'pt' }));
      const run = spawnSync(PYTHON, [SCRIPT, 'read', path], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as {
        metadata: Record<string, string>;
        tensors: Record<string, { dtype: string; shape: number[]; values: (number | boolean)[] }>;
        torch: boolean | null;
      };
      expect(result.metadata).toEqual({ format: 'pt' });
      expect(result.tensors.w).toEqual({ dtype: 'F32', shape: [2, 2], values: [...Float32Array.from([0.25, -4, 8, 1e-7])] });
      expect(result.tensors.d).toEqual({ dtype: 'F64', shape: [1], values: [1 / 3] });
      expect(result.tensors.i).toEqual({ dtype: 'I32', shape: [2], values: [-5, 6] });
      expect(result.tensors.u).toEqual({ dtype: 'U8', shape: [1], values: [9] });
      expect(result.tensors.m).toEqual({ dtype: 'BOOL', shape: [2], values: [false, true] });
      expect(result.tensors.h).toEqual({ dtype: 'F16', shape: [3], values: [float16Value(float16Bits(0.1)), -65504, 2 ** -24] });
      expect(result.tensors.b).toEqual({
        dtype: 'BF16',
        shape: [2],
        values: [bfloat16Value(bfloat16Bits(0.1)), bfloat16Value(bfloat16Bits(1e38))],
      });
      expect(result.torch).not.toBe(false);
    });
  },
);
