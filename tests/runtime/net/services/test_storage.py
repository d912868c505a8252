"""Storage SCU and SCP (PS3.4 Annex B) over loopback: files stored durably and identical,
transcoding, file naming, failure statuses."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from net_support import (
    CT_IMAGE,
    DEFLATED_LE,
    EXPLICIT_BE,
    EXPLICIT_LE,
    IMPLICIT_LE,
    JPEG_BASELINE,
    make_ct,
    make_jpeg_like,
    run,
    running_server,
    same_elements,
    scp_ae,
    scu_ae,
)

from dicompile.runtime.net.association import associate
from dicompile.runtime.net.dimse import CEchoRQ, CStoreRQ
from dicompile.runtime.net.services.storage import (
    OUT_OF_RESOURCES,
    PROCESSING_FAILURE,
    FileStore,
    ReceivedInstance,
    StoreOutcome,
    plan_contexts,
    probe,
    safe_file_stem,
    storage_handler,
    storage_scp_contexts,
    storage_sop_classes,
    store_instances,
)
from dicompile.runtime.net.services.verification import VERIFICATION_SCP, handle_echo

ALL_NATIVE = (EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED_LE)


def stored_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".dcm")


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.suffix != ".dcm"]


async def send(port: int, paths: list[Path], **scu_kwargs: object) -> list[object]:
    instances = [probe(p) for p in paths]
    async with await associate(
        scu_ae(**scu_kwargs),  # type: ignore[arg-type]
        "127.0.0.1",
        port,
        called_ae_title="STORE-SCP",
        contexts=plan_contexts(instances),
    ) as association:
        return list(await store_instances(association, instances))


def test_storage_sop_classes_come_from_the_registry() -> None:
    classes = storage_sop_classes()
    assert CT_IMAGE in classes
    assert "1.2.840.10008.1.3.10" not in classes  # Media Storage Directory: media only
    assert "1.2.840.10008.1.1" not in classes
    assert len(classes) > 80


def test_probe_reads_the_meta_information(tmp_path: Path) -> None:
    path = make_ct(tmp_path / "a.dcm", syntax=IMPLICIT_LE, seed=3)
    instance = probe(path)
    import pydicom

    ds = pydicom.dcmread(path)
    assert instance.sop_class_uid == CT_IMAGE
    assert instance.sop_instance_uid == ds.SOPInstanceUID
    assert instance.transfer_syntax == IMPLICIT_LE
    data = path.read_bytes()
    # The data set starts right after the meta group: its first element is (0008,0005).
    assert instance.data_set_offset is not None
    assert data[instance.data_set_offset : instance.data_set_offset + 4] == b"\x08\x00\x05\x00"


@pytest.mark.parametrize("syntax", ALL_NATIVE)
def test_store_each_native_syntax_as_is(tmp_path: Path, syntax: str) -> None:
    sent = [make_ct(tmp_path / f"in{i}.dcm", syntax=syntax, seed=i) for i in range(3)]
    storage = tmp_path / "store"

    async def go() -> list[object]:
        async with running_server(scp_ae(), storage) as (_, port):
            return await send(port, sent)

    results = run(go())
    assert [r.ok for r in results] == [True] * 3  # type: ignore[attr-defined]
    assert not any(r.transcoded for r in results)  # type: ignore[attr-defined]
    files = stored_files(storage)
    assert len(files) == 3
    assert leftovers(storage) == []
    by_uid = {probe(f).sop_instance_uid: f for f in files}
    for path in sent:
        instance = probe(path)
        stored = by_uid[instance.sop_instance_uid]
        assert stored.name == f"{instance.sop_instance_uid}.dcm"
        assert probe(stored).transfer_syntax == syntax
        # The data set bytes are kept exactly as sent.
        assert (
            stored.read_bytes()[probe(stored).data_set_offset :]
            == path.read_bytes()[instance.data_set_offset :]
        )
        same_elements(path, stored)


@pytest.mark.parametrize("syntax", [EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE])
def test_transcodes_when_the_peer_accepts_only_implicit(tmp_path: Path, syntax: str) -> None:
    sent = [make_ct(tmp_path / "in.dcm", syntax=syntax, seed=7)]
    storage = tmp_path / "store"
    ae = scp_ae(contexts=storage_scp_contexts([CT_IMAGE], [IMPLICIT_LE]))

    async def go() -> list[object]:
        async with running_server(ae, storage) as (_, port):
            return await send(port, sent)

    [result] = run(go())
    assert result.ok and result.transcoded  # type: ignore[attr-defined]
    assert result.transfer_syntax == IMPLICIT_LE  # type: ignore[attr-defined]
    [stored] = stored_files(storage)
    assert probe(stored).transfer_syntax == IMPLICIT_LE
    same_elements(sent[0], stored)


def test_compressed_passes_through_or_is_refused(tmp_path: Path) -> None:
    jpeg = make_jpeg_like(tmp_path / "j.dcm", seed=1)
    storage = tmp_path / "store"

    async def go(ae_syntaxes: list[str]) -> list[object]:
        ae = scp_ae(contexts=storage_scp_contexts([CT_IMAGE], ae_syntaxes))
        async with running_server(ae, storage) as (_, port):
            return await send(port, [jpeg])

    [refused] = run(go([EXPLICIT_LE, IMPLICIT_LE]))
    assert refused.status is None  # type: ignore[attr-defined]
    assert "no accepted presentation context" in refused.error  # type: ignore[attr-defined]
    assert stored_files(storage) == []
    [passed] = run(go([JPEG_BASELINE]))
    assert passed.ok  # type: ignore[attr-defined]
    [stored] = stored_files(storage)
    same_elements(jpeg, stored)


def test_same_instance_twice_never_overwrites(tmp_path: Path) -> None:
    first = make_ct(tmp_path / "a.dcm", seed=1, sop_instance_uid="1.2.3.4")
    second = make_ct(tmp_path / "b.dcm", seed=2, sop_instance_uid="1.2.3.4")
    storage = tmp_path / "store"

    async def go() -> list[object]:
        async with running_server(scp_ae(), storage) as (_, port):
            return await send(port, [first, second])

    assert all(r.ok for r in run(go()))  # type: ignore[attr-defined]
    names = [p.name for p in stored_files(storage)]
    assert names == ["1.2.3.4.1.dcm", "1.2.3.4.dcm"]
    same_elements(first, storage / "1.2.3.4.dcm")
    same_elements(second, storage / "1.2.3.4.1.dcm")


@pytest.mark.parametrize(
    "uid",
    ["../../etc/passwd", "..", ".hidden", "a/b\\c", "", "x" * 300, "1.2.3\x00", "é"],
)
def test_safe_file_stem_stays_in_the_folder(uid: str, tmp_path: Path) -> None:
    stem = safe_file_stem(uid)
    assert stem and "/" not in stem and "\\" not in stem and not stem.startswith(".")
    assert (tmp_path / f"{stem}.dcm").resolve().parent == tmp_path.resolve()
    assert len(stem) <= 64 + 17


def test_safe_file_stem_keeps_uids_and_separates_the_rest() -> None:
    assert safe_file_stem("1.2.840.10008.1") == "1.2.840.10008.1"
    assert safe_file_stem("a/b") != safe_file_stem("a_b")
    assert safe_file_stem("1.2.3.") != "1.2.3."  # not a valid UID: hashed


def test_a_malicious_uid_is_stored_inside_the_folder(tmp_path: Path) -> None:
    path = make_ct(tmp_path / "evil.dcm", seed=5, sop_instance_uid="1.2.3")
    storage = tmp_path / "store"
    received: list[ReceivedInstance] = []

    async def go() -> None:
        from dicompile.runtime.net.association import associate as assoc
        from dicompile.runtime.net.dimse import CStoreRQ as RQ

        store = FileStore(storage, fsync=False)

        async def spy(instance: ReceivedInstance) -> StoreOutcome:
            received.append(instance)
            return await store(instance)

        handlers = {CStoreRQ: storage_handler(spy)}
        async with running_server(scp_ae(), handlers=handlers) as (_, port):
            instance = probe(path)
            async with await assoc(
                scu_ae(), "127.0.0.1", port, called_ae_title="X", contexts=plan_contexts([instance])
            ) as association:
                context = association.negotiated.find(CT_IMAGE, EXPLICIT_LE)
                assert context is not None
                data = path.read_bytes()[instance.data_set_offset :]
                # The command's UID is what names the file; PS3.7 lets any UI text through
                # our DIMSE decoder only if it is digits and dots, so use the dataset
                # mismatch route: a valid UID that differs from the data set's.
                response = await association.request(
                    RQ(
                        message_id=1,
                        affected_sop_class_uid=CT_IMAGE,
                        affected_sop_instance_uid="1.2.3.4.5.6",
                        data_set=data,
                    ),
                    context.context_id,
                )
                assert response.status == 0

    run(go())
    [stored] = stored_files(storage)
    assert stored.parent == storage and stored.name == "1.2.3.4.5.6.dcm"
    assert received[0].sop_instance_uid == "1.2.3.4.5.6"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), OUT_OF_RESOURCES),
        (OSError(errno.EACCES, "Permission denied"), PROCESSING_FAILURE),
        (RuntimeError("bug"), PROCESSING_FAILURE),
    ],
)
def test_failures_answer_a_failure_status(
    tmp_path: Path, error: Exception, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [make_ct(tmp_path / "in.dcm", seed=1)]
    storage = tmp_path / "store"
    store = FileStore(storage, fsync=True)

    def failing_fsync(fd: int) -> None:
        raise error

    import dicompile.runtime.net.services.storage as module

    monkeypatch.setattr(module.os, "fsync", failing_fsync)
    handlers = {CEchoRQ: handle_echo, CStoreRQ: storage_handler(store)}

    async def go() -> list[object]:
        async with running_server(scp_ae(), handlers=handlers) as (_, port):
            return await send(port, sent)

    [result] = run(go())
    assert result.status == status  # type: ignore[attr-defined]
    assert not result.ok  # type: ignore[attr-defined]
    assert list(storage.iterdir()) == []  # nothing stored, no temporary file left


def test_asynchronous_window_keeps_results_in_order(tmp_path: Path) -> None:
    sent = [make_ct(tmp_path / f"in{i}.dcm", seed=i) for i in range(12)]
    storage = tmp_path / "store"
    scp = scp_ae(max_operations_performed=4)

    async def go() -> list[object]:
        async with running_server(scp, storage) as (_, port):
            return await send(port, sent, max_operations_invoked=8)

    results = run(go())
    assert [r.path for r in results] == [str(p) for p in sent]  # type: ignore[attr-defined]
    assert all(r.ok for r in results)  # type: ignore[attr-defined]
    assert len(stored_files(storage)) == 12


def test_received_instance_decodes_its_dataset(tmp_path: Path) -> None:
    path = make_ct(tmp_path / "in.dcm", syntax=DEFLATED_LE, seed=4)
    instance = probe(path)
    data = path.read_bytes()[instance.data_set_offset :]
    received = ReceivedInstance(
        CT_IMAGE, instance.sop_instance_uid, DEFLATED_LE, data, "SCU", "SCP", 1
    )
    dataset = received.dataset()
    assert dataset.get_value(0x00080018) == instance.sop_instance_uid
    assert dataset.get_value(0x00100020) == "ID4"


def test_verification_context_and_storage_together(tmp_path: Path) -> None:
    from dicompile.runtime.net.services.verification import VERIFICATION_CONTEXT, echo

    async def go() -> int:
        ae = scp_ae(contexts=(VERIFICATION_SCP,))
        async with (
            running_server(ae) as (_, port),
            await associate(
                scu_ae(), "127.0.0.1", port, called_ae_title="X", contexts=[VERIFICATION_CONTEXT]
            ) as association,
        ):
            return await echo(association)

    assert run(go()) == 0
