"""Reassembler data sinks: the data fragments of a message go to the sink its factory
chose once the command set was whole, and an unfinished sink is discarded on any error or
when the association ends (PS3.8 Annex E)."""

from __future__ import annotations

import pytest

from dicompile.runtime.errors import DIMSEProtocolError
from dicompile.runtime.net.dimse import (
    CEchoRQ,
    CStoreRQ,
    DimseMessage,
    Reassembler,
    SinkFactory,
    fragment_message,
)
from dicompile.runtime.net.ul.pdu import MessageControlHeader, PresentationDataValue

CT = "1.2.840.10008.5.1.4.1.1.2"


class Recording:
    """A sink that records what it gets; keeps the data in memory when ``keep``."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.fragments: list[bytes] = []
        self.finished = False
        self.discarded = 0

    @property
    def length(self) -> int:
        return sum(map(len, self.fragments))

    def write(self, fragment: bytes) -> None:
        self.fragments.append(fragment)

    def finish(self) -> bytes | None:
        self.finished = True
        return b"".join(self.fragments) if self.keep else None

    def discard(self) -> None:
        self.discarded += 1


def store_pdvs(data: bytes, max_pdu: int = 1024) -> list[PresentationDataValue]:
    request = CStoreRQ(
        message_id=3, affected_sop_class_uid=CT, affected_sop_instance_uid="1.2.3", data_set=data
    )
    pdus = fragment_message(request, context_id=1, max_pdu_length=max_pdu)
    return [pdv for pdu in pdus for pdv in pdu.pdvs]


def factory_of(sinks: list[Recording], keep: bool, seen: list[DimseMessage]) -> SinkFactory:
    def factory(context_id: int, message: DimseMessage) -> Recording | None:
        seen.append(message)
        if not isinstance(message, CStoreRQ):
            return None
        sinks.append(Recording(keep))
        return sinks[-1]

    return factory


def reassembler(sinks: list[Recording], keep: bool, seen: list[DimseMessage]) -> Reassembler:
    r = Reassembler((1,))
    r.sink_factory = factory_of(sinks, keep, seen)
    return r


def test_streamed_data_set_goes_to_the_sink_and_travels_with_the_message() -> None:
    data = bytes(range(256)) * 40
    sinks: list[Recording] = []
    seen: list[DimseMessage] = []
    r = reassembler(sinks, False, seen)
    results = [r.receive_pdv(pdv) for pdv in store_pdvs(data)]
    assert all(x is None for x in results[:-1])
    last = results[-1]
    assert last is not None and last.data_sink is sinks[0]
    assert isinstance(last.message, CStoreRQ)
    assert last.message.data_set == b"" and last.message.affected_sop_instance_uid == "1.2.3"
    # The factory saw the request before any data, decoded from its command set.
    assert isinstance(seen[0], CStoreRQ) and seen[0].message_id == 3
    assert b"".join(sinks[0].fragments) == data and len(sinks[0].fragments) > 5
    assert sinks[0].finished and sinks[0].discarded == 0
    assert not r.in_progress


def test_a_sink_that_kept_the_data_gives_an_ordinary_message() -> None:
    data = bytes(range(256)) * 8
    sinks: list[Recording] = []
    r = reassembler(sinks, True, [])
    *_, last = [r.receive_pdv(pdv) for pdv in store_pdvs(data)]
    assert last is not None and last.data_sink is None
    assert isinstance(last.message, CStoreRQ) and last.message.data_set == data


def test_no_sink_means_memory_and_other_messages_ask_but_get_none() -> None:
    sinks: list[Recording] = []
    seen: list[DimseMessage] = []
    r = reassembler(sinks, False, seen)
    echo = fragment_message(CEchoRQ(message_id=1), context_id=1, max_pdu_length=1024)
    for pdu in echo:
        assert r.receive(pdu) is not None
    assert seen == []  # no data set announced: no sink asked for
    plain = Reassembler((1,))
    *_, last = [plain.receive_pdv(pdv) for pdv in store_pdvs(b"ab" * 3000)]
    assert last is not None and last.data_sink is None
    assert isinstance(last.message, CStoreRQ) and last.message.data_set == b"ab" * 3000


def test_malformed_fragment_mid_data_set_discards_the_sink() -> None:
    sinks: list[Recording] = []
    r = reassembler(sinks, False, [])
    pdvs = store_pdvs(bytes(20_000))
    for pdv in pdvs[:4]:
        assert r.receive_pdv(pdv) is None
    odd = PresentationDataValue(1, MessageControlHeader(is_command=False, is_last=False), b"x")
    with pytest.raises(DIMSEProtocolError, match="odd length"):
        r.receive_pdv(odd)
    assert sinks[0].discarded == 1 and not sinks[0].finished
    assert not r.in_progress


def test_data_beyond_the_limit_discards_the_sink() -> None:
    sinks: list[Recording] = []
    r = Reassembler((1,), max_data_set_length=5000)
    r.sink_factory = factory_of(sinks, False, [])
    with pytest.raises(DIMSEProtocolError, match="local limit"):
        for pdv in store_pdvs(bytes(20_000)):
            r.receive_pdv(pdv)
    assert sinks[0].discarded == 1


def test_abandon_discards_the_sink_of_the_message_in_progress() -> None:
    sinks: list[Recording] = []
    r = reassembler(sinks, False, [])
    for pdv in store_pdvs(bytes(20_000))[:5]:
        r.receive_pdv(pdv)
    assert r.in_progress
    r.abandon()
    assert sinks[0].discarded == 1
    assert r.context_id is None
    r.abandon()  # nothing in progress: nothing more discarded
    assert sinks[0].discarded == 1
