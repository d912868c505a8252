"""Routes of C-MOVE and C-GET: the handler yields the instances, the runtime sends them.

The handler yields what to send: a data set (sent encoded in an accepted native syntax),
an :class:`~dicompile.runtime.net.services.storage.Instance` (a stored file, sent as
stored without holding it in memory, transcoded only when its syntax was not accepted), or
:class:`Unavailable` (a selected instance that cannot be sent: a failed sub-operation).
Everything is collected first (each Pending response carries the Remaining count), then
each is sent with C-STORE -- on this association for C-GET, where the SCU granted us the
SCU role (PS3.7 D.3.3.4), on a new association to the Move Destination for C-MOVE, with
the Move Originator AE title and Message ID -- and a Pending response follows each
sub-operation but the last (PS3.4 C.4.2.1.6-9, C.4.3.1.5-8).

The Move Destination is checked once the handler produced its first item (or ended):
an identifier the handler refuses is answered with the handler's status even when the
destination is unknown too; an unknown destination is A801H before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from dicompile.runtime.errors import DecodeError, QueryError
from dicompile.runtime.net.association import Association, RequestHandler, associate
from dicompile.runtime.net.dimse import (
    CGetRQ,
    CMoveRQ,
    CStoreRQ,
    Request,
    Response,
    StatusCategory,
    status_category,
)
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext
from dicompile.runtime.net.services.routes.context import (
    CANCEL,
    MOVE_DESTINATION_UNKNOWN,
    PENDING,
    SUBOPERATIONS_FAILED,
    SUBOPERATIONS_WARNING,
    SUCCESS,
    UNABLE_TO_PROCESS,
    RequestContext,
    cut_comment,
    decode,
    offending_tags,
)

if TYPE_CHECKING:
    from dicompile.generated.services.base import ServiceFailure
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.services.storage import Instance

log = logging.getLogger("dicompile.net.dispatch")


@attrs.frozen
class Unavailable:
    """A selected instance the handler cannot send (its file is unreadable, ...): a failed
    sub-operation, listed in Failed SOP Instance UID List (0008,0058), never sent.

    References
    ----------
    PS3.4 C.4.2.1.8, C.4.3.1.7 (failed sub-operations).
    """

    sop_instance_uid: str
    reason: str = ""


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


def _uid_of(item: Dataset | Instance) -> str:
    from dicompile.runtime.net.services.storage import Instance

    if isinstance(item, Instance):
        return item.sop_instance_uid
    return str(item.get_value("SOPInstanceUID") or "")


def _proposals(items: list[Dataset | Instance]) -> list[ProposedContext]:
    """C-MOVE sub-association contexts: a file's own syntax and the uncompressed ones
    (:func:`~dicompile.runtime.net.services.storage.plan_contexts`), the uncompressed ones
    for a data set; at most 128 (PS3.8 §9.3.2.2)."""
    from dicompile.runtime.net.ae import UNCOMPRESSED
    from dicompile.runtime.net.services.storage import Instance, plan_contexts

    files = [item for item in items if isinstance(item, Instance)]
    proposed = plan_contexts(files)
    planned = {context.abstract_syntax for context in proposed}
    classes = {
        str(item.get_value("SOPClassUID") or "") for item in items if not isinstance(item, Instance)
    }
    for uid in sorted(classes - planned - {""}):
        proposed.append(ProposedContext(uid, UNCOMPRESSED))
    return proposed[:128]


async def _send(
    target: Association, item: Dataset | Instance, originator: tuple[str, int] | None
) -> int | None:
    """C-STORE one item on ``target``: the status, or None when it could not be sent.

    A file goes as stored, in its own syntax when accepted, else transcoded to an
    uncompressed one (:func:`~dicompile.runtime.net.services.storage.store_instance`);
    a data set is encoded in an accepted native syntax.
    """
    from dicompile.runtime.net.services.storage import Instance, store_instance

    if isinstance(item, Instance):
        result = await store_instance(target, item, move_originator=originator)
        if result.status is None:
            log.info("sub-operation for %s failed: %s", item.sop_instance_uid, result.error)
        return result.status
    return await _store(target, item, originator)


async def _store(
    target: Association, data_set: Dataset, originator: tuple[str, int] | None
) -> int | None:
    """C-STORE one data set on ``target``: the status, or None when it could not be sent."""
    from dicompile.runtime.net.services.payload import encode_payload

    sop_class = str(data_set.get_value("SOPClassUID") or "")
    uid = str(data_set.get_value("SOPInstanceUID") or "")
    context = _native_context(target, sop_class) if sop_class and uid else None
    if context is None:
        log.info("no storage context for %s (%s): sub-operation failed", uid, sop_class)
        return None
    request = CStoreRQ(
        message_id=target.next_message_id(),
        affected_sop_class_uid=sop_class,
        affected_sop_instance_uid=uid,
        move_originator_application_entity_title=originator[0] if originator else None,
        move_originator_message_id=originator[1] if originator else None,
        data_set=encode_payload(data_set, context.transfer_syntax),
    )
    response = await target.request(request, context.context_id)
    return response.status


def retrieve_route(
    method: Callable[..., object],
    failure: type[ServiceFailure],
    destinations: Mapping[str, tuple[str, int]],
) -> RequestHandler:
    """C-GET and C-MOVE: the handler yields what to send (see the module text); the runtime
    sends it, a Pending response with the counts after each sub-operation, then the final
    response: 0000H, B000H when some failed or warned, A702H when all failed, with the
    Failed SOP Instance UID List (0008,0058); C-CANCEL gives FE00H with the counts.

    References
    ----------
    PS3.4 C.4.2.2-C.4.2.3, C.4.3.2-C.4.3.3; PS3.7 §9.1.3, §9.1.4, D.3.3.4.
    """

    async def handle(
        association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        from dicompile.runtime.net.dimse import CGetRSP, CMoveRSP

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
            if tally is not None and tally.failed_uids and status != PENDING:
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
                error_comment=cut_comment(comment),
                offending_element=offending,
                data_set=data,
            )

        def final(tally: _Tally) -> Response:
            if not tally.failed_uids and not tally.warning:
                return answer(SUCCESS, tally)
            if not tally.completed and not tally.warning:
                return answer(SUBOPERATIONS_FAILED, tally)
            return answer(SUBOPERATIONS_WARNING, tally)

        ctx = RequestContext(
            association,
            context,
            request.affected_sop_class_uid,
            request.message_id,
            destinations,
        )
        try:
            identifier = decode(request.data_set, syntax)
        except DecodeError as exc:
            return answer(UNABLE_TO_PROCESS, None, f"undecodable identifier: {exc}")
        destination = request.move_destination.strip() if isinstance(request, CMoveRQ) else ""
        arguments = (
            (identifier, destination, ctx) if isinstance(request, CMoveRQ) else (identifier, ctx)
        )
        # Every item first: the Pending responses carry the Remaining count.
        items: list[Dataset | Instance] = []
        unavailable: list[str] = []
        returned = method(*arguments)
        try:
            if not isinstance(returned, AsyncIterator):
                raise TypeError(f"{request.MESSAGE} handler returned {returned!r}")
            checked = not isinstance(request, CMoveRQ)
            while True:
                try:
                    item = await anext(returned)
                except StopAsyncIteration:
                    item = None
                if not checked:
                    checked = True
                    if destination not in destinations:
                        return answer(
                            MOVE_DESTINATION_UNKNOWN,
                            None,
                            f"unknown Move Destination {destination!r}",
                        )
                if item is None:
                    break
                if isinstance(item, Unavailable):
                    unavailable.append(item.sop_instance_uid)
                else:
                    items.append(item)
                if ctx.cancelled:
                    return answer(CANCEL, _Tally(0))
        except failure as exc:
            return answer(exc.status, None, exc.comment or None)
        except QueryError as exc:
            return answer(exc.status, None, str(exc), offending_tags(exc))
        except Exception as exc:
            log.exception("%r: %s handler failed", association, request.MESSAGE)
            return answer(UNABLE_TO_PROCESS, None, f"{type(exc).__name__}: {exc}")
        finally:
            aclose = getattr(returned, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        tally = _Tally(len(items), failed_uids=list(unavailable))
        if not items:
            return final(tally)
        target = association
        if isinstance(request, CMoveRQ):
            host, port = destinations[destination]
            try:
                target = await associate(
                    association.ae,
                    host,
                    port,
                    called_ae_title=destination,
                    contexts=_proposals(items),
                )
            except Exception as exc:
                log.warning("C-MOVE to %s at %s:%d: %s", destination, host, port, exc)
                tally.failed_uids = [_uid_of(item) for item in items] + unavailable
                tally.remaining = 0
                return answer(
                    SUBOPERATIONS_FAILED, tally, f"cannot associate with {destination}: {exc}"
                )
        originator = (
            (ctx.calling_ae_title, request.message_id) if target is not association else None
        )
        try:
            for item in items:
                if ctx.cancelled:
                    return answer(CANCEL, tally)
                tally.remaining -= 1
                try:
                    status = await _send(target, item, originator)
                except Exception as exc:  # the sub-operation failed, not the retrieve
                    log.info("sub-operation failed: %s", exc)
                    status = None
                category = status_category(status) if status is not None else None
                if category is StatusCategory.SUCCESS:
                    tally.completed += 1
                elif category is StatusCategory.WARNING:
                    tally.warning += 1
                else:
                    tally.failed_uids.append(_uid_of(item))
                if tally.remaining:
                    await association.send_message(answer(PENDING, tally), context.context_id)
                    await asyncio.sleep(0)
        finally:
            if target is not association:
                if target.is_established:
                    await target.release()
                else:
                    await target.wait_ended()
        return final(tally)

    return handle


__all__ = ["Unavailable", "retrieve_route"]
