import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleLogger } from './console-logger.js';
import { CSVLogger, parseCsvLine } from './csv-logger.js';
import { JSONLinesLogger } from './jsonl-logger.js';
import type { RunStatus } from './logger.js';
import { TensorBoardLogger, type TensorBoardLoggerOptions } from './tensorboard-logger.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'flint-loggers-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('CSVLogger', () => {
  it("writes Lightning's layout: lightning_logs/version_N/metrics.csv and hparams.yaml", () => {
    mkdirSync(join(root, 'lightning_logs', 'version_0'), { recursive: true });
    mkdirSync(join(root, 'lightning_logs', 'version_3'), { recursive: true });
    const logger = new CSVLogger({ saveDir: root });
    expect(logger.version).toBe(4);
    expect(logger.logDir).toBe(join(root, 'lightning_logs', 'version_4'));
    logger.logHyperparams({ lr: 0.01, layers: [2, 3] });
    logger.logMetrics({ train_loss: 0.5, epoch: 0 }, 1);
    logger.logMetrics({ train_loss: 0.25, epoch: 0 }, 2);
    logger.save();
    // A new column: the file is rewritten with the wider header, old rows keep their values.
    logger.logMetrics({ val_loss: 0.75, epoch: 0 }, 2);
    logger.logMetrics({ train_loss: 0.125, epoch: 1 }, 3);
    logger.finalize();
    const lines = readFileSync(join(logger.logDir, 'metrics.csv'), 'utf8').trimEnd().split('\n');
    expect(lines).toEqual(['train_loss,epoch,step,val_loss', '0.5,0,1,', '0.25,0,2,', ',0,2,0.75', '0.125,1,3,']);
    expect(readFileSync(join(logger.logDir, 'hparams.yaml'), 'utf8')).toBe('lr: 0.01\nlayers:\n  - 2\n  - 3\n');
  });

  it('keeps buffered rows until save, and flushes every flushEveryNRows', () => {
    const logger = new CSVLogger({ saveDir: root, name: 'exp', version: 'run-a', flushEveryNRows: 2 });
    logger.logMetrics({ a: 1 }, 0);
    expect(existsSync(join(root, 'exp', 'run-a', 'metrics.csv'))).toBe(false);
    logger.logMetrics({ a: 2 }, 1);
    expect(readFileSync(join(root, 'exp', 'run-a', 'metrics.csv'), 'utf8')).toBe('a,step\n1,0\n2,1\n');
  });

  it('parses quoted cells back', () => {
    expect(parseCsvLine('1,"a,b","say ""hi""",')).toEqual(['1', 'a,b', 'say "hi"', '']);
  });
});

describe('JSONLinesLogger', () => {
  it('writes one JSON object per call, keeping non-finite numbers', () => {
    const logger = new JSONLinesLogger({ saveDir: root });
    logger.logHyperparams({ batchSize: 32 });
    logger.logMetrics({ loss: 1.5 }, 10);
    logger.logMetrics({ loss: Number.NaN }, 20);
    logger.finalize();
    const lines = readFileSync(join(logger.logDir, 'metrics.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines).toEqual(['{"step":10,"loss":1.5}', '{"step":20,"loss":{"$number":"NaN"}}']);
    expect(JSON.parse(readFileSync(join(logger.logDir, 'hparams.json'), 'utf8'))).toEqual({ batchSize: 32 });
  });
});

describe('ConsoleLogger', () => {
  it('prints a line per call', () => {
    let text = '';
    const logger = new ConsoleLogger({ output: { write: (t: string) => (text += t) }, precision: 3 });
    logger.logHyperparams({ lr: 0.1 });
    logger.logMetrics({ loss: 0.123456, epoch: 2 }, 7);
    expect(text).toBe('hyperparameters: lr=0.1\nstep 7  loss=0.123  epoch=2\n');
  });
});

// ---- an independent decoder of event files, written from the format's description ----------

function crcTable(): number[] {
  const table: number[] = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table.push(c >>> 0);
  }
  return table;
}
const TABLE = crcTable();
function masked(data: Uint8Array): number {
  let crc = ~0;
  for (const b of data) crc = (TABLE[(crc ^ b) & 0xff] as number) ^ (crc >>> 8);
  crc = ~crc >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

interface DecodedHParams {
  experiment?: { hparamInfos: { name: string; type: number }[]; metricTags: string[] };
  sessionStart?: { hparams: Record<string, number | string | boolean>; startTime: number };
  sessionEnd?: { status: number; endTime: number };
}

interface DecodedEvent {
  wallTime?: number;
  step?: number;
  fileVersion?: string;
  scalars?: Record<string, number>;
  /** Summary values carrying plugin data: tag -> plugin name and (for 'hparams') the decoded HParamsPluginData. */
  plugins?: Record<string, { pluginName: string; hparams?: DecodedHParams }>;
}

function readVarint(buf: Uint8Array, at: { pos: number }): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const b = buf[at.pos++] as number;
    result += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return result;
  }
}

