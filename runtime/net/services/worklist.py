"""Modality Worklist: C-FIND SCP over the archive's worklist, and the SCU (PS3.4 Annex K).

Theory of operation
-------------------
SCP (:func:`worklist_service`): the Modality Worklist Information Model - FIND SOP Class
(K.6.1.2) answers from an :class:`~dicompile.runtime.archive.worklist.SQLiteWorklist`
kept in the archive folder (``worklist.sqlite``, filled with ``dicompile worklist add``).
Matching and the response Identifiers are the archive's (PS3.4 K.6.1.2, C.2.2.2).  Each
match is one Pending response (FF00H, K.4.1.1.4 / Table K.4-1), then Success; a C-CANCEL-RQ
between two responses ends with FE00H Cancel (PS3.7 §9.1.2.1.5).  A malformed Identifier
gets the failure status the matcher names (A900H Identifier does not match SOP Class,
C000H Unable to process), with the offending key in Error Comment; a store that cannot be
read gets A700H Out of Resources.

SCU (:func:`find_worklist`): one C-FIND with an Identifier; every Pending response's
Identifier is returned in order, with the final status.

:func:`identifier_from_keys` builds an Identifier from ``Keyword=Value`` texts (the CLI's
``-k``), with ``Sequence.Keyword`` reaching into the first item of a sequence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import attrs

from dicompile.runtime.archive.worklist import SQLiteWorklist
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.errors import DecodeError, LocalProtocolError, QueryError
from dicompile.runtime.net.ae import UNCOMPRESSED, SupportedContext
from dicompile.runtime.net.association import Association, RequestHandler
from dicompile.runtime.net.dimse import (
    CFindRQ,
    CFindRSP,
    Priority,
    Request,
    Response,
    StatusCategory,
    status_category,
)
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext
from dicompile.runtime.net.services.payload import decode_payload, encode_payload

log = logging.getLogger("dicompile.net.worklist")

#: Modality Worklist Information Model - FIND (PS3.4 K.6.1.2.2; PS3.6 Annex A).
WORKLIST_FIND: Final = "1.2.840.10008.5.1.4.31"
WORKLIST_SCP_CONTEXT: Final = SupportedContext(WORKLIST_FIND, UNCOMPRESSED, scu=False, scp=True)
WORKLIST_CONTEXT: Final = ProposedContext(WORKLIST_FIND, UNCOMPRESSED)
#: Where the worklist is kept inside an archive folder.
WORKLIST_FILE: Final = "worklist.sqlite"

SUCCESS: Final = 0x0000
PENDING: Final = 0xFF00
CANCEL: Final = 0xFE00
OUT_OF_RESOURCES: Final = 0xA700
UNABLE_TO_PROCESS: Final = 0xC000
SOP_CLASS_NOT_SUPPORTED: Final = 0x0122

#: Return keys asked for when the user gives none: what a modality needs (Table K.6-1).
DEFAULT_KEYS: Final = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
    "RequestedProcedureID",
    "RequestedProcedureDescription",
    "StudyInstanceUID",
    "ScheduledProcedureStepSequence.Modality",
    "ScheduledProcedureStepSequence.ScheduledStationAETitle",
    "ScheduledProcedureStepSequence.ScheduledProcedureStepStartDate",
    "ScheduledProcedureStepSequence.ScheduledProcedureStepStartTime",
    "ScheduledProcedureStepSequence.ScheduledProcedureStepID",
    "ScheduledProcedureStepSequence.ScheduledProcedureStepDescription",
    "ScheduledProcedureStepSequence.ScheduledPerformingPhysicianName",
)


def open_worklist(folder: str | Path) -> SQLiteWorklist:
    """The worklist of an archive folder (created when missing)."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return SQLiteWorklist(path / WORKLIST_FILE)


def identifier_from_keys(keys: Iterable[str]) -> Dataset:
    """An Identifier from ``Keyword[=Value]`` texts; ``Seq.Keyword`` sets a key in the first
    item of sequence ``Seq`` (created when missing).  A key without ``=`` is a return key
    (empty, universal matching, PS3.4 C.2.2.2.3).

    Raises
    ------
    ValueError
        An unknown keyword, or a path that is not ``Keyword`` or ``Sequence.Keyword``.
    """
    identifier = Dataset()
    for text in keys:
        path, _, value = text.partition("=")
        parts = path.strip().split(".")
        if not all(parts) or len(parts) > 2:
            raise ValueError(f"{text!r}: expected Keyword=Value or Sequence.Keyword=Value")
        target = identifier
        if len(parts) == 2:
            try:
                existing = identifier.get_value(parts[0])
                if not isinstance(existing, Sequence) or not existing:
                    identifier.set(parts[0], Sequence([Dataset()]))
                    existing = identifier.get_value(parts[0])
            except KeyError as exc:
                raise ValueError(f"{text!r}: {exc}") from None
            assert isinstance(existing, Sequence)
            target = existing[0]
        try:
            target.set(parts[-1], value or None)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{text!r}: {exc}") from None
    return identifier


