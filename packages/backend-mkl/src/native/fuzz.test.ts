// Throws random bad input at every function of the native addon. A memory error in the addon
// would kill this test's process (and fail the suite); the properties also check that the
// addon's bounds checks accept exactly the views that stay inside their buffers.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { attempt, layoutArray, layoutInt, plausibleLayout } from '../../../../test/support/native-fuzz.test-support.js';
import type { Addon } from './addon.js';
import { loadAddon } from './load.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-mkl: fuzz tests skipped, the addon is unavailable: ${missing}`);

const NAMES = [
  'info',
  'copy',
  'unary',
  'binary',
  'integerBinary',
  'cast',
  'where',
  'argReduce',
  'gather',
  'scatterAdd',
  'reduce',
  'matmul',
  'matmulPostOps',
  'fused',
  'conv',
  'convBackwardData',
  'convBackwardWeights',
  'pool',
  'windowMaxBackward',
  'softmax',
  'softmaxBackward',
  'layerNorm',
  'layerNormBackward',
  'batchNorm',
  'batchNormInference',
  'batchNormBackward',
  'refuseNormalizationPrimitives',
  'setTeamSize',
  'eigh',
  'svd',
  'qr',
  'cholesky',
  'luFactor',
  'triangularSolve',
] as const;

function detachedFloat32Array(): Float32Array {
  const array = new Float32Array(8);
  structuredClone(array.buffer, { transfer: [array.buffer] });
  return array;
}

const typedArray = fc.oneof(
  fc.float32Array({ maxLength: 40 }),
  fc.float64Array({ maxLength: 40 }),
  fc.int32Array({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.uint16Array({ maxLength: 40 }),
  fc.constant(new Float32Array(0)),
  fc.constant(detachedFloat32Array()),
);

/** Index arrays: mostly in a small range, sometimes negative or huge. */
const indexArray = fc.oneof(
  fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 12 }).map((v) => Int32Array.from(v)),
  fc.int32Array({ maxLength: 12 }),
);

/** [kind, alpha, beta, layout] quadruples, sometimes out of range or truncated. */
const postOps = fc
  .array(fc.tuple(fc.integer({ min: -1, max: 7 }), fc.double(), fc.double(), fc.integer({ min: -1, max: 2 })), { maxLength: 4 })
  .chain((ops) => fc.tuple(fc.constant(ops.flat()), fc.integer({ min: -1, max: 1 })))
  .map(([flat, trim]) => Float64Array.from(trim < 0 ? flat.slice(0, -1) : flat));

/**
 * A fused program: a header that usually agrees with what follows ([inputs, outputs, registers,
 * instructions, rank, ...shape, ...input dtypes, ...(register, dtype), ...(op, dst, a, b, c)]),
 * register numbers and op codes that may be out of range, and inputs and outputs of any kind.
 */
