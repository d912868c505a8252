"""Reader of PS3.4 (Service Class Specifications) in DocBook: SOP classes, keys, statuses.

Theory of operation
-------------------
* Which table holds what is declared in ``part04_tables.py``, by ``xml:id``: the SOP class
  tables, the key and identifier tables of each information model, the status tables, the
  attribute requirement tables of the DIMSE-N operations and the "DIMSE Service Group"
  tables.  A declared table that is missing,
  or whose header changed, is a :class:`StandardSourceError` naming the file and table; so is
  a row that cannot be read (naming the row and its source line).  Nothing is skipped
  silently.
* The service class of a table is the annex it sits in, named as the annex title writes it
  ("Query/Retrieve Service Class").  Annexes N, O and AA only extend Storage and annexes Y and
  Z define services "within the Query/Retrieve Service class" (their §.1 says so): their
  records belong to B and C.
* SOP classes that PS3.4 defines in a sentence rather than a table (Verification, MPPS,
  Storage Commitment, Print, ...) are read from declared sections by a few sentence patterns;
  a declared section without such a sentence is an error.
* Continuation rows: the status and action tables sometimes leave the "Service Status" or
  "Action Type" cell empty instead of spanning it; an empty cell there repeats the row above.
  Heading rows that span the whole width ("Scheduled Procedure Step") name the module the
  following keys belong to.  ``>`` prefixes give the nesting of sequence items.
* Values are checked against their vocabularies (key types, requirement types, status codes);
  texts are kept as the standard writes them, cross references in remarks spelled out
  ("See C.2.2.2.6").  Known errors of the text (``part04_tables.ERRATA``) are corrected and
  reported as ``ERRATUM`` conflicts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import attrs
from lxml import etree

from dicompile.generator.model import (
    Conflict,
    ConflictKind,
    Provenance,
    SourceDigest,
    TagPattern,
)
from dicompile.generator.service_model import (
    DimseAttributeRequirement,
    DimseAttributeTable,
    DimseOperation,
    DimseServiceUsage,
    IdentifierAttributeDef,
    InformationModelDef,
    MatchingKeyType,
    QueryKeyDef,
    QueryLevelDef,
    ReturnKeyType,
    ServiceClassDef,
    ServiceModel,
    SOPClassDef,
    StatusCategory,
    StatusCode,
    StatusDef,
    WellKnownInstanceDef,
)
from dicompile.generator.sources.docbook.common import (
    XML_ID,
    DocBookPart,
    Row,
    body_rows,
    header_texts,
    load_part,
    normalise_text,
    q,
    text_of,
)
from dicompile.generator.sources.docbook.part04_tables import (
    ATTRIBUTE_LIST_TABLES,
    ERRATA,
    INFORMATION_MODELS,
    PART_OF,
    SERVICE_CLASS_UID_SECTIONS,
    SERVICE_GROUP_TABLES,
    SOP_CLASS_SECTIONS,
    SOP_CLASS_TABLES,
    STATUS_TABLES,
    TYPED_TABLES,
    WELL_KNOWN_SECTIONS,
    AttributeListSpec,
    ModelSpec,
    ServiceGroupSpec,
    StatusTableSpec,
    TypedTableSpec,
)
from dicompile.runtime.errors import StandardSourceError

OP = DimseOperation

# ----------------------------------------------------------------------------- vocabularies

_UID = r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+"
UID_TEXT = re.compile(_UID)
_NAME = r"[A-Z][^\".]*?"
_SOP_SENTENCES = (
    # "The Modality Performed Procedure Step SOP Class shall be uniquely identified by the
    #  Modality Performed Procedure Step SOP Class UID that shall have the value "..."" (F.7.3)
    re.compile(
        rf"(?P<name>{_NAME} SOP Class) shall be uniquely identified by the [^\"]*? UID,?"
        rf" (?:which|that) shall have (?:the|a) value \"(?P<uid>{_UID})\""
    ),
    # "The Basic Film Session SOP Class UID shall have the value "..."" (H.4.1.3)
    re.compile(
        rf"(?P<name>{_NAME} SOP Class) UID (?:shall have the value|has the value|is)"
        rf" \"(?P<uid>{_UID})\""
    ),
    # "The Verification SOP Class consists of ... The SOP Class UID shall be "..."" (A.4)
    re.compile(
        rf"(?P<name>{_NAME} SOP Class) consists of [^\"]*?\. The SOP Class UID shall be"
        rf" \"(?P<uid>{_UID})\""
    ),
    # "1.2.840.10008.5.1.4.34.6.1 (UPS Push SOP Class)" (CC.3.1, a list)
    re.compile(rf"^(?P<uid>{_UID}) \((?P<name>[^()]+ SOP Class)\)$"),
)
_WELL_KNOWN_SENTENCES = (
    # "The well-known UID of the Printer SOP Instance shall have the value "..."" (H.4.6.5)
    re.compile(
        rf"well-known UID of the (?P<name>{_NAME} SOP Instance) (?:shall have the value|is)"
        rf" \"(?P<uid>{_UID})\""
    ),
    # "The well-known UID for subscribing/unsubscribing ... shall have the value "..."" (CC.3.1.2)
    re.compile(rf"well-known UID for [^\"]*? shall have the value \"(?P<uid>{_UID})\""),
)
_SERVICE_UID_SENTENCE = re.compile(
    rf"The (?P<name>{_NAME} Service Class) UID shall be \"(?P<uid>{_UID})\""
)
_ANNEX_LABEL = re.compile(r"[A-Z]{1,2}")
_ANNEX_SUFFIX = re.compile(r"\s*\((?:Normative|Informative)\)\s*$")
_RETIRED_ANNEX = re.compile(r"Retired\. See PS ?3\.4-?\s?\d{4}\.?")
_OPERATION_SUFFIX = re.compile(r"^(?P<model>.+?) - (?P<op>FIND|MOVE|GET)$")
_LEVEL_VALUE = re.compile(r"[A-Z]+")
_DEPTH = re.compile(r"^((?:>\s*)*)(.*)$")
_TAG_CELL = re.compile(r"\(\s*[0-9A-Fa-fxX]{4}\s*,\s*[0-9A-Fa-fxX]{4}\s*\)")
_ALL_ROW = re.compile(r"^All\b", re.IGNORECASE)
_REQUIREMENT = re.compile(
    r"^(?P<scu>[123]C?|[MU]C?|-)\s*/\s*(?P<scp>[123]C?|[MU]C?|-)(?:\s*(?P<comment>.*))?$"
)
_NOT_ALLOWED = re.compile(r"^Not allowed\b\.?\s*(?P<comment>.*)$", re.IGNORECASE)
_CODE_RANGE = re.compile(r"(?P<low>[0-9A-F]{4}) (?:through|to) (?P<high>[0-9A-F]{4})")
_RELATED_WORDS = ("Identifier",)

_OPERATIONS = {"FIND": OP.C_FIND, "MOVE": OP.C_MOVE, "GET": OP.C_GET}
_CATEGORIES = {c.value.casefold(): c for c in StatusCategory}
_MATCHING = {m.value: m for m in MatchingKeyType}
_RETURN = {r.value: r for r in ReturnKeyType}

# ----------------------------------------------------------------------------- entry point


def read_part04(path: Path) -> ServiceModel:
    """Read the service classes, SOP classes, query keys, statuses and DIMSE-N attribute
    requirements of a PS3.4 DocBook file.

    Parameters
    ----------
    path
        ``part04.xml`` of one edition.

    Returns
    -------
    ServiceModel
        Records in document order (service classes by annex, SOP classes table by table),
        every one with its provenance; ``conflicts`` lists UIDs that one service class's
        sources define twice.

    Raises
    ------
    StandardSourceError
        When the file is not PS3.4, a declared table or section is missing or changed, or a
        row cannot be read (naming file, table id and row).

    References
    ----------
    PS3.4 Annexes A-DD: SOP class tables and definitions, C.6 and K.6 (keys), the status
    tables of each operation, F.7.2-1, J.3-1, J.3-2 (DIMSE-N attributes).
    """
    part = load_part(path)
    if part.part != "PS3.4":
        raise StandardSourceError(
            f"expected PS3.4, found {part.part}", source_file=part.source_file
        )
    services = read_service_classes(part)
    names = {service.annex: service.name for service in services}
    conflicts: list[Conflict] = []
    sop_classes = _dedupe(
        [*read_sop_class_tables(part, names), *read_sop_class_sentences(part, names)],
        conflicts,
    )
    model = ServiceModel(
        service_classes=services,
        sop_classes=tuple(sop_classes),
        well_known_instances=read_well_known_instances(part, names),
        information_models=read_information_models(part, names, conflicts),
        statuses=read_statuses(part, names),
        attribute_tables=read_attribute_tables(part, names, conflicts),
        service_usages=read_service_groups(part, names),
        conflicts=tuple(conflicts),
    )
    digest = SourceDigest(
        part=part.part,
        edition=part.edition,
        source_file=part.source_file,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        table_ids=_cited_ids(model),
    )
    return attrs.evolve(model, sources=(digest,))


def _cited_ids(model: ServiceModel) -> tuple[str, ...]:
    """Every table and section id the model's records cite, in document-label order."""
    cited: set[str] = {s.provenance.table_id for s in model.service_classes}
    cited |= {s.provenance.table_id for s in model.sop_classes}
    cited |= {w.provenance.table_id for w in model.well_known_instances}
    for im in model.information_models:
        cited.add(im.provenance.table_id)
        cited |= {level.provenance.table_id for level in im.levels}
        cited |= {a.provenance.table_id for a in im.identifier_attributes}
    cited |= {s.provenance.table_id for s in model.statuses}
    cited |= {t.provenance.table_id for t in model.attribute_tables}
    cited |= {u.provenance.table_id for u in model.service_usages}
    # Ties on the label (sect_P.2.3 vs table_P.2-3) are broken by the id: deterministic order.
    return tuple(sorted(cited, key=lambda i: (_id_sort_key(i), i)))


