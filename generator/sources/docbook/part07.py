"""Reader of PS3.7 (Message Exchange) in DocBook: the command dictionary, messages, statuses.

Theory of operation
-------------------
* Tables are found by ``xml:id`` and their header is checked before any row is read; a
  changed layout is a :class:`StandardSourceError` naming the file and table, never a
  silently shifted column.
* The command dictionary is Table E.1-1 (current) and E.2-1 (retired).  The values of Command
  Field (0000,0100) and Priority (0000,0700) are read from the paragraphs of their description
  cells ("0001H C-STORE-RQ", "LOW = 0002H"); the "no data set" value of Command Data Set Type
  (0000,0800) from its description ("0101H if no Data Set is present").
* A message is one table of §9.3 or §10.3.  Its name and command field are read from the
  description of its Command Field row ("shall be set to 0001H for the C-STORE-RQ Message")
  and checked against the caption and the dictionary.  Whether it carries a data set is read
  from the description of its Command Data Set Type row and checked against the service's
  parameter table (§9.1, §10.1), which also gives each field's usage (M, U, C, U(=), C(=)).
  Fields the parameter table does not list are "required by the DIMSE protocol" (§9.3.1.1).
* Field VR and VM must agree with the dictionary (PS3.7 §6.3.1: "The VR of Command Elements
  shall agree with those specified in the Command Dictionary").
* Annex C has no table ids: the status class convention is the first ``informaltable`` of
  ``chapter_C``; each status type is a section ``sect_C.n.m`` whose parent ``sect_C.n`` names
  the class ("Failure Status Class").  Provenance then cites the section id.

References
----------
PS3.7 §6.3.1, §9.1, §9.3, §10.1, §10.3, Annex C, Annex E.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from dicompile.generator.dimse_model import (
    CommandElementDef,
    DataSetPresence,
    DimseModel,
    EnumeratedValueDef,
    MessageDef,
    MessageFieldDef,
    StatusCategory,
    StatusClassDef,
    StatusTypeDef,
)
from dicompile.generator.model import Provenance, SourceDigest
from dicompile.generator.sources.docbook.common import (
    XML_ID,
    DocBookPart,
    Row,
    body_rows,
    check_columns,
    header_texts,
    load_part,
    q,
    text_of,
)
from dicompile.runtime.errors import StandardSourceError

COMMAND_TABLE = "table_E.1-1"  # Command Fields
RETIRED_COMMAND_TABLE = "table_E.2-1"  # Retired Command Fields
#: Parameter tables of the DIMSE-C (§9.1) and DIMSE-N (§10.1) services.
PARAMETER_TABLES: tuple[str, ...] = (
    *(f"table_9.1-{n}" for n in range(1, 6)),
    *(f"table_10.1-{n}" for n in range(1, 7)),
)
#: Message field tables of the DIMSE-C (§9.3) and DIMSE-N (§10.3) messages.
MESSAGE_TABLES: tuple[str, ...] = (
    *(f"table_9.3-{n}" for n in range(1, 14)),
    *(f"table_10.3-{n}" for n in range(1, 13)),
)
STATUS_CHAPTER = "chapter_C"
TABLES: tuple[str, ...] = (
    COMMAND_TABLE,
    RETIRED_COMMAND_TABLE,
    *PARAMETER_TABLES,
    *MESSAGE_TABLES,
    STATUS_CHAPTER,
)

_COMMAND_COLUMNS = ("Tag", "Message Field", "Keyword", "VR", "VM", "Description of Field")
_RETIRED_COLUMNS = ("Tag", "Message Field", "Keyword", "VR", "VM")
_MESSAGE_COLUMNS = ("Message Field", "Tag", "VR", "VM", "Description of Field")
_STATUS_COLUMNS = ("Status Field", "Tag", "VR", "VM", "Description of Field")
# The parameter tables name their first column "DIMSE-C Parameter Name" or "DIMSE Parameter
# Name"; the next columns are the primitives (request, response, cancel).
_PARAMETER_FIRST = re.compile(r"DIMSE(?:-[CN])? Parameter Name")
_REQUEST, _RESPONSE, _CANCEL = "Req/Ind", "Rsp/Conf", "CnclReq/CnclInd"
_USAGE = re.compile(r"-|[MUC](?:\(=\))?|=")

COMMAND_FIELD_TAG = 0x00000100
PRIORITY_TAG = 0x00000700
DATA_SET_TYPE_TAG = 0x00000800
STATUS_TAG = 0x00000900
#: Fields every message has that no service definition lists (§9.3.1.1: "required by the
#: DIMSE-C protocol"): Command Group Length, Command Field, Command Data Set Type.
_PROTOCOL_FIELDS = frozenset({0x00000000, COMMAND_FIELD_TAG, DATA_SET_TYPE_TAG})

_TAG = re.compile(r"\(0000,([0-9A-F]{4})\)")
_NO_TAG = "(no tag)"
_VR = re.compile(r"[A-Z]{2}")
_VM = re.compile(r"\d+(?:-(?:\d*n|\d+))?")
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_COMMAND_VALUE = re.compile(r"(?P<value>[0-9A-F]{4})H\s*(?P<name>[CN]-[A-Z-]+)")
_PRIORITY_VALUE = re.compile(r"(?P<name>[A-Z]+)\s*=\s*(?P<value>[0-9A-F]{4})H")
_NO_DATA_SET = re.compile(r"(?P<value>[0-9A-F]{4})H if no Data Set is present")
_MESSAGE_COMMAND = re.compile(
    r"shall be set to (?P<value>[0-9A-F]{4})H for the (?P<name>[CN]-[A-Z-]+) Message"
)
_CAPTION = re.compile(r"(?P<name>[CN]-[A-Z-]+) Message Fields")
_PARAMETER_CAPTION = re.compile(r"(?P<service>[CN]-[A-Z-]+) Parameters")
# §9.3 and §10.3 word the Command Data Set Type three ways (with typos such as "indicates
# that if"): "any value other than 0101H" (always a data set), "indicates [that] if a Data
# Set is present" (conditional), "no Data Set is/shall be present" (never).
_DATA_SET_REQUIRED = re.compile(r"\bany value other than (?P<value>[0-9A-F]{4})H")
_DATA_SET_OPTIONAL = re.compile(r"\bindicates (?:that )?if a Data Set is present")
_DATA_SET_ABSENT = re.compile(r"\bno Data Set (?:is|shall be) present")
_STATUS_CODE = re.compile(r"shall be set to (?P<value>[0-9A-F]{4})H")
_STATUS_SPECIFIC = re.compile(r"\bService Class specific\b")
_STATUS_PATTERN = re.compile(r"[0-9A-F][0-9A-Fx]{3}")
_CLASS_TITLE = re.compile(r"(?P<category>[A-Z][a-z]+) Status Class")
_ASSIGNED_BY_ANNEX = re.compile(r"Annex C assigned\b")


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a source file, for the header of the generated module."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_part07(
    path: Path,
    *,
    message_tables: Sequence[str] = MESSAGE_TABLES,
    parameter_tables: Sequence[str] = PARAMETER_TABLES,
) -> DimseModel:
    """Read the command dictionary, the messages and the status types of a PS3.7 DocBook file.

    Parameters
    ----------
    path
        ``part07.xml`` of one edition.
    message_tables, parameter_tables
        The ids of the message field and parameter tables to read (by default all those of
        §9.3, §10.3, §9.1 and §10.1); a test fixture may hold fewer.

    Returns
    -------
    DimseModel
        Command elements (current then retired, in table order), command field and priority
        values, every message of §9.3 and §10.3 (in table order) with field usage from §9.1
        and §10.1, and the status classes and status types of Annex C.

    Raises
    ------
    StandardSourceError
        When the file is not PS3.7, a table is missing, its columns changed, or a row breaks
        the notation the reader relies on; the error names the file, the table and the row.

    References
    ----------
    PS3.7 §9.1, §9.3, §10.1, §10.3, Annex C, Annex E (Tables E.1-1, E.2-1).
    """
    part = load_part(path)
    if part.part != "PS3.7":
        raise StandardSourceError(
            f"expected PS3.7, found {part.part}", source_file=part.source_file
        )
    elements = read_command_elements(part, COMMAND_TABLE, retired=False) + read_command_elements(
        part, RETIRED_COMMAND_TABLE, retired=True
    )
    by_tag = {element.tag: element for element in elements}
    command_fields = read_enumerated_values(part, COMMAND_FIELD_TAG, _COMMAND_VALUE)
    priorities = read_enumerated_values(part, PRIORITY_TAG, _PRIORITY_VALUE)
    no_data_set = read_no_data_set(part)
    parameters = {table_id: read_parameter_table(part, table_id) for table_id in parameter_tables}
    messages = tuple(
        read_message(part, table_id, by_tag, command_fields, parameters, no_data_set)
        for table_id in message_tables
    )
    status_classes = read_status_classes(part)
    status_types = read_status_types(part, status_classes, by_tag)
    digest = SourceDigest(
        part=part.part,
        edition=part.edition,
        source_file=part.source_file,
        sha256=sha256_of(path),
        table_ids=(
            COMMAND_TABLE,
            RETIRED_COMMAND_TABLE,
            *parameter_tables,
            *message_tables,
            STATUS_CHAPTER,
        ),
    )
    return DimseModel(
        source=digest,
        elements=tuple(elements),
        command_fields=tuple(command_fields),
        priorities=tuple(priorities),
        no_data_set=no_data_set,
        messages=messages,
        status_classes=status_classes,
        status_types=status_types,
    )


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _provenance(part: DocBookPart, table_id: str, row: Row | None = None) -> Provenance:
    return Provenance(
        part=part.part,
        edition=part.edition,
        table_id=table_id,
        source_file=part.source_file,
        row=row.index if row is not None else None,
    )


def _error(part: DocBookPart, table_id: str, row: Row | None, message: str) -> StandardSourceError:
    where: str | int | None = None
    if row is not None:
        where = f"{row.index} (line {row.line})" if row.line is not None else row.index
    return StandardSourceError(message, source_file=part.source_file, table_id=table_id, row=where)


def _cells(part: DocBookPart, table_id: str, row: Row, count: int) -> list[str]:
    texts = row.texts()
    if len(texts) < count:
        raise _error(part, table_id, row, f"expected {count} cells, found {len(texts)}: {texts}")
    return texts


def _tag(part: DocBookPart, table_id: str, row: Row, text: str) -> int:
    match = _TAG.fullmatch(text)
    if match is None:
        raise _error(part, table_id, row, f"{text!r} is not a command element tag (0000,xxxx)")
    return int(match[1], 16)


def _checked(
    part: DocBookPart, table_id: str, row: Row, pattern: re.Pattern[str], what: str, text: str
) -> str:
    if pattern.fullmatch(text) is None:
        raise _error(part, table_id, row, f"{what} {text!r} is not in the expected notation")
    return text


def _caption(part: DocBookPart, table_id: str) -> str:
    caption = part.table(table_id).find(q("caption"))
    return text_of(caption) if caption is not None else ""


def _paragraphs(cell: etree._Element) -> list[str]:
    return [text_of(para) for para in cell.iter(q("para"))]


# --------------------------------------------------------------------------------------
# Annex E: the command dictionary
# --------------------------------------------------------------------------------------


def read_command_elements(
    part: DocBookPart, table_id: str, *, retired: bool
) -> list[CommandElementDef]:
    """The rows of Table E.1-1 (``retired=False``) or E.2-1 (``retired=True``).

    References
    ----------
    PS3.7 Annex E, Tables E.1-1 and E.2-1.
    """
    columns = _RETIRED_COLUMNS if retired else _COMMAND_COLUMNS
    check_columns(part, table_id, columns, prefix=False)
    result: list[CommandElementDef] = []
    seen: set[int] = set()
    for row in body_rows(part.table(table_id)):
        tag_text, name, keyword, vr, vm = _cells(part, table_id, row, len(columns))[:5]
        tag = _tag(part, table_id, row, tag_text)
        if tag in seen:
            raise _error(part, table_id, row, f"tag {tag_text} is listed twice")
        seen.add(tag)
        result.append(
            CommandElementDef(
                tag=tag,
                name=name,
                keyword=_checked(part, table_id, row, _KEYWORD, "keyword", keyword),
                vr=_checked(part, table_id, row, _VR, "VR", vr),
                vm=_checked(part, table_id, row, _VM, "VM", vm),
                retired=retired,
                provenance=_provenance(part, table_id, row),
            )
        )
    return result


def _dictionary_row(part: DocBookPart, tag: int) -> tuple[Row, etree._Element]:
    """The row of Table E.1-1 for ``tag`` and its description cell."""
    for row in body_rows(part.table(COMMAND_TABLE)):
        if row.cells[0].text == f"(0000,{tag:04X})":
            return row, row.cells[5].element
    raise StandardSourceError(
        f"no row for (0000,{tag:04X})", source_file=part.source_file, table_id=COMMAND_TABLE
    )


def read_enumerated_values(
    part: DocBookPart, tag: int, pattern: re.Pattern[str]
) -> list[EnumeratedValueDef]:
    """The values a description cell of Table E.1-1 lists, one per paragraph.

    Used for Command Field (``0001H C-STORE-RQ``) and Priority (``LOW = 0002H``).

    References
    ----------
    PS3.7 Annex E, Table E.1-1, rows (0000,0100) and (0000,0700).
    """
    row, cell = _dictionary_row(part, tag)
    values: list[EnumeratedValueDef] = []
    for text in _paragraphs(cell):
        match = pattern.fullmatch(text)
        if match is None:
            continue  # the introductory sentence
        value = int(match["value"], 16)
        if any(v.value == value or v.name == match["name"] for v in values):
            raise _error(part, COMMAND_TABLE, row, f"value {text!r} is listed twice")
        values.append(
            EnumeratedValueDef(value, match["name"], _provenance(part, COMMAND_TABLE, row))
        )
    if not values:
        raise _error(
            part, COMMAND_TABLE, row, f"the description of (0000,{tag:04X}) lists no values"
        )
    return values


def read_no_data_set(part: DocBookPart) -> int:
    """The Command Data Set Type value that means "no data set" (0101H).

    References
    ----------
    PS3.7 Annex E, Table E.1-1, row (0000,0800).
    """
    row, cell = _dictionary_row(part, DATA_SET_TYPE_TAG)
    match = _NO_DATA_SET.search(text_of(cell))
    if match is None:
        raise _error(part, COMMAND_TABLE, row, "Command Data Set Type names no 'no data set' value")
    return int(match["value"], 16)


# --------------------------------------------------------------------------------------
# §9.1, §10.1: service parameters
# --------------------------------------------------------------------------------------


def read_parameter_table(part: DocBookPart, table_id: str) -> tuple[str, dict[str, list[str]]]:
    """The service a parameter table describes, and its columns.

    Returns ``(service, columns)``: ``columns[""]`` lists the parameter names in row order and
    ``columns[header]`` the usage (``M``, ``U``, ``C``, ``U(=)``, ``-`` ...) of each under
    that primitive's column (``Req/Ind``, ``Rsp/Conf``, ``CnclReq/CnclInd``).

    References
    ----------
    PS3.7 §9.1 (Tables 9.1-1 to 9.1-5), §10.1 (Tables 10.1-1 to 10.1-6).
    """
    headers = header_texts(part.table(table_id))
    if (
        len(headers) not in (3, 4)
        or _PARAMETER_FIRST.fullmatch(headers[0]) is None
        or headers[1:] not in ([_REQUEST, _RESPONSE], [_REQUEST, _RESPONSE, _CANCEL])
    ):
        raise StandardSourceError(
            f"columns changed: expected ['DIMSE[-C] Parameter Name', {_REQUEST!r}, "
            f"{_RESPONSE!r}(, {_CANCEL!r})], found {headers}",
            source_file=part.source_file,
            table_id=table_id,
        )
    caption = _PARAMETER_CAPTION.fullmatch(_caption(part, table_id))
    if caption is None:
        raise StandardSourceError(
            f"caption {_caption(part, table_id)!r} does not name a service",
            source_file=part.source_file,
            table_id=table_id,
        )
    columns: dict[str, list[str]] = {"": [], **{h: [] for h in headers[1:]}}
    for row in body_rows(part.table(table_id)):
        texts = _cells(part, table_id, row, len(headers))
        columns[""].append(texts[0])
        for header, usage in zip(headers[1:], texts[1:], strict=False):
            columns[header].append(_checked(part, table_id, row, _USAGE, "usage", usage))
    return caption["service"], columns


# --------------------------------------------------------------------------------------
# §9.3, §10.3: messages
# --------------------------------------------------------------------------------------


def _data_set_presence(part: DocBookPart, table_id: str, row: Row, text: str) -> DataSetPresence:
    if _DATA_SET_REQUIRED.search(text):
        return DataSetPresence.REQUIRED
    if _DATA_SET_OPTIONAL.search(text):
        return DataSetPresence.OPTIONAL
    if _DATA_SET_ABSENT.search(text):
        return DataSetPresence.ABSENT
    raise _error(part, table_id, row, f"cannot tell from {text!r} whether a data set is sent")


def _primitive_column(name: str) -> str:
    if name.startswith("C-CANCEL-"):
        return _CANCEL
    return _RESPONSE if name.endswith("-RSP") else _REQUEST


def _service(name: str) -> str:
    if name.startswith("C-CANCEL-"):
        return "C-" + name.removeprefix("C-CANCEL-").removesuffix("-RQ")
    return name.removesuffix("-RQ").removesuffix("-RSP")


def read_message(
    part: DocBookPart,
    table_id: str,
    dictionary: dict[int, CommandElementDef],
    command_fields: Sequence[EnumeratedValueDef],
    parameters: dict[str, tuple[str, dict[str, list[str]]]],
    no_data_set: int,
) -> MessageDef:
    """One message field table, with usages from its service's parameter table.

    References
    ----------
    PS3.7 §9.3 (Tables 9.3-1 to 9.3-13), §10.3 (Tables 10.3-1 to 10.3-12), §9.1, §10.1.
    """
    check_columns(part, table_id, _MESSAGE_COLUMNS, prefix=False)
    rows = body_rows(part.table(table_id))
    name = ""
    command_field = -1
    presence: DataSetPresence | None = None
    data_set_rows: list[tuple[Row, str]] = []
    tagged: list[tuple[Row, int, str, str, str]] = []
    for row in rows:
        field_name, tag_text, vr, vm, description = _cells(part, table_id, row, 5)
        if tag_text == _NO_TAG:
            data_set_rows.append((row, field_name))
            continue
        tag = _tag(part, table_id, row, tag_text)
        tagged.append((row, tag, field_name, vr, vm))
        if tag == COMMAND_FIELD_TAG:
            match = _MESSAGE_COMMAND.search(description)
            if match is None:
                raise _error(part, table_id, row, f"no command field value in {description!r}")
            name, command_field = match["name"], int(match["value"], 16)
        elif tag == DATA_SET_TYPE_TAG:
            presence = _data_set_presence(part, table_id, row, description)
            required = _DATA_SET_REQUIRED.search(description)
            if required is not None and int(required["value"], 16) != no_data_set:
                raise _error(part, table_id, row, f"'other than' names {required['value']}H")
    if not name or presence is None:
        raise _error(part, table_id, None, "no Command Field or Command Data Set Type row")
    caption = _CAPTION.fullmatch(_caption(part, table_id))
    if caption is None or caption["name"] != name:
        raise _error(
            part, table_id, None, f"caption {_caption(part, table_id)!r} does not name {name}"
        )
    listed = {v.name: v.value for v in command_fields}
    dictionary_name = "C-CANCEL-RQ" if name.startswith("C-CANCEL-") else name
    if listed.get(dictionary_name) != command_field:
        raise _error(
            part,
            table_id,
            None,
            f"{name} has command field {command_field:04X}H; Table E.1-1 lists"
            f" {listed.get(dictionary_name)} for {dictionary_name}",
        )

    service = _service(name)
    owners = [tid for tid, (svc, _) in parameters.items() if svc == service]
    if len(owners) != 1:
        raise _error(part, table_id, None, f"{len(owners)} parameter tables for {service}")
    parameter_table = owners[0]
    _, columns = parameters[parameter_table]
    column = _primitive_column(name)
    if column not in columns:
        raise _error(part, parameter_table, None, f"no column {column!r} for {name}")
    usages = dict(zip(columns[""], columns[column], strict=True))

    fields: list[MessageFieldDef] = []
    for row, tag, field_name, vr, vm in tagged:
        entry = dictionary.get(tag)
        if entry is None or entry.retired:
            raise _error(part, table_id, row, f"(0000,{tag:04X}) is not in Table E.1-1")
        if (vr, vm) != (entry.vr, entry.vm):
            raise _error(
                part,
                table_id,
                row,
                f"(0000,{tag:04X}) is {vr} {vm} here but {entry.vr} {entry.vm} in Table E.1-1",
            )
        # The parameter tables use the dictionary's names; the message tables occasionally
        # differ ("Number of Complete Sub-operations" in Table 9.3-10).
        usage = usages.get(field_name, usages.get(entry.name))
        if usage is None:
            usage = "M"  # "required by the DIMSE protocol" (§9.3.1.1, §10.3.1.1 ...)
        elif usage == "-":
            raise _error(
                part, table_id, row, f"{field_name} is '-' for {name} in {parameter_table}"
            )
        if tag in _PROTOCOL_FIELDS and usage != "M":
            raise _error(part, table_id, row, f"{field_name} has usage {usage}, expected M")
        fields.append(
            MessageFieldDef(
                tag=tag,
                name=field_name,
                keyword=entry.keyword,
                vr=vr,
                vm=vm,
                usage=usage,
                provenance=_provenance(part, table_id, row),
            )
        )

    data_set_name = " / ".join(n for _, n in data_set_rows)
    data_set_usage = "-"
    for row, n in data_set_rows:
        if n not in usages:
            raise _error(part, table_id, row, f"{n!r} is not a parameter of {parameter_table}")
        data_set_usage = usages[n]
    expected = {
        DataSetPresence.ABSENT: ("-",),
        DataSetPresence.REQUIRED: ("M",),
        DataSetPresence.OPTIONAL: ("U", "C"),
    }[presence]
    if data_set_usage not in expected:
        raise _error(
            part,
            table_id,
            None,
            f"Command Data Set Type says {presence.value} but {parameter_table} gives"
            f" {data_set_name or 'no data set'} usage {data_set_usage!r}",
        )
    return MessageDef(
        name=name,
        service=service,
        command_field=command_field,
        fields=tuple(fields),
        data_set=presence,
        data_set_name=data_set_name,
        data_set_usage=data_set_usage,
        parameter_table=parameter_table,
        provenance=_provenance(part, table_id),
    )


# --------------------------------------------------------------------------------------
# Annex C: status types
# --------------------------------------------------------------------------------------


def _child_sections(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if child.tag == q("section")]


def read_status_classes(part: DocBookPart) -> tuple[StatusClassDef, ...]:
    """The status class convention: the first ``informaltable`` of Annex C.

    References
    ----------
    PS3.7 Annex C (introduction).
    """
    chapter = part.element(STATUS_CHAPTER)
    table = chapter.find(q("informaltable"))
    if table is None:
        raise StandardSourceError(
            "no status class table", source_file=part.source_file, table_id=STATUS_CHAPTER
        )
    categories = {c.value: c for c in StatusCategory}
    result: list[StatusClassDef] = []
    for row in body_rows(table):
        label, codes = _cells(part, STATUS_CHAPTER, row, 2)[:2]
        patterns = tuple(re.split(r"\s+(?:or|and)\s+", codes))
        for pattern in patterns:
            _checked(part, STATUS_CHAPTER, row, _STATUS_PATTERN, "status code pattern", pattern)
        category = categories.get(label)
        if category is None and _ASSIGNED_BY_ANNEX.search(label) is None:
            raise _error(part, STATUS_CHAPTER, row, f"unknown status class {label!r}")
        result.append(
            StatusClassDef(label, category, patterns, _provenance(part, STATUS_CHAPTER, row))
        )
    missing = set(StatusCategory) - {c.category for c in result}
    if missing:
        raise _error(part, STATUS_CHAPTER, None, f"no row for {sorted(c.value for c in missing)}")
    return tuple(result)


def pattern_matches(pattern: str, code: int) -> bool:
    """True when ``code`` fits a status code pattern such as ``"Bxxx"`` or ``"FF00"``."""
    return all(p in ("x", d) for p, d in zip(pattern, f"{code:04X}", strict=True))


def read_status_types(
    part: DocBookPart,
    classes: Sequence[StatusClassDef],
    dictionary: dict[int, CommandElementDef],
) -> tuple[StatusTypeDef, ...]:
    """Every status type of Annex C (sections C.1.1 to C.5.n), in document order.

    References
    ----------
    PS3.7 Annex C, sections C.1 to C.5.
    """
    chapter = part.element(STATUS_CHAPTER)
    categories = {c.value: c for c in StatusCategory}
    result: list[StatusTypeDef] = []
    for class_section in _child_sections(chapter):
        class_id = class_section.get(XML_ID, "")
        title_element = class_section.find(q("title"))
        title = (
            _CLASS_TITLE.fullmatch(text_of(title_element)) if title_element is not None else None
        )
        if title is None or title["category"] not in categories:
            raise StandardSourceError(
                "section title is not '<Class> Status Class'",
                source_file=part.source_file,
                table_id=class_id,
            )
        category = categories[title["category"]]
        for section in _child_sections(class_section):
            result.append(_read_status_type(part, section, category, classes, dictionary))
    if not result:
        raise StandardSourceError(
            "no status types", source_file=part.source_file, table_id=STATUS_CHAPTER
        )
    return tuple(result)


def _read_status_type(
    part: DocBookPart,
    section: etree._Element,
    category: StatusCategory,
    classes: Sequence[StatusClassDef],
    dictionary: dict[int, CommandElementDef],
) -> StatusTypeDef:
    section_id = section.get(XML_ID, "")
    title_element = section.find(q("title"))
    name = text_of(title_element) if title_element is not None else ""
    tables = section.findall(q("informaltable"))
    if len(tables) != 1 or not name:
        raise StandardSourceError(
            f"expected a title and one informaltable, found {len(tables)} tables",
            source_file=part.source_file,
            table_id=section_id,
        )
    headers = header_texts(tables[0])
    if [h.casefold() for h in headers] != [c.casefold() for c in _STATUS_COLUMNS]:
        raise StandardSourceError(
            f"columns changed: expected {list(_STATUS_COLUMNS)}, found {headers}",
            source_file=part.source_file,
            table_id=section_id,
        )
    code: int | None = None
    has_status = False
    fields: list[int] = []
    data_sets: list[str] = []
    for row in body_rows(tables[0]):
        field_name, tag_text, vr, vm, description = _cells(part, section_id, row, 5)
        if tag_text == _NO_TAG:
            data_sets.append(field_name)
            continue
        tag = _tag(part, section_id, row, tag_text)
        entry = dictionary.get(tag)
        if entry is None or (vr, vm) != (entry.vr, entry.vm):
            raise _error(part, section_id, row, f"(0000,{tag:04X}) {vr} {vm} is not in Table E.1-1")
        if tag != STATUS_TAG:
            fields.append(tag)
            continue
        has_status = True
        match = _STATUS_CODE.search(description)
        if match is not None:
            code = int(match["value"], 16)
        elif _STATUS_SPECIFIC.search(description) is None:
            raise _error(part, section_id, row, f"no status code in {description!r}")
    if not has_status:
        raise _error(part, section_id, None, "no Status (0000,0900) row")
    if code is not None:
        fitting = [c for c in classes if any(pattern_matches(p, code) for p in c.patterns)]
        if not fitting or any(c.category not in (None, category) for c in fitting):
            raise _error(
                part,
                section_id,
                None,
                f"status {code:04X}H does not fit the {category.value} class convention",
            )
    return StatusTypeDef(
        name=name,
        section=section.get("label", ""),
        category=category,
        code=code,
        fields=tuple(fields),
        data_set_name=" / ".join(data_sets),
        provenance=_provenance(part, section_id),
    )
