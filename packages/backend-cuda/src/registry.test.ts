// Importing the package registers 'cuda' without touching a GPU; where the backend cannot start it
// says why, and the rest of Flint carries on with the next backend.
import '@flint/backend-cpu';
import './index.js';
import { BackendError, backendStatus, getBackend, initBackend, registeredBackends } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { createCudaBackend } from './index.js';

let available = true;
try {
  createCudaBackend();
} catch {
  available = false;
}

describe('registration', () => {
  it("registers 'cuda' ahead of every other backend", () => {
    expect(registeredBackends()[0]).toBe('cuda');
    expect(backendStatus().find((s) => s.name === 'cuda')?.priority).toBe(40);
  });

  it.skipIf(available)('reports itself unavailable with what is missing, and auto moves on', async () => {
    const status = backendStatus().find((s) => s.name === 'cuda');
    expect(status?.available).toBe(false);
    expect(status?.reason).toMatch(/^backend 'cuda' is unavailable: (no CUDA driver|no usable CUDA driver|no CUDA GPU|its native addon)/);
    await expect(initBackend('cuda')).rejects.toBeInstanceOf(BackendError);
    await expect(initBackend('cuda')).rejects.toThrow(/backend 'cuda' is unavailable/);
    expect(getBackend().name).not.toBe('cuda');
  });

  it.skipIf(!available)('starts on the GPU and is chosen by auto', async () => {
    const cuda = await initBackend('cuda');
    expect(cuda.name).toBe('cuda');
    expect(cuda.capabilities.syncRead).toBe(false);
  });
});