def _id_sort_key(xml_id: str) -> tuple[tuple[int, int | str], ...]:
    """``table_C.6-10`` after ``table_C.6-9``: numbers compare as numbers."""
    label = xml_id.partition("_")[2]
    return tuple(
        (0, int(piece)) if piece.isdigit() else (1, piece)
        for piece in re.findall(r"\d+|[^\d.\-]+", label)
    )


# ----------------------------------------------------------------------------- helpers


def _provenance(part: DocBookPart, table_id: str, row: int | None = None) -> Provenance:
    return Provenance(
        part=part.part,
        edition=part.edition,
        table_id=table_id,
        source_file=part.source_file,
        row=row,
    )


def _error(part: DocBookPart, table_id: str, row: Row | None, message: str) -> StandardSourceError:
    where: int | str | None = None
    if row is not None:
        where = f"{row.index} (line {row.line})" if row.line is not None else row.index
    return StandardSourceError(message, source_file=part.source_file, table_id=table_id, row=where)


def _header_key(text: str) -> str:
    """Headers compared without case and with spaces around '/' ignored."""
    return re.sub(r"\s*/\s*", "/", text).casefold()


def _columns(
    part: DocBookPart,
    table_id: str,
    wanted: dict[str, tuple[str, ...]],
    optional: Sequence[str] = (),
) -> dict[str, int]:
    """Map each wanted role to the index of the column whose header is one of its names.

    A role not in ``optional`` must be found, or the table's columns changed.
    """
    headers = [_header_key(h) for h in header_texts(part.table(table_id))]
    found: dict[str, int] = {}
    for role, names in wanted.items():
        keys = {_header_key(n) for n in names}
        index = next((i for i, h in enumerate(headers) if h in keys), None)
        if index is not None:
            found[role] = index
        elif role not in optional:
            raise StandardSourceError(
                f"columns changed: no column {' or '.join(repr(n) for n in names)}"
                f" in {header_texts(part.table(table_id))}",
                source_file=part.source_file,
                table_id=table_id,
            )
    return found


