import { BackendError } from '@flint/api';
import { BUFFER_USAGE, MAP_MODE, SHADER_STAGE } from './gpu-constants.js';
import { BufferPool } from './pool.js';

/** One kernel launch: a compute shader over `inputs`, writing `output`. */
export interface Launch {
  /** The primitive and dtype, for error messages: "reduceSum (float32)". */
  readonly name: string;
  /** The pipeline cache key: launches with equal keys share a shader. */
  readonly key: string;
  /** The WGSL source, built only when the key is first seen. */
  readonly source: () => string;
  /** The kernel's parameters (shapes, strides, offsets, scalar bits), bound at binding 0. */
  readonly params: readonly number[];
  readonly output: GPUBuffer;
  readonly inputs: readonly GPUBuffer[];
  /** Further outputs (fused kernels), bound read-write after the inputs. */
  readonly extraOutputs?: readonly GPUBuffer[];
  readonly workgroups: readonly [number, number, number];
}

// Commands are recorded per kernel (each in its own command buffer, so that validation errors
// name their kernel) and submitted together: one queue.submit per SUBMIT_BATCH kernels, or
// earlier when a read needs the results.
const SUBMIT_BATCH = 32;
// Kernel parameters of one batch go to one buffer, uploaded once per submit.
const PARAMS_BYTES = 256 * 1024;

const MAX_WORKGROUPS = 65535;

/** The number of workgroups for `threads` threads, folded into y when x would pass the limit. */
export function grid(threads: number, workgroupSize: number): [number, number, number] {
  const groups = Math.ceil(threads / workgroupSize);
  if (groups <= MAX_WORKGROUPS) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS);
  if (y > MAX_WORKGROUPS) throw new BackendError(`webgpu: ${threads} threads exceed the dispatch limits`);
  return [MAX_WORKGROUPS, y, 1];
}

/** The kernels recorded since the last submit, and the submit's outcome. */
interface Batch {
  readonly kernels: Promise<string | null>[];
  readonly result: Promise<string | null>;
  settle(message: string | null): void;
}

function newBatch(): Batch {
  let settle: (message: string | null) => void = () => undefined;
  const result = new Promise<string | null>((resolve) => {
    settle = resolve;
  });
  return { kernels: [], result, settle };
}

interface PipelineEntry {
  readonly pipeline: GPUComputePipeline;
  /** Resolves to the shader's compile or pipeline error, if any. */
  readonly failure: Promise<string | null>;
  /** That error once known: later launches throw it at once instead of recording invalid work. */
  invalid: string | null;
}

function errorMessage(error: GPUError | null): string | null {
  return error === null ? null : error.message;
}

/** The first non-null message among `failures`. */
export async function firstFailure(failures: readonly (Promise<string | null> | null)[]): Promise<string | null> {
  for (const failure of failures) {
    if (failure === null) continue;
    const message = await failure;
    if (message !== null) return message;
  }
  return null;
}

/**
 * The device's command stream: pipeline cache, parameter uploads, batched submission, the buffer
 * pool, error scopes and reads. Kernels only record; `flush` submits; `readBuffer` is the only
 * place that waits for the GPU.
 */
export class GpuRuntime {
  readonly pool: BufferPool;
  private readonly pipelines = new Map<string, PipelineEntry>();
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  /** Kernels recorded since the runtime was created (dispatches; for tests and profiling). */
  launches = 0;
  private pending: GPUCommandBuffer[] = [];
  private batch = newBatch();
  private readonly paramsData = new Int32Array(PARAMS_BYTES / 4);
  private paramsUsed = 0;
  private readonly paramsBuffer: GPUBuffer;
  private readonly paramsAlignment: number;
  /** A failure of the device itself (lost, or an error no scope caught); every later read reports it. */
  deviceFailure: string | null = null;

