"""Association negotiation (PS3.8 §7.1.1.13-14, Table 9-21; PS3.7 D.3.3.3-4), pure functions.

Also runs the decisions through the sans-IO upper layer pair, so that what the acceptor
decides is what the requestor reads back from the wire.
"""

from __future__ import annotations

import pytest

from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.net.ae import (
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    ApplicationEntity,
    SupportedContext,
)
from dicompile.runtime.net.negotiation import (
    Acceptance,
    ProposedContext,
    accept_or_reject,
    build_request,
    negotiated_from_confirmation,
    reject_busy,
)
from dicompile.runtime.net.ul.pdu import (
    AsynchronousOperationsWindowSubItem,
    ContextResult,
    PresentationRejectReason,
    RejectResult,
    RejectSource,
    RoleSelectionSubItem,
    UserInformationItem,
    UserRejectReason,
)
from dicompile.runtime.net.ul.primitives import (
    AAssociateAcceptConfirmation,
    AAssociateIndication,
    AAssociateRejectConfirmation,
    AAssociateRejectResponse,
    PresentationAddress,
    PresentationContextDefinition,
)
from dicompile.runtime.net.ul.table import Role

from .ul.helpers import AssociationPair

VERIFICATION = "1.2.840.10008.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
ADDRESS = PresentationAddress("127.0.0.1", 104)

SCP = ApplicationEntity(
    "STORE-SCP",
    contexts=(
        SupportedContext(VERIFICATION),
        SupportedContext(CT, (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)),
        SupportedContext(MR, (IMPLICIT_VR_LITTLE_ENDIAN,), scu=False),
    ),
)
SCU = ApplicationEntity("STORE-SCU")


def indication(
    contexts: tuple[PresentationContextDefinition, ...],
    *,
    called: str = "STORE-SCP",
    calling: str = "STORE-SCU",
    sub_items: tuple[object, ...] = (),
    application_context: str = "1.2.840.10008.3.1.1.1",
) -> AAssociateIndication:
    return AAssociateIndication(
        called_ae_title=called,
        calling_ae_title=calling,
        presentation_contexts=contexts,
        user_information=UserInformationItem(sub_items),  # type: ignore[arg-type]
        application_context_name=application_context,
    )


def ctx(cid: int, abstract: str, *ts: str) -> PresentationContextDefinition:
    return PresentationContextDefinition(cid, abstract, ts)


# -- rejects (Table 9-21) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("ae", "kwargs", "reason"),
    [
        (
            SCP,
            {"application_context": "1.2.3.4"},
            UserRejectReason.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
        ),
        (
            SCP.__class__("STORE-SCP", contexts=SCP.contexts, require_called_ae_title=True),
            {"called": "SOMEONE-ELSE"},
            UserRejectReason.CALLED_AE_TITLE_NOT_RECOGNIZED,
        ),
        (
            ApplicationEntity("STORE-SCP", contexts=SCP.contexts, calling_ae_titles={"FRIEND"}),
            {"calling": "STRANGER"},
            UserRejectReason.CALLING_AE_TITLE_NOT_RECOGNIZED,
        ),
    ],
    ids=["application-context", "called-ae", "calling-ae"],
)
def test_rejects_with_the_table_9_21_reason(
    ae: ApplicationEntity, kwargs: dict[str, str], reason: UserRejectReason
) -> None:
    decision = accept_or_reject(
        indication((ctx(1, VERIFICATION, IMPLICIT_VR_LITTLE_ENDIAN),), **kwargs), ae
    )  # type: ignore[arg-type]
    assert decision == AAssociateRejectResponse(
        RejectResult.REJECTED_PERMANENT, reason, RejectSource.SERVICE_USER
    )


def test_called_ae_title_is_not_checked_unless_asked() -> None:
    decision = accept_or_reject(
        indication((ctx(1, VERIFICATION, IMPLICIT_VR_LITTLE_ENDIAN),), called="ANY-SCP"), SCP
    )
    assert isinstance(decision, Acceptance)


