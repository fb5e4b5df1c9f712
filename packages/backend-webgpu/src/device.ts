/**
 * Finding a WebGPU device: `navigator.gpu` in browsers (and runtimes that have it), else Dawn
 * through the optional `webgpu` package in Node. Every failure becomes an Error whose message says
 * what is missing and how to fix it; the registry shows it as the backend's unavailability reason.
 */

/** The Debian/Ubuntu path of SwiftShader's Vulkan driver (package chromium-common). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const NODE_FIX =
  'install a Vulkan driver for your GPU, or on a machine without one the SwiftShader CPU driver: ' +
  `\`apt-get install chromium-common libvulkan1\` (Debian/Ubuntu) and VK_ICD_FILENAMES=${SWIFTSHADER_ICD} ` +
  '(Flint sets it when that file exists and the variable is unset)';

interface NodeProcess {
  readonly versions?: { readonly node?: string };
  readonly platform?: string;
  readonly env: Record<string, string | undefined>;
}

function nodeProcess(): NodeProcess | null {
  const candidate = (globalThis as { process?: NodeProcess }).process;
  return candidate?.versions?.node !== undefined ? candidate : null;
}

interface DawnModule {
  create(flags: string[]): GPU;
}

// Dawn tears itself down when the object returned by `create()` is garbage collected, even while
// devices made from it are alive, so every one ever created is kept here for the process's life.
const keptAlive: unknown[] = [];

/** Imports a module whose name bundlers must not resolve (it is Node-only and optional). */
function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

type Exists = (path: string) => boolean;

/** `fs.existsSync` where Node's fs loads, else a check that finds nothing. */
async function existsChecker(): Promise<Exists> {
  try {
    const fs = (await importOptional('node:fs')) as { existsSync(path: string): boolean };
    return (path) => fs.existsSync(path);
  } catch {
    return () => false;
  }
}

const VULKAN_LOADERS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];

/**
 * Why Dawn found no adapter on a Linux machine, with the fix: what is missing of the Vulkan
 * loader and a driver (ICD). `exists` checks a path (fs.existsSync; injectable for tests).
 */
export function diagnoseLinux(env: Record<string, string | undefined>, exists: Exists): string {
  const problems: string[] = [];
  if (!VULKAN_LOADERS.some(exists)) problems.push('no Vulkan loader (libvulkan.so.1) was found');
  const icd = env.VK_ICD_FILENAMES;
  if (icd === undefined || icd === '') problems.push('VK_ICD_FILENAMES is unset and no SwiftShader driver was found');
  else if (!exists(icd)) problems.push(`VK_ICD_FILENAMES names a missing file (${icd})`);
  const found = problems.length > 0 ? `${problems.join('; ')}. ` : '';
  return `Dawn (the webgpu package) found no usable Vulkan adapter. ${found}Fix: ${NODE_FIX}`;
}

async function nodeGpu(node: NodeProcess): Promise<{ gpu: GPU; diagnose: () => Promise<string> }> {
  const exists = await existsChecker();
  if (node.platform === 'linux' && (node.env.VK_ICD_FILENAMES ?? '') === '' && exists(SWIFTSHADER_ICD)) {
    // Without a GPU driver, Dawn accepts SwiftShader (Debian's lavapipe it rejects). The Vulkan
    // loader reads this variable when Dawn creates its instance, which happens below.
    node.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  let dawn: DawnModule;
  try {
    dawn = (await importOptional('webgpu')) as DawnModule;
  } catch (error) {
    throw new Error(
      `WebGPU in Node needs the optional package \`webgpu\` (Dawn), which could not be loaded: ${(error as Error).message}. ` +
        'Fix: `npm install webgpu@0.6.2` next to @flint/backend-webgpu (later versions need a newer glibc)',
    );
  }
  const gpu = dawn.create([]);
  keptAlive.push(gpu);
  const diagnose = async (): Promise<string> =>
    node.platform === 'linux'
      ? diagnoseLinux(node.env, exists)
      : `Dawn (the webgpu package) found no WebGPU adapter on ${node.platform}. Fix: install or update the GPU driver (Metal on macOS, D3D12 or Vulkan on Windows)`;
  return { gpu, diagnose };
}

export interface AcquiredDevice {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** The GPU object the adapter came from (kept referenced for Dawn; see above). */
  readonly gpu: GPU;
}

/** Requests an adapter and a device with the adapter's largest buffer limits (and shader-f16 where offered). */
export async function acquireDevice(): Promise<AcquiredDevice> {
  let gpu: GPU;
  let diagnose: () => Promise<string>;
  const navigatorGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (navigatorGpu !== undefined) {
    gpu = navigatorGpu;
    diagnose = async () =>
      'navigator.gpu returned no adapter: WebGPU may be disabled (check chrome://gpu) or blocklisted for this GPU; ' +
      'fix: enable WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows) or update the GPU driver';
  } else {
    const node = nodeProcess();
    if (node === null) {
      throw new Error(
        'WebGPU is not available here (no navigator.gpu): use a browser with WebGPU (Chrome, Edge, Safari) or Node with the `webgpu` package',
      );
    }
    ({ gpu, diagnose } = await nodeGpu(node));
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) throw new Error(await diagnose());
  const limits = adapter.limits;
  // float16 is offered where the adapter has shader-f16 (see backend.ts).
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  return { adapter, device, gpu };
}
