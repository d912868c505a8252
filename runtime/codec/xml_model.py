"""The Native DICOM Model (PS3.19 A.1): data sets to XML and back.

Theory of operation
-------------------
Export writes the XML text directly: ``<NativeDicomModel xml:space="preserve">`` in the
namespace of the normative schema (A.1.6; ``namespace=False`` leaves it out, as several
toolkits do), one ``DicomAttribute`` per element in tag order with ``tag``, ``vr`` and
``keyword`` (when the data dictionary knows it), and per value a ``Value``,
``PersonName`` (with its component groups split into the five named components) or
``Item``; binary values as one ``InlineBinary`` (base64, little endian) or, through a
``bulk_data`` callback, a ``BulkData uri``.  Group lengths are left out (A.1.1).

Private data elements are written as ``gggg00ee`` with ``privateCreator`` (A.1.5): the
block number is not part of the model.  Import reserves a block for each creator (the
one its creator element names when it is in the XML) and puts the element back in it.

Import parses with lxml without resolving entities or reaching the network, accepts the
document with or without the namespace, and rebuilds a
:class:`~dicompile.runtime.core.dataset.Dataset`.  Values keep their exact text (DS "1.50"
stays "1.50").

Limits of XML 1.0 itself: control characters other than TAB, LF and CR cannot appear in
an XML document, not even as character references; the FF that LT, ST and UT may hold is
written as U+FFFD with a DicomWarning.  CR is written as ``&#13;`` so that XML's line-end
normalisation does not turn CR LF into LF.

References
----------
PS3.19 A.1 (2013, with OL, OV, SV, UV, UC, UR of later editions, CP-1889); PS3.5 §6.2.
"""

from __future__ import annotations

import base64
import math
import re
import struct
import warnings
from collections.abc import Callable
from typing import Final

from lxml import etree

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, Encapsulated, decoded_element
from dicompile.runtime.core.lookup import DEFAULT_LOOKUP, TagLookup
from dicompile.runtime.core.private import find_private_block
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.tag import is_private, is_private_creator
from dicompile.runtime.core.values import (
    DA,
    DS,
    DT,
    IS,
    TM,
    ComponentGroup,
    PersonName,
    format_ds,
    format_float32,
    split_values,
)
from dicompile.runtime.core.vr import VR, VR_INFO, VRKind
from dicompile.runtime.errors import DecodeError, DicomWarning, EncodeError

#: The namespace of the normative schema (PS3.19 A.1.6).
NAMESPACE: Final = "http://dicom.nema.org/PS3.19/models/NativeDICOM"

#: Called with the element and its tag path; returns a BulkData URI or None (inline).
BulkDataHandler = Callable[[DataElement, str], str | None]
#: Resolves a BulkData uri (or uuid) on import to the value's bytes (little endian).
BulkDataLoader = Callable[[str], bytes]

_BINARY: Final = frozenset({VR.OB, VR.OD, VR.OF, VR.OL, VR.OV, VR.OW, VR.UN})
_NUMBERS: Final = frozenset({VR.FL, VR.FD, VR.SL, VR.SS, VR.SV, VR.UL, VR.US, VR.UV})
_PIXEL_DATA: Final = 0x7FE00010
_ITEM_TAG_LE: Final = b"\xfe\xff\x00\xe0"
_SEQUENCE_DELIMITER_LE: Final = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
_COMPONENTS: Final = ("FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix")
_GROUPS: Final = ("Alphabetic", "Ideographic", "Phonetic")

# Characters to escape in text and attribute values; XML 1.0 forbids the other C0 controls.
_NEEDS_ESCAPE: Final = re.compile(r'[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')
_FORBIDDEN: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                 "\r": "&#13;"})  # fmt: skip


