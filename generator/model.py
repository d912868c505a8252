"""The generator's intermediate model: frozen attrs records with provenance (DESIGN.md).

Readers produce these records; pure passes (``generator/passes``) turn models into models;
emitters render them.  Every record carries a :class:`Provenance` saying which part, edition,
table and row of which source it came from, so the generated code and every reported
conflict can cite the standard precisely.
"""

from __future__ import annotations

import enum
import re

import attrs


@attrs.frozen(order=True)
class Provenance:
    """Where a model record came from: ``PS3.6 2013 table_6-1 row 12 (2013/part06.xml)``."""

    part: str  # "PS3.6"
    edition: str  # "2013", "2016c", "2020"
    table_id: str  # "table_6-1"; for the JSON rendition the file name, e.g. "attributes.json"
    source_file: str  # "2013/part06.xml" (folder of the edition / file), never an absolute path
    row: int | None = None  # 1-based row in the table body, or index in the JSON array

    def cite(self) -> str:
        """A short citation for docstrings and reports."""
        row = f" row {self.row}" if self.row is not None else ""
        return f"{self.part} {self.edition} {self.table_id}{row}"


_TAG_TEXT = re.compile(
    r"\(?\s*(?P<group>[0-9A-Fa-fXx]{4})\s*,\s*(?P<element>[0-9A-Fa-fXx]{4})\s*\)?"
    r"|(?P<group8>[0-9A-Fa-fXx]{4})(?P<element8>[0-9A-Fa-fXx]{4})"
)


@attrs.frozen
class TagPattern:
    """A data element tag as PS3.6 writes it, possibly with repeating-group digits.

    ``text`` is eight characters: upper-case hexadecimal digits, and a lower-case ``x`` for each
    digit that ranges over its values (``"00100010"``, ``"60xx3000"``, ``"1000xxx0"``,
    ``"002804x0"``).  :attr:`base` is the tag with every ``x`` as 0 and :attr:`mask` has ``F``
    for the fixed digits, so a tag ``t`` matches when ``t & mask == base``.

    References
    ----------
    PS3.5 §7.6 (repeating groups); PS3.6 §6 (notation of the registry).
    """

    text: str

    @classmethod
    def parse(cls, text: str) -> TagPattern:
        """Read ``(0010,0010)``, ``0010,0010`` or ``00100010`` (``x``/``X`` for repeating digits).

        Raises :class:`ValueError` when ``text`` is not a tag.
        """
        match = _TAG_TEXT.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"not a tag: {text!r}")
        digits = "".join(part for part in match.groups() if part)
        return cls("".join("x" if c in "xX" else c.upper() for c in digits))

    @property
    def base(self) -> int:
        """The tag with every repeating digit as 0 (``60xx3000`` → ``0x60003000``)."""
        return int(self.text.replace("x", "0"), 16)

    @property
    def mask(self) -> int:
        """``F`` per fixed digit, ``0`` per repeating digit (``60xx3000`` → ``0xFF00FFFF``)."""
        return int("".join("0" if c == "x" else "F" for c in self.text), 16)

    @property
    def is_repeating(self) -> bool:
        return "x" in self.text

    @property
    def group(self) -> int:
        return self.base >> 16

    @property
    def display(self) -> str:
        """The standard's notation: ``(0010,0010)``, ``(60xx,3000)``."""
        return f"({self.text[:4]},{self.text[4:]})"

    @property
    def sort_key(self) -> tuple[int, int, str]:
        """Order of PS3.6 Table 6-1: by base tag, exact tags before patterns sharing a base."""
        return (self.base, self.text.count("x"), self.text)

    def matches(self, tag: int) -> bool:
        return tag & self.mask == self.base


@attrs.frozen
class DataElementDef:
    """One row of the data element registry (PS3.6 Tables 6-1, 7-1, 8-1).

    ``vr`` and ``vm`` are kept as the standard writes them (``"US or SS"``, ``"2-2n"``, ``""``
    when it gives none, ``"See Note"`` for the item delimiters); ``note`` keeps the text of the
    last column other than "RET" (``"DICOS"``, ``"DICONDE"``, ``"See Note"``).
    """

    tag: TagPattern
    name: str
    keyword: str
    vr: str
    vm: str
    retired: bool
    provenance: Provenance
    note: str = ""


