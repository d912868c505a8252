"""An established DICOM association: DIMSE messages over the upper layer, requested or accepted.

Theory of operation
-------------------
An :class:`Association` joins three sans-IO parts and one thin driver:

* the :class:`~dicompile.runtime.net.ul.machine.UpperLayer` (PS3.8 state machine), driven
  by a :class:`~dicompile.runtime.net.transport.Transport` over asyncio streams;
* :mod:`~dicompile.runtime.net.negotiation`, which decides the A-ASSOCIATE response (as
  acceptor) or reads the A-ASSOCIATE-AC (as requestor) into a
  :class:`~dicompile.runtime.net.negotiation.Negotiated` record;
* the DIMSE layer: :func:`~dicompile.runtime.net.dimse.fragment_message` cuts outgoing
  messages into P-DATA-TF PDUs no longer than the peer's Maximum Length, and a
  :class:`~dicompile.runtime.net.dimse.Reassembler` turns incoming PDVs into messages.

Events reach :meth:`Association._on_event` synchronously from the read task.  Responses are
matched to our outstanding requests by Message ID Being Responded To; requests from the peer
are queued for :meth:`serve`, which answers them one at a time, in order.

Rules:

1. Asynchronous operations (PS3.7 D.3.3.3): at most ``negotiated.max_invoked`` of our
   requests are outstanding at once (0: no limit); several coroutines may call
   :meth:`request` concurrently.  Fragments of two messages never interleave (PS3.8 E.1):
   one message is written whole before the next.
2. Timeouts: the DIMSE timeout bounds the wait for each response, the idle timeout the
   silence of an established association, the ACSE timeout the wait for an A-ASSOCIATE or
   A-RELEASE answer; on expiry the association is aborted (A-ABORT), never left hanging.
3. A peer that breaks PS3.7 or PS3.8 Annex E (bad command set, interleaved fragments, an
   unknown context) gets an A-ABORT; every outstanding request then fails with
   :class:`~dicompile.runtime.errors.AssociationAbortedError`.  Nothing from the peer
   raises into the read task.
4. A release request from the peer is answered only after every request received before it
   has been answered (the responses may still be sent in Sta8, PS3.8 AR-7).
5. Streamed data sets: while :meth:`serve` runs, a handler that is a
   :class:`StreamingRequestHandler` is asked, as each request of its type arrives, for a
   :class:`~dicompile.runtime.net.dimse.DataSink` taking the data set's fragments as they
   come (a Storage SCP writing them to the unpublished file); the request is then handled
   by :meth:`StreamingRequestHandler.handle_streamed` with that sink.  A sink whose request
   is never handled (the association ended first) is discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Final, Protocol, TypeAlias, runtime_checkable

import attrs

from dicompile.runtime.errors import (
    AssociationAbortedError,
    AssociationRejectedError,
    DIMSEProtocolError,
    LocalProtocolError,
)
from dicompile.runtime.net.ae import ApplicationEntity
from dicompile.runtime.net.dimse import (
    CCancelRQ,
    CEchoRQ,
    CEchoRSP,
    CFindRQ,
    CFindRSP,
    CGetRQ,
    CGetRSP,
    CMoveRQ,
    CMoveRSP,
    CStoreRQ,
    CStoreRSP,
    DataSink,
    DimseMessage,
    NActionRQ,
    NActionRSP,
    NCreateRQ,
    NCreateRSP,
    NDeleteRQ,
    NDeleteRSP,
    NEventReportRQ,
    NEventReportRSP,
    NGetRQ,
    NGetRSP,
    NSetRQ,
    NSetRSP,
    Reassembler,
    Request,
    Response,
    StatusCategory,
    fragment_message,
    status_category,
)
from dicompile.runtime.net.negotiation import (
    Acceptance,
    AcceptedContext,
    Negotiated,
    ProposedContext,
    accept_or_reject,
    build_request,
    negotiated_from_confirmation,
    reject_busy,
)
from dicompile.runtime.net.transport import Transport
from dicompile.runtime.net.ul.machine import UpperLayer
from dicompile.runtime.net.ul.pdu import AbortSource, Reserved
from dicompile.runtime.net.ul.primitives import (
    AAbortIndication,
    AAbortRequest,
    AAssociateAcceptConfirmation,
    AAssociateIndication,
    AAssociateRejectConfirmation,
    AAssociateRejectResponse,
    APAbortIndication,
    AReleaseConfirmation,
    AReleaseIndication,
    AReleaseRequest,
    AReleaseResponse,
    PDataIndication,
    PDataRequest,
    PresentationAddress,
    UserEvent,
)
from dicompile.runtime.net.ul.table import Role, State

log = logging.getLogger("dicompile.net")

#: Write at most this much before waiting for the socket buffer to drain.
_DRAIN_EVERY: Final = 1 << 20
#: Status 0110H Processing Failure (PS3.7 C.4.3), answered when a handler fails.
PROCESSING_FAILURE: Final = 0x0110
#: Status 0211H Unrecognized Operation (PS3.7 C.5.4): no handler for the request.
UNRECOGNIZED_OPERATION: Final = 0x0211

RequestHandler: TypeAlias = Callable[["Association", AcceptedContext, Request], Awaitable[Response]]
"""Answers one request received on an accepted context (see :meth:`Association.serve`)."""


@runtime_checkable
class StreamingRequestHandler(Protocol):
    """A request handler that may take a request's data set without holding it in memory.

    :meth:`data_sink` is called once the request's command set is whole (the request
    decoded with an empty data set), before any data fragment; when it returns a sink,
    the request is answered by :meth:`handle_streamed`, which owns the sink from then on.
    Otherwise the handler is called as any :data:`RequestHandler`.

    References
    ----------
    PS3.8 Annex E (fragments); PS3.7 §9.3.1 (C-STORE-RQ).
    """

    def __call__(
        self, association: Association, context: AcceptedContext, request: Request
    ) -> Awaitable[Response]: ...

    def data_sink(
        self, association: Association, context: AcceptedContext, request: Request
    ) -> DataSink | None: ...

    def handle_streamed(
        self,
        association: Association,
        context: AcceptedContext,
        request: Request,
        sink: DataSink,
    ) -> Awaitable[Response]: ...


AssociationHook: TypeAlias = Callable[
    [AAssociateIndication, Acceptance | AAssociateRejectResponse],
    Acceptance | AAssociateRejectResponse,
]
"""May change the acceptor's decision (for example, reject by a user list)."""

