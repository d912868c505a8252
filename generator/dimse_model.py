"""The generator's model of PS3.7 (DIMSE): command dictionary, messages and status types.

Records are frozen attrs classes with :class:`~dicompile.generator.model.Provenance`, like the
rest of the model (DESIGN.md); they live in their own module because only the DIMSE reader
(``sources/docbook/part07.py``) and emitter (``emit/dimse.py``) use them.

References
----------
PS3.7 §6.3 (command set), §9.1 and §10.1 (service parameters), §9.3 and §10.3 (message
fields), Annex C (status type encoding), Annex E (command dictionary).
"""

from __future__ import annotations

import enum

import attrs

from dicompile.generator.model import Provenance, SourceDigest


class DataSetPresence(enum.Enum):
    """What the Command Data Set Type (0000,0800) of a message may say (PS3.7 §9.3, §10.3)."""

    ABSENT = "absent"  # "shall be set to ... 0101H": never a data set
    REQUIRED = "required"  # "any value other than 0101H": always a data set
    OPTIONAL = "optional"  # "indicates if a Data Set is present"


class StatusCategory(enum.Enum):
    """The status classes of PS3.7 Annex C (sections C.1 to C.5)."""

    SUCCESS = "Success"
    PENDING = "Pending"
    CANCEL = "Cancel"
    WARNING = "Warning"
    FAILURE = "Failure"


@attrs.frozen
class CommandElementDef:
    """One command element of the dictionary (PS3.7 Annex E, Tables E.1-1 and E.2-1)."""

    tag: int  # 0x0000GGGG... always group 0000
    name: str
    keyword: str
    vr: str
    vm: str
    retired: bool
    provenance: Provenance


@attrs.frozen
class EnumeratedValueDef:
    """A named value of a command element: a Command Field or a Priority (Table E.1-1)."""

    value: int
    name: str  # "C-STORE-RQ", "LOW"
    provenance: Provenance


@attrs.frozen
class MessageFieldDef:
    """One row of a message field table (PS3.7 Tables 9.3-x, 10.3-x) that carries a tag.

    ``usage`` comes from the service's parameter table (§9.1, §10.1): ``M``, ``U``, ``C``,
    ``U(=)``, ``C(=)``.  Fields that the service definition does not list (Command Group
    Length, Command Field, Command Data Set Type) are "required by the DIMSE protocol"
    (§9.3.1.1 and the like), recorded as ``M``.
    """

    tag: int
    name: str  # as the message table writes it ("Number of Complete Sub-operations")
    keyword: str  # from the command dictionary, by tag
    vr: str
    vm: str
    usage: str
    provenance: Provenance


@attrs.frozen
class MessageDef:
    """One DIMSE message (C-STORE-RQ ...), from its message field table."""

    name: str  # "C-STORE-RQ", "C-CANCEL-FIND-RQ"
    service: str  # "C-STORE", "C-FIND"
    command_field: int
    fields: tuple[MessageFieldDef, ...]
    data_set: DataSetPresence
    data_set_name: str  # "Data Set", "Identifier", "Attribute List"; "" when absent
    data_set_usage: str  # from the parameter table: "M", "U", "C" or "-"
    parameter_table: str  # "table_9.1-1"
    provenance: Provenance


@attrs.frozen
class StatusTypeDef:
    """One status type of PS3.7 Annex C (a section C.n.m) and what it may carry."""

    name: str  # "Processing Failure"
    section: str  # "C.5.21"
    category: StatusCategory
    code: int | None  # None where the code is "Service Class specific" (PS3.4)
    fields: tuple[int, ...]  # the other command elements the status type defines
    data_set_name: str  # e.g. "Modification List/Attribute List"; "" when none
    provenance: Provenance


@attrs.frozen
class StatusClassDef:
    """A row of the status class convention of PS3.7 Annex C: a class and its code patterns.

    Patterns are four characters, ``x`` standing for any hexadecimal digit (``"Bxxx"``).
    """

    label: str  # as written: "Warning", "PS3.7 Annex C assigned Warning and Failure"
    category: StatusCategory | None  # None for the row that Annex C assigns code by code
    patterns: tuple[str, ...]
    provenance: Provenance


@attrs.frozen
class DimseModel:
    """Everything the generator reads from PS3.7 for the DIMSE layer."""

    source: SourceDigest
    elements: tuple[CommandElementDef, ...]
    command_fields: tuple[EnumeratedValueDef, ...]
    priorities: tuple[EnumeratedValueDef, ...]
    no_data_set: int  # the Command Data Set Type meaning "no data set" (0101H)
    messages: tuple[MessageDef, ...]
    status_classes: tuple[StatusClassDef, ...]
    status_types: tuple[StatusTypeDef, ...]
