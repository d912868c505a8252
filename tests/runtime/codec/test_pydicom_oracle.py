"""Cross-check against pydicom (test-only oracle) on pydicom's bundled test files.

For every file both read, every element must agree in tag, VR and value, except for the
differences listed in :func:`_explained`, each of which says why dicompile is right (or why
the two readings are equivalent).  The comparison walks sequences recursively.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

pydicom = pytest.importorskip("pydicom")
pydicom_data = pytest.importorskip("pydicom.data")

from pydicom.multival import MultiValue  # noqa: E402
from pydicom.valuerep import PersonName as PydicomPersonName  # noqa: E402
from pydicom_files import bundled_files  # noqa: E402

from dicompile.runtime.codec.vr_codecs import swap_bytes  # noqa: E402
from dicompile.runtime.core.dataset import Dataset  # noqa: E402
from dicompile.runtime.core.element import DataElement, Encapsulated  # noqa: E402
from dicompile.runtime.core.sequence import Sequence  # noqa: E402
from dicompile.runtime.core.values import DA, DT, TM, PersonName  # noqa: E402
from dicompile.runtime.core.vr import VR, VRKind  # noqa: E402
from dicompile.runtime.media.part10 import read_file  # noqa: E402


def _test_files() -> list[Path]:
    # On disk, never pydicom's get_testdata_files: it retries downloads with sleeps offline.
    return bundled_files("*.dcm")


FILES = _test_files()
_WORD = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def _ours(value: object) -> object:
    if isinstance(value, (PersonName, DA, TM, DT)):
        return str(value) or None
    if isinstance(value, tuple):
        parts = tuple(_ours(v) for v in value)
        return tuple(None if p == "" else p for p in parts)
    return None if value == "" else value


def _theirs(value: object, vr: str) -> object:
    if isinstance(value, PydicomPersonName):
        return str(value) or None
    if isinstance(value, (MultiValue, list)):
        parts = tuple(_theirs(v, vr) for v in value)
        if len(parts) == 1:
            return parts[0]
        return tuple(None if p == "" else p for p in parts)
    if isinstance(value, str):
        # pydicom strips padding only at the end of the whole value field; PS3.5 Table 6.2-1
        # makes padding insignificant per value (spaces around each of CS "DERIVED \PRIMARY").
        text = value.strip(" ") if vr in ("AE", "CS", "DS", "IS", "LO", "SH", "UI") else value
        return text or None
    return value


def _explained(tag: int, theirs: object, ours: DataElement) -> str | None:
    """Why a VR difference is right; None if it is not an expected difference."""
    their_vr = theirs.VR  # type: ignore[attr-defined]
    if isinstance(ours.value, Encapsulated) and their_vr in ("OB", "OW"):
        return "encapsulated pixel data keeps the stream's VR (pydicom reports its own guess)"
    if ours.vr is VR.UN and isinstance(ours.value, Sequence) and their_vr == "SQ":
        # A private UN of undefined length: dicompile keeps UN (the tag's VR is not known)
        # with its items parsed as Implicit VR LE (PS3.5 §6.2.2); pydicom relabels it SQ.
        return "UN of undefined length kept as UN with its items"
    return None


def _compare(name: str, theirs: object, ours: Dataset, path: str, big_endian: bool) -> list[str]:
    problems: list[str] = []
    for their in theirs:  # type: ignore[attr-defined]
        tag = int(their.tag)
        where = f"{name} {path}({tag >> 16:04X},{tag & 0xFFFF:04X})"
        element = ours.get(tag)
        if element is None:
            problems.append(f"{where}: missing")
            continue
        their_vr = their.VR
        explained = _explained(tag, their, element) if their_vr != element.vr.value else None
        if their_vr != element.vr.value and explained is None:
            problems.append(f"{where}: VR {their_vr} (pydicom) vs {element.vr.value}")
            continue
        value = element.value
        if isinstance(value, Sequence):
            if len(value) != len(their.value):
                problems.append(f"{where}: {len(their.value)} items vs {len(value)}")
                continue
            for index, (their_item, our_item) in enumerate(zip(their.value, value, strict=True)):
                problems += _compare(
                    name, their_item, our_item, f"{path}({tag:08X})[{index}]/", big_endian
                )
            continue
        if isinstance(value, Encapsulated):
            # pydicom holds the items without the closing Sequence Delimitation Item.
            if value.load()[:-8] != their.value:
                problems.append(f"{where}: encapsulated items differ")
            continue
        if isinstance(value, bytes) or (value is None and VR(element.vr).info.kind is VRKind.BYTES):
            their_bytes = their.value or b""
            if big_endian and their_vr in _WORD:
                # pydicom keeps the stream's byte order; dicompile's values are always
                # little endian (runtime/core/element.py, theory of operation).  OW swaps
                # per 16-bit word whatever Bits Allocated says (PS3.5 Table 6.2-1, §8.1.1
                # and Annex D: pixel cells are packed into 16-bit words), as dcmtk does.
                their_bytes = swap_bytes(their_bytes, _WORD[their_vr])
            if their_bytes != (value or b""):
                problems.append(f"{where}: bytes differ")
            continue
        if _theirs(their.value, their_vr) != _ours(value):
            problems.append(
                f"{where}: {_theirs(their.value, their_vr)!r:.80} vs {_ours(value)!r:.80}"
            )
    return problems


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_element_agrees_with_pydicom(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = pydicom.dcmread(path, force=True)
            _ = list(theirs.iterall())  # pydicom reads lazily; fail here if it cannot
        except Exception as exc:  # pragma: no cover - depends on pydicom's corpus
            pytest.skip(f"pydicom cannot read {path.name}: {exc}")
        ours = read_file(path)
        big_endian = not ours.transfer_syntax.little_endian
        problems = _compare(path.name, theirs, ours.dataset, "", big_endian)
        problems += _compare(path.name, theirs.file_meta, ours.meta, "meta ", False)
    assert not problems, "\n".join(problems[:20])


def test_corpus_is_there() -> None:
    # The oracle must have something to compare: pydicom bundles ~80 .dcm files.
    assert len(FILES) >= 50
