"""Whole associations between two in-memory upper layers: establish, transfer, release,
reject, abort, timers, limits, misuse.  Every command is carried out by AssociationPair
as a driver would; ARTIM's invariant is checked after every call."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.net.ul.machine import (
    IDLE,
    NEED_DATA,
    CloseTransport,
    SendData,
    StartTimer,
    StopTimer,
    Timer,
    UpperLayer,
)
from dicompile.runtime.net.ul.pdu import (
    AAbort,
    AbortReason,
    AbortSource,
    ContextResult,
    MessageControlHeader,
    PresentationDataValue,
    UserRejectReason,
    decode_pdu,
    max_fragment_length,
)
from dicompile.runtime.net.ul.primitives import (
    AAbortIndication,
    AAbortRequest,
    AAssociateRejectConfirmation,
    APAbortIndication,
    AReleaseConfirmation,
    AReleaseIndication,
    AReleaseRequest,
    AReleaseResponse,
    PDataIndication,
    PresentationContextResult,
)
from dicompile.runtime.net.ul.table import Event, Role, State

from . import vectors
from .helpers import (
    INVALID_PDU,
    AssociationPair,
    accept_response,
    association_request,
    check_timer_invariant,
    fire,
    p_data,
    reject_response,
)

R, A = Role.REQUESTOR, Role.ACCEPTOR


def _actions(pair: AssociationPair, role: Role) -> list[str]:
    return [t.action.value for t in pair.transitions[role]]


def test_establish_transfer_release() -> None:
    pair = AssociationPair()
    indication, confirmation = pair.associate()
    assert indication.called_ae_title == "ANY-SCP"
    assert indication.calling_ae_title == "ECHOSCU"
    assert [c.context_id for c in indication.presentation_contexts] == [1, 3]
    assert confirmation.presentation_contexts[0].transfer_syntax == "1.2.840.10008.1.2"
    assert confirmation.presentation_contexts[1].result is (
        ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED
    )
    assert pair.requestor.peer_max_pdata_length == 16384
    assert pair.acceptor.max_pdata_length == 16384

    # P-DATA both ways (DT-1, DT-2).
    pair.send(R, p_data(b"\x01\x02"))
    assert pair.deliver(R) == [
        PDataIndication((PresentationDataValue(1, MessageControlHeader(True, True), b"\x01\x02"),))
    ]
    pair.send(A, p_data(b"\x03\x04", last=False))
    [back] = pair.deliver(A)
    assert isinstance(back, PDataIndication)
    assert back.pdvs[0].header == MessageControlHeader(is_command=True, is_last=False)

    # Release: AR-1, AR-2, AR-4, AR-3, then the acceptor sees the close (AR-5).
    pair.send(R, AReleaseRequest())
    assert pair.deliver(R) == [AReleaseIndication()]
    pair.send(A, AReleaseResponse())
    assert pair.acceptor.state is State.STA13 and pair.timer_running[A]
    assert pair.deliver(A) == [AReleaseConfirmation()]
    assert pair.requestor.state is State.STA1 and pair.closed_by is R
    assert pair.propagate_close() == []
    assert pair.acceptor.state is State.STA1 and not pair.timer_running[A]
    assert _actions(pair, R) == ["AE-1", "AE-2", "AE-3", "DT-1", "DT-2", "AR-1", "AR-3"]
    assert _actions(pair, A) == ["AE-5", "AE-6", "AE-7", "DT-2", "DT-1", "AR-2", "AR-4", "AR-5"]
    assert pair.requestor.next_event() is IDLE and pair.acceptor.next_event() is IDLE


def test_bytes_arriving_one_at_a_time() -> None:
    pair = AssociationPair()
    pair.send(R, association_request())
    pair.connect()
    assert len(pair.deliver(R, chunk=1)) == 1  # the indication, once the last byte is in
    pair.send(A, accept_response())
    assert len(pair.deliver(A, chunk=3)) == 1
    pair.send(R, p_data(bytes(range(200))))
    [indication] = pair.deliver(R, chunk=7)
    assert isinstance(indication, PDataIndication)
    assert indication.pdvs[0].fragment == bytes(range(200))


def test_several_pdus_in_one_read() -> None:
    pair = AssociationPair()
    pair.associate()
    for n in range(3):
        pair.send(R, p_data(bytes([n, n])))
    pair.send(R, AReleaseRequest())
    events = pair.deliver(R)
    assert [type(e) for e in events] == [PDataIndication] * 3 + [AReleaseIndication]


def test_reject() -> None:
    pair = AssociationPair()
    pair.send(R, association_request())
    pair.connect()
    pair.deliver(R)
    pair.send(A, reject_response())  # AE-8: RJ and ARTIM
    assert pair.acceptor.state is State.STA13 and pair.timer_running[A]
    [confirmation] = pair.deliver(A)  # AE-4: confirmation and close
    assert confirmation == AAssociateRejectConfirmation(
        reject_response().result,
        reject_response().source,
        UserRejectReason.CALLED_AE_TITLE_NOT_RECOGNIZED,
    )
    assert pair.requestor.state is State.STA1 and not pair.transport_open[R]
    pair.propagate_close()  # AR-5 on the acceptor
    assert pair.acceptor.state is State.STA1
    assert _actions(pair, A) == ["AE-5", "AE-6", "AE-8", "AR-5"]


def test_reject_and_the_requestor_never_closes_artim_closes() -> None:
    pair = AssociationPair()
    pair.send(R, association_request())
    pair.connect()
    pair.deliver(R)
    pair.send(A, reject_response())
    assert pair.expire(A) == []  # AA-2: close, no primitive
    assert pair.acceptor.state is State.STA1 and not pair.transport_open[A]
    assert _actions(pair, A)[-1] == "AA-2"


def test_artim_expires_before_any_request() -> None:
    # PS3.8 §9.1.2: ARTIM set on connection; no A-ASSOCIATE-RQ in time -> close (AA-2).
    pair = AssociationPair()
    pair.send(R, association_request())
    pair.connect()
    assert pair.timer_running[A]
    pair.in_flight[R].clear()  # the requestor's RQ is lost
    assert pair.expire(A) == []
    assert pair.acceptor.state is State.STA1
    assert pair.propagate_close() != []  # the requestor, in Sta5, gets an A-P-ABORT (AA-4)
    [event] = pair.events[R]
    assert isinstance(event, APAbortIndication)
    assert _actions(pair, R)[-1] == "AA-4"


def test_user_abort() -> None:
    pair = AssociationPair()
    pair.associate()
    pair.send(R, AAbortRequest())  # AA-1: A-ABORT, ARTIM, Sta13
    assert pair.requestor.state is State.STA13 and pair.timer_running[R]
    assert pair.deliver(R) == [AAbortIndication(AbortSource.SERVICE_USER)]  # AA-3
    assert pair.acceptor.state is State.STA1 and pair.closed_by is A
    pair.propagate_close()
    assert pair.requestor.state is State.STA1  # AR-5
    assert _actions(pair, R)[-2:] == ["AA-1", "AR-5"]


def test_abort_request_while_connecting() -> None:
    pair = AssociationPair()
    pair.send(R, association_request())
    assert pair.requestor.state is State.STA4
    pair.send(R, AAbortRequest())  # AA-2 in Sta4: give up the connection, no ARTIM
    assert pair.requestor.state is State.STA1
    assert _actions(pair, R) == ["AE-1", "AA-2"]


def test_unexpected_pdu_is_a_provider_abort() -> None:
    pair = AssociationPair()
    pair.associate()
    pair.in_flight[R] += vectors.ASSOCIATE_RQ  # an A-ASSOCIATE-RQ in Sta6 (Evt6, AA-8)
    [event] = pair.deliver(R)
    assert event == APAbortIndication(
        AbortReason.UNEXPECTED_PDU, "unexpected AAssociateRQ PDU in Sta6"
    )
    assert pair.acceptor.state is State.STA13 and pair.timer_running[A]
    [peer_event] = pair.deliver(A)  # the A-ABORT (provider source) reaches the requestor
    assert peer_event == APAbortIndication(
        AbortReason.UNEXPECTED_PDU, "A-ABORT PDU from the peer's service-provider"
    )
    assert pair.requestor.state is State.STA1


def test_invalid_bytes_abort_and_the_rest_is_discarded() -> None:
    pair = AssociationPair()
    pair.associate()
    pair.in_flight[R] += INVALID_PDU + vectors.RELEASE_RQ
    [event] = pair.deliver(R)
    assert isinstance(event, APAbortIndication)
    assert event.reason is AbortReason.UNRECOGNIZED_PDU
    assert "unrecognized PDU type 0x08" in event.detail
    # The release request after the garbage is not seen; later bytes are dropped too.
    pair.acceptor.receive_bytes(vectors.RELEASE_RQ)
    assert pair.acceptor.next_event() is NEED_DATA
    assert [t.action.value for t in pair.transitions[A]][-1] == "AA-8"
    [sent] = [d for d in _sent_pdus(pair.in_flight[A])]
    assert sent == AAbort(AbortSource.SERVICE_PROVIDER, AbortReason.UNRECOGNIZED_PDU)


def _sent_pdus(buffer: bytearray) -> list[object]:
    pdus: list[object] = []
    data = bytes(buffer)
    while data:
        decoded = decode_pdu(data)
        assert decoded is not None
        pdus.append(decoded[0])
        data = data[decoded[1] :]
    return pdus


def test_bad_pdu_before_association_is_aa1_without_indication() -> None:
    pair = AssociationPair()
    pair.send(R, association_request())
    pair.connect()
    pair.in_flight[R][:] = vectors.P_DATA_TF  # P-DATA-TF in Sta2 (Evt10, AA-1)
    assert pair.deliver(R) == []  # the acceptor's user knows of no association yet
    assert pair.acceptor.state is State.STA13
    # AA-1 sends the A-ABORT with the service-user as source, as the table says.
    assert _sent_pdus(pair.in_flight[A]) == [AAbort(AbortSource.SERVICE_USER)]


def test_connection_lost_during_transfer() -> None:
    pair = AssociationPair()
    pair.associate()
    pair.transport_open[R] = False  # the network drops the requestor's end
    pair.propagate_close()
    event = pair.events[A][-1]
    assert event == APAbortIndication(
        AbortReason.REASON_NOT_SPECIFIED, "transport connection closed by the peer or network"
    )
    assert pair.acceptor.state is State.STA1


def test_release_collision() -> None:
    pair = AssociationPair()
    pair.associate()
    pair.send(R, AReleaseRequest())
    pair.send(A, AReleaseRequest())
    assert pair.deliver(R) == [AReleaseIndication(collision=True)]  # acceptor: AR-8 -> Sta10
    assert pair.deliver(A) == [AReleaseIndication(collision=True)]  # requestor: AR-8 -> Sta9
    assert (pair.requestor.state, pair.acceptor.state) == (State.STA9, State.STA10)
    # PS3.8 §7.2.2.7: the association-acceptor must wait for its confirmation first.
    with pytest.raises(LocalProtocolError, match="Evt14"):
        pair.send(A, AReleaseResponse())
    pair.send(R, AReleaseResponse())  # AR-9 -> Sta11
    assert pair.deliver(R) == [AReleaseConfirmation()]  # AR-10 -> Sta12
    pair.send(A, AReleaseResponse())  # AR-4 -> Sta13
    assert pair.deliver(A) == [AReleaseConfirmation()]  # AR-3 -> Sta1
    pair.propagate_close()
    assert (pair.requestor.state, pair.acceptor.state) == (State.STA1, State.STA1)
    assert _actions(pair, R)[-3:] == ["AR-8", "AR-9", "AR-3"]
    assert _actions(pair, A)[-5:] == ["AR-1", "AR-8", "AR-10", "AR-4", "AR-5"]


def test_data_still_flows_towards_the_release_requestor() -> None:
    # PS3.8 §7.2.2.1-2: after A-RELEASE request the requestor may still receive P-DATA.
    pair = AssociationPair()
    pair.associate()
    pair.send(R, AReleaseRequest())
    pair.deliver(R)
    pair.send(A, p_data(b"\x05\x06"))  # AR-7 in Sta8
    [event] = pair.deliver(A)  # AR-6 in Sta7
    assert isinstance(event, PDataIndication)
    with pytest.raises(LocalProtocolError):
        pair.send(R, p_data())  # but the release requestor may not send any
    assert _actions(pair, A)[-1] == "AR-7" and _actions(pair, R)[-1] == "AR-6"


def test_maximum_length_received_is_enforced_from_the_header() -> None:
    pair = AssociationPair()
    pair.associate()
    limit = pair.acceptor.max_pdata_length
    assert limit == 16384
    # A P-DATA-TF header announcing limit + 1 bytes: refused before the body arrives.
    header = bytes.fromhex("0400") + (limit + 1).to_bytes(4, "big")
    pair.acceptor.receive_bytes(header)
    event = pair.acceptor.next_event()
    assert isinstance(event, APAbortIndication)
    assert event.reason is AbortReason.INVALID_PDU_PARAMETER_VALUE
    assert "exceeds the maximum length 16384" in event.detail


def test_a_pdu_of_exactly_the_maximum_length_passes() -> None:
    pair = AssociationPair()
    pair.associate()
    size = max_fragment_length(16384)
    assert size == 16378
    pair.send(R, p_data(bytes(size)))
    [event] = pair.deliver(R)
    assert isinstance(event, PDataIndication)
    with pytest.raises(LocalProtocolError, match="exceeds the peer's maximum length"):
        pair.send(R, p_data(bytes(size + 2)))
    assert pair.requestor.state is State.STA6


def test_local_misuse_changes_nothing() -> None:
    machine = UpperLayer(Role.REQUESTOR)
    with pytest.raises(LocalProtocolError, match=r"Evt9 .* Sta1"):
        machine.send(p_data())
    with pytest.raises(LocalProtocolError, match="no open transport"):
        machine.receive_bytes(vectors.ASSOCIATE_AC)
    with pytest.raises(LocalProtocolError, match="Evt18"):
        machine.timer_expired(Timer.ARTIM)
    with pytest.raises(LocalProtocolError, match="only an association-requestor"):
        UpperLayer(Role.ACCEPTOR).send(association_request())
    assert machine.state is State.STA1 and machine.commands() == ()


def test_encoding_errors_leave_the_state_alone() -> None:
    pair = AssociationPair()
    pair.send(R, association_request())
    pair.connect()
    pair.deliver(R)
    bad = attrs.evolve(
        accept_response(),
        presentation_contexts=(PresentationContextResult(2, ContextResult.ACCEPTANCE, "1.2"),),
    )
    with pytest.raises(LocalProtocolError, match="presentation context ID 2"):
        pair.send(A, bad)
    assert pair.acceptor.state is State.STA3 and pair.acceptor.commands() == ()
    with pytest.raises(LocalProtocolError, match="AE title"):
        UpperLayer(R).send(attrs.evolve(association_request(), called_ae_title="X" * 17))


def test_commands_come_out_in_order() -> None:
    machine = UpperLayer(A)
    machine.transport_connected()
    assert machine.commands() == (StartTimer(Timer.ARTIM),)
    machine.receive_bytes(vectors.P_DATA_TF)  # AA-1 in Sta2
    assert machine.next_event() is NEED_DATA
    commands = machine.commands()
    assert isinstance(commands[0], SendData) and commands[1:] == (StartTimer(Timer.ARTIM),)
    machine.timer_expired(Timer.ARTIM)
    assert machine.commands() == (StopTimer(Timer.ARTIM), CloseTransport())
    assert machine.next_event() is IDLE


def test_the_same_machines_serve_a_second_association() -> None:
    pair = AssociationPair()
    pair.associate()
    pair.send(R, AReleaseRequest())
    pair.deliver(R)
    pair.send(A, AReleaseResponse())
    pair.deliver(A)
    pair.propagate_close()
    pair.connect_to = None
    pair.associate()
    assert pair.requestor.state is State.STA6 and pair.acceptor.state is State.STA6


# ------------------------------------------------------------------------------ property

_EVENTS = list(Event)


@settings(max_examples=300, deadline=None)
@given(role=st.sampled_from(list(Role)), events=st.lists(st.sampled_from(_EVENTS), max_size=25))
def test_any_event_sequence_keeps_the_invariants(role: Role, events: list[Event]) -> None:
    # Whatever happens, in any order: only LocalProtocolError escapes, a refused input
    # changes nothing, and ARTIM runs exactly in Sta2 and Sta13.
    timer = False
    machine = UpperLayer(role)
    for event in events:
        state = machine.state
        try:
            fire(machine, event)
        except LocalProtocolError:
            assert machine.state is state
            assert machine.commands() == ()
            continue
        while machine.next_event() not in (NEED_DATA, IDLE):
            pass
        for command in machine.commands():
            if isinstance(command, StartTimer):
                timer = True
            elif isinstance(command, StopTimer):
                timer = False
        if machine.state is State.STA1:
            timer = False  # a fresh association; the old timer, if any, was stopped
        check_timer_invariant(machine, timer)
