"""Build the PS3.3 standard set from ``--standard`` folders: read, correct, link, merge, name.

One call for the pipeline: every folder holding a DocBook ``part03.xml`` or the JSON
rendition's PS3.3 files (``ciods.json`` …) is read by its reader, corrected by the errata
register, linked, and the results are merged (newest edition wins, conflicts kept).  Given the
data dictionary, rules are then named and their tags checked against it.

    readers → part03_errata → link_iods → iod_merge → part03_names

References
----------
DESIGN.md (three stages, standard set); PS3.3 Annex A, Annex C, Chapter 10.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from dicompile.generator.iod_merge import merge_part03
from dicompile.generator.iod_model import Part03Model
from dicompile.generator.model import DataElementDef
from dicompile.generator.passes.link_iods import link_part03
from dicompile.generator.passes.part03_errata import apply_part03_errata
from dicompile.generator.passes.part03_names import name_part03_rules
from dicompile.generator.sources.docbook.part03 import read_part03
from dicompile.generator.sources.json_part03 import read_json_part03

DOCBOOK_FILE = "part03.xml"
JSON_MARKER = "ciods.json"


def read_part03_folder(folder: Path) -> Part03Model | None:
    """The PS3.3 model of one ``--standard`` folder, or ``None`` when it holds no PS3.3."""
    if (folder / DOCBOOK_FILE).is_file():
        return read_part03(folder / DOCBOOK_FILE)
    if (folder / JSON_MARKER).is_file():
        return read_json_part03(folder)
    return None


def build_part03(
    folders: Sequence[Path], elements: Iterable[DataElementDef] | None = None
) -> Part03Model | None:
    """Read, correct, link and merge the PS3.3 of ``folders``; name rules after ``elements``.

    Returns ``None`` when no folder holds PS3.3.

    References
    ----------
    DESIGN.md ("A standard set merges several sources"); PS3.3; PS3.6 §6.
    """
    models = [
        link_part03(apply_part03_errata(model))
        for model in (read_part03_folder(folder) for folder in folders)
        if model is not None
    ]
    if not models:
        return None
    merged = merge_part03(models)
    return name_part03_rules(merged, elements) if elements is not None else merged
