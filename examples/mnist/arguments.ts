/** `[epochs] [--max-steps N]`: the tests run the examples on a short budget with --max-steps. */
export function parseArguments(argv: readonly string[]): { epochs: number; maxSteps: number } {
  let epochs = 3;
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