def _is_heading(row: Row) -> bool:
    """A row that spans the table's width (or has a single cell): a module heading."""
    first = row.cells[0].element
    return len(row.cells) == 1 or all(cell.element is first for cell in row.cells)


def _chapter_of(element: etree._Element) -> str:
    """The annex label of the chapter that contains ``element`` (``"C"``)."""
    node: etree._Element | None = element
    while node is not None and node.tag != q("chapter"):
        node = node.getparent()
    return node.get("label", "") if node is not None else ""


def _service_of(part: DocBookPart, names: dict[str, str], element_id: str) -> str:
    annex = _chapter_of(part.element(element_id))
    annex = PART_OF.get(annex, annex)
    if annex not in names:
        raise StandardSourceError(
            f"annex {annex!r} defines no service class",
            source_file=part.source_file,
            table_id=element_id,
        )
    return names[annex]


def _split_depth(text: str) -> tuple[int, str]:
    """``">>Code Value"`` → ``(2, "Code Value")`` (NEMA sometimes puts spaces after '>')."""
    match = _DEPTH.match(text)
    assert match is not None  # the pattern matches every string
    return match.group(1).count(">"), match.group(2).strip()


def _rich_text(element: etree._Element) -> str:
    """The text of a cell with its cross references spelled out.

    :func:`text_of` drops ``<xref>`` and ``<olink>``, which are empty elements; in remarks
    ("See .") the reference is the content, so it is rendered here as the standard prints it:
    ``sect_P.2.2.1.3`` as ``P.2.2.1.3``, ``table_K.6-1`` as ``Table K.6-1``, an olink into
    PS3.3 as ``PS3.3 C.7.1``.
    """
    pieces: list[str] = []

    def render(node: etree._Element) -> None:
        if node.tag == q("xref"):
            target = node.get("linkend", "")
            kind, _, label = target.partition("_")
            pieces.append({"sect": label, "table": f"Table {label}"}.get(kind, target))
        elif node.tag == q("olink"):
            document = node.get("targetdoc", "")
            target = node.get("targetptr", "")
            label = target.partition("_")[2] if target != document else ""
            pieces.append(f"{document} {label}".strip())
        elif node.text:
            pieces.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                render(child)
            if child.tail:
                pieces.append(child.tail)

    render(element)
    return normalise_text("".join(pieces))


def _tag_text(row: Row, columns: dict[str, int]) -> str:
    """The Tag cell, or ``""`` where the name cell spans it ("All other Attributes ...")."""
    cell = row.cells[columns["tag"]]
    return "" if cell.element is row.cells[columns["name"]].element else cell.text


def _tag(
    part: DocBookPart,
    table_id: str,
    row: Row,
    text: str,
    name: str,
    conflicts: list[Conflict] | None = None,
) -> TagPattern | None:
    """The tag of a row, or ``None`` for an "All other Attributes ..." row (checked).

    A row listed in :data:`ERRATA` gets its corrected tag, reported to ``conflicts``.
    """
    for erratum in ERRATA:
        if (erratum.edition, erratum.table_id, erratum.name, erratum.wrong) == (
            part.edition,
            table_id,
            name,
            text,
        ):
            where = _provenance(part, table_id, row.index)
            if conflicts is not None:
                conflicts.append(
                    Conflict(
                        ConflictKind.ERRATUM,
                        f"{table_id} {name}",
                        "tag",
                        erratum.right,
                        erratum.wrong,
                        where,
                        where,
                    )
                )
            text = erratum.right
    if text in ("", "-"):
        if not _ALL_ROW.match(name):
            raise _error(part, table_id, row, f"no tag for {name!r}")
        return None
    if _TAG_CELL.fullmatch(text) is None:
        raise _error(part, table_id, row, f"not a tag: {text!r}")
    return TagPattern.parse(text)


N = TypeVar("N")


def _nest(
    part: DocBookPart,
    table_id: str,
    items: Sequence[tuple[int, Row, N]],
    with_children: Callable[[N, tuple[N, ...]], N],
) -> tuple[N, ...]:
    """Turn rows with ``>`` depths into a tree: each item's children are the deeper rows after it.

    A row more than one level deeper than the row above is an error (its parent is missing).
    """
    position = 0

    def level(depth: int) -> tuple[N, ...]:
        nonlocal position
        out: list[N] = []
        while position < len(items):
            item_depth, row, item = items[position]
            if item_depth < depth:
                break
            if item_depth > depth:
                raise _error(
                    part,
                    table_id,
                    row,
                    f"nesting jumps to depth {item_depth} under depth {depth - 1}",
                )
            position += 1
            children = level(depth + 1)
            out.append(with_children(item, children) if children else item)
        return tuple(out)

    return level(0)


def _own_paragraphs(section: etree._Element) -> list[str]:
    """The texts of the paragraphs of ``section`` itself, not of its subsections."""
    texts = []
    for para in section.iter(q("para")):
        node = para.getparent()
        while node is not None and node.tag != q("section"):
            node = node.getparent()
        if node is section:
            texts.append(text_of(para))
    return texts


def _dedupe(classes: Iterable[SOPClassDef], conflicts: list[Conflict]) -> list[SOPClassDef]:
    """One record per (service class, UID); a second definition is a DUPLICATE conflict."""
    seen: dict[tuple[str, str], SOPClassDef] = {}
    for sop in classes:
        key = (sop.service_class, sop.uid)
        first = seen.get(key)
        if first is None:
            seen[key] = sop
        elif first.name != sop.name or first.retired != sop.retired:
            conflicts.append(
                Conflict(
                    ConflictKind.DUPLICATE,
                    sop.uid,
                    "name",
                    first.name,
                    sop.name,
                    first.provenance,
                    sop.provenance,
                )
            )
    return list(seen.values())


# ----------------------------------------------------------------------------- service classes


