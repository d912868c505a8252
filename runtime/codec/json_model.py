"""The DICOM JSON Model (PS3.18 Annex F): data sets to JSON text and back.

Theory of operation
-------------------
Export writes the JSON text directly (no intermediate dict, no ``json.dumps`` of a tree):
one object per data set, attributes in ascending tag order (F.2.2), group lengths left
out, each attribute ``{"vr": ..., "Value": [...]}`` or with ``InlineBinary`` /
``BulkDataURI`` instead of ``Value``, and an empty attribute as ``{"vr": ...}`` alone
(F.2.5).  Import reads JSON (text, bytes, or an already parsed object) back into a
:class:`~dicompile.runtime.core.dataset.Dataset`.

Choices where the model leaves room or the 2013 text was later changed:

* **DS and IS** (Table F.2.3-1, CP-1861): written as JSON numbers whose literal is the
  value's exact text when that text is a valid JSON number (``1.50`` stays ``1.50``);
  a text JSON cannot carry as a number (``+5``, ``.5``, ``007``) is written as a JSON
  string, which CP-1861 allows, so the text survives the round trip.  ``numbers="number"``
  always writes numbers (canonical where needed), ``numbers="string"`` always strings.
  Import accepts both and keeps a number's literal text (``1.50`` reads as DS("1.50")).
* **Binary values** (OB, OD, OF, OL, OV, OW, UN): ``InlineBinary``, base64 of the value in
  little-endian order (F.2.7); with ``bulk_data`` given, values of at least
  ``bulk_data_threshold`` bytes become ``BulkDataURI`` instead (F.2.6).  Encapsulated Pixel
  Data is its item stream, which import turns back into encapsulated data.
* **PN**: an object with the non-empty groups among ``Alphabetic``, ``Ideographic`` and
  ``Phonetic`` (F.2.2); each group's text is kept as written, so components and their
  delimiters survive; trailing empty groups (``"A=B="``) do not exist in this form.
* **AT**: ``"GGGGEEEE"``.  Empty values of a multi-valued attribute are ``null``.
* **FL** values are written as the shortest decimal of their 32-bit value (``0.1``, not
  the ``0.10000000149011612`` of the double holding it).
* **FL/FD** NaN and infinities have no JSON number: written as the strings ``"NaN"``,
  ``"Infinity"``, ``"-Infinity"`` with a DicomWarning, and read back.
* Private elements keep their tag (gggg,xxee) as in the binary encoding (F.2.1.1).
* Specific Character Set (0008,0005) is kept as read: the JSON text is Unicode either way,
  and the attribute still says how the data set's bytes are to be encoded when it goes
  back to DICOM (dcmtk's dcm2json rewrites it to ISO_IR 192; pydicom keeps it).

References
----------
PS3.18 Annex F (2013 text, with later corrections: OL/OV/SV/UV/UC/UR (CP-1889), DS/IS
as numbers or strings (CP-1861)); PS3.5 §6.2.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import warnings
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring
from typing import Final, Literal

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, Encapsulated, decoded_element
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.values import (
    DA,
    DS,
    DT,
    IS,
    TM,
    PersonName,
    format_ds,
    format_float32,
    split_values,
)
from dicompile.runtime.core.vr import VR, VR_INFO, VRKind
from dicompile.runtime.errors import DecodeError, DicomWarning, EncodeError

NumberMode = Literal["exact", "number", "string"]
#: Called with the element and its tag path (``"00081115/0/00081150"``); returns the URI of
#: its bulk data, or None to write the value inline.
BulkDataHandler = Callable[[DataElement, str], str | None]
#: Called with a BulkDataURI on import; returns the value's bytes (little endian).
BulkDataLoader = Callable[[str], bytes]

_quote: Callable[[str], str] = encode_basestring
_NUMBER_PATTERN: Final = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_JSON_NUMBER: Final = re.compile(_NUMBER_PATTERN)
#: A backslash-separated list of JSON number literals (a whole DS/IS value field).
_JSON_NUMBERS: Final = re.compile(f"{_NUMBER_PATTERN}(?:\\\\{_NUMBER_PATTERN})*")
#: Precomputed openings per VR (reading VR.value goes through the enum machinery).
_EMPTY: Final = {vr: f'{{"vr":"{vr.value}"}}' for vr in VR}
_VALUE_HEAD: Final = {vr: f'{{"vr":"{vr.value}","Value":[' for vr in VR}
_NUMBERS: Final = frozenset({VR.FL, VR.FD, VR.SL, VR.SS, VR.SV, VR.UL, VR.US, VR.UV})
_BINARY: Final = frozenset({VR.OB, VR.OD, VR.OF, VR.OL, VR.OV, VR.OW, VR.UN})
_NON_FINITE: Final = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_PIXEL_DATA: Final = 0x7FE00010
_ITEM_TAG_LE: Final = b"\xfe\xff\x00\xe0"
_SEQUENCE_DELIMITER_LE: Final = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"


# --- export ---------------------------------------------------------------------------------


class _Writer:
    """Appends the JSON text of data sets to a list of pieces."""

    __slots__ = ("bulk_data", "numbers", "out", "threshold")

    def __init__(
        self, numbers: NumberMode, bulk_data: BulkDataHandler | None, threshold: int
    ) -> None:
        self.out: list[str] = []
        self.numbers = numbers
        self.bulk_data = bulk_data
        self.threshold = threshold

    def dataset(self, dataset: Dataset, path: str) -> None:
        out = self.out
        out.append("{")
        first = True
        for element in dataset:
            tag = element.tag
            if not tag & 0xFFFF:
                continue  # group lengths are not part of the model (F.2.2)
            if first:
                first = False
            else:
                out.append(",")
            out.append(f'"{tag:08X}":')
            self.element(element, f"{path}{tag:08X}")
        out.append("}")

    def element(self, element: DataElement, path: str) -> None:
        out = self.out
        vr = element.vr
        if vr in _NUMBER_TEXT:
            raw = element.raw
            if type(raw) is bytes and self.numbers != "string":
                # The whole field at once when every value is a JSON number already: the
                # usual case, and the one of long DS arrays (contours, LUT descriptors).
                text = raw.decode("latin-1").rstrip(" \x00")
                if " " not in text and _JSON_NUMBERS.fullmatch(text) is not None:
                    out.append(_VALUE_HEAD[vr] + text.replace("\\", ",") + "]}")
                    return
            texts = _numeric_texts(element)
            if not texts:
                out.append(_EMPTY[vr])
                return
            out.append(_VALUE_HEAD[vr])
            out.append(",".join([self.number_text(text) for text in texts]))
            out.append("]}")
            return
        value = element.value
        if value is None:
            out.append(_EMPTY[vr])
            return
        if isinstance(value, Sequence):
            self.sequence(vr, value, path)
            return
        if vr in _BINARY or isinstance(value, (bytes, Encapsulated)):
            self.binary(element, value, path)
            return
        values = value if isinstance(value, tuple) else (value,)
        out.append(_VALUE_HEAD[vr])
        if vr is VR.PN:
            out.append(",".join([_person_name(v) for v in values]))
        elif vr is VR.AT:
            out.append(",".join([f'"{v:08X}"' if isinstance(v, int) else "null" for v in values]))
        elif vr in _NUMBERS:
            out.append(",".join([_binary_number(v, vr, path) for v in values]))
        else:
            out.append(",".join([_string(v) for v in values]))
        out.append("]}")

    def number_text(self, text: str | None) -> str:
        if not text:
            return "null"
        mode = self.numbers
        if mode == "string":
            return _quote(text)
        if _JSON_NUMBER.fullmatch(text) is not None:
            return text
        if mode == "exact":
            return _quote(text)
        try:
            number = float(text)
        except ValueError:
            return _quote(text)  # not a number at all: only a string can carry it
        if not math.isfinite(number):
            return _quote(text)
        return str(int(number)) if number.is_integer() and "." not in text else repr(number)

    def sequence(self, vr: VR, items: Sequence, path: str) -> None:
        out = self.out
        # A UN of undefined length read as a sequence is written as the SQ it encodes
        # (PS3.5 §6.2.2): JSON has no other form for its items.
        out.append('{"vr":"SQ"')
        if len(items):
            out.append(',"Value":[')
            for index, item in enumerate(items):
                if index:
                    out.append(",")
                self.dataset(item, f"{path}/{index}/")
            out.append("]")
        out.append("}")

    def binary(self, element: DataElement, value: object, path: str) -> None:
        if isinstance(value, Encapsulated):
            # The items without the closing Sequence Delimitation Item, which ends the
            # undefined length rather than belonging to the value (as pydicom writes it).
            raw = value.load()
            if raw.endswith(_SEQUENCE_DELIMITER_LE):
                raw = raw[:-8]
        elif isinstance(value, bytes):
            raw = value
        else:  # pragma: no cover - normalize_value allows nothing else for these VRs
            raise EncodeError(f"{path}: {element.vr.value} value is not bytes")
        vr = element.vr.value
        if self.bulk_data is not None and len(raw) >= self.threshold:
            uri = self.bulk_data(element, path)
            if uri is not None:
                self.out.append(f'{{"vr":"{vr}","BulkDataURI":{_quote(uri)}}}')
                return
        if not raw:
            self.out.append(f'{{"vr":"{vr}"}}')
            return
        encoded = base64.b64encode(raw).decode("ascii")
        self.out.append(f'{{"vr":"{vr}","InlineBinary":"{encoded}"}}')


_NUMBER_TEXT: Final = frozenset({VR.DS, VR.IS})


def _numeric_texts(element: DataElement) -> list[str | None]:
    """The exact texts of a DS/IS element: from its raw bytes when it has them."""
    raw = element.raw
    if type(raw) is bytes:
        text = raw.decode("latin-1").rstrip(" \x00")
        if not text:
            return []
        return [part.strip(" \x00") or None for part in text.split("\\")]
    value = element.value
    if value is None:
        return []
    values = value if isinstance(value, tuple) else (value,)
    texts: list[str | None] = []
    for one in values:
        if one is None:
            texts.append(None)
        elif isinstance(one, (DS, IS)):
            texts.append(one.text)
        elif isinstance(one, float):
            texts.append(format_ds(one))
        else:
            texts.append(str(one))
    return texts


def _string(value: object) -> str:
    if value is None or value == "":
        return "null"  # F.2.5: empty values of a multi-valued attribute
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (DA, TM, DT)):
        return _quote(value.text)
    return _quote(str(value))


_GROUP_NAMES: Final = ("Alphabetic", "Ideographic", "Phonetic")


def _person_name(value: object) -> str:
    if value is None:
        return "null"
    text = value.text if isinstance(value, PersonName) else str(value)
    if not text:
        return "null"
    groups = text.split("=")
    members = [
        f'"{name}":{_quote(group)}'
        for name, group in zip(_GROUP_NAMES, groups, strict=False)
        if group
    ]
    if len(groups) > 3:
        warnings.warn(
            f"PN value {text!r} has more than 3 component groups; the extra ones are not "
            "in the JSON model (PS3.18 F.2.2)",
            DicomWarning,
            stacklevel=5,
        )
    return "{" + ",".join(members) + "}"


def _binary_number(value: object, vr: VR, path: str) -> str:
    if isinstance(value, float):
        if math.isfinite(value):
            # FL: the shortest text of the float32 (0.1, not 0.10000000149011612).
            return format_float32(value) if vr is VR.FL else repr(value)
        name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        warnings.warn(
            f'{path}: {vr.value} value {name} has no JSON number; written as the string "{name}"',
            DicomWarning,
            stacklevel=5,
        )
        return f'"{name}"'
    if isinstance(value, int):
        return str(value)
    return "null"


def to_json(
    dataset: Dataset,
    *,
    numbers: NumberMode = "exact",
    bulk_data: BulkDataHandler | None = None,
    bulk_data_threshold: int = 1024,
) -> str:
    """The DICOM JSON Model object of ``dataset``, as text.

    Parameters
    ----------
    dataset:
        The data set (a Part 10 file's meta information is a separate data set: export
        ``FileDataset.meta`` too if it is wanted).
    numbers:
        How DS and IS are written: ``"exact"`` (numbers, strings where a number cannot
        carry the exact text), ``"number"`` or ``"string"``; see the module text.
    bulk_data, bulk_data_threshold:
        When given, binary values of at least ``bulk_data_threshold`` bytes are offered to
        ``bulk_data(element, path)``; a URI it returns is written as ``BulkDataURI``.

    References
    ----------
    PS3.18 F.2 (model), F.2.3 (VR mapping), F.2.5 (null values), F.2.6, F.2.7.
    """
    writer = _Writer(numbers, bulk_data, bulk_data_threshold)
    writer.dataset(dataset, "")
    return "".join(writer.out)


def to_json_array(
    datasets: list[Dataset],
    *,
    numbers: NumberMode = "exact",
    bulk_data: BulkDataHandler | None = None,
    bulk_data_threshold: int = 1024,
) -> str:
    """Several data sets as one top-level JSON array (PS3.18 F.2.1)."""
    writer = _Writer(numbers, bulk_data, bulk_data_threshold)
    writer.out.append("[")
    for index, dataset in enumerate(datasets):
        if index:
            writer.out.append(",")
        writer.dataset(dataset, f"[{index}]/")
    writer.out.append("]")
    return "".join(writer.out)


# --- import ---------------------------------------------------------------------------------


class _Literal(str):
    """A JSON number's literal text, as json.loads hands it to parse_float/parse_int."""

    __slots__ = ()


