"""Execute a condition of the requirement tables against a Data Set, with three-valued logic.

Theory of operation
-------------------
* The evaluator reads a Data Set through :class:`Scope`: the Data Set or Sequence Item that
  holds the conditioned attribute, and the Data Sets enclosing it.  A one-tag path is looked
  up in the holder first and, when absent there, in the enclosing Data Sets outwards: PS3.3
  writes "Required if Image Type (0008,0008) Value 1 is ORIGINAL" inside functional group
  Items and Sequence Items, meaning the attribute of the instance.
* A longer path follows every Item of each Sequence on the way; the leaf holds if it holds in
  *some* Item.  ``Absent`` holds when the attribute is in none.
* ``None`` means "unknown" and comes only from :class:`Undecidable` leaves; ``And`` is false as
  soon as one operand is false, ``Or`` true as soon as one is true (Kleene).
* Values are compared as PS3.3 prose means: numbers by value (an IS "16" equals 16), text
  without padding, Attribute Tag values as ints.

References
----------
PS3.3 §5.4; PS3.5 §7.4.2 (Type 1C), §7.4.4 (Type 2C); Kleene's three-valued logic.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from typing import Final

import attrs

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.vr import VR
from dicompile.runtime.validate.conditions import (
    Absent,
    AmbiguousCode,
    And,
    Compare,
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
    Op,
    Or,
    Present,
    PrivateTagValue,
    TagPath,
    Undecidable,
)

# Code Sequence Item attributes (PS3.3 §8.8, Table 8.8-1a).
_CODE_VALUES: Final = (0x00080100, 0x00080119, 0x00080120)  # Code Value, Long, URN
_CODING_SCHEME_DESIGNATOR: Final = 0x00080102
_CODING_SCHEME_VERSION: Final = 0x00080103
_CODE_VALUE_PATHS: Final = tuple((tag,) for tag in _CODE_VALUES)
_URN_OR_URL: Final = re.compile(r"^(?:urn:|[a-z][a-z0-9+.-]*://)", re.IGNORECASE)


class InstanceCodes:
    """The Coding Scheme Versions each (designator, code value) has in one SOP Instance.

    Built on first use by walking every Sequence Item of the instance once, then shared by
    all the scopes of that instance (a comprehensive SR holds thousands of Code Sequence
    Items; walking the instance for each one would be quadratic).
    """

    __slots__ = ("_root", "_versions")

    def __init__(self, root: Dataset) -> None:
        self._root = root
        self._versions: dict[tuple[str, str], set[str]] | None = None

    def versions(self, scheme: str, value: str) -> frozenset[str]:
        """The distinct non-empty versions the instance gives ``value`` of ``scheme``."""
        if self._versions is None:
            self._versions = {}
            self._collect(self._root)
        return frozenset(self._versions.get((scheme, value), ()))

    def _collect(self, dataset: Dataset) -> None:
        assert self._versions is not None
        here = Scope(dataset, codes=self)  # the Item alone: no enclosing Data Sets
        scheme = _first_text(here, ((_CODING_SCHEME_DESIGNATOR,),))
        value = _first_text(here, _CODE_VALUE_PATHS)
        if scheme is not None and value is not None:
            found = self._versions.setdefault((scheme, value), set())
            version = _first_text(here, ((_CODING_SCHEME_VERSION,),))
            if version:
                found.add(version)
        for element in dataset:
            if element.vr is VR.SQ:
                for item in _items(element):
                    self._collect(item)


@attrs.frozen(slots=True)
class Scope:
    """A Data Set or Item and the Data Sets that enclose it (innermost first).

    ``codes`` is shared by every scope of one SOP Instance (see :class:`InstanceCodes`).
    """

    dataset: Dataset
    outer: tuple[Dataset, ...] = ()
    codes: InstanceCodes = attrs.field(
        default=attrs.Factory(lambda scope: InstanceCodes(scope.root), takes_self=True),
        eq=False,
    )

    @property
    def root(self) -> Dataset:
        """The outermost Data Set: the SOP Instance."""
        return self.outer[-1] if self.outer else self.dataset

    def inner(self, item: Dataset) -> Scope:
        """The scope of an Item of a Sequence of this Data Set."""
        return Scope(item, (self.dataset, *self.outer), self.codes)

    def find(self, tag: int) -> DataElement | None:
        """The element ``tag`` of the holder, else of the nearest enclosing Data Set."""
        element = self.dataset.get(tag)
        if element is not None:
            return element
        for outer in self.outer:
            element = outer.get(tag)
            if element is not None:
                return element
        return None


def _holders(scope: Scope, path: TagPath) -> Iterator[tuple[Dataset | None, int]]:
    """(Data Set holding the leaf, leaf tag) for each Item reached along ``path``."""
    if len(path) == 1:
        tag = path[0]
        element = scope.find(tag)
        yield (None if element is None else _owner(scope, tag)), tag
        return
    first = scope.find(path[0])
    if first is None:
        return
    datasets: list[Dataset] = [i for i in _items(first)]
    for tag in path[1:-1]:
        nxt: list[Dataset] = []
        for ds in datasets:
            element = ds.get(tag)
            if element is not None:
                nxt.extend(_items(element))
        datasets = nxt
    for ds in datasets:
        yield ds, path[-1]


def _owner(scope: Scope, tag: int) -> Dataset | None:
    if tag in scope.dataset:
        return scope.dataset
    for outer in scope.outer:
        if tag in outer:
            return outer
    return None


def _items(element: DataElement) -> list[Dataset]:
    value = element.value
    return list(value) if isinstance(value, Sequence) else []


def _elements(scope: Scope, path: TagPath) -> Iterator[DataElement]:
    for holder, tag in _holders(scope, path):
        if holder is not None:
            element = holder.get(tag)
            if element is not None:
                yield element


def _values(element: DataElement) -> tuple[object, ...]:
    value = element.value
    if isinstance(value, Sequence):
        return ()
    return element.values


def _has_value(element: DataElement) -> bool:
    value = element.value
    if isinstance(value, Sequence):
        return len(value) > 0
    return value is not None and value != b"" and value != ""


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def same_value(actual: object, literal: Literal) -> bool:
    """Equality as PS3.3 prose means it: numbers by value, strings without padding."""
    if isinstance(literal, int):  # an Attribute Tag
        return isinstance(actual, int) and actual == literal
    if isinstance(actual, int | float) and not isinstance(actual, bool):
        number = _number(literal)
        return number is not None and float(actual) == number
    return str(actual).strip(" \x00") == literal.strip()


def _selected(values: tuple[object, ...], index: int | None) -> tuple[object, ...]:
    if index is None:
        return values
    return (values[index - 1],) if 0 < index <= len(values) else ()


_COMPARE: Final[dict[Op, Callable[[float, float], bool]]] = {
    Op.LT: lambda a, b: a < b,
    Op.LE: lambda a, b: a <= b,
    Op.GT: lambda a, b: a > b,
    Op.GE: lambda a, b: a >= b,
    Op.EQ: lambda a, b: a == b,
    Op.NE: lambda a, b: a != b,
}


def _first_text(scope: Scope, paths: tuple[TagPath, ...]) -> str | None:
    for path in paths:
        for element in _elements(scope, path):
            values = _values(element)
            if values:
                return str(values[0]).strip()
    return None


def _has_code(item: Dataset, value: str, scheme: str) -> bool:
    schemes = item.get(_CODING_SCHEME_DESIGNATOR)
    if schemes is None or not any(same_value(s, scheme) for s in _values(schemes)):
        return False
    for tag in _CODE_VALUES:
        element = item.get(tag)
        if element is not None and any(same_value(v, value) for v in _values(element)):
            return True
    return False


def _leaf(expr: Expr, scope: Scope) -> bool:
    if isinstance(expr, Present):
        return any(True for _ in _elements(scope, expr.path))
    if isinstance(expr, Absent):
        return not any(True for _ in _elements(scope, expr.path))
    if isinstance(expr, HasValue):
        return any(_has_value(e) for e in _elements(scope, expr.path))
    if isinstance(expr, Empty):
        return any(not _has_value(e) for e in _elements(scope, expr.path))
    if isinstance(expr, Equals | OneOf):
        literals = (expr.value,) if isinstance(expr, Equals) else expr.values
        return any(
            same_value(actual, literal)
            for e in _elements(scope, expr.path)
            for actual in _selected(_values(e), expr.value_index)
            for literal in literals
        )
    if isinstance(expr, Compare):
        test, threshold = _COMPARE[expr.op], float(expr.value)
        return any(
            (number := _number(actual)) is not None and test(number, threshold)
            for e in _elements(scope, expr.path)
            for actual in _selected(_values(e), expr.value_index)
        )
    if isinstance(expr, CountCompare):
        test, count = _COMPARE[expr.op], float(expr.count)
        for e in _elements(scope, expr.path):
            value = e.value
            n = len(value) if isinstance(value, Sequence) else len(_values(e))
            if test(float(n), count):
                return True
        return False
    if isinstance(expr, LengthCompare):
        text = _first_text(scope, expr.paths)
        return text is not None and _COMPARE[expr.op](float(len(text)), float(expr.length))
    if isinstance(expr, IsUrnOrUrl):
        text = _first_text(scope, expr.paths)
        return text is not None and _URN_OR_URL.match(text) is not None
    if isinstance(expr, ContainsCode):
        return any(
            _has_code(item, code.value, code.scheme)
            for e in _elements(scope, expr.path)
            for item in _items(e)
            for code in expr.codes
        )
    if isinstance(expr, PrivateTagValue):
        return any(
            isinstance(a, int) and (a >> 16) % 2 == 1
            for e in _elements(scope, expr.path)
            for a in _values(e)
        )
    if isinstance(expr, AmbiguousCode):
        scheme = _first_text(scope, (expr.designator,))
        value = _first_text(scope, expr.values)
        if not scheme or not value:
            return False
        return len(scope.codes.versions(scheme, value)) > 1
    raise TypeError(f"not a condition leaf: {expr!r}")


def evaluate_expr(expr: Expr, scope: Scope) -> bool | None:
    """The truth of ``expr`` in ``scope``: ``True``, ``False`` or ``None`` (undecidable).

    References
    ----------
    PS3.3 §5.4, PS3.5 §7.4; Kleene's three-valued logic.
    """
    if isinstance(expr, Undecidable):
        return None
    if isinstance(expr, Not):
        inner = evaluate_expr(expr.operand, scope)
        return None if inner is None else not inner
    if isinstance(expr, And):
        unknown = False
        for operand in expr.operands:
            result = evaluate_expr(operand, scope)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True
    if isinstance(expr, Or):
        unknown = False
        for operand in expr.operands:
            result = evaluate_expr(operand, scope)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False
    return _leaf(expr, scope)


class Presence(enum.Enum):
    """What a condition demands of one attribute (or module) in one Data Set."""

    REQUIRED = "required"
    OPTIONAL = "may be present"
    FORBIDDEN = "shall not be present"
    UNKNOWN = "not decidable"


@attrs.frozen(slots=True)
class Verdict:
    """``required``: must be present; ``allowed``: may be present; ``None`` where unknown."""

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


def verdict(condition: Condition, scope: Scope) -> Verdict:
    """Whether a conditional attribute must, may or must not be present in ``scope``.

    When the condition is not met the attribute shall not be included, unless the text says
    "May be present otherwise" or a "May be present if …" sentence holds.

    References
    ----------
    PS3.5 §7.4.2, §7.4.4.
    """
    forbidden = (
        evaluate_expr(condition.not_present_if, scope)
        if condition.not_present_if is not None
        else False
    )
    if forbidden:
        return Verdict(required=False, allowed=False)
    required = (
        evaluate_expr(condition.required_if, scope) if condition.required_if is not None else False
    )
    if required:
        return Verdict(required=True, allowed=True)
    allowed: bool | None
    if condition.otherwise_may_be_present:
        allowed = True
    elif condition.may_be_present_if is not None:
        may = evaluate_expr(condition.may_be_present_if, scope)
        allowed = True if may else (None if may is None or required is None else False)
    else:
        allowed = None if required is None else False
    if forbidden is None and allowed:
        allowed = None
    return Verdict(required=required, allowed=allowed)
