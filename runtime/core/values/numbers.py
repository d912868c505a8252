"""Decimal String (DS) and Integer String (IS) values that keep their exact text.

:class:`DS` is a ``float`` and :class:`IS` an ``int``: they work wherever a number does,
and arithmetic on them gives plain numbers.  Each remembers the text it was read from, so
writing a value back gives the same characters (``"1.50"`` stays ``"1.50"``, not ``1.5``).

Cost per value (best of 7, CPython 3.11, 2-core shared dev machine; the slow test in
tests/runtime/core/test_values_numbers.py re-measures with loose bounds):

* DS from text: ``float()`` 40 ns, ``DS()`` ~200 ns, :func:`ds_values` ~110 ns,
  pydicom's ``DSfloat()`` ~550 ns;
* IS from text: ``int()`` 60 ns, ``IS()`` ~320 ns, :func:`is_values` ~190 ns, pydicom's
  ``IS()`` ~2100 ns.

The bulk functions skip the Python-level ``__new__``.  An ``IS`` whose text is the
canonical form of its number stores nothing extra; only ``"+5"``, ``"007"`` and the like
carry their text.

References
----------
PS3.5 Table 6.2-1 (DS: fixed or floating point, 16 bytes; IS: -2^31..2^31-1, 12 bytes).
"""

from __future__ import annotations

import decimal
import math
import struct
from collections.abc import Iterable
from typing import Final

#: Maximum bytes of one DS / IS value (PS3.5 Table 6.2-1).
DS_MAX_LENGTH: Final = 16
IS_MAX_LENGTH: Final = 12
IS_MIN: Final = -(2**31)
IS_MAX: Final = 2**31 - 1