def _escape(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    if _FORBIDDEN.search(text) is not None:
        warnings.warn(
            f"{text[:40]!r}: control characters that XML 1.0 cannot hold are written as "
            "U+FFFD (PS3.19 A.1 is an XML Infoset)",
            DicomWarning,
            stacklevel=6,
        )
        text = _FORBIDDEN.sub("\ufffd", text)
    return text.translate(_ESCAPES)


# --- export ---------------------------------------------------------------------------------


class _Writer:
    __slots__ = ("bulk_data", "lookup", "out", "threshold")

    def __init__(
        self, lookup: TagLookup, bulk_data: BulkDataHandler | None, threshold: int
    ) -> None:
        self.out: list[str] = []
        self.lookup = lookup
        self.bulk_data = bulk_data
        self.threshold = threshold

    def dataset(self, dataset: Dataset, path: str) -> None:
        creators: dict[int, str] = {}
        for element in dataset:
            tag = element.tag
            if not tag & 0xFFFF:
                continue  # group lengths are not part of the model (A.1.1)
            if is_private_creator(tag):
                value = element.value
                if isinstance(value, str):
                    creators[tag] = value.strip(" ")
            self.element(element, creators, f"{path}{tag:08X}")

    def element(self, element: DataElement, creators: dict[int, str], path: str) -> None:
        out = self.out
        tag = element.tag
        vr = element.vr
        value = element.value
        if isinstance(value, Sequence):
            vr = VR.SQ  # a UN of undefined length read as a sequence (PS3.5 §6.2.2)
        head = f'<DicomAttribute tag="{tag:08X}" vr="{vr.value}"'
        if is_private(tag) and not is_private_creator(tag):
            creator = creators.get((tag & 0xFFFF0000) | ((tag >> 8) & 0xFF))
            if creator is not None:
                head = (
                    f'<DicomAttribute tag="{tag & 0xFFFF00FF:08X}" vr="{vr.value}" '
                    f'privateCreator="{_escape(creator)}"'
                )
        else:
            keyword = self.lookup.keyword(tag)
            if keyword:
                head += f' keyword="{keyword}"'
        if value is None or (isinstance(value, (bytes, Sequence)) and not value):
            out.append(head + "/>")
            return
        out.append(head + ">")
        if isinstance(value, Sequence):
            for number, item in enumerate(value, start=1):
                out.append(f'<Item number="{number}">')
                self.dataset(item, f"{path}/{number - 1}/")
                out.append("</Item>")
        elif vr in _BINARY or isinstance(value, (bytes, Encapsulated)):
            self.binary(element, value, path)
        else:
            values: tuple[object, ...] = value if isinstance(value, tuple) else (value,)
            if vr is VR.PN:
                for number, one in enumerate(values, start=1):
                    out.append(_person_name(number, one))
            else:
                texts = _texts(element, values) if vr in (VR.DS, VR.IS) else list(values)
                for number, one in enumerate(texts, start=1):
                    out.append(f'<Value number="{number}">{_value_text(one, vr)}</Value>')
        out.append("</DicomAttribute>")

    def binary(self, element: DataElement, value: object, path: str) -> None:
        if isinstance(value, Encapsulated):
            raw = value.load()
            if raw.endswith(_SEQUENCE_DELIMITER_LE):
                raw = raw[:-8]  # the delimiter ends the undefined length (see json_model)
        elif isinstance(value, bytes):
            raw = value
        else:  # pragma: no cover - normalize_value allows nothing else for these VRs
            raise EncodeError(f"{path}: {element.vr.value} value is not bytes")
        if self.bulk_data is not None and len(raw) >= self.threshold:
            uri = self.bulk_data(element, path)
            if uri is not None:
                self.out.append(f'<BulkData uri="{_escape(uri)}"/>')
                return
        self.out.append(f"<InlineBinary>{base64.b64encode(raw).decode('ascii')}</InlineBinary>")


def _texts(element: DataElement, values: tuple[object, ...]) -> list[object]:
    """DS/IS values as their exact texts, from the raw bytes when the element has them."""
    raw = element.raw
    if type(raw) is bytes:
        text = raw.decode("latin-1").rstrip(" \x00")
        return [part.strip(" \x00") for part in text.split("\\")]
    return [
        v.text if isinstance(v, (DS, IS)) else format_ds(v) if isinstance(v, float) else v
        for v in values
    ]


def _value_text(value: object, vr: VR) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, (DA, TM, DT)):
        return _escape(value.text)
    if vr is VR.AT and isinstance(value, int):
        return f"{value:08X}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"  # xsd:double spellings
        return format_float32(value) if vr is VR.FL else repr(value)
    return _escape(str(value))


def _person_name(number: int, value: object) -> str:
    text = value.text if isinstance(value, PersonName) else ("" if value is None else str(value))
    if not text:
        return f'<PersonName number="{number}"/>'
    name = value if isinstance(value, PersonName) else PersonName(text)
    parts = [f'<PersonName number="{number}">']
    for group_name, group_text, group in zip(_GROUPS, name.group_texts, name.groups, strict=False):
        if not group_text or group.is_empty:
            continue  # "^^^^" has no components to write
        parts.append(f"<{group_name}>")
        for component_name, component in zip(_COMPONENTS, group.components, strict=True):
            if component:
                parts.append(f"<{component_name}>{_escape(component)}</{component_name}>")
        parts.append(f"</{group_name}>")
    parts.append("</PersonName>")
    return "".join(parts)


