"""The Query/Retrieve Service Class: C-FIND, C-MOVE and C-GET, SCP and SCU (PS3.4 Annex C).

Theory of operation
-------------------
SCP (:class:`QueryRetrieveSCP`): one object answers the three operations of the Patient
Root and Study Root information models (PS3.4 C.6.1, C.6.2) from a
:class:`QueryRetrieveArchive` (the embedded archive, ``runtime/archive``):

* Every identifier is decoded in the presentation context's transfer syntax.  Bytes that
  are no data set get C000H (Unable to process); an identifier that is empty, has no or a
  wrong Query/Retrieve Level (0008,0052) for the model, or (with ``relational=False``) lacks
  the unique key of a level above the query level, gets A900H (Identifier does not match
  SOP Class) with Offending Element (PS3.4 C.4.1.1.4, C.4.2.1.5, C.4.3.1.4).  No handler
  ever answers Success to what it could not do: an exception inside becomes C000H.
* Matching (PS3.4 C.2.2.2) is the archive's; the SCP builds each response identifier from
  the keys the SCU asked for (PS3.4 C.4.1.1.3.2): the match's value, or the key empty.  A
  pending C-FIND response is FF00H, or FF01H when a requested key is one the archive can
  neither match nor return (PS3.4 Table C.4-1).
* Between responses the SCP polls :meth:`Association.cancel_requested`; after a C-CANCEL-RQ
  it stops and answers FE00H Cancel (PS3.7 §9.3.2.3), with the sub-operation counts for
  C-MOVE/C-GET.
* C-MOVE opens a new association to the Move Destination (configured AE title -> host and
  port; an unknown title is A801H) and sends the matched instances with C-STORE carrying the
  Move Originator AE title and Message ID; C-GET sends them with C-STORE on the same
  association, on storage contexts where the SCU granted us the SCU role (SCP/SCU Role
  Selection, PS3.7 D.3.3.4).  Each sub-operation is followed by a Pending response with the
  remaining, completed, failed and warning counts; the final response carries no remaining
  count, and lists the failed instances in Failed SOP Instance UID List (0008,0058)
  (PS3.4 C.4.2.1.4.2-C.4.2.1.9, C.4.3.1.3.2-C.4.3.1.8).  Final status: 0000H when all
  succeeded, B000H when some failed or warned, A702H when every one failed.

SCU (:func:`find`, :func:`move`, :func:`get`): async generators over the responses, Pending
first and the final one last; :func:`get` answers the peer's C-STORE sub-operations on the
same association while the C-GET is running.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import zlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Final, Protocol

import attrs

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import read_dataset
from dicompile.runtime.codec.transfer_syntax import transfer_syntax
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import (
    DecodeError,
    EncodeError,
    LocalProtocolError,
)
from dicompile.runtime.net.ae import UNCOMPRESSED, ApplicationEntity, SupportedContext
from dicompile.runtime.net.association import Association, RequestHandler
from dicompile.runtime.net.dimse import (
    CFindRQ,
    CFindRSP,
    CGetRQ,
    CGetRSP,
    CMoveRQ,
    CMoveRSP,
    CStoreRQ,
    Priority,
    Request,
    Response,
    StatusCategory,
    status_category,
)
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext
from dicompile.runtime.net.services.storage import (
    StoreHandler,
    accepted_transfer_syntaxes,
    deflate,
    storage_handler,
    storage_sop_classes,
)

log = logging.getLogger("dicompile.net.qr")

# -- SOP classes (PS3.4 C.6.1.3, C.6.2.3; PS3.6 Annex A) ------------------------------------

PATIENT_ROOT_FIND: Final = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE: Final = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET: Final = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND: Final = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE: Final = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET: Final = "1.2.840.10008.5.1.4.1.2.2.3"

# -- statuses (PS3.4 Tables C.4-1, C.4-2, C.4-3) --------------------------------------------

SUCCESS: Final = 0x0000
PENDING: Final = 0xFF00
#: C-FIND Pending: an optional key was not supported for matching or return.
PENDING_KEYS_UNSUPPORTED: Final = 0xFF01
CANCEL: Final = 0xFE00
#: Sub-operations complete, one or more failures or warnings.
SUBOPERATIONS_WARNING: Final = 0xB000
OUT_OF_RESOURCES: Final = 0xA700
#: C-MOVE/C-GET: unable to perform sub-operations.
UNABLE_TO_PERFORM_SUBOPERATIONS: Final = 0xA702
MOVE_DESTINATION_UNKNOWN: Final = 0xA801
IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS: Final = 0xA900
UNABLE_TO_PROCESS: Final = 0xC000
#: PS3.7 C.5.21, when the request's SOP class is not the context's or not Q/R.
SOP_CLASS_NOT_SUPPORTED: Final = 0x0122

# -- keys ------------------------------------------------------------------------------------

SPECIFIC_CHARACTER_SET: Final = 0x00080005
QUERY_RETRIEVE_LEVEL: Final = 0x00080052
RETRIEVE_AE_TITLE: Final = 0x00080054
FAILED_SOP_INSTANCE_UID_LIST: Final = 0x00080058
SOP_INSTANCE_UID: Final = 0x00080018
PATIENT_ID: Final = 0x00100020
STUDY_INSTANCE_UID: Final = 0x0020000D
SERIES_INSTANCE_UID: Final = 0x0020000E
TIMEZONE_OFFSET: Final = 0x00080201

#: Keys that steer the query rather than match (PS3.4 C.4.1.1.3.1, C.4.1.1.3.2).
_CONTROL_KEYS: Final = frozenset(
    {SPECIFIC_CHARACTER_SET, QUERY_RETRIEVE_LEVEL, RETRIEVE_AE_TITLE, TIMEZONE_OFFSET}
)
#: Largest inflated size of a deflated identifier (a bomb guard; identifiers are small).
_MAX_INFLATED: Final = 64 << 20


class Level(enum.Enum):
    """Query/Retrieve Level (0008,0052) values (PS3.4 C.6.1.1.1, C.6.2.1.1)."""

    PATIENT = "PATIENT"
    STUDY = "STUDY"
    SERIES = "SERIES"
    IMAGE = "IMAGE"

    @property
    def unique_key(self) -> int:
        """The level's unique key (PS3.4 Tables C.6-1, C.6-2, C.6-3, C.6-4)."""
        return _UNIQUE_KEYS[self]


