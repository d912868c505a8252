"""Fixtures shared by every test package.

The standard's sources live in ``../shared`` beside the clone (CI always has them; a user's
clone may not).  Tests that read them take the ``shared_dir`` fixture, which skips with the
reason when the folder is missing.  ``DICOMPILE_SHARED`` overrides the location.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def find_shared_dir() -> Path | None:
    """``$DICOMPILE_SHARED`` or ``../shared`` beside the repository, if it exists."""
    configured = os.environ.get("DICOMPILE_SHARED")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only folder of the standard's sources; skips the test when it is absent."""
    found = find_shared_dir()
    if found is None:
        pytest.skip(
            "../shared (the standard's DocBook and JSON sources) is not beside this clone; "
            "set DICOMPILE_SHARED to run the tests that read it"
        )
    return found


@pytest.fixture(scope="session")
def xml_2013(shared_dir: Path) -> Path:
    """``../shared/standard-xml/2013``: the official 2013 DocBook parts."""
    return shared_dir / "standard-xml" / "2013"


@pytest.fixture(scope="session")
def part03_2016c(shared_dir: Path) -> Path:
    """The PS3.3 2016c DocBook excerpt (four IODs and what they reference)."""
    return shared_dir / "standard-xml" / "2016c-part03-excerpt" / "part03.xml"


@pytest.fixture(scope="session")
def json_2020(shared_dir: Path) -> Path:
    """``../shared/standard-json/innolitics-2020``: the JSON rendition of PS3.3/PS3.6."""
    return shared_dir / "standard-json" / "innolitics-2020"
