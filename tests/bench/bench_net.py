"""Network benchmarks (issue 5): dicompile against pynetdicom and dcmtk, measured in one run.

``python -m tests.bench.bench_net [--count 300] [--repeat 3]``

* C-STORE of ``--count`` 512x512 CT instances over loopback, SCU and SCP in separate
  processes for every pair: dicompile->dicompile, pynetdicom->pynetdicom, dcmtk
  storescu->storescp.  Goals: >= 3x pynetdicom, >= 0.5x dcmtk.  Every SCP writes files
  without fsync (dcmtk and pynetdicom do not fsync either), and every run starts with the
  SCP's folder emptied of the previous run's files: storescp overwrites a file of the same
  name, which only replaces pages still in the page cache (several times cheaper in kernel
  time than writing a new file), while dicompile never replaces a stored file.  The rate of
  every run is printed; the best counts.
* C-ECHO: ``--echoes`` requests on one association, dicompile vs pynetdicom (goal >= 10x).
* Concurrency: 20 associations at once, each storing 50 instances, to one dicompile SCP;
  every one of the 1000 files is checked byte for byte against its source data set.

Peers that are missing are reported and skipped.  Servers run as subprocesses of this one
and are stopped by their own process handles.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.bench.corpus import CORPUS, build, files
from tests.bench.harness import Rate, measure, report

ENV = {**os.environ, "TCP_NODELAY": "1"}

_PYNETDICOM_SCP = r"""
import sys
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification
folder = sys.argv[2]
count = [0]
def store(event):
    count[0] += 1
    with open(f"{folder}/{count[0]:06d}.dcm", "wb") as f:
        f.write(event.encoded_dataset())
    return 0x0000
ae = AE(ae_title="PYSCP")
ae.maximum_associations = 32
ae.supported_contexts = AllStoragePresentationContexts
ae.add_supported_context(Verification)
handlers = [(evt.EVT_C_STORE, store)]
ae.start_server(("127.0.0.1", int(sys.argv[1])), block=True, evt_handlers=handlers)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


class Peer:
    """A server subprocess, started by us and stopped by its handle."""

    def __init__(self, argv: list[str], port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
        )
        wait_listening(port, self.process)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def dcmtk(name: str) -> str | None:
    for folder in ["/usr/bin", "/usr/local/bin", *os.environ.get("PATH", "").split(os.pathsep)]:
        candidate = shutil.which(name, path=folder)
        if candidate is None:
            continue
        out = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False)
        if "dcmtk" in (out.stdout + out.stderr).lower():
            return candidate
    return None


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def measure_store(
    who: str, count: int, run: Callable[[], object], folder: Path, pattern: str, repeat: int
) -> Rate:
    """Best of ``repeat`` runs, each into ``folder`` emptied of the files matching
    ``pattern`` (untimed), so that every SCP writes new files every time."""
    seconds: list[float] = []
    for _ in range(repeat):
        for stored in folder.glob(pattern):
            stored.unlink()
        gc.collect()
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    print(f"   {who} runs: " + ", ".join(f"{count / s:,.0f}" for s in seconds) + " files/s")
    return Rate(who, count, min(seconds))


# -- SCUs -------------------------------------------------------------------------------------


def dicompile_store(port: int, paths: list[Path], called: str = "ANY") -> None:
    from dicompile.runtime.net.ae import ApplicationEntity
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.storage import plan_contexts, probe, store_instances

    async def go() -> None:
        instances = [probe(p) for p in paths]
        ae = ApplicationEntity("BENCH", max_operations_invoked=8)
        async with await associate(
            ae, "127.0.0.1", port, called_ae_title=called, contexts=plan_contexts(instances)
        ) as association:
            results = await store_instances(association, instances)
        failed = [r for r in results if not r.ok]
        assert not failed, failed[:3]

    asyncio.run(go())


def dicompile_echo(port: int, count: int) -> None:
    from dicompile.runtime.net.ae import ApplicationEntity
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.verification import VERIFICATION_CONTEXT, echo

    async def go() -> None:
        async with await associate(
            ApplicationEntity("BENCH"), "127.0.0.1", port, called_ae_title="ANY",
            contexts=[VERIFICATION_CONTEXT],
        ) as association:  # fmt: skip
            for _ in range(count):
                assert await echo(association) == 0

    asyncio.run(go())


def pynetdicom_store(port: int, paths: list[Path]) -> None:
    import pydicom
    from pynetdicom import AE

    ae = AE(ae_title="BENCH")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1"])
    association = ae.associate("127.0.0.1", port, ae_title="PYSCP")
    assert association.is_established
    try:
        for path in paths:
            status = association.send_c_store(pydicom.dcmread(path))
            if "Status" not in status or status.Status != 0:
                raise RuntimeError(f"pynetdicom: no Success for {path.name}: {status}")
    finally:
        association.release()


def pynetdicom_echo(port: int, count: int) -> None:
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    ae = AE(ae_title="BENCH")
    ae.add_requested_context(Verification)
    association = ae.associate("127.0.0.1", port, ae_title="PYSCP")
    assert association.is_established
    try:
        for _ in range(count):
            status = association.send_c_echo()
            if "Status" not in status or status.Status != 0:
                raise RuntimeError(f"pynetdicom: C-ECHO failed: {status}")
    finally:
        association.release()