_RESPONSE_OF: Final[Mapping[type[Request], type[Response]]] = {
    CStoreRQ: CStoreRSP,
    CFindRQ: CFindRSP,
    CGetRQ: CGetRSP,
    CMoveRQ: CMoveRSP,
    CEchoRQ: CEchoRSP,
    NEventReportRQ: NEventReportRSP,
    NGetRQ: NGetRSP,
    NSetRQ: NSetRSP,
    NActionRQ: NActionRSP,
    NCreateRQ: NCreateRSP,
    NDeleteRQ: NDeleteRSP,
}


class Ending(enum.Enum):
    """How an association ended."""

    RELEASED = "released"
    ABORTED_LOCALLY = "aborted by us"
    ABORTED_BY_PEER = "aborted by the peer (A-ABORT)"
    PROVIDER_ABORT = "aborted by the service provider (A-P-ABORT)"
    REJECTED = "rejected"


@attrs.frozen
class _Received:
    context: AcceptedContext
    message: Request
    #: Where the data set went, when it was streamed (see rule 5); else None.
    sink: DataSink | None = None


class _Release:
    """Queue marker: the peer asked to release."""


class _End:
    """Queue marker: the association is over."""


_QueueItem: TypeAlias = _Received | _Release | _End


def failure_response(request: Request, status: int) -> Response | None:
    """The response to ``request`` carrying only ``status`` (None for C-CANCEL-RQ).

    References
    ----------
    PS3.7 §9.3, §10.3 (each request's response), Annex C.
    """
    if isinstance(request, CCancelRQ):
        return None
    cls = _RESPONSE_OF[type(request)]
    kwargs: dict[str, object] = {
        "message_id_being_responded_to": request.message_id,
        "status": status,
    }
    sop_class = getattr(request, "affected_sop_class_uid", None) or getattr(
        request, "requested_sop_class_uid", None
    )
    if sop_class is not None:
        kwargs["affected_sop_class_uid"] = sop_class
    instance = getattr(request, "affected_sop_instance_uid", None) or getattr(
        request, "requested_sop_instance_uid", None
    )
    if instance is not None and "affected_sop_instance_uid" in attrs.fields_dict(cls):
        kwargs["affected_sop_instance_uid"] = instance
    return cls(**kwargs)  # type: ignore[arg-type]


