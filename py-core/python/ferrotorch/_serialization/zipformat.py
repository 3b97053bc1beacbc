"""The zip container of PyTorch checkpoints, written the way PyTorch's ``PyTorchFileWriter`` does.

Records are stored uncompressed and each record's data starts at a multiple of 64 bytes: the
local header's extra field (id ``FB``, filled with ``Z``) pads it, so a memory-mapped file can be
viewed as tensors directly. Sizes go in a data descriptor after the data and the archive ends with
zip64 end records, as PyTorch writes them. Reading uses :mod:`zipfile`.
"""

import struct
import zipfile
import zlib

ALIGNMENT = 64
_ZIP64_LIMIT = 0xFFFFFFFF
_FLAGS = 0x0808  # sizes in a data descriptor; UTF-8 names
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_LOCAL_HEADER_SIGNATURE = 0x04034B50


class ZipWriter:
    """Appends aligned, stored records to a binary stream; ``close()`` writes the directory."""

    def __init__(self, stream):
        self._stream = stream
        self._offset = 0
        self._entries = []  # (name bytes, crc, size, header offset)

    def write_record(self, name, data):
        """Writes one record; ``data`` is bytes-like."""
        name = name.encode("utf-8")
        data = memoryview(data).cast("B")
        header_offset = self._offset
        data_start = header_offset + _LOCAL_HEADER.size + len(name) + 4
        pad = -data_start % ALIGNMENT
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        self._write(_LOCAL_HEADER.pack(_LOCAL_HEADER_SIGNATURE, 0, _FLAGS, 0, 0, 0, 0, 0, 0, len(name), len(extra)))
        self._write(name + extra)
        self._write(data)
        crc, size = zlib.crc32(data), len(data)
        if size >= _ZIP64_LIMIT:
            self._write(struct.pack("<IIQQ", 0x08074B50, crc, size, size))
        else:
            self._write(struct.pack("<IIII", 0x08074B50, crc, size, size))
        self._entries.append((name, crc, size, header_offset))

    def close(self):
        """Writes the central directory and the (zip64) end records."""
        directory_offset = self._offset
        for name, crc, size, header_offset in self._entries:
            zip64 = b""
            if size >= _ZIP64_LIMIT:
                zip64 += struct.pack("<QQ", size, size)
            if header_offset >= _ZIP64_LIMIT:
                zip64 += struct.pack("<Q", header_offset)
            extra = struct.pack("<HH", 1, len(zip64)) + zip64 if zip64 else b""
            self._write(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50, 0, 0, _FLAGS, 0, 0, 0, crc,
                    min(size, _ZIP64_LIMIT), min(size, _ZIP64_LIMIT),
                    len(name), len(extra), 0, 0, 0, 0, min(header_offset, _ZIP64_LIMIT),
                )
            )
            self._write(name + extra)
        directory_size = self._offset - directory_offset
        count = len(self._entries)
        end64_offset = self._offset
        self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x31E, 45, 0, 0, count, count, directory_size, directory_offset))
        self._write(struct.pack("<IIQI", 0x07064B50, 0, end64_offset, 1))
        self._write(
            struct.pack(
                "<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                min(directory_size, _ZIP64_LIMIT), min(directory_offset, _ZIP64_LIMIT), 0,
            )
        )

    def _write(self, data):
        self._stream.write(data)
        self._offset += len(data)


def archive_prefix(zf):
    """The folder holding ``data.pkl`` (PyTorch names it after the file's stem)."""
    for name in zf.namelist():
        if name.endswith("data.pkl") and name.count("/") == 1:
            return name[: -len("data.pkl")]
    raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")


def record_data_offset(stream, info):
    """Offset in the file where a stored record's bytes begin (after its local header)."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    stream.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(stream.read(_LOCAL_HEADER.size))
    if fields[0] != _LOCAL_HEADER_SIGNATURE:
        raise RuntimeError(f"PytorchStreamReader failed reading record {info.filename}: bad local header")
    return info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
