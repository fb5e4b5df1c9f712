import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError } from '@flint/api';

/** Options shared by the loggers that write into `<saveDir>/<name>/version_<N>`. */
export interface FileLoggerOptions {
  /** The root folder (default: the current folder, as the Trainer's `defaultRootDir`). */
  readonly saveDir?: string;
  /** The experiment's folder under `saveDir` (default 'lightning_logs'). */
  readonly name?: string;
  /** The version: a number gives `version_<N>`, a string is used as the folder name; default: the next free number. */
  readonly version?: number | string;
}

/** The next unused `version_<N>` number in `folder` (0 when there is none). */
export function nextVersion(folder: string): number {
  if (!existsSync(folder)) return 0;
  let next = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const match = /^version_(\d+)$/.exec(entry.name);
    if (entry.isDirectory() && match !== null) next = Math.max(next, Number(match[1]) + 1);
  }
  return next;
}

/** The resolved name, version and folder of a file logger. */
export function resolveLogDir(owner: string, options: FileLoggerOptions): { name: string; version: number | string; logDir: string } {
  const saveDir = options.saveDir ?? '.';
  const name = options.name ?? 'lightning_logs';
  if (typeof saveDir !== 'string' || saveDir === '')
    throw new ValueError(`${owner}: saveDir must be a non-empty path, got ${JSON.stringify(options.saveDir)}`);
  if (typeof name !== 'string') throw new ValueError(`${owner}: name must be a string, got ${JSON.stringify(options.name)}`);
  const root = name === '' ? saveDir : join(saveDir, name);
  const version = options.version ?? nextVersion(root);
  if (typeof version === 'number' && (!Number.isInteger(version) || version < 0)) {
    throw new ValueError(`${owner}: version must be a non-negative integer or a folder name, got ${version}`);
  }
  const folder = typeof version === 'number' ? `version_${version}` : version;
  return { name, version, logDir: join(root, folder) };
}
