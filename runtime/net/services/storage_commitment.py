"""Storage Commitment Push Model: N-ACTION and N-EVENT-REPORT, SCP and SCU (PS3.4 J.3).

Theory of operation
-------------------
SCP (:func:`storage_commitment_service`: :class:`CommitmentProvider` as the generated
``StorageCommitmentPushModelSCP`` protocol, served by the typed dispatch):

* N-ACTION-RQ (J.3.2.1.3) on the well-known SOP Instance 1.2.840.10008.1.20.1.1 (J.3.5;
  another instance gets 0112H No Such SOP Instance, PS3.7 C.5.19), Action Type ID 1 (else
  0123H No Such Action Type, C.5.24).  The Action Information must hold a Transaction UID
  (0008,1195) and a Referenced SOP Sequence (0008,1199) whose items each have a Referenced
  SOP Class and Instance UID (Table J.3-1, all Type 1): absent ones get 0120H Missing
  Attribute, empty ones 0121H Missing Attribute Value, and the request is not processed.
  Otherwise the request is recorded in the archive's
  :class:`~dicompile.runtime.archive.procedure_steps.ProcedureStepStore` and Success is
  answered: it only means "received" (J.3.2.1.3).
* Right after the response, a task decides for each reference whether we keep the instance:
  the :data:`InstanceLookup` gives the SOP Class UID stored for a SOP Instance UID.  Not
  found: Failure Reason 0112H (No such object instance); stored under another class: 0119H
  (Class / Instance conflict); a Transaction UID seen before: every reference fails with
  0131H (Duplicate transaction UID) (PS3.3 C.14.1.1).  Event Type ID 1 when all succeeded,
  2 otherwise, with the Referenced SOP Sequence of the committed ones (Type 1C: only when
  there are some) and the Failed SOP Sequence (J.3.3.1.2, Table J.3-2); Retrieve AE Title
  (0008,0054) is our AE title, outside the sequence, when some were committed.
* The N-EVENT-REPORT-RQ goes, through the dispatch's
  :class:`~dicompile.runtime.net.services.routes.events.EventNotifier`, on the same
  association while it is established; else (the SCU released, or the report failed) on a
  new association to the requestor's address,
  found by its AE title in ``peers`` (``--peer AET@HOST:PORT``), as the same AE title,
  proposing the SCP role by SCP/SCU Role Selection (J.3.3.1.2; PS3.7 D.3.3.4).  A result
  that could not be delivered stays "unreported" in the store.

SCU (:func:`request_commitment`, :class:`CommitmentWaiter`, :func:`commitment_listener`):
the N-ACTION with a new Transaction UID, then the N-EVENT-REPORT awaited either on the
same association (it must be served meanwhile: :meth:`CommitmentWaiter.handler`) or on an
association the SCP opens to us (:func:`commitment_listener` serves them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeAlias

import attrs

from dicompile.runtime.archive.index import InstanceIndex
from dicompile.runtime.archive.levels import QueryLevel
from dicompile.runtime.archive.procedure_steps import ProcedureStepStore
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence as DicomSequence
from dicompile.runtime.core.values.uid import uid_from_uuid
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DecodeError, LocalProtocolError, NetworkError
from dicompile.runtime.net.ae import UNCOMPRESSED, ApplicationEntity, SupportedContext
from dicompile.runtime.net.association import Association, RequestHandler
from dicompile.runtime.net.dimse import (
    NActionRQ,
    NActionRSP,
    NEventReportRQ,
    NEventReportRSP,
    Request,
    Response,
)
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext

if TYPE_CHECKING:
    from dicompile.generated.dimse_commands import StatusCode
    from dicompile.generated.services.base import Outcome as GeneratedOutcome
    from dicompile.generated.services.base import ServiceContext
    from dicompile.runtime.net.services.routes.events import EventNotifier
from dicompile.runtime.net.services.payload import decode_payload, encode_payload
from dicompile.runtime.net.services.storage import probe, safe_file_stem

log = logging.getLogger("dicompile.net.commitment")

#: Storage Commitment Push Model SOP Class and its well-known instance (PS3.4 J.3.4, J.3.5).
STORAGE_COMMITMENT: Final = "1.2.840.10008.1.20.1"
STORAGE_COMMITMENT_INSTANCE: Final = "1.2.840.10008.1.20.1.1"
#: Action Type ID "Request Storage Commitment" (Table J.3-1).
REQUEST_STORAGE_COMMITMENT: Final = 1
#: Event Type IDs (Table J.3-2).
EVENT_SUCCESSFUL: Final = 1
EVENT_FAILURES_EXIST: Final = 2

TRANSACTION_UID: Final = 0x00081195
REFERENCED_SOP_SEQUENCE: Final = 0x00081199
FAILED_SOP_SEQUENCE: Final = 0x00081198
REFERENCED_SOP_CLASS_UID: Final = 0x00081150
REFERENCED_SOP_INSTANCE_UID: Final = 0x00081155
FAILURE_REASON: Final = 0x00081197
RETRIEVE_AE_TITLE: Final = 0x00080054

# Failure Reason (0008,1197) values (PS3.3 C.14.1.1).
PROCESSING_FAILURE_REASON: Final = 0x0110
NO_SUCH_OBJECT_INSTANCE: Final = 0x0112
CLASS_INSTANCE_CONFLICT: Final = 0x0119
DUPLICATE_TRANSACTION_UID: Final = 0x0131

# N-ACTION statuses (PS3.7 Annex C).
SUCCESS: Final = 0x0000
NO_SUCH_SOP_INSTANCE: Final = 0x0112
MISSING_ATTRIBUTE: Final = 0x0120
MISSING_ATTRIBUTE_VALUE: Final = 0x0121
SOP_CLASS_NOT_SUPPORTED: Final = 0x0122
NO_SUCH_ACTION_TYPE: Final = 0x0123
PROCESSING_FAILURE: Final = 0x0110

#: SCP side: accepted as SCP (an SCU proposing it), and as SCU (our own reports' peers).
COMMITMENT_SCP_CONTEXT: Final = SupportedContext(STORAGE_COMMITMENT, UNCOMPRESSED)
#: SCU side: what ``dicompile commit`` proposes, and accepts when listening for reports.
COMMITMENT_CONTEXT: Final = ProposedContext(STORAGE_COMMITMENT, UNCOMPRESSED)
COMMITMENT_LISTENER_CONTEXT: Final = SupportedContext(
    STORAGE_COMMITMENT, UNCOMPRESSED, scu=True, scp=False
)

InstanceLookup: TypeAlias = Callable[[str], str | None]
"""SOP Instance UID -> the SOP Class UID it is kept under, or None when it is not kept."""


@attrs.frozen
class Reference:
    """One SOP Instance named in a commitment request or result."""

    sop_class_uid: str
    sop_instance_uid: str
    failure_reason: int | None = None


@attrs.frozen
class CommitmentResult:
    """A Storage Commitment Result (N-EVENT-REPORT, Table J.3-2)."""

    transaction_uid: str
    event_type_id: int
    committed: tuple[Reference, ...]
    failed: tuple[Reference, ...]
    #: Where the committed instances can be retrieved from (0008,0054), when told.
    retrieve_ae_title: str | None = None

    @property
    def all_committed(self) -> bool:
        return self.event_type_id == EVENT_SUCCESSFUL and not self.failed


def folder_lookup(folder: str | Path) -> InstanceLookup:
    """An :data:`InstanceLookup` over the Part 10 files a ``FileStore`` wrote in ``folder``.

    A file is named after its SOP Instance UID (``<uid>.dcm``, see
    :func:`~dicompile.runtime.net.services.storage.safe_file_stem`); its File Meta
    Information gives the class.  Another file with the same stem (``<uid>.1.dcm``) counts
    too.
    """
    base = Path(folder)

    def lookup(sop_instance_uid: str) -> str | None:
        stem = safe_file_stem(sop_instance_uid)
        for path in (base / f"{stem}.dcm", *sorted(base.glob(f"{stem}.*.dcm"))):
            if not path.is_file():
                continue
            try:
                instance = probe(path)
            except (OSError, DecodeError):
                continue
            if instance.sop_instance_uid == sop_instance_uid:
                return instance.sop_class_uid
        return None

    return lookup


def index_lookup(index: InstanceIndex) -> InstanceLookup:
    """An :data:`InstanceLookup` over the archive's instance index: the file the index
    holds for the SOP Instance UID, whose File Meta Information gives the class (the file
    must still be there: committing to an instance means keeping it, J.3.3.1.2)."""

    def lookup(sop_instance_uid: str) -> str | None:
        for path in index.instances(QueryLevel.IMAGE, [sop_instance_uid]):
            try:
                instance = probe(path)
            except (OSError, DecodeError):
                continue
            if instance.sop_instance_uid == sop_instance_uid:
                return instance.sop_class_uid
        return None

    return lookup


# --------------------------------------------------------------------------------------
# Data sets of Tables J.3-1 and J.3-2
# --------------------------------------------------------------------------------------


def _item(reference: Reference) -> Dataset:
    item = Dataset()
    item.add(DataElement(REFERENCED_SOP_CLASS_UID, VR.UI, reference.sop_class_uid))
    item.add(DataElement(REFERENCED_SOP_INSTANCE_UID, VR.UI, reference.sop_instance_uid))
    if reference.failure_reason is not None:
        item.add(DataElement(FAILURE_REASON, VR.US, reference.failure_reason))
    return item


def action_information(transaction_uid: str, references: Sequence[Reference]) -> Dataset:
    """The Action Information of a Storage Commitment Request (Table J.3-1)."""
    dataset = Dataset()
    dataset.add(DataElement(TRANSACTION_UID, VR.UI, transaction_uid))
    dataset.add(
        DataElement(REFERENCED_SOP_SEQUENCE, VR.SQ, DicomSequence([_item(r) for r in references]))
    )
    return dataset


def event_information(result: CommitmentResult) -> Dataset:
    """The Event Information of a Storage Commitment Result (Table J.3-2)."""
    dataset = Dataset()
    dataset.add(DataElement(TRANSACTION_UID, VR.UI, result.transaction_uid))
    if result.retrieve_ae_title and result.committed:
        # Outside the sequence: it applies to every committed instance (J.3.3.1.1).
        dataset.add(DataElement(RETRIEVE_AE_TITLE, VR.AE, result.retrieve_ae_title))
    if result.committed:  # Type 1C in event 2: only when some succeeded
        dataset.add(
            DataElement(
                REFERENCED_SOP_SEQUENCE,
                VR.SQ,
                DicomSequence([_item(r) for r in result.committed]),
            )
        )
    if result.failed:
        dataset.add(
            DataElement(
                FAILED_SOP_SEQUENCE, VR.SQ, DicomSequence([_item(r) for r in result.failed])
            )
        )
    return dataset


def _text(dataset: Dataset, tag: int) -> str | None:
    value = dataset.get_value(tag)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _references(dataset: Dataset, tag: int, *, with_reason: bool) -> list[Reference]:
    value = dataset.get_value(tag)
    references: list[Reference] = []
    if not isinstance(value, list):
        return references
    for item in value:
        reason = item.get_value(FAILURE_REASON) if with_reason else None
        references.append(
            Reference(
                _text(item, REFERENCED_SOP_CLASS_UID) or "",
                _text(item, REFERENCED_SOP_INSTANCE_UID) or "",
                reason if isinstance(reason, int) else None,
            )
        )
    return references


def parse_result(event_type_id: int, dataset: Dataset) -> CommitmentResult:
    """A :class:`CommitmentResult` from a received N-EVENT-REPORT's Event Information."""
    return CommitmentResult(
        _text(dataset, TRANSACTION_UID) or "",
        event_type_id,
        tuple(_references(dataset, REFERENCED_SOP_SEQUENCE, with_reason=False)),
        tuple(_references(dataset, FAILED_SOP_SEQUENCE, with_reason=True)),
        _text(dataset, RETRIEVE_AE_TITLE),
    )


