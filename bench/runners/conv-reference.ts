/**
 * The float64 3x3 convolution of the plain-JavaScript reference (reference.ts), in a module of its
 * own so that tests can import it: zero padding 1, any stride, NCHW / OIHW.
 */

export interface ConvShape {
  readonly n: number;
  readonly c: number;
  readonly o: number;
  readonly s: number;
  /** Default 1. */
  readonly stride?: number;
}

/** Side of the output: floor((s + 2 - 3) / stride) + 1. */
export function convOutputSize({ s, stride = 1 }: ConvShape): number {
  return Math.floor((s + 2 - 3) / stride) + 1;
}

/** 3x3 convolution, zero padding 1: output row h reads input rows h * stride + kh - 1. */
export function conv(x: Float64Array, w: Float64Array, shape: ConvShape): Float64Array {
  const { n, c, o, s, stride = 1 } = shape;
  const so = convOutputSize(shape);
  const y = new Float64Array(n * o * so * so);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let ic = 0; ic < c; ic++)
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const weight = w[((oc * c + ic) * 3 + kh) * 3 + kw] as number;
            for (let h = 0; h < so; h++) {
              const ih = h * stride + kh - 1;
              if (ih < 0 || ih >= s) continue;
              const yRow = ((b * o + oc) * so + h) * so;
              const xRow = ((b * c + ic) * s + ih) * s;
              for (let ww = 0; ww < so; ww++) {
                const iw = ww * stride + kw - 1;
                if (iw >= 0 && iw < s) y[yRow + ww] = (y[yRow + ww] as number) + weight * (x[xRow + iw] as number);
              }
            }
          }
  return y;
}

/** Gradients of sum(conv(x, w) * r) with respect to x and w, concatenated; r has the output's shape. */
export function convGradients(x: Float64Array, w: Float64Array, r: Float64Array, shape: ConvShape): Float64Array {
  const { n, c, o, s, stride = 1 } = shape;
  const so = convOutputSize(shape);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let ic = 0; ic < c; ic++)
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const wIndex = ((oc * c + ic) * 3 + kh) * 3 + kw;
            const weight = w[wIndex] as number;
            let dwSum = 0;
            for (let h = 0; h < so; h++) {
              const ih = h * stride + kh - 1;
              if (ih < 0 || ih >= s) continue;
              const rRow = ((b * o + oc) * so + h) * so;
              const xRow = ((b * c + ic) * s + ih) * s;
              for (let ww = 0; ww < so; ww++) {
                const iw = ww * stride + kw - 1;
                if (iw < 0 || iw >= s) continue;
                const g = r[rRow + ww] as number;
                dwSum += g * (x[xRow + iw] as number);
                dx[xRow + iw] = (dx[xRow + iw] as number) + g * weight;
              }
            }
            dw[wIndex] = (dw[wIndex] as number) + dwSum;
          }
  const out = new Float64Array(dx.length + dw.length);
  out.set(dx);
  out.set(dw, dx.length);
  return out;
}
