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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from dicompile.generator.emit.pyfmt import INDENT, LINE_LENGTH, py_str
from dicompile.generator.emit.render import GeneratedFile, header, render, sources_used
from dicompile.generator.model import (
    DataElementDef,
    Provenance,
    SourceDigest,
    TagPattern,
    UIDDef,
    edition_sort_key,
)
from dicompile.generator.service_merge import merge_storage_sops, read_storage_sops
from dicompile.generator.service_model import (
    DimseAttributeRequirement,
    DimseAttributeTable,
    DimseOperation,
    IdentifierAttributeDef,
    InformationModelDef,
    QueryKeyDef,
    ServiceClassDef,
    ServiceModel,
    SOPClassDef,
    StatusDef,
)
from dicompile.generator.sources.docbook.part04 import read_part04
from dicompile.generator.sources.json_rendition import edition_of_folder

if TYPE_CHECKING:
    from dicompile.generator.pipeline import Build

SERVICES_DIR = "services/"
PART04_FILE = "part04.xml"
SOPS_FILE = "sops.json"
STORAGE_ANNEX = "B"

# Service classes whose SOP classes use one DIMSE service that the annex states in prose, not
# in a "DIMSE Service Group" table: PS3.4 A.3 (C-ECHO), B.2 (C-STORE); Hanging Protocol and
# Color Palette Storage (T.3, W.3) behave as the Storage Service Class.
IMPLIED_OPERATIONS: Mapping[str, DimseOperation] = {
    "Verification Service Class": DimseOperation.C_ECHO,
    "Storage Service Class": DimseOperation.C_STORE,
    "Hanging Protocol Storage Service Class": DimseOperation.C_STORE,
    "Color Palette Storage Service Class": DimseOperation.C_STORE,
}

_OPERATION_WORD: Mapping[DimseOperation, str] = {
    DimseOperation.C_STORE: "Store",
    DimseOperation.C_FIND: "Find",
    DimseOperation.C_GET: "Get",
    DimseOperation.C_MOVE: "Move",
    DimseOperation.C_ECHO: "Echo",
    DimseOperation.N_EVENT_REPORT: "NEventReport",
    DimseOperation.N_GET: "NGet",
    DimseOperation.N_SET: "NSet",
    DimseOperation.N_ACTION: "NAction",
    DimseOperation.N_CREATE: "NCreate",
    DimseOperation.N_DELETE: "NDelete",
}

# What a handler does, said once per operation in the SCP protocols.
_SCP_DOC: Mapping[DimseOperation, str] = {
    DimseOperation.C_FIND: " Yield a Match per match; raise ServiceFailure to fail.",
    DimseOperation.C_MOVE: " Yield the instances to send; the runtime runs the sub-operations.",
    DimseOperation.C_GET: " Yield the instances to send; the runtime runs the sub-operations.",
}

