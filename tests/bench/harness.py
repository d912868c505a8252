"""Timing and reporting for ``nox -s bench``: every figure is a ratio measured in one run.

A benchmark measures dicompile and its peers (pydicom, pynetdicom, dcmtk) on the same inputs
in the same process run, so machine load affects both sides alike.  Each side is run
``repeat`` times and the best run counts (the least disturbed by the other engineers' work
on a shared machine).  Results print as one line per comparison with the goal beside it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """How many ``unit`` were processed per second by ``who``."""

    who: str
    count: int
    seconds: float
    unit: str = "files"

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        rate = f"{self.per_second:,.1f} {self.unit}/s"
        return f"{self.who}: {rate} ({self.count} in {self.seconds:.3f} s)"


def measure(
    who: str, count: int, run: Callable[[], object], *, repeat: int = 3, unit: str = "files"
) -> Rate:
    """Best of ``repeat`` wall-clock runs of ``run`` (which processes ``count`` units)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return Rate(who, count, best, unit)


def report(title: str, ours: Rate, peers: list[Rate], goals: dict[str, float]) -> bool:
    """Print one benchmark's figures and ratios; True when every goal is met.

    ``goals`` maps a peer's name to the minimum ratio ours/peer the issue asks for.
    """
    print(f"\n== {title}")
    print(f"   {ours}")
    met = True
    for peer in peers:
        ratio = ours.per_second / peer.per_second if peer.per_second else float("inf")
        goal = goals.get(peer.who)
        verdict = ""
        if goal is not None:
            ok = ratio >= goal
            met &= ok
            verdict = f"  goal >= {goal:g}x: {'met' if ok else 'NOT MET'}"
        print(f"   {peer}  -> ratio {ratio:.2f}x{verdict}")
    return met
