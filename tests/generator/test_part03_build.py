"""The PS3.3 build of the standard set from the folders in ../shared, and how fast it is."""

from __future__ import annotations

import time
from pathlib import Path

from dicompile.generator.iod_model import AttributeTable, ChangeKind, IssueKind
from dicompile.generator.part03_build import build_part03, read_part03_folder
from dicompile.generator.sources.json_rendition import read_attributes


def test_folders_without_part03(tmp_path: Path, xml_2013: Path) -> None:
    assert read_part03_folder(tmp_path) is None
    assert build_part03([tmp_path, xml_2013]) is None  # 2013 has no PS3.3 here


def test_whole_ps33_builds_fast(part03_2016c: Path, json_2020: Path) -> None:
    elements = read_attributes(json_2020 / "attributes.json").data_elements
    start = time.process_time()
    model = build_part03([part03_2016c.parent, json_2020], elements)
    took = time.process_time() - start
    assert model is not None
    # All of PS3.3 must generate in under 60 s; reading, linking, merging and naming both
    # sources takes about 2.5 s of CPU on the 2-core reference machine.
    assert took < 20, f"{took:.1f} s"
    assert (len(model.iods), len(model.modules), len(model.macros)) == (143, 375, 262)
    assert model.edition == "2020"
    assert {c.kind for c in model.conflicts} >= {ChangeKind.MODULE_ADDED, ChangeKind.ITEM_ADDED}
    errata = [i for i in model.issues if i.kind is IssueKind.ERRATUM]
    assert len(errata) == 5  # three row errata of 2016c, two path errata of the 2020 rendition
    # Every module and macro is linked; all rules are named from the dictionary but those of
    # the 2016c-only Table Content Item Macro.
    tables: tuple[AttributeTable, ...] = (*model.modules, *model.macros)
    assert all(t.expanded is not None for t in tables)
    unknown = {i.provenance.table_id for i in model.issues if i.kind is IssueKind.UNKNOWN_TAG}
    assert unknown == {"table_C.18.10-1"}
