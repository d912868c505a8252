"""``dicompile worklist``, ``mpps`` and ``commit``: the workflow services over the network.

``dicompile worklist HOST PORT [-k KEY[=VALUE]]... [--json]``
    Modality Worklist C-FIND (PS3.4 Annex K).  ``-k PatientName=DOE*`` matches,
    ``-k ScheduledProcedureStepSequence.Modality=CT`` matches inside the Scheduled Procedure
    Step item, ``-k Keyword`` only asks for the value.  The usual return keys (patient,
    accession, scheduled step) are always asked for.  ``--json`` prints the matches as a
    DICOM JSON array (PS3.18 F).
``dicompile worklist add --storage DIR FILE.json...``
    Keeps worklist items (DICOM JSON objects or arrays) in the archive folder DIR, where
    ``dicompile serve --storage DIR`` answers worklist queries from.
``dicompile mpps HOST PORT create [--uid UID] [--modality M] [--worklist FILE.json] [-k K=V]...``
    N-CREATE a Modality Performed Procedure Step IN PROGRESS (PS3.4 F.7.2.1): every
    attribute of Table F.7.2-1 is sent (Type 2 empty unless known); a worklist item (DICOM
    JSON, as printed by ``worklist --json``) fills the patient and the Scheduled Step
    Attributes.  Prints the instance UID.
``dicompile mpps HOST PORT set UID [--status S] [--images FILE...] [-k K=V]...``
    N-SET (F.7.2.2): ``--status COMPLETED`` or ``DISCONTINUED`` also sets the end date and
    time (now, unless given with ``-k``); ``--images`` lists the instances made, grouped by
    series into the Performed Series Sequence (the Final State attributes).
``dicompile commit HOST PORT FILE... [--listen PORT] [--wait S] [--json]``
    Storage Commitment (PS3.4 J.3): N-ACTION for the files' instances, then waits for the
    N-EVENT-REPORT, on the same association, or with ``--listen PORT`` on the association
    the SCP opens to us (the SCP must know us as ``--peer OUR_AET@OUR_HOST:PORT``), and
    prints which instances are committed and why the others failed.

Exit status as for ``echo``/``store`` (see :mod:`~dicompile.runtime.cli.cmd_net`): 0 all
succeeded, 1 a failure status (or instances not committed, or no result in time), 2 usage,
3 rejected, 4 no association.
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
    _run_client,
    _ssl_context,
    _timeout_arguments,
    _tls_arguments,
)

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping

    from dicompile.runtime.archive.index import InstanceIndex
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.ae import ApplicationEntity, SupportedContext
    from dicompile.runtime.net.association import RequestHandler
    from dicompile.runtime.net.dimse import Request
    from dicompile.runtime.net.services.storage_commitment import Reference


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``worklist``, ``mpps`` and ``commit`` to the ``dicompile`` parser."""
    epilog = "exit status: 0 ok, 1 failure status, 2 usage, 3 rejected, 4 connection/abort"
    worklist = subparsers.add_parser(
        "worklist",
        help="query a Modality Worklist (C-FIND SCU), or add items to an archive's worklist",
        description=(
            "dicompile worklist HOST PORT [-k KEY[=VALUE]]...: Modality Worklist C-FIND"
            " (PS3.4 Annex K).  dicompile worklist add --storage DIR FILE.json...: keep"
            " worklist items (DICOM JSON) in an archive folder."
        ),
        epilog=epilog,
    )
    worklist.add_argument("words", nargs="+", metavar="HOST PORT | add FILE.json...")
    worklist.add_argument(
        "-k",
        "--key",
        action="append",
        default=[],
        metavar="KEY[=VALUE]",
        help="a matching or return key (Keyword, or Sequence.Keyword)",
    )
    worklist.add_argument("--json", action="store_true", help="print DICOM JSON")
    # nargs="+": "add --storage DIR FILE.json" puts the files after the option, where a
    # positional list can no longer take them (argparse reads positionals in one chunk).
    worklist.add_argument(
        "--storage", nargs="+", metavar="DIR", help="the archive folder (for 'add')"
    )
    _client_arguments(worklist)
    worklist.set_defaults(handler=_worklist)

    mpps = subparsers.add_parser(
        "mpps",
        help="create or update a Modality Performed Procedure Step (N-CREATE/N-SET SCU)",
        description="Modality Performed Procedure Step SCU (PS3.4 F.7).",
        epilog=epilog,
    )
    mpps.add_argument("host", help="the peer's host name or address")
    mpps.add_argument("port", type=int, help="the peer's TCP port")
    mpps.add_argument("action", choices=["create", "set"])
    mpps.add_argument("uid", nargs="?", help="the MPPS instance UID (required for 'set')")
    mpps.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE")
    mpps.add_argument("--uid", dest="create_uid", help="the instance UID to create")
    mpps.add_argument("--modality", default="OT", help="Modality (create; default OT)")
    mpps.add_argument("--pps-id", help="Performed Procedure Step ID (create)")
    mpps.add_argument("--worklist", type=Path, help="a worklist item (DICOM JSON) to start from")
    mpps.add_argument(
        "--status", choices=["IN PROGRESS", "COMPLETED", "DISCONTINUED"], help="(set)"
    )
    mpps.add_argument("--images", nargs="+", default=[], type=Path, help="instances made (set)")
    _client_arguments(mpps)
    mpps.set_defaults(handler=_mpps)

    commit = subparsers.add_parser(
        "commit",
        help="request Storage Commitment for files (N-ACTION SCU) and wait for the result",
        description="Storage Commitment Push Model SCU (PS3.4 J.3).",
        epilog=epilog,
    )
    commit.add_argument("host", help="the peer's host name or address")
    commit.add_argument("port", type=int, help="the peer's TCP port")
    commit.add_argument("paths", nargs="+", metavar="FILE", help="DICOM files (or folders)")
    commit.add_argument("-r", "--recursive", action="store_true", help="descend into folders")
    commit.add_argument(
        "--listen", type=int, metavar="PORT", help="receive the result on this port"
    )
    commit.add_argument("--listen-host", default="0.0.0.0", help="address to listen on")
    commit.add_argument("--wait", type=float, default=60.0, help="result wait, s (default 60)")
    commit.add_argument("--json", action="store_true", help="print the result as JSON")
    _client_arguments(commit)
    commit.set_defaults(handler=_commit)


