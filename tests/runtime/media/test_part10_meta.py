"""encode_file's File Meta Information: the shortcut for data sets as read gives the bytes
of the general path (build_meta, then the writer), and is taken only when it can.
"""

from __future__ import annotations

import contextlib

import pytest

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.transfer_syntax import transfer_syntax
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, raw_element
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DicomWarning
from dicompile.runtime.media import part10
from dicompile.runtime.media.part10 import MAGIC, build_meta, encode_file, read_bytes

_CT = "1.2.840.10008.5.1.4.1.1.2"


def _dataset(
    instance: str = "1.2.3.4.5", *, raw: bool = True, instance_raw: bytes | None = None
) -> Dataset:
    ds = Dataset([DataElement(0x00100010, VR.PN, "Doe^Jane")])
    if raw:
        ds.add(raw_element(0x00080016, VR.UI, _CT.encode() + b"\x00", CodecContext()))
        data = instance_raw if instance_raw is not None else instance.encode()
        if instance_raw is None and len(data) % 2:
            data += b"\x00"
        ds.add(raw_element(0x00080018, VR.UI, data, CodecContext()))
    else:
        ds.add(DataElement(0x00080016, VR.UI, _CT))
        ds.add(DataElement(0x00080018, VR.UI, instance))
    return ds


def _general(
    ds: Dataset,
    syntax: str,
    base: Dataset | None,
    uid: str = part10.IMPLEMENTATION_CLASS_UID,
    name: str | None = part10.IMPLEMENTATION_VERSION_NAME,
) -> bytes:
    meta = build_meta(
        ds,
        transfer_syntax(syntax),
        base=base,
        implementation_class_uid=uid,
        implementation_version_name=name,
    )
    return bytes(128) + MAGIC + encode_dataset(meta, CodecContext())


def _head(pieces: list[object], size: int) -> bytes:
    data = b"".join(bytes(p) for p in pieces if isinstance(p, bytes | bytearray))
    return data[:size]


def _base(*extra: DataElement) -> Dataset:
    base = Dataset(
        [
            DataElement(0x00020000, VR.UL, 999),
            DataElement(0x00020001, VR.OB, b"\x00\x01"),
            DataElement(0x00020002, VR.UI, "1.2.9"),
            DataElement(0x00020003, VR.UI, "1.2.9.9"),
            DataElement(0x00020010, VR.UI, "1.2.840.10008.1.2"),
            DataElement(0x00020012, VR.UI, "1.2.8"),
            DataElement(0x00020013, VR.SH, "OLD"),
        ]
    )
    for element in extra:
        base.add(element)
    return base


@pytest.mark.parametrize(
    "syntax", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"]
)
@pytest.mark.parametrize("base", [None, "made only"])
@pytest.mark.parametrize("instance", ["1.2.3.4.5", "1.2.3.4.56", "1." + "2" * 62])
@pytest.mark.parametrize(
    ("uid", "name"),
    [
        (part10.IMPLEMENTATION_CLASS_UID, part10.IMPLEMENTATION_VERSION_NAME),
        ("1.2.3.99", None),
        ("1.2.3.999", "ODD NAME"),
    ],
)
def test_shortcut_gives_the_general_bytes(
    monkeypatch: pytest.MonkeyPatch,
    syntax: str,
    base: str | None,
    instance: str,
    uid: str,
    name: str | None,
) -> None:
    ds = _dataset(instance)
    meta = _base() if base else None
    expected = _general(ds, syntax, meta, uid, name)
    calls: list[object] = []
    real = part10.build_meta
    monkeypatch.setattr(part10, "build_meta", lambda *a, **k: calls.append(a) or real(*a, **k))
    pieces = encode_file(
        ds,
        transfer_syntax=syntax,
        meta=meta,
        implementation_class_uid=uid,
        implementation_version_name=name,
    )
    assert calls == []  # the shortcut was taken
    assert _head(list(pieces), len(expected)) == expected
    read = read_bytes(_head(list(pieces), 1 << 20))
    assert read.meta[0x00020003].value == instance
    assert read.transfer_syntax.uid == syntax


@pytest.mark.parametrize(
    "case",
    ["values, not raw", "odd raw UID", "base with Source AE", "no instance UID", "empty UID"],
)
def test_general_path_when_the_shortcut_cannot_apply(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    meta: Dataset | None = None
    if case == "values, not raw":
        ds = _dataset(raw=False)
    elif case == "odd raw UID":
        ds = _dataset(instance_raw=b"1.2.345")  # a lenient file's unpadded UID
    elif case == "base with Source AE":
        ds = _dataset()
        meta = _base(DataElement(0x00020016, VR.AE, "SENDER"))
    elif case == "no instance UID":
        ds = _dataset()
        ds.pop(0x00080018)
        meta = _base()
    else:
        ds = _dataset(instance_raw=b"\x00\x00")
    syntax = "1.2.840.10008.1.2.1"
    with pytest.warns(DicomWarning) if case == "empty UID" else contextlib.nullcontext():
        expected = _general(ds, syntax, meta)
    calls: list[object] = []
    real = part10.build_meta
    monkeypatch.setattr(part10, "build_meta", lambda *a, **k: calls.append(a) or real(*a, **k))
    with pytest.warns(DicomWarning) if case == "empty UID" else contextlib.nullcontext():
        pieces = encode_file(ds, transfer_syntax=syntax, meta=meta)
    assert len(calls) == 1
    assert _head(list(pieces), len(expected)) == expected
    if case == "base with Source AE":
        assert read_bytes(_head(list(pieces), 1 << 20)).meta[0x00020016].value == "SENDER"
