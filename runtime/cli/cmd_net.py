"""``dicompile echo``, ``store`` and ``serve``: Verification and Storage over the network.

``dicompile echo HOST PORT [--count N]``
    C-ECHO (PS3.4 Annex A) on one association.
``dicompile store HOST PORT PATH... [--recursive]``
    C-STORE every DICOM file given (folders with ``--recursive``), on one association, in
    each file's transfer syntax when the peer accepts it, else transcoded to an
    uncompressed one.  Progress goes to stderr.
``dicompile serve --port P --aet AET --storage DIR``
    A Verification and Storage SCP: every received instance is written as a Part 10 file
    in DIR (fsynced before Success is answered, unless ``--no-fsync``).  Runs until SIGINT or
    SIGTERM, then stops accepting, lets running associations finish (``--grace`` seconds)
    and exits 0.

Common options: ``--calling-aet`` (ours), ``--called-aet`` (the peer's), timeouts, and TLS
(PS3.15 BCP 195 profiles): ``--tls`` with ``--tls-ca`` (peer CAs), ``--tls-cert`` and
``--tls-key`` (ours), ``--tls-no-hostname-check``, ``--tls-ciphers``, ``--tls-min-version``.

Exit status (:class:`ExitCode`):

====  =====================================================================
0     everything succeeded
1     the peer answered with a failure: some instance not stored (or not sent), an
      echo status other than Success
2     usage: bad arguments, no DICOM file found, unusable TLS files
3     the association was rejected (A-ASSOCIATE-RJ)
4     no association: connection refused or failed, TLS handshake failed, the peer
      aborted, a timeout; for ``serve``, the port could not be bound
====  =====================================================================
"""

from __future__ import annotations

import argparse
import enum
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from dicompile.runtime.cli.cmd_qr import ArchiveServices
    from dicompile.runtime.cli.cmd_workflow import WorkflowServices
    from dicompile.runtime.net.ae import ApplicationEntity
    from dicompile.runtime.net.association import RequestHandler
    from dicompile.runtime.net.dimse import Request
    from dicompile.runtime.net.services.storage import Instance, StoreResult


