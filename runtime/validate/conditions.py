"""The runtime's condition tree: what the generated requirement tables say "Required if …" with.

Theory of operation
-------------------
* The generator parses the prose of Type 1C/2C attributes and of conditional module usages
  (``generator/conditions``) and writes each parse into ``generated/requirements/conditions_*``
  as constructor calls of these classes.  The runtime never imports the generator: this is its
  own, smaller copy of the tree (the leaves and connectives, no parser), evaluated by
  :mod:`dicompile.runtime.validate.evaluate`.
* A leaf names attributes by tag path, outermost Sequence first; a one-tag path is relative to
  the Data Set or Item holding the conditioned attribute.  ``value_index`` is 1-based
  ("Value 3 of Image Type"); ``None`` means "any value".
* :class:`Undecidable` keeps prose no Data Set can decide ("if contrast media was used"); it
  evaluates to "unknown".  :class:`Unparsed` is a sentence the generator could not read: the
  validator reports the rule it guards as "not checked".

References
----------
PS3.3 §5.4 (usage "C"); PS3.5 §7.4 (Types 1C, 2C); DESIGN.md ("Conditions").
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import TypeAlias

import attrs

TagPath: TypeAlias = tuple[int, ...]
Literal: TypeAlias = str | int  # int only for Attribute Tag (AT) values


class Op(enum.Enum):
    """Comparison operators."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="


# Short aliases for the generated tables (``Compare(GT, (0x00280002,), 1)``).
LT, LE, GT, GE, EQ, NE = Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE


@attrs.frozen(slots=True)
class Present:
    """The attribute is in the Data Set (with or without a value)."""

    path: TagPath


@attrs.frozen(slots=True)
class Absent:
    """The attribute is not in the Data Set."""

    path: TagPath


@attrs.frozen(slots=True)
class HasValue:
    """Present with at least one value or Item."""

    path: TagPath


@attrs.frozen(slots=True)
class Empty:
    """Present with zero length."""

    path: TagPath


@attrs.frozen(slots=True)
class Equals:
    """A value equals ``value`` (value ``value_index`` when given, any value otherwise)."""

    path: TagPath
    value: Literal
    value_index: int | None = None


@attrs.frozen(slots=True)
class OneOf:
    """A value equals one of ``values``."""

    path: TagPath
    values: tuple[Literal, ...]
    value_index: int | None = None


@attrs.frozen(slots=True)
class Compare:
    """A numeric value compared with a number."""

    op: Op
    path: TagPath
    value: int | float
    value_index: int | None = None


@attrs.frozen(slots=True)
class LengthCompare:
    """The character length of the first present of ``paths`` compared with a number."""

    op: Op
    paths: tuple[TagPath, ...]
    length: int


@attrs.frozen(slots=True)
class IsUrnOrUrl:
    """The value of the first present of ``paths`` is a URN or a URL (PS3.3 §8.1)."""

    paths: tuple[TagPath, ...]


@attrs.frozen(slots=True)
class CountCompare:
    """The number of values (Items, for a Sequence) compared with a number."""

    op: Op
    path: TagPath
    count: int


@attrs.frozen(slots=True)
class Code:
    """A coded concept: Code Value and Coding Scheme Designator (PS3.3 §8.8)."""

    value: str
    scheme: str


@attrs.frozen(slots=True)
class ContainsCode:
    """A code Sequence has an Item with one of ``codes``."""

    path: TagPath
    codes: tuple[Code, ...]


@attrs.frozen(slots=True)
class PrivateTagValue:
    """An Attribute Tag value is the tag of a Private Data Element (PS3.5 §7.8)."""

    path: TagPath


@attrs.frozen(slots=True)
class AmbiguousCode:
    """The Coding Scheme Designator does not identify the code value unambiguously.

    Decided by the rule of PS3.3 §8.2: a designator identifies its coding scheme as a whole
    (revisions that are not backward compatible get designators of their own), so it fails to
    identify a code value only where the SOP Instance gives the same designator and code
    value (the first present of ``values``) two or more different Coding Scheme Versions.

    References
    ----------
    PS3.3 §8.2, Table 8.8-1a (Coding Scheme Version (0008,0103), Type 1C).
    """

    designator: TagPath
    values: tuple[TagPath, ...]


@attrs.frozen(slots=True)
class Undecidable:
    """Prose no Data Set can decide; ``reason`` is the generator's reason (an enum name)."""

    text: str
    reason: str


@attrs.frozen(slots=True)
class And:
    operands: tuple[Expr, ...]


@attrs.frozen(slots=True)
class Or:
    operands: tuple[Expr, ...]


@attrs.frozen(slots=True)
class Not:
    operand: Expr


Expr: TypeAlias = (
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
    | And
    | Or
    | Not
)


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr``, depth first, the node itself first."""
    yield expr
    if isinstance(expr, And | Or):
        for operand in expr.operands:
            yield from walk(operand)
    elif isinstance(expr, Not):
        yield from walk(expr.operand)


class Decidability(enum.Enum):
    """How far a condition can be checked (issue #4's three classes)."""

    CHECKABLE = "checkable"
    UNDECIDABLE = "undecidable"
    UNPARSED = "unparsed"


@attrs.frozen(slots=True)
class Condition:
    """A parsed condition of a Type 1C/2C attribute or a usage "C" module.

    ``required_if``: when it is required; ``not_present_if``: "Shall not be present if …";
    ``may_be_present_if``: "May be present if …"; ``otherwise_may_be_present``: "May be present
    otherwise" (without it a 1C/2C attribute whose condition is false shall not be included,
    PS3.5 §7.4.2, §7.4.4).

    References
    ----------
    PS3.5 §7.4; PS3.3 §5.4.
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

    @property
    def decidability(self) -> Decidability:
        undecidable = any(
            isinstance(node, Undecidable) for e in self.expressions() for node in walk(e)
        )
        return Decidability.UNDECIDABLE if undecidable else Decidability.CHECKABLE


@attrs.frozen(slots=True)
class Unparsed:
    """A condition sentence the generator could not read: reported, never guessed."""

    text: str
    reason: str

    @property
    def decidability(self) -> Decidability:
        return Decidability.UNPARSED


ParsedCondition: TypeAlias = Condition | Unparsed
