"""Minimal GGUF (v2/v3) metadata reader: key -> value for scalar, string and array values.

Written from the GGUF spec (llama.cpp docs/gguf.md) so the chat-template reference reads the same metadata
as the Java reader without depending on it.
"""
import struct

# GGUF value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64, 11 i64, 12 f64
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_metadata(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    version, = struct.unpack_from("<I", data, 4)
    if version not in (2, 3):
        raise ValueError(f"{path}: GGUF version {version}")
    _tensors, n_kv = struct.unpack_from("<QQ", data, 8)
    pos = 24

    def string(p):
        n, = struct.unpack_from("<Q", data, p)
        return data[p + 8:p + 8 + n].decode("utf-8"), p + 8 + n

    def value(t, p):
        if t in _SCALARS:
            fmt = _SCALARS[t]
            return struct.unpack_from(fmt, data, p)[0], p + struct.calcsize(fmt)
        if t == 8:
            return string(p)
        if t == 9:
            et, n = struct.unpack_from("<IQ", data, p)
            p += 12
            out = []
            for _ in range(n):
                v, p = value(et, p)
                out.append(v)
            return out, p
        raise ValueError(f"unknown GGUF value type {t}")

    meta = {}
    for _ in range(n_kv):
        key, pos = string(pos)
        t, = struct.unpack_from("<I", data, pos)
        meta[key], pos = value(t, pos + 4)
    return meta
