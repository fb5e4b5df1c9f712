"""An independent reader of TensorBoard event files for Flint's tests, using only the standard
library: it checks every TFRecord's masked CRC-32C (computed here bit by bit, not with a table)
and decodes the Event / Summary protobuf fields TensorBoard's scalar dashboard reads, and the
HParams plugin's records (a summary value whose metadata names the plugin "hparams" and holds a
serialized HParamsPluginData, from tensorboard/plugins/hparams/plugin_data.proto and api.proto).
Prints the events as JSON."""
import json
import struct
import sys


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf: bytes, pos: int):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def fields(buf: bytes):
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value = buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            length, pos = varint(buf, pos)
            value = buf[pos:pos + length]
            pos += length
        elif wire == 5:
            value = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def protobuf_value(buf: bytes):
    """google.protobuf.Value: number_value = 2, string_value = 3, bool_value = 4."""
    out = None
    for number, _wire, value in fields(buf):
        if number == 2:
            out = struct.unpack("<d", value)[0]
        elif number == 3:
            out = value.decode("utf-8")
        elif number == 4:
            out = bool(value)
    return out


def decode_hparams_plugin_data(buf: bytes) -> dict:
    """HParamsPluginData: experiment = 2, session_start_info = 3, session_end_info = 4."""
    out = {}
    for number, _wire, value in fields(buf):
        if number == 2:
            infos, tags = [], []
            for n, _w, v in fields(value):
                if n == 4:
                    info = {"name": "", "type": 0}
                    for hn, _hw, hv in fields(v):
                        if hn == 1:
                            info["name"] = hv.decode("utf-8")
                        elif hn == 4:
                            info["type"] = hv
                    infos.append(info)
                elif n == 5:
                    for mn, _mw, mv in fields(v):
                        if mn == 1:
                            for tn, _tw, tv in fields(mv):
                                if tn == 2:
                                    tags.append(tv.decode("utf-8"))
            out["experiment"] = {"hparam_infos": infos, "metric_tags": tags}
        elif number == 3:
            start = {"hparams": {}}
            for n, _w, v in fields(value):
                if n == 1:
                    key, entry = None, None
                    for en, _ew, ev in fields(v):
                        if en == 1:
                            key = ev.decode("utf-8")
                        elif en == 2:
                            entry = protobuf_value(ev)
                    start["hparams"][key] = entry
                elif n == 5:
                    start["start_time_secs"] = struct.unpack("<d", v)[0]
            out["session_start_info"] = start
        elif number == 4:
            end = {"status": 0}
            for n, _w, v in fields(value):
                if n == 1:
                    end["status"] = v
                elif n == 2:
                    end["end_time_secs"] = struct.unpack("<d", v)[0]
            out["session_end_info"] = end
    return out


def decode_event(buf: bytes) -> dict:
    event = {}
    for number, _wire, value in fields(buf):
        if number == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2:
            event["step"] = value
        elif number == 3:
            event["file_version"] = value.decode("utf-8")
        elif number == 5:
            scalars, hparams = {}, {}
            for n, _w, v in fields(value):
                if n != 1:
                    continue
                tag, simple, plugin, content = None, None, None, b""
                for vn, _vw, vv in fields(v):
                    if vn == 1:
                        tag = vv.decode("utf-8")
                    elif vn == 2:
                        simple = struct.unpack("<f", vv)[0]
                    elif vn == 9:
                        # SummaryMetadata.plugin_data = 1: PluginData(plugin_name = 1, content = 2)
                        for mn, _mw, mv in fields(vv):
                            if mn == 1:
                                for pn, _pw, pv in fields(mv):
                                    if pn == 1:
                                        plugin = pv.decode("utf-8")
                                    elif pn == 2:
                                        content = pv
                if simple is not None:
                    scalars[tag] = simple
                if plugin == "hparams":
                    hparams[tag] = decode_hparams_plugin_data(content)
            if scalars:
                event["scalars"] = scalars
            if hparams:
                event["hparams"] = hparams
    return event


def read(path: str) -> list:
    data = open(path, "rb").read()
    pos = 0
    events = []
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if length_crc != masked(header):
            raise ValueError(f"bad length CRC at byte {pos}")
        payload = data[pos + 12:pos + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if payload_crc != masked(payload):
            raise ValueError(f"bad payload CRC at byte {pos}")
        events.append(decode_event(payload))
        pos += 16 + length
    return events


if __name__ == "__main__":
    print(json.dumps(read(sys.argv[1])))
