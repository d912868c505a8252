"""Cross-check with pynetdicom (test-only oracle), both ways, for every DIMSE message type.

pynetdicom encodes a message (from its DIMSE primitive) into P-DATA primitives; we reassemble
and decode them, and our encoding of the same message must be byte-identical.  Then we
fragment and pynetdicom decodes, and its command set must hold our values.
"""

from __future__ import annotations

import enum
from io import BytesIO
from typing import Any

import attrs
import pytest

from dicompile.generated.dimse_commands import COMMAND_ELEMENTS
from dicompile.runtime.net.dimse import (
    DimseMessage,
    Reassembler,
    encode_command,
    fragment_message,
)
from dicompile.runtime.net.dimse.messages import command_elements, message_fields
from dicompile.runtime.net.ul.pdu import MessageControlHeader, PDataTF, PresentationDataValue

from .samples import SAMPLES, sample_id

dimse_messages = pytest.importorskip("pynetdicom.dimse_messages")
pdu_primitives = pytest.importorskip("pynetdicom.pdu_primitives")

CONTEXT_ID = 5


def _their_class_name(message: DimseMessage) -> str:
    return message.MESSAGE.replace("-", "_")  # "C-STORE-RQ" -> "C_STORE_RQ"


def _their_keywords(message: DimseMessage) -> set[str]:
    keywords: tuple[str, ...] = dimse_messages._COMMAND_SET_KEYWORDS[message.MESSAGE]
    return set(keywords)


def _supported(message: DimseMessage) -> DimseMessage:
    """``message`` without the optional fields pynetdicom does not carry for its type."""
    keywords = _their_keywords(message)
    dropped = {
        name: None
        for name, tag in message_fields(type(message)).items()
        if COMMAND_ELEMENTS[tag].keyword not in keywords
    }
    return attrs.evolve(message, **dropped)  # type: ignore[arg-type]


def _primitive(message: DimseMessage) -> Any:
    name = _their_class_name(message)
    primitive = dimse_messages._MSG_TO_PRIMITVE[name.rsplit("_", 1)[0]]()
    for field, tag in message_fields(type(message)).items():
        value = getattr(message, field)
        if value is None:
            continue
        if isinstance(value, enum.IntEnum):
            value = int(value)
        elif isinstance(value, tuple):
            value = list(value)
        setattr(primitive, COMMAND_ELEMENTS[tag].keyword, value)
    data_set = getattr(message, "data_set", None)
    if data_set is not None:
        setattr(primitive, dimse_messages._DATASET_KEYWORDS[name], BytesIO(data_set))
    return primitive


def _to_ours(p_data: Any) -> PDataTF:
    return PDataTF(
        tuple(
            PresentationDataValue(context_id, MessageControlHeader.from_byte(raw[0]), raw[1:])
            for context_id, raw in p_data.presentation_data_value_list
        )
    )


def _to_theirs(pdu: PDataTF) -> Any:
    p_data = pdu_primitives.P_DATA()
    p_data.presentation_data_value_list = [
        [v.context_id, bytes([v.header.to_byte()]) + v.fragment] for v in pdu.pdvs
    ]
    return p_data


@pytest.mark.parametrize("max_pdu_length", [64, 16382])
@pytest.mark.parametrize("message", SAMPLES, ids=sample_id)
def test_pynetdicom_encodes_we_decode(message: DimseMessage, max_pdu_length: int) -> None:
    expected = _supported(message)
    theirs = getattr(dimse_messages, _their_class_name(message))()
    theirs.primitive_to_message(_primitive(expected))
    p_datas = list(theirs.encode_msg(CONTEXT_ID, max_pdu_length))
    pdus = [_to_ours(p) for p in p_datas]
    reassembler = Reassembler({CONTEXT_ID})
    results = [reassembler.receive(pdu) for pdu in pdus]
    assert all(r is None for r in results[:-1])
    received = results[-1]
    assert received is not None and received.context_id == CONTEXT_ID
    assert received.message == expected
    their_command = b"".join(v.fragment for p in pdus for v in p.pdvs if v.header.is_command)
    assert encode_command(expected) == their_command


def _their_value(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    return tuple(int(v) for v in value)  # pydicom's MultiValue of tags or numbers


@pytest.mark.parametrize("max_pdu_length", [64, 16382])
@pytest.mark.parametrize("message", SAMPLES, ids=sample_id)
def test_we_encode_pynetdicom_decodes(message: DimseMessage, max_pdu_length: int) -> None:
    theirs = dimse_messages.DIMSEMessage()
    pdus = list(fragment_message(message, context_id=CONTEXT_ID, max_pdu_length=max_pdu_length))
    done = [theirs.decode_msg(_to_theirs(pdu)) for pdu in pdus]
    assert done[-1] and not any(done[:-1])
    assert type(theirs).__name__ == _their_class_name(message)
    assert theirs.context_id == CONTEXT_ID
    command = theirs.command_set
    ours = command_elements(message)
    assert {int(element.tag) for element in command} == {0x0000, *ours}
    for tag, value in ours.items():
        got = _their_value(command[tag].value)
        if isinstance(value, tuple) and isinstance(got, int):
            got = (got,)  # pydicom gives a single value of a 1-n element as a scalar
        assert got == value, f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    data_set = getattr(message, "data_set", None)
    assert theirs.data_set.getvalue() == (data_set or b"")
    # And pynetdicom turns it into its service primitive without complaint.
    assert theirs.message_to_primitive() is not None
