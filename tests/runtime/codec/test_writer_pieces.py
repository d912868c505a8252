"""The writer's pieces: a large sequence kept as read is a piece of its own (not copied),
lengths around it stay right, and contexts derived for a character set are shared.
"""

from __future__ import annotations

import io

import pytest

from dicompile.runtime.codec import writer
from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import read_dataset
from dicompile.runtime.codec.writer import (
    LengthPolicy,
    WriteOptions,
    encode_dataset,
    encode_pieces,
    write_pieces,
)
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.vr import VR

CTX = CodecContext()


def _contours(count: int) -> Sequence:
    items = []
    for n in range(count):
        items.append(
            Dataset(
                [
                    DataElement(0x30060042, VR.CS, "CLOSED_PLANAR"),
                    DataElement(0x30060046, VR.IS, 4),
                    DataElement(0x30060050, VR.DS, tuple(float(n + k) for k in range(12))),
                ]
            )
        )
    return Sequence(items)


def _source(count: int, *, group_length: bool) -> bytes:
    """A data set with a sequence of ``count`` items, undefined lengths for its items,
    and (3006,0000) Group Length when asked (the writer recomputes it, PS3.5 §7.2)."""
    elements = [DataElement(0x00100010, VR.PN, "Doe^Jane")]
    if group_length:
        elements.append(DataElement(0x30060000, VR.UL, 0))
    elements += [
        DataElement(0x30060002, VR.SH, "RS"),
        DataElement(0x30060039, VR.SQ, _contours(count)),
        DataElement(0x30060040, VR.SH, "AFTER"),
    ]
    return encode_dataset(Dataset(elements), CTX)


@pytest.mark.parametrize("group_length", [False, True])
@pytest.mark.parametrize("count", [1, 200])
def test_kept_sequence_bytes_round_trip_whatever_their_size(count: int, group_length: bool) -> None:
    source = _source(count, group_length=group_length)
    ds = read_dataset(source, CTX)[0]
    pieces = encode_pieces(ds, CTX)
    assert all(isinstance(p, bytes | bytearray) for p in pieces)
    assert b"".join(bytes(p) for p in pieces if isinstance(p, bytes | bytearray)) == source
    kept = ds[0x30060039].value.encoded
    assert kept is not None
    data = kept[0]
    own = any(piece is data for piece in pieces)
    # A large sequence is handed over as it is (no copy); a small one is copied.
    assert own is (len(data) >= writer._OWN_PIECE)
    if group_length:
        group = read_dataset(b"".join(bytes(p) for p in pieces), CTX)[0][0x30060000].value
        start = source.index(b"\x06\x30\x00\x00UL") + 12
        assert group == len(source) - start


def test_write_pieces_takes_bytes_pieces_too() -> None:
    source = _source(200, group_length=True)
    ds = read_dataset(source, CTX)[0]
    stream = io.BytesIO()
    assert write_pieces(encode_pieces(ds, CTX), stream) == len(source)
    assert stream.getvalue() == source


def test_an_edited_large_sequence_is_encoded_anew() -> None:
    ds = read_dataset(_source(200, group_length=False), CTX)[0]
    ds[0x30060039].value[0][0x30060042] = DataElement(0x30060042, VR.CS, "OPEN_PLANAR")
    pieces = encode_pieces(ds, CTX)
    assert all(isinstance(piece, bytearray) for piece in pieces)
    assert read_dataset(encode_dataset(ds, CTX), CTX)[0] == ds


@pytest.mark.parametrize("lengths", [LengthPolicy.DEFINED, LengthPolicy.UNDEFINED])
def test_a_forced_length_form_encodes_kept_sequences_anew(lengths: LengthPolicy) -> None:
    ds = read_dataset(_source(200, group_length=False), CTX)[0]
    pieces = encode_pieces(ds, CTX, WriteOptions(lengths=lengths))
    assert all(isinstance(piece, bytearray) for piece in pieces)
    assert read_dataset(b"".join(pieces), CTX)[0] == ds


def _latin1(text: str) -> Dataset:
    return Dataset(
        [
            DataElement(0x00080005, VR.CS, "ISO_IR 100"),
            DataElement(0x00100010, VR.PN, text),
        ]
    )


def test_charset_contexts_are_derived_once_and_encode_the_text() -> None:
    writer._DERIVED.clear()
    first = encode_dataset(_latin1("Müller^Jörg"), CTX)
    second = encode_dataset(_latin1("Çelik^Ana"), CTX)
    assert "Müller^Jörg".encode("latin-1") in first
    assert "Çelik".encode("latin-1") in second
    assert len(writer._DERIVED) == 1
    (derived,) = writer._DERIVED.values()
    assert derived.text is not CTX.text and derived.little_endian and not derived.implicit_vr
    # Another base context derives its own.
    implicit = CodecContext(implicit_vr=True)
    encode_dataset(_latin1("Müller"), implicit)
    assert len(writer._DERIVED) == 2
    assert read_dataset(encode_dataset(_latin1("Müller"), implicit), implicit)[0][
        0x00100010
    ].value == ("Müller")


def test_the_derived_context_cache_stays_small() -> None:
    writer._DERIVED.clear()
    for _ in range(100):
        encode_dataset(_latin1("Müller"), CodecContext())  # a new base context each time
    assert 1 <= len(writer._DERIVED) <= 64