def read_service_classes(part: DocBookPart) -> tuple[ServiceClassDef, ...]:
    """One record per normative annex that defines a service class (retired ones included).

    References
    ----------
    PS3.4 Annexes A-DD (titles); B.3.1.3 (Storage Service Class UID).
    """
    uids: dict[str, tuple[str, str]] = {}
    for section_id in SERVICE_CLASS_UID_SECTIONS:
        section = part.element(section_id)
        matches = [m for t in _own_paragraphs(section) if (m := _SERVICE_UID_SENTENCE.search(t))]
        if not matches:
            raise _error(part, section_id, None, "no sentence giving a Service Class UID")
        uids[_chapter_of(section)] = (matches[0]["name"], matches[0]["uid"])
    services: list[ServiceClassDef] = []
    for chapter in part.root.iter(q("chapter")):
        label = chapter.get("label", "")
        title_element = chapter.find(q("title"))
        title = text_of(title_element) if title_element is not None else ""
        if not _ANNEX_LABEL.fullmatch(label) or label in PART_OF or "(Informative)" in title:
            continue
        name = _ANNEX_SUFFIX.sub("", title)
        body = _chapter_body(chapter, title)
        uid = ""
        if label in uids:
            stated, uid = uids[label]
            if stated != name:
                raise _error(
                    part, f"chapter_{label}", None, f"UID given for {stated!r}, annex is {name!r}"
                )
        services.append(
            ServiceClassDef(
                name=name,
                annex=label,
                retired=_RETIRED_ANNEX.fullmatch(body) is not None,
                provenance=_provenance(part, chapter.get(XML_ID, f"chapter_{label}")),
                uid=uid,
            )
        )
    return tuple(services)


def _chapter_body(chapter: etree._Element, title: str) -> str:
    """The text of a chapter after its title (to recognise "Retired. See PS 3.4-2004.")."""
    return text_of(chapter).removeprefix(title).strip()


# ----------------------------------------------------------------------------- SOP classes


def read_sop_class_tables(part: DocBookPart, names: dict[str, str]) -> list[SOPClassDef]:
    """The rows of the SOP class tables (name, UID and, for Storage, the IOD's section).

    References
    ----------
    PS3.4 Tables B.5-1, B.6-1, C.6.1.3-1, C.6.2.3-1, I.4-1, I.5-1, K.6.1.4-1, Q.4-3,
    U.6.1.4-1, V.6.1.4-1, V.6.2.4-1, X.6.1.4-1, Y.6.1.3-1, Z.6.1.3-1, BB.6.1.4-1.
    """
    out: list[SOPClassDef] = []
    for spec in SOP_CLASS_TABLES:
        table_id = spec.table_id
        columns = _columns(
            part,
            table_id,
            {
                "name": ("SOP Class Name", "UID Name"),
                "uid": ("SOP Class UID", "UID Value"),
                "iod": ("IOD Specification (defined in )",),
            },
            optional=("iod",),
        )
        service = _service_of(part, names, table_id)
        for row in body_rows(part.table(table_id)):
            texts = row.texts()
            if len(texts) <= max(columns.values()):
                raise _error(part, table_id, row, f"expected {len(columns)} cells: {texts}")
            name, uid = texts[columns["name"]], texts[columns["uid"]]
            if UID_TEXT.fullmatch(uid) is None:
                raise _error(part, table_id, row, f"not a UID: {uid!r}")
            if not name:
                raise _error(part, table_id, row, f"no name for {uid}")
            iod_section = ""
            if "iod" in columns:
                iod_section = _iod_section(row.cells[columns["iod"]].element)
            out.append(
                SOPClassDef(
                    uid=uid,
                    name=name,
                    service_class=service,
                    provenance=_provenance(part, table_id, row.index),
                    retired=spec.retired,
                    iod_section=iod_section,
                )
            )
    return out


def _iod_section(cell: etree._Element) -> str:
    """The PS3.3 section an IOD cell links to (``<olink targetptr="sect_A.2">`` → ``"A.2"``)."""
    for link in cell.iter(q("olink")):
        if link.get("targetdoc") == "PS3.3":
            return link.get("targetptr", "").removeprefix("sect_")
    return ""


def read_sop_class_sentences(part: DocBookPart, names: dict[str, str]) -> list[SOPClassDef]:
    """SOP classes that PS3.4 defines in a sentence of a section (see SOP_CLASS_SECTIONS).

    References
    ----------
    PS3.4 A.4, F.7.3, F.8.3, F.9.3, H.3.2.2, H.4.x.3, J.3.4, P.2.3, P.3.3, R.3.3, S.3.3, T.4.3,
    W.4.3, CC.3.1.
    """
    out: list[SOPClassDef] = []
    for section_id in SOP_CLASS_SECTIONS:
        service = _service_of(part, names, section_id)
        found = 0
        for text in _own_paragraphs(part.element(section_id)):
            for pattern in _SOP_SENTENCES:
                match = pattern.search(text)
                if match is None:
                    continue
                found += 1
                out.append(
                    SOPClassDef(
                        uid=match["uid"],
                        name=match["name"].removeprefix("The ").strip(),
                        service_class=service,
                        provenance=_provenance(part, section_id),
                    )
                )
                break
        if not found:
            raise _error(part, section_id, None, "no sentence defining a SOP Class UID")
    return out


def read_well_known_instances(
    part: DocBookPart, names: dict[str, str]
) -> tuple[WellKnownInstanceDef, ...]:
    """Well-known SOP Instance UIDs (Printer, Storage Commitment Push Model, ...).

    A sentence that does not name the instance ("the well-known UID for subscribing ...") is
    named by its section's title without a trailing " UID".

    References
    ----------
    PS3.4 H.4.6.5, H.4.11.4, J.3.5, P.2.4, P.3.4, CC.3.1.2.
    """
    out: list[WellKnownInstanceDef] = []
    for section_id in WELL_KNOWN_SECTIONS:
        section = part.element(section_id)
        title_element = section.find(q("title"))
        title = text_of(title_element) if title_element is not None else ""
        match = next(
            (
                m
                for text in _own_paragraphs(section)
                for pattern in _WELL_KNOWN_SENTENCES
                if (m := pattern.search(text))
            ),
            None,
        )
        if match is None:
            raise _error(part, section_id, None, "no sentence giving a well-known UID")
        name = match.groupdict().get("name") or title.removesuffix(" UID")
        out.append(
            WellKnownInstanceDef(
                uid=match["uid"],
                name=name,
                service_class=_service_of(part, names, section_id),
                provenance=_provenance(part, section_id),
            )
        )
    return tuple(out)


