/**
 * Correctness before speed: every output is compared, element by element, with a reference
 * computed on the same inputs (float64 where available). The error is max|y - ref| / max|ref|,
 * so one wrong element anywhere is enough to fail a figure.
 */
import { readFileSync } from 'node:fs';

export interface Correctness {
  readonly status: 'correct' | 'wrong' | 'unchecked';
  /** The system whose output served as reference. */
  readonly reference?: string;
  /** max|y - ref| / max|ref|. */
  readonly error?: number;
  readonly tolerance?: number;
  /** Elements past the tolerance, and the worst one, when wrong. */
  readonly mismatches?: number;
  readonly detail?: string;
}

export function readValues(file: string): Float64Array {
  const bytes = readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return file.endsWith('.f64') ? new Float64Array(buffer) : Float64Array.from(new Float32Array(buffer));
}

export function compareOutputs(values: Float64Array, reference: Float64Array, tolerance: number, referenceName: string): Correctness {
  if (values.length !== reference.length) {
    return {
      status: 'wrong',
      reference: referenceName,
      tolerance,
      detail: `${values.length} output values, the reference has ${reference.length}`,
    };
  }
  let scale = 0;
  for (let i = 0; i < reference.length; i++) scale = Math.max(scale, Math.abs(reference[i] as number));
  if (!(scale > 0)) scale = 1;
  let worst = 0;
  let worstIndex = -1;
  let mismatches = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const r = reference[i] as number;
    // NaN anywhere (in either) is a mismatch unless both are NaN.
    const error =
      Number.isNaN(v) || Number.isNaN(r) ? (Number.isNaN(v) && Number.isNaN(r) ? 0 : Number.POSITIVE_INFINITY) : Math.abs(v - r) / scale;
    if (error > tolerance) mismatches++;
    if (error > worst || (worstIndex < 0 && error === Number.POSITIVE_INFINITY)) {
      worst = error;
      worstIndex = i;
    }
  }
  if (mismatches === 0) return { status: 'correct', reference: referenceName, error: worst, tolerance };
  return {
    status: 'wrong',
    reference: referenceName,
    error: worst,
    tolerance,
    mismatches,
    detail: `${mismatches} of ${values.length} values off; worst at [${worstIndex}]: ${values[worstIndex]} vs ${reference[worstIndex]}`,
  };
}
