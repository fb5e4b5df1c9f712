import { type Backend, bind, type DType, type ParamsOf, Primitive, primitiveName, type Tensor, type TypedArray, tensor } from '@flint/api';
import type { Case, InputSpec, Layout, PerDType, PrimitiveTable } from './cases/types.js';
import { compareData, type FloatDType, formatMismatch } from './compare.js';
import { applyOnBackend, applyReference, describeLayout, sourceShape } from './layouts.js';
import { createRng, type Rng, seedOf } from './prng.js';
import { REFERENCE } from './reference/index.js';
import { isFloatDType, type RefArray, sizeOfShape, toDType } from './reference/ndarray.js';
import { defaultValues } from './values.js';

export interface CaseRun {
  /** "case name [dtype]". */
  readonly label: string;
  /** Null when the backend matched the reference; otherwise what went wrong. */
  readonly failure: string | null;
}

export function resolve<T>(value: PerDType<T>, dtype: DType): T {
  return typeof value === 'function' ? (value as (dtype: DType) => T)(dtype) : value;
}

const TYPED_ARRAY: Record<DType, string> = {
  float32: 'Float32Array',
  float64: 'Float64Array',
  // Half tensors read as their float32 values (the storage's bit patterns stay in the backend).
  float16: 'Float32Array',
  bfloat16: 'Float32Array',
  int32: 'Int32Array',
  uint8: 'Uint8Array',
  bool: 'Uint8Array',
};

function typedArrayFor(values: readonly number[], dtype: DType): TypedArray {
  switch (dtype) {
    case 'float32':
    case 'float16':
    case 'bfloat16':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values);
  }
}

function layoutsOf(spec: InputSpec): readonly Layout[] {
  if (spec.layout === undefined) return [];
  return Array.isArray(spec.layout) ? (spec.layout as readonly Layout[]) : [spec.layout as Layout];
}

/**
 * Builds one input twice: as a reference array and as a backend tensor reached through the
 * spec's layouts (views). `created` collects every tensor made, for disposal.
 */
function materialize(spec: InputSpec, caseDType: DType, rng: Rng, backend: Backend, created: Tensor[]): { ref: RefArray; tensor: Tensor } {
  const dtype = spec.dtype ?? caseDType;
  const layouts = layoutsOf(spec);
  // Walk the layouts backwards to find each stage's shape, starting from what the primitive sees.
  const shapes: number[][] = [[...spec.shape]];
  for (let i = layouts.length - 1; i >= 0; i--) shapes.unshift(sourceShape(layouts[i] as Layout, shapes[0] as number[]));
  const source = shapes[0] as number[];
  const values = spec.values ?? defaultValues(dtype);
  const data = Array.from({ length: sizeOfShape(source) }, (_, i) => toDType(values(rng, i), dtype));
  let ref: RefArray = { shape: source, dtype, data };
  let t = tensor(typedArrayFor(data, dtype), { shape: source, dtype, backend: backend.name });
  created.push(t);
  layouts.forEach((layout, i) => {
    const shape = shapes[i + 1] as number[];
    ref = applyReference(layout, ref, shape);
    t = applyOnBackend(layout, t, shape);
    created.push(t);
  });
  return { ref, tensor: t };
}

function sameBits(a: number, b: number): boolean {
  return a === b ? a !== 0 || Object.is(a, b) : Number.isNaN(a) && Number.isNaN(b);
}

/** Runs one case in one dtype on one backend and compares with the float64 reference. */
export async function runCase<P extends Primitive>(
  backend: Backend,
  primitive: P,
  table: PrimitiveTable<P>,
  kase: Case<P>,
  dtype: DType,
): Promise<CaseRun> {
  const label = `${kase.name} [${dtype}]`;
  const created: Tensor[] = [];
  try {
    const specs = resolve(kase.inputs, dtype);
    const params = resolve(kase.params, dtype) as ParamsOf<P>;
    const rng = createRng(seedOf(`${primitiveName(primitive)}/${kase.name}/${dtype}`));
    const inputs = specs.map((spec) => materialize(spec, dtype, rng, backend, created));
    const refs = inputs.map((input) => input.ref);
    const expected = REFERENCE[primitive](refs, params);
    let output: Tensor;
    try {
      output = bind(
        primitive,
        inputs.map((input) => input.tensor),
        params,
        backend,
      );
    } catch (error) {
      return { label, failure: `threw ${(error as Error).name}: ${(error as Error).message}` };
    }
    created.push(output);
    const problems: string[] = [];
    if (output.dtype !== expected.out.dtype) problems.push(`dtype ${output.dtype}, expected ${expected.out.dtype}`);
    if (JSON.stringify(output.shape) !== JSON.stringify(expected.out.shape)) {
      problems.push(`shape [${output.shape.join(',')}], expected [${expected.out.shape.join(',')}]`);
    }
    if (problems.length > 0) return { label, failure: problems.join('; ') };
    const data = await output.data();
    if (data.constructor.name !== TYPED_ARRAY[expected.out.dtype]) {
      problems.push(`read returned a ${data.constructor.name} for ${expected.out.dtype}`);
    }
    if (data.length !== expected.out.data.length)
      problems.push(`read returned ${data.length} elements, expected ${expected.out.data.length}`);
    const signedZeros = kase.signedZeros ?? table.signedZeros;
    const outDType = expected.out.dtype;
    const tolerance = isFloatDType(outDType) ? kase.tolerance?.[outDType as FloatDType] : undefined;
    const mismatches = compareData(data, expected, outDType, table.accuracy, signedZeros, tolerance);
    if (mismatches.length > 0) {
      const shown = mismatches.slice(0, 4).map(formatMismatch).join('; ');
      problems.push(`${mismatches.length} of ${data.length} elements differ: ${shown}${mismatches.length > 4 ? '; ...' : ''}`);
    }
    // Tensors are immutable: a kernel must never write into an input someone still holds.
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as { ref: RefArray; tensor: Tensor };
      const after = await input.tensor.data();
      if (!input.ref.data.every((v, k) => sameBits(v, after[k] as number))) problems.push(`input ${i} was modified`);
    }
    return { label, failure: problems.length > 0 ? `${problems.join('; ')}${describeInputs(specs)}` : null };
  } catch (error) {
    return { label, failure: `harness error: ${(error as Error).stack ?? String(error)}` };
  } finally {
    for (const t of created) t.dispose();
  }
}

function describeInputs(specs: readonly InputSpec[]): string {
  const views = specs.flatMap((spec, i) => layoutsOf(spec).map((layout) => `input ${i} ${describeLayout(layout)}`));
  return views.length > 0 ? ` (${views.join(', ')})` : '';
}

/** The dtypes a case runs in on a backend: its own (or the table's), filtered by the backend's claims. */
export function caseDTypes<P extends Primitive>(table: PrimitiveTable<P>, kase: Case<P>, claimed: readonly DType[]): DType[] {
  return (kase.dtypes ?? table.dtypes).filter((dtype) => {
    if (!claimed.includes(dtype)) return false;
    const needs = kase.needs === undefined ? [] : resolve(kase.needs, dtype);
    const specDTypes = resolve(kase.inputs, dtype).map((spec) => spec.dtype ?? dtype);
    return [...needs, ...specDTypes].every((d) => claimed.includes(d));
  });
}

export const ALL_PRIMITIVES: readonly Primitive[] = Object.values(Primitive).filter((v): v is Primitive => typeof v === 'number');
