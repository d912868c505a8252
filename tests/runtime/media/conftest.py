"""Fixtures of the media tests: run the atomic write paths both ways.

``file_kind`` runs a test once with the unnamed (``O_TMPFILE``) file of Linux and once with
the named temporary file used elsewhere, forced by making ``open(O_TMPFILE)`` fail as a file
system without it does (EOPNOTSUPP).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from atomic_support import force_named, unnamed_supported


@pytest.fixture(params=["unnamed", "named"])
def file_kind(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """``"unnamed"`` (O_TMPFILE, skipped where unsupported) or ``"named"`` (forced)."""
    kind: str = request.param
    if kind == "named":
        force_named(monkeypatch)
    elif not unnamed_supported(tmp_path):
        pytest.skip(f"O_TMPFILE and /proc/self/fd are not usable in {tmp_path}")
    return kind
