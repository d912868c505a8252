"""``dicompile standard``: the editions of the standard and their fetching from NEMA.

``dicompile standard list [EDITION]``
    The editions of ``editions.toml``; per edition how many parts have a known or locked sha256
    and how many are cached and verified; with EDITION, one line per part.
``dicompile standard fetch EDITION [--parts 03,06] [--base-url URL] [--cache DIR] [--lock FILE]``
    Downloads the parts into the cache, verifies them and records first digests in the lock.

Where the files are: ``--editions FILE`` names ``editions.toml``; without it the command uses
``standard-xml/`` of the current directory, else of the source checkout it runs from (an
installed copy has none, and then needs ``--editions``).  The lock (``editions.lock``) and the
cache (``cache/``) default to the folder of ``editions.toml``.  Progress goes to stderr; ``fetch``
prints the cached files' paths on stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dicompile.runtime.errors import StandardSourceError

CACHE_DIR = "cache"
# How `list` shows where a part's expected sha256 comes from (fetch.DigestOrigin members).
_ORIGIN_LABEL = {"EDITIONS": "known", "LOCK": "locked"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``standard list``, ``standard fetch`` and ``standard errata`` to the parser."""
    parser = subparsers.add_parser(
        "standard",
        help="editions of the DICOM standard: list them, fetch their DocBook from NEMA",
        description="Editions of the standard (standard-xml/editions.toml) and their cache.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="editions, and which parts are cached and verified")
    listing.add_argument("edition", nargs="?", help="show this edition part by part")
    _add_location_options(listing)
    listing.set_defaults(handler=_list)

    fetch = actions.add_parser(
        "fetch",
        help="download an edition's DocBook parts into the cache and verify them",
        description="Download into the cache, verify known sha256, record first ones in the lock.",
    )
    fetch.add_argument("edition", help="an edition of editions.toml: 2013, 2024c, current ...")
    fetch.add_argument(
        "--parts", metavar="NN,NN", help="only these parts, e.g. 03,06 (default: all)"
    )
    fetch.add_argument(
        "--base-url", metavar="URL", help="fetch from this http(s) base instead of NEMA's"
    )
    _add_location_options(fetch)
    fetch.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="give up when connecting or any read waits longer (default 60)",
    )
    fetch.add_argument(
        "--max-mb", type=int, default=512, metavar="MB", help="size limit per part (default 512)"
    )
    fetch.add_argument(
        "--refresh", action="store_true", help="download even parts cached and verified"
    )
    fetch.add_argument(
        "--update-lock",
        action="store_true",
        help="accept content that differs from the lock and record it (never editions.toml)",
    )
    fetch.set_defaults(handler=_fetch)

    errata = actions.add_parser(
        "errata",
        help="the known errors of the standard's text that the generator corrects",
        description="The errata register (generator/errata.py): part, edition, table, place,"
        " what is wrong, and the module that corrects it.",
    )
    errata.add_argument("--json", action="store_true", help="one JSON object per erratum")
    errata.set_defaults(handler=_errata)


def _errata(args: argparse.Namespace) -> int:
    import json

    from dicompile.generator.errata import REGISTER

    for erratum in REGISTER:
        if args.json:
            print(json.dumps(erratum.as_json(), ensure_ascii=False))
        else:
            print(f"{erratum.part} {erratum.edition} {erratum.table_id} ({erratum.where})")
            print(f"    {erratum.description}")
            print(f"    corrected by {erratum.corrected_by}")
    if not args.json:
        print(f"{len(REGISTER)} errata")
    return 0


def _add_location_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--editions",
        type=Path,
        metavar="FILE",
        help="editions.toml (default: ./standard-xml/, else the source checkout's)",
    )
    parser.add_argument(
        "--lock", type=Path, metavar="FILE", help="lock file (default: editions.lock beside it)"
    )
    parser.add_argument(
        "--cache", type=Path, metavar="DIR", help="cache folder (default: cache/ beside it)"
    )


def _locations(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """(editions.toml, lock file, cache folder) from the options and their defaults."""
    from dicompile.generator.edition_lock import LOCK_FILE
    from dicompile.generator.editions import EDITIONS_FILE, find_standard_dir

    editions: Path | None = args.editions
    if editions is None:
        folder = find_standard_dir()
        if folder is None:
            raise StandardSourceError(
                f"no standard-xml/{EDITIONS_FILE} in the current directory or in the source "
                "checkout; pass --editions FILE"
            )
        editions = folder / EDITIONS_FILE
    folder = editions.parent
    lock: Path = args.lock if args.lock is not None else folder / LOCK_FILE
    cache: Path = args.cache if args.cache is not None else folder / CACHE_DIR
    return editions, lock, cache


def _fetch(args: argparse.Namespace) -> int:
    from dicompile.generator.editions import load_editions
    from dicompile.generator.fetch import FetchOptions, Outcome, fetch_edition

    editions, lock, cache = _locations(args)
    catalog = load_editions(editions)
    parts = None
    if args.parts is not None:
        parts = [p for p in args.parts.split(",") if p.strip()]
        if not parts:
            raise StandardSourceError(f"--parts {args.parts!r} names no part")
    options = FetchOptions(
        timeout=args.timeout,
        max_bytes=args.max_mb * 1024 * 1024,
        refresh=args.refresh,
        update_lock=args.update_lock,
    )
    fetched = fetch_edition(
        catalog,
        args.edition,
        cache_root=cache,
        lock_path=lock,
        parts=parts,
        base_url=args.base_url,
        options=options,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    downloaded = sum(f.outcome is Outcome.DOWNLOADED for f in fetched)
    print(
        f"{args.edition}: {len(fetched)} part(s) verified ({downloaded} downloaded, "
        f"{len(fetched) - downloaded} already cached) in {cache}; lock {lock}",
        file=sys.stderr,
    )
    for part in fetched:
        print(part.path)
    return 0


def _list(args: argparse.Namespace) -> int:
    from dicompile.generator.edition_lock import read_lock
    from dicompile.generator.editions import load_editions
    from dicompile.generator.fetch import CacheState, cache_state, expected_digest

    editions, lock_path, cache = _locations(args)
    catalog = load_editions(editions)
    lock = read_lock(lock_path)
    print(f"editions {editions}\nlock     {lock_path}\ncache    {cache}\n")
    if args.edition is not None:
        edition = catalog.edition(args.edition)
        print(f"{'part':<5} {'sha256':<8} {'cache':<11} url")
        for part in edition.parts:
            expected = expected_digest(catalog, edition, part, lock)
            origin = "unknown" if expected is None else _ORIGIN_LABEL[expected.origin.name]
            state = cache_state(catalog, edition, part, cache, lock)
            url = edition.url(part, catalog.base_url)
            print(f"{part.part:<5} {origin:<8} {state.value:<11} {url}")
        return 0
    print(f"{'edition':<10} {'parts':>5} {'known':>5} {'locked':>6} {'cached':>6} {'verified':>8}")
    for edition in catalog.editions:
        known = sum(p.sha256 is not None for p in edition.parts)
        locked = sum(
            p.sha256 is None and lock.get(edition.name, p.part) is not None for p in edition.parts
        )
        states = [cache_state(catalog, edition, p, cache, lock) for p in edition.parts]
        cached = sum(s is not CacheState.ABSENT for s in states)
        verified = sum(s is CacheState.VERIFIED for s in states)
        line = f"{edition.name:<10} {len(edition.parts):>5} {known:>5} {locked:>6} {cached:>6}"
        print(f"{line} {verified:>8}  {edition.note}".rstrip())
    return 0
