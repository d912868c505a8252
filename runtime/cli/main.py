"""Entry point of the ``dicompile`` command: a thin argparse front end.

Each sub-command lives in its own module under ``runtime/cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a
function ``(argparse.Namespace) -> int`` (the exit status).  Modules are
imported here, but the heavy work (generator, network) is imported inside the
handlers so that ``dicompile --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from dicompile.runtime.errors import DicomError

# Sub-command modules, in the order their commands appear in --help.
COMMAND_MODULES: Sequence[str] = (
    "dicompile.runtime.cli.cmd_standard",
    "dicompile.runtime.cli.cmd_generate",
    "dicompile.runtime.cli.cmd_dictionary",
    "dicompile.runtime.cli.cmd_net",
    "dicompile.runtime.cli.cmd_qr",
    "dicompile.runtime.cli.cmd_workflow",
    "dicompile.runtime.cli.cmd_dump",
    "dicompile.runtime.cli.cmd_validate",
    "dicompile.runtime.cli.cmd_coverage",
    "dicompile.runtime.cli.cmd_demo",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dicompile",
        description="The DICOM standard as typed Python: generator and runtime.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except DicomError as exc:
        print(f"dicompile {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        return 0
