"""Helpers for the serialization tests: reading back archives and wrapping raw pickles."""

import io
import zipfile

from ferrotorch._serialization.zipformat import ZipWriter


def checkpoint_bytes(data_pkl, records=None, name="archive"):
    """A zip checkpoint holding ``data_pkl`` (and ``{key: bytes}`` storage records)."""
    out = io.BytesIO()
    writer = ZipWriter(out)
    writer.write_record(f"{name}/data.pkl", data_pkl)
    writer.write_record(f"{name}/byteorder", b"little")
    for key, data in (records or {}).items():
        writer.write_record(f"{name}/data/{key}", data)
    writer.write_record(f"{name}/version", b"3\n")
    writer.close()
    return out.getvalue()


def data_pkl_of(buffer):
    """The ``data.pkl`` bytes of a checkpoint."""
    with zipfile.ZipFile(io.BytesIO(buffer)) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith("/data.pkl")]
        return zf.read(name)


def mapped_ranges(path):
    """Address ranges where ``path`` is memory-mapped into this process (Linux /proc)."""
    import os

    real = os.path.realpath(path)
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() == real:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                ranges.append((start, end))
    return ranges
