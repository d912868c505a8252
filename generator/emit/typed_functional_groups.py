"""Typed functional group items of the enhanced multi-frame IODs (``generated/iods``).

Theory of operation
-------------------
* An enhanced multi-frame IOD lists, besides its modules, the functional group macros its
  instances may hold (PS3.3 A.1.3 and e.g. Table A.38-2 of Enhanced CT Image); the items of
  the Shared (5200,9229) and Per-frame (5200,9230) Functional Groups Sequences of its
  Multi-frame Functional Groups Module (PS3.3 C.7.6.16) are made of those macros, as are
  those of the real-time IODs' Shared (Real-Time Acquisition Module, C.7.6.28) and Current
  Frame (0006,0001) Functional Groups Sequences (C.7.6.27).
* For each such IOD its file gets more classes: ``<IOD>FunctionalGroupsItem``, whose fields
  are the top-level attributes of each macro (usually one sequence:
  ``pixel_measures_sequence``), typed with the macro's own item classes; and, per module
  holding such sequences, ``<IOD><Module>`` (``EnhancedCTImageMultiFrameFunctionalGroupsModule``):
  the module's fields with those sequences typed by that item.  The IOD's module field is
  the latter.
* One item class serves every such sequence: a macro is in the shared item or in every
  per-frame item (PS3.3 C.7.6.16.1.1), so every field is optional; the macro's usage in the
  IOD (M, C, U) and its condition are in the field's docstring, and the macro's own Type.
* The items keep what no macro of the IOD lists (private attributes, other macros) in the
  ``other_elements`` Dataset (``OTHERS``), as they kept everything while they were plain
  Datasets, so that reading and writing an instance loses nothing in its functional groups.

References
----------
PS3.3 §A.1.3, §C.7.6.16 (Multi-frame Functional Groups Module), §C.7.6.16.2 (macros).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from dicompile.generator.emit.typed_lines import (
    INDENT,
    annotation,
    class_lines,
    field_row,
    fields_lines,
    py_doc,
    py_str,
)
from dicompile.generator.emit.typed_plan import (
    ClassPlan,
    ClassRef,
    FieldPlan,
    PlanError,
    TablePlan,
    cite,
)
from dicompile.generator.iod_model import AttributeTable, FunctionalGroupUse, IODDef
from dicompile.generator.model import Provenance

#: Shared (5200,9229), Per-frame (5200,9230) and Current Frame (0006,0001) Functional Groups
#: Sequence: their items are made of the IOD's functional group macros.
FUNCTIONAL_GROUP_SEQUENCES = frozenset({"52009229", "52009230", "00060001"})
#: The item field that keeps the elements no functional group macro of the IOD lists.
OTHERS_FIELD = "other_elements"
#: A macro attribute of Type 1 or 2 is required in an item only where the macro is used.
_IN_ITEM = {"1": "1C", "2": "2C"}


@attrs.frozen
class FunctionalGroupsPlan:
    """The classes an enhanced IOD's file adds for its functional group items.

    ``modules`` maps the table id of each module holding functional groups to its retyped
    class (the IOD's module field refers to it); ``body`` the class definitions, ``tail``
    their ``FIELDS`` tables; ``imports`` the macro
    classes the annotations name; ``missing`` the macro uses without a table
    (``"table_A.38-1 → table_C.x"``); ``duplicates`` attributes two macros both give.
    """

    item: ClassRef
    modules: tuple[tuple[str, ClassRef], ...]
    body: tuple[str, ...]
    tail: tuple[str, ...]
    imports: tuple[ClassRef, ...]
    provenances: tuple[Provenance, ...]
    missing: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()


def is_functional_groups_module(plan: TablePlan) -> bool:
    """True for a module with a sequence whose items are functional groups (PS3.3 C.7.6.16)."""
    return any(f.tag.text in FUNCTIONAL_GROUP_SEQUENCES for f in plan.top.fields)


def _sequence_of(item: ClassRef) -> str:
    return f"tuple[{item.qualname}, ...]"


def _usage_text(group: FunctionalGroupUse) -> str:
    condition = " ".join(group.condition.split())
    return f"{group.usage.value}: {condition}" if condition else group.usage.value


def _item_field(field: FieldPlan) -> FieldPlan:
    """The macro's field as a field of the item: optional, its item class by full name."""
    value = _sequence_of(field.item) if field.item is not None else field.value_type
    requirement = _IN_ITEM.get(field.requirement, field.requirement)
    return attrs.evolve(field, value_type=value, requirement=requirement, condition="")


def _item_doc(field: FieldPlan, macro: str, macro_cite: str, usages: Sequence[str]) -> str:
    tag = field.tag.display
    text = (
        f"{tag} {field.vr}, VM {field.vm} — {field.attribute}; Type {field.requirement} in the"
        f" {macro} Macro ({macro_cite}), which the IOD uses"
        f" {'; '.join(u.rstrip('.') for u in usages)}."
    )
    if field.condition:
        text += f" {field.condition}"
    return py_doc(text)


@attrs.define
class _Item:
    """The fields of the item as they are collected from the macros (mutable scratch)."""

    fields: list[FieldPlan] = attrs.Factory(list)
    docs: dict[str, tuple[FieldPlan, str, str, list[str]]] = attrs.Factory(dict)
    imports: dict[tuple[str, str], ClassRef] = attrs.Factory(dict)
    duplicates: list[str] = attrs.Factory(list)

    def add(self, field: FieldPlan, macro: str, macro_cite: str, usage: str) -> None:
        if field.name == OTHERS_FIELD:
            raise PlanError(f"the {macro} Macro has a field named {OTHERS_FIELD!r}")
        if field.name in self.docs:
            # The same attribute from a second macro of the IOD: one field, both usages.
            self.docs[field.name][3].append(f"{usage} (as the {macro} Macro)")
            self.duplicates.append(f"{field.tag.display} in the {macro} Macro")
            return
        self.fields.append(_item_field(field))
        self.docs[field.name] = (field, macro, macro_cite, [usage])
        if field.item is not None:
            ref = ClassRef(field.item.module, field.item.top)
            self.imports[(ref.module, ref.top)] = ref


def _item_lines(name: str, doc: str, item: _Item) -> list[str]:
    lines = ["@attrs.frozen(kw_only=True)", f"class {name}(TypedAttributes):"]
    lines.append(f"{INDENT}{py_doc(doc)}")
    for field in item.fields:
        text, _ = annotation(field)
        original, macro, macro_cite, usages = item.docs[field.name]
        lines += ["", f"{INDENT}{field.name}: {text} = None"]
        lines.append(f"{INDENT}{_item_doc(original, macro, macro_cite, usages)}")
    lines += ["", f"{INDENT}{OTHERS_FIELD}: Dataset | None = None"]
    others = (
        "The item's elements that no functional group macro of the IOD lists (private"
        " attributes, other macros), as read; written back after the fields."
    )
    lines.append(f"{INDENT}{py_doc(others)}")
    return lines


def _module_plan(
    module: ClassPlan, name: str, ref: ClassRef, item: ClassRef, iod: IODDef
) -> tuple[ClassPlan, list[ClassRef]]:
    """The module's class with the functional group sequences typed by ``item``."""
    imports: list[ClassRef] = []
    fields: list[FieldPlan] = []
    for field in module.fields:
        if field.tag.text in FUNCTIONAL_GROUP_SEQUENCES:
            field = attrs.evolve(field, value_type=_sequence_of(item), item=item)
        elif field.item is not None:
            # Item classes of the module's own file are referred to through its class.
            imports.append(ClassRef(field.item.module, field.item.top))
            field = attrs.evolve(field, value_type=_sequence_of(field.item))
        fields.append(field)
    doc = (
        f"{module.doc.rstrip('.')}, as the {iod.name} IOD uses it: the items of its functional"
        f" group sequences are {item.qualname}."
    )
    plan = ClassPlan(name, ref, doc, tuple(fields), (), module.section, module.table)
    return plan, imports


def plan_functional_groups(
    iod: IODDef,
    class_name: str,
    module: str,
    holders: Sequence[TablePlan],
    plans: Mapping[str, TablePlan],
    tables: Mapping[str, AttributeTable],
    taken: set[str],
) -> FunctionalGroupsPlan:
    """The functional group item class of ``iod`` and its modules' classes, in ``module``.

    ``holders`` are the plans of the IOD's modules with functional group sequences (the
    Multi-frame Functional Groups Module); ``plans`` the plans of every macro and module by
    table id; ``taken`` the class names the IOD's file imports already.

    Raises
    ------
    PlanError
        A class name is taken, or a macro has a field named like the item's ``OTHERS``.

    References
    ----------
    PS3.3 §A.1.3, §C.7.6.16, §C.7.6.27, §C.7.6.28.
    """
    item_ref = ClassRef(module, f"{class_name}FunctionalGroupsItem")
    module_refs = [ClassRef(module, f"{class_name}{holder.top.name}") for holder in holders]
    for ref in (item_ref, *module_refs):
        if ref.qualname in taken:
            raise PlanError(f"{iod.key}: the class name {ref.qualname} is taken")
    item = _Item()
    missing: list[str] = []
    provenances: list[Provenance] = []
    for group in iod.functional_groups:
        plan = plans.get(group.macro)
        if plan is None:
            missing.append(f"{iod.key} → {group.macro} (functional group)")
            continue
        provenances.append(group.provenance)
        macro = tables[group.macro].name
        macro_cite = cite(plan.top.section, group.macro)
        for field in plan.top.fields:
            item.add(field, macro, macro_cite, _usage_text(group))
    groups_table = cite(iod.section, iod.functional_groups_table or iod.key)
    doc = (
        f"An item of a Functional Groups Sequence (shared, per-frame or current frame) of the"
        f" {iod.name} IOD: the functional group macros of {groups_table}."
    )
    body = ["", "", *_item_lines(item_ref.qualname, doc, item)]
    tail = [f"{item_ref.qualname}.FIELDS = ("]
    tail += [f"{INDENT}{field_row(field)}," for field in item.fields]
    tail += [")", f"{item_ref.qualname}.OTHERS = {py_str(OTHERS_FIELD)}"]
    refs = list(item.imports.values())
    for holder, ref in zip(holders, module_refs, strict=True):
        module_plan, module_imports = _module_plan(holder.top, ref.qualname, ref, item_ref, iod)
        body += ["", "", *class_lines(module_plan, 0, "TypedAttributes")]
        tail += fields_lines(module_plan)
        refs += module_imports
    imports = {(r.module, r.top): r for r in refs}
    return FunctionalGroupsPlan(
        item=item_ref,
        modules=tuple((h.key, r) for h, r in zip(holders, module_refs, strict=True)),
        body=tuple(body),
        tail=tuple(tail),
        imports=tuple(imports[key] for key in sorted(imports)),
        provenances=tuple(provenances),
        missing=tuple(missing),
        duplicates=tuple(item.duplicates),
    )
