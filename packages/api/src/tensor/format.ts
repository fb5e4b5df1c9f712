import { type DType, isFloating, type TypedArray } from '../core/dtype.js';
import { formatShape, type Shape, sizeOf } from '../core/shape.js';
import { decodeStorage, Tensor } from './tensor.js';

// Printing in PyTorch's style (torch/_tensor_str.py): one formatter per tensor chooses integer,
// fixed or scientific notation from the magnitudes present, every element is padded to one width
// so columns line up, lines wrap at 80 characters, and tensors over 1000 elements show their first
// and last 3 items per dimension around '...'.

/** Options of `formatTensor`; the defaults are PyTorch's. */
export interface PrintOptions {
  /** Digits after the decimal point. Default 4. */
  readonly precision?: number;
  /** Tensors with more elements than this are summarized. Default 1000. */
  readonly threshold?: number;
  /** Items shown at each end of a summarized dimension. Default 3. */
  readonly edgeItems?: number;
  /** Characters per line before wrapping. Default 80. */
  readonly lineWidth?: number;
  /** Force (true) or forbid (false) scientific notation; chosen from the data when omitted. */
  readonly sciMode?: boolean;
}

interface Settings {
  readonly precision: number;
  readonly threshold: number;
  readonly edgeItems: number;
  readonly lineWidth: number;
  readonly sciMode: boolean | undefined;
}

function settings(options: PrintOptions): Settings {
  return {
    precision: options.precision ?? 4,
    threshold: options.threshold ?? 1000,
    edgeItems: options.edgeItems ?? 3,
    lineWidth: options.lineWidth ?? 80,
    sciMode: options.sciMode,
  };
}

