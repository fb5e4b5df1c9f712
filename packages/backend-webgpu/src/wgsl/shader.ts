import type { WgslScalar } from '../layout.js';
import { helperSource } from './math.js';

/** Threads per workgroup of the one-thread-per-element kernels. */
export const WORKGROUP = 256;

/**
 * The bindings every kernel shares (see GpuRuntime): binding 0 the parameters (i32 words),
 * binding 1 the output, 2.. the inputs. Element types are per kernel; the bind group layout only
 * says "storage buffer", so the same buffer may be read as f32 by one kernel and u32 by another.
 */
export function bindings(output: WgslScalar, inputs: readonly WgslScalar[]): string {
  const lines = [
    '@group(0) @binding(0) var<storage, read> params: array<i32>;',
    `@group(0) @binding(1) var<storage, read_write> result: array<${output}>;`,
  ];
  inputs.forEach((type, i) => {
    lines.push(`@group(0) @binding(${2 + i}) var<storage, read> input${i}: array<${type}>;`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * Word offset of element `linear` (row-major over the dims at params[shapeAt ..]) in a view
 * whose strides are at params[stridesAt ..]. Every rank is handled by one shader.
 */
export const STRIDED_OFFSET = /* wgsl */ `
fn stridedOffset(linear: i32, rank: i32, shapeAt: i32, stridesAt: i32) -> i32 {
  var rest = linear;
  var offset = 0;
  for (var d = rank - 1; d >= 0; d--) {
    let dim = params[shapeAt + d];
    offset = offset + (rest % dim) * params[stridesAt + d];
    rest = rest / dim;
  }
  return offset;
}
`;

/** The linear thread index of a one-dimensional launch folded into x and y (see `grid`). */
export const THREAD_INDEX = 'i32(gid.x + gid.y * nwg.x * 256u)';

export const MAIN_1D = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u)`;

/** Helper functions named by `helpers`, plus the strided-offset function. */
export function library(helpers: Iterable<string>): string {
  return helperSource(helpers) + STRIDED_OFFSET;
}

/**
 * Parameters of a launch, as i32 words: a header of `slots` words (each kernel gives them its own
 * meaning, typically sizes and the word positions of later sections) followed by sections.
 */
export class ParamWriter {
  readonly words: number[];

  constructor(slots: number) {
    this.words = new Array<number>(slots).fill(0);
  }

  set(slot: number, value: number): void {
    this.words[slot] = value;
  }

  /** Appends `values` and records their start in `slot`. */
  section(slot: number, values: readonly number[]): void {
    this.words[slot] = this.words.length;
    for (const v of values) this.words.push(v);
  }
}
