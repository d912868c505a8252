"""What the association sends: P-DATA-TF PDUs within the peer's maximum, data sets not
copied when they fit one fragment (the C-STORE fast path), and the same bytes whole."""

from __future__ import annotations

import pytest

from dicompile.runtime.net.dimse import CStoreRQ, Reassembler, fragment_message
from dicompile.runtime.net.ul.pdu import PDataTF, decode_pdu, encode_pdu

DATA = bytes(range(256)) * 400  # 102,400 bytes, even


def store(data: bytes = DATA) -> CStoreRQ:
    return CStoreRQ(
        message_id=1,
        affected_sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
        affected_sop_instance_uid="1.2.3.4",
        data_set=data,
    )


def test_a_data_set_that_fits_one_fragment_is_not_copied() -> None:
    [pdu] = list(fragment_message(store(), context_id=1, max_pdu_length=1 << 20))
    command, data = pdu.pdvs
    assert command.header.is_command and not data.header.is_command
    assert data.fragment is DATA


@pytest.mark.parametrize("limit", [16384, 4096, 1000, 258])
def test_split_data_sets_come_back_whole(limit: int) -> None:
    pdus = list(fragment_message(store(), context_id=3, max_pdu_length=limit))
    reassembler = Reassembler([3])
    received = None
    for pdu in pdus:
        encoded = encode_pdu(pdu)
        assert len(encoded) - 6 <= limit  # PDU-length within the peer's Maximum Length
        decoded = decode_pdu(encoded)
        assert decoded is not None
        again, used = decoded
        assert used == len(encoded) and isinstance(again, PDataTF)
        received = reassembler.receive(again) or received
    assert received is not None
    assert isinstance(received.message, CStoreRQ)
    assert received.message.data_set == DATA