def to_xml(
    dataset: Dataset,
    *,
    namespace: bool = True,
    lookup: TagLookup = DEFAULT_LOOKUP,
    bulk_data: BulkDataHandler | None = None,
    bulk_data_threshold: int = 1024,
) -> str:
    """The Native DICOM Model document of ``dataset`` (UTF-8 XML text).

    Parameters
    ----------
    namespace:
        Put the document in the schema's namespace (:data:`NAMESPACE`).
    lookup:
        The data dictionary that gives ``keyword`` attributes.
    bulk_data, bulk_data_threshold:
        Binary values of at least ``bulk_data_threshold`` bytes are offered to
        ``bulk_data(element, path)``; a URI it returns is written as ``BulkData uri``.

    References
    ----------
    PS3.19 A.1.5 (Table A.1.5-2), A.1.6 (schema).
    """
    writer = _Writer(lookup, bulk_data, bulk_data_threshold)
    xmlns = f' xmlns="{NAMESPACE}"' if namespace else ""
    writer.out.append(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<NativeDicomModel{xmlns} xml:space="preserve">'
    )
    writer.dataset(dataset, "")
    writer.out.append("</NativeDicomModel>\n")
    return "".join(writer.out)


# --- import ---------------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""  # comments, processing instructions
    return tag.rsplit("}", 1)[-1]


