"""What every DocBook reader needs: open a part, find a table by ``xml:id``, read its cells.

Theory of operation
-------------------
* A part is parsed once with lxml.  ID collection is switched off: the 2016c PS3.3 excerpt
  defines some ``xml:id`` values twice, which lxml's default parser refuses.  We index ids
  ourselves, keep the *first* definition (document order) and report the duplicates.
* The edition is read from the part's ``<subtitle>`` ("DICOM PS3.8 2013 - ..."), never from
  the file name.
* Tables are found by ``xml:id`` (``table_6-1``), never by caption or position.
* Cell text is normalised: zero-width spaces (U+200B, which NEMA puts inside keywords and
  UIDs to allow line breaks) are removed, non-breaking spaces become spaces, runs of
  whitespace collapse to one space.
* ``rowspan``/``colspan`` are expanded so that every row of a table has one cell per column;
  a spanned cell appears in every row and column it covers, marked ``spanned=True`` there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
from lxml import etree

from dicompile.runtime.errors import StandardSourceError

DOCBOOK_NS = "http://docbook.org/ns/docbook"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
NS = {"db": DOCBOOK_NS}

_SUBTITLE = re.compile(r"DICOM\s+PS\s?3\.(?P<part>\d+)\s+(?P<edition>\d{4}[a-z]?)\b")
_SPACES = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), None)


def q(local: str) -> str:
    """The Clark name of a DocBook element (``q("tr")`` → ``{http://docbook.org/ns/docbook}tr``)."""
    return f"{{{DOCBOOK_NS}}}{local}"


def normalise_text(text: str) -> str:
    """Remove invisible characters, turn NBSP into space and collapse whitespace."""
    return _SPACES.sub(" ", text.translate(_INVISIBLE).replace("\u00a0", " ")).strip()


def text_of(element: etree._Element) -> str:
    """All the text inside ``element``, normalised (see :func:`normalise_text`)."""
    return normalise_text("".join(element.itertext()))


@attrs.frozen
class DocBookPart:
    """One parsed part of the standard (for example PS3.6 of 2013)."""

    path: Path
    part: str  # "PS3.6"
    edition: str  # "2013", "2016c"
    root: etree._Element
    ids: dict[str, etree._Element] = attrs.field(repr=False)
    duplicate_ids: tuple[str, ...]

    @property
    def source_file(self) -> str:
        """The file as recorded in provenance: ``<edition folder>/<file>``, never absolute."""
        return f"{self.path.parent.name}/{self.path.name}"

    def element(self, xml_id: str) -> etree._Element:
        """The first element carrying ``xml_id``; :class:`StandardSourceError` if none does."""
        found = self.ids.get(xml_id)
        if found is None:
            raise StandardSourceError(
                f"no element with xml:id {xml_id!r}", source_file=self.source_file, table_id=xml_id
            )
        return found

    def table(self, table_id: str) -> etree._Element:
        """The ``<table>`` with ``xml:id == table_id``."""
        found = self.element(table_id)
        if found.tag != q("table"):
            raise StandardSourceError(
                f"xml:id {table_id!r} is a <{etree.QName(found).localname}>, not a <table>",
                source_file=self.source_file,
                table_id=table_id,
            )
        return found


def load_part(path: Path) -> DocBookPart:
    """Parse a DocBook part, index its ids and read its edition from ``<subtitle>``.

    Raises :class:`StandardSourceError` when the file is not well-formed XML or has no
    recognisable subtitle.
    """
    parser = etree.XMLParser(collect_ids=False, huge_tree=True, resolve_entities=False)
    name = f"{path.parent.name}/{path.name}"
    try:
        tree = etree.parse(str(path), parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise StandardSourceError(f"cannot parse DocBook: {exc}", source_file=name) from exc
    root = tree.getroot()
    subtitle = root.find(q("subtitle"))
    match = _SUBTITLE.search(text_of(subtitle)) if subtitle is not None else None
    if match is None:
        raise StandardSourceError(
            "no <subtitle> of the form 'DICOM PS3.N EDITION' to read the edition from",
            source_file=name,
        )
    ids: dict[str, etree._Element] = {}
    duplicates: set[str] = set()
    for element in root.iter():
        xml_id = element.get(XML_ID)
        if xml_id is None:
            continue
        if xml_id in ids:
            duplicates.add(xml_id)
        else:
            ids[xml_id] = element
    return DocBookPart(
        path=path,
        part=f"PS3.{match['part']}",
        edition=match["edition"],
        root=root,
        ids=ids,
        duplicate_ids=tuple(sorted(duplicates)),
    )


@attrs.frozen
class Cell:
    """One cell of an expanded table row."""

    element: etree._Element
    text: str
    spanned: bool = False  # True where this cell repeats a row/col span of an earlier cell

    @property
    def italic(self) -> bool:
        """True when all the cell's text is inside ``<emphasis role="italic">`` (retired rows)."""
        emphasis = self.element.findall(f".//{q('emphasis')}[@role='italic']")
        italic_text = normalise_text("".join(t for e in emphasis for t in e.itertext()))
        return bool(self.text) and italic_text == self.text


@attrs.frozen
class Row:
    """One row of a table body: its cells after span expansion, and where it came from."""

    index: int  # 1-based position in the table body
    line: int | None  # source line of the <tr>
    cells: tuple[Cell, ...]

    def texts(self) -> list[str]:
        return [cell.text for cell in self.cells]


def _expand(rows: Sequence[etree._Element]) -> Iterator[tuple[etree._Element, list[Cell]]]:
    pending: dict[int, tuple[Cell, int]] = {}  # column -> (cell, rows still to cover)
    for tr in rows:
        cells: list[Cell] = []
        column = 0
        source_cells = [c for c in tr if c.tag in (q("td"), q("th"))]
        source_iter = iter(source_cells)
        while True:
            if column in pending:
                cell, left = pending[column]
                cells.append(attrs.evolve(cell, spanned=True))
                if left <= 1:
                    del pending[column]
                else:
                    pending[column] = (cell, left - 1)
                column += 1
                continue
            td = next(source_iter, None)
            if td is None:
                break
            cell = Cell(element=td, text=text_of(td))
            colspan = int(td.get("colspan", "1") or "1")
            rowspan = int(td.get("rowspan", "1") or "1")
            for offset in range(colspan):
                cells.append(cell if offset == 0 else attrs.evolve(cell, spanned=True))
                if rowspan > 1:
                    pending[column + offset] = (cell, rowspan - 1)
            column += colspan
        # Spans still pending beyond the last source cell of this row.
        while column in pending:
            cell, left = pending[column]
            cells.append(attrs.evolve(cell, spanned=True))
            if left <= 1:
                del pending[column]
            else:
                pending[column] = (cell, left - 1)
            column += 1
        yield tr, cells


def header_texts(table: etree._Element) -> list[str]:
    """The texts of the last header row of ``table`` (span-expanded)."""
    head_rows = table.findall(f"{q('thead')}/{q('tr')}")
    if not head_rows:
        return []
    expanded = list(_expand(head_rows))
    return [cell.text for cell in expanded[-1][1]]


def body_rows(table: etree._Element) -> list[Row]:
    """The rows of every ``<tbody>`` of ``table``, span-expanded, in document order."""
    trs = table.findall(f"{q('tbody')}/{q('tr')}")
    return [
        Row(index=i, line=tr.sourceline, cells=tuple(cells))
        for i, (tr, cells) in enumerate(_expand(trs), start=1)
    ]


def check_columns(
    part: DocBookPart, table_id: str, expected: Sequence[str], *, prefix: bool = True
) -> list[str]:
    """Check the header of a table against the columns a reader was written for.

    With ``prefix`` the table may have extra trailing columns (PS3.6 keeps an unnamed column
    for "RET"); every expected column must match in order, case-insensitively.  Raises
    :class:`StandardSourceError` naming the table when the columns changed.
    """
    headers = header_texts(part.table(table_id))
    compared = headers[: len(expected)] if prefix else headers
    got = [h.casefold() for h in compared]
    if got != [e.casefold() for e in expected]:
        raise StandardSourceError(
            f"columns changed: expected {list(expected)}, found {headers}",
            source_file=part.source_file,
            table_id=table_id,
        )
    return headers
