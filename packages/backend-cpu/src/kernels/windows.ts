/**
 * For one dimension of a windowed op, the input coordinate read by output position `o` and window
 * position `w`, or -1 where it falls in padding (or between the points of a dilated input):
 * table[w * outSize + o]. Position in the padded, dilated input: o * stride + w * dilation - padLo.
 */
export function windowTable(
  inSize: number,
  window: number,
  outSize: number,
  stride: number,
  padLo: number,
  dilation: number,
  inputDilation: number,
): Int32Array {
  const table = new Int32Array(window * outSize);
  for (let w = 0; w < window; w++) {
    for (let o = 0; o < outSize; o++) {
      const p = o * stride + w * dilation - padLo;
      let coordinate = -1;
      if (p >= 0 && p % inputDilation === 0) {
        const q = p / inputDilation;
        if (q < inSize) coordinate = q;
      }
      table[w * outSize + o] = coordinate;
    }
  }
  return table;
}

/**
 * Combines per-dimension tables into one: flat[wFlat * outFlat + oFlat] is the element offset
 * (sum of coordinate * inputStride) read by output position oFlat and window position wFlat, or -1.
 */
export function combinedWindowTable(
  tables: readonly Int32Array[],
  windows: readonly number[],
  outSizes: readonly number[],
  inputStrides: readonly number[],
): Int32Array {
  const rank = tables.length;
  let windowTotal = 1;
  let outTotal = 1;
  for (let d = 0; d < rank; d++) {
    windowTotal *= windows[d]!;
    outTotal *= outSizes[d]!;
  }
  const flat = new Int32Array(windowTotal * outTotal);
  // Built dim by dim: `partial` holds the offsets over the dims seen so far, expanded row-major.
  let partial = new Int32Array([0]);
  let partialWindows = 1;
  let partialOuts = 1;
  for (let d = 0; d < rank; d++) {
    const window = windows[d]!;
    const outSize = outSizes[d]!;
    const table = tables[d]!;
    const stride = inputStrides[d]!;
    const next = new Int32Array(partialWindows * window * partialOuts * outSize);
    for (let pw = 0; pw < partialWindows; pw++) {
      for (let w = 0; w < window; w++) {
        const wIndex = pw * window + w;
        for (let po = 0; po < partialOuts; po++) {
          const before = partial[pw * partialOuts + po]!;
          for (let o = 0; o < outSize; o++) {
            const coordinate = table[w * outSize + o]!;
            next[wIndex * partialOuts * outSize + po * outSize + o] = before < 0 || coordinate < 0 ? -1 : before + coordinate * stride;
          }
        }
      }
    }
    partial = next;
    partialWindows *= window;
    partialOuts *= outSize;
  }
  flat.set(partial);
  return flat;
}
