import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeStaleTemporaryFiles, writeFileAtomic } from './atomic-write.js';
import { crc32c, maskedCrc32c } from './crc32c.js';
import { ProtoWriter } from './protobuf.js';
import { encodeRecord } from './tfrecord.js';
import { toYaml } from './yaml.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('crc32c', () => {
  it('matches the published check values', () => {
    expect(crc32c(bytes('123456789'))).toBe(0xe3069283);
    // RFC 3720 (iSCSI) B.4 test vectors.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('gives the same value for every split of the 4-byte fast path', () => {
    const data = Uint8Array.from({ length: 103 }, (_, i) => (i * 37 + 11) & 0xff);
    let slow = 0xffffffff;
    for (const b of data) {
      slow ^= b;
      for (let k = 0; k < 8; k++) slow = slow & 1 ? (slow >>> 1) ^ 0x82f63b78 : slow >>> 1;
    }
    expect(crc32c(data)).toBe((slow ^ 0xffffffff) >>> 0);
  });

  it('masks as TFRecord does', () => {
    const crc = crc32c(bytes('abc'));
    expect(maskedCrc32c(bytes('abc'))).toBe(((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0);
  });
});

describe('TFRecord framing', () => {
  it('frames a payload with length, masked CRCs and data', () => {
    const payload = bytes('hello');
    const record = encodeRecord(payload);
    const view = new DataView(record.buffer);
    expect(record.length).toBe(8 + 4 + 5 + 4);
    expect(view.getUint32(0, true)).toBe(5);
    expect(view.getUint32(4, true)).toBe(0);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(record.subarray(0, 8)));
    expect(new TextDecoder().decode(record.subarray(12, 17))).toBe('hello');
    expect(view.getUint32(17, true)).toBe(maskedCrc32c(payload));
  });
});

describe('ProtoWriter', () => {
  it('writes varints, fixed-width numbers and nested messages in the wire format', () => {
    const out = new ProtoWriter()
      .uint64(2, 300)
      .double(1, 1.5)
      .float(2, 0.25)
      .string(1, 'ab')
      .message(5, new ProtoWriter().uint64(1, 1))
      .finish();
    expect([...out.subarray(0, 3)]).toEqual([0x10, 0xac, 0x02]);
    expect(out[3]).toBe(0x09);
    expect(new DataView(out.buffer, 4, 8).getFloat64(0, true)).toBe(1.5);
    expect(out[12]).toBe(0x15);
    expect(new DataView(out.buffer, 13, 4).getFloat32(0, true)).toBe(0.25);
    expect([...out.subarray(17)]).toEqual([0x0a, 2, 0x61, 0x62, 0x2a, 2, 0x08, 1]);
  });

  it('refuses steps that are not safe integers', () => {
    expect(() => new ProtoWriter().uint64(2, -1)).toThrow(/non-negative safe integer/);
  });
});

describe('toYaml', () => {
  it('writes nested plain data and quotes what YAML would misread', () => {
    const text = toYaml({
      lr: 0.001,
      name: 'mnist cnn',
      flag: true,
      missing: null,
      layers: [32, 64],
      opt: { betas: [0.9, 0.999], kind: 'yes' },
      empty: {},
      note: 'a: b',
    });
    expect(text).toBe(
      [
        'lr: 0.001',
        'name: mnist cnn',
        'flag: true',
        'missing: null',
        'layers:',
        '  - 32',
        '  - 64',
        'opt:',
        '  betas:',
        '    - 0.9',
        '    - 0.999',
        '  kind: "yes"',
        'empty: {}',
        'note: "a: b"',
        '',
      ].join('\n'),
    );
    expect(toYaml({})).toBe('{}\n');
  });
});

describe('writeFileAtomic', () => {
  let folder: string | undefined;
  afterEach(() => {
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });

  it('replaces the file whole and leaves no temporary file', async () => {
    folder = mkdtempSync(join(tmpdir(), 'flint-atomic-'));
    const path = join(folder, 'state.bin');
    writeFileSync(path, 'old contents');
    await writeFileAtomic(path, bytes('new'));
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(folder)).toEqual(['state.bin']);
  });

  it('leaves the old file intact when the write fails', async () => {
    folder = mkdtempSync(join(tmpdir(), 'flint-atomic-'));
    const path = join(folder, 'missing-folder', 'x.bin');
    await expect(writeFileAtomic(path, 'data')).rejects.toThrow();
    expect(readdirSync(folder)).toEqual([]);
  });
});

describe('removeStaleTemporaryFiles', () => {
  it('removes temporary files of dead writers only', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'flint-stale-'));
    try {
      writeFileSync(join(folder, '.tmp-a.ckpt.999999999.ab12'), 'x');
      writeFileSync(join(folder, `.tmp-b.ckpt.${process.pid}.cd34`), 'x');
      writeFileSync(join(folder, 'keep.ckpt'), 'x');
      expect(await removeStaleTemporaryFiles(folder)).toEqual(['.tmp-a.ckpt.999999999.ab12']);
      expect(readdirSync(folder).sort()).toEqual([`.tmp-b.ckpt.${process.pid}.cd34`, 'keep.ckpt']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