function* protoFields(buf: Uint8Array): Generator<[number, Uint8Array | number]> {
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const key = readVarint(buf, at);
    const wire = key & 7;
    const field = key >>> 3;
    if (wire === 0) yield [field, readVarint(buf, at)];
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      yield [field, buf.subarray(at.pos, at.pos + n)];
      at.pos += n;
    } else if (wire === 2) {
      const n = readVarint(buf, at);
      yield [field, buf.subarray(at.pos, at.pos + n)];
      at.pos += n;
    } else throw new Error(`wire type ${wire}`);
  }
}

const text = (v: Uint8Array | number) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : '');
const float64 = (v: Uint8Array | number) =>
  v instanceof Uint8Array ? new DataView(v.buffer, v.byteOffset, 8).getFloat64(0, true) : Number.NaN;
const bytes = (v: Uint8Array | number) => (v instanceof Uint8Array ? v : new Uint8Array());

/** google.protobuf.Value, the scalar kinds. */
function decodeValue(buf: Uint8Array): number | string | boolean | undefined {
  let out: number | string | boolean | undefined;
  for (const [f, v] of protoFields(buf)) {
    if (f === 2) out = float64(v);
    else if (f === 3) out = text(v);
    else if (f === 4) out = v === 1;
  }
  return out;
}

/** HParamsPluginData (tensorboard/plugins/hparams/plugin_data.proto). */
function decodeHParams(buf: Uint8Array): DecodedHParams {
  const out: DecodedHParams = {};
  for (const [field, value] of protoFields(buf)) {
    if (field === 2) {
      const experiment = { hparamInfos: [] as { name: string; type: number }[], metricTags: [] as string[] };
      for (const [f, v] of protoFields(bytes(value))) {
        if (f === 4) {
          const info = { name: '', type: 0 };
          for (const [g, w] of protoFields(bytes(v))) {
            if (g === 1) info.name = text(w);
            if (g === 4 && typeof w === 'number') info.type = w;
          }
          experiment.hparamInfos.push(info);
        } else if (f === 5) {
          for (const [g, w] of protoFields(bytes(v))) {
            if (g === 1) for (const [h, x] of protoFields(bytes(w))) if (h === 2) experiment.metricTags.push(text(x));
          }
        }
      }
      out.experiment = experiment;
    } else if (field === 3) {
      const start = { hparams: {} as Record<string, number | string | boolean>, startTime: 0 };
      for (const [f, v] of protoFields(bytes(value))) {
        if (f === 1) {
          let key = '';
          let entry: number | string | boolean | undefined;
          for (const [g, w] of protoFields(bytes(v))) {
            if (g === 1) key = text(w);
            if (g === 2) entry = decodeValue(bytes(w));
          }
          if (entry !== undefined) start.hparams[key] = entry;
        } else if (f === 5) start.startTime = float64(v);
      }
      out.sessionStart = start;
    } else if (field === 4) {
      const end = { status: 0, endTime: 0 };
      for (const [f, v] of protoFields(bytes(value))) {
        if (f === 1 && typeof v === 'number') end.status = v;
        if (f === 2) end.endTime = float64(v);
      }
      out.sessionEnd = end;
    }
  }
  return out;
}

