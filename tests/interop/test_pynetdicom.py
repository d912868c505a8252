"""pynetdicom <-> dicompile over loopback (pynetdicom is a test-only peer): C-ECHO and
C-STORE both ways, plain TCP and TLS."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from net_support import (
    DEFLATED_LE,
    EXPLICIT_BE,
    EXPLICIT_LE,
    IMPLICIT_LE,
    make_corpus,
    run,
    running_server,
    same_elements,
    scp_ae,
    scu_ae,
)

from dicompile.runtime.net.association import associate
from dicompile.runtime.net.services.storage import plan_contexts, probe, store_instances
from dicompile.runtime.net.services.verification import VERIFICATION_CONTEXT, echo
from dicompile.runtime.security.tls import TLSConfig, client_context, server_context

from .peers import free_port

pytestmark = pytest.mark.interop
pynetdicom = pytest.importorskip("pynetdicom", reason="pynetdicom (a test-only peer) is missing")


def stored(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".dcm")


def pynetdicom_scu(
    port: int, paths: list[Path], tls: tuple[ssl.SSLContext, str] | None = None
) -> tuple[int, list[int]]:
    """Associate with pynetdicom, echo, store ``paths``; (echo status, store statuses)."""
    import pydicom
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    ae = AE(ae_title="PYNETDICOM")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    ae.add_requested_context(Verification)
    datasets = [pydicom.dcmread(p) for p in paths]
    for syntax in sorted({ds.file_meta.TransferSyntaxUID for ds in datasets}):
        for sop_class in sorted({ds.SOPClassUID for ds in datasets}):
            ae.add_requested_context(sop_class, [syntax])
    kwargs: dict[str, Any] = {"ae_title": "STORE-SCP"}
    if tls is not None:
        kwargs["tls_args"] = tls
    association = ae.associate("127.0.0.1", port, **kwargs)
    assert association.is_established, "pynetdicom could not associate"
    try:
        echo_status = association.send_c_echo().Status
        statuses = [association.send_c_store(ds).Status for ds in datasets]
    finally:
        association.release()
    return echo_status, statuses


@pytest.mark.parametrize("syntax", [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED_LE])
def test_pynetdicom_scu_to_dicompile(tmp_path: Path, syntax: str) -> None:
    sent = make_corpus(tmp_path / "in", 3, syntax=syntax)
    folder = tmp_path / "store"

    async def go() -> tuple[int, list[int]]:
        async with running_server(scp_ae(), folder) as (_, port):
            return await asyncio.to_thread(pynetdicom_scu, port, sent)

    echo_status, statuses = run(go())
    assert echo_status == 0 and statuses == [0, 0, 0]
    by_uid = {probe(f).sop_instance_uid: f for f in stored(folder)}
    assert len(by_uid) == 3
    for path in sent:
        target = by_uid[probe(path).sop_instance_uid]
        assert probe(target).transfer_syntax == syntax
        same_elements(path, target)


class PynetdicomSCP:
    """pynetdicom's Storage and Verification SCP in its own threads, storing files."""

    def __init__(self, folder: Path, ssl_context: ssl.SSLContext | None = None) -> None:
        from pynetdicom import AE, StoragePresentationContexts, evt
        from pynetdicom.sop_class import Verification

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        ae = AE(ae_title="PYSCP")
        ae.supported_contexts = StoragePresentationContexts
        ae.add_supported_context(Verification)
        self.server = ae.start_server(
            ("127.0.0.1", self.port),
            block=False,
            evt_handlers=[(evt.EVT_C_STORE, self._store)],
            ssl_context=ssl_context,
        )

    def _store(self, event: Any) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        ds.save_as(self.folder / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
        return 0x0000

    def close(self) -> None:
        self.server.shutdown()


@pytest.mark.parametrize("syntax", [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED_LE])
def test_dicompile_to_pynetdicom_scp(tmp_path: Path, syntax: str) -> None:
    sent = make_corpus(tmp_path / "in", 3, syntax=syntax)
    scp = PynetdicomSCP(tmp_path / "store")
    try:

        async def go() -> tuple[int, list[object]]:
            instances = [probe(p) for p in sent]
            async with await associate(
                scu_ae(), "127.0.0.1", scp.port, called_ae_title="PYSCP",
                contexts=[VERIFICATION_CONTEXT, *plan_contexts(instances)],
            ) as association:  # fmt: skip
                return await echo(association), list(await store_instances(association, instances))

        status, results = run(go())
    finally:
        scp.close()
    assert status == 0
    assert all(r.ok for r in results), results  # type: ignore[attr-defined]
    by_uid = {probe(f).sop_instance_uid: f for f in stored(tmp_path / "store")}
    for path in sent:
        same_elements(path, by_uid[probe(path).sop_instance_uid])


def test_tls_both_ways_with_pynetdicom(tmp_path: Path, certificates: dict[str, Path]) -> None:
    sent = make_corpus(tmp_path / "in", 2)
    server_tls = server_context(
        TLSConfig(
            certificate=certificates["server_cert"],
            private_key=certificates["server_key"],
            ca_certificates=certificates["ca"],
        )
    )
    client_tls = client_context(
        TLSConfig(
            certificate=certificates["client_cert"],
            private_key=certificates["client_key"],
            ca_certificates=certificates["ca"],
        )
    )

    # pynetdicom SCU -> dicompile SCP over TLS.
    async def to_us() -> tuple[int, list[int]]:
        async with running_server(scp_ae(), tmp_path / "ours", ssl_context=server_tls) as (_, port):
            return await asyncio.to_thread(pynetdicom_scu, port, sent, (client_tls, "localhost"))

    assert run(to_us()) == (0, [0, 0])
    assert len(stored(tmp_path / "ours")) == 2

    # dicompile SCU -> pynetdicom SCP over TLS.
    scp = PynetdicomSCP(tmp_path / "theirs", ssl_context=server_tls)
    try:

        async def to_them() -> list[object]:
            instances = [probe(p) for p in sent]
            async with await associate(
                scu_ae(), "127.0.0.1", scp.port, called_ae_title="PYSCP",
                contexts=plan_contexts(instances), ssl_context=client_tls,
                server_hostname="localhost",
            ) as association:  # fmt: skip
                return list(await store_instances(association, instances))

        results = run(to_them())
    finally:
        scp.close()
    assert all(r.ok for r in results)  # type: ignore[attr-defined]
    for path in sent:
        same_elements(path, tmp_path / "theirs" / f"{probe(path).sop_instance_uid}.dcm")
