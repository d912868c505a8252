"""The PS3.8 §9.2 upper layer state machine as data: states, events, actions, transitions.

Theory of operation
-------------------
* :class:`State`, :class:`Event` and :class:`Action` are the standard's identifiers
  (Sta1-Sta13 of Tables 9-1 to 9-5, the 19 event rows of Table 9-10, the actions of
  Tables 9-6 to 9-9).  The 2013 text does not number the events: Evt *n* is row *n* of
  Table 9-10, and each :class:`Event` carries that row's wording, which a test checks
  against the generated copy of the table.
* :data:`TRANSITIONS` is Table 9-10 written by hand, cell for cell.  A missing key is an
  empty cell: the event cannot happen in that state, and the machine reports the caller's
  mistake.  ``tests/runtime/net/ul/test_table.py`` compares it with
  ``dicompile.generated.ul_table_ps38``, which the generator reads from the standard.
* Each action is a pure function ``(ctx, input) -> Step``: it reads the immutable
  :class:`Context` and the event's :class:`Input` and returns the next state, the outputs
  and the new context.  Nothing is performed here and nothing is remembered between calls
  except through the returned context: outputs are *descriptions* (send this PDU, deliver
  this primitive, open or close the transport, start or stop ARTIM).
* Invariant: ARTIM runs exactly in Sta2 and Sta13.  Every transition into those states
  starts it (AE-5, AE-6 reject, AE-8, AR-4, AA-1, AA-8) or finds it running (AA-6, AA-7),
  and every transition out of them stops it (AE-6, AA-2, AA-5, AR-5).  The machine tests
  assert it after every step.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, TypeAlias, TypeVar

import attrs

from dicompile.runtime.errors import LocalProtocolError, MalformedPDUError
from dicompile.runtime.net.ul.pdu import (
    PDU,
    PDV_OVERHEAD,
    AAbort,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    AbortReason,
    AbortSource,
    ACSERejectReason,
    AReleaseRP,
    AReleaseRQ,
    PDataTF,
    RejectResult,
    RejectSource,
    Reserved,
    code,
)
from dicompile.runtime.net.ul.primitives import (
    AAbortIndication,
    AAbortRequest,
    AAssociateAcceptResponse,
    AAssociateRejectResponse,
    AAssociateRequest,
    APAbortIndication,
    AReleaseConfirmation,
    AReleaseIndication,
    AReleaseRequest,
    AReleaseResponse,
    PDataIndication,
    PDataRequest,
    PresentationAddress,
    UserEvent,
    UserRequest,
    associate_ac_from_response,
    associate_rj_from_response,
    associate_rq_from_request,
    confirmation_from_associate_ac,
    confirmation_from_associate_rj,
    indication_from_associate_rq,
)


class State(enum.Enum):
    """The 13 states of PS3.8 Tables 9-1 to 9-5."""

    STA1 = 1  # Idle
    STA2 = 2  # Transport connection open (awaiting A-ASSOCIATE-RQ PDU)
    STA3 = 3  # Awaiting local A-ASSOCIATE response primitive
    STA4 = 4  # Awaiting transport connection opening to complete
    STA5 = 5  # Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU
    STA6 = 6  # Association established and ready for data transfer
    STA7 = 7  # Awaiting A-RELEASE-RP PDU
    STA8 = 8  # Awaiting local A-RELEASE response primitive
    STA9 = 9  # Release collision requestor side; awaiting A-RELEASE response
    STA10 = 10  # Release collision acceptor side; awaiting A-RELEASE-RP PDU
    STA11 = 11  # Release collision requestor side; awaiting A-RELEASE-RP PDU
    STA12 = 12  # Release collision acceptor side; awaiting A-RELEASE response primitive
    STA13 = 13  # Awaiting transport connection close indication

    @property
    def label(self) -> str:
        """The standard's spelling in Table 9-10: ``"Sta1"``."""
        return f"Sta{self.value}"


