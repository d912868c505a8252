"""Association negotiation as pure functions: A-ASSOCIATE primitives and an AE in, results out.

Theory of operation
-------------------
Acceptor (:func:`accept_or_reject`): an :class:`~dicompile.runtime.net.ul.primitives.
AAssociateIndication` and our :class:`~dicompile.runtime.net.ae.ApplicationEntity` give
either an A-ASSOCIATE-RJ response or an A-ASSOCIATE-AC response together with the
:class:`Negotiated` record both sides then live by.  The checks, in order:

1. the application context name must be the DICOM one (else RJ permanent, service-user,
   reason 2 "application-context-name-not-supported", PS3.8 Table 9-21; PS3.7 A.2.1);
2. the Called AE Title must be ours when the AE requires it (reason 7), the Calling AE
   Title one of those configured when a list is given (reason 3);
3. presentation context IDs must be distinct (else RJ permanent, service-user, no reason);
4. each presentation context (PS3.8 §7.1.1.13-14) is accepted with one transfer syntax, or
   rejected with *abstract-syntax-not-supported* (3) when we do not know the abstract
   syntax, *transfer-syntaxes-not-supported* (4) when none of the proposed is ours,
   *user-rejection* (1) when the roles the requestor proposes leave us no role we support
   (PS3.7 D.3.3.4).  An association whose every context is rejected is still accepted: the
   requestor learns each reason and releases.
5. role selection (PS3.7 D.3.3.4): for every SOP class the requestor sent an SCP/SCU Role
   Selection sub-item for (and whose context we accept), we answer with the roles granted:
   a role is granted only if proposed and supported; without a sub-item the requestor is
   SCU and we are SCP;
6. asynchronous operations window (PS3.7 D.3.3.3): answered only when proposed, with each
   count the smaller of theirs and ours (0 meaning unlimited).

The limit on concurrent associations is the driver's; :func:`reject_busy` builds its reject
(transient, service-provider presentation related, local-limit-exceeded).

Requestor (:func:`build_request`, :func:`negotiated_from_confirmation`): the contexts to
propose get odd IDs from 1 in order; role selection sub-items are sent only for SOP classes
where we want roles other than SCU only; the A-ASSOCIATE-AC is checked against what we
proposed (a transfer syntax we did not propose, or an ID we did not use, makes that context
unusable rather than trusted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.net.ae import ApplicationEntity, SupportedContext
from dicompile.runtime.net.ul.pdu import (
    DICOM_APPLICATION_CONTEXT_NAME,
    AsynchronousOperationsWindowSubItem,
    ContextResult,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    MaximumLengthSubItem,
    PresentationRejectReason,
    RejectResult,
    RejectSource,
    Reserved,
    RoleSelectionSubItem,
    UserInformationItem,
    UserRejectReason,
    UserSubItem,
)
from dicompile.runtime.net.ul.primitives import (
    AAssociateAcceptConfirmation,
    AAssociateAcceptResponse,
    AAssociateIndication,
    AAssociateRejectResponse,
    AAssociateRequest,
    PresentationAddress,
    PresentationContextDefinition,
    PresentationContextResult,
)

#: PS3.8 §9.3.2.2: presentation context IDs are odd integers 1-255, so at most 128.
MAX_PRESENTATION_CONTEXTS = 128


@attrs.frozen
class AcceptedContext:
    """A presentation context both sides agreed on, seen from *this* side.

    ``scu``: we may invoke operations of the SOP class on it; ``scp``: we perform them.

    References
    ----------
    PS3.8 §7.1.1.13-14; PS3.7 D.3.3.4.
    """

    context_id: int
    abstract_syntax: str
    transfer_syntax: str
    scu: bool
    scp: bool


@attrs.frozen
class Negotiated:
    """What an association lives by once established, seen from this side.

    ``peer_max_pdu_length`` is the longest P-DATA-TF we may send (0: no limit, PS3.8 D.1).
    ``max_invoked`` is how many of our requests may be outstanding at once, and
    ``max_performed`` how many of the peer's we must be ready to have outstanding (0:
    unlimited; 1 when no window was negotiated, PS3.7 D.3.3.3).
    """

    local_ae_title: str
    peer_ae_title: str
    contexts: Mapping[int, AcceptedContext]
    rejected: tuple[PresentationContextResult, ...] = ()
    peer_max_pdu_length: int = 0
    local_max_pdu_length: int = 0
    max_invoked: int = 1
    max_performed: int = 1
    peer_implementation_class_uid: str | None = None
    peer_implementation_version_name: str | None = None

    def find(
        self, abstract_syntax: str, transfer_syntax: str | None = None, *, scu: bool = True
    ) -> AcceptedContext | None:
        """The first accepted context for ``abstract_syntax`` (and ``transfer_syntax`` when
        given) in which we have the role asked for (SCU by default, else SCP)."""
        for context in self.contexts.values():
            if context.abstract_syntax != abstract_syntax:
                continue
            if transfer_syntax is not None and context.transfer_syntax != transfer_syntax:
                continue
            if context.scu if scu else context.scp:
                return context
        return None


@attrs.frozen
class Acceptance:
    """The acceptor's decision: the A-ASSOCIATE-AC response and what it establishes."""

    response: AAssociateAcceptResponse
    negotiated: Negotiated