def _client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calling-aet", default="DICOMPILE", help="our AE title")
    parser.add_argument("--called-aet", default="ANY-SCP", help="the peer's AE title")
    parser.add_argument("--max-pdu", type=int, default=1 << 20, help="Maximum Length we accept")
    _timeout_arguments(parser)
    _tls_arguments(parser, server=False)


def _client(
    command: str, args: argparse.Namespace
) -> tuple[ApplicationEntity, ssl.SSLContext | None] | None:
    from dicompile.runtime.errors import TLSConfigurationError

    try:
        return _ae(args, args.calling_aet), _ssl_context(args, server=False)
    except (TLSConfigurationError, ValueError) as exc:
        _error(command, exc)
        return None


# -- worklist ---------------------------------------------------------------------------------


def _worklist(args: argparse.Namespace) -> int:
    words: list[str] = args.words
    if words[0] == "add":
        return _worklist_add(args, words[1:])
    if len(words) != 2 or not words[1].isdigit():
        _error("worklist", "expected HOST PORT, or add FILE.json...")
        return ExitCode.USAGE
    from dicompile.runtime.net.services.worklist import DEFAULT_KEYS, identifier_from_keys

    try:
        # The usual return keys, then the user's (a key given twice takes the last value).
        identifier = identifier_from_keys([*DEFAULT_KEYS, *args.key])
    except ValueError as exc:
        _error("worklist", exc)
        return ExitCode.USAGE
    client = _client("worklist", args)
    if client is None:
        return ExitCode.USAGE
    ae, ssl_context = client
    return _run_client(
        "worklist",
        args,
        _worklist_async(args, words[0], int(words[1]), ae, ssl_context, identifier),
    )