def from_xml(data: str | bytes, *, bulk_data: BulkDataLoader | None = None) -> Dataset:
    """The data set of a Native DICOM Model document.

    ``bulk_data(uri_or_uuid)`` resolves BulkData references; without it they read as empty,
    with a DicomWarning.  Raises DecodeError naming the XML line and tag path.

    References
    ----------
    PS3.19 A.1.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(data.encode("utf-8") if isinstance(data, str) else data, parser)
    except etree.XMLSyntaxError as exc:
        raise DecodeError(f"not XML: {exc}") from None
    if _local(root) != "NativeDicomModel":
        raise DecodeError(f"root element is {_local(root)!r}, not NativeDicomModel (PS3.19 A.1)")
    return _Reader(bulk_data).dataset(root, "")


class _Reader:
    __slots__ = ("bulk_data",)

    def __init__(self, bulk_data: BulkDataLoader | None) -> None:
        self.bulk_data = bulk_data

    def dataset(self, node: etree._Element, path: str) -> Dataset:
        dataset = Dataset()
        private: list[tuple[int, str, etree._Element, str]] = []
        for child in node:
            name = _local(child)
            if not name:
                continue
            where = f"{path}{child.get('tag', '?')} (line {child.sourceline})"
            if name != "DicomAttribute":
                raise DecodeError(f"{where}: unexpected element <{name}> (PS3.19 A.1.5)")
            tag_text = child.get("tag", "")
            if not re.fullmatch(r"[0-9A-Fa-f]{8}", tag_text):
                raise DecodeError(f"{where}: tag {tag_text!r} is not GGGGEEEE (PS3.19 A.1.5)")
            tag = int(tag_text, 16)
            creator = child.get("privateCreator")
            if creator is not None and is_private(tag):
                private.append((tag, creator, child, where))
                continue
            dataset.add(self.element(tag, child, where))
        for tag, creator, child, where in private:
            group = tag >> 16
            try:
                block = find_private_block(dataset, group, creator, create=True)
            except ValueError as exc:
                raise DecodeError(f"{where}: {exc}") from None
            dataset.add(self.element(block.tag(tag & 0xFF), child, where))
        return dataset

    def element(self, tag: int, node: etree._Element, where: str) -> DataElement:
        vr_text = node.get("vr")
        try:
            vr = VR(vr_text) if vr_text else _dictionary_vr(tag)
        except ValueError:
            raise DecodeError(f"{where}: vr {vr_text!r} is not a VR (PS3.19 A.1.5)") from None
        children = [child for child in node if _local(child)]
        if not children:
            return DataElement(tag, vr, b"" if vr in _BINARY else None)
        kind = _local(children[0])
        if kind == "Item":
            items = [self.dataset(child, f"{where}/{n}/") for n, child in enumerate(children)]
            return decoded_element(tag, VR.SQ if vr is VR.UN else vr, Sequence(items))
        if kind == "InlineBinary":
            try:
                raw = base64.b64decode("".join(children[0].itertext()), validate=True)
            except ValueError as exc:
                raise DecodeError(f"{where}: InlineBinary is not base64: {exc}") from None
            return _from_bytes(tag, vr, raw, where)
        if kind == "BulkData":
            reference = children[0].get("uri") or children[0].get("uuid") or ""
            if self.bulk_data is None:
                warnings.warn(
                    f"{where}: BulkData {reference!r} not resolved (no loader given); read "
                    "as empty",
                    DicomWarning,
                    stacklevel=4,
                )
                return DataElement(tag, vr, b"" if vr in _BINARY else None)
            return _from_bytes(tag, vr, self.bulk_data(reference), where)
        ordered = sorted(children, key=lambda child: int(child.get("number", "0") or 0))
        if kind == "PersonName":
            names = [_read_person_name(child) for child in ordered]
            return DataElement(tag, vr, names[0] if len(names) == 1 else tuple(names))
        if kind != "Value":
            raise DecodeError(f"{where}: unexpected element <{kind}> (PS3.19 A.1.5)")
        texts = ["".join(child.itertext()) for child in ordered]
        try:
            values = [_value(vr, text) for text in texts]
        except ValueError as exc:
            raise DecodeError(f"{where}: {exc}") from None
        value = values[0] if len(values) == 1 else tuple(values)
        if vr in (VR.DS, VR.IS) and any(isinstance(v, str) for v in values):
            return decoded_element(tag, vr, value)  # type: ignore[arg-type]
        return DataElement(tag, vr, value)


def _dictionary_vr(tag: int) -> VR:
    text = DEFAULT_LOOKUP.vr_text(tag)
    try:
        return VR(text[:2]) if text else VR.UN
    except ValueError:
        return VR.UN


def _read_person_name(node: etree._Element) -> PersonName:
    groups: dict[str, ComponentGroup] = {}
    for group in node:
        name = _local(group)
        if name not in _GROUPS:
            continue
        components = {_local(c): "".join(c.itertext()) for c in group if _local(c)}
        groups[name] = ComponentGroup(*(components.get(n, "") for n in _COMPONENTS))
    texts = [groups[name].format() if name in groups else "" for name in _GROUPS]
    while texts and not texts[-1]:
        texts.pop()
    return PersonName("=".join(texts))


_FLOAT32: Final = struct.Struct("<f")


def _to_float32(number: float) -> float:
    try:
        value: float = _FLOAT32.unpack(_FLOAT32.pack(number))[0]
    except OverflowError:
        return number  # out of float32 range: keep what was written
    return value


def _value(vr: VR, text: str) -> object:
    if vr is VR.DS or vr is VR.IS:
        if not text:
            return None
        try:
            return DS(text) if vr is VR.DS else IS(text)
        except ValueError:
            warnings.warn(
                f"{vr.value} value {text!r:.40} is not a number; kept as text",
                DicomWarning,
                stacklevel=5,
            )
            return text
    if vr is VR.AT:
        if not re.fullmatch(r"[0-9A-Fa-f]{8}", text):
            raise ValueError(f"an AT value is GGGGEEEE, not {text!r:.40}")
        return int(text, 16)
    if vr in (VR.FL, VR.FD):
        special = {"NaN": math.nan, "INF": math.inf, "-INF": -math.inf}
        if text in special:
            return special[text]
        number = float(text)
        # FL holds a 32-bit float: round the decimal to it, as the binary value is.
        return _to_float32(number) if vr is VR.FL else number
    if vr in _NUMBERS:
        return int(text)
    return text


def _from_bytes(tag: int, vr: VR, raw: bytes, where: str) -> DataElement:
    if vr in _BINARY:
        if tag == _PIXEL_DATA and raw.startswith(_ITEM_TAG_LE):
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
        parts = split_values(raw.decode("utf-8", "replace"), vr)
        return DataElement(tag, vr, parts[0] if len(parts) == 1 else (parts or None))
    raise DecodeError(f"{where}: binary data is not allowed for {vr.value}")


__all__ = ["NAMESPACE", "BulkDataHandler", "BulkDataLoader", "from_xml", "to_xml"]