class Association:
    """One association, requested (:func:`associate`) or accepted (:class:`Server`).

    Use :meth:`request` to invoke operations, :meth:`serve` to answer the peer's, and
    :meth:`release` or :meth:`abort` to end it.  As an async context manager it releases
    on normal exit and aborts when the body raises.

    References
    ----------
    PS3.7 §7 (association), §9-10 (DIMSE); PS3.8 §7 (services), Annex E (fragments).
    """

    def __init__(self, ae: ApplicationEntity, role: Role) -> None:
        self.ae = ae
        self.role = role
        self.machine = UpperLayer(role)
        self.transport = Transport(
            self.machine, self._on_event, artim=ae.timeouts.artim, on_closed=self._on_closed
        )
        self._loop = asyncio.get_running_loop()
        self.negotiated = Negotiated(local_ae_title=ae.ae_title, peer_ae_title="", contexts={})
        self._reassembler = Reassembler(())
        self._answers: asyncio.Future[UserEvent] = self._loop.create_future()
        self._requests: asyncio.Queue[_QueueItem] = asyncio.Queue()
        self._pending: dict[int, asyncio.Queue[Response | BaseException]] = {}
        self._send_lock = asyncio.Lock()
        self._window: asyncio.Semaphore | None = None
        self._next_id = 0
        self._release_waiter: asyncio.Future[None] | None = None
        self._serving = False
        #: Message IDs the peer sent a C-CANCEL-RQ for (PS3.7 §9.3.2.3), until served.
        self._cancelled: set[int] = set()
        self.ending: Ending | None = None
        self.ending_detail = ""
        self._ended = asyncio.Event()

    def __repr__(self) -> str:
        return (
            f"<Association {self.role.value} {self.negotiated.local_ae_title}"
            f"<->{self.negotiated.peer_ae_title} {self.machine.state.label}>"
        )

    # -- state ----------------------------------------------------------------------------------

    @property
    def is_established(self) -> bool:
        """True while DIMSE messages may be exchanged (Sta6)."""
        return self.machine.state is State.STA6 and self.ending is None

    @property
    def is_ended(self) -> bool:
        return self._ended.is_set()

    async def wait_ended(self) -> None:
        """Wait until the association is over and its connection closed."""
        await self._ended.wait()
        await self.transport.wait_closed()

    def cancel_requested(self, message_id: int) -> bool:
        """True once the peer sent a C-CANCEL-RQ for our running operation ``message_id``.

        Handlers of multi-response operations (C-FIND, C-MOVE, C-GET) poll this between
        responses and then answer FE00H Cancel (PS3.7 §9.1.2.1.5, §9.3.2.3).
        """
        return message_id in self._cancelled

    def next_message_id(self) -> int:
        """A Message ID for a new request: 1-65535, cycling (PS3.7 E.1-1, US)."""
        self._next_id = self._next_id % 0xFFFF + 1
        while self._next_id in self._pending:
            self._next_id = self._next_id % 0xFFFF + 1
        return self._next_id

    # -- events from the read task ----------------------------------------------------------------

    def _on_event(self, event: UserEvent) -> None:
        if isinstance(event, PDataIndication):
            self._on_data(event)
        elif isinstance(
            event,
            AAssociateIndication | AAssociateAcceptConfirmation | AAssociateRejectConfirmation,
        ):
            if not self._answers.done():
                self._answers.set_result(event)
            if isinstance(event, AAssociateRejectConfirmation):
                self._end(Ending.REJECTED, "")
        elif isinstance(event, AReleaseIndication):
            self._on_release_indication(event)
        elif isinstance(event, AReleaseConfirmation):
            if self.machine.state is State.STA12:
                # Release collision, acceptor side: answer after our confirmation (AR-10).
                self.transport.send(AReleaseResponse())
            self._end(Ending.RELEASED, "")
        elif isinstance(event, AAbortIndication):
            self._end(Ending.ABORTED_BY_PEER, _source_text(event.source))
        elif isinstance(event, APAbortIndication):
            reason = event.reason
            name = reason.name if not isinstance(reason, Reserved) else str(reason.value)
            self._end(Ending.PROVIDER_ABORT, f"{name}: {event.detail}")
        if self.machine.state is State.STA1:
            self._end(self.ending or Ending.PROVIDER_ABORT, self.ending_detail)

    def _on_closed(self) -> None:
        self._end(self.ending or Ending.PROVIDER_ABORT, self.ending_detail or "connection closed")

    def _on_release_indication(self, event: AReleaseIndication) -> None:
        if event.collision:
            if self.role is Role.REQUESTOR:
                self.transport.send(AReleaseResponse())  # AR-8 then AR-9 (PS3.8 §7.2.2.7)
            return  # the acceptor answers after its confirmation, above
        # Rule 4: answer after the requests already queued.
        self._requests.put_nowait(_Release())
        if not self._serving:
            self._answer_release()

    def _answer_release(self) -> None:
        if self.machine.state is State.STA8:
            self.transport.send(AReleaseResponse())
            self._end(Ending.RELEASED, "")

    def _on_data(self, event: PDataIndication) -> None:
        for pdv in event.pdvs:
            try:
                received = self._reassembler.receive_pdv(pdv)
            except DIMSEProtocolError as exc:
                log.warning("%r: %s; aborting", self, exc)
                self._abort_now(f"peer broke PS3.7/PS3.8 Annex E: {exc}")
                return
            if received is None:
                continue
            message = received.message
            context = self.negotiated.contexts[received.context_id]
            sink = received.data_sink
            if isinstance(message, Response):
                self._on_response(message)
            elif isinstance(message, CCancelRQ):
                # Cancels only matter to multi-response services: a running handler polls
                # cancel_requested(); the queued marker clears the ID once it has run.
                self._cancelled.add(message.message_id_being_responded_to)
                self._requests.put_nowait(_Received(context, message))
            elif not (context.scu if isinstance(message, NEventReportRQ) else context.scp):
                # N-EVENT-REPORT is invoked by the SOP class's SCP and received by its SCU
                # (e.g. PS3.4 J.3.3: the Storage Commitment SCU receives the result).
                if sink is not None:
                    sink.discard()
                self._abort_now(
                    f"{message.MESSAGE} on presentation context {context.context_id}, where we"
                    f" are not {'SCU' if isinstance(message, NEventReportRQ) else 'SCP'}"
                    " (PS3.7 D.3.3.4)"
                )
                return
            else:
                self._requests.put_nowait(_Received(context, message, sink))

    def _on_response(self, message: Response) -> None:
        queue = self._pending.get(message.message_id_being_responded_to)
        if queue is None:
            log.warning(
                "%r: %s to unknown message ID %d ignored",
                self,
                message.MESSAGE,
                message.message_id_being_responded_to,
            )
            return
        queue.put_nowait(message)

    def _end(self, how: Ending, detail: str) -> None:
        if self.ending is None:
            self.ending = how
            self.ending_detail = detail
        if self._ended.is_set():
            return
        self._ended.set()
        # A data set being streamed will never be handled: its unpublished file goes.
        self._reassembler.abandon()
        if not self._answers.done():
            self._answers.set_result(APAbortIndication(Reserved(0), detail or how.value))
        error = AssociationAbortedError(
            f"association {self.ending.value}"
            + (f": {self.ending_detail}" if self.ending_detail else "")
        )
        for queue in self._pending.values():
            queue.put_nowait(error)
        self._requests.put_nowait(_End())
        if self._release_waiter is not None and not self._release_waiter.done():
            self._release_waiter.set_result(None)

    def _abort_now(self, detail: str) -> None:
        if self.ending is None:
            self.ending, self.ending_detail = Ending.ABORTED_LOCALLY, detail
        with contextlib.suppress(LocalProtocolError):
            self.transport.send(AAbortRequest())
        self._end(Ending.ABORTED_LOCALLY, detail)

    # -- establishing --------------------------------------------------------------------------

    async def _await_answer(self, timeout: float | None) -> UserEvent | None:
        try:
            return await asyncio.wait_for(asyncio.shield(self._answers), timeout)
        except TimeoutError:
            return None

    def _establish(self, negotiated: Negotiated) -> None:
        self.negotiated = negotiated
        self._reassembler = Reassembler(
            tuple(negotiated.contexts), max_data_set_length=self.ae.max_data_set_length
        )
        window = negotiated.max_invoked
        self._window = asyncio.Semaphore(window) if window > 0 else None

    # -- sending --------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.ending is not None:
            raise AssociationAbortedError(
                f"association {self.ending.value}"
                + (f": {self.ending_detail}" if self.ending_detail else "")
            )

    async def send_message(self, message: Request | Response, context_id: int) -> None:
        """Write one DIMSE message on a presentation context, whole (PS3.8 E.1).

        Raises
        ------
        AssociationAbortedError
            The association is over.
        """
        async with self._send_lock:
            self._check_open()
            written = 0
            for pdu in fragment_message(
                message, context_id=context_id, max_pdu_length=self.negotiated.peer_max_pdu_length
            ):
                try:
                    self.transport.send(PDataRequest(pdu.pdvs))
                except LocalProtocolError:
                    self._check_open()  # ended meanwhile: say so
                    raise
                written += sum(len(p.fragment) for p in pdu.pdvs)
                if written >= _DRAIN_EVERY:
                    written = 0
                    await self.transport.drain()
                    self._check_open()
            await self.transport.drain()

    async def request(
        self, message: Request, context_id: int, *, timeout: float | None = None
    ) -> Response:
        """Send a request and return its final (non-Pending) response.

        ``timeout`` defaults to the AE's DIMSE timeout; it bounds the wait for each
        response.  On expiry the association is aborted.

        Raises
        ------
        AssociationAbortedError
            The association ended, or no response came in time.

        References
        ----------
        PS3.7 §9.1, §9.3; D.3.3.3 (asynchronous operations window).
        """
        final: Response | None = None
        async for response in self.request_responses(message, context_id, timeout=timeout):
            final = response
        assert final is not None
        return final

    async def request_responses(
        self, message: Request, context_id: int, *, timeout: float | None = None
    ) -> AsyncIterator[Response]:
        """Send a request and yield each response, the Pending ones first, the final last."""
        self._check_open()
        if timeout is None:
            timeout = self.ae.timeouts.dimse
        message_id = message.message_id  # type: ignore[union-attr]
        if message_id in self._pending:
            raise LocalProtocolError(f"message ID {message_id} is already outstanding")
        queue: asyncio.Queue[Response | BaseException] = asyncio.Queue()
        self._pending[message_id] = queue  # before any await: the ID is taken at once
        window = self._window
        acquired = False
        try:
            if window is not None:
                await window.acquire()
                acquired = True
            await self.send_message(message, context_id)
            while True:
                try:
                    # asyncio.timeout arms one timer; wait_for would wrap a task per call.
                    async with asyncio.timeout(timeout):
                        item = await queue.get()
                except TimeoutError:
                    self._abort_now(f"no response to {message.MESSAGE} within {timeout} s")
                    raise AssociationAbortedError(
                        f"no response to {message.MESSAGE} (message ID {message_id}) within"
                        f" {timeout} s; association aborted"
                    ) from None
                if isinstance(item, BaseException):
                    raise item
                yield item
                if status_category(item.status) is not StatusCategory.PENDING:
                    return
        finally:
            self._pending.pop(message_id, None)
            if acquired and window is not None:
                window.release()

    # -- serving --------------------------------------------------------------------------------

    async def serve(self, handlers: Mapping[type[Request], RequestHandler]) -> None:
        """Answer the peer's requests until the association ends.

        Each request goes to the handler of its type; a request without one is answered
        with 0211H Unrecognized Operation, a handler that raises with 0110H Processing
        Failure (never with Success).  Returns once the association is released or
        aborted (an idle association is aborted after the AE's idle timeout).

        References
        ----------
        PS3.7 §9.1, §10.1, Annex C.
        """
        self._serving = True
        self._reassembler.sink_factory = self._sink_factory(handlers)
        try:
            await self._serve(handlers)
        finally:
            self._reassembler.sink_factory = None
            self._discard_queued_sinks()
        await self.wait_ended()

    def _sink_factory(
        self, handlers: Mapping[type[Request], RequestHandler]
    ) -> Callable[[int, DimseMessage], DataSink | None] | None:
        streaming = {
            kind: handler
            for kind, handler in handlers.items()
            if isinstance(handler, StreamingRequestHandler)
        }
        if not streaming:
            return None

        def factory(context_id: int, message: DimseMessage) -> DataSink | None:
            handler = streaming.get(type(message))  # type: ignore[arg-type]
            context = self.negotiated.contexts.get(context_id)
            if handler is None or context is None or not isinstance(message, Request):
                return None
            try:
                return handler.data_sink(self, context, message)
            except Exception:
                # A handler's fault must not reach the read task: keep it in memory.
                log.exception("%r: choosing a data sink for %s failed", self, message.MESSAGE)
                return None

        return factory

    def _discard_queued_sinks(self) -> None:
        while not self._requests.empty():
            item = self._requests.get_nowait()
            if isinstance(item, _Received) and item.sink is not None:
                item.sink.discard()

    async def _serve(self, handlers: Mapping[type[Request], RequestHandler]) -> None:
        idle = self.ae.timeouts.idle
        while True:
            item = await self._next_request(idle)
            if isinstance(item, _End):
                break
            if isinstance(item, _Release):
                self._answer_release()
                continue
            message = item.message
            if isinstance(message, CCancelRQ):
                # The operation it cancels (if any) was answered before this point.
                self._cancelled.discard(message.message_id_being_responded_to)
                continue
            handler = handlers.get(type(message))
            response: Response | None
            if item.sink is not None:
                # Only a streaming handler's factory makes sinks (rule 5).
                assert isinstance(handler, StreamingRequestHandler)
                try:
                    response = await handler.handle_streamed(self, item.context, message, item.sink)
                except Exception:
                    item.sink.discard()
                    log.exception("%r: handler for %s failed", self, message.MESSAGE)
                    response = failure_response(message, PROCESSING_FAILURE)
            elif handler is None:
                response = failure_response(message, UNRECOGNIZED_OPERATION)
            else:
                try:
                    response = await handler(self, item.context, message)
                except Exception:
                    log.exception("%r: handler for %s failed", self, message.MESSAGE)
                    response = failure_response(message, PROCESSING_FAILURE)
            if response is None or self.ending is not None:
                continue
            try:
                await self.send_message(response, item.context.context_id)
            except AssociationAbortedError:
                break

    async def _next_request(self, idle: float | None) -> _QueueItem:
        while True:
            if idle is None:
                return await self._requests.get()
            remaining = idle - (self._loop.time() - self.transport.last_received)
            if remaining > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        return await self._requests.get()
                continue
            if self._requests.empty():
                self._abort_now(f"idle for {idle} s")
            return self._requests.get_nowait()

    # -- ending ---------------------------------------------------------------------------------

    async def release(self) -> None:
        """Release the association in order (A-RELEASE) and wait for the connection to close.

        If the peer does not answer within the ACSE timeout the association is aborted.

        References
        ----------
        PS3.8 §7.2; PS3.7 §7.2.
        """
        if self.ending is not None or self.machine.state is not State.STA6:
            await self._close_after_end()
            return
        self._release_waiter = self._loop.create_future()
        self.transport.send(AReleaseRequest())
        try:
            await asyncio.wait_for(asyncio.shield(self._release_waiter), self.ae.timeouts.acse)
        except TimeoutError:
            self._abort_now(f"no A-RELEASE response within {self.ae.timeouts.acse} s")
        await self._close_after_end()

    def abort(self, detail: str = "aborted by the local user") -> None:
        """Abort the association now (A-ABORT, service-user source).

        References
        ----------
        PS3.8 §7.3.
        """
        self._abort_now(detail)

    async def _close_after_end(self) -> None:
        try:
            await asyncio.wait_for(self.transport.wait_closed(), (self.ae.timeouts.artim or 30) + 1)
        except TimeoutError:
            self.transport.abort_connection()
            await self.transport.wait_closed()

    async def __aenter__(self) -> Association:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.release()
        else:
            self.abort(f"{type(exc).__name__}: {exc}")
            await self._close_after_end()


