"""The text of DocBook cells and sections with cross-references resolved, and their value lists.

``common.text_of`` drops ``<xref>`` and ``<olink>`` (they are empty elements whose text the
renderer makes up), which turns "See Section C.11.1.1.2 for Defined Terms" into "See for Defined
Terms".  This module renders them as NEMA's HTML does and splits a cell into blocks:

* paragraphs (``<para>`` and list items) as plain text,
* notes (``<note>``), kept apart so that their prose is not read as a condition,
* value lists (``<variablelist>`` titled "Enumerated Values:" / "Defined Terms:"),
* the ids of the elements referenced (``<xref linkend>``) and the olinks to other parts.

References
----------
DocBook 5.0 (``xref``, ``olink``, ``variablelist``); PS3.3 §5.3 (value list conventions).
"""

from __future__ import annotations

import re

import attrs
from lxml import etree

from dicompile.generator.iod_model import ValueList, ValueTerm
from dicompile.generator.sources.docbook.common import DocBookPart, normalise_text, q, text_of
from dicompile.generator.sources.part03_text import LIST_ITEM, value_list_title

_PREFIX = {
    "table": "Table",
    "section": "Section",
    "chapter": "Chapter",
    "appendix": "Annex",
    "figure": "Figure",
    "equation": "Equation",
    "example": "Example",
}
_ID_PREFIX = re.compile(r"^(?P<kind>table|sect|chapter|figure|biblio|glossentry)_(?P<label>.+)$")
_ID_KIND = {"table": "Table", "sect": "Section", "chapter": "Chapter", "figure": "Figure"}
_OLINK_ID = re.compile(r"^(?:sect_)?(?P<resource>CID|TID)_(?P<number>\d+)$")
_BLOCKS = frozenset(
    q(name)
    for name in (
        "para",
        "note",
        "variablelist",
        "itemizedlist",
        "orderedlist",
        "listitem",
        "table",
        "informaltable",
        "simplelist",
    )
)
_SKIP = frozenset(q(name) for name in ("title", "caption", "indexterm", "footnote"))


def label_of(part: DocBookPart, linkend: str) -> str:
    """How a reference to ``linkend`` reads: ``Table 10-16``, ``Section C.7.6.1.1.6``.

    A target missing from the file (the 2016c excerpt cut many sections) is named from its id.
    """
    target = part.ids.get(linkend)
    if target is not None:
        kind = _PREFIX.get(etree.QName(target).localname)
        label = target.get("label")
        if kind and label:
            return f"{kind} {label}"
    match = _ID_PREFIX.match(linkend)
    if match and match["kind"] in _ID_KIND:
        return f"{_ID_KIND[match['kind']]} {match['label']}"
    if match and match["kind"] == "biblio":
        return f"[{match['label']}]"
    return linkend


def _olink_text(element: etree._Element) -> str:
    pointer = element.get("targetptr") or ""
    match = _OLINK_ID.match(pointer)
    if match:
        return f"{match['resource']} {match['number']}"
    document = element.get("targetdoc") or ""
    inner = _ID_PREFIX.match(pointer)
    if inner and inner["kind"] in _ID_KIND:
        return f"{document} {_ID_KIND[inner['kind']]} {inner['label']}".strip()
    return f"{document} {pointer}".strip()


@attrs.frozen
class Rendered:
    """A cell or section body as blocks of plain text, value lists and references."""

    paragraphs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    value_lists: tuple[ValueList, ...] = ()
    xrefs: tuple[str, ...] = ()  # linkend ids, in document order
    olinks: tuple[str, ...] = ()  # rendered olinks ("CID 4052"), in document order

    @property
    def text(self) -> str:
        """All paragraphs (not notes) as one string."""
        return " ".join(self.paragraphs)


