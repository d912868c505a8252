"""Emitter of ``generated/services/``: one typed module per PS3.4 service class.

Theory of operation
-------------------
From a :class:`ServiceModel` (PS3.4 DocBook merged with the JSON rendition's Storage SOP
classes, ``services_summary.load_services``) it writes:

* ``services/base.py`` - the shared vocabulary (status enum base with ``classify``, handler
  results, key and attribute table rows), a fixed template;
* ``services/<service>.py`` per service class that defines anything (SOP classes, statuses,
  models, tables or DIMSE usages), the name snake-cased from the annex title
  (``Query/Retrieve Service Class`` -> ``query_retrieve``).  It holds the SOP class and
  well-known instance UIDs as ``Final`` constants, one status enum per operation and scope
  (``FindStatus``, ``BasicFilmSessionNActionStatus``), Action/Event Type ``IntEnum`` s, and per
  *group* - the SOP classes of a storage-like service class, an information model, or one
  DIMSE-N SOP class - ``typing.Protocol`` s: ``<Group>SCP`` (the handlers an application
  implements), ``<Group>SCU`` (the calls a client offers), and for N-EVENT-REPORT
  ``<Group>EventHandler`` (implemented on the SCU side) and ``<Group>Notifier``; and, for the
  runtime's dispatch, ``OPERATIONS`` (SOP class UID -> DIMSE services) and ``SCP_PROTOCOLS``
  (SOP class UID -> name of the SCP protocol);
* ``services/<service>_keys.py`` - the information models with their levels and nested keys,
  with the kinds of matching each key's remark allows (:func:`matching_types`);
* ``services/<service>_attributes.py`` - the DIMSE-N attribute requirement tables;
* ``services/__init__.py`` - the service classes and a lazy registry from SOP class UID to
  module.

Which operations a group has comes from the model: the DIMSE service usages of a SOP class, the
operations of an information model's SOP classes; three service classes give their operation
only in prose and are listed in :data:`IMPLIED_OPERATIONS`.  Every data row is written one per
line under ``# fmt: off``; order is the model's (the standard's), so reruns are byte-identical.

References
----------
PS3.4 (all annexes); PS3.7 §9, §10 and Annex C.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from dicompile.generator.emit.pyfmt import INDENT, py_str
from dicompile.generator.emit.render import GeneratedFile, header, render, sources_used
from dicompile.generator.emit.services_names import (
    EmitError,
    Names,
    cite,
    constant_name,
    keyword_constant,
    module_name,
    py_text,
)
from dicompile.generator.emit.services_protocols import (
    dispatch_lines,
    protocol_lines,
    service_groups,
    status_enums,
    status_lines,
    type_enum_lines,
)
from dicompile.generator.emit.services_tables import (
    matching_types,
    model_lines,
    table_constant,
    table_lines,
)
from dicompile.generator.model import (
    DataElementDef,
    Provenance,
    SourceDigest,
    UIDDef,
    edition_sort_key,
)
from dicompile.generator.service_merge import merge_storage_sops, read_storage_sops
from dicompile.generator.service_model import (
    DimseOperation,
    ServiceClassDef,
    ServiceModel,
    SOPClassDef,
)
from dicompile.generator.sources.docbook.part04 import read_part04
from dicompile.generator.sources.json_rendition import edition_of_folder

if TYPE_CHECKING:
    from dicompile.generator.pipeline import Build

SERVICES_DIR = "services/"
PART04_FILE = "part04.xml"
SOPS_FILE = "sops.json"
STORAGE_ANNEX = "B"


def _label_key(xml_id: str) -> tuple[tuple[tuple[int, int | str], ...], str]:
    """``table_C.6-10`` after ``table_C.6-9``; ties (``sect_P.2.3``, ``table_P.2-3``) by id."""
    label = xml_id.partition("_")[2]
    pieces = tuple(
        (0, int(piece)) if piece.isdigit() else (1, piece)
        for piece in re.findall(r"\d+|[^\d.\-]+", label)
    )
    return pieces, xml_id


def _cited(digests: Iterable[SourceDigest], provenances: Iterable[Provenance]) -> str:
    """The header: the sources used, their tables in a stable order.

    The reader orders its table ids by label only, which leaves ties in set order; sorting
    here again keeps reruns byte-identical.
    """
    used = sources_used(digests, provenances)
    return header(
        attrs.evolve(d, table_ids=tuple(sorted(d.table_ids, key=_label_key))) for d in used
    )


@attrs.frozen
class _ServiceFiles:
    service: ServiceClassDef
    module: str
    files: tuple[GeneratedFile, ...]
    sop_uids: tuple[str, ...]


def _sop_constants(sops: Sequence[SOPClassDef], names: Names) -> dict[str, str]:
    out: dict[str, str] = {}
    for sop in sops:
        keyword = names.uids.get(sop.uid, "")
        out[sop.uid] = keyword_constant(keyword) if keyword else constant_name(sop.name)
    values = list(out.values())
    clashes = sorted({v for v in values if values.count(v) > 1})
    if clashes:
        raise EmitError(f"SOP class constant names clash: {clashes}")
    return out


def _emit_service(
    service: ServiceClassDef, model: ServiceModel, names: Names
) -> _ServiceFiles | None:
    module = module_name(service.name)
    sops = [s for s in model.sop_classes if s.service_class == service.name]
    wells = [w for w in model.well_known_instances if w.service_class == service.name]
    models = [im for im in model.information_models if im.service_class == service.name]
    statuses = [s for s in model.statuses if s.service_class == service.name]
    tables = [t for t in model.attribute_tables if t.service_class == service.name]
    usages = [u for u in model.service_usages if u.service_class == service.name]
    if not (sops or models or statuses or tables or usages):
        return None
    sop_constant = _sop_constants(sops, names)
    enums = status_enums(statuses)
    groups = service_groups(service, model, sop_constant, sops)
    provenances = [
        service.provenance,
        *(s.provenance for s in sops),
        *(w.provenance for w in wells),
        *(s.provenance for s in statuses),
        *(u.provenance for u in usages),
        *(t.provenance for t in tables if t.type_id is not None),
        *(im.provenance for im in models),
    ]
    constant_lines = [f"{sop_constant[s.uid]}: Final = {py_str(s.uid)}" for s in sops]
    well_lines = [f"{constant_name(w.name)}: Final = {py_str(w.uid)}" for w in wells]
    sop_rows = [
        f"{INDENT}SOPClass({sop_constant[s.uid]}, {py_text(s.name)}, {s.retired},"
        f" {py_text(s.iod or s.iod_section)}, {py_str(cite(s.provenance))}),"
        for s in sops
    ]
    type_enum_blocks: list[list[str]] = []
    for group in groups:
        for kind, enum_name, op in (
            ("Action", group.action_enum, DimseOperation.N_ACTION),
            ("Event", group.event_enum, DimseOperation.N_EVENT_REPORT),
        ):
            if enum_name:
                rows = [
                    t
                    for t in tables
                    if t.scope == group.title and t.operation is op and t.type_id is not None
                ]
                type_enum_blocks.append(type_enum_lines(enum_name, kind, group.title, rows))
    code_lines: list[str] = []
    for group in groups:
        code_lines += protocol_lines(group, enums)
    code_lines += dispatch_lines(groups)
    import_lines = _import_lines(
        code_lines,
        has_enum=bool(type_enum_blocks),
        has_statuses=bool(enums),
        has_final=bool(sops or wells or service.uid),
        has_sops=bool(sops),
    )
    files = [
        render(
            "services_module.py.j2",
            f"{SERVICES_DIR}{module}.py",
            header=_cited(model.sources, provenances),
            service=service,
            has_models=bool(models),
            has_tables=bool(tables),
            module=module,
            import_lines=import_lines,
            service_uid_line=(
                f"SERVICE_CLASS_UID: Final = {py_str(service.uid)}" if service.uid else ""
            ),
            constant_lines=constant_lines,
            well_lines=well_lines,
            sop_rows=sop_rows,
            status_blocks=[status_lines(e) for e in enums],
            type_enum_blocks=type_enum_blocks,
            protocol_lines=code_lines,
            counts=(len(sops), len(enums), len(groups)),
        )
    ]
    if models:
        model_blocks = [model_lines(im, names) for im in models]
        key_provenances = [
            p for im in models for p in (im.provenance, *(lv.provenance for lv in im.levels))
        ]
        files.append(
            render(
                "services_keys.py.j2",
                f"{SERVICES_DIR}{module}_keys.py",
                header=_cited(model.sources, key_provenances),
                service=service,
                blocks=model_blocks,
                constants=[constant_name(im.name) for im in models],
                has_identifier=any(im.identifier_attributes for im in models),
                has_kinds=any(
                    matching_types(k[-1].remark)
                    for im in models
                    for lv in im.levels
                    for k in lv.walk()
                ),
                has_return=any(
                    k[-1].return_key_type is not None or im.identifier_attributes
                    for im in models
                    for lv in im.levels
                    for k in lv.walk()
                ),
            )
        )
    if tables:
        constants = [table_constant(t) for t in tables]
        if len(set(constants)) != len(constants):
            raise EmitError(f"{service.name}: attribute table names clash: {constants}")
        files.append(
            render(
                "services_attributes.py.j2",
                f"{SERVICES_DIR}{module}_attributes.py",
                header=_cited(model.sources, [t.provenance for t in tables]),
                service=service,
                blocks=[table_lines(t, names) for t in tables],
                constants=constants,
            )
        )
    return _ServiceFiles(service, module, tuple(files), tuple(s.uid for s in sops))


def _import_lines(
    code: Sequence[str],
    *,
    has_enum: bool,
    has_statuses: bool,
    has_final: bool,
    has_sops: bool,
) -> list[str]:
    """The import block of a service module, in the order ruff's isort wants."""
    text = "\n".join(code)

    def used(*names: str) -> list[str]:
        return [n for n in names if re.search(rf"\b{n}\b", text)]

    lines: list[str] = ["import enum"] if has_enum else []
    abc = used("AsyncIterator", "Mapping", "Sequence")
    if abc:
        lines.append(f"from collections.abc import {', '.join(abc)}")
    typing = [
        *(["TYPE_CHECKING"] if used("Dataset") else []),
        *(["Final"] if has_final else []),
        *(["Protocol"] if "(Protocol)" in text else []),
        *used("TypeAlias"),
        *(["runtime_checkable"] if "(Protocol)" in text else []),
    ]
    if typing:
        lines.append(f"from typing import {', '.join(typing)}")
    lines.append("")
    dimse = [*(["StatusCategory"] if has_statuses else []), *used("StatusCode")]
    if dimse:
        lines.append(f"from dicompile.generated.dimse_commands import {', '.join(dimse)}")
    base = [
        *used("Match", "Outcome", "Progress", "ServiceContext"),
        *(["ServiceStatus", "StatusEntry"] if has_statuses else []),
        *(["SOPClass"] if has_sops else []),
    ]
    base.sort(key=str.lower)  # ruff's isort compares names case-insensitively
    if base:
        one = f"from dicompile.generated.services.base import {', '.join(base)}"
        if len(one) <= 100:
            lines.append(one)
        else:
            lines += [
                "from dicompile.generated.services.base import (",
                *(f"{INDENT}{name}," for name in base),
                ")",
            ]
    if used("Dataset"):
        lines += [
            "",
            "if TYPE_CHECKING:",
            f"{INDENT}from dicompile.runtime.core.dataset import Dataset",
        ]
    return lines