# --------------------------------------------------------------------------------------
# SCP
# --------------------------------------------------------------------------------------


def worklist_service(
    folder: str | Path | SQLiteWorklist,
) -> tuple[tuple[SupportedContext, ...], dict[type[Request], RequestHandler]]:
    """The Modality Worklist SCP for an archive folder: the context to accept and the
    C-FIND handler.

    References
    ----------
    PS3.4 K.4.1.2 (SCP behaviour), K.6.1.2; PS3.7 §9.1.2.
    """
    worklist = folder if isinstance(folder, SQLiteWorklist) else open_worklist(folder)

    async def handle_find(
        association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        assert isinstance(request, CFindRQ)

        def final(status: int, comment: str | None = None) -> CFindRSP:
            return CFindRSP(
                message_id_being_responded_to=request.message_id,
                status=status,
                affected_sop_class_uid=request.affected_sop_class_uid,
                error_comment=comment[:64] if comment else None,
            )

        if request.affected_sop_class_uid != context.abstract_syntax:
            return final(SOP_CLASS_NOT_SUPPORTED, "SOP Class differs from the context's")
        try:
            identifier = decode_payload(request.data_set, context.transfer_syntax)
            matches = await asyncio.to_thread(lambda: list(worklist.find(identifier)))
        except QueryError as exc:
            log.info("worklist C-FIND refused: %s", exc)
            return final(exc.status, str(exc))
        except DecodeError as exc:
            return final(UNABLE_TO_PROCESS, f"undecodable Identifier: {exc}")
        except OSError as exc:
            return final(OUT_OF_RESOURCES, exc.strerror or str(exc))
        except Exception as exc:  # sqlite3.Error and the like: the store failed
            log.exception("worklist C-FIND failed")
            return final(UNABLE_TO_PROCESS, type(exc).__name__)
        for match in matches:
            # Let the read task see a C-CANCEL-RQ between two responses (PS3.7 §9.3.2.3):
            # writing a response need not suspend when the socket takes it at once.
            await asyncio.sleep(0)
            if association.cancel_requested(request.message_id):
                return final(CANCEL)
            await association.send_message(
                CFindRSP(
                    message_id_being_responded_to=request.message_id,
                    status=PENDING,
                    affected_sop_class_uid=request.affected_sop_class_uid,
                    data_set=encode_payload(match, context.transfer_syntax),
                ),
                context.context_id,
            )
        if association.cancel_requested(request.message_id):
            return final(CANCEL)
        log.info(
            "worklist C-FIND from %s: %d matches",
            association.negotiated.peer_ae_title,
            len(matches),
        )
        return final(SUCCESS)

    return (WORKLIST_SCP_CONTEXT,), {CFindRQ: handle_find}


# --------------------------------------------------------------------------------------
# SCU
# --------------------------------------------------------------------------------------


@attrs.frozen
class WorklistResult:
    """The matches of one worklist C-FIND and its final status (and comment)."""

    matches: tuple[Dataset, ...] = attrs.field(eq=False)
    status: int
    error_comment: str | None = None

    @property
    def ok(self) -> bool:
        return status_category(self.status) is StatusCategory.SUCCESS


async def find_worklist(
    association: Association,
    identifier: Dataset,
    *,
    priority: Priority = Priority.MEDIUM,
) -> WorklistResult:
    """Query the worklist: every Pending response's Identifier and the final status.

    Raises
    ------
    LocalProtocolError
        No Modality Worklist context accepted.
    AssociationAbortedError
        The association ended before the final response.

    References
    ----------
    PS3.4 K.4.1.3 (SCU behaviour); PS3.7 §9.1.2.
    """
    context = association.negotiated.find(WORKLIST_FIND)
    if context is None:
        raise LocalProtocolError("the peer accepted no Modality Worklist context")
    request = CFindRQ(
        message_id=association.next_message_id(),
        affected_sop_class_uid=WORKLIST_FIND,
        priority=priority,
        data_set=encode_payload(identifier, context.transfer_syntax),
    )
    matches: list[Dataset] = []
    final: Response | None = None
    async for response in association.request_responses(request, context.context_id):
        if status_category(response.status) is StatusCategory.PENDING:
            assert isinstance(response, CFindRSP)
            matches.append(decode_payload(response.data_set, context.transfer_syntax))
        else:
            final = response
    assert final is not None
    return WorklistResult(tuple(matches), final.status, getattr(final, "error_comment", None))


__all__ = [
    "DEFAULT_KEYS",
    "WORKLIST_CONTEXT",
    "WORKLIST_FILE",
    "WORKLIST_FIND",
    "WORKLIST_SCP_CONTEXT",
    "WorklistResult",
    "find_worklist",
    "identifier_from_keys",
    "open_worklist",
    "worklist_service",
]
