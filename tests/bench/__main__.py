"""``python -m tests.bench`` (``nox -s bench``): every benchmark against its peers, one run.

Options: ``--only NAME ...`` (``read``, ``json``, ``read_ct``, ``write``, ``memory`` from
:mod:`tests.bench.bench_codec`; ``net`` runs :mod:`tests.bench.bench_net`), ``--quick``
(a small corpus for a smoke run: 200 header-heavy files, 30 CT, a 100-frame file),
``--corpus DIR`` and ``--repeat N`` (best of N runs per side).  ``generate`` times
:mod:`tests.bench.bench_generate`; ``validate_ct`` and ``validate_files`` are
:mod:`tests.bench.bench_validate` (against dciodvfy and dicom-validator).

The exit status is 0 when every goal was met, 1 when one was not (the figures say which).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.bench import bench_codec, bench_generate, bench_net, bench_validate
from tests.bench.corpus import CORPUS

NAMES = (*bench_codec.NAMES, "net", "generate", *bench_validate.NAMES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument(
        "--only", nargs="+", choices=NAMES, metavar="NAME", help=f"run only: {', '.join(NAMES)}"
    )
    parser.add_argument("--quick", action="store_true", help="small corpus, smoke run")
    parser.add_argument("--corpus", type=Path, help="corpus folder (built when missing)")
    parser.add_argument("--repeat", type=int, help="best of N runs per side (default 3; quick 1)")
    args = parser.parse_args(argv)
    names = args.only or list(NAMES)
    repeat = args.repeat or (1 if args.quick else 3)
    started = time.perf_counter()

    met = bench_codec.run(
        [name for name in names if name in bench_codec.NAMES],
        root=args.corpus,
        quick=args.quick,
        repeat=repeat,
    )
    if "net" in names:
        net_argv = ["--repeat", str(repeat)]
        if args.quick:
            net_argv += ["--count", str(bench_codec.QUICK.ct), "--echoes", "100"]
        if args.corpus:
            net_argv += ["--corpus", str(args.corpus)]
        elif args.quick:
            net_argv += ["--corpus", str(CORPUS / "quick")]
        met["net"] = bench_net.main(net_argv) == 0
    if "generate" in names:
        met["generate"] = bench_generate.run()
    met.update(
        bench_validate.run(
            [name for name in names if name in bench_validate.NAMES],
            root=args.corpus,
            quick=args.quick,
            repeat=repeat,
        )
    )

    print(f"\n== summary ({time.perf_counter() - started:.0f} s)")
    for name, ok in met.items():
        print(f"   {name:8} {'all goals met' if ok else 'goal NOT MET'}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
