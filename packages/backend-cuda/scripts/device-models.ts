// The training steps the CUDA issue measures against PyTorch on the same GPU (device-check.ts;
// scripts/torch-bench.py builds the same models in PyTorch): the bench suite's LeNet-style CNN
// and pre-LN transformer encoder layer (bench/common/models.ts gives their shapes and initial
// values), each step written as a PyTorch user writes it: Parameters, loss.backward(), Adam.
import { conv2d, maxPool2d, nn, optim, Parameter, relu, type Tensor, tensor, tidy } from '@flint/api';
import { cnnModel, type Initial, materialize, transformerModel } from '../../../bench/common/models.js';
import type { CaseSpec } from '../../../bench/common/suites.js';

/** The shapes: the MNIST CNN at batch 256; the encoder at batch 32 x 256 tokens, d = 512. */
export const CNN_PARAMS = { batch: 256, image: 28, channels1: 32, channels2: 64, hidden: 128, classes: 10, learningRate: 1e-3, seed: 200 };
export const TRANSFORMER_PARAMS = { batch: 32, tokens: 256, model: 512, heads: 8, ffn: 2048, learningRate: 1e-3, seed: 300 };

export interface TrainingStep {
  /** One step (forward, backward, Adam update); returns the loss, which the caller reads or disposes. */
  step(): Tensor;
  dispose(): void;
}

function spec(kind: 'cnn-step' | 'transformer-step', params: Record<string, number>): CaseSpec {
  return { id: kind, suite: kind === 'cnn-step' ? 'cnn' : 'transformer', kind, title: kind, params } as CaseSpec;
}

function make(backend: string, initial: Initial): Tensor {
  const values = 'data' in initial ? initial.data : new Float32Array(initial.shape.reduce((a, b) => a * b, 1)).fill(initial.fill);
  return tensor(values, { shape: initial.shape, backend });
}

/** Parameters, Adam, and a step that zeroes the gradients, runs `loss` backward and updates. */
function imperative(
  params: Record<string, Tensor>,
  learningRate: number,
  loss: (p: Record<string, Tensor>) => Tensor,
  inputs: Tensor[],
): TrainingStep {
  const parameters = Object.fromEntries(Object.entries(params).map(([name, value]) => [name, new Parameter(value)]));
  const optimizer = new optim.Adam(Object.values(parameters), { lr: learningRate, betas: [0.9, 0.999], eps: 1e-8 });
  const values = () => Object.fromEntries(Object.entries(parameters).map(([name, p]) => [name, p.value]));
  return {
    step: () =>
      optimizer.step(() => {
        optimizer.zeroGrad();
        const value = loss(values());
        value.backward();
        return value;
      }) as Tensor,
    dispose() {
      for (const p of Object.values(parameters)) p.dispose();
      for (const t of inputs) t.dispose();
    },
  };
}

function crossEntropy(logits: Tensor, targets: Tensor, batch: number): Tensor {
  return targets.mul(nn.functional.logSoftmax(logits, -1)).sum().neg().div(batch);
}

export function cnnStep(backend: string, params: Record<string, number> = CNN_PARAMS): TrainingStep {
  const { batch, flat, ...model } = cnnModel(spec('cnn-step', params));
  const x = make(backend, model.x);
  const y = make(backend, model.y);
  const loss = (p: Record<string, Tensor>) =>
    tidy(() => {
      const a1 = maxPool2d(relu(conv2d(x, p.k1 as Tensor, { padding: 1, bias: p.kb1 as Tensor })), 2);
      const a2 = maxPool2d(relu(conv2d(a1, p.k2 as Tensor, { padding: 1, bias: p.kb2 as Tensor })), 2);
      const h = relu(
        a2
          .reshape([batch, flat])
          .matmul(p.w3 as Tensor)
          .add(p.b3 as Tensor),
      );
      return crossEntropy(h.matmul(p.w4 as Tensor).add(p.b4 as Tensor), y, batch);
    });
  return imperative(
    materialize(model.params, (initial) => make(backend, initial)),
    params.learningRate as number,
    loss,
    [x, y],
  );
}

export function transformerStep(backend: string, params: Record<string, number> = TRANSFORMER_PARAMS): TrainingStep {
  const { batch, tokens, d, heads, dh, rows, ...model } = transformerModel(spec('transformer-step', params));
  const x = make(backend, model.x);
  const target = make(backend, model.target);
  const splitHeads = (t: Tensor) => t.reshape([batch, tokens, heads, dh]).transpose([0, 2, 1, 3]);
  const norm = (t: Tensor, gain: Tensor, bias: Tensor) => nn.functional.layerNorm(t, [d], { weight: gain, bias, eps: 1e-5 });
  const loss = (p: Record<string, Tensor>) =>
    tidy(() => {
      const h = norm(x, p.g1 as Tensor, p.n1 as Tensor);
      const q = splitHeads(h.matmul(p.wq as Tensor).add(p.bq as Tensor));
      const k = splitHeads(h.matmul(p.wk as Tensor).add(p.bk as Tensor));
      const v = splitHeads(h.matmul(p.wv as Tensor).add(p.bv as Tensor));
      const scores = q.matmul(k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(dh));
      const context = nn.functional.softmax(scores, -1).matmul(v).transpose([0, 2, 1, 3]).reshape([rows, d]);
      const x1 = x.add(context.matmul(p.wo as Tensor).add(p.bo as Tensor));
      const hidden = relu(
        norm(x1, p.g2 as Tensor, p.n2 as Tensor)
          .matmul(p.w1 as Tensor)
          .add(p.b1 as Tensor),
      );
      const diff = x1.add(hidden.matmul(p.w2 as Tensor).add(p.b2 as Tensor)).sub(target);
      return diff.mul(diff).mean();
    });
  return imperative(
    materialize(model.params, (initial) => make(backend, initial)),
    params.learningRate as number,
    loss,
    [x, target],
  );
}
