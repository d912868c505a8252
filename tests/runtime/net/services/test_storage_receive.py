"""The Storage SCP's receive and write path: the File Meta Information it reuses between
instances is byte for byte what the codec writes, and a data set cut off by an abort leaves
no file and no temporary file behind (PS3.4 B.2.3; DESIGN.md "Errors and data safety")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from net_support import CT_IMAGE, EXPLICIT_LE, IMPLICIT_LE, run, running_server, scp_ae, scu_ae

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.media.part10 import read_bytes
from dicompile.runtime.net.association import Association, associate
from dicompile.runtime.net.dimse import CStoreRQ, fragment_message
from dicompile.runtime.net.negotiation import ProposedContext
from dicompile.runtime.net.services.storage import FileStore, ReceivedInstance
from dicompile.runtime.net.ul.primitives import PDataRequest

JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


def instance(uid: str, syntax: str, calling: str) -> ReceivedInstance:
    return ReceivedInstance(CT_IMAGE, uid, syntax, b"", calling, "STORE-SCP", 7)


@pytest.mark.parametrize(
    "uid",
    ["1.2.3", "1.2.34", "2.25." + "9" * 59, "1.2.840.10008.99.7"],
)
@pytest.mark.parametrize("syntax", [IMPLICIT_LE, EXPLICIT_LE, JPEG_BASELINE])
@pytest.mark.parametrize("calling", ["", "SCU", "SIXTEEN-CHARS-AE"])
def test_file_prefix_is_what_the_codec_writes(uid: str, syntax: str, calling: str) -> None:
    received = instance(uid, syntax, calling)
    expected = bytes(128) + b"DICM" + encode_dataset(received.file_meta(), CodecContext())
    assert received.file_prefix() == expected
    # And it reads back as a Part 10 header naming this instance.
    # (0008,0016) "1" in the syntax's own VR encoding.
    vr = b"\x02\x00\x00\x00" if syntax == IMPLICIT_LE else b"UI\x02\x00"
    file = read_bytes(received.file_prefix() + b"\x08\x00\x16\x00" + vr + b"1\x00")
    assert file.meta[0x00020003].value == uid
    assert file.transfer_syntax.uid == syntax


def test_file_prefix_of_an_odd_uid_falls_back_to_the_codec() -> None:
    received = instance("not a uid/../x", EXPLICIT_LE, "SCU")
    expected = bytes(128) + b"DICM" + encode_dataset(received.file_meta(), CodecContext())
    assert received.file_prefix() == expected


def test_file_store_without_fsync_writes_the_exact_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 2048
    received = ReceivedInstance(CT_IMAGE, "1.2.3.4", EXPLICIT_LE, data, "SCU", "SCP", 1)
    outcome = run(FileStore(tmp_path, fsync=False)(received))
    assert outcome.path == tmp_path / "1.2.3.4.dcm"
    assert outcome.path.read_bytes() == received.file_prefix() + data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.2.3.4.dcm"]


def test_a_data_set_cut_off_by_an_abort_leaves_no_file(tmp_path: Path) -> None:
    storage = tmp_path / "store"
    ended: list[Association] = []

    async def go() -> None:
        async with running_server(scp_ae(), storage, on_association=ended.append) as (_, port):
            association = await associate(
                scu_ae(),
                "127.0.0.1",
                port,
                called_ae_title="STORE-SCP",
                contexts=[ProposedContext(CT_IMAGE, (EXPLICIT_LE,))],
            )
            context = association.negotiated.find(CT_IMAGE, EXPLICIT_LE)
            assert context is not None
            request = CStoreRQ(
                message_id=1,
                affected_sop_class_uid=CT_IMAGE,
                affected_sop_instance_uid="1.2.3.4.5",
                data_set=bytes(600_000),
            )
            pdus = list(
                fragment_message(request, context_id=context.context_id, max_pdu_length=65536)
            )
            assert len(pdus) > 6
            for pdu in pdus[:6]:  # the command and part of the data set, then the abort
                association.transport.send(PDataRequest(pdu.pdvs))
            await association.transport.drain()
            await asyncio.sleep(0.05)
            association.abort()
            await association.wait_ended()
            for _ in range(200):
                if ended:
                    break
                await asyncio.sleep(0.01)

    run(go())
    assert len(ended) == 1 and ended[0].ending is not None
    assert list(storage.iterdir()) == []
