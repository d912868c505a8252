"""Emitter of ``generated/modules/`` and ``generated/iods/``: the typed face of PS3.3.

One file per module (``modules/patient.py``: ``PatientModule``), per macro
(``modules/macros/code_sequence.py``: ``CodeSequenceMacro``) and per IOD (``iods/ct_image.py``:
``CTImage``), planned by ``typed_plan`` (shared item classes) and named by ``typed_names``.
Fields are typed by VR and VM and by the PS3.3 type (see ``dicompile.runtime.typed``); each
has a docstring ``(0010,0010) PN, VM 1, Type 2 — Patient's Name; PS3.3 C.7.1.1``.  The
conversion to and from Datasets is the runtime's, driven by the ``FIELDS`` and ``MODULES``
tables each file ends with, so the files hold declarations only.  An enhanced multi-frame
IOD's file also defines its functional group item class and the modules typed with it
(``typed_functional_groups``).

Class bodies are written between ``# fmt: off`` and ``# fmt: on``: one field per line however
long its annotation, which reads and diffs best; the import block above is laid out as
``ruff format`` would.

References
----------
PS3.3 Annex A (IODs), Annex C (modules), Chapter 10 (macros); PS3.4 B.5 (SOP classes);
PS3.6 §6 (keywords, VR, VM); STYLE.md §10-11.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from dicompile.generator.emit.render import GeneratedFile, render
from dicompile.generator.emit.typed_functional_groups import (
    FunctionalGroupsPlan,
    is_functional_groups_module,
    plan_functional_groups,
)
from dicompile.generator.emit.typed_lines import (
    INDENT,
    LINE_LENGTH,
    class_lines,
    fields_lines,
    py_doc,
    py_str,
)
from dicompile.generator.emit.typed_names import file_stem, natural_key, pascal
from dicompile.generator.emit.typed_plan import (
    IODS_DIR,
    MACROS_DIR,
    MODULES_DIR,
    VALUE_IMPORTS,
    ClassRef,
    PlanError,
    PlanReport,
    TablePlan,
    cite,
    module_name,
    plan_tables,
)
from dicompile.generator.iod_build import IODModel, SOPClassIOD
from dicompile.generator.iod_model import AttributeTable, IODDef, ModuleUse, Part03Model
from dicompile.generator.model import (
    DataElementDef,
    Provenance,
    SourceDigest,
    StandardModel,
    UIDDef,
)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen
class TypedReport:
    """Counts of what was emitted, for the generator's report and the tests."""

    modules: int
    macros: int
    iods: int
    files: int
    lines: int
    plan: PlanReport
    iods_without_sop_class: tuple[str, ...]
    missing_modules: tuple[str, ...]  # "table_A.3-1 → table_C.x-y" uses of unknown modules
    # IODs whose functional group items are typed, those left as Datasets (with why), and
    # attributes two functional group macros of one IOD both give (one field for both).
    functional_groups_typed: tuple[str, ...] = ()
    functional_groups_untyped: tuple[str, ...] = ()
    functional_group_duplicates: tuple[str, ...] = ()


def import_lines(module: str, names: Sequence[str]) -> list[str]:
    """``from module import a, b`` as ruff format lays it out (wrapped one per line if long)."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"from {module} import (", *(f"{INDENT}{name}," for name in names), ")"]


def _isort_names(names: Iterable[str]) -> list[str]:
    """Order of names in one ``from`` import as ruff's isort sorts them (constants, classes,
    then the rest; case-insensitive within each)."""

    def kind(name: str) -> int:
        if name.isupper() and len(name) > 1:
            return 0
        return 1 if name[0].isupper() else 2

    return sorted(set(names), key=lambda n: (kind(n), n.lower(), n))


def _words(lines: Iterable[str]) -> set[str]:
    return {word for line in lines for word in _WORD.findall(line)}


def _runtime_imports(
    body: Sequence[str], typed_names: Sequence[str], always: Sequence[str] = ()
) -> list[tuple[str, list[str]]]:
    used = _words(line for line in body if not line.lstrip().startswith('"""'))
    imports: list[tuple[str, list[str]]] = []
    if "Dataset" in used:
        imports.append(("dicompile.runtime.core.dataset", ["Dataset"]))
    if "Encapsulated" in used:
        imports.append(("dicompile.runtime.core.element", ["Encapsulated"]))
    values = sorted(VALUE_IMPORTS & used)
    if values:
        imports.append(("dicompile.runtime.core.values", _isort_names(values)))
    typed = [name for name in typed_names if name in used]
    imports.append(("dicompile.runtime.typed", _isort_names([*typed, *always])))
    return imports


