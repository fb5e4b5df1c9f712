// The small CNN that the MNIST examples train: two 3x3 conv + ReLU + 2x2 max-pool stages, then a
// 128-unit hidden layer, as in PyTorch's classic MNIST example (narrower, for a 2-core CPU).
import { nn, type Tensor } from '@flint/api';

const { relu } = nn.functional;

export class MnistCnn extends nn.Module {
  readonly conv1 = new nn.Conv2d(1, 16, 3);
  readonly conv2 = new nn.Conv2d(16, 32, 3);
  readonly pool = new nn.MaxPool2d(2);
  readonly fc1 = new nn.Linear(32 * 5 * 5, 128);
  readonly fc2 = new nn.Linear(128, 10);

  forward(images: Tensor): Tensor {
    let x = this.pool.forward(relu(this.conv1.forward(images)));
    x = this.pool.forward(relu(this.conv2.forward(x)));
    x = relu(this.fc1.forward(x.flatten(1)));
    return this.fc2.forward(x);
  }
}
