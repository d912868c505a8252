"""The machine's buffered receive path (``get_buffer``/``buffer_updated``, Rule 5), which the
asyncio driver uses: same events as ``receive_bytes`` for any split of the byte stream, long
PDUs read into storage of their own size, and nothing left over after an abort; and its send
path in parts (``send_parts``), which writes long fragments without copying them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicompile.runtime.net.ul.machine import DIRECT_READ_MAX, DIRECT_READ_MIN, UpperLayer
from dicompile.runtime.net.ul.pdu import (
    SEPARATE_FRAGMENT,
    MessageControlHeader,
    PDataTF,
    PresentationDataValue,
    encode_pdu,
    encode_pdu_parts,
)
from dicompile.runtime.net.ul.primitives import (
    AAssociateIndication,
    APAbortIndication,
    AReleaseIndication,
    AReleaseRequest,
    PDataIndication,
    UserEvent,
)
from dicompile.runtime.net.ul.table import Role, State

from .helpers import AssociationPair, accept_response, association_request, drain, p_data

R, A = Role.REQUESTOR, Role.ACCEPTOR
MAX = 1 << 20


def established() -> AssociationPair:
    pair = AssociationPair()
    pair.send(R, association_request(MAX))
    pair.connect()
    pair.deliver(R)
    pair.send(A, accept_response(MAX))
    pair.deliver(A)
    assert pair.acceptor.state is State.STA6
    return pair


def feed_buffered(machine: UpperLayer, data: bytes, sizes: list[int]) -> list[UserEvent]:
    """Feed ``data`` as asyncio's BufferedProtocol does: each read fills at most the view
    ``get_buffer()`` offers, and at most the next of ``sizes`` bytes (what the socket had)."""
    events: list[UserEvent] = []
    position = 0
    for size in itertools.cycle(sizes):
        if position >= len(data):
            return events
        with machine.get_buffer(-1) as view:
            count = min(len(view), size, len(data) - position)
            view[:count] = data[position : position + count]
        machine.buffer_updated(count)
        position += count
        events += drain(machine)
    raise AssertionError("unreachable")


def fragments(events: list[UserEvent]) -> list[bytes]:
    return [bytes(pdv.fragment) for e in events if isinstance(e, PDataIndication) for pdv in e.pdvs]


def stream(pair: AssociationPair, parts: list[bytes]) -> bytes:
    for part in parts:
        pair.send(R, p_data(part))
    pair.send(R, AReleaseRequest())
    data = bytes(pair.in_flight[R])
    pair.in_flight[R].clear()
    return data


PARTS = [bytes(range(256)) * 300, b"\x01\x02", bytes(range(255, -1, -1)) * 1000, b"xy" * 10]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 200_000), min_size=1, max_size=6))
def test_any_split_gives_the_same_events_as_receive_bytes(sizes: list[int]) -> None:
    pair = established()
    data = stream(pair, PARTS)
    events = feed_buffered(pair.acceptor, data, sizes)
    assert fragments(events) == PARTS
    assert isinstance(events[-1], AReleaseIndication)
    reference = established()
    reference.acceptor.receive_bytes(stream(reference, PARTS))
    assert [type(e) for e in drain(reference.acceptor)] == [type(e) for e in events]


def test_a_long_pdu_is_read_into_storage_of_its_own_size() -> None:
    pair = established()
    data = stream(pair, [bytes(400_000)])
    machine = pair.acceptor
    feed_buffered(machine, data[:1000], [1000])
    # The rest of the PDU goes straight into one view: header 6, PDV item 6, fragment.
    with machine.get_buffer(-1) as view:
        assert len(view) == 6 + 6 + 400_000 - 1000
    events = feed_buffered(machine, data[1000:], [1 << 30])
    assert fragments(events) == [bytes(400_000)]
    assert isinstance(events[-1], AReleaseIndication)


def test_short_pdus_use_the_scratch_area() -> None:
    pair = established()
    data = stream(pair, [b"ab" * 100])
    machine = pair.acceptor
    with machine.get_buffer(-1) as view:
        assert len(view) >= DIRECT_READ_MIN  # not sized to the PDU
    assert fragments(feed_buffered(machine, data, [7])) == [b"ab" * 100]


def test_receive_bytes_may_follow_a_buffered_read_mid_pdu() -> None:
    pair = established()
    data = stream(pair, [bytes(range(200)) * 500, b"zz"])
    machine = pair.acceptor
    events = feed_buffered(machine, data[:5000], [5000])
    machine.receive_bytes(data[5000:])  # completes the long PDU and carries the next ones
    events += drain(machine)
    assert fragments(events) == [bytes(range(200)) * 500, b"zz"]


def test_connection_lost_mid_pdu_leaves_nothing_behind() -> None:
    pair = established()
    data = stream(pair, [bytes(300_000)])
    machine = pair.acceptor
    assert feed_buffered(machine, data[:100_000], [65536]) == []
    machine.connection_closed()  # Evt17 in Sta6: A-P-ABORT indication, Sta1
    [abort] = drain(machine)
    assert isinstance(abort, APAbortIndication)
    assert machine.state is State.STA1
    # The same machine serves a new association: no byte of the old PDU is seen again.
    other = AssociationPair()
    other.send(R, association_request(MAX))
    other.connect()  # AE-2: the request is written once the connection is open
    request = bytes(other.in_flight[R])
    assert request
    machine.transport_connected()
    machine.commands()
    [indication] = feed_buffered(machine, request, [3])
    assert isinstance(indication, AAssociateIndication)


def test_a_p_data_above_our_maximum_is_refused_from_its_header() -> None:
    pair = established()
    too_long = b"\x04\x00" + (MAX + 2).to_bytes(4, "big") + bytes(100)
    events = feed_buffered(pair.acceptor, too_long, [len(too_long)])
    assert [type(e) for e in events] == [APAbortIndication]
    assert pair.acceptor.state is State.STA13  # AA-8: A-ABORT sent, ARTIM runs


# -- sending in parts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes", [[2], [SEPARATE_FRAGMENT], [10, SEPARATE_FRAGMENT + 2, 4], [40_000, 40_000]]
)
def test_pdu_parts_join_to_the_pdu_and_keep_long_fragments_uncopied(sizes: list[int]) -> None:
    pdvs = tuple(
        PresentationDataValue(3, MessageControlHeader(False, i == len(sizes) - 1), bytes(n))
        for i, n in enumerate(sizes)
    )
    pdu = PDataTF(pdvs)
    parts = encode_pdu_parts(pdu)
    assert b"".join(parts) == encode_pdu(pdu)
    long_ones = [pdv.fragment for pdv in pdvs if len(pdv.fragment) >= SEPARATE_FRAGMENT]
    assert [p for p in parts if len(p) >= SEPARATE_FRAGMENT] == long_ones
    for fragment in long_ones:
        assert any(part is fragment for part in parts)
    # Never two short parts in a row: everything between long fragments is joined.
    shorts = [len(p) < SEPARATE_FRAGMENT for p in parts]
    assert not any(a and b for a, b in itertools.pairwise(shorts))


def test_send_parts_writes_what_send_writes() -> None:
    one, other = established(), established()
    big = bytes(range(256)) * 400
    joined = b"".join(one.requestor.send_parts(p_data(big)))
    assert joined == other.requestor.send(p_data(big))
    assert [type(e) for e in feed_buffered(one.acceptor, joined, [1 << 20])] == [PDataIndication]


def test_a_header_alone_cannot_make_the_machine_allocate_much() -> None:
    pair = AssociationPair()
    pair.send(R, association_request(0))  # Maximum Length 0: no limit on either side
    pair.connect()
    pair.deliver(R)
    pair.send(A, accept_response(0))
    pair.deliver(A)
    machine = pair.acceptor
    assert machine.max_pdata_length is None
    header = b"\x04\x00" + (1 << 31).to_bytes(4, "big")
    assert feed_buffered(machine, header, [6]) == []
    with machine.get_buffer(-1) as view:
        assert len(view) <= DIRECT_READ_MAX
    # Just under the cap, the PDU gets its own storage.
    other = established()
    header = b"\x04\x00" + (DIRECT_READ_MAX // 4).to_bytes(4, "big")
    assert feed_buffered(other.acceptor, header, [6]) == []
    with other.acceptor.get_buffer(-1) as view:
        assert len(view) == DIRECT_READ_MAX // 4
