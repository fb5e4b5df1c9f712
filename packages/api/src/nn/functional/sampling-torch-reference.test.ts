import '@flint/backend-cpu';
import { type Tensor, tensor, vjp } from '@flint/api';
import { beforeAll, expect, it } from 'vitest';
import {
  describeAgainstTorch,
  expectValuesClose,
  runTorch,
  type TorchInput,
  type TorchResult,
} from '../../../../../test/support/torch-oracle.test-support.js';
import { randomValues, seededRandom } from '../testing.test-support.js';
import * as F from './index.js';

// Differential tests of spatial sampling against PyTorch, in float64: gridSample in every mode,
// padding mode and alignCorners (4-d and 5-d), affineGrid (2-d and 3-d), and interpolate's
// bicubic, area and antialiased modes, up and down. Values, and the gradients of
// sum(output * cotangent) with respect to every differentiable input, must agree. Random grids
// reach past the borders; a lattice grid puts points exactly on pixel centres, borders and
// reflection points, where the derivatives follow PyTorch's one-sided conventions.

const random = seededRandom(314);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const uniform = (shape: number[], low = -1, high = 1): TorchInput => ({ values: randomValues(random, sizeOf(shape), low, high), shape });
const values = (t: Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>);

interface SamplingCase {
  readonly name: string;
  /** A PyTorch expression over the inputs (and `torch`). */
  readonly torch: string;
  readonly inputs: Readonly<Record<string, TorchInput>>;
  readonly flint: (inputs: Readonly<Record<string, Tensor>>) => Tensor;
  /** The inputs differentiated (all of them when absent). */
  readonly gradients?: readonly string[];
}

const py = (b: boolean) => (b ? 'True' : 'False');
const MODES_4D = ['bilinear', 'nearest', 'bicubic'] as const;
const PADDINGS = ['zeros', 'border', 'reflection'] as const;
const ALIGN = [false, true];

/** Every point of a grid whose coordinates are multiples of 1/4: for W = 5 (alignCorners) and W = 4 (not), pixel centres and edges. */
function latticeGrid(shape: number[]): TorchInput {
  return { values: Array.from({ length: sizeOf(shape) }, (_, i) => ((i * 7) % 11) / 4 - 1.25), shape };
}

function gridSampleCases(): SamplingCase[] {
  const cases: SamplingCase[] = [];
  const add = (name: string, x: TorchInput, grid: TorchInput, mode: string, padding: string, align: boolean) =>
    cases.push({
      name: `gridSample ${name} ${mode} ${padding} alignCorners ${align}`,
      torch: `torch.nn.functional.grid_sample(x, grid, mode='${mode}', padding_mode='${padding}', align_corners=${py(align)})`,
      inputs: { x, grid },
      flint: ({ x, grid }) =>
        F.gridSample(x as Tensor, grid as Tensor, {
          mode: mode as F.GridSampleMode,
          paddingMode: padding as F.GridSamplePadding,
          alignCorners: align,
        }),
    });
  for (const mode of MODES_4D)
    for (const padding of PADDINGS)
      for (const align of ALIGN) {
        add('4-d', uniform([2, 3, 5, 6]), uniform([2, 4, 7, 2], -1.4, 1.4), mode, padding, align);
        add('4-d lattice', uniform([1, 2, align ? 5 : 4, 5]), latticeGrid([1, 3, 11, 2]), mode, padding, align);
      }
  for (const mode of ['bilinear', 'nearest'])
    for (const padding of PADDINGS)
      for (const align of ALIGN) add('5-d', uniform([2, 2, 3, 4, 5]), uniform([2, 3, 2, 4, 3], -1.4, 1.4), mode, padding, align);
  // A single pixel along an axis: reflection's span is empty there.
  add('4-d, one row', uniform([1, 2, 1, 4]), uniform([1, 2, 3, 2], -1.4, 1.4), 'bilinear', 'reflection', false);
  add('4-d, one row', uniform([1, 2, 1, 4]), uniform([1, 2, 3, 2], -1.4, 1.4), 'bicubic', 'reflection', true);
  return cases;
}