@attrs.frozen
class RequestProblem:
    """Why an N-ACTION is refused (status, comment, tags for Attribute Identifier List)."""

    status: int
    comment: str
    tags: tuple[int, ...] = ()


def check_request(dataset: Dataset) -> RequestProblem | None:
    """The Type 1 checks of Table J.3-1 on a request's Action Information.

    References
    ----------
    PS3.4 Table J.3-1; PS3.7 C.5.13 (0120H), C.5.14 (0121H).
    """
    absent = [tag for tag in (TRANSACTION_UID, REFERENCED_SOP_SEQUENCE) if tag not in dataset]
    if absent:
        return RequestProblem(
            MISSING_ATTRIBUTE, "Table J.3-1 Type 1 attribute absent", tuple(absent)
        )
    empty: list[int] = []
    if _text(dataset, TRANSACTION_UID) is None:
        empty.append(TRANSACTION_UID)
    items = dataset.get_value(REFERENCED_SOP_SEQUENCE)
    if not isinstance(items, list) or not items:
        empty.append(REFERENCED_SOP_SEQUENCE)
    else:
        for item in items:
            for tag in (REFERENCED_SOP_CLASS_UID, REFERENCED_SOP_INSTANCE_UID):
                if tag not in item:
                    return RequestProblem(
                        MISSING_ATTRIBUTE, "Referenced SOP Sequence item incomplete", (tag,)
                    )
                if _text(item, tag) is None and tag not in empty:
                    empty.append(tag)
    if empty:
        return RequestProblem(
            MISSING_ATTRIBUTE_VALUE, "Table J.3-1 Type 1 value empty", tuple(empty)
        )
    return None


