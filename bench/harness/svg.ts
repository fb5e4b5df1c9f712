/**
 * One SVG bar chart per suite, written by hand (no chart library): a panel per case, a bar per
 * system, each panel on its own linear scale. Rates (GFLOP/s, GB/s: longer is better) where the
 * case has one, else time per iteration (shorter is better).
 */
import { formatTime } from './format.js';
import { type CaseReport, type Figure, type Report, runOfSuite, type SuiteReport } from './report.js';

const WIDTH = 820;
const LABEL_WIDTH = 120;
const BAR_AREA = 520;
const ROW = 18;
const BAR = 12;

const COLORS: Record<Figure['systemKind'], string> = { flint: '#e4572e', peer: '#2e86ab', native: '#6c757d', reference: '#999999' };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function percent(fraction: number): string {
  const p = fraction * 100;
  return `${p >= 10 ? p.toFixed(0) : p.toPrecision(2)}%`;
}

function value(c: CaseReport, f: Figure): number | undefined {
  return c.unit ? f.rate : f.medianMs;
}

function label(c: CaseReport, f: Figure): string {
  const main = c.unit ? `${(f.rate as number).toPrecision(3)} ${c.unit}` : formatTime(f.medianMs);
  const extra = f.status === 'wrong' ? ' WRONG' : f.status === 'unchecked' ? ' (unchecked)' : '';
  const ceiling = f.ofCeiling !== undefined ? `, ${percent(f.ofCeiling)} of ceiling` : '';
  return main + ceiling + extra;
}

function panel(c: CaseReport, top: number): { svg: string[]; height: number } {
  const order = { flint: 0, peer: 1, native: 2, reference: 3 };
  const figures = [...c.figures].sort((a, b) => order[a.systemKind] - order[b.systemKind] || a.system.localeCompare(b.system));
  const measured = figures.filter((f) => value(c, f) !== undefined);
  const max = Math.max(...measured.map((f) => value(c, f) as number), Number.MIN_VALUE);
  const svg: string[] = [];
  const direction = c.unit ? `${c.unit}, longer is better` : 'time per iteration, shorter is better';
  svg.push(`<text x="8" y="${top + 14}" class="title">${escapeXml(c.title)}</text>`);
  svg.push(`<text x="8" y="${top + 28}" class="sub">${escapeXml(direction)}</text>`);
  let y = top + 36;
  for (const f of figures) {
    svg.push(`<text x="${LABEL_WIDTH - 6}" y="${y + BAR - 2}" class="label" text-anchor="end">${escapeXml(f.system)}</text>`);
    const v = value(c, f);
    if (v === undefined) {
      const why = f.status === 'absent' ? `absent: ${f.reason ?? ''}` : `${f.status}: ${f.reason ?? ''}`;
      svg.push(`<text x="${LABEL_WIDTH + 4}" y="${y + BAR - 2}" class="absent">${escapeXml(why.slice(0, 110))}</text>`);
    } else {
      const width = Math.max(1, (v / max) * BAR_AREA);
      const color = f.status === 'wrong' ? '#c1121f' : COLORS[f.systemKind];
      const dash = f.status === 'ok' ? '' : ' stroke="#000" stroke-dasharray="3 2"';
      svg.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" fill="${color}"${dash}/>`);
      svg.push(`<text x="${(LABEL_WIDTH + width + 4).toFixed(1)}" y="${y + BAR - 2}" class="value">${escapeXml(label(c, f))}</text>`);
    }
    y += ROW;
  }
  return { svg, height: y - top + 10 };
}

export function suiteChart(report: Report, suite: SuiteReport): string {
  // The ceilings of the run that measured this suite (a day's file can merge several runs).
  const { ceilings } = runOfSuite(report, suite.name);
  const body: string[] = [];
  let top = 40;
  for (const c of suite.cases) {
    const p = panel(c, top);
    body.push(...p.svg);
    top += p.height;
  }
  const height = top + 20;
  const heading = `Flint benchmarks: ${suite.name} (${report.date}, ${report.host}${report.quick ? ', quick run' : ''})`;
  const legend = [
    ['Flint', COLORS.flint],
    ['peers', COLORS.peer],
    ['native libraries', COLORS.native],
    ['wrong result', '#c1121f'],
  ] as const;
  const legendSvg = legend
    .map(
      ([name, color], i) =>
        `<rect x="${8 + i * 110}" y="26" width="10" height="10" fill="${color}"/><text x="${22 + i * 110}" y="35" class="sub">${name}</text>`,
    )
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(heading)}</title>`,
    '<style>.title{font-size:12px;font-weight:bold}.sub{font-size:10px;fill:#555}.label{font-size:11px}.value{font-size:10px}.absent{font-size:10px;fill:#888;font-style:italic}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${escapeXml(heading)}</text>`,
    legendSvg,
    ...body,
    `<text x="8" y="${height - 6}" class="sub">${escapeXml(`ceiling: ${ceilings.fmaPeakGflops ?? '?'} GFLOP/s FMA peak, ${ceilings.bandwidthGBs ?? '?'} GB/s bandwidth`)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