def _header(
    provenances: Iterable[Provenance], digests: Sequence[SourceDigest], part03_files: set[str]
) -> str:
    """The file's header: every source file with the tables used from it."""
    tables: dict[tuple[str, str, str], set[str]] = {}
    for provenance in provenances:
        key = (provenance.part, provenance.edition, provenance.source_file)
        tables.setdefault(key, set()).add(provenance.table_id)
    by_file = {digest.source_file: digest for digest in digests}
    lines = ["# Generated by dicompile.generator from:"]
    for (part, edition, source_file), ids in sorted(tables.items()):
        digest = by_file.get(source_file)
        sha = f" sha256 {digest.sha256}" if digest is not None else ""
        shown = sorted(ids, key=natural_key)
        if source_file not in part03_files and digest is not None:
            shown = [t for t in digest.table_ids if t in ids]
        lines.append(f"#   {part} {edition} ({source_file}{sha}: {', '.join(shown)})")
    lines.append('# Do not edit; run "nox -s generate".')
    return "\n".join(lines)


def _import_block(
    runtime: list[tuple[str, list[str]]], generated: list[tuple[str, list[str]]], stdlib: list[str]
) -> str:
    """The import block after ``from __future__``: stdlib, third party, first party."""
    groups: list[list[str]] = []
    if stdlib:
        groups.append(stdlib)
    groups.append(["import attrs"])
    first_party: list[str] = []
    for module, names in sorted(generated + runtime):
        first_party += import_lines(module, names)
    groups.append(first_party)
    return "\n\n".join("\n".join(group) for group in groups)


def render_table(plan: TablePlan, digests: Sequence[SourceDigest], part03_files: set[str]) -> str:
    body = class_lines(plan.top, 0, "TypedAttributes")
    fields = fields_lines(plan.top)
    runtime = _runtime_imports([*body, *fields], ["Empty", "TypedAttributes", "field"])
    generated = [(ref.module, [ref.top]) for ref in plan.imports]
    file = render(
        "typed_table.py.j2",
        plan.path,
        header=_header(plan.provenances, digests, part03_files),
        name=plan.top.name,
        doc=plan.top.doc,
        imports=_import_block(runtime, generated, []),
        body=body,
        fields=fields,
    )
    return file.text


# -- IODs ---------------------------------------------------------------------------------------


@attrs.frozen
class _ModuleField:
    name: str
    use: ModuleUse
    ref: ClassRef
    cite: str
    title: str  # "Patient Module"


def _sop_classes_of(iod: IODDef, sop_classes: Sequence[SOPClassIOD]) -> list[SOPClassIOD]:
    found = [sop for sop in sop_classes if sop.iod == iod.key]
    return sorted(found, key=lambda s: tuple(int(p) for p in s.uid.split(".")))


def _iod_lines(
    iod: IODDef,
    class_name: str,
    fields: Sequence[_ModuleField],
    sops: Sequence[SOPClassIOD],
    uid_names: dict[str, str],
) -> tuple[list[str], list[str]]:
    doc = f"{iod.name} IOD — {cite(iod.section, iod.key)}."
    body: list[str] = []
    if sops:
        body.append(f"#: The SOP classes of the {iod.name} IOD (PS3.4 B.5).")
        values = [f"uids.{uid_names[s.uid]}" if s.uid in uid_names else py_str(s.uid) for s in sops]
        joined = ", ".join(values) + ("," if len(values) == 1 else "")
        body.append(f"SOP_CLASS_UIDS: Final[tuple[str, ...]] = ({joined})")
        body += ["", ""]
    body += [
        "@attrs.frozen(kw_only=True)",
        f"class {class_name}(TypedIOD):",
        f"{INDENT}{py_doc(doc)}",
    ]
    for field in fields:
        use = field.use
        required = use.usage.value == "M"
        annotation = field.ref.top if required else f"{field.ref.top} | None = None"
        condition = f": {' '.join(use.condition.split())}" if use.condition else ""
        text = f"{field.title} — IE {use.ie}, {use.usage.value}{condition}; {field.cite}."
        body += ["", f"{INDENT}{field.name}: {annotation}", f"{INDENT}{py_doc(text)}"]
    tail = [f"{class_name}.MODULES = ("]
    for field in fields:
        use = field.use
        args = [py_str(field.name), field.ref.top, py_str(use.ie), py_str(use.usage.value)]
        if use.condition:
            args.append(py_str(" ".join(use.condition.split())))
        tail.append(f"{INDENT}ModuleSlot({', '.join(args)}),")
    tail.append(")")
    if sops:
        tail.append(f"{class_name}.SOP_CLASS_UIDS = SOP_CLASS_UIDS")
    return body, tail