def _parse(text: str | bytes) -> object:
    return json.loads(text, parse_float=_Literal, parse_int=_Literal)


def from_json(
    data: str | bytes | Mapping[str, object],
    *,
    bulk_data: BulkDataLoader | None = None,
) -> Dataset:
    """The data set of one DICOM JSON Model object (text, bytes, or parsed).

    ``bulk_data(uri)`` resolves ``BulkDataURI`` values; without it such an attribute is
    read as empty, with a DicomWarning.  Raises DecodeError naming the tag path when the
    JSON is not a DICOM JSON object.

    References
    ----------
    PS3.18 F.2.
    """
    parsed = _parse(data) if isinstance(data, (str, bytes)) else data
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    if not isinstance(parsed, Mapping):
        raise DecodeError("a DICOM JSON data set is a JSON object (PS3.18 F.2.2)")
    return _Reader(bulk_data).dataset(parsed, "")


def from_json_array(data: str | bytes, *, bulk_data: BulkDataLoader | None = None) -> list[Dataset]:
    """The data sets of a top-level JSON array of DICOM JSON objects (PS3.18 F.2.1)."""
    parsed = _parse(data)
    if not isinstance(parsed, list):
        raise DecodeError("expected a JSON array of DICOM JSON objects (PS3.18 F.2.1)")
    reader = _Reader(bulk_data)
    datasets: list[Dataset] = []
    for index, item in enumerate(parsed):
        if not isinstance(item, Mapping):
            raise DecodeError(f"[{index}]: not a JSON object (PS3.18 F.2.1)")
        datasets.append(reader.dataset(item, f"[{index}]/"))
    return datasets