_UNIQUE_KEYS: Final = {
    Level.PATIENT: PATIENT_ID,
    Level.STUDY: STUDY_INSTANCE_UID,
    Level.SERIES: SERIES_INSTANCE_UID,
    Level.IMAGE: SOP_INSTANCE_UID,
}


class QueryModel(enum.Enum):
    """The information models served: Patient Root and Study Root (PS3.4 C.6.1, C.6.2)."""

    PATIENT = "patient"
    STUDY = "study"

    @property
    def levels(self) -> tuple[Level, ...]:
        """The model's levels, top first."""
        if self is QueryModel.PATIENT:
            return (Level.PATIENT, Level.STUDY, Level.SERIES, Level.IMAGE)
        return (Level.STUDY, Level.SERIES, Level.IMAGE)

    def sop_class(self, operation: Operation) -> str:
        """The SOP Class UID of ``operation`` in this model."""
        return _SOP_CLASSES[(self, operation)]


class Operation(enum.Enum):
    """The three DIMSE-C operations of the service class."""

    FIND = "C-FIND"
    MOVE = "C-MOVE"
    GET = "C-GET"


_SOP_CLASSES: Final = {
    (QueryModel.PATIENT, Operation.FIND): PATIENT_ROOT_FIND,
    (QueryModel.PATIENT, Operation.MOVE): PATIENT_ROOT_MOVE,
    (QueryModel.PATIENT, Operation.GET): PATIENT_ROOT_GET,
    (QueryModel.STUDY, Operation.FIND): STUDY_ROOT_FIND,
    (QueryModel.STUDY, Operation.MOVE): STUDY_ROOT_MOVE,
    (QueryModel.STUDY, Operation.GET): STUDY_ROOT_GET,
}
#: SOP Class UID -> (model, operation).
SOP_CLASS_MODELS: Final[Mapping[str, tuple[QueryModel, Operation]]] = {
    uid: key for key, uid in _SOP_CLASSES.items()
}


# --------------------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------------------


