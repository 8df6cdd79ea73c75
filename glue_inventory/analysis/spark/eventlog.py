"""Streaming reader of a Spark event log: JSON lines over byte chunks, decompressed on the fly.

Spark writes an event log uncompressed or with `spark.eventLog.compression.codec` (docs/deep-analysis.md):
- `lz4`: lz4-java's `LZ4BlockOutputStream` framing, blocks of `LZ4Block` magic, a token, compressed and
  decompressed lengths and a checksum (little-endian), then the block;
- `snappy`: snappy-java's `SnappyOutputStream` framing, an `\\x82SNAPPY\\x00` header, then blocks each
  preceded by its compressed length (big-endian);
- `zstd`: zstd frames; `gzip` where a log was compressed after the fact.

Nothing is held but the current chunk and line: a log of any size reads in constant memory. A log that ends
inside a block or a line is "truncated"; the events before the cut are kept.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import cramjam
import orjson
import zstandard

CODECS = ("lz4", "snappy", "zstd", "gzip")
SUFFIXES = {".lz4": "lz4", ".snappy": "snappy", ".zstd": "zstd", ".zst": "zstd", ".gz": "gzip"}
# Spark also knows lzf; Glue's Spark never writes it and no maintained Python package decodes its framing.
UNSUPPORTED_SUFFIXES = {".lzf": "lzf"}
IN_PROGRESS = ".inprogress"

LZ4_MAGIC = b"LZ4Block"
LZ4_HEADER = len(LZ4_MAGIC) + 1 + 4 + 4 + 4
LZ4_RAW, LZ4_COMPRESSED = 0x10, 0x20
SNAPPY_MAGIC = b"\x82SNAPPY\x00"
SNAPPY_HEADER = len(SNAPPY_MAGIC) + 4 + 4
EVENT_PREFIX = b'{"Event":"'


class EventLogError(ValueError):
    """The log cannot be read: an unknown codec or a broken framing. The message names the problem."""


class TruncatedLog(EventLogError):
    """The log ends inside a compressed block or a line: the events before it were read."""


def codec_of(name: str) -> str | None:
    """The codec of an event log file from its name (None: uncompressed); EventLogError for one we cannot read."""
    name = name.removesuffix(IN_PROGRESS)
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > name.rfind("/") else ""
    if suffix in UNSUPPORTED_SUFFIXES:
        raise EventLogError(f"{name}: codec {UNSUPPORTED_SUFFIXES[suffix]} is not supported — set "
                            "spark.eventLog.compression.codec to lz4, snappy or zstd")
    return SUFFIXES.get(suffix)


def decompressed(chunks: Iterable[bytes], codec: str | None) -> Iterator[bytes]:
    """The decompressed bytes of a log given as compressed chunks."""
    if codec is None:
        return iter(chunks)
    if codec == "lz4":
        return _lz4(chunks)
    if codec == "snappy":
        return _snappy(chunks)
    if codec == "zstd":
        return _zstd(chunks)
    if codec == "gzip":
        return _gzip(chunks)
    raise EventLogError(f"unknown event log codec {codec!r} (known: {', '.join(CODECS)})")


def _lz4(chunks: Iterable[bytes]) -> Iterator[bytes]:
    buffer, pos = b"", 0
    for chunk in chunks:
        buffer, pos = buffer[pos:] + chunk, 0
        while len(buffer) - pos >= LZ4_HEADER:
            if buffer[pos:pos + len(LZ4_MAGIC)] != LZ4_MAGIC:
                raise EventLogError("lz4: no LZ4Block magic where a block starts (not Spark's lz4 framing)")
            method = buffer[pos + len(LZ4_MAGIC)] & 0xF0
            compressed, size, _checksum = struct.unpack_from("<iii", buffer, pos + len(LZ4_MAGIC) + 1)
            end = pos + LZ4_HEADER + compressed
            if end > len(buffer):
                break
            block = buffer[pos + LZ4_HEADER:end]
            pos = end
            if size == 0:
                continue  # the end mark lz4-java writes on close
            if method == LZ4_RAW:
                yield block
            elif method == LZ4_COMPRESSED:
                try:
                    data = bytes(cramjam.lz4.decompress_block(block, output_len=size))
                except cramjam.DecompressionError as exc:
                    raise EventLogError(f"lz4: a broken block ({exc})") from None
                yield data
            else:
                raise EventLogError(f"lz4: unknown block method {method:#x}")
    if len(buffer) > pos:
        raise TruncatedLog("lz4: the log ends inside a block")


def _snappy(chunks: Iterable[bytes]) -> Iterator[bytes]:
    buffer, pos = b"", 0
    for chunk in chunks:
        buffer, pos = buffer[pos:] + chunk, 0
        while True:
            if len(buffer) - pos < len(SNAPPY_MAGIC) and SNAPPY_MAGIC.startswith(buffer[pos:]):
                break  # perhaps a header: wait for its end
            if buffer[pos:pos + len(SNAPPY_MAGIC)] == SNAPPY_MAGIC:
                if len(buffer) - pos < SNAPPY_HEADER:
                    break
                pos += SNAPPY_HEADER  # snappy-java starts every concatenated stream with its header
                continue
            if len(buffer) - pos < 4:
                break
            (length,) = struct.unpack_from(">i", buffer, pos)
            if length < 0:
                raise EventLogError("snappy: negative block length (not Spark's snappy framing)")
            if pos + 4 + length > len(buffer):
                break
            try:
                data = bytes(cramjam.snappy.decompress_raw(buffer[pos + 4:pos + 4 + length]))
            except cramjam.DecompressionError as exc:
                raise EventLogError(f"snappy: a broken block ({exc})") from None
            yield data
            pos += 4 + length
    if len(buffer) > pos:
        raise TruncatedLog("snappy: the log ends inside a block")


def _concatenated(chunks: Iterable[bytes], new: Callable[[], Any], errors: type[Exception] | tuple,
                  name: str, unit: str) -> Iterator[bytes]:
    """Decompressed bytes of a stream of `unit`s one after another (zstd frames, gzip members); `new` makes the
    decompressor of one."""
    decompressor, inside = new(), False
    for chunk in chunks:
        while chunk:
            try:
                data = decompressor.decompress(chunk)
            except errors as exc:
                raise EventLogError(f"{name}: {exc}") from None
            inside = True
            if data:
                yield data
            chunk = b""
            if decompressor.eof:  # a further one may follow
                chunk, inside = decompressor.unused_data, False
                decompressor = new()
    if inside:
        raise TruncatedLog(f"{name}: the log ends inside a {unit}")


def _zstd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return _concatenated(chunks, lambda: zstandard.ZstdDecompressor().decompressobj(), zstandard.ZstdError,
                         "zstd", "frame")


def _gzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return _concatenated(chunks, lambda: zlib.decompressobj(wbits=zlib.MAX_WBITS | 16), zlib.error, "gzip", "member")


def lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Complete lines (without the newline); a last line without a newline is still yielded."""
    rest = b""
    for chunk in chunks:
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest.strip():
        yield rest


def event_name(line: bytes) -> str | None:
    """The `Event` of a line without parsing it: Spark's JSON writer puts it first."""
    if not line.startswith(EVENT_PREFIX):
        return None
    end = line.find(b'"', len(EVENT_PREFIX))
    return line[len(EVENT_PREFIX):end].decode("ascii", "replace") if end > 0 else None


def events(chunks: Iterable[bytes], wanted: frozenset[str] | set[str]) -> Iterator[dict[str, Any]]:
    """The events named in `wanted`, parsed, from decompressed chunks; other lines are skipped unparsed. A
    broken last line is a truncated log; a broken line elsewhere is an EventLogError naming its number."""
    broken: tuple[int, bytes] | None = None
    for number, line in enumerate(lines(chunks), start=1):
        if broken is not None:
            raise EventLogError(f"line {broken[0]} is not a JSON event: {broken[1][:80]!r}")
        name = event_name(line)
        if name is not None and name not in wanted:
            continue
        try:
            event = orjson.loads(line)
        except ValueError:
            broken = (number, line)
            continue
        if isinstance(event, dict) and event.get("Event") in wanted:
            yield event
    if broken is not None:
        raise TruncatedLog(f"the log ends inside an event (line {broken[0]})")
