"""Emitter of the generated package's own files: ``__init__.py`` and the ``py.typed`` marker."""

from __future__ import annotations

from dicompile.generator.emit.render import GeneratedFile, header, render
from dicompile.generator.model import StandardModel


def emit_package(model: StandardModel) -> list[GeneratedFile]:
    """Render ``__init__.py`` (naming every source of the standard set) and ``py.typed``."""
    return [
        render("package_init.py.j2", "__init__.py", header=header(model.sources)),
        GeneratedFile("py.typed", ""),
    ]