# ----------------------------------------------------------------------------- information models


def read_information_models(
    part: DocBookPart, names: dict[str, str], conflicts: list[Conflict] | None = None
) -> tuple[InformationModelDef, ...]:
    """Each declared information model with its levels, keys and SOP classes.

    References
    ----------
    PS3.4 C.6.1 and C.6.2 (Tables C.6.1-1, C.6-1 to C.6-5), K.6.1 (Table K.6-1), Q.4, U.6,
    V.6, X.6, Y.6, Z.6, BB.6.
    """
    return tuple(_read_model(part, names, spec, conflicts) for spec in INFORMATION_MODELS)


def _read_model(
    part: DocBookPart,
    names: dict[str, str],
    spec: ModelSpec,
    conflicts: list[Conflict] | None,
) -> InformationModelDef:
    sop_classes = _model_sop_classes(part, spec)
    if spec.level_table is not None:
        levels = read_level_table(part, spec.level_table)
        if len(levels) != len(spec.level_sources):
            raise _error(
                part,
                spec.level_table,
                None,
                f"{len(levels)} levels, but {len(spec.level_sources)} key tables are declared",
            )
    else:
        levels = [(spec.name, "")] * len(spec.level_sources)
    model_levels = []
    for (level_name, value), source in zip(levels, spec.level_sources, strict=True):
        table_id = _key_table_of(part, source)
        model_levels.append(
            QueryLevelDef(
                name=level_name,
                value=value,
                keys=read_key_table(part, table_id, conflicts),
                provenance=_provenance(part, table_id),
            )
        )
    identifier: tuple[IdentifierAttributeDef, ...] = ()
    if spec.identifier_table is not None:
        identifier = read_identifier_table(part, spec.identifier_table)
    return InformationModelDef(
        name=spec.name,
        service_class=_service_of(part, names, spec.sop_table),
        levels=tuple(model_levels),
        sop_classes=sop_classes,
        provenance=_provenance(part, spec.sop_table),
        identifier_attributes=identifier,
    )


def _model_sop_classes(
    part: DocBookPart, spec: ModelSpec
) -> tuple[tuple[DimseOperation, str], ...]:
    columns = _columns(
        part,
        spec.sop_table,
        {"name": ("SOP Class Name", "UID Name"), "uid": ("SOP Class UID", "UID Value")},
    )
    out: list[tuple[DimseOperation, str]] = []
    for row in body_rows(part.table(spec.sop_table)):
        name, uid = row.texts()[columns["name"]], row.texts()[columns["uid"]]
        if spec.operation is not None:
            out.append((spec.operation, uid))
            continue
        match = _OPERATION_SUFFIX.match(name)
        if match is None:
            raise _error(part, spec.sop_table, row, f"{name!r} does not end in - FIND/MOVE/GET")
        if match["model"] == spec.name:
            out.append((_OPERATIONS[match["op"]], uid))
    if not out:
        raise _error(part, spec.sop_table, None, f"no SOP class of {spec.name!r}")
    return tuple(out)


def read_level_table(part: DocBookPart, table_id: str) -> list[tuple[str, str]]:
    """The (name, (0008,0052) value) of each level of a model, in order (Table C.6.1-1)."""
    columns = _columns(
        part,
        table_id,
        {
            "name": ("Query/Retrieve Level", "Retrieve Level"),
            "value": ("Value in (0008,0052)",),
        },
    )
    levels = []
    for row in body_rows(part.table(table_id)):
        name, value = row.texts()[columns["name"]], row.texts()[columns["value"]]
        if _LEVEL_VALUE.fullmatch(value) is None:
            raise _error(part, table_id, row, f"not a Query/Retrieve Level value: {value!r}")
        levels.append((name, value))
    return levels


def _key_table_of(part: DocBookPart, source: str) -> str:
    """The key table a level source designates (a table id, or a section: see ModelSpec)."""
    if source.startswith("table_"):
        return source
    section = part.element(source)
    tables = [t.get(XML_ID, "") for t in section.iter(q("table"))]
    if len(tables) == 1:
        return tables[0]
    if tables:
        raise _error(part, source, None, f"several key tables in the section: {tables}")
    # "Attributes for the Series Level ... are the same as ... described in <xref/>."
    for para in section.iter(q("para")):
        for xref in para.iter(q("xref")):
            target = xref.get("linkend", "")
            if target.startswith("sect_") and "same as" in text_of(para):
                return _key_table_of(part, target)
    raise _error(part, source, None, "no key table and no 'same as' reference in the section")


# Key table layouts: Q/R (Description | Tag | Type), Y.6-1 (... | Matching Key Type),
# Y.6-2 (... | Condition), and the worklist style (Description / Module | Tag | Matching Key
# Type | Return Key Type | Remark / Matching Type).
_KEY_COLUMNS = {
    "name": ("Description", "Description / Module"),
    "tag": ("Tag",),
    "type": ("Type",),
    "matching": ("Matching Key Type",),
    "return": ("Return Key Type",),
    "remark": ("Remark / Matching Type", "Condition"),
}