def test_called_ae_title_matches_when_required() -> None:
    ae = ApplicationEntity("STORE-SCP", contexts=SCP.contexts, require_called_ae_title=True)
    decision = accept_or_reject(indication((ctx(1, VERIFICATION, IMPLICIT_VR_LITTLE_ENDIAN),)), ae)
    assert isinstance(decision, Acceptance)


def test_duplicate_context_ids_are_rejected() -> None:
    contexts = (
        ctx(1, VERIFICATION, IMPLICIT_VR_LITTLE_ENDIAN),
        ctx(1, CT, IMPLICIT_VR_LITTLE_ENDIAN),
    )
    decision = accept_or_reject(indication(contexts), SCP)
    assert isinstance(decision, AAssociateRejectResponse)
    assert decision.reason is UserRejectReason.NO_REASON_GIVEN


def test_busy_reject_is_transient_provider_presentation_local_limit() -> None:
    busy = reject_busy()
    assert busy.result is RejectResult.REJECTED_TRANSIENT
    assert busy.source is RejectSource.SERVICE_PROVIDER_PRESENTATION
    assert busy.reason is PresentationRejectReason.LOCAL_LIMIT_EXCEEDED


# -- presentation contexts (PS3.8 §7.1.1.14) -------------------------------------------------


def test_each_context_gets_its_result() -> None:
    contexts = (
        ctx(1, VERIFICATION, EXPLICIT_VR_BIG_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN),
        ctx(3, CT, JPEG_BASELINE),
        ctx(5, "1.2.3.999", IMPLICIT_VR_LITTLE_ENDIAN),
        ctx(7, CT, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN),
    )
    decision = accept_or_reject(indication(contexts), SCP)
    assert isinstance(decision, Acceptance)
    results = {
        r.context_id: (r.result, r.transfer_syntax) for r in decision.response.presentation_contexts
    }
    assert results == {
        # The requestor's order wins by default, among the syntaxes we support.
        1: (ContextResult.ACCEPTANCE, EXPLICIT_VR_BIG_ENDIAN),
        3: (ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED, None),
        5: (ContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED, None),
        7: (ContextResult.ACCEPTANCE, IMPLICIT_VR_LITTLE_ENDIAN),
    }
    assert sorted(decision.negotiated.contexts) == [1, 7]
    assert {r.context_id for r in decision.negotiated.rejected} == {3, 5}
    seven = decision.negotiated.contexts[7]
    assert (seven.abstract_syntax, seven.scp, seven.scu) == (CT, True, False)


def test_own_transfer_syntax_order_when_configured() -> None:
    ae = ApplicationEntity("X", contexts=SCP.contexts, prefer_own_transfer_syntax_order=True)
    decision = accept_or_reject(
        indication((ctx(1, CT, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN),)), ae
    )
    assert isinstance(decision, Acceptance)
    assert decision.negotiated.contexts[1].transfer_syntax == EXPLICIT_VR_LITTLE_ENDIAN


# -- role selection (PS3.7 D.3.3.4) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("abstract", "proposed", "granted", "result"),
    [
        # We support both roles for CT: each proposed role is granted.
        (CT, (True, True), (True, True), ContextResult.ACCEPTANCE),
        (CT, (False, True), (False, True), ContextResult.ACCEPTANCE),
        # MR: we are SCP only, so the requestor's SCP role is turned down (0)...
        (MR, (True, True), (True, False), ContextResult.ACCEPTANCE),
        # ... and a requestor that wants to be SCP only leaves us no role.
        (MR, (False, True), None, ContextResult.USER_REJECTION),
    ],
)
def test_role_selection(
    abstract: str,
    proposed: tuple[bool, bool],
    granted: tuple[bool, bool] | None,
    result: ContextResult,
) -> None:
    role = RoleSelectionSubItem(abstract, *proposed)
    decision = accept_or_reject(
        indication((ctx(1, abstract, IMPLICIT_VR_LITTLE_ENDIAN),), sub_items=(role,)), SCP
    )
    assert isinstance(decision, Acceptance)
    [context_result] = decision.response.presentation_contexts
    assert context_result.result is result
    answered = decision.response.user_information.role_selections
    if granted is None:
        assert answered == ()
        assert decision.negotiated.contexts == {}
    else:
        assert answered == (RoleSelectionSubItem(abstract, *granted),)
        ours = decision.negotiated.contexts[1]
        # Seen from the acceptor: the requestor's SCU role is our SCP role.
        assert (ours.scp, ours.scu) == granted