@attrs.frozen
class UIDDef:
    """One UID of the registry (PS3.6 Annex A, Tables A-1 and A-2).

    ``keyword`` is empty when the source has no keyword column (2013): the ``uid_keywords``
    pass derives it.  ``part_note`` is the "Part" column (``"PS 3.6"``, ``"DICOS"``);
    ``reference`` the "Normative Reference" of a well-known frame of reference (Table A-2).
    """

    uid: str
    name: str
    keyword: str
    uid_type: str
    retired: bool
    provenance: Provenance
    part_note: str = ""
    reference: str = ""

    @property
    def sort_key(self) -> tuple[int, ...]:
        return uid_sort_key(self.uid)


@attrs.frozen
class ContextGroupDef:
    """A context group UID with its CID (PS3.6 Table A-3; the groups are defined in PS3.16)."""

    uid: str
    cid: int | None  # None for a UID that the table allocates to no group
    name: str
    keyword: str
    provenance: Provenance


@attrs.frozen
class TransferSyntaxDef:
    """How a transfer syntax encodes a data set (PS3.5 §10 and Annex A).

    Only the transfer syntaxes that encode a data set as a byte stream are described; those of
    PS3.10 Annex A that name a whole-file format (XML, MIME) are not.
    """

    uid: str
    implicit_vr: bool
    little_endian: bool
    deflated: bool
    encapsulated: bool


@attrs.frozen
class SourceDigest:
    """A source file that contributed to a model, for the headers of generated files."""

    part: str  # "PS3.6"
    edition: str  # "2013"
    source_file: str  # "2013/part06.xml"
    sha256: str
    table_ids: tuple[str, ...]

    def cite(self) -> str:
        """``PS3.6 2013 (2013/part06.xml sha256 ab12…: table_6-1, table_7-1)``."""
        tables = ", ".join(self.table_ids)
        return f"{self.part} {self.edition} ({self.source_file} sha256 {self.sha256}: {tables})"


class ConflictKind(enum.Enum):
    """Why two sources (or two rows) disagree about one item."""

    CHANGED = "changed"  # both define the item and a field differs: the newer edition wins
    DROPPED = "dropped"  # an older edition defines it, a newer one of the same table does not
    DUPLICATE = "duplicate"  # one source defines the same key twice: the first row is kept
    KEYWORD_CLASH = "keyword clash"  # two items share a keyword: the first in order keeps it
    ERRATUM = "erratum"  # a known error of the source's text, corrected (passes/part06_errata.py)


@attrs.frozen
class Conflict:
    """A typed record of a disagreement, resolved as ``kind`` says and reported."""

    kind: ConflictKind
    item: str  # the tag pattern text ("60xx3000") or UID
    field: str  # "vr", "vm", "retired", "keyword", "name", "uid_type", ... ("" for a whole item)
    kept_value: str
    other_value: str
    kept: Provenance
    other: Provenance

    def describe(self) -> str:
        what = f" {self.field}" if self.field else ""
        return (
            f"{self.kind.value}: {self.item}{what}: kept {self.kept_value!r} ({self.kept.cite()}),"
            f" not {self.other_value!r} ({self.other.cite()})"
        )


@attrs.frozen
class StandardModel:
    """Everything read from one source, or merged from several (see ``standard_set``).

    Readers fill the fields they know and leave the others empty; passes return new models.
    """

    sources: tuple[SourceDigest, ...] = ()
    data_elements: tuple[DataElementDef, ...] = ()
    uids: tuple[UIDDef, ...] = ()
    context_groups: tuple[ContextGroupDef, ...] = ()
    transfer_syntaxes: tuple[TransferSyntaxDef, ...] = ()
    conflicts: tuple[Conflict, ...] = ()


def uid_sort_key(uid: str) -> tuple[int, ...]:
    """Numeric order of dotted UIDs (``1.2.10`` after ``1.2.9``)."""
    return tuple(int(part) for part in uid.split("."))


def edition_sort_key(edition: str) -> tuple[int, str]:
    """Order of editions: ``2013`` < ``2016c`` < ``2016d`` < ``2020``."""
    match = re.fullmatch(r"(\d{4})([a-z]?)", edition)
    if match is None:
        raise ValueError(f"not an edition: {edition!r}")
    return (int(match[1]), match[2])
