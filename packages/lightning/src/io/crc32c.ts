// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord files use it. One table
// of 256 entries per byte position lets the loop consume 4 bytes at a time ("slicing by 4").

const POLY = 0x82f63b78;

const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 4 }, () => new Uint32Array(256));
  const first = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let t = 1; t < 4; t++) {
    const previous = tables[t - 1] as Uint32Array;
    const table = tables[t] as Uint32Array;
    for (let n = 0; n < 256; n++) {
      const p = previous[n] as number;
      table[n] = ((p >>> 8) ^ (first[p & 0xff] as number)) >>> 0;
    }
  }
  return tables;
})();

/** The CRC-32C of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  const [t0, t1, t2, t3] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let crc = 0xffffffff;
  let i = 0;
  const end4 = bytes.length & ~3;
  for (; i < end4; i += 4) {
    crc ^= (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    crc =
      (t3[crc & 0xff] as number) ^ (t2[(crc >>> 8) & 0xff] as number) ^ (t1[(crc >>> 16) & 0xff] as number) ^ (t0[crc >>> 24] as number);
  }
  for (; i < bytes.length; i++) crc = (t0[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The masked CRC TFRecord stores: rotated right by 15 bits plus a constant, so that a CRC over
 * data that itself holds CRCs does not degenerate.
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
