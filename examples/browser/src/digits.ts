// The digits file the page fetches: a subset of the `mnist` package's digits, written at build
// time so that the page needs nothing from the network but its own server. Layout (little endian):
//   'FMN1', u32 train count, u32 test count, train labels, test labels, train pixels, test pixels
// with one byte per label (0..9) and per pixel (0..255, 784 per image, row by row).

/** Pixels per image (28 x 28). */
export const PIXELS = 28 * 28;
const MAGIC = 'FMN1';
const HEADER_BYTES = 12;

/** One split of the digits as bytes. */
export interface DigitSplit {
  /** count x 784 pixels, 0..255. */
  readonly pixels: Uint8Array;
  /** count labels, 0..9. */
  readonly labels: Uint8Array;
}

export interface Digits {
  readonly train: DigitSplit;
  readonly test: DigitSplit;
}

function checkSplit(name: string, split: DigitSplit): number {
  const count = split.labels.length;
  if (split.pixels.length !== count * PIXELS) {
    throw new RangeError(`encodeDigits: ${name} has ${count} labels but ${split.pixels.length} pixels; expected ${count * PIXELS}`);
  }
  return count;
}

/** Packs both splits into the file's bytes. */
export function encodeDigits(digits: Digits): Uint8Array {
  const trainCount = checkSplit('train', digits.train);
  const testCount = checkSplit('test', digits.test);
  const bytes = new Uint8Array(HEADER_BYTES + (trainCount + testCount) * (1 + PIXELS));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(4, trainCount, true);
  view.setUint32(8, testCount, true);
  let offset = HEADER_BYTES;
  for (const part of [digits.train.labels, digits.test.labels, digits.train.pixels, digits.test.pixels]) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** Reads the file's bytes back into both splits (views into `buffer`, no copies). */
export function decodeDigits(buffer: ArrayBuffer): Digits {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, MAGIC.length));
  if (bytes.length < HEADER_BYTES || magic !== MAGIC) {
    throw new RangeError(`decodeDigits: not a digits file (starts with ${JSON.stringify(magic)}, expected ${JSON.stringify(MAGIC)})`);
  }
  const view = new DataView(buffer);
  const trainCount = view.getUint32(4, true);
  const testCount = view.getUint32(8, true);
  const expected = HEADER_BYTES + (trainCount + testCount) * (1 + PIXELS);
  if (bytes.length !== expected) {
    throw new RangeError(`decodeDigits: ${trainCount} + ${testCount} digits need ${expected} bytes, the file has ${bytes.length}`);
  }
  let offset = HEADER_BYTES;
  const take = (length: number): Uint8Array => {
    const part = bytes.subarray(offset, offset + length);
    offset += length;
    return part;
  };
  const trainLabels = take(trainCount);
  const testLabels = take(testCount);
  return {
    train: { labels: trainLabels, pixels: take(trainCount * PIXELS) },
    test: { labels: testLabels, pixels: take(testCount * PIXELS) },
  };
}
