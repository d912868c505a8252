"""Modality Performed Procedure Step: N-CREATE and N-SET, SCP and SCU (PS3.4 Annex F.7).

Theory of operation
-------------------
SCP (:class:`MPPSProvider`, served as the generated ``ModalityPerformedProcedureStepSCP``
protocol by :class:`MPPSService` through the typed dispatch, :func:`mpps_service`): each
instance lives in the archive's
:class:`~dicompile.runtime.archive.procedure_steps.ProcedureStepStore`.

N-CREATE (PS3.4 F.7.2.1.3), checked in this order, the first failure answered:

1. the Affected SOP Class must be the context's (0122H otherwise, PS3.7 C.5.21);
2. an instance UID that breaks the UID rules (PS3.5 §9.1) gets 0117H Invalid Object
   Instance (PS3.7 C.5.12); one already used gets 0111H Duplicate SOP Instance (PS3.7
   §10.1.5.1.6); a request without one gets a UID made by the SCP (PS3.7 §10.1.5.1.3,
   returned in the response);
3. Table F.7.2-1, column N-CREATE SCU: a Type 1 or 2 attribute absent gets 0120H Missing
   Attribute with the tags in Attribute Identifier List (PS3.7 C.5.13); a Type 1 attribute
   present but empty gets 0121H Missing Attribute Value (C.5.14).  Sequence items are
   checked against the table's nested rows.  Conditional types (1C, 2C) are not checked:
   their conditions are prose;
4. Performed Procedure Step Status (0040,0252) other than "IN PROGRESS" gets 0106H Invalid
   Attribute Value with the tag in Attribute Identifier List (F.7.2.1.3).

N-SET (PS3.4 F.7.2.2.3):

1. an unknown instance gets 0112H No Such SOP Instance (PS3.7 C.5.19);
2. an instance whose stored status is not "IN PROGRESS" gets 0110H Processing Failure with
   Error Comment "Performed Procedure Step Object may no longer be updated" and Error ID
   A710H (Table F.7.2-2): after COMPLETED or DISCONTINUED nothing changes;
3. an attribute the table marks "Not allowed" for N-SET gets 0106H Invalid Attribute Value
   listing the tags (F.7.2.2.2: "The SCU shall only set Attribute Values that are already
   created" and the table's N-SET column);
4. a status value other than IN PROGRESS, COMPLETED, DISCONTINUED gets 0106H;
5. moving to COMPLETED or DISCONTINUED requires every attribute of the Final State column
   that is Type 1 to be present with a value in the merged instance (F.7.2.2.2); missing
   ones get 0120H / 0121H and the instance stays IN PROGRESS.

Changes are applied whole: a sequence in the N-SET replaces the stored one with all its
items (F.7.2.2.2), an empty value empties the attribute.  Specific Character Set of the
N-CREATE is kept (F.7.2.2.1).

SCU (:func:`create_step`, :func:`set_step`): N-CREATE and N-SET on an accepted MPPS context,
returning the status and the SCP's comment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import attrs

from dicompile.runtime.archive.procedure_steps import ProcedureStepStore
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.values.uid import is_valid_uid, uid_from_uuid
from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.net.ae import UNCOMPRESSED, SupportedContext
from dicompile.runtime.net.association import Association, RequestHandler
from dicompile.runtime.net.dimse import NCreateRQ, NCreateRSP, NSetRQ, NSetRSP, Request
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext
from dicompile.runtime.net.services.payload import encode_payload

if TYPE_CHECKING:
    from dicompile.generated.dimse_commands import StatusCode
    from dicompile.generated.services.base import (
        AttributeRequirement,
        AttributeTable,
        ServiceContext,
    )
    from dicompile.generated.services.base import Outcome as GeneratedOutcome

log = logging.getLogger("dicompile.net.mpps")


def _n_create_table() -> AttributeTable:
    """PS3.4 Table F.7.2-1, N-CREATE columns, from the generated service tables.

    Imported on use: the runtime never imports generated code at import time (DESIGN.md),
    so it stays importable while generated/ is regenerated.
    """
    from dicompile.generated.services.procedure_step_attributes import (
        MODALITY_PERFORMED_PROCEDURE_STEP_N_CREATE,
    )

    return MODALITY_PERFORMED_PROCEDURE_STEP_N_CREATE


def _n_set_table() -> AttributeTable:
    """PS3.4 Table F.7.2-1, N-SET columns (see :func:`_n_create_table`)."""
    from dicompile.generated.services.procedure_step_attributes import (
        MODALITY_PERFORMED_PROCEDURE_STEP_N_SET,
    )

    return MODALITY_PERFORMED_PROCEDURE_STEP_N_SET


#: Modality Performed Procedure Step SOP Class (PS3.4 F.7.3).
MPPS_SOP_CLASS: Final = "1.2.840.10008.3.1.2.3.3"
MPPS_SCP_CONTEXT: Final = SupportedContext(MPPS_SOP_CLASS, UNCOMPRESSED, scu=False, scp=True)
MPPS_CONTEXT: Final = ProposedContext(MPPS_SOP_CLASS, UNCOMPRESSED)

#: Performed Procedure Step Status (0040,0252) and its defined terms (PS3.3 C.4.14).
PPS_STATUS: Final = 0x00400252
IN_PROGRESS: Final = "IN PROGRESS"
COMPLETED: Final = "COMPLETED"
DISCONTINUED: Final = "DISCONTINUED"
STATUSES: Final = frozenset({IN_PROGRESS, COMPLETED, DISCONTINUED})
FINAL_STATUSES: Final = frozenset({COMPLETED, DISCONTINUED})
_SPECIFIC_CHARACTER_SET: Final = 0x00080005

# Statuses (PS3.7 Annex C; PS3.4 Table F.7.2-2).
SUCCESS: Final = 0x0000
INVALID_ATTRIBUTE_VALUE: Final = 0x0106
PROCESSING_FAILURE: Final = 0x0110
DUPLICATE_SOP_INSTANCE: Final = 0x0111
NO_SUCH_SOP_INSTANCE: Final = 0x0112
INVALID_OBJECT_INSTANCE: Final = 0x0117
MISSING_ATTRIBUTE: Final = 0x0120
MISSING_ATTRIBUTE_VALUE: Final = 0x0121
SOP_CLASS_NOT_SUPPORTED: Final = 0x0122
#: Table F.7.2-2: the Error Comment and Error ID of a refused N-SET after a final state.
NO_LONGER_UPDATABLE_COMMENT: Final = "Performed Procedure Step Object may no longer be updated"
NO_LONGER_UPDATABLE_ERROR_ID: Final = 0xA710


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@attrs.frozen
class Problem:
    """Why a request is refused: the status and what to say (PS3.7 Annex C fields)."""

    status: int
    comment: str
    tags: tuple[int, ...] = ()
    error_id: int | None = None


def _is_empty(dataset: Dataset, tag: int) -> bool:
    value = dataset.get_value(tag)
    return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


def _walk_required(
    dataset: Dataset,
    rows: Iterable[AttributeRequirement],
    column: str,
    path: str,
) -> Iterator[tuple[int, str, bool]]:
    """(tag, path, absent) of each Type 1/2 attribute missing or Type 1 empty.

    ``column`` picks the requirement: ``"scu"`` (N-CREATE by the SCU) or ``"final"``.
    """
    for row in rows:
        if row.tag is None:
            continue
        # The Final State column may carry a note ("1 (see note 2)"): its type comes first.
        kind = row.scu if column == "scu" else (row.final_state.split() or [""])[0]
        element = dataset.get(row.tag)
        where = f"{path}{_tag_text(row.tag)}"
        if element is None:
            if kind in ("1", "2"):
                yield row.tag, where, True
            continue
        if kind == "1" and _is_empty(dataset, row.tag):
            yield row.tag, where, False
            continue
        if row.children and isinstance(element.value, Sequence):
            for index, item in enumerate(element.value):
                yield from _walk_required(item, row.children, column, f"{where}[{index}]/")


def check_required(dataset: Dataset, table: AttributeTable, column: str) -> Problem | None:
    """0120H for absent Type 1/2 attributes, else 0121H for empty Type 1 ones, else None.

    References
    ----------
    PS3.4 Table F.7.2-1; PS3.7 C.5.13 (0120H), C.5.14 (0121H); PS3.5 §7.4 (types).
    """
    found = list(_walk_required(dataset, table.attributes, column, ""))
    absent = [f for f in found if f[2]]
    if absent:
        return Problem(
            MISSING_ATTRIBUTE,
            "missing " + " ".join(where for _, where, _ in absent),
            tuple(dict.fromkeys(tag for tag, _, _ in absent)),
        )
    if found:
        return Problem(
            MISSING_ATTRIBUTE_VALUE,
            "no value for " + " ".join(where for _, where, _ in found),
            tuple(dict.fromkeys(tag for tag, _, _ in found)),
        )
    return None


def not_allowed_in_set(dataset: Dataset, table: AttributeTable) -> tuple[int, ...]:
    """Top-level attributes of an N-SET the table marks "Not allowed" (PS3.4 F.7.2-1)."""
    forbidden = {row.tag for row in table.attributes if row.tag is not None and row.not_allowed}
    return tuple(tag for tag in dataset.tags() if tag in forbidden)


def _status_of(dataset: Dataset) -> str | None:
    value = dataset.get_value(PPS_STATUS)
    return value.strip() if isinstance(value, str) else None


@attrs.frozen
class Outcome:
    """What the SCP decided for one request: Success with the instance UID, or a problem."""

    sop_instance_uid: str | None
    problem: Problem | None = None
    attributes: Dataset | None = attrs.field(default=None, eq=False)


class MPPSProvider:
    """The MPPS SCP's rules over a :class:`ProcedureStepStore` (see the module text)."""

    def __init__(self, store: ProcedureStepStore) -> None:
        self.store = store

    def create(self, uid: str | None, attributes: Dataset, creator_ae_title: str) -> Outcome:
        """Apply the N-CREATE rules of PS3.4 F.7.2.1.3 (module text, steps 2-4)."""
        if uid is not None and not is_valid_uid(uid):
            return Outcome(uid, Problem(INVALID_OBJECT_INSTANCE, f"{uid!r} is not a valid UID"))
        if uid is not None and self.store.step(uid) is not None:
            return Outcome(uid, Problem(DUPLICATE_SOP_INSTANCE, f"{uid} already exists"))
        problem = check_required(attributes, _n_create_table(), "scu")
        if problem is not None:
            return Outcome(uid, problem)
        status = _status_of(attributes)
        if status != IN_PROGRESS:
            return Outcome(
                uid,
                Problem(
                    INVALID_ATTRIBUTE_VALUE,
                    f"Performed Procedure Step Status must be IN PROGRESS, not {status!r}",
                    (PPS_STATUS,),
                ),
            )
        instance_uid = uid or uid_from_uuid()
        if not self.store.create_step(instance_uid, IN_PROGRESS, creator_ae_title, attributes):
            return Outcome(uid, Problem(DUPLICATE_SOP_INSTANCE, f"{instance_uid} already exists"))
        return Outcome(instance_uid, None, attributes)

    def set(self, uid: str, modifications: Dataset) -> Outcome:
        """Apply the N-SET rules of PS3.4 F.7.2.2.3 (module text, steps 1-5)."""
        stored = self.store.step(uid)
        if stored is None:
            return Outcome(uid, Problem(NO_SUCH_SOP_INSTANCE, f"no MPPS instance {uid}"))
        if stored.status != IN_PROGRESS:
            return Outcome(
                uid,
                Problem(
                    PROCESSING_FAILURE,
                    NO_LONGER_UPDATABLE_COMMENT,
                    error_id=NO_LONGER_UPDATABLE_ERROR_ID,
                ),
            )
        forbidden = not_allowed_in_set(modifications, _n_set_table())
        if forbidden:
            return Outcome(
                uid,
                Problem(
                    INVALID_ATTRIBUTE_VALUE,
                    "not allowed in N-SET: " + " ".join(_tag_text(t) for t in forbidden),
                    forbidden,
                ),
            )
        merged = stored.attributes.copy()
        for element in modifications:
            if element.tag == _SPECIFIC_CHARACTER_SET:
                continue  # F.7.2.2.3: the N-SET's value does not replace the N-CREATE's
            merged.add(element)
        status = _status_of(merged) if PPS_STATUS in modifications else stored.status
        if status not in STATUSES:
            return Outcome(
                uid,
                Problem(
                    INVALID_ATTRIBUTE_VALUE,
                    f"Performed Procedure Step Status {status!r} is not a defined term",
                    (PPS_STATUS,),
                ),
            )
        assert status is not None
        if status in FINAL_STATUSES:
            problem = check_required(merged, _n_set_table(), "final")
            if problem is not None:
                return Outcome(
                    uid,
                    attrs.evolve(problem, comment=f"{status} needs: {problem.comment}"),
                )
        if not self.store.update_step(uid, IN_PROGRESS, status, merged):
            return Outcome(
                uid,
                Problem(
                    PROCESSING_FAILURE,
                    NO_LONGER_UPDATABLE_COMMENT,
                    error_id=NO_LONGER_UPDATABLE_ERROR_ID,
                ),
            )
        return Outcome(uid, None, merged)