class Event(enum.Enum):
    """The 19 events of PS3.8 Table 9-10, numbered by row; the value is the row's text."""

    EVT1 = "A-ASSOCIATE Request (local user)"
    EVT2 = "Transport Conn. Confirmn (local transport service)"
    EVT3 = "A-ASSOCIATE-AC PDU (received on transport connection)"
    EVT4 = "A-ASSOCIATE-RJ PDU (received on transport connection)"
    EVT5 = "Transport Connection Indication (local transport service)"
    EVT6 = "A-ASSOCIATE-RQ PDU (received on transport connection)"
    EVT7 = "A-ASSOCIATE response primitive (accept)"
    EVT8 = "A-ASSOCIATE response primitive (reject)"
    EVT9 = "P-DATA request primitive"
    EVT10 = "P-DATA-TF PDU"
    EVT11 = "A-RELEASE Request primitive"
    EVT12 = "A-RELEASE-RQ PDU (received on open transport connection)"
    EVT13 = "A-RELEASE-RP PDU (received on transport connection)"
    EVT14 = "A-RELEASE Response primitive"
    EVT15 = "A-ABORT Request primitive"
    EVT16 = "A-ABORT PDU (received on open transport connection)"
    EVT17 = "Transport connection closed indication (local transport service)"
    EVT18 = "ARTIM timer expired (Association reject/release timer)"
    EVT19 = "Unrecognized or invalid PDU received"

    @property
    def number(self) -> int:
        return int(self.name[3:])

    @property
    def label(self) -> str:
        """``"Evt1"``: the conventional name of row 1 (the 2013 table has no numbers)."""
        return f"Evt{self.number}"


class Action(enum.Enum):
    """The actions of PS3.8 Tables 9-6 to 9-9; the value is the standard's identifier."""

    AE_1 = "AE-1"
    AE_2 = "AE-2"
    AE_3 = "AE-3"
    AE_4 = "AE-4"
    AE_5 = "AE-5"
    AE_6 = "AE-6"
    AE_7 = "AE-7"
    AE_8 = "AE-8"
    DT_1 = "DT-1"
    DT_2 = "DT-2"
    AR_1 = "AR-1"
    AR_2 = "AR-2"
    AR_3 = "AR-3"
    AR_4 = "AR-4"
    AR_5 = "AR-5"
    AR_6 = "AR-6"
    AR_7 = "AR-7"
    AR_8 = "AR-8"
    AR_9 = "AR-9"
    AR_10 = "AR-10"
    AA_1 = "AA-1"
    AA_2 = "AA-2"
    AA_3 = "AA-3"
    AA_4 = "AA-4"
    AA_5 = "AA-5"
    AA_6 = "AA-6"
    AA_7 = "AA-7"
    AA_8 = "AA-8"


S = State
E = Event
A = Action

# One four-character alias per action and ____ for an empty cell, so that each row of
# Table 9-10 fits on one line below and can be read against the standard column by column.
_AE1, _AE2, _AE3, _AE4 = A.AE_1, A.AE_2, A.AE_3, A.AE_4
_AE5, _AE6, _AE7, _AE8 = A.AE_5, A.AE_6, A.AE_7, A.AE_8
_DT1, _DT2 = A.DT_1, A.DT_2
_AR1, _AR2, _AR3, _AR4, _AR5 = A.AR_1, A.AR_2, A.AR_3, A.AR_4, A.AR_5
_AR6, _AR7, _AR8, _AR9, _AR0 = A.AR_6, A.AR_7, A.AR_8, A.AR_9, A.AR_10  # _AR0: AR-10
_AA1, _AA2, _AA3, _AA4 = A.AA_1, A.AA_2, A.AA_3, A.AA_4
_AA5, _AA6, _AA7, _AA8 = A.AA_5, A.AA_6, A.AA_7, A.AA_8
____ = None

