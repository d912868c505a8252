"""Reader of the PS3.8 upper layer state machine in DocBook (§9.2, Tables 9-1 to 9-10).

Theory of operation
-------------------
* States come from Tables 9-1 to 9-5 (``Sta 1`` ... ``Sta 13``, written with a space
  there and without one in Table 9-10), actions with their definitions from Tables 9-6 to
  9-9, and the transitions from Table 9-10, each found by ``xml:id`` and its header
  checked first: a changed layout is a :class:`StandardSourceError`, never a shifted column.
* Table 9-10 of 2013 does not number its events.  Event *n* (``Evt<n>``) is body row *n*,
  the convention of later editions and of every implementation; the row's wording is kept
  so that the runtime can check its own event list against it.
* A cell is an action identifier paragraph and a next-state paragraph (``Sta4``, or
  ``Sta3 or 13`` where the action chooses); empty cells are events that cannot occur in
  that state and produce no record.  Anything else is reported with its row and column.
* The next states named in each action's definition ("Next state is Sta4") are read too,
  so a check can compare them with the cells of Table 9-10.
* This module only translates; ``generator/emit/ul_table.py`` renders the records.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import attrs
from lxml import etree

from dicompile.generator.model import Provenance, SourceDigest
from dicompile.generator.sources.docbook.common import (
    DocBookPart,
    body_rows,
    check_columns,
    load_part,
    q,
    text_of,
)
from dicompile.runtime.errors import StandardSourceError

STATE_TABLES: tuple[str, ...] = ("table_9-1", "table_9-2", "table_9-3", "table_9-4", "table_9-5")
ACTION_TABLES: tuple[str, ...] = ("table_9-6", "table_9-7", "table_9-8", "table_9-9")
TRANSITION_TABLE = "table_9-10"
TABLES: tuple[str, ...] = (*STATE_TABLES, *ACTION_TABLES, TRANSITION_TABLE)

_STATE = re.compile(r"Sta\s*(\d+)", re.IGNORECASE)
_ACTION = re.compile(r"(AE|DT|AR|AA)-(\d+)")
# "Sta4", "Sta13", and the two choices "Sta3 or 13", "Sta9 or 10".
_NEXT = re.compile(r"Sta(\d+)(?: or (\d+))?")
# ERRATUM: PS3.8 2013 Table 9-9 AA-8 reads "Nest state is Sta13"; AE-8 writes "STA13".
# ERRATUM: PS3.8 2013 Tables 9-6 to 9-9 run "Next state" into the text before it
# ("... transport serviceNext state is Sta4"): no word boundary can be required.
_DEFINED_NEXT = re.compile(r"Ne[xs]t state is (?:Sta|STA)\s*(\d+)", re.IGNORECASE)


@attrs.frozen
class ULState:
    """A state of Tables 9-1 to 9-5: ``Sta6``, "Association established and ready ..."."""

    label: str
    definition: str
    provenance: Provenance


@attrs.frozen
class ULAction:
    """An action of Tables 9-6 to 9-9 and the next states its definition names."""

    label: str  # "AE-1"
    definition: str
    next_states: tuple[str, ...]  # ("Sta4",); AE-6: ("Sta3", "Sta13")
    provenance: Provenance


@attrs.frozen
class ULEvent:
    """An event (row) of Table 9-10: ``Evt3``, "A-ASSOCIATE-AC PDU (received on ...)"."""

    label: str
    description: str
    provenance: Provenance


@attrs.frozen
class ULTransition:
    """A non-empty cell of Table 9-10: in ``state``, ``event`` runs ``action``."""

    state: str  # "Sta2"
    event: str  # "Evt6"
    action: str  # "AE-6"
    next_states: tuple[str, ...]  # ("Sta3", "Sta13")
    provenance: Provenance


@attrs.frozen
class ULStateMachine:
    """PS3.8 §9.2 as read from one edition: states, events, actions and Table 9-10."""

    digest: SourceDigest
    states: tuple[ULState, ...]
    events: tuple[ULEvent, ...]
    actions: tuple[ULAction, ...]
    transitions: tuple[ULTransition, ...]

    @property
    def edition(self) -> str:
        return self.digest.edition


def _paragraphs(cell: etree._Element) -> list[str]:
    paras = [text_of(p) for p in cell.iter(q("para"))]
    return [p for p in paras if p] if paras else ([text_of(cell)] if text_of(cell) else [])


def _provenance(part: DocBookPart, table_id: str, row: int | None) -> Provenance:
    return Provenance(part.part, part.edition, table_id, part.source_file, row)


def _fail(part: DocBookPart, table_id: str, row: int | str, message: str) -> StandardSourceError:
    return StandardSourceError(message, source_file=part.source_file, table_id=table_id, row=row)


def _read_states(part: DocBookPart) -> list[ULState]:
    states: list[ULState] = []
    for table_id in STATE_TABLES:
        check_columns(part, table_id, ("State", "Definition"), prefix=False)
        for row in body_rows(part.table(table_id)):
            name, definition = row.texts()
            match = _STATE.fullmatch(name)
            if match is None:
                raise _fail(part, table_id, row.index, f"{name!r} is not a state (Sta<n>)")
            states.append(
                ULState(f"Sta{match[1]}", definition, _provenance(part, table_id, row.index))
            )
    return states


def _read_actions(part: DocBookPart) -> list[ULAction]:
    actions: list[ULAction] = []
    for table_id in ACTION_TABLES:
        # ERRATUM: PS3.8 2013 Table 9-7 heads its first column "State", not "Action".
        first = "State" if table_id == "table_9-7" and part.edition == "2013" else "Action"
        check_columns(part, table_id, (first, "Definition"), prefix=False)
        for row in body_rows(part.table(table_id)):
            label = row.cells[0].text
            if _ACTION.fullmatch(label) is None:
                raise _fail(part, table_id, row.index, f"{label!r} is not an action id")
            paragraphs = _paragraphs(row.cells[1].element)
            definition = " ".join(paragraphs)
            next_states = tuple(f"Sta{n}" for n in _DEFINED_NEXT.findall(definition))
            if not next_states:
                raise _fail(part, table_id, row.index, f"{label}: no 'Next state is' found")
            actions.append(
                ULAction(label, definition, next_states, _provenance(part, table_id, row.index))
            )
    return actions


def _read_transitions(
    part: DocBookPart, states: list[str]
) -> tuple[list[ULEvent], list[ULTransition]]:
    table_id = TRANSITION_TABLE
    check_columns(part, table_id, ("EVENTS", *states), prefix=False)
    events: list[ULEvent] = []
    transitions: list[ULTransition] = []
    for row in body_rows(part.table(table_id)):
        event = f"Evt{row.index}"
        provenance = _provenance(part, table_id, row.index)
        description = row.cells[0].text
        if not description:
            raise _fail(part, table_id, row.index, "event row without a description")
        events.append(ULEvent(event, description, provenance))
        for state, cell in zip(states, row.cells[1:], strict=True):
            paragraphs = _paragraphs(cell.element)
            if not paragraphs:
                continue  # an empty cell: the event cannot occur in this state
            where = f"{row.index} ({event}), column {state}"
            if len(paragraphs) != 2 or _ACTION.fullmatch(paragraphs[0]) is None:
                raise _fail(part, table_id, where, f"cannot read cell {paragraphs!r}")
            match = _NEXT.fullmatch(paragraphs[1])
            if match is None:
                raise _fail(part, table_id, where, f"cannot read next state {paragraphs[1]!r}")
            next_states = tuple(f"Sta{n}" for n in match.groups() if n is not None)
            transitions.append(ULTransition(state, event, paragraphs[0], next_states, provenance))
    return events, transitions


def read_part08(path: Path) -> ULStateMachine:
    """Read the upper layer state machine of PS3.8 §9.2 from a DocBook ``part08.xml``.

    Raises
    ------
    StandardSourceError
        When a table is missing, its columns changed or a cell cannot be read; the error
        names the file, the table id and the row.

    References
    ----------
    PS3.8 §9.2.1 (Tables 9-1 to 9-5), §9.2.2 (Tables 9-6 to 9-9), §9.2.3 (Table 9-10).
    """
    part = load_part(path)
    if part.part != "PS3.8":
        raise StandardSourceError(f"{part.part} is not PS3.8", source_file=part.source_file)
    states = _read_states(part)
    labels = [s.label for s in states]
    if labels != [f"Sta{n}" for n in range(1, len(labels) + 1)]:
        raise _fail(part, STATE_TABLES[0], "-", f"states are not Sta1..Sta{len(labels)}: {labels}")
    actions = _read_actions(part)
    events, transitions = _read_transitions(part, labels)
    digest = SourceDigest(
        part=part.part,
        edition=part.edition,
        source_file=part.source_file,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        table_ids=TABLES,
    )
    return ULStateMachine(digest, tuple(states), tuple(events), tuple(actions), tuple(transitions))
