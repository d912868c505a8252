"""``dicompile generate``: regenerate ``generated/`` from the standard's sources.

``dicompile generate --standard DIR [--standard DIR ...] --out DIR [--check] [--quiet]``

Each ``--standard`` folder holds DocBook parts of one edition (``partNN.xml``) or a JSON
rendition (``attributes.json``); what the generator does not consume yet is ignored.  An
emitter whose source is in none of the folders is skipped and named on stderr; its files are
left as they are.  Sources
are merged newest edition first and every conflict between them is listed on stderr (``--quiet``
prints only their count).  With ``--check`` nothing is written: the output is regenerated into a
temporary folder and compared, and the command fails (exit 1) listing the files that differ.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``generate`` to the ``dicompile`` parser."""
    parser = subparsers.add_parser(
        "generate",
        help="regenerate generated/ from the standard's DocBook and JSON sources",
        description="Read the standard's sources, merge them (newer edition wins), run the "
        "passes and render generated/ (or compare with it, with --check).",
    )
    parser.add_argument(
        "--standard",
        type=Path,
        action="append",
        required=True,
        metavar="DIR",
        help="a folder of DocBook parts (partNN.xml) or of the JSON rendition; repeatable",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="generated/")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail listing the files that differ from a fresh generation",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print the number of conflicts, not each one"
    )
    parser.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    from dicompile.generator.pipeline import generate

    started = time.perf_counter()
    result = generate(args.standard, args.out, check=args.check)
    elapsed = time.perf_counter() - started
    model = result.model
    kinds = collections.Counter(c.kind.value for c in result.conflicts)
    if not args.quiet:
        for conflict in result.conflicts:
            print(f"conflict: {conflict.describe()}", file=sys.stderr)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none"
    print(
        f"{len(model.data_elements)} data elements, {len(model.uids)} UIDs,"
        f" {len(model.context_groups)} context groups from {len(model.sources)} sources;"
        f" conflicts: {summary}",
        file=sys.stderr,
    )
    for skipped in result.skipped:
        print(f"skipped {skipped} (its files are left as they are)", file=sys.stderr)
    if args.check:
        if result.differences:
            for difference in result.differences:
                print(difference)
            print(
                f"{len(result.differences)} generated files differ from {args.out};"
                ' run "nox -s generate"',
                file=sys.stderr,
            )
            return 1
        count = len(result.files)
        print(f"{args.out}: {count} files up to date ({elapsed:.1f} s)", file=sys.stderr)
        return 0
    print(f"wrote {len(result.files)} files into {args.out} ({elapsed:.1f} s)", file=sys.stderr)
    return 0
