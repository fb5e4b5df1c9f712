import { ProtoWriter } from './protobuf.js';

// TensorBoard's HParams plugin records: Summary values whose SummaryMetadata names the plugin
// 'hparams' and carries a serialized HParamsPluginData (tensorboard/plugins/hparams/
// plugin_data.proto and api.proto). Field numbers are those files'.

const PLUGIN_NAME = 'hparams';
export const EXPERIMENT_TAG = '_hparams_/experiment';
export const SESSION_START_INFO_TAG = '_hparams_/session_start_info';
export const SESSION_END_INFO_TAG = '_hparams_/session_end_info';

/** A hyperparameter value as the plugin stores it (google.protobuf.Value's scalar kinds). */
export type HParamValue = number | string | boolean;

/** api.proto's Status. */
export const SESSION_STATUS = { unknown: 0, success: 1, failure: 2, running: 3 } as const;

const DATA_TYPE = { string: 1, boolean: 2, number: 3 } as const;

function protobufValue(value: HParamValue): ProtoWriter {
  // google.protobuf.Value: number_value = 2, string_value = 3, bool_value = 4 (a oneof, so written even when zero).
  if (typeof value === 'number') return new ProtoWriter().double(2, value);
  if (typeof value === 'string') return new ProtoWriter().string(3, value);
  return new ProtoWriter().uint64(4, value ? 1 : 0);
}

/**
 * Hyperparameters flattened as Lightning's TensorBoard logger does: nested objects joined with
 * '/', arrays and null written as JSON text, numbers, strings and booleans kept.
 */
export function flattenHParams(params: Readonly<Record<string, unknown>>, prefix = ''): Record<string, HParamValue> {
  const out: Record<string, HParamValue> = {};
  for (const [key, value] of Object.entries(params)) {
    const name = prefix === '' ? key : `${prefix}/${key}`;
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') out[name] = value;
    else if (typeof value === 'object' && value !== null && !Array.isArray(value))
      Object.assign(out, flattenHParams(value as Record<string, unknown>, name));
    else out[name] = JSON.stringify(value ?? null);
  }
  return out;
}

/** A Summary with one value: the tag and the plugin's metadata (no payload, as TensorBoard's own hparams summaries in v1 form). */
function pluginSummary(tag: string, pluginData: ProtoWriter): ProtoWriter {
  const metadata = new ProtoWriter().message(1, new ProtoWriter().string(1, PLUGIN_NAME).bytes(2, pluginData.finish()));
  // Summary.value = 1; Summary.Value: tag = 1, metadata = 9.
  return new ProtoWriter().message(1, new ProtoWriter().string(1, tag).message(9, metadata));
}

/** HParamsPluginData (version 0, the field left at its default) holding `field`: 2 experiment, 3 session start, 4 session end. */
function pluginData(field: 2 | 3 | 4, message: ProtoWriter): ProtoWriter {
  return new ProtoWriter().message(field, message);
}

/** The session start summary: each hyperparameter's value, and the start time. */
export function sessionStartSummary(hparams: Readonly<Record<string, HParamValue>>, startTimeSeconds: number): ProtoWriter {
  const info = new ProtoWriter();
  // map<string, Value> hparams = 1: one entry message (key = 1, value = 2) per hyperparameter.
  for (const [name, value] of Object.entries(hparams)) info.message(1, new ProtoWriter().string(1, name).message(2, protobufValue(value)));
  info.double(5, startTimeSeconds);
  return pluginSummary(SESSION_START_INFO_TAG, pluginData(3, info));
}

/** The experiment summary: each hyperparameter's name and type, and the metrics' tags. */
export function experimentSummary(
  hparams: Readonly<Record<string, HParamValue>>,
  metricTags: readonly string[],
  createdSeconds: number,
): ProtoWriter {
  const experiment = new ProtoWriter().double(3, createdSeconds);
  for (const [name, value] of Object.entries(hparams)) {
    experiment.message(4, new ProtoWriter().string(1, name).uint64(4, DATA_TYPE[typeof value as 'number' | 'string' | 'boolean']));
  }
  // MetricInfo.name = 1: MetricName (group = 1, left empty: the metric is in the session's own run; tag = 2).
  for (const tag of metricTags) experiment.message(5, new ProtoWriter().message(1, new ProtoWriter().string(2, tag)));
  return pluginSummary(EXPERIMENT_TAG, pluginData(2, experiment));
}

/** The session end summary: the status and the end time. */
export function sessionEndSummary(status: number, endTimeSeconds: number): ProtoWriter {
  const info = new ProtoWriter();
  if (status !== 0) info.uint64(1, status);
  info.double(2, endTimeSeconds);
  return pluginSummary(SESSION_END_INFO_TAG, pluginData(4, info));
}
