"""An independent safetensors reader and writer (Python standard library only) for interop tests.

  python3 safetensors_interop.py write PATH   writes the fixture tensors below to PATH
  python3 safetensors_interop.py read PATH    validates PATH as the reference implementation does
                                              and prints its tensors as JSON
When torch is importable, `read` also rebuilds each tensor with torch.frombuffer and reports
whether torch agrees with the decoded values ("torch": true/false/null).
"""
import json
import math
import struct
import sys

FORMATS = {"F64": "d", "F32": "f", "F16": "e", "BF16": "H", "I64": "q", "I32": "i", "I16": "h", "I8": "b", "U8": "B", "BOOL": "?", "U16": "H", "U32": "I"}
SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}

FIXTURE = [
    ("weight", "F32", [2, 3], [0.5, -1.25, 3.0, 1e-3, -0.0, 65504.0]),
    ("bias", "F64", [3], [math.pi, -math.e, 1e300]),
    ("steps", "I64", [2], [7, -3]),
    ("indices", "I32", [2, 2], [0, -1, 2147483647, -2147483648]),
    ("pixels", "U8", [4], [0, 1, 128, 255]),
    ("mask", "BOOL", [3], [True, False, True]),
    ("empty", "F32", [0, 4], []),
    ("scalar", "F32", [], [2.5]),
    ("half", "F16", [4], [1.0, -0.5, 65504.0, 2.0**-24]),
    ("brain", "BF16", [3], [1.5, -2.0, 3.0e38]),
]


def bfloat16_bits(value):
    """The bfloat16 bit pattern of a float32 value, rounded to nearest even (values here are finite)."""
    (bits,) = struct.unpack("<I", struct.pack("<f", value))
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF


def bfloat16_value(bits):
    (value,) = struct.unpack("<f", struct.pack("<I", bits << 16))
    return value


def write(path):
    header = {"__metadata__": {"format": "pt", "writer": "python-struct"}}
    data = b""
    for name, dtype, shape, values in FIXTURE:
        stored = [bfloat16_bits(v) for v in values] if dtype == "BF16" else values
        blob = struct.pack("<" + FORMATS[dtype] * len(values), *stored)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n <= 100_000_000 and 8 + n <= len(raw), "header length"
    text = raw[8 : 8 + n].decode("utf-8")
    assert text.startswith("{"), "header start"
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    names = [k for k, _ in pairs]
    assert len(names) == len(set(names)), "duplicate names"
    header = dict(pairs)
    metadata = dict(header.pop("__metadata__", []))
    assert all(isinstance(v, str) for v in metadata.values()), "metadata"
    data = raw[8 + n :]
    entries = sorted(((k, dict(v)) for k, v in header.items()), key=lambda kv: kv[1]["data_offsets"])
    position = 0
    out = {}
    for name, info in entries:
        begin, end = info["data_offsets"]
        assert begin == position and end >= begin, "contiguous offsets for " + name
        count = math.prod(info["shape"])
        assert count * SIZES[info["dtype"]] == end - begin, "byte length of " + name
        values = list(struct.unpack("<" + FORMATS[info["dtype"]] * count, data[begin:end]))
        if info["dtype"] == "BF16":
            values = [bfloat16_value(v) for v in values]
        out[name] = {"dtype": info["dtype"], "shape": info["shape"], "values": values}
        position = end
    assert position == len(data), "trailing bytes"
    torch_agrees = None
    try:
        import torch

        dtypes = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool, "I64": torch.int64}
        torch_agrees = True
        for name, info in entries:
            begin, end = info["data_offsets"]
            if end == begin:
                t = torch.zeros(info["shape"], dtype=dtypes[info["dtype"]])
            else:
                t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
            torch_agrees = torch_agrees and t.reshape(-1).tolist() == out[name]["values"]
    except ImportError:
        pass
    json.dump({"metadata": metadata, "tensors": out, "torch": torch_agrees, "headerLength": n}, sys.stdout, allow_nan=True)


if __name__ == "__main__":
    {"write": write, "read": read}[sys.argv[1]](sys.argv[2])
