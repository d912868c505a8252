"""Counts of what the PS3.4 reader (and the Storage SOP class merge) produced, for reports.

``python -m dicompile.generator.services_summary [SHARED_DIR]`` reads PS3.4 2013 and the 2020
rendition's ``sops.json`` from ``../shared`` (or ``SHARED_DIR``) and prints the counts.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import attrs

from dicompile.generator.service_merge import merge_storage_sops, read_storage_sops
from dicompile.generator.service_model import ServiceModel
from dicompile.generator.sources.docbook.part04 import read_part04

WORKLIST_ANNEX = "K"  # Basic Worklist Management Service


@attrs.frozen
class ServicesSummary:
    """How many records of each kind a :class:`ServiceModel` holds.

    ``query_keys`` has one entry per level of each information model: (model, level, number
    of keys counting nested sequence keys and "All other Attributes" rows).
    """

    service_classes: int
    retired_service_classes: int
    sop_classes: int
    sop_classes_by_service: tuple[tuple[str, int], ...]
    well_known_instances: int
    information_models: int
    query_keys: tuple[tuple[str, str, int], ...]
    worklist_keys: int
    statuses: int
    statuses_by_operation: tuple[tuple[str, int], ...]
    attribute_tables: int
    attribute_requirements: int
    service_usages: int
    conflicts_by_kind: tuple[tuple[str, int], ...]

    def lines(self) -> list[str]:
        """The summary as text lines, for the lead's report."""
        out = [
            f"service classes: {self.service_classes} ({self.retired_service_classes} retired)",
            f"SOP classes: {self.sop_classes}",
            *(f"  {service}: {count}" for service, count in self.sop_classes_by_service),
            f"well-known SOP instances: {self.well_known_instances}",
            f"information models: {self.information_models}",
            *(f"  {model} / {level}: {count} keys" for model, level, count in self.query_keys),
            f"worklist keys (incl. nested): {self.worklist_keys}",
            f"statuses: {self.statuses}",
            *(f"  {operation}: {count}" for operation, count in self.statuses_by_operation),
            f"DIMSE-N attribute tables: {self.attribute_tables}"
            f" ({self.attribute_requirements} attribute requirements)",
            f"DIMSE service usages (SOP class x operation): {self.service_usages}",
            "conflicts: "
            + (", ".join(f"{kind} {count}" for kind, count in self.conflicts_by_kind) or "none"),
        ]
        return out


def summarise(model: ServiceModel) -> ServicesSummary:
    """Count the records of ``model`` (see :class:`ServicesSummary`)."""
    sop_by_service = Counter(s.service_class for s in model.sop_classes)
    worklist_services = {s.name for s in model.service_classes if s.annex == WORKLIST_ANNEX}
    query_keys = tuple(
        (im.name, level.value or "(one level)", sum(1 for _ in level.walk()))
        for im in model.information_models
        for level in im.levels
    )
    worklist_keys = sum(
        sum(1 for _ in level.walk())
        for im in model.information_models
        if im.service_class in worklist_services
        for level in im.levels
    )
    statuses_by_operation = Counter(s.operation.value for s in model.statuses)
    return ServicesSummary(
        service_classes=len(model.service_classes),
        retired_service_classes=sum(s.retired for s in model.service_classes),
        sop_classes=len(model.sop_classes),
        sop_classes_by_service=tuple(sorted(sop_by_service.items())),
        well_known_instances=len(model.well_known_instances),
        information_models=len(model.information_models),
        query_keys=query_keys,
        worklist_keys=worklist_keys,
        statuses=len(model.statuses),
        statuses_by_operation=tuple(sorted(statuses_by_operation.items())),
        attribute_tables=len(model.attribute_tables),
        attribute_requirements=sum(sum(1 for _ in t.walk()) for t in model.attribute_tables),
        service_usages=len(model.service_usages),
        conflicts_by_kind=tuple(sorted(Counter(c.kind.value for c in model.conflicts).items())),
    )


def load_services(shared: Path) -> ServiceModel:
    """PS3.4 2013 (DocBook) merged with the 2020 rendition's Storage SOP classes.

    References
    ----------
    PS3.4 2013 (``standard-xml/2013/part04.xml``); ``standard-json/innolitics-2020/sops.json``.
    """
    model = read_part04(shared / "standard-xml" / "2013" / "part04.xml")
    storage = model.service_class_by_annex("B").name
    sops = read_storage_sops(shared / "standard-json" / "innolitics-2020" / "sops.json", storage)
    return merge_storage_sops(model, sops)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    shared = Path(args[0]) if args else Path(__file__).resolve().parent.parent.parent / "shared"
    for line in summarise(load_services(shared)).lines():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