# fmt: off
_TABLE_9_10: Final[tuple[tuple[Event, tuple[Action | None, ...]], ...]] = (
    #          Sta1  Sta2  Sta3  Sta4  Sta5  Sta6  Sta7  Sta8  Sta9  Sta10 Sta11 Sta12 Sta13
    (E.EVT1,  (_AE1, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____)),
    (E.EVT2,  (____, ____, ____, _AE2, ____, ____, ____, ____, ____, ____, ____, ____, ____)),
    (E.EVT3,  (____, _AA1, _AA8, ____, _AE3, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA6)),
    (E.EVT4,  (____, _AA1, _AA8, ____, _AE4, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA6)),
    (E.EVT5,  (_AE5, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____)),
    (E.EVT6,  (____, _AE6, _AA8, ____, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA7)),
    (E.EVT7,  (____, ____, _AE7, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____)),
    (E.EVT8,  (____, ____, _AE8, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____)),
    (E.EVT9,  (____, ____, ____, ____, ____, _DT1, ____, _AR7, ____, ____, ____, ____, ____)),
    (E.EVT10, (____, _AA1, _AA8, ____, _AA8, _DT2, _AR6, _AA8, _AA8, _AA8, _AA8, _AA8, _AA6)),
    (E.EVT11, (____, ____, ____, ____, ____, _AR1, ____, ____, ____, ____, ____, ____, ____)),
    (E.EVT12, (____, _AA1, _AA8, ____, _AA8, _AR2, _AR8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA6)),
    (E.EVT13, (____, _AA1, _AA8, ____, _AA8, _AA8, _AR3, _AA8, _AA8, _AR0, _AR3, _AA8, _AA6)),
    (E.EVT14, (____, ____, ____, ____, ____, ____, ____, _AR4, _AR9, ____, ____, _AR4, ____)),
    (E.EVT15, (____, ____, _AA1, _AA2, _AA1, _AA1, _AA1, _AA1, _AA1, _AA1, _AA1, _AA1, ____)),
    (E.EVT16, (____, _AA2, _AA3, ____, _AA3, _AA3, _AA3, _AA3, _AA3, _AA3, _AA3, _AA3, _AA2)),
    (E.EVT17, (____, _AA5, _AA4, _AA4, _AA4, _AA4, _AA4, _AA4, _AA4, _AA4, _AA4, _AA4, _AR5)),
    (E.EVT18, (____, _AA2, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, _AA2)),
    (E.EVT19, (____, _AA1, _AA8, ____, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA8, _AA7)),
)
# fmt: on


def _cells() -> dict[tuple[State, Event], Action]:
    cells: dict[tuple[State, Event], Action] = {}
    for event, row in _TABLE_9_10:
        for state, action in zip(State, row, strict=True):
            if action is not None:
                cells[state, event] = action
    return cells


TRANSITIONS: Final[Mapping[tuple[State, Event], Action]] = MappingProxyType(_cells())
"""PS3.8 Table 9-10, hand-written: ``(state, event) -> action``; absent keys are empty cells."""


# --------------------------------------------------------------------------------------
# Context, inputs, outputs
# --------------------------------------------------------------------------------------


class Role(enum.Enum):
    """Which end of the association this upper layer is (PS3.8 §7.1: requestor, acceptor)."""

    REQUESTOR = "requestor"
    ACCEPTOR = "acceptor"


class Timer(enum.Enum):
    """The one timer of PS3.8: ARTIM, the association request/reject/release timer (§9.1.5)."""

    ARTIM = "ARTIM"


@attrs.frozen
class Context:
    """What an association remembers between events; replaced, never mutated, by each Step.

    ``request`` is our A-ASSOCIATE request, kept from AE-1 until AE-2 sends it;
    ``received_rq`` the peer's A-ASSOCIATE-RQ, kept from AE-6 for the AC's echoed fields.
    ``local_max_pdata`` is the Maximum Length we announced, ``peer_max_pdata`` the peer's
    (``None``: no maximum, PS3.8 D.1).
    """

    role: Role
    artim_running: bool = False
    request: AAssociateRequest | None = None
    received_rq: AAssociateRQ | None = None
    local_max_pdata: int | None = None
    peer_max_pdata: int | None = None
    local_address: PresentationAddress | None = None
    remote_address: PresentationAddress | None = None


@attrs.frozen
class TransportInfo:
    """The payload of a transport connection event: the addresses, when known."""

    local_address: PresentationAddress | None = None
    remote_address: PresentationAddress | None = None


Payload: TypeAlias = PDU | UserRequest | MalformedPDUError | TransportInfo | Timer | None


