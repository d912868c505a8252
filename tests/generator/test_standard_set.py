"""Merging sources into a standard set: the newer edition wins, every conflict is a record."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.generator.model import (
    ConflictKind,
    ContextGroupDef,
    DataElementDef,
    Provenance,
    SourceDigest,
    StandardModel,
    TagPattern,
    UIDDef,
)
from dicompile.generator.standard_set import merge


def _element(tag: str, edition: str, row: int, **fields: object) -> DataElementDef:
    values: dict[str, object] = {
        "name": "Patient's Name",
        "keyword": "PatientName",
        "vr": "PN",
        "vm": "1",
        "retired": False,
    }
    values.update(fields)
    return DataElementDef(
        tag=TagPattern.parse(tag),
        provenance=Provenance("PS3.6", edition, "table_6-1", f"{edition}/part06.xml", row),
        **values,  # type: ignore[arg-type]
    )


def _model(edition: str, *elements: DataElementDef, uids: tuple[UIDDef, ...] = ()) -> StandardModel:
    digest = SourceDigest("PS3.6", edition, f"{edition}/part06.xml", "0" * 64, ("table_6-1",))
    return StandardModel(sources=(digest,), data_elements=elements, uids=uids)


def test_newer_edition_wins_whatever_the_order() -> None:
    old = _model(
        "2013", _element("00081190", "2013", 1, name="Retrieve URL", keyword="RetrieveURL", vr="UT")
    )
    new = _model(
        "2020", _element("00081190", "2020", 7, name="Retrieve URL", keyword="RetrieveURL", vr="UR")
    )
    for models in ([old, new], [new, old]):
        merged = merge(models)
        (element,) = merged.data_elements
        assert element.vr == "UR"
        assert element.provenance.edition == "2020"
        (conflict,) = merged.conflicts
        assert conflict.kind is ConflictKind.CHANGED
        assert (conflict.field, conflict.kept_value, conflict.other_value) == ("vr", "UR", "UT")
        assert conflict.kept.edition == "2020" and conflict.other.edition == "2013"


def test_every_changed_field_is_reported() -> None:
    old = _model(
        "2013",
        _element(
            "00101000", "2013", 1, name="Other Patient IDs", keyword="OtherPatientIDs", vm="1-n"
        ),
    )
    new = _model(
        "2020",
        _element(
            "00101000",
            "2020",
            1,
            name="Other Patient IDs",
            keyword="OtherPatientIDs",
            vm="1",
            retired=True,
        ),
    )
    merged = merge([old, new])
    assert {(c.field, c.kept_value, c.other_value) for c in merged.conflicts} == {
        ("vm", "1", "1-n"),
        ("retired", "retired", "current"),
    }


def test_dropped_items_are_kept_and_reported() -> None:
    old = _model(
        "2013",
        _element("00100010", "2013", 1),
        _element("00100020", "2013", 2, keyword="PatientID"),
    )
    new = _model("2020", _element("00100010", "2020", 1))
    merged = merge([old, new])
    assert [e.tag.text for e in merged.data_elements] == ["00100010", "00100020"]
    (dropped,) = merged.conflicts
    assert dropped.kind is ConflictKind.DROPPED and dropped.item == "00100020"
    assert dropped.kept.edition == "2013"


def test_duplicates_within_a_source() -> None:
    model = _model(
        "2020", _element("00100010", "2020", 1), _element("00100010", "2020", 2, vr="LO")
    )
    merged = merge([model])
    (element,) = merged.data_elements
    assert element.vr == "PN" and element.provenance.row == 1
    assert merged.conflicts[0].kind is ConflictKind.DUPLICATE


def test_a_source_without_a_registry_drops_nothing() -> None:
    uid = UIDDef(
        "1.2.840.10008.1.1",
        "Verification SOP Class",
        "",
        "SOP Class",
        False,
        Provenance("PS3.6", "2013", "table_A-1", "2013/part06.xml", 1),
    )
    merged = merge([_model("2013", uids=(uid,)), _model("2020", _element("00100010", "2020", 1))])
    assert merged.uids == (uid,)
    assert merged.conflicts == ()


def test_sorted_output_and_sources() -> None:
    merged = merge(
        [
            _model(
                "2020",
                _element("60xx3000", "2020", 1, keyword="OverlayData"),
                _element("00100010", "2020", 2),
            ),
            _model("2013", _element("60003000", "2013", 3, keyword="X")),
        ]
    )
    assert [e.tag.text for e in merged.data_elements] == ["00100010", "60003000", "60xx3000"]
    assert [s.edition for s in merged.sources] == ["2013", "2020"]


def test_context_groups_merge_by_uid() -> None:
    prov = Provenance("PS3.6", "2013", "table_A-3", "2013/part06.xml", 1)
    group = ContextGroupDef("1.2.840.10008.6.1.2", 4, "Anatomic Region", "", prov)
    merged = merge([StandardModel(context_groups=(group,))])
    assert merged.context_groups == (group,)


@pytest.mark.shared
def test_real_standard_set_conflicts(xml_2013: Path, json_2020: Path) -> None:
    from dicompile.generator.sources.docbook.part06 import read_part06
    from dicompile.generator.sources.json_rendition import read_attributes

    merged = merge(
        [read_attributes(json_2020 / "attributes.json"), read_part06(xml_2013 / "part06.xml")]
    )
    assert len(merged.data_elements) == 4793  # the 2020 registry holds every 2013 tag
    assert all(e.provenance.edition == "2020" for e in merged.data_elements)
    changed = {(c.item, c.field): (c.kept_value, c.other_value) for c in merged.conflicts}
    assert all(c.kind is ConflictKind.CHANGED for c in merged.conflicts)
    # Edition changes between 2013 and 2020 that PS3.6 itself documents:
    assert changed[("00081190", "vr")] == ("UR", "UT")  # Retrieve URL: UT, then the UR VR
    assert changed[("00101000", "retired")] == ("retired", "current")  # Other Patient IDs
    assert ("006862F0", "keyword") in changed  # (0068,62F0) became a code sequence
    assert len(merged.conflicts) == 49


def test_registries_merge_does_not_know_are_carried_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dicompile.generator import standard_set
    from dicompile.generator.model import TransferSyntaxDef

    # Pretend transfer_syntaxes were a registry added by a new reader that merge() ignores.
    monkeypatch.setattr(
        standard_set, "_MERGED_FIELDS", standard_set._MERGED_FIELDS - {"transfer_syntaxes"}
    )
    ts = TransferSyntaxDef("1.2.840.10008.1.2", True, True, False, False)
    merged = merge([StandardModel(transfer_syntaxes=(ts,)), StandardModel(transfer_syntaxes=(ts,))])
    assert merged.transfer_syntaxes == (ts, ts)