def encode_identifier(identifier: Dataset, transfer_syntax_uid: str) -> bytes:
    """An identifier encoded in a context's transfer syntax (deflated for A.5).

    Raises
    ------
    EncodeError
        A value cannot be encoded, or the syntax is not a native one.

    References
    ----------
    PS3.7 §6.3.1 (data sets in the negotiated syntax); PS3.5 Annex A.
    """
    syntax = transfer_syntax(transfer_syntax_uid)
    if not syntax.is_native:
        raise EncodeError(f"an identifier cannot be sent in {syntax.name}")
    ctx = CodecContext(little_endian=syntax.little_endian, implicit_vr=syntax.implicit_vr)
    data = encode_dataset(identifier, ctx)
    return deflate(data) if syntax.deflated else data


def decode_identifier(data: bytes, transfer_syntax_uid: str, *, strict: bool = True) -> Dataset:
    """An identifier received in a context's transfer syntax.

    ``strict`` (default): anything that breaks PS3.5 (a length past the end, an odd length)
    is an error, not a warning: a truncated identifier must not be matched as if whole.

    Raises
    ------
    DecodeError
        The bytes are no data set in that syntax (or inflate beyond 64 MiB).

    References
    ----------
    PS3.7 §6.3.1; PS3.5 Annex A.
    """
    syntax = transfer_syntax(transfer_syntax_uid)
    if syntax.deflated:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = inflater.decompress(data, _MAX_INFLATED)
        except zlib.error as exc:
            raise DecodeError(f"deflated identifier: {exc}", source="identifier") from None
        if inflater.unconsumed_tail:
            raise DecodeError("identifier inflates beyond 64 MiB", source="identifier")
    ctx = CodecContext(
        little_endian=syntax.little_endian, implicit_vr=syntax.implicit_vr, strict=strict
    )
    dataset, end, _ = read_dataset(data, ctx)
    if end != len(data):
        raise DecodeError(
            f"identifier has {len(data) - end} bytes after its last element",
            source="identifier",
            offset=end,
        )
    return dataset


def _single_text(dataset: Dataset, tag: int) -> str | None:
    element = dataset.get(tag)
    if element is None:
        return None
    value = element.value
    if isinstance(value, tuple):
        return None if len(value) != 1 else str(value[0]).strip()
    if value is None:
        return ""
    return str(value).strip()


def _is_single_value(text: str | None) -> bool:
    return bool(text) and not any(c in text for c in "*?\\")  # type: ignore[operator]


@attrs.frozen
class IdentifierProblem(Exception):
    """Why an identifier cannot be answered: the status, a comment, the offending tags."""

    status: int
    comment: str
    offending: tuple[int, ...] = ()

    def __str__(self) -> str:
        return f"{self.status:04X}H {self.comment}"


def check_identifier(identifier: Dataset, model: QueryModel, *, relational: bool) -> Level:
    """The Query/Retrieve Level of a request identifier, after checking its structure.

    Raises
    ------
    IdentifierProblem
        A900H: empty identifier, missing or bad level for ``model``, or (hierarchical,
        ``relational=False``) a level above the query level without its unique key as a
        single value.

    References
    ----------
    PS3.4 C.4.1.3.1.1 (hierarchical), C.4.1.3.2.2 (relational), C.6.1.1, C.6.2.1.
    """
    if len(identifier) == 0:
        raise IdentifierProblem(IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, "empty identifier")
    text = _single_text(identifier, QUERY_RETRIEVE_LEVEL)
    if text is None:
        raise IdentifierProblem(
            IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
            "no Query/Retrieve Level (0008,0052)",
            (QUERY_RETRIEVE_LEVEL,),
        )
    try:
        level = Level(text.upper())
    except ValueError:
        level = None
    if level is None or level not in model.levels:
        raise IdentifierProblem(
            IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
            f"level {text!r} is not one of the {model.value} root model",
            (QUERY_RETRIEVE_LEVEL,),
        )
    if not relational:
        for above in model.levels[: model.levels.index(level)]:
            if not _is_single_value(_single_text(identifier, above.unique_key)):
                raise IdentifierProblem(
                    IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
                    f"hierarchical query at {level.value} needs a single {above.value} unique key",
                    (above.unique_key,),
                )
    return level


