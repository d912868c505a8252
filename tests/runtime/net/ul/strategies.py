"""Hypothesis strategies for every PDU, item and sub-item (valid values only)."""

from __future__ import annotations

from hypothesis import strategies as st

from dicompile.runtime.net.ul.pdu import (
    PDU,
    AAbort,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    AbortReason,
    AbortSource,
    AbstractSyntaxSubItem,
    ACSERejectReason,
    ApplicationContextItem,
    AReleaseRP,
    AReleaseRQ,
    AsynchronousOperationsWindowSubItem,
    ContextResult,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    MaximumLengthSubItem,
    MessageControlHeader,
    PDataTF,
    PresentationContextACItem,
    PresentationContextRQItem,
    PresentationDataValue,
    PresentationRejectReason,
    RejectResult,
    RejectSource,
    Reserved,
    RoleSelectionSubItem,
    SOPClassCommonExtendedNegotiationSubItem,
    SOPClassExtendedNegotiationSubItem,
    TransferSyntaxSubItem,
    UnknownSubItem,
    UserIdentityACSubItem,
    UserIdentityRQSubItem,
    UserIdentityType,
    UserInformationItem,
    UserRejectReason,
    UserSubItem,
)

_UID = st.lists(st.integers(0, 10**8), min_size=1, max_size=8).map(
    lambda parts: ".".join(map(str, parts))[:64].rstrip(".")
)
_G0 = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_AE = (
    st.text(_G0.filter(lambda c: c != "\\"), min_size=1, max_size=16)
    .map(lambda t: t.strip(" "))
    .filter(bool)
)
_CONTEXT_ID = st.integers(0, 127).map(lambda n: 2 * n + 1)
_U16 = st.integers(0, 0xFFFF)
_SMALL_BYTES = st.binary(max_size=40)


def _code(enum_type: type, reserved: bool) -> st.SearchStrategy[object]:
    known = {m.value for m in enum_type}
    members = st.sampled_from(list(enum_type))
    if not reserved:
        return members
    return members | st.sampled_from([v for v in range(256) if v not in known]).map(Reserved)


def _singletons(reserved: bool) -> list[st.SearchStrategy[UserSubItem]]:
    return [
        st.builds(MaximumLengthSubItem, st.integers(0, 0xFFFFFFFF)),
        st.builds(ImplementationClassUIDSubItem, _UID),
        st.builds(ImplementationVersionNameSubItem, st.text(_G0, min_size=1, max_size=16)),
        st.builds(AsynchronousOperationsWindowSubItem, _U16, _U16),
        st.builds(
            UserIdentityRQSubItem,
            _code(UserIdentityType, reserved),
            st.booleans(),
            _SMALL_BYTES,
            _SMALL_BYTES,
        ),
        st.builds(UserIdentityACSubItem, _SMALL_BYTES),
    ]


def _repeatable(unknown: bool) -> st.SearchStrategy[UserSubItem]:
    known: st.SearchStrategy[UserSubItem] = st.one_of(
        st.builds(RoleSelectionSubItem, _UID, st.booleans(), st.booleans()),
        st.builds(SOPClassExtendedNegotiationSubItem, _UID, _SMALL_BYTES),
        st.builds(
            SOPClassCommonExtendedNegotiationSubItem,
            _UID,
            _UID,
            st.lists(_UID, max_size=3).map(tuple),
            st.integers(0, 255),
        ),
    )
    if not unknown:
        return known
    return known | st.builds(
        UnknownSubItem,
        st.sampled_from([t for t in range(256) if not 0x51 <= t <= 0x59]),
        _SMALL_BYTES,
    )


def user_information(
    *, reserved: bool = True, unknown: bool = True
) -> st.SearchStrategy[UserInformationItem]:
    """User information items without duplicated singleton sub-items (PS3.8 D.1, PS3.7 D.3.3)."""

    @st.composite
    def build(draw: st.DrawFn) -> UserInformationItem:
        items = [draw(s) for s in _singletons(reserved) if draw(st.booleans())]
        items += draw(st.lists(_repeatable(unknown), max_size=4))
        return UserInformationItem(tuple(items))

    return build()


_RQ_CONTEXT = st.builds(
    PresentationContextRQItem,
    _CONTEXT_ID,
    st.builds(AbstractSyntaxSubItem, _UID),
    st.lists(st.builds(TransferSyntaxSubItem, _UID), min_size=1, max_size=4).map(tuple),
)


def _ac_context(reserved: bool) -> st.SearchStrategy[PresentationContextACItem]:
    @st.composite
    def build(draw: st.DrawFn) -> PresentationContextACItem:
        result = draw(_code(ContextResult, reserved))
        assert isinstance(result, ContextResult | Reserved)
        if result == ContextResult.ACCEPTANCE:
            syntax: TransferSyntaxSubItem | None = TransferSyntaxSubItem(draw(_UID))
        else:
            syntax = draw(st.none() | st.builds(TransferSyntaxSubItem, _UID))
        return PresentationContextACItem(draw(_CONTEXT_ID), result, syntax)

    return build()


_REASONS: dict[RejectSource, type] = {
    RejectSource.SERVICE_USER: UserRejectReason,
    RejectSource.SERVICE_PROVIDER_ACSE: ACSERejectReason,
    RejectSource.SERVICE_PROVIDER_PRESENTATION: PresentationRejectReason,
}


def _reject(reserved: bool) -> st.SearchStrategy[AAssociateRJ]:
    @st.composite
    def build(draw: st.DrawFn) -> AAssociateRJ:
        source = draw(_code(RejectSource, reserved))
        if isinstance(source, Reserved):
            reason: object = Reserved(draw(st.integers(0, 255)))
        else:
            assert isinstance(source, RejectSource)
            reason = draw(_code(_REASONS[source], reserved))
        return AAssociateRJ(draw(_code(RejectResult, reserved)), source, reason)  # type: ignore[arg-type]

    return build()


PDVS = st.lists(
    st.builds(
        PresentationDataValue,
        _CONTEXT_ID,
        st.builds(MessageControlHeader, st.booleans(), st.booleans()),
        st.binary(max_size=300),
    ),
    min_size=1,
    max_size=4,
).map(tuple)


def pdus(*, reserved: bool = True, unknown: bool = True) -> st.SearchStrategy[PDU]:
    """Every PDU type; ``reserved`` adds Reserved codes, ``unknown`` unknown sub-items."""
    info = user_information(reserved=reserved, unknown=unknown)
    return st.one_of(
        st.builds(
            AAssociateRQ,
            _AE,
            _AE,
            st.builds(ApplicationContextItem, _UID),
            st.lists(_RQ_CONTEXT, min_size=1, max_size=4).map(tuple),
            info,
            _U16,
        ),
        st.builds(
            AAssociateAC,
            _AE,
            _AE,
            st.builds(ApplicationContextItem, _UID),
            st.lists(_ac_context(reserved), min_size=1, max_size=4).map(tuple),
            info,
            _U16.map(lambda v: v | 1),
        ),
        _reject(reserved),
        st.builds(PDataTF, PDVS),
        st.just(AReleaseRQ()),
        st.just(AReleaseRP()),
        st.builds(AAbort, _code(AbortSource, reserved), _code(AbortReason, reserved)),
    )


PDUS = pdus()
