"""The typed expression tree of a DICOM condition (PS3.3 Type 1C/2C rules, "C" module usages).

Theory of operation
-------------------
* A leaf names attributes by *tag path*: a tuple of ints, outermost Sequence first
  (``(0x00400260, 0x00400441)`` is "Content Item Modifier Sequence within Performed Protocol
  Code Sequence").  A one-tag path is relative to the Data Set or Item that holds the
  conditioned attribute; whether an evaluator also looks in enclosing Data Sets is its
  choice (see ``evaluate.DatasetView``).
* ``value_index`` is 1-based, as the standard writes it ("Value 3 of Image Type").  ``None``
  means "any value": for a single-valued attribute that is plain equality, for a
  multi-valued one it is "includes" (PS3.3 writes "has values of IR", "contains the value").
* Every leaf is decidable from a Data Set except :class:`Undecidable`, which keeps the prose
  it stands for and why it cannot be checked.  Trees combine with three-valued logic, so
  ``And(Equals(Modality, "MG"), Undecidable("contrast media was applied"))`` is still known
  to be false for a CT image.
* A sentence that the parser cannot read never becomes a tree: it becomes :class:`Unparsed`
  (text and reason), and is counted by the audit (STYLE.md item 12).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import TypeAlias

import attrs

TagPath: TypeAlias = tuple[int, ...]
Literal: TypeAlias = str | int  # int only for Attribute Tag values (VR AT), e.g. 0x00181065


class CompareOp(enum.Enum):
    """Comparison operators of :class:`Compare`, :class:`LengthCompare`, :class:`CountCompare`."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="


class UndecidableReason(enum.Enum):
    """Why a part of a condition cannot be decided from the Data Set alone."""

    NO_ATTRIBUTE = "names no attribute (a fact about acquisition, intent or encoding)"
    JUDGEMENT = "asks for a judgement about a value (sufficiency, precision, meaning)"
    OTHER_INSTANCE = "depends on other SOP Instances (referenced or contributing)"
    OTHER_ITEMS = "depends on other Items of a Sequence (position, changes between Items)"
    PROSE_ELSEWHERE = "defers to prose or a context group elsewhere in the standard"
    MODULE_PRESENCE = "depends on the presence of a Module or Functional Group as a whole"
    DICTIONARY = "depends on the data dictionary entry of a referenced attribute"
    NOT_STATED = "the cell does not say when the attribute is required"


class Decidability(enum.Enum):
    """The three classes every parsed condition falls into (issue #4)."""

    CHECKABLE = "checkable"
    UNDECIDABLE = "not decidable from a Data Set"
    UNPARSED = "unparsed"


@attrs.frozen
class CodedValue:
    """A coded concept written in prose as ``(113097, DCM, "Multi-energy proportional weighting")``.

    References
    ----------
    PS3.3 §8.8, Table 8.8-1 (Code Value, Coding Scheme Designator, Code Meaning).
    """

    value: str
    scheme: str
    meaning: str


# --- leaves ---------------------------------------------------------------------------


@attrs.frozen
class Present:
    """The attribute is in the Data Set (with or without a value)."""

    path: TagPath


@attrs.frozen
class Absent:
    """The attribute is not in the Data Set ("is not present", "is absent")."""

    path: TagPath


@attrs.frozen
class HasValue:
    """Present with at least one value or Item ("is present and has a value", "non-zero length")."""

    path: TagPath


@attrs.frozen
class Empty:
    """Present with zero length ("is zero length", "is empty")."""

    path: TagPath


@attrs.frozen
class Equals:
    """A value equals a literal ("Value 1 of Image Type is ORIGINAL": index 1)."""

    path: TagPath
    value: Literal
    value_index: int | None = None


@attrs.frozen
class OneOf:
    """A value equals one of several literals ("is ORIGINAL or MIXED")."""

    path: TagPath
    values: tuple[Literal, ...]
    value_index: int | None = None


@attrs.frozen
class Compare:
    """A numeric value compared with a number ("has a value greater than 1", "is non-zero")."""

    op: CompareOp
    path: TagPath
    value: int | float
    value_index: int | None = None


