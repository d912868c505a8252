"""Guards on the package layout that the dev machine's symlinked tree would hide.

setup.py installs only folders that are regular packages (with ``__init__.py``); a folder of
modules without one works from a source tree (implicit namespace package) but is missing from
an installed or strict-editable dicompile, which is what CI and users get.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_module_folder_is_a_regular_package() -> None:
    missing = sorted(
        str(folder.relative_to(REPO))
        for top in ("generator", "runtime", "generated")
        for folder in [REPO / top, *(p for p in (REPO / top).rglob("*") if p.is_dir())]
        if "__pycache__" not in folder.parts
        and any(folder.glob("*.py"))
        and not (folder / "__init__.py").exists()
    )
    assert missing == [], f"folders with modules but no __init__.py: {missing}"