def assess(
    transaction_uid: str,
    references: Sequence[Reference],
    lookup: InstanceLookup,
    *,
    duplicate: bool = False,
) -> CommitmentResult:
    """Decide which referenced instances we commit to (see the module text).

    References
    ----------
    PS3.4 J.3.3.1.2; PS3.3 C.14.1.1 (Failure Reason).
    """
    committed: list[Reference] = []
    failed: list[Reference] = []
    seen: set[str] = set()
    for reference in references:
        if duplicate:
            failed.append(attrs.evolve(reference, failure_reason=DUPLICATE_TRANSACTION_UID))
            continue
        if reference.sop_instance_uid in seen:
            # J.3.2.1.1: an instance may be referenced only once; answer each item anyway.
            log.warning("%s referenced twice in %s", reference.sop_instance_uid, transaction_uid)
        seen.add(reference.sop_instance_uid)
        try:
            kept = lookup(reference.sop_instance_uid)
        except Exception:
            log.exception("lookup of %s failed", reference.sop_instance_uid)
            failed.append(attrs.evolve(reference, failure_reason=PROCESSING_FAILURE_REASON))
            continue
        if kept is None:
            failed.append(attrs.evolve(reference, failure_reason=NO_SUCH_OBJECT_INSTANCE))
        elif kept != reference.sop_class_uid:
            failed.append(attrs.evolve(reference, failure_reason=CLASS_INSTANCE_CONFLICT))
        else:
            committed.append(reference)
    event = EVENT_FAILURES_EXIST if failed else EVENT_SUCCESSFUL
    return CommitmentResult(transaction_uid, event, tuple(committed), tuple(failed))


