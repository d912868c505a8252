"""The PS3.8 upper layer as a sans-IO state machine: bytes and events in, bytes and commands out.

Theory of operation
-------------------
An :class:`UpperLayer` is one association's upper layer protocol machine (PS3.8 §9.2),
for one role.  It performs no I/O, reads no clock and starts no thread.  The outside
world (a *driver*: ``runtime/net/transport.py``, a blocking socket loop, a test) feeds it
and carries out what it asks:

=====================================  ================================================
driver or user calls                   Table 9-10 event
=====================================  ================================================
``send(AAssociateRequest)``            Evt1 (requestor only)
``transport_connected()``              Evt2 (requestor) / Evt5 (acceptor)
``receive_bytes(data)``, then          Evt3, 4, 6, 10, 12, 13, 16 per decoded PDU;
``next_event()``                       Evt19 for bytes that are no valid PDU
``send(AAssociateAcceptResponse)``     Evt7;  ``AAssociateRejectResponse``: Evt8
``send(PDataRequest)``                 Evt9
``send(AReleaseRequest)``              Evt11; ``AReleaseResponse``: Evt14
``send(AAbortRequest)``                Evt15
``connection_closed()``                Evt17
``timer_expired(Timer.ARTIM)``         Evt18
=====================================  ================================================

Rule 1 - every input is one cell of Table 9-10.  The machine looks the cell up in
:data:`~dicompile.runtime.net.ul.table.TRANSITIONS` and runs its action, a pure
function.  An empty cell means the caller is wrong (sending data before the association
exists, a timer that is not running, bytes before a connection): that raises
:class:`~dicompile.runtime.errors.LocalProtocolError` at once and changes nothing.

Rule 2 - the peer's mistakes never raise.  Bytes that do not decode become Evt19, an
unexpected PDU its own event; the table answers (A-ABORT, A-P-ABORT indication, ARTIM),
and ``next_event()`` returns the A-P-ABORT indication like any other event.  After bytes
that do not decode the stream cannot be re-framed, so the rest of the input is discarded
until the association ends.

Rule 3 - outputs come back, in order, and the machine never acts on them.
``send()`` returns the bytes its primitive puts on the wire.  Every other output is
queued: indications and confirmations for the user come out of ``next_event()``;
commands for the driver (:class:`SendData`, :class:`OpenTransport`,
:class:`CloseTransport`, :class:`StartTimer`, :class:`StopTimer`) come out of
``commands()``, which the driver drains and performs in order after *every* call.

Rule 4 - decoding is lazy and bounded.  ``receive_bytes()`` only appends to a buffer;
``next_event()`` decodes at most one PDU at a time, and refuses a P-DATA-TF longer than
the Maximum Length we announced (PS3.8 D.1) or an A-ASSOCIATE PDU above a local limit as
soon as its 6-byte header is in, before waiting for its body.  Drivers call
``next_event()`` until it returns :data:`NEED_DATA` after each ``receive_bytes()``.

Rule 5 - a driver may let the transport write into the machine's buffer
(``get_buffer()``, then ``buffer_updated()``: the shape of ``asyncio.BufferedProtocol``)
instead of calling ``receive_bytes()``.  Once the header of a long PDU is in, the rest of
that PDU is read into storage of its exact size, so its bytes are copied once in user
space (the fragments are cut out of it); short PDUs, and PDUs longer than a local cap (a
header alone must not make the machine allocate much), go through a small reused scratch
area.
Both ways feed the same buffer, in order, under the same limits.

When the machine is back in Sta1 the association is over: the buffer is dropped,
``next_event()`` returns the last indications and then :data:`IDLE`, and the same
machine may start a new association in the same role.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import Final, TypeAlias

import attrs

from dicompile.runtime.errors import LocalProtocolError, MalformedPDUError
from dicompile.runtime.net.ul.pdu import (
    DEFAULT_MAX_ASSOCIATE_LENGTH,
    PDU_HEADER_LENGTH,
    decode_pdu,
    encode_pdu,
    encode_pdu_parts,
    peek_header,
)
from dicompile.runtime.net.ul.primitives import (
    AAssociateRequest,
    PresentationAddress,
    UserEvent,
    UserRequest,
    associate_rq_from_request,
)
from dicompile.runtime.net.ul.table import (
    EVENT_OF_PDU,
    EVENT_OF_REQUEST,
    Action,
    CloseTransport,
    Context,
    Deliver,
    Event,
    Input,
    OpenTransport,
    Payload,
    Role,
    SendPDU,
    StartTimer,
    State,
    StopTimer,
    Timer,
    TransportInfo,
    step,
)

__all__ = [
    "IDLE",
    "NEED_DATA",
    "CloseTransport",
    "Command",
    "OpenTransport",
    "Pending",
    "Role",
    "SendData",
    "StartTimer",
    "StopTimer",
    "Timer",
    "Transition",
    "UpperLayer",
]


class Pending(enum.Enum):
    """What ``next_event()`` returns when it has no primitive to give."""

    NEED_DATA = "NEED_DATA"  # waiting for bytes, a transport event or the timer
    IDLE = "IDLE"  # Sta1: no association and no connection


NEED_DATA: Final = Pending.NEED_DATA
IDLE: Final = Pending.IDLE

#: Size of the scratch area ``get_buffer()`` offers while no long PDU is under way.
SCRATCH_SIZE: Final = 1 << 16
#: A PDU with at least this many bytes still to come is read into storage of its own.
DIRECT_READ_MIN: Final = 1 << 15
#: ... unless it is longer than this: storage is then added only as bytes arrive, so that
#: a header alone (with no Maximum Length announced) cannot make us allocate gigabytes.
DIRECT_READ_MAX: Final = 1 << 22


@attrs.frozen
class SendData:
    """Command: write these bytes on the transport connection."""

    data: bytes


Command: TypeAlias = SendData | OpenTransport | CloseTransport | StartTimer | StopTimer
"""What the driver must do for the machine; see ``UpperLayer.commands()``."""


@attrs.frozen
class Transition:
    """One step the machine took, for logs and tests: a cell of Table 9-10 in action."""

    state: State
    event: Event
    action: Action
    next_state: State


class UpperLayer:
    """One association's PS3.8 upper layer, sans I/O (see the module's theory of operation).

    Parameters
    ----------
    role
        ``Role.REQUESTOR`` starts associations (Evt1), ``Role.ACCEPTOR`` answers incoming
        connections (Evt5).  The role also settles a release collision (AR-8).
    max_associate_length
        Local limit on the PDU-length of a received A-ASSOCIATE-RQ/AC.
    on_transition
        Called after each transition, for logging and tests.

    References
    ----------
    PS3.8 §7, §9.2, Table 9-10.
    """

    def __init__(
        self,
        role: Role,
        *,
        max_associate_length: int = DEFAULT_MAX_ASSOCIATE_LENGTH,
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        self._role = role
        self._state = State.STA1
        self._context = Context(role)
        self._buffer = bytearray()
        self._scratch: bytearray | None = None
        # Rule 5: the long PDU being read in place, how much of it is in, and a complete
        # one not yet decoded (it precedes whatever is in _buffer).
        self._direct: bytearray | None = None
        self._direct_filled = 0
        self._complete: bytearray | None = None
        self._discarding = False
        self._events: deque[UserEvent] = deque()
        self._commands: deque[Command] = deque()
        self._max_associate_length = max_associate_length
        self._on_transition = on_transition

    def __repr__(self) -> str:
        return f"<UpperLayer {self._role.value} {self._state.label}>"

    # -- state ---------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        return self._role

    @property
    def state(self) -> State:
        """The current state of Tables 9-1 to 9-5."""
        return self._state

    @property
    def artim_running(self) -> bool:
        """Whether ARTIM should be running (true exactly in Sta2 and Sta13)."""
        return self._context.artim_running

    @property
    def max_pdata_length(self) -> int | None:
        """The Maximum Length we announced: the longest P-DATA-TF we accept (``None``: any)."""
        return self._context.local_max_pdata

    @property
    def peer_max_pdata_length(self) -> int | None:
        """The peer's Maximum Length: the longest P-DATA-TF we may send (``None``: any)."""
        return self._context.peer_max_pdata

    # -- inputs --------------------------------------------------------------------------

    def send(self, primitive: UserRequest) -> bytes:
        """Apply a request or response primitive of the local user; return bytes to write.

        The bytes may be empty (an A-ASSOCIATE request first asks the driver to connect).
        Other outputs are queued: drain ``commands()`` afterwards.

        Raises
        ------
        LocalProtocolError
            When the primitive is not allowed in the current state (an empty cell of
            Table 9-10) or cannot be encoded; the state does not change.

        References
        ----------
        PS3.8 §7.1-7.6, Table 9-10 Evt1, 7, 8, 9, 11, 14, 15.
        """
        event = EVENT_OF_REQUEST[type(primitive)]
        if event is Event.EVT1:
            if self._role is not Role.REQUESTOR:
                raise LocalProtocolError("only an association-requestor sends A-ASSOCIATE requests")
            assert isinstance(primitive, AAssociateRequest)
            # AE-2 sends it later; find encoding errors now, while the caller is here.
            encode_pdu(associate_rq_from_request(primitive))
        return b"".join(self._fire(event, primitive, inline_bytes=True))

    def send_parts(self, primitive: UserRequest) -> list[bytes]:
        """:meth:`send`, with the bytes as consecutive parts to write in order.

        Long P-DATA fragments are parts of their own, not copied into the PDU's bytes
        (see :func:`~dicompile.runtime.net.ul.pdu.encode_pdu_parts`).

        Raises
        ------
        LocalProtocolError
            As :meth:`send`.
        """
        if type(primitive) is AAssociateRequest:
            return [self.send(primitive)]
        return self._fire(EVENT_OF_REQUEST[type(primitive)], primitive, inline_bytes=True)

    def transport_connected(
        self,
        *,
        local_address: PresentationAddress | None = None,
        remote_address: PresentationAddress | None = None,
    ) -> None:
        """The transport connection is open: confirmation (requestor) or indication (acceptor).

        References
        ----------
        PS3.8 §9.1.2, Table 9-10 Evt2 and Evt5.
        """
        event = Event.EVT2 if self._role is Role.REQUESTOR else Event.EVT5
        self._fire(event, TransportInfo(local_address, remote_address))

    def receive_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Buffer bytes read from the transport; ``next_event()`` decodes them.

        Raises
        ------
        LocalProtocolError
            In Sta1 and Sta4, where there is no open connection to read from.
        """
        if self._state in (State.STA1, State.STA4):
            raise LocalProtocolError(
                f"no open transport connection to receive on in {self._state.label}"
            )
        if self._discarding:
            return
        if self._direct is not None:
            with memoryview(data) as view:
                taken = self._fill_direct(view)
                if taken < len(view):
                    self._buffer += view[taken:]
            return
        self._buffer += data

    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """Writable room for the next bytes read from the transport (Rule 5).

        Write at most ``len()`` bytes into it, then call :meth:`buffer_updated` with how
        many; the view must not be used afterwards.  ``sizehint`` is ignored.

        References
        ----------
        PS3.8 §9.3.1 (PDU header: type and PDU-length).
        """
        if self._direct is not None:
            return memoryview(self._direct)[self._direct_filled :]
        if (
            self._complete is None
            and not self._discarding
            and len(self._buffer) >= PDU_HEADER_LENGTH
            and self._state not in (State.STA1, State.STA4)
        ):
            try:
                header = peek_header(
                    self._buffer,
                    max_pdata_length=self._context.local_max_pdata,
                    max_associate_length=self._max_associate_length,
                )
            except MalformedPDUError:
                header = None  # next_event() reports it (Evt19)
            if header is not None:
                total = PDU_HEADER_LENGTH + header[1]
                if total - len(self._buffer) >= DIRECT_READ_MIN and total <= DIRECT_READ_MAX:
                    direct = bytearray(total)
                    filled = len(self._buffer)
                    direct[:filled] = self._buffer
                    self._buffer.clear()
                    self._direct, self._direct_filled = direct, filled
                    return memoryview(direct)[filled:]
        if self._scratch is None:
            self._scratch = bytearray(SCRATCH_SIZE)
        return memoryview(self._scratch)

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were written into the view :meth:`get_buffer` returned (Rule 5).

        Raises
        ------
        LocalProtocolError
            In Sta1 and Sta4, where there is no open connection to read from.
        """
        if self._state in (State.STA1, State.STA4):
            raise LocalProtocolError(
                f"no open transport connection to receive on in {self._state.label}"
            )
        if self._discarding or nbytes <= 0:
            return
        if self._direct is not None:
            self._direct_filled += nbytes
            if self._direct_filled >= len(self._direct):
                self._complete, self._direct = self._direct, None
            return
        if self._scratch is not None:
            with memoryview(self._scratch) as view:
                self._buffer += view[:nbytes]

    def _fill_direct(self, view: memoryview) -> int:
        direct = self._direct
        assert direct is not None
        taken = min(len(view), len(direct) - self._direct_filled)
        direct[self._direct_filled : self._direct_filled + taken] = view[:taken]
        self._direct_filled += taken
        if self._direct_filled >= len(direct):
            self._complete, self._direct = direct, None
        return taken

    def connection_closed(self) -> None:
        """The transport connection was closed by the peer or the network.

        Not to be called after performing a :class:`CloseTransport` command.

        References
        ----------
        PS3.8 §9.1.4, Table 9-10 Evt17.
        """
        self._fire(Event.EVT17, None)

    def timer_expired(self, timer: Timer) -> None:
        """A timer started by a :class:`StartTimer` command expired.

        References
        ----------
        PS3.8 §9.1.5, Table 9-10 Evt18.
        """
        self._fire(Event.EVT18, timer)

    # -- outputs -------------------------------------------------------------------------

    def next_event(self) -> UserEvent | Pending:
        """The next indication or confirmation for the local user, or a :class:`Pending`.

        Decodes buffered bytes one PDU at a time and runs the transitions they cause.
        Returns :data:`NEED_DATA` when more input (bytes, a transport event, a timer) is
        needed and :data:`IDLE` in Sta1 once every primitive has been returned.

        References
        ----------
        PS3.8 §9.2, §9.3, Table 9-10.
        """
        while True:
            if self._events:
                return self._events.popleft()
            if self._state is State.STA1:
                return IDLE
            if self._discarding:
                return NEED_DATA
            source = self._complete if self._complete is not None else self._buffer
            if not source:
                return NEED_DATA
            try:
                decoded = decode_pdu(
                    source,
                    max_pdata_length=self._context.local_max_pdata,
                    max_associate_length=self._max_associate_length,
                )
            except MalformedPDUError as exc:
                # The stream cannot be re-framed after this: drop the rest (Rule 2).
                self._drop_input()
                self._discarding = True
                self._fire(Event.EVT19, exc)
                continue
            if decoded is None:
                return NEED_DATA
            pdu, consumed = decoded
            if source is self._complete:
                self._complete = None  # it held exactly this PDU (Rule 5)
            elif consumed == len(source):
                source.clear()
            else:
                del source[:consumed]
            self._fire(EVENT_OF_PDU[type(pdu)], pdu)

    def _drop_input(self) -> None:
        # New storage rather than clear(): a driver may still hold a view of the old one.
        self._buffer = bytearray()
        self._direct = self._complete = None
        self._direct_filled = 0

    def commands(self) -> tuple[Command, ...]:
        """Take the queued commands for the driver, oldest first; perform them in order."""
        taken = tuple(self._commands)
        self._commands.clear()
        return taken

    # -- the engine ----------------------------------------------------------------------

    def _fire(self, event: Event, payload: Payload, *, inline_bytes: bool = False) -> list[bytes]:
        before = self._state
        action, result = step(self._context, Input(before, event, payload))
        # Encode before committing anything, so that an encoding error leaves no trace.
        encoded = [
            encode_pdu_parts(output.pdu) if isinstance(output, SendPDU) else None
            for output in result.outputs
        ]
        context = result.context
        returned: list[bytes] = []
        for output, data in zip(result.outputs, encoded, strict=True):
            if data is not None:
                if inline_bytes:
                    returned += data
                else:
                    self._commands.append(SendData(b"".join(data)))
            elif isinstance(output, Deliver):
                self._events.append(output.primitive)
            else:
                assert not isinstance(output, SendPDU)
                if isinstance(output, StartTimer):
                    context = attrs.evolve(context, artim_running=True)
                elif isinstance(output, StopTimer):
                    context = attrs.evolve(context, artim_running=False)
                self._commands.append(output)
        self._state = result.next_state
        self._context = context
        if self._state is State.STA1:
            # The association and its connection are gone (Rule 4's last paragraph).
            self._context = Context(self._role)
            self._drop_input()
            self._discarding = False
        if self._on_transition is not None:
            self._on_transition(Transition(before, event, action, self._state))
        return returned
