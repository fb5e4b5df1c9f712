/**
 * What is measured: the suites, their cases, shapes and seeds. Every runner (TypeScript, Python,
 * C) receives these case specs in its job and builds the same computation on the same inputs from
 * `params`; no runner keeps shapes of its own. The exact computation of each `kind` is written
 * down in bench/README.md ("What each suite measures").
 */

export const SUITE_NAMES = ['matmul', 'elementwise', 'dispatch', 'conv2d', 'mlp', 'cnn', 'transformer', 'trainer', 'linalg'] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

export type CaseKind =
  | 'matmul'
  | 'elementwise-eager'
  | 'elementwise-jit'
  | 'dispatch-add'
  | 'conv2d-forward'
  | 'conv2d-backward'
  | 'mlp-step'
  | 'mlp-step-jit'
  | 'cnn-step'
  | 'transformer-step'
  | 'trainer-hand-loop'
  | 'trainer-fit'
  | LinalgKind;

/** The decompositions and the solve of the `linalg` suite, float64 (common/linalg-inputs.ts builds their inputs). */
export type LinalgKind = 'linalg-eigh' | 'linalg-svd' | 'linalg-qr' | 'linalg-cholesky' | 'linalg-solve';

export interface CaseSpec {
  /** Unique across suites, used in file names: `matmul-1024`. */
  readonly id: string;
  readonly suite: SuiteName;
  readonly kind: CaseKind;
  readonly title: string;
  /** Shapes, seeds and hyper-parameters: all a runner needs to build the computation. */
  readonly params: Readonly<Record<string, number>>;
  /** Floating-point operations of one iteration (multiply-add = 2), for GFLOP/s and the FMA ceiling. */
  readonly flops?: number;
  /** Bytes one iteration must move to and from memory, for GB/s and the bandwidth ceiling. */
  readonly bytes?: number;
  /**
   * Largest accepted max|y - ref| / max|ref| against the float64 reference. Set well above the
   * float32 rounding every correct system shows (see the README) and far below what a wrong
   * kernel produces.
   */
  readonly tolerance: number;
  /** Training steps also report peak memory. */
  readonly training?: boolean;
  /** Training cases compare the loss of each of these first steps. */
  readonly checkSteps?: number;
}

const MEBI = 1 << 20;

function matmulCases(quick: boolean): CaseSpec[] {
  return (quick ? [64, 128] : [256, 1024, 2048]).map((n) => ({
    id: `matmul-${n}`,
    suite: 'matmul',
    kind: 'matmul',
    title: `matmul ${n}x${n} @ ${n}x${n} float32`,
    params: { n, seed: 700 },
    flops: 2 * n * n * n,
    tolerance: 2e-5,
  }));
}

/**
 * Ten ops: mul, add, tanh, mul, exp, sub, abs, sqrt, add, maximum; two of them read x again.
 * exp(tanh(..) * x) >= e^-1, so the subtraction of 0.25 never cancels and the float32 results of
 * correct systems stay within ~1e-6 of the float64 reference.
 */
const CHAIN_UNARY_OPS = 8;
const CHAIN_BINARY_OPS = 2;

function elementwiseCases(quick: boolean): CaseSpec[] {
  const size = quick ? 64 * 1024 : 4 * MEBI;
  const label = quick ? '64K' : '4M';
  const opBytes = (CHAIN_UNARY_OPS * 2 + CHAIN_BINARY_OPS * 3) * 4 * size;
  return [
    {
      id: 'elementwise-eager',
      suite: 'elementwise',
      kind: 'elementwise-eager',
      title: `10-op elementwise chain, ${label} float32, eager (GB/s of op-by-op traffic)`,
      params: { size, seed: 600 },
      bytes: opBytes,
      tolerance: 2e-5,
    },
    {
      id: 'elementwise-jit',
      suite: 'elementwise',
      kind: 'elementwise-jit',
      title: `10-op elementwise chain, ${label} float32, jit (GB/s of one fused pass)`,
      params: { size, seed: 600 },
      bytes: 2 * 4 * size,
      tolerance: 2e-5,
    },
  ];
}

function dispatchCases(): CaseSpec[] {
  return [
    {
      id: 'dispatch-add',
      suite: 'dispatch',
      kind: 'dispatch-add',
      title: 'dispatch overhead: add of two 1-element float32 tensors (time per op)',
      params: { seed: 500 },
      tolerance: 1e-6,
    },
  ];
}