def _worklist_add(args: argparse.Namespace, files: list[str]) -> int:
    from dicompile.runtime.errors import DecodeError, ValidationError
    from dicompile.runtime.net.services.worklist import open_worklist

    storage: list[str] = args.storage or []
    files = [*files, *storage[1:]]
    if not storage or not files:
        _error("worklist", "add needs --storage DIR and at least one FILE.json")
        return ExitCode.USAGE
    folder = Path(storage[0])
    worklist = open_worklist(folder)
    try:
        added = 0
        for name in files:
            try:
                identities = worklist.add_json(Path(name).read_bytes())
            except (OSError, DecodeError, ValidationError) as exc:
                _error("worklist", f"{name}: {exc}")
                return ExitCode.USAGE
            added += len(identities)
        print(f"worklist: {added} item(s) kept; {worklist.count()} in {folder}")
    finally:
        worklist.close()
    return ExitCode.OK


def _summary(match: Dataset) -> str:
    from dicompile.runtime.core.sequence import Sequence

    steps = match.get_value("ScheduledProcedureStepSequence")
    step = steps[0] if isinstance(steps, Sequence) and steps else None

    def text(dataset: Dataset | None, keyword: str) -> str:
        value = dataset.get_value(keyword) if dataset is not None else None
        return "" if value is None else str(value)

    return " | ".join(
        (
            text(match, "PatientName"),
            text(match, "PatientID"),
            text(match, "AccessionNumber"),
            text(step, "Modality"),
            text(step, "ScheduledStationAETitle"),
            f"{text(step, 'ScheduledProcedureStepStartDate')} "
            f"{text(step, 'ScheduledProcedureStepStartTime')}".strip(),
            text(step, "ScheduledProcedureStepID"),
            text(step, "ScheduledProcedureStepDescription"),
        )
    )


async def _worklist_async(
    args: argparse.Namespace,
    host: str,
    port: int,
    ae: ApplicationEntity,
    ssl_context: ssl.SSLContext | None,
    identifier: Dataset,
) -> int:
    from dicompile.runtime.codec.json_model import to_json_array
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.worklist import WORKLIST_CONTEXT, find_worklist

    async with await associate(
        ae,
        host,
        port,
        called_ae_title=args.called_aet,
        contexts=[WORKLIST_CONTEXT],
        ssl_context=ssl_context,
    ) as association:
        result = await find_worklist(association, identifier)
    if args.json:
        print(to_json_array(list(result.matches)))
    else:
        for match in result.matches:
            print(_summary(match))
    if not result.ok:
        comment = f" ({result.error_comment})" if result.error_comment else ""
        _error("worklist", f"C-FIND status {result.status:04X}H{comment}")
        return ExitCode.FAILED
    print(f"worklist {host}:{port}: {len(result.matches)} match(es)", file=sys.stderr)
    return ExitCode.OK


# -- mpps -------------------------------------------------------------------------------------


def _keys_dataset(keys: list[str]) -> Dataset:
    from dicompile.runtime.net.services.worklist import identifier_from_keys

    return identifier_from_keys(keys)


def _from_worklist(path: Path) -> Dataset:
    """Patient and Scheduled Step Attributes of an MPPS from a worklist item (F.7.2.1.2)."""
    from dicompile.runtime.codec.json_model import from_json
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.core.sequence import Sequence

    item = from_json(path.read_bytes())
    values = Dataset()
    for keyword in (
        "SpecificCharacterSet",
        "PatientName",
        "PatientID",
        "IssuerOfPatientID",
        "PatientBirthDate",
        "PatientSex",
    ):
        element = item.get(keyword)
        if element is not None:
            values.add(element)
    step = Dataset()
    for keyword in (
        "StudyInstanceUID",
        "AccessionNumber",
        "RequestedProcedureID",
        "RequestedProcedureDescription",
        "ReferencedStudySequence",
    ):
        element = item.get(keyword)
        if element is not None:
            step.add(element)
    steps = item.get_value("ScheduledProcedureStepSequence")
    if isinstance(steps, Sequence) and steps:
        for keyword in (
            "ScheduledProcedureStepID",
            "ScheduledProcedureStepDescription",
            "ScheduledProtocolCodeSequence",
        ):
            element = steps[0].get(keyword)
            if element is not None:
                step.add(element)
    values.set("ScheduledStepAttributesSequence", Sequence([step]))
    return values


