"""The PS3.3 errata register: each erratum is still in the excerpt, and the pass corrects it."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from dicompile.generator.iod_model import IssueKind, MacroInclude, Part03Model, tag_paths, walk
from dicompile.generator.passes.link_iods import link_part03
from dicompile.generator.passes.part03_errata import ERRATA, apply_part03_errata, reads_as
from dicompile.generator.sources.docbook.part03 import read_part03


@pytest.fixture(scope="module")
def raw(part03_2016c: Path) -> Part03Model:
    return read_part03(part03_2016c)


@pytest.mark.parametrize("erratum", ERRATA, ids=lambda e: f"{e.table_id}-{e.rows[0]}")
def test_errata_still_in_the_source(raw: Part03Model, erratum: object) -> None:
    """Fails once the edition in ../shared is fixed: then remove the entry."""
    from dicompile.generator.passes.part03_errata import Part03Erratum

    assert isinstance(erratum, Part03Erratum)
    assert raw.edition == erratum.edition
    assert reads_as(raw.attribute_table(erratum.table_id).entries, erratum)


def test_corrections(raw: Part03Model) -> None:
    fixed = apply_part03_errata(raw)
    reported = [i for i in fixed.issues if i.kind is IssueKind.ERRATUM]
    assert sorted((i.provenance.table_id, i.provenance.row or 0) for i in reported) == [
        ("table_10-18", 8),
        ("table_C.12-1", 19),
        ("table_C.12-1", 24),
    ]
    linked = link_part03(fixed)
    sop = linked.attribute_table("table_C.12-1")
    assert sop.expanded is not None
    paths = tag_paths(sop.expanded)
    assert {"00080123/0008010F", "00080123/00080106", "00080124/00080105"} <= paths
    assert "00080105" not in paths and "0008010F" not in paths
    issuer = linked.attribute_table("table_10-18")
    assert [e.target for e in walk(issuer.entries) if isinstance(e, MacroInclude)].count(
        "table_10-18"
    ) == 0
    kinds = {
        i.kind for i in linked.issues if i.provenance.table_id in ("table_10-18", "table_C.12-1")
    }
    assert IssueKind.INCLUDE_CYCLE not in kinds and IssueKind.DUPLICATE_ATTRIBUTE not in kinds
    # Corrected text no longer reads as the erratum says: a second run changes nothing.
    assert apply_part03_errata(fixed).modules == fixed.modules


def test_other_editions_are_left_alone(raw: Part03Model) -> None:
    later = attrs.evolve(
        raw,
        modules=tuple(
            attrs.evolve(m, provenance=attrs.evolve(m.provenance, edition="2017a"))
            for m in raw.modules
        ),
    )
    assert apply_part03_errata(later).modules == later.modules