_SERVICE_SUFFIX = re.compile(
    r"\s+(Service and SOP Classes|Service Classes|Service Class|SOP Classes|Service)$"
)
_SOP_SUFFIX = re.compile(r"\s+(SOP Classes|SOP Class|Information Model|Meta SOP Class)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class EmitError(ValueError):
    """The model cannot be rendered as valid Python (clashing names: a reader bug)."""


def module_name(service_class: str) -> str:
    """``Query/Retrieve Service Class`` -> ``query_retrieve``."""
    stem = _SERVICE_SUFFIX.sub("", service_class)
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")


def constant_name(text: str) -> str:
    """``Study Root ... - FIND`` -> ``STUDY_ROOT_..._FIND``; a leading digit gets ``UID_``."""
    name = re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")
    return f"UID_{name}" if name[:1].isdigit() else name


def keyword_constant(keyword: str) -> str:
    """``CTImageStorage`` -> ``CT_IMAGE_STORAGE``."""
    return constant_name(_CAMEL.sub("_", keyword))


def pascal(text: str) -> str:
    """``Change UPS State`` -> ``ChangeUPSState``; ``12-lead`` -> ``N12Lead``."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    name = "".join(w[0].upper() + w[1:] for w in words)
    return f"N{name}" if name[:1].isdigit() else name


def _scope_stem(scope: str) -> str:
    return _SOP_SUFFIX.sub("", scope.strip())


def _cite(provenance: Provenance) -> str:
    return f"{provenance.part} {provenance.edition} {provenance.table_id}"


def _text(text: str) -> str:
    return py_str(" ".join(text.split()))


def _tag(tag: TagPattern | None) -> str:
    if tag is None:
        return "None"
    if tag.is_repeating:
        raise EmitError(f"repeating-group tag {tag.text} in a service table")
    return f"0x{tag.text}"


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
class _StatusEnum:
    name: str
    operation: DimseOperation
    scope: str
    statuses: tuple[StatusDef, ...]


@attrs.frozen
class _Group:
    """SOP classes served by one set of handlers."""

    name: str
    title: str
    sop_constants: tuple[str, ...]
    operations: tuple[tuple[DimseOperation, str, str, str], ...]  # op, scu, scp, source
    scopes: tuple[str, ...]  # status scopes that belong to the group
    action_enum: str = ""
    event_enum: str = ""
    type_names: tuple[str, ...] = ()  # action/event type names and usage qualifiers
    # the operations each SOP class of the group uses (an information model: one per UID)
    uid_operations: tuple[tuple[str, tuple[DimseOperation, ...]], ...] = ()


@attrs.frozen
class _Names:
    """Keywords by tag text and by UID, from the merged PS3.6 model (may be empty)."""

    elements: Mapping[str, str]
    uids: Mapping[str, str]

    @classmethod
    def of(cls, elements: Iterable[DataElementDef], uids: Iterable[UIDDef]) -> _Names:
        return cls({e.tag.text: e.keyword for e in elements}, {u.uid: u.keyword for u in uids})

    def keyword(self, tag: TagPattern | None) -> str:
        return "" if tag is None else self.elements.get(tag.text, "")


def _status_enums(statuses: Sequence[StatusDef]) -> list[_StatusEnum]:
    grouped: dict[tuple[DimseOperation, str], list[StatusDef]] = {}
    for status in statuses:
        grouped.setdefault((status.operation, status.scope), []).append(status)
    out: list[_StatusEnum] = []
    for (operation, scope), rows in grouped.items():
        name = f"{pascal(_scope_stem(scope))}{_OPERATION_WORD[operation]}Status"
        out.append(_StatusEnum(name, operation, scope, tuple(rows)))
    names = [e.name for e in out]
    if len(set(names)) != len(names):
        raise EmitError(f"status enum names clash: {names}")
    return out


def _member_names(statuses: Sequence[StatusDef]) -> list[str]:
    """Member names from the first clause of the meaning; the code is appended on a clash."""
    stems: list[str] = []
    for status in statuses:
        clause = re.split(r" - |[.;,(]", status.meaning, maxsplit=1)[0] if status.meaning else ""
        words = re.findall(r"[A-Za-z0-9]+", clause)[:8]
        stems.append("_".join(words).upper() or status.category.name)
    names = []
    for stem, status in zip(stems, statuses, strict=True):
        name = stem if stems.count(stem) == 1 else f"{stem}_{status.code.text.upper()}"
        names.append(f"S_{name}" if name[:1].isdigit() else name)
    if len(set(names)) != len(names):
        raise EmitError(f"status member names clash: {names}")
    return names


def _status_lines(enum: _StatusEnum) -> list[str]:
    lines = [
        f"class {enum.name}(ServiceStatus):",
        f'{INDENT}"""{enum.operation.value} statuses'
        + (f" of {enum.scope}" if enum.scope else "")
        + f" ({_cite(enum.statuses[0].provenance)})."
        + '"""',
        "",
        f"{INDENT}# fmt: off",
    ]
    codes = [s.code.text for s in enum.statuses]
    if len(set(codes)) != len(codes):
        raise EmitError(f"{enum.name}: a code is listed twice: {codes}")
    for name, status in zip(_member_names(enum.statuses), enum.statuses, strict=True):
        fields = ", ".join(py_str(f) for f in status.related_fields)
        fields = f"({fields},)" if len(status.related_fields) == 1 else f"({fields})"
        lines.append(
            f"{INDENT}{name} = StatusEntry({py_str(status.code.text)}, "
            f"StatusCategory.{status.category.name}, {_text(status.meaning)}, {fields})"
        )
    lines.append(f"{INDENT}# fmt: on")
    return lines


