"""Associations end to end on loopback sockets: establishment, release, abort, timeouts, the
association limit, and peers that break the protocol.  Whatever a bad peer does, its
association ends (A-ABORT or close), no partial file is left, and the server goes on serving
a well-behaved client at the same time."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest
from net_support import (
    CT_IMAGE,
    EXPLICIT_LE,
    make_ct,
    run,
    running_server,
    scp_ae,
    scu_ae,
)

from dicompile.runtime.errors import (
    AssociationAbortedError,
    AssociationRejectedError,
    LocalProtocolError,
    TransportConnectError,
)
from dicompile.runtime.net.ae import ApplicationEntity, Timeouts
from dicompile.runtime.net.association import Association, Ending, associate
from dicompile.runtime.net.dimse import CEchoRQ, CStoreRQ, fragment_message
from dicompile.runtime.net.negotiation import ProposedContext, build_request
from dicompile.runtime.net.server import Server
from dicompile.runtime.net.services.storage import (
    plan_contexts,
    probe,
    store_instances,
)
from dicompile.runtime.net.services.verification import VERIFICATION_CONTEXT, echo, handle_echo
from dicompile.runtime.net.ul.pdu import (
    AAbort,
    AAssociateAC,
    AAssociateRJ,
    AbortSource,
    AReleaseRP,
    AReleaseRQ,
    PresentationRejectReason,
    RejectResult,
    RejectSource,
    UserRejectReason,
    decode_pdu,
    encode_pdu,
)
from dicompile.runtime.net.ul.primitives import PresentationAddress, associate_rq_from_request

SHORT = Timeouts(artim=0.5, connect=5.0, acse=5.0, dimse=1.0, idle=0.5)


async def echo_once(port: int, title: str = "GOOD-SCU") -> int:
    async with await associate(
        scu_ae(title), "127.0.0.1", port, called_ae_title="STORE-SCP",
        contexts=[VERIFICATION_CONTEXT],
    ) as association:  # fmt: skip
        return await echo(association)


# -- normal life -------------------------------------------------------------------------------


def test_echo_and_release_end_both_sides() -> None:
    ended: list[Association] = []

    async def go() -> Association:
        async with running_server(scp_ae(), on_association=ended.append) as (_, port):
            association = await associate(
                scu_ae(max_pdu_length=32768), "127.0.0.1", port, called_ae_title="STORE-SCP",
                contexts=[VERIFICATION_CONTEXT],
            )  # fmt: skip
            assert association.is_established
            assert association.negotiated.peer_ae_title == "STORE-SCP"
            assert association.negotiated.peer_max_pdu_length == scp_ae().max_pdu_length
            assert [await echo(association) for _ in range(5)] == [0] * 5
            await association.release()
            while not ended:
                await asyncio.sleep(0.01)
            return association

    association = run(go())
    assert association.ending is Ending.RELEASED
    assert association.transport.closed
    assert ended[0].ending is Ending.RELEASED
    assert ended[0].negotiated.peer_max_pdu_length == 32768


def test_called_ae_title_rejected_then_server_goes_on() -> None:
    async def go() -> int:
        async with running_server(scp_ae(require_called_ae_title=True)) as (_, port):
            with pytest.raises(AssociationRejectedError) as caught:
                await associate(
                    scu_ae(), "127.0.0.1", port, called_ae_title="NOT-ME",
                    contexts=[VERIFICATION_CONTEXT],
                )  # fmt: skip
            assert caught.value.result is RejectResult.REJECTED_PERMANENT
            assert caught.value.source is RejectSource.SERVICE_USER
            assert caught.value.reason is UserRejectReason.CALLED_AE_TITLE_NOT_RECOGNIZED
            return await echo_once(port)

    assert run(go()) == 0


def test_association_limit_rejects_transient_then_recovers() -> None:
    async def go() -> int:
        async with running_server(scp_ae(max_associations=1)) as (_, port):
            first = await associate(
                scu_ae(), "127.0.0.1", port, called_ae_title="X", contexts=[VERIFICATION_CONTEXT]
            )
            with pytest.raises(AssociationRejectedError) as caught:
                await echo_once(port)
            assert caught.value.result is RejectResult.REJECTED_TRANSIENT
            assert caught.value.source is RejectSource.SERVICE_PROVIDER_PRESENTATION
            assert caught.value.reason is PresentationRejectReason.LOCAL_LIMIT_EXCEEDED
            await first.release()
            return await echo_once(port)

    assert run(go()) == 0


def test_no_verification_context_is_a_local_error() -> None:
    async def go() -> None:
        async with running_server(scp_ae()) as (_, port), await associate(
            scu_ae(), "127.0.0.1", port, called_ae_title="X",
            contexts=[ProposedContext("1.2.3.4.5", (EXPLICIT_LE,))],
        ) as association:  # fmt: skip
            assert association.negotiated.contexts == {}
            with pytest.raises(LocalProtocolError, match="Verification"):
                await echo(association)

    run(go())


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused() -> None:
    async def go() -> None:
        with pytest.raises(TransportConnectError):
            await associate(
                scu_ae(), "127.0.0.1", closed_port(), called_ae_title="X",
                contexts=[VERIFICATION_CONTEXT],
            )  # fmt: skip

    run(go())


# -- aborts and timeouts ---------------------------------------------------------------------


def test_abort_by_the_requestor_reaches_the_server() -> None:
    ended: list[Association] = []

    async def go() -> None:
        async with running_server(scp_ae(), on_association=ended.append) as (_, port):
            association = await associate(
                scu_ae(), "127.0.0.1", port, called_ae_title="X", contexts=[VERIFICATION_CONTEXT]
            )
            association.abort()
            await association.wait_ended()
            assert association.ending is Ending.ABORTED_LOCALLY
            with pytest.raises(AssociationAbortedError):
                await echo(association)
            while not ended:
                await asyncio.sleep(0.01)
            assert await echo_once(port) == 0

    run(go())
    assert ended[0].ending is Ending.ABORTED_BY_PEER


def test_dimse_timeout_aborts() -> None:
    async def slow(association: Association, context: object, request: object) -> object:
        await asyncio.sleep(5)
        raise AssertionError("not reached")

    async def go() -> None:
        handlers = {CEchoRQ: slow}
        async with running_server(scp_ae(), handlers=handlers) as (_, port):  # type: ignore[arg-type]
            association = await associate(
                scu_ae(timeouts=SHORT), "127.0.0.1", port, called_ae_title="X",
                contexts=[VERIFICATION_CONTEXT],
            )  # fmt: skip
            with pytest.raises(AssociationAbortedError, match="no response"):
                await echo(association)
            await association.wait_ended()
            assert association.ending is Ending.ABORTED_LOCALLY

    run(go())


def test_idle_association_is_aborted_by_the_server() -> None:
    async def go() -> Association:
        async with running_server(scp_ae(timeouts=SHORT)) as (_, port):
            association = await associate(
                scu_ae(), "127.0.0.1", port, called_ae_title="X", contexts=[VERIFICATION_CONTEXT]
            )
            await asyncio.wait_for(association.wait_ended(), 5)
            return association

    association = run(go())
    assert association.ending is Ending.ABORTED_BY_PEER


# -- bad peers on raw sockets --------------------------------------------------------------------


class RawPeer:
    """A requestor that writes whatever bytes a test wants."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.buffer = bytearray()

    @classmethod
    async def connect(cls, port: int) -> RawPeer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def next_pdu(self, timeout: float = 5.0) -> object | None:
        """The next PDU from the server, or None once it closed the connection."""
        while True:
            decoded = decode_pdu(self.buffer)
            if decoded is not None:
                pdu, used = decoded
                del self.buffer[:used]
                return pdu
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                return None
            self.buffer += data

    async def closed(self, timeout: float = 5.0) -> bool:
        """Drain until the server closes; True if it did."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), timeout):
                pass
        except (ConnectionError, TimeoutError):
            return False
        return True

    def close(self) -> None:
        self.writer.close()

    async def associate(self, *, max_pdu: int = 16384) -> AAssociateAC:
        request = build_request(
            ApplicationEntity("RAW", max_pdu_length=max_pdu),
            called_ae_title="STORE-SCP",
            address=PresentationAddress("127.0.0.1", 0),
            contexts=[VERIFICATION_CONTEXT, ProposedContext(CT_IMAGE, (EXPLICIT_LE,))],
        )
        await self.send(encode_pdu(associate_rq_from_request(request)))
        answer = await self.next_pdu()
        assert isinstance(answer, AAssociateAC), answer
        return answer


async def with_good_client(port: int, bad: object, storage: Path | None, sample: Path) -> None:
    """Run the bad peer and, at the same time, a good client that stores one instance."""

    async def good() -> None:
        instances = [probe(sample)]
        async with await associate(
            scu_ae("GOOD"), "127.0.0.1", port, called_ae_title="STORE-SCP",
            contexts=plan_contexts(instances),
        ) as association:  # fmt: skip
            [result] = await store_instances(association, instances)
            assert result.ok

    await asyncio.gather(bad, good())  # type: ignore[arg-type]


def _store_request(sample: Path) -> CStoreRQ:
    instance = probe(sample)
    data = sample.read_bytes()[instance.data_set_offset :]
    return CStoreRQ(
        message_id=1,
        affected_sop_class_uid=CT_IMAGE,
        affected_sop_instance_uid="1.2.826.0.1.99",
        data_set=data,
    )


def _partial_store(sample: Path) -> bytes:
    """A C-STORE-RQ cut in the middle of its data set (the last PDUs never come)."""
    pdus = [
        encode_pdu(p)
        for p in fragment_message(_store_request(sample), context_id=3, max_pdu_length=4096)
    ]
    assert len(pdus) > 4
    return b"".join(pdus[: len(pdus) // 2])


BAD_PEERS = {
    "garbage-before-association": "garbage",
    "unknown-pdu-type": "unknown_type",
    "wrong-pdu-length": "wrong_length",
    "pdu-above-maximum": "too_long",
    "abort-mid-message": "abort_mid",
    "drop-mid-message": "drop_mid",
    "silent-mid-message": "silent_mid",
    "bad-command-set": "bad_command",
}


@pytest.mark.parametrize("behaviour", list(BAD_PEERS.values()), ids=list(BAD_PEERS))
def test_bad_peer_ends_cleanly_and_server_goes_on(tmp_path: Path, behaviour: str) -> None:
    sample = make_ct(tmp_path / "good.dcm", seed=1, rows=128, columns=128)
    storage = tmp_path / "store"
    ended: list[Association] = []
    ae = scp_ae(max_pdu_length=16384, timeouts=Timeouts(artim=1.0, acse=5.0, dimse=5.0, idle=1.0))

    async def bad(port: int) -> None:
        peer = await RawPeer.connect(port)
        try:
            if behaviour == "garbage":
                await peer.send(b"GET / HTTP/1.1\r\n\r\n")
                reply = await peer.next_pdu()
                assert isinstance(reply, AAbort) or reply is None
                assert await peer.closed()
                return
            await peer.associate()
            if behaviour == "unknown_type":
                await peer.send(bytes([0x0A, 0]) + struct.pack(">I", 4) + bytes(4))
            elif behaviour == "wrong_length":
                # A P-DATA-TF whose PDV item claims more bytes than the PDU holds.
                await peer.send(
                    b"\x04\x00" + struct.pack(">I", 8) + struct.pack(">I", 100) + b"\x03\x03ab"
                )
            elif behaviour == "too_long":
                body = struct.pack(">I", 20000 - 4) + b"\x03\x03" + bytes(20000 - 6)
                await peer.send(b"\x04\x00" + struct.pack(">I", len(body)) + body)
            elif behaviour == "bad_command":
                # A complete command PDV whose "command set" is not one.
                junk = b"\x00\x00\x00\x00\x04\x00\x00\x00\xff\xff\xff\xff"
                pdv = struct.pack(">I", len(junk) + 2) + b"\x03\x03" + junk
                await peer.send(b"\x04\x00" + struct.pack(">I", len(pdv)) + pdv)
            else:
                await peer.send(_partial_store(sample))
                if behaviour == "abort_mid":
                    await peer.send(encode_pdu(AAbort(AbortSource.SERVICE_USER)))
                elif behaviour == "drop_mid":
                    peer.writer.transport.abort()
                    return
                # silent_mid: send nothing more; the server's idle timeout ends it.
            reply = await peer.next_pdu(timeout=5.0)
            if behaviour == "abort_mid":
                assert reply is None  # the server just closes after our A-ABORT (AA-3)
            else:
                assert isinstance(reply, AAbort), reply
                assert await peer.closed()
        finally:
            peer.close()

    async def go() -> None:
        async with running_server(ae, storage, on_association=ended.append) as (_, port):
            await with_good_client(port, bad(port), storage, sample)
            deadline = asyncio.get_running_loop().time() + 5
            while len(ended) < (1 if behaviour == "garbage" else 2):
                assert asyncio.get_running_loop().time() < deadline, ended
                await asyncio.sleep(0.01)

    run(go())
    files = sorted(p.name for p in storage.iterdir())
    # Only the good client's instance; nothing of the bad peer's, not even a temporary file.
    assert files == [f"{probe(sample).sop_instance_uid}.dcm"]
    bad_ones = [a for a in ended if a.negotiated.peer_ae_title == "RAW"]
    assert all(a.ending is not Ending.RELEASED for a in bad_ones)


def test_unknown_item_in_associate_rq_is_skipped() -> None:
    # PS3.8 §9.3.1: items of unrecognized type are ignored, not refused.
    async def go() -> object:
        async with running_server(scp_ae()) as (_, port):
            peer = await RawPeer.connect(port)
            request = build_request(
                ApplicationEntity("RAW"), called_ae_title="STORE-SCP",
                address=PresentationAddress("127.0.0.1", 0), contexts=[VERIFICATION_CONTEXT],
            )  # fmt: skip
            pdu = bytearray(encode_pdu(associate_rq_from_request(request)))
            extra = b"\x7f\x00\x00\x02ok"  # an item of type 7FH
            pdu[2:6] = struct.pack(">I", len(pdu) - 6 + len(extra))
            await peer.send(bytes(pdu) + extra)
            answer = await peer.next_pdu()
            await peer.send(encode_pdu(AAbort(AbortSource.SERVICE_USER)))
            peer.close()
            return answer

    assert isinstance(run(go()), AAssociateAC)


def test_artim_closes_a_silent_connection() -> None:
    async def go() -> bool:
        async with running_server(scp_ae(timeouts=SHORT)) as (_, port):
            peer = await RawPeer.connect(port)
            start = asyncio.get_running_loop().time()
            closed = await peer.closed(timeout=5)
            assert asyncio.get_running_loop().time() - start < 3
            peer.close()
            return closed

    assert run(go())


def test_release_answered_after_pending_requests() -> None:
    # The peer sends a request and A-RELEASE-RQ back to back: the response comes first.
    async def go() -> list[object]:
        async with running_server(scp_ae()) as (_, port):
            peer = await RawPeer.connect(port)
            await peer.associate()
            echo_rq = b"".join(
                encode_pdu(p)
                for p in fragment_message(CEchoRQ(message_id=7), context_id=1, max_pdu_length=0)
            )
            await peer.send(echo_rq + encode_pdu(AReleaseRQ()))
            replies = [await peer.next_pdu(), await peer.next_pdu()]
            peer.close()
            return replies

    first, second = run(go())
    assert type(first).__name__ == "PDataTF"
    assert isinstance(second, AReleaseRP)


def test_reject_pdu_reaches_a_raw_peer() -> None:
    async def go() -> object:
        async with running_server(scp_ae(require_called_ae_title=True)) as (_, port):
            peer = await RawPeer.connect(port)
            request = build_request(
                ApplicationEntity("RAW"), called_ae_title="SOMEONE",
                address=PresentationAddress("127.0.0.1", 0), contexts=[VERIFICATION_CONTEXT],
            )  # fmt: skip
            await peer.send(encode_pdu(associate_rq_from_request(request)))
            answer = await peer.next_pdu()
            assert await peer.closed()
            peer.close()
            return answer

    answer = run(go())
    assert answer == AAssociateRJ(
        RejectResult.REJECTED_PERMANENT,
        RejectSource.SERVICE_USER,
        UserRejectReason.CALLED_AE_TITLE_NOT_RECOGNIZED,
    )


def test_server_close_aborts_running_associations() -> None:
    async def go() -> Association:
        server = Server(scp_ae(), {CEchoRQ: handle_echo})
        _, port = await server.start()
        association = await associate(
            scu_ae(), "127.0.0.1", port, called_ae_title="X", contexts=[VERIFICATION_CONTEXT]
        )
        await server.close(grace=0.2)
        await asyncio.wait_for(association.wait_ended(), 5)
        return association

    assert run(go()).ending is Ending.ABORTED_BY_PEER


def test_outstanding_requests_stay_within_the_negotiated_window() -> None:
    async def go() -> tuple[int, int]:
        async with running_server(scp_ae(max_operations_performed=2)) as (_, port):
            association = await associate(
                scu_ae(max_operations_invoked=8), "127.0.0.1", port, called_ae_title="X",
                contexts=[VERIFICATION_CONTEXT],
            )  # fmt: skip
            assert association.negotiated.max_invoked == 2
            outstanding = peak = 0
            send = association.send_message

            async def counting_send(message: object, context_id: int) -> None:
                nonlocal outstanding, peak
                if isinstance(message, CEchoRQ):
                    outstanding += 1
                    peak = max(peak, outstanding)
                await send(message, context_id)  # type: ignore[arg-type]

            association.send_message = counting_send  # type: ignore[method-assign]

            async def one() -> int:
                nonlocal outstanding
                status = await echo(association)
                outstanding -= 1
                return status

            statuses = await asyncio.gather(*(one() for _ in range(10)))
            await association.release()
            return peak, sum(statuses)

    peak, failures = run(go())
    assert failures == 0
    assert peak == 2


def test_a_data_set_above_the_local_limit_aborts_and_stores_nothing(tmp_path: Path) -> None:
    sample = make_ct(tmp_path / "big.dcm", seed=2, rows=128, columns=128)

    async def go() -> object:
        ae = scp_ae(max_data_set_length=10_000)
        async with running_server(ae, tmp_path / "store") as (_, port):
            instances = [probe(sample)]
            association = await associate(
                scu_ae(), "127.0.0.1", port, called_ae_title="X", contexts=plan_contexts(instances)
            )
            [result] = await store_instances(association, instances)
            await association.wait_ended()
            return result

    result = run(go())
    assert result.status is None and "aborted" in result.error  # type: ignore[attr-defined]
    assert list((tmp_path / "store").iterdir()) == []
