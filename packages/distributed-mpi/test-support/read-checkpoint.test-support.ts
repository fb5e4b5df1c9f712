// Loads a Lightning checkpoint as a resumed run would (readCheckpoint validates the file and its
// trainer state) and prints its step and the model's weights as one JSON line.
//
//   read-checkpoint <path>
import '@flint/backend-cpu';
import { readCheckpoint } from '@flint/lightning';

const [path = ''] = process.argv.slice(2);
const { state, tensors } = await readCheckpoint(path);
const weights = Object.fromEntries(
  Object.entries(tensors)
    .filter(([name]) => name.startsWith('model.'))
    .map(([name, t]) => [name.slice('model.'.length), Array.from(t.dataSync())]),
);
process.stdout.write(`${JSON.stringify({ globalStep: state.globalStep, epoch: state.epoch, weights })}\n`);
