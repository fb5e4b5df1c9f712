/** The report as a terminal table and as Markdown. Both show the same rows. */
import { type CaseReport, type Ceilings, type Figure, latestRun, type Report, type RunRecord, type SuiteReport } from './report.js';

export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1e3).toPrecision(3)} us`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}

function formatRatio(value: number | undefined, against?: string): string {
  if (value === undefined) return '';
  const text = value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(2);
  return against ? `${text}x ${against}` : `${text}x`;
}

export function formatPercent(value: number | undefined): string {
  if (value === undefined) return '';
  const p = value * 100;
  return `${p >= 100 ? p.toFixed(0) : p.toPrecision(p >= 10 ? 3 : 2)}%`;
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const COLUMNS = [
  'system',
  'median',
  'min .. max',
  'n',
  'rate',
  'cores',
  'check',
  'vs best peer',
  'vs native',
  'of ceiling',
  'vs baseline',
] as const;

function statusText(f: Figure): string {
  switch (f.status) {
    case 'ok':
      return f.error === undefined ? 'ok' : `ok ${f.error.toExponential(0)}`;
    case 'wrong':
      return 'WRONG';
    case 'unchecked':
      return 'unchecked';
    case 'absent':
      return 'absent';
    case 'error':
      return 'ERROR';
  }
}

function order(f: Figure): number {
  return { flint: 0, peer: 1, native: 2, reference: 3 }[f.systemKind];
}

function sortedFigures(c: CaseReport): Figure[] {
  return [...c.figures].sort(
    (a, b) => order(a) - order(b) || (a.medianMs ?? Number.POSITIVE_INFINITY) - (b.medianMs ?? Number.POSITIVE_INFINITY),
  );
}

function row(c: CaseReport, f: Figure): string[] {
  const measured = f.medianMs !== undefined;
  const unit = c.unit ? ` ${c.unit}` : '';
  return [
    f.system,
    measured
      ? formatTime(f.medianMs)
      : f.status === 'absent'
        ? `absent: ${f.reason ?? ''}`
        : f.status === 'error'
          ? `ERROR: ${f.reason ?? ''}`
          : '',
    measured ? `${formatTime(f.minMs)} .. ${formatTime(f.maxMs)}` : '',
    measured ? String(f.samples ?? '') : '',
    f.rate !== undefined ? `${f.rate.toPrecision(3)}${unit}` : '',
    f.coresUsed !== undefined ? f.coresUsed.toFixed(1) : '',
    measured ? statusText(f) : '',
    formatRatio(f.vsBestPeer, f.bestPeer),
    formatRatio(f.vsNative, f.bestNative),
    formatPercent(f.ofCeiling),
    f.vsBaseline !== undefined ? `${formatRatio(f.vsBaseline)} vs ${c.baseline}` : '',
  ];
}

/** Drops columns that are empty in every row of a case. */
function usedColumns(rows: readonly string[][]): number[] {
  return COLUMNS.map((_, i) => i).filter((i) => i < 2 || rows.some((r) => (r[i] ?? '') !== ''));
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}~`;
}

export function terminalTable(report: Report): string {
  const lines: string[] = [];
  for (const suite of report.suites) {
    lines.push('', `== ${suite.name} ==`);
    for (const c of suite.cases) {
      lines.push(`-- ${c.title}${referenceOf(c)}`);
      const rows = sortedFigures(c).map((f) => row(c, f));
      const columns = usedColumns(rows);
      const widths = columns.map((i) =>
        Math.min(i === 1 ? 70 : 40, Math.max(COLUMNS[i]?.length ?? 0, ...rows.map((r) => (r[i] ?? '').length))),
      );
      lines.push(`  ${columns.map((i, k) => (COLUMNS[i] ?? '').padEnd(widths[k] as number)).join('  ')}`);
      for (const r of rows)
        lines.push(
          `  ${columns.map((i, k) => truncate(r[i] ?? '', widths[k] as number).padEnd(widths[k] as number)).join('  ')}`.trimEnd(),
        );
      for (const f of c.figures) if (f.status === 'wrong') lines.push(`  !! ${f.system}: ${f.reason}`);
    }
  }
  return lines.join('\n');
}