def _module_field_name(use: ModuleUse, table_name: str) -> str:
    return file_stem(table_name or use.name, "module")


@attrs.define
class _IODFiles:
    """What :func:`render_iods` collects (mutable scratch)."""

    files: list[GeneratedFile] = attrs.Factory(list)
    no_sop: list[str] = attrs.Factory(list)
    missing: list[str] = attrs.Factory(list)
    registry: list[tuple[str, str, str, tuple[str, ...]]] = attrs.Factory(list)
    typed_groups: list[str] = attrs.Factory(list)
    untyped_groups: list[str] = attrs.Factory(list)
    duplicate_group_attributes: list[str] = attrs.Factory(list)


def _module_fields(
    iod: IODDef, by_key: dict[str, TablePlan], tables: dict[str, AttributeTable], out: _IODFiles
) -> list[_ModuleField]:
    fields: list[_ModuleField] = []
    names: set[str] = set()
    for use in iod.modules:
        plan = by_key.get(use.module)
        if plan is None:
            out.missing.append(f"{iod.key} → {use.module}")
            continue
        name = _module_field_name(use, tables[use.module].name)
        if name in names:
            out.missing.append(f"{iod.key} → {use.module} (listed twice)")
            continue
        names.add(name)
        title = f"{tables[use.module].name} Module"
        fields.append(_ModuleField(name, use, plan.top.ref, plan.top.cite, title))
    return fields


def _functional_groups(
    iod: IODDef,
    class_name: str,
    module: str,
    fields: list[_ModuleField],
    by_key: dict[str, TablePlan],
    tables: dict[str, AttributeTable],
    out: _IODFiles,
) -> FunctionalGroupsPlan | None:
    """The typed functional group items of ``iod``; its module fields then refer to them."""
    holders = [i for i, f in enumerate(fields) if is_functional_groups_module(by_key[f.use.module])]
    if not holders or not iod.functional_groups:
        if iod.functional_groups:
            out.untyped_groups.append(f"{iod.key}: functional groups but no module holds them")
        elif holders:
            out.untyped_groups.append(f"{iod.key}: no functional group macros listed")
        return None
    taken = {f.ref.top for f in fields} | {class_name}
    holder_plans = [by_key[fields[i].use.module] for i in holders]
    groups = plan_functional_groups(iod, class_name, module, holder_plans, by_key, tables, taken)
    refs = dict(groups.modules)
    for i in holders:
        fields[i] = attrs.evolve(fields[i], ref=refs[fields[i].use.module])
    out.typed_groups.append(iod.key)
    out.missing += groups.missing
    out.duplicate_group_attributes += [f"{iod.key}: {d}" for d in groups.duplicates]
    return groups


def render_iods(
    model: Part03Model,
    plans: Sequence[TablePlan],
    sop_classes: Sequence[SOPClassIOD],
    uids: Sequence[UIDDef],
    digests: Sequence[SourceDigest],
    part03_files: set[str],
) -> _IODFiles:
    """The IOD files, with what the report counts and the registry rows."""
    by_key = {plan.key: plan for plan in plans}
    tables = model.attribute_tables()
    uid_names = {u.uid: u.keyword for u in uids if u.keyword}
    out = _IODFiles()
    taken: dict[str, str] = {}
    for iod in sorted(model.iods, key=lambda i: natural_key(i.key)):
        stem = file_stem(iod.name, "IOD")
        if stem in taken:
            raise PlanError(f"{iod.key} and {taken[stem]} both give the file iods/{stem}.py")
        taken[stem] = iod.key
        class_name = pascal(iod.name, "IOD")
        path = f"{IODS_DIR}/{stem}.py"
        fields = _module_fields(iod, by_key, tables, out)
        groups = _functional_groups(iod, class_name, module_name(path), fields, by_key, tables, out)
        sops = _sop_classes_of(iod, sop_classes)
        if not sops:
            out.no_sop.append(iod.key)
        body, tail = _iod_lines(iod, class_name, fields, sops, uid_names)
        refs = [f.ref for f in fields]
        provenances = [
            iod.provenance,
            *(f.use.provenance for f in fields),
            *(s.provenance for s in sops),
        ]
        if groups is not None:
            body += groups.body
            tail += groups.tail
            refs += groups.imports
            provenances += groups.provenances
        generated = sorted({(r.module, r.top) for r in refs if r.module != module_name(path)})
        imports = [(module, [top]) for module, top in generated]
        if any(s.uid in uid_names for s in sops):
            imports.append(("dicompile.generated", ["uids"]))
        # The IOD's own lines need ModuleSlot and TypedIOD; its functional groups' classes more.
        runtime = _runtime_imports(
            [*groups.body, *groups.tail] if groups is not None else [],
            ["Empty", "TypedAttributes", "field"],
            always=["ModuleSlot", "TypedIOD"],
        )
        out.files.append(
            render(
                "typed_iod.py.j2",
                path,
                header=_header(provenances, digests, part03_files),
                name=class_name,
                iod_name=iod.name,
                imports=_import_block(
                    runtime, imports, ["from typing import Final"] if sops else []
                ),
                body=body,
                fields=tail,
            )
        )
        out.registry.append((iod.key, module_name(path), class_name, tuple(s.uid for s in sops)))
    return out


