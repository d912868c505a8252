"""What a typed handler is told of its request, and what every route shares.

:class:`RequestContext` is the runtime's ``ServiceContext`` (generated/services/base.py):
SOP class, AE titles, Message ID, and whether the peer cancelled.  The helpers here turn a
handler's status (a generated ``ServiceStatus`` member or an int) into a code, cut Error
Comment to its VR, find the Offending Element of a
:class:`~dicompile.runtime.errors.QueryError`, and decode a request's data set.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, TypeAlias

import attrs

from dicompile.runtime.errors import DicomError, QueryError
from dicompile.runtime.net.association import Association, RequestHandler
from dicompile.runtime.net.negotiation import AcceptedContext

if TYPE_CHECKING:
    from dicompile.generated.services.base import ServiceFailure
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.services.routes.events import EventNotifier

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
COMMENT_LENGTH: Final = 64


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
    #: AE title -> (host, port): C-MOVE destinations, and where N-EVENT-REPORTs go when
    #: the requestor's association is gone (``scp_handlers(destinations=...)``).
    destinations: Mapping[str, tuple[str, int]] = attrs.field(factory=dict, repr=False)

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

    def notifier(self) -> EventNotifier:
        """Sends N-EVENT-REPORTs of this SOP class to the requestor, as its SCP: on this
        association while established, else on a new one (a generated ``...Notifier``).

        References
        ----------
        PS3.7 §10.1.1; PS3.4 J.3.3.1.2 (Storage Commitment results).
        """
        from dicompile.runtime.net.services.routes.events import EventNotifier

        return EventNotifier(
            self.association.ae,
            self.calling_ae_title,
            self.sop_class_uid,
            self.destinations,
            association=self.association,
        )


class StatusFailure(DicomError):
    """Raised by a handler: the final status with the PS3.7 Annex C fields a generated
    ``ServiceFailure`` cannot carry -- Error ID (0000,0903), Attribute Identifier List
    (0000,1005), Offending Element (0000,0901).

    References
    ----------
    PS3.7 C.4 (Error Comment, Error ID), C.5.13-C.5.14 (Attribute Identifier List).
    """

    def __init__(
        self,
        status: int,
        comment: str = "",
        *,
        error_id: int | None = None,
        attribute_identifier_list: tuple[int, ...] = (),
        offending_element: tuple[int, ...] = (),
    ) -> None:
        super().__init__(f"status {status:04X}H{': ' + comment if comment else ''}")
        self.status = status
        self.comment = comment
        self.error_id = error_id
        self.attribute_identifier_list = attribute_identifier_list
        self.offending_element = offending_element


#: Builds the handler of one DIMSE service for one implementation method.
#: Its arguments: the method, the failure exception class, the C-MOVE destinations.
Route: TypeAlias = Callable[
    [Callable[..., object], "type[ServiceFailure]", Mapping[str, tuple[str, int]]], RequestHandler
]


def cut_comment(text: str | None) -> str | None:
    """Error Comment (0000,0902): at most 64 characters, None when empty."""
    return text[:COMMENT_LENGTH] if text else None


def status_code(status: object) -> int:
    """The integer of a status: a generated ``ServiceStatus`` member or an int."""
    if isinstance(status, int):
        return status
    code = getattr(status, "code", None)
    if not isinstance(code, int):
        raise TypeError(f"{status!r} is no status code")
    return code


def offending_tags(error: QueryError) -> tuple[int, ...] | None:
    """The first tag of a QueryError's tag path ``(gggg,eeee)...``, as Offending Element."""
    path = error.tag_path or ""
    if len(path) >= 11 and path[0] == "(" and path[10] == ")":
        with contextlib.suppress(ValueError):
            return (int(path[1:5] + path[6:10], 16),)
    return None


def decode(data: bytes | None, syntax: str) -> Dataset:
    """A request's identifier or data set, decoded strictly (an empty one when absent)."""
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.services.query_retrieve import decode_identifier

    return decode_identifier(data, syntax) if data else Dataset()


def sop_class_of(request: object) -> str | None:
    """The Affected (DIMSE-C, N-CREATE) or Requested (other DIMSE-N) SOP Class UID."""
    for name in ("affected_sop_class_uid", "requested_sop_class_uid"):
        value = getattr(request, name, None)
        if isinstance(value, str):
            return value
    return None


__all__ = [
    "CANCEL",
    "COMMENT_LENGTH",
    "MOVE_DESTINATION_UNKNOWN",
    "PENDING",
    "SOP_CLASS_NOT_SUPPORTED",
    "SUBOPERATIONS_FAILED",
    "SUBOPERATIONS_WARNING",
    "SUCCESS",
    "UNABLE_TO_PROCESS",
    "RequestContext",
    "Route",
    "StatusFailure",
    "cut_comment",
    "decode",
    "offending_tags",
    "sop_class_of",
    "status_code",
]