def _type_enum_lines(
    name: str, kind: str, scope: str, tables: Sequence[DimseAttributeTable]
) -> list[str]:
    lines = [
        f"class {name}(enum.IntEnum):",
        f'{INDENT}"""{kind} Type IDs of {scope} ({_cite(tables[0].provenance)})."""',
        "",
    ]
    seen: dict[int, str] = {}
    for table in tables:
        assert table.type_id is not None
        member = constant_name(table.type_name) or f"TYPE_{table.type_id}"
        if table.type_id in seen:
            continue
        if member in seen.values():
            raise EmitError(f"{name}: type name {member} twice")
        seen[table.type_id] = member
        lines.append(f"{INDENT}{member} = {table.type_id}")
    return lines


def _groups(
    service: ServiceClassDef,
    model: ServiceModel,
    sop_constant: Mapping[str, str],
    sops: Sequence[SOPClassDef],
) -> list[_Group]:
    groups: list[_Group] = []
    implied = IMPLIED_OPERATIONS.get(service.name)
    if implied is not None and sops:
        groups.append(
            _Group(
                name=pascal(_SERVICE_SUFFIX.sub("", service.name)),
                title=service.name,
                sop_constants=tuple(sop_constant[s.uid] for s in sops),
                operations=((implied, "", "", _cite(service.provenance)),),
                scopes=("",),
                uid_operations=tuple((sop_constant[s.uid], (implied,)) for s in sops),
            )
        )
    for im in model.information_models:
        if im.service_class != service.name:
            continue
        operations: list[tuple[DimseOperation, str, str, str]] = []
        for op, _uid in im.sop_classes:
            if all(op is not o for o, *_ in operations):
                operations.append((op, "", "", _cite(im.provenance)))
        groups.append(
            _Group(
                name=pascal(_scope_stem(im.name)),
                title=im.name,
                sop_constants=tuple(sop_constant[uid] for _op, uid in im.sop_classes),
                operations=tuple(operations),
                scopes=("", im.name, _scope_stem(im.name)),
                uid_operations=tuple((sop_constant[uid], (op,)) for op, uid in im.sop_classes),
            )
        )
    by_scope: dict[str, list[tuple[DimseOperation, str, str, str]]] = {}
    qualifiers: dict[str, list[str]] = {}
    for usage in model.service_usages:
        if usage.service_class != service.name:
            continue
        ops = by_scope.setdefault(usage.scope, [])
        if usage.qualifier:
            qualifiers.setdefault(usage.scope, []).append(usage.qualifier)
        if all(usage.operation is not o for o, *_ in ops):
            ops.append((usage.operation, usage.scu, usage.scp, _cite(usage.provenance)))
    by_name = {s.name: s for s in sops}
    for scope, ops in by_scope.items():
        sop = by_name.get(scope)
        name = pascal(_scope_stem(scope))
        action = event = ""
        if any(
            t.scope == scope and t.operation is DimseOperation.N_ACTION
            for t in model.attribute_tables
        ):
            action = f"{name}ActionType"
        if any(
            t.scope == scope and t.operation is DimseOperation.N_EVENT_REPORT
            for t in model.attribute_tables
        ):
            event = f"{name}EventType"
        groups.append(
            _Group(
                name=name,
                title=scope,
                sop_constants=(sop_constant[sop.uid],) if sop else (),
                operations=tuple(ops),
                scopes=("", scope),
                action_enum=action,
                event_enum=event,
                type_names=(
                    *(t.type_name for t in model.attribute_tables if t.scope == scope),
                    *qualifiers.get(scope, ()),
                ),
                uid_operations=(
                    ((sop_constant[sop.uid], tuple(op for op, *_ in ops)),) if sop else ()
                ),
            )
        )
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise EmitError(f"{service.name}: group names clash: {names}")
    return groups


