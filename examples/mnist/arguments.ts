/**
 * `[epochs] [--max-steps N]`. Ten epochs by default: both MNIST examples then pass 97% on the held-out
 * digits (training is deterministic). The tests run them on a short budget with --max-steps.
 */
export function parseArguments(argv: readonly string[]): { epochs: number; maxSteps: number } {
  let epochs = 10;
  let maxSteps = Number.POSITIVE_INFINITY;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--max-steps') maxSteps = Number(argv[++i]);
    else epochs = Number(arg);
  }
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  if (!(maxSteps > 0)) throw new Error(`--max-steps must be positive, got ${maxSteps}`);
  return { epochs, maxSteps };
}