@attrs.frozen
class Input:
    """One event as an action sees it: where the machine is, what happened, with what."""

    state: State
    event: Event
    payload: Payload = None


@attrs.frozen
class SendPDU:
    """Output: write this PDU on the transport connection."""

    pdu: PDU


@attrs.frozen
class Deliver:
    """Output: hand this indication or confirmation primitive to the local user."""

    primitive: UserEvent


@attrs.frozen
class OpenTransport:
    """Command: issue a TRANSPORT CONNECT request to this address (AE-1)."""

    address: PresentationAddress


@attrs.frozen
class CloseTransport:
    """Command: close the transport connection ("don't linger", PS3.8 §9.1.4)."""


@attrs.frozen
class StartTimer:
    """Command: start, or restart if running, the timer (PS3.8 §9.1.5)."""

    timer: Timer


@attrs.frozen
class StopTimer:
    """Command: stop the timer."""

    timer: Timer


Output: TypeAlias = SendPDU | Deliver | OpenTransport | CloseTransport | StartTimer | StopTimer


@attrs.frozen
class Step:
    """What an action decides: the next state, its outputs in order, the new context."""

    next_state: State
    outputs: tuple[Output, ...]
    context: Context


ActionFunction: TypeAlias = Callable[[Context, Input], Step]

# --------------------------------------------------------------------------------------
# Actions (PS3.8 Tables 9-6 to 9-9)
# --------------------------------------------------------------------------------------

_ARTIM = Timer.ARTIM
_P = TypeVar("_P")


def _payload(inp: Input, kind: type[_P]) -> _P:
    if not isinstance(inp.payload, kind):
        # The machine pairs events and payloads; reaching this is a bug in the caller.
        raise LocalProtocolError(
            f"{inp.event.label} in {inp.state.label} needs a {kind.__name__},"
            f" got {type(inp.payload).__name__}"
        )
    return inp.payload


def _max_length(value: int | None) -> int | None:
    # PS3.8 D.1: 0, or no sub-item at all, means "no maximum length specified".
    return value if value else None


def _check_pdata_size(ctx: Context, request: PDataRequest) -> PDataTF:
    pdu = PDataTF(request.pdvs)
    length = sum(PDV_OVERHEAD + len(pdv.fragment) for pdv in request.pdvs)
    if ctx.peer_max_pdata is not None and length > ctx.peer_max_pdata:
        raise LocalProtocolError(
            f"P-DATA-TF of PDU-length {length} exceeds the peer's maximum length"
            f" {ctx.peer_max_pdata} (PS3.8 D.1); fragment the message"
        )
    return pdu


def ae_1(ctx: Context, inp: Input) -> Step:
    """AE-1: issue TRANSPORT CONNECT; keep the request for AE-2.  Next state Sta4."""
    request = _payload(inp, AAssociateRequest)
    ctx = attrs.evolve(
        ctx,
        request=request,
        local_max_pdata=_max_length(request.user_information.maximum_length),
    )
    return Step(S.STA4, (OpenTransport(request.called_presentation_address),), ctx)


def ae_2(ctx: Context, inp: Input) -> Step:
    """AE-2: send the A-ASSOCIATE-RQ PDU.  Next state Sta5."""
    request = ctx.request
    if request is None:
        raise LocalProtocolError("no A-ASSOCIATE request to send (AE-1 did not run)")
    info = _payload(inp, TransportInfo)
    ctx = attrs.evolve(ctx, local_address=info.local_address, remote_address=info.remote_address)
    return Step(S.STA5, (SendPDU(associate_rq_from_request(request)),), ctx)


def ae_3(ctx: Context, inp: Input) -> Step:
    """AE-3: issue the A-ASSOCIATE confirmation (accept).  Next state Sta6."""
    pdu = _payload(inp, AAssociateAC)
    ctx = attrs.evolve(ctx, peer_max_pdata=_max_length(pdu.user_information.maximum_length))
    return Step(S.STA6, (Deliver(confirmation_from_associate_ac(pdu)),), ctx)


