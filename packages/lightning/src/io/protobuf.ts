// The few protocol-buffer wire-format writers the TensorBoard event files need (varints,
// 64-bit doubles, 32-bit floats, length-delimited fields), so that no protobuf library is needed.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Builds one protobuf message field by field. */
export class ProtoWriter {
  private chunks: number[] = [];

  private varint(value: number): void {
    // Non-negative integers up to 2^53 (steps), written 7 bits at a time.
    let v = value;
    while (v >= 0x80) {
      this.chunks.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.chunks.push(v);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint64(field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`protobuf: field ${field} needs a non-negative safe integer, got ${value}`);
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    this.chunks.push(...bytes);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.chunks.push(...bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    for (const b of value) this.chunks.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
