/** Keeps bench/README.md's "Latest results" section pointing at the newest full run. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatTime } from './format.js';
import type { Report } from './report.js';

const START = '<!-- latest-results:start -->';
const END = '<!-- latest-results:end -->';

function ratio(value: number | undefined): string {
  return value === undefined ? '' : `${value.toPrecision(2)}x`;
}

export function latestSection(report: Report, markdownPath: string): string {
  const base = path.basename(markdownPath, '.md');
  const lines = [
    START,
    `Latest full run: [${base}.md](results/${base}.md) ([JSON](results/${base}.json); charts: ${report.suites.map((s) => `[${s.name}](results/${base}-${s.name}.svg)`).join(', ')}).`,
    '',
    '| figure | Flint | median | vs best peer | of ceiling |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const suite of report.suites) {
    for (const c of suite.cases) {
      for (const f of c.figures) {
        if (f.systemKind !== 'flint') continue;
        const median =
          f.status === 'absent'
            ? `absent: ${f.reason ?? ''}`
            : f.status === 'error'
              ? 'error'
              : `${formatTime(f.medianMs)}${f.status === 'wrong' ? ' WRONG' : ''}`;
        const ceiling = f.ofCeiling === undefined ? '' : `${(f.ofCeiling * 100).toPrecision(2)}%`;
        lines.push(
          `| ${c.id} | ${f.system} | ${median.replace(/\|/g, '\\|')} | ${f.bestPeer ? `${ratio(f.vsBestPeer)} ${f.bestPeer}` : ''} | ${ceiling} |`,
        );
      }
    }
  }
  lines.push(END);
  return lines.join('\n');
}

export function updateReadme(readmePath: string, report: Report, markdownPath: string): void {
  if (!existsSync(readmePath)) return;
  const text = readFileSync(readmePath, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return;
  writeFileSync(readmePath, text.slice(0, start) + latestSection(report, markdownPath) + text.slice(end + END.length));
}