def ae_4(ctx: Context, inp: Input) -> Step:
    """AE-4: issue the A-ASSOCIATE confirmation (reject), close the transport.  Sta1."""
    pdu = _payload(inp, AAssociateRJ)
    return Step(S.STA1, (Deliver(confirmation_from_associate_rj(pdu)), CloseTransport()), ctx)


def ae_5(ctx: Context, inp: Input) -> Step:
    """AE-5: issue the transport connection response; start ARTIM.  Next state Sta2.

    The response (accepting the connection) is the driver's, which reports the
    connection only once it has accepted it.
    """
    info = _payload(inp, TransportInfo)
    ctx = attrs.evolve(ctx, local_address=info.local_address, remote_address=info.remote_address)
    return Step(S.STA2, (StartTimer(_ARTIM),), ctx)


def ae_6(ctx: Context, inp: Input) -> Step:
    """AE-6: stop ARTIM; indicate an acceptable A-ASSOCIATE-RQ (Sta3), else reject (Sta13).

    The service-provider's own test is the protocol version: bit 0 must be set (PS3.8
    Table 9-11, bytes 7-8); otherwise it rejects, permanent, source ACSE (2), reason
    protocol-version-not-supported (Table 9-21).
    """
    pdu = _payload(inp, AAssociateRQ)
    if not pdu.protocol_version & 0x0001:
        reject = AAssociateRJ(
            RejectResult.REJECTED_PERMANENT,
            RejectSource.SERVICE_PROVIDER_ACSE,
            ACSERejectReason.PROTOCOL_VERSION_NOT_SUPPORTED,
        )
        return Step(S.STA13, (StopTimer(_ARTIM), SendPDU(reject), StartTimer(_ARTIM)), ctx)
    ctx = attrs.evolve(
        ctx,
        received_rq=pdu,
        peer_max_pdata=_max_length(pdu.user_information.maximum_length),
    )
    indication = indication_from_associate_rq(
        pdu, called_address=ctx.local_address, calling_address=ctx.remote_address
    )
    return Step(S.STA3, (StopTimer(_ARTIM), Deliver(indication)), ctx)


def ae_7(ctx: Context, inp: Input) -> Step:
    """AE-7: send the A-ASSOCIATE-AC PDU.  Next state Sta6."""
    response = _payload(inp, AAssociateAcceptResponse)
    received = ctx.received_rq
    if received is None:
        raise LocalProtocolError("no A-ASSOCIATE-RQ to answer (AE-6 did not run)")
    ctx = attrs.evolve(ctx, local_max_pdata=_max_length(response.user_information.maximum_length))
    return Step(S.STA6, (SendPDU(associate_ac_from_response(response, received)),), ctx)


def ae_8(ctx: Context, inp: Input) -> Step:
    """AE-8: send the A-ASSOCIATE-RJ PDU and start ARTIM.  Next state Sta13."""
    response = _payload(inp, AAssociateRejectResponse)
    return Step(S.STA13, (SendPDU(associate_rj_from_response(response)), StartTimer(_ARTIM)), ctx)


def dt_1(ctx: Context, inp: Input) -> Step:
    """DT-1: send the P-DATA-TF PDU.  Next state Sta6."""
    return Step(S.STA6, (SendPDU(_check_pdata_size(ctx, _payload(inp, PDataRequest))),), ctx)


def dt_2(ctx: Context, inp: Input) -> Step:
    """DT-2: send (issue) the P-DATA indication primitive.  Next state Sta6."""
    return Step(S.STA6, (Deliver(PDataIndication(_payload(inp, PDataTF).pdvs)),), ctx)


def ar_1(ctx: Context, inp: Input) -> Step:
    """AR-1: send the A-RELEASE-RQ PDU.  Next state Sta7."""
    return Step(S.STA7, (SendPDU(AReleaseRQ()),), ctx)


def ar_2(ctx: Context, inp: Input) -> Step:
    """AR-2: issue the A-RELEASE indication primitive.  Next state Sta8."""
    return Step(S.STA8, (Deliver(AReleaseIndication()),), ctx)


def ar_3(ctx: Context, inp: Input) -> Step:
    """AR-3: issue the A-RELEASE confirmation and close the transport.  Next state Sta1."""
    return Step(S.STA1, (Deliver(AReleaseConfirmation()), CloseTransport()), ctx)


