import { bind, Primitive, type Tensor } from '@flint/api';
import fc from 'fast-check';
import { axesSubset, distinctOperand, floatOperand, floats, shapes, sizeOf } from '../generators.js';
import type { OpCase } from '../harness.js';

interface AxesParams {
  readonly axes: number[];
}

type Reduce = Primitive.ReduceSum | Primitive.ReduceMax | Primitive.ReduceMin | Primitive.ReduceProd;

function reduceCase(primitive: Reduce, name: string, distinct: boolean, smooth: boolean, withZeros = false): OpCase<AxesParams> {
  return {
    name,
    covers: [primitive],
    sample: shapes(0, 3)
      .chain((shape) =>
        fc.tuple(
          distinct
            ? distinctOperand(shape)
            : withZeros
              ? fc
                  .tuple(
                    floats(sizeOf(shape), { min: -1.5, max: 1.5 }),
                    fc.array(fc.boolean(), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }),
                  )
                  .map(([data, zero]) => ({ shape, dtype: 'float64' as const, data: data.map((v, i) => (zero[i] && i % 3 === 0 ? 0 : v)) }))
              : floatOperand(shape),
          axesSubset(shape.length),
        ),
      )
      .map(([x, axes]) => ({ operands: [x], params: { axes } })),
    apply: ([x], params) => bind(primitive, [x as Tensor], params),
    smooth,
  };
}

export const reduceCases: OpCase<AxesParams>[] = [
  reduceCase(Primitive.ReduceSum, 'reduceSum', false, true),
  reduceCase(Primitive.ReduceMax, 'reduceMax', true, false),
  reduceCase(Primitive.ReduceMin, 'reduceMin', true, false),
  // Multilinear, so finite differences are exact even at zeros: the case includes exact zeros.
  reduceCase(Primitive.ReduceProd, 'reduceProd', false, false, true),
];

interface ScanParams {
  readonly op: 'sum' | 'prod' | 'max' | 'min';
  readonly axis: number;
  readonly reverse: boolean;
}

function scanCase(op: ScanParams['op']): OpCase<ScanParams> {
  return {
    name: `cumulative ${op}`,
    covers: [Primitive.Cumulative],
    sample: shapes(1, 3)
      .chain((shape) =>
        fc.tuple(
          op === 'max' || op === 'min'
            ? distinctOperand(shape)
            : floatOperand(shape, op === 'prod' ? { min: -1.5, max: 1.5, avoid: [0], gap: 0.4 } : {}),
          fc.integer({ min: 0, max: shape.length - 1 }),
          fc.boolean(),
        ),
      )
      .map(([x, axis, reverse]) => ({ operands: [x], params: { op, axis, reverse } })),
    apply: ([x], params) => bind(Primitive.Cumulative, [x as Tensor], params),
    smooth: op === 'sum' || op === 'prod',
  };
}

export const scanCases: OpCase<ScanParams>[] = [scanCase('sum'), scanCase('prod'), scanCase('max'), scanCase('min')];
