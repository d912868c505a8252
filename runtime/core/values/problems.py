"""Problems found in a value, as data: what the validator and the codecs report.

Checks in this package never raise for a non-conformant value; they return a list of
:class:`ValueProblem` records, and the caller decides whether that is a warning, an error
or a finding of the validator.
"""

from __future__ import annotations

import enum

import attrs


class ProblemKind(enum.Enum):
    """What kind of rule of PS3.5 §6.2 (Table 6.2-1) a value breaks."""

    TOO_LONG = "too-long"  # more characters or bytes than the VR allows
    BAD_CHARACTER = "bad-character"  # a character outside the VR's repertoire
    BAD_FORMAT = "bad-format"  # the characters are allowed but do not form a valid value
    OUT_OF_RANGE = "out-of-range"  # well formed, but the number or date is out of range
    BAD_PADDING = "bad-padding"  # leading spaces where not allowed, NUL padding, ...
    MULTIPLICITY = "multiplicity"  # a backslash in a single-valued VR, too many components
    NOT_COMPLIANT = "not-compliant"  # an old (ACR-NEMA) form that DICOM reads but forbids


@attrs.frozen
class ValueProblem:
    """One rule a value breaks.

    ``index`` is the 0-based position of the value in a multi-valued element (None when the
    problem concerns the element as a whole); ``reference`` names the rule in the standard.
    """

    kind: ProblemKind
    message: str
    index: int | None = None
    reference: str = "PS3.5 §6.2, Table 6.2-1"

    def __str__(self) -> str:
        where = f"value {self.index + 1}: " if self.index is not None else ""
        return f"{where}{self.message} ({self.reference})"