def unique_keys(identifier: Dataset, level: Level) -> tuple[str, ...]:
    """The values of the level's unique key (a list of UIDs for C-MOVE/C-GET, PS3.4
    C.4.2.1.4.1, C.4.3.1.3.1), empty when the key is absent or empty."""
    element = identifier.get(level.unique_key)
    if element is None or element.value is None:
        return ()
    value = element.value
    items = value if isinstance(value, tuple) else (value,)
    return tuple(str(v).strip() for v in items if str(v).strip())


def response_identifier(
    request: Dataset, match: Dataset, *, retrieve_ae_title: str | None = None
) -> tuple[Dataset, bool]:
    """The identifier of one C-FIND match, and whether every requested key was supported.

    ``match`` is the archive's answer: one element per requested key it supports (empty
    when the entity has no value).  The response holds those (PS3.4 C.4.1.1.3.2), the
    Query/Retrieve Level, the match's Specific Character Set, and the Retrieve AE Title
    (0008,0054) when asked for; a requested key the archive left out is not returned and
    makes the response FF01H (PS3.4 Table C.4-1).
    """
    out = Dataset()
    supported = True
    for element in request:
        tag = element.tag
        if tag == QUERY_RETRIEVE_LEVEL:
            out.add(element)
        elif tag == RETRIEVE_AE_TITLE and retrieve_ae_title:
            out.add(DataElement(tag, VR.AE, retrieve_ae_title))
        elif tag in _CONTROL_KEYS:
            continue
        else:
            found = match.get(tag)
            if found is not None:
                out.add(found)
            else:
                supported = False
    for tag in _UNIQUE_KEYS.values():
        # The archive adds the unique keys of the levels queried (C.4.1.3.1.1).
        if tag not in out and tag in match:
            out.add(match[tag])
    charset = match.get(SPECIFIC_CHARACTER_SET)
    if charset is not None and charset.value:
        out.add(charset)
    return out, supported


# --------------------------------------------------------------------------------------
# The archive the SCP answers from
# --------------------------------------------------------------------------------------


class QueryRetrieveArchive(Protocol):
    """What the SCP needs of an archive (``runtime/archive/qr_backend.py`` adapts the
    SQLite index to it).

    ``find`` yields the response identifiers of the entities matching ``identifier`` at
    ``level`` under the rules of PS3.4 C.2.2.2: one element per requested key it supports
    (empty when the entity has no value) -- keys it leaves out are unsupported (FF01H).  It
    raises :class:`~dicompile.runtime.errors.QueryError` for an identifier it cannot
    process.  ``locate`` gives the files of the instances under the entities of ``level``
    whose unique key is one of ``uids`` (C-MOVE, C-GET).
    """

    def find(
        self, level: Level, identifier: Dataset, model: QueryModel, *, relational: bool
    ) -> Iterable[Dataset]: ...

    def locate(self, level: Level, uids: Sequence[str]) -> Iterable[str]: ...


# --------------------------------------------------------------------------------------
# SCP
# --------------------------------------------------------------------------------------


def qr_scp_contexts(
    transfer_syntaxes: Sequence[str] = UNCOMPRESSED,
) -> tuple[SupportedContext, ...]:
    """The Q/R SOP classes an SCP accepts (SCP role only)."""
    return tuple(
        SupportedContext(uid, tuple(transfer_syntaxes), scu=False, scp=True)
        for uid in sorted(SOP_CLASS_MODELS)
    )


def storage_contexts_for_retrieve() -> tuple[SupportedContext, ...]:
    """Storage contexts of an SCP that receives C-STORE and sends C-GET sub-operations:
    both roles, so a C-GET SCU's SCP/SCU role selection can be granted (PS3.7 D.3.3.4)."""
    syntaxes = accepted_transfer_syntaxes()
    return tuple(
        SupportedContext(uid, syntaxes, scu=True, scp=True) for uid in storage_sop_classes()
    )


@attrs.frozen
class Counts:
    """Sub-operation counts of a C-MOVE/C-GET: (0000,1020)-(0000,1023) of PS3.7 Tables
    9.3-7 and 9.3-10; PS3.4 C.4.2.1.6-C.4.2.1.9, C.4.3.1.5-C.4.3.1.8."""

    remaining: int = 0
    completed: int = 0
    failed: int = 0
    warning: int = 0