function decodeEvents(file: Uint8Array): DecodedEvent[] {
  const events: DecodedEvent[] = [];
  let pos = 0;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  while (pos < file.length) {
    const length = view.getUint32(pos, true) + view.getUint32(pos + 4, true) * 2 ** 32;
    if (view.getUint32(pos + 8, true) !== masked(file.subarray(pos, pos + 8))) throw new Error(`bad length crc at ${pos}`);
    const payload = file.subarray(pos + 12, pos + 12 + length);
    if (view.getUint32(pos + 12 + length, true) !== masked(payload)) throw new Error(`bad data crc at ${pos}`);
    const event: DecodedEvent = {};
    for (const [field, value] of protoFields(payload)) {
      if (field === 1 && value instanceof Uint8Array) event.wallTime = new DataView(value.buffer, value.byteOffset, 8).getFloat64(0, true);
      else if (field === 2 && typeof value === 'number') event.step = value;
      else if (field === 3 && value instanceof Uint8Array) event.fileVersion = new TextDecoder().decode(value);
      else if (field === 5 && value instanceof Uint8Array) {
        for (const [summaryField, entry] of protoFields(value)) {
          if (summaryField !== 1 || !(entry instanceof Uint8Array)) continue;
          let tag = '';
          let simple: number | undefined;
          let plugin: { pluginName: string; hparams?: DecodedHParams } | undefined;
          for (const [f, v] of protoFields(entry)) {
            if (f === 1 && v instanceof Uint8Array) tag = new TextDecoder().decode(v);
            if (f === 2 && v instanceof Uint8Array) simple = new DataView(v.buffer, v.byteOffset, 4).getFloat32(0, true);
            if (f === 9) {
              // SummaryMetadata.plugin_data = 1: PluginData { plugin_name = 1, content = 2 }.
              for (const [g, w] of protoFields(bytes(v))) {
                if (g !== 1) continue;
                let name = '';
                let content: Uint8Array = new Uint8Array();
                for (const [h, x] of protoFields(bytes(w))) {
                  if (h === 1) name = text(x);
                  if (h === 2) content = bytes(x);
                }
                plugin = name === 'hparams' ? { pluginName: name, hparams: decodeHParams(content) } : { pluginName: name };
              }
            }
          }
          if (simple !== undefined) {
            event.scalars ??= {};
            event.scalars[tag] = simple;
          }
          if (plugin !== undefined) {
            event.plugins ??= {};
            event.plugins[tag] = plugin;
          }
        }
      }
    }
    events.push(event);
    pos += 16 + length;
  }
  return events;
}

