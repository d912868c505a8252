"""The validator: a Data Set against the requirement tables of the IOD of its SOP Class.

Theory of operation
-------------------
1. The SOP Class UID (0008,0016) (else the file meta's (0002,0002)) names a Storage SOP Class;
   the generated index gives its IOD (PS3.4 Table B.5-1).  Without one the report holds a
   single error saying so.
2. Each module of the IOD is checked or skipped by its usage (PS3.3 §A.1.3):
   * M: always checked; when none of its attributes is present (not even one it shares with
     another module) and it has unconditional Type 1/2 attributes, one ``module-missing``
     error replaces the attribute findings.
   * C: checked when its condition holds, or when any attribute of its own is present; a
     condition that cannot be decided from the Data Set (or that the generator could not
     parse) leaves the module to that presence test, and a note says so.
   * U: checked when any attribute of its own is present.
   A module's "own" attributes are those no other module of the IOD lists, so that a shared
   attribute does not make a user-optional module look present.
3. Each rule of a checked module (PS3.5 §7.4): Type 1 present and not empty, Type 2 present,
   Type 1C/2C by their parsed condition (required → as Type 1/2; "shall not be present" →
   a warning when present), Type 3 optional.  A present attribute's VR and VM are compared
   with the data dictionary (PS3.6), its values with the Enumerated Values (error) and
   Defined Terms (warning), a Sequence's number of Items with what its description states,
   and the Items with the Sequence's Item rules, recursively.
4. Top-level attributes that no module of the IOD lists are reported (a warning: a Standard
   Extended SOP Class may add Type 3 attributes, PS3.4 B.1.3); private attributes, group
   lengths and the file meta group are exempt.  Inside Items, attributes the Item's rules do
   not list are reported the same way unless the Item is open.
5. Enhanced multi-frame IODs (PS3.3 §C.7.6.16): each functional group macro is looked for in
   the Shared Functional Groups Sequence (5200,9229) and in every Item of the Per-frame
   Functional Groups Sequence (5200,9230); a required macro must be in one or in every frame,
   never in both; a macro "not used as a Shared Functional Group" must not be shared; the
   number of per-frame Items must equal Number of Frames (0028,0008); every macro present is
   checked like a module, and attributes of the group Items that no macro lists are reported.

References
----------
PS3.3 §5, §A.1.3, Annex C, §C.7.6.16; PS3.4 B.1.3, B.5; PS3.5 §6.2, §6.4, §7.4; PS3.6 §6.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.lookup import DEFAULT_LOOKUP, TagLookup
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.vr import VR
from dicompile.runtime.validate.checks import (
    BULK_VRS,
    is_empty,
    value_problems,
    vm_allows,
    vr_allows,
)
from dicompile.runtime.validate.conditions import Condition, ParsedCondition, Unparsed
from dicompile.runtime.validate.evaluate import Presence, Scope, evaluate_expr, verdict
from dicompile.runtime.validate.findings import (
    Finding,
    Kind,
    Note,
    NoteKind,
    Report,
    Severity,
)
from dicompile.runtime.validate.registry import (
    DEFAULT_REQUIREMENTS,
    CompiledIOD,
    Level,
    Requirements,
)
from dicompile.runtime.validate.tables import AttributeTable, AttrType, Rule, Usage, ValuesKind

SOP_CLASS_UID: Final = 0x00080016
MEDIA_STORAGE_SOP_CLASS_UID: Final = 0x00020002
SHARED_GROUPS: Final = 0x52009229
PER_FRAME_GROUPS: Final = 0x52009230
NUMBER_OF_FRAMES: Final = 0x00280008
_TYPE_TEXT: Final = {t: f"Type {t.value}" for t in AttrType}
_VALUE_TYPES: Final = frozenset({AttrType.T1, AttrType.T1C})


def _exempt(tag: int) -> bool:
    """Attributes no IOD lists: private, group lengths, file meta, padding (PS3.5 §7.2, §7.8)."""
    group = tag >> 16
    return group % 2 == 1 or tag & 0xFFFF == 0 or group == 0x0002 or tag == 0xFFFCFFFC


def _rule_text(kind: AttrType, condition: str | None) -> str:
    """``Type 1C: <condition>`` as findings name the rule they break."""
    return _TYPE_TEXT[kind] if condition is None else f"{_TYPE_TEXT[kind]}: {condition}"


def _item_path(path: str, tag: int, index: int) -> str:
    return f"{_join(path, tag)}[{index}]"


def _join(path: str, tag: int) -> str:
    return f"{path}/{format_tag(tag)}" if path else format_tag(tag)


class _Run:
    """The state of one validation: where findings go, and the lookups it needs."""

    def __init__(self, requirements: Requirements, lookup: TagLookup) -> None:
        self.requirements = requirements
        self.lookup = lookup
        self.findings: list[Finding] = []
        self.notes: list[Note] = []
        self.noted: set[tuple[NoteKind, str, str]] = set()

    # -- reporting ----------------------------------------------------------------------------

    def name(self, tag: int) -> str:
        keyword = self.lookup.keyword(tag)
        return f"{format_tag(tag)} {keyword}" if keyword else format_tag(tag)

    def add(
        self,
        severity: Severity,
        kind: Kind,
        tag: int | None,
        path: str,
        table: AttributeTable | None,
        rule: str,
        message: str,
        source: str = "",
    ) -> None:
        self.findings.append(
            Finding(
                severity,
                kind,
                tag,
                path,
                table.name if table is not None else "",
                rule,
                message,
                source or (table.source if table is not None else ""),
            )
        )

    def note(self, kind: NoteKind, path: str, table: AttributeTable, message: str) -> None:
        """Record a note once per module and message (the first path where it arose)."""
        key = (kind, table.name, message)
        if key not in self.noted:
            self.noted.add(key)
            self.notes.append(Note(kind, path, table.name, message, table.source))

    # -- levels -------------------------------------------------------------------------------

    def level(
        self,
        level: Level,
        table: AttributeTable,
        scope: Scope,
        path: str,
        *,
        extra: bool = True,
        ancestors: Mapping[int, Rule] | None = None,
    ) -> None:
        """Check every rule of ``level`` in ``scope``; with ``extra``, unlisted attributes too.

        ``ancestors`` are the rules of the Sequences enclosing this Item, by tag: an Item may
        hold the Sequence that holds it where the standard includes a macro recursively (the
        Content Sequence of PS3.3 Table C.17-4), and the tables stop the recursion after a few
        levels; such an attribute is checked with its enclosing Sequence's rule.
        """
        dataset = scope.dataset
        enclosing = ancestors or {}
        for tag, rule in level.exact.items():
            element = dataset.get(tag)
            if element is None and rule.type is AttrType.T3 and rule.include is None:
                continue  # absent and optional: nothing to check (most rules of a module)
            self.rule(rule, tag, element, table, scope, path, enclosing)
        if level.masked and _has_masked_group(dataset, level):
            for rule in level.masked:
                found = [e for e in dataset if e.tag & rule.mask == rule.tag]
                for element in found:
                    self.rule(rule, element.tag, element, table, scope, path, enclosing)
        if not extra or level.open:
            return
        for element in dataset:
            tag = element.tag
            if _exempt(tag) or level.rule_for(tag) is not None:
                continue
            if tag in enclosing:
                self.rule(enclosing[tag], tag, element, table, scope, path, enclosing)
                continue
            self.add(
                Severity.WARNING,
                Kind.NOT_IN_IOD,
                tag,
                _join(path, tag),
                table,
                "Item content",
                f"{self.name(tag)} is not an attribute of the Items of this Sequence",
            )

    def rule(
        self,
        rule: Rule,
        tag: int,
        element: DataElement | None,
        table: AttributeTable,
        scope: Scope,
        path: str,
        ancestors: Mapping[int, Rule] | None = None,
    ) -> None:
        # Hot path (every rule of every checked module, present or not): the types are
        # compared by identity, and the rule's text is built only when reported (an Enum's
        # hash runs in Python).
        kind = rule.type
        if rule.include is not None:
            applies = self.applies(rule.include, scope)
            if applies is False:
                if element is not None:
                    # "Include … if and only if …" (PS3.3 §5.4): the macro's attributes
                    # belong to the Items where its condition holds.
                    self.add(
                        Severity.WARNING,
                        Kind.NOT_ALLOWED_BY_CONDITION,
                        tag,
                        _join(path, tag),
                        table,
                        "Include",
                        f"{self.name(tag)} is present although the macro that defines it is"
                        f" included only {_include_text(rule.include)}",
                    )
                return
            if applies is None:
                kind = AttrType.T3  # not decidable: check the attribute only if present
        required = kind is AttrType.T1 or kind is AttrType.T2
        needs_value = kind is AttrType.T1
        decided_by: str | None = None  # a parsed condition's text, once evaluated
        if kind is AttrType.T1C or kind is AttrType.T2C:
            condition = rule.condition
            if isinstance(condition, Condition):
                decided = verdict(condition, scope)
                presence = decided.presence
                if presence is Presence.REQUIRED:
                    required = True
                    needs_value = kind is AttrType.T1C
                elif presence is Presence.FORBIDDEN and element is not None:
                    self.add(
                        Severity.WARNING,
                        Kind.NOT_ALLOWED_BY_CONDITION,
                        tag,
                        _join(path, tag),
                        table,
                        _TYPE_TEXT[kind],
                        f"{self.name(tag)} is present although its condition does not hold"
                        f" and it may not be present otherwise: {condition.text}",
                    )
                decided_by = condition.text
            elif isinstance(condition, Unparsed) and element is None:
                self.note(
                    NoteKind.NOT_CHECKED,
                    _join(path, tag),
                    table,
                    f"{self.name(tag)} ({_TYPE_TEXT[kind]}) not checked: its condition was not"
                    f" parsed ({condition.text!r})",
                )
        if element is None:
            if required:
                text = _rule_text(rule.type, decided_by)
                self.add(
                    Severity.ERROR,
                    Kind.MISSING,
                    tag,
                    _join(path, tag),
                    table,
                    text,
                    f"{self.name(tag)} is required ({text}) and absent",
                )
            return
        if is_empty(element):
            if needs_value:
                text = _rule_text(rule.type, decided_by)
                self.add(
                    Severity.ERROR,
                    Kind.EMPTY,
                    tag,
                    _join(path, tag),
                    table,
                    text,
                    f"{self.name(tag)} is {_TYPE_TEXT[rule.type]} and has no value",
                )
            return
        self.element(rule, element, table, scope, path, ancestors)

    def applies(self, include: ParsedCondition, scope: Scope) -> bool | None:
        if isinstance(include, Unparsed) or include.required_if is None:
            return None
        return evaluate_expr(include.required_if, scope)

    def element(
        self,
        rule: Rule,
        element: DataElement,
        table: AttributeTable,
        scope: Scope,
        path: str,
        ancestors: Mapping[int, Rule] | None = None,
    ) -> None:
        tag = element.tag
        if not vr_allows(rule.vr, element.vr):
            self.add(
                Severity.ERROR,
                Kind.VR,
                tag,
                _join(path, tag),
                table,
                "VR",
                f"{self.name(tag)} has VR {element.vr.value}; the data dictionary gives {rule.vr}",
                "PS3.6 (data dictionary)",
            )
        if element.vr is VR.SQ:
            self.sequence(rule, element, table, scope, path, ancestors)
            return
        if rule.vm and element.vr not in BULK_VRS and not vm_allows(rule.vm, element.vm):
            self.add(
                Severity.ERROR,
                Kind.VM,
                tag,
                _join(path, tag),
                table,
                "VM",
                f"{self.name(tag)} has {element.vm} value(s); its VM is {rule.vm}",
                "PS3.6 (data dictionary)",
            )
        if rule.values:
            for problem in value_problems(element, rule.values):
                enumerated = problem.kind is ValuesKind.ENUMERATED
                allowed = ", ".join(problem.allowed)
                self.add(
                    Severity.ERROR if enumerated else Severity.WARNING,
                    Kind.ENUMERATED_VALUE if enumerated else Kind.DEFINED_TERM,
                    tag,
                    _join(path, tag),
                    table,
                    problem.kind.value,
                    f"{self.name(tag)} value {problem.position} {problem.value!r} is not one"
                    f" of the {problem.kind.value} ({allowed})",
                )

    def sequence(
        self,
        rule: Rule,
        element: DataElement,
        table: AttributeTable,
        scope: Scope,
        path: str,
        ancestors: Mapping[int, Rule] | None = None,
    ) -> None:
        value = element.value
        items = list(value) if isinstance(value, Sequence) else []
        count = len(items)
        if count and (
            count < rule.min_items or (rule.max_items is not None and count > rule.max_items)
        ):
            bound = (
                f"at most {rule.max_items}"
                if rule.max_items is not None and count > rule.max_items
                else f"at least {rule.min_items}"
            )
            self.add(
                Severity.ERROR,
                Kind.ITEM_COUNT,
                element.tag,
                _join(path, element.tag),
                table,
                "Items",
                f"{self.name(element.tag)} has {count} Items; {bound} are allowed",
            )
        if rule.items is None:
            return
        level = self.requirements.level(rule.items)
        where = _join(path, element.tag)
        inner = {**(ancestors or {}), element.tag: rule}
        for index, item in enumerate(items, start=1):
            self.level(level, table, scope.inner(item), f"{where}[{index}]", ancestors=inner)

    # -- modules ------------------------------------------------------------------------------

    def iod(self, compiled: CompiledIOD, dataset: Dataset) -> None:
        scope = Scope(dataset)
        for module in compiled.modules:
            use, table = module.use, module.table
            present = _any_present(dataset, module.own)
            check, required = present, False
            if use.usage is Usage.M:
                check = required = True
            elif use.usage is Usage.C:
                check, required = self.conditional(use.condition, table, scope, present)
            if not check:
                continue
            if required and module.required_rules and not _any_present(dataset, module.level):
                self.add(
                    Severity.ERROR,
                    Kind.MODULE_MISSING,
                    None,
                    "",
                    table,
                    f"usage {use.usage.value}",
                    f"the {table.name} Module is required ({compiled.iod.name} IOD, usage"
                    f" {use.usage.value}) and none of its attributes is present",
                    compiled.iod.source,
                )
                continue
            self.level(module.level, table, scope, "", extra=False)
        for element in dataset:
            tag = element.tag
            if not _exempt(tag) and not compiled.allowed.allows(tag):
                self.add(
                    Severity.WARNING,
                    Kind.NOT_IN_IOD,
                    tag,
                    format_tag(tag),
                    None,
                    "IOD",
                    f"{self.name(tag)} is not an attribute of any module of the"
                    f" {compiled.iod.name} IOD",
                    compiled.iod.source,
                )
        if compiled.groups:
            self.functional_groups(compiled, dataset, scope)

    def conditional(
        self,
        condition: ParsedCondition | None,
        table: AttributeTable,
        scope: Scope,
        present: bool,
    ) -> tuple[bool, bool]:
        """(check, required) for a usage C module or functional group."""
        if isinstance(condition, Condition) and condition.required_if is not None:
            required = evaluate_expr(condition.required_if, scope)
            if required is not None:
                return required or present, required
            if present:
                self.note(
                    NoteKind.ASSUMED,
                    "",
                    table,
                    f"{table.name}: its condition cannot be decided from the Data Set"
                    f" ({condition.text!r}); checked because its attributes are present",
                )
            return present, False
        text = condition.text if condition is not None else ""
        self.note(
            NoteKind.NOT_CHECKED,
            "",
            table,
            f"{table.name}: usage condition not parsed ({text!r}); "
            + ("checked because its attributes are present" if present else "not checked"),
        )
        return present, False

    # -- functional groups ---------------------------------------------------------------------

    def functional_groups(self, compiled: CompiledIOD, dataset: Dataset, scope: Scope) -> None:
        shared_items = _items(dataset.get(SHARED_GROUPS))
        shared = shared_items[0] if shared_items else None
        frames = _items(dataset.get(PER_FRAME_GROUPS))
        source = compiled.iod.functional_groups_source or compiled.iod.source
        frames_value = dataset.get_value(NUMBER_OF_FRAMES)
        if isinstance(frames_value, int) and frames and len(frames) != frames_value:
            self.add(
                Severity.ERROR,
                Kind.FRAME_COUNT,
                PER_FRAME_GROUPS,
                format_tag(PER_FRAME_GROUPS),
                None,
                "C.7.6.16.1.2",
                f"the Per-frame Functional Groups Sequence has {len(frames)} Items and Number"
                f" of Frames (0028,0008) is {frames_value}",
                source,
            )
        shared_path = _item_path("", SHARED_GROUPS, 1)
        for group in compiled.groups:
            use, table = group.use, group.table
            in_shared = shared is not None and _any_present(shared, group.level)
            in_frames = [_any_present(frame, group.level) for frame in frames]
            if in_shared and any(in_frames):
                self.add(
                    Severity.ERROR,
                    Kind.FUNCTIONAL_GROUP_TWICE,
                    None,
                    "",
                    table,
                    "C.7.6.16.1",
                    f"the {table.name} Functional Group is in the Shared Functional Groups"
                    " Sequence and in Per-frame Functional Groups Items",
                    source,
                )
            if in_shared and not use.shared:
                self.add(
                    Severity.ERROR,
                    Kind.FUNCTIONAL_GROUP_NOT_SHARED,
                    None,
                    shared_path,
                    table,
                    f"usage {use.usage.value}",
                    f"the {table.name} Functional Group may not be used as a Shared"
                    " Functional Group",
                    source,
                )
            present = in_shared or any(in_frames)
            required = use.usage is Usage.M
            if use.usage is Usage.C:
                _, required = self.conditional(use.condition, table, scope, present)
            if required and not in_shared and not (frames and all(in_frames)):
                missing = [i for i, there in enumerate(in_frames, start=1) if not there]
                where = (
                    "in the Shared Functional Groups Sequence nor in any frame"
                    if not present
                    else f"shared, and frames {_ranges(missing)} lack it"
                )
                self.add(
                    Severity.ERROR,
                    Kind.FUNCTIONAL_GROUP_MISSING,
                    None,
                    "",
                    table,
                    f"usage {use.usage.value}",
                    f"the {table.name} Functional Group is required and is not {where}",
                    source,
                )
            if in_shared and shared is not None:
                self.level(group.level, table, scope.inner(shared), shared_path, extra=False)
            for index, (frame, there) in enumerate(zip(frames, in_frames, strict=True), 1):
                if there:
                    path = _item_path("", PER_FRAME_GROUPS, index)
                    self.level(group.level, table, scope.inner(frame), path, extra=False)
        allowed = compiled.group_allowed
        holders: list[tuple[str, Dataset]] = [(shared_path, shared)] if shared is not None else []
        holders += [(_item_path("", PER_FRAME_GROUPS, i), f) for i, f in enumerate(frames, 1)]
        for path, item in holders:
            for element in item:
                if not _exempt(element.tag) and not allowed.allows(element.tag):
                    self.add(
                        Severity.WARNING,
                        Kind.NOT_IN_IOD,
                        element.tag,
                        _join(path, element.tag),
                        None,
                        "functional groups",
                        f"{self.name(element.tag)} is not a functional group macro of the"
                        f" {compiled.iod.name} IOD",
                        source,
                    )


def _include_text(include: ParsedCondition) -> str:
    text = include.text
    return "if " + text[len("Required if ") :] if text.startswith("Required if ") else text


def _has_masked_group(dataset: Dataset, level: Level) -> bool:
    """Whether some group of ``dataset`` is one of the repeating groups of ``level``'s rules."""
    groups = {tag >> 16 for tag in dataset.tags()}
    return any(g & gm == gb for g in groups for gm, gb in level.masked_groups)


