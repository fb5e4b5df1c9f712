// Figures of the distributed benchmark: medians, bandwidths (nccl-tests' definitions) and the
// scaling of the CNN step from 1 to 2 ranks.

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export interface AllReduceRow {
  readonly system: string;
  readonly ranks: number;
  readonly bytes: number;
  readonly correct: boolean;
  readonly seconds: readonly number[];
  readonly medianSeconds: number;
  /** bytes / time (GB/s, 1e9). */
  readonly algorithmBandwidth: number;
  /** algorithmBandwidth x 2(n-1)/n: what each rank's links carry in a ring all-reduce. */
  readonly busBandwidth: number;
}

export function allReduceRow(line: Record<string, unknown>): AllReduceRow {
  const seconds = line.seconds as number[];
  const ranks = line.ranks as number;
  const bytes = line.bytes as number;
  const medianSeconds = median(seconds);
  const algorithmBandwidth = bytes / medianSeconds / 1e9;
  return {
    system: line.system as string,
    ranks,
    bytes,
    correct: line.correct === true,
    seconds,
    medianSeconds,
    algorithmBandwidth,
    busBandwidth: (algorithmBandwidth * 2 * (ranks - 1)) / ranks,
  };
}

export interface CnnRow {
  readonly label: string;
  readonly ranks: number;
  readonly perRankBatch: number;
  readonly threads: string;
  readonly seconds: readonly number[];
  readonly medianSeconds: number;
  /** Global batch (ranks x per-rank batch) per second. */
  readonly samplesPerSecond: number;
}

export function cnnRow(label: string, line: Record<string, unknown>): CnnRow {
  const seconds = line.seconds as number[];
  const ranks = line.ranks as number;
  const perRankBatch = line.perRankBatch as number;
  const medianSeconds = median(seconds);
  return {
    label,
    ranks,
    perRankBatch,
    threads: String(line.threads),
    seconds,
    medianSeconds,
    samplesPerSecond: (ranks * perRankBatch) / medianSeconds,
  };
}

export interface Scaling {
  readonly baseline: string;
  readonly run: string;
  /** Throughput (samples/s) of the run over the baseline's. */
  readonly speedup: number;
  /** speedup / ranks. */
  readonly efficiency: number;
}

/** Every 2-rank row against every 1-rank row, by throughput. */
export function scaling(rows: readonly CnnRow[]): Scaling[] {
  const result: Scaling[] = [];
  for (const run of rows.filter((r) => r.ranks > 1)) {
    for (const baseline of rows.filter((r) => r.ranks === 1)) {
      const speedup = run.samplesPerSecond / baseline.samplesPerSecond;
      result.push({ baseline: baseline.label, run: run.label, speedup, efficiency: speedup / run.ranks });
    }
  }
  return result;
}