describe('TensorBoardLogger', () => {
  function writeRun(options: TensorBoardLoggerOptions = {}, hparams: Record<string, unknown> = { lr: 0.5 }, status?: RunStatus): string {
    const logger = new TensorBoardLogger({ saveDir: root, flushEveryNRecords: 2, ...options });
    logger.logHyperparams(hparams);
    logger.logMetrics({ train_loss: 0.5, epoch: 0 }, 1);
    logger.logMetrics({ train_loss: 0.25, val_acc: 0.75 }, 2);
    logger.logMetrics({ train_loss: 0.125 }, 300);
    logger.finalize(status ?? 'success');
    const files = readdirSync(logger.logDir).filter((f) => f.startsWith('events.out.tfevents.'));
    expect(files).toHaveLength(1);
    return join(logger.logDir, files[0] as string);
  }

  const SCALARS = [
    [0, { hp_metric: -1 }],
    [1, { train_loss: 0.5, epoch: 0 }],
    [2, { train_loss: 0.25, val_acc: 0.75 }],
    [300, { train_loss: 0.125 }],
  ];

  it('writes event files an independent decoder reads: version record, then scalar summaries', () => {
    const file = writeRun();
    expect(readFileSync(join(file, '..', 'hparams.yaml'), 'utf8')).toBe('lr: 0.5\n');
    const events = decodeEvents(readFileSync(file));
    expect(events[0]?.fileVersion).toBe('brain.Event:2');
    expect(events.filter((e) => e.scalars !== undefined).map((e) => [e.step ?? 0, e.scalars])).toEqual(SCALARS);
    expect(events.every((e) => typeof e.wallTime === 'number' && e.wallTime > 1.6e9)).toBe(true);
  });

  it("writes the HParams plugin's session start, experiment and session end records, which round-trip", () => {
    const hparams = { lr: 0.001, hidden: 64, optimizer: 'adam', amsgrad: false, schedule: { gamma: 0.5, steps: [10, 20] } };
    const events = decodeEvents(readFileSync(writeRun({}, hparams)));
    const plugins = Object.assign({}, ...events.map((e) => e.plugins ?? {})) as NonNullable<DecodedEvent['plugins']>;
    expect(Object.keys(plugins)).toEqual(['_hparams_/session_start_info', '_hparams_/experiment', '_hparams_/session_end_info']);
    expect(Object.values(plugins).every((p) => p.pluginName === 'hparams')).toBe(true);
    const flat = { lr: 0.001, hidden: 64, optimizer: 'adam', amsgrad: false, 'schedule/gamma': 0.5, 'schedule/steps': '[10,20]' };
    expect(plugins['_hparams_/session_start_info']?.hparams?.sessionStart?.hparams).toEqual(flat);
    expect(plugins['_hparams_/session_start_info']?.hparams?.sessionStart?.startTime).toBeGreaterThan(1.6e9);
    // DataType: 1 string, 2 bool, 3 float64.
    expect(plugins['_hparams_/experiment']?.hparams?.experiment).toEqual({
      hparamInfos: [
        { name: 'lr', type: 3 },
        { name: 'hidden', type: 3 },
        { name: 'optimizer', type: 1 },
        { name: 'amsgrad', type: 2 },
        { name: 'schedule/gamma', type: 3 },
        { name: 'schedule/steps', type: 1 },
      ],
      metricTags: ['hp_metric', 'train_loss', 'val_acc'],
    });
    expect(plugins['_hparams_/session_end_info']?.hparams?.sessionEnd?.status).toBe(1);
  });

  it('lists the given metrics in the experiment at once, and records a failed run', () => {
    const events = decodeEvents(
      readFileSync(writeRun({ hparamsMetrics: ['val_loss', 'val_acc'], defaultHpMetric: false }, { lr: 0.5 }, 'failed')),
    );
    expect(events.filter((e) => e.scalars !== undefined).map((e) => e.step)).toEqual([1, 2, 300]);
    const tags = events.flatMap((e) => Object.keys(e.plugins ?? {}));
    expect(tags).toEqual(['_hparams_/session_start_info', '_hparams_/experiment', '_hparams_/session_end_info']);
    const experiment = events.find((e) => e.plugins?.['_hparams_/experiment'] !== undefined);
    expect(experiment?.plugins?.['_hparams_/experiment']?.hparams?.experiment?.metricTags).toEqual(['val_loss', 'val_acc']);
    const end = events.at(-1)?.plugins?.['_hparams_/session_end_info']?.hparams?.sessionEnd;
    expect(end?.status).toBe(2);
  });

  it.skipIf(!existsSync('/usr/bin/python3'))('writes event files that a standard-library Python reader accepts', () => {
    const file = writeRun({}, { lr: 0.5, name: 'mlp', deep: true });
    const reader = fileURLToPath(new URL('../test-support/tfevents_reader.py', import.meta.url));
    const events = JSON.parse(execFileSync('/usr/bin/python3', [reader, file], { encoding: 'utf8' })) as {
      step?: number;
      file_version?: string;
      scalars?: Record<string, number>;
      hparams?: Record<
        string,
        { session_start_info?: { hparams: Record<string, unknown> }; experiment?: unknown; session_end_info?: unknown }
      >;
    }[];
    expect(events[0]?.file_version).toBe('brain.Event:2');
    expect(events.filter((e) => e.scalars !== undefined).map((e) => [e.step ?? 0, e.scalars])).toEqual(SCALARS);
    const records = Object.assign({}, ...events.map((e) => e.hparams ?? {}));
    expect(records).toEqual({
      '_hparams_/session_start_info': {
        session_start_info: { hparams: { lr: 0.5, name: 'mlp', deep: true }, start_time_secs: expect.any(Number) },
      },
      '_hparams_/experiment': {
        experiment: {
          hparam_infos: [
            { name: 'lr', type: 3 },
            { name: 'name', type: 1 },
            { name: 'deep', type: 2 },
          ],
          metric_tags: ['hp_metric', 'train_loss', 'val_acc'],
        },
      },
      '_hparams_/session_end_info': { session_end_info: { status: 1, end_time_secs: expect.any(Number) } },
    });
  });
});