# --------------------------------------------------------------------------------------
# SCP
# --------------------------------------------------------------------------------------


def parse_peer(text: str) -> tuple[str, str, int]:
    """``AET@HOST:PORT`` -> (AE title, host, port).

    Raises
    ------
    ValueError
        Not of that form.
    """
    title, at, address = text.partition("@")
    host, colon, port = address.rpartition(":")
    if not (at and colon and title and host and port.isdigit()):
        raise ValueError(f"{text!r}: expected AET@HOST:PORT")
    return title, host.strip("[]"), int(port)


async def send_result(
    association: Association, context: AcceptedContext, result: CommitmentResult
) -> int:
    """Send one N-EVENT-REPORT-RQ with ``result``; return the response's status.

    References
    ----------
    PS3.4 J.3.3; PS3.7 §10.1.1.
    """
    response = await association.request(
        NEventReportRQ(
            message_id=association.next_message_id(),
            affected_sop_class_uid=STORAGE_COMMITMENT,
            affected_sop_instance_uid=STORAGE_COMMITMENT_INSTANCE,
            event_type_id=result.event_type_id,
            data_set=encode_payload(event_information(result), context.transfer_syntax),
        ),
        context.context_id,
    )
    return response.status


class CommitmentProvider:
    """The SCP: records requests, assesses them, reports results (see the module text).

    Parameters
    ----------
    store
        Where requests and results are kept.
    lookup
        Which instances the archive keeps.
    ae
        Our AE, used to open report associations (same AE title, J.3.3.1.2).
    peers
        Requestor addresses by AE title, for reports on a new association.
    """

    def __init__(
        self,
        store: ProcedureStepStore,
        lookup: InstanceLookup,
        ae: ApplicationEntity | None = None,
        peers: Mapping[str, tuple[str, int]] | None = None,
    ) -> None:
        self.store = store
        self.lookup = lookup
        self.ae = ae
        self.peers = dict(peers or {})
        self.tasks: set[asyncio.Task[None]] = set()

    def _with_retrieve(self, result: CommitmentResult) -> CommitmentResult:
        # We keep what we commit to: the committed instances are retrievable from our AE.
        if self.ae is None or not result.committed:
            return result
        return attrs.evolve(result, retrieve_ae_title=self.ae.ae_title)

    def notifier(self, requestor: str, association: Association | None = None) -> EventNotifier:
        """The dispatch's N-EVENT-REPORT sender to ``requestor``: on ``association`` while
        established, else on a new one to its ``peers`` address (none without ``ae``)."""
        from dicompile.runtime.net.services.routes.events import EventNotifier

        if self.ae is None and association is None:
            raise LocalProtocolError("no AE to report storage commitment results with")
        ae = self.ae if self.ae is not None else association.ae  # type: ignore[union-attr]
        peers = self.peers if self.ae is not None else {}
        return EventNotifier(ae, requestor, STORAGE_COMMITMENT, peers, association=association)

    async def report(self, notifier: EventNotifier, result: CommitmentResult) -> bool:
        """Deliver ``result`` with ``notifier`` (the request's association while established,
        else a new one, PS3.4 J.3.3.1.2).  Returns whether the requestor answered the
        N-EVENT-REPORT.
        """
        try:
            outcome = await notifier.n_event_report(
                STORAGE_COMMITMENT_INSTANCE, result.event_type_id, event_information(result)
            )
        except NetworkError as exc:
            log.warning(
                "result of %s to %s not delivered: %s",
                result.transaction_uid,
                notifier.peer_ae_title,
                exc,
            )
            return False
        log.info(
            "N-EVENT-REPORT %s to %s: status %04XH",
            result.transaction_uid,
            notifier.peer_ae_title,
            outcome.status,
        )
        return True

    async def process(
        self,
        notifier: EventNotifier,
        transaction_uid: str,
        references: Sequence[Reference],
        duplicate: bool,
    ) -> CommitmentResult:
        """Assess one request, record its result, and report it."""
        result = await asyncio.to_thread(
            assess, transaction_uid, references, self.lookup, duplicate=duplicate
        )
        result = self._with_retrieve(result)
        if not duplicate:
            self.store.record_result(
                transaction_uid, result.event_type_id, event_information(result)
            )
        if await self.report(notifier, result) and not duplicate:
            self.store.mark_reported(transaction_uid)
        return result

    async def handle_n_action(
        self,
        sop_instance_uid: str,
        action_type: int,
        information: Dataset | None,
        context: ServiceContext,
    ) -> GeneratedOutcome[StatusCode]:
        """The ``StorageCommitmentPushModelSCP`` handler: check and record an N-ACTION-RQ
        (J.3.2.1.3), answer Success, and start the task that reports the result.

        References
        ----------
        PS3.4 J.3.2.1.3, J.3.5, Table J.3-1; PS3.7 §10.1.4, C.5.19, C.5.24.
        """
        from dicompile.generated.services.base import Outcome as Answer
        from dicompile.runtime.net.services.routes.context import RequestContext, StatusFailure

        if sop_instance_uid != STORAGE_COMMITMENT_INSTANCE:
            raise StatusFailure(NO_SUCH_SOP_INSTANCE, "not the well-known instance (PS3.4 J.3.5)")
        if action_type != REQUEST_STORAGE_COMMITMENT:
            raise StatusFailure(NO_SUCH_ACTION_TYPE, f"Action Type ID {action_type}")
        information = information or Dataset()
        problem = check_request(information)
        if problem is not None:
            raise StatusFailure(
                problem.status, problem.comment, attribute_identifier_list=problem.tags
            )
        transaction_uid = _text(information, TRANSACTION_UID) or ""
        requestor = context.calling_ae_title
        duplicate = not self.store.add_commitment(transaction_uid, requestor, information)
        references = _references(information, REFERENCED_SOP_SEQUENCE, with_reason=False)
        log.info(
            "commitment %s from %s: %d references%s",
            transaction_uid,
            requestor,
            len(references),
            " (duplicate Transaction UID)" if duplicate else "",
        )
        association = context.association if isinstance(context, RequestContext) else None
        notifier = self.notifier(requestor, association)
        # The task runs after this response is written: the serve loop takes the send lock
        # before the task first runs (asyncio runs it only at our next suspension).
        task = asyncio.create_task(self._run(notifier, transaction_uid, references, duplicate))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return Answer(SUCCESS)

    async def _run(
        self,
        notifier: EventNotifier,
        transaction_uid: str,
        references: Sequence[Reference],
        duplicate: bool,
    ) -> None:
        try:
            await self.process(notifier, transaction_uid, references, duplicate)
        except Exception:
            log.exception("storage commitment %s failed", transaction_uid)

    async def redeliver(self) -> int:
        """Report again the results never delivered (the requestor had released and was
        unreachable, or the server stopped first) to requestors with a known address;
        a request never assessed is assessed now.  Returns how many were delivered.

        References
        ----------
        PS3.4 J.3.3.1.2 (the SCP shall be capable of reporting on another association).
        """
        delivered = 0
        for stored in self.store.unreported():
            requestor = stored.requestor_ae_title
            if requestor not in self.peers or self.ae is None:
                continue
            if stored.event_type_id is None or stored.event_information is None:
                references = _references(
                    stored.action_information, REFERENCED_SOP_SEQUENCE, with_reason=False
                )
                result = await asyncio.to_thread(
                    assess, stored.transaction_uid, references, self.lookup
                )
                result = self._with_retrieve(result)
                self.store.record_result(
                    stored.transaction_uid, result.event_type_id, event_information(result)
                )
            else:
                result = parse_result(stored.event_type_id, stored.event_information)
            if await self.report(self.notifier(requestor), result):
                self.store.mark_reported(stored.transaction_uid)
                delivered += 1
        return delivered

    def start_redelivery(self) -> None:
        """Run :meth:`redeliver` in the background (one of :attr:`tasks`)."""

        async def run() -> None:
            try:
                count = await self.redeliver()
            except Exception:
                log.exception("redelivery of storage commitment results failed")
                return
            if count:
                log.info("%d storage commitment result(s) delivered late", count)

        task = asyncio.create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def wait_idle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) for the reports under way."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)


