"""The errata register (generator/errata.py) is complete and says where each correction is."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

from dicompile.generator.errata import REGISTER

GENERATOR = Path(__file__).resolve().parents[2] / "generator"
# "# ERRATUM: PS3.6 2013 Table A-1 …", "# ERRATUM (rendition): PS3.3 2020 Table C.8-44 …",
# "# ERRATUM: PS3.8 2013 Tables 9-6 to 9-9 …"
_COMMENT = re.compile(
    r"#\s*ERRATUM[^:]*:\s*PS3\.(\d+) (\d{4}[a-z]?) Tables? ([A-Z]{0,2}[\d.]*-\d+)"
)


def _comments() -> list[tuple[str, str, str, str]]:
    found = []
    for path in sorted(GENERATOR.rglob("*.py")):
        for match in _COMMENT.finditer(path.read_text(encoding="utf-8")):
            part, edition, table = match.groups()
            found.append((path.name, f"PS3.{part}", edition, f"table_{table}"))
    return found


def test_every_erratum_comment_is_registered() -> None:
    comments = _comments()
    assert len(comments) >= 10  # the comments are found at all
    registered = {(e.part, e.edition, e.table_id) for e in REGISTER}
    missing = [c for c in comments if c[1:] not in registered]
    assert missing == []


def test_every_entry_is_corrected_where_it_says() -> None:
    for erratum in REGISTER:
        source = inspect.getsource(importlib.import_module(erratum.corrected_by))
        number = erratum.table_id.removeprefix("table_")
        assert "ERRATUM" in source, erratum
        assert re.search(rf"Tables? {re.escape(number)}\b", source), erratum


def test_register_is_sorted_and_distinct() -> None:
    keys = [(e.part, e.edition, e.table_id, e.where) for e in REGISTER]
    assert keys == sorted(keys)
    assert len(set(REGISTER)) == len(REGISTER)
    assert {e.part for e in REGISTER} == {"PS3.3", "PS3.4", "PS3.6", "PS3.8"}


def test_cli_lists_the_register_as_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dicompile.runtime.cli", "standard", "errata", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [tuple(r.values()) for r in rows] == [
        (e.part, e.edition, e.table_id, e.where, e.description, e.corrected_by) for e in REGISTER
    ]
