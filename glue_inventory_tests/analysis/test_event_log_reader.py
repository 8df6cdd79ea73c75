"""The streaming event log reader: every codec Spark writes, in any chunking, broken and truncated logs."""

from __future__ import annotations

import pytest

from glue_inventory.analysis.spark.eventlog import (
    CODECS,
    EventLogError,
    TruncatedLog,
    codec_of,
    decompressed,
    event_name,
    events,
)
from glue_inventory.analysis.spark.summary import WANTED
from glue_inventory.simulate.event_logs import AppProfile, SimStage, encode, event_lines

PROFILE = AppProfile(executors=3, cores=2, stages=(SimStage(0, 0, 30, 1000), SimStage(1, 0, 12, 500, parents=(0,))),
                     seed=1)
LINES = list(event_lines(PROFILE, 1_700_000_000_000, "spark-application-1700000000000"))
# Long enough for many compressed blocks (Spark's are 32 KiB).
LONG = list(event_lines(AppProfile(executors=4, cores=4, stages=(SimStage(0, 0, 1500, 1000),), seed=2),
                        1_700_000_000_000, "spark-application-1700000000000"))


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def _read(data: bytes, codec: str | None, size: int = 4096) -> list[dict]:
    return list(events(decompressed(_chunks(data, size), codec), WANTED))


@pytest.mark.parametrize("codec", [None, *CODECS])
@pytest.mark.parametrize("chunk", [1, 1000, 1 << 20])
def test_every_codec_reads_back_every_wanted_event_in_any_chunking(codec, chunk):
    data = encode(LINES, codec)
    if codec is not None:
        assert data != encode(LINES, None)  # really compressed
    read = _read(data, codec, chunk)
    wanted = [line for line in LINES if event_name(line) in WANTED]
    assert len(read) == len(wanted) and len(wanted) > 42
    assert sum(1 for e in read if e["Event"] == "SparkListenerTaskEnd") == 42
    assert read[-1]["Event"] == "SparkListenerApplicationEnd"


@pytest.mark.parametrize("codec", [None, *CODECS])
def test_a_log_cut_short_keeps_the_events_before_the_cut_and_says_it_is_truncated(codec):
    data = encode(LONG, codec)
    cut = data[: len(data) * 2 // 3]
    got = []
    with pytest.raises(TruncatedLog):
        for event in events(decompressed(_chunks(cut, 997), codec), WANTED):
            got.append(event)
    assert 500 < len(got) < len([line for line in LONG if event_name(line) in WANTED])


def test_concatenated_gzip_members_and_zstd_frames_are_one_log():
    half = len(LINES) // 2
    for codec in ("gzip", "zstd", "snappy"):
        data = encode(LINES[:half], codec) + encode(LINES[half:], codec)
        assert len(_read(data, codec)) == len([line for line in LINES if event_name(line) in WANTED]), codec


def test_the_codec_comes_from_the_file_name():
    assert codec_of("spark-application-1.lz4") == "lz4"
    assert codec_of("eventlog_v2_spark-application-1/events_2_spark-application-1.zstd") == "zstd"
    assert codec_of("spark-application-1.snappy.inprogress") == "snappy"
    assert codec_of("spark-application-1") is None
    assert codec_of("logs.v2/spark-application-1") is None  # a dot in a folder is no suffix
    with pytest.raises(EventLogError, match="lzf is not supported — set spark.eventLog.compression.codec"):
        codec_of("spark-application-1.lzf")


def test_a_broken_line_inside_the_log_names_its_line():
    lines = [*LINES[:3], b"not json at all", *LINES[3:]]
    with pytest.raises(EventLogError, match="line 4 is not a JSON event") as raised:
        _read(encode(lines, None), None)
    assert not isinstance(raised.value, TruncatedLog)


def test_data_in_another_framing_is_refused_with_the_reason():
    with pytest.raises(EventLogError, match="no LZ4Block magic"):
        _read(encode(LINES, "gzip"), "lz4")
    with pytest.raises(EventLogError, match="gzip"):
        _read(encode(LINES, None), "gzip")


@pytest.mark.parametrize("codec", ["lz4", "snappy", "zstd", "gzip"])
def test_a_corrupt_block_is_an_event_log_error(codec):
    data = bytearray(encode(LONG, codec))
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)  # zeros over the middle of a compressed block
    with pytest.raises(EventLogError):
        _read(bytes(data), codec)
