"""``dicompile dictionary`` and ``dicompile uids``: look up the generated registries.

``dicompile dictionary [TAG|KEYWORD ...] [--json]``
    The data elements named (a tag as ``(0010,0010)``, ``0010,0010`` or ``00100010``, a
    repeating group as ``(60xx,3000)``, or a keyword), or the whole dictionary.  ``--json``
    prints an array of objects with ``tag`` ("GGGGEEEE", ``x`` for repeating digits),
    ``keyword``, ``name``, ``vr``, ``vm``, ``retired`` and ``source``.
``dicompile uids [UID|KEYWORD ...] [--json]``
    The UIDs of PS3.6 Annex A likewise (``uid``, ``name``, ``keyword``, ``type``, ``source``;
    ``retired`` too).

A name that matches nothing is reported on stderr and the command exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dicompile.generated.dictionary import DictEntry
    from dicompile.generated.uids import UIDEntry

_TAG = re.compile(
    r"\(?\s*([0-9A-Fa-fXx]{4})\s*,\s*([0-9A-Fa-fXx]{4})\s*\)?|([0-9A-Fa-fXx]{4})([0-9A-Fa-fXx]{4})"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dictionary`` and ``uids`` to the ``dicompile`` parser."""
    dictionary = subparsers.add_parser(
        "dictionary",
        help="data elements of the generated dictionary, by tag or keyword",
        description="Print data elements of PS3.6 (all of them without arguments).",
    )
    dictionary.add_argument(
        "names", nargs="*", metavar="TAG|KEYWORD", help="(0010,0010), 00100010 or a keyword"
    )
    dictionary.add_argument("--json", action="store_true", help="print a JSON array")
    dictionary.set_defaults(handler=_dictionary)
    uids = subparsers.add_parser(
        "uids",
        help="UIDs of the generated registry (PS3.6 Annex A)",
        description="Print the UIDs of PS3.6 Annex A (all of them without arguments).",
    )
    uids.add_argument("names", nargs="*", metavar="UID|KEYWORD", help="a UID or its keyword")
    uids.add_argument("--json", action="store_true", help="print a JSON array")
    uids.set_defaults(handler=_uids)


def parse_tag(text: str) -> str | None:
    """``(0010,0010)``, ``0010,0010``, ``00100010`` → ``"00100010"`` (``x`` kept lower case)."""
    match = _TAG.fullmatch(text.strip())
    if match is None:
        return None
    digits = "".join(g for g in match.groups() if g)
    return "".join("x" if c in "xX" else c.upper() for c in digits)


def _find_entries(names: Sequence[str]) -> tuple[list[DictEntry], list[str]]:
    from dicompile.generated import dictionary

    by_text = {entry.tag: entry for entry in dictionary.iter_entries()}
    found: list[DictEntry] = []
    missing: list[str] = []
    for name in names:
        tag = parse_tag(name)
        entry: DictEntry | None = None
        if tag is not None:
            entry = by_text.get(tag)
            if entry is None and "x" not in tag:
                entry = dictionary.entry_for_tag(int(tag, 16))
        else:
            value = dictionary.tag_for_keyword(name)
            entry = dictionary.entry_for_tag(value) if value is not None else None
        if entry is None:
            missing.append(name)
        else:
            found.append(entry)
    return found, missing


def _display(tag: str) -> str:
    return f"({tag[:4]},{tag[4:]})"


def _dictionary(args: argparse.Namespace) -> int:
    from dicompile.generated import dictionary

    if args.names:
        entries, missing = _find_entries(args.names)
    else:
        entries, missing = list(dictionary.iter_entries()), []
    if args.json:
        _print_json(
            {
                "tag": e.tag,
                "keyword": e.keyword,
                "name": e.name,
                "vr": e.vr,
                "vm": e.vm,
                "retired": e.retired,
                "source": e.source,
            }
            for e in entries
        )
    else:
        for e in entries:
            retired = " RET" if e.retired else ""
            print(
                f"{_display(e.tag)}\t{e.vr or '-'}\t{e.vm or '-'}\t{e.keyword or '-'}\t{e.name}"
                f"{retired}\t[{e.source}]"
            )
    return _report_missing(missing, "data element")


def _uids(args: argparse.Namespace) -> int:
    from dicompile.generated import uids

    entries: list[UIDEntry] = []
    missing: list[str] = []
    if args.names:
        by_keyword = {e.keyword: e for e in uids.UIDS.values()}
        for name in args.names:
            entry = uids.uid_entry(name) or by_keyword.get(name)
            if entry is None:
                missing.append(name)
            else:
                entries.append(entry)
    else:
        entries = list(uids.UIDS.values())
    if args.json:
        _print_json(
            {
                "uid": e.uid,
                "name": e.name,
                "keyword": e.keyword,
                "type": e.type,
                "retired": e.retired,
                "source": e.source,
            }
            for e in entries
        )
    else:
        for e in entries:
            retired = " RET" if e.retired else ""
            print(f"{e.uid}\t{e.keyword}\t{e.type}\t{e.name}{retired}\t[{e.source}]")
    return _report_missing(missing, "UID")


def _print_json(objects: Iterable[dict[str, object]]) -> None:
    json.dump(list(objects), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


def _report_missing(missing: Sequence[str], what: str) -> int:
    for name in missing:
        print(f"no {what} {name!r}", file=sys.stderr)
    return 1 if missing else 0