@attrs.define
class _Collector:
    part: DocBookPart
    paragraphs: list[str] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)
    value_lists: list[ValueList] = attrs.Factory(list)
    xrefs: list[str] = attrs.Factory(list)
    olinks: list[str] = attrs.Factory(list)

    def inline(self, element: etree._Element, out: list[str]) -> None:
        """Append the inline text of ``element`` (not its tail) to ``out``."""
        if element.text:
            out.append(element.text)
        for child in element:
            if isinstance(child.tag, str) and child.tag not in _SKIP:
                if child.tag == q("xref"):
                    linkend = child.get("linkend") or ""
                    self.xrefs.append(linkend)
                    out.append(label_of(self.part, linkend))
                elif child.tag == q("olink"):
                    rendered = _olink_text(child)
                    self.olinks.append(rendered)
                    out.append(rendered)
                elif child.tag in _BLOCKS:
                    out.append(" ")
                    self.inline(child, out)
                    out.append(" ")
                else:
                    self.inline(child, out)
            if child.tail:
                out.append(child.tail)

    def text(self, element: etree._Element) -> str:
        out: list[str] = []
        self.inline(element, out)
        return normalise_text("".join(out))

    def block(self, element: etree._Element, *, in_note: bool = False) -> None:
        """Sort one block-level element into paragraphs, notes or value lists."""
        tag = element.tag
        if tag == q("variablelist"):
            self.variable_list(element, in_note=in_note)
        elif tag == q("note"):
            for child in element:
                if isinstance(child.tag, str) and child.tag not in _SKIP:
                    self.block(child, in_note=True)
        elif tag in (q("itemizedlist"), q("orderedlist")):
            for item in element.iter(q("listitem")):
                text = self.text(item)
                if text:
                    self._add(LIST_ITEM + text, in_note=in_note)
        elif tag == q("para") and any(child.tag in _BLOCKS for child in element):
            # A paragraph holding a list: its own text, then the blocks inside it.
            own: list[str] = [element.text or ""]
            for child in element:
                if child.tag in _BLOCKS:
                    self._add(normalise_text("".join(own)), in_note=in_note)
                    own = []
                    self.block(child, in_note=in_note)
                elif isinstance(child.tag, str) and child.tag not in _SKIP:
                    own.append(self._inline_one(child))
                if child.tail:
                    own.append(child.tail)
            self._add(normalise_text("".join(own)), in_note=in_note)
        else:
            self._add(self.text(element), in_note=in_note)

    def _inline_one(self, child: etree._Element) -> str:
        if child.tag == q("xref"):
            linkend = child.get("linkend") or ""
            self.xrefs.append(linkend)
            return label_of(self.part, linkend)
        if child.tag == q("olink"):
            rendered = _olink_text(child)
            self.olinks.append(rendered)
            return rendered
        out: list[str] = []
        self.inline(child, out)
        return "".join(out)

    def variable_list(self, element: etree._Element, *, in_note: bool) -> None:
        title_element = element.find(q("title"))
        title = text_of(title_element) if title_element is not None else ""
        heading = value_list_title(title)
        terms: list[ValueTerm] = []
        for entry in element.iter(q("varlistentry")):
            term = entry.find(q("term"))
            item = entry.find(q("listitem"))
            value = self.text(term) if term is not None else ""
            meaning = self.text(item) if item is not None else ""
            terms.append(ValueTerm(value, meaning))
        if heading is not None and not in_note:
            kind, index = heading
            self.value_lists.append(ValueList(kind, tuple(terms), index))
            return
        # A list that is not a value list ("Frame Type values", a note's list): plain text.
        if title:
            self._add(title, in_note=in_note)
        for value_term in terms:
            self._add(f"{value_term.value}: {value_term.meaning}".strip(": "), in_note=in_note)

    def _add(self, text: str, *, in_note: bool) -> None:
        if text:
            (self.notes if in_note else self.paragraphs).append(text)

    def freeze(self) -> Rendered:
        return Rendered(
            paragraphs=tuple(self.paragraphs),
            notes=tuple(self.notes),
            value_lists=tuple(self.value_lists),
            xrefs=tuple(self.xrefs),
            olinks=tuple(self.olinks),
        )


def render(
    part: DocBookPart, element: etree._Element, *, stop_at_sections: bool = True
) -> Rendered:
    """Render the block content of ``element`` (a ``<td>``, ``<section>`` …).

    With ``stop_at_sections`` the sub-sections of a section are not read (they refine other
    attributes).  Tables inside are skipped: they are read as tables.
    """
    collector = _Collector(part)
    children = [c for c in element if isinstance(c.tag, str)]
    if element.tag in (q("td"), q("th")) and not any(c.tag in _BLOCKS for c in children):
        # A cell whose text is not wrapped in <para>.
        collector._add(collector.text(element), in_note=False)
        return collector.freeze()
    for child in children:
        if child.tag in _SKIP or child.tag in (q("table"), q("informaltable")):
            continue
        if child.tag == q("section") and stop_at_sections:
            continue
        if child.tag in _BLOCKS:
            collector.block(child)
        elif child.tag == q("section"):
            for grandchild in child:
                if isinstance(grandchild.tag, str) and grandchild.tag in _BLOCKS:
                    collector.block(grandchild)
        else:
            collector._add(collector.text(child), in_note=False)
    return collector.freeze()


def inline_text(part: DocBookPart, element: etree._Element) -> str:
    """The whole text of ``element`` with references rendered, as one normalised string."""
    return _Collector(part).text(element)


def linkends(element: etree._Element) -> list[str]:
    """The ``linkend`` of every ``<xref>`` inside ``element``, in document order."""
    return [x.get("linkend") or "" for x in element.iter(q("xref"))]
