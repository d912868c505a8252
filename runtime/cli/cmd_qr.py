"""``dicompile find``, ``move`` and ``get``: the Query/Retrieve SCU (PS3.4 Annex C).

``dicompile find HOST PORT [-k KEY=VALUE ...] [--level STUDY] [--model study|patient] [--json]``
    C-FIND: one line per match (``KEY=value`` pairs), or a DICOM JSON array (PS3.18 F)
    with ``--json``.  The level's unique key is always asked for.
``dicompile move HOST PORT --dest AET -k KEY=VALUE ...``
    C-MOVE: the peer sends the matching instances to AE ``AET`` (which it must know).
``dicompile get HOST PORT -k KEY=VALUE ... --out DIR``
    C-GET: the peer sends them back on the same association; they are written in DIR.

``-k`` keys are PS3.6 keywords or tags (``0010,0020``, ``(0010,0020)``, ``00100020``); an
empty value asks for the attribute to be returned (PS3.4 C.2.2.1), values of several items
are separated by backslashes (a UID list).  Non-ASCII values declare ISO_IR 192 (UTF-8).

Exit status: 0 final status Success, 1 any other final status (failure, warning, cancel),
2 usage, 3 association rejected, 4 no association (as ``dicompile echo``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dicompile.runtime.cli.cmd_net import (
    ExitCode,
    _ae,
    _error,
    _peer_arguments,
    _run_client,
    _ssl_context,
)
from dicompile.runtime.net.services.spool import DEFAULT_STREAM_THRESHOLD

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable, Mapping

    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.ae import ApplicationEntity, SupportedContext
    from dicompile.runtime.net.association import RequestHandler
    from dicompile.runtime.net.dimse import Request
    from dicompile.runtime.net.services.query_retrieve import QueryModel, RetrieveResponse
    from dicompile.runtime.net.services.storage import ReceivedInstance

_EPILOG = "exit status: 0 success, 1 other final status, 2 usage, 3 rejected, 4 no association"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``find``, ``move`` and ``get`` to the ``dicompile`` parser."""
    find = subparsers.add_parser(
        "find",
        help="C-FIND a DICOM peer (Query/Retrieve SCU)",
        description="Query a peer with C-FIND (PS3.4 C.4.1).",
        epilog=_EPILOG,
    )
    _query_arguments(find)
    find.add_argument("--json", action="store_true", help="print a DICOM JSON array")
    find.set_defaults(handler=_find)

    move = subparsers.add_parser(
        "move",
        help="C-MOVE instances from a peer to an AE (Query/Retrieve SCU)",
        description="Ask a peer to send matching instances to another AE (PS3.4 C.4.2).",
        epilog=_EPILOG,
    )
    _query_arguments(move)
    move.add_argument("--dest", required=True, metavar="AET", help="the Move Destination AE")
    move.set_defaults(handler=_move)

    get = subparsers.add_parser(
        "get",
        help="C-GET instances from a peer into a folder (Query/Retrieve SCU)",
        description="Retrieve matching instances on the same association (PS3.4 C.4.3).",
        epilog=_EPILOG,
    )
    _query_arguments(get)
    get.add_argument("--out", type=Path, required=True, metavar="DIR", help="where files go")
    get.add_argument("--no-fsync", action="store_true", help="do not fsync received files")
    get.set_defaults(handler=_get)


def _query_arguments(parser: argparse.ArgumentParser) -> None:
    _peer_arguments(parser)
    parser.add_argument(
        "-k",
        "--key",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a key and its matching value (empty: return it); repeatable",
    )
    parser.add_argument(
        "--level",
        default="STUDY",
        type=str.upper,
        choices=["PATIENT", "STUDY", "SERIES", "IMAGE"],
        help="Query/Retrieve Level (default STUDY)",
    )
    parser.add_argument(
        "--model",
        default="study",
        choices=["study", "patient"],
        help="information model: Study Root (default) or Patient Root",
    )


def build_identifier(keys: list[str], level: str) -> Dataset:
    """The identifier of ``-k KEY=VALUE`` options at ``level`` (see the module text).

    Raises
    ------
    ValueError
        An unknown keyword, a bad tag, or a key without ``=``.
    """
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.core.tag import parse_tag
    from dicompile.runtime.net.services.query_retrieve import Level

    identifier = Dataset()
    identifier.set("QueryRetrieveLevel", level)
    non_ascii = False
    for text in keys:
        key, sep, value = text.partition("=")
        if not sep:
            raise ValueError(f"-k {text!r}: expected KEY=VALUE (VALUE may be empty)")
        key = key.strip()
        tag: int
        if key and key[0] in "(0123456789" and any(c.isdigit() for c in key):
            tag = int(parse_tag(key))
        else:
            try:
                tag = Dataset.tag_of(key)
            except KeyError:
                raise ValueError(f"-k {text!r}: unknown keyword {key!r}") from None
        items = value.split("\\") if value else []
        non_ascii = non_ascii or not value.isascii()
        parsed: object = None if not items else items[0] if len(items) == 1 else items
        identifier.set(tag, parsed)
    unique = Level(level).unique_key
    if unique not in identifier:
        identifier.set(unique, None)
    if non_ascii:
        identifier.set("SpecificCharacterSet", "ISO_IR 192")
    return identifier