def read_key_table(
    part: DocBookPart, table_id: str, conflicts: list[Conflict] | None = None
) -> tuple[QueryKeyDef, ...]:
    """The keys of one key table, nested by the ``>`` of sequence items.

    References
    ----------
    PS3.4 C.1.2 (Table C.1.2-1, key types U/R/O), C.6 (Tables C.6-1 to C.6-5), K.2.2.1 and
    Table K.6-1 (matching and return key types).
    """
    columns = _columns(
        part, table_id, _KEY_COLUMNS, optional=("type", "matching", "return", "remark")
    )
    if "type" in columns and "matching" in columns:
        raise _error(part, table_id, None, "both a Q/R 'Type' and a 'Matching Key Type' column")
    if "type" not in columns and "matching" not in columns and "remark" not in columns:
        raise _error(
            part,
            table_id,
            None,
            f"columns changed: no key type column in {header_texts(part.table(table_id))}",
        )
    width = len(header_texts(part.table(table_id)))
    items: list[tuple[int, Row, QueryKeyDef]] = []
    module = ""
    for row in body_rows(part.table(table_id)):
        if _is_heading(row):
            module = row.cells[0].text
            continue
        texts = row.texts()
        if len(texts) != width:
            raise _error(part, table_id, row, f"expected {width} cells, found {texts}")
        depth, name = _split_depth(texts[columns["name"]])
        tag = _tag(part, table_id, row, _tag_text(row, columns), name, conflicts)
        # Table Y.6-2 has a "Condition" column and no key type: its keys are UNSPECIFIED.
        kind_column = columns.get("type", columns.get("matching"))
        kind = texts[kind_column] if kind_column is not None else ""
        matching = _MATCHING.get(kind)
        if matching is None or ("type" in columns and matching not in _QR_TYPES):
            raise _error(part, table_id, row, f"not a key type: {kind!r}")
        returned: ReturnKeyType | None = None
        if "return" in columns:
            returned = _RETURN.get(texts[columns["return"]])
            if returned is None:
                raise _error(
                    part, table_id, row, f"not a return key type: {texts[columns['return']]!r}"
                )
        items.append(
            (
                depth,
                row,
                QueryKeyDef(
                    tag=tag,
                    name=name,
                    matching_key_type=matching,
                    return_key_type=returned,
                    provenance=_provenance(part, table_id, row.index),
                    remark=_rich_text(row.cells[columns["remark"]].element)
                    if "remark" in columns
                    else "",
                    module=module,
                ),
            )
        )
    return _nest(part, table_id, items, lambda key, kids: attrs.evolve(key, children=kids))


_QR_TYPES = (MatchingKeyType.UNIQUE, MatchingKeyType.REQUIRED, MatchingKeyType.OPTIONAL)

_IDENTIFIER_COLUMNS = {
    "name": ("Description", "Attribute"),
    "tag": ("Tag",),
    "request": ("Request Identifier", "Type in Request Identifier"),
    "response": ("Response Identifier", "Type in Response Identifier"),
    "remark": ("Remark Type", "Remark"),
}


def read_identifier_table(part: DocBookPart, table_id: str) -> tuple[IdentifierAttributeDef, ...]:
    """Further attributes of a C-FIND identifier, with their request and response types.

    References
    ----------
    PS3.4 K.6.1.2.2 (Table K.6-1a), Q.4.3.1.2 (Table Q.4-2).
    """
    columns = _columns(part, table_id, _IDENTIFIER_COLUMNS)
    items: list[tuple[int, Row, IdentifierAttributeDef]] = []
    for row in body_rows(part.table(table_id)):
        texts = row.texts()
        if len(texts) <= max(columns.values()):
            raise _error(part, table_id, row, f"expected {len(columns)} cells: {texts}")
        depth, name = _split_depth(texts[columns["name"]])
        tag = _tag(part, table_id, row, _tag_text(row, columns), name)
        if tag is None:
            raise _error(part, table_id, row, f"no tag for {name!r}")
        request = _RETURN.get(texts[columns["request"]])
        response = _RETURN.get(texts[columns["response"]])
        if request is None or response is None:
            raise _error(
                part,
                table_id,
                row,
                f"not request/response types: {texts[columns['request']]!r},"
                f" {texts[columns['response']]!r}",
            )
        items.append(
            (
                depth,
                row,
                IdentifierAttributeDef(
                    tag=tag,
                    name=name,
                    request_type=request,
                    response_type=response,
                    provenance=_provenance(part, table_id, row.index),
                    remark=_rich_text(row.cells[columns["remark"]].element),
                ),
            )
        )
    return _nest(part, table_id, items, lambda a, kids: attrs.evolve(a, children=kids))


# ----------------------------------------------------------------------------- statuses

_STATUS_COLUMNS = {
    "category": ("Service Status", "Status"),
    "meaning": ("Further Meaning", "Meaning"),
    "code": (
        "Status Codes",
        "Status Code",
        "Response Status Code",
        "Response Status Codes",
        "Code",
    ),
    "related": ("Related Fields",),
    "error_comment": ("Error Comment (0000,0902)",),
    "error_id": ("Error ID (0000,0903)",),
}


def read_statuses(part: DocBookPart, names: dict[str, str]) -> tuple[StatusDef, ...]:
    """The service-specific statuses of every declared status table.

    References
    ----------
    PS3.4 B.2.3 (Table B.2-1), C.4.1.1.4, C.4.2.1.5, C.4.3.1.4 (Tables C.4-1 to C.4-3), K.4.1.1.4
    (Table K.4-1), F.7.2.2.4, and the other ``Status`` tables listed in STATUS_TABLES;
    PS3.7 Annex C (status classes).
    """
    return tuple(
        status
        for spec in STATUS_TABLES
        for status in read_status_table(part, spec, _service_of(part, names, spec.table_id))
    )


def read_status_table(part: DocBookPart, spec: StatusTableSpec, service: str) -> list[StatusDef]:
    """The rows of one status table (an empty status class repeats the row above)."""
    table_id = spec.table_id
    columns = _columns(
        part, table_id, _STATUS_COLUMNS, optional=("related", "error_comment", "error_id")
    )
    out: list[StatusDef] = []
    category: StatusCategory | None = None
    for row in body_rows(part.table(table_id)):
        texts = row.texts()
        if len(texts) <= max(columns.values()):
            raise _error(
                part, table_id, row, f"expected {max(columns.values()) + 1} cells: {texts}"
            )
        category_text = texts[columns["category"]]
        if category_text:
            category = _CATEGORIES.get(category_text.casefold())
            if category is None:
                raise _error(part, table_id, row, f"not a status class: {category_text!r}")
        elif category is None:
            raise _error(part, table_id, row, "no status class in the first row")
        code = _status_code(part, table_id, row, texts[columns["code"]])
        related: tuple[str, ...] = ()
        if "related" in columns:
            related = _related_fields(part, table_id, row, texts[columns["related"]])
        out.append(
            StatusDef(
                service_class=service,
                operation=spec.operation,
                scope=spec.scope,
                code=code,
                category=category,
                meaning=texts[columns["meaning"]],
                provenance=_provenance(part, table_id, row.index),
                related_fields=related,
                error_comment=texts[columns["error_comment"]] if "error_comment" in columns else "",
                error_id=texts[columns["error_id"]] if "error_id" in columns else "",
            )
        )
    return out


