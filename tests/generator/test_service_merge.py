"""Merging the JSON rendition's Storage SOP classes into the PS3.4 model, and the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dicompile.generator.model import ConflictKind, Provenance, SourceDigest
from dicompile.generator.service_merge import merge_storage_sops, read_storage_sops
from dicompile.generator.service_model import ServiceClassDef, ServiceModel, SOPClassDef
from dicompile.generator.services_summary import load_services, summarise
from dicompile.runtime.errors import StandardSourceError

STORAGE = "Storage Service Class"


def _docbook(uid: str, name: str, row: int, *, retired: bool = False) -> SOPClassDef:
    return SOPClassDef(
        uid=uid,
        name=name,
        service_class=STORAGE,
        provenance=Provenance("PS3.4", "2013", "table_B.5-1", "2013/part04.xml", row),
        retired=retired,
        iod_section="A.3",
    )


@pytest.fixture
def small_model() -> ServiceModel:
    where = Provenance("PS3.4", "2013", "chapter_B", "2013/part04.xml")
    media = SOPClassDef(
        "1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", "Media Storage Service Class", where
    )
    return ServiceModel(
        sources=(SourceDigest("PS3.4", "2013", "2013/part04.xml", "00", ("table_B.5-1",)),),
        service_classes=(ServiceClassDef(STORAGE, "B", False, where),),
        sop_classes=(
            media,
            _docbook("1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", 1),
            _docbook("1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR", 2),
            _docbook("1.2.840.10008.5.1.4.43.1", "Generic Implant Template Storage", 3),
            _docbook("1.2.840.10008.5.1.4.1.1.6", "Ultrasound Image Storage", 1, retired=True),
        ),
    )


def _write(tmp_path: Path, entries: object) -> Path:
    folder = tmp_path / "innolitics-2020"
    folder.mkdir()
    path = folder / "sops.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_merge_newer_wins_and_reports(tmp_path: Path, small_model: ServiceModel) -> None:
    path = _write(
        tmp_path,
        [
            {"name": "CT Image Storage", "id": "1.2.840.10008.5.1.4.1.1.2", "ciod": "CT Image"},
            {
                "name": "Basic Text SR Storage",
                "id": "1.2.840.10008.5.1.4.1.1.88.11",
                "ciod": "Basic Text SR",
            },
            {
                "name": "Parametric Map Storage",
                "id": "1.2.840.10008.5.1.4.1.1.30",
                "ciod": "Parametric Map",
            },
            {"name": "Again", "id": "1.2.840.10008.5.1.4.1.1.30", "ciod": "Parametric Map"},
        ],
    )
    rendition = read_storage_sops(path, STORAGE)
    assert rendition.source.edition == "2020"  # from the folder name
    merged = merge_storage_sops(small_model, rendition)
    storage = {s.uid: s for s in merged.sop_classes if s.service_class == STORAGE}
    ct = storage["1.2.840.10008.5.1.4.1.1.2"]
    # The newer record wins; the field it lacks (the PS3.3 section) comes from the older one.
    assert (ct.provenance.edition, ct.iod, ct.iod_section) == ("2020", "CT Image", "A.3")
    assert storage["1.2.840.10008.5.1.4.1.1.88.11"].name == "Basic Text SR Storage"
    assert storage["1.2.840.10008.5.1.4.1.1.30"].name == "Parametric Map Storage"  # added
    assert storage["1.2.840.10008.5.1.4.43.1"].provenance.edition == "2013"  # kept
    assert storage["1.2.840.10008.5.1.4.1.1.6"].retired  # Table B.6-1: not compared
    kinds = sorted((c.kind.value, c.item, c.field) for c in merged.conflicts)
    assert kinds == [
        ("changed", "1.2.840.10008.5.1.4.1.1.88.11", "name"),
        ("dropped", "1.2.840.10008.5.1.4.43.1", ""),
        ("duplicate", "1.2.840.10008.5.1.4.1.1.30", ""),
    ]
    changed = next(c for c in merged.conflicts if c.kind is ConflictKind.CHANGED)
    assert (changed.kept_value, changed.other_value) == ("Basic Text SR Storage", "Basic Text SR")
    # Media Storage records are not touched, and the rendition joins the sources.
    assert merged.sop_classes[0].service_class == "Media Storage Service Class"
    assert [d.source_file for d in merged.sources] == [
        "2013/part04.xml",
        "innolitics-2020/sops.json",
    ]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"name": "x"}, "expected a JSON array"),
        (["x"], "expected an object"),
        ([{"name": "CT", "id": "1.2.840.10008.5.1.4.1.1.2"}], "missing or non-text fields"),
        ([{"name": "CT", "id": "1.2.840.10008.5.1.4.1.1.02", "ciod": "CT"}], "not a UID"),
    ],
)
def test_bad_rendition(tmp_path: Path, entries: object, message: str) -> None:
    with pytest.raises(StandardSourceError, match=message):
        read_storage_sops(_write(tmp_path, entries), STORAGE)


def test_golden_merge_and_summary(shared_dir: Path) -> None:
    model = load_services(shared_dir)
    storage = [s for s in model.sop_classes if s.service_class == STORAGE]
    # 110 current (Table B.5-1) and 4 retired (B.6-1) in 2013; 33 UIDs only the 2020 rendition
    # lists (checked by comparing the two sources' UID sets).
    assert len(storage) == 114 + 33
    changed = [c for c in model.conflicts if c.kind is ConflictKind.CHANGED]
    # 2013 names the SR classes without "Storage" ("Basic Text SR"), 2020 with.
    assert len(changed) == 10 and all(c.kept_value == c.other_value + " Storage" for c in changed)
    dropped = {c.item for c in model.conflicts if c.kind is ConflictKind.DROPPED}
    assert dropped == {
        "1.2.840.10008.5.1.4.43.1",
        "1.2.840.10008.5.1.4.44.1",
        "1.2.840.10008.5.1.4.45.1",
    }
    summary = summarise(model)
    assert summary.service_classes == 24 and summary.retired_service_classes == 4
    assert summary.worklist_keys == 125 - 11  # Table K.6-1 rows less its module headings
    levels = {(m, lv): n for m, lv, n in summary.query_keys}
    assert levels[("Patient Root Query/Retrieve Information Model", "PATIENT")] == 17
    assert levels[("Study Root Query/Retrieve Information Model", "STUDY")] == 44
    assert summary.statuses == len(model.statuses) > 0
    assert any(line.startswith("statuses: ") for line in summary.lines())