const fusedArguments = fc
  .record({
    inputs: fc.integer({ min: 0, max: 3 }),
    outputs: fc.integer({ min: 0, max: 2 }),
    registers: fc.integer({ min: -1, max: 12 }),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    dtypes: fc.array(fc.constantFrom(0, 4, 1, 7), { minLength: 3, maxLength: 3 }),
    targets: fc.array(fc.integer({ min: -1, max: 13 }), { minLength: 4, maxLength: 4 }),
    instructions: fc.array(fc.array(fc.integer({ min: -1, max: 50 }), { minLength: 5, maxLength: 5 }), { maxLength: 4 }),
    literals: fc.array(fc.double(), { maxLength: 3 }),
    lie: fc.integer({ min: -1, max: 1 }),
    arrays: fc.array(fc.oneof(typedArray, plausibleLayout), { maxLength: 8 }),
    strides: fc.array(fc.array(fc.integer({ min: -3, max: 4 }), { minLength: 3, maxLength: 3 }), { minLength: 3, maxLength: 3 }),
    offsets: fc.array(fc.integer({ min: -2, max: 10 }), { minLength: 3, maxLength: 3 }),
    lengths: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 5, maxLength: 5 }),
    structured: fc.boolean(),
  })
  .map((r) => {
    const size = r.shape.reduce((p, d) => p * d, 1);
    // Inputs and outputs that match the header's counts and dtypes, with strides and offsets that
    // may reach outside their arrays, and outputs of the right or a wrong length.
    const matching: unknown[] = [];
    for (let i = 0; i < r.inputs; i++) {
      const length = r.lengths[i]!;
      matching.push(r.dtypes[i] === 4 ? new Uint8Array(length) : new Float32Array(length));
      matching.push(Int32Array.from([r.offsets[i]!, r.shape.length, ...r.shape, ...r.shape.map((_, d) => r.strides[i]![d]!)]));
    }
    for (let o = 0; o < r.outputs; o++) {
      const length = r.lie === 0 ? size : r.lengths[3 + o]!;
      matching.push((r.dtypes[(2 * o + 1) % 3] ?? 0) === 4 ? new Uint8Array(length) : new Float32Array(length));
    }
    const program = [
      r.inputs,
      r.outputs,
      r.registers,
      r.instructions.length + r.lie,
      r.shape.length,
      ...r.shape,
      ...r.dtypes.slice(0, r.inputs),
      ...r.targets.slice(0, 2 * r.outputs).flatMap((t, i) => (i % 2 === 0 ? [t] : [r.dtypes[i % 3] ?? 0])),
      ...r.instructions.flat(),
    ];
    return [Int32Array.from(program), Float64Array.from(r.literals), ...(r.structured ? matching : r.arrays)];
  });

/** What replaces one argument of a call built consistent: another array or layout, a null, a wrong typed array. */
const wrongArgument = fc.oneof(
  typedArray,
  plausibleLayout,
  fc.constant(null),
  fc.constant(new Float32Array(3)),
  fc.constant(new Float64Array(8)),
);

/** A contiguous layout of `shape`, or one whose offset reaches past its array's end. */
function contiguousLayout(shape: readonly number[], outside: boolean): Int32Array {
  const strides: number[] = [];
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d]!;
  }
  return Int32Array.from([outside ? 1 : 0, shape.length, ...shape, ...strides]);
}

/**
 * Batch norm's arguments built consistent (an [N, C, ...] input and cotangent, [C] statistics,
 * weight and bias, outputs of the right lengths, values with NaN and infinities) with at most one
 * of them wrong (another length, a layout past its array, a null, a wrong typed array) and an
 * eps that may be negative or NaN: so that calls reach the kernels, empty dims included, as well
 * as each check.
 */
function batchNormArguments(name: 'batchNorm' | 'batchNormInference' | 'batchNormBackward') {
  return fc
    .record({
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
      values: fc.array(fc.float(), { minLength: 1, maxLength: 8 }),
      weight: fc.boolean(),
      bias: fc.boolean(),
      eps: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(1e-5, 0, 0.5) },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY), fc.double()) },
      ),
      wrong: fc.integer({ min: 0, max: 20 }),
      replacement: wrongArgument,
      outside: fc.integer({ min: 0, max: 4 }).map((v) => v === 0),
    })
    .map((r) => {
      const channels = r.shape[1] ?? 0;
      const size = r.shape.reduce((p, d) => p * d, 1);
      const filled = (length: number) => Float32Array.from({ length }, (_, i) => r.values[i % r.values.length]!);
      const view = (shape: readonly number[]) => [filled(shape.reduce((p, d) => p * d, 1)), contiguousLayout(shape, false)];
      const optional = (present: boolean) => (present ? view([channels]) : [null, null]);
      const x = [filled(size), contiguousLayout(r.shape, r.outside)];
      const statistics = [...view([channels]), ...view([channels])];
      const args: unknown[] =
        name === 'batchNorm'
          ? [
              0,
              ...x,
              ...optional(r.weight),
              ...optional(r.bias),
              r.eps,
              new Float32Array(size),
              new Float32Array(channels),
              new Float32Array(channels),
            ]
          : name === 'batchNormInference'
            ? [0, ...x, ...statistics, ...optional(r.weight), ...optional(r.bias), r.eps, new Float32Array(size)]
            : [
                0,
                ...x,
                ...statistics,
                ...optional(r.weight),
                ...view(r.shape),
                r.eps,
                new Float32Array(size),
                r.weight ? new Float32Array(channels) : null,
                r.bias ? new Float32Array(channels) : null,
              ];
      if (r.wrong < args.length) args[r.wrong] = r.replacement;
      return args;
    });
}

