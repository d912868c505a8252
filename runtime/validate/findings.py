"""What the validator reports: findings (errors, warnings) and notes about what it could not check.

A :class:`Finding` names the attribute by tag and by path (``(0008,1140)[1]/(0008,1150)``:
Sequences with 1-based Item numbers), the module or macro whose rule it breaks, the rule
("Type 1", "Enumerated Values", …) and the PS3.3 table it comes from.  A :class:`Note` says
what was assumed or left unchecked (a conditional module checked because its attributes are
present, a condition the generator could not parse).

References
----------
PS3.3 Annex A and C; PS3.5 §7.4; issue #4 (JSON form of findings).
"""

from __future__ import annotations

import enum

import attrs


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Kind(enum.Enum):
    """What a finding is about."""

    NO_SOP_CLASS = "no-sop-class"  # (0008,0016) absent
    UNKNOWN_SOP_CLASS = "unknown-sop-class"  # no IOD for the SOP Class UID
    MODULE_MISSING = "module-missing"  # a required module has none of its attributes
    MISSING = "missing"  # a required attribute is absent (Type 1, 2, or 1C/2C by condition)
    EMPTY = "empty"  # a Type 1 (or required 1C) attribute is present without a value
    NOT_ALLOWED_BY_CONDITION = "not-allowed-by-condition"  # 1C/2C present, condition false
    ENUMERATED_VALUE = "enumerated-value"  # a value outside the Enumerated Values
    DEFINED_TERM = "defined-term"  # a value outside the Defined Terms
    VR = "vr"  # the VR is not the data dictionary's
    VM = "vm"  # the number of values is not the data dictionary's VM
    ITEM_COUNT = "item-count"  # a Sequence has too few or too many Items
    NOT_IN_IOD = "not-in-iod"  # an attribute no module (or Item) of the IOD allows
    FUNCTIONAL_GROUP_MISSING = "functional-group-missing"
    FUNCTIONAL_GROUP_TWICE = "functional-group-shared-and-per-frame"
    FUNCTIONAL_GROUP_NOT_SHARED = "functional-group-not-shareable"
    FRAME_COUNT = "frame-count"  # Per-frame Functional Groups Items ≠ Number of Frames


class NoteKind(enum.Enum):
    ASSUMED = "assumed"  # a conditional module checked because its attributes are present
    NOT_CHECKED = "not-checked"  # an unparsed condition


@attrs.frozen(slots=True)
class Finding:
    """One violation of a rule of the standard."""

    severity: Severity
    kind: Kind
    tag: int | None  # the attribute's tag (None for a finding about the whole Data Set)
    path: str  # "(0008,1140)[1]/(0008,1150)"; "" for the Data Set
    module: str  # name of the module or macro ("" when none)
    rule: str  # "Type 1", "Type 1C", "Enumerated Values", "VM", "usage M", …
    message: str
    source: str  # "PS3.3 2020 table_C.8-3", "PS3.6 (data dictionary)", …

    def as_json(self) -> dict[str, str]:
        """The JSON object of issue #4: severity, tag (``GGGGEEEE``), path, module, kind, …"""
        return {
            "severity": self.severity.value,
            "tag": f"{self.tag:08X}" if self.tag is not None else "",
            "path": self.path,
            "module": self.module,
            "kind": self.kind.value,
            "rule": self.rule,
            "message": self.message,
            "source": self.source,
        }


@attrs.frozen(slots=True)
class Note:
    """Something assumed or not checked, with why."""

    kind: NoteKind
    path: str
    module: str
    message: str
    source: str

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "path": self.path,
            "module": self.module,
            "message": self.message,
            "source": self.source,
        }


@attrs.frozen
class Report:
    """The result of validating one Data Set."""

    sop_class_uid: str
    iod: str  # the IOD's name, "" when unknown
    iod_key: str  # its table id, "" when unknown
    findings: tuple[Finding, ...]
    notes: tuple[Note, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors
