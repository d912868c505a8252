"""dcmtk <-> dicompile over loopback: echoscu/storescu against our SCP, our SCU against
storescp (PS3.4 Annexes A and B), plain TCP and TLS (PS3.15 BCP 195 profiles)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from net_support import (
    DEFLATED_LE,
    EXPLICIT_BE,
    EXPLICIT_LE,
    IMPLICIT_LE,
    make_corpus,
    make_ct,
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

from .peers import PEER_ENV, free_port, need_dcmtk, run_tool, stop, wait_listening

pytestmark = pytest.mark.interop


def stored(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def assert_all_stored(sent: list[Path], folder: Path) -> None:
    files = stored(folder)
    assert len(files) == len(sent), [p.name for p in files]
    by_uid = {probe(f).sop_instance_uid: f for f in files}
    for path in sent:
        same_elements(path, by_uid[probe(path).sop_instance_uid])


# -- dcmtk SCU -> dicompile SCP -------------------------------------------------------------


def test_echoscu_to_dicompile() -> None:
    echoscu = need_dcmtk("echoscu")

    async def go() -> tuple[int, str]:
        async with running_server(scp_ae()) as (server, port):
            result = await run_tool(echoscu, "-v", "-aec", "STORE-SCP", "127.0.0.1", str(port))
        assert server.accepted == 1
        return result

    code, out = run(go())
    assert code == 0, out
    assert "Received Echo Response (Success)" in out


@pytest.mark.parametrize("syntax", [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED_LE])
def test_storescu_to_dicompile(tmp_path: Path, syntax: str) -> None:
    storescu = need_dcmtk("storescu")
    sent = make_corpus(tmp_path / "in", 5, syntax=syntax)
    folder = tmp_path / "store"

    async def go() -> tuple[int, str]:
        async with running_server(scp_ae(), folder) as (_, port):
            return await run_tool(
                storescu, "-v", "-aec", "STORE-SCP", "+sd", "+r", "127.0.0.1", str(port),
                str(tmp_path / "in"),
            )  # fmt: skip

    code, out = run(go())
    assert code == 0, out
    assert_all_stored(sent, folder)


def test_storescu_refused_by_called_ae_title(tmp_path: Path) -> None:
    storescu = need_dcmtk("storescu")
    sent = make_corpus(tmp_path / "in", 1)
    ae = scp_ae(require_called_ae_title=True)

    async def go() -> tuple[int, str]:
        async with running_server(ae, tmp_path / "store") as (_, port):
            return await run_tool(storescu, "-aec", "WRONG", "127.0.0.1", str(port), str(sent[0]))

    code, out = run(go())
    assert code != 0
    assert "Called AE Title Not Recognized" in out, out


# -- dicompile SCU -> dcmtk SCP -------------------------------------------------------------


def start_storescp(folder: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    storescp = need_dcmtk("storescp")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [storescp, "-aet", "STORESCP", "-od", str(folder), *extra, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=PEER_ENV,
    )
    try:
        wait_listening(port, process)
    except BaseException:
        stop(process)
        raise
    return process, port


@pytest.mark.parametrize("syntax", [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED_LE])
def test_dicompile_to_storescp(tmp_path: Path, syntax: str) -> None:
    sent = make_corpus(tmp_path / "in", 5, syntax=syntax)
    folder = tmp_path / "store"
    process, port = start_storescp(folder)
    try:

        async def go() -> list[object]:
            instances = [probe(p) for p in sent]
            async with await associate(
                scu_ae(), "127.0.0.1", port, called_ae_title="STORESCP",
                contexts=[VERIFICATION_CONTEXT, *plan_contexts(instances)],
            ) as association:  # fmt: skip
                assert await echo(association) == 0
                return list(await store_instances(association, instances))

        results = run(go())
    finally:
        out = stop(process)
    assert all(r.ok for r in results), (results, out)  # type: ignore[attr-defined]
    # storescp accepts no deflated data sets by default: those were transcoded.
    assert [r.transcoded for r in results] == [syntax == DEFLATED_LE] * 5  # type: ignore[attr-defined]
    assert_all_stored(sent, folder)


def test_cli_store_to_storescp(tmp_path: Path) -> None:
    from dicompile.runtime.cli.main import main

    sent = make_corpus(tmp_path / "in", 3)
    folder = tmp_path / "store"
    process, port = start_storescp(folder)
    try:
        code = main(
            ["store", "127.0.0.1", str(port), str(tmp_path / "in"), "-r", "--called-aet",
             "STORESCP", "-q"]
        )  # fmt: skip
    finally:
        stop(process)
    assert code == 0
    assert_all_stored(sent, folder)


# -- TLS ----------------------------------------------------------------------------------------


def test_tls_echoscu_and_storescu_to_dicompile(
    tmp_path: Path, certificates: dict[str, Path]
) -> None:
    echoscu = need_dcmtk("echoscu")
    storescu = need_dcmtk("storescu")
    sent = make_corpus(tmp_path / "in", 3)
    folder = tmp_path / "store"
    context = server_context(
        TLSConfig(
            certificate=certificates["server_cert"],
            private_key=certificates["server_key"],
            ca_certificates=certificates["ca"],
        )
    )
    tls = ["+tls", str(certificates["client_key"]), str(certificates["client_cert"]), "+cf",
           str(certificates["ca"])]  # fmt: skip

    async def go() -> list[tuple[int, str]]:
        async with running_server(scp_ae(), folder, ssl_context=context) as (_, port):
            echoed = await run_tool(echoscu, "-v", *tls, "127.0.0.1", str(port))
            stored_ = await run_tool(storescu, *tls, "+sd", "+r", "127.0.0.1", str(port),
                                     str(tmp_path / "in"))  # fmt: skip
            # Without a client certificate the handshake fails (mutual authentication).
            anonymous = await run_tool(echoscu, "+tla", "+cf", str(certificates["ca"]),
                                       "127.0.0.1", str(port))  # fmt: skip
            return [echoed, stored_, anonymous]

    (code, out), (store_code, store_out), (anon_code, _) = run(go())
    assert code == 0 and "Received Echo Response (Success)" in out, out
    assert store_code == 0, store_out
    assert anon_code != 0
    assert_all_stored(sent, folder)


def test_tls_dicompile_to_storescp(tmp_path: Path, certificates: dict[str, Path]) -> None:
    sent = [make_ct(tmp_path / "in.dcm", seed=3)]
    folder = tmp_path / "store"
    process, port = start_storescp(
        folder, "+tls", str(certificates["server_key"]), str(certificates["server_cert"]),
        "+cf", str(certificates["ca"]),
    )  # fmt: skip

    def client(cert: str, key: str, hostname: str | None = None) -> object:
        return client_context(
            TLSConfig(
                certificate=certificates[cert], private_key=certificates[key],
                ca_certificates=certificates["ca"],
            )
        )  # fmt: skip

    try:

        async def go() -> list[object]:
            instances = [probe(p) for p in sent]
            async with await associate(
                scu_ae(), "127.0.0.1", port, called_ae_title="STORESCP",
                contexts=plan_contexts(instances),
                ssl_context=client("client_cert", "client_key"),  # type: ignore[arg-type]
            ) as association:  # fmt: skip
                return list(await store_instances(association, instances))

        results = run(go())
        # The host name check: a server certificate for another name is refused.
        from dicompile.runtime.errors import TransportConnectError

        async def wrong_name() -> None:
            await associate(
                scu_ae(), "127.0.0.1", port, called_ae_title="STORESCP",
                contexts=[VERIFICATION_CONTEXT],
                ssl_context=client("client_cert", "client_key"),  # type: ignore[arg-type]
                server_hostname="elsewhere.invalid",
            )  # fmt: skip

        with pytest.raises(TransportConnectError, match="certificate"):
            run(wrong_name())
    finally:
        out = stop(process)
    assert all(r.ok for r in results), out  # type: ignore[attr-defined]
    assert_all_stored(sent, folder)


def test_many_storescu_at_once(tmp_path: Path) -> None:
    storescu = need_dcmtk("storescu")
    folders = [tmp_path / f"in{k}" for k in range(4)]
    sent = [p for k, f in enumerate(folders) for p in make_corpus(f, 5, start=100 * k)]
    folder = tmp_path / "store"

    async def go() -> list[tuple[int, str]]:
        async with running_server(scp_ae(), folder) as (server, port):
            results = await asyncio.gather(
                *(run_tool(storescu, "+sd", "+r", "127.0.0.1", str(port), str(f)) for f in folders)
            )
            assert server.accepted == 4
            return list(results)

    assert all(code == 0 for code, _ in run(go()))
    assert_all_stored(sent, folder)
