"""Plain text of a description cell, as ``parse_condition`` expects it.

A cell is a list of paragraphs (DocBook ``<para>``, HTML ``<p>`` in the JSON rendition).  PS3.3
sometimes ends a paragraph without a full stop ("Mutually exclusive with … (0040,A043)") and
sometimes splits one sentence over several ("Required if Image Type (0008,0008) Value 3 is:"
/ "WHOLE BODY or" / "STATIC."), so paragraphs are joined with a full stop only where the
previous one does not already end a sentence or continue into the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree, html

_SPACES = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), None)
# A paragraph that ends like this continues into the next ("… Value 3 is" / "TOMO, …").
_CONTINUES = re.compile(r"(?:[.:;,]|\b(?:or|and|is|are|of|equals|to|if|the|a|an))$")


def normalise(text: str) -> str:
    """Collapse whitespace, drop invisible characters, turn NBSP into a space."""
    return _SPACES.sub(" ", text.translate(_INVISIBLE).replace("\u00a0", " ")).strip()


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Join paragraph texts into one text, adding a full stop where a sentence clearly ended."""
    parts: list[str] = []
    for paragraph in paragraphs:
        text = normalise(paragraph)
        if not text:
            continue
        if parts and not _CONTINUES.search(parts[-1]):
            parts[-1] += "."
        parts.append(text)
    return " ".join(parts)


def _text(element: etree._Element) -> str:
    return "".join(element.itertext())


def _is_note(element: etree._Element) -> bool:
    heading = element.find("h3")
    return heading is not None and normalise(_text(heading)).lower().startswith("note")


def html_cell_text(fragment: str) -> str:
    """The text of an HTML table cell of the JSON rendition, informative notes left out.

    References
    ----------
    PS3.3 §5 (notes in attribute tables are informative).
    """
    root = html.fragment_fromstring(fragment, create_parent="div")
    paragraphs: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag not in ("p",):
            continue
        if any(_is_note(ancestor) for ancestor in element.iterancestors("div")):
            continue
        paragraphs.append(_text(element))
    if not paragraphs:
        paragraphs.append(_text(root))
    return join_paragraphs(paragraphs)
