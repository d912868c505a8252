"""Status enums, handler protocols and dispatch tables of one generated service module.

A *group* is a set of SOP classes served by one set of handlers: the SOP classes of a
service class whose annex states its one DIMSE service in prose (:data:`IMPLIED_OPERATIONS`),
the SOP classes of an information model, or one SOP class of a "DIMSE Service Group" table.
Each group gets ``<Group>SCP`` / ``<Group>SCU`` protocols, and for N-EVENT-REPORT
``<Group>EventHandler`` / ``<Group>Notifier``; status types are the enum of the group's scope,
the service class's, or the union of those whose action names match (UPS).

References
----------
PS3.4 (status tables, DIMSE Service Group tables); PS3.7 §9, §10.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs

from dicompile.generator.emit.pyfmt import INDENT, LINE_LENGTH, py_str
from dicompile.generator.emit.services_names import (
    SERVICE_SUFFIX,
    EmitError,
    cite,
    constant_name,
    pascal,
    py_text,
    scope_stem,
)
from dicompile.generator.service_model import (
    DimseAttributeTable,
    DimseOperation,
    ServiceClassDef,
    ServiceModel,
    SOPClassDef,
    StatusDef,
)

# Service classes whose SOP classes use one DIMSE service that the annex states in prose, not
# in a "DIMSE Service Group" table: PS3.4 A.3 (C-ECHO), B.2 (C-STORE); Hanging Protocol and
# Color Palette Storage (T.3, W.3) behave as the Storage Service Class.
IMPLIED_OPERATIONS: Mapping[str, DimseOperation] = {
    "Verification Service Class": DimseOperation.C_ECHO,
    "Storage Service Class": DimseOperation.C_STORE,
    "Hanging Protocol Storage Service Class": DimseOperation.C_STORE,
    "Color Palette Storage Service Class": DimseOperation.C_STORE,
}

OPERATION_WORD: Mapping[DimseOperation, str] = {
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


@attrs.frozen
class StatusEnum:
    name: str
    operation: DimseOperation
    scope: str
    statuses: tuple[StatusDef, ...]


@attrs.frozen
class Group:
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


def status_enums(statuses: Sequence[StatusDef]) -> list[StatusEnum]:
    """One enum per operation and scope, in the order the tables list them."""
    grouped: dict[tuple[DimseOperation, str], list[StatusDef]] = {}
    for status in statuses:
        grouped.setdefault((status.operation, status.scope), []).append(status)
    out: list[StatusEnum] = []
    for (operation, scope), rows in grouped.items():
        name = f"{pascal(scope_stem(scope))}{OPERATION_WORD[operation]}Status"
        out.append(StatusEnum(name, operation, scope, tuple(rows)))
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


def status_lines(enum: StatusEnum) -> list[str]:
    """The class of a status enum: one ``StatusEntry`` member per row (PS3.4 status tables)."""
    lines = [
        f"class {enum.name}(ServiceStatus):",
        f'{INDENT}"""{enum.operation.value} statuses'
        + (f" of {enum.scope}" if enum.scope else "")
        + f" ({cite(enum.statuses[0].provenance)})."
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
            f"StatusCategory.{status.category.name}, {py_text(status.meaning)}, {fields})"
        )
    lines.append(f"{INDENT}# fmt: on")
    return lines


def type_enum_lines(
    name: str, kind: str, scope: str, tables: Sequence[DimseAttributeTable]
) -> list[str]:
    """An ``IntEnum`` of the Action or Event Type IDs of one SOP class."""
    lines = [
        f"class {name}(enum.IntEnum):",
        f'{INDENT}"""{kind} Type IDs of {scope} ({cite(tables[0].provenance)})."""',
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


def service_groups(
    service: ServiceClassDef,
    model: ServiceModel,
    sop_constant: Mapping[str, str],
    sops: Sequence[SOPClassDef],
) -> list[Group]:
    """The handler groups of ``service`` (see the module docstring), names checked unique."""
    groups: list[Group] = []
    implied = IMPLIED_OPERATIONS.get(service.name)
    if implied is not None and sops:
        groups.append(
            Group(
                name=pascal(SERVICE_SUFFIX.sub("", service.name)),
                title=service.name,
                sop_constants=tuple(sop_constant[s.uid] for s in sops),
                operations=((implied, "", "", cite(service.provenance)),),
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
                operations.append((op, "", "", cite(im.provenance)))
        groups.append(
            Group(
                name=pascal(scope_stem(im.name)),
                title=im.name,
                sop_constants=tuple(sop_constant[uid] for _op, uid in im.sop_classes),
                operations=tuple(operations),
                scopes=("", im.name, scope_stem(im.name)),
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
            ops.append((usage.operation, usage.scu, usage.scp, cite(usage.provenance)))
    by_name = {s.name: s for s in sops}
    for scope, ops in by_scope.items():
        sop = by_name.get(scope)
        name = pascal(scope_stem(scope))
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
            Group(
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


def _status_type(group: Group, operation: DimseOperation, enums: Sequence[StatusEnum]) -> str:
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


def protocol_lines(group: Group, enums: Sequence[StatusEnum]) -> list[str]:
    """The SCP, SCU, EventHandler and Notifier protocols of ``group`` (those it needs)."""
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
            alias = f"{group.name}{OPERATION_WORD[operation]}Status"
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


def dispatch_lines(groups: Sequence[Group]) -> list[str]:
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
