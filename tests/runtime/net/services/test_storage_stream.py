"""The Storage SCP streams large data sets to their unpublished file as they arrive: the
SCP's memory stays far below the data set's size, the file is byte for byte what was sent,
an abort mid-data-set leaves nothing behind, and only the file-writing pass-through store
gets a sink (PS3.4 B.2.3, B.4.2; PS3.8 Annex E; DESIGN.md "Errors and data safety")."""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import attrs
import pytest
from atomic_support import force_named, unnamed_supported
from net_support import (
    CT_IMAGE,
    EXPLICIT_LE,
    make_ct,
    run,
    running_server,
    same_elements,
    scp_ae,
    scu_ae,
)

from dicompile.runtime.media import atomic_file
from dicompile.runtime.net.association import Association, StreamingRequestHandler, associate
from dicompile.runtime.net.dimse import CFindRQ, CStoreRQ, fragment_message
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext
from dicompile.runtime.net.services import spool
from dicompile.runtime.net.services.storage import (
    OUT_OF_RESOURCES,
    SUCCESS,
    FileStore,
    ReceivedInstance,
    StoreOutcome,
    probe,
    storage_handler,
    store_instance,
)
from dicompile.runtime.net.ul.primitives import PDataRequest
from dicompile.runtime.net.ul.table import Role

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(params=["unnamed", "named"])
def file_kind(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    kind: str = request.param
    if kind == "named":
        force_named(monkeypatch)
    elif not unnamed_supported(tmp_path):
        pytest.skip(f"O_TMPFILE and /proc/self/fd are not usable in {tmp_path}")
    return kind


def header(uid: str = "1.2.3.4") -> ReceivedInstance:
    return ReceivedInstance(CT_IMAGE, uid, EXPLICIT_LE, b"", "SCU", "SCP", 1, streamed_length=0)


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- the spool alone ------------------------------------------------------------------------


def test_small_data_set_stays_in_memory_and_makes_no_file(tmp_path: Path) -> None:
    store = FileStore(tmp_path, fsync=False, stream_threshold=4096)
    sink = store.open_stream(header())
    assert isinstance(sink, spool.FileSpool)
    for part in chunks(bytes(range(256)) * 16, 1000):  # 4096 bytes: not past the threshold
        sink.write(part)
    assert sink.finish() == bytes(range(256)) * 16
    assert list(tmp_path.iterdir()) == []


def test_large_data_set_is_published_whole(tmp_path: Path, file_kind: str) -> None:
    data = os.urandom(3 * spool.FLUSH_BYTES + 1234 * 2)
    store = FileStore(tmp_path, fsync=True, stream_threshold=1000)
    instance = header()
    sink = store.open_stream(instance)
    assert sink is not None
    for part in chunks(data, 16_382):
        sink.write(part)
        # Nothing visible under a DICOM name while it is being written.
        assert not [p for p in tmp_path.iterdir() if p.suffix == ".dcm"]
    assert sink.finish() is None
    outcome = run(store.publish_stream(attrs.evolve(instance, streamed_length=len(data)), sink))
    assert outcome.status == SUCCESS and outcome.path == tmp_path / "1.2.3.4.dcm"
    assert outcome.path.read_bytes() == instance.file_prefix() + data
    assert [p.name for p in tmp_path.iterdir()] == ["1.2.3.4.dcm"]


def test_discarded_spool_leaves_nothing(tmp_path: Path, file_kind: str) -> None:
    store = FileStore(tmp_path, fsync=False, stream_threshold=0)
    sink = store.open_stream(header())
    assert sink is not None
    sink.write(bytes(100_000))
    if file_kind == "named":  # the hidden temporary file exists while it is written
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    sink.discard()
    sink.discard()
    assert list(tmp_path.iterdir()) == []


def test_write_error_is_kept_and_answered_out_of_resources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str
) -> None:
    calls = [0]
    real = atomic_file.writev_all

    def full_disk(fd: int, buffers: object) -> int:
        calls[0] += 1
        if calls[0] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, buffers)  # type: ignore[arg-type]

    monkeypatch.setattr(spool, "writev_all", full_disk)
    store = FileStore(tmp_path, fsync=False, stream_threshold=0)
    handler = storage_handler(store)
    assert isinstance(handler, StreamingRequestHandler)
    sink = store.open_stream(header())
    assert isinstance(sink, spool.FileSpool)
    for part in chunks(bytes(4 * spool.FLUSH_BYTES), 65_536):
        sink.write(part)  # never raises
    assert sink.finish() is None
    assert isinstance(sink.error, OSError) and sink.error.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []

    async def answer() -> int:
        association = Association(scp_ae(), Role.ACCEPTOR)
        request = CStoreRQ(
            message_id=9,
            affected_sop_class_uid=CT_IMAGE,
            affected_sop_instance_uid="1.2.3.4",
            data_set=b"",
        )
        response = await handler.handle_streamed(association, _context(), request, sink)
        return response.status

    assert run(answer()) == OUT_OF_RESOURCES
    assert list(tmp_path.iterdir()) == []


