// Runs with or without a WebGPU adapter: registration, selection and the unavailability message.
import '@flint/backend-cpu';
import { BackendError, getBackend, registeredBackends } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { diagnoseLinux, SWIFTSHADER_ICD } from './device.js';
import { createWebGpuBackend } from './index.js';

describe('webgpu registration', () => {
  it('registers as webgpu, preferred to cpu', () => {
    const names = registeredBackends();
    expect(names).toContain('webgpu');
    expect(names.indexOf('webgpu')).toBeLessThan(names.indexOf('cpu'));
  });

  it('leaves the default backend to the synchronous cpu backend before it is initialized', () => {
    expect(getBackend().name).toBe('cpu');
  });

  it('asks for initBackend when used before it', () => {
    expect(() => getBackend('webgpu')).toThrow(BackendError);
    expect(() => getBackend('webgpu')).toThrow(/initBackend\('webgpu'\)/);
  });

  it('creates one device per process however often it is asked', () => {
    expect(createWebGpuBackend()).toBe(createWebGpuBackend());
  });
});

describe('the reason given when Dawn finds no adapter', () => {
  it('names the Debian packages and the SwiftShader driver when nothing is installed', () => {
    const message = diagnoseLinux({}, () => false);
    expect(message).toMatch(/no Vulkan loader/);
    expect(message).toMatch(/apt-get install chromium-common libvulkan1/);
    expect(message).toContain(`VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`);
  });

  it('points at a VK_ICD_FILENAMES that names a missing file', () => {
    const message = diagnoseLinux({ VK_ICD_FILENAMES: '/nowhere/icd.json' }, (path) => path.endsWith('libvulkan.so.1'));
    expect(message).not.toMatch(/no Vulkan loader/);
    expect(message).toMatch(/VK_ICD_FILENAMES names a missing file \(\/nowhere\/icd\.json\)/);
  });
});