def _status_type(group: _Group, operation: DimseOperation, enums: Sequence[_StatusEnum]) -> str:
    """The status enum(s) of ``operation`` for ``group``: its scope's, the service's, or all."""
    candidates = [e for e in enums if e.operation is operation]
    for scope in group.scopes[1:]:
        exact = [e for e in candidates if e.scope == scope]
        if exact:
            return exact[0].name
    general = [e for e in candidates if e.scope == ""]
    if general:
        return general[0].name
    # UPS names its status tables after the action ("Change UPS State"): match type names.
    named = [e for e in candidates if any(_names_scope(n, e.scope) for n in group.type_names)]
    if named:
        candidates = named
    if len(candidates) == 1:
        return candidates[0].name
    if candidates:
        return " | ".join(e.name for e in candidates)
    return "StatusCode"


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)}


def _names_scope(name: str, scope: str) -> bool:
    """``Subscribe to Receive UPS Event Reports`` names ``Subscribe/Unsubscribe to ...``."""
    words = _words(name)
    return bool(words) and words <= _words(scope)


def _protocol_lines(group: _Group, enums: Sequence[_StatusEnum]) -> list[str]:
    scp_methods: list[list[str]] = []
    scu_methods: list[list[str]] = []
    event_methods: list[list[str]] = []
    notify_methods: list[list[str]] = []
    aliases: list[str] = []
    many = len(group.sop_constants) != 1
    sop_param = ", sop_class_uid: str" if many else ""
    for operation, scu, scp, source in group.operations:
        status = _status_type(group, operation, enums)
        if " | " in status:
            # No table names the statuses of this SOP class's operation: any of the service's.
            alias = f"{group.name}{_OPERATION_WORD[operation]}Status"
            line = f"{alias}: TypeAlias = {status}"
            fits = len(line) <= LINE_LENGTH
            aliases += [
                "",
                "",
                f"# {operation.value} statuses of {group.title} (any of the service's).",
            ]
            aliases += [line] if fits else ["# fmt: off", line, "# fmt: on"]
            status = alias
        usage = f"SCU {scu or '-'}, SCP {scp or '-'}; " if scu or scp else ""
        doc = f'{INDENT * 2}"""{operation.value} ({usage}{source}).{_SCP_DOC.get(operation, "")}"""'
        ctx = "context: ServiceContext"
        action = f"{group.action_enum} | int" if group.action_enum else "int"
        event = f"{group.event_enum} | int" if group.event_enum else "int"
        if operation is DimseOperation.C_ECHO:
            scp_sig = f"async def handle_echo(self, {ctx}) -> Outcome[{status}]:"
            scu_sig = f"async def echo(self{sop_param}) -> Outcome[{status}]:"
        elif operation is DimseOperation.C_STORE:
            scp_sig = (
                f"async def handle_store(self, data_set: Dataset, {ctx}) -> Outcome[{status}]:"
            )
            scu_sig = (
                f"async def store(self, data_set: Dataset{sop_param}, sop_instance_uid: str)"
                f" -> Outcome[{status}]:"
            )
        elif operation is DimseOperation.C_FIND:
            scp_sig = (
                f"def handle_find(self, identifier: Dataset, {ctx})"
                f" -> AsyncIterator[Match[{status}]]:"
            )
            scu_sig = f"def find(self, identifier: Dataset) -> AsyncIterator[Match[{status}]]:"
        elif operation is DimseOperation.C_MOVE:
            scp_sig = (
                f"def handle_move(self, identifier: Dataset, destination: str, {ctx})"
                " -> AsyncIterator[Dataset]:"
            )
            scu_sig = (
                "def move(self, identifier: Dataset, destination: str)"
                f" -> AsyncIterator[Progress[{status}]]:"
            )
        elif operation is DimseOperation.C_GET:
            scp_sig = f"def handle_get(self, identifier: Dataset, {ctx}) -> AsyncIterator[Dataset]:"
            scu_sig = f"def get(self, identifier: Dataset) -> AsyncIterator[Progress[{status}]]:"
        elif operation is DimseOperation.N_CREATE:
            scp_sig = (
                "async def handle_n_create(self, sop_instance_uid: str | None,"
                f" attributes: Dataset | None, {ctx}) -> Outcome[{status}]:"
            )
            scu_sig = (
                "async def n_create(self, attributes: Dataset | None,"
                f" sop_instance_uid: str | None = None) -> Outcome[{status}]:"
            )
        elif operation is DimseOperation.N_SET:
            scp_sig = (
                "async def handle_n_set(self, sop_instance_uid: str, modifications: Dataset,"
                f" {ctx}) -> Outcome[{status}]:"
            )
            scu_sig = (
                "async def n_set(self, sop_instance_uid: str, modifications: Dataset)"
                f" -> Outcome[{status}]:"
            )
        elif operation is DimseOperation.N_GET:
            scp_sig = (
                "async def handle_n_get(self, sop_instance_uid: str, attribute_tags: Sequence[int],"
                f" {ctx}) -> Outcome[{status}]:"
            )
            scu_sig = (
                "async def n_get(self, sop_instance_uid: str, attribute_tags: Sequence[int] = ())"
                f" -> Outcome[{status}]:"
            )
        elif operation is DimseOperation.N_ACTION:
            scp_sig = (
                f"async def handle_n_action(self, sop_instance_uid: str, action_type: {action},"
                f" information: Dataset | None, {ctx}) -> Outcome[{status}]:"
            )
            scu_sig = (
                f"async def n_action(self, sop_instance_uid: str, action_type: {action},"
                f" information: Dataset | None = None) -> Outcome[{status}]:"
            )
        elif operation is DimseOperation.N_DELETE:
            scp_sig = (
                f"async def handle_n_delete(self, sop_instance_uid: str, {ctx})"
                f" -> Outcome[{status}]:"
            )
            scu_sig = f"async def n_delete(self, sop_instance_uid: str) -> Outcome[{status}]:"
        else:  # N-EVENT-REPORT: invoked by the SCP, handled by the SCU
            event_methods.append(
                _method(
                    f"async def handle_n_event_report(self, sop_instance_uid: str,"
                    f" event_type: {event}, information: Dataset | None, {ctx})"
                    f" -> Outcome[{status}]:",
                    doc,
                )
            )
            notify_methods.append(
                _method(
                    f"async def n_event_report(self, sop_instance_uid: str, event_type: {event},"
                    f" information: Dataset | None = None) -> Outcome[{status}]:",
                    doc,
                )
            )
            continue
        scp_methods.append(_method(scp_sig, doc))
        scu_methods.append(_method(scu_sig, doc))
    title = group.title
    lines: list[str] = aliases
    for suffix, what, methods in (
        ("SCP", f"The handlers an SCP of {title} implements.", scp_methods),
        ("SCU", f"The calls an SCU of {title} makes (offered by the runtime).", scu_methods),
        (
            "EventHandler",
            f"The N-EVENT-REPORT handler of an SCU of {title} (the SCP reports).",
            event_methods,
        ),
        ("Notifier", f"The N-EVENT-REPORT call an SCP of {title} makes.", notify_methods),
    ):
        if not methods:
            continue
        lines += ["", "", "@runtime_checkable", f"class {group.name}{suffix}(Protocol):"]
        lines.append(f'{INDENT}"""{what}"""')
        for method in methods:
            lines.append("")
            lines += method
    return lines


