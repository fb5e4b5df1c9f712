import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toYaml } from '../io/yaml.js';
import type { Logger } from './logger.js';
import { type FileLoggerOptions, resolveLogDir } from './version-dir.js';

/** Options of `CSVLogger`. */
export interface CSVLoggerOptions extends FileLoggerOptions {
  /** Rows buffered before they are written (default 100, as Lightning's flush_logs_every_n_steps). */
  readonly flushEveryNRows?: number;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes metrics as Lightning's CSVLogger does: `<saveDir>/<name>/version_<N>/metrics.csv`, one
 * row per `logMetrics` call with a `step` column (blank cells for metrics not logged in that
 * row), and the hyperparameters in `hparams.yaml` beside it. A metric that appears later adds a
 * column, and the file is rewritten with the wider header.
 *
 * @example
 * const trainer = new Trainer({ maxEpochs: 3, logger: new CSVLogger({ saveDir: 'runs' }) });
 */
export class CSVLogger implements Logger {
  readonly name: string;
  readonly version: number | string;
  readonly logDir: string;
  private readonly flushEveryNRows: number;
  private columns: string[] = [];
  private pending: Record<string, number>[] = [];
  private written = false;

  constructor(options: CSVLoggerOptions = {}) {
    const resolved = resolveLogDir('CSVLogger', options);
    this.name = resolved.name;
    this.version = resolved.version;
    this.logDir = resolved.logDir;
    this.flushEveryNRows = options.flushEveryNRows ?? 100;
  }

  /** The path of metrics.csv. */
  get metricsFile(): string {
    return join(this.logDir, 'metrics.csv');
  }

  logHyperparams(params: Readonly<Record<string, unknown>>): void {
    mkdirSync(this.logDir, { recursive: true });
    writeFileSync(join(this.logDir, 'hparams.yaml'), toYaml(params));
  }

  logMetrics(metrics: Readonly<Record<string, number>>, step: number): void {
    this.pending.push({ ...metrics, step });
    if (this.pending.length >= this.flushEveryNRows) this.save();
  }

  save(): void {
    if (this.pending.length === 0) return;
    mkdirSync(this.logDir, { recursive: true });
    const before = this.columns.length;
    for (const row of this.pending) for (const key of Object.keys(row)) if (!this.columns.includes(key)) this.columns.push(key);
    const toLine = (row: Readonly<Record<string, unknown>>) => `${this.columns.map((c) => cell(row[c])).join(',')}\n`;
    const file = this.metricsFile;
    if (this.written && this.columns.length !== before && existsSync(file)) {
      // New columns: rewrite the rows already on disk under the wider header.
      const old = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line !== '');
      const oldHeader = (old[0] ?? '').split(',');
      const rows = old.slice(1).map((line) => {
        const cells = parseCsvLine(line);
        const row: Record<string, string> = {};
        oldHeader.forEach((column, i) => {
          row[column] = cells[i] ?? '';
        });
        return row;
      });
      writeFileSync(file, `${this.columns.map(cell).join(',')}\n${rows.map(toLine).join('')}${this.pending.map(toLine).join('')}`);
    } else if (!this.written || !existsSync(file)) {
      writeFileSync(file, `${this.columns.map(cell).join(',')}\n${this.pending.map(toLine).join('')}`);
    } else {
      appendFileSync(file, this.pending.map(toLine).join(''));
    }
    this.written = true;
    this.pending = [];
  }

  finalize(): void {
    this.save();
  }
}

/** Splits one CSV line, honouring quoted cells. */
export function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(current);
      current = '';
    } else current += c;
  }
  cells.push(current);
  return cells;
}
