import { maskedCrc32c } from './crc32c.js';
import { ProtoWriter } from './protobuf.js';

/**
 * One TFRecord: the payload's length (uint64, little-endian), the masked CRC-32C of those 8
 * bytes, the payload, and the masked CRC-32C of the payload.
 */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + payload.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length % 2 ** 32, true);
  view.setUint32(4, Math.floor(payload.length / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  view.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}

// Field numbers of tensorflow/core/util/event.proto and framework/summary.proto.
const EVENT_WALL_TIME = 1;
const EVENT_STEP = 2;
const EVENT_FILE_VERSION = 3;
const EVENT_SUMMARY = 5;
const SUMMARY_VALUE = 1;
const VALUE_TAG = 1;
const VALUE_SIMPLE_VALUE = 2;

/** The first event of every file: TensorBoard checks the version string. */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(EVENT_WALL_TIME, wallTime).string(EVENT_FILE_VERSION, 'brain.Event:2').finish();
}

/** An Event holding a Summary of scalar values (`simple_value`), which TensorBoard's scalars dashboard shows. */
export function scalarsEvent(wallTime: number, step: number, scalars: Readonly<Record<string, number>>): Uint8Array {
  const summary = new ProtoWriter();
  for (const [tag, value] of Object.entries(scalars)) {
    summary.message(SUMMARY_VALUE, new ProtoWriter().string(VALUE_TAG, tag).float(VALUE_SIMPLE_VALUE, value));
  }
  return new ProtoWriter().double(EVENT_WALL_TIME, wallTime).uint64(EVENT_STEP, step).message(EVENT_SUMMARY, summary).finish();
}

/** An Event holding a prepared Summary (the HParams plugin's records). */
export function summaryEvent(wallTime: number, step: number, summary: ProtoWriter): Uint8Array {
  return new ProtoWriter().double(EVENT_WALL_TIME, wallTime).uint64(EVENT_STEP, step).message(EVENT_SUMMARY, summary).finish();
}
