"""PS3.8 Table 9-10 cell by cell: the hand-written table against the generated one, and the
machine against both.  No sockets, no sleeps: each case builds a machine in the state by
real inputs, makes the event happen through the public API and watches the transition.
"""

from __future__ import annotations

import pytest

from dicompile.generated import ul_table_ps38 as generated
from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.net.ul.machine import SendData, Transition
from dicompile.runtime.net.ul.pdu import (
    AAssociateRJ,
    ACSERejectReason,
    RejectResult,
    RejectSource,
    decode_pdu,
)
from dicompile.runtime.net.ul.table import (
    ACTIONS,
    TRANSITIONS,
    Action,
    Context,
    Event,
    Input,
    Role,
    State,
    step,
)

from . import vectors
from .helpers import ACCEPTOR_STATES, REQUESTOR_STATES, fire, machine_in


def test_vocabulary_matches_the_generated_table() -> None:
    assert [s.label for s in State] == list(generated.STATES)
    # Event n is row n of Table 9-10, with that row's wording.
    assert {e.label: e.value for e in Event} == dict(generated.EVENTS)
    assert [a.value for a in Action] == list(generated.ACTION_NEXT_STATES)
    assert set(ACTIONS) == set(Action)
    assert generated.EDITION == "2013"


def test_hand_written_table_equals_the_generated_one() -> None:
    hand = {(s.label, e.label): a.value for (s, e), a in TRANSITIONS.items()}
    assert hand == {cell: action for cell, (action, _) in generated.TRANSITIONS.items()}


ALL_CELLS = [(state, event) for event in Event for state in State]


def _id(value: object) -> str:
    return value.label if isinstance(value, State | Event) else str(value)


@pytest.mark.parametrize(("state", "event"), ALL_CELLS, ids=_id)
def test_pure_step_follows_the_cell(state: State, event: Event) -> None:
    expected = generated.TRANSITIONS.get((state.label, event.label))
    hand = TRANSITIONS.get((state, event))
    assert (hand.value if hand else None) == (expected[0] if expected else None)
    if expected is None:
        with pytest.raises(LocalProtocolError, match="empty cell"):
            step(Context(Role.REQUESTOR), Input(state, event, None))


def _can_raise(role: Role, event: Event) -> bool:
    # Only a requestor asks for associations (an acceptor's request is refused).
    return event is not Event.EVT1 or role is Role.REQUESTOR


# Every (state, event, role) the public API can express: the state must be reachable in
# that role, and transport_connected() is Evt2 for a requestor and Evt5 for an acceptor.
MACHINE_CASES = [
    (state, event, role)
    for event in Event
    for state in State
    for role in Role
    if state in (REQUESTOR_STATES if role is Role.REQUESTOR else ACCEPTOR_STATES)
    and not (event is Event.EVT2 and role is Role.ACCEPTOR)
    and not (event is Event.EVT5 and role is Role.REQUESTOR)
]


@pytest.mark.parametrize(("state", "event", "role"), MACHINE_CASES, ids=_id)
def test_machine_takes_the_action_of_the_cell(state: State, event: Event, role: Role) -> None:
    log: list[Transition] = []
    machine = machine_in(state, role, log.append)
    before = len(log)
    expected = generated.TRANSITIONS.get((state.label, event.label))
    if expected is None or not _can_raise(role, event):
        with pytest.raises(LocalProtocolError):
            fire(machine, event)
        # A refused input changes nothing.
        assert machine.state is state
        assert log[before:] == []
        assert machine.commands() == ()
        return
    fire(machine, event)
    [transition] = log[before:]
    action, next_states = expected
    assert (transition.state, transition.event, transition.action.value) == (state, event, action)
    assert transition.next_state.label in next_states
    assert machine.state is transition.next_state
    # ARTIM runs exactly in Sta2 and Sta13 (the invariant of table.py).
    assert machine.artim_running is (machine.state in (State.STA2, State.STA13))


def test_collision_next_state_depends_on_the_role() -> None:
    # AR-8: "if association-requestor, next state is Sta9; if not, next state is Sta10".
    for role, expected in ((Role.REQUESTOR, State.STA9), (Role.ACCEPTOR, State.STA10)):
        machine = machine_in(State.STA7, role)
        fire(machine, Event.EVT12)
        assert machine.state is expected


def test_ae6_rejects_an_unsupported_protocol_version() -> None:
    # AE-6 "otherwise": A-ASSOCIATE-RJ and ARTIM, next state Sta13.
    log: list[Transition] = []
    machine = machine_in(State.STA2, Role.ACCEPTOR, log.append)
    rq = bytearray(vectors.ASSOCIATE_RQ)
    rq[6:8] = b"\x00\x02"  # bytes 7-8: only bit 1 (a version 2 that does not exist)
    machine.receive_bytes(bytes(rq))
    assert machine.next_event() is not None
    assert log[-1].action is Action.AE_6
    assert machine.state is State.STA13
    sent = [c for c in machine.commands() if isinstance(c, SendData)]
    decoded = decode_pdu(sent[0].data)
    assert decoded is not None
    assert decoded[0] == AAssociateRJ(
        RejectResult.REJECTED_PERMANENT,
        RejectSource.SERVICE_PROVIDER_ACSE,
        ACSERejectReason.PROTOCOL_VERSION_NOT_SUPPORTED,
    )
    assert machine.artim_running


def test_every_non_empty_cell_is_exercised_through_the_machine() -> None:
    exercised = {(s.label, e.label) for s, e, role in MACHINE_CASES if _can_raise(role, e)}
    assert set(generated.TRANSITIONS) <= exercised