def _min_window(theirs: int, ours: int) -> int:
    # PS3.7 D.3.3.3: 0 means unlimited; the answer never exceeds what was proposed.
    if theirs == 0:
        return ours
    if ours == 0:
        return theirs
    return min(theirs, ours)


def _reject(reason: UserRejectReason) -> AAssociateRejectResponse:
    return AAssociateRejectResponse(RejectResult.REJECTED_PERMANENT, reason)


def reject_busy() -> AAssociateRejectResponse:
    """The reject for an acceptor at its association limit (PS3.8 Table 9-21).

    Rejected-transient, source service-provider (presentation related function), reason
    local-limit-exceeded: the requestor may try again later.
    """
    return AAssociateRejectResponse(
        RejectResult.REJECTED_TRANSIENT,
        PresentationRejectReason.LOCAL_LIMIT_EXCEEDED,
        RejectSource.SERVICE_PROVIDER_PRESENTATION,
    )


def _own_user_information(
    ae: ApplicationEntity, extra: Iterable[UserSubItem]
) -> UserInformationItem:
    items: list[UserSubItem] = [
        MaximumLengthSubItem(ae.max_pdu_length),
        ImplementationClassUIDSubItem(ae.implementation_class_uid),
    ]
    if ae.implementation_version_name:
        items.append(ImplementationVersionNameSubItem(ae.implementation_version_name))
    items.extend(extra)
    return UserInformationItem(tuple(items))


def _pick_transfer_syntax(
    proposed: Sequence[str], supported: SupportedContext, own_order: bool
) -> str | None:
    ours = supported.transfer_syntaxes
    if own_order:
        return next((ts for ts in ours if ts in proposed), None)
    return next((ts for ts in proposed if ts in ours), None)


