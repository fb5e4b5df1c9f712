import { ValueError } from '@flint/api';

/**
 * Fills a checkpoint filename template as Lightning does: `{epoch}-{val_loss:.2f}` becomes
 * `epoch=3-val_loss=0.12`. Formats: `.Nf` (fixed), `.Ne` (exponent), `d` (integer); without one,
 * numbers print as JavaScript prints them. Metric names with '/' get '_' so no folder appears.
 */
export function formatCheckpointName(template: string, values: Readonly<Record<string, number>>, autoInsertMetricName = true): string {
  return template.replace(/\{([^{}:]+)(?::([^{}]*))?\}/g, (_match, rawName: string, format: string | undefined) => {
    const name = rawName.trim();
    const value = values[name];
    if (value === undefined) {
      throw new ValueError(
        `ModelCheckpoint: the filename template '${template}' names '${name}', which is not among the metrics (${Object.keys(values).join(', ') || 'none'})`,
      );
    }
    const text = formatNumber(value, format);
    const label = name.replace(/\//g, '_');
    return autoInsertMetricName ? `${label}=${text}` : text;
  });
}

function formatNumber(value: number, format: string | undefined): string {
  if (format === undefined || format === '') return String(value);
  const fixed = /^\.(\d+)f$/.exec(format);
  if (fixed !== null) return value.toFixed(Number(fixed[1]));
  const exponent = /^\.(\d+)e$/.exec(format);
  if (exponent !== null) return value.toExponential(Number(exponent[1]));
  if (format === 'd') return String(Math.trunc(value));
  throw new ValueError(`ModelCheckpoint: unsupported format '${format}' in the filename template (use .Nf, .Ne or d)`);
}
