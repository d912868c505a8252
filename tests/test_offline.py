"""Guard: the test suite never reaches for the network (the brief: no test reaches the internet).

pydicom's ``get_testdata_files``/``get_charset_files`` try to download the pydicom-data set
and, offline, retry with sleeps during collection; tests use ``tests/pydicom_files.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
_DOWNLOADING_CALL = re.compile(r"\b(get_testdata_files|get_charset_files)\s*\(")


def test_no_test_lists_pydicom_data_through_its_downloader() -> None:
    offenders = sorted(
        f"{path.relative_to(TESTS)}:{number}"
        for path in TESTS.rglob("*.py")
        if path.name != "test_offline.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _DOWNLOADING_CALL.search(line) and not line.lstrip().startswith("#")
    )
    assert offenders == [], f"use tests/pydicom_files.py instead: {offenders}"