function referenceOf(c: CaseReport): string {
  const ref = c.figures.find((f) => f.reference)?.reference;
  return ref ? `  [checked against ${ref}, tolerance ${c.tolerance}]` : '';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function markdownSuite(suite: SuiteReport, chart: string | undefined): string[] {
  const lines = [`## ${suite.name}`, ''];
  if (chart) lines.push(`![${suite.name}](${chart})`, '');
  for (const c of suite.cases) {
    lines.push(
      `### ${c.title}`,
      '',
      referenceOf(c)
        .trim()
        .replace(/^\[|\]$/g, '') || 'no reference output',
      '',
    );
    const rows = sortedFigures(c).map((f) => row(c, f));
    const columns = usedColumns(rows);
    lines.push(`| ${columns.map((i) => COLUMNS[i]).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`);
    for (const r of rows) lines.push(`| ${columns.map((i) => escapeCell(r[i] ?? '')).join(' | ')} |`);
    const wrong = c.figures.filter((f) => f.status === 'wrong');
    if (wrong.length) lines.push('', ...wrong.map((f) => `- **${f.system} WRONG**: ${escapeCell(f.reason ?? '')}`));
    lines.push('');
  }
  return lines;
}

export function describeQuiet(run: Pick<RunRecord, 'quiet' | 'loadSeen'>): string {
  const q = run.quiet;
  if (!q.supported) return 'load not measured (no /proc/stat on this system)';
  const start = q.quiet
    ? `quiet at start (other processes used ${q.otherCoresAtStart} cores, threshold ${q.thresholdCores}; waited ${q.waitedSeconds} s)`
    : `NOT quiet at start: other processes used ${q.otherCoresAtStart} of ${q.cores} cores after waiting ${q.waitedSeconds} s`;
  const busy = run.loadSeen;
  const during = busy.length
    ? `; during the run other processes were busy in ${busy.length} job(s), up to ${Math.max(...busy.map((b) => b.maxOtherCores)).toFixed(2)} cores (${busy
        .slice(0, 6)
        .map((b) => `${b.job}: max ${b.maxOtherCores}`)
        .join(', ')}${busy.length > 6 ? ', ...' : ''})`
    : '; no other load seen during the run';
  return start + during;
}

export function describeCeilings(c: Ceilings, cores: number): string {
  if (c.fmaPeakGflops === undefined && c.bandwidthGBs === undefined) return `ceilings not measured${c.reason ? ` (${c.reason})` : ''}`;
  const parts: string[] = [];
  if (c.fmaPeakGflops !== undefined) {
    parts.push(
      c.raisedBy
        ? `float32 compute ceiling ${c.fmaPeakGflops} GFLOP/s, set by ${c.raisedBy}; the FMA-peak program measured ${c.fmaPeakGflopsOneCore} on one core`
        : `float32 FMA peak ${c.fmaPeakGflops} GFLOP/s on ${cores} cores (${c.fmaPeakGflopsOneCore} on one; ${c.isa})`,
    );
  }
  if (c.bandwidthGBs !== undefined) parts.push(`memory bandwidth ${c.bandwidthGBs} GB/s (STREAM triad; copy ${c.copyGBs})`);
  return parts.join('; ');
}

export function markdownReport(report: Report, charts: ReadonlyMap<string, string>): string {
  const m = report.machine;
  const lines = [
    `# Flint benchmarks: ${report.date}, ${report.host}`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}`,
    `- Command: \`${report.command}\`${report.quick ? ' (quick: reduced shapes, a smoke run, not figures to quote)' : ''}; took ${report.durationSeconds} s${report.earlierRuns?.length ? `; measured ${latestRun(report).suites.join(', ')}` : ''}`,
    `- Load: ${describeQuiet(report)}`,
    `- Ceilings: ${describeCeilings(report.ceilings, m.cores)}`,
    ...(report.earlierRuns ?? []).map(
      (run) =>
        `- Kept from an earlier run (${run.suites.join(', ')}): \`${run.command}\` at ${run.startedAt}; took ${run.durationSeconds} s; ${describeQuiet(run)}; ${describeCeilings(run.ceilings, m.cores)}`,
    ),
    '- Ratios: `vs best peer` = fastest correct peer time / Flint time (above 1: Flint is faster); `of ceiling` = achieved rate / the physical ceiling; `vs baseline` = the same system eager (or hand-written loop) time / this time.',
    '',
    '| system | version | status |',
    '| --- | --- | --- |',
    ...report.systems.map(
      (s) =>
        `| ${s.name} | ${escapeCell(s.version ?? '')} | ${s.available ? escapeCell(['available', ...(s.notes ?? [])].join('; ')) : `absent: ${escapeCell(s.reason ?? '')}`} |`,
    ),
    '',
  ];
  for (const suite of report.suites) lines.push(...markdownSuite(suite, charts.get(suite.name)));
  const memory = memoryRows(report);
  if (memory.length) {
    lines.push(
      '## Peak memory per training step',
      '',
      'Resident memory added at the peak of one step (VmHWM after the step minus VmRSS before it).',
      '',
    );
    lines.push('| case | system | peak step memory |', '| --- | --- | --- |', ...memory, '');
  }
  return lines.join('\n');
}

function memoryRows(report: Report): string[] {
  const rows: string[] = [];
  for (const suite of report.suites) {
    for (const c of suite.cases) {
      for (const f of sortedFigures(c))
        if (f.peakStepBytes !== undefined) rows.push(`| ${c.id} | ${f.system} | ${formatBytes(f.peakStepBytes)} |`);
    }
  }
  return rows;
}

export function terminalMemory(report: Report): string {
  const rows = memoryRows(report);
  if (!rows.length) return '';
  return [
    '',
    '== peak memory per training step ==',
    ...rows.map(
      (r) =>
        `  ${r
          .replace(/^\| | \|$/g, '')
          .split(' | ')
          .join('  ')}`,
    ),
  ].join('\n');
}
