"""An empty text value is a zero-length value (PS3.5 §7.1.1), equal to what is read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.runtime import read_file, write_file
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR


@pytest.mark.parametrize(
    ("tag", "vr"),
    [(0x00080090, VR.PN), (0x00201040, VR.LO), (0x00080020, VR.DA), (0x00080030, VR.TM)],
)
def test_empty_text_is_none_and_round_trips(tmp_path: Path, tag: int, vr: VR) -> None:
    element = DataElement(tag, vr, "")
    assert element.value is None
    ds = Dataset()
    ds[0x00080016] = "1.2.840.10008.5.1.4.1.1.7"
    ds[0x00080018] = "2.25.1"
    ds.add(element)
    path = tmp_path / "empty.dcm"
    write_file(path, ds)
    again = read_file(path).dataset
    assert again[tag].value is None
    assert again == ds


def test_empty_string_inside_multiple_values_is_kept() -> None:
    assert DataElement(0x00080008, VR.CS, ["ORIGINAL", ""]).value == ("ORIGINAL", "")