/**
 * Max pooling's backward arguments built consistent (an [N, C, ...spatial] input with NaN and
 * infinities, windows with strides, padding and dilation, a cotangent of the pool's output shape
 * and an output of the input's size) with at most one of them wrong (another length or shape, a
 * layout past its array, a window over the channels, negative padding, a wrong typed array): so
 * that calls reach the loops, empty dims included, as well as each check.
 */
const windowMaxBackwardArguments = fc
  .record({
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 3, maxLength: 5 }),
    values: fc.array(fc.float(), { minLength: 1, maxLength: 8 }),
    window: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
    strides: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
    padding: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 6, maxLength: 6 }),
    dilation: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 3, maxLength: 3 }),
    wrong: fc.integer({ min: 0, max: 12 }),
    replacement: wrongArgument,
    badParams: fc.oneof(fc.constant(null), fc.record({ at: fc.integer({ min: 0, max: 24 }), value: fc.constantFrom(-1, 0, 2, 2 ** 30) })),
    outside: fc.integer({ min: 0, max: 4 }).map((v) => v === 0),
  })
  .map((r) => {
    const rank = r.shape.length;
    const spatial = (values: readonly number[], identity: number) => r.shape.map((_, d) => (d < 2 ? identity : values[d - 2]!));
    const window = spatial(r.window, 1);
    const strides = spatial(r.strides, 1);
    const padLow = spatial(r.padding.slice(0, 3), 0);
    const padHigh = spatial(r.padding.slice(3), 0);
    const dilation = spatial(r.dilation, 1);
    const outShape = r.shape.map((size, d) => {
      const span = size + padLow[d]! + padHigh[d]! - ((window[d]! - 1) * dilation[d]! + 1);
      return span < 0 ? 0 : Math.floor(span / strides[d]!) + 1;
    });
    const params = [...window, ...strides, ...padLow, ...padHigh, ...dilation];
    if (r.badParams !== null) params[r.badParams.at % (5 * rank)] = r.badParams.value;
    const filled = (shape: readonly number[]) =>
      Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => r.values[i % r.values.length]!);
    const size = r.shape.reduce((p, d) => p * d, 1);
    const args: unknown[] = [
      0,
      filled(r.shape),
      contiguousLayout(r.shape, r.outside),
      filled(outShape),
      contiguousLayout(outShape, false),
      new Float32Array(size),
      Int32Array.from(params),
    ];
    if (r.wrong < args.length) args[r.wrong] = r.replacement;
    return args;
  });

const junk = fc.oneof(
  fc.anything(),
  typedArray,
  layoutArray,
  plausibleLayout,
  fc.constantFrom(Number.NaN, Infinity, -0, 1.5, 2 ** 53, -1, 0, 1, 2, 4, 5, 100),
);

