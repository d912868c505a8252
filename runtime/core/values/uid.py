"""Unique Identifier (UI) checks and generation (PS3.5 §9, Annex B; Table 6.2-1 UI).

A UID is at most 64 characters of digits and ".", made of numeric components that are not
empty and have no leading zero (a component "0" alone is allowed).
"""

from __future__ import annotations

import uuid
from typing import Final

#: Maximum length of a UID (PS3.5 §9.1).
UID_MAX_LENGTH: Final = 64
#: Root of UIDs derived from a UUID (PS3.5 Annex B.2; ISO/IEC 9834-8).
UUID_ROOT: Final = "2.25."


def check_uid(text: str) -> list[str]:
    """The ways ``text`` breaks the UID rules; an empty list for a valid UID.

    Parameters
    ----------
    text:
        The UID without its NUL padding.

    References
    ----------
    PS3.5 §9.1 (UID encoding rules), Table 6.2-1 (UI: "0"-"9" and ".", 64 bytes).
    """
    problems: list[str] = []
    if not text:
        return ["a UID cannot be empty (PS3.5 §9.1)"]
    if len(text) > UID_MAX_LENGTH:
        problems.append(f"{len(text)} characters; a UID has at most 64 (PS3.5 §9.1)")
    bad = sorted({ch for ch in text if ch not in "0123456789."})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        problems.append(f"characters other than digits and '.': {shown} (PS3.5 §9.1)")
    components = text.split(".")
    if any(not component for component in components):
        problems.append("an empty component (a leading, trailing or doubled '.') (PS3.5 §9.1)")
    zeros = [c for c in components if len(c) > 1 and c[0] == "0" and c.isdigit()]
    if zeros:
        problems.append("components with a leading zero: " + ", ".join(zeros) + " (PS3.5 §9.1)")
    return problems


def is_valid_uid(text: str) -> bool:
    """True when :func:`check_uid` finds nothing."""
    return not check_uid(text)


def uid_from_uuid(value: uuid.UUID | None = None) -> str:
    """A UID under ``2.25`` made from ``value`` (a new random UUID by default).

    References
    ----------
    PS3.5 Annex B.2 (UUID-derived UIDs).
    """
    return UUID_ROOT + str((value or uuid.uuid4()).int)
