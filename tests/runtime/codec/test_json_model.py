"""DICOM JSON Model (PS3.18 Annex F): structure, round trips, and pydicom as an oracle."""

from __future__ import annotations

import base64
import json
import math
import shutil
import struct
import subprocess
import warnings
from pathlib import Path

import pytest

from dicompile.runtime.codec.json_model import from_json, from_json_array, to_json, to_json_array
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, Encapsulated
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.values import DS, IS, PersonName
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DecodeError, DicomWarning

pydicom = pytest.importorskip("pydicom")

from dicompile.runtime.media.part10 import read_file  # noqa: E402


def _ds(*elements: DataElement) -> Dataset:
    return Dataset(list(elements))


def test_structure_of_the_model() -> None:
    # PS3.18 F.2.1 example: one UI attribute; F.2.2 tag keys in ascending order, no group
    # length; F.2.5 an empty attribute has no Value.
    ds = _ds(
        DataElement(0x0020000D, VR.UI, "1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873"),
        DataElement(0x00100000, VR.UL, 42),
        DataElement(0x00100010, VR.PN, None),
        DataElement(0x00080060, VR.CS, ("MPG", "", "XR3")),
    )
    text = to_json(ds)
    assert text == (
        '{"00080060":{"vr":"CS","Value":["MPG",null,"XR3"]},'
        '"00100010":{"vr":"PN"},'
        '"0020000D":{"vr":"UI","Value":["1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873"]}}'
    )
    assert json.loads(text)  # valid JSON
    assert from_json(text) == _ds(*(e for e in ds if e.tag != 0x00100000))


