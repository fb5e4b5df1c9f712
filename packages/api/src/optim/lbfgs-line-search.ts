import type { Tensor } from '../tensor/tensor.js';

// The strong-Wolfe line search of torch.optim.LBFGS (torch/optim/lbfgs.py, itself ported from
// Lua torch's lswolfe.lua and polyinterp.lua), step for step, with PyTorch's quirks kept: it is
// what makes an LBFGS trajectory match PyTorch's. Losses, slopes and step lengths are float64
// numbers; gradients stay tensors.

/**
 * The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
 * `bounds` (by default the interval between the points); the bounds' midpoint when the cubic has
 * no minimizer.
 */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: readonly [number, number],
): number {
  const [low, high] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 ** 2 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minimizer =
      x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minimizer, low), high);
  }
  return (low + high) / 2;
}

/** What the line search found: the loss and gradient at step length `t`, and the evaluations it spent. */
export interface LineSearchResult {
  readonly loss: number;
  readonly grad: Tensor;
  readonly t: number;
  readonly evaluations: number;
}

/** The line search's view of the problem along the direction `d`. */
export interface LineSearchProblem {
  /** The loss and flat gradient at `x + t d` (the parameters are restored after). */
  evaluate(t: number): [number, Tensor];
  /** `a . d`, as a number. */
  slope(grad: Tensor): number;
  /** max |d|. */
  readonly directionNorm: number;
}

/** The options of torch's `_strong_wolfe` (LBFGS passes none, so these are its defaults). */
const C1 = 1e-4;
const C2 = 0.9;
const TOLERANCE_CHANGE = 1e-9;
const MAX_LINE_SEARCH = 25;

/**
 * Finds a step length satisfying the strong Wolfe conditions from the initial guess `t`, given
 * the loss `f`, gradient `g` and slope `gtd` at t = 0: bracketing, then zooming by cubic
 * interpolation. The gradient returned may be `g` itself; the gradients `evaluate` made and
 * this does not return are the caller's to release.
 */
export function strongWolfe(problem: LineSearchProblem, initialT: number, f: number, g: Tensor, gtd: number): LineSearchResult {
  let t = initialT;
  let [fNew, gNew] = problem.evaluate(t);
  let evaluations = 1;
  let gtdNew = problem.slope(gNew);

  // Bracket an interval containing a point satisfying the Wolfe criteria.
  let [tPrev, fPrev, gPrev, gtdPrev] = [0, f, g, gtd];
  let done = false;
  let iteration = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: Tensor[] = [];
  let bracketGtd: number[] = [];
  const bracketPreviousAndNew = () => {
    [bracket, bracketF, bracketG, bracketGtd] = [
      [tPrev, t],
      [fPrev, fNew],
      [gPrev, gNew],
      [gtdPrev, gtdNew],
    ];
  };
  while (iteration < MAX_LINE_SEARCH) {
    // Not decreasing enough, or rising again: the minimum lies between the last two points.
    if (fNew > f + C1 * t * gtd || (iteration > 1 && fNew >= fPrev)) {
      bracketPreviousAndNew();
      break;
    }
    if (Math.abs(gtdNew) <= -C2 * gtd) {
      [bracket, bracketF, bracketG] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    // The slope turned positive: the minimum lies between the last two points too.
    if (gtdNew >= 0) {
      bracketPreviousAndNew();
      break;
    }
    // Extrapolate.
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const previous = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    [tPrev, fPrev, gPrev, gtdPrev] = [previous, fNew, gNew, gtdNew];
    [fNew, gNew] = problem.evaluate(t);
    evaluations++;
    gtdNew = problem.slope(gNew);
    iteration++;
  }
  if (iteration === MAX_LINE_SEARCH) {
    // PyTorch leaves the slopes of this bracket unset: the zoom below cannot run after it.
    [bracket, bracketF, bracketG] = [
      [0, t],
      [f, fNew],
      [g, gNew],
    ];
  }

  // Zoom: refine the bracket until a point satisfies the criteria.
  let insufficientProgress = false;
  let [low, high] = (bracketF[0] as number) <= (bracketF[bracketF.length - 1] as number) ? [0, 1] : [1, 0];
  while (!done && iteration < MAX_LINE_SEARCH) {
    const [b0, b1] = bracket as [number, number];
    if (Math.abs(b1 - b0) * problem.directionNorm < TOLERANCE_CHANGE) break;
    t = cubicInterpolate(b0, bracketF[0] as number, bracketGtd[0] as number, b1, bracketF[1] as number, bracketGtd[1] as number);
    // Too close to a boundary (or past one) twice in a row: move 10% of the bracket inside.
    const [top, bottom] = [Math.max(b0, b1), Math.min(b0, b1)];
    const eps = 0.1 * (top - bottom);
    if (Math.min(top - t, t - bottom) < eps) {
      if (insufficientProgress || t >= top || t <= bottom) {
        t = Math.abs(t - top) < Math.abs(t - bottom) ? top - eps : bottom + eps;
        insufficientProgress = false;
      } else insufficientProgress = true;
    } else insufficientProgress = false;

    [fNew, gNew] = problem.evaluate(t);
    evaluations++;
    gtdNew = problem.slope(gNew);
    iteration++;

    if (fNew > f + C1 * t * gtd || fNew >= (bracketF[low] as number)) {
      // Armijo condition not satisfied, or not lower than the lowest point.
      [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [t, fNew, gNew, gtdNew];
      [low, high] = (bracketF[0] as number) <= (bracketF[1] as number) ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -C2 * gtd) done = true;
      else if (gtdNew * ((bracket[high] as number) - (bracket[low] as number)) >= 0) {
        // The old high becomes the new low.
        [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [
          bracket[low] as number,
          bracketF[low] as number,
          bracketG[low] as Tensor,
          bracketGtd[low] as number,
        ];
      }
      [bracket[low], bracketF[low], bracketG[low], bracketGtd[low]] = [t, fNew, gNew, gtdNew];
    }
  }
  return { loss: bracketF[low] as number, grad: bracketG[low] as Tensor, t: bracket[low] as number, evaluations };
}
