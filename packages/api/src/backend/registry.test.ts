import { describe, expect, it } from 'vitest';
import { BackendError } from '../core/errors.js';
import { backendStatus, getBackend, initBackend, registerBackend, registeredBackends } from './registry.js';
import type { Backend } from './spi.js';

// A backend whose kernels are never called: these tests exercise only selection and reporting.
function fakeBackend(name: string): Backend {
  return {
    name,
    capabilities: { dtypes: ['float32'], syncRead: true },
    kernels: {} as Backend['kernels'],
    fromTypedArray: () => ({}),
    read: async () => new Float32Array(0),
    dispose: () => {},
    memory: () => ({ buffers: 0, bytes: 0 }),
  };
}

describe('backend registry', () => {
  it('lists registered backends by priority and creates each once', () => {
    let created = 0;
    registerBackend({ name: 'fake-low', priority: -100, create: () => fakeBackend('fake-low') });
    registerBackend({
      name: 'fake-high',
      priority: -50,
      create: () => {
        created++;
        return fakeBackend('fake-high');
      },
    });
    const names = registeredBackends();
    expect(names.indexOf('fake-high')).toBeLessThan(names.indexOf('fake-low'));
    expect(getBackend('fake-high')).toBe(getBackend('fake-high'));
    expect(created).toBe(1);
  });

  it('reports a backend that cannot initialize with its reason, and keeps the others usable', () => {
    registerBackend({
      name: 'fake-broken',
      priority: -10,
      create: () => {
        throw new Error('libfake.so not found; install it with apt-get install libfake');
      },
    });
    expect(() => getBackend('fake-broken')).toThrow(BackendError);
    expect(() => getBackend('fake-broken')).toThrow(/fake-broken.*unavailable.*libfake\.so not found/);
    const status = backendStatus().find((s) => s.name === 'fake-broken');
    expect(status?.available).toBe(false);
    expect(status?.reason).toContain('apt-get install libfake');
    expect(getBackend('fake-low').name).toBe('fake-low');
  });

  it('names the registered backends when an unknown one is asked for', () => {
    expect(() => getBackend('no-such-backend')).toThrow(/unknown backend 'no-such-backend'.*registered backends: .*fake-low/);
  });

  it('explains how to initialize a backend that starts asynchronously', async () => {
    registerBackend({ name: 'fake-async', priority: -200, create: async () => fakeBackend('fake-async') });
    expect(() => getBackend('fake-async')).toThrow(/await initBackend\('fake-async'\)/);
    const backend = await initBackend('fake-async');
    expect(backend.name).toBe('fake-async');
    expect(getBackend('fake-async')).toBe(backend);
  });
});
