import { spawnSync } from 'node:child_process';
import { randn, type Tensor, vjp } from '@flint/api';
import { describe, expect, it } from 'vitest';
import { PYTHON, torchUnavailable } from '../../../../../test/support/python-torch.test-support.js';
import { maxRelativeDifference } from '../../nn/testing.test-support.js';

// The differential tests of the linear algebra against PyTorch (linalg-torch-reference.test.ts,
// linalg-spectral-torch.test.ts): each case's outputs are compared elementwise with the same
// Python expression's on the same float64 inputs, and for the differentiable ones the VJP of a
// random cotangent with torch's backward. All cases of a suite go to one Python process; the suite
// is skipped, with the reason, when /usr/bin/python3 cannot import torch.

interface Encoded {
  shape: number[];
  data: (number | string)[];
}

const encode = (t: Tensor): Encoded => ({
  shape: [...t.shape],
  data: Array.from(t.dataSync(), (v) => (Number.isFinite(v) ? Number(v) : String(v))),
});

const decode = (e: Encoded): number[] =>
  e.data.map((v) =>
    typeof v === 'number' ? v : v === 'nan' ? Number.NaN : v === 'inf' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
  );

export interface TorchCase {
  readonly name: string;
  /** Python expression over `xs` (float64 tensors) and `torch`; a tensor or a tuple of them. */
  readonly torch: string;
  readonly inputs: () => Tensor[];
  /** The outputs, as a flat list of tensors in torch's order. */
  readonly flint: (xs: Tensor[]) => Tensor[];
  /** Compare the VJP of the floating outputs (all inputs floating) with torch's backward. */
  readonly grads?: boolean;
  /** Largest relative difference of the outputs (default 1e-9); the gradients get 100 times it. */
  readonly tolerance?: number;
}

const SCRIPT = `
import json, math, sys
import torch
torch.set_default_dtype(torch.float64)

def dec(e):
    return torch.tensor([float(v) for v in e['data']], dtype=torch.float64).reshape(e['shape'])

def enc(t):
    flat = t.detach().to(torch.float64).flatten().tolist()
    return {'shape': list(t.shape), 'data': [v if math.isfinite(v) else str(v) for v in flat]}

def leaves(out):
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in leaves(item)]
    return [out]

results = []
for case in json.load(sys.stdin):
    try:
        xs = [dec(x) for x in case['inputs']]
        if case['grads']:
            for x in xs:
                x.requires_grad_(True)
        outs = leaves(eval(case['torch']))
        result = {'outputs': [enc(o) for o in outs]}
        if case['grads']:
            loss = sum((o * dec(c)).sum() for o, c in zip(outs, case['cotangents']) if o.is_floating_point() and o.requires_grad)
            grads = torch.autograd.grad(loss, xs, allow_unused=True)
            result['grads'] = [enc(g if g is not None else torch.zeros_like(x)) for g, x in zip(grads, xs)]
        results.append(result)
    except Exception as error:
        results.append({'error': repr(error)})
print(json.dumps(results))
`;

interface TorchResult {
  error?: string;
  outputs: Encoded[];
  grads?: Encoded[];
}

/** A describe block `title` comparing every case with PyTorch (or saying why it is skipped). */
export function describeAgainstTorch(title: string, cases: readonly TorchCase[]): void {
  const reason = torchUnavailable();

  describe.skipIf(reason !== '')(title, () => {
    const prepared = cases.map((c) => {
      const inputs = c.inputs();
      const outputs = c.flint(inputs);
      const cotangents = outputs.map((o) => randn([...o.shape], { dtype: 'float64' }));
      let grads: Tensor[] = [];
      if (c.grads === true) {
        const [, pullback] = vjp((...xs: Tensor[]) => c.flint(xs), ...inputs);
        grads = pullback(cotangents) as Tensor[];
      }
      return { c, inputs, outputs, cotangents, grads };
    });
    let results: TorchResult[] = [];

    it('runs every case through PyTorch', () => {
      const payload = prepared.map(({ c, inputs, cotangents }) => ({
        torch: c.torch,
        inputs: inputs.map(encode),
        grads: c.grads === true,
        cotangents: cotangents.map(encode),
      }));
      const run = spawnSync(PYTHON, ['-c', SCRIPT], {
        input: JSON.stringify(payload),
        encoding: 'utf8',
        maxBuffer: 1 << 26,
        env: { ...process.env, OMP_NUM_THREADS: '1' },
      });
      expect(run.stderr.includes('Traceback') ? run.stderr : '').toBe('');
      expect(run.status).toBe(0);
      results = JSON.parse(run.stdout) as TorchResult[];
      expect(results).toHaveLength(cases.length);
    });

    prepared.forEach(({ c, outputs, grads }, i) => {
      it(`${c.name} agrees with PyTorch`, () => {
        const result = results[i] as TorchResult;
        expect(result, 'the PyTorch run failed').toBeDefined();
        expect(result.error, c.name).toBeUndefined();
        const tolerance = c.tolerance ?? 1e-9;
        expect(result.outputs.length, `${c.name}: number of outputs`).toBe(outputs.length);
        outputs.forEach((o, k) => {
          const reference = result.outputs[k] as Encoded;
          expect([...o.shape], `${c.name}: output ${k} shape`).toEqual(reference.shape);
          expect(maxRelativeDifference(o.dataSync(), decode(reference)), `${c.name}: output ${k}`).toBeLessThan(tolerance);
        });
        if (c.grads === true) {
          grads.forEach((g, k) => {
            const reference = (result.grads as Encoded[])[k] as Encoded;
            expect(maxRelativeDifference(g.dataSync(), decode(reference)), `${c.name}: gradient of input ${k}`).toBeLessThan(
              tolerance * 100,
            );
          });
        }
      });
    });
  });

  describe.skipIf(reason === '')(title, () => {
    it(`is skipped: ${reason}`, () => {
      expect(reason).not.toBe('');
    });
  });
}
