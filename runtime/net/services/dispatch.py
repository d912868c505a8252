"""Serve an application's typed SCP handlers: DIMSE requests routed to the generated protocols.

The generated service modules (``dicompile.generated.services.<service>``) declare, per SOP
class, the handler protocol an SCP implements (``StudyRootQueryRetrieveSCP.handle_find``,
``ModalityWorklistSCP.handle_find``, ``VerificationSCP.handle_echo``, ...), the DIMSE
services the SOP class uses (``OPERATIONS``) and the protocol of its SCP (``SCP_PROTOCOLS``).
:func:`scp_handlers` turns an object implementing such protocols into the request handlers
an :class:`~dicompile.runtime.net.server.Server` takes.

Example
-------
An application worklist, served next to Verification (this text is checked by mypy and run
by ``tests/runtime/net/services/test_dispatch.py``)::

    from collections.abc import AsyncIterator, Iterator

    from dicompile.generated.services.base import Match, ServiceContext, ServiceFailure
    from dicompile.generated.services.basic_worklist_management import (
        FindStatus,
        ModalityWorklistSCP,
    )
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.ae import ApplicationEntity
    from dicompile.runtime.net.server import Server
    from dicompile.runtime.net.services.archive_scp import Verification
    from dicompile.runtime.net.services.dispatch import scp_handlers
    from dicompile.runtime.net.services.verification import VERIFICATION_SCP
    from dicompile.runtime.net.services.worklist import WORKLIST_SCP_CONTEXT


    def scheduled(patient_id: str) -> Iterator[Dataset]:
        item = Dataset()
        item.set("PatientID", patient_id)
        item.set("AccessionNumber", "A-1")
        yield item


    class MyWorklist(ModalityWorklistSCP):
        async def handle_find(
            self, identifier: Dataset, context: ServiceContext
        ) -> AsyncIterator[Match[FindStatus]]:
            patient_id = identifier.get_value("PatientID")
            if not patient_id:
                raise ServiceFailure(FindStatus.UNABLE_TO_PROCESS, "PatientID is required")
            for item in scheduled(str(patient_id)):
                yield Match(item)


    ae = ApplicationEntity("WORKLIST", contexts=(VERIFICATION_SCP, WORKLIST_SCP_CONTEXT))
    server = Server(ae, scp_handlers(MyWorklist(), fallback=scp_handlers(Verification())))
    # then: await server.start("0.0.0.0", 11112); await server.serve_forever()

Theory of operation
-------------------
* Which SOP classes an implementation serves: those named in ``sop_classes``; by default
  those whose SCP protocol the implementation's class derives from (nominal), else every SOP
  class whose protocol it satisfies structurally.  ``runtime_checkable`` protocols only check
  method names, so a bare ``handle_find`` fits Query/Retrieve and Modality Worklist alike:
  derive from the protocol or name the SOP classes.  A named SOP class whose protocol the
  implementation does not satisfy is a :class:`~dicompile.runtime.errors.LocalProtocolError`.
* Each request goes by its Affected SOP Class UID (PS3.7 §9.1.2.1.2) to the implementation
  serving that class; a SOP class served by none goes to ``fallback`` (the handler of the
  request type there), or is refused with 0122H SOP Class Not Supported (PS3.7 C.5.6).  One
  server may therefore answer C-FIND of Query/Retrieve from one object and of the worklist
  from another, by chaining: ``scp_handlers(qr, fallback=scp_handlers(worklist))``.
* The handler gets the identifier decoded in the presentation context's transfer syntax, and
  a :class:`RequestContext` (a ``ServiceContext``: SOP class, AE titles, Message ID, and
  :attr:`RequestContext.cancelled`).
* C-FIND (PS3.4 C.4.1, K.4.1; PS3.7 §9.1.2): each yielded ``Match`` is one Pending response
  (its status, FF00H or FF01H) with the identifier encoded in the context's syntax; after a
  C-CANCEL-RQ the SCP stops pulling matches and answers FE00H Cancel (PS3.7 §9.3.2.3);
  otherwise the final response is Success.
* C-ECHO (PS3.4 A.4.2): the ``Outcome`` returned is the response's status and comment.
* N-CREATE, N-SET, N-ACTION, N-GET (PS3.7 §10.1): the handler gets the SOP Instance UID,
  the decoded Attribute List / Modification List / Action Information (N-ACTION also the
  Action Type ID, N-GET the Attribute Identifier List); the ``Outcome`` it returns gives
  the status, the data set of the response and, for N-CREATE, the instance UID (one is made
  when neither the SCU nor the handler named it, PS3.7 §10.1.5.1.2).
* Failures: ``ServiceFailure(status, comment)`` raised by the handler is the final status
  with Error Comment (0000,0902); a :class:`~dicompile.runtime.errors.QueryError` gives its
  status, with the first tag of its path as Offending Element (0000,0901); an identifier that
  does not decode is C000H; any other exception is C000H Unable to process for C-FIND and
  0110H Processing Failure for the others (PS3.7 C.4.3) -- never Success.
* C-GET, C-MOVE (PS3.4 C.4.2, C.4.3): the handler yields the data sets to send; the
  runtime collects them (so that each Pending response carries the Remaining count), then
  sends each with C-STORE -- C-GET on this association where the SCU granted us the SCU
  role (PS3.7 D.3.3.4), C-MOVE on a new association to the Move Destination of
  ``destinations`` (else A801H), with the Move Originator AE title and Message ID -- in a
  native transfer syntax, a Pending response with the counts after each; the final status
  is 0000H, B000H when some failed or warned, A702H when all failed, with the Failed SOP
  Instance UID List (0008,0058); C-CANCEL gives FE00H with the counts.
* C-STORE (PS3.4 B.2.3): the handler gets the data set decoded in the context's syntax and
  returns the Outcome; a data set that does not decode is C000H (Cannot understand).
* Not yet dispatched: N-DELETE and N-EVENT-REPORT (received by an SCU, e.g. a Storage
  Commitment result); give their handlers in ``fallback``.

The runtime imports the generated modules lazily (inside :func:`scp_handlers`), never at
import time: generated code may import the runtime, not the other way round.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Final, cast

import attrs

from dicompile.runtime.core.values.uid import uid_from_uuid
from dicompile.runtime.errors import DecodeError, LocalProtocolError, QueryError
from dicompile.runtime.net.association import (
    PROCESSING_FAILURE,
    Association,
    RequestHandler,
    failure_response,
)
from dicompile.runtime.net.dimse import (
    CEchoRQ,
    CEchoRSP,
    CFindRQ,
    CFindRSP,
    CGetRQ,
    CMoveRQ,
    CStoreRQ,
    NActionRQ,
    NActionRSP,
    NCreateRQ,
    NCreateRSP,
    NGetRQ,
    NGetRSP,
    NSetRQ,
    NSetRSP,
    Request,
    Response,
    StatusCategory,
    status_category,
)
from dicompile.runtime.net.negotiation import AcceptedContext

if TYPE_CHECKING:
    from dicompile.generated.services.base import Match, Outcome, ServiceFailure, ServiceStatus
    from dicompile.runtime.core.dataset import Dataset

log = logging.getLogger("dicompile.net.dispatch")

SUCCESS: Final = 0x0000
PENDING: Final = 0xFF00
CANCEL: Final = 0xFE00
UNABLE_TO_PROCESS: Final = 0xC000
#: C-MOVE/C-GET statuses (PS3.4 Tables C.4-2, C.4-3).
SUBOPERATIONS_WARNING: Final = 0xB000
SUBOPERATIONS_FAILED: Final = 0xA702
MOVE_DESTINATION_UNKNOWN: Final = 0xA801
#: 0122H Refused: SOP Class not supported (PS3.7 C.5.6).
SOP_CLASS_NOT_SUPPORTED: Final = 0x0122
#: Error Comment is LO: at most 64 characters (PS3.7 Table 9.3-2 ff.).
_COMMENT_LENGTH: Final = 64


@attrs.frozen
class RequestContext:
    """What a handler learns of the request it serves (a generated ``ServiceContext``).

    References
    ----------
    PS3.7 §9.1 (Affected SOP Class UID, Message ID); PS3.8 §7.1 (AE titles).
    """

    association: Association = attrs.field(repr=False)
    presentation_context: AcceptedContext
    sop_class_uid: str
    message_id: int

    @property
    def calling_ae_title(self) -> str:
        """The peer's AE title (it requested the association we accepted)."""
        return self.association.negotiated.peer_ae_title

    @property
    def called_ae_title(self) -> str:
        """Our AE title."""
        return self.association.negotiated.local_ae_title

    @property
    def transfer_syntax(self) -> str:
        return self.presentation_context.transfer_syntax

    @property
    def cancelled(self) -> bool:
        """True once the peer sent a C-CANCEL-RQ for this operation (PS3.7 §9.3.2.3)."""
        return self.association.cancel_requested(self.message_id)


