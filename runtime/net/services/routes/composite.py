"""Routes of the DIMSE-C services answered in one step or with matches: C-ECHO, C-STORE, C-FIND.

Each ``*_route`` takes the implementation's method and returns the request handler an
:class:`~dicompile.runtime.net.association.Association` calls (see :mod:`..dispatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, cast

from dicompile.runtime.errors import DecodeError, QueryError
from dicompile.runtime.net.association import PROCESSING_FAILURE, Association, RequestHandler
from dicompile.runtime.net.dimse import (
    CEchoRQ,
    CEchoRSP,
    CFindRQ,
    CFindRSP,
    CStoreRQ,
    Request,
    Response,
    StatusCategory,
    status_category,
)
from dicompile.runtime.net.negotiation import AcceptedContext
from dicompile.runtime.net.services.routes.context import (
    CANCEL,
    SUCCESS,
    UNABLE_TO_PROCESS,
    RequestContext,
    cut_comment,
    decode,
    offending_tags,
    status_code,
)

if TYPE_CHECKING:
    from dicompile.generated.services.base import Match, Outcome, ServiceFailure, ServiceStatus

log = logging.getLogger("dicompile.net.dispatch")


def find_route(
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
                error_comment=cut_comment(comment),
                offending_element=offending,
            )

        ctx = RequestContext(
            association,
            context,
            request.affected_sop_class_uid,
            request.message_id,
            destinations,
        )
        try:
            identifier = decode(request.data_set, context.transfer_syntax)
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
                status = status_code(match.status)
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
            return final(exc.status, str(exc), offending_tags(exc))
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


def echo_route(
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
                error_comment=cut_comment(comment),
            )

        ctx = RequestContext(
            association,
            context,
            request.affected_sop_class_uid,
            request.message_id,
            destinations,
        )
        try:
            result = method(ctx)
            if not isinstance(result, Awaitable):
                raise TypeError(f"C-ECHO handler returned {result!r}, not an awaitable")
            outcome = cast("Outcome[ServiceStatus]", await result)
            return answer(status_code(outcome.status), outcome.error_comment)
        except failure as exc:
            return answer(exc.status, exc.comment or None)
        except Exception as exc:
            log.exception("%r: C-ECHO handler failed", association)
            return answer(PROCESSING_FAILURE, f"{type(exc).__name__}: {exc}")

    return handle


def store_route(
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
                error_comment=cut_comment(comment),
                offending_element=offending,
            )

        ctx = RequestContext(
            association,
            context,
            request.affected_sop_class_uid,
            request.message_id,
            destinations,
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
            return answer(status_code(outcome.status), outcome.error_comment)
        except failure as exc:
            return answer(exc.status, exc.comment or None)
        except Exception as exc:
            log.exception("%r: C-STORE handler failed", association)
            return answer(PROCESSING_FAILURE, f"{type(exc).__name__}: {exc}")

    return handle


def received_store_route(
    method: Callable[..., object],
    failure: type[ServiceFailure],
    destinations: Mapping[str, tuple[str, int]],
) -> RequestHandler:
    """C-STORE passed through undecoded: ``await method(instance)`` with the
    :class:`~dicompile.runtime.net.services.storage.ReceivedInstance` (the data set's bytes
    as received, in the context's syntax) gives a ``StoreOutcome``.

    For an implementation with a ``receive_instance`` method beside ``handle_store`` (an
    archive writing each instance as a Part 10 file from the received bytes, PS3.10 §7.1):
    the status mapping is :func:`~dicompile.runtime.net.services.storage.storage_handler`'s
    (an ``OSError`` is A700H Out of Resources or 0110H, PS3.4 Table B.2-1).  When the
    implementation is also a
    :class:`~dicompile.runtime.net.services.storage.StreamingStore`, large data sets are
    streamed to their file as they arrive.

    References
    ----------
    PS3.4 B.2.3, B.4.2; PS3.7 §9.1.1.
    """
    from dicompile.runtime.net.services.storage import (
        StoreHandler,
        StreamingStore,
        storage_handler,
    )

    # An implementation that can also take streamed data sets (``open_stream`` and
    # ``publish_stream`` beside ``receive_instance``) gets large ones written as they arrive.
    owner = getattr(method, "__self__", None)
    streaming = owner if isinstance(owner, StreamingStore) else None
    return storage_handler(cast(StoreHandler, method), streaming=streaming)


__all__ = ["echo_route", "find_route", "received_store_route", "store_route"]
