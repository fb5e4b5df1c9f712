import type { MonoTypeOperatorFunction } from 'rxjs';
import type { TrainerEvent } from '../stream/events.js';
import { observeEvents } from '../stream/observe.js';
import { Callback } from './callback.js';

/** A terminal: where the bar is drawn. */
export interface Terminal {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of `ProgressBar` and the `progressBar` operator. */
export interface ProgressBarOptions {
  /** Default process.stderr. */
  readonly output?: Terminal;
  /** Draw even when the output is not a terminal (default false: quiet there). */
  readonly force?: boolean;
  /** Redraw at most this often, in milliseconds (default 100). */
  readonly refreshMs?: number;
  /** Batches over which the shown loss is averaged (default 20). */
  readonly lossWindow?: number;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${String(minutes).padStart(2, '0')}:${rest}`;
}

function value(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4).replace(/0+$/, '').replace(/\.$/, '') : v.toExponential(2);
}

/** One line of the bar: `Epoch 2/10:  45%|█████▍      | 211/469 [00:05<00:06, 40.1it/s, loss=0.234, v_num=0]`. */
export function renderProgressLine(state: {
  epoch: number;
  maxEpochs: number;
  done: number;
  total: number;
  elapsedSeconds: number;
  metrics: Readonly<Record<string, number>>;
  width?: number;
}): string {
  const { epoch, maxEpochs, done, total } = state;
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const rate = state.elapsedSeconds > 0 ? done / state.elapsedSeconds : 0;
  const eta = rate > 0 ? (total - done) / rate : Number.NaN;
  const cells = 20;
  const filled = fraction * cells;
  const full = Math.floor(filled);
  const partials = ' ▏▎▍▌▋▊▉';
  const partial = full < cells ? (partials[Math.floor((filled - full) * 8)] ?? ' ') : '';
  const bar = `${'█'.repeat(full)}${partial}`.padEnd(cells, ' ');
  const epochs = maxEpochs > 0 && Number.isFinite(maxEpochs) ? `${epoch + 1}/${maxEpochs}` : `${epoch + 1}`;
  const stats = Object.entries(state.metrics).map(([k, v]) => `${k}=${value(v)}`);
  const speed = rate >= 1 || rate === 0 ? `${rate.toFixed(2)}it/s` : `${(1 / rate).toFixed(2)}s/it`;
  const line = `Epoch ${epochs}: ${String(Math.round(fraction * 100)).padStart(3)}%|${bar}| ${done}/${total} [${clock(state.elapsedSeconds)}<${clock(eta)}, ${[speed, ...stats].join(', ')}]`;
  return state.width !== undefined && line.length > state.width ? line.slice(0, Math.max(0, state.width - 1)) : line;
}

/**
 * A terminal progress bar (Lightning's TQDMProgressBar): epoch, batches done, a running loss,
 * values logged with `progBar: true`, it/s and the time left. Quiet when the output is not a
 * terminal (unless `force`).
 *
 * @example
 * await new Trainer({ callbacks: [new ProgressBar({ refreshMs: 250 })] }).fit(model, data);
 */
export class ProgressBar extends Callback {
  readonly output: Terminal;
  readonly enabled: boolean;
  readonly refreshMs: number;
  readonly lossWindow: number;

  constructor(options: ProgressBarOptions = {}) {
    super();
    this.output = options.output ?? process.stderr;
    this.enabled = options.force === true || this.output.isTTY === true;
    this.refreshMs = options.refreshMs ?? 100;
    this.lossWindow = options.lossWindow ?? 20;
  }

  override operator(): MonoTypeOperatorFunction<TrainerEvent> {
    if (!this.enabled) return observeEvents(() => ({ event: (event) => void this.dispatch(event) }));
    return observeEvents(() => {
      let maxEpochs = 0;
      let total = 0;
      let epoch = 0;
      let done = 0;
      let epochStarted = 0;
      let lastDraw = 0;
      let open = false;
      const losses: number[] = [];
      let shown: Record<string, number> = {};
      const draw = (force: boolean) => {
        const now = performance.now();
        if (!force && now - lastDraw < this.refreshMs) return;
        lastDraw = now;
        const mean = losses.length > 0 ? losses.reduce((a, b) => a + b, 0) / losses.length : undefined;
        const metrics = mean === undefined ? shown : { loss: mean, ...shown };
        const width = this.output.columns;
        this.output.write(
          `\r\x1b[K${renderProgressLine({ epoch, maxEpochs, done, total, elapsedSeconds: (now - epochStarted) / 1000, metrics, ...(width === undefined ? {} : { width }) })}`,
        );
        open = true;
      };
      const close = () => {
        if (open) this.output.write('\n');
        open = false;
      };
      return {
        event: (event) => {
          switch (event.type) {
            case 'fitStart':
              maxEpochs = event.maxEpochs;
              total = event.trainBatches;
              break;
            case 'epochStart':
              epoch = event.epoch;
              done = 0;
              losses.length = 0;
              epochStarted = performance.now();
              break;
            case 'batchEnd':
              done = event.batchIdx + 1;
              if (event.loss !== null) {
                losses.push(event.loss);
                if (losses.length > this.lossWindow) losses.shift();
              }
              shown = { ...shown, ...event.progressBarMetrics };
              draw(done === total);
              break;
            case 'validationEnd':
              if (!event.sanityCheck) {
                shown = { ...shown, ...event.progressBarMetrics };
                draw(true);
              }
              break;
            case 'epochEnd':
              shown = { ...shown, ...event.progressBarMetrics };
              draw(true);
              close();
              break;
          }
          this.dispatch(event);
        },
        complete: close,
        error: close,
        abort: close,
      };
    });
  }
}
