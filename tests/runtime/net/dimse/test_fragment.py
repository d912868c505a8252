"""Fragmentation into P-DATA-TF and reassembly (PS3.8 Annex E): examples, a property, bad input."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dicompile.runtime.errors import DIMSEProtocolError, LocalProtocolError
from dicompile.runtime.net.dimse import (
    MIN_MAX_PDU_LENGTH,
    CEchoRQ,
    CStoreRQ,
    DataSetPresence,
    DimseMessage,
    Reassembler,
    ReceivedMessage,
    encode_command,
    fragment,
    fragment_message,
)
from dicompile.runtime.net.ul.pdu import (
    MessageControlHeader,
    PDataTF,
    PresentationDataValue,
    decode_pdu,
    encode_pdu,
)

from .samples import CT_IMAGE, DATA, INSTANCE, SAMPLES

COMMAND_LAST = MessageControlHeader(is_command=True, is_last=True)
COMMAND_MORE = MessageControlHeader(is_command=True, is_last=False)
DATA_LAST = MessageControlHeader(is_command=False, is_last=True)
DATA_MORE = MessageControlHeader(is_command=False, is_last=False)
ECHO = CEchoRQ(message_id=1)
STORE = CStoreRQ(
    message_id=2, affected_sop_class_uid=CT_IMAGE, affected_sop_instance_uid=INSTANCE, data_set=DATA
)


def _pdv(
    header: MessageControlHeader, fragment: bytes, context_id: int = 1
) -> PresentationDataValue:
    return PresentationDataValue(context_id, header, fragment)


def _receive_all(reassembler: Reassembler, pdus: list[PDataTF]) -> ReceivedMessage:
    results = [reassembler.receive(p) for p in pdus]
    assert all(r is None for r in results[:-1])
    last = results[-1]
    assert last is not None and not reassembler.in_progress
    return last


# ------------------------------------------------------------------------------ sending


def test_small_message_is_one_pdu_one_pdv() -> None:
    (pdu,) = fragment_message(ECHO, context_id=3, max_pdu_length=16384)
    assert pdu == PDataTF((_pdv(COMMAND_LAST, encode_command(ECHO), 3),))


def test_command_and_data_share_a_pdu_when_they_fit() -> None:
    command = encode_command(STORE)
    (pdu,) = fragment_message(STORE, context_id=1, max_pdu_length=16384)
    assert pdu.pdvs == (_pdv(COMMAND_LAST, command), _pdv(DATA_LAST, DATA))


def test_data_starts_a_new_pdu_when_no_room_is_left() -> None:
    command = encode_command(STORE)
    first, second = fragment_message(STORE, context_id=1, max_pdu_length=len(command) + 6)
    assert first.pdvs == (_pdv(COMMAND_LAST, command),)
    assert second.pdvs == (_pdv(DATA_LAST, DATA),)


def test_fragments_are_even_and_fill_the_limit() -> None:
    command = bytes(100)
    pdus = list(fragment(command, None, context_id=1, max_pdu_length=6 + 33))
    # 33 bytes of room hold an even fragment of 32: 100 = 32 + 32 + 32 + 4
    assert [len(p.pdvs[0].fragment) for p in pdus] == [32, 32, 32, 4]
    assert [p.pdvs[0].header for p in pdus] == [COMMAND_MORE] * 3 + [COMMAND_LAST]


def test_no_maximum_uses_the_local_size() -> None:
    data = bytes(5000)
    pdus = list(
        fragment(b"\x00\x00", data, context_id=1, max_pdu_length=0, unlimited_pdu_length=1006)
    )
    assert all(len(encode_pdu(p)) - 6 <= 1006 for p in pdus)
    assert b"".join(v.fragment for p in pdus for v in p.pdvs if not v.header.is_command) == data


@pytest.mark.parametrize(
    ("command", "data_set", "context_id", "max_length", "message"),
    [
        (b"\x00\x00", None, 1, MIN_MAX_PDU_LENGTH - 1, r"cannot carry a fragment"),
        (b"\x00\x00", None, 2, 100, r"not odd 1-255"),
        (b"\x00\x00", None, 257, 100, r"not odd 1-255"),
        (b"\x00", None, 1, 100, r"command set has odd length"),
        (b"", None, 1, 100, r"empty command set"),
        (b"\x00\x00", b"", 1, 100, r"empty data set"),
        (b"\x00\x00", b"\x00\x00\x00", 1, 100, r"data set has odd length"),
    ],
)
def test_fragment_refuses(
    command: bytes, data_set: bytes | None, context_id: int, max_length: int, message: str
) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        fragment(command, data_set, context_id=context_id, max_pdu_length=max_length)


# ------------------------------------------------------------------------------ property


@st.composite
def messages(draw: st.DrawFn) -> DimseMessage:
    message = draw(st.sampled_from(SAMPLES))
    presence = type(message).DATA_SET
    if presence is DataSetPresence.ABSENT:
        return message
    size = draw(st.integers(min_value=1, max_value=3000)) * 2
    data_set: bytes | None = draw(st.binary(min_size=size, max_size=size))
    if presence is DataSetPresence.OPTIONAL and draw(st.booleans()):
        data_set = None
    return attrs.evolve(message, data_set=data_set)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=messages(),
    max_length=st.one_of(
        st.integers(min_value=MIN_MAX_PDU_LENGTH, max_value=64),
        st.integers(min_value=65, max_value=20000),
    ),
    context_id=st.integers(min_value=0, max_value=127).map(lambda n: 2 * n + 1),
)
# The smallest maximum with a large data set: 2-byte fragments, one PDV per PDU.
@example(message=attrs.evolve(STORE, data_set=bytes(6000)), max_length=8, context_id=255)
def test_fragment_then_reassemble_gives_the_message(
    message: DimseMessage, max_length: int, context_id: int
) -> None:
    pdus = list(fragment_message(message, context_id=context_id, max_pdu_length=max_length))
    for pdu in pdus:
        raw = encode_pdu(pdu)
        assert len(raw) - 6 <= max_length  # PDU-length within the peer's Maximum Length
        assert decode_pdu(raw) == (pdu, len(raw))
        assert all(v.fragment and len(v.fragment) % 2 == 0 for v in pdu.pdvs)
    headers = [v.header for p in pdus for v in p.pdvs]
    # Command fragments first, each stream ends with exactly one "last" fragment.
    kinds = [h.is_command for h in headers]
    assert kinds == sorted(kinds, reverse=True)
    assert sum(h.is_last for h in headers) == (2 if getattr(message, "data_set", None) else 1)
    received = _receive_all(Reassembler({context_id}), pdus)
    assert received == ReceivedMessage(context_id, message)


# ------------------------------------------------------------------------------ receiving


def test_empty_and_repeated_pdvs_are_accepted() -> None:
    # PS3.8 E.1: senders should not, receivers must cope.
    command = encode_command(STORE)
    pdu = PDataTF(
        (
            _pdv(COMMAND_MORE, command[:10]),
            _pdv(COMMAND_MORE, b""),
            _pdv(COMMAND_LAST, command[10:]),
            _pdv(DATA_MORE, DATA[:4]),
            _pdv(DATA_LAST, DATA[4:]),
        )
    )
    assert Reassembler().receive(pdu) == ReceivedMessage(1, STORE)


def test_messages_follow_one_another_and_contexts_may_change_between_them() -> None:
    reassembler = Reassembler({1, 3})
    assert reassembler.receive(PDataTF((_pdv(COMMAND_LAST, encode_command(ECHO), 3),))) == (
        ReceivedMessage(3, ECHO)
    )
    assert _receive_all(
        reassembler, list(fragment_message(STORE, context_id=1, max_pdu_length=40))
    ) == (ReceivedMessage(1, STORE))


ECHO_COMMAND = encode_command(ECHO)
STORE_COMMAND = encode_command(STORE)


@pytest.mark.parametrize(
    ("pdus", "message"),
    [
        ([PDataTF((_pdv(COMMAND_LAST, ECHO_COMMAND, 5),))], r"context 5: .*not accepted"),
        (
            [
                PDataTF((_pdv(COMMAND_MORE, ECHO_COMMAND[:8]),)),
                PDataTF((_pdv(COMMAND_LAST, ECHO_COMMAND, 3),)),
            ],
            r"context 3: PDV on another context while a message on context 1 is incomplete",
        ),
        ([PDataTF((_pdv(COMMAND_MORE, b"\x00"),))], r"odd length 1"),
        ([PDataTF((_pdv(DATA_LAST, DATA),))], r"data fragment without a command"),
        (
            [PDataTF((_pdv(COMMAND_MORE, STORE_COMMAND[:8]), _pdv(DATA_LAST, DATA)))],
            r"data fragment before the last command fragment",
        ),
        (
            [PDataTF((_pdv(COMMAND_LAST, STORE_COMMAND), _pdv(COMMAND_LAST, ECHO_COMMAND)))],
            r"command fragment after the last command fragment",
        ),
        (
            # C-ECHO-RQ says 0101H: a data fragment after it belongs to no message.
            [PDataTF((_pdv(COMMAND_LAST, ECHO_COMMAND),)), PDataTF((_pdv(DATA_LAST, DATA),))],
            r"data fragment without a command",
        ),
        (
            # A C-ECHO-RQ whose Command Data Set Type announces a data set: refused at once.
            [PDataTF((_pdv(COMMAND_LAST, ECHO_COMMAND[:-2] + b"\x01\x00"),))],
            r"C-ECHO-RQ, \(0000,0800\): this message never carries a data set",
        ),
        (
            [PDataTF((_pdv(COMMAND_LAST, ECHO_COMMAND), _pdv(COMMAND_LAST, ECHO_COMMAND)))],
            r"C-ECHO-RQ: PDV 2 of a P-DATA-TF follows the end of a message",
        ),
        (
            [
                PDataTF(
                    (
                        _pdv(
                            COMMAND_LAST, ECHO_COMMAND[:8] + b"\x39\x00\x00\x00" + ECHO_COMMAND[12:]
                        ),
                    )
                )
            ],
            r"context 1, \(0000,0000\), command set byte 0: Command Group Length says 57",
        ),
        (
            [PDataTF((_pdv(COMMAND_LAST, STORE_COMMAND), _pdv(DATA_LAST, DATA[:-2])))],
            None,  # a short data set is not an error: an early-terminated message (§9.3.1.3)
        ),
    ],
)
def test_reassembly_refuses(pdus: list[PDataTF], message: str | None) -> None:
    reassembler = Reassembler({1, 3})
    if message is None:
        received = _receive_all(reassembler, pdus)
        assert isinstance(received.message, CStoreRQ)
        assert received.message.data_set == DATA[:-2]
        return
    with pytest.raises(DIMSEProtocolError, match=message):
        for pdu in pdus:
            reassembler.receive(pdu)
    # The reassembler is reset: the next message is read normally.
    assert not reassembler.in_progress
    assert reassembler.receive(PDataTF((_pdv(COMMAND_LAST, ECHO_COMMAND),))) == ReceivedMessage(
        1, ECHO
    )


def test_local_size_limits() -> None:
    with pytest.raises(DIMSEProtocolError, match=r"command set longer than the local limit of 16"):
        Reassembler(max_command_length=16).receive(PDataTF((_pdv(COMMAND_LAST, ECHO_COMMAND),)))
    small = Reassembler(max_data_set_length=len(DATA) - 2)
    with pytest.raises(DIMSEProtocolError, match=r"data set longer than the local limit"):
        small.receive(PDataTF((_pdv(COMMAND_LAST, STORE_COMMAND), _pdv(DATA_LAST, DATA))))


def test_progress_is_visible() -> None:
    reassembler = Reassembler()
    assert reassembler.receive(PDataTF((_pdv(COMMAND_LAST, STORE_COMMAND, 7),))) is None
    assert reassembler.in_progress and reassembler.context_id == 7


def test_works_with_the_upper_layer_primitives() -> None:
    # The association layer sends PDataRequest(pdu.pdvs) and feeds PDataIndication back;
    # None is how UpperLayer.peer_max_pdata_length says "no maximum".
    from dicompile.runtime.net.ul.primitives import PDataIndication, PDataRequest

    requests = [
        PDataRequest(p.pdvs) for p in fragment_message(STORE, context_id=1, max_pdu_length=None)
    ]
    reassembler = Reassembler({1})
    assert reassembler.receive(PDataIndication(requests[-1].pdvs)) == ReceivedMessage(1, STORE)
