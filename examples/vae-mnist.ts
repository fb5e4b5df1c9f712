// A variational autoencoder on binarized MNIST digits, written with `distributions`: the encoder
// gives a Normal over a 16-d latent code, `rsample` draws a code the gradient flows through (the
// reparameterization trick), the decoder gives Bernoulli logits over the 784 pixels, and the loss
// is the negative ELBO: -log p(x | z) + KL(q(z | x) || N(0, I)).
//
//   pnpm exec tsx examples/vae-mnist.ts [epochs] [--max-steps N]
import { DataLoader, distributions, manualSeed, nn, ones, optim, type Tensor, tidy, zeros } from '@flint/api';
import '@flint/backend-cpu';
import { loadMnist } from '@flint/api/node';
import { parseArguments } from './mnist/arguments.js';

const { Bernoulli, Independent, Normal, klDivergence } = distributions;
const LATENT = 16;

class Vae extends nn.Module {
  readonly encoder = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU());
  readonly mean = new nn.Linear(256, LATENT);
  readonly logScale = new nn.Linear(256, LATENT);
  readonly decoder = new nn.Sequential(new nn.Linear(LATENT, 256), new nn.ReLU(), new nn.Linear(256, 784));
  /** p(z) = N(0, I). */
  readonly prior = new Independent(new Normal(zeros([LATENT]), ones([LATENT])), 1);

  /** q(z | x): a diagonal Normal over the latent code, one per image. */
  posterior(pixels: Tensor): distributions.Distribution {
    const hidden = this.encoder.forward(pixels);
    return new Independent(new Normal(this.mean.forward(hidden), this.logScale.forward(hidden).exp()), 1);
  }

  /** The negative evidence lower bound, averaged over the batch (nats per image). */
  forward(pixels: Tensor): Tensor {
    const q = this.posterior(pixels);
    const z = q.rsample();
    const likelihood = new Independent(new Bernoulli({ logits: this.decoder.forward(z) }), 1);
    return likelihood.logProb(pixels).neg().add(klDivergence(q, this.prior)).mean();
  }
}

/** Images [N, 1, 28, 28] in [0, 1] as pixels [N, 784] of 0 and 1. */
function binarize(images: Tensor): Tensor {
  return images.reshape([-1, 784]).greater(0.5).float();
}

const { epochs, maxSteps } = parseArguments(process.argv.slice(2));
manualSeed(0);
const train = await loadMnist({ split: 'train', normalize: false });
const test = await loadMnist({ split: 'test', normalize: false });
const loader = new DataLoader(train, { batchSize: 100, shuffle: true, generator: 0 });
const model = new Vae();
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });

/** The negative ELBO on the held-out digits, in batches of 500. */
function testLoss(): number {
  let total = 0;
  for (const [images, labels] of new DataLoader(test, { batchSize: 500 })) {
    total += tidy(() => (model.forward(binarize(images)).item() as number) * (images.shape[0] as number));
    images.dispose();
    labels.dispose();
  }
  return total / test.length;
}

for (let epoch = 0; epoch < epochs; epoch++) {
  let step = 0;
  for (const [images, labels] of loader) {
    optimizer.zeroGrad();
    const pixels = binarize(images);
    const loss = model.forward(pixels);
    loss.backward();
    optimizer.step();
    if (step % 20 === 0) console.log(`epoch ${epoch} step ${step} loss ${(loss.item() as number).toFixed(2)}`);
    loss.dispose();
    pixels.dispose();
    images.dispose();
    labels.dispose();
    step++;
    if (step === maxSteps) break;
  }
  console.log(`epoch ${epoch}: test negative ELBO ${testLoss().toFixed(2)} nats per digit`);
}