def _comment(text: str) -> str:
    # Error Comment is LO: at most 64 characters (PS3.7 C.4, PS3.5 Table 6.2-1).
    return text if len(text) <= 64 else text[:61] + "..."


class MPPSService:
    """The ``ModalityPerformedProcedureStepSCP`` protocol over an :class:`MPPSProvider`,
    served by :mod:`~dicompile.runtime.net.services.dispatch`: a refusal is raised as a
    :class:`~dicompile.runtime.net.services.routes.context.StatusFailure` carrying Error ID
    and Attribute Identifier List (PS3.7 C.5.13, Table F.7.2-2).

    References
    ----------
    PS3.4 F.7.2.1.3, F.7.2.2.3; PS3.7 §10.1.2, §10.1.5.
    """

    def __init__(self, provider: MPPSProvider) -> None:
        self.provider = provider

    async def handle_n_create(
        self, sop_instance_uid: str | None, attributes: Dataset | None, context: ServiceContext
    ) -> GeneratedOutcome[StatusCode]:
        """N-CREATE (module text, steps 2-4; step 1 is the dispatch's)."""
        from dicompile.generated.services.base import Outcome as Answer

        outcome = self.provider.create(
            sop_instance_uid, attributes or Dataset(), context.calling_ae_title
        )
        _log("N-CREATE", outcome.sop_instance_uid, context, outcome.problem, "created")
        _raise(outcome.problem)
        return Answer(SUCCESS, sop_instance_uid=outcome.sop_instance_uid)

    async def handle_n_set(
        self, sop_instance_uid: str, modifications: Dataset, context: ServiceContext
    ) -> GeneratedOutcome[StatusCode]:
        """N-SET (module text)."""
        from dicompile.generated.services.base import Outcome as Answer

        outcome = self.provider.set(sop_instance_uid, modifications)
        _log("N-SET", sop_instance_uid, context, outcome.problem, "updated")
        _raise(outcome.problem)
        return Answer(SUCCESS)


