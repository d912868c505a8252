"""Helpers of the atomic write tests (tests/runtime/media): force either kind of new file.

:mod:`dicompile.runtime.media.atomic_file` uses an unnamed ``O_TMPFILE`` file on Linux and a
named temporary file elsewhere; :func:`force_named` makes ``open(O_TMPFILE)`` fail as a file
system without it does, so both paths run on one machine.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

#: The flag bits of O_TMPFILE (it includes O_DIRECTORY); 0 where the system has none.
O_TMPFILE: int = getattr(os, "O_TMPFILE", 0)


def is_unnamed_open(flags: int) -> bool:
    return bool(O_TMPFILE) and flags & O_TMPFILE == O_TMPFILE


def force_named(monkeypatch: pytest.MonkeyPatch, code: int = errno.EOPNOTSUPP) -> list[int]:
    """Make ``open(directory, O_TMPFILE)`` fail with ``code``; returns the refused flags."""
    real_open = os.open
    refused: list[int] = []

    def open_without_tmpfile(
        path: str | bytes | os.PathLike[str], flags: int, mode: int = 0o777, **kw: int | None
    ) -> int:
        if is_unnamed_open(flags):
            refused.append(flags)
            raise OSError(code, os.strerror(code))
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", open_without_tmpfile)
    return refused


def unnamed_supported(folder: Path) -> bool:
    """Whether ``folder`` can hold an O_TMPFILE inode that ``/proc`` can link."""
    if not O_TMPFILE or not Path("/proc/self/fd").is_dir():
        return False
    try:
        fd = os.open(folder, O_TMPFILE | os.O_WRONLY, 0o600)
    except OSError:
        return False
    os.close(fd)
    return True