def _dispatch_lines(groups: Sequence[_Group]) -> list[str]:
    """``OPERATIONS`` and ``SCP_PROTOCOLS`` by SOP class UID, for the runtime's dispatch."""
    operations: list[str] = []
    protocols: list[str] = []
    for group in groups:
        has_scp = any(op is not DimseOperation.N_EVENT_REPORT for op, *_ in group.operations)
        for constant, ops in group.uid_operations:
            names = ", ".join(py_str(op.value) for op in ops)
            operations.append(f"{INDENT}{constant}: ({names}{',' if len(ops) == 1 else ''}),")
            if has_scp:
                protocols.append(f"{INDENT}{constant}: {py_str(group.name + 'SCP')},")
    if not operations:
        return []
    lines = [
        "",
        "",
        "# The DIMSE services each SOP class uses, and the name of the protocol its SCP handler",
        "# implements (absent when the SCP only sends N-EVENT-REPORT).",
        "# fmt: off",
        "OPERATIONS: Final[Mapping[str, tuple[str, ...]]] = {",
        *operations,
        "}",
        "SCP_PROTOCOLS: Final[Mapping[str, str]] = {",
        *protocols,
        "}",
        "# fmt: on",
    ]
    return lines


def _method(signature: str, doc: str) -> list[str]:
    """A protocol method, split as ruff formats a long ``def``: one parameter per line."""
    line = f"{INDENT}{signature}"
    if len(line) <= LINE_LENGTH:
        return [line, doc, f"{INDENT * 2}..."]
    match = re.fullmatch(r"((?:async )?def \w+)\((.*)\) -> (.*):", signature)
    assert match is not None, signature
    head, params, result = match.groups()
    joined = f"{INDENT * 2}{params}"
    fits = len(joined) <= LINE_LENGTH
    body = [joined] if fits else [f"{INDENT * 2}{p}," for p in _split_params(params)]
    return [f"{INDENT}{head}(", *body, f"{INDENT}) -> {result}:", doc, f"{INDENT * 2}..."]


