"""Lazy access to the generated data dictionary (PS3.6 Table 6-1, 7-1), with caches.

The runtime must stay importable while ``dicompile.generated`` is being regenerated
(DESIGN.md, "Repository layout"), so nothing here imports the generated dictionary at import
time: :class:`GeneratedDictionary` imports it on first use and then memoises per tag.  The
codecs ask only three questions -- the dictionary VR of a tag, a tag's keyword, and the tag
of a keyword -- so any object with those methods (:class:`TagLookup`) can stand in, e.g. a
small :class:`MappingLookup` in tests.

Two facts hold for every tag whatever the dictionary says, and are answered here without it
(PS3.5 §7.2 and §7.8.1):

* element 0000 of any group is a Group Length, VR UL;
* (gggg,0010-00FF) of an odd (private) group is a Private Creator, VR LO.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Final, Protocol

from dicompile.runtime.core.tag import is_private, is_private_creator

_GENERATED_MODULE: Final = "dicompile.generated.dictionary"


class TagLookup(Protocol):
    """What the codecs need from a data dictionary."""

    def vr_text(self, tag: int) -> str:
        """The dictionary VR text (``"PN"``, ``"US or SS"``), or ``""`` when unknown."""
        ...

    def keyword(self, tag: int) -> str:
        """The keyword (``"PatientName"``), or ``""`` when unknown."""
        ...

    def tag_for_keyword(self, keyword: str) -> int | None:
        """The tag of a keyword, or None when the keyword is unknown."""
        ...


def _fixed_vr_text(tag: int) -> str | None:
    """The VR that PS3.5 fixes for a tag regardless of any dictionary, if any."""
    if tag & 0xFFFF == 0 and tag >> 16 not in (0xFFFE,):
        return "UL"  # Group Length (PS3.5 §7.2)
    if is_private_creator(tag):
        return "LO"  # Private Creator (PS3.5 §7.8.1)
    return None


class GeneratedDictionary:
    """:class:`TagLookup` over ``dicompile.generated.dictionary``, imported on first use.

    When the generated module cannot be imported (being regenerated, or not yet generated)
    every tag is unknown: VRs read as UN and keywords are empty; nothing fails.
    """

    def __init__(self, module_name: str = _GENERATED_MODULE) -> None:
        self._module_name = module_name
        self._module: ModuleType | None = None
        self._loaded = False
        self._vr_cache: dict[int, str] = {}
        self._keyword_cache: dict[int, str] = {}
        self._tag_cache: dict[str, int | None] = {}

    @property
    def available(self) -> bool:
        """True if the generated dictionary could be imported."""
        return self._load() is not None

    def _load(self) -> ModuleType | None:
        if not self._loaded:
            self._loaded = True
            try:
                self._module = importlib.import_module(self._module_name)
            except ImportError:
                self._module = None
        return self._module

    def _entry_field(self, tag: int, field: str) -> str:
        module = self._load()
        if module is None:
            return ""
        entry = module.entry_for_tag(tag)
        if entry is None:
            return ""
        value = getattr(entry, field)
        return value if isinstance(value, str) else ""

    def vr_text(self, tag: int) -> str:
        try:
            return self._vr_cache[tag]
        except KeyError:
            pass
        fixed = _fixed_vr_text(tag)
        text = fixed if fixed is not None else self._entry_field(tag, "vr")
        self._vr_cache[tag] = text
        return text

    def keyword(self, tag: int) -> str:
        try:
            return self._keyword_cache[tag]
        except KeyError:
            pass
        text = "" if is_private(tag) else self._entry_field(tag, "keyword")
        self._keyword_cache[tag] = text
        return text

    def tag_for_keyword(self, keyword: str) -> int | None:
        try:
            return self._tag_cache[keyword]
        except KeyError:
            pass
        module = self._load()
        tag: int | None = None
        if module is not None:
            found = module.tag_for_keyword(keyword)
            tag = found if isinstance(found, int) else None
        self._tag_cache[keyword] = tag
        return tag


class MappingLookup:
    """A :class:`TagLookup` from a plain mapping ``tag -> (vr_text, keyword)``; for tests."""

    def __init__(self, entries: Mapping[int, tuple[str, str]]) -> None:
        self._entries = dict(entries)
        self._tags = {keyword: tag for tag, (_, keyword) in self._entries.items() if keyword}

    def vr_text(self, tag: int) -> str:
        fixed = _fixed_vr_text(tag)
        if fixed is not None:
            return fixed
        entry = self._entries.get(tag)
        return entry[0] if entry else ""

    def keyword(self, tag: int) -> str:
        entry = self._entries.get(tag)
        return entry[1] if entry else ""

    def tag_for_keyword(self, keyword: str) -> int | None:
        return self._tags.get(keyword)


#: The process-wide loader of the generated dictionary.  It holds only caches of immutable
#: standard data (not configuration), so sharing it is safe.
DEFAULT_LOOKUP: Final = GeneratedDictionary()
