"""Checks of text values against their VR (PS3.5 §6.2, Table 6.2-1), returning problems.

:func:`validate_text` checks a whole decoded value field (padding, delimiters, each value);
:func:`validate_value` checks one value without its padding.  Neither raises: they return
:class:`~dicompile.runtime.core.values.problems.ValueProblem` records.

Lengths of the VRs whose repertoire can be extended (SH, LO, ST, LT, PN, UC, UT) are
counted in characters, the others in bytes, which for their ASCII repertoire is the same
(§6.2).  Escape sequences are not part of decoded text, so they are not counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from dicompile.runtime.core.values.age import parse_age
from dicompile.runtime.core.values.dates import DA as _DA
from dicompile.runtime.core.values.dates import DT as _DT
from dicompile.runtime.core.values.dates import TM as _TM
from dicompile.runtime.core.values.dates import parse_da, parse_dt, parse_range, parse_tm
from dicompile.runtime.core.values.numbers import IS_MAX, IS_MIN
from dicompile.runtime.core.values.person_name import PersonName
from dicompile.runtime.core.values.problems import ProblemKind, ValueProblem
from dicompile.runtime.core.values.text import SINGLE_VALUED
from dicompile.runtime.core.values.uid import check_uid
from dicompile.runtime.core.vr import VR, VR_INFO, VRKind

_DIGITS: Final = frozenset("0123456789")
_UPPER: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
#: The default repertoire's graphic characters and SPACE (ISO-IR 6, PS3.5 §6.1.2.1).
_DEFAULT_GRAPHIC: Final = frozenset(chr(code) for code in range(0x20, 0x7F))

#: Allowed characters of the VRs limited to part of the default repertoire (Table 6.2-1).
_REPERTOIRE: Final[dict[VR, frozenset[str]]] = {
    VR.AE: _DEFAULT_GRAPHIC - {"\\"},
    VR.AS: _DIGITS | frozenset("DWMY"),
    VR.CS: _UPPER | _DIGITS | frozenset(" _"),
    VR.DA: _DIGITS,
    VR.DS: _DIGITS | frozenset("+-Ee. "),
    VR.DT: _DIGITS | frozenset("+-. "),
    VR.IS: _DIGITS | frozenset("+- "),
    VR.TM: _DIGITS | frozenset(". "),
    VR.UI: _DIGITS | frozenset("."),
    # RFC 3986 unreserved, reserved and "%" (PS3.5 Table 6.2-1 UR, 2014+).
    VR.UR: _UPPER | _LOWER | _DIGITS | frozenset("-._~:/?#[]@!$&'()*+,;=%"),
}

#: Control characters a VR may hold besides ESC (Table 6.2-1; HT from later editions).
_TEXT_CONTROLS: Final = frozenset("\r\n\x0c\t\x1b")
_STRING_CONTROLS: Final = frozenset("\x1b")

_DS_FORMAT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_IS_FORMAT: Final = re.compile(r"[+-]?\d+")

#: Longer lengths allowed for range-matching keys (PS3.5 Table 6.2-1, PS3.4 C.2.2.2.5).
_QUERY_LENGTH: Final = {VR.DA: 18, VR.TM: 28, VR.DT: 54}


def _problem(
    kind: ProblemKind, message: str, index: int | None, reference: str = "PS3.5 Table 6.2-1"
) -> ValueProblem:
    return ValueProblem(kind, message, index, reference)


def _bad_characters(value: str, vr: VR) -> list[str]:
    allowed = _REPERTOIRE.get(vr)
    if allowed is not None:
        return sorted({ch for ch in value if ch not in allowed})
    controls = _TEXT_CONTROLS if vr in (VR.LT, VR.ST, VR.UT) else _STRING_CONTROLS
    if vr is VR.PN:
        controls = _STRING_CONTROLS
    return sorted(
        {
            ch
            for ch in value
            if (ch < " " and ch not in controls)
            or "\x7f" <= ch <= "\x9f"
            or (ch == "\\" and vr not in SINGLE_VALUED)
        }
    )


def _check_length(value: str, vr: VR, index: int | None, query: bool) -> list[ValueProblem]:
    limit = VR_INFO[vr].max_length
    if query and vr in _QUERY_LENGTH:
        limit = _QUERY_LENGTH[vr]
    if vr is VR.PN or limit is None or len(value) <= limit:
        return []  # PN is limited per component group: see PersonName.problems
    unit = "characters" if VR_INFO[vr].uses_charset else "bytes"
    return [_problem(ProblemKind.TOO_LONG, f"{len(value)} {unit}; {vr} allows {limit}", index)]


def _check_da(value: str, index: int | None) -> list[ValueProblem]:
    if parse_da(value) is None:
        return [_problem(ProblemKind.BAD_FORMAT, f"{value!r} is not a date YYYYMMDD", index)]
    if len(value) != 8:
        return [
            _problem(
                ProblemKind.NOT_COMPLIANT,
                f"{value!r} is the ACR-NEMA form YYYY.MM.DD, read but not compliant",
                index,
            )
        ]
    return []


def _check_tm(value: str, index: int | None) -> list[ValueProblem]:
    if parse_tm(value) is None:
        return [_problem(ProblemKind.BAD_FORMAT, f"{value!r} is not a time HHMMSS.FFFFFF", index)]
    if ":" in value:
        return [
            _problem(
                ProblemKind.NOT_COMPLIANT,
                f"{value!r} is the ACR-NEMA form HH:MM:SS, read but not compliant",
                index,
            )
        ]
    if value.endswith("."):
        return [_problem(ProblemKind.BAD_FORMAT, f"{value!r}: '.' without a fraction", index)]
    return []


def _check_dt(value: str, index: int | None) -> list[ValueProblem]:
    parsed = parse_dt(value)
    if parsed is None:
        return [
            _problem(
                ProblemKind.BAD_FORMAT,
                f"{value!r} is not a date-time YYYYMMDDHHMMSS.FFFFFF&ZZXX",
                index,
            )
        ]
    found: list[ValueProblem] = []
    body = value
    if len(value) > 5 and value[-5] in "+-":
        offset = value[-5:]
        body = value[:-5]
        minutes = int(offset[1:3]) * 60 + int(offset[3:])
        signed = -minutes if offset[0] == "-" else minutes
        if offset == "-0000":
            found.append(_problem(ProblemKind.BAD_FORMAT, "offset -0000 is not allowed", index))
        elif not -12 * 60 <= signed <= 14 * 60:
            found.append(
                _problem(
                    ProblemKind.OUT_OF_RANGE,
                    f"UTC offset {offset} outside -1200..+1400",
                    index,
                )
            )
    if body.endswith("."):
        found.append(_problem(ProblemKind.BAD_FORMAT, f"{value!r}: '.' without a fraction", index))
    return found


def _check_ds(value: str, index: int | None) -> list[ValueProblem]:
    if _DS_FORMAT.fullmatch(value) is None:
        return [_problem(ProblemKind.BAD_FORMAT, f"{value!r} is not a decimal number", index)]
    return []


def _check_is(value: str, index: int | None) -> list[ValueProblem]:
    if _IS_FORMAT.fullmatch(value) is None:
        return [_problem(ProblemKind.BAD_FORMAT, f"{value!r} is not an integer", index)]
    if not IS_MIN <= int(value) <= IS_MAX:
        return [_problem(ProblemKind.OUT_OF_RANGE, f"{value} outside -2^31..2^31-1", index)]
    return []


def _check_as(value: str, index: int | None) -> list[ValueProblem]:
    if len(value) != 4 or parse_age(value) is None:
        return [_problem(ProblemKind.BAD_FORMAT, f"{value!r} is not an age nnnD/W/M/Y", index)]
    return []


def _check_ui(value: str, index: int | None) -> list[ValueProblem]:
    return [
        _problem(ProblemKind.BAD_FORMAT, message, index, "PS3.5 §9.1")
        for message in check_uid(value)
    ]


def _check_ae(value: str, index: int | None) -> list[ValueProblem]:
    if value and not value.strip(" "):
        return [_problem(ProblemKind.BAD_FORMAT, "an AE title of spaces only", index)]
    return []


def _check_pn(value: str, index: int | None) -> list[ValueProblem]:
    return [
        ValueProblem(problem.kind, problem.message, index, problem.reference)
        for problem in PersonName(value).problems()
        if problem.kind is not ProblemKind.BAD_CHARACTER  # reported by the common check
    ]


_FORMAT_CHECKS: Final[dict[VR, Callable[[str, int | None], list[ValueProblem]]]] = {
    VR.AE: _check_ae,
    VR.AS: _check_as,
    VR.DA: _check_da,
    VR.DS: _check_ds,
    VR.DT: _check_dt,
    VR.IS: _check_is,
    VR.PN: _check_pn,
    VR.TM: _check_tm,
    VR.UI: _check_ui,
}

_RANGE_VRS: Final = frozenset({VR.DA, VR.TM, VR.DT})


def _is_range(value: str, vr: VR) -> bool:
    if vr is VR.DA:
        return parse_range(value, _DA) is not None
    if vr is VR.TM:
        return parse_range(value, _TM) is not None
    return parse_range(value, _DT) is not None


def validate_value(
    value: str, vr: VR, *, index: int | None = None, query: bool = False
) -> list[ValueProblem]:
    """Problems of one value (padding already removed) of a text VR.

    Parameters
    ----------
    value:
        One value, as :func:`~dicompile.runtime.core.values.text.split_values` gives it.
    vr:
        Its VR; a non-text VR gives a ValueError.
    index:
        The value's position, copied into the problems.
    query:
        A query key (PS3.4 C.2.2.2): DA, TM and DT may be ranges ``a-b`` with longer
        lengths; ``*`` and ``?`` wildcards are allowed in the string VRs.

    References
    ----------
    PS3.5 §6.2, Table 6.2-1; PS3.5 §9.1 (UI); PS3.4 C.2.2.2 (query keys).
    """
    if VR_INFO[vr].kind is not VRKind.TEXT:
        raise ValueError(f"{vr} is not a text VR")
    found = _check_length(value, vr, index, query)
    if query and vr in _RANGE_VRS and "-" in value:
        if not _is_range(value, vr):
            found.append(_problem(ProblemKind.BAD_FORMAT, f"{value!r} is not a range", index))
        return found
    checked = value.replace("*", "").replace("?", "") if query else value
    check = _FORMAT_CHECKS.get(vr)
    formatted = check(value, index) if check is not None and value and checked == value else []
    if any(problem.kind is ProblemKind.NOT_COMPLIANT for problem in formatted):
        # ACR-NEMA "." and ":" are outside the repertoire; say it once, as what it is.
        return found + formatted
    bad = _bad_characters(checked, vr)
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        message = f"characters not allowed in {vr}: {shown}"
        found.append(_problem(ProblemKind.BAD_CHARACTER, message, index))
        return found
    return found + formatted


def validate_text(text: str, vr: VR, *, query: bool = False) -> list[ValueProblem]:
    """Problems of a whole decoded value field: padding, delimiters, then each value.

    References
    ----------
    PS3.5 §6.2 (padding to even length: SPACE, NUL for UI), Table 6.2-1 (leading spaces
    not allowed in DA, DT, TM, UI, UR), §6.4 (backslash as the value delimiter).
    """
    found: list[ValueProblem] = []
    body = text
    if vr is VR.UI:
        if body.endswith("\x00"):
            body = body[:-1]
    elif body.rstrip("\x00 ") != body.rstrip(" "):
        found.append(
            _problem(
                ProblemKind.BAD_PADDING,
                f"{vr} padded with NUL instead of SPACE",
                None,
                "PS3.5 §6.2",
            )
        )
        body = body.rstrip("\x00 ")
    if vr is VR.AE and body and not body.strip(" "):
        found.append(_problem(ProblemKind.BAD_FORMAT, "an AE title of spaces only", None))
    if vr is not VR.UI:
        body = body.rstrip(" ")
    if not body:
        return found
    values = [body] if vr in SINGLE_VALUED else body.split("\\")
    leading_forbidden = vr in (VR.DA, VR.DT, VR.TM, VR.UI, VR.UR)
    for index, raw in enumerate(values):
        value = raw
        if vr in (VR.LT, VR.ST, VR.UT, VR.UR, VR.UC, VR.PN):
            value = raw.rstrip(" ")
        else:
            value = raw.strip(" ")
        if leading_forbidden and raw.startswith(" "):
            found.append(
                _problem(
                    ProblemKind.BAD_PADDING,
                    f"leading spaces are not allowed in {vr}",
                    index if len(values) > 1 else None,
                )
            )
        if vr is VR.UI and raw != raw.rstrip(" "):
            found.append(
                _problem(
                    ProblemKind.BAD_PADDING,
                    "UI is padded with NUL, not SPACE",
                    index if len(values) > 1 else None,
                    "PS3.5 §6.2",
                )
            )
        found += validate_value(value, vr, index=index if len(values) > 1 else None, query=query)
    return found