def _split_params(params: str) -> list[str]:
    out: list[str] = []
    depth = 0
    current = ""
    for char in params:
        if char == "," and depth == 0:
            out.append(current.strip())
            current = ""
            continue
        depth += char in "[("
        depth -= char in "])"
        current += char
    out.append(current.strip())
    return out


# The kinds of matching of PS3.4 C.2.2.2 as the remarks name them, and the enum members.
_MATCHING_KINDS: Mapping[str, str] = {
    "single value": "SINGLE_VALUE",
    "list of uid": "LIST_OF_UID",
    "universal": "UNIVERSAL",
    "wild card": "WILD_CARD",
    "range": "RANGE",
    "sequence": "SEQUENCE",
}
_MATCHING_CLAUSE = re.compile(r"(?:retrieved with|subject to)\s+(.*?)\bmatching\b(.*)", re.I)
_MATCHING_KIND = re.compile(r"single value|list of uid|universal|wild ?card|range|sequence", re.I)


def matching_types(remark: str) -> tuple[str, ...]:
    """The kinds of matching a key's remark allows, as ``MatchingType`` member names.

    ``"... shall be retrieved with Single Value, Wild Card, or Universal Matching"`` gives
    ``("SINGLE_VALUE", "WILD_CARD", "UNIVERSAL")``; a remark naming none gives ``()``, and so
    does a sentence saying the key "shall not" be used for matching.

    References
    ----------
    PS3.4 C.2.2.2 (kinds of matching); K.6-1 and the like (the remarks).
    """
    found: list[str] = []
    for sentence in re.split(r"(?<=\.)\s+", " ".join(remark.split())):
        if re.search(r"shall not", sentence, re.I):
            continue
        clause = _MATCHING_CLAUSE.search(sentence)
        if clause is None:
            continue
        # "Single Value Matching or Wild Card Matching": the kinds after the first "matching"
        text = clause[1] + clause[2]
        for kind in _MATCHING_KIND.findall(text):
            member = _MATCHING_KINDS[
                re.sub(r"\s+", " ", kind.lower()).replace("wildcard", "wild card")
            ]
            if member not in found:
                found.append(member)
    return tuple(found)