def test_unencodable_file_meta_is_kept_and_nothing_is_written(tmp_path: Path) -> None:
    def broken() -> bytes:
        raise ValueError("cannot encode")

    sink = spool.FileSpool(tmp_path, "x.dcm", broken, threshold=10)
    for part in chunks(bytes(1000), 100):
        sink.write(part)
    assert sink.finish() is None and isinstance(sink.error, ValueError)
    with pytest.raises(ValueError):
        _ = sink.file
    assert list(tmp_path.iterdir()) == []


# -- over a real socket --------------------------------------------------------------------


_SCP = textwrap.dedent(
    """
    import asyncio, resource, sys, tracemalloc
    from dicompile.runtime.net.ae import ApplicationEntity
    from dicompile.runtime.net.dimse import CStoreRQ
    from dicompile.runtime.net.server import Server
    from dicompile.runtime.net.services.storage import (
        FileStore, storage_handler, storage_scp_contexts,
    )

    def status(key: str) -> int:
        with open("/proc/self/status") as f:  # KiB
            return int(next(l for l in f if l.startswith(key + ":")).split()[1])

    def reset_peak() -> int:
        # Linux: writing 5 to clear_refs resets the peak resident set (VmHWM) to the
        # current one, so the imports' peak does not hide the association's.
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return status("VmRSS")
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def peak() -> int:
        try:
            return status("VmHWM")
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def main() -> None:
        folder, threshold = sys.argv[1], sys.argv[2]
        limit = None if threshold == "none" else int(threshold)
        done = asyncio.Event()
        store = FileStore(folder, fsync=False, stream_threshold=limit)
        ae = ApplicationEntity("STORE-SCP", contexts=storage_scp_contexts())
        server = Server(ae, {CStoreRQ: storage_handler(store)}, on_association=lambda a: done.set())
        _, port = await server.start("127.0.0.1", 0)
        tracemalloc.start()
        print(reset_peak(), port, flush=True)
        await asyncio.wait_for(done.wait(), 120)
        await server.close(grace=2.0)
        print(peak(), tracemalloc.get_traced_memory()[1], flush=True)

    asyncio.run(main())
    """
)


