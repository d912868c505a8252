"""Routes of the DIMSE-N services an SCP performs: N-CREATE, N-SET, N-ACTION, N-GET.

The handler gets the SOP Instance UID and the decoded Attribute List, Modification List or
Action Information (N-ACTION also the Action Type ID, N-GET the Attribute Identifier
List); the ``Outcome`` it returns gives the response (PS3.7 §10.1).  A
:class:`~.context.StatusFailure` it raises adds Error ID and Attribute Identifier List to
the failure (PS3.7 C.4, C.5.13).  The data set is decoded as a DIMSE payload
(:func:`~dicompile.runtime.net.services.payload.decode_payload`).  The N-ACTION response
carries the Action Type ID only when successful (PS3.7 §10.1.4.1.3).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Final, cast

from dicompile.runtime.core.values.uid import uid_from_uuid
from dicompile.runtime.errors import DecodeError, QueryError
from dicompile.runtime.net.association import PROCESSING_FAILURE, Association, RequestHandler
from dicompile.runtime.net.dimse import (
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
from dicompile.runtime.net.services.payload import decode_payload
from dicompile.runtime.net.services.routes.context import (
    RequestContext,
    StatusFailure,
    cut_comment,
    offending_tags,
    sop_class_of,
    status_code,
)

if TYPE_CHECKING:
    from dicompile.generated.services.base import Outcome, ServiceFailure, ServiceStatus
    from dicompile.runtime.core.dataset import Dataset

log = logging.getLogger("dicompile.net.dispatch")


def _n_arguments(
    request: Request, data: Dataset | None
) -> tuple[tuple[object, ...], str | None, int | None]:
    """The handler's arguments before the context, the SOP instance, the action type."""
    if isinstance(request, NCreateRQ):
        return (request.affected_sop_instance_uid, data), request.affected_sop_instance_uid, None
    if isinstance(request, NSetRQ):
        if data is None:
            from dicompile.runtime.core.dataset import Dataset

            data = Dataset()
        return (request.requested_sop_instance_uid, data), request.requested_sop_instance_uid, None
    if isinstance(request, NActionRQ):
        instance = request.requested_sop_instance_uid
        return (instance, request.action_type_id, data), instance, request.action_type_id
    assert isinstance(request, NGetRQ)
    tags = tuple(request.attribute_identifier_list or ())
    return (request.requested_sop_instance_uid, tags), request.requested_sop_instance_uid, None


def n_route(
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
        sop_class = sop_class_of(request) or context.abstract_syntax
        syntax = context.transfer_syntax
        cls = _N_RESPONSES[type(request)]

        def answer(
            status: int,
            comment: str | None = None,
            instance: str | None = None,
            data: bytes | None = None,
            offending: tuple[int, ...] | None = None,
            error_id: int | None = None,
            attribute_identifiers: tuple[int, ...] = (),
        ) -> Response:
            fields: dict[str, object] = {
                "message_id_being_responded_to": request.message_id,
                "status": status,
                "affected_sop_class_uid": sop_class,
                "affected_sop_instance_uid": instance,
                "error_comment": cut_comment(comment),
                "offending_element": offending,
                "data_set": data,
                "error_id": error_id,
                "attribute_identifier_list": attribute_identifiers or None,
            }
            if isinstance(request, NActionRQ) and status_category(status) in _SUCCESSFUL:
                # PS3.7 §10.1.4.1.3: in the success response only (Table 10.1-4, C(=)).
                fields["action_type_id"] = request.action_type_id
            return cls(**fields)  # type: ignore[arg-type]

        ctx = RequestContext(association, context, sop_class, request.message_id, destinations)
        raw = getattr(request, "data_set", None)
        try:
            data = decode_payload(raw, syntax) if raw else None
        except DecodeError as exc:
            return answer(PROCESSING_FAILURE, f"undecodable data set: {exc}")
        arguments, instance, _ = _n_arguments(request, data)
        try:
            result = method(*arguments, ctx)
            if not isinstance(result, Awaitable):
                raise TypeError(f"{request.MESSAGE} handler returned {result!r}, not an awaitable")
            outcome = cast("Outcome[ServiceStatus]", await result)
            status = status_code(outcome.status)
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
        except StatusFailure as exc:
            return answer(
                exc.status,
                exc.comment or None,
                instance,
                offending=exc.offending_element or None,
                error_id=exc.error_id,
                attribute_identifiers=exc.attribute_identifier_list,
            )
        except QueryError as exc:
            return answer(exc.status, str(exc), instance, offending=offending_tags(exc))
        except Exception as exc:
            log.exception("%r: %s handler failed", association, request.MESSAGE)
            return answer(PROCESSING_FAILURE, f"{type(exc).__name__}: {exc}", instance)

    return handle


_SUCCESSFUL: Final = frozenset({StatusCategory.SUCCESS, StatusCategory.WARNING})
_N_RESPONSES: Final[Mapping[type[Request], type[Response]]] = {
    NCreateRQ: NCreateRSP,
    NSetRQ: NSetRSP,
    NActionRQ: NActionRSP,
    NGetRQ: NGetRSP,
}


__all__ = ["n_route"]