class QueryRetrieveSCP:
    """C-FIND, C-MOVE and C-GET handlers over one archive.

    Parameters
    ----------
    archive
        Where matches and instance files come from.
    ae
        Our AE: its title is the Retrieve AE Title and the Calling AE Title of C-MOVE
        sub-associations; its timeouts bound them.
    destinations
        Move Destination AE title -> (host, port).
    relational
        Answer queries that lack unique keys above the level relationally (PS3.4
        C.4.1.3.2.2) rather than refusing them with A900H; retrieve without the level's
        unique key likewise (relational-retrieve, C.4.2.3.2.1, C.4.3.3.2.1).  Neither is
        negotiated (no SOP Class Extended Negotiation yet): this is the SCP's policy.
    """

    def __init__(
        self,
        archive: QueryRetrieveArchive,
        ae: ApplicationEntity,
        *,
        destinations: Mapping[str, tuple[str, int]] | None = None,
        relational: bool = True,
    ) -> None:
        self.archive = archive
        self.ae = ae
        self.destinations = dict(destinations or {})
        self.relational = relational

    def handlers(
        self, others: Mapping[type[Request], RequestHandler] | None = None
    ) -> dict[type[Request], RequestHandler]:
        """The request handlers to give :class:`~dicompile.runtime.net.server.Server`.

        ``others``: handlers of other services for the same request types (a Modality
        Worklist C-FIND SCP, ...).  A request whose Affected SOP Class is not a Q/R one
        goes to them; the merged map replaces both (the dispatch is by SOP class, PS3.7
        §9.1.2.1.2, since one Server maps each request type to one handler).
        """
        from dicompile.runtime.net.services.archive_scp import ArchiveQueryRetrieve
        from dicompile.runtime.net.services.dispatch import scp_handlers

        return scp_handlers(
            ArchiveQueryRetrieve(self),
            sorted(SOP_CLASS_MODELS),
            fallback=others,
            destinations=self.destinations,
        )

    def locate(self, model: QueryModel, level: Level, identifier: Dataset) -> list[str]:
        """The files a C-MOVE/C-GET identifier selects (see :meth:`_locate`)."""
        return self._locate(model, level, identifier)

    def _locate(self, model: QueryModel, level: Level, identifier: Dataset) -> list[str]:
        """The files a C-MOVE/C-GET identifier selects.

        Hierarchically (PS3.4 C.4.2.1.4.1): the values of the level's unique key.  Without
        them, and when relational retrieval is allowed (C.4.2.3.2.1), the identifier's keys are
        matched like a C-FIND at that level and the matches' unique keys retrieved.

        Raises
        ------
        IdentifierProblem
            A900H: no unique key values and relational retrieval off.
        QueryError
            The archive cannot process the identifier.
        """
        uids = unique_keys(identifier, level)
        if not uids or not all(_is_single_value(uid) for uid in uids):
            if not self.relational:
                raise IdentifierProblem(
                    IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
                    f"a retrieve at {level.value} needs values of its unique key",
                    (level.unique_key,),
                )
            query = identifier.copy()
            if level.unique_key not in query or not uids:
                query.add(DataElement(level.unique_key, VR.LO if level is Level.PATIENT else VR.UI))
            found = self.archive.find(level, query, model, relational=True)
            uids = tuple({u: None for match in found for u in unique_keys(match, level)})
            if not uids:
                return []
        return list(self.archive.locate(level, uids))


# --------------------------------------------------------------------------------------
# SCU
# --------------------------------------------------------------------------------------


def query_context(model: QueryModel, operation: Operation) -> ProposedContext:
    """The context an SCU proposes for ``operation`` in ``model``."""
    return ProposedContext(model.sop_class(operation), UNCOMPRESSED)


def get_contexts(
    model: QueryModel, storage_classes: Sequence[str] | None = None
) -> list[ProposedContext]:
    """Contexts for C-GET: the GET model, and storage classes where we ask the SCP role only
    (SCP/SCU Role Selection, PS3.7 D.3.3.4), at most 127 of them."""
    classes = (
        storage_sop_classes(include_retired=False) if storage_classes is None else storage_classes
    )
    syntaxes = accepted_transfer_syntaxes()
    storage = [ProposedContext(uid, syntaxes, scu=False, scp=True) for uid in classes]
    return [query_context(model, Operation.GET), *storage[:127]]