def _performed_series(paths: list[Path]) -> Dataset:
    """The Performed Series Sequence (Table F.7.2-1 Final State) of the files made."""
    import warnings

    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.core.sequence import Sequence
    from dicompile.runtime.errors import DicomWarning
    from dicompile.runtime.media.part10 import read_file

    series: dict[str, Dataset] = {}
    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomWarning)
            dataset = read_file(path, stop_before_pixels=True, defer_size=None).dataset
        uid = str(dataset.get_value("SeriesInstanceUID") or "")
        entry = series.get(uid)
        if entry is None:
            entry = Dataset()
            entry.set("SeriesInstanceUID", uid or None)
            protocol = dataset.get_value("ProtocolName") or dataset.get_value("SeriesDescription")
            entry.set("ProtocolName", str(protocol) if protocol else "UNSPECIFIED")
            for keyword in ("PerformingPhysicianName", "OperatorsName", "SeriesDescription"):
                element = dataset.get(keyword)
                if element is not None:
                    entry.add(element)
                else:
                    entry.set(keyword, None)
            entry.set("RetrieveAETitle", None)
            entry.set("ReferencedImageSequence", Sequence())
            entry.set("ReferencedNonImageCompositeSOPInstanceSequence", Sequence())
            series[uid] = entry
        reference = Dataset()
        reference.set("ReferencedSOPClassUID", dataset.get_value("SOPClassUID"))
        reference.set("ReferencedSOPInstanceUID", dataset.get_value("SOPInstanceUID"))
        # Images are those with pixel data; the rest are non-image composites (F.7.2.2.2).
        has_pixels = 0x7FE00010 in dataset or "Rows" in dataset
        target = (
            "ReferencedImageSequence"
            if has_pixels
            else "ReferencedNonImageCompositeSOPInstanceSequence"
        )
        items = entry.get_value(target)
        assert isinstance(items, Sequence)
        items.append(reference)
    out = Dataset()
    out.set("PerformedSeriesSequence", Sequence(series.values()))
    return out


def _mpps(args: argparse.Namespace) -> int:
    from dicompile.runtime.errors import DecodeError

    if args.action == "set" and not args.uid:
        _error("mpps", "set needs the MPPS instance UID")
        return ExitCode.USAGE
    try:
        values = _keys_dataset(args.key)
        if args.action == "create" and args.worklist is not None:
            base = _from_worklist(args.worklist)
            for element in values:
                base.add(element)
            values = base
        if args.action == "set" and args.images:
            for element in _performed_series(args.images):
                values.add(element)
    except (ValueError, OSError, DecodeError) as exc:
        _error("mpps", exc)
        return ExitCode.USAGE
    client = _client("mpps", args)
    if client is None:
        return ExitCode.USAGE
    ae, ssl_context = client
    return _run_client("mpps", args, _mpps_async(args, ae, ssl_context, values))