/** Python's '{:.Ne}': at least two exponent digits ('1.0000e+00'). */
function exponential(value: number, precision: number): string {
  const s = value.toExponential(precision);
  const at = s.indexOf('e');
  const sign = s[at + 1] as string;
  const digits = s.slice(at + 2);
  return `${s.slice(0, at)}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
}

function fixed(value: number, precision: number): string {
  const s = value.toFixed(precision);
  // JavaScript drops the sign of negative zero and of values that round to zero; Python keeps it.
  return Object.is(value, -0) || (value < 0 && !s.startsWith('-')) ? `-${s}` : s;
}

function nonFinite(value: number): string {
  return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
}

/** One formatter per tensor: the notation and the column width shared by all its elements. */
class Formatter {
  private readonly floating: boolean;
  private intMode = true;
  private sciMode = false;
  width = 1;

  constructor(
    values: ArrayLike<number>,
    private readonly dtype: DType,
    private readonly s: Settings,
  ) {
    this.floating = isFloating(dtype);
    if (!this.floating) {
      for (let i = 0; i < values.length; i++) this.width = Math.max(this.width, this.plain(values[i] as number).length);
      return;
    }
    const finite: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (Number.isFinite(v) && v !== 0) finite.push(v);
    }
    if (finite.length === 0) {
      this.applySciOverride();
      return;
    }
    let min = Infinity;
    let max = 0;
    for (const v of finite) {
      const a = Math.abs(v);
      if (a < min) min = a;
      if (a > max) max = a;
      if (v !== Math.ceil(v)) this.intMode = false;
    }
    const spread = max / min > 1000 || max > 1e8;
    if (this.intMode) {
      if (spread) {
        this.sciMode = true;
        for (const v of finite) this.width = Math.max(this.width, exponential(v, s.precision).length);
      } else {
        // Integral floats print as '3.', so the width counts the point.
        for (const v of finite) this.width = Math.max(this.width, fixed(v, 0).length + 1);
      }
    } else if (spread || min < 1e-4) {
      this.sciMode = true;
      for (const v of finite) this.width = Math.max(this.width, exponential(v, s.precision).length);
    } else {
      for (const v of finite) this.width = Math.max(this.width, fixed(v, s.precision).length);
    }
    this.applySciOverride();
  }

  private applySciOverride(): void {
    if (this.s.sciMode === undefined) return;
    this.sciMode = this.s.sciMode;
  }

  private plain(value: number): string {
    if (this.dtype === 'bool') return value !== 0 ? 'True' : 'False';
    return String(value);
  }

  format(value: number): string {
    let text: string;
    if (!this.floating) text = this.plain(value);
    else if (!Number.isFinite(value)) text = nonFinite(value);
    else if (this.sciMode) text = exponential(value, this.s.precision);
    else if (this.intMode) text = `${fixed(value, 0)}.`;
    else text = fixed(value, this.s.precision);
    return text.length < this.width ? ' '.repeat(this.width - text.length) + text : text;
  }
}

/** The element positions kept when summarizing: edge items of every dimension. */
function keptIndices(size: number, summarize: boolean, edgeItems: number): number[] | null {
  if (!summarize || size <= 2 * edgeItems) return null;
  return [...Array.from({ length: edgeItems }, (_, i) => i), ...Array.from({ length: edgeItems }, (_, i) => size - edgeItems + i)];
}

/** Values of the summarized tensor, which decide the formatter as in PyTorch. */
function summarizedValues(data: ArrayLike<number>, shape: Shape, summarize: boolean, edgeItems: number): number[] {
  const out: number[] = [];
  const visit = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      out.push(data[offset] as number);
      return;
    }
    const n = shape[dim] as number;
    const stride = sizeOf(shape.slice(dim + 1));
    const kept = keptIndices(n, summarize, edgeItems) ?? Array.from({ length: n }, (_, i) => i);
    for (const i of kept) visit(dim + 1, offset + i * stride);
  };
  visit(0, 0);
  return out;
}

function render(data: ArrayLike<number>, shape: Shape, formatter: Formatter, s: Settings, summarize: boolean, indent: number): string {
  if (shape.length === 0) return formatter.format(data[0] as number);
  const strides = shape.map((_, d) => sizeOf(shape.slice(d + 1)));
  const vector = (offset: number, depth: number): string => {
    const n = shape[shape.length - 1] as number;
    const kept = keptIndices(n, summarize, s.edgeItems);
    const items: string[] = [];
    if (kept === null) for (let i = 0; i < n; i++) items.push(formatter.format(data[offset + i] as number));
    else {
      for (let i = 0; i < s.edgeItems; i++) items.push(formatter.format(data[offset + (kept[i] as number)] as number));
      items.push(' ...');
      for (let i = s.edgeItems; i < kept.length; i++) items.push(formatter.format(data[offset + (kept[i] as number)] as number));
    }
    const lineIndent = indent + depth;
    const perLine = Math.max(1, Math.floor((s.lineWidth - lineIndent) / (formatter.width + 2)));
    const lines: string[] = [];
    for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
    return `[${lines.join(`,\n${' '.repeat(lineIndent + 1)}`)}]`;
  };
  const nested = (dim: number, offset: number): string => {
    if (dim === shape.length - 1) return vector(offset, dim);
    const n = shape[dim] as number;
    const stride = strides[dim] as number;
    const kept = keptIndices(n, summarize, s.edgeItems);
    const parts: string[] = [];
    if (kept === null) for (let i = 0; i < n; i++) parts.push(nested(dim + 1, offset + i * stride));
    else {
      for (let i = 0; i < s.edgeItems; i++) parts.push(nested(dim + 1, offset + (kept[i] as number) * stride));
      parts.push('...');
      for (let i = s.edgeItems; i < kept.length; i++) parts.push(nested(dim + 1, offset + (kept[i] as number) * stride));
    }
    const remaining = shape.length - dim;
    return `[${parts.join(`,${'\n'.repeat(remaining - 1)}${' '.repeat(indent + dim + 1)}`)}]`;
  };
  return nested(0, 0);
}

function addSuffixes(body: string, suffixes: readonly string[], indent: number, lineWidth: number): string {
  let out = body;
  let lastLine = body.length - body.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLine + suffix.length + 2 > lineWidth) {
      out += `,\n${' '.repeat(indent)}${suffix}`;
      lastLine = indent + suffix.length;
    } else {
      out += `, ${suffix}`;
      lastLine += suffix.length + 2;
    }
  }
  return `${out})`;
}

/** Dtypes PyTorch would not name when printing: the defaults of each kind. */
const UNNAMED_DTYPES: ReadonlySet<DType> = new Set<DType>(['float32', 'int32', 'bool']);

/**
 * PyTorch-style text for a tensor's values: `tensor([[1.0000, 2.5000], ...])`, followed by the
 * dtype when it is not a default one, the shape when the tensor is summarized or empty, and the
 * backend when it is not 'cpu'.
 *
 * @example
 * formatTensor(new Float32Array([1, 2.5]), [2], 'float32'); // 'tensor([1.0000, 2.5000])'
 */
export function formatTensor(
  data: TypedArray | ArrayLike<number>,
  shape: Shape,
  dtype: DType,
  backend = 'cpu',
  options: PrintOptions = {},
): string {
  const s = settings(options);
  const prefix = 'tensor(';
  const indent = prefix.length;
  const size = sizeOf(shape);
  const suffixes: string[] = [];
  let body: string;
  if (size === 0) {
    if (shape.length !== 1) suffixes.push(`shape=${formatShape(shape)}`);
    if (dtype !== 'float32') suffixes.push(`dtype=${dtype}`);
    body = '[]';
  } else {
    const summarize = size > s.threshold;
    const formatter = new Formatter(summarizedValues(data, shape, summarize, s.edgeItems), dtype, s);
    body = render(data, shape, formatter, s, summarize, indent);
    if (summarize) suffixes.push(`shape=${formatShape(shape)}`);
    if (!UNNAMED_DTYPES.has(dtype)) suffixes.push(`dtype=${dtype}`);
  }
  if (backend !== 'cpu') suffixes.push(`backend='${backend}'`);
  return addSuffixes(prefix + body, suffixes, indent, s.lineWidth);
}

/** What a tensor without readable data prints as. */
function describe(t: Tensor): string {
  if (t._backend === null) return `Tracer(shape=${formatShape(t.shape)}, dtype=${t.dtype})`;
  if (t._handle === undefined) return `tensor(<disposed>, shape=${formatShape(t.shape)}, dtype=${t.dtype})`;
  return `tensor(<on '${t._backend.name}'; print await t.toStringAsync()>, shape=${formatShape(t.shape)}, dtype=${t.dtype})`;
}

declare module './tensor.js' {
  interface Tensor {
    /**
     * The tensor's values in PyTorch's style. Reads synchronously; tensors on asynchronous
     * backends (and traced values) print their shape and dtype instead.
     *
     * @example
     * console.log(tensor([[1, 2], [3, 4]]).toString()); // tensor([[1, 2],\n        [3, 4]])
     */
    toString(options?: PrintOptions): string;
    /** The same text, waiting for the data on asynchronous backends. */
    toStringAsync(options?: PrintOptions): Promise<string>;
  }
}

Tensor.prototype.toString = function (this: Tensor, options: PrintOptions = {}): string {
  const backend = this._backend;
  if (backend === null || this._handle === undefined || backend.readSync === undefined) return describe(this);
  return formatTensor(decodeStorage(this.dtype, backend.readSync(this._handle)), this.shape, this.dtype, backend.name, options);
};

Tensor.prototype.toStringAsync = async function (this: Tensor, options: PrintOptions = {}): Promise<string> {
  const backend = this._backend;
  if (backend === null || this._handle === undefined) return describe(this);
  return formatTensor(decodeStorage(this.dtype, await backend.read(this._handle)), this.shape, this.dtype, backend.name, options);
};

// Node's console.log and util.inspect call this hook; the symbol is global, so no Node import.
Object.defineProperty(Tensor.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value: function (this: Tensor): string {
    return this.toString();
  },
  writable: true,
  configurable: true,
});