@attrs.frozen
class FindResponse:
    """One C-FIND response: its status, and the match for Pending ones."""

    status: int
    identifier: Dataset | None = None
    error_comment: str | None = None

    @property
    def category(self) -> StatusCategory:
        return status_category(self.status)


@attrs.frozen
class RetrieveResponse:
    """One C-MOVE/C-GET response: status, counts, and failed instances for final ones."""

    status: int
    counts: Counts
    failed_sop_instance_uids: tuple[str, ...] = ()
    error_comment: str | None = None

    @property
    def category(self) -> StatusCategory:
        return status_category(self.status)


def _context_for(association: Association, uid: str) -> AcceptedContext:
    context = association.negotiated.find(uid)
    if context is None:
        raise LocalProtocolError(f"the peer accepted no presentation context for {uid}")
    return context


async def find(
    association: Association,
    identifier: Dataset,
    *,
    model: QueryModel = QueryModel.STUDY,
    priority: Priority = Priority.MEDIUM,
    cancel_after: int | None = None,
) -> AsyncIterator[FindResponse]:
    """Send a C-FIND-RQ and yield each response (matches first, the final status last).

    ``cancel_after``: send a C-CANCEL-RQ once that many matches arrived.

    Raises
    ------
    LocalProtocolError
        No context for the model's FIND SOP class was accepted.
    AssociationAbortedError
        The association ended, or a response did not come in time.

    References
    ----------
    PS3.4 C.4.1.2; PS3.7 §9.1.2, §9.3.2.
    """

    context = _context_for(association, model.sop_class(Operation.FIND))
    message_id = association.next_message_id()
    request = CFindRQ(
        message_id=message_id,
        affected_sop_class_uid=context.abstract_syntax,
        priority=priority,
        data_set=encode_identifier(identifier, context.transfer_syntax),
    )
    matches = 0
    async for response in association.request_responses(request, context.context_id):
        assert isinstance(response, CFindRSP)
        found = None
        if response.data_set:
            found = decode_identifier(response.data_set, context.transfer_syntax)
        matches = await _count_and_cancel(
            association, context, request, response, matches, cancel_after
        )
        yield FindResponse(response.status, found, response.error_comment)


def _retrieve_result(response: Response, transfer_syntax_uid: str) -> RetrieveResponse:
    assert isinstance(response, CMoveRSP | CGetRSP)
    failed: tuple[str, ...] = ()
    if response.data_set:
        try:
            data = decode_identifier(response.data_set, transfer_syntax_uid)
            value = data.get_value(FAILED_SOP_INSTANCE_UID_LIST)
            if isinstance(value, tuple):
                failed = tuple(str(v) for v in value)
            elif value:
                failed = (str(value),)
        except DecodeError as exc:
            log.warning("undecodable identifier in %s: %s", response.MESSAGE, exc)
    counts = Counts(
        response.number_of_remaining_suboperations or 0,
        response.number_of_completed_suboperations or 0,
        response.number_of_failed_suboperations or 0,
        response.number_of_warning_suboperations or 0,
    )
    return RetrieveResponse(response.status, counts, failed, response.error_comment)


async def move(
    association: Association,
    identifier: Dataset,
    destination: str,
    *,
    model: QueryModel = QueryModel.STUDY,
    priority: Priority = Priority.MEDIUM,
    cancel_after: int | None = None,
) -> AsyncIterator[RetrieveResponse]:
    """Send a C-MOVE-RQ (instances go to AE ``destination``) and yield each response.

    ``cancel_after``: send a C-CANCEL-RQ once that many Pending responses arrived.

    Raises
    ------
    LocalProtocolError
        No context for the model's MOVE SOP class was accepted.
    AssociationAbortedError
        The association ended, or a response did not come in time.

    References
    ----------
    PS3.4 C.4.2.2; PS3.7 §9.1.4, §9.3.4.
    """
    context = _context_for(association, model.sop_class(Operation.MOVE))
    request = CMoveRQ(
        message_id=association.next_message_id(),
        affected_sop_class_uid=context.abstract_syntax,
        move_destination=destination,
        priority=priority,
        data_set=encode_identifier(identifier, context.transfer_syntax),
    )
    pending = 0
    async for response in association.request_responses(request, context.context_id):
        pending = await _count_and_cancel(
            association, context, request, response, pending, cancel_after
        )
        yield _retrieve_result(response, context.transfer_syntax)