def _scp_peak_growth(storage: Path, threshold: str, data: bytes, uid: str) -> tuple[int, int, int]:
    """Send ``data`` in one C-STORE to an SCP in a child process; return the status, the
    peak of the memory Python allocated while it served the association (tracemalloc,
    bytes) and how much its peak resident set grew meanwhile (VmHWM after a reset of the
    peak, bytes; ru_maxrss where /proc cannot reset it, which may hide the growth behind
    the imports' peak)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SCP, str(storage), threshold],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        before, port = map(int, process.stdout.readline().split())

        async def send() -> int:
            association = await associate(
                scu_ae(),
                "127.0.0.1",
                port,
                called_ae_title="STORE-SCP",
                contexts=[ProposedContext(CT_IMAGE, (EXPLICIT_LE,))],
            )
            async with association:
                context = association.negotiated.find(CT_IMAGE, EXPLICIT_LE)
                assert context is not None
                request = CStoreRQ(
                    message_id=1,
                    affected_sop_class_uid=CT_IMAGE,
                    affected_sop_instance_uid=uid,
                    data_set=data,
                )
                response = await association.request(request, context.context_id)
                return response.status

        status = run(send(), timeout=120)
        after, traced = map(int, process.stdout.readline().split())
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return status, traced, (after - before) * 1024


def test_64_mb_c_store_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    size = 64 << 20
    # Not a valid data set: the pass-through store never decodes it, and random bytes
    # catch any reordering or loss.
    data = os.urandom(size)
    uid = "1.2.826.0.1.3680043.2.1143.64"
    status, traced, growth = _scp_peak_growth(
        tmp_path, str(spool.DEFAULT_STREAM_THRESHOLD), data, uid
    )
    assert status == SUCCESS
    stored = tmp_path / f"{uid}.dcm"
    prefix = ReceivedInstance(CT_IMAGE, uid, EXPLICIT_LE, b"", "STORE-SCU", "", 0).file_prefix()
    with stored.open("rb") as f:
        assert f.read(len(prefix)) == prefix
        assert f.read() == data
    assert [p.name for p in tmp_path.iterdir()] == [stored.name]
    print(
        f"SCP streamed 64 MiB: traced peak {traced / 2**20:.1f} MiB,"
        f" peak RSS growth {growth / 2**20:.1f} MiB"
    )
    assert traced < size // 8
    assert growth < size // 4


def test_the_same_c_store_held_in_memory_costs_its_size(tmp_path: Path) -> None:
    # The control of the measurement above: without streaming the peak grows by at
    # least the data set's size (held whole, then written).
    size = 32 << 20
    data = os.urandom(size)
    status, traced, growth = _scp_peak_growth(tmp_path, "none", data, "1.2.3.32")
    assert status == SUCCESS
    assert (tmp_path / "1.2.3.32.dcm").stat().st_size > size
    print(
        f"SCP in memory 32 MiB: traced peak {traced / 2**20:.1f} MiB,"
        f" peak RSS growth {growth / 2**20:.1f} MiB"
    )
    assert traced > size


def test_abort_mid_data_set_leaves_no_file_and_no_temporary_file(
    tmp_path: Path, file_kind: str
) -> None:
    storage = tmp_path / "store"
    storage.mkdir()
    ended: list[Association] = []
    seen_temporary: list[str] = []
    store = FileStore(storage, fsync=False, stream_threshold=0)

    async def go() -> None:
        handlers = {CStoreRQ: storage_handler(store)}
        async with running_server(scp_ae(), handlers=handlers, on_association=ended.append) as (
            _,
            port,
        ):
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
                data_set=bytes(4 << 20),
            )
            pdus = list(
                fragment_message(request, context_id=context.context_id, max_pdu_length=65536)
            )
            for pdu in pdus[: len(pdus) // 2]:
                association.transport.send(PDataRequest(pdu.pdvs))
            await association.transport.drain()
            for _ in range(200):  # until the SCP has spooled part of it
                names = [p.name for p in storage.iterdir()]
                if file_kind == "unnamed" or names:
                    seen_temporary.extend(names)
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            association.abort()
            await association.wait_ended()
            for _ in range(200):
                if ended:
                    break
                await asyncio.sleep(0.01)

    run(go())
    assert len(ended) == 1 and ended[0].ending is not None
    if file_kind == "named":
        assert seen_temporary and all(n.endswith(".tmp") for n in seen_temporary)
    assert list(storage.iterdir()) == []


# -- only the pass-through store streams ----------------------------------------------------


class Recorder:
    """A plain StoreHandler (no streaming): it gets the data set's bytes."""

    def __init__(self) -> None:
        self.received: list[ReceivedInstance] = []

    async def __call__(self, instance: ReceivedInstance) -> StoreOutcome:
        self.received.append(instance)
        return StoreOutcome(SUCCESS)


def _context() -> AcceptedContext:
    return AcceptedContext(1, CT_IMAGE, EXPLICIT_LE, scu=False, scp=True)


def test_only_the_pass_through_store_gets_a_sink(tmp_path: Path) -> None:
    from dicompile.generated.services.base import Outcome, ServiceContext
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.services.archive_scp import archive_handlers
    from dicompile.runtime.net.services.dispatch import scp_handlers

    async def go() -> None:
        association = Association(scp_ae(), Role.ACCEPTOR)
        request = CStoreRQ(
            message_id=1,
            affected_sop_class_uid=CT_IMAGE,
            affected_sop_instance_uid="1.2",
            data_set=b"",
        )
        file_store = FileStore(tmp_path, fsync=False)
        # The file-writing store, directly and through the archive's typed dispatch.
        for handler in (
            storage_handler(file_store),
            archive_handlers(None, None, {}, store=file_store)[CStoreRQ],
        ):
            assert isinstance(handler, StreamingRequestHandler)
            sink = handler.data_sink(association, _context(), request)
            assert isinstance(sink, spool.FileSpool)
            sink.discard()
        # A store that is no StreamingStore, a typed handle_store and other services: none.
        plain = storage_handler(Recorder())
        assert isinstance(plain, StreamingRequestHandler)
        assert plain.data_sink(association, _context(), request) is None

        class Typed:
            async def handle_store(self, data_set: Dataset, context: ServiceContext) -> Outcome:  # type: ignore[type-arg]
                return Outcome(0)

        typed = scp_handlers(Typed(), [CT_IMAGE])[CStoreRQ]
        assert not isinstance(typed, StreamingRequestHandler) or (
            typed.data_sink(association, _context(), request) is None
        )
        find = archive_handlers(None, None, {}, store=file_store).get(CFindRQ)
        if isinstance(find, StreamingRequestHandler):
            find_rq = CFindRQ(
                message_id=2, affected_sop_class_uid=CT_IMAGE, data_set=b"\x08\x00\x52\x00"
            )
            assert find.data_sink(association, _context(), find_rq) is None
        # A SOP class that differs from the context's is refused, so not streamed.
        other = AcceptedContext(1, "1.2.840.10008.5.1.4.1.1.4", EXPLICIT_LE, scu=False, scp=True)
        assert storage_handler(file_store).data_sink(association, other, request) is None

    run(go())
    assert list(tmp_path.iterdir()) == []