def _log(
    what: str, uid: str | None, context: ServiceContext, problem: Problem | None, done: str
) -> None:
    result = f"{problem.status:04X}H {problem.comment}" if problem else done
    log.info("%s %s from %s: %s", what, uid, context.calling_ae_title, result)


def _raise(problem: Problem | None) -> None:
    from dicompile.runtime.net.services.routes.context import StatusFailure

    if problem is not None:
        raise StatusFailure(
            problem.status,
            _comment(problem.comment),
            error_id=problem.error_id,
            attribute_identifier_list=problem.tags,
        )


def mpps_service(
    folder: str | Path | ProcedureStepStore,
) -> tuple[tuple[SupportedContext, ...], dict[type[Request], RequestHandler]]:
    """The MPPS SCP for an archive folder: the context to accept and the N-CREATE and
    N-SET handlers (:class:`MPPSService` through the typed dispatch).

    References
    ----------
    PS3.4 F.7.2.1.3, F.7.2.2.3, Table F.7.2-2; PS3.7 §10.1.2, §10.1.5.
    """
    from dicompile.runtime.net.services.dispatch import scp_handlers

    store = folder if isinstance(folder, ProcedureStepStore) else ProcedureStepStore(folder)
    handlers = scp_handlers(MPPSService(MPPSProvider(store)), [MPPS_SOP_CLASS])
    return (MPPS_SCP_CONTEXT,), handlers