def ar_4(ctx: Context, inp: Input) -> Step:
    """AR-4: issue (send) the A-RELEASE-RP PDU and start ARTIM.  Next state Sta13."""
    return Step(S.STA13, (SendPDU(AReleaseRP()), StartTimer(_ARTIM)), ctx)


def ar_5(ctx: Context, inp: Input) -> Step:
    """AR-5: stop ARTIM.  Next state Sta1."""
    return Step(S.STA1, (StopTimer(_ARTIM),), ctx)


def ar_6(ctx: Context, inp: Input) -> Step:
    """AR-6: issue the P-DATA indication.  Next state Sta7."""
    return Step(S.STA7, (Deliver(PDataIndication(_payload(inp, PDataTF).pdvs)),), ctx)


def ar_7(ctx: Context, inp: Input) -> Step:
    """AR-7: issue (send) the P-DATA-TF PDU.  Next state Sta8."""
    return Step(S.STA8, (SendPDU(_check_pdata_size(ctx, _payload(inp, PDataRequest))),), ctx)


def ar_8(ctx: Context, inp: Input) -> Step:
    """AR-8: issue the A-RELEASE indication (collision).  Requestor: Sta9, else Sta10."""
    next_state = S.STA9 if ctx.role is Role.REQUESTOR else S.STA10
    return Step(next_state, (Deliver(AReleaseIndication(collision=True)),), ctx)


def ar_9(ctx: Context, inp: Input) -> Step:
    """AR-9: send the A-RELEASE-RP PDU.  Next state Sta11."""
    return Step(S.STA11, (SendPDU(AReleaseRP()),), ctx)


def ar_10(ctx: Context, inp: Input) -> Step:
    """AR-10: issue the A-RELEASE confirmation primitive.  Next state Sta12."""
    return Step(S.STA12, (Deliver(AReleaseConfirmation()),), ctx)


def aa_1(ctx: Context, inp: Input) -> Step:
    """AA-1: send A-ABORT (service-user source), (re)start ARTIM.  Next state Sta13.

    The standard names the service-user as source even where the event is a bad PDU in
    Sta2, before any user knows of the association; this follows the letter.
    """
    abort = AAbort(AbortSource.SERVICE_USER, AbortReason.REASON_NOT_SPECIFIED)
    return Step(S.STA13, (SendPDU(abort), StartTimer(_ARTIM)), ctx)


def aa_2(ctx: Context, inp: Input) -> Step:
    """AA-2: stop ARTIM if running, close the transport.  Next state Sta1."""
    stop: tuple[Output, ...] = (StopTimer(_ARTIM),) if ctx.artim_running else ()
    return Step(S.STA1, (*stop, CloseTransport()), ctx)


def aa_3(ctx: Context, inp: Input) -> Step:
    """AA-3: indicate A-ABORT (user source) or A-P-ABORT, close the transport.  Sta1."""
    pdu = _payload(inp, AAbort)
    primitive: UserEvent
    if pdu.source == AbortSource.SERVICE_USER:
        primitive = AAbortIndication(pdu.source)
    else:
        primitive = APAbortIndication(pdu.reason, "A-ABORT PDU from the peer's service-provider")
    return Step(S.STA1, (Deliver(primitive), CloseTransport()), ctx)


def aa_4(ctx: Context, inp: Input) -> Step:
    """AA-4: issue the A-P-ABORT indication primitive.  Next state Sta1."""
    indication = APAbortIndication(
        AbortReason.REASON_NOT_SPECIFIED, "transport connection closed by the peer or network"
    )
    return Step(S.STA1, (Deliver(indication),), ctx)


def aa_5(ctx: Context, inp: Input) -> Step:
    """AA-5: stop ARTIM.  Next state Sta1."""
    return Step(S.STA1, (StopTimer(_ARTIM),), ctx)


def aa_6(ctx: Context, inp: Input) -> Step:
    """AA-6: ignore the PDU.  Next state Sta13."""
    return Step(S.STA13, (), ctx)