def test_no_role_item_in_answer_without_proposal() -> None:
    decision = accept_or_reject(indication((ctx(1, CT, IMPLICIT_VR_LITTLE_ENDIAN),)), SCP)
    assert isinstance(decision, Acceptance)
    assert decision.response.user_information.role_selections == ()


# -- asynchronous operations window (PS3.7 D.3.3.3) ------------------------------------------


@pytest.mark.parametrize(
    ("proposed", "ours", "answer"),
    [
        ((5, 3), (2, 10), (2, 5)),  # we invoke min(their performed 3, our 2); perform min(5, 10)
        ((0, 0), (4, 8), (4, 8)),  # their 0 = unlimited: ours bound it
        ((7, 2), (0, 0), (2, 7)),  # ours unlimited: theirs stand
    ],
)
def test_async_window_negotiated_down(
    proposed: tuple[int, int], ours: tuple[int, int], answer: tuple[int, int]
) -> None:
    ae = ApplicationEntity(
        "X", contexts=SCP.contexts, max_operations_invoked=ours[0], max_operations_performed=ours[1]
    )
    window = AsynchronousOperationsWindowSubItem(*proposed)
    decision = accept_or_reject(
        indication((ctx(1, CT, IMPLICIT_VR_LITTLE_ENDIAN),), sub_items=(window,)), ae
    )
    assert isinstance(decision, Acceptance)
    assert decision.response.user_information.asynchronous_operations_window == (
        AsynchronousOperationsWindowSubItem(*answer)
    )
    assert (decision.negotiated.max_invoked, decision.negotiated.max_performed) == answer


def test_no_window_proposed_means_synchronous_and_no_answer() -> None:
    decision = accept_or_reject(indication((ctx(1, CT, IMPLICIT_VR_LITTLE_ENDIAN),)), SCP)
    assert isinstance(decision, Acceptance)
    assert decision.response.user_information.asynchronous_operations_window is None
    assert (decision.negotiated.max_invoked, decision.negotiated.max_performed) == (1, 1)


# -- requestor side -------------------------------------------------------------------------


def test_build_request_numbers_contexts_and_adds_items() -> None:
    ae = ApplicationEntity("SCU", max_operations_invoked=8, max_pdu_length=32768)
    request = build_request(
        ae,
        called_ae_title="SCP",
        address=ADDRESS,
        contexts=[
            ProposedContext(VERIFICATION, (IMPLICIT_VR_LITTLE_ENDIAN,)),
            ProposedContext(CT, (EXPLICIT_VR_LITTLE_ENDIAN,), scu=True, scp=True),
        ],
    )
    assert [c.context_id for c in request.presentation_contexts] == [1, 3]
    info = request.user_information
    assert info.maximum_length == 32768
    assert info.role_selections == (RoleSelectionSubItem(CT, True, True),)
    assert info.asynchronous_operations_window == AsynchronousOperationsWindowSubItem(8, 1)
    assert info.implementation_class_uid == ae.implementation_class_uid


def test_build_request_limits() -> None:
    with pytest.raises(LocalProtocolError):
        build_request(SCU, called_ae_title="SCP", address=ADDRESS, contexts=[])
    many = [ProposedContext(f"1.2.3.{i}", (IMPLICIT_VR_LITTLE_ENDIAN,)) for i in range(129)]
    with pytest.raises(LocalProtocolError, match="128"):
        build_request(SCU, called_ae_title="SCP", address=ADDRESS, contexts=many)