# --------------------------------------------------------------------------------------
# SCU
# --------------------------------------------------------------------------------------


def _empty_required(dataset: Dataset, rows: Iterable[AttributeRequirement]) -> None:
    # Type 2 attributes are sent empty when unknown (PS3.5 §7.4.3): create them so.
    for row in rows:
        if row.tag is not None and row.scu == "2" and row.tag not in dataset:
            dataset.set(row.tag, None)


def n_create_attributes(
    *,
    performed_procedure_step_id: str,
    station_ae_title: str,
    start_date: str,
    start_time: str,
    modality: str,
    study_instance_uid: str | None = None,
    values: Dataset | None = None,
) -> Dataset:
    """An N-CREATE Attribute List that meets Table F.7.2-1 (SCU column): the Type 1 values
    given here, every other Type 1/2 attribute present (Type 2 empty), status IN PROGRESS,
    then ``values`` (from a worklist item or the command line) on top.

    References
    ----------
    PS3.4 F.7.2.1.2, Table F.7.2-1.
    """
    table = _n_create_table()
    step = Dataset()
    step.set("StudyInstanceUID", study_instance_uid or uid_from_uuid())
    scheduled = next(r for r in table.attributes if r.keyword == "ScheduledStepAttributesSequence")
    _empty_required(step, scheduled.children)
    dataset = Dataset()
    dataset.set("ScheduledStepAttributesSequence", Sequence([step]))
    dataset.set("PerformedProcedureStepID", performed_procedure_step_id)
    dataset.set("PerformedStationAETitle", station_ae_title)
    dataset.set("PerformedProcedureStepStartDate", start_date)
    dataset.set("PerformedProcedureStepStartTime", start_time)
    dataset.set("PerformedProcedureStepStatus", IN_PROGRESS)
    dataset.set("Modality", modality)
    for element in values or ():
        dataset.add(element)
    # Fill what the given values left out, in their Scheduled Step items too.
    _empty_required(dataset, table.attributes)
    items = dataset.get_value("ScheduledStepAttributesSequence")
    for item in items if isinstance(items, Sequence) else ():
        _empty_required(item, scheduled.children)
    return dataset


