import { bind, type PadPair, Primitive, type Tensor } from '@flint/api';
import fc from 'fast-check';
import { axesSubset, floatOperand, intOperand, permutation, shapes, sizeOf } from '../generators.js';
import type { OpCase } from '../harness.js';

export const movementCases: OpCase<never>[] = [
  {
    name: 'reshape',
    covers: [Primitive.Reshape],
    sample: shapes(0, 3)
      .chain((shape) => fc.tuple(floatOperand(shape), fc.constantFrom<'flat' | 'reversed' | 'split'>('flat', 'reversed', 'split')))
      .map(([x, how]) => {
        const n = sizeOf(x.shape);
        const target = how === 'flat' ? [n] : how === 'reversed' ? [...x.shape].reverse() : [1, ...x.shape, 1];
        return { operands: [x], params: { shape: target } as never };
      }),
    apply: ([x], params) => bind(Primitive.Reshape, [x as Tensor], params),
    smooth: true,
  },
  {
    name: 'transpose',
    covers: [Primitive.Transpose],
    sample: shapes(0, 4)
      .chain((shape) => fc.tuple(floatOperand(shape), permutation(shape.length)))
      .map(([x, perm]) => ({ operands: [x], params: { perm } as never })),
    apply: ([x], params) => bind(Primitive.Transpose, [x as Tensor], params),
    smooth: true,
  },
  {
    name: 'broadcast',
    covers: [Primitive.Broadcast],
    sample: shapes(0, 3)
      .chain((target) =>
        fc.tuple(
          fc.constant(target),
          fc.integer({ min: 0, max: target.length }),
          fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }),
        ),
      )
      .chain(([target, drop, ones]) => {
        const shape = target.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
        return floatOperand(shape).map((x) => ({ operands: [x], params: { shape: target } as never }));
      }),
    apply: ([x], params) => bind(Primitive.Broadcast, [x as Tensor], params),
    smooth: true,
  },
  {
    name: 'slice (with steps)',
    covers: [Primitive.Slice],
    sample: shapes(1, 3, 1, 5)
      .chain((shape) =>
        fc.tuple(
          floatOperand(shape),
          fc.tuple(
            ...shape.map((d) =>
              fc
                .tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d }), fc.integer({ min: 1, max: 3 }))
                .map(([a, b, step]) => ({ start: Math.min(a, b), stop: Math.max(a, b), step })),
            ),
          ),
        ),
      )
      .map(([x, dims]) => ({
        operands: [x],
        params: { starts: dims.map((d) => d.start), stops: dims.map((d) => d.stop), steps: dims.map((d) => d.step) } as never,
      })),
    apply: ([x], params) => bind(Primitive.Slice, [x as Tensor], params),
    smooth: true,
  },
  {
    name: 'pad',
    covers: [Primitive.Pad],
    sample: shapes(0, 3)
      .chain((shape) =>
        fc.tuple(
          floatOperand(shape),
          fc.tuple(...shape.map(() => fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })))),
          fc.double({ min: -2, max: 2, noNaN: true }),
        ),
      )
      .map(([x, widths, value]) => ({ operands: [x], params: { widths: widths as PadPair[], value } as never })),
    apply: ([x], params) => bind(Primitive.Pad, [x as Tensor], params),
    smooth: true,
  },
  {
    name: 'concat',
    covers: [Primitive.Concat],
    sample: shapes(1, 3)
      .chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.integer({ min: 0, max: shape.length - 1 }),
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
        ),
      )
      .chain(([shape, axis, sizes]) =>
        fc
          .tuple(...sizes.map((n) => floatOperand(shape.map((d, i) => (i === axis ? n : d)))))
          .map((operands) => ({ operands, params: { axis } as never })),
      ),
    apply: (xs, params) => bind(Primitive.Concat, xs, params),
    smooth: true,
  },
  {
    name: 'flip',
    covers: [Primitive.Flip],
    sample: shapes(0, 3)
      .chain((shape) => fc.tuple(floatOperand(shape), axesSubset(shape.length)))
      .map(([x, axes]) => ({ operands: [x], params: { axes } as never })),
    apply: ([x], params) => bind(Primitive.Flip, [x as Tensor], params),
    smooth: true,
  },
  {
    name: 'gather',
    covers: [Primitive.Gather],
    sample: shapes(1, 3)
      .chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 }), shapes(0, 2)))
      .chain(([shape, axis, indexShape]) =>
        fc
          .tuple(floatOperand(shape), intOperand(indexShape, 0, (shape[axis] as number) - 1))
          .map((operands) => ({ operands, params: { axis } as never })),
      ),
    apply: ([x, indices], params) => bind(Primitive.Gather, [x as Tensor, indices as Tensor], params),
    smooth: true,
  },
  {
    name: 'scatterAdd (repeated indices)',
    covers: [Primitive.ScatterAdd],
    sample: shapes(1, 3)
      .chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 }), shapes(0, 2)))
      .chain(([shape, axis, indexShape]) => {
        const updates = [...shape.slice(0, axis), ...indexShape, ...shape.slice(axis + 1)];
        return fc
          .tuple(floatOperand(shape), intOperand(indexShape, 0, (shape[axis] as number) - 1), floatOperand(updates))
          .map((operands) => ({ operands, params: { axis } as never }));
      }),
    apply: ([t, indices, u], params) => bind(Primitive.ScatterAdd, [t as Tensor, indices as Tensor, u as Tensor], params),
    smooth: true,
  },
];
