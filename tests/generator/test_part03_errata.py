"""The PS3.3 errata register: each erratum is still in the excerpt, and the pass corrects it."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from dicompile.generator.iod_model import IssueKind, MacroInclude, Part03Model, tag_paths, walk
from dicompile.generator.passes.link_iods import link_part03
from dicompile.generator.passes.part03_errata import (
    ERRATA,
    PATH_ERRATA,
    PathErratum,
    apply_part03_errata,
    apply_path_errata,
    path_reads_as,
    reads_as,
)
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


# --- path errata of the 2020 JSON rendition -------------------------------------------------


@pytest.fixture(scope="module")
def rendition(json_2020: Path) -> Part03Model:
    from dicompile.generator.sources.json_part03 import read_json_part03

    return read_json_part03(json_2020)


@pytest.mark.parametrize("erratum", PATH_ERRATA, ids=lambda e: e.table_id)
def test_path_errata_still_in_the_rendition(rendition: Part03Model, erratum: object) -> None:
    """Fails once the rendition in ../shared is fixed: then remove the entry."""
    assert isinstance(erratum, PathErratum)
    assert rendition.edition == erratum.edition
    assert path_reads_as(rendition.attribute_table(erratum.table_id).entries, erratum)


def test_rt_roi_observations_item_is_restored(rendition: Part03Model) -> None:
    # PS3.3 Table C.8-44 (C.8.8.8): the General Anatomy Optional Macro and the attributes
    # after it are in the Item of RT ROI Observations Sequence (3006,0080).
    before = tag_paths(rendition.attribute_table("table_C.8-44").entries)
    assert {"00082218", "00082228/300600A4", "00082228/300600B0/300600B6/300600B7"} <= before

    fixed = apply_path_errata(rendition)
    table = fixed.attribute_table("table_C.8-44")
    paths = tag_paths(table.entries)
    assert table.expanded is not None and tag_paths(table.expanded) == paths
    assert {
        "30060080/00082218/00082220",
        "30060080/00082228/00082230",
        "30060080/00620003/00080100",
        "30060080/30060086/00620011",
        "30060080/300600A0/30060082",
        "30060080/300600A4",
        "30060080/300600A6",
        "30060080/300A00E1",
        "30060080/300600B0/300600B6/300600B8",
    } <= paths
    assert not {p for p in paths if p.startswith(("00082218", "00082228"))}
    assert not {p for p in paths if "00082228/3006" in p or "00082228/0062" in p}
    assert len(paths) == len(before)  # moved, nothing lost or added
    # The Item keeps the standard's order: the macro after RT Related ROI Sequence, then the rest.
    (sequence,) = [e for e in table.entries if e.path == "30060080"]
    order = [e.path.rpartition("/")[2] for e in sequence.children]
    assert order[order.index("30060030") :] == [
        "30060030",
        "00082218",
        "00082228",
        "00620003",
        "30060086",
        "300600A0",
        "300600A4",
        "300600A6",
        "300A00E1",
        "300600B0",
    ]
    reported = [
        i
        for i in fixed.issues
        if i.kind is IssueKind.ERRATUM and i.provenance.table_id == "table_C.8-44"
    ]
    assert len(reported) == 1
    # Corrected text no longer reads as the erratum says: a second run changes nothing.
    assert apply_path_errata(fixed).modules == fixed.modules


def test_x_ray_grid_description_is_in_the_grid_item(rendition: Part03Model) -> None:
    # PS3.3 Table C.8.31.7-1: ">Include Table C.8-36b" in the X-Ray Grid Sequence Item.
    fixed = apply_path_errata(rendition)
    paths = tag_paths(fixed.attribute_table("table_C.8.31.7-1").entries)
    assert paths == {"00189555", "00189555/00181166"} | {
        f"00189555/{tag}"
        for tag in (
            "00187040",
            "00187041",
            "00187042",
            "00187044",
            "00187046",
            "00187048",
            "0018704C",
            "00181006",
        )
    }
