"""Test helpers for the upper layer: primitives, an in-memory association, states on demand.

:class:`AssociationPair` is a requestor and an acceptor joined by an in-memory transport
(after h11's ``ConnectionPair``): it performs every command the machines return (bytes,
connect, close, timers) exactly as a driver would, and checks after every call that the
timer the driver runs is the one the machine expects (ARTIM exactly in Sta2 and Sta13).
No sockets, no sleeps: timers expire when a test says so.
"""

from __future__ import annotations

from collections.abc import Callable

from dicompile.runtime.net.ul.machine import (
    IDLE,
    NEED_DATA,
    CloseTransport,
    OpenTransport,
    SendData,
    StartTimer,
    StopTimer,
    Timer,
    Transition,
    UpperLayer,
)
from dicompile.runtime.net.ul.pdu import (
    ContextResult,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    MaximumLengthSubItem,
    MessageControlHeader,
    PresentationDataValue,
    RejectResult,
    UserInformationItem,
    UserRejectReason,
)
from dicompile.runtime.net.ul.primitives import (
    AAbortRequest,
    AAssociateAcceptConfirmation,
    AAssociateAcceptResponse,
    AAssociateIndication,
    AAssociateRejectResponse,
    AAssociateRequest,
    AReleaseRequest,
    AReleaseResponse,
    PDataRequest,
    PresentationAddress,
    PresentationContextDefinition,
    PresentationContextResult,
    UserEvent,
    UserRequest,
)
from dicompile.runtime.net.ul.table import Event, Role, State

from . import vectors

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
SCP_ADDRESS = PresentationAddress("127.0.0.1", 11112)


def user_information(max_length: int = 16384) -> UserInformationItem:
    return UserInformationItem(
        (
            MaximumLengthSubItem(max_length),
            ImplementationClassUIDSubItem("1.2.3.4.5"),
            ImplementationVersionNameSubItem("DICOMPILE_01"),
        )
    )


def association_request(max_length: int = 16384) -> AAssociateRequest:
    return AAssociateRequest(
        called_ae_title="ANY-SCP",
        calling_ae_title="ECHOSCU",
        called_presentation_address=SCP_ADDRESS,
        presentation_contexts=(
            PresentationContextDefinition(1, VERIFICATION, (IMPLICIT_LE,)),
            PresentationContextDefinition(3, VERIFICATION, (EXPLICIT_LE, IMPLICIT_LE)),
        ),
        user_information=user_information(max_length),
    )


def accept_response(max_length: int = 16384) -> AAssociateAcceptResponse:
    return AAssociateAcceptResponse(
        presentation_contexts=(
            PresentationContextResult(1, ContextResult.ACCEPTANCE, IMPLICIT_LE),
            PresentationContextResult(3, ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED),
        ),
        user_information=user_information(max_length),
    )


def reject_response() -> AAssociateRejectResponse:
    return AAssociateRejectResponse(
        RejectResult.REJECTED_PERMANENT, UserRejectReason.CALLED_AE_TITLE_NOT_RECOGNIZED
    )


COMMAND_FRAGMENT = b"\x00\x00\x00\x00\x04\x00\x00\x00"  # (0000,0000) UL 4, implicit LE


def p_data(fragment: bytes = COMMAND_FRAGMENT, *, last: bool = True) -> PDataRequest:
    return PDataRequest((PresentationDataValue(1, MessageControlHeader(True, last), fragment),))


def drain(machine: UpperLayer) -> list[UserEvent]:
    """Every event ``next_event()`` has now, up to NEED_DATA or IDLE."""
    events: list[UserEvent] = []
    while True:
        event = machine.next_event()
        if event is NEED_DATA or event is IDLE:
            return events
        assert not isinstance(event, type(NEED_DATA))
        events.append(event)


def check_timer_invariant(machine: UpperLayer, driver_timer_running: bool) -> None:
    """ARTIM runs exactly in Sta2 and Sta13, and the driver's timer agrees with the machine."""
    expected = machine.state in (State.STA2, State.STA13)
    assert machine.artim_running is expected, (machine, machine.artim_running)
    assert driver_timer_running is expected, (machine, driver_timer_running)