def _model(args: argparse.Namespace) -> QueryModel:
    from dicompile.runtime.net.services.query_retrieve import QueryModel

    return QueryModel(args.model)


def _prepare(
    command: str, args: argparse.Namespace
) -> tuple[ApplicationEntity, ssl.SSLContext | None, Dataset] | int:
    from dicompile.runtime.errors import TLSConfigurationError

    try:
        ssl_context = _ssl_context(args, server=False)
        ae = _ae(args, args.calling_aet)
        identifier = build_identifier(args.key, args.level)
    except (TLSConfigurationError, ValueError) as exc:
        _error(command, exc)
        return ExitCode.USAGE
    return ae, ssl_context, identifier


def _describe(dataset: Dataset) -> str:
    from dicompile.runtime.core.lookup import DEFAULT_LOOKUP
    from dicompile.runtime.core.tag import format_tag

    parts = []
    for element in dataset:
        if element.tag in (0x00080005, 0x00080052):
            continue
        name = DEFAULT_LOOKUP.keyword(element.tag) or format_tag(element.tag)
        value = element.value
        if isinstance(value, tuple):
            shown = "\\".join(str(v) for v in value)
        else:
            shown = "" if value is None else str(value)
        parts.append(f"{name}={shown}")
    return "  ".join(parts)


# -- find -------------------------------------------------------------------------------------


def _find(args: argparse.Namespace) -> int:
    prepared = _prepare("find", args)
    if isinstance(prepared, int):
        return prepared
    return _run_client("find", args, _find_async(args, *prepared))


async def _find_async(
    args: argparse.Namespace,
    ae: ApplicationEntity,
    ssl_context: ssl.SSLContext | None,
    identifier: Dataset,
) -> int:
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.dimse import StatusCategory
    from dicompile.runtime.net.services.query_retrieve import Operation, find, query_context

    model = _model(args)
    matches: list[Dataset] = []
    final = None
    start = time.perf_counter()
    async with await associate(
        ae,
        args.host,
        args.port,
        called_ae_title=args.called_aet,
        contexts=[query_context(model, Operation.FIND)],
        ssl_context=ssl_context,
    ) as association:
        async for response in find(association, identifier, model=model):
            if response.category is StatusCategory.PENDING:
                if response.identifier is not None:
                    matches.append(response.identifier)
                    if not args.json:
                        print(_describe(response.identifier))
            else:
                final = response
    assert final is not None
    if args.json:
        from dicompile.runtime.codec.json_model import to_json_array

        print(to_json_array(matches))
    elapsed = time.perf_counter() - start
    ok = final.category is StatusCategory.SUCCESS
    comment = f" ({final.error_comment})" if final.error_comment else ""
    print(
        f"C-FIND {args.host}:{args.port} ({args.called_aet}): {len(matches)} matches,"
        f" final status {final.status:04X}H{comment} in {elapsed:.2f} s",
        file=sys.stderr,
    )
    return ExitCode.OK if ok else ExitCode.FAILED


# -- move / get -------------------------------------------------------------------------------


def _report(command: str, args: argparse.Namespace, final: RetrieveResponse, elapsed: float) -> int:
    from dicompile.runtime.net.dimse import StatusCategory

    counts = final.counts
    comment = f" ({final.error_comment})" if final.error_comment else ""
    print(
        f"{command} {args.host}:{args.port} ({args.called_aet}): status {final.status:04X}H"
        f"{comment}: {counts.completed} completed, {counts.failed} failed,"
        f" {counts.warning} warning in {elapsed:.2f} s"
    )
    for uid in final.failed_sop_instance_uids:
        _error(command.split("-")[-1].lower(), f"failed: {uid}")
    return ExitCode.OK if final.category is StatusCategory.SUCCESS else ExitCode.FAILED


def _move(args: argparse.Namespace) -> int:
    prepared = _prepare("move", args)
    if isinstance(prepared, int):
        return prepared
    return _run_client("move", args, _move_async(args, *prepared))


async def _move_async(
    args: argparse.Namespace,
    ae: ApplicationEntity,
    ssl_context: ssl.SSLContext | None,
    identifier: Dataset,
) -> int:
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.query_retrieve import Operation, move, query_context

    model = _model(args)
    start = time.perf_counter()
    final = None
    async with await associate(
        ae,
        args.host,
        args.port,
        called_ae_title=args.called_aet,
        contexts=[query_context(model, Operation.MOVE)],
        ssl_context=ssl_context,
    ) as association:
        async for response in move(association, identifier, args.dest, model=model):
            final = response
    assert final is not None
    return _report("C-MOVE", args, final, time.perf_counter() - start)


