import '@flint/backend-cpu';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SafetensorsError, type Tensor, tensor } from '@flint/api';
import { load, loadHeader, loadMnist, MNIST_TEST_SIZE, MNIST_TRAIN_SIZE, save } from '@flint/api/node';
import { afterAll, describe, expect, test } from 'vitest';
import { mnistSplitIndices, parseDigitFile } from './mnist.js';

const folder = mkdtempSync(join(tmpdir(), 'flint-node-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('save / load', () => {
  test('a state dict round-trips through a file, with its metadata', async () => {
    const path = join(folder, 'model.safetensors');
    const stateDict = {
      'fc.weight': tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'float32' },
      ),
      'fc.bias': tensor([0.5, -0.5], { dtype: 'float64' }),
      'bn.count': tensor([7], { dtype: 'int32' }),
    };
    await save(stateDict, path, { epoch: '3' });
    const loaded = await load(path);
    expect(Object.keys(loaded).sort()).toEqual(['bn.count', 'fc.bias', 'fc.weight']);
    expect(loaded['fc.weight']?.arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(loaded['fc.bias']?.dtype).toBe('float64');
    const header = await loadHeader(path);
    expect(header.metadata).toEqual({ epoch: '3' });
    expect(header.tensors.map((t) => t.name).sort()).toEqual(['bn.count', 'fc.bias', 'fc.weight']);
  });

  test('a corrupt file names the path and the problems', async () => {
    const path = join(folder, 'corrupt.safetensors');
    await save({ w: tensor([1, 2, 3], { dtype: 'float32' }) }, path);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 4));
    const error = await load(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as SafetensorsError).file).toBe(path);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/run past the end of the data section \(8 bytes/);
    await expect(loadHeader(path)).rejects.toThrow(/run past the end/);
    await expect(load(join(folder, 'missing.safetensors'))).rejects.toThrow(/ENOENT/);
  });

  test('a save into a missing folder names the file asked for, not the temporary one, and keeps the code', async () => {
    const path = join(folder, 'no-such-folder', 'model.safetensors');
    const error = (await save({ w: tensor([1], { dtype: 'float32' }) }, path).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(error.code).toBe('ENOENT');
    expect(error.path).toBe(path);
    expect(error.message).toContain(`save: cannot write '${path}'`);
    expect(error.message).not.toMatch(/\.tmp/);
  });
});

describe('MNIST from the mnist package', () => {
  test('parses the package files exactly: pixel/255 rounded to 3 decimals', () => {
    const manifest = createRequire(import.meta.url).resolve('mnist/package.json');
    const file = join(dirname(manifest), 'src', 'digits', '7.json');
    const bytes = readFileSync(file);
    const pixels = parseDigitFile(bytes, file);
    const reference = (JSON.parse(bytes.toString('utf8')) as { data: number[] }).data;
    expect(pixels.length).toBe(reference.length);
    let mismatches = 0;
    reference.forEach((v, i) => {
      if (Math.abs((pixels[i] as number) / 255 - v) > 0.0005 + 1e-12) mismatches++;
    });
    expect(mismatches).toBe(0);
    expect(() => parseDigitFile(new TextEncoder().encode('{"data":[0,0.5,x]}'), 'bad.json')).toThrow(/bad.json: unexpected byte "x"/);
  });

  test("the split is fixed, disjoint, exactly 8,000 / 2,000 and keeps each digit's share", () => {
    const counts = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    const train = mnistSplitIndices(counts, 'train');
    const test = mnistSplitIndices(counts, 'test');
    expect(train.length).toBe(MNIST_TRAIN_SIZE);
    expect(test.length).toBe(MNIST_TEST_SIZE);
    const all = new Set([...train, ...test]);
    expect(all.size).toBe(10_000);
    expect([...mnistSplitIndices(counts, 'train')]).toEqual([...train]);
  });

  test('loads [1, 28, 28] float32 images, normalized as torchvision, and int32 labels', async () => {
    const train = await loadMnist({ split: 'train' });
    const testSet = await loadMnist({ split: 'test' });
    expect(train.length).toBe(8000);
    expect(testSet.length).toBe(2000);
    expect(train.images.shape).toEqual([8000, 1, 28, 28]);
    expect(train.images.dtype).toBe('float32');
    expect(train.labels.dtype).toBe('int32');
    const [image, label] = train.get(0);
    expect(image.shape).toEqual([1, 28, 28]);
    expect(label.shape).toEqual([]);
    const pixels = train.images.dataSync() as Float32Array;
    let sum = 0;
    let squares = 0;
    let min = Number.POSITIVE_INFINITY;
    for (const v of pixels) {
      sum += v;
      squares += v * v;
      min = Math.min(min, v);
    }
    const mean = sum / pixels.length;
    const std = Math.sqrt(squares / pixels.length - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(std - 1)).toBeLessThan(0.05);
    expect(min).toBeCloseTo(-0.1307 / 0.3081, 5);
    const labelCounts = new Array<number>(10).fill(0);
    for (const l of testSet.labels.dataSync()) labelCounts[l] = (labelCounts[l] as number) + 1;
    expect(labelCounts).toEqual([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    // Consecutive training images are not sorted by digit.
    const firstLabels = [...(train.labels.dataSync() as Int32Array).subarray(0, 20)];
    expect(new Set(firstLabels).size).toBeGreaterThan(3);
    const raw = await loadMnist({ split: 'test', normalize: false });
    const rawPixels = raw.images.dataSync() as Float32Array;
    expect(Math.max(...rawPixels.subarray(0, 784 * 20))).toBeLessThanOrEqual(1);
    expect(Math.min(...rawPixels.subarray(0, 784 * 20))).toBe(0);
    for (const d of [train, testSet, raw]) d.dispose();
    expect((image as Tensor).isDisposed).toBe(false);
    (image as Tensor).dispose();
    label.dispose();
  });

  test('a missing directory is a clear error', async () => {
    await expect(loadMnist({ directory: join(folder, 'nowhere') })).rejects.toThrow(/loadMnist: cannot read .*nowhere.*\d\.json/);
  });
});