class AssociationPair:
    """A requestor and an acceptor upper layer joined in memory."""

    def __init__(self) -> None:
        self.transitions: dict[Role, list[Transition]] = {Role.REQUESTOR: [], Role.ACCEPTOR: []}
        self.machines = {
            role: UpperLayer(role, on_transition=self.transitions[role].append) for role in Role
        }
        self.in_flight: dict[Role, bytearray] = {role: bytearray() for role in Role}
        self.timer_running: dict[Role, bool] = {role: False for role in Role}
        self.transport_open: dict[Role, bool] = {role: False for role in Role}
        self.closed_by: Role | None = None
        self.connect_to: PresentationAddress | None = None
        self.events: dict[Role, list[UserEvent]] = {role: [] for role in Role}

    @property
    def requestor(self) -> UpperLayer:
        return self.machines[Role.REQUESTOR]

    @property
    def acceptor(self) -> UpperLayer:
        return self.machines[Role.ACCEPTOR]

    @staticmethod
    def peer(role: Role) -> Role:
        return Role.ACCEPTOR if role is Role.REQUESTOR else Role.REQUESTOR

    # -- driving ---------------------------------------------------------------------------

    def perform(self, role: Role) -> None:
        """Carry out the commands of one side, as a driver would, then check the timer."""
        machine = self.machines[role]
        for command in machine.commands():
            match command:
                case SendData(data=data):
                    assert self.transport_open[role], f"{role} writes on a closed transport"
                    self.in_flight[role] += data
                case OpenTransport(address=address):
                    self.connect_to = address
                case CloseTransport():
                    self.transport_open[role] = False
                    self.closed_by = self.closed_by or role
                case StartTimer(timer=Timer.ARTIM):
                    self.timer_running[role] = True
                case StopTimer(timer=Timer.ARTIM):
                    self.timer_running[role] = False
        check_timer_invariant(machine, self.timer_running[role])

    def send(self, role: Role, primitive: UserRequest) -> bytes:
        data = self.machines[role].send(primitive)
        if data:
            assert self.transport_open[role], f"{role} writes on a closed transport"
        self.in_flight[role] += data
        self.perform(role)
        return data

    def connect(self) -> None:
        """Complete the TRANSPORT CONNECT the requestor asked for (AE-1)."""
        assert self.connect_to == SCP_ADDRESS
        self.transport_open = {role: True for role in Role}
        self.acceptor.transport_connected()
        self.perform(Role.ACCEPTOR)
        self.requestor.transport_connected()
        self.perform(Role.REQUESTOR)

    def deliver(self, sender: Role, *, chunk: int | None = None) -> list[UserEvent]:
        """Move the bytes ``sender`` wrote to its peer (``chunk`` bytes at a time)."""
        receiver = self.peer(sender)
        data = bytes(self.in_flight[sender])
        self.in_flight[sender].clear()
        events: list[UserEvent] = []
        step = chunk or max(len(data), 1)
        for start in range(0, len(data), step):
            if self.machines[receiver].state is State.STA1:
                break  # the receiver closed the connection: the rest is lost
            self.machines[receiver].receive_bytes(data[start : start + step])
            events += drain(self.machines[receiver])
            self.perform(receiver)
        self.events[receiver] += events
        return events

    def propagate_close(self) -> list[UserEvent]:
        """The side that did not close sees its connection close (Evt17)."""
        events: list[UserEvent] = []
        for role in Role:
            if not self.transport_open[role] and self.transport_open[self.peer(role)]:
                other = self.peer(role)
                self.transport_open[other] = False
                self.machines[other].connection_closed()
                events += drain(self.machines[other])
                self.perform(other)
                self.events[other] += events
        return events

    def expire(self, role: Role) -> list[UserEvent]:
        assert self.timer_running[role], "ARTIM is not running on that side"
        self.timer_running[role] = False
        self.machines[role].timer_expired(Timer.ARTIM)
        events = drain(self.machines[role])
        self.perform(role)
        self.events[role] += events
        return events

    # -- whole exchanges -------------------------------------------------------------------

    def associate(self) -> tuple[AAssociateIndication, AAssociateAcceptConfirmation]:
        """Request, connect, indicate, accept, confirm: both sides end in Sta6."""
        self.send(Role.REQUESTOR, association_request())
        self.connect()
        [indication] = self.deliver(Role.REQUESTOR)
        assert isinstance(indication, AAssociateIndication)
        self.send(Role.ACCEPTOR, accept_response())
        [confirmation] = self.deliver(Role.ACCEPTOR)
        assert isinstance(confirmation, AAssociateAcceptConfirmation)
        return indication, confirmation


