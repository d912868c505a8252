"""Execute a parsed condition against a Data Set, with three-valued logic.

Theory of operation
-------------------
* The evaluator sees a Data Set only through :class:`DatasetView`: ``has``, ``get_values``
  and ``get_items`` by tag.  The runtime validator adapts its ``Dataset`` to it; tests use a
  dict.  Nothing here depends on how values are decoded, except that numbers (IS, DS, US,
  FL, …) may arrive as ``int``/``float`` or as their string form, and Attribute Tag values
  (AT) as ``int``.
* A tag path longer than one tag is followed through every Item of each Sequence on the
  way: the leaf holds if it holds in *some* Item ("Content Item Modifier Sequence within
  Performed Protocol Code Sequence contains …").  ``Absent`` holds when the attribute is in
  none of them.
* ``None`` means "unknown" and comes only from :class:`Undecidable` leaves.  ``And`` is
  false as soon as one operand is false, ``Or`` true as soon as one is true (Kleene), so a
  condition with undecidable parts is still decided whenever the decidable parts suffice.
* A comparison on an absent attribute, or on a value index the attribute does not have, is
  false.  "X is not V" is parsed as ``And(Present(X), Not(Equals(X, V)))``, so it too is false
  when X is absent.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeAlias

import attrs

from dicompile.generator.conditions.ast import (
    Absent,
    AmbiguousCode,
    And,
    CodedValue,
    Compare,
    CompareOp,
    Condition,
    ContainsCode,
    CountCompare,
    Empty,
    Equals,
    Expr,
    HasValue,
    IsUrnOrUrl,
    LengthCompare,
    Literal,
    Not,
    OneOf,
    Or,
    Present,
    PrivateTagValue,
    TagPath,
    Undecidable,
)

Scalar: TypeAlias = str | int | float

# Code Sequence Item attributes (PS3.3 §8.8, Table 8.8-1a).
_CODE_VALUES = (0x00080100, 0x00080119, 0x00080120)  # Code Value, Long, URN
_CODING_SCHEME_DESIGNATOR = 0x00080102
# A URN ("urn:…") or a URL with an authority ("https://…"), PS3.3 §8.1 (URN Code Value, VR UR).
_URN_OR_URL = re.compile(r"^(?:urn:|[a-z][a-z0-9+.-]*://)", re.IGNORECASE)


class DatasetView(Protocol):
    """The read-only view of a Data Set (or Sequence Item) the evaluator needs.

    ``get_values`` returns ``None`` when the attribute is absent and ``()`` when it is present
    with zero length; multi-valued attributes return one entry per value.  ``get_items``
    returns the Items of a Sequence (``None`` when absent or not a Sequence).
    """

    def has(self, tag: int) -> bool: ...

    def get_values(self, tag: int) -> tuple[Scalar, ...] | None: ...

    def get_items(self, tag: int) -> Sequence[DatasetView] | None: ...

    def code_versions(self, scheme: str, value: str) -> frozenset[str]:
        """The Coding Scheme Versions (0008,0103) the SOP Instance holding this view gives
        the code ``value`` of ``scheme`` in any of its Code Sequence Items."""
        ...


def _views(view: DatasetView, outer: TagPath) -> Iterator[DatasetView]:
    """Every Item reached by following the Sequences of ``outer`` (the view itself if empty)."""
    if not outer:
        yield view
        return
    for item in view.get_items(outer[0]) or ():
        yield from _views(item, outer[1:])


def _exists(view: DatasetView, path: TagPath, test: Callable[[DatasetView, int], bool]) -> bool:
    return any(test(item, path[-1]) for item in _views(view, path[:-1]))


def _number(value: Scalar | Literal) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value.strip())
    except ValueError:
        return None


def _same(actual: Scalar, literal: Literal) -> bool:
    """Equality as PS3.3 prose means it: numbers by value, strings without padding."""
    if isinstance(literal, int):  # an Attribute Tag
        return isinstance(actual, int) and actual == literal
    if isinstance(actual, int | float):
        number = _number(literal)
        return number is not None and float(actual) == number
    return actual.strip(" \x00") == literal.strip()


def _selected(values: tuple[Scalar, ...], index: int | None) -> tuple[Scalar, ...]:
    if index is None:
        return values
    return (values[index - 1],) if 0 < index <= len(values) else ()


def _has_value(view: DatasetView, tag: int) -> bool:
    return bool(view.get_values(tag)) or bool(view.get_items(tag))


def _compare(op: CompareOp, left: float, right: float) -> bool:
    return {
        CompareOp.LT: left < right,
        CompareOp.LE: left <= right,
        CompareOp.GT: left > right,
        CompareOp.GE: left >= right,
        CompareOp.EQ: left == right,
        CompareOp.NE: left != right,
    }[op]


def _first_value(view: DatasetView, paths: tuple[TagPath, ...]) -> str | None:
    """The first value of the first of ``paths`` that is present (as text)."""
    for path in paths:
        for item in _views(view, path[:-1]):
            values = item.get_values(path[-1])
            if values:
                return str(values[0]).strip()
    return None


def _has_code(item: DatasetView, code: CodedValue) -> bool:
    scheme = item.get_values(_CODING_SCHEME_DESIGNATOR) or ()
    if not any(_same(s, code.scheme) for s in scheme):
        return False
    return any(
        _same(value, code.value) for tag in _CODE_VALUES for value in item.get_values(tag) or ()
    )


def _leaf(expr: Expr, view: DatasetView) -> bool:
    if isinstance(expr, Present):
        return _exists(view, expr.path, lambda v, t: v.has(t))
    if isinstance(expr, Absent):
        return not _exists(view, expr.path, lambda v, t: v.has(t))
    if isinstance(expr, HasValue):
        return _exists(view, expr.path, _has_value)
    if isinstance(expr, Empty):
        return _exists(view, expr.path, lambda v, t: v.has(t) and not _has_value(v, t))
    if isinstance(expr, Equals | OneOf):
        literals = (expr.value,) if isinstance(expr, Equals) else expr.values
        index = expr.value_index
        return _exists(
            view,
            expr.path,
            lambda v, t: any(
                _same(actual, literal)
                for actual in _selected(v.get_values(t) or (), index)
                for literal in literals
            ),
        )
    if isinstance(expr, Compare):
        op, threshold, index = expr.op, float(expr.value), expr.value_index
        return _exists(
            view,
            expr.path,
            lambda v, t: any(
                (number := _number(actual)) is not None and _compare(op, number, threshold)
                for actual in _selected(v.get_values(t) or (), index)
            ),
        )
    if isinstance(expr, CountCompare):
        op, count = expr.op, float(expr.count)

        def counted(v: DatasetView, t: int) -> bool:
            if not v.has(t):
                return False
            items = v.get_items(t)
            n = len(items) if items is not None else len(v.get_values(t) or ())
            return _compare(op, float(n), count)

        return _exists(view, expr.path, counted)
    if isinstance(expr, LengthCompare):
        value = _first_value(view, expr.paths)
        return value is not None and _compare(expr.op, float(len(value)), float(expr.length))
    if isinstance(expr, IsUrnOrUrl):
        value = _first_value(view, expr.paths)
        return value is not None and _URN_OR_URL.match(value) is not None
    if isinstance(expr, ContainsCode):
        codes = expr.codes
        return _exists(
            view,
            expr.path,
            lambda v, t: any(_has_code(item, c) for item in v.get_items(t) or () for c in codes),
        )
    if isinstance(expr, PrivateTagValue):
        return _exists(
            view,
            expr.path,
            lambda v, t: any(
                isinstance(a, int) and (a >> 16) % 2 == 1 for a in v.get_values(t) or ()
            ),
        )
    if isinstance(expr, AmbiguousCode):
        return _ambiguous(expr, view)
    raise TypeError(f"not a condition leaf: {expr!r}")


def _ambiguous(expr: AmbiguousCode, view: DatasetView) -> bool:
    """PS3.3 §8.2: ambiguous only where the instance gives the code two or more versions."""
    scheme = _first_value(view, (expr.designator,))
    value = _first_value(view, expr.values)
    if scheme is None or value is None:
        return False
    return len(view.code_versions(scheme, value)) > 1


def evaluate_expr(expr: Expr, view: DatasetView) -> bool | None:
    """The truth of ``expr`` on ``view``: ``True``, ``False`` or ``None`` (undecidable).

    References
    ----------
    PS3.3 §5.4 and PS3.5 §7.4 (conditional requirements); Kleene's three-valued logic for
    the connectives.
    """
    if isinstance(expr, Undecidable):
        return None
    if isinstance(expr, Not):
        inner = evaluate_expr(expr.operand, view)
        return None if inner is None else not inner
    if isinstance(expr, And):
        results = [evaluate_expr(e, view) for e in expr.operands]
        if False in results:
            return False
        return None if None in results else True
    if isinstance(expr, Or):
        results = [evaluate_expr(e, view) for e in expr.operands]
        if True in results:
            return True
        return None if None in results else False
    return _leaf(expr, view)


def evaluate(condition: Condition, view: DatasetView) -> bool | None:
    """Is the attribute (or module) required on ``view``?  ``None`` when that is undecidable.

    An explicit "Shall not be present if …" that holds makes it not required.

    References
    ----------
    PS3.5 §7.4.2 (Type 1C), §7.4.4 (Type 2C); PS3.3 §5.4 (usage "C").
    """
    if condition.not_present_if is not None and evaluate_expr(condition.not_present_if, view):
        return False
    if condition.required_if is None:
        return False
    return evaluate_expr(condition.required_if, view)


class Presence(enum.Enum):
    """What a condition demands of one attribute in one Data Set."""

    REQUIRED = "required"
    OPTIONAL = "may be present"
    FORBIDDEN = "shall not be present"
    UNKNOWN = "not decidable"


@attrs.frozen
class Verdict:
    """``required``: must be present; ``allowed``: may be present.  ``None`` where unknown."""

    required: bool | None
    allowed: bool | None

    @property
    def presence(self) -> Presence:
        if self.required:
            return Presence.REQUIRED
        if self.allowed is False:
            return Presence.FORBIDDEN
        if self.required is False and self.allowed:
            return Presence.OPTIONAL
        return Presence.UNKNOWN


def verdict(condition: Condition, view: DatasetView) -> Verdict:
    """Whether a conditional attribute must, may or must not be present in ``view``.

    When the condition is not met the attribute shall not be included, unless the text says
    "May be present otherwise" or a "May be present if …" sentence holds (PS3.5 §7.4.2,
    §7.4.4).

    References
    ----------
    PS3.5 §7.4.2, §7.4.4.
    """
    forbidden = (
        evaluate_expr(condition.not_present_if, view)
        if condition.not_present_if is not None
        else False
    )
    if forbidden:
        return Verdict(required=False, allowed=False)
    required = evaluate(condition, view)
    if required:
        return Verdict(required=True, allowed=True)
    if condition.otherwise_may_be_present:
        allowed: bool | None = True
    elif condition.may_be_present_if is not None:
        may = evaluate_expr(condition.may_be_present_if, view)
        allowed = True if may else (None if may is None or required is None else False)
    else:
        allowed = None if required is None else False
    if forbidden is None and allowed:
        allowed = None
    return Verdict(required=required, allowed=allowed)


@attrs.frozen
class ModuleDecision:
    """Whether to validate a conditional module, and whether that was decided or assumed.

    ``assumed`` is ``True`` when the usage condition could not be decided and the module is
    checked because some of its attributes are present (issue #4: the validator reports it).
    """

    check: bool
    required: bool | None
    assumed: bool


def conditional_module(
    condition: Condition, view: DatasetView, *, any_attribute_present: bool
) -> ModuleDecision:
    """Decide whether a module of usage "C" is to be validated on ``view``.

    A decided condition decides (a module that is present although not required is still
    checked); an undecidable one falls back on the presence of any of the module's attributes.

    References
    ----------
    PS3.3 Annex A (IOD Module Tables, usage "C").
    """
    required = evaluate(condition, view)
    if required is None:
        return ModuleDecision(check=any_attribute_present, required=None, assumed=True)
    return ModuleDecision(check=required or any_attribute_present, required=required, assumed=False)