function convCases(quick: boolean): CaseSpec[] {
  const p = quick ? { batch: 2, inChannels: 4, outChannels: 8, size: 12 } : { batch: 16, inChannels: 32, outChannels: 64, size: 32 };
  const forward = 2 * p.batch * p.outChannels * p.inChannels * 9 * p.size * p.size;
  const shape = `x[${p.batch},${p.inChannels},${p.size},${p.size}] * w[${p.outChannels},${p.inChannels},3,3], pad 1`;
  // Stride 2 (padding 1, 3x3): each side of the output is floor((size + 2 - 3) / 2) + 1.
  const strided = Math.floor((p.size - 1) / 2) + 1;
  const stridedForward = 2 * p.batch * p.outChannels * p.inChannels * 9 * strided * strided;
  return [
    {
      id: 'conv2d-forward',
      suite: 'conv2d',
      kind: 'conv2d-forward',
      title: `conv2d forward ${shape}`,
      params: { ...p, seed: 400 },
      flops: forward,
      tolerance: 2e-5,
    },
    {
      id: 'conv2d-backward',
      suite: 'conv2d',
      kind: 'conv2d-backward',
      title: `conv2d forward+backward (grads of input and weight) ${shape}`,
      params: { ...p, seed: 400 },
      flops: 3 * forward,
      tolerance: 2e-5,
    },
    {
      id: 'conv2d-backward-stride2',
      suite: 'conv2d',
      kind: 'conv2d-backward',
      title: `conv2d forward+backward (grads of input and weight), stride 2 ${shape}`,
      params: { ...p, stride: 2, seed: 401 },
      flops: 3 * stridedForward,
      tolerance: 2e-5,
    },
  ];
}

function mlpFlops(batch: number, inputs: number, hidden: number, classes: number): number {
  return 3 * 2 * batch * (inputs * hidden + hidden * hidden + hidden * classes);
}

function mlpParams(quick: boolean): Record<string, number> {
  return quick
    ? { batch: 16, inputs: 64, hidden: 64, classes: 10, learningRate: 1e-3, seed: 100 }
    : { batch: 128, inputs: 784, hidden: 512, classes: 10, learningRate: 1e-3, seed: 100 };
}

/** Loss of the first steps, compared with the float64 reference (Adam's update is sign-like, so losses, not parameters). */
const CHECK_STEPS = 3;
const TRAINING_TOLERANCE = 2e-4;

function mlpCases(quick: boolean): CaseSpec[] {
  const params = mlpParams(quick);
  const flops = mlpFlops(params.batch as number, params.inputs as number, params.hidden as number, params.classes as number);
  const shape = `${params.inputs}-${params.hidden}-${params.hidden}-${params.classes}, batch ${params.batch}, Adam`;
  return [
    {
      id: 'mlp-step',
      suite: 'mlp',
      kind: 'mlp-step',
      title: `MLP training step ${shape}, eager`,
      params,
      flops,
      tolerance: TRAINING_TOLERANCE,
      training: true,
      checkSteps: CHECK_STEPS,
    },
    {
      id: 'mlp-step-jit',
      suite: 'mlp',
      kind: 'mlp-step-jit',
      title: `MLP training step ${shape}, jit-compiled`,
      params,
      flops,
      tolerance: TRAINING_TOLERANCE,
      training: true,
      checkSteps: CHECK_STEPS,
    },
  ];
}

function cnnCases(quick: boolean): CaseSpec[] {
  const p = quick
    ? { batch: 4, image: 12, channels1: 4, channels2: 8, hidden: 16, classes: 10, learningRate: 1e-3, seed: 200 }
    : { batch: 64, image: 28, channels1: 32, channels2: 64, hidden: 128, classes: 10, learningRate: 1e-3, seed: 200 };
  const s1 = p.image;
  const s2 = p.image / 2;
  const flat = p.channels2 * (p.image / 4) * (p.image / 4);
  const forward =
    2 * p.batch * (p.channels1 * 9 * s1 * s1 + p.channels2 * p.channels1 * 9 * s2 * s2 + flat * p.hidden + p.hidden * p.classes);
  return [
    {
      id: 'cnn-step',
      suite: 'cnn',
      kind: 'cnn-step',
      title: `LeNet-style CNN training step: 2x (conv3x3+relu+maxpool) ${p.channels1}/${p.channels2} ch, ${p.hidden} hidden, ${p.image}x${p.image}, batch ${p.batch}, Adam`,
      params: p,
      flops: 3 * forward,
      tolerance: TRAINING_TOLERANCE,
      training: true,
      checkSteps: CHECK_STEPS,
    },
  ];
}