def storage_commitment_service(
    folder: str | Path | ProcedureStepStore,
    *,
    lookup: InstanceLookup | None = None,
    ae: ApplicationEntity | None = None,
    peers: Mapping[str, tuple[str, int]] | None = None,
) -> tuple[tuple[SupportedContext, ...], dict[type[Request], RequestHandler], CommitmentProvider]:
    """The Storage Commitment SCP for an archive folder: the context to accept, the
    N-ACTION handler (the provider's ``handle_n_action`` through the typed dispatch), and
    the provider (for its reports under way).

    ``lookup`` defaults to :func:`folder_lookup` over the folder.

    References
    ----------
    PS3.4 J.3.2, J.3.3.
    """
    if isinstance(folder, ProcedureStepStore):
        store, path = folder, folder.folder
    else:
        store, path = ProcedureStepStore(folder), Path(folder)
    from dicompile.runtime.net.services.dispatch import scp_handlers

    provider = CommitmentProvider(store, lookup or folder_lookup(path), ae, peers)
    handlers = scp_handlers(
        provider,
        [STORAGE_COMMITMENT],
        destinations=provider.peers if ae is not None else None,
    )
    return (COMMITMENT_SCP_CONTEXT,), handlers, provider


# --------------------------------------------------------------------------------------
# SCU
# --------------------------------------------------------------------------------------