def test_confirmation_ignores_what_was_not_proposed() -> None:
    request = build_request(
        SCU,
        called_ae_title="SCP",
        address=ADDRESS,
        contexts=[ProposedContext(CT, (IMPLICIT_VR_LITTLE_ENDIAN,))],
    )
    from dicompile.runtime.net.ul.primitives import PresentationContextResult

    confirmation = AAssociateAcceptConfirmation(
        called_ae_title="SCP",
        calling_ae_title="STORE-SCU",
        presentation_contexts=(
            # A transfer syntax we never proposed: not usable.
            PresentationContextResult(1, ContextResult.ACCEPTANCE, EXPLICIT_VR_LITTLE_ENDIAN),
            PresentationContextResult(9, ContextResult.ACCEPTANCE, IMPLICIT_VR_LITTLE_ENDIAN),
        ),
        user_information=UserInformationItem(),
        application_context_name="1.2.840.10008.3.1.1.1",
    )
    negotiated = negotiated_from_confirmation(request, confirmation, SCU)
    assert negotiated.contexts == {}
    assert [r.context_id for r in negotiated.rejected] == [1]


# -- both ends through the upper layer pair ---------------------------------------------------


def test_end_to_end_through_the_upper_layers() -> None:
    scu = ApplicationEntity("STORE-SCU", max_operations_invoked=4)
    scp = ApplicationEntity("STORE-SCP", contexts=SCP.contexts, max_operations_performed=3)
    request = build_request(
        scu,
        called_ae_title="STORE-SCP",
        address=PresentationAddress("127.0.0.1", 11112),
        contexts=[
            ProposedContext(CT, (JPEG_BASELINE,)),
            ProposedContext(CT, (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)),
            ProposedContext(MR, (IMPLICIT_VR_LITTLE_ENDIAN,), scu=True, scp=True),
        ],
    )
    pair = AssociationPair()
    pair.send(Role.REQUESTOR, request)
    pair.connect()
    [ind] = pair.deliver(Role.REQUESTOR)
    assert isinstance(ind, AAssociateIndication)
    decision = accept_or_reject(ind, scp)
    assert isinstance(decision, Acceptance)
    pair.send(Role.ACCEPTOR, decision.response)
    [confirmation] = pair.deliver(Role.ACCEPTOR)
    assert isinstance(confirmation, AAssociateAcceptConfirmation)
    negotiated = negotiated_from_confirmation(request, confirmation, scu)
    assert {
        c: (a.abstract_syntax, a.transfer_syntax, a.scu, a.scp)
        for c, a in negotiated.contexts.items()
    } == {
        3: (CT, EXPLICIT_VR_LITTLE_ENDIAN, True, False),
        5: (MR, IMPLICIT_VR_LITTLE_ENDIAN, True, False),  # our SCP role was turned down
    }
    assert negotiated.peer_max_pdu_length == scp.max_pdu_length
    assert (negotiated.max_invoked, negotiated.max_performed) == (3, 1)
    assert (decision.negotiated.max_invoked, decision.negotiated.max_performed) == (1, 3)
    assert negotiated.find(CT) == negotiated.contexts[3]
    assert negotiated.find(CT, JPEG_BASELINE) is None


def test_reject_reaches_the_requestor() -> None:
    pair = AssociationPair()
    request = build_request(
        SCU,
        called_ae_title="WRONG",
        address=PresentationAddress("127.0.0.1", 11112),
        contexts=[ProposedContext(CT, (IMPLICIT_VR_LITTLE_ENDIAN,))],
    )
    pair.send(Role.REQUESTOR, request)
    pair.connect()
    [ind] = pair.deliver(Role.REQUESTOR)
    assert isinstance(ind, AAssociateIndication)
    ae = ApplicationEntity("STORE-SCP", contexts=SCP.contexts, require_called_ae_title=True)
    decision = accept_or_reject(ind, ae)
    assert isinstance(decision, AAssociateRejectResponse)
    pair.send(Role.ACCEPTOR, decision)
    [confirmation] = pair.deliver(Role.ACCEPTOR)
    assert confirmation == AAssociateRejectConfirmation(
        RejectResult.REJECTED_PERMANENT,
        RejectSource.SERVICE_USER,
        UserRejectReason.CALLED_AE_TITLE_NOT_RECOGNIZED,
    )
