"""The token stream (STYLE.md item 6): offsets, nesting, and agreement with the reader."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import pytest
from pydicom_files import bundled_files

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.parser import dataset_from_tokens, iter_tokens
from dicompile.runtime.codec.reader import read_dataset
from dicompile.runtime.codec.tokens import (
    ElementHeader,
    Fragment,
    ItemEnd,
    ItemStart,
    SequenceEnd,
    SequenceStart,
    Value,
)
from dicompile.runtime.core.vr import VR
from dicompile.runtime.media import part10


def _explicit(tag: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def test_tokens_of_a_hand_built_stream() -> None:
    item = _explicit(0x00081150, b"UI", b"1.2\x00")  # 12 bytes
    data = (
        _explicit(0x00080060, b"CS", b"CT")  # offset 0
        + struct.pack("<HH2s2xL", 0x0008, 0x1115, b"SQ", 0xFFFFFFFF)  # offset 10
        + struct.pack("<HHL", 0xFFFE, 0xE000, len(item))  # offset 22
        + item  # offset 30
        + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)  # offset 42
        + struct.pack("<HH2s2xL", 0x7FE0, 0x0010, b"OB", 0xFFFFFFFF)  # offset 50
        + struct.pack("<HHL", 0xFFFE, 0xE000, 0)  # offset 62: empty offset table
        + struct.pack("<HHL", 0xFFFE, 0xE000, 2)
        + b"\xab\xcd"  # offset 70
        + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)  # offset 80
    )
    tokens = list(iter_tokens(data, CodecContext()))
    assert tokens == [
        ElementHeader(0, 0x00080060, VR.CS, 2, True),
        Value(8, b"CT"),
        SequenceStart(10, 0x00081115, VR.SQ, None, True),
        ItemStart(22, 0, len(item)),
        ElementHeader(30, 0x00081150, VR.UI, 4, True),
        Value(38, b"1.2\x00"),
        ItemEnd(42, False),
        SequenceEnd(50, True),
        ElementHeader(50, 0x7FE00010, VR.OB, None, True),
        Fragment(62, 0, b""),
        Fragment(70, 1, b"\xab\xcd"),
        SequenceEnd(88, True),
    ]
    assert dataset_from_tokens(tokens, CodecContext()) == read_dataset(data, CodecContext())[0]


def _corpus() -> list[Path]:
    # On disk, never pydicom's get_testdata_files: it retries downloads with sleeps offline.
    return bundled_files("*.dcm")


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_tokens_agree_with_the_reader(path: Path) -> None:
    raw = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fd = part10.read_bytes(raw)
        syntax = fd.transfer_syntax
        _, pos = part10._find_start(raw, None, False)
        _meta, pos = part10._read_meta(raw, pos, CodecContext(), None, False)
        if syntax.deflated:
            raw = part10._inflate(raw, pos, None, False, part10.DEFAULT_MAX_INFLATED)
            pos = 0
        implicit = part10._check_explicitness(raw, pos, syntax, None, False)
        ctx = CodecContext(little_endian=syntax.little_endian, implicit_vr=implicit)
        from_tokens = dataset_from_tokens(iter_tokens(raw, ctx, offset=pos), ctx)
        from_reader, _, _ = read_dataset(raw, ctx, offset=pos)
    assert from_tokens == from_reader == fd.dataset