describe.skipIf(missing !== undefined)('native addon under random bad input', () => {
  const addon = (loaded as { addon: Addon }).addon;
  // The test hook's fuzzing may leave it on, and setTeamSize's a smaller team: the other
  // functions' calls must run, not decline, on the whole team.
  afterEach(() => {
    addon.refuseNormalizationPrimitives(false);
    addon.setTeamSize(addon.info().maxThreads);
  });

  it.each(NAMES.map((name) => [name]))('%s never crashes on arbitrary arguments', (name) => {
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 8 }), (args) => {
        attempt(addon, name, args);
      }),
      { numRuns: 400 },
    );
  });

  it.each(NAMES.filter((n) => n !== 'info').map((name) => [name]))('%s never crashes on well-typed arguments with bad values', (name) => {
    // An operation or dtype code up to `max`, and -1; a typed array with a layout that may not fit it.
    const code = (max: number) => fc.integer({ min: -1, max });
    const view = [typedArray, plausibleLayout] as const;
    // An absent weight or bias is null with a null layout; one of the two alone is an error.
    const optionalView = [fc.oneof(typedArray, fc.constant(null)), fc.oneof(plausibleLayout, fc.constant(null))] as const;
    const postOpsAndOperands = [fc.oneof(postOps, typedArray), fc.array(typedArray, { maxLength: 3 })] as const;
    const epsilon = fc.oneof(fc.double(), fc.constantFrom(1e-5, 0, -1));
    const argumentsFor: Record<string, fc.Arbitrary<unknown[]>> = {
      copy: fc.tuple(code(5), ...view, typedArray),
      unary: fc.tuple(code(20), code(7), ...view, typedArray),
      binary: fc.tuple(code(16), code(7), ...view, ...view, typedArray),
      reduce: fc.tuple(code(4), code(7), ...view, layoutArray, typedArray),
      matmul: fc.tuple(code(7), ...view, ...view, typedArray, code(3)),
      integerBinary: fc.tuple(code(17), code(7), ...view, ...view, typedArray),
      cast: fc.tuple(code(7), ...view, code(7), typedArray),
      where: fc.tuple(code(7), ...view, ...view, ...view, typedArray),
      argReduce: fc.tuple(code(2), code(7), ...view, layoutInt, typedArray),
      gather: fc.tuple(code(7), ...view, indexArray, plausibleLayout, layoutInt, typedArray),
      scatterAdd: fc.tuple(code(7), ...view, indexArray, plausibleLayout, ...view, layoutInt, typedArray),
      matmulPostOps: fc.tuple(...view, ...view, typedArray, ...postOpsAndOperands),
      fused: fusedArguments,
      conv: fc.oneof(
        fc.tuple(code(7), ...view, ...view, typedArray, layoutArray),
        fc.tuple(code(7), ...view, ...view, typedArray, layoutArray, ...postOpsAndOperands),
      ),
      convBackwardData: fc.tuple(code(7), ...view, ...view, typedArray, layoutArray),
      convBackwardWeights: fc.tuple(code(7), ...view, ...view, typedArray, layoutArray),
      pool: fc.tuple(code(2), code(5), ...view, typedArray, layoutArray),
      windowMaxBackward: fc.oneof(fc.tuple(code(5), ...view, ...view, typedArray, layoutArray), windowMaxBackwardArguments),
      softmax: fc.tuple(code(7), ...view, layoutInt, code(2), typedArray),
      softmaxBackward: fc.tuple(code(7), ...view, ...view, layoutInt, code(2), typedArray),
      layerNorm: fc.tuple(
        code(7),
        ...view,
        layoutInt,
        ...optionalView,
        ...optionalView,
        fc.oneof(fc.double(), fc.constantFrom(1e-5, 0, -1)),
        typedArray,
      ),
      layerNormBackward: fc.tuple(
        code(7),
        ...view,
        layoutInt,
        ...optionalView,
        ...view,
        fc.oneof(fc.double(), fc.constantFrom(1e-5, 0, -1)),
        typedArray,
        fc.oneof(typedArray, fc.constant(null)),
        fc.oneof(typedArray, fc.constant(null)),
      ),
      batchNorm: fc.oneof(
        fc.tuple(code(7), ...view, ...optionalView, ...optionalView, epsilon, typedArray, typedArray, typedArray),
        batchNormArguments('batchNorm'),
      ),
      batchNormInference: fc.oneof(
        fc.tuple(code(7), ...view, ...view, ...view, ...optionalView, ...optionalView, epsilon, typedArray),
        batchNormArguments('batchNormInference'),
      ),
      batchNormBackward: fc.oneof(
        fc.tuple(
          code(7),
          ...view,
          ...view,
          ...view,
          ...optionalView,
          ...view,
          epsilon,
          typedArray,
          fc.oneof(typedArray, fc.constant(null)),
          fc.oneof(typedArray, fc.constant(null)),
        ),
        batchNormArguments('batchNormBackward'),
      ),
      refuseNormalizationPrimitives: fc.tuple(fc.oneof(fc.boolean(), fc.constantFrom(0, 1, null))),
      setTeamSize: fc.tuple(fc.oneof(fc.integer({ min: -2, max: 40 }), fc.double(), fc.constantFrom(null, '1', 2 ** 40))),
      eigh: fc.tuple(code(7), ...view, typedArray, typedArray),
      svd: fc.tuple(
        code(7),
        ...view,
        code(3),
        typedArray,
        fc.oneof(typedArray, fc.constant(null)),
        fc.oneof(typedArray, fc.constant(null)),
      ),
      qr: fc.tuple(code(7), ...view, code(2), typedArray, typedArray),
      cholesky: fc.tuple(code(7), ...view, typedArray),
      luFactor: fc.tuple(code(7), ...view, typedArray, typedArray, typedArray),
      triangularSolve: fc.tuple(code(7), ...view, ...view, code(2), code(2), typedArray),
    };
    fc.assert(
      fc.property(argumentsFor[name]!, (args) => {
        const error = attempt(addon, name, args);
        if (error !== null) expect(error.name).toMatch(/^(TypeError|RangeError)$/);
      }),
      { numRuns: 1500 },
    );
  });

  it('accepts exactly the views that stay inside their buffer, and copies them right', () => {
    const view = fc.record({
      length: fc.integer({ min: 0, max: 30 }),
      offset: fc.integer({ min: -3, max: 32 }),
      dims: fc.array(fc.record({ size: fc.integer({ min: 0, max: 4 }), stride: fc.integer({ min: -9, max: 9 }) }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(view, ({ length, offset, dims }) => {
        const data = Float32Array.from({ length }, (_, i) => i);
        const size = dims.reduce((p, d) => p * d.size, 1);
        let low = offset;
        let high = offset;
        for (const d of dims) {
          const span = (d.size - 1) * d.stride;
          if (span < 0) low += span;
          else high += span;
        }
        const inside = size === 0 || (low >= 0 && high < length);
        const layout = Int32Array.from([offset, dims.length, ...dims.map((d) => d.size), ...dims.map((d) => d.stride)]);
        const out = new Float32Array(size);
        const error = attempt(addon, 'copy', [0, data, layout, out]);
        expect(error === null).toBe(inside);
        if (!inside) return;
        // Reference: walk the view in row-major order.
        const expected: number[] = [];
        const walk = (axis: number, position: number) => {
          if (axis === dims.length) expected.push(data[position]!);
          else for (let i = 0; i < dims[axis]!.size; i++) walk(axis + 1, position + i * dims[axis]!.stride);
        };
        if (size > 0) walk(0, offset);
        expect([...out]).toEqual(expected);
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses sizes of 2^31 elements and strides that overflow 64 bits', () => {
    const data = new Float32Array(4);
    const out = new Float32Array(4);
    const huge = 2 ** 31 - 1;
    expect(attempt(addon, 'copy', [0, data, Int32Array.from([0, 2, huge, 2, 0, 0]), out])?.name).toBe('RangeError');
    expect(attempt(addon, 'copy', [0, data, Int32Array.from([0, 2, 2, 2, huge, huge]), out])?.name).toBe('RangeError');
    expect(attempt(addon, 'copy', [0, data, Int32Array.from([0, 2, 2, 2, -huge, huge]), out])?.name).toBe('RangeError');
    const ranked = Int32Array.from([0, 17, ...new Array<number>(34).fill(1)]);
    expect(attempt(addon, 'copy', [0, data, ranked, new Float32Array(1)])?.name).toBe('RangeError');
    // A view of 2^31 - 1 elements that all alias one element is in bounds, but its output is not.
    expect(attempt(addon, 'unary', [0, 0, data, Int32Array.from([0, 1, huge, 0]), out])?.name).toBe('RangeError');
  });

  it('refuses a dtype that does not match the typed array', () => {
    const layout = Int32Array.from([0, 1, 4, 1]);
    expect(attempt(addon, 'unary', [0, 1, new Float32Array(4), layout, new Float64Array(4)])?.name).toBe('TypeError');
    expect(attempt(addon, 'matmul', [2, new Int32Array(4), layout, new Int32Array(4), layout, new Int32Array(1), 0])?.name).toBe(
      'TypeError',
    );
    expect(
      attempt(addon, 'conv', [1, new Float64Array(4), layout, new Float64Array(4), layout, new Float64Array(1), new Int32Array(5)])?.name,
    ).toBe('TypeError');
  });
});
