import { DataLoader, type Tensor, tidy } from '@flint/api';
import type { MnistDataset } from '@flint/api/node';

/** Fraction of `data`'s digits whose highest logit is the label, in batches of 500. */
export function accuracy(predict: (images: Tensor) => Tensor, data: MnistDataset): number {
  let correct = 0;
  for (const [images, labels] of new DataLoader(data, { batchSize: 500 })) {
    correct += tidy(() => predict(images).argmax(1).equal(labels).sum().item() as number);
    images.dispose();
    labels.dispose();
  }
  return correct / data.length;
}
