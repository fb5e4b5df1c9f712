/** What every TypeScript runner shares: reading the job, writing outputs, reporting cases. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type CaseResult, INFO_MARKER, type Job, RESULT_MARKER, type SystemInfo } from './protocol.js';
import type { CaseSpec } from './suites.js';

export function readJob(): Job {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('bench runner: expected the job as JSON in argv[2]');
  return JSON.parse(raw) as Job;
}

export function reportCase(result: CaseResult): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

export function reportInfo(info: SystemInfo): void {
  process.stdout.write(`${INFO_MARKER}${JSON.stringify(info)}\n`);
}

/** Writes a case's output values (float32 unless given a Float64Array) and returns the relative path. */
export function writeOutput(job: Job, spec: CaseSpec, values: Float32Array | Float64Array | readonly number[]): string {
  const float64 = values instanceof Float64Array;
  const data = float64 || values instanceof Float32Array ? values : Float32Array.from(values);
  const relative = path.join(job.system, `${spec.id}.${float64 ? 'f64' : 'f32'}`);
  const file = path.join(job.outputDir, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return relative;
}

/** Joins output parts into one float32 vector (no spread: gradients have millions of values). */
export function concatValues(parts: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 600);
  return String(error).slice(0, 600);
}

/** Thrown by a runner when the system lacks what a case needs; the case is reported absent. */
export class Absent extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Absent';
  }
}