def storescu(tool: str, port: int, folder: Path) -> None:
    subprocess.run(
        [tool, "-aec", "STORESCP", "+sd", "127.0.0.1", str(port), str(folder)],
        check=True,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# -- benchmarks ---------------------------------------------------------------------------------


def bench_store(paths: list[Path], work: Path, repeat: int) -> bool:
    count = len(paths)
    source = paths[0].parent
    python = sys.executable
    port = free_port()
    ours_dir = work / "ours"
    peer = Peer(
        [python, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1", "--port",
         str(port), "--storage", str(fresh(ours_dir)), "--no-fsync"],
        port,
    )  # fmt: skip
    try:
        ours = measure_store(
            "dicompile->dicompile",
            count,
            lambda: dicompile_store(port, paths),
            ours_dir,
            "*.dcm",  # not the archive's index files
            repeat,
        )
    finally:
        peer.stop()
    peers: list[Rate] = []
    try:
        import pynetdicom  # noqa: F401

        port = free_port()
        py_dir = fresh(work / "py")
        peer = Peer([python, "-c", _PYNETDICOM_SCP, str(port), str(py_dir)], port)
        try:
            peers.append(
                measure_store(
                    "pynetdicom->pynetdicom",
                    count,
                    lambda: pynetdicom_store(port, paths),
                    py_dir,
                    "*",
                    repeat,
                )
            )
        finally:
            peer.stop()
    except ImportError:
        print("   pynetdicom is not installed: skipped")
    scu, scp = dcmtk("storescu"), dcmtk("storescp")
    if scu and scp:
        port = free_port()
        dcmtk_dir = fresh(work / "dcmtk")
        peer = Peer([scp, "-aet", "STORESCP", "-od", str(dcmtk_dir), str(port)], port)
        try:
            assert len(list(source.glob("*.dcm"))) == count
            peers.append(
                measure_store(
                    "dcmtk->dcmtk",
                    count,
                    lambda: storescu(scu, port, source),
                    dcmtk_dir,
                    "*",
                    repeat,
                )
            )
        finally:
            peer.stop()
    else:
        print("   dcmtk is not installed: skipped")
    return report(
        f"C-STORE of {count} CT instances (512x512x16) over loopback",
        ours,
        peers,
        {"pynetdicom->pynetdicom": 3.0, "dcmtk->dcmtk": 0.5},
    )


def bench_echo(count: int, repeat: int) -> bool:
    python = sys.executable
    port = free_port()
    peer = Peer(
        [python, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1", "--port",
         str(port), "--storage", tempfile.mkdtemp()],
        port,
    )  # fmt: skip
    try:
        ours = measure(
            "dicompile", count, lambda: dicompile_echo(port, count), repeat=repeat, unit="echoes"
        )
    finally:
        peer.stop()
    peers = []
    try:
        import pynetdicom  # noqa: F401

        port = free_port()
        peer = Peer([python, "-c", _PYNETDICOM_SCP, str(port), tempfile.mkdtemp()], port)
        try:
            peers.append(
                measure(
                    "pynetdicom",
                    count,
                    lambda: pynetdicom_echo(port, count),
                    repeat=repeat,
                    unit="echoes",
                )
            )
        finally:
            peer.stop()
    except ImportError:
        print("   pynetdicom is not installed: skipped")
    return report(f"C-ECHO x{count} on one association", ours, peers, {"pynetdicom": 10.0})


def bench_concurrent(paths: list[Path], work: Path, associations: int, each: int) -> bool:
    from dicompile.runtime.net.ae import ApplicationEntity
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.storage import plan_contexts, probe, store_instances

    port = free_port()
    folder = fresh(work / "concurrent")
    peer = Peer(
        [sys.executable, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--storage", str(folder), "--no-fsync"],
        port,
    )  # fmt: skip
    chosen = [
        [paths[(k * each + i) % len(paths)] for i in range(each)] for k in range(associations)
    ]

    async def one(batch: list[Path]) -> int:
        instances = [probe(p) for p in batch]
        async with await associate(
            ApplicationEntity(f"BENCH{len(batch)}"), "127.0.0.1", port, called_ae_title="ANY",
            contexts=plan_contexts(instances),
        ) as association:  # fmt: skip
            results = await store_instances(association, instances)
        return sum(r.ok for r in results)

    async def all_at_once() -> int:
        return sum(await asyncio.gather(*(one(b) for b in chosen)))

    try:
        start = time.perf_counter()
        stored = asyncio.run(all_at_once())
        seconds = time.perf_counter() - start
    finally:
        peer.stop()
    intact = _check_intact(folder, paths)
    total = associations * each
    ok = stored == total and intact == total
    print(f"\n== {associations} concurrent associations x {each} C-STOREs to one dicompile SCP")
    print(f"   {Rate('dicompile', total, seconds)}")
    print(f"   answered Success: {stored}/{total}; files intact: {intact}/{total}"
          f"  goal all {total}: {'met' if ok else 'NOT MET'}")  # fmt: skip
    return ok


def _check_intact(folder: Path, sources: list[Path]) -> int:
    """How many stored files carry exactly the data set bytes of their source."""
    from dicompile.runtime.net.services.storage import probe

    # A corpus may hold two files with one SOP Instance UID: either data set is right.
    by_uid: dict[str, set[bytes]] = {}
    for path in sources:
        instance = probe(path)
        data = path.read_bytes()[instance.data_set_offset :]
        by_uid.setdefault(instance.sop_instance_uid, set()).add(data)
    intact = 0
    for stored in folder.glob("*.dcm"):
        instance = probe(stored)
        data = stored.read_bytes()[instance.data_set_offset :]
        if data in by_uid.get(instance.sop_instance_uid, set()):
            intact += 1
    return intact


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--echoes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    build(args.corpus, header=0, ct=args.count, big_frames=0)
    paths = files(args.corpus, "ct")[: args.count]
    work = Path(tempfile.mkdtemp(prefix="bench-net-"))
    results: list[Callable[[], bool]] = [
        lambda: bench_store(paths, work, args.repeat),
        lambda: bench_echo(args.echoes, args.repeat),
        lambda: bench_concurrent(paths, work, 20, 50),
    ]
    try:
        met = [run() for run in results]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