def test_person_name_groups() -> None:
    ds = _ds(
        DataElement(0x00100010, VR.PN, "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        DataElement(0x00101001, VR.PN, ("=Doe^Jane", "", "Roe^^^Dr.")),
    )
    parsed = json.loads(to_json(ds))
    assert parsed["00100010"]["Value"] == [
        {"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎", "Phonetic": "やまだ^たろう"}
    ]
    assert parsed["00101001"]["Value"] == [
        {"Ideographic": "Doe^Jane"},
        None,
        {"Alphabetic": "Roe^^^Dr."},  # the group's text is kept as written
    ]
    back = from_json(to_json(ds))
    assert back == ds
    assert back[0x00101001].value[2].text == "Roe^^^Dr."  # type: ignore[index,union-attr]


def test_numbers_keep_their_text() -> None:
    ds = _ds(
        DataElement(0x00181050, VR.DS, (DS("1.50"), DS("+2"), DS(".5"), DS("1.0000E+00"))),
        DataElement(0x00200013, VR.IS, (IS("007"), IS("12"))),
    )
    text = to_json(ds)
    assert '"Value":[1.50,"+2",".5",1.0000E+00]' in text  # JSON numbers where valid
    assert '"Value":["007",12]' in text
    back = from_json(text)
    assert [v.text for v in back[0x00181050].value] == ["1.50", "+2", ".5", "1.0000E+00"]  # type: ignore[union-attr]
    assert [v.text for v in back[0x00200013].value] == ["007", "12"]  # type: ignore[union-attr]
    # "number": always numbers, the exact literal where JSON has it, canonical elsewhere.
    assert '"Value":[1.50,2,0.5,1.0000E+00]' in to_json(ds, numbers="number")
    assert '"Value":[7,12]' in to_json(ds, numbers="number")
    assert '"Value":["1.50","+2",".5","1.0000E+00"]' in to_json(ds, numbers="string")


def test_binary_and_bulk_data() -> None:
    ds = _ds(
        DataElement(0x00281201, VR.OW, b"\x01\x00\x02\x00"),
        DataElement(0x7FE00010, VR.OB, b"\x00" * 2048),
    )
    parsed = json.loads(to_json(ds))
    assert parsed["00281201"] == {
        "vr": "OW",
        "InlineBinary": base64.b64encode(b"\x01\x00\x02\x00").decode(),
    }
    seen: list[str] = []

    def handler(element: DataElement, path: str) -> str:
        seen.append(path)
        return f"https://example.invalid/bulk/{path}"

    text = to_json(ds, bulk_data=handler, bulk_data_threshold=1024)
    assert json.loads(text)["7FE00010"] == {
        "vr": "OB",
        "BulkDataURI": "https://example.invalid/bulk/7FE00010",
    }
    assert seen == ["7FE00010"]
    with pytest.warns(DicomWarning, match="not resolved"):
        assert from_json(text)[0x7FE00010].value is None
    back = from_json(text, bulk_data=lambda uri: b"\x00" * 2048)
    assert back == ds


def test_encapsulated_pixel_data_round_trip() -> None:
    stream = (
        b"\xfe\xff\x00\xe0\x00\x00\x00\x00"  # empty Basic Offset Table
        + b"\xfe\xff\x00\xe0\x04\x00\x00\x00abcd"  # one fragment
        + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # Sequence Delimitation Item
    )
    ds = _ds(DataElement(0x7FE00010, VR.OB, Encapsulated(stream)))
    back = from_json(to_json(ds))
    value = back[0x7FE00010].value
    assert isinstance(value, Encapsulated) and value.load() == stream


def test_sequences_and_empty_items() -> None:
    item = _ds(DataElement(0x00081150, VR.UI, "1.2.3"))
    ds = _ds(
        DataElement(0x00081115, VR.SQ, Sequence([item, Dataset()])),
        DataElement(0x00081140, VR.SQ, Sequence()),
    )
    parsed = json.loads(to_json(ds))
    assert parsed["00081115"]["Value"] == [{"00081150": {"vr": "UI", "Value": ["1.2.3"]}}, {}]
    assert parsed["00081140"] == {"vr": "SQ"}
    assert from_json(to_json(ds)) == ds


def test_attribute_tags_and_binary_numbers() -> None:
    ds = _ds(
        DataElement(0x00209165, VR.AT, (0x00180050, 0x0020000E)),
        DataElement(0x00280106, VR.US, 0),
        DataElement(0x00189219, VR.FD, (1.5, -0.25)),
        DataElement(0x00720076, VR.FL, math.nan),
    )
    with pytest.warns(DicomWarning, match="NaN"):
        text = to_json(ds)
    parsed = json.loads(text)
    assert parsed["00209165"]["Value"] == ["00180050", "0020000E"]
    assert parsed["00720076"]["Value"] == ["NaN"]
    back = from_json(text)
    assert back == ds  # NaN equals NaN in element comparison


def test_arrays_and_errors() -> None:
    one = _ds(DataElement(0x0020000D, VR.UI, "1.2.3"))
    two = _ds(DataElement(0x0020000D, VR.UI, "1.2.4"))
    assert from_json_array(to_json_array([one, two])) == [one, two]
    for bad, match in [
        ("[1]", "JSON object"),
        ('{"0010001":{"vr":"PN"}}', "GGGGEEEE"),
        ('{"00100010":{"vr":"XX"}}', "not a VR"),
        ('{"00100010":{"vr":"OB","InlineBinary":"!!"}}', "base64"),
        ('{"00280010":{"vr":"US","Value":["x"]}}', "00280010"),
    ]:
        with pytest.raises(DecodeError, match=match):
            from_json(bad)


# --- real files: round trip and pydicom as an oracle -----------------------------------

# pydicom's bundled test files, found on disk (its get_testdata_files would try to download
# the ones it does not ship).
TEST_FILES = Path(pydicom.data.__file__).parent / "test_files"
FILES = sorted(path.name for path in TEST_FILES.glob("*.dcm"))


def _path(name: str) -> str:
    return str(TEST_FILES / name)


def _read(name: str) -> Dataset:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomWarning)  # the odd files say what is odd
            return read_file(_path(name)).dataset
    except DecodeError as exc:  # files pydicom ships to test its own error handling
        pytest.skip(f"{name} is not a readable DICOM file: {exc}")


