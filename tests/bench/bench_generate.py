"""Generator benchmark (issue 4): the whole ``dicompile generate`` pipeline, goal under 60 s.

``python -m tests.bench.bench_generate`` runs ``dicompile generate`` as a fresh process
(interpreter start-up and imports included) on the sources the committed ``generated/`` is
made from -- ``../shared/standard-xml/2013`` (PS3.1-3.20 but 3.3/3.16), the PS3.3 2016c
excerpt and the innolitics 2020 JSON rendition of PS3.3/PS3.6 -- into a temporary folder,
and prints the wall-clock time with the number of files and bytes written.  That is every
pass: reading the DocBook and JSON sources, merging the editions, the PS3.3 modules, IODs
and requirement tables, and the PS3.4/PS3.6 outputs rendered beside them.  Skipped (goal
counted as met, as the other benchmarks do with an absent peer) without ``../shared``
(``DICOMPILE_SHARED`` overrides the location).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 60.0
REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path | None:
    """``$DICOMPILE_SHARED`` or ``../shared`` beside the repository, when it exists."""
    configured = os.environ.get("DICOMPILE_SHARED")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared"
    return candidate if candidate.is_dir() else None


def sources(shared: Path) -> list[Path]:
    """The editions of noxfile.STANDARD_SOURCES, oldest first (newer wins when merged)."""
    return [
        shared / "standard-xml" / "2013",
        shared / "standard-xml" / "2016c-part03-excerpt",
        shared / "standard-json" / "innolitics-2020",
    ]


def run(*, repeat: int = 1) -> bool:
    """Time ``dicompile generate`` (best of ``repeat``); True when under the goal."""
    shared = shared_dir()
    if shared is None:
        print("\n== generate: ../shared not found (set DICOMPILE_SHARED): skipped")
        return True
    args: list[str] = []
    for src in sources(shared):
        args += ["--standard", str(src)]
    best = float("inf")
    files = size = 0
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(prefix="bench-generate-"))
        try:
            start = time.perf_counter()
            command = [sys.executable, "-m", "dicompile.runtime.cli", "generate", *args]
            done = subprocess.run(
                [*command, "--out", str(out / "generated"), "--quiet"],
                capture_output=True,
                text=True,
                check=False,
                cwd=REPO_ROOT,
            )
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                print(f"\n== generate: failed (exit {done.returncode})")
                print(done.stdout[-2000:] + done.stderr[-2000:])
                return False
            best = min(best, elapsed)
            written = [p for p in (out / "generated").rglob("*") if p.is_file()]
            files, size = len(written), sum(p.stat().st_size for p in written)
        finally:
            shutil.rmtree(out, ignore_errors=True)
    met = best < GOAL_SECONDS
    print(f"\n== generate: dicompile generate over {shared} (2013 + 2016c PS3.3 + 2020 JSON)")
    print(
        f"   one process, start-up included: {best:.1f} s (best of {repeat}); {files} files,"
        f" {size / 1e6:.1f} MB  goal < {GOAL_SECONDS:g} s: {'met' if met else 'NOT MET'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_generate")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")
    args = parser.parse_args(argv)
    return 0 if run(repeat=args.repeat) else 1


if __name__ == "__main__":
    sys.exit(main())
