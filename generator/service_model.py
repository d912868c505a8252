"""The generator's model of PS3.4 (Service Class Specifications): frozen attrs records.

What the PS3.4 reader (``sources/docbook/part04.py``) and the storage SOP class merge
(``service_merge.py``) produce, and what the later ``generated/services/`` emitter consumes:

* :class:`ServiceClassDef` - one per normative annex that defines a service class;
* :class:`SOPClassDef` and :class:`WellKnownInstanceDef` - from the SOP class tables and from
  the sentences "... SOP Class UID shall have the value ...";
* :class:`InformationModelDef` - a query information model (Q/R, worklist, ...) with its
  levels (:class:`QueryLevelDef`) and keys (:class:`QueryKeyDef`, nested for sequences);
* :class:`StatusDef` - the service-specific status codes of each operation;
* :class:`DimseAttributeTable` / :class:`DimseAttributeRequirement` - the attribute
  requirements of N-CREATE, N-SET, N-GET, N-ACTION and N-EVENT-REPORT.

Every record carries a :class:`~dicompile.generator.model.Provenance`; for a record read from
a sentence rather than a table, ``table_id`` is the ``xml:id`` of the section
(``sect_A.4``).  Service classes are referred to by their name as the annex title writes it
(``"Query/Retrieve Service Class"``), never by annex letter, which may move between editions.

References
----------
PS3.4 2013 (all annexes); PS3.7 Annex C (status classes).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator

import attrs

from dicompile.generator.model import Conflict, Provenance, SourceDigest, TagPattern


class StatusCategory(enum.Enum):
    """The status classes of PS3.7 Annex C, as the "Service Status" column names them."""

    SUCCESS = "Success"
    PENDING = "Pending"
    CANCEL = "Cancel"
    WARNING = "Warning"
    FAILURE = "Failure"


class DimseOperation(enum.Enum):
    """The DIMSE services a PS3.4 table can be about (PS3.7 §9 and §10)."""

    C_STORE = "C-STORE"
    C_FIND = "C-FIND"
    C_GET = "C-GET"
    C_MOVE = "C-MOVE"
    C_ECHO = "C-ECHO"
    N_EVENT_REPORT = "N-EVENT-REPORT"
    N_GET = "N-GET"
    N_SET = "N-SET"
    N_ACTION = "N-ACTION"
    N_CREATE = "N-CREATE"
    N_DELETE = "N-DELETE"


class MatchingKeyType(enum.Enum):
    """How a key takes part in matching.

    ``U``/``R``/``O`` are the key types of Query/Retrieve (PS3.4 C.1.2, Table C.1.2-1), which
    govern matching *and* return; the worklist-style models (PS3.4 K.2.2.1 and the like) use
    ``R``/``O`` for matching only and give the return type separately.  ``-`` says the
    attribute shall not be used for matching; ``""`` is a cell the table leaves empty.
    """

    UNIQUE = "U"
    REQUIRED = "R"
    OPTIONAL = "O"
    NOT_MATCHED = "-"
    UNSPECIFIED = ""


class ReturnKeyType(enum.Enum):
    """Return key types of the worklist-style models (PS3.4 K.2.2.1.2): like PS3.3 types."""

    TYPE_1 = "1"
    TYPE_1C = "1C"
    TYPE_2 = "2"
    TYPE_2C = "2C"
    TYPE_3 = "3"
    NOT_RETURNED = "-"
    UNSPECIFIED = ""


_STATUS_CODE = re.compile(r"[0-9A-F]{1,4}x*")


@attrs.frozen(order=True)
class StatusCode:
    """A status code or a code range as PS3.4 writes it: ``"A700"``, ``"A7xx"``, ``"Cxxx"``.

    Each ``x`` stands for any hexadecimal digit; a value ``v`` matches when
    ``v & mask == base``.
    """

    text: str

    @classmethod
    def parse(cls, text: str) -> StatusCode:
        """Read ``A700``, ``a7XX`` or ``Cxxx``; :class:`ValueError` for anything else."""
        normal = text.strip().upper().replace("X", "x")
        if len(normal) != 4 or _STATUS_CODE.fullmatch(normal) is None:
            raise ValueError(f"not a status code: {text!r}")
        return cls(normal)

    @property
    def base(self) -> int:
        return int(self.text.replace("x", "0"), 16)

    @property
    def mask(self) -> int:
        return int("".join("0" if c == "x" else "F" for c in self.text), 16)

    @property
    def is_range(self) -> bool:
        return "x" in self.text

    def matches(self, value: int) -> bool:
        return value & self.mask == self.base


@attrs.frozen
class ServiceClassDef:
    """A service class: one normative annex of PS3.4 (``retired`` when the annex says so).

    ``uid`` is the Service Class UID where the part gives one (only Storage, B.3.1.3, in 2013).
    """

    name: str  # "Query/Retrieve Service Class", as the annex title writes it
    annex: str  # "C"
    retired: bool
    provenance: Provenance
    uid: str = ""


@attrs.frozen
class SOPClassDef:
    """A SOP class of a service class.

    ``iod_section`` is the PS3.3 section of the IOD as the Storage tables link it (``"A.2"``);
    ``iod`` the IOD's name as the JSON rendition gives it (``"CR Image"``).  Both are empty
    where the source has no IOD column.
    """

    uid: str
    name: str
    service_class: str
    provenance: Provenance
    retired: bool = False
    iod_section: str = ""
    iod: str = ""


@attrs.frozen
class WellKnownInstanceDef:
    """A well-known SOP Instance UID (Storage Commitment Push Model, Printer, ...)."""

    uid: str
    name: str
    service_class: str
    provenance: Provenance


@attrs.frozen
class QueryKeyDef:
    """One key of a query information model, with the keys of its sequence items.

    ``tag`` is ``None`` for the rows that stand for a set of attributes ("All other Attributes
    at Patient Level"): their key types say how those other attributes are handled.
    ``return_key_type`` is ``None`` in the Query/Retrieve tables, whose one key type governs
    both matching and return (PS3.4 C.2.2.1).  ``module`` is the heading row the key sits
    under in the worklist-style tables (``"Scheduled Procedure Step"``), or ``""``.
    ``remark`` is the "Remark / Matching Type" column (or the "Condition" of Table Y.6-2).
    """

    tag: TagPattern | None
    name: str
    matching_key_type: MatchingKeyType
    return_key_type: ReturnKeyType | None
    provenance: Provenance
    remark: str = ""
    module: str = ""
    children: tuple[QueryKeyDef, ...] = ()

    def walk(self, path: tuple[QueryKeyDef, ...] = ()) -> Iterator[tuple[QueryKeyDef, ...]]:
        """Yield the path to this key and to every nested key, depth first."""
        here = (*path, self)
        yield here
        for child in self.children:
            yield from child.walk(here)


@attrs.frozen
class IdentifierAttributeDef:
    """An attribute of the C-FIND identifier that is not a key of the model: its type in the
    request and in the response (PS3.4 Table K.6-1a, Table Q.4-2), nested for sequences.

    ``request_type``/``response_type`` use the type vocabulary of return keys (``"1C"``,
    ``"-"`` for "not sent").
    """

    tag: TagPattern
    name: str
    request_type: ReturnKeyType
    response_type: ReturnKeyType
    provenance: Provenance
    remark: str = ""
    children: tuple[IdentifierAttributeDef, ...] = ()


@attrs.frozen
class QueryLevelDef:
    """A level of an information model: its Query/Retrieve Level value and its keys.

    ``value`` is what (0008,0052) carries at this level (``"PATIENT"``), or ``""`` for the
    models that have no levels (Modality Worklist).
    """

    name: str  # "Patient Information"; the model's name for a model without levels
    value: str
    keys: tuple[QueryKeyDef, ...]
    provenance: Provenance  # the key table

    def walk(self) -> Iterator[tuple[QueryKeyDef, ...]]:
        """Every key path of the level, top-level keys and nested ones, in table order."""
        for key in self.keys:
            yield from key.walk()


@attrs.frozen
class InformationModelDef:
    """A query information model and the SOP classes that use it.

    ``sop_classes`` maps the operation each SOP class performs (``C-FIND``, ``C-MOVE``,
    ``C-GET``) to its UID, as the SOP class table of the model lists them.
    """

    name: str  # "Patient Root Query/Retrieve Information Model"
    service_class: str
    levels: tuple[QueryLevelDef, ...]
    sop_classes: tuple[tuple[DimseOperation, str], ...]
    provenance: Provenance  # the model's SOP class table
    identifier_attributes: tuple[IdentifierAttributeDef, ...] = ()

    @property
    def root(self) -> str:
        """The value of (0008,0052) at the top level (``"PATIENT"``), ``""`` without levels."""
        return self.levels[0].value if self.levels else ""

    def sop_class_uid(self, operation: DimseOperation) -> str | None:
        return next((uid for op, uid in self.sop_classes if op is operation), None)

    def level(self, value: str) -> QueryLevelDef:
        """The level whose (0008,0052) value is ``value``; :class:`KeyError` if none."""
        for level in self.levels:
            if level.value == value:
                return level
        raise KeyError(value)


@attrs.frozen
class StatusDef:
    """A service-specific status of one operation (PS3.4 ``... Status`` tables).

    ``scope`` narrows the statuses where the table is not for the whole service class: to a
    SOP class, by its name as read (``"Basic Film Session SOP Class"``), to an information
    model (``"Composite Instance Root Retrieve"``) or to an operation as its section is titled
    (``"Request UPS Cancel"``); else it is ``""``.
    ``related_fields`` are the command fields the response carries with the status
    (``("(0000,0902)",)``, ``("Identifier",)``); ``error_comment`` and ``error_id`` the
    values of (0000,0902) and (0000,0903) that Table F.7.2-2 prescribes.
    """

    service_class: str
    operation: DimseOperation
    scope: str
    code: StatusCode
    category: StatusCategory
    meaning: str
    provenance: Provenance
    related_fields: tuple[str, ...] = ()
    error_comment: str = ""
    error_id: str = ""


@attrs.frozen
class DimseAttributeRequirement:
    """The requirement on one attribute of a DIMSE-N request or notification.

    ``scu`` and ``scp`` are the types of the "SCU/SCP" notation (``"1"``, ``"1C"``, ``"2"``,
    ``"3"``, ``"-"`` in the Procedure Step and Storage Commitment tables; ``"M"``, ``"U"`` in
    Print Management); both are ``""`` with ``not_allowed`` when the table says "Not allowed".
    ``comment`` is the text after the types ("Required if ..."); ``final_state`` the
    "Requirement Type Final State" of Table F.7.2-1.  ``tag`` is ``None`` for "All other
    Attributes ..." rows.
    """

    tag: TagPattern | None
    name: str
    scu: str
    scp: str
    provenance: Provenance
    not_allowed: bool = False
    comment: str = ""
    final_state: str = ""
    module: str = ""
    children: tuple[DimseAttributeRequirement, ...] = ()

    def walk(
        self, path: tuple[DimseAttributeRequirement, ...] = ()
    ) -> Iterator[tuple[DimseAttributeRequirement, ...]]:
        here = (*path, self)
        yield here
        for child in self.children:
            yield from child.walk(here)


@attrs.frozen
class DimseAttributeTable:
    """The attributes of one operation (and one action or event type) of a SOP class.

    ``type_id``/``type_name`` are the Action Type ID or Event Type ID and its name for
    N-ACTION and N-EVENT-REPORT (``1``, ``"Request Storage Commitment"``), else ``None``/``""``.
    ``comment`` keeps a remark the table makes about the type as a whole.
    """

    service_class: str
    scope: str  # "Modality Performed Procedure Step SOP Class"
    operation: DimseOperation
    attributes: tuple[DimseAttributeRequirement, ...]
    provenance: Provenance
    type_id: int | None = None
    type_name: str = ""
    comment: str = ""

    def walk(self) -> Iterator[tuple[DimseAttributeRequirement, ...]]:
        for attribute in self.attributes:
            yield from attribute.walk()


@attrs.frozen
class DimseServiceUsage:
    """A DIMSE service a SOP class uses, and whether SCU and SCP must support it.

    ``scu``/``scp`` are ``"M"`` (mandatory) or ``"U"`` (user option), PS3.4 H.2.2 and the
    "DIMSE Service Group" tables; ``qualifier`` distinguishes two rows of one operation
    (Table CC.2-3: "N-ACTION - Un/Subscribe", "N-ACTION - Request UPS Cancel").
    """

    service_class: str
    scope: str  # the SOP class ("Modality Performed Procedure Step SOP Class")
    operation: DimseOperation
    scu: str
    scp: str
    provenance: Provenance
    qualifier: str = ""


@attrs.frozen
class ServiceModel:
    """Everything read from PS3.4 (and merged with the JSON rendition's storage classes)."""

    sources: tuple[SourceDigest, ...] = ()
    service_classes: tuple[ServiceClassDef, ...] = ()
    sop_classes: tuple[SOPClassDef, ...] = ()
    well_known_instances: tuple[WellKnownInstanceDef, ...] = ()
    information_models: tuple[InformationModelDef, ...] = ()
    statuses: tuple[StatusDef, ...] = ()
    attribute_tables: tuple[DimseAttributeTable, ...] = ()
    service_usages: tuple[DimseServiceUsage, ...] = ()
    conflicts: tuple[Conflict, ...] = ()

    def service_class(self, name: str) -> ServiceClassDef:
        """The service class called ``name``; :class:`KeyError` if none."""
        for service in self.service_classes:
            if service.name == name:
                return service
        raise KeyError(name)

    def service_class_by_annex(self, annex: str) -> ServiceClassDef:
        """The service class that annex ``annex`` defines; :class:`KeyError` if none."""
        for service in self.service_classes:
            if service.annex == annex:
                return service
        raise KeyError(annex)

    def information_model(self, name: str) -> InformationModelDef:
        """The information model called ``name``; :class:`KeyError` if none."""
        for model in self.information_models:
            if model.name == name:
                return model
        raise KeyError(name)