class _Reader:
    __slots__ = ("bulk_data",)

    def __init__(self, bulk_data: BulkDataLoader | None) -> None:
        self.bulk_data = bulk_data

    def dataset(self, obj: Mapping[str, object], path: str) -> Dataset:
        elements: list[DataElement] = []
        for key, attribute in obj.items():
            where = f"{path}{key}"
            try:
                tag = int(key, 16)
            except ValueError:
                raise DecodeError(f"{where}: not a tag GGGGEEEE (PS3.18 F.2.1.1)") from None
            if len(key) != 8 or not 0 <= tag <= 0xFFFFFFFF:
                raise DecodeError(f"{where}: not a tag GGGGEEEE (PS3.18 F.2.1.1)")
            if not isinstance(attribute, Mapping):
                raise DecodeError(f"{where}: an attribute is a JSON object (PS3.18 F.2.2)")
            elements.append(self.element(tag, attribute, where))
        elements.sort(key=_tag_of)
        return Dataset(elements)

    def element(self, tag: int, obj: Mapping[str, object], where: str) -> DataElement:
        vr_text = obj.get("vr")
        try:
            vr = VR(str(vr_text))
        except ValueError:
            raise DecodeError(f"{where}: vr {vr_text!r} is not a VR (PS3.18 F.2.3)") from None
        if "InlineBinary" in obj:
            raw = _b64(obj["InlineBinary"], where)
            return self.from_bytes(tag, vr, raw, where)
        if "BulkDataURI" in obj:
            uri = str(obj["BulkDataURI"])
            if self.bulk_data is None:
                warnings.warn(
                    f"{where}: BulkDataURI {uri!r} not resolved (no loader given); read as empty",
                    DicomWarning,
                    stacklevel=4,
                )
                return DataElement(tag, vr)
            return self.from_bytes(tag, vr, self.bulk_data(uri), where)
        values = obj.get("Value")
        if values is None:
            # Empty: None, or b"" for the byte VRs, as the binary codecs read zero length.
            return DataElement(tag, vr, b"" if vr in _BINARY else None)
        if not isinstance(values, list):
            raise DecodeError(f"{where}: Value is a JSON array (PS3.18 F.2.4)")
        if vr is VR.SQ:
            items = []
            for index, item in enumerate(values):
                if not isinstance(item, Mapping):
                    raise DecodeError(f"{where}/{index}: a sequence item is a JSON object")
                items.append(self.dataset(item, f"{where}/{index}/"))
            return decoded_element(tag, vr, Sequence(items))
        try:
            converted = [_value(vr, value) for value in values]
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"{where}: {exc} (PS3.18 F.2.3)") from None
        if not converted:
            return DataElement(tag, vr)
        value = converted[0] if len(converted) == 1 else tuple(converted)
        if vr in _NUMBER_TEXT and any(isinstance(v, str) for v in converted):
            # A DS/IS text that is not a number, kept as the codecs keep it; the element
            # constructor would refuse it.
            return decoded_element(tag, vr, value)  # type: ignore[arg-type]
        return DataElement(tag, vr, value)

    def from_bytes(self, tag: int, vr: VR, raw: bytes, where: str) -> DataElement:
        if vr in _BINARY:
            if tag == _PIXEL_DATA and raw.startswith(_ITEM_TAG_LE):
                # Encapsulated: the item stream (F.2.7), closed again with its delimiter.
                if not raw.endswith(_SEQUENCE_DELIMITER_LE):
                    raw += _SEQUENCE_DELIMITER_LE
                return DataElement(tag, vr, Encapsulated(raw))
            return DataElement(tag, vr, raw)
        info = VR_INFO[vr]
        if vr is VR.AT or vr in _NUMBERS:
            size = info.item_size
            if len(raw) % size:
                raise DecodeError(f"{where}: {len(raw)} bytes are not {vr.value} values")
            count = len(raw) // size
            if vr is VR.AT:
                words = struct.unpack(f"<{count * 2}H", raw)
                numbers: tuple[object, ...] = tuple(
                    (words[i] << 16) | words[i + 1] for i in range(0, len(words), 2)
                )
            else:
                numbers = struct.unpack(f"<{count}{info.struct_format}", raw)
            if not numbers:
                return DataElement(tag, vr)
            return DataElement(tag, vr, numbers[0] if count == 1 else numbers)
        if info.kind is VRKind.TEXT:
            # Text bulk data is in the JSON's own encoding, UTF-8 (F.2).
            parts = split_values(raw.decode("utf-8", "replace"), vr)
            return DataElement(tag, vr, parts[0] if len(parts) == 1 else (parts or None))
        raise DecodeError(f"{where}: InlineBinary is not allowed for {vr.value}")


