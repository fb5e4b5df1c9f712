import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Primitive, primitiveName } from '@flint/api';

export interface Tally {
  passed: number;
  failed: number;
  readonly failures: string[];
}

/** Results per primitive and backend, filled in as the suite runs. */
export class Summary {
  private readonly results = new Map<Primitive, Map<string, Tally>>();
  private readonly unavailable = new Map<string, string>();

  tally(primitive: Primitive, backend: string): Tally {
    let row = this.results.get(primitive);
    if (!row) {
      row = new Map();
      this.results.set(primitive, row);
    }
    let t = row.get(backend);
    if (!t) {
      t = { passed: 0, failed: 0, failures: [] };
      row.set(backend, t);
    }
    return t;
  }

  markUnavailable(backend: string, reason: string): void {
    this.unavailable.set(backend, reason);
  }

  private readonly skippedDTypes = new Map<string, readonly string[]>();

  /** Records the dtypes whose cases a backend skips because it does not list them. */
  markDTypesSkipped(backend: string, dtypes: readonly string[]): void {
    if (dtypes.length > 0) this.skippedDTypes.set(backend, dtypes);
  }

  /** A primitive x backend table of "passed/total" counts; failing cells are marked with '!'. */
  table(primitives: readonly Primitive[], backends: readonly string[]): string {
    const header = ['primitive', ...backends];
    const rows = primitives.map((p) => [
      primitiveName(p),
      ...backends.map((b) => {
        const t = this.results.get(p)?.get(b);
        if (!t) return '-';
        const total = t.passed + t.failed;
        return t.failed > 0 ? `${t.passed}/${total} !` : `${t.passed}/${total}`;
      }),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ');
    const out = [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)];
    let passed = 0;
    let failed = 0;
    for (const row of this.results.values()) {
      for (const t of row.values()) {
        passed += t.passed;
        failed += t.failed;
      }
    }
    out.push('', `cases passed: ${passed}, failed: ${failed} (a case counts once per dtype)`);
    for (const [name, reason] of this.unavailable) out.push(`backend '${name}' skipped: ${reason}`);
    for (const [name, dtypes] of this.skippedDTypes) {
      out.push(`backend '${name}' skips the ${dtypes.join(', ')} cases: not listed in its capabilities.dtypes`);
    }
    return out.join('\n');
  }

  failures(): string[] {
    const list: string[] = [];
    for (const [p, row] of this.results) {
      for (const [backend, t] of row) for (const f of t.failures) list.push(`- ${backend} / ${primitiveName(p)}: ${f}`);
    }
    return list;
  }

  /** Writes the table (and the failures, if any) next to the suite. */
  write(path: string, primitives: readonly Primitive[], backends: readonly string[]): string {
    const failures = this.failures();
    const text = [
      'Flint backend conformance: cases passed / cases run, per primitive and backend.',
      'Written by test/conformance/conformance.test.ts; do not edit.',
      '',
      this.table(primitives, backends),
      ...(failures.length > 0 ? ['', 'Failures:', ...failures] : []),
      '',
    ].join('\n');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return text;
  }
}
