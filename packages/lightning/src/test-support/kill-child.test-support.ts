// A training process for the SIGKILL test: trains the regression model, writing last.ckpt
// after every optimizer step, and prints each step's loss as a JSON line. With a checkpoint
// path it resumes from it; with 'reference' instead it writes no checkpoints. Run with tsx and
// this folder's tsconfig (paths to the sources).
import '@flint/backend-cpu';
import { checkpoint } from '../operators/checkpoint.js';
import { seedGlobalRandom } from '../trainer/rng.js';
import { Trainer } from '../trainer/trainer.js';
import { Regressor, regressionLoader } from './regression.test-support.js';

const [dir, resumeFrom] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: kill-child <checkpoint dir> [resume checkpoint]');
seedGlobalRandom(7);
const model = new Regressor({ hidden: 256, features: 8, dropout: 0.1, scheduler: 'step' });
const trainer = new Trainer({
  maxEpochs: 3,
  logger: false,
  enableProgressBar: false,
  enableCheckpointing: false,
  deterministic: true,
  numSanityValSteps: 0,
});
const reference = resumeFrom === 'reference';
const stream = trainer.fit$(
  model,
  regressionLoader({ samples: 96, batchSize: 4 }),
  resumeFrom === undefined || reference ? {} : { ckptPath: resumeFrom },
);
const saving = checkpoint({ dirpath: dir, everyNTrainSteps: 1, saveTopK: 1, saveLast: true, filename: 'step-{step}' });
(reference ? stream : stream.pipe(saving)).subscribe({
  next: (event) => {
    if (event.type === 'batchEnd') process.stdout.write(`${JSON.stringify({ step: event.step, loss: event.loss })}\n`);
    if (event.type === 'checkpointSaved' && event.path.endsWith('last.ckpt'))
      process.stdout.write(`${JSON.stringify({ saved: event.step })}\n`);
  },
  error: (error: unknown) => {
    process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
  complete: () => process.stdout.write('{"done":true}\n'),
});
