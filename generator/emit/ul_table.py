"""Emitter of ``generated/ul_table_ps38.py``: the PS3.8 §9.2 state machine tables as data.

The file is small and read by the runtime's tests (``tests/runtime/net/ul/test_table.py``
compares it with the hand-written table cell for cell).  Rows follow the standard's order:
states by number, events by row, transitions by event then state, so reruns are identical.
"""

from __future__ import annotations

from pathlib import Path

from dicompile.generator.emit import pyfmt
from dicompile.generator.emit.render import GeneratedFile, environment, header
from dicompile.generator.sources.docbook.part08 import ULStateMachine, read_part08

UL_TABLE_FILE = "ul_table_ps38.py"


def _state_number(label: str) -> int:
    return int(label.removeprefix("Sta"))


def _event_number(label: str) -> int:
    return int(label.removeprefix("Evt"))


def emit_ul_table(machine: ULStateMachine) -> list[GeneratedFile]:
    """Render ``ul_table_ps38.py`` from the records of ``read_part08``.

    References
    ----------
    PS3.8 §9.2, Tables 9-1 to 9-10.
    """
    env = environment()
    env.filters["py_tuple"] = pyfmt.py_tuple
    transitions = sorted(
        machine.transitions, key=lambda t: (_event_number(t.event), _state_number(t.state))
    )
    text = env.get_template("ul_table_ps38.py.j2").render(
        header=header([machine.digest]),
        edition=machine.edition,
        states=sorted(machine.states, key=lambda s: _state_number(s.label)),
        events=sorted(machine.events, key=lambda e: _event_number(e.label)),
        actions=machine.actions,
        transitions=transitions,
    )
    return [GeneratedFile(UL_TABLE_FILE, text)]


def render_ul_table(part08_path: Path) -> dict[str, str]:
    """Read ``part08.xml`` and render the state machine: output path -> file text.

    Paths are relative to the ``generated/`` folder (``{"ul_table_ps38.py": "..."}``).

    References
    ----------
    PS3.8 §9.2, Tables 9-1 to 9-10.
    """
    return {file.path: file.text for file in emit_ul_table(read_part08(part08_path))}