class ExitCode(enum.IntEnum):
    """Exit status of the network commands (see the module docstring)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    REJECTED = 3
    NO_ASSOCIATION = 4


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``echo``, ``store`` and ``serve`` to the ``dicompile`` parser."""
    epilog = "exit status: 0 ok, 1 failure status, 2 usage, 3 rejected, 4 connection/abort"
    echo = subparsers.add_parser(
        "echo",
        help="C-ECHO a DICOM peer (Verification SCU)",
        description="Open an association and send C-ECHO requests (PS3.4 Annex A).",
        epilog=epilog,
    )
    _peer_arguments(echo)
    echo.add_argument("--count", type=int, default=1, help="how many C-ECHOs (default 1)")
    echo.set_defaults(handler=_echo)

    store = subparsers.add_parser(
        "store",
        help="C-STORE DICOM files to a peer (Storage SCU)",
        description="Send DICOM files with C-STORE on one association (PS3.4 Annex B).",
        epilog=epilog,
    )
    _peer_arguments(store)
    store.add_argument("paths", nargs="+", metavar="PATH", help="files (or folders)")
    store.add_argument("-r", "--recursive", action="store_true", help="descend into folders")
    store.add_argument(
        "--window", type=int, default=8, help="outstanding C-STOREs to propose (default 8)"
    )
    store.add_argument("-q", "--quiet", action="store_true", help="no progress")
    store.set_defaults(handler=_store)

    serve = subparsers.add_parser(
        "serve",
        help="serve Verification, Storage, Q/R, worklist, MPPS and commitment from one archive",
        description=(
            "Accept associations: answer C-ECHO, store C-STORE instances as files indexed in"
            " the archive in --storage, and answer Query/Retrieve, Modality Worklist, MPPS and"
            " Storage Commitment from it."
        ),
        epilog=epilog,
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    serve.add_argument("--port", type=int, required=True, help="TCP port (0: any free one)")
    serve.add_argument("--aet", default="DICOMPILE", help="our AE title")
    serve.add_argument("--storage", type=Path, required=True, help="folder for received files")
    serve.add_argument(
        "--require-called-aet",
        action="store_true",
        help="reject associations whose Called AE Title is not --aet",
    )
    serve.add_argument(
        "--calling-aets", nargs="+", metavar="AET", help="accept only these Calling AE Titles"
    )
    serve.add_argument("--no-fsync", action="store_true", help="do not fsync received files")
    serve.add_argument("--max-associations", type=int, default=64, help="concurrent limit")
    serve.add_argument("--max-pdu", type=int, default=1 << 20, help="Maximum Length we accept")
    serve.add_argument("--grace", type=float, default=10.0, help="seconds to finish on stop")
    serve.add_argument(
        "--max-data-set", type=int, default=None, help="abort peers sending larger data sets"
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log associations")
    from dicompile.runtime.cli.cmd_qr import add_serve_arguments

    add_serve_arguments(serve)  # Query/Retrieve: --peer (C-MOVE destinations)
    _timeout_arguments(serve)
    _tls_arguments(serve, server=True)
    serve.set_defaults(handler=_serve)


def _peer_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", help="the peer's host name or address")
    parser.add_argument("port", type=int, help="the peer's TCP port")
    parser.add_argument("--calling-aet", default="DICOMPILE", help="our AE title")
    parser.add_argument("--called-aet", default="ANY-SCP", help="the peer's AE title")
    parser.add_argument("--max-pdu", type=int, default=1 << 20, help="Maximum Length we accept")
    _timeout_arguments(parser)
    _tls_arguments(parser, server=False)


def _timeout_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=30.0, help="connect/ACSE/ARTIM, s")
    parser.add_argument("--dimse-timeout", type=float, default=60.0, help="response wait, s")
    parser.add_argument("--idle-timeout", type=float, default=300.0, help="idle limit, s")


def _tls_arguments(parser: argparse.ArgumentParser, *, server: bool) -> None:
    group = parser.add_argument_group("TLS (PS3.15 BCP 195 profiles)")
    if not server:
        group.add_argument("--tls", action="store_true", help="connect over TLS")
    group.add_argument("--tls-cert", type=Path, help="our certificate (PEM)")
    group.add_argument("--tls-key", type=Path, help="our private key (PEM)")
    group.add_argument("--tls-ca", type=Path, help="CA certificates for the peer (PEM)")
    if server:
        group.add_argument(
            "--tls-no-client-auth",
            action="store_true",
            help="do not require client certificates",
        )
    else:
        group.add_argument(
            "--tls-no-hostname-check", action="store_true", help="skip the host name check"
        )
    group.add_argument(
        "--tls-profile",
        choices=["bcp195", "bcp195-nd", "bcp195-ex"],
        default="bcp195-nd",
        help="PS3.15 profile (default bcp195-nd, non-downgrading)",
    )
    group.add_argument("--tls-ciphers", help="OpenSSL cipher list replacing the profile's")
    group.add_argument("--tls-min-version", choices=["1.2", "1.3"], default="1.2")


def _ssl_context(args: argparse.Namespace, *, server: bool) -> ssl.SSLContext | None:
    import ssl

    from dicompile.runtime.security.tls import (
        TLSConfig,
        TLSProfile,
        client_context,
        server_context,
    )

    wanted = (args.tls_cert or args.tls_key) if server else args.tls
    if not wanted:
        return None
    config = TLSConfig(
        certificate=args.tls_cert,
        private_key=args.tls_key,
        ca_certificates=args.tls_ca,
        verify_peer=(False if args.tls_no_client_auth else None) if server else True,
        check_hostname=True if server else not args.tls_no_hostname_check,
        profile=TLSProfile(args.tls_profile),
        ciphers=args.tls_ciphers,
        minimum_version=(
            ssl.TLSVersion.TLSv1_3 if args.tls_min_version == "1.3" else ssl.TLSVersion.TLSv1_2
        ),
    )
    return server_context(config) if server else client_context(config)


def _ae(args: argparse.Namespace, title: str, **kwargs: object) -> ApplicationEntity:
    from dicompile.runtime.net.ae import ApplicationEntity, Timeouts

    timeouts = Timeouts(
        artim=args.timeout,
        connect=args.timeout,
        acse=args.timeout,
        dimse=args.dimse_timeout,
        idle=args.idle_timeout,
    )
    return ApplicationEntity(title, max_pdu_length=args.max_pdu, timeouts=timeouts, **kwargs)  # type: ignore[arg-type]


def _error(command: str, message: object) -> None:
    print(f"dicompile {command}: {message}", file=sys.stderr)


def _run_client(command: str, args: argparse.Namespace, body: object) -> int:
    """Run a client coroutine; turn the network errors into exit codes."""
    import asyncio

    from dicompile.runtime.errors import (
        AssociationAbortedError,
        AssociationRejectedError,
        LocalProtocolError,
        TLSConfigurationError,
        TransportConnectError,
    )

    try:
        return int(asyncio.run(body))  # type: ignore[arg-type]
    except AssociationRejectedError as exc:
        _error(command, exc)
        return ExitCode.REJECTED
    except (TransportConnectError, AssociationAbortedError) as exc:
        _error(command, exc)
        return ExitCode.NO_ASSOCIATION
    except (TLSConfigurationError, LocalProtocolError) as exc:
        _error(command, exc)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        _error(command, "interrupted")
        return ExitCode.NO_ASSOCIATION


# -- echo -------------------------------------------------------------------------------------


def _echo(args: argparse.Namespace) -> int:
    from dicompile.runtime.errors import TLSConfigurationError

    try:
        ssl_context = _ssl_context(args, server=False)
        ae = _ae(args, args.calling_aet)
    except (TLSConfigurationError, ValueError) as exc:
        _error("echo", exc)
        return ExitCode.USAGE
    return _run_client("echo", args, _echo_async(args, ae, ssl_context))


async def _echo_async(
    args: argparse.Namespace, ae: ApplicationEntity, ssl_context: ssl.SSLContext | None
) -> int:
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.verification import VERIFICATION_CONTEXT, echo

    start = time.perf_counter()
    async with await associate(
        ae,
        args.host,
        args.port,
        called_ae_title=args.called_aet,
        contexts=[VERIFICATION_CONTEXT],
        ssl_context=ssl_context,
    ) as association:
        failures = 0
        for _ in range(max(args.count, 1)):
            status = await echo(association)
            if status != 0:
                failures += 1
                _error("echo", f"C-ECHO status {status:04X}H")
    elapsed = time.perf_counter() - start
    count = max(args.count, 1)
    print(
        f"C-ECHO {args.host}:{args.port} ({args.called_aet}): {count - failures}/{count}"
        f" Success in {elapsed * 1000:.1f} ms"
    )
    return ExitCode.FAILED if failures else ExitCode.OK


# -- store ------------------------------------------------------------------------------------


def _walk(paths: Sequence[str], recursive: bool) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            if not recursive:
                _error("store", f"{path} is a folder (use --recursive)")
                continue
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def _store(args: argparse.Namespace) -> int:
    from dicompile.runtime.errors import DecodeError, TLSConfigurationError
    from dicompile.runtime.net.services.storage import probe

    try:
        ssl_context = _ssl_context(args, server=False)
        ae = _ae(args, args.calling_aet, max_operations_invoked=max(args.window, 0))
    except (TLSConfigurationError, ValueError) as exc:
        _error("store", exc)
        return ExitCode.USAGE
    instances: list[Instance] = []
    unreadable = 0
    for path in _walk(args.paths, args.recursive):
        try:
            instances.append(probe(path))
        except (OSError, DecodeError) as exc:
            unreadable += 1
            _error("store", f"skipping {path}: {exc}")
    if not instances:
        _error("store", "no DICOM file to send")
        return ExitCode.USAGE
    code = _run_client("store", args, _store_async(args, ae, ssl_context, instances))
    if code == ExitCode.OK and unreadable:
        return ExitCode.FAILED
    return code


async def _store_async(
    args: argparse.Namespace,
    ae: ApplicationEntity,
    ssl_context: ssl.SSLContext | None,
    instances: list[Instance],
) -> int:
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.storage import plan_contexts, store_instances

    total = len(instances)
    done = 0
    sent_bytes = 0
    start = time.perf_counter()
    show = not args.quiet
    last_shown = 0.0

    def on_result(result: StoreResult) -> None:
        nonlocal done, sent_bytes, last_shown
        done += 1
        sent_bytes += result.size
        if not result.ok:
            what = f"status {result.status:04X}H" if result.status is not None else "not sent"
            _error(
                "store", f"{result.path}: {what}" + (f" ({result.error})" if result.error else "")
            )
        now = time.perf_counter()
        if show and (now - last_shown > 0.5 or done == total):
            last_shown = now
            rate = sent_bytes / max(now - start, 1e-9) / 1e6
            print(f"\r{done}/{total} instances, {rate:.1f} MB/s", end="", file=sys.stderr)
            if done == total:
                print(file=sys.stderr)

    async with await associate(
        ae,
        args.host,
        args.port,
        called_ae_title=args.called_aet,
        contexts=plan_contexts(instances),
        ssl_context=ssl_context,
    ) as association:
        results = await store_instances(association, instances, on_result=on_result)
    failed = sum(1 for r in results if not r.ok)
    elapsed = time.perf_counter() - start
    print(
        f"C-STORE {args.host}:{args.port} ({args.called_aet}): {total - failed}/{total} stored"
        f" in {elapsed:.2f} s"
    )
    return ExitCode.FAILED if failed else ExitCode.OK


# -- serve ------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from dicompile.runtime.cli.cmd_qr import serve_contexts
    from dicompile.runtime.cli.cmd_workflow import serve_contexts as workflow_contexts
    from dicompile.runtime.errors import LocalProtocolError, TLSConfigurationError
    from dicompile.runtime.net.services.verification import VERIFICATION_SCP

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        ssl_context = _ssl_context(args, server=True)
        ae = _ae(
            args,
            args.aet,
            contexts=(VERIFICATION_SCP, *serve_contexts(), *workflow_contexts()),
            require_called_ae_title=args.require_called_aet,
            calling_ae_titles=args.calling_aets,
            max_associations=args.max_associations,
            max_operations_performed=16,
            max_data_set_length=args.max_data_set,
        )
    except (TLSConfigurationError, LocalProtocolError, ValueError) as exc:
        _error("serve", exc)
        return ExitCode.USAGE
    try:
        return asyncio.run(_serve_async(args, ae, ssl_context))
    except OSError as exc:
        _error("serve", f"cannot listen on {args.host}:{args.port}: {exc}")
        return ExitCode.NO_ASSOCIATION


def serve_handlers(
    archive: ArchiveServices, workflow: WorkflowServices
) -> dict[type[Request], RequestHandler]:
    """The request handlers of ``dicompile serve``: every service as its generated SCP
    protocol through one typed dispatch, by SOP class (services/dispatch.py) --
    Verification, Storage, Q/R C-FIND, C-MOVE and C-GET, the Worklist, MPPS, and Storage
    Commitment with its results as N-EVENT-REPORT."""
    from dicompile.runtime.net.services.archive_scp import archive_handlers

    return archive_handlers(
        archive.qr,
        workflow.worklist,
        {},
        store=archive.store,
        mpps=workflow.mpps,
        commitment=workflow.commitment,
    )


async def _serve_async(
    args: argparse.Namespace, ae: ApplicationEntity, ssl_context: ssl.SSLContext | None
) -> int:
    import asyncio
    import logging
    import signal

    from dicompile.runtime.cli.cmd_qr import ArchiveServices
    from dicompile.runtime.cli.cmd_workflow import WorkflowServices
    from dicompile.runtime.net.association import Association
    from dicompile.runtime.net.server import Server
    from dicompile.runtime.net.services.storage import ReceivedInstance

    log = logging.getLogger("dicompile.serve")

    def stored(instance: ReceivedInstance, path: Path) -> None:
        log.info(
            "stored %s from %s as %s", instance.sop_instance_uid, instance.calling_ae_title, path
        )

    def ended(association: Association) -> None:
        log.info(
            "association with %s %s %s",
            association.negotiated.peer_ae_title,
            association.ending.value if association.ending else "ended",
            association.ending_detail,
        )

    # Storage and Query/Retrieve over the archive in --storage (files + instances.sqlite).
    archive = ArchiveServices(args, ae, on_stored=stored)
    # Worklist, MPPS and Storage Commitment (results to --peer when reconnecting).
    peers = {title: (peer_host, peer_port) for title, peer_host, peer_port in args.peer}
    workflow = WorkflowServices(Path(args.storage), ae, peers, archive.index)
    server = Server(
        ae,
        serve_handlers(archive, workflow),
        ssl_context=ssl_context,
        on_association=ended,
    )
    host, port = await server.start(args.host, args.port)
    workflow.start()
    print(f"dicompile serve: {ae.ae_title} listening on {host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print("dicompile serve: stopping", file=sys.stderr, flush=True)
    await server.close(grace=args.grace)
    await workflow.close(grace=args.grace)
    archive.close()
    print(
        f"dicompile serve: stopped after {server.accepted} associations",
        file=sys.stderr,
        flush=True,
    )
    return ExitCode.OK