  constructor(readonly device: GPUDevice) {
    this.pool = new BufferPool(device, Math.min(512 * 1024 * 1024, device.limits.maxBufferSize));
    this.paramsAlignment = device.limits.minStorageBufferOffsetAlignment;
    this.paramsBuffer = device.createBuffer({ size: PARAMS_BYTES, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST });
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.deviceFailure ??= `the WebGPU device was lost: ${info.message}`;
    });
    const onError = (event: Event): void => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.deviceFailure ??= `uncaptured WebGPU error: ${error.message}`;
    };
    if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', onError);
    else (device as { onuncapturederror: unknown }).onuncapturederror = onError;
  }

  /** Whether recorded commands are waiting for a submit. */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Kernels recorded since the last submit. */
  get pendingKernels(): number {
    return this.pending.length;
  }

  private layout(inputCount: number, extraOutputs = 0): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    const key = `${inputCount}+${extraOutputs}`;
    let layout = this.layouts.get(key);
    if (layout === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: SHADER_STAGE.COMPUTE, buffer: { type: 'read-only-storage' } },
        { binding: 1, visibility: SHADER_STAGE.COMPUTE, buffer: { type: 'storage' } },
      ];
      for (let i = 0; i < inputCount; i++) {
        entries.push({ binding: 2 + i, visibility: SHADER_STAGE.COMPUTE, buffer: { type: 'read-only-storage' } });
      }
      for (let j = 0; j < extraOutputs; j++) {
        entries.push({ binding: 2 + inputCount + j, visibility: SHADER_STAGE.COMPUTE, buffer: { type: 'storage' } });
      }
      const group = this.device.createBindGroupLayout({ entries });
      layout = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(key, layout);
    }
    return layout;
  }

  private pipeline(launch: Launch): PipelineEntry {
    let entry = this.pipelines.get(launch.key);
    if (entry === undefined) {
      const device = this.device;
      device.pushErrorScope('validation');
      const code = launch.source();
      const module = device.createShaderModule({ code, label: launch.key });
      const pipeline = device.createComputePipeline({
        layout: this.layout(launch.inputs.length, launch.extraOutputs?.length ?? 0).pipeline,
        compute: { module, entryPoint: 'main' },
        label: launch.key,
      });
      const failure = device.popErrorScope().then(
        async (error): Promise<string | null> => {
          if (error === null) return null;
          const info = await module.getCompilationInfo().catch(() => null);
          const details = info?.messages
            .filter((m) => m.type === 'error')
            .map((m) => `line ${m.lineNum}: ${m.message}`)
            .join('; ');
          return `shader ${launch.key} did not compile: ${details || error.message}`;
        },
        (error: Error) => `shader ${launch.key} could not be created: ${error.message}`,
      );
      const created: PipelineEntry = { pipeline, failure, invalid: null };
      void failure.then((message) => {
        created.invalid = message;
      });
      entry = created;
      this.pipelines.set(launch.key, entry);
    }
    return entry;
  }

  /** Reserves the launch's parameters in this batch's parameter buffer; returns their byte offset. */
  private writeParams(params: readonly number[]): number {
    const alignedWords = this.paramsAlignment / 4;
    const words = Math.max(1, params.length);
    if (words > this.paramsData.length) throw new BackendError(`webgpu: ${words} kernel parameters exceed the parameter buffer`);
    let at = Math.ceil(this.paramsUsed / alignedWords) * alignedWords;
    if (at + words > this.paramsData.length) {
      this.flush();
      at = 0;
    }
    for (let i = 0; i < params.length; i++) this.paramsData[at + i] = params[i] as number;
    this.paramsUsed = at + words;
    return at * 4;
  }

  /**
   * Records one kernel. Returns a promise of its failure message (null when it ran validly); the
   * caller attaches it to the output so that reads report the kernel by name.
   */
  run(launch: Launch): Promise<string | null> {
    if (this.deviceFailure !== null) throw new BackendError(`webgpu: ${launch.name}: ${this.deviceFailure}`);
    const device = this.device;
    const entry = this.pipeline(launch);
    if (entry.invalid !== null) throw new BackendError(`webgpu: kernel ${launch.name} cannot run: ${entry.invalid}`);
    const paramsOffset = this.writeParams(launch.params);
    this.launches++;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.paramsBuffer, offset: paramsOffset, size: Math.max(1, launch.params.length) * 4 } },
      { binding: 1, resource: { buffer: launch.output } },
    ];
    launch.inputs.forEach((buffer, i) => {
      entries.push({ binding: 2 + i, resource: { buffer } });
    });
    const extra = launch.extraOutputs ?? [];
    extra.forEach((buffer, j) => {
      entries.push({ binding: 2 + launch.inputs.length + j, resource: { buffer } });
    });
    const bindGroup = device.createBindGroup({ layout: this.layout(launch.inputs.length, extra.length).group, entries });
    const encoder = device.createCommandEncoder({ label: launch.name });
    const pass = encoder.beginComputePass();
    pass.setPipeline(entry.pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y, z] = launch.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.pending.push(encoder.finish());
    const validation = device.popErrorScope();
    const memory = device.popErrorScope();
    const name = launch.name;
    const own = Promise.all([entry.failure, validation, memory]).then(
      ([compile, invalid, outOfMemory]) => {
        const message = compile ?? errorMessage(invalid) ?? errorMessage(outOfMemory);
        return message === null ? null : `kernel ${name} failed: ${message}`;
      },
      // popErrorScope itself rejects only when the device is gone.
      (error: Error) => `kernel ${name} failed: ${error.message}`,
    );
    this.batch.kernels.push(own);
    const failure = firstFailure([own, this.batch.result]);
    if (this.pending.length >= SUBMIT_BATCH) this.flush();
    return failure;
  }

  /** Uploads `data` into `buffer` (queue order: before any command not yet submitted). */
  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    if (data.byteLength === 0) return;
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Submits every recorded command. */
  flush(): void {
    if (this.pending.length === 0) return;
    const commands = this.pending;
    this.pending = [];
    if (this.paramsUsed > 0) {
      this.device.queue.writeBuffer(this.paramsBuffer, 0, this.paramsData.buffer, 0, this.paramsUsed * 4);
      this.paramsUsed = 0;
    }
    const batch = this.batch;
    this.batch = newBatch();
    this.device.pushErrorScope('validation');
    this.device.queue.submit(commands);
    // One invalid command buffer makes the whole submit fail: every kernel of the batch then
    // reports it (naming the kernel at fault), and later batches are unaffected.
    this.device.popErrorScope().then(
      async (error) => {
        if (error === null) return batch.settle(null);
        const cause = await firstFailure(batch.kernels);
        batch.settle(`its batch of ${batch.kernels.length} kernels was rejected at submit (${cause ?? error.message})`);
      },
      (error: Error) => batch.settle(`its batch was not submitted: ${error.message}`),
    );
    this.pool.submitted();
  }

  /** Copies `byteLength` bytes of `buffer` from `byteOffset` back to the CPU (the only wait). */
  async readBuffer(buffer: GPUBuffer, byteOffset: number, byteLength: number): Promise<ArrayBuffer> {
    this.flush();
    if (byteLength === 0) return new ArrayBuffer(0);
    const device = this.device;
    device.pushErrorScope('validation');
    const staging = device.createBuffer({ size: byteLength, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
    const encoder = device.createCommandEncoder({ label: 'read' });
    encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, byteLength);
    device.queue.submit([encoder.finish()]);
    const scope = device.popErrorScope().catch(() => null);
    try {
      await staging.mapAsync(MAP_MODE.READ);
    } catch (error) {
      const problem = await scope;
      throw new BackendError(`webgpu: read failed: ${problem?.message ?? (error as Error).message}${this.failureSuffix()}`);
    }
    const problem = await scope;
    if (problem !== null) throw new BackendError(`webgpu: read failed: ${problem.message}`);
    const copy = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    return copy;
  }

  private failureSuffix(): string {
    return this.deviceFailure === null ? '' : ` (${this.deviceFailure})`;
  }

  /** Submits what is recorded and waits until the GPU has finished it. */
  async synchronize(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }
}
