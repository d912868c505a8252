"""``dicompile validate FILE… [--json]``: check DICOM files against their IOD (PS3.3).

Each file is read (PS3.10) and its Data Set validated against the generated requirement
tables of the IOD its SOP Class names (``dicompile.runtime.validate``).  The text form prints,
per file, the IOD and every finding (severity, kind, path, module, message, source table)
and the notes (modules checked on assumption, conditions not checked).  ``--json`` prints one
object per file per line::

    {"file": …, "sop_class_uid": …, "iod": …, "findings": [{"severity": "error"|"warning",
     "tag": "GGGGEEEE", "path": …, "module": …, "kind": …, "rule": …, "message": …,
     "source": …}], "notes": [...]}

The exit status is 1 when any file has an error (an unreadable file, an unknown SOP Class
included), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from dicompile.runtime.errors import DicomError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``validate`` to the ``dicompile`` parser."""
    parser = subparsers.add_parser(
        "validate",
        help="check DICOM files against the requirements of their IOD (PS3.3)",
        description="Validate DICOM files against the PS3.3 IOD of their SOP Class.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object per file per line")
    parser.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    from dicompile.runtime import read_file
    from dicompile.runtime.validate.engine import validate
    from dicompile.runtime.validate.findings import Report

    failed = False
    for path in args.files:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                read = read_file(path, stop_before_pixels=False)
                report: Report | None = validate(read.dataset, meta=read.meta)
            problem = ""
        except (DicomError, OSError) as exc:
            report, caught, problem = None, [], str(exc)
        if report is None or not report.ok:
            failed = True
        if args.json:
            print(json.dumps(_as_json(path, report, problem), ensure_ascii=False))
        else:
            _print_text(path, report, problem, [str(w.message) for w in caught])
    return 1 if failed else 0


def _as_json(path: Path, report: object, problem: str) -> dict[str, object]:
    from dicompile.runtime.validate.findings import Report

    if not isinstance(report, Report):
        return {
            "file": str(path),
            "sop_class_uid": "",
            "iod": "",
            "findings": [
                {
                    "severity": "error",
                    "tag": "",
                    "path": "",
                    "module": "",
                    "kind": "unreadable",
                    "rule": "PS3.10",
                    "message": problem,
                    "source": "PS3.10 §7",
                }
            ],
            "notes": [],
        }
    return {
        "file": str(path),
        "sop_class_uid": report.sop_class_uid,
        "iod": report.iod,
        "findings": [f.as_json() for f in report.findings],
        "notes": [n.as_json() for n in report.notes],
    }


def _print_text(path: Path, report: object, problem: str, read_warnings: list[str]) -> None:
    from dicompile.runtime.validate.findings import Report

    if not isinstance(report, Report):
        print(f"{path}: error: cannot read: {problem}")
        return
    what = f"{report.iod} IOD" if report.iod else "no IOD"
    errors, warns = len(report.errors), len(report.warnings)
    print(
        f"{path}: {what} (SOP Class {report.sop_class_uid or '?'}): {errors} error(s),"
        f" {warns} warning(s)"
    )
    for message in read_warnings:
        print(f"  read: {message}")
    for finding in report.findings:
        where = f" {finding.path}" if finding.path else ""
        module = f" [{finding.module}]" if finding.module else ""
        print(
            f"  {finding.severity.value} {finding.kind.value}{where}{module}: {finding.message}"
            f" ({finding.source})"
        )
    for note in report.notes:
        print(f"  note {note.kind.value} [{note.module}]: {note.message}")
    sys.stdout.flush()
