/** Keeps bench/README.md's "Latest results" section pointing at the day's newest results file. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatPercent, formatTime } from './format.js';
import type { Figure, Report } from './report.js';

const START = '<!-- latest-results:start -->';
const END = '<!-- latest-results:end -->';

function ratio(value: number | undefined): string {
  return value === undefined ? '' : `${value.toPrecision(2)}x`;
}

export function latestSection(report: Report, markdownPath: string): string {
  const base = path.basename(markdownPath, '.md');
  const charts = report.suites.map((s) => `[${s.name}](results/${base}-${s.name}.svg)`).join(', ');
  const lines = [
    START,
    `Latest results: [${base}.md](results/${base}.md) ([JSON](results/${base}.json); charts: ${charts}). Flint's figures (median; vs the best peer; share of the machine's ceiling):`,
    '',
  ];
  // A list, not a table: the formatter leaves it as written, so the section stays lint-clean.
  for (const suite of report.suites) {
    for (const c of suite.cases) {
      const figures = c.figures.filter((f) => f.systemKind === 'flint').map(describeFigure);
      if (figures.length) lines.push(`- \`${c.id}\`: ${figures.join('; ')}`);
    }
  }
  lines.push('', END);
  return lines.join('\n');
}

function describeFigure(f: Figure): string {
  if (f.status === 'absent') return `${f.system} absent (${f.reason ?? ''})`;
  if (f.status === 'error') return `${f.system} failed`;
  const details = [
    f.status === 'wrong' ? 'WRONG' : undefined,
    f.bestPeer ? `${ratio(f.vsBestPeer)} ${f.bestPeer}` : undefined,
    f.vsBaseline !== undefined ? `${ratio(f.vsBaseline)} its baseline` : undefined,
    f.ofCeiling === undefined ? undefined : `${formatPercent(f.ofCeiling)} of ceiling`,
  ].filter((d) => d !== undefined);
  return `${f.system} ${formatTime(f.medianMs)}${details.length ? ` (${details.join(', ')})` : ''}`;
}

export function updateReadme(readmePath: string, report: Report, markdownPath: string): void {
  if (!existsSync(readmePath)) return;
  const text = readFileSync(readmePath, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return;
  writeFileSync(readmePath, text.slice(0, start) + latestSection(report, markdownPath) + text.slice(end + END.length));
}
