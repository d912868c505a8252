"""Archive index benchmark (issue 6): indexing throughput and study-level C-FIND latency.

``python -m tests.bench.bench_archive [--studies 1000] [--per-study 100] [--queries 60]``
indexes ``studies x per-study`` synthetic instances (4 series per study) into a fresh SQLite
file, one transaction per study (as a Storage SCP committing an association's instances
would), then times Study Root STUDY-level C-FIND queries of several shapes and prints the
median and 95th percentile of each.  Goal: median study-level C-FIND under 50 ms at
100,000 instances.  The exit status is 0 when the goal is met.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dicompile.runtime.archive import QueryLevel, SQLiteIndex
from dicompile.runtime.core.dataset import Dataset
from tests.bench.harness import Rate

GOAL_MS = 50.0
_FAMILY = ["Smith", "Jones", "Brown", "Garcia", "Muller", "Rossi", "Tanaka", "Dubois", "Kowalski"]
_GIVEN = ["Ann", "John", "Maria", "Li", "Ahmed", "Eva", "Paul", "Yuki"]
_MODALITIES = ["CT", "MR", "US", "CR", "PT"]


def _study_instances(number: int, per_study: int, rng: random.Random) -> list[Dataset]:
    """One study's instances: patient, study, 4 series, ``per_study`` images."""
    patient = number // 3
    day = 1 + number % 28
    month = 1 + (number // 28) % 12
    year = 2018 + number // (28 * 12)
    study_uid = f"1.2.826.0.1.3680043.9.7777.{number}"
    common = {
        "SpecificCharacterSet": "ISO_IR 100",
        "PatientName": f"{_FAMILY[patient % len(_FAMILY)]}^{_GIVEN[patient % len(_GIVEN)]}",
        "PatientID": f"PID{patient:06d}",
        "PatientBirthDate": f"19{40 + patient % 60:02d}0{1 + patient % 9}15",
        "PatientSex": "MF"[patient % 2],
        "StudyInstanceUID": study_uid,
        "StudyDate": f"{year:04d}{month:02d}{day:02d}",
        "StudyTime": f"{8 + number % 10:02d}{number % 60:02d}00",
        "AccessionNumber": f"ACC{number:07d}",
        "StudyID": str(number),
        "StudyDescription": rng.choice(["CHEST", "HEAD", "ABDOMEN", "KNEE"]) + " exam",
        "ReferringPhysicianName": "Doctor^Who",
    }
    instances = []
    for index in range(per_study):
        series = index % 4
        dataset = Dataset()
        for keyword, value in common.items():
            dataset[keyword] = value
        dataset["SOPClassUID"] = "1.2.840.10008.5.1.4.1.1.2"
        dataset["SOPInstanceUID"] = f"{study_uid}.{series}.{index}"
        dataset["SeriesInstanceUID"] = f"{study_uid}.{series}"
        dataset["Modality"] = _MODALITIES[(number + series) % len(_MODALITIES)]
        dataset["SeriesNumber"] = series + 1
        dataset["SeriesDescription"] = f"series {series}"
        dataset["InstanceNumber"] = index + 1
        dataset["ImageType"] = ["ORIGINAL", "PRIMARY", "AXIAL"]
        dataset["Rows"] = 512
        dataset["Columns"] = 512
        dataset["SliceThickness"] = "1.25"
        dataset["ImagePositionPatient"] = ["0", "0", str(index)]
        instances.append(dataset)
    return instances


def _queries(studies: int) -> dict[str, Callable[[int], Dataset]]:
    """Query shapes, each a function of a random seed number."""

    def ident(**values: object) -> Dataset:
        dataset = Dataset()
        dataset["QueryRetrieveLevel"] = "STUDY"
        for keyword, value in values.items():
            dataset[keyword] = value
        for keyword in ("StudyInstanceUID", "StudyDate", "PatientName", "ModalitiesInStudy"):
            if keyword not in dataset:
                dataset[keyword] = ""
        return dataset

    return {
        "StudyInstanceUID single": lambda n: ident(
            StudyInstanceUID=f"1.2.826.0.1.3680043.9.7777.{n % studies}"
        ),
        "PatientID single": lambda n: ident(PatientID=f"PID{(n % studies) // 3:06d}"),
        "AccessionNumber single": lambda n: ident(AccessionNumber=f"ACC{n % studies:07d}"),
        "date range (1 week)": lambda n: ident(
            StudyDate=f"2018{1 + n % 12:02d}01-2018{1 + n % 12:02d}07"
        ),
        "name wildcard + date range (1 month)": lambda n: ident(
            PatientName=f"{_FAMILY[n % len(_FAMILY)].upper()}*",
            StudyDate=f"2018{1 + n % 12:02d}01-2018{1 + n % 12:02d}28",
        ),
        "all studies (universal keys)": lambda n: ident(),
        "modality + date range (1 week)": lambda n: ident(
            ModalitiesInStudy="MR", StudyDate=f"2019{1 + n % 12:02d}01-2019{1 + n % 12:02d}07"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_archive", description=__doc__
    )
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--per-study", type=int, default=100)
    parser.add_argument("--queries", type=int, default=60, help="timed queries per shape")
    parser.add_argument("--db", type=Path, help="SQLite file (default: a temporary one)")
    args = parser.parse_args(argv)
    rng = random.Random(6)
    with tempfile.TemporaryDirectory() as scratch:
        path = args.db or Path(scratch) / "index.sqlite"
        index = SQLiteIndex(path)
        total = args.studies * args.per_study
        spent = 0.0
        for number in range(args.studies):
            batch = _study_instances(number, args.per_study, rng)
            start = time.perf_counter()
            index.add_many(
                (dataset, f"/archive/{number}/{i}.dcm") for i, dataset in enumerate(batch)
            )
            spent += time.perf_counter() - start
        assert index.count() == total, index.count()
        print("\n== archive: indexing (one transaction per study)")
        print(f"   {Rate('dicompile SQLiteIndex', total, spent, 'instances')}")
        # Single-instance transactions, as a Storage SCP committing each C-STORE would.
        singles = _study_instances(args.studies + 1, min(500, args.per_study * 5), rng)
        start = time.perf_counter()
        for i, dataset in enumerate(singles):
            index.add(dataset, f"/archive/single/{i}.dcm")
        one_by_one = Rate("dicompile SQLiteIndex.add", len(singles), time.perf_counter() - start)
        print(f"   {one_by_one.who}: {one_by_one.per_second:,.0f} instances/s one transaction each")

        print(f"\n== archive: Study Root STUDY-level C-FIND at {index.count():,} instances")
        medians = []
        for name, make in _queries(args.studies).items():
            times = []
            matches = 0
            for n in range(args.queries):
                identifier = make(rng.randrange(1 << 30) if n else n)
                start = time.perf_counter()
                matches += sum(1 for _ in index.find(QueryLevel.STUDY, identifier))
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            median = statistics.median(times)
            medians.append(median)
            p95 = times[int(len(times) * 0.95) - 1]
            print(
                f"   {name:38} median {median:7.2f} ms  p95 {p95:7.2f} ms"
                f"  ({matches / args.queries:.1f} matches/query)"
            )
        overall = statistics.median(medians)
        met = overall < GOAL_MS
        print(
            f"   median of the shapes' medians: {overall:.2f} ms"
            f"  goal < {GOAL_MS:g} ms: {'met' if met else 'NOT MET'}"
        )
        index.close()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