function transformerCases(quick: boolean): CaseSpec[] {
  const p = quick
    ? { batch: 2, tokens: 16, model: 32, heads: 4, ffn: 64, learningRate: 1e-3, seed: 300 }
    : { batch: 8, tokens: 128, model: 256, heads: 4, ffn: 1024, learningRate: 1e-3, seed: 300 };
  const rows = p.batch * p.tokens;
  const projections = 2 * rows * (4 * p.model * p.model + 2 * p.model * p.ffn);
  const attention = 2 * 2 * p.batch * p.tokens * p.tokens * p.model;
  return [
    {
      id: 'transformer-step',
      suite: 'transformer',
      kind: 'transformer-step',
      title: `transformer encoder layer training step (pre-LN, ${p.heads} heads, d=${p.model}, ffn ${p.ffn}), batch ${p.batch} x ${p.tokens} tokens, Adam`,
      params: p,
      flops: 3 * (projections + attention),
      tolerance: TRAINING_TOLERANCE,
      training: true,
      checkSteps: CHECK_STEPS,
    },
  ];
}

function trainerCases(quick: boolean): CaseSpec[] {
  const params: Record<string, number> = { ...mlpParams(quick), batches: quick ? 4 : 16 };
  const batches = params.batches as number;
  const flops = batches * mlpFlops(params.batch as number, params.inputs as number, params.hidden as number, params.classes as number);
  const shape = `${params.inputs}-${params.hidden}-${params.hidden}-${params.classes} MLP, batch ${params.batch}, Adam`;
  return [
    {
      id: 'trainer-hand-loop',
      suite: 'trainer',
      kind: 'trainer-hand-loop',
      title: `epoch of ${batches} steps of the ${shape}: hand-written loop (backward, optim.Adam)`,
      params,
      flops,
      tolerance: TRAINING_TOLERANCE,
      training: true,
      checkSteps: CHECK_STEPS,
    },
    {
      id: 'trainer-fit',
      suite: 'trainer',
      kind: 'trainer-fit',
      title: `epoch of ${batches} steps of the ${shape}: Trainer.fit`,
      params,
      flops,
      tolerance: TRAINING_TOLERANCE,
      training: true,
      checkSteps: CHECK_STEPS,
    },
  ];
}

/**
 * float64 decompositions of one n x n matrix and of a batch of small ones: the output compared is
 * what does not depend on the sign choices of eigenvectors and singular vectors (the eigenvalues,
 * the singular values), or is fixed by LAPACK's conventions (QR's R, the Cholesky factor). The
 * inputs (common/linalg-inputs.ts) are built before timing; the figure is the decomposition alone.
 */
function linalgCases(quick: boolean): CaseSpec[] {
  const n = quick ? 64 : 256;
  const small = { batch: quick ? 64 : 512, n: 8 };
  const single = (kind: LinalgKind, name: string, what: string, seed: number): CaseSpec => ({
    id: `linalg-${name}-${n}`,
    suite: 'linalg',
    kind,
    title: `${what} of a ${n}x${n} float64 matrix`,
    params: { batch: 1, n, seed },
    tolerance: 1e-6,
  });
  return [
    single('linalg-eigh', 'eigh', 'eigh (values and vectors; values compared)', 800),
    single('linalg-svd', 'svd', 'svd (reduced U, S, Vh; S compared)', 810),
    single('linalg-qr', 'qr', 'qr (reduced Q and R; R compared)', 820),
    single('linalg-cholesky', 'cholesky', 'cholesky (L compared)', 830),
    single('linalg-solve', 'solve', `solve A X = B (LU, then two triangular solves; ${n} right-hand sides)`, 850),
    {
      id: `linalg-eigh-batch`,
      suite: 'linalg',
      kind: 'linalg-eigh',
      title: `eigh of a batch of ${small.batch} ${small.n}x${small.n} float64 matrices (values compared)`,
      params: { ...small, seed: 840 },
      tolerance: 1e-6,
    },
  ];
}

/** The cases of one suite; `quick` shrinks shapes so that every system finishes in seconds. */
export function suiteCases(suite: SuiteName, quick: boolean): CaseSpec[] {
  switch (suite) {
    case 'matmul':
      return matmulCases(quick);
    case 'elementwise':
      return elementwiseCases(quick);
    case 'dispatch':
      return dispatchCases();
    case 'conv2d':
      return convCases(quick);
    case 'mlp':
      return mlpCases(quick);
    case 'cnn':
      return cnnCases(quick);
    case 'transformer':
      return transformerCases(quick);
    case 'trainer':
      return trainerCases(quick);
    case 'linalg':
      return linalgCases(quick);
  }
}

export function isSuiteName(value: string): value is SuiteName {
  return (SUITE_NAMES as readonly string[]).includes(value);
}

/** A case param that must be present. */
export function param(spec: CaseSpec, name: string): number {
  const value = spec.params[name];
  if (value === undefined) throw new Error(`bench: case ${spec.id} has no param '${name}'`);
  return value;
}
