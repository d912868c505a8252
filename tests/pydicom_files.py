"""pydicom's bundled test files, found on disk, for tests that use pydicom as an oracle.

pydicom's own ``get_testdata_files``/``get_charset_files`` also look for the files of the
separate pydicom-data set and try to download them; offline (CI, this workplace) each try
is retried with sleeps, which stalls test collection for minutes.  These helpers list only
what the installed pydicom package ships and never touch the network.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def _data_root() -> Path | None:
    try:
        import pydicom.data
    except ImportError:
        return None
    return Path(pydicom.data.__file__).parent


def bundled_files(pattern: str = "*.dcm") -> list[Path]:
    """Bundled files of ``pydicom/data/test_files`` matching ``pattern``, sorted."""
    root = _data_root()
    return sorted((root / "test_files").glob(pattern)) if root else []


def bundled_charset_files(pattern: str = "*.dcm") -> list[Path]:
    """Bundled files of ``pydicom/data/charset_files`` matching ``pattern``, sorted."""
    root = _data_root()
    return sorted((root / "charset_files").glob(pattern)) if root else []


def bundled_file(name: str) -> Path:
    """One bundled test file; skips the test when this pydicom install does not ship it."""
    root = _data_root()
    path = root / "test_files" / name if root else None
    if path is None or not path.is_file():
        pytest.skip(f"pydicom does not bundle {name} in this install")
    return path