def _status_code(part: DocBookPart, table_id: str, row: Row, text: str) -> StatusCode:
    """``A700``, ``A7xx``, ``Cxxx``; or "(any value C000 through CFFF ...)" as ``Cxxx``."""
    try:
        return StatusCode.parse(text)
    except ValueError:
        pass
    match = _CODE_RANGE.search(text)
    if match is not None:
        low, high = match["low"], match["high"]
        # A range whose low end has trailing 0s where the high end has Fs is an x-pattern.
        stem = len(low.rstrip("0"))
        if low[:stem] == high[:stem] and set(high[stem:]) <= {"F"} and set(low[stem:]) <= {"0"}:
            return StatusCode(low[:stem] + "x" * (4 - stem))
    raise _error(part, table_id, row, f"not a status code: {text!r}")


def _related_fields(part: DocBookPart, table_id: str, row: Row, text: str) -> tuple[str, ...]:
    """``"(0000,0901) (0000,0902)"`` → both tags; ``"Identifier"``; ``"None"``/``""`` → ()."""
    if text in ("", "None"):
        return ()
    tags = [TagPattern.parse(t).display for t in _TAG_CELL.findall(text)]
    words = [w for w in _RELATED_WORDS if w in text]
    rest = _TAG_CELL.sub("", text)
    for word in words:
        rest = rest.replace(word, "")
    if rest.strip(" ,") or not (tags or words):
        raise _error(part, table_id, row, f"unreadable related fields: {text!r}")
    return (*tags, *words)


# ----------------------------------------------------------------------------- DIMSE-N attributes


def read_attribute_tables(
    part: DocBookPart, names: dict[str, str], conflicts: list[Conflict] | None = None
) -> tuple[DimseAttributeTable, ...]:
    """The attribute requirements of the declared DIMSE-N tables.

    References
    ----------
    PS3.4 F.7.2.1.1 (Table F.7.2-1, MPPS N-CREATE and N-SET), F.8.2-1, F.9.2-1, J.3.2.1.1
    (Table J.3-1, Storage Commitment N-ACTION), J.3.3.1.1 (Table J.3-2, N-EVENT-REPORT), the
    Print Management tables of H.4, R.3.2-1, S.3.2, P.2-2, P.3-2, CC.2.1-1 to CC.2.4-1.
    """
    out: list[DimseAttributeTable] = []
    for spec in ATTRIBUTE_LIST_TABLES:
        service = _service_of(part, names, spec.table_id)
        out.extend(read_attribute_list(part, spec, service, conflicts))
    for typed in TYPED_TABLES:
        service = _service_of(part, names, typed.table_id)
        out.extend(read_typed_table(part, typed, service, conflicts))
    return tuple(out)


def _requirement(
    part: DocBookPart, table_id: str, row: Row, text: str
) -> tuple[str, str, bool, str]:
    """``"1C/1C Required if ..."`` → ``("1C", "1C", False, "Required if ...")``;
    ``"Not allowed"`` → ``("", "", True, "")``."""
    match = _REQUIREMENT.match(text)
    if match is not None:
        return match["scu"], match["scp"], False, (match["comment"] or "").strip()
    refused = _NOT_ALLOWED.match(text)
    if refused is not None:
        return "", "", True, refused["comment"].strip()
    if text.startswith("See "):
        # "See P.2.2.1.3": the requirements are given elsewhere (Table P.2-2, last row).
        return "", "", False, text
    raise _error(part, table_id, row, f"not an SCU/SCP requirement: {text!r}")


_ATTRIBUTE_COLUMNS = {"name": ("Attribute Name", "Attribute"), "tag": ("Tag",)}


def read_attribute_list(
    part: DocBookPart,
    spec: AttributeListSpec,
    service: str,
    conflicts: list[Conflict] | None = None,
) -> list[DimseAttributeTable]:
    """One :class:`DimseAttributeTable` per requirement column of an attribute list table."""
    table_id = spec.table_id
    wanted = dict(_ATTRIBUTE_COLUMNS)
    for index, (header, _operation) in enumerate(spec.columns):
        wanted[f"op{index}"] = (header,)
    if spec.final_state is not None:
        wanted["final"] = (spec.final_state,)
    columns = _columns(part, table_id, wanted)
    width = len(header_texts(part.table(table_id)))
    per_column: list[list[tuple[int, Row, DimseAttributeRequirement]]] = [[] for _ in spec.columns]
    module = ""
    for row in body_rows(part.table(table_id)):
        if _is_heading(row):
            module = row.cells[0].text
            continue
        texts = row.texts()
        if len(texts) != width:
            raise _error(part, table_id, row, f"expected {width} cells, found {texts}")
        depth, name = _split_depth(texts[columns["name"]])
        tag = _tag(part, table_id, row, _tag_text(row, columns), name, conflicts)
        final = _rich_text(row.cells[columns["final"]].element) if "final" in columns else ""
        for index in range(len(spec.columns)):
            scu, scp, refused, comment = _requirement(
                part, table_id, row, _rich_text(row.cells[columns[f"op{index}"]].element)
            )
            per_column[index].append(
                (
                    depth,
                    row,
                    DimseAttributeRequirement(
                        tag=tag,
                        name=name,
                        scu=scu,
                        scp=scp,
                        provenance=_provenance(part, table_id, row.index),
                        not_allowed=refused,
                        comment=comment,
                        final_state=final,
                        module=module,
                    ),
                )
            )
    return [
        DimseAttributeTable(
            service_class=service,
            scope=spec.scope,
            operation=operation,
            attributes=_nest(part, table_id, items, _with_children),
            provenance=_provenance(part, table_id),
        )
        for (_header, operation), items in zip(spec.columns, per_column, strict=True)
    ]