@pytest.mark.parametrize("name", FILES)
def test_round_trip_of_real_files(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        dataset = _read(name)
        back = from_json(to_json(dataset))
        assert to_json(back) == to_json(dataset)
    if not any(e.vr is VR.UN and isinstance(e.value, Sequence) for e in dataset.iter_all()):
        # (A UN of undefined length read as a sequence comes back as the SQ it encodes.)
        assert back == Dataset([e for e in dataset if e.tag & 0xFFFF])
    # DS keep their exact text (read through the raw bytes).
    for element in dataset.iter_all():
        if element.vr is VR.DS and isinstance(element.raw, bytes) and element.raw.strip():
            texts = [t.strip(" \x00") for t in element.raw.decode().rstrip(" \x00").split("\\")]
            rebuilt = _find(back, element.tag, texts)
            assert rebuilt, (name, hex(element.tag))


def _find(dataset: Dataset, tag: int, texts: list[str]) -> bool:
    for element in dataset.iter_all():
        if element.tag == tag:
            values = element.value if isinstance(element.value, tuple) else (element.value,)
            if [v.text if isinstance(v, DS) else "" for v in values] == texts:
                return True
    return False


def _normalize(value: object) -> object:
    """JSON values for comparison: numbers as floats (pydicom writes 1.0 where we keep
    "1.0" or 1), strings of numbers in DS/IS as floats (see test docstring)."""
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


@pytest.mark.parametrize("name", FILES)
def test_agrees_with_pydicom_to_json_dict(name: str) -> None:
    """Our JSON equals pydicom's ``to_json_dict`` up to the number form of DS/IS.

    Differences explained where they occur:
    * DS/IS whose text is not a JSON number ("+5", " 1") are strings in ours (CP-1861,
      exact text) and numbers in pydicom's: compared as numbers;
    * pydicom writes the group length elements of the data set it was given; the model
      excludes them (PS3.18 F.2.2);
    * an empty sequence is ``{"vr": "SQ"}`` in ours (F.2.5: no Value for a zero-length
      attribute) and ``{"vr": "SQ", "Value": []}`` in pydicom's.
    """
    path = _path(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = json.loads(to_json(_read(name)))
        try:
            theirs = pydicom.dcmread(path, force=True).to_json_dict()
        except ValueError as exc:  # badVR.dcm: IS "1A"; we keep it as a string
            pytest.skip(f"pydicom cannot export {name}: {exc}")
    theirs = _without_empty_values({k: v for k, v in theirs.items() if not k.endswith("0000")})
    big_endian = b"1.2.840.10008.1.2.2" in Path(path).read_bytes()[:1024]
    assert sorted(ours) == sorted(theirs)
    _compare(ours, theirs, big_endian)


def _compare(ours: dict[str, dict], theirs: dict[str, dict], big_endian: bool) -> None:
    for key in ours:
        a, b = dict(ours[key]), dict(theirs[key])
        vr = a.get("vr")
        if key == "7FE00010" and {a.get("vr"), b.get("vr")} == {"OB", "OW"}:
            # Encapsulated Pixel Data stored with VR OW: our reader gives it the OB that
            # PS3.5 A.4 prescribes, pydicom keeps the file's VR.
            b["vr"] = a["vr"]
        if big_endian and "InlineBinary" in b and vr in ("OW", "OF", "OL", "OD", "OV"):
            # pydicom writes the bytes of a big-endian file as they are; ours are in
            # little-endian order (the order the JSON model's consumers assume, F.2.7).
            size = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}[vr]
            raw = base64.b64decode(b["InlineBinary"])
            swapped = b"".join(raw[i : i + size][::-1] for i in range(0, len(raw), size))
            b["InlineBinary"] = base64.b64encode(swapped).decode()
        if "Value" in a and vr in ("DS", "IS"):
            a["Value"] = [_as_number(v) for v in a["Value"]]
            b["Value"] = [_as_number(v) for v in b["Value"]]
        if "Value" in a and vr in ("AE", "CS", "DS", "IS", "LO", "SH", "UI", "DA", "TM", "DT"):
            # pydicom keeps the padding of values inside a multi-valued field ("DERIVED \")
            # and writes empty ones as "" where F.2.5 asks for null.
            b["Value"] = [_unpadded(v) for v in b["Value"]]
            a["Value"] = [_unpadded(v) for v in a["Value"]]
        if vr == "FL" and "Value" in a:
            # Ours: the shortest text of the float32 (0.1); pydicom's: the double's repr.
            a["Value"] = [_float32(v) for v in a["Value"]]
            b["Value"] = [_float32(v) for v in b["Value"]]
        if vr == "SQ" and "Value" in a:
            for item_a, item_b in zip(a["Value"], b["Value"], strict=True):
                assert sorted(item_a) == sorted(item_b), key
                _compare(item_a, item_b, big_endian)
            continue
        assert _normalize(a) == _normalize(b), key


def _float32(value: object) -> object:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return struct.unpack("<f", struct.pack("<f", value))[0]
    return value


def _as_number(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _unpadded(value: object) -> object:
    if isinstance(value, str):
        return value.strip(" ") or None
    return value


def _without_empty_values(value: object) -> object:
    if isinstance(value, dict):
        return {
            k: _without_empty_values(v) for k, v in value.items() if not (k == "Value" and v == [])
        }
    if isinstance(value, list):
        return [_without_empty_values(v) for v in value]
    return value


def test_json_text_is_valid_and_sorted() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        dataset = _read("CT_small.dcm")
    text = to_json(dataset)
    keys = list(json.loads(text))
    assert keys == sorted(keys)
    assert isinstance(from_json(text.encode("utf-8"))[0x00100010].value, PersonName)


# --- dcmtk's dcm2json as a second oracle ------------------------------------------------


def _dcmtk_form(obj: object) -> object:
    """Both sides in the form where dcm2json and we agree by design (see the test)."""
    if isinstance(obj, list):
        return [_dcmtk_form(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out: dict[str, object] = {}
    for key, value in obj.items():
        if key == "00080005":
            continue  # dcm2json writes ISO_IR 192: its JSON text is UTF-8
        if isinstance(value, dict) and ("BulkDataURI" in value or "InlineBinary" in value):
            value = {"vr": value["vr"], "binary": True}  # dcm2json may use BulkDataURI
        out[key] = _dcmtk_form(value)
    vr, values = out.get("vr"), out.get("Value")
    if isinstance(values, list):
        if vr in ("FL", "FD", "DS", "IS"):
            # FL: dcm2json prints 9 digits, we the shortest float32 text; FD: dcm2json's
            # 17 digits are off by one unit in the last place for some doubles.
            numbers = [_as_number(v) for v in values]
            if vr == "FL":
                numbers = [_float32(v) for v in numbers]
            elif vr == "FD":
                numbers = [float(f"{v:.15g}") if isinstance(v, float) else v for v in numbers]
            out["Value"] = numbers

        if vr == "PN":
            # dcm2json drops trailing "^" of a group and names of delimiters only; we keep
            # each group's text as written.
            names = []
            for name in values:
                if isinstance(name, dict):
                    name = {g: t.rstrip("^") for g, t in name.items() if t.rstrip("^")} or None
                names.append(name)
            out["Value"] = names
            if all(name is None for name in names):
                del out["Value"]
    return out


@pytest.mark.interop
@pytest.mark.skipif(shutil.which("dcm2json") is None, reason="dcmtk's dcm2json not installed")
@pytest.mark.parametrize("name", FILES)
def test_agrees_with_dcm2json(name: str) -> None:
    """Same JSON as dcmtk's dcm2json, after the normalizations of ``_dcmtk_form``:
    (0008,0005) (dcm2json rewrites it), binary values (it may write BulkDataURI), number
    spelling (it prints FL with 9 digits, we the shortest float32 text), and PN groups
    (it trims trailing carets)."""
    run = subprocess.run(["dcm2json", str(TEST_FILES / name)], capture_output=True, timeout=60)
    if run.returncode:
        pytest.skip(f"dcm2json cannot convert {name}")
    try:
        theirs = json.loads(run.stdout)
    except ValueError:  # badVR.dcm: dcm2json writes the IS "1A" as a bare number
        pytest.skip(f"dcm2json's output for {name} is not JSON")
    ours = json.loads(to_json(_read(name)))
    assert _dcmtk_form(ours) == _dcmtk_form(theirs)