function affineGridCases(): SamplingCase[] {
  return ALIGN.flatMap((align) => [
    {
      name: `affineGrid 2-d alignCorners ${align}`,
      torch: `torch.nn.functional.affine_grid(theta, [2, 3, 4, 5], align_corners=${py(align)})`,
      inputs: { theta: uniform([2, 2, 3]) },
      flint: ({ theta }) => F.affineGrid(theta as Tensor, [2, 3, 4, 5], { alignCorners: align }),
    },
    {
      name: `affineGrid 2-d with one column alignCorners ${align}`,
      torch: `torch.nn.functional.affine_grid(theta, [1, 1, 3, 1], align_corners=${py(align)})`,
      inputs: { theta: uniform([1, 2, 3]) },
      flint: ({ theta }) => F.affineGrid(theta as Tensor, [1, 1, 3, 1], { alignCorners: align }),
    },
    {
      name: `affineGrid 3-d alignCorners ${align}`,
      torch: `torch.nn.functional.affine_grid(theta, [2, 1, 3, 4, 2], align_corners=${py(align)})`,
      inputs: { theta: uniform([2, 3, 4]) },
      flint: ({ theta }) => F.affineGrid(theta as Tensor, [2, 1, 3, 4, 2], { alignCorners: align }),
    },
  ]);
}

function interpolateCases(): SamplingCase[] {
  const cases: SamplingCase[] = [];
  const add = (name: string, shape: number[], torchOptions: string, options: F.InterpolateOptions) =>
    cases.push({
      name: `interpolate ${name}`,
      torch: `torch.nn.functional.interpolate(x, ${torchOptions})`,
      inputs: { x: uniform(shape) },
      flint: ({ x }) => F.interpolate(x as Tensor, options),
    });
  for (const align of ALIGN) {
    const a = `align_corners=${py(align)}`;
    add(`bicubic up, alignCorners ${align}`, [2, 2, 4, 5], `size=(7, 9), mode='bicubic', ${a}`, {
      size: [7, 9],
      mode: 'bicubic',
      alignCorners: align,
    });
    add(`bicubic down, alignCorners ${align}`, [1, 2, 9, 8], `size=(4, 3), mode='bicubic', ${a}`, {
      size: [4, 3],
      mode: 'bicubic',
      alignCorners: align,
    });
    add(`bicubic to one pixel, alignCorners ${align}`, [1, 1, 5, 4], `size=(1, 2), mode='bicubic', ${a}`, {
      size: [1, 2],
      mode: 'bicubic',
      alignCorners: align,
    });
    for (const mode of ['bilinear', 'bicubic'] as const) {
      add(`${mode} antialiased down, alignCorners ${align}`, [1, 2, 11, 13], `size=(4, 3), mode='${mode}', antialias=True, ${a}`, {
        size: [4, 3],
        mode,
        antialias: true,
        alignCorners: align,
      });
      add(`${mode} antialiased up, alignCorners ${align}`, [1, 1, 3, 4], `size=(5, 9), mode='${mode}', antialias=True, ${a}`, {
        size: [5, 9],
        mode,
        antialias: true,
        alignCorners: align,
      });
    }
  }
  add('bicubic, scaleFactor 1.7', [1, 2, 5, 6], "scale_factor=1.7, mode='bicubic'", { scaleFactor: 1.7, mode: 'bicubic' });
  // Values only: PyTorch 1.13's backward copies the cotangent when no size changes, though its
  // forward resamples at scale 1 / 1.1 (Flint's gradient is its forward's transpose).
  cases.push({
    name: 'interpolate bicubic, scaleFactor 1.1 keeping the size',
    torch: "torch.nn.functional.interpolate(x, scale_factor=1.1, mode='bicubic')",
    inputs: { x: uniform([1, 1, 5, 5]) },
    flint: ({ x }) => F.interpolate(x as Tensor, { scaleFactor: 1.1, mode: 'bicubic' }),
    gradients: [],
  });
  add('bilinear, scaleFactor 1.1 keeping the size (a copy)', [1, 2, 5, 6], "scale_factor=1.1, mode='bilinear'", {
    scaleFactor: 1.1,
    mode: 'bilinear',
  });
  add('bilinear, scaleFactor 1.1 keeping one size', [1, 2, 5, 10], "scale_factor=1.1, mode='bilinear'", {
    scaleFactor: 1.1,
    mode: 'bilinear',
  });
  add('bicubic antialiased, scaleFactor 1.1 keeping the size', [1, 1, 5, 6], "scale_factor=1.1, mode='bicubic', antialias=True", {
    scaleFactor: 1.1,
    mode: 'bicubic',
    antialias: true,
  });
  add('bicubic, recomputed scale', [1, 1, 5, 6], "scale_factor=1.7, mode='bicubic', recompute_scale_factor=True", {
    scaleFactor: 1.7,
    mode: 'bicubic',
    recomputeScaleFactor: true,
  });
  add('bilinear antialiased, scaleFactor 0.3', [1, 2, 10, 17], "scale_factor=0.3, mode='bilinear', antialias=True", {
    scaleFactor: 0.3,
    mode: 'bilinear',
    antialias: true,
  });
  add('bicubic antialiased, one axis kept', [1, 1, 6, 12], "size=(6, 5), mode='bicubic', antialias=True", {
    size: [6, 5],
    mode: 'bicubic',
    antialias: true,
  });
  add('area 1-d', [2, 3, 10], "size=4, mode='area'", { size: 4, mode: 'area' });
  add('area 2-d, scaleFactor', [1, 2, 7, 9], "scale_factor=0.5, mode='area'", { scaleFactor: 0.5, mode: 'area' });
  add('area 3-d, up and down', [1, 1, 4, 5, 6], "size=(2, 7, 3), mode='area'", { size: [2, 7, 3], mode: 'area' });
  return cases;
}

