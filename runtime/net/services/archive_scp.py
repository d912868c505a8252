"""The built-in archive services as the generated SCP protocols, served by :mod:`.dispatch`.

Thin adapters over the services' rules, so that ``dicompile serve`` answers every request
through the same typed dispatch an application's own handlers go through (MPPS and Storage
Commitment are served by :class:`~.mpps.MPPSService` and
:class:`~.storage_commitment.CommitmentProvider`):

* :class:`ArchiveQueryRetrieve` - ``PatientRootQueryRetrieveSCP`` and
  ``StudyRootQueryRetrieveSCP`` (PS3.4 C.6.1, C.6.2) over a
  :class:`~dicompile.runtime.net.services.query_retrieve.QueryRetrieveSCP`'s archive and
  policy: the identifier checked against the model (A900H with the offending key),
  matching by the archive, the response identifier of the keys asked for, FF00H or FF01H
  when a requested key is not supported (PS3.4 C.4.1.1.3.2, Table C.4-1).
  ``move_instances`` and ``get_instances`` (which the dispatch prefers to the protocol's
  ``handle_move`` and ``handle_get``) yield the stored files a retrieve selects (sent as
  stored, compressed ones too, without holding them in memory) and an ``Unavailable`` for
  a file that cannot be read (a failed sub-operation).
* :class:`ArchiveStorage` - ``StorageSCP``: each instance written from the bytes received
  (the dispatch's pass-through C-STORE route) by the archive's store.
* :class:`ArchiveWorklist` - ``ModalityWorklistSCP`` (PS3.4 K.4.1.2) over an
  :class:`~dicompile.runtime.archive.worklist.SQLiteWorklist`; a store that cannot be read
  is A700H Out of Resources.
* :class:`Verification` - ``VerificationSCP``: Success to every C-ECHO (PS3.4 A.4.2).

:func:`archive_handlers` chains them all, by SOP class, into the handlers of one server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import TYPE_CHECKING

from dicompile.runtime.errors import DecodeError, QueryError
from dicompile.runtime.net.association import RequestHandler
from dicompile.runtime.net.dimse import DataSink, Request
from dicompile.runtime.net.services.query_retrieve import (
    PENDING,
    PENDING_KEYS_UNSUPPORTED,
    SOP_CLASS_MODELS,
    UNABLE_TO_PROCESS,
    IdentifierProblem,
    Level,
    Operation,
    QueryModel,
    QueryRetrieveSCP,
    check_identifier,
    response_identifier,
)
from dicompile.runtime.net.services.storage import (
    Instance,
    ReceivedInstance,
    StoreHandler,
    StoreOutcome,
    StreamingStore,
    probe,
)

if TYPE_CHECKING:
    from dicompile.generated.dimse_commands import StatusCode
    from dicompile.generated.services import basic_worklist_management as mwl
    from dicompile.generated.services import query_retrieve as qr
    from dicompile.generated.services.base import Match, Outcome, ServiceContext
    from dicompile.generated.services.storage import StoreStatus
    from dicompile.runtime.archive.worklist import SQLiteWorklist
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.services.mpps import MPPSProvider
    from dicompile.runtime.net.services.routes.retrieve import Unavailable
    from dicompile.runtime.net.services.storage_commitment import CommitmentProvider

log = logging.getLogger("dicompile.net.archive")

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
    ) -> AsyncIterator[Instance | Unavailable]:
        """The stored files a retrieve selects, sent as stored (compressed ones too) and
        never held in memory; a file that cannot be read is a failed sub-operation."""
        from dicompile.generated.services.base import ServiceFailure
        from dicompile.runtime.net.services.routes.retrieve import Unavailable

        model, level = self._model_level(identifier, context.sop_class_uid, operation)
        try:
            paths = await asyncio.to_thread(self.scp.locate, model, level, identifier)
        except IdentifierProblem as problem:
            raise _query_error(problem) from None
        except QueryError:
            raise
        except Exception as exc:  # the archive failed: say so, never Success
            log.exception("%s query failed", operation.value)
            raise ServiceFailure(UNABLE_TO_PROCESS, str(exc)) from None
        for path in paths:
            try:
                yield await asyncio.to_thread(probe, path)
            except (OSError, DecodeError) as exc:
                log.warning("archive file %s unreadable: %s", path, exc)
                # Listed by its path: no UID can be read from it.
                yield Unavailable(str(path), str(exc))

    def move_instances(
        self, identifier: Dataset, destination: str, context: ServiceContext
    ) -> AsyncIterator[Instance | Unavailable]:
        """The stored files a C-MOVE identifier selects (PS3.4 C.4.2.1.4); the dispatch
        prefers this to :meth:`handle_move`."""
        return self._instances(identifier, context, Operation.MOVE)

    def get_instances(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Instance | Unavailable]:
        """The stored files a C-GET identifier selects (PS3.4 C.4.3.1.3); the dispatch
        prefers this to :meth:`handle_get`."""
        return self._instances(identifier, context, Operation.GET)

    async def _data_sets(
        self, identifier: Dataset, context: ServiceContext, operation: Operation
    ) -> AsyncIterator[Dataset]:
        from dicompile.runtime import read_file
        from dicompile.runtime.net.services.storage import Instance

        async for item in self._instances(identifier, context, operation):
            if isinstance(item, Instance):
                yield (await asyncio.to_thread(read_file, item.path)).dataset

    def handle_move(
        self, identifier: Dataset, destination: str, context: ServiceContext
    ) -> AsyncIterator[Dataset]:
        """The data sets a C-MOVE identifier selects, read whole (the typed protocol)."""
        return self._data_sets(identifier, context, Operation.MOVE)

    def handle_get(self, identifier: Dataset, context: ServiceContext) -> AsyncIterator[Dataset]:
        """The data sets a C-GET identifier selects, read whole (the typed protocol)."""
        return self._data_sets(identifier, context, Operation.GET)


class ArchiveStorage:
    """The ``StorageSCP`` protocol over the archive's store (a
    :class:`~dicompile.runtime.net.services.storage.FileStore` that indexes): each instance
    written as a Part 10 file from the bytes received (:meth:`receive_instance`, which the
    dispatch prefers), fsynced and indexed before Success (PS3.4 B.4.2).

    References
    ----------
    PS3.4 B.2.3, B.4.2; PS3.10 §7.1.
    """

    def __init__(self, store: StoreHandler) -> None:
        self.store = store

    def receive_instance(self, instance: ReceivedInstance) -> Awaitable[StoreOutcome]:
        """Store one received instance undecoded (the pass-through C-STORE route)."""
        return self.store(instance)

    def open_stream(self, instance: ReceivedInstance) -> DataSink | None:
        """The store's sink for a data set streamed to its file, if the store streams
        (:class:`~dicompile.runtime.net.services.storage.StreamingStore`; the pass-through
        route then writes large data sets as they arrive)."""
        if isinstance(self.store, StreamingStore):
            return self.store.open_stream(instance)
        return None

    def publish_stream(self, instance: ReceivedInstance, sink: DataSink) -> Awaitable[StoreOutcome]:
        """Publish a data set :meth:`open_stream`'s sink received (the store's own)."""
        if not isinstance(self.store, StreamingStore):
            sink.discard()
            raise TypeError(f"{self.store!r} takes no streamed data sets")
        return self.store.publish_stream(instance, sink)

    async def handle_store(
        self, data_set: Dataset, context: ServiceContext
    ) -> Outcome[StoreStatus]:
        """Store a decoded data set: encoded again in Explicit VR Little Endian."""
        from dicompile.generated.services.base import Outcome
        from dicompile.runtime.net.services.payload import encode_payload
        from dicompile.runtime.net.services.storage import ReceivedInstance

        syntax = "1.2.840.10008.1.2.1"
        outcome = await self.store(
            ReceivedInstance(
                sop_class_uid=context.sop_class_uid,
                sop_instance_uid=str(data_set.get_value("SOPInstanceUID") or ""),
                transfer_syntax=syntax,
                data_set=encode_payload(data_set, syntax),
                calling_ae_title=context.calling_ae_title,
                called_ae_title=context.called_ae_title,
                message_id=context.message_id,
            )
        )
        return Outcome(outcome.status, error_comment=outcome.error_comment)


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
    *,
    store: StoreHandler | None = None,
    mpps: MPPSProvider | None = None,
    commitment: CommitmentProvider | None = None,
) -> dict[type[Request], RequestHandler]:
    """Every service of the archive through :func:`.dispatch.scp_handlers`, by SOP class:
    Verification, Storage (``store``, every storage SOP class), Q/R C-FIND, C-MOVE and
    C-GET (``qr``; its ``destinations`` for C-MOVE), the worklist's C-FIND, MPPS N-CREATE
    and N-SET, Storage Commitment N-ACTION (its results sent as N-EVENT-REPORT through the
    dispatch's notifier), in front of ``fallback``.

    References
    ----------
    PS3.4 Annexes A, B, C, F.7, J.3, K.
    """
    from dicompile.runtime.net.services.dispatch import scp_handlers
    from dicompile.runtime.net.services.mpps import MPPS_SOP_CLASS, MPPSService
    from dicompile.runtime.net.services.routes.registry import has_protocol
    from dicompile.runtime.net.services.storage import storage_sop_classes
    from dicompile.runtime.net.services.storage_commitment import STORAGE_COMMITMENT
    from dicompile.runtime.net.services.verification import VERIFICATION
    from dicompile.runtime.net.services.worklist import WORKLIST_FIND

    handlers = scp_handlers(Verification(), [VERIFICATION], fallback=fallback)
    if store is not None:
        classes = storage_sop_classes()
        typed = [uid for uid in classes if has_protocol(uid)]
        handlers = scp_handlers(
            ArchiveStorage(store),
            typed,
            fallback=handlers,
            untyped={uid: ("C-STORE",) for uid in classes if uid not in typed},
        )
    if worklist is not None:
        handlers = scp_handlers(ArchiveWorklist(worklist), [WORKLIST_FIND], fallback=handlers)
    if mpps is not None:
        handlers = scp_handlers(MPPSService(mpps), [MPPS_SOP_CLASS], fallback=handlers)
    if commitment is not None:
        handlers = scp_handlers(
            commitment,
            [STORAGE_COMMITMENT],
            fallback=handlers,
            destinations=commitment.peers if commitment.ae is not None else None,
        )
    if qr is not None:
        handlers = scp_handlers(
            ArchiveQueryRetrieve(qr),
            sorted(SOP_CLASS_MODELS),
            fallback=handlers,
            destinations=qr.destinations,
        )
    return handlers


__all__ = [
    "ArchiveQueryRetrieve",
    "ArchiveStorage",
    "ArchiveWorklist",
    "Verification",
    "archive_handlers",
]