@attrs.frozen
class LengthCompare:
    """The length in characters of a value compared with a number.

    ``paths`` lists alternatives: the value of the *first present* attribute is measured.  The
    Basic Code Sequence Macro's "the code value" is whichever of Code Value, Long Code Value and
    URN Code Value carries it (PS3.3 §8.8, Table 8.8-1a).
    """

    op: CompareOp
    paths: tuple[TagPath, ...]
    length: int


@attrs.frozen
class IsUrnOrUrl:
    """The value (of the first present of ``paths``) is a URN or a URL (PS3.3 §8.1)."""

    paths: tuple[TagPath, ...]


@attrs.frozen
class CountCompare:
    """The number of values (or Items, for a Sequence) compared with a number."""

    op: CompareOp
    path: TagPath
    count: int


@attrs.frozen
class ContainsCode:
    """A code Sequence has an Item with one of ``codes`` (by value and coding scheme)."""

    path: TagPath
    codes: tuple[CodedValue, ...]


@attrs.frozen
class PrivateTagValue:
    """An Attribute Tag value (VR AT) is a Private Data Element's tag (odd group, PS3.5 §7.8)."""

    path: TagPath


@attrs.frozen
class AmbiguousCode:
    """The Coding Scheme Designator at ``designator`` does not identify the code unambiguously.

    PS3.3 §8.2 makes this decidable from the SOP Instance: the designator "identifies the
    coding scheme as a whole as currently published", a backward-compatible revision needs no
    Coding Scheme Version, and a revision that is not backward compatible gets a designator of
    its own (Note 2: ICD-10 is not ICD-9 with another version).  So a designator fails to
    identify a code value only where the instance itself shows the value meaning different
    things: Code Sequence Items of the instance give the same designator and code value
    (the first present of ``values``: Code Value, Long Code Value, URN Code Value) with two or
    more different Coding Scheme Versions (0008,0103).

    References
    ----------
    PS3.3 §8.1, §8.2, Table 8.8-1a (Coding Scheme Version, Type 1C).
    """

    designator: TagPath
    values: tuple[TagPath, ...]


@attrs.frozen
class Undecidable:
    """A part of a condition that no Data Set can decide; evaluates to "unknown"."""

    text: str
    reason: UndecidableReason


# --- connectives ----------------------------------------------------------------------


@attrs.frozen
class And:
    operands: tuple[Expr, ...]


@attrs.frozen
class Or:
    operands: tuple[Expr, ...]


@attrs.frozen
class Not:
    operand: Expr