def accept_or_reject(
    indication: AAssociateIndication, ae: ApplicationEntity
) -> Acceptance | AAssociateRejectResponse:
    """Apply ``ae``'s policy to an A-ASSOCIATE indication (see the module's theory).

    References
    ----------
    PS3.8 §7.1.1, §7.1.2, Table 9-21; PS3.7 D.3.3.3, D.3.3.4.
    """
    if indication.application_context_name != DICOM_APPLICATION_CONTEXT_NAME:
        return _reject(UserRejectReason.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED)
    if ae.require_called_ae_title and indication.called_ae_title != ae.ae_title:
        return _reject(UserRejectReason.CALLED_AE_TITLE_NOT_RECOGNIZED)
    if ae.calling_ae_titles is not None and indication.calling_ae_title not in ae.calling_ae_titles:
        return _reject(UserRejectReason.CALLING_AE_TITLE_NOT_RECOGNIZED)
    ids = [c.context_id for c in indication.presentation_contexts]
    if len(set(ids)) != len(ids):
        return _reject(UserRejectReason.NO_REASON_GIVEN)

    info = indication.user_information
    # Roles the requestor proposes per SOP class; the default is requestor SCU only.
    proposed_roles = {r.sop_class_uid: (r.scu_role, r.scp_role) for r in info.role_selections}
    supported = ae.by_abstract_syntax
    results: list[PresentationContextResult] = []
    accepted: dict[int, AcceptedContext] = {}
    granted_roles: dict[str, tuple[bool, bool]] = {}
    for context in indication.presentation_contexts:
        ours = supported.get(context.abstract_syntax)
        if ours is None:
            results.append(
                PresentationContextResult(
                    context.context_id, ContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED
                )
            )
            continue
        their_scu, their_scp = proposed_roles.get(context.abstract_syntax, (True, False))
        # The requestor's SCU role needs us as SCP, its SCP role needs us as SCU.
        grant_scu, grant_scp = their_scu and ours.scp, their_scp and ours.scu
        if not (grant_scu or grant_scp):
            results.append(
                PresentationContextResult(context.context_id, ContextResult.USER_REJECTION)
            )
            continue
        chosen = _pick_transfer_syntax(
            context.transfer_syntaxes, ours, ae.prefer_own_transfer_syntax_order
        )
        if chosen is None:
            results.append(
                PresentationContextResult(
                    context.context_id, ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED
                )
            )
            continue
        results.append(
            PresentationContextResult(context.context_id, ContextResult.ACCEPTANCE, chosen)
        )
        accepted[context.context_id] = AcceptedContext(
            context.context_id, context.abstract_syntax, chosen, scu=grant_scp, scp=grant_scu
        )
        if context.abstract_syntax in proposed_roles:
            granted_roles[context.abstract_syntax] = (grant_scu, grant_scp)

    extra: list[UserSubItem] = [
        RoleSelectionSubItem(uid, scu, scp) for uid, (scu, scp) in granted_roles.items()
    ]
    max_invoked = max_performed = 1
    window = info.asynchronous_operations_window
    if window is not None:
        # PS3.7 D.3.3.3: the AC holds the acceptor's own counts.  We invoke at most what
        # they perform, and perform at most what they invoke, each within our own limits.
        max_invoked = _min_window(
            window.maximum_number_operations_performed, ae.max_operations_invoked
        )
        max_performed = _min_window(
            window.maximum_number_operations_invoked, ae.max_operations_performed
        )
        extra.append(AsynchronousOperationsWindowSubItem(max_invoked, max_performed))
    response = AAssociateAcceptResponse(tuple(results), _own_user_information(ae, extra))
    negotiated = Negotiated(
        local_ae_title=ae.ae_title,
        peer_ae_title=indication.calling_ae_title,
        contexts=accepted,
        rejected=tuple(r for r in results if r.result != ContextResult.ACCEPTANCE),
        peer_max_pdu_length=info.maximum_length or 0,
        local_max_pdu_length=ae.max_pdu_length,
        max_invoked=max_invoked,
        max_performed=max_performed,
        peer_implementation_class_uid=info.implementation_class_uid,
        peer_implementation_version_name=info.implementation_version_name,
    )
    return Acceptance(response, negotiated)


@attrs.frozen
class ProposedContext:
    """A presentation context to propose: one abstract syntax, its transfer syntaxes, and
    the roles we want (SCU only by default)."""

    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]
    scu: bool = True
    scp: bool = False