def emit_services(
    model: ServiceModel,
    elements: Iterable[DataElementDef] = (),
    uids: Iterable[UIDDef] = (),
) -> list[GeneratedFile]:
    """Render ``services/`` from a PS3.4 :class:`ServiceModel`.

    ``elements`` and ``uids`` (the merged PS3.6 registry) give the keywords of key tags and
    the constant names of SOP class UIDs; without them, keywords are empty and constants are
    named after the SOP class names.

    References
    ----------
    PS3.4 (every annex the model covers); PS3.7 Annex C.
    """
    names = Names.of(elements, uids)
    done = [
        out
        for service in model.service_classes
        if (out := _emit_service(service, model, names)) is not None
    ]
    modules = [d.module for d in done]
    if len(set(modules)) != len(modules):
        raise EmitError(f"service module names clash: {modules}")
    registry: dict[str, list[str]] = {}
    for d in done:
        for uid in d.sop_uids:
            registry.setdefault(uid, []).append(d.module)
    registry_lines = [
        f"{INDENT}{py_str(uid)}: ({', '.join(py_str(m) for m in mods)},),"
        if len(mods) == 1
        else f"{INDENT}{py_str(uid)}: ({', '.join(py_str(m) for m in mods)}),"
        for uid, mods in registry.items()
    ]
    service_lines = [
        f"{INDENT}ServiceClassEntry({py_str(d.service.name)}, {py_str(d.service.annex)},"
        f" {py_str(d.module)}, {d.service.retired}, {py_str(d.service.uid)}),"
        for d in done
    ]
    files = [
        render(
            "services_base.py.j2",
            f"{SERVICES_DIR}base.py",
            header=_cited(model.sources, []),
        ),
        render(
            "services_init.py.j2",
            f"{SERVICES_DIR}__init__.py",
            header=_cited(
                model.sources,
                [d.service.provenance for d in done] + [s.provenance for s in model.sop_classes],
            ),
            service_lines=service_lines,
            registry_lines=registry_lines,
        ),
    ]
    for d in done:
        files += d.files
    return files


def load_service_model(part04: Path, sops: Path | None) -> ServiceModel:
    """PS3.4 from DocBook, merged with the rendition's Storage SOP classes when given.

    References
    ----------
    PS3.4 (DocBook); PS3.4 Table B.5-1 as the JSON rendition's ``sops.json`` gives it.
    """
    model = read_part04(part04)
    if sops is None:
        return model
    storage = model.service_class_by_annex(STORAGE_ANNEX).name
    return merge_storage_sops(model, read_storage_sops(sops, storage))


def render_services(build: Build) -> list[GeneratedFile]:
    """The emit job: ``part04.xml`` of the newest edition, ``sops.json`` of the newest folder.

    Skipped (``MissingSource`` from :meth:`Build.newest`) when no folder holds ``part04.xml``.

    References
    ----------
    PS3.4; DESIGN.md, "standard set" (newer edition wins).
    """
    part04 = build.newest(PART04_FILE)
    sops = [folder / SOPS_FILE for folder in build.folders if (folder / SOPS_FILE).is_file()]
    newest = max(sops, key=lambda p: edition_sort_key(edition_of_folder(p.parent)), default=None)
    model = load_service_model(part04, newest)
    return emit_services(model, build.model.data_elements, build.model.uids)