def _tag_of(element: DataElement) -> int:
    return element.tag


def _b64(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise DecodeError(f"{where}: InlineBinary is a base64 string (PS3.18 F.2.7)")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise DecodeError(f"{where}: InlineBinary is not base64: {exc}") from None


_FLOAT32: Final = struct.Struct("<f")


def _to_float32(number: float) -> float:
    try:
        value: float = _FLOAT32.unpack(_FLOAT32.pack(number))[0]
    except OverflowError:
        return number  # out of float32 range: keep what was written
    return value


def _value(vr: VR, value: object) -> object:
    """One JSON value as the Python value of ``vr``.

    ``null`` is an empty value (F.2.5): None for DS, IS and binary numbers, as their codecs
    decode an empty component, and the empty string for the other text VRs.
    """
    if value is None:
        return None if vr in _NUMBER_TEXT or vr in _NUMBERS or vr is VR.AT else ""
    if vr is VR.PN:
        if isinstance(value, Mapping):
            groups = [value.get(name, "") for name in _GROUP_NAMES]
            if not all(isinstance(g, str) for g in groups):
                raise TypeError(f"PN groups are strings: {value!r:.60}")
            texts = [str(g) for g in groups]
            while texts and not texts[-1]:
                texts.pop()
            return PersonName("=".join(texts))
        if isinstance(value, str):  # seen in the wild: PN as a plain string
            return PersonName(value)
        raise TypeError(f"a PN value is an object of component groups, not {value!r:.60}")
    if vr is VR.DS or vr is VR.IS:
        kind = DS if vr is VR.DS else IS
        if not isinstance(value, str):
            return DS(_number(value)) if vr is VR.DS else IS(_integer(value))
        try:
            return kind(str(value))
        except ValueError:
            # Not a number: kept as text, as the binary codecs keep it (lenient reading).
            warnings.warn(
                f"{vr.value} value {value!r:.40} is not a number; kept as text",
                DicomWarning,
                stacklevel=6,
            )
            return str(value)
    if vr is VR.AT:
        if not isinstance(value, str) or len(value) != 8:
            raise ValueError(f"an AT value is GGGGEEEE, not {value!r:.40}")
        return int(value, 16)
    if vr in (VR.FL, VR.FD):
        if isinstance(value, str) and value in _NON_FINITE:
            return _NON_FINITE[value]
        number = float(_number(value))
        # FL holds a 32-bit float: round the decimal to it, as the binary value is.
        return _to_float32(number) if vr is VR.FL else number
    if vr in _NUMBERS:
        return _integer(value)
    if isinstance(value, _Literal):
        return str(value)  # a number where a string was expected: keep its text
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"a {vr.value} value is a string, not {value!r:.60}")


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value)
    raise TypeError(f"not a number: {value!r:.40}")


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            number = float(value)
            if number.is_integer():
                return int(number)
            raise
    raise TypeError(f"not an integer: {value!r:.40}")


__all__ = [
    "BulkDataHandler",
    "BulkDataLoader",
    "NumberMode",
    "from_json",
    "from_json_array",
    "to_json",
    "to_json_array",
]
