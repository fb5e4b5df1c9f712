// Drives examples/browser in headless Debian Chromium: the page must find a WebGPU adapter
// (SwiftShader here), train the MLP with a falling loss, report its accuracy, and log no error;
// with WebGPU's adapter taken away it must fall back to the CPU backend and still train.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltPage, buildPage } from '../../examples/browser/build.js';
import { type StaticServer, serveDirectory } from '../../examples/browser/server.js';
import type { PageState } from '../../examples/browser/src/state.js';
import { chromiumMissing, type LaunchedChromium, launchChromium } from './chromium.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const missing = chromiumMissing();
if (missing !== null) console.warn(`browser tests skipped: ${missing}`);

/** Mean of the losses of the last quarter of training. */
function lastQuarterMean(losses: readonly number[]): number {
  const tail = losses.slice(Math.floor((losses.length * 3) / 4));
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

function firstStepsMean(losses: readonly number[], steps = 3): number {
  return losses.slice(0, steps).reduce((a, b) => a + b, 0) / steps;
}

interface PageRun {
  readonly state: PageState;
  /** Console errors and uncaught exceptions, in order. */
  readonly errors: readonly string[];
  readonly shown: { readonly backend: string; readonly accuracy: string };
}

/** Opens the page, waits until it finishes (or fails), and collects what it reported. */
async function runPage(page: Page, url: string): Promise<PageRun> {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(
    () => {
      const status = (window as { __flint?: PageState }).__flint?.status;
      return status === 'done' || status === 'error';
    },
    undefined,
    { timeout: 120_000, polling: 250 },
  );
  const state = await page.evaluate(() => (window as unknown as { __flint: PageState }).__flint);
  const shown = { backend: (await page.textContent('#backend')) ?? '', accuracy: (await page.textContent('#accuracy')) ?? '' };
  return { state, errors, shown };
}

describe.skipIf(missing !== null)('the browser training page (examples/browser) in headless Chromium', () => {
  let directory: string;
  let built: BuiltPage;
  let server: StaticServer;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'flint-page-'));
    built = await buildPage({ directory });
    server = await serveDirectory(directory);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  it('bundles the three packages from their sources and nothing Node-only', () => {
    const inputs = built.inputs.map((file) => relative(ROOT, join(ROOT, file)));
    for (const entry of ['packages/api/src/index.ts', 'packages/backend-cpu/src/index.ts', 'packages/backend-webgpu/src/index.ts']) {
      expect(inputs).toContain(entry);
    }
    expect(inputs.filter((file) => file.includes('/src/node/'))).toEqual([]);
  });

  it('trains on WebGPU: the loss falls, the accuracy is shown, and nothing logs an error', async () => {
    const page = await browser.context.newPage();
    const { state, errors, shown } = await runPage(page, `${server.url}?epochs=1`);
    await page.close();
    expect(state.error).toBeNull();
    expect(errors).toEqual([]);
    // The adapter is SwiftShader on a machine without a GPU; its description is in the report.
    console.info(
      `browser page: backend ${state.backend}, adapter ${state.adapter}, ${state.losses.length} steps, accuracy ${state.accuracy}`,
    );
    expect(state.backend, `WebGPU was not used: ${state.fallbackReason}`).toBe('webgpu');
    expect(shown.backend).toBe('WebGPU');
    expect(state.adapter).not.toBe('');
    expect(state.losses.length).toBe(31); // 2,000 digits in batches of 64, the last partial one dropped
    expect(state.losses.every(Number.isFinite)).toBe(true);
    expect(lastQuarterMean(state.losses)).toBeLessThan(firstStepsMean(state.losses) * 0.4);
    expect(state.accuracy).toBeGreaterThan(0.7);
    expect(shown.accuracy).toMatch(/^\d+\.\d%$/);
  }, 120_000);

  it('falls back to the CPU backend when the browser gives no adapter, and still trains', async () => {
    const page = await browser.context.newPage();
    // What a browser with WebGPU but no usable GPU does: requestAdapter resolves to null.
    await page.addInitScript(() => {
      const gpuClass = (globalThis as { GPU?: { prototype: { requestAdapter: () => Promise<null> } } }).GPU;
      if (gpuClass !== undefined) gpuClass.prototype.requestAdapter = () => Promise.resolve(null);
    });
    const { state, errors, shown } = await runPage(page, `${server.url}?epochs=1`);
    await page.close();
    expect(state.error).toBeNull();
    expect(errors).toEqual([]);
    expect(state.backend).toBe('cpu');
    expect(shown.backend).toBe('CPU (fallback)');
    expect(state.fallbackReason).toMatch(/navigator\.gpu returned no adapter/);
    expect(lastQuarterMean(state.losses)).toBeLessThan(firstStepsMean(state.losses) * 0.4);
    expect(state.accuracy).toBeGreaterThan(0.7);
  }, 120_000);
});