def emit_typed(
    model: Part03Model,
    elements: Iterable[DataElementDef],
    *,
    sop_classes: Sequence[SOPClassIOD] = (),
    uids: Sequence[UIDDef] = (),
    digests: Sequence[SourceDigest] = (),
) -> tuple[list[GeneratedFile], TypedReport]:
    """Render ``modules/`` and ``iods/`` from the linked, merged and named PS3.3 model.

    Parameters
    ----------
    model
        PS3.3 with ``expanded`` filled (``part03_build.build_part03``).
    elements
        The PS3.6 data element registry: keywords, VRs and VMs of the fields.
    sop_classes
        Storage SOP classes with the key of their IOD (PS3.4 B.5).
    uids
        The UID registry, for the names of the SOP class constants of ``generated/uids.py``.
    digests
        Digests of the source files, cited in the headers.

    Raises
    ------
    PlanError
        Two tables, fields or IODs would share a name.

    References
    ----------
    PS3.3 Annex A, Annex C, Chapter 10; PS3.4 B.5; PS3.6 §6.
    """
    element_list = list(elements)
    plans, plan_report = plan_tables(model, element_list)
    part03_files = set(model.source_files)
    files = [GeneratedFile(plan.path, render_table(plan, digests, part03_files)) for plan in plans]
    iods = render_iods(model, plans, sop_classes, uids, digests, part03_files)
    files += iods.files
    files += _package_files(
        plans, iods.registry, [i.provenance for i in model.iods], digests, part03_files
    )
    files.sort(key=lambda f: f.path)
    report = TypedReport(
        modules=len(model.modules),
        macros=len(model.macros),
        iods=len(model.iods),
        files=len(files),
        lines=sum(f.text.count("\n") for f in files),
        plan=plan_report,
        iods_without_sop_class=tuple(iods.no_sop),
        missing_modules=tuple(iods.missing),
        functional_groups_typed=tuple(iods.typed_groups),
        functional_groups_untyped=tuple(iods.untyped_groups),
        functional_group_duplicates=tuple(iods.duplicate_group_attributes),
    )
    return files, report


def _package_files(
    plans: Sequence[TablePlan],
    registry: Sequence[tuple[str, str, str, tuple[str, ...]]],
    iod_provenances: Sequence[Provenance],
    digests: Sequence[SourceDigest],
    part03_files: set[str],
) -> list[GeneratedFile]:
    macro_plans = [p for p in plans if p.path.startswith(f"{MACROS_DIR}/")]
    module_plans = [p for p in plans if p not in macro_plans]
    by_sop = sorted(
        ((uid, module, name) for _, module, name, sop_uids in registry for uid in sop_uids),
        key=lambda row: tuple(int(p) for p in row[0].split(".")),
    )
    files = []
    for folder, kind, chosen in (
        (MODULES_DIR, "module", module_plans),
        (MACROS_DIR, "macro", macro_plans),
    ):
        files.append(
            render(
                "typed_modules_init.py.j2",
                f"{folder}/__init__.py",
                header=_header((p.provenances[0] for p in chosen), digests, part03_files),
                rows=[(p.key, module_name(p.path), p.top.name) for p in chosen],
                kind=kind,
                py_str=py_str,
            )
        )
    files.append(
        render(
            "typed_iods_init.py.j2",
            f"{IODS_DIR}/__init__.py",
            header=_header(iod_provenances, digests, part03_files),
            rows=[(key, module, name) for key, module, name, _ in registry],
            by_sop=by_sop,
            py_str=py_str,
        )
    )
    return files


def emit_typed_files(iods: IODModel, model: StandardModel) -> list[GeneratedFile]:
    """The pipeline's job: :func:`emit_typed` from ``Build.iods`` and the standard model."""
    files, _ = emit_typed(
        iods.model,
        model.data_elements,
        sop_classes=iods.sop_classes,
        uids=model.uids,
        digests=(*model.sources, *iods.sources),
    )
    return files
