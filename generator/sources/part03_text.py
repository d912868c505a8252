"""Reading the prose of PS3.3 attribute descriptions, the same way for every source format.

Both readers of PS3.3 (DocBook and the JSON rendition) first turn a description cell into
paragraphs of plain text; this module then finds in them what the model keeps apart from the
prose: the condition of a 1C/2C attribute, the title of a value list, the context groups named.

Theory of operation
-------------------
* A **condition** is the text from the first sentence that states when the attribute is
  required ("Required if …", "Shall be present if …", "Required only if …") to the end of that
  paragraph, plus every later paragraph that continues it ("May be present otherwise.",
  "Shall not be present otherwise.").  It is kept raw: ``generator/conditions.py`` parses it.
* A **value list title** is "Enumerated Values:", "Defined Terms:", optionally "for Value 3"
  (PS3.3 §5.3 conventions; the singular forms occur too).
* A **context reference** is ``CID n`` or ``TID n``, qualified by the nearest preceding
  "Defined"/"Baseline"/"Enumerated" (or the ``D``/``B`` prefix of ``DCID``/``BCID``) in the same
  sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dicompile.generator.iod_model import ContextKind, ContextRef, Usage, ValueListKind

# A sentence that states a requirement.  "Required" alone also starts conditions such as
# "Required for images …" and "Required unless …"; "Shall be present if" / "May be present if"
# occur in macros (Table 8.8-1a).
_CONDITION = re.compile(
    r"\b(?:Required\b|required\s+(?:if|only|when|unless|for)\b"
    r"|[Ss]hall\s+(?:only\s+)?be\s+present\s+(?:only\s+)?(?:if|when|unless)\b"
    r"|[Mm]ay\s+(?:only\s+)?be\s+present\s+(?:only\s+)?(?:if|when)\b"
    r"|[Ss]hall\s+not\s+be\s+present\s+(?:if|when|unless)\b)"
)
# Used only when no sentence matches _CONDITION: "If required by treatment delivery device, shall
# be present …", "Either one or both … are required".
_LOOSE_CONDITION = re.compile(r"\b(?:[Rr]equired|[Ss]hall (?:only )?be present)\b")
_CONTINUATION = re.compile(
    r"^(?:May be present otherwise|Shall not be present otherwise|May be present if|"
    r"Otherwise\b|Shall be present otherwise|If present\b)",
)
# Where a sentence starts: after ". " (not after "e.g." or a tag's closing parenthesis alone).
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.;:]\s+(?=[A-Z(])")


# Where a sentence ends inside a condition: ". " before a capital ("May be present otherwise").
_FULL_STOP = re.compile(r"(?<!\be\.g)(?<!\bi\.e)\.\s+(?=[A-Z])")
LIST_ITEM = "\u2022 "  # how readers mark the paragraphs of a list item ("• …")


def _condition_like(sentence: str) -> bool:
    return bool(
        _CONTINUATION.match(sentence)
        or _CONDITION.search(sentence)
        or _LOOSE_CONDITION.search(sentence)
    )


def _leading_condition(text: str) -> tuple[str, bool]:
    """The sentences of ``text`` (which starts a condition) that state it; and whether all did.

    "Required if Shutter Shape (0018,1600) is RECTANGULAR. Location of the left edge …" keeps
    the first sentence only; "Required if X. May be present otherwise." keeps both.
    """
    kept_end = len(text)
    first = True
    position = 0
    for stop in _FULL_STOP.finditer(text):
        if first:
            first = False
        else:
            sentence = text[position : stop.start() + 1]
            if not _condition_like(sentence):
                kept_end = position
                break
        position = stop.end()
    else:
        if not first and not _condition_like(text[position:]):
            kept_end = position
    kept = text[:kept_end].strip()
    return kept, kept_end == len(text)


def _end_item(found: list[str], mark: str) -> None:
    """Close the last list item of a condition with ``mark`` unless it ends a clause already."""
    last = found[-1]
    if last.endswith((":", ";", ",", ".", " or", " and")):
        return
    found[-1] = last + mark


def condition_text(paragraphs: Sequence[str]) -> str:
    """The condition of a 1C/2C attribute: the requirement sentences of its description.

    The condition starts at the sentence that states a requirement and runs while its sentences
    do ("May be present otherwise."); a condition that ends with ``:`` takes the list items
    (paragraphs marked with :data:`LIST_ITEM`) that follow it.  Later paragraphs that state
    requirements are added too.

    Parameters
    ----------
    paragraphs
        The description's paragraphs as plain text, notes and value lists left out.

    Returns
    -------
    str
        The raw condition prose, paragraphs joined with one space; ``""`` when none is found.

    References
    ----------
    PS3.5 §7.4.2 and §7.4.4 (Type 1C and 2C data elements); PS3.3 §5.4.
    """
    found: list[str] = []
    open_list = False
    for paragraph in paragraphs:
        if found:
            if paragraph.startswith(LIST_ITEM):
                if open_list:
                    # Items of one list are kept apart by "; " (2016c items carry no "or").
                    _end_item(found, ";")
                    found.append(paragraph.removeprefix(LIST_ITEM))
                continue
            if open_list:
                _end_item(found, ".")
            open_list = False
            if _CONTINUATION.match(paragraph) or _CONDITION.search(paragraph):
                kept, _ = _leading_condition(paragraph)
                found.append(kept)
                open_list = kept.endswith(":")
            continue
        match = _CONDITION.search(paragraph)
        if match is None:
            continue
        start = 0
        for end in _SENTENCE_END.finditer(paragraph):
            if end.end() > match.start():
                break
            start = end.end()
        kept, _ = _leading_condition(paragraph[start:].strip())
        found.append(kept)
        open_list = kept.endswith(":")
    if not found:
        found = [p.removeprefix(LIST_ITEM) for p in paragraphs if _LOOSE_CONDITION.search(p)]
    return " ".join(found)


_VALUE_TITLE = re.compile(
    r"^\s*(?P<kind>Enumerated\s+Values?|Defined\s+Terms?)"
    r"(?:\s+(?:for|of)\s+(?:the\s+)?Value\s+(?P<index>\d+))?\b[^:]*:?\s*$",
    re.IGNORECASE,
)


def value_list_title(title: str) -> tuple[ValueListKind, int | None] | None:
    """Read "Enumerated Values for Value 3:" → ``(ENUMERATED, 3)``; ``None`` for other titles."""
    match = _VALUE_TITLE.match(title)
    if match is None:
        return None
    kind = (
        ValueListKind.ENUMERATED
        if match["kind"].lower().startswith("enumerated")
        else ValueListKind.DEFINED
    )
    return kind, int(match["index"]) if match["index"] else None


_CONTEXT = re.compile(r"(?<![A-Za-z])(?P<prefix>[DB]?)(?P<resource>CID|TID)\s*_?(?P<number>\d+)")
_CONTEXT_WORD = re.compile(r"\b(Defined|Baseline|Enumerated)\b")


def context_refs(text: str) -> tuple[ContextRef, ...]:
    """The context groups and templates a description or include note names, in order.

    References
    ----------
    PS3.16 §6.1.2 (Defined and Baseline Context Groups); PS3.3 §5.4 (macro invocation notes).
    """
    found: list[ContextRef] = []
    for match in _CONTEXT.finditer(text):
        prefix = match["prefix"]
        if prefix:
            kind = ContextKind.DEFINED if prefix == "D" else ContextKind.BASELINE
        else:
            sentence_start = max(text.rfind(". ", 0, match.start()), 0)
            words = _CONTEXT_WORD.findall(text, sentence_start, match.start())
            kind = ContextKind(words[-1]) if words else ContextKind.UNSPECIFIED
        ref = ContextRef(match["resource"], int(match["number"]), kind)
        if ref not in found:
            found.append(ref)
    return tuple(found)


_USAGE = re.compile(r"^\s*(?P<letter>[MCU])\b\s*(?:[-–—:]\s*)?(?P<rest>.*)$", re.DOTALL)


def usage_of(text: str) -> tuple[Usage, str]:
    """Split a Usage cell: ``"C - Required if …"`` → ``(CONDITIONAL, "Required if …")``.

    Raises :class:`ValueError` when the cell does not start with M, C or U.

    References
    ----------
    PS3.3 §A.1.3 (IOD module table usage).
    """
    match = _USAGE.match(text)
    if match is None:
        raise ValueError(f"not a usage: {text!r}")
    return Usage(match["letter"]), match["rest"].strip()
