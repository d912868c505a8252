"""Validator benchmark (issue 4): the median time to validate one CT instance.

``python -m tests.bench.bench_validate [--runs 500]`` reads pydicom's ``CT_small.dcm`` (CT
Image IOD, 5 modules' worth of attributes, pixel data) with dicompile and validates it
``runs`` times after one warm-up (which imports and compiles the CT Image requirement tables),
then prints the median and the 95th percentile; with dciodvfy installed it prints the time of
one dciodvfy run on the same file beside it (a whole process, so only indicative).  Goal:
median under 2 ms.  The exit status is 0 when the goal is met.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dicompile.runtime import read_file
from dicompile.runtime.validate.engine import validate

GOAL_MS = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_validate")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--file", type=Path, help="a CT instance (default: pydicom's CT_small)")
    args = parser.parse_args(argv)
    if args.file is not None:
        path = args.file
    else:
        from pydicom.data import get_testdata_file

        found = get_testdata_file("CT_small.dcm")
        if not isinstance(found, str):
            print("pydicom's CT_small.dcm is not available", file=sys.stderr)
            return 2
        path = Path(found)
    read = read_file(path)
    validate(read.dataset, meta=read.meta)  # warm-up: imports and compiles the tables
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        validate(read.dataset, meta=read.meta)
        times.append(time.perf_counter() - start)
    median = statistics.median(times) * 1000
    p95 = statistics.quantiles(times, n=20)[-1] * 1000
    print(f"\n== validate {path.name}: {args.runs} runs")
    print(f"   dicompile: median {median:.3f} ms, p95 {p95:.3f} ms (goal: median < {GOAL_MS} ms)")
    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy is not None:
        start = time.perf_counter()
        subprocess.run([dciodvfy, str(path)], capture_output=True, check=False)
        print(f"   dciodvfy (one process): {(time.perf_counter() - start) * 1000:.1f} ms")
    met = median < GOAL_MS
    print(f"   {'met' if met else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
