"""Malformed input: truncation at every offset, corrupted bytes, lying lengths, bombs.

The reader must never crash with anything but DecodeError, never hang, and never allocate
much more than its input (PS3.5 gives lengths; they are checked against what remains).
"""

from __future__ import annotations

import contextlib
import struct
import tracemalloc
import warnings
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import MAX_DEPTH, read_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, Encapsulated
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DecodeError, DicomWarning
from dicompile.runtime.media.part10 import file_bytes, read_bytes


def _sample_file() -> bytes:
    item = Dataset(
        [
            DataElement(0x00081150, VR.UI, "1.2.840.10008.5.1.4.1.1.2"),
            DataElement(0x00081155, VR.UI, "1.2.3"),
        ]
    )
    deep = Dataset([DataElement(0x00081199, VR.SQ, Sequence([item], undefined_length=True))])
    deep.undefined_length = True
    pixels = (
        b"\xfe\xff\x00\xe0\x00\x00\x00\x00"  # empty Basic Offset Table
        b"\xfe\xff\x00\xe0\x04\x00\x00\x00\xff\xd8\xff\xd9"  # one fragment
        b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # sequence delimiter
    )
    ds = Dataset(
        [
            DataElement(0x00080005, VR.CS, "ISO_IR 100"),
            DataElement(0x00080016, VR.UI, "1.2.840.10008.5.1.4.1.1.7"),
            DataElement(0x00080018, VR.UI, "1.2.3.4"),
            DataElement(0x00081115, VR.SQ, Sequence([deep, item], undefined_length=False)),
            DataElement(0x00100010, VR.PN, "Müller^Jörg"),
            DataElement(0x00091001, VR.UN, b"\x01\x02\x03\x04"),
            DataElement(0x00280030, VR.DS, (0.5, 0.5)),
            DataElement(0x7FE00010, VR.OB, Encapsulated(pixels)),
        ]
    )
    return file_bytes(ds, transfer_syntax="1.2.840.10008.1.2.4.50")


SAMPLE = _sample_file()


def _walk(ds: Dataset) -> None:
    for element in ds.iter_all():
        _ = element.value


def test_sample_reads_cleanly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fd = read_bytes(SAMPLE, strict=True)
    _walk(fd.dataset)
    assert len(fd.dataset) == 8


@pytest.mark.parametrize("strict", [False, True])
def test_truncation_at_every_offset(strict: bool) -> None:
    for size in range(len(SAMPLE)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomWarning)
            try:
                fd = read_bytes(SAMPLE[:size], strict=strict)
                _walk(fd.dataset)
            except DecodeError as exc:
                assert exc.offset is not None or "empty" in str(exc) or size < 132
                if not strict:
                    # Lenient reading gives up only on what cannot be read at all.
                    assert size == 0 or "empty" in str(exc), (size, exc)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255)), max_size=6))
def test_corrupted_bytes_give_only_decode_errors(changes: list[tuple[int, int]]) -> None:
    data = bytearray(SAMPLE)
    for position, byte in changes:
        data[position] = byte
    for strict in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomWarning)
            with contextlib.suppress(DecodeError):
                _walk(read_bytes(bytes(data), strict=strict).dataset)


def test_lying_length_does_not_allocate() -> None:
    # (0010,0010) LO with a 32-bit length of almost 4 GiB in a 40-byte stream.
    data = struct.pack("<HH2s2xL", 0x0010, 0x0010, b"UT", 0xFFFFFFF0) + b"x" * 28
    tracemalloc.start()
    try:
        with pytest.warns(DicomWarning, match="goes past the end"):
            ds, end, _ = read_dataset(data, CodecContext())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end == len(data)
    assert ds[0x00100010].value == "x" * 28
    assert peak < 64 * 1024
    with pytest.raises(DecodeError, match="goes past the end") as info:
        read_dataset(data, CodecContext(strict=True))
    assert info.value.offset == 12 and info.value.tag_path == "(0010,0010)"


def test_error_names_the_tag_path() -> None:
    inner = struct.pack("<HH2sH", 0x0008, 0x1150, b"UI", 40) + b"1.2"  # value cut short
    item = struct.pack("<HHL", 0xFFFE, 0xE000, len(inner)) + inner
    data = struct.pack("<HH2s2xL", 0x0008, 0x1115, b"SQ", len(item)) + item
    with pytest.raises(DecodeError) as info:
        read_dataset(data, CodecContext(strict=True), options=None)
    assert info.value.tag_path == "(0008,1115)[0]/(0008,1150)"
    assert info.value.offset == 28  # where the value starts: 12 (SQ) + 8 (item) + 8 (header)
    assert "(0008,1115)[0]/(0008,1150)" in str(info.value)


def test_nesting_bomb_is_refused_without_recursion_error() -> None:
    level = struct.pack("<HH2s2xL", 0x0008, 0x1115, b"SQ", 0xFFFFFFFF) + struct.pack(
        "<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF
    )
    data = level * (MAX_DEPTH + 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        with pytest.raises(DecodeError, match="nested deeper"):
            read_dataset(data, CodecContext())


def test_deflate_bomb_is_refused() -> None:
    head = file_bytes(
        Dataset([DataElement(0x00080016, VR.UI, "1.2"), DataElement(0x00080018, VR.UI, "3.4")]),
        transfer_syntax="1.2.840.10008.1.2.1.99",
    )
    meta_end = 132 + 12 + int.from_bytes(head[140:144], "little")
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = squeezer.compress(bytes(64 << 20)) + squeezer.flush()
    assert len(bomb) < 100_000
    with pytest.raises(DecodeError, match="deflate bomb"):
        read_bytes(head[:meta_end] + bomb, max_inflated=16 << 20)


def test_empty_and_tiny_inputs() -> None:
    with pytest.raises(DecodeError, match="empty"):
        read_bytes(b"")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        assert len(read_bytes(b"\x00" * 3).dataset) == 0
        assert len(read_bytes(bytes(132)).dataset) == 0