@attrs.frozen
class StepResult:
    """The SCP's answer to an N-CREATE or N-SET."""

    status: int
    sop_instance_uid: str | None
    error_comment: str | None = None
    error_id: int | None = None
    attribute_identifier_list: tuple[int, ...] | None = None


def _context(association: Association) -> AcceptedContext:
    context = association.negotiated.find(MPPS_SOP_CLASS)
    if context is None:
        raise LocalProtocolError("the peer accepted no Modality Performed Procedure Step context")
    return context


async def create_step(
    association: Association, attributes: Dataset, sop_instance_uid: str | None = None
) -> StepResult:
    """N-CREATE an MPPS instance (a new UID when none is given, F.7.2.1.2).

    Raises
    ------
    LocalProtocolError
        No MPPS context was accepted.
    AssociationAbortedError
        The association ended before the response.

    References
    ----------
    PS3.4 F.7.2.1.2; PS3.7 §10.1.5.
    """
    context = _context(association)
    uid = sop_instance_uid or uid_from_uuid()
    response = await association.request(
        NCreateRQ(
            message_id=association.next_message_id(),
            affected_sop_class_uid=MPPS_SOP_CLASS,
            affected_sop_instance_uid=uid,
            data_set=encode_payload(attributes, context.transfer_syntax),
        ),
        context.context_id,
    )
    assert isinstance(response, NCreateRSP)
    return StepResult(
        response.status,
        response.affected_sop_instance_uid or uid,
        response.error_comment,
        response.error_id,
        response.attribute_identifier_list,
    )


async def set_step(
    association: Association, sop_instance_uid: str, modifications: Dataset
) -> StepResult:
    """N-SET attributes of an MPPS instance.

    References
    ----------
    PS3.4 F.7.2.2.2; PS3.7 §10.1.2.
    """
    context = _context(association)
    response = await association.request(
        NSetRQ(
            message_id=association.next_message_id(),
            requested_sop_class_uid=MPPS_SOP_CLASS,
            requested_sop_instance_uid=sop_instance_uid,
            data_set=encode_payload(modifications, context.transfer_syntax),
        ),
        context.context_id,
    )
    assert isinstance(response, NSetRSP)
    return StepResult(
        response.status,
        response.affected_sop_instance_uid or sop_instance_uid,
        response.error_comment,
        response.error_id,
        response.attribute_identifier_list,
    )


__all__ = [
    "COMPLETED",
    "DISCONTINUED",
    "IN_PROGRESS",
    "MPPS_CONTEXT",
    "MPPS_SCP_CONTEXT",
    "MPPS_SOP_CLASS",
    "MPPSProvider",
    "MPPSService",
    "Outcome",
    "Problem",
    "StepResult",
    "check_required",
    "create_step",
    "mpps_service",
    "n_create_attributes",
    "not_allowed_in_set",
    "set_step",
]