async def _mpps_async(
    args: argparse.Namespace,
    ae: ApplicationEntity,
    ssl_context: ssl.SSLContext | None,
    values: Dataset,
) -> int:
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.services.mpps import (
        FINAL_STATUSES,
        MPPS_CONTEXT,
        StepResult,
        create_step,
        n_create_attributes,
        set_step,
    )

    now = time.localtime()
    date, clock = time.strftime("%Y%m%d", now), time.strftime("%H%M%S", now)
    async with await associate(
        ae,
        args.host,
        args.port,
        called_ae_title=args.called_aet,
        contexts=[MPPS_CONTEXT],
        ssl_context=ssl_context,
    ) as association:
        result: StepResult
        if args.action == "create":
            attributes = n_create_attributes(
                performed_procedure_step_id=args.pps_id or time.strftime("%Y%m%d%H%M%S", now),
                station_ae_title=args.calling_aet,
                start_date=date,
                start_time=clock,
                modality=args.modality,
                values=values,
            )
            result = await create_step(association, attributes, args.create_uid)
        else:
            modifications = Dataset()
            if args.status:
                modifications.set("PerformedProcedureStepStatus", args.status)
                if args.status in FINAL_STATUSES:
                    modifications.set("PerformedProcedureStepEndDate", date)
                    modifications.set("PerformedProcedureStepEndTime", clock)
            for element in values:
                modifications.add(element)
            result = await set_step(association, args.uid, modifications)
    operation = "N-CREATE" if args.action == "create" else "N-SET"
    if result.status != 0:
        details = [f"status {result.status:04X}H"]
        if result.error_comment:
            details.append(result.error_comment)
        if result.error_id is not None:
            details.append(f"error ID {result.error_id:04X}H")
        if result.attribute_identifier_list:
            details.append(
                "attributes "
                + " ".join(
                    f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in result.attribute_identifier_list
                )
            )
        _error("mpps", f"{operation} {result.sop_instance_uid}: " + "; ".join(details))
        return ExitCode.FAILED
    print(result.sop_instance_uid)
    print(f"mpps {operation} {args.host}:{args.port}: Success", file=sys.stderr)
    return ExitCode.OK


# -- commit -----------------------------------------------------------------------------------

_FAILURE_REASONS = {
    0x0110: "Processing failure",
    0x0112: "No such object instance",
    0x0213: "Resource limitation",
    0x0122: "Referenced SOP Class not supported",
    0x0119: "Class / Instance conflict",
    0x0131: "Duplicate transaction UID",
}


def _commit(args: argparse.Namespace) -> int:
    from dicompile.runtime.cli.cmd_net import _walk
    from dicompile.runtime.errors import DecodeError
    from dicompile.runtime.net.services.storage import probe
    from dicompile.runtime.net.services.storage_commitment import Reference

    references: list[Reference] = []
    for path in _walk(args.paths, args.recursive):
        try:
            instance = probe(path)
        except (OSError, DecodeError) as exc:
            _error("commit", f"skipping {path}: {exc}")
            continue
        references.append(Reference(instance.sop_class_uid, instance.sop_instance_uid))
    if not references:
        _error("commit", "no DICOM file to commit")
        return ExitCode.USAGE
    client = _client("commit", args)
    if client is None:
        return ExitCode.USAGE
    ae, ssl_context = client
    try:
        return _run_client("commit", args, _commit_async(args, ae, ssl_context, references))
    except OSError as exc:
        _error("commit", f"cannot listen on port {args.listen}: {exc}")
        return ExitCode.NO_ASSOCIATION