Leaf: TypeAlias = (
    Present
    | Absent
    | HasValue
    | Empty
    | Equals
    | OneOf
    | Compare
    | LengthCompare
    | IsUrnOrUrl
    | CountCompare
    | ContainsCode
    | PrivateTagValue
    | AmbiguousCode
    | Undecidable
)
Expr: TypeAlias = Leaf | And | Or | Not


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr``, depth first, the node itself first."""
    yield expr
    if isinstance(expr, And | Or):
        for operand in expr.operands:
            yield from walk(operand)
    elif isinstance(expr, Not):
        yield from walk(expr.operand)


def undecidable_parts(expr: Expr | None) -> tuple[Undecidable, ...]:
    """The :class:`Undecidable` leaves of ``expr`` in document order."""
    if expr is None:
        return ()
    return tuple(node for node in walk(expr) if isinstance(node, Undecidable))


# --- results --------------------------------------------------------------------------


@attrs.frozen
class Condition:
    """A parsed condition: when the attribute (or module) is required, forbidden or allowed.

    ``required_if`` is the disjunction of the "Required if …"/"Shall be present if …"
    sentences; ``None`` when there are none.  ``not_present_if`` comes from "Shall not be
    present if …" and ``may_be_present_if`` from "May be present if …"/"Otherwise may be
    present if …".  ``otherwise_may_be_present`` records "May be present otherwise": without
    it, a Type 1C/2C attribute whose condition is false shall not be included (PS3.5 §7.4.2,
    §7.4.4).

    References
    ----------
    PS3.5 §7.4 (Data Element Types); PS3.3 §5.4 (module usage "C").
    """

    text: str
    required_if: Expr | None
    not_present_if: Expr | None = None
    may_be_present_if: Expr | None = None
    otherwise_may_be_present: bool = False

    def expressions(self) -> tuple[Expr, ...]:
        return tuple(
            e
            for e in (self.required_if, self.not_present_if, self.may_be_present_if)
            if e is not None
        )

    def undecidable_parts(self) -> tuple[Undecidable, ...]:
        return tuple(u for e in self.expressions() for u in undecidable_parts(e))

    @property
    def decidability(self) -> Decidability:
        """CHECKABLE when no part needs facts outside the Data Set; otherwise UNDECIDABLE."""
        return Decidability.UNDECIDABLE if self.undecidable_parts() else Decidability.CHECKABLE

    @property
    def partly_decidable(self) -> bool:
        """True when some leaves are decidable although others are not (useful in reports)."""
        return any(
            not isinstance(node, Undecidable | And | Or | Not)
            for e in self.expressions()
            for node in walk(e)
        ) and bool(self.undecidable_parts())


@attrs.frozen
class Unparsed:
    """A condition the parser could not read; kept verbatim so it is reported, never guessed."""

    text: str
    reason: str

    @property
    def decidability(self) -> Decidability:
        return Decidability.UNPARSED


ParsedCondition: TypeAlias = Condition | Unparsed


def classify(result: ParsedCondition) -> Decidability:
    """The class of a parse result: checkable, not decidable from a Data Set, or unparsed."""
    return result.decidability


# --- rendering ------------------------------------------------------------------------


def _tag_text(path: TagPath) -> str:
    return "/".join(f"({tag >> 16:04X},{tag & 0xFFFF:04X})" for tag in path)


def _literal_text(value: Literal) -> str:
    return f"({value >> 16:04X},{value & 0xFFFF:04X})" if isinstance(value, int) else repr(value)


def _ref_text(path: TagPath, index: int | None = None) -> str:
    return _tag_text(path) + (f"[{index}]" if index is not None else "")


def render(expr: Expr) -> str:
    """A compact one-line rendering, e.g. ``(0008,9007)[1] == 'ORIGINAL' and not …``."""
    if isinstance(expr, And | Or):
        word = " and " if isinstance(expr, And) else " or "
        return "(" + word.join(render(e) for e in expr.operands) + ")"
    if isinstance(expr, Not):
        return f"not {render(expr.operand)}"
    if isinstance(expr, Present):
        return f"present {_tag_text(expr.path)}"
    if isinstance(expr, Absent):
        return f"absent {_tag_text(expr.path)}"
    if isinstance(expr, HasValue):
        return f"has-value {_tag_text(expr.path)}"
    if isinstance(expr, Empty):
        return f"empty {_tag_text(expr.path)}"
    if isinstance(expr, Equals):
        return f"{_ref_text(expr.path, expr.value_index)} == {_literal_text(expr.value)}"
    if isinstance(expr, OneOf):
        values = ", ".join(_literal_text(v) for v in expr.values)
        return f"{_ref_text(expr.path, expr.value_index)} in {{{values}}}"
    if isinstance(expr, Compare):
        return f"{_ref_text(expr.path, expr.value_index)} {expr.op.value} {expr.value}"
    if isinstance(expr, LengthCompare):
        paths = "|".join(_tag_text(p) for p in expr.paths)
        return f"len({paths}) {expr.op.value} {expr.length}"
    if isinstance(expr, IsUrnOrUrl):
        return f"urn-or-url({'|'.join(_tag_text(p) for p in expr.paths)})"
    if isinstance(expr, CountCompare):
        return f"count({_tag_text(expr.path)}) {expr.op.value} {expr.count}"
    if isinstance(expr, ContainsCode):
        codes = ", ".join(f"({c.value}, {c.scheme})" for c in expr.codes)
        return f"{_tag_text(expr.path)} has code {{{codes}}}"
    if isinstance(expr, PrivateTagValue):
        return f"private-tag {_tag_text(expr.path)}"
    if isinstance(expr, AmbiguousCode):
        values = "|".join(_tag_text(p) for p in expr.values)
        return f"ambiguous-code {_tag_text(expr.designator)} {values}"
    return f"UNDECIDABLE<{expr.text}>"