#: Builds the handler of one DIMSE service for one implementation method.
#: Its arguments: the method, the failure exception class, the C-MOVE destinations.
_Route = Callable[
    [Callable[..., object], "type[ServiceFailure]", Mapping[str, tuple[str, int]]], RequestHandler
]


def _comment(text: str | None) -> str | None:
    return text[:_COMMENT_LENGTH] if text else None


def _code(status: object) -> int:
    """The integer of a status: a generated ``ServiceStatus`` member or an int."""
    if isinstance(status, int):
        return status
    code = getattr(status, "code", None)
    if not isinstance(code, int):
        raise TypeError(f"{status!r} is no status code")
    return code


def _offending(error: QueryError) -> tuple[int, ...] | None:
    """The first tag of a QueryError's tag path ``(gggg,eeee)...``, as Offending Element."""
    path = error.tag_path or ""
    if len(path) >= 11 and path[0] == "(" and path[10] == ")":
        with contextlib.suppress(ValueError):
            return (int(path[1:5] + path[6:10], 16),)
    return None


def _decode(data: bytes | None, syntax: str) -> Dataset:
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.services.query_retrieve import decode_identifier

    return decode_identifier(data, syntax) if data else Dataset()


def _find_route(
    method: Callable[..., object],
    failure: type[ServiceFailure],
    destinations: Mapping[str, tuple[str, int]],
) -> RequestHandler:
    """C-FIND: ``method(identifier, context)`` yields Matches (PS3.7 §9.1.2, §9.3.2)."""

    async def handle(
        association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        assert isinstance(request, CFindRQ)

        def final(
            status: int, comment: str | None = None, offending: tuple[int, ...] | None = None
        ) -> CFindRSP:
            return CFindRSP(
                message_id_being_responded_to=request.message_id,
                status=status,
                affected_sop_class_uid=request.affected_sop_class_uid,
                error_comment=_comment(comment),
                offending_element=offending,
            )

        ctx = RequestContext(
            association, context, request.affected_sop_class_uid, request.message_id
        )
        try:
            identifier = _decode(request.data_set, context.transfer_syntax)
        except DecodeError as exc:
            return final(UNABLE_TO_PROCESS, f"undecodable identifier: {exc}")
        returned = method(identifier, ctx)
        if not isinstance(returned, AsyncIterator):
            log.error(
                "%r: C-FIND handler returned %r, not an async iterator", association, returned
            )
            return final(UNABLE_TO_PROCESS, "handler returned no async iterator")
        matches = cast("AsyncIterator[Match[ServiceStatus]]", returned)
        count = 0
        try:
            async for match in matches:
                if ctx.cancelled:
                    return final(CANCEL)
                status = _code(match.status)
                if status_category(status) is not StatusCategory.PENDING:
                    raise TypeError(f"a Match carries a Pending status, not {status:04X}H")
                from dicompile.runtime.net.services.query_retrieve import encode_identifier

                await association.send_message(
                    CFindRSP(
                        message_id_being_responded_to=request.message_id,
                        status=status,
                        affected_sop_class_uid=request.affected_sop_class_uid,
                        data_set=encode_identifier(match.identifier, context.transfer_syntax),
                    ),
                    context.context_id,
                )
                count += 1
                # Let the read task register a C-CANCEL-RQ between two responses: writing
                # need not suspend when the socket takes the bytes at once.
                await asyncio.sleep(0)
        except failure as exc:
            return final(exc.status, exc.comment or None)
        except QueryError as exc:
            return final(exc.status, str(exc), _offending(exc))
        except Exception as exc:  # the handler broke: say so, never Success
            log.exception("%r: C-FIND handler failed", association)
            return final(UNABLE_TO_PROCESS, f"{type(exc).__name__}: {exc}")
        finally:
            aclose = getattr(matches, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        if ctx.cancelled:
            return final(CANCEL)
        log.info("C-FIND from %s: %d matches", ctx.calling_ae_title, count)
        return final(SUCCESS)

    return handle


def _echo_route(
    method: Callable[..., object],
    failure: type[ServiceFailure],
    destinations: Mapping[str, tuple[str, int]],
) -> RequestHandler:
    """C-ECHO: ``await method(context)`` gives the Outcome (PS3.4 A.4.2; PS3.7 §9.1.5)."""

    async def handle(
        association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        assert isinstance(request, CEchoRQ)

        def answer(status: int, comment: str | None = None) -> CEchoRSP:
            return CEchoRSP(
                message_id_being_responded_to=request.message_id,
                status=status,
                affected_sop_class_uid=request.affected_sop_class_uid,
                error_comment=_comment(comment),
            )

        ctx = RequestContext(
            association, context, request.affected_sop_class_uid, request.message_id
        )
        try:
            result = method(ctx)
            if not isinstance(result, Awaitable):
                raise TypeError(f"C-ECHO handler returned {result!r}, not an awaitable")
            outcome = cast("Outcome[ServiceStatus]", await result)
            return answer(_code(outcome.status), outcome.error_comment)
        except failure as exc:
            return answer(exc.status, exc.comment or None)
        except Exception as exc:
            log.exception("%r: C-ECHO handler failed", association)
            return answer(PROCESSING_FAILURE, f"{type(exc).__name__}: {exc}")

    return handle


@attrs.define
class _Tally:
    """Sub-operation counts of a C-MOVE/C-GET (PS3.4 C.4.2.1.6-9, C.4.3.1.5-8)."""

    remaining: int
    completed: int = 0
    warning: int = 0
    failed_uids: list[str] = attrs.field(factory=list)


def _native_context(association: Association, sop_class: str) -> AcceptedContext | None:
    """An accepted context where we may send C-STORE for ``sop_class`` in a native syntax."""
    from dicompile.runtime.codec.transfer_syntax import transfer_syntax

    for context in association.negotiated.contexts.values():
        if context.abstract_syntax != sop_class or not context.scu:
            continue
        with contextlib.suppress(Exception):
            if transfer_syntax(context.transfer_syntax).is_native:
                return context
    return None


async def _store(
    target: Association, data_set: Dataset, originator: tuple[str, int] | None
) -> tuple[str, int | None]:
    """C-STORE one data set on ``target``: (its SOP Instance UID, status or None)."""
    from dicompile.runtime.net.services.payload import encode_payload

    sop_class = str(data_set.get_value("SOPClassUID") or "")
    uid = str(data_set.get_value("SOPInstanceUID") or "")
    context = _native_context(target, sop_class) if sop_class and uid else None
    if context is None:
        log.info("no storage context for %s (%s): sub-operation failed", uid, sop_class)
        return uid, None
    request = CStoreRQ(
        message_id=target.next_message_id(),
        affected_sop_class_uid=sop_class,
        affected_sop_instance_uid=uid,
        move_originator_application_entity_title=originator[0] if originator else None,
        move_originator_message_id=originator[1] if originator else None,
        data_set=encode_payload(data_set, context.transfer_syntax),
    )
    response = await target.request(request, context.context_id)
    return uid, response.status


def _retrieve_route(
    method: Callable[..., object],
    failure: type[ServiceFailure],
    destinations: Mapping[str, tuple[str, int]],
) -> RequestHandler:
    """C-GET and C-MOVE: the handler yields the data sets to send; the runtime sends them
    (C-STORE on this association for C-GET, where the SCU granted us the SCU role; on a new
    association to the Move Destination for C-MOVE), a Pending response with the counts
    after each, then the final response.

    References
    ----------
    PS3.4 C.4.2.2-C.4.2.3, C.4.3.2-C.4.3.3; PS3.7 §9.1.3, §9.1.4, D.3.3.4.
    """

    async def handle(
        association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        from dicompile.runtime.net.association import associate
        from dicompile.runtime.net.dimse import CGetRSP, CMoveRSP
        from dicompile.runtime.net.negotiation import ProposedContext

        assert isinstance(request, CGetRQ | CMoveRQ)
        cls = CMoveRSP if isinstance(request, CMoveRQ) else CGetRSP
        syntax = context.transfer_syntax

        def answer(
            status: int,
            tally: _Tally | None = None,
            comment: str | None = None,
            offending: tuple[int, ...] | None = None,
        ) -> Response:
            data = None
            pending = status == PENDING
            if tally is not None and tally.failed_uids and not pending:
                from dicompile.runtime.core.dataset import Dataset
                from dicompile.runtime.core.element import DataElement
                from dicompile.runtime.core.vr import VR
                from dicompile.runtime.net.services.payload import encode_payload

                failed = Dataset()
                failed.add(DataElement(0x00080058, VR.UI, tuple(tally.failed_uids)))
                data = encode_payload(failed, syntax)
            return cls(
                message_id_being_responded_to=request.message_id,
                status=status,
                affected_sop_class_uid=request.affected_sop_class_uid,
                # Remaining only in Pending and Cancel responses (PS3.4 C.4.2.1.6).
                number_of_remaining_suboperations=(
                    tally.remaining if tally is not None and status in (PENDING, CANCEL) else None
                ),
                number_of_completed_suboperations=tally.completed if tally else None,
                number_of_failed_suboperations=len(tally.failed_uids) if tally else None,
                number_of_warning_suboperations=tally.warning if tally else None,
                error_comment=_comment(comment),
                offending_element=offending,
                data_set=data,
            )

        ctx = RequestContext(
            association, context, request.affected_sop_class_uid, request.message_id
        )
        try:
            identifier = _decode(request.data_set, syntax)
        except DecodeError as exc:
            return answer(UNABLE_TO_PROCESS, None, f"undecodable identifier: {exc}")
        destination = request.move_destination.strip() if isinstance(request, CMoveRQ) else ""
        if isinstance(request, CMoveRQ) and destination not in destinations:
            return answer(
                MOVE_DESTINATION_UNKNOWN, None, f"unknown Move Destination {destination!r}"
            )
        arguments = (
            (identifier, destination, ctx) if isinstance(request, CMoveRQ) else (identifier, ctx)
        )
        # Every data set first: the Pending responses carry the Remaining count.
        data_sets: list[Dataset] = []
        returned = method(*arguments)
        try:
            if not isinstance(returned, AsyncIterator):
                raise TypeError(f"{request.MESSAGE} handler returned {returned!r}")
            async for data_set in returned:
                data_sets.append(data_set)
                if ctx.cancelled:
                    return answer(CANCEL, _Tally(0))
        except failure as exc:
            return answer(exc.status, None, exc.comment or None)
        except QueryError as exc:
            return answer(exc.status, None, str(exc), _offending(exc))
        except Exception as exc:
            log.exception("%r: %s handler failed", association, request.MESSAGE)
            return answer(UNABLE_TO_PROCESS, None, f"{type(exc).__name__}: {exc}")
        tally = _Tally(len(data_sets))
        if not data_sets:
            return answer(SUCCESS, tally)
        target = association
        if isinstance(request, CMoveRQ):
            host, port = destinations[destination]
            classes = sorted({str(d.get_value("SOPClassUID") or "") for d in data_sets} - {""})
            from dicompile.runtime.net.ae import UNCOMPRESSED

            try:
                target = await associate(
                    association.ae,
                    host,
                    port,
                    called_ae_title=destination,
                    contexts=[ProposedContext(uid, UNCOMPRESSED) for uid in classes[:128]],
                )
            except Exception as exc:
                log.warning("C-MOVE to %s at %s:%d: %s", destination, host, port, exc)
                tally.failed_uids = [str(d.get_value("SOPInstanceUID") or "") for d in data_sets]
                tally.remaining = 0
                return answer(SUBOPERATIONS_FAILED, tally, f"cannot associate with {destination}")
        originator = (
            (ctx.calling_ae_title, request.message_id) if target is not association else None
        )
        try:
            for data_set in data_sets:
                if ctx.cancelled:
                    return answer(CANCEL, tally)
                tally.remaining -= 1
                try:
                    uid, status = await _store(target, data_set, originator)
                except Exception as exc:  # the sub-operation failed, not the C-GET
                    log.info("sub-operation failed: %s", exc)
                    uid, status = str(data_set.get_value("SOPInstanceUID") or ""), None
                category = status_category(status) if status is not None else None
                if category is StatusCategory.SUCCESS:
                    tally.completed += 1
                elif category is StatusCategory.WARNING:
                    tally.warning += 1
                else:
                    tally.failed_uids.append(uid)
                if tally.remaining:
                    await association.send_message(answer(PENDING, tally), context.context_id)
                    await asyncio.sleep(0)
        finally:
            if target is not association:
                if target.is_established:
                    await target.release()
                else:
                    await target.wait_ended()
        if not tally.failed_uids and not tally.warning:
            return answer(SUCCESS, tally)
        if not tally.completed and not tally.warning:
            return answer(SUBOPERATIONS_FAILED, tally)
        return answer(SUBOPERATIONS_WARNING, tally)

    return handle


def _store_route(
    method: Callable[..., object],
    failure: type[ServiceFailure],
    destinations: Mapping[str, tuple[str, int]],
) -> RequestHandler:
    """C-STORE: ``await method(data_set, context)`` gives the Outcome (PS3.4 B.2.3).

    The data set is decoded in the context's transfer syntax (encapsulated Pixel Data stays
    as fragments).  Undecodable bytes are C000H Cannot understand (PS3.4 Table B.2-1).

    References
    ----------
    PS3.4 B.2.3; PS3.7 §9.1.1, §9.3.1.
    """

    async def handle(
        association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        from dicompile.runtime.net.dimse import CStoreRSP
        from dicompile.runtime.net.services.payload import decode_payload

        assert isinstance(request, CStoreRQ)

        def answer(
            status: int, comment: str | None = None, offending: tuple[int, ...] | None = None
        ) -> CStoreRSP:
            return CStoreRSP(
                message_id_being_responded_to=request.message_id,
                status=status,
                affected_sop_class_uid=request.affected_sop_class_uid,
                affected_sop_instance_uid=request.affected_sop_instance_uid,
                error_comment=_comment(comment),
                offending_element=offending,
            )

        ctx = RequestContext(
            association, context, request.affected_sop_class_uid, request.message_id
        )
        try:
            data_set = decode_payload(request.data_set, context.transfer_syntax, source="C-STORE")
        except DecodeError as exc:
            return answer(UNABLE_TO_PROCESS, f"undecodable data set: {exc}")
        try:
            result = method(data_set, ctx)
            if not isinstance(result, Awaitable):
                raise TypeError(f"C-STORE handler returned {result!r}, not an awaitable")
            outcome = cast("Outcome[ServiceStatus]", await result)
            return answer(_code(outcome.status), outcome.error_comment)
        except failure as exc:
            return answer(exc.status, exc.comment or None)
        except Exception as exc:
            log.exception("%r: C-STORE handler failed", association)
            return answer(PROCESSING_FAILURE, f"{type(exc).__name__}: {exc}")

    return handle


def _sop_class_of(request: Request) -> str | None:
    """The Affected (DIMSE-C, N-CREATE) or Requested (other DIMSE-N) SOP Class UID."""
    for name in ("affected_sop_class_uid", "requested_sop_class_uid"):
        value = getattr(request, name, None)
        if isinstance(value, str):
            return value
    return None


def _n_arguments(
    request: Request, data: Dataset | None
) -> tuple[tuple[object, ...], str | None, int | None]:
    """The handler's arguments before the context, the SOP instance, the action type."""
    if isinstance(request, NCreateRQ):
        return (request.affected_sop_instance_uid, data), request.affected_sop_instance_uid, None
    if isinstance(request, NSetRQ):
        assert data is not None
        return (request.requested_sop_instance_uid, data), request.requested_sop_instance_uid, None
    if isinstance(request, NActionRQ):
        instance = request.requested_sop_instance_uid
        return (instance, request.action_type_id, data), instance, request.action_type_id
    assert isinstance(request, NGetRQ)
    tags = tuple(request.attribute_identifier_list or ())
    return (request.requested_sop_instance_uid, tags), request.requested_sop_instance_uid, None


def _n_route(
    method: Callable[..., object],
    failure: type[ServiceFailure],
    destinations: Mapping[str, tuple[str, int]],
) -> RequestHandler:
    """N-CREATE, N-SET, N-ACTION, N-GET: ``await method(..., context)`` gives the Outcome:
    its status, Attribute List (or Action Reply) and, for N-CREATE, the instance.

    References
    ----------
    PS3.7 §10.1.2 (N-GET), §10.1.3 (N-SET), §10.1.4 (N-ACTION), §10.1.5 (N-CREATE).
    """

    async def handle(
        association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        assert isinstance(request, NCreateRQ | NSetRQ | NActionRQ | NGetRQ)
        sop_class = _sop_class_of(request) or context.abstract_syntax
        syntax = context.transfer_syntax
        cls = _N_RESPONSES[type(request)]

        def answer(
            status: int,
            comment: str | None = None,
            instance: str | None = None,
            data: bytes | None = None,
            offending: tuple[int, ...] | None = None,
        ) -> Response:
            fields: dict[str, object] = {
                "message_id_being_responded_to": request.message_id,
                "status": status,
                "affected_sop_class_uid": sop_class,
                "affected_sop_instance_uid": instance,
                "error_comment": _comment(comment),
                "offending_element": offending,
                "data_set": data,
            }
            if isinstance(request, NActionRQ):
                fields["action_type_id"] = request.action_type_id
            return cls(**fields)  # type: ignore[arg-type]

        ctx = RequestContext(association, context, sop_class, request.message_id)
        raw = getattr(request, "data_set", None)
        try:
            data = _decode(raw, syntax) if raw else None
        except DecodeError as exc:
            return answer(PROCESSING_FAILURE, f"undecodable data set: {exc}")
        arguments, instance, _ = _n_arguments(request, data)
        try:
            result = method(*arguments, ctx)
            if not isinstance(result, Awaitable):
                raise TypeError(f"{request.MESSAGE} handler returned {result!r}, not an awaitable")
            outcome = cast("Outcome[ServiceStatus]", await result)
            status = _code(outcome.status)
            if isinstance(request, NCreateRQ):
                # PS3.7 §10.1.5.1.2: the SCP names the instance when the SCU did not.
                instance = outcome.sop_instance_uid or instance
                if instance is None and status_category(status) is StatusCategory.SUCCESS:
                    instance = uid_from_uuid()
            encoded = None
            if outcome.data_set is not None:
                from dicompile.runtime.net.services.payload import encode_payload

                encoded = encode_payload(outcome.data_set, syntax)
            return answer(status, outcome.error_comment, instance, encoded)
        except failure as exc:
            return answer(exc.status, exc.comment or None, instance)
        except QueryError as exc:
            return answer(exc.status, str(exc), instance, offending=_offending(exc))
        except Exception as exc:
            log.exception("%r: %s handler failed", association, request.MESSAGE)
            return answer(PROCESSING_FAILURE, f"{type(exc).__name__}: {exc}", instance)

    return handle


_N_RESPONSES: Final[Mapping[type[Request], type[Response]]] = {
    NCreateRQ: NCreateRSP,
    NSetRQ: NSetRSP,
    NActionRQ: NActionRSP,
    NGetRQ: NGetRSP,
}


#: DIMSE service (as the generated OPERATIONS name it) -> request type, handler method, route.
_ROUTES: Final[Mapping[str, tuple[type[Request], str, _Route]]] = {
    "C-FIND": (CFindRQ, "handle_find", _find_route),
    "C-ECHO": (CEchoRQ, "handle_echo", _echo_route),
    "C-STORE": (CStoreRQ, "handle_store", _store_route),
    "C-GET": (CGetRQ, "handle_get", _retrieve_route),
    "C-MOVE": (CMoveRQ, "handle_move", _retrieve_route),
    "N-CREATE": (NCreateRQ, "handle_n_create", _n_route),
    "N-SET": (NSetRQ, "handle_n_set", _n_route),
    "N-ACTION": (NActionRQ, "handle_n_action", _n_route),
    "N-GET": (NGetRQ, "handle_n_get", _n_route),
}


def _service_modules() -> Iterable[ModuleType]:
    from dicompile.generated.services import SERVICE_CLASSES

    for entry in SERVICE_CLASSES:
        yield importlib.import_module(f"dicompile.generated.services.{entry.module}")


def _protocols(sop_class: str | None = None) -> Iterable[tuple[str, type, tuple[str, ...]]]:
    """(SOP class, SCP protocol, operations) of one SOP class, or of every one."""
    if sop_class is not None:
        from dicompile.generated.services import service_modules

        modules: Iterable[ModuleType] = service_modules(sop_class)
    else:
        modules = _service_modules()
    for module in modules:
        scp_protocols: Mapping[str, str] = getattr(module, "SCP_PROTOCOLS", {})
        operations: Mapping[str, tuple[str, ...]] = getattr(module, "OPERATIONS", {})
        for uid, name in scp_protocols.items():
            if sop_class is None or uid == sop_class:
                yield uid, getattr(module, name), tuple(operations.get(uid, ()))


def served_sop_classes(
    implementation: object, sop_classes: Iterable[str] | None = None
) -> dict[str, tuple[type, tuple[str, ...]]]:
    """The SOP classes ``implementation`` serves: UID -> (SCP protocol, DIMSE services).

    Raises
    ------
    LocalProtocolError
        A SOP class of ``sop_classes`` has no SCP protocol, or ``implementation`` does not
        satisfy it.
    """
    found: dict[str, tuple[type, tuple[str, ...]]] = {}
    if sop_classes is not None:
        for uid in sop_classes:
            entries = list(_protocols(uid))
            fitting = [e for e in entries if isinstance(implementation, e[1])]
            if not fitting:
                names = ", ".join(e[1].__name__ for e in entries) or "no SCP protocol"
                raise LocalProtocolError(
                    f"{type(implementation).__name__} does not implement the SCP of {uid} ({names})"
                )
            found[uid] = fitting[0][1], fitting[0][2]
        return found
    every = list(_protocols())
    mro = type(implementation).__mro__
    nominal = {uid: (proto, ops) for uid, proto, ops in every if proto in mro}
    if nominal:
        return nominal
    return {uid: (proto, ops) for uid, proto, ops in every if isinstance(implementation, proto)}


def scp_handlers(
    implementation: object,
    sop_classes: Iterable[str] | None = None,
    *,
    fallback: Mapping[type[Request], RequestHandler] | None = None,
    destinations: Mapping[str, tuple[str, int]] | None = None,
) -> dict[type[Request], RequestHandler]:
    """The request handlers that serve ``implementation``'s generated SCP protocols.

    Parameters
    ----------
    implementation
        An object with ``handle_*`` methods of the generated ``...SCP`` protocols.
    sop_classes
        The SOP class UIDs it serves (default: see the module text).
    fallback
        Handlers for requests of SOP classes (or request types) it does not serve.
    destinations
        C-MOVE: Move Destination AE title -> (host, port); another title is A801H.

    Raises
    ------
    LocalProtocolError
        It does not satisfy the protocol of a named SOP class, or serves nothing.

    References
    ----------
    PS3.4 (the SCP behaviour of each service class); PS3.7 §9.1 (DIMSE-C), Annex C.
    """
    from dicompile.generated.services.base import ServiceFailure

    served = served_sop_classes(implementation, sop_classes)
    by_type: dict[type[Request], dict[str, RequestHandler]] = {}
    for uid, (_, operations) in served.items():
        for operation in operations:
            route = _ROUTES.get(operation)
            if route is None:
                continue
            kind, name, build = route
            method = getattr(implementation, name, None)
            if not callable(method):  # an operation its protocol leaves to another party
                continue
            by_type.setdefault(kind, {})[uid] = build(
                method, ServiceFailure, dict(destinations or {})
            )
    if not by_type:
        raise LocalProtocolError(
            f"{type(implementation).__name__} serves no SOP class with a dispatched DIMSE"
            f" service ({', '.join(sorted(_ROUTES))})"
        )
    handlers: dict[type[Request], RequestHandler] = dict(fallback or {})
    for kind, table in by_type.items():
        handlers[kind] = _by_sop_class(table, (fallback or {}).get(kind))
    return handlers


def _by_sop_class(
    table: Mapping[str, RequestHandler], other: RequestHandler | None
) -> RequestHandler:
    """The handler of the request's Affected SOP Class, else ``other``, else 0122H."""

    async def handle(
        association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        sop_class = _sop_class_of(request)
        chosen = table.get(sop_class) if sop_class is not None else None
        if chosen is not None:
            if sop_class == context.abstract_syntax:
                return await chosen(association, context, request)
            response = failure_response(request, SOP_CLASS_NOT_SUPPORTED)
            assert response is not None
            if "error_comment" in attrs.fields_dict(type(response)):
                response = attrs.evolve(
                    response, error_comment="SOP Class differs from the context's"
                )
            return response
        if other is not None:
            return await other(association, context, request)
        response = failure_response(request, SOP_CLASS_NOT_SUPPORTED)
        assert response is not None
        return response

    return handle


__all__ = [
    "SOP_CLASS_NOT_SUPPORTED",
    "RequestContext",
    "scp_handlers",
    "served_sop_classes",
]
