"""The built-in archive services as the generated SCP protocols, served by :mod:`.dispatch`.

Thin adapters over the hand-written services, so that ``dicompile serve`` answers through
the same typed dispatch an application's own handlers go through:

* :class:`ArchiveQueryRetrieve` - ``PatientRootQueryRetrieveSCP`` and
  ``StudyRootQueryRetrieveSCP`` (PS3.4 C.6.1, C.6.2) over a
  :class:`~dicompile.runtime.net.services.query_retrieve.QueryRetrieveSCP`'s archive and
  policy: the identifier checked against the model (A900H with the offending key),
  matching by the archive, the response identifier of the keys asked for, FF00H or FF01H
  when a requested key is not supported (PS3.4 C.4.1.1.3.2, Table C.4-1).
  ``handle_move`` and ``handle_get`` yield the data sets of the instances a retrieve
  selects (the dispatch sends them re-encoded in a native syntax); ``dicompile serve``
  still runs C-MOVE and C-GET through the ``QueryRetrieveSCP``, whose sub-operations send
  the files as stored (compressed ones too) without holding them in memory.
* :class:`ArchiveWorklist` - ``ModalityWorklistSCP`` (PS3.4 K.4.1.2) over an
  :class:`~dicompile.runtime.archive.worklist.SQLiteWorklist`; a store that cannot be read
  is A700H Out of Resources.
* :class:`Verification` - ``VerificationSCP``: Success to every C-ECHO (PS3.4 A.4.2).

:func:`archive_handlers` chains them in front of the other handlers of a server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from dicompile.runtime.errors import QueryError
from dicompile.runtime.net.association import RequestHandler
from dicompile.runtime.net.dimse import Request
from dicompile.runtime.net.services.query_retrieve import (
    PENDING,
    PENDING_KEYS_UNSUPPORTED,
    SOP_CLASS_MODELS,
    IdentifierProblem,
    Level,
    Operation,
    QueryModel,
    QueryRetrieveSCP,
    check_identifier,
    response_identifier,
)

if TYPE_CHECKING:
    from dicompile.generated.dimse_commands import StatusCode
    from dicompile.generated.services import basic_worklist_management as mwl
    from dicompile.generated.services import query_retrieve as qr
    from dicompile.generated.services.base import Match, Outcome, ServiceContext
    from dicompile.runtime.archive.worklist import SQLiteWorklist
    from dicompile.runtime.core.dataset import Dataset

#: A700H Refused: Out of Resources (PS3.4 Table K.4-1).
OUT_OF_RESOURCES = 0xA700


class _IdentifierRefused(QueryError):
    """An IdentifierProblem as the QueryError the dispatch answers: its status, its first
    offending tag as the tag path (Offending Element), its comment alone as Error Comment."""

    def __str__(self) -> str:
        return self.message


def _query_error(problem: IdentifierProblem) -> QueryError:
    tag_path = None
    if problem.offending:
        tag = problem.offending[0]
        tag_path = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return _IdentifierRefused(problem.comment, tag_path=tag_path, status=problem.status)


class ArchiveQueryRetrieve:
    """The archive's Query/Retrieve, as the Patient Root and Study Root SCP protocols.

    References
    ----------
    PS3.4 C.4.1.2, C.4.1.3 (C-FIND SCP), C.4.2, C.4.3 (retrieve), C.6.1, C.6.2.
    """

    def __init__(self, scp: QueryRetrieveSCP) -> None:
        self.scp = scp

    def _model_level(
        self, identifier: Dataset, sop_class_uid: str, operation: Operation
    ) -> tuple[QueryModel, Level]:
        found = SOP_CLASS_MODELS.get(sop_class_uid)
        if found is None or found[1] is not operation:
            raise QueryError(
                f"{sop_class_uid} is not a {operation.value} SOP class here", status=0x0122
            )
        try:
            return found[0], check_identifier(identifier, found[0], relational=self.scp.relational)
        except IdentifierProblem as problem:
            raise _query_error(problem) from None

    async def handle_find(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Match[qr.FindStatus]]:
        """Each match's response identifier, FF00H, or FF01H for unsupported keys."""
        from dicompile.generated.services.base import Match

        model, level = self._model_level(identifier, context.sop_class_uid, Operation.FIND)
        archive = self.scp.archive
        # The query runs in a worker thread: other associations go on meanwhile.
        matches = await asyncio.to_thread(
            archive.find, level, identifier, model, relational=self.scp.relational
        )
        for match in matches:
            answer, supported = response_identifier(
                identifier, match, retrieve_ae_title=context.called_ae_title
            )
            yield Match(answer, PENDING if supported else PENDING_KEYS_UNSUPPORTED)

    async def _instances(
        self, identifier: Dataset, context: ServiceContext, operation: Operation
    ) -> AsyncIterator[Dataset]:
        from dicompile.runtime import read_file

        model, level = self._model_level(identifier, context.sop_class_uid, operation)
        try:
            paths = await asyncio.to_thread(self.scp.locate, model, level, identifier)
        except IdentifierProblem as problem:
            raise _query_error(problem) from None
        for path in paths:
            yield (await asyncio.to_thread(read_file, path)).dataset

    def handle_move(
        self, identifier: Dataset, destination: str, context: ServiceContext
    ) -> AsyncIterator[Dataset]:
        """The instances a C-MOVE identifier selects (PS3.4 C.4.2.1.4)."""
        return self._instances(identifier, context, Operation.MOVE)

    def handle_get(self, identifier: Dataset, context: ServiceContext) -> AsyncIterator[Dataset]:
        """The instances a C-GET identifier selects (PS3.4 C.4.3.1.3)."""
        return self._instances(identifier, context, Operation.GET)