def format_ds(value: float) -> str:
    """The shortest text for ``value`` that fits DS's 16 characters.

    ``repr`` is used when it fits (it round-trips exactly); otherwise the number is given
    with as many significant digits as fit.  NaN and infinities have no DS form.

    References
    ----------
    PS3.5 Table 6.2-1 (DS: 16 bytes maximum; ANSI X3.9 exponent form).
    """
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written as a DS (PS3.5 Table 6.2-1)")
    text = repr(float(value))
    if text.endswith(".0") and len(text) > DS_MAX_LENGTH:
        text = text[:-2]
    if len(text) <= DS_MAX_LENGTH:
        return text
    for digits in range(16, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= DS_MAX_LENGTH:
            if math.isinf(float(text)):
                # Rounded past the largest double: truncate instead.
                with decimal.localcontext() as context:
                    context.rounding = decimal.ROUND_DOWN
                    text = format(decimal.Decimal(value), f".{digits - 1}e")
            return text
    raise ValueError(f"{value!r} does not fit a 16-character DS")  # pragma: no cover


_FLOAT32: Final = struct.Struct("<f")


def format_float32(value: float) -> str:
    """The shortest decimal text that reads back as the same 32-bit float (FL, OF values).

    ``repr`` of an FL value read into a Python float shows the double nearest the float32
    (0.1 appears as ``0.10000000149011612``); this gives ``0.1``.  Non-finite values give
    ``repr`` (``nan``, ``inf``), which callers map to their format's spelling.

    References
    ----------
    PS3.5 Table 6.2-1 (FL: IEEE 754 32-bit).
    """
    if not math.isfinite(value):
        return repr(value)
    try:
        packed = _FLOAT32.pack(value)
    except OverflowError:
        return repr(value)  # not a float32 at all: show the double
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        try:
            if _FLOAT32.pack(float(text)) == packed:
                return repr(float(text))
        except OverflowError:  # rounded past the largest float32
            continue
    return repr(value)  # pragma: no cover - 9 significant digits always suffice


class DS(float):
    """A DS value: a ``float`` that remembers its text (``.text``).

    ``DS("1.50")`` has ``.text == "1.50"``; ``DS(1.5)`` formats its text with
    :func:`format_ds`.  Python's ``float()`` rules are used to read the text, so it
    accepts a few forms DS does not (``"nan"``, ``"1_0"``, surrounding white space);
    :func:`dicompile.runtime.core.values.validate.validate_value` reports those.

    References
    ----------
    PS3.5 Table 6.2-1 (DS).
    """

    __slots__ = ("text",)

    text: str

    def __new__(cls, value: str | float) -> DS:
        if isinstance(value, str):
            self = float.__new__(cls, value)
            self.text = value
        else:
            text = value.text if isinstance(value, DS) else format_ds(value)
            self = float.__new__(cls, value)
            self.text = text
        return self

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"DS({self.text!r})"

    def __reduce__(self) -> tuple[type[DS], tuple[str]]:
        return (DS, (self.text,))


_float_new: Final = float.__new__
_int_new: Final = int.__new__


def ds_values(texts: Iterable[str]) -> tuple[DS, ...]:
    """:class:`DS` values for already split and stripped texts, the fast way.

    Raises ValueError (from ``float``) on the first text that is not a number.
    """
    out: list[DS] = []
    append = out.append
    for text in texts:
        value = _float_new(DS, text)
        value.text = text
        append(value)
    return tuple(out)


def ds_value(text: str) -> DS:
    """One :class:`DS` for an already stripped text, the fast way (no ``__new__`` dispatch).

    Raises ValueError (from ``float``) when ``text`` is not a number.
    """
    value = _float_new(DS, text)
    value.text = text
    return value


def parse_ds(text: str) -> DS | None:
    """The DS for ``text``, or None when ``text`` is empty or not a number."""
    if not text:
        return None
    try:
        return DS(text)
    except ValueError:
        return None


def _is_canonical_int_text(text: str) -> bool:
    # The text str(int(text)) would give: no sign but "-", no leading zeros, no spaces.
    if not text.isascii():
        return False
    digits = text[1:] if text[:1] == "-" else text
    return digits.isdigit() and (text == "0" or digits[0] != "0")


class IS(int):
    """An IS value: an ``int`` that remembers its text when it is not the canonical one.

    ``IS("007").text == "007"``; ``IS("7").text == "7"`` without storing anything.  A text
    with a fraction of zero (``"1.0"``, seen in the wild) is read as that integer and keeps
    its text; other fractions raise ValueError.

    References
    ----------
    PS3.5 Table 6.2-1 (IS).
    """

    # No __slots__: int subclasses cannot have slots; the instance dict is created only
    # for the rare non-canonical texts.
    _original: str | None = None

    def __new__(cls, value: str | int) -> IS:
        if isinstance(value, str):
            try:
                self = int.__new__(cls, value)
            except ValueError:
                number = float(value)  # ValueError for non-numbers: the caller's to handle
                if not number.is_integer():
                    raise ValueError(f"IS value {value!r} is not an integer") from None
                self = int.__new__(cls, int(number))
            common = value.isdigit() and value.isascii() and (value[0] != "0" or len(value) == 1)
            if not common and not _is_canonical_int_text(value):
                self._original = value
            return self
        if isinstance(value, IS):
            return value
        return int.__new__(cls, value)

    @property
    def text(self) -> str:
        return self._original if self._original is not None else int.__repr__(self)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"IS({self.text!r})"

    def __reduce__(self) -> tuple[type[IS], tuple[str]]:
        return (IS, (self.text,))


def is_values(texts: Iterable[str]) -> tuple[IS, ...]:
    """:class:`IS` values for already split and stripped texts, the fast way.

    Raises ValueError on the first text that is not an integer.
    """
    out: list[IS] = []
    append = out.append
    for text in texts:
        try:
            value = _int_new(IS, text)
        except ValueError:
            value = IS(text)
        else:
            # Inline test of the common canonical form (digits, no leading zero) first.
            common = text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1)
            if not common and not _is_canonical_int_text(text):
                value._original = text
        append(value)
    return tuple(out)


def is_value(text: str) -> IS:
    """One :class:`IS` for an already stripped text, the fast way (see :func:`is_values`).

    Raises ValueError when ``text`` is not an integer.
    """
    try:
        value = _int_new(IS, text)
    except ValueError:
        return IS(text)
    common = text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1)
    if not common and not _is_canonical_int_text(text):
        value._original = text
    return value


def parse_is(text: str) -> IS | None:
    """The IS for ``text``, or None when ``text`` is empty or not an integer."""
    if not text:
        return None
    try:
        return IS(text)
    except ValueError:
        return None