def _source_text(source: AbortSource | Reserved) -> str:
    if isinstance(source, Reserved):
        return f"reserved source {source.value}"
    return source.name.lower().replace("_", " ")


# --------------------------------------------------------------------------------------
# Requestor
# --------------------------------------------------------------------------------------


async def associate(
    ae: ApplicationEntity,
    host: str,
    port: int,
    *,
    called_ae_title: str,
    contexts: Sequence[ProposedContext],
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> Association:
    """Open a connection and request an association; return it established.

    Raises
    ------
    TransportConnectError
        The TCP (or TLS) connection failed.
    AssociationRejectedError
        The peer sent an A-ASSOCIATE-RJ (its result, source and reason are attached).
    AssociationAbortedError
        The peer aborted, closed the connection, or did not answer within the ACSE timeout.

    References
    ----------
    PS3.8 §7.1, §9.1.1; PS3.7 §7.1.
    """
    association = Association(ae, Role.REQUESTOR)
    request = build_request(
        ae,
        called_ae_title=called_ae_title,
        address=PresentationAddress(host, port),
        contexts=contexts,
    )
    await association.transport.connect(
        request,
        ssl_context=ssl_context,
        server_hostname=server_hostname,
        timeout=ae.timeouts.connect,
    )
    answer = await association._await_answer(ae.timeouts.acse)
    if isinstance(answer, AAssociateAcceptConfirmation):
        association._establish(negotiated_from_confirmation(request, answer, ae))
        return association
    if isinstance(answer, AAssociateRejectConfirmation):
        await association.wait_ended()
        raise AssociationRejectedError(
            f"{host}:{port} ({called_ae_title}) rejected the association:"
            f" {describe_reject(answer)}",
            result=answer.result,
            source=answer.source,
            reason=answer.reason,
        )
    if answer is None:
        association.abort(f"no A-ASSOCIATE response within {ae.timeouts.acse} s")
        await association._close_after_end()
        raise AssociationAbortedError(
            f"{host}:{port} sent no A-ASSOCIATE response within {ae.timeouts.acse} s"
        )
    await association._close_after_end()
    how = association.ending.value if association.ending else "closed"
    raise AssociationAbortedError(
        f"{host}:{port} ended the association before accepting it: {how}"
        f" {association.ending_detail}"
    )


def describe_reject(answer: AAssociateRejectConfirmation) -> str:
    """``"rejected-permanent, service-user: called-AE-title-not-recognized"`` style text."""

    def name(value: object) -> str:
        if isinstance(value, Reserved):
            return f"reserved {value.value}"
        if isinstance(value, enum.Enum):
            return value.name.lower().replace("_", "-")
        return str(value)

    return f"{name(answer.result)}, {name(answer.source)}: {name(answer.reason)}"


# --------------------------------------------------------------------------------------
# Acceptor
# --------------------------------------------------------------------------------------


async def accept(
    ae: ApplicationEntity,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    busy: bool = False,
    hook: AssociationHook | None = None,
) -> Association | None:
    """Run the acceptor side up to an established association, or None when there is none.

    None: the peer sent no acceptable A-ASSOCIATE-RQ before ARTIM expired, aborted, closed,
    or we rejected it (``busy`` rejects as at the association limit).  The connection is
    closed by the upper layer in every such case.

    References
    ----------
    PS3.8 §7.1, §9.2 (AE-5, AE-6, AE-7, AE-8); Table 9-21.
    """
    association = Association(ae, Role.ACCEPTOR)
    association.transport.accept(reader, writer)
    answer = await association._await_answer(None)
    if not isinstance(answer, AAssociateIndication):
        await association._close_after_end()
        return None
    decision: Acceptance | AAssociateRejectResponse
    decision = reject_busy() if busy else accept_or_reject(answer, ae)
    if hook is not None and not busy:
        decision = hook(answer, decision)
    if association.ending is not None:  # aborted while we decided
        await association._close_after_end()
        return None
    if isinstance(decision, AAssociateRejectResponse):
        association.transport.send(decision)
        association._end(Ending.REJECTED, "")
        await association._close_after_end()
        return None
    association._establish(decision.negotiated)
    association.transport.send(decision.response)
    return association