class ArchiveWorklist:
    """The archive's Modality Worklist, as the ``ModalityWorklistSCP`` protocol.

    References
    ----------
    PS3.4 K.4.1.2 (SCP behaviour), K.6.1.2; C.2.2.2 (matching).
    """

    def __init__(self, worklist: SQLiteWorklist) -> None:
        self.worklist = worklist

    async def handle_find(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Match[mwl.FindStatus]]:
        """Each matching Scheduled Procedure Step, FF00H."""
        from dicompile.generated.services.base import Match, ServiceFailure

        try:
            matches = await asyncio.to_thread(lambda: list(self.worklist.find(identifier)))
        except OSError as exc:
            raise ServiceFailure(OUT_OF_RESOURCES, exc.strerror or str(exc)) from None
        for match in matches:
            yield Match(match)


class Verification:
    """The ``VerificationSCP`` protocol: Success to every C-ECHO (PS3.4 A.4.2)."""

    async def handle_echo(self, context: ServiceContext) -> Outcome[StatusCode]:
        from dicompile.generated.dimse_commands import StatusCode
        from dicompile.generated.services.base import Outcome

        return Outcome(StatusCode.SUCCESS)


def archive_handlers(
    qr: QueryRetrieveSCP | None,
    worklist: SQLiteWorklist | None,
    fallback: Mapping[type[Request], RequestHandler],
) -> dict[type[Request], RequestHandler]:
    """Verification, Q/R C-FIND and worklist C-FIND through :func:`.dispatch.scp_handlers`,
    in front of ``fallback`` (storage, C-MOVE, C-GET, MPPS, ...)."""
    from dicompile.runtime.net.services.dispatch import scp_handlers
    from dicompile.runtime.net.services.query_retrieve import PATIENT_ROOT_FIND, STUDY_ROOT_FIND
    from dicompile.runtime.net.services.verification import VERIFICATION
    from dicompile.runtime.net.services.worklist import WORKLIST_FIND

    handlers = scp_handlers(Verification(), [VERIFICATION], fallback=fallback)
    if worklist is not None:
        handlers = scp_handlers(ArchiveWorklist(worklist), [WORKLIST_FIND], fallback=handlers)
    if qr is not None:
        handlers = scp_handlers(
            ArchiveQueryRetrieve(qr), [PATIENT_ROOT_FIND, STUDY_ROOT_FIND], fallback=handlers
        )
    return handlers


__all__ = [
    "ArchiveQueryRetrieve",
    "ArchiveWorklist",
    "Verification",
    "archive_handlers",
]