def _key_lines(key: QueryKeyDef, names: _Names, depth: int) -> list[str]:
    pad = INDENT * depth
    ret = f"ReturnKeyType.{key.return_key_type.name}" if key.return_key_type else "None"
    kinds = [f"MatchingType.{m}" for m in matching_types(key.remark)]
    kinds_text = f"({kinds[0]},)" if len(kinds) == 1 else f"({', '.join(kinds)})"
    head = (
        f"{pad}QueryKey({_tag(key.tag)}, {py_str(names.keyword(key.tag))}, {_text(key.name)},"
        f" MatchingKeyType.{key.matching_key_type.name}, {ret}, {_text(key.remark)},"
        f" {kinds_text}, {_text(key.module)}, "
    )
    if not key.children:
        return [head + "()),"]
    lines = [head + "("]
    for child in key.children:
        lines += _key_lines(child, names, depth + 1)
    return [*lines, f"{pad})),"]


def _identifier_lines(attr: IdentifierAttributeDef, names: _Names, depth: int) -> list[str]:
    pad = INDENT * depth
    head = (
        f"{pad}IdentifierAttribute({_tag(attr.tag)}, {py_str(names.keyword(attr.tag))},"
        f" {_text(attr.name)}, ReturnKeyType.{attr.request_type.name},"
        f" ReturnKeyType.{attr.response_type.name}, {_text(attr.remark)}, "
    )
    if not attr.children:
        return [head + "()),"]
    lines = [head + "("]
    for child in attr.children:
        lines += _identifier_lines(child, names, depth + 1)
    return [*lines, f"{pad})),"]


def _model_lines(im: InformationModelDef, names: _Names) -> list[str]:
    sops = " ".join(f"({py_str(op.value)}, {py_str(uid)})," for op, uid in im.sop_classes)
    lines = [
        f"{constant_name(im.name)}: Final = InformationModel(",
        f"{INDENT}{py_str(im.name)},",
        f"{INDENT}({sops}),",
        f"{INDENT}(",
    ]
    for level in im.levels:
        lines.append(f"{INDENT * 2}QueryLevel({py_str(level.value)}, {_text(level.name)}, (")
        for key in level.keys:
            lines += _key_lines(key, names, 3)
        lines.append(f"{INDENT * 2}), {py_str(_cite(level.provenance))}),")
    lines.append(f"{INDENT}),")
    lines.append(f"{INDENT}(")
    for attr in im.identifier_attributes:
        lines += _identifier_lines(attr, names, 2)
    lines += [f"{INDENT}),", f"{INDENT}{py_str(_cite(im.provenance))},", ")"]
    return lines


def _requirement_lines(req: DimseAttributeRequirement, names: _Names, depth: int) -> list[str]:
    pad = INDENT * depth
    head = (
        f"{pad}AttributeRequirement({_tag(req.tag)}, {py_str(names.keyword(req.tag))},"
        f" {_text(req.name)}, {py_str(req.scu)}, {py_str(req.scp)}, {req.not_allowed},"
        f" {_text(req.final_state)}, {_text(req.comment)}, {_text(req.module)}, "
    )
    if not req.children:
        return [head + "()),"]
    lines = [head + "("]
    for child in req.children:
        lines += _requirement_lines(child, names, depth + 1)
    return [*lines, f"{pad})),"]