async def _count_and_cancel(
    association: Association,
    context: AcceptedContext,
    request: CFindRQ | CMoveRQ | CGetRQ,
    response: Response,
    pending: int,
    cancel_after: int | None,
) -> int:
    """Count Pending responses; send C-CANCEL-RQ when ``cancel_after`` is reached
    (PS3.7 §9.3.2.3, §9.3.3.3, §9.3.4.3)."""
    from dicompile.runtime.net.dimse import CCancelRQ

    if status_category(response.status) is not StatusCategory.PENDING:
        return pending
    pending += 1
    if cancel_after is not None and pending == cancel_after:
        await association.send_message(
            CCancelRQ(message_id_being_responded_to=request.message_id), context.context_id
        )
    return pending


async def get(
    association: Association,
    identifier: Dataset,
    store: StoreHandler,
    *,
    model: QueryModel = QueryModel.STUDY,
    priority: Priority = Priority.MEDIUM,
    cancel_after: int | None = None,
) -> AsyncIterator[RetrieveResponse]:
    """Send a C-GET-RQ and yield each response, storing the instances the peer sends back
    (C-STORE sub-operations on this association) with ``store``.

    ``cancel_after``: send a C-CANCEL-RQ once that many Pending responses arrived.

    The association must have been proposed with :func:`get_contexts` (we as storage SCP).
    While the C-GET runs, the association's requests are served (C-STORE only); run one
    C-GET at a time per association.  A compressed instance arrives only if the peer can
    send it in a transfer syntax it accepted on the storage context (the proposed list,
    uncompressed first, is the peer's to choose from).

    Raises
    ------
    LocalProtocolError
        No context for the model's GET SOP class was accepted.
    AssociationAbortedError
        The association ended, or a response did not come in time.

    References
    ----------
    PS3.4 C.4.3.2; PS3.7 §9.1.3, §9.3.3, D.3.3.4.
    """
    context = _context_for(association, model.sop_class(Operation.GET))
    request = CGetRQ(
        message_id=association.next_message_id(),
        affected_sop_class_uid=context.abstract_syntax,
        priority=priority,
        data_set=encode_identifier(identifier, context.transfer_syntax),
    )
    # The C-STORE-RQs come as requests on our SCP-role contexts: answer them meanwhile.
    serving = asyncio.create_task(association.serve({CStoreRQ: storage_handler(store)}))
    pending = 0
    try:
        async for response in association.request_responses(request, context.context_id):
            pending = await _count_and_cancel(
                association, context, request, response, pending, cancel_after
            )
            yield _retrieve_result(response, context.transfer_syntax)
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving


__all__ = [
    "CANCEL",
    "IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS",
    "MOVE_DESTINATION_UNKNOWN",
    "PATIENT_ROOT_FIND",
    "PATIENT_ROOT_GET",
    "PATIENT_ROOT_MOVE",
    "PENDING",
    "PENDING_KEYS_UNSUPPORTED",
    "SOP_CLASS_MODELS",
    "STUDY_ROOT_FIND",
    "STUDY_ROOT_GET",
    "STUDY_ROOT_MOVE",
    "SUBOPERATIONS_WARNING",
    "SUCCESS",
    "UNABLE_TO_PERFORM_SUBOPERATIONS",
    "UNABLE_TO_PROCESS",
    "Counts",
    "FindResponse",
    "IdentifierProblem",
    "Level",
    "Operation",
    "QueryModel",
    "QueryRetrieveArchive",
    "QueryRetrieveSCP",
    "RetrieveResponse",
    "check_identifier",
    "decode_identifier",
    "encode_identifier",
    "find",
    "get",
    "get_contexts",
    "move",
    "qr_scp_contexts",
    "query_context",
    "response_identifier",
    "storage_contexts_for_retrieve",
    "unique_keys",
]
