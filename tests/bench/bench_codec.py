"""Codec and file benchmarks (issue 3): dicompile against pydicom and dcmtk, in one run.

``python -m tests.bench.bench_codec`` (or ``python -m tests.bench``) measures:

* ``read``      read 2000 header-heavy files and decode every value (recursing into
  sequences): goal >= 10x pydicom (``dcmread``, then every element's ``.value``) and
  >= 1x dcmtk ``dcmdump +L +U8`` (every value printed in full, one process for all files);
* ``json``      the same files exported as DICOM JSON: goal >= 5x pydicom
  (``to_json_dict`` + ``json.dumps``); in-process, and ``dicompile dump --json`` as one
  process for all files (interpreter start and meta information included);
* ``read_ct``   300 CT files (512x512, 16-bit) with the pixel data left in the file: goal
  >= 1.5x pydicom.  Like with like: both sides defer every value of 1 KiB or more
  (``defer_size=1024`` on both), and again with ``stop_before_pixels`` on both;
* ``write``     2000 header-heavy data sets already read, written to new files: goal >= 3x
  pydicom ``save_as``; 300 CT data sets (pixel data in memory): goal >= 1x pydicom;
* ``memory``    peak resident memory (VmHWM) reading the 400 MB multi-frame file with the
  pixel data deferred: goal <= pydicom with ``defer_size``; copying it to a new file
  (read, then write): goal < 100 MB.  Every side runs in its own fresh subprocess.

``dicompile.runtime.write_file`` is atomic (an unseen new file linked or renamed into place)
and, with ``durable=True``, durable (fsync of the file and its directory); pydicom's
``save_as`` is neither.  Every write creates a new file (a name of its own in an emptied
folder; see :func:`measure_writes`).  The write figures show the goal as the issue states
it (``write_file`` against ``save_as``), the same two over existing files (for
information: replacing is another operation), ``write_file(durable=True)`` against
``save_as`` followed by an fsync (for information), and like with like: dicompile's encoder
streamed to a plain file.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.corpus import CORPUS, build, files
from tests.bench.harness import Rate, measure, report

#: The benchmarks, in the order they run (names for ``--only``).
NAMES: tuple[str, ...] = ("read", "json", "read_ct", "write", "memory")

#: Values of at least this many bytes stay in the file (both sides; pydicom's "1 KB").
DEFER = 1024

#: Data sets held in memory at once by the write benchmarks (decoded pydicom data sets of
#: 12,000 DS values each are large; the batches keep the process well under the RAM).
WRITE_BATCH = 100


@dataclass(frozen=True)
class Corpus:
    """The files one run measures."""

    header: list[Path]
    ct: list[Path]
    big: Path | None


@dataclass(frozen=True)
class Sizes:
    """How many files of each kind (the issue's figures, or a small smoke run)."""

    header: int = 2000
    ct: int = 300
    big_frames: int = 800


FULL = Sizes()
QUICK = Sizes(header=200, ct=30, big_frames=100)


def prepare(root: Path, sizes: Sizes) -> Corpus:
    """Build what is missing under ``root`` and pick the files of this run.

    Half of the header-heavy files are RT Structure Sets (``header/``), half Comprehensive
    SRs (``header/sr/``), as :func:`tests.bench.corpus.build` writes them.
    """
    started = time.perf_counter()
    build(root, header=sizes.header, ct=sizes.ct, big_frames=sizes.big_frames)
    rt = sorted((root / "header").glob("*.dcm"))[: sizes.header // 2]
    sr = sorted((root / "header" / "sr").glob("*.dcm"))[: sizes.header - sizes.header // 2]
    big = root / "big" / "multiframe.dcm"
    corpus = Corpus(rt + sr, files(root, "ct")[: sizes.ct], big if big.exists() else None)
    # Read everything once so that every side finds the files in the page cache.
    for path in [*corpus.header, *corpus.ct]:
        path.read_bytes()
    mb = sum(p.stat().st_size for p in [*corpus.header, *corpus.ct]) / 1e6
    print(
        f"corpus {root}: {len(corpus.header)} header-heavy files, {len(corpus.ct)} CT "
        f"({mb:.0f} MB), big: {_size(corpus.big)}; ready in {time.perf_counter() - started:.1f} s"
    )
    return corpus


def _size(path: Path | None) -> str:
    return f"{path.stat().st_size / 1e6:.0f} MB" if path else "none"


# --- reading and decoding ---------------------------------------------------------------------


def dicompile_decode_all(paths: Sequence[Path]) -> int:
    """Read every file and decode every value of its data set (sequences included)."""
    from dicompile.runtime import read_file

    count = 0
    for path in paths:
        for element in read_file(path).dataset.iter_all():
            element.value  # noqa: B018 - forces the lazy decode
            count += 1
    return count


def _pydicom_walk(dataset: Any) -> int:
    # Iterating a pydicom Dataset converts each raw element (decoding its value); items of
    # sequences are data sets of their own.
    count = 0
    for element in dataset:
        value = element.value
        count += 1
        if element.VR == "SQ":
            for item in value:
                count += _pydicom_walk(item)
    return count


def pydicom_decode_all(paths: Sequence[Path]) -> int:
    """pydicom: ``dcmread``, then every element's ``.value``, recursing into sequences."""
    import pydicom

    return sum(_pydicom_walk(pydicom.dcmread(path)) for path in paths)


def dcmdump_all(paths: Sequence[Path]) -> None:
    """dcmtk: one ``dcmdump`` process prints every value of every file in full.

    ``+L`` prints long values completely (not shortened), ``+U8`` converts the text to
    UTF-8 (so the character set is decoded, as both Python sides do), ``-q`` is quiet.
    """
    subprocess.run(
        ["dcmdump", "-q", "+L", "+U8", *map(str, paths)],
        stdout=subprocess.DEVNULL,
        check=True,
    )


def bench_read(corpus: Corpus, repeat: int) -> bool:
    paths = corpus.header
    n = len(paths)
    ours_count = dicompile_decode_all(paths[:20])
    theirs_count = pydicom_decode_all(paths[:20])
    print(
        f"\n   (elements visited in the first 20 files: dicompile {ours_count}, "
        f"pydicom {theirs_count})"
    )
    ours = measure("dicompile", n, lambda: dicompile_decode_all(paths), repeat=repeat)
    peers = [measure("pydicom", n, lambda: pydicom_decode_all(paths), repeat=repeat)]
    goals = {"pydicom": 10.0}
    if shutil.which("dcmdump"):
        peers.append(measure("dcmtk dcmdump", n, lambda: dcmdump_all(paths), repeat=repeat))
        goals["dcmtk dcmdump"] = 1.0
    else:
        print("   dcmtk dcmdump not found: skipped")
    met = report(f"(a) read {n} header-heavy files and decode every value", ours, peers, goals)
    if shutil.which("dcmdump"):
        # For information: each kind alone against dcmdump (an RT Structure Set's 12,000
        # Contour Data values become Python floats on our side, text on dcmdump's).
        half = n // 2
        for kind, part in (
            ("RT Structure Sets", paths[:half]),
            ("Comprehensive SRs", paths[half:]),
        ):
            mine = measure(
                "dicompile", len(part), lambda p=part: dicompile_decode_all(p), repeat=repeat
            )
            theirs = measure(
                "dcmtk dcmdump", len(part), lambda p=part: dcmdump_all(p), repeat=repeat
            )
            report(f"   (information) {kind} only", mine, [theirs], {})
    return met


# --- DICOM JSON -----------------------------------------------------------------------------


def dicompile_json_all(paths: Sequence[Path]) -> int:
    """Read every file and export its data set as DICOM JSON text (PS3.18 F.2)."""
    from dicompile.runtime import read_file
    from dicompile.runtime.codec.json_model import to_json

    return sum(len(to_json(read_file(path).dataset)) for path in paths)


def pydicom_json_all(paths: Sequence[Path]) -> int:
    """pydicom: ``dcmread``, ``to_json_dict`` and ``json.dumps``."""
    import pydicom

    return sum(len(json.dumps(pydicom.dcmread(path).to_json_dict())) for path in paths)


def dicompile_dump_json(paths: Sequence[Path]) -> None:
    """``dicompile dump --json`` over all files in one process (one JSON array)."""
    subprocess.run(
        [sys.executable, "-m", "dicompile.runtime.cli", "dump", "--json", *map(str, paths)],
        stdout=subprocess.DEVNULL,
        check=True,
    )


def bench_json(corpus: Corpus, repeat: int) -> bool:
    paths = corpus.header
    n = len(paths)
    dicompile_json_all(paths[:10])  # warm-up: imports and first-call set-up
    pydicom_json_all(paths[:10])
    theirs = measure("pydicom", n, lambda: pydicom_json_all(paths), repeat=repeat)
    met = report(
        f"(a) export {n} header-heavy files as DICOM JSON (in process, read included)",
        measure("dicompile", n, lambda: dicompile_json_all(paths), repeat=repeat),
        [theirs],
        {"pydicom": 5.0},
    )
    cli = measure("dicompile dump --json", n, lambda: dicompile_dump_json(paths), repeat=repeat)
    met &= report(
        f"(a) export {n} files as DICOM JSON: `dicompile dump --json`, one process "
        "(start-up and meta information included) against pydicom in process",
        cli,
        [theirs],
        {"pydicom": 5.0},
    )
    return met


# --- reading CT with the pixel data left in the file ------------------------------------------


def bench_read_ct(corpus: Corpus, repeat: int) -> bool:
    import pydicom

    from dicompile.runtime import read_file

    paths = corpus.ct
    n = len(paths)

    def ours_defer() -> None:
        for path in paths:
            read_file(path, defer_size=DEFER)

    def theirs_defer() -> None:
        for path in paths:
            pydicom.dcmread(path, defer_size=DEFER)

    def ours_stop() -> None:
        for path in paths:
            read_file(path, stop_before_pixels=True)

    def theirs_stop() -> None:
        for path in paths:
            pydicom.dcmread(path, stop_before_pixels=True)

    # One untimed pass each: imports and first-call set-up stay out of the figures.
    for warm_up in (ours_defer, theirs_defer, ours_stop, theirs_stop):
        warm_up()
    met = report(
        f"(b) read {n} CT files 512x512x16, values >= {DEFER} bytes deferred on both sides "
        f"(dicompile defer_size={DEFER}, pydicom defer_size={DEFER})",
        measure("dicompile", n, ours_defer, repeat=repeat),
        [measure("pydicom", n, theirs_defer, repeat=repeat)],
        {"pydicom": 1.5},
    )
    met &= report(
        f"(b) read {n} CT files, stop_before_pixels=True on both sides",
        measure("dicompile", n, ours_stop, repeat=repeat),
        [measure("pydicom", n, theirs_stop, repeat=repeat)],
        {"pydicom": 1.5},
    )
    return met


# --- writing --------------------------------------------------------------------------------


Saver = Callable[[object, Path], None]


def _batches(paths: Sequence[Path], size: int) -> Iterator[tuple[int, Sequence[Path]]]:
    for start in range(0, len(paths), size):
        yield start, paths[start : start + size]


@dataclass(frozen=True)
class Writer:
    """One timed way of writing: whose loaded data sets it takes, and how it saves one."""

    library: str
    save: Saver
    #: Write over existing files (each target made, untimed, as a copy of its source).
    overwriting: bool = False
    #: fsyncs: run after the others of each batch, so that its writeback slows none.
    syncs: bool = False


def measure_writes(
    loaders: dict[str, Callable[[Path], object]],
    writers: dict[str, Writer],
    paths: Sequence[Path],
    out: Path,
    repeat: int,
) -> dict[str, Rate]:
    """Best of ``repeat`` per writer: the time to write every data set, read beforehand.

    Data sets are read (untimed) ``WRITE_BATCH`` at a time by each library's loader; every
    writer then writes the same batch, timed, into a folder of its own.  The writers of
    both libraries take turns batch by batch (in alternating order), so that a slow spell
    of the shared machine (other engineers' tests, writeback) falls on both sides alike
    rather than on whichever library ran during it.

    Writing N files means creating N files: each data set gets a name of its own (its
    index in ``paths``) in a folder emptied (and the disk synced) before each repeat, so
    every writer creates a new file each time.  Reusing names across batches made later
    batches overwrite earlier files, which is another operation: a plain ``open("wb")``
    truncates the old inode in place while an atomic writer must create a new inode and
    rename it over the old one -- and ext4 (auto_da_alloc) starts writing a file's data
    out when it replaces another by rename, so that case measured the disk rather than
    the writer.  Writers marked ``overwriting`` measure that case on purpose.
    """
    best = dict.fromkeys(writers, float("inf"))
    folders = {who: out / who.replace(" ", "_").replace(",", "") for who in writers}
    plain = [who for who, writer in writers.items() if not writer.syncs]
    syncing = [who for who, writer in writers.items() if writer.syncs]
    for _ in range(repeat):
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        os.sync()  # every repeat starts from a clean page cache, whoever ran before
        totals = dict.fromkeys(writers, 0.0)
        for number, (first, batch) in enumerate(_batches(paths, WRITE_BATCH)):
            loaded = {name: [load(path) for path in batch] for name, load in loaders.items()}
            turn = (lambda names: names) if number % 2 == 0 else (lambda names: names[::-1])
            for who in [*turn(plain), *turn(syncing)]:
                writer = writers[who]
                targets = [folders[who] / f"{first + n:05d}.dcm" for n in range(len(batch))]
                if writer.overwriting:
                    for source, target in zip(batch, targets, strict=True):
                        shutil.copyfile(source, target)
                gc.collect()
                start = time.perf_counter()
                for dataset, target in zip(loaded[writer.library], targets, strict=True):
                    writer.save(dataset, target)
                totals[who] += time.perf_counter() - start
            del loaded
        best = {who: min(best[who], totals[who]) for who in writers}
    shutil.rmtree(out, ignore_errors=True)
    return {who: Rate(who, len(paths), seconds) for who, seconds in best.items()}


def _dicompile_load(defer_size: int | None, decode: bool) -> Callable[[Path], object]:
    from dicompile.runtime import read_file

    def load(path: Path) -> object:
        fd = read_file(path, defer_size=defer_size)
        if decode:
            for element in fd.dataset.iter_all():
                element.value  # noqa: B018 - forces the lazy decode
        return fd

    return load


def _pydicom_load(decode: bool) -> Callable[[Path], object]:
    import pydicom

    def load(path: Path) -> object:
        dataset = pydicom.dcmread(path)
        if decode:
            _pydicom_walk(dataset)
        return dataset

    return load


def _dicompile_write_file(dataset: object, target: Path) -> None:
    from dicompile.runtime import write_file
    from dicompile.runtime.media.part10 import FileDataset

    assert isinstance(dataset, FileDataset)
    write_file(target, dataset)


def _dicompile_write_durable(dataset: object, target: Path) -> None:
    from dicompile.runtime import write_file
    from dicompile.runtime.media.part10 import FileDataset

    assert isinstance(dataset, FileDataset)
    write_file(target, dataset, durable=True)


def _dicompile_plain_write(dataset: object, target: Path) -> None:
    """dicompile's encoder streamed to a plain file: no temporary file, no fsync."""
    from dicompile.runtime.codec.writer import write_pieces
    from dicompile.runtime.media.part10 import FileDataset, encode_file

    assert isinstance(dataset, FileDataset)
    with open(target, "wb") as stream:
        write_pieces(encode_file(dataset), stream)


def _pydicom_save(dataset: object, target: Path) -> None:
    dataset.save_as(target)  # type: ignore[attr-defined]


def _pydicom_save_fsync(dataset: object, target: Path) -> None:
    with open(target, "wb") as stream:
        dataset.save_as(stream)  # type: ignore[attr-defined]
        stream.flush()
        os.fsync(stream.fileno())


def _write_reports(
    title: str,
    paths: Sequence[Path],
    work: Path,
    repeat: int,
    goal: float,
    decode: bool,
    defer_size: int | None,
) -> bool:
    rates = measure_writes(
        {"dicompile": _dicompile_load(defer_size, decode), "pydicom": _pydicom_load(decode)},
        {
            "dicompile write_file": Writer("dicompile", _dicompile_write_file),
            "pydicom": Writer("pydicom", _pydicom_save),
            "dicompile, no fsync": Writer("dicompile", _dicompile_plain_write),
            "dicompile write_file, overwriting": Writer(
                "dicompile", _dicompile_write_file, overwriting=True
            ),
            "pydicom, overwriting": Writer("pydicom", _pydicom_save, overwriting=True),
            "dicompile write_file durable": Writer(
                "dicompile", _dicompile_write_durable, syncs=True
            ),
            "pydicom + fsync": Writer("pydicom", _pydicom_save_fsync, syncs=True),
        },
        paths,
        work,
        repeat,
    )
    met = report(
        f"{title}: dicompile write_file (atomic, no fsync) against pydicom save_as, new files",
        rates["dicompile write_file"],
        [rates["pydicom"]],
        {"pydicom": goal},
    )
    # Information, not a goal: replacing existing files.  save_as truncates and rewrites
    # the old inode (a reader may see half a file); write_file renames a new one over it,
    # and ext4 then starts writing the new file's data out (auto_da_alloc).
    report(
        f"{title}: the same over existing files (write_file replaces, save_as truncates)",
        rates["dicompile write_file, overwriting"],
        [rates["pydicom, overwriting"]],
        {},
    )
    # Information, not a goal: write_file(durable=True) fsyncs file and directory,
    # pydicom + fsync the file only and is not atomic.
    report(
        f"{title}: dicompile write_file(durable=True) against pydicom save_as + fsync",
        rates["dicompile write_file durable"],
        [rates["pydicom + fsync"]],
        {},
    )
    met &= report(
        f"{title}: like with like, neither side fsyncs nor renames",
        rates["dicompile, no fsync"],
        [rates["pydicom"]],
        {"pydicom": goal},
    )
    return met


def bench_write(corpus: Corpus, repeat: int) -> bool:
    # Beside the corpus (gitignored), not in /tmp: on a machine where every test run makes
    # and removes its files under /tmp, creating a file there can cost 20x what it costs
    # elsewhere on the same disk (measured on the shared dev machine: 150-470 us against
    # 18 us per create), which would measure the file system instead of either writer.
    CORPUS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-codec-write-", dir=CORPUS))
    n, m = len(corpus.header), len(corpus.ct)
    try:
        met = _write_reports(
            f"(c) write {n} header-heavy data sets as read (values not decoded)",
            corpus.header,
            work,
            repeat,
            3.0,
            decode=False,
            defer_size=None,
        )
        met &= _write_reports(
            f"(c) write {n} header-heavy data sets after decoding every value",
            corpus.header,
            work,
            repeat,
            3.0,
            decode=True,
            defer_size=None,
        )
        met &= _write_reports(
            f"(c) write {m} CT data sets (pixel data read into memory on both sides)",
            corpus.ct,
            work,
            repeat,
            1.0,
            decode=False,
            defer_size=None,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return met


# --- peak memory ----------------------------------------------------------------------------

_PEAK = """
def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

#: Each script imports its library, notes the peak so far (the baseline), does its job and
#: prints both peaks in KiB.
_SCRIPTS = {
    "dicompile read": """
from dicompile.runtime import read_file
base = peak_kib()
fd = read_file(SRC)
for element in fd.dataset.iter_all():
    if not element.is_deferred:
        element.value
""",
    "pydicom read": f"""
import pydicom
base = peak_kib()
ds = pydicom.dcmread(SRC, defer_size={DEFER})
for tag, raw in list(ds._dict.items()):
    # Deferred elements (a raw element with a length but no value yet) stay in the file,
    # as in dicompile's run (pydicom's get_item and [] would read them in).
    if getattr(raw, "value", 0) is None and getattr(raw, "length", 0):
        continue
    ds[tag].value
""",
    "dicompile copy": """
from dicompile.runtime import read_file, write_file
base = peak_kib()
write_file(DST, read_file(SRC))
""",
    "pydicom copy": f"""
import pydicom
base = peak_kib()
pydicom.dcmread(SRC, defer_size={DEFER}).save_as(DST)
""",
}


def peak_memory(name: str, source: Path, target: Path) -> tuple[float, float]:
    """(peak, peak above the post-import baseline) in MB, measured in a fresh process."""
    code = (
        _PEAK
        + f"SRC = {str(source)!r}\nDST = {str(target)!r}\n"
        + _SCRIPTS[name]
        + "print(peak_kib(), base)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{name} failed:\n{done.stderr}")
    peak, base = (int(field) for field in done.stdout.split())
    target.unlink(missing_ok=True)
    return peak * 1024 / 1e6, (peak - base) * 1024 / 1e6


def bench_memory(corpus: Corpus, repeat: int) -> bool:
    del repeat  # one fresh process per side; peaks do not vary with load like times do
    if corpus.big is None:
        print("\n== (d) peak memory: no multi-frame file in the corpus, skipped")
        return True
    work = Path(tempfile.mkdtemp(prefix="bench-codec-memory-"))
    target = work / "copy.dcm"
    try:
        peaks = {name: peak_memory(name, corpus.big, target) for name in _SCRIPTS}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def line(name: str) -> str:
        peak, above = peaks[name]
        return f"{name}: peak {peak:,.1f} MB ({above:,.1f} MB above the post-import baseline)"

    print(
        f"\n== (d) peak memory (VmHWM), {_size(corpus.big)} multi-frame file, "
        f"pixel data deferred (dicompile default 1 MiB, pydicom defer_size={DEFER})"
    )
    read_ok = peaks["dicompile read"][0] <= peaks["pydicom read"][0]
    print(f"   {line('dicompile read')}")
    ratio = peaks["dicompile read"][0] / peaks["pydicom read"][0]
    verdict = "met" if read_ok else "NOT MET"
    print(f"   {line('pydicom read')}  -> ratio {ratio:.2f}x  goal <= 1x: {verdict}")
    copy_ok = peaks["dicompile copy"][0] < 100
    print(f"   {line('dicompile copy')}  goal < 100 MB: {'met' if copy_ok else 'NOT MET'}")
    print(f"   {line('pydicom copy')}  (for comparison)")
    return read_ok and copy_ok


BENCHMARKS: dict[str, Callable[[Corpus, int], bool]] = {
    "read": bench_read,
    "json": bench_json,
    "read_ct": bench_read_ct,
    "write": bench_write,
    "memory": bench_memory,
}


def run(names: Sequence[str], *, root: Path | None, quick: bool, repeat: int) -> dict[str, bool]:
    """Run the named benchmarks on the corpus under ``root``; whether each met its goals."""
    if not names:
        return {}
    sizes = QUICK if quick else FULL
    # A quick corpus lives apart, so the full corpus's 400 MB file is not picked up.
    corpus = prepare(root or (CORPUS / "quick" if quick else CORPUS), sizes)
    return {name: BENCHMARKS[name](corpus, repeat) for name in names}


if __name__ == "__main__":
    from tests.bench.__main__ import main

    sys.exit(main(sys.argv[1:]))
