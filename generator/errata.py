"""The errata register: every known error of the standard's text the generator works around.

Each correction lives beside the code that applies it (a pass corrects a model, a reader
tolerates a malformed cell), because that is where it is tested; this module is the one
place that lists them all, uniformly: part, edition, table id, rows or item, what is wrong and
where it is corrected.  ``dicompile standard errata [--json]`` prints it.

Every entry has a canary test that fails once the edition in ``../shared`` no longer has the
error (tests/generator/test_part03_errata.py, test_part06.py, test_part04.py, test_part08.py),
and ``tests/generator/test_errata.py`` checks that every ``# ERRATUM:`` comment of the
generator is in this register, so a workaround cannot be added without being listed.

References
----------
STYLE.md item 13 (errata register with canary tests); DESIGN.md (errata register).
"""

from __future__ import annotations

from typing import Final

import attrs

from dicompile.generator.passes.part03_errata import ERRATA as PART03_ROW_ERRATA
from dicompile.generator.passes.part03_errata import PATH_ERRATA as PART03_PATH_ERRATA
from dicompile.generator.passes.part06_errata import ERRATA as PART06_ERRATA
from dicompile.generator.sources.docbook.part04_tables import ERRATA as PART04_ERRATA


@attrs.frozen
class Erratum:
    """One known error of one table of one edition, and where the generator corrects it."""

    part: str  # "PS3.3"
    edition: str  # "2013", "2016c", "2020"
    table_id: str  # xml:id, or the rendition's table anchor
    where: str  # rows, UID or item the error is in
    description: str
    corrected_by: str  # the module that applies the correction

    def as_json(self) -> dict[str, str]:
        return attrs.asdict(self)


#: Errors PS3.8 2013 makes in the upper layer state machine tables; the reader tolerates them
#: (generator/sources/docbook/part08.py) rather than correcting a model.
_PART08: Final = (
    Erratum(
        "PS3.8",
        "2013",
        "table_9-9",
        "AA-8",
        'reads "Nest state is Sta13" (and AE-8 writes "STA13"): both spellings are read',
        "dicompile.generator.sources.docbook.part08",
    ),
    Erratum(
        "PS3.8",
        "2013",
        "table_9-6",
        "tables 9-6 to 9-9",
        'run "Next state" into the text before it ("… transport serviceNext state is Sta4")',
        "dicompile.generator.sources.docbook.part08",
    ),
    Erratum(
        "PS3.8",
        "2013",
        "table_9-7",
        "header row",
        'heads its first column "State", not "Action"',
        "dicompile.generator.sources.docbook.part08",
    ),
)


def _register() -> tuple[Erratum, ...]:
    part03 = "dicompile.generator.passes.part03_errata"
    entries: list[Erratum] = [
        Erratum(
            "PS3.3",
            e.edition,
            e.table_id,
            "rows " + ", ".join(str(r) for r in e.rows),
            f"{e.why} ({e.correction.value})",
            part03,
        )
        for e in PART03_ROW_ERRATA
    ]
    entries += [
        Erratum(
            "PS3.3",
            e.edition,
            e.table_id,
            "paths " + ", ".join(old for old, _ in e.moves),
            f"{e.why} (moved under their parent)",
            part03,
        )
        for e in PART03_PATH_ERRATA
    ]
    entries += [
        Erratum(
            "PS3.4",
            e.edition,
            e.table_id,
            e.name,
            f"tag cell {e.wrong or '(empty)'!s} instead of {e.right}: {e.why}",
            "dicompile.generator.sources.docbook.part04_tables",
        )
        for e in PART04_ERRATA
    ]
    entries += [
        Erratum(
            "PS3.6",
            e.edition,
            e.table_id,
            e.uid,
            f"{e.field} {e.wrong!r} instead of {e.right!r}: {e.why}",
            "dicompile.generator.passes.part06_errata",
        )
        for e in PART06_ERRATA
    ]
    entries += _PART08
    return tuple(sorted(entries, key=lambda e: (e.part, e.edition, e.table_id, e.where)))


#: The whole register, sorted by part, edition, table and place.
REGISTER: Final[tuple[Erratum, ...]] = _register()