const CASES = [...gridSampleCases(), ...affineGridCases(), ...interpolateCases()];
describeAgainstTorch('spatial sampling against PyTorch', () => {
  const prepared = CASES.map((c) => {
    const names = c.gradients ?? Object.keys(c.inputs);
    const tensors = Object.fromEntries(
      Object.entries(c.inputs).map(([name, input]) => [
        name,
        tensor([...input.values], { shape: [...(input.shape ?? [])], dtype: 'float64' }),
      ]),
    );
    if (names.length === 0) return { c, names, output: c.flint(tensors), cotangent: undefined, gradients: [] };
    const [output, pullback] = vjp(
      (...xs: Tensor[]) => c.flint({ ...tensors, ...Object.fromEntries(names.map((name, i) => [name, xs[i] as Tensor])) }),
      ...names.map((name) => tensors[name] as Tensor),
    );
    const cotangent = randomValues(random, output.size);
    const gradients = pullback(tensor(cotangent, { shape: [...output.shape], dtype: 'float64' })) as Tensor[];
    return { c, names, output, cotangent, gradients };
  });
  let results: TorchResult[] = [];

  beforeAll(() => {
    results = runTorch(
      prepared.map(({ c, names, cotangent }) => ({
        expression: c.torch,
        inputs: c.inputs,
        gradients: names,
        ...(cotangent && { cotangent }),
      })),
    );
  });

  prepared.forEach(({ c, names, output, gradients }, i) => {
    it(`${c.name}: values and gradients agree`, () => {
      const expected = results[i] as TorchResult;
      expect([...output.shape]).toEqual(expected.outputs[0]?.shape);
      expectValuesClose(c.name, values(output), expected.outputs[0]?.values ?? [], { rtol: 1e-12, atol: 1e-13 });
      names.forEach((name, k) => {
        expectValuesClose(`${c.name}: gradient of ${name}`, values(gradients[k] as Tensor), expected.gradients[name] ?? [], {
          rtol: 1e-11,
          atol: 1e-12,
        });
      });
    });
  });
});