def _table_constant(table: DimseAttributeTable) -> str:
    name = constant_name(f"{_scope_stem(table.scope)} {table.operation.value}")
    return name if table.type_id is None else f"{name}_{table.type_id}"


def _table_lines(table: DimseAttributeTable, names: _Names) -> list[str]:
    lines = [
        f"{_table_constant(table)}: Final = AttributeTable(",
        f"{INDENT}{py_str(table.scope)}, {py_str(table.operation.value)},"
        f" {table.type_id}, {_text(table.type_name)}, (",
    ]
    for req in table.attributes:
        lines += _requirement_lines(req, names, 2)
    lines += [f"{INDENT}), {py_str(_cite(table.provenance))},", ")"]
    return lines


@attrs.frozen
class _ServiceFiles:
    service: ServiceClassDef
    module: str
    files: tuple[GeneratedFile, ...]
    sop_uids: tuple[str, ...]


def _sop_constants(sops: Sequence[SOPClassDef], names: _Names) -> dict[str, str]:
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
    service: ServiceClassDef, model: ServiceModel, names: _Names
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
    enums = _status_enums(statuses)
    groups = _groups(service, model, sop_constant, sops)
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
        f"{INDENT}SOPClass({sop_constant[s.uid]}, {_text(s.name)}, {s.retired},"
        f" {_text(s.iod or s.iod_section)}, {py_str(_cite(s.provenance))}),"
        for s in sops
    ]
    type_enum_lines: list[list[str]] = []
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
                type_enum_lines.append(_type_enum_lines(enum_name, kind, group.title, rows))
    protocol_lines: list[str] = []
    for group in groups:
        protocol_lines += _protocol_lines(group, enums)
    dispatch_lines = _dispatch_lines(groups)
    if dispatch_lines:
        protocol_lines += dispatch_lines
    import_lines = _import_lines(
        protocol_lines,
        has_enum=bool(type_enum_lines),
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
            status_blocks=[_status_lines(e) for e in enums],
            type_enum_blocks=type_enum_lines,
            protocol_lines=protocol_lines,
            counts=(len(sops), len(enums), len(groups)),
        )
    ]
    if models:
        model_blocks = [_model_lines(im, names) for im in models]
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
        constants = [_table_constant(t) for t in tables]
        if len(set(constants)) != len(constants):
            raise EmitError(f"{service.name}: attribute table names clash: {constants}")
        files.append(
            render(
                "services_attributes.py.j2",
                f"{SERVICES_DIR}{module}_attributes.py",
                header=_cited(model.sources, [t.provenance for t in tables]),
                service=service,
                blocks=[_table_lines(t, names) for t in tables],
                constants=constants,
            )
        )
    return _ServiceFiles(service, module, tuple(files), tuple(s.uid for s in sops))


def _import_lines(
    protocol_lines: Sequence[str],
    *,
    has_enum: bool,
    has_statuses: bool,
    has_final: bool,
    has_sops: bool,
) -> list[str]:
    """The import block of a service module, in the order ruff's isort wants."""
    text = "\n".join(protocol_lines)

    def used(*names: str) -> list[str]:
        return [n for n in names if re.search(rf"\b{n}\b", text)]

    lines: list[str] = ["import enum"] if has_enum else []
    abc = used("AsyncIterator", "Mapping", "Sequence")
    if abc:
        lines.append(f"from collections.abc import {', '.join(abc)}")
    typing = [
        *(["TYPE_CHECKING"] if used("Dataset") else []),
        *(["Final"] if has_final else []),
        *(["Protocol"] if protocol_lines else []),
        *used("TypeAlias"),
        *(["runtime_checkable"] if protocol_lines else []),
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
    names = _Names.of(elements, uids)
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
