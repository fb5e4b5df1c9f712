import { FlintError } from '../core/errors.js';

/** One thing wrong with a safetensors file, with where it was found. */
export interface SafetensorsProblem {
  readonly message: string;
  /** Byte offset in the file where the problem lies, when it has one. */
  readonly offset?: number;
  /** The tensor the problem concerns, when it concerns one. */
  readonly tensor?: string;
}

/**
 * A safetensors file (or byte array) that cannot be read, or tensors that cannot be written.
 * `problems` lists everything found, each with its byte offset and tensor where known; the
 * message lists them too.
 */
export class SafetensorsError extends FlintError {
  override name = 'SafetensorsError';
  readonly problems: readonly SafetensorsProblem[];
  /** The file's path, or a description of the bytes ('bytes' for in-memory input). */
  readonly file: string;

  constructor(file: string, problems: readonly SafetensorsProblem[], action = 'read') {
    const lines = problems.map((p) => {
      const where = [p.tensor === undefined ? '' : `tensor ${JSON.stringify(p.tensor)}`, p.offset === undefined ? '' : `byte ${p.offset}`]
        .filter((s) => s !== '')
        .join(', ');
      return `  - ${where === '' ? '' : `${where}: `}${p.message}`;
    });
    super(`safetensors: cannot ${action} ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
    this.problems = problems;
    this.file = file;
  }
}