def _get(args: argparse.Namespace) -> int:
    prepared = _prepare("get", args)
    if isinstance(prepared, int):
        return prepared
    return _run_client("get", args, _get_async(args, *prepared))


async def _get_async(
    args: argparse.Namespace,
    ae: ApplicationEntity,
    ssl_context: ssl.SSLContext | None,
    identifier: Dataset,
) -> int:
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.query_retrieve import get, get_contexts
    from dicompile.runtime.net.services.storage import FileStore

    model = _model(args)
    store = FileStore(args.out, fsync=not args.no_fsync)
    start = time.perf_counter()
    final = None
    async with await associate(
        ae,
        args.host,
        args.port,
        called_ae_title=args.called_aet,
        contexts=get_contexts(model),
        ssl_context=ssl_context,
    ) as association:
        async for response in get(association, identifier, store, model=model):
            final = response
    assert final is not None
    return _report("C-GET", args, final, time.perf_counter() - start)


# -- serve: the archive's services ---------------------------------------------------------------
#
# ``dicompile serve`` (cmd_net) takes its Storage and Query/Retrieve SCP from here: the
# contexts, the --peer option and the handlers over the archive in --storage, in one place.


def parse_peer(text: str) -> tuple[str, str, int]:
    """``AET@HOST:PORT`` -> (AE title, host, port); ValueError when malformed."""
    title, at, address = text.partition("@")
    host, colon, port = address.rpartition(":")
    if not (at and colon and title and host and port.isdigit()) or not 0 < int(port) < 65536:
        raise ValueError(f"--peer {text!r}: expected AET@HOST:PORT")
    from dicompile.runtime.net.ul.pdu import encode_ae_title

    encode_ae_title(title)
    return title, host.strip("[]"), int(port)


def _peer_type(text: str) -> tuple[str, str, int]:
    try:
        return parse_peer(text)
    except Exception as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The Query/Retrieve options of ``dicompile serve``."""
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        type=_peer_type,
        metavar="AET@HOST:PORT",
        help="a C-MOVE destination, or where Storage Commitment results go (repeatable)",
    )
    parser.add_argument(
        "--hierarchical-only",
        action="store_true",
        help="refuse queries without the unique keys of the levels above (A900H)",
    )
    parser.add_argument(
        "--stream-threshold",
        type=_threshold_type,
        default=DEFAULT_STREAM_THRESHOLD,
        metavar="BYTES",
        help="received data sets larger than this are written to their file as they arrive"
        f" instead of being held in memory (default {DEFAULT_STREAM_THRESHOLD}; 0: all;"
        " 'never': none)",
    )


def _threshold_type(text: str) -> int | None:
    if text.strip().lower() == "never":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"negative: {value}")
    return value


def serve_contexts() -> tuple[SupportedContext, ...]:
    """Storage (both roles, for C-GET) and Query/Retrieve contexts of ``dicompile serve``."""
    from dicompile.runtime.net.services.query_retrieve import (
        qr_scp_contexts,
        storage_contexts_for_retrieve,
    )

    return (*storage_contexts_for_retrieve(), *qr_scp_contexts())


class ArchiveServices:
    """The Storage and Query/Retrieve handlers of ``dicompile serve`` over its archive."""

    def __init__(
        self,
        args: argparse.Namespace,
        ae: ApplicationEntity,
        on_stored: Callable[[ReceivedInstance, Path], None] | None = None,
    ) -> None:
        from dicompile.runtime.archive.qr_backend import IndexArchive, open_archive
        from dicompile.runtime.net.dimse import CStoreRQ
        from dicompile.runtime.net.services.query_retrieve import QueryRetrieveSCP
        from dicompile.runtime.net.services.storage import storage_handler

        self.index, store = open_archive(
            args.storage,
            fsync=not args.no_fsync,
            on_stored=on_stored,
            stream_threshold=args.stream_threshold,
        )
        peers = {title: (host, port) for title, host, port in args.peer}
        qr = QueryRetrieveSCP(
            IndexArchive(self.index),
            ae,
            destinations=peers,
            relational=not args.hierarchical_only,
        )
        self.qr = qr
        #: The archive's C-STORE store (files fsynced and indexed before Success).
        self.store = store
        self.handlers: dict[type[Request], RequestHandler] = {
            CStoreRQ: storage_handler(store),
            **qr.handlers(),
        }

    def handlers_with(
        self, others: Mapping[type[Request], RequestHandler]
    ) -> dict[type[Request], RequestHandler]:
        """These handlers merged with other services' (C-FIND of Q/R and of Modality
        Worklist on one server: dispatched by Affected SOP Class)."""
        return {**others, **self.handlers, **self.qr.handlers(others)}

    def close(self) -> None:
        self.index.close()