def test_a_plain_store_still_gets_the_bytes_of_a_large_data_set(tmp_path: Path) -> None:
    recorder = Recorder()
    data = os.urandom(3 << 20)

    async def go() -> int:
        handlers = {CStoreRQ: storage_handler(recorder)}
        async with running_server(scp_ae(), handlers=handlers) as (_, port):
            association = await associate(
                scu_ae(),
                "127.0.0.1",
                port,
                called_ae_title="STORE-SCP",
                contexts=[ProposedContext(CT_IMAGE, (EXPLICIT_LE,))],
            )
            async with association:
                context = association.negotiated.find(CT_IMAGE, EXPLICIT_LE)
                assert context is not None
                request = CStoreRQ(
                    message_id=1,
                    affected_sop_class_uid=CT_IMAGE,
                    affected_sop_instance_uid="1.2.3",
                    data_set=data,
                )
                return (await association.request(request, context.context_id)).status

    assert run(go()) == SUCCESS
    assert len(recorder.received) == 1
    got = recorder.received[0]
    assert got.data_set == data and got.streamed_length is None


def test_archive_indexes_a_streamed_instance(tmp_path: Path) -> None:
    from dicompile.runtime.archive.qr_backend import open_archive

    sent = make_ct(tmp_path / "ct.dcm", rows=256, columns=256)
    archive = tmp_path / "archive"
    index, store = open_archive(archive, fsync=False)
    store.stream_threshold = 0  # every data set streamed
    stored: list[ReceivedInstance] = []
    store_on_stored = store.on_stored

    def seen(instance: ReceivedInstance, path: Path) -> None:
        stored.append(instance)
        assert store_on_stored is not None
        store_on_stored(instance, path)

    store.on_stored = seen
    try:

        async def go() -> None:
            handlers = {CStoreRQ: storage_handler(store)}
            async with running_server(scp_ae(), handlers=handlers) as (_, port):
                instance = probe(sent)
                association = await associate(
                    scu_ae(),
                    "127.0.0.1",
                    port,
                    called_ae_title="STORE-SCP",
                    contexts=[ProposedContext(CT_IMAGE, (instance.transfer_syntax,))],
                )
                async with association:
                    result = await store_instance(association, instance)
                    assert result.ok, result

        run(go())
        assert len(stored) == 1 and stored[0].streamed_length is not None
        assert stored[0].streamed_length > 256 * 256 * 2 and stored[0].data_set == b""
        assert index.count() == 1
        files = sorted(archive.glob("*.dcm"))
        assert len(files) == 1
        same_elements(sent, files[0])
    finally:
        index.close()


class FailingSinks:
    """A streaming C-STORE handler whose sink choice fails: the request must still be
    received (in memory) and answered by the handler itself."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def __call__(
        self, association: Association, context: AcceptedContext, request: object
    ) -> object:
        assert isinstance(request, CStoreRQ)
        self.sizes.append(len(request.data_set))
        return await storage_handler(Recorder())(association, context, request)

    def data_sink(self, association: object, context: object, request: object) -> None:
        raise RuntimeError("bug in a handler")

    async def handle_streamed(self, *args: object) -> object:  # pragma: no cover
        raise AssertionError("never streamed")


def test_a_failing_sink_choice_falls_back_to_memory(tmp_path: Path) -> None:
    handler = FailingSinks()
    assert isinstance(handler, StreamingRequestHandler)
    data = os.urandom(2 << 20)

    async def go() -> int:
        handlers = {CStoreRQ: handler}
        async with running_server(scp_ae(), handlers=handlers) as (_, port):
            association = await associate(
                scu_ae(),
                "127.0.0.1",
                port,
                called_ae_title="STORE-SCP",
                contexts=[ProposedContext(CT_IMAGE, (EXPLICIT_LE,))],
            )
            async with association:
                context = association.negotiated.find(CT_IMAGE, EXPLICIT_LE)
                assert context is not None
                request = CStoreRQ(
                    message_id=1,
                    affected_sop_class_uid=CT_IMAGE,
                    affected_sop_instance_uid="1.2.3",
                    data_set=data,
                )
                return (await association.request(request, context.context_id)).status

    assert run(go()) == SUCCESS
    assert handler.sizes == [len(data)]