async def _commit_async(
    args: argparse.Namespace,
    ae: ApplicationEntity,
    ssl_context: ssl.SSLContext | None,
    references: list[Reference],
) -> int:
    import json

    import attrs

    from dicompile.runtime.net.association import associate
    from dicompile.runtime.net.server import Server
    from dicompile.runtime.net.services.storage_commitment import (
        COMMITMENT_CONTEXT,
        CommitmentResult,
        CommitmentWaiter,
        commit,
        commitment_listener,
    )

    refs = references
    waiter = CommitmentWaiter()
    listener: Server | None = None
    if args.listen is not None:
        contexts, handlers = commitment_listener(waiter)
        listener = Server(attrs.evolve(ae, contexts=contexts), handlers)
        await listener.start(args.listen_host, args.listen)
    result: CommitmentResult | None
    try:
        async with await associate(
            ae,
            args.host,
            args.port,
            called_ae_title=args.called_aet,
            contexts=[COMMITMENT_CONTEXT],
            ssl_context=ssl_context,
        ) as association:
            if listener is None:
                uid, response, result = await commit(
                    association, refs, waiter=waiter, timeout=args.wait
                )
            else:
                # The SCP may still answer on this association before we release it.
                uid, response, result = await commit(association, refs, waiter=waiter, timeout=0.5)
        if response.status != 0:
            _error(
                "commit",
                f"N-ACTION status {response.status:04X}H"
                + (f" ({response.error_comment})" if response.error_comment else ""),
            )
            return ExitCode.FAILED
        if result is None and listener is not None:
            result = await waiter.wait(uid, args.wait)
    finally:
        if listener is not None:
            await listener.close(grace=2.0)
    if result is None:
        _error("commit", f"no Storage Commitment result for {uid} within {args.wait} s")
        return ExitCode.FAILED
    if args.json:
        print(
            json.dumps(
                {
                    "transaction_uid": result.transaction_uid,
                    "event_type_id": result.event_type_id,
                    "committed": [r.sop_instance_uid for r in result.committed],
                    "failed": [
                        {"sop_instance_uid": r.sop_instance_uid, "failure_reason": r.failure_reason}
                        for r in result.failed
                    ],
                },
                indent=2,
            )
        )
    else:
        for reference in result.committed:
            print(f"committed {reference.sop_instance_uid}")
        for reference in result.failed:
            reason = reference.failure_reason
            meaning = _FAILURE_REASONS.get(reason or -1, "")
            print(
                f"FAILED    {reference.sop_instance_uid}: "
                + (f"{reason:04X}H {meaning}" if reason is not None else "no reason given")
            )
    print(
        f"commit {args.host}:{args.port}: {len(result.committed)}/{len(refs)} committed"
        f" (transaction {result.transaction_uid})",
        file=sys.stderr,
    )
    return ExitCode.OK if result.all_committed else ExitCode.FAILED


# -- serve ------------------------------------------------------------------------------------


def serve_contexts() -> tuple[SupportedContext, ...]:
    """The worklist, MPPS and Storage Commitment contexts ``dicompile serve`` accepts."""
    from dicompile.runtime.net.services.mpps import MPPS_SCP_CONTEXT
    from dicompile.runtime.net.services.storage_commitment import COMMITMENT_SCP_CONTEXT
    from dicompile.runtime.net.services.worklist import WORKLIST_SCP_CONTEXT

    return (WORKLIST_SCP_CONTEXT, MPPS_SCP_CONTEXT, COMMITMENT_SCP_CONTEXT)


class WorkflowServices:
    """The worklist, MPPS and Storage Commitment SCPs of ``dicompile serve`` over its
    archive folder.

    ``peers`` (``--peer AET@HOST:PORT``) are where commitment results go when the
    requestor's association is gone; ``index`` (the archive's instance index) says which
    instances are kept, else the folder's files do.
    """

    def __init__(
        self,
        folder: Path,
        ae: ApplicationEntity,
        peers: Mapping[str, tuple[str, int]],
        index: InstanceIndex | None = None,
    ) -> None:
        from dicompile.runtime.archive.procedure_steps import ProcedureStepStore
        from dicompile.runtime.net.services.mpps import MPPSProvider, mpps_service
        from dicompile.runtime.net.services.storage_commitment import (
            index_lookup,
            storage_commitment_service,
        )
        from dicompile.runtime.net.services.worklist import open_worklist, worklist_service

        self.store = ProcedureStepStore(folder)
        #: The MPPS rules over the store (``dicompile serve`` serves it by the dispatch).
        self.mpps = MPPSProvider(self.store)
        self.worklist = open_worklist(folder)
        _, worklist_handlers = worklist_service(self.worklist)
        _, mpps_handlers = mpps_service(self.store)
        _, commit_handlers, self.commitment = storage_commitment_service(
            self.store,
            lookup=index_lookup(index) if index is not None else None,
            ae=ae,
            peers=peers,
        )
        self.handlers: dict[type[Request], RequestHandler] = {
            **worklist_handlers,
            **mpps_handlers,
            **commit_handlers,
        }

    def start(self) -> None:
        """Start delivering the commitment results a previous run could not deliver."""
        self.commitment.start_redelivery()

    async def close(self, grace: float = 5.0) -> None:
        """Let commitment reports under way finish (``grace`` s), then close the stores."""
        await self.commitment.wait_idle(grace)
        self.worklist.close()
        self.store.close()