def build_request(
    ae: ApplicationEntity,
    *,
    called_ae_title: str,
    address: PresentationAddress,
    contexts: Sequence[ProposedContext],
) -> AAssociateRequest:
    """The A-ASSOCIATE request that proposes ``contexts`` (odd IDs from 1, in order).

    Raises
    ------
    LocalProtocolError
        More than 128 contexts, none at all, or a bad AE title or UID.

    References
    ----------
    PS3.8 §7.1.1, §9.3.2.2; PS3.7 D.3.3.3, D.3.3.4.
    """
    if not contexts:
        raise LocalProtocolError("an A-ASSOCIATE request needs at least one presentation context")
    if len(contexts) > MAX_PRESENTATION_CONTEXTS:
        raise LocalProtocolError(
            f"{len(contexts)} presentation contexts proposed; PS3.8 §9.3.2.2 allows 128"
        )
    definitions = tuple(
        PresentationContextDefinition(2 * i + 1, c.abstract_syntax, c.transfer_syntaxes)
        for i, c in enumerate(contexts)
    )
    extra: list[UserSubItem] = []
    if (ae.max_operations_invoked, ae.max_operations_performed) != (1, 1):
        extra.append(
            AsynchronousOperationsWindowSubItem(
                ae.max_operations_invoked, ae.max_operations_performed
            )
        )
    roles: dict[str, tuple[bool, bool]] = {}
    for context in contexts:
        if (context.scu, context.scp) != (True, False):
            roles[context.abstract_syntax] = (context.scu, context.scp)
    extra += [RoleSelectionSubItem(uid, scu, scp) for uid, (scu, scp) in roles.items()]
    return AAssociateRequest(
        called_ae_title=called_ae_title,
        calling_ae_title=ae.ae_title,
        called_presentation_address=address,
        presentation_contexts=definitions,
        user_information=_own_user_information(ae, extra),
    )


def negotiated_from_confirmation(
    request: AAssociateRequest,
    confirmation: AAssociateAcceptConfirmation,
    ae: ApplicationEntity,
) -> Negotiated:
    """What the requestor may use after an A-ASSOCIATE-AC (see the module's theory).

    References
    ----------
    PS3.8 §7.1.1.14; PS3.7 D.3.3.3, D.3.3.4.
    """
    proposed = {c.context_id: c for c in request.presentation_contexts}
    info = confirmation.user_information
    # Roles we asked for; a SOP class without a role item in the AC falls back to defaults.
    asked = {
        r.sop_class_uid: (r.scu_role, r.scp_role) for r in request.user_information.role_selections
    }
    answered = {r.sop_class_uid: (r.scu_role, r.scp_role) for r in info.role_selections}
    accepted: dict[int, AcceptedContext] = {}
    rejected: list[PresentationContextResult] = []
    for result in confirmation.presentation_contexts:
        mine = proposed.get(result.context_id)
        if mine is None:
            continue
        if (
            result.result != ContextResult.ACCEPTANCE
            or result.transfer_syntax is None
            or result.transfer_syntax not in mine.transfer_syntaxes
        ):
            rejected.append(result)
            continue
        abstract = mine.abstract_syntax
        if abstract in asked and abstract in answered:
            want_scu, want_scp = asked[abstract]
            got_scu, got_scp = answered[abstract]
            scu, scp = want_scu and got_scu, want_scp and got_scp
        else:
            scu, scp = True, False
        accepted[result.context_id] = AcceptedContext(
            result.context_id, abstract, result.transfer_syntax, scu=scu, scp=scp
        )
    max_invoked = max_performed = 1
    window = info.asynchronous_operations_window
    if window is not None and request.user_information.asynchronous_operations_window is not None:
        # The AC holds the acceptor's counts: we invoke at most what it performs.
        max_invoked = window.maximum_number_operations_performed
        max_performed = window.maximum_number_operations_invoked
    return Negotiated(
        local_ae_title=request.calling_ae_title,
        peer_ae_title=request.called_ae_title,
        contexts=accepted,
        rejected=tuple(rejected),
        peer_max_pdu_length=info.maximum_length or 0,
        local_max_pdu_length=ae.max_pdu_length,
        max_invoked=max_invoked,
        max_performed=max_performed,
        peer_implementation_class_uid=info.implementation_class_uid,
        peer_implementation_version_name=info.implementation_version_name,
    )


def context_result_name(result: ContextResult | Reserved) -> str:
    """A person's name for a presentation context result (PS3.8 Table 9-18)."""
    if isinstance(result, Reserved):
        return f"reserved result {result.value}"
    return result.name.lower().replace("_", " ")
