"""Emitter of ``generated/dimse_commands.py``: the PS3.7 command dictionary for the runtime.

One module, small enough to read: command elements by tag, command field and priority values,
the fields of every message with their usage, the status classes and status types of Annex C
and an ``IntEnum`` of the status codes Annex C assigns.  Rows are written one per line under
``# fmt: off`` (see ``pyfmt``); the order is the standard's (tables by tag, messages in table
order, status types by section), so reruns are byte-identical.
"""

from __future__ import annotations

import re
from pathlib import Path

from dicompile.generator.dimse_model import DimseModel, StatusTypeDef
from dicompile.generator.emit import pyfmt
from dicompile.generator.emit.render import GeneratedFile, header, render
from dicompile.generator.model import Provenance
from dicompile.generator.sources.docbook.part07 import read_part07

DIMSE_FILE = "dimse_commands.py"


class EmitError(ValueError):
    """The model cannot be rendered as valid Python (a bug of the reader, not of the standard)."""


def _cite(provenance: Provenance) -> str:
    return f"{provenance.part} {provenance.edition} {provenance.table_id}"


def _hex(value: int, digits: int) -> pyfmt.Code:
    return pyfmt.Code(f"0x{value:0{digits}X}")


def status_constant(status: StatusTypeDef) -> str:
    """The ``StatusCode`` member: ``Refused: SOP Class Not Supported`` → ``REFUSED_SOP_...``."""
    name = re.sub(r"[^A-Z0-9]+", "_", status.name.upper()).strip("_")
    if not name.isidentifier():
        raise EmitError(f"status type {status.name!r} gives no constant name")
    return name


def emit_dimse(model: DimseModel) -> list[GeneratedFile]:
    """Render ``dimse_commands.py`` from a :class:`DimseModel`.

    References
    ----------
    PS3.7 Annex E (Tables E.1-1, E.2-1), §9.1, §9.3, §10.1, §10.3, Annex C.
    """
    indent = pyfmt.INDENT
    element_lines = [
        f"{indent}{_hex(e.tag, 8).text}: "
        + pyfmt.call_line(
            "CommandElement",
            [_hex(e.tag, 8), e.name, e.keyword, e.vr, e.vm, e.retired, _cite(e.provenance)],
        )
        + ","
        for e in sorted(model.elements, key=lambda e: e.tag)
    ]
    command_field_lines = [
        f"{indent}{_hex(v.value, 4).text}: {pyfmt.py_str(v.name)},"
        for v in sorted(model.command_fields, key=lambda v: v.value)
    ]
    priority_lines = [f"{indent}{pyfmt.py_str(v.name)}: {v.value}," for v in model.priorities]
    message_lines: list[str] = []
    for m in model.messages:
        message_lines.append(f"{indent}{pyfmt.py_str(m.name)}: Message(")
        message_lines.append(
            indent * 2
            + ", ".join(
                pyfmt.py_value(v)
                for v in (
                    m.name,
                    m.service,
                    _hex(m.command_field, 4),
                    pyfmt.Code(f"DataSetPresence.{m.data_set.name}"),
                    m.data_set_name,
                    _cite(m.provenance),
                )
            )
            + ","
        )
        message_lines.append(f"{indent * 2}fields=(")
        for f in m.fields:
            message_lines.append(
                indent * 3
                + pyfmt.call_line(
                    "MessageField", [_hex(f.tag, 8), f.keyword, f.vr, f.vm, f.usage, f.name]
                )
                + ","
            )
        message_lines.append(f"{indent * 2}),")
        message_lines.append(f"{indent}),")
    class_lines = [
        indent
        + pyfmt.call_line(
            "StatusClass",
            [
                c.label,
                pyfmt.Code(f"StatusCategory.{c.category.name}" if c.category else "None"),
                pyfmt.Code(pyfmt.py_tuple(list(c.patterns))),
                _cite(c.provenance),
            ],
        )
        + ","
        for c in model.status_classes
    ]
    status_lines = [
        indent
        + pyfmt.call_line(
            "StatusType",
            [
                _hex(s.code, 4) if s.code is not None else None,
                s.name,
                s.section,
                pyfmt.Code(f"StatusCategory.{s.category.name}"),
                pyfmt.Code(pyfmt.py_tuple([_hex(t, 8) for t in s.fields]) if s.fields else "()"),
                s.data_set_name,
                _cite(s.provenance),
            ],
        )
        + ","
        for s in model.status_types
    ]
    codes = [s for s in model.status_types if s.code is not None]
    names = [status_constant(s) for s in codes]
    if len(set(names)) != len(names) or len({s.code for s in codes}) != len(codes):
        raise EmitError(f"status codes or their names are not unique: {names}")
    code_lines = [
        f"{indent}{name} = {_hex(s.code, 4).text}  # PS3.7 {s.section}"
        for name, s in zip(names, codes, strict=True)
        if s.code is not None
    ]
    return [
        render(
            "dimse_commands.py.j2",
            DIMSE_FILE,
            header=header([model.source]),
            edition=model.source.edition,
            element_lines=element_lines,
            command_field_lines=command_field_lines,
            priority_lines=priority_lines,
            no_data_set=_hex(model.no_data_set, 4).text,
            message_lines=message_lines,
            class_lines=class_lines,
            status_lines=status_lines,
            code_lines=code_lines,
        )
    ]


def render_dimse(part07_path: Path) -> dict[str, str]:
    """Read ``part07.xml`` and render the DIMSE module: relative output path → file text.

    References
    ----------
    PS3.7 Annex E, §9.1, §9.3, §10.1, §10.3, Annex C.
    """
    return {f.path: f.text for f in emit_dimse(read_part07(part07_path))}