def _with_children(
    item: DimseAttributeRequirement, children: tuple[DimseAttributeRequirement, ...]
) -> DimseAttributeRequirement:
    return attrs.evolve(item, children=children)


_TYPED_COLUMNS = {
    "type_name": ("Action Type Name", "Event Type Name"),
    "type_id": ("Action Type ID", "Event Type ID"),
    "name": ("Attribute",),
    "tag": ("Tag",),
    "requirement": (
        "Requirement Type SCU/SCP",
        "Req. Type SCU/SCP",
        "Usage SCU/SCP",
    ),
}


def read_typed_table(
    part: DocBookPart,
    spec: TypedTableSpec,
    service: str,
    conflicts: list[Conflict] | None = None,
) -> list[DimseAttributeTable]:
    """One :class:`DimseAttributeTable` per action or event type of an N-ACTION or
    N-EVENT-REPORT table (empty type cells continue the type above)."""
    table_id = spec.table_id
    columns = _columns(part, table_id, _TYPED_COLUMNS)
    groups: list[tuple[int, str, str, Row, list[tuple[int, Row, DimseAttributeRequirement]]]] = []
    for row in body_rows(part.table(table_id)):
        texts = row.texts()
        if len(texts) <= max(columns.values()):
            raise _error(
                part, table_id, row, f"expected {max(columns.values()) + 1} cells: {texts}"
            )
        type_name, type_id = texts[columns["type_name"]], texts[columns["type_id"]]
        if type_id:
            if not type_id.isdigit():
                raise _error(part, table_id, row, f"not a type ID: {type_id!r}")
            if (
                not groups
                or row.cells[columns["type_id"]].element
                is not groups[-1][3].cells[columns["type_id"]].element
            ):
                groups.append((int(type_id), type_name, "", row, []))
        elif not groups:
            raise _error(part, table_id, row, "no type ID in the first row")
        attribute = texts[columns["name"]]
        requirement = _rich_text(row.cells[columns["requirement"]].element)
        if not attribute and not texts[columns["tag"]]:
            # A type without attributes (Table F.9.2-1); the requirement cell is a remark.
            number, name, _comment, first, items = groups[-1]
            groups[-1] = (number, name, requirement, first, items)
            continue
        depth, name = _split_depth(attribute)
        tag = _tag(part, table_id, row, _tag_text(row, columns), name, conflicts)
        scu, scp, refused, comment = _requirement(part, table_id, row, requirement)
        groups[-1][4].append(
            (
                depth,
                row,
                DimseAttributeRequirement(
                    tag=tag,
                    name=name,
                    scu=scu,
                    scp=scp,
                    provenance=_provenance(part, table_id, row.index),
                    not_allowed=refused,
                    comment=comment,
                ),
            )
        )
    return [
        DimseAttributeTable(
            service_class=service,
            scope=spec.scope,
            operation=spec.operation,
            attributes=_nest(part, table_id, items, _with_children),
            provenance=_provenance(part, table_id, first.index),
            type_id=number,
            type_name=name,
            comment=comment,
        )
        for number, name, comment, first, items in groups
    ]


# ----------------------------------------------------------------------------- DIMSE service groups

_OPERATION_CELL = re.compile(r"^(?P<op>[CN]-[A-Z-]+?)(?:\s+-\s+(?P<qualifier>.+))?$")
_USAGE = re.compile(r"^(?P<scu>[MU])\s*/\s*(?P<scp>[MU])$")
_BY_VALUE = {op.value: op for op in DimseOperation}


def read_service_groups(part: DocBookPart, names: dict[str, str]) -> tuple[DimseServiceUsage, ...]:
    """The DIMSE services of each SOP class with a "DIMSE Service Group" table.

    References
    ----------
    PS3.4 F.7.1, F.8.1, F.9.1, H.4.x.2, J.3.1, P.2.1, P.3.1, R.3.1, S.3.1, CC.2, DD.3.2.
    """
    return tuple(
        usage
        for spec in SERVICE_GROUP_TABLES
        for usage in read_service_group(part, spec, _service_of(part, names, spec.table_id))
    )


def read_service_group(
    part: DocBookPart, spec: ServiceGroupSpec, service: str
) -> list[DimseServiceUsage]:
    """The rows "N-CREATE | M/M" of one DIMSE service group table."""
    table_id = spec.table_id
    columns = _columns(
        part,
        table_id,
        {"operation": ("DIMSE Service Element",), "usage": ("Usage SCU/SCP", "SCU/SCP")},
    )
    out: list[DimseServiceUsage] = []
    for scope in spec.scopes:
        out.extend(_service_group_rows(part, table_id, columns, scope, service))
    return out


def _service_group_rows(
    part: DocBookPart, table_id: str, columns: dict[str, int], scope: str, service: str
) -> list[DimseServiceUsage]:
    out: list[DimseServiceUsage] = []
    for row in body_rows(part.table(table_id)):
        texts = row.texts()
        operation = _OPERATION_CELL.match(texts[columns["operation"]])
        usage = _USAGE.match(texts[columns["usage"]])
        if operation is None or operation["op"] not in _BY_VALUE:
            raise _error(
                part, table_id, row, f"not a DIMSE service: {texts[columns['operation']]!r}"
            )
        if usage is None:
            raise _error(part, table_id, row, f"not an SCU/SCP usage: {texts[columns['usage']]!r}")
        out.append(
            DimseServiceUsage(
                service_class=service,
                scope=scope,
                operation=_BY_VALUE[operation["op"]],
                scu=usage["scu"],
                scp=usage["scp"],
                provenance=_provenance(part, table_id, row.index),
                qualifier=operation["qualifier"] or "",
            )
        )
    return out