def _any_present(dataset: Dataset, level: Level) -> bool:
    for tag in level.exact:
        if tag in dataset:
            return True
    if level.masked and _has_masked_group(dataset, level):
        return any(e.tag & r.mask == r.tag for e in dataset for r in level.masked)
    return False


def _items(element: DataElement | None) -> list[Dataset]:
    if element is None:
        return []
    value = element.value
    return list(value) if isinstance(value, Sequence) else []


def _ranges(numbers: Iterable[int]) -> str:
    """``1, 2, 3, 5`` → ``"1-3, 5"``."""
    out: list[str] = []
    run: list[int] = []
    for n in numbers:
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)


def _sop_class_uid(dataset: Dataset, meta: Dataset | None) -> str:
    for holder, tag in ((dataset, SOP_CLASS_UID), (meta, MEDIA_STORAGE_SOP_CLASS_UID)):
        if holder is None:
            continue
        value = holder.get_value(tag)
        if isinstance(value, tuple):
            value = value[0] if value else None
        if value is not None and str(value).strip("\x00 "):
            return str(value).strip("\x00 ")
    return ""


def validate(
    dataset: Dataset,
    *,
    meta: Dataset | None = None,
    requirements: Requirements = DEFAULT_REQUIREMENTS,
    lookup: TagLookup = DEFAULT_LOOKUP,
) -> Report:
    """Validate ``dataset`` against the IOD of its SOP Class.

    Parameters
    ----------
    dataset
        The Data Set (without the file meta information).
    meta
        The file meta information, used for (0002,0002) when (0008,0016) is absent.
    requirements
        The requirement tables (default: ``dicompile.generated.requirements``).
    lookup
        The data dictionary, for attribute names in messages.

    Returns
    -------
    Report
        The findings (errors and warnings) and notes; ``report.ok`` when there is no error.

    References
    ----------
    PS3.3 Annex A, Annex C, §C.7.6.16; PS3.4 B.5; PS3.5 §6.2, §6.4, §7.4; PS3.6 §6.
    """
    uid = _sop_class_uid(dataset, meta)
    run = _Run(requirements, lookup)
    if not uid:
        run.add(
            Severity.ERROR,
            Kind.NO_SOP_CLASS,
            SOP_CLASS_UID,
            format_tag(SOP_CLASS_UID),
            None,
            "SOP Common Module",
            "the Data Set has no SOP Class UID (0008,0016): its IOD is unknown",
            "PS3.3 C.12.1",
        )
        return Report("", "", "", tuple(run.findings))
    iod = requirements.iod_for_sop_class(uid)
    if iod is None:
        run.add(
            Severity.ERROR,
            Kind.UNKNOWN_SOP_CLASS,
            SOP_CLASS_UID,
            format_tag(SOP_CLASS_UID),
            None,
            "PS3.4 B.5",
            f"SOP Class UID {uid} is not a Storage SOP Class of an IOD in the requirement"
            f" tables (PS3.3 {requirements.edition}): not validated",
            "PS3.4 Table B.5-1",
        )
        return Report(uid, "", "", tuple(run.findings))
    run.iod(requirements.compiled(iod), dataset)
    return Report(uid, iod.name, iod.key, _merged(run.findings), tuple(run.notes))


def _merged(findings: list[Finding]) -> tuple[Finding, ...]:
    """One finding per attribute and problem: two modules of an IOD may list one attribute
    (Anatomic Region Sequence is in the General Image and the CT Image Modules); the finding
    then names both modules, and cites the first one's table."""
    out: dict[tuple[object, ...], Finding] = {}
    for finding in findings:
        key = (finding.severity, finding.kind, finding.path, finding.message)
        first = out.get(key)
        if first is None:
            out[key] = finding
        elif finding.module and finding.module not in first.module.split(", "):
            out[key] = attrs.evolve(first, module=f"{first.module}, {finding.module}")
    return tuple(out.values())
