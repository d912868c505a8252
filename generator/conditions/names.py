"""The attribute-name index the parser resolves prose against (PS3.6 names → tags).

The caller builds it from whatever dictionary it has (PS3.6 DocBook, the JSON rendition); the
parser never reads files.  Building it splits every name with the condition lexer once, so
that a name can be matched token by token in prose ("Number of Frames is greater than 1") and
recognised in front of its tag ("Frame Type (0008,9007)").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import attrs

from dicompile.generator.conditions.lexer import Kind, fold, scan


@attrs.frozen
class NameEntry:
    """One data dictionary entry as the index needs it."""

    name: str
    tag: int
    vr: str | None = None
    retired: bool = False


class NameIndex(Mapping[str, int]):
    """Attribute names (case-insensitive) → tags, with the reverse lookups the parser needs.

    When two entries share a name, the one that is not retired wins (PS3.6 keeps retired
    names, and a later edition may reuse them).

    References
    ----------
    PS3.6 §6, Table 6-1 (Registry of DICOM Data Elements).
    """

    def __init__(self, entries: Iterable[NameEntry]) -> None:
        chosen: dict[str, NameEntry] = {}
        for entry in entries:
            key = fold([entry.name])
            if not key:
                continue
            previous = chosen.get(key)
            if previous is None or (previous.retired and not entry.retired):
                chosen[key] = entry
        self._by_key = chosen
        self._by_tag: dict[int, NameEntry] = {}
        for entry in chosen.values():
            self._by_tag.setdefault(entry.tag, entry)
        # First word (folded) → [(folded words, entry)], longest first, for prose matching.
        prefixes: dict[str, list[tuple[tuple[str, ...], NameEntry]]] = {}
        for entry in chosen.values():
            words = tuple(fold([t.text]) for t in scan(entry.name) if t.kind is not Kind.PUNCT)
            words = tuple(w for w in words if w)
            if words:
                prefixes.setdefault(words[0], []).append((words, entry))
        for candidates in prefixes.values():
            candidates.sort(key=lambda item: -len(item[0]))
        self._prefixes = prefixes

    @classmethod
    def from_mapping(cls, names: Mapping[str, int]) -> NameIndex:
        """An index of a plain ``name → tag`` mapping (no VRs known)."""
        if isinstance(names, NameIndex):
            return names
        return cls(NameEntry(name=name, tag=tag) for name, tag in names.items())

    # Mapping protocol: folded name → tag.
    def __getitem__(self, name: str) -> int:
        return self._by_key[fold([name])].tag

    def __iter__(self) -> Iterator[str]:
        return (entry.name for entry in self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def name_of(self, tag: int) -> str | None:
        entry = self._by_tag.get(tag)
        return entry.name if entry else None

    def vr_of(self, tag: int) -> str | None:
        entry = self._by_tag.get(tag)
        return entry.vr if entry else None

    def candidates(self, first_word: str) -> list[tuple[tuple[str, ...], NameEntry]]:
        """Names starting with ``first_word`` (folded), longest first."""
        return self._prefixes.get(first_word, [])