def _provider_reason(inp: Input) -> tuple[AbortReason | Reserved, str]:
    if isinstance(inp.payload, MalformedPDUError):
        return code(AbortReason, inp.payload.abort_reason), str(inp.payload)
    name = type(inp.payload).__name__
    return AbortReason.UNEXPECTED_PDU, f"unexpected {name} PDU in {inp.state.label}"


def aa_7(ctx: Context, inp: Input) -> Step:
    """AA-7: send an A-ABORT PDU (service-provider source).  Next state Sta13."""
    reason, _ = _provider_reason(inp)
    return Step(S.STA13, (SendPDU(AAbort(AbortSource.SERVICE_PROVIDER, reason)),), ctx)


def aa_8(ctx: Context, inp: Input) -> Step:
    """AA-8: send A-ABORT (provider source), indicate A-P-ABORT, start ARTIM.  Sta13."""
    reason, detail = _provider_reason(inp)
    return Step(
        S.STA13,
        (
            SendPDU(AAbort(AbortSource.SERVICE_PROVIDER, reason)),
            Deliver(APAbortIndication(reason, detail)),
            StartTimer(_ARTIM),
        ),
        ctx,
    )


ACTIONS: Final[Mapping[Action, ActionFunction]] = MappingProxyType(
    {
        A.AE_1: ae_1,
        A.AE_2: ae_2,
        A.AE_3: ae_3,
        A.AE_4: ae_4,
        A.AE_5: ae_5,
        A.AE_6: ae_6,
        A.AE_7: ae_7,
        A.AE_8: ae_8,
        A.DT_1: dt_1,
        A.DT_2: dt_2,
        A.AR_1: ar_1,
        A.AR_2: ar_2,
        A.AR_3: ar_3,
        A.AR_4: ar_4,
        A.AR_5: ar_5,
        A.AR_6: ar_6,
        A.AR_7: ar_7,
        A.AR_8: ar_8,
        A.AR_9: ar_9,
        A.AR_10: ar_10,
        A.AA_1: aa_1,
        A.AA_2: aa_2,
        A.AA_3: aa_3,
        A.AA_4: aa_4,
        A.AA_5: aa_5,
        A.AA_6: aa_6,
        A.AA_7: aa_7,
        A.AA_8: aa_8,
    }
)
"""Each action of Tables 9-6 to 9-9 as a pure function ``(ctx, input) -> Step``."""


def step(ctx: Context, inp: Input) -> tuple[Action, Step]:
    """Look up the cell of Table 9-10 for ``inp`` and run its action.

    Raises
    ------
    LocalProtocolError
        When the cell is empty: the event cannot happen in that state, so the caller (the
        local user or the driver) is at fault; nothing changes.

    References
    ----------
    PS3.8 §9.2.3, Table 9-10.
    """
    action = TRANSITIONS.get((inp.state, inp.event))
    if action is None:
        raise LocalProtocolError(
            f"{inp.event.label} ({inp.event.value}) is not allowed in {inp.state.label}"
            " (empty cell of PS3.8 Table 9-10)"
        )
    return action, ACTIONS[action](ctx, inp)


EVENT_OF_PDU: Final[Mapping[type[PDU], Event]] = MappingProxyType(
    {
        AAssociateAC: E.EVT3,
        AAssociateRJ: E.EVT4,
        AAssociateRQ: E.EVT6,
        PDataTF: E.EVT10,
        AReleaseRQ: E.EVT12,
        AReleaseRP: E.EVT13,
        AAbort: E.EVT16,
    }
)
"""The event a received PDU is (Table 9-10 rows 3, 4, 6, 10, 12, 13, 16)."""

EVENT_OF_REQUEST: Final[Mapping[type[UserRequest], Event]] = MappingProxyType(
    {
        AAssociateRequest: E.EVT1,
        AAssociateAcceptResponse: E.EVT7,
        AAssociateRejectResponse: E.EVT8,
        PDataRequest: E.EVT9,
        AReleaseRequest: E.EVT11,
        AReleaseResponse: E.EVT14,
        AAbortRequest: E.EVT15,
    }
)
"""The event a user's primitive is (Table 9-10 rows 1, 7, 8, 9, 11, 14, 15)."""