# --------------------------------------------------------------------------------------
# A machine in any state, by real inputs only
# --------------------------------------------------------------------------------------

REQUESTOR_STATES = {State(n) for n in (1, 4, 5, 6, 7, 8, 9, 11, 13)}
ACCEPTOR_STATES = {State(n) for n in (1, 2, 3, 6, 7, 8, 10, 12, 13)}


def _feed(machine: UpperLayer, data: bytes) -> None:
    machine.receive_bytes(data)
    drain(machine)


def machine_in(
    state: State, role: Role, on_transition: Callable[[Transition], None] | None = None
) -> UpperLayer:
    """A machine of ``role`` brought to ``state`` through the public API."""
    m = UpperLayer(role, on_transition=on_transition)
    path: list[Callable[[], object]]
    if role is Role.REQUESTOR:
        path = [
            lambda: m.send(association_request()),  # Sta4
            m.transport_connected,  # Sta5
            lambda: _feed(m, vectors.ASSOCIATE_AC),  # Sta6
        ]
        stops = {State.STA1: 0, State.STA4: 1, State.STA5: 2, State.STA6: 3}
        extra: dict[State, list[Callable[[], object]]] = {
            State.STA7: [lambda: m.send(AReleaseRequest())],
            State.STA8: [lambda: _feed(m, vectors.RELEASE_RQ)],
            State.STA9: [lambda: m.send(AReleaseRequest()), lambda: _feed(m, vectors.RELEASE_RQ)],
            State.STA11: [
                lambda: m.send(AReleaseRequest()),
                lambda: _feed(m, vectors.RELEASE_RQ),
                lambda: m.send(AReleaseResponse()),
            ],
            State.STA13: [lambda: m.send(AAbortRequest())],
        }
    else:
        path = [
            m.transport_connected,  # Sta2
            lambda: _feed(m, vectors.ASSOCIATE_RQ),  # Sta3
            lambda: m.send(accept_response()),  # Sta6
        ]
        stops = {State.STA1: 0, State.STA2: 1, State.STA3: 2, State.STA6: 3}
        extra = {
            State.STA7: [lambda: m.send(AReleaseRequest())],
            State.STA8: [lambda: _feed(m, vectors.RELEASE_RQ)],
            State.STA10: [lambda: m.send(AReleaseRequest()), lambda: _feed(m, vectors.RELEASE_RQ)],
            State.STA12: [
                lambda: m.send(AReleaseRequest()),
                lambda: _feed(m, vectors.RELEASE_RQ),
                lambda: _feed(m, vectors.RELEASE_RP),
            ],
            State.STA13: [lambda: m.send(AAbortRequest())],
        }
    steps = path[: stops[state]] if state in stops else [*path, *extra[state]]
    for do in steps:
        do()
    m.commands()
    assert m.state is state, (role, state, m.state)
    return m


# Bytes that are no PDU: an unknown PDU type (Evt19).
INVALID_PDU = bytes.fromhex("0800000000040000000000")


def fire(machine: UpperLayer, event: Event) -> None:
    """Make ``event`` happen to ``machine`` through its public API."""
    sends: dict[Event, Callable[[], UserRequest]] = {
        Event.EVT1: association_request,
        Event.EVT7: accept_response,
        Event.EVT8: reject_response,
        Event.EVT9: p_data,
        Event.EVT11: AReleaseRequest,
        Event.EVT14: AReleaseResponse,
        Event.EVT15: AAbortRequest,
    }
    received = {
        Event.EVT3: vectors.ASSOCIATE_AC,
        Event.EVT4: vectors.ASSOCIATE_RJ,
        Event.EVT6: vectors.ASSOCIATE_RQ,
        Event.EVT10: vectors.P_DATA_TF,
        Event.EVT12: vectors.RELEASE_RQ,
        Event.EVT13: vectors.RELEASE_RP,
        Event.EVT16: vectors.ABORT_USER,
        Event.EVT19: INVALID_PDU,
    }
    if event in sends:
        machine.send(sends[event]())
    elif event in received:
        machine.receive_bytes(received[event])
        machine.next_event()
    elif event in (Event.EVT2, Event.EVT5):
        machine.transport_connected()
    elif event is Event.EVT17:
        machine.connection_closed()
    else:
        assert event is Event.EVT18
        machine.timer_expired(Timer.ARTIM)
