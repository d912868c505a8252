"""The generator's intermediate model: frozen attrs records with provenance (DESIGN.md).

Readers produce these records; pure passes (``generator/passes``) turn models into models;
emitters render them.  Every record carries a :class:`Provenance` saying which part, edition,
table and row of which source it came from, so the generated code and every reported
conflict can cite the standard precisely.
"""

from __future__ import annotations

import attrs


@attrs.frozen(order=True)
class Provenance:
    """Where a model record came from: ``PS3.6 2013 table_6-1 row 12 (2013/part06.xml)``."""

    part: str  # "PS3.6"
    edition: str  # "2013", "2016c", "2020"
    table_id: str  # "table_6-1"; for the JSON rendition the file name, e.g. "attributes.json"
    source_file: str  # "2013/part06.xml" (folder of the edition / file), never an absolute path
    row: int | None = None  # 1-based row in the table body, or index in the JSON array

    def cite(self) -> str:
        """A short citation for docstrings and reports."""
        row = f" row {self.row}" if self.row is not None else ""
        return f"{self.part} {self.edition} {self.table_id}{row}"
