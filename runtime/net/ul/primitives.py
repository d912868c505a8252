"""PS3.8 §7 upper layer service primitives, and their mapping to and from PDUs.

Theory of operation
-------------------
* A primitive is what crosses the boundary between the upper layer and its user (PS3.8
  Annex G): the user *sends* requests and responses (:data:`UserRequest`) and *receives*
  indications and confirmations (:data:`UserEvent`).  PDUs (``pdu.py``) are what crosses
  the wire.  The two are separate layers; the functions at the end of this module are the
  only place where one becomes the other.
* Parameters follow PS3.8 Table 7-2 (A-ASSOCIATE), 7-4 (A-RELEASE), 7-5 (A-ABORT), 7-6
  (A-P-ABORT) and 7-7 (P-DATA).  Parameters the standard fixes or does not use (mode,
  responding AE title, release reason and result, ...) are not fields: they have one
  value, which the mapping supplies.
* The user information parameter is the PS3.8 Annex D / PS3.7 D.3.3 sub-item list itself
  (:class:`~dicompile.runtime.net.ul.pdu.UserInformationItem`), and a presentation data
  value is the PDV record of ``pdu.py``: both are defined once.
* All records are frozen.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from dicompile.runtime.net.ul.pdu import (
    DICOM_APPLICATION_CONTEXT_NAME,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    AbortReason,
    AbortSource,
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    ContextResult,
    PresentationContextACItem,
    PresentationContextRQItem,
    PresentationDataValue,
    RejectReason,
    RejectResult,
    RejectSource,
    Reserved,
    TransferSyntaxSubItem,
    UserInformationItem,
)


@attrs.frozen
class PresentationAddress:
    """A TCP/IP presentation address (PS3.8 §7.1.1.13, §9.1): host and port."""

    host: str
    port: int


@attrs.frozen
class PresentationContextDefinition:
    """One element of the Presentation Context Definition List (PS3.8 §7.1.1.13)."""

    context_id: int
    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]


@attrs.frozen
class PresentationContextResult:
    """One element of the Presentation Context Definition Result List (PS3.8 §7.1.1.14).

    ``transfer_syntax`` is the one accepted, or ``None`` when the context is rejected.
    """

    context_id: int
    result: ContextResult | Reserved
    transfer_syntax: str | None = None


# --------------------------------------------------------------------------------------
# A-ASSOCIATE (PS3.8 §7.1, Tables 7-2 and 7-3)
# --------------------------------------------------------------------------------------


@attrs.frozen
class AAssociateRequest:
    """A-ASSOCIATE request primitive (requestor's user -> upper layer)."""

    called_ae_title: str
    calling_ae_title: str
    called_presentation_address: PresentationAddress
    presentation_contexts: tuple[PresentationContextDefinition, ...]
    user_information: UserInformationItem
    application_context_name: str = DICOM_APPLICATION_CONTEXT_NAME
    calling_presentation_address: PresentationAddress | None = None


@attrs.frozen
class AAssociateIndication:
    """A-ASSOCIATE indication primitive (upper layer -> acceptor's user).

    ``protocol_version`` is the A-ASSOCIATE-RQ's bit field (bit 0: version 1); the
    presentation addresses are those the transport reported, when it did.
    """

    called_ae_title: str
    calling_ae_title: str
    presentation_contexts: tuple[PresentationContextDefinition, ...]
    user_information: UserInformationItem
    application_context_name: str
    protocol_version: int = 1
    called_presentation_address: PresentationAddress | None = None
    calling_presentation_address: PresentationAddress | None = None


@attrs.frozen
class AAssociateAcceptResponse:
    """A-ASSOCIATE response primitive with result "accepted" (Table 9-10 event 7)."""

    presentation_contexts: tuple[PresentationContextResult, ...]
    user_information: UserInformationItem
    application_context_name: str = DICOM_APPLICATION_CONTEXT_NAME


@attrs.frozen
class AAssociateRejectResponse:
    """A-ASSOCIATE response primitive with a "rejected" result (Table 9-10 event 8).

    The result source is the service-user (PS3.8 §7.1.2.3) unless the user rejects on the
    provider's behalf, as PS3.7 D.3.3.7.3 asks for a user identity failure (source 2).
    """

    result: RejectResult
    reason: RejectReason
    source: RejectSource = RejectSource.SERVICE_USER


@attrs.frozen
class AAssociateAcceptConfirmation:
    """A-ASSOCIATE confirmation primitive, result "accepted" (source: service-user)."""

    called_ae_title: str
    calling_ae_title: str
    presentation_contexts: tuple[PresentationContextResult, ...]
    user_information: UserInformationItem
    application_context_name: str
    protocol_version: int = 1


@attrs.frozen
class AAssociateRejectConfirmation:
    """A-ASSOCIATE confirmation primitive with a "rejected" result, source and diagnostic."""

    result: RejectResult | Reserved
    source: RejectSource | Reserved
    reason: RejectReason


# --------------------------------------------------------------------------------------
# A-RELEASE (PS3.8 §7.2, Table 7-4: reason "normal" and result "affirmative" are fixed)
# --------------------------------------------------------------------------------------


@attrs.frozen
class AReleaseRequest:
    """A-RELEASE request primitive."""


@attrs.frozen
class AReleaseIndication:
    """A-RELEASE indication primitive.

    ``collision`` is true when both users asked to release at once (PS3.8 §7.2.2.7,
    Table 9-10 AR-8): the association-requestor then answers at once with an
    :class:`AReleaseResponse`; the association-acceptor first waits for its
    :class:`AReleaseConfirmation` and answers after it.
    """

    collision: bool = False


@attrs.frozen
class AReleaseResponse:
    """A-RELEASE response primitive (always affirmative, PS3.8 §7.2.2.3)."""


@attrs.frozen
class AReleaseConfirmation:
    """A-RELEASE confirmation primitive (always affirmative, PS3.8 §7.2.2.5)."""


# --------------------------------------------------------------------------------------
# A-ABORT, A-P-ABORT (PS3.8 §7.3, §7.4)
# --------------------------------------------------------------------------------------


@attrs.frozen
class AAbortRequest:
    """A-ABORT request primitive (user information is not used, Table 7-5)."""


@attrs.frozen
class AAbortIndication:
    """A-ABORT indication primitive with its abort source (Table 7-5)."""

    source: AbortSource | Reserved = AbortSource.SERVICE_USER


@attrs.frozen
class APAbortIndication:
    """A-P-ABORT indication primitive (PS3.8 §7.4, Table 7-6).

    ``reason`` is the provider reason; ``detail`` says, for people, what happened (the
    decode error, the unexpected PDU, the lost connection): PS3.8 §7.4.1 lets such local
    reasons accompany the standard ones.
    """

    reason: AbortReason | Reserved
    detail: str = ""


# --------------------------------------------------------------------------------------
# P-DATA (PS3.8 §7.6, Table 7-7)
# --------------------------------------------------------------------------------------


@attrs.frozen
class PDataRequest:
    """P-DATA request primitive: the presentation data value list."""

    pdvs: tuple[PresentationDataValue, ...]


@attrs.frozen
class PDataIndication:
    """P-DATA indication primitive: the presentation data value list."""

    pdvs: tuple[PresentationDataValue, ...]


UserRequest: TypeAlias = (
    AAssociateRequest
    | AAssociateAcceptResponse
    | AAssociateRejectResponse
    | PDataRequest
    | AReleaseRequest
    | AReleaseResponse
    | AAbortRequest
)
"""What the user gives the upper layer: request and response primitives."""

UserEvent: TypeAlias = (
    AAssociateIndication
    | AAssociateAcceptConfirmation
    | AAssociateRejectConfirmation
    | PDataIndication
    | AReleaseIndication
    | AReleaseConfirmation
    | AAbortIndication
    | APAbortIndication
)
"""What the upper layer gives the user: indication and confirmation primitives."""


# --------------------------------------------------------------------------------------
# Primitive <-> PDU
# --------------------------------------------------------------------------------------


def associate_rq_from_request(request: AAssociateRequest) -> AAssociateRQ:
    """The A-ASSOCIATE-RQ PDU that carries an A-ASSOCIATE request (Table 9-10 AE-2).

    References
    ----------
    PS3.8 §7.1.1, §9.3.2.
    """
    return AAssociateRQ(
        called_ae_title=request.called_ae_title,
        calling_ae_title=request.calling_ae_title,
        application_context=ApplicationContextItem(request.application_context_name),
        presentation_contexts=tuple(
            PresentationContextRQItem(
                c.context_id,
                AbstractSyntaxSubItem(c.abstract_syntax),
                tuple(TransferSyntaxSubItem(ts) for ts in c.transfer_syntaxes),
            )
            for c in request.presentation_contexts
        ),
        user_information=request.user_information,
    )


def indication_from_associate_rq(
    pdu: AAssociateRQ,
    *,
    called_address: PresentationAddress | None = None,
    calling_address: PresentationAddress | None = None,
) -> AAssociateIndication:
    """The A-ASSOCIATE indication an A-ASSOCIATE-RQ PDU gives (Table 9-10 AE-6).

    References
    ----------
    PS3.8 §7.1.1, §9.3.2.
    """
    return AAssociateIndication(
        called_ae_title=pdu.called_ae_title,
        calling_ae_title=pdu.calling_ae_title,
        presentation_contexts=tuple(
            PresentationContextDefinition(
                c.context_id, c.abstract_syntax.name, tuple(t.name for t in c.transfer_syntaxes)
            )
            for c in pdu.presentation_contexts
        ),
        user_information=pdu.user_information,
        application_context_name=pdu.application_context.name,
        protocol_version=pdu.protocol_version,
        called_presentation_address=called_address,
        calling_presentation_address=calling_address,
    )


def associate_ac_from_response(
    response: AAssociateAcceptResponse, request: AAssociateRQ
) -> AAssociateAC:
    """The A-ASSOCIATE-AC PDU for an accept response to ``request`` (Table 9-10 AE-7).

    The AC's reserved bytes 11-42 repeat the request's AE titles (PS3.8 Table 9-17).

    References
    ----------
    PS3.8 §7.1.1, §9.3.3.
    """
    return AAssociateAC(
        called_ae_title=request.called_ae_title,
        calling_ae_title=request.calling_ae_title,
        application_context=ApplicationContextItem(response.application_context_name),
        presentation_contexts=tuple(
            PresentationContextACItem(
                c.context_id,
                c.result,
                TransferSyntaxSubItem(c.transfer_syntax) if c.transfer_syntax else None,
            )
            for c in response.presentation_contexts
        ),
        user_information=response.user_information,
    )


def confirmation_from_associate_ac(pdu: AAssociateAC) -> AAssociateAcceptConfirmation:
    """The A-ASSOCIATE confirmation (accept) an A-ASSOCIATE-AC PDU gives (AE-3).

    A context that was not accepted has no transfer syntax in the primitive, whatever the
    PDU's not-significant sub-item held.

    References
    ----------
    PS3.8 §7.1.1, §9.3.3.
    """
    return AAssociateAcceptConfirmation(
        called_ae_title=pdu.called_ae_title,
        calling_ae_title=pdu.calling_ae_title,
        presentation_contexts=tuple(
            PresentationContextResult(
                c.context_id,
                c.result,
                c.transfer_syntax.name
                if c.result == ContextResult.ACCEPTANCE and c.transfer_syntax is not None
                else None,
            )
            for c in pdu.presentation_contexts
        ),
        user_information=pdu.user_information,
        application_context_name=pdu.application_context.name,
        protocol_version=pdu.protocol_version,
    )


def associate_rj_from_response(response: AAssociateRejectResponse) -> AAssociateRJ:
    """The A-ASSOCIATE-RJ PDU for a reject response (Table 9-10 AE-8)."""
    return AAssociateRJ(response.result, response.source, response.reason)


def confirmation_from_associate_rj(pdu: AAssociateRJ) -> AAssociateRejectConfirmation:
    """The A-ASSOCIATE confirmation (reject) an A-ASSOCIATE-RJ PDU gives (AE-4)."""
    return AAssociateRejectConfirmation(pdu.result, pdu.source, pdu.reason)
