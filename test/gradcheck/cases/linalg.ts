import { bind, type PadPair, Primitive, type Tensor } from '@flint/api';
import fc from 'fast-check';
import { distinctOperand, floatOperand, permutation } from '../generators.js';
import type { OpCase } from '../harness.js';

/** A random dotGeneral: batch, contracting and free dims placed at random positions of each side. */
const dotSample = fc
  .record({
    batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    contracting: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    lhsFree: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    rhsFree: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  })
  .chain((dims) => {
    const lhsRank = dims.batch.length + dims.contracting.length + dims.lhsFree.length;
    const rhsRank = dims.batch.length + dims.contracting.length + dims.rhsFree.length;
    return fc.tuple(fc.constant(dims), permutation(lhsRank), permutation(rhsRank));
  })
  .chain(([dims, lhsPerm, rhsPerm]) => {
    // Logical order per side: batch, contracting, free; perm[k] is where logical dim k sits.
    const place = (sizes: number[], perm: number[]): number[] => {
      const shape = new Array<number>(sizes.length);
      sizes.forEach((s, k) => {
        shape[perm[k] as number] = s;
      });
      return shape;
    };
    const nb = dims.batch.length;
    const nc = dims.contracting.length;
    const lhsShape = place([...dims.batch, ...dims.contracting, ...dims.lhsFree], lhsPerm);
    const rhsShape = place([...dims.batch, ...dims.contracting, ...dims.rhsFree], rhsPerm);
    const params = {
      lhsBatch: lhsPerm.slice(0, nb),
      rhsBatch: rhsPerm.slice(0, nb),
      lhsContracting: lhsPerm.slice(nb, nb + nc),
      rhsContracting: rhsPerm.slice(nb, nb + nc),
    };
    return fc.tuple(floatOperand(lhsShape), floatOperand(rhsShape)).map((operands) => ({ operands, params: params as never }));
  });

interface ConvConfig {
  readonly spatial: number;
  readonly n: number;
  readonly groups: number;
  readonly inPerGroup: number;
  readonly outPerGroup: number;
  readonly kernel: number[];
  readonly strides: number[];
  readonly padding: PadPair[];
  readonly lhsDilation: number[];
  readonly rhsDilation: number[];
  readonly size: number[];
}

const convConfig: fc.Arbitrary<ConvConfig> = fc.integer({ min: 1, max: 2 }).chain((spatial) => {
  const perDim = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: spatial, maxLength: spatial });
  return fc
    .record({
      spatial: fc.constant(spatial),
      n: fc.integer({ min: 1, max: 2 }),
      groups: fc.integer({ min: 1, max: 2 }),
      inPerGroup: fc.integer({ min: 1, max: 2 }),
      outPerGroup: fc.integer({ min: 1, max: 2 }),
      kernel: perDim(fc.integer({ min: 1, max: 3 })),
      strides: perDim(fc.integer({ min: 1, max: 2 })),
      padding: perDim(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 }))),
      lhsDilation: perDim(fc.integer({ min: 1, max: 2 })),
      rhsDilation: perDim(fc.integer({ min: 1, max: 2 })),
      size: perDim(fc.integer({ min: 1, max: 4 })),
    })
    .filter((c) =>
      c.size.every((s, i) => {
        const input = (s - 1) * (c.lhsDilation[i] as number) + 1 + (c.padding[i] as PadPair)[0] + (c.padding[i] as PadPair)[1];
        return input >= ((c.kernel[i] as number) - 1) * (c.rhsDilation[i] as number) + 1;
      }),
    ) as fc.Arbitrary<ConvConfig>;
});

interface WindowParams {
  readonly op: 'sum' | 'max';
  readonly window: number[];
  readonly strides: number[];
  readonly padding: PadPair[];
  readonly dilation: number[];
}

/** Whether every window of a max reduction holds at least one real (unpadded) element. */
function everyWindowTouchesData(shape: readonly number[], p: WindowParams): boolean {
  return shape.every((n, i) => {
    const [lo, hi] = p.padding[i] as PadPair;
    const w = p.window[i] as number;
    const d = p.dilation[i] as number;
    const s = p.strides[i] as number;
    const padded = n + lo + hi;
    const extent = (w - 1) * d + 1;
    if (padded < extent) return false;
    const count = Math.floor((padded - extent) / s) + 1;
    for (let o = 0; o < count; o++) {
      let touches = false;
      for (let k = 0; k < w; k++) {
        const at = o * s + k * d - lo;
        if (at >= 0 && at < n) touches = true;
      }
      if (!touches) return false;
    }
    return true;
  });
}

function windowCase(op: 'sum' | 'max'): OpCase<never> {
  return {
    name: `reduceWindow ${op}`,
    covers: [Primitive.ReduceWindow],
    sample: fc
      .integer({ min: 1, max: 3 })
      .chain((rank) => {
        const perDim = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: rank, maxLength: rank });
        return fc.tuple(
          perDim(fc.integer({ min: 1, max: 4 })),
          fc.record({
            op: fc.constant(op),
            window: perDim(fc.integer({ min: 1, max: 3 })),
            strides: perDim(fc.integer({ min: 1, max: 2 })),
            padding: perDim(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 }))) as fc.Arbitrary<PadPair[]>,
            dilation: perDim(fc.integer({ min: 1, max: 2 })),
          }),
        );
      })
      .filter(([shape, params]) => everyWindowTouchesData(shape, params))
      .chain(([shape, params]) =>
        (op === 'max' ? distinctOperand(shape) : floatOperand(shape)).map((x) => ({ operands: [x], params: params as never })),
      ),
    apply: ([x], params) => bind(Primitive.ReduceWindow, [x as Tensor], params),
    smooth: op === 'sum',
  };
}

export const linalgCases: OpCase<never>[] = [
  {
    name: 'dotGeneral',
    covers: [Primitive.DotGeneral],
    sample: dotSample,
    apply: ([a, b], params) => bind(Primitive.DotGeneral, [a as Tensor, b as Tensor], params),
    smooth: true,
  },
  {
    name: 'conv',
    covers: [Primitive.Conv],
    sample: convConfig.chain((c) => {
      const x = [c.n, c.groups * c.inPerGroup, ...c.size];
      const w = [c.groups * c.outPerGroup, c.inPerGroup, ...c.kernel];
      const params = { strides: c.strides, padding: c.padding, lhsDilation: c.lhsDilation, rhsDilation: c.rhsDilation, groups: c.groups };
      return fc.tuple(floatOperand(x), floatOperand(w)).map((operands) => ({ operands, params: params as never }));
    }),
    apply: ([x, w], params) => bind(Primitive.Conv, [x as Tensor, w as Tensor], params),
    smooth: true,
    numRuns: 12,
  },
  windowCase('sum'),
  windowCase('max'),
];