class CommitmentWaiter:
    """Collects Storage Commitment Results by Transaction UID, from any association.

    :meth:`handler` answers N-EVENT-REPORT-RQs (Success, or 0113H No Such Event Type for
    another Event Type ID, PS3.7 C.5.18); :meth:`wait` returns the result of one
    transaction once it came.
    """

    def __init__(self) -> None:
        self._results: dict[str, asyncio.Future[CommitmentResult]] = {}

    def _future(self, transaction_uid: str) -> asyncio.Future[CommitmentResult]:
        future = self._results.get(transaction_uid)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._results[transaction_uid] = future
        return future

    async def handler(
        self, association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        """The N-EVENT-REPORT-RQ handler (J.3.3.1.1: the SCU acknowledges the result)."""
        assert isinstance(request, NEventReportRQ)
        status = SUCCESS
        if request.event_type_id not in (EVENT_SUCCESSFUL, EVENT_FAILURES_EXIST):
            status = 0x0113
        else:
            try:
                information = decode_payload(request.data_set, context.transfer_syntax)
            except DecodeError:
                status = PROCESSING_FAILURE
            else:
                result = parse_result(request.event_type_id, information)
                future = self._future(result.transaction_uid)
                if not future.done():
                    future.set_result(result)
        return NEventReportRSP(
            message_id_being_responded_to=request.message_id,
            status=status,
            affected_sop_class_uid=request.affected_sop_class_uid,
            affected_sop_instance_uid=request.affected_sop_instance_uid,
            event_type_id=request.event_type_id if status == SUCCESS else None,
        )

    async def wait(self, transaction_uid: str, timeout: float | None) -> CommitmentResult | None:
        """The result of ``transaction_uid``, or None after ``timeout`` seconds."""
        future = self._future(transaction_uid)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            return None


async def request_commitment(
    association: Association,
    references: Sequence[Reference],
    transaction_uid: str | None = None,
) -> tuple[str, NActionRSP]:
    """Send a Storage Commitment Request (N-ACTION, Action Type 1); return the Transaction
    UID used and the response.

    Raises
    ------
    LocalProtocolError
        No Storage Commitment context accepted.

    References
    ----------
    PS3.4 J.3.2.1.2.
    """
    context = association.negotiated.find(STORAGE_COMMITMENT)
    if context is None:
        raise LocalProtocolError("the peer accepted no Storage Commitment Push Model context")
    uid = transaction_uid or uid_from_uuid()
    response = await association.request(
        NActionRQ(
            message_id=association.next_message_id(),
            requested_sop_class_uid=STORAGE_COMMITMENT,
            requested_sop_instance_uid=STORAGE_COMMITMENT_INSTANCE,
            action_type_id=REQUEST_STORAGE_COMMITMENT,
            data_set=encode_payload(action_information(uid, references), context.transfer_syntax),
        ),
        context.context_id,
    )
    assert isinstance(response, NActionRSP)
    return uid, response


async def commit(
    association: Association,
    references: Sequence[Reference],
    *,
    waiter: CommitmentWaiter | None = None,
    timeout: float | None = 60.0,
    transaction_uid: str | None = None,
) -> tuple[str, NActionRSP, CommitmentResult | None]:
    """Request commitment and wait for the result (this association, or ``waiter``'s
    listener when the SCP reports on a new one).

    The association is served while waiting so that a report on it is answered; the caller
    releases it afterwards.  The result is None when none came within ``timeout``.
    """
    waiter = waiter or CommitmentWaiter()
    serving = asyncio.create_task(association.serve({NEventReportRQ: waiter.handler}))
    try:
        uid, response = await request_commitment(association, references, transaction_uid)
        if response.status != SUCCESS:
            return uid, response, None
        return uid, response, await waiter.wait(uid, timeout)
    finally:
        if serving.done():
            with contextlib.suppress(Exception):
                serving.result()
        else:
            serving.add_done_callback(lambda task: task.cancelled() or task.exception())


def commitment_listener(
    waiter: CommitmentWaiter,
) -> tuple[tuple[SupportedContext, ...], dict[type[Request], RequestHandler]]:
    """Contexts and handlers for a server that receives the SCP's report associations."""
    return (COMMITMENT_LISTENER_CONTEXT,), {NEventReportRQ: waiter.handler}


__all__ = [
    "COMMITMENT_CONTEXT",
    "COMMITMENT_LISTENER_CONTEXT",
    "COMMITMENT_SCP_CONTEXT",
    "EVENT_FAILURES_EXIST",
    "EVENT_SUCCESSFUL",
    "STORAGE_COMMITMENT",
    "STORAGE_COMMITMENT_INSTANCE",
    "CommitmentProvider",
    "CommitmentResult",
    "CommitmentWaiter",
    "InstanceLookup",
    "Reference",
    "action_information",
    "assess",
    "check_request",
    "commit",
    "commitment_listener",
    "event_information",
    "folder_lookup",
    "index_lookup",
    "parse_peer",
    "parse_result",
    "request_commitment",
    "send_result",
    "storage_commitment_service",
]
